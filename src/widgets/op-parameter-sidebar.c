/* op-parameter-sidebar.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-parameter-sidebar"

#include "config.h"

#include <math.h>

#include <glib/gi18n.h>

#include "op-parameter-sidebar.h"
#include "op-prompt-text.h"

#define PULSE_INTERVAL_MS 100

struct _OpParameterSidebar
{
  GtkBox parent_instance;

  /* Template widgets */
  AdwComboRow *backend_row;
  GtkStringList *backend_list;
  AdwPreferencesGroup *prompt_group;
  GtkTextBuffer *prompt_buffer;
  GtkLabel *prompt_hint;
  GtkLabel *prompt_length;    /* made in code */
  GtkTextView *prompt_view;
  OpPromptHistory *history;   /* Alt+Up/Down walks it; nullable */
  GStrv history_items;        /* newest first, while walking */
  int history_index;          /* -1: the user's own text */
  char *history_draft;        /* what the user had typed before walking */
  gboolean walking_history;
  AdwPreferencesGroup *negative_group;
  GtkTextBuffer *negative_buffer;
  GtkLabel *negative_hint;
  AdwActionRow *variants_row;
  GtkAdjustment *variants_adjustment;
  AdwActionRow *seed_row;
  GtkAdjustment *seed_adjustment;
  GtkToggleButton *seed_lock_button;
  AdwActionRow *steps_row;
  GtkAdjustment *steps_adjustment;
  AdwActionRow *cfg_row;
  GtkAdjustment *cfg_adjustment;
  AdwActionRow *strength_row;
  GtkAdjustment *strength_adjustment;
  AdwEntryRow *sampler_row;
  AdwEntryRow *scheduler_row;
  AdwComboRow *model_row;
  GtkStringList *model_list;
  GtkAdjustment *grow_adjustment;
  GtkAdjustment *feather_adjustment;
  AdwComboRow *context_row;
  AdwActionRow *padding_row;
  GtkAdjustment *padding_adjustment;
  GtkSwitch *color_match_switch;
  GtkRevealer *progress_revealer;
  GtkProgressBar *progress_bar;
  GtkLabel *status_label;

  /* Owned references */
  GSettings *settings;           /* the application's */
  GSettings *backend_settings;   /* the chosen backend's copy of the Backend schema */
  OpBackend *backend;
  GCancellable *models_cancellable;
  char *prompt;

  guint pulse_id;
  guint changes_blocked;         /* > 0 while rebinding: one params-changed at the end */
};

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_BACKEND,
  PROP_PROMPT,
  N_PROPS
};

enum {
  PARAMS_CHANGED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (OpParameterSidebar, op_parameter_sidebar, GTK_TYPE_BOX)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

#define MEMBER(self, offset) G_STRUCT_MEMBER (gpointer, self, offset)
#define OFFSET(field) G_STRUCT_OFFSET (OpParameterSidebar, field)

/* Which widget shows which parameter: it is greyed out, with the backend's reason as
 * its tooltip, when the chosen backend does not use the parameter. */
static const struct
{
  OpParamFlags  param;
  gsize         offset;
  const char   *hint;      /* tooltip while the parameter is used */
} param_widgets[] = {
  { OP_PARAM_PROMPT,          OFFSET (prompt_group),   NULL },
  { OP_PARAM_NEGATIVE_PROMPT, OFFSET (negative_group), NULL },
  { OP_PARAM_VARIANTS,        OFFSET (variants_row),   NULL },
  { OP_PARAM_SEED,            OFFSET (seed_row),       NULL },
  { OP_PARAM_STEPS,           OFFSET (steps_row),      NULL },
  { OP_PARAM_CFG,             OFFSET (cfg_row),
    N_("How closely the result follows the prompt") },
  { OP_PARAM_STRENGTH,        OFFSET (strength_row),
    N_("How much of the masked area is redrawn: 0 keeps it, 1 redraws it from scratch") },
  { OP_PARAM_SAMPLER,         OFFSET (sampler_row),
    N_("The sampler’s name as the backend spells it; empty for the backend’s default") },
  { OP_PARAM_SAMPLER,         OFFSET (scheduler_row),
    N_("The noise schedule as the backend spells it (Karras, Exponential…); empty for the "
       "backend’s default") },
  { OP_PARAM_MODEL,           OFFSET (model_row),      NULL },
};

/* Settings bound one to one to a property of a template object. */
static const struct
{
  const char *key;
  gsize       offset;
  const char *property;
} plain_bindings[] = {
  { "negative-prompt", OFFSET (negative_buffer),     "text" },
  { "seed",            OFFSET (seed_adjustment),     "value" },
  { "seed-locked",     OFFSET (seed_lock_button),    "active" },
  { "variants",        OFFSET (variants_adjustment), "value" },
  { "steps",           OFFSET (steps_adjustment),    "value" },
  { "cfg",             OFFSET (cfg_adjustment),      "value" },
  { "strength",        OFFSET (strength_adjustment), "value" },
  { "sampler",         OFFSET (sampler_row),         "text" },
  { "scheduler",       OFFSET (scheduler_row),       "text" },
  { "mask-grow",       OFFSET (grow_adjustment),     "value" },
  { "mask-feather",    OFFSET (feather_adjustment),  "value" },
  { "padding",         OFFSET (padding_adjustment),  "value" },
  { "color-match",     OFFSET (color_match_switch),  "active" },
};

/* Indexed by OpContextMode, as the context row's items are. */
static const char * const context_ids[] = { "whole", "masked" };

/* Sensitivity is ours (it says whether the backend uses a parameter), not the
 * key's writability. */
#define BIND_FLAGS (G_SETTINGS_BIND_DEFAULT | G_SETTINGS_BIND_NO_SENSITIVITY)

/* Helpers */

static void update_prompt_length (OpParameterSidebar *self);

static void
emit_params_changed (OpParameterSidebar *self)
{
  update_prompt_length (self);
  if (self->changes_blocked == 0)
    g_signal_emit (self, signals[PARAMS_CHANGED], 0);
}

static int
adjustment_get_int (GtkAdjustment *adjustment)
{
  return (int) lround (gtk_adjustment_get_value (adjustment));
}

static char *
buffer_dup_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* An empty string means "the backend's default", which OpParams spells NULL. */
static void
replace_string (char       **field,
                const char  *value,
                gboolean     empty_is_null)
{
  g_free (*field);
  *field = (empty_is_null && (value == NULL || *value == '\0')) ? NULL : g_strdup (value);
}

static const char *
selected_backend_id (OpParameterSidebar *self)
{
  const char * const *ids = op_backend_list_ids ();
  guint selected = adw_combo_row_get_selected (self->backend_row);

  if (selected >= g_strv_length ((char **) ids))
    return NULL;

  return ids[selected];
}

/* The model row's item 0 is the backend's default; the others are model names. */
static char *
selected_model (OpParameterSidebar *self)
{
  guint selected = adw_combo_row_get_selected (self->model_row);

  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION)
    return NULL;

  return g_strdup (gtk_string_list_get_string (self->model_list, selected));
}

static void
update_hint (GtkTextBuffer *buffer,
             GtkLabel      *hint)
{
  gtk_widget_set_visible (GTK_WIDGET (hint), gtk_text_buffer_get_char_count (buffer) == 0);
}

/* The prompt against the backend's limit ("12 / 75 tokens", "840 / 1,000 characters"),
 * marked when over, and the (phrase:1.2) groups coloured for backends that read them:
 * stronger, weaker, and a bracket left open or stray. */
static void
update_prompt_length (OpParameterSidebar *self)
{
  g_autofree char *model = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GArray) spans = NULL;
  GtkTextIter start, end;
  OpPromptLimit limit = { OP_PROMPT_UNIT_NONE, 0, FALSE };
  guint used = 0;

  if (self->prompt_length == NULL)
    return;

  gtk_text_buffer_get_bounds (self->prompt_buffer, &start, &end);
  gtk_text_buffer_remove_all_tags (self->prompt_buffer, &start, &end);

  if (self->backend != NULL)
    {
      model = selected_model (self);
      op_backend_get_prompt_limit (self->backend, model, &limit);
    }
  text = gtk_text_buffer_get_text (self->prompt_buffer, &start, &end, FALSE);

  if (limit.unit == OP_PROMPT_UNIT_NONE)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->prompt_length), FALSE);
      return;
    }

  if (limit.unit == OP_PROMPT_UNIT_TOKENS)
    {
      g_autofree char *label = NULL;

      used = op_prompt_count_tokens (text);
      /* a second chunk is allowed, so over is a caution, not an error */
      label = g_strdup_printf (_("%u / %u tokens (approximate)"), used, limit.max);
      gtk_label_set_text (self->prompt_length, label);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->prompt_length),
                                   used > limit.max
                                   ? _("CLIP reads 75 tokens at a time: the rest goes in another "
                                       "chunk, and words at the cut weigh less")
                                   : _("CLIP reads 75 tokens at a time"));
    }
  else
    {
      g_autofree char *label = NULL;

      used = op_prompt_count_chars (text);
      label = g_strdup_printf (_("%u / %u characters"), used, limit.max);
      gtk_label_set_text (self->prompt_length, label);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->prompt_length),
                                   used > limit.max ? _("The backend refuses a longer prompt") : NULL);
    }

  if (used > limit.max)
    gtk_widget_add_css_class (GTK_WIDGET (self->prompt_length),
                              limit.unit == OP_PROMPT_UNIT_CHARS ? "error" : "warning");
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->prompt_length), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->prompt_length), "warning");
    }
  gtk_widget_set_visible (GTK_WIDGET (self->prompt_length), TRUE);

  if (!limit.weights)
    return;

  spans = op_prompt_parse_weights (text);
  for (guint i = 0; i < spans->len; i++)
    {
      OpPromptSpan *span = &g_array_index (spans, OpPromptSpan, i);
      const char *tag = span->kind == OP_PROMPT_SPAN_STRONGER ? "op-weight-stronger"
                      : span->kind == OP_PROMPT_SPAN_WEAKER ? "op-weight-weaker"
                      : "op-weight-error";
      GtkTextIter a, b;

      gtk_text_buffer_get_iter_at_offset (self->prompt_buffer, &a,
                                          g_utf8_pointer_to_offset (text, text + span->start));
      gtk_text_buffer_get_iter_at_offset (self->prompt_buffer, &b,
                                          g_utf8_pointer_to_offset (text, text + span->end));
      gtk_text_buffer_apply_tag_by_name (self->prompt_buffer, tag, &a, &b);
    }
}

/* Alt+Up: the previous prompt of the history (newest first); Alt+Down back towards what
 * the user had typed, which comes back as it was. */
static void
walk_history (OpParameterSidebar *self,
              int                 step)
{
  int n, index;
  const char *text;

  if (self->history == NULL)
    return;

  if (self->history_items == NULL)
    {
      self->history_items = op_prompt_history_list_recent (self->history, OP_PROMPT_HISTORY_MAX);
      g_free (self->history_draft);
      self->history_draft = g_strdup (self->prompt);
      self->history_index = -1;
    }

  n = (int) g_strv_length (self->history_items);
  index = CLAMP (self->history_index + step, -1, n - 1);
  /* the newest entry is usually the prompt itself: skip it */
  if (step > 0 && index >= 0 && index < n - 1 && g_strcmp0 (self->history_items[index], self->history_draft) == 0 &&
      self->history_index == -1)
    index++;
  if (index == self->history_index)
    {
      gtk_widget_error_bell (GTK_WIDGET (self->prompt_view));
      return;
    }

  self->history_index = index;
  text = index < 0 ? self->history_draft : self->history_items[index];
  self->walking_history = TRUE;
  gtk_text_buffer_set_text (self->prompt_buffer, text != NULL ? text : "", -1);
  self->walking_history = FALSE;
}

static gboolean
on_prompt_key_pressed_cb (GtkEventControllerKey *controller,
                          guint                  keyval,
                          guint                  keycode,
                          GdkModifierType        state,
                          OpParameterSidebar    *self)
{
  if ((state & GDK_ALT_MASK) == 0)
    return FALSE;

  if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
    walk_history (self, +1);
  else if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    walk_history (self, -1);
  else
    return FALSE;

  return TRUE;
}

static void
update_seed_row (OpParameterSidebar *self)
{
  gboolean locked = gtk_toggle_button_get_active (self->seed_lock_button);

  /* Short: the seed's ten digits share the row with it. */
  adw_action_row_set_subtitle (self->seed_row,
                               locked ? C_("seed", "Fixed") : C_("seed", "Random"));
  gtk_button_set_icon_name (GTK_BUTTON (self->seed_lock_button),
                            locked ? "changes-prevent-symbolic" : "changes-allow-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->seed_lock_button),
                               locked ? _("Unlock the seed: pick a random one for each job")
                                      : _("Lock the seed: use this one for every job"));
}

static void
update_padding_row (OpParameterSidebar *self)
{
  gboolean masked = adw_combo_row_get_selected (self->context_row) == OP_CONTEXT_MASKED;

  gtk_widget_set_sensitive (GTK_WIDGET (self->padding_row), masked);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->padding_row),
                               masked ? NULL
                                      : _("Padding is used only when the context is the "
                                          "masked area"));
}

static void
update_sensitivity (OpParameterSidebar *self)
{
  OpParamFlags used = op_backend_get_parameters (self->backend);

  for (guint i = 0; i < G_N_ELEMENTS (param_widgets); i++)
    {
      GtkWidget *widget = MEMBER (self, param_widgets[i].offset);
      gboolean is_used = (used & param_widgets[i].param) != 0;
      const char *tooltip;

      if (is_used)
        tooltip = param_widgets[i].hint != NULL ? _(param_widgets[i].hint) : NULL;
      else
        tooltip = op_backend_explain_parameter (self->backend, param_widgets[i].param);

      gtk_widget_set_sensitive (widget, is_used);
      gtk_widget_set_tooltip_text (widget, tooltip);
    }

  /* A backend may take a model without offering a list to choose from. */
  if ((used & OP_PARAM_MODEL) != 0 &&
      (op_backend_get_capabilities (self->backend) & OP_BACKEND_CAP_MODELS) == 0)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->model_row), FALSE);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_row),
                                   _("This backend has no models to choose from."));
    }
}

static gboolean
backend_from_setting (GValue   *value,
                      GVariant *variant,
                      gpointer  user_data)
{
  const char * const *ids = op_backend_list_ids ();
  const char *id = g_variant_get_string (variant, NULL);

  /* An unknown id (written by a newer build) falls back to the key's default. */
  for (guint i = 0; ids[i] != NULL; i++)
    {
      if (g_str_equal (ids[i], id))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
backend_to_setting (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  const char * const *ids = op_backend_list_ids ();
  guint selected = g_value_get_uint (value);

  if (selected >= g_strv_length ((char **) ids))
    return NULL;

  return g_variant_new_string (ids[selected]);
}

static gboolean
context_from_setting (GValue   *value,
                      GVariant *variant,
                      gpointer  user_data)
{
  const char *id = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (context_ids); i++)
    {
      if (g_str_equal (context_ids[i], id))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
context_to_setting (const GValue       *value,
                    const GVariantType *expected_type,
                    gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (context_ids))
    return NULL;

  return g_variant_new_string (context_ids[selected]);
}

static gboolean
model_from_setting (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  OpParameterSidebar *self = user_data;
  GListModel *list = G_LIST_MODEL (self->model_list);
  const char *model = g_variant_get_string (variant, NULL);
  guint n = g_list_model_get_n_items (list);

  g_value_set_uint (value, 0);
  for (guint i = 1; i < n && *model != '\0'; i++)
    {
      if (g_str_equal (gtk_string_list_get_string (self->model_list, i), model))
        {
          g_value_set_uint (value, i);
          break;
        }
    }

  return TRUE;
}

static GVariant *
model_to_setting (const GValue       *value,
                  const GVariantType *expected_type,
                  gpointer            user_data)
{
  OpParameterSidebar *self = user_data;
  guint selected = g_value_get_uint (value);

  if (selected == 0 || selected >= g_list_model_get_n_items (G_LIST_MODEL (self->model_list)))
    return g_variant_new_string ("");

  return g_variant_new_string (gtk_string_list_get_string (self->model_list, selected));
}

static void
bind_model (OpParameterSidebar *self)
{
  g_settings_bind_with_mapping (self->backend_settings, "model", self->model_row, "selected",
                                BIND_FLAGS, model_from_setting, model_to_setting, self, NULL);
}

/* Item 0 is the default, then @models, then the stored model if the backend no longer
 * lists it: showing "Default" instead would silently change what is generated. */
static void
fill_models (OpParameterSidebar *self,
             const char * const *models)
{
  g_autofree char *stored = g_settings_get_string (self->backend_settings, "model");
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  gboolean found = *stored == '\0';

  g_ptr_array_add (items, (gpointer) _("Default"));
  for (guint i = 0; models != NULL && models[i] != NULL; i++)
    {
      g_ptr_array_add (items, (gpointer) models[i]);
      found |= g_str_equal (models[i], stored);
    }
  if (!found)
    g_ptr_array_add (items, stored);
  g_ptr_array_add (items, NULL);

  /* Replacing the items moves the selection, which the binding would write back. */
  self->changes_blocked++;
  g_settings_unbind (self->model_row, "selected");
  gtk_string_list_splice (self->model_list, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->model_list)),
                          (const char * const *) items->pdata);
  bind_model (self);
  self->changes_blocked--;
}

static void
unbind_backend_settings (OpParameterSidebar *self)
{
  if (self->backend_settings == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (plain_bindings); i++)
    g_settings_unbind (MEMBER (self, plain_bindings[i].offset), plain_bindings[i].property);
  g_settings_unbind (self->context_row, "selected");
  g_settings_unbind (self->model_row, "selected");

  g_clear_object (&self->backend_settings);
}

static void
bind_backend_settings (OpParameterSidebar *self,
                       const char         *id)
{
  self->backend_settings = op_backend_settings_new (id);

  for (guint i = 0; i < G_N_ELEMENTS (plain_bindings); i++)
    g_settings_bind (self->backend_settings, plain_bindings[i].key,
                     MEMBER (self, plain_bindings[i].offset), plain_bindings[i].property,
                     BIND_FLAGS);
  g_settings_bind_with_mapping (self->backend_settings, "context",
                                self->context_row, "selected", BIND_FLAGS,
                                context_from_setting, context_to_setting, NULL, NULL);

  /* The list arrives later, if at all; until then the stored model stays selectable. */
  fill_models (self, NULL);
}

static void
list_models_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(OpParameterSidebar) self = user_data;
  OpBackend *backend = OP_BACKEND (object);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;

  models = op_backend_list_models_finish (backend, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || backend != self->backend)
    return;

  if (models == NULL)
    {
      g_autofree char *tooltip = NULL;

      g_warning ("Could not list the models of “%s”: %s",
                 op_backend_get_id (backend), error->message);
      tooltip = g_strdup_printf (_("Could not list the models: %s"), error->message);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_row), tooltip);
      return;
    }

  fill_models (self, (const char * const *) models);
}

static void
load_models (OpParameterSidebar *self)
{
  g_autofree char *url = NULL;

  if ((op_backend_get_parameters (self->backend) & OP_PARAM_MODEL) == 0 ||
      (op_backend_get_capabilities (self->backend) & OP_BACKEND_CAP_MODELS) == 0)
    return;

  /* The list comes from where the service is: a web UI at another address than the
   * default would never be asked.  (A key is looked up only to generate.) */
  url = g_settings_get_string (self->backend_settings, "url");
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (self->backend), "url") != NULL)
    g_object_set (self->backend, "url", url[0] != '\0' ? url : NULL, NULL);

  self->models_cancellable = g_cancellable_new ();
  op_backend_list_models_async (self->backend, self->models_cancellable,
                                list_models_cb, g_object_ref (self));
}

static void
on_backend_settings_url_changed_cb (OpParameterSidebar *self)
{
  g_cancellable_cancel (self->models_cancellable);
  g_clear_object (&self->models_cancellable);
  load_models (self);
}

static void
set_backend (OpParameterSidebar *self,
             const char         *id)
{
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  backend = op_backend_new_for_id (id, &error);
  if (backend == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }

  g_cancellable_cancel (self->models_cancellable);
  g_clear_object (&self->models_cancellable);

  self->changes_blocked++;
  unbind_backend_settings (self);
  g_set_object (&self->backend, backend);
  bind_backend_settings (self, id);
  g_signal_connect_object (self->backend_settings, "changed::url",
                           G_CALLBACK (on_backend_settings_url_changed_cb), self,
                           G_CONNECT_SWAPPED);
  update_sensitivity (self);
  load_models (self);
  self->changes_blocked--;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BACKEND]);
  emit_params_changed (self);
}

static gboolean
pulse_cb (gpointer user_data)
{
  OpParameterSidebar *self = user_data;

  gtk_progress_bar_pulse (self->progress_bar);

  return G_SOURCE_CONTINUE;
}

/* Callbacks */

static void
on_backend_row_selected_cb (OpParameterSidebar *self)
{
  const char *id;

  /* The list is filled in init, before the settings (and so the choice) are known. */
  if (self->settings == NULL)
    return;

  id = selected_backend_id (self);
  if (id == NULL)
    return;
  if (self->backend != NULL && g_str_equal (op_backend_get_id (self->backend), id))
    return;

  set_backend (self, id);
}

static void
on_prompt_buffer_changed_cb (GtkTextBuffer      *buffer,
                             OpParameterSidebar *self)
{
  /* typing ends a walk through the history */
  if (!self->walking_history)
    {
      self->history_index = -1;
      g_clear_pointer (&self->history_items, g_strfreev);
    }

  g_free (self->prompt);
  self->prompt = buffer_dup_text (buffer);
  update_hint (buffer, self->prompt_hint);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROMPT]);
  emit_params_changed (self);
}

static void
on_negative_buffer_changed_cb (GtkTextBuffer      *buffer,
                               OpParameterSidebar *self)
{
  update_hint (buffer, self->negative_hint);
  emit_params_changed (self);
}

static void
on_seed_lock_toggled_cb (OpParameterSidebar *self)
{
  update_seed_row (self);
  emit_params_changed (self);
}

static void
on_context_row_selected_cb (OpParameterSidebar *self)
{
  update_padding_row (self);
  emit_params_changed (self);
}

static void
on_param_changed_cb (OpParameterSidebar *self)
{
  emit_params_changed (self);
}

/* Vfuncs */

static void
op_parameter_sidebar_constructed (GObject *object)
{
  OpParameterSidebar *self = OP_PARAMETER_SIDEBAR (object);

  G_OBJECT_CLASS (op_parameter_sidebar_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));

  g_settings_bind_with_mapping (self->settings, "backend", self->backend_row, "selected",
                                BIND_FLAGS, backend_from_setting, backend_to_setting,
                                NULL, NULL);
  /* Binding did not notify if the stored backend is the one already selected. */
  on_backend_row_selected_cb (self);
}

static void
op_parameter_sidebar_dispose (GObject *object)
{
  OpParameterSidebar *self = OP_PARAMETER_SIDEBAR (object);

  g_cancellable_cancel (self->models_cancellable);
  g_clear_object (&self->models_cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);

  if (self->backend_row != NULL)
    {
      g_settings_unbind (self->backend_row, "selected");
      unbind_backend_settings (self);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), OP_TYPE_PARAMETER_SIDEBAR);
  /* a child of the template's prompt group, gone with it */
  self->prompt_length = NULL;

  g_clear_object (&self->backend);
  g_clear_object (&self->history);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (op_parameter_sidebar_parent_class)->dispose (object);
}

static void
op_parameter_sidebar_finalize (GObject *object)
{
  OpParameterSidebar *self = OP_PARAMETER_SIDEBAR (object);

  g_free (self->prompt);
  g_free (self->history_draft);
  g_strfreev (self->history_items);

  G_OBJECT_CLASS (op_parameter_sidebar_parent_class)->finalize (object);
}

static void
op_parameter_sidebar_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  OpParameterSidebar *self = OP_PARAMETER_SIDEBAR (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_BACKEND:
      g_value_set_object (value, self->backend);
      break;

    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_parameter_sidebar_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  OpParameterSidebar *self = OP_PARAMETER_SIDEBAR (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_PROMPT:
      op_parameter_sidebar_set_prompt (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_parameter_sidebar_class_init (OpParameterSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = op_parameter_sidebar_constructed;
  object_class->dispose = op_parameter_sidebar_dispose;
  object_class->finalize = op_parameter_sidebar_finalize;
  object_class->get_property = op_parameter_sidebar_get_property;
  object_class->set_property = op_parameter_sidebar_set_property;

  /**
   * OpParameterSidebar:settings:
   *
   * The application's settings: the chosen backend is stored there.
   */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);

  /**
   * OpParameterSidebar:backend:
   *
   * The backend chosen in the sidebar.
   */
  properties[PROP_BACKEND] =
    g_param_spec_object ("backend", NULL, NULL, OP_TYPE_BACKEND,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * OpParameterSidebar:prompt:
   *
   * The prompt.  It belongs to the picture, not to the backend, so it is not stored in
   * the settings; the window keeps it with the document.
   */
  properties[PROP_PROMPT] =
    g_param_spec_string ("prompt", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * OpParameterSidebar::params-changed:
   *
   * Any parameter changed, including the backend and the prompt.
   */
  signals[PARAMS_CHANGED] =
    g_signal_new ("params-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/op-parameter-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, backend_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, backend_list);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, prompt_group);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, prompt_buffer);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, prompt_view);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, prompt_hint);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, negative_group);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, negative_buffer);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, negative_hint);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, variants_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, variants_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, seed_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, seed_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, seed_lock_button);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, steps_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, steps_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, cfg_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, cfg_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, strength_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, strength_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, sampler_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, scheduler_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, model_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, model_list);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, grow_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, feather_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, context_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, padding_row);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, padding_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, color_match_switch);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, OpParameterSidebar, status_label);
  gtk_widget_class_bind_template_callback (widget_class, on_backend_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_prompt_buffer_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_negative_buffer_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_seed_lock_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_context_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_param_changed_cb);
}

static void
op_parameter_sidebar_init (OpParameterSidebar *self)
{
  const char * const *ids = op_backend_list_ids ();
  GtkEventController *controller;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->prompt = g_strdup ("");

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(OpBackend) backend = op_backend_new_for_id (ids[i], NULL);

      gtk_string_list_append (self->backend_list,
                              backend != NULL ? op_backend_get_name (backend) : ids[i]);
    }

  gtk_text_buffer_create_tag (self->prompt_buffer, "op-weight-stronger",
                              "weight", PANGO_WEIGHT_BOLD, "foreground", "#1c71d8", NULL);
  gtk_text_buffer_create_tag (self->prompt_buffer, "op-weight-weaker",
                              "style", PANGO_STYLE_ITALIC, "foreground", "#77767b", NULL);
  gtk_text_buffer_create_tag (self->prompt_buffer, "op-weight-error",
                              "underline", PANGO_UNDERLINE_ERROR, NULL);
  self->history_index = -1;
  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (on_prompt_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->prompt_view), controller);

  self->prompt_length = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->prompt_length, 1);
  gtk_widget_add_css_class (GTK_WIDGET (self->prompt_length), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (self->prompt_length), "numeric");
  gtk_widget_set_margin_top (GTK_WIDGET (self->prompt_length), 4);
  adw_preferences_group_add (self->prompt_group, GTK_WIDGET (self->prompt_length));

  update_seed_row (self);
  update_padding_row (self);
  update_prompt_length (self);
}

/* Public API */

/**
 * op_parameter_sidebar_new:
 * @settings: the application's settings (schema `io.github.overpaint.Overpaint`)
 *
 * Returns: (transfer floating): a new sidebar showing the backend stored in @settings
 */
GtkWidget *
op_parameter_sidebar_new (GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (OP_TYPE_PARAMETER_SIDEBAR, "settings", settings, NULL);
}

/**
 * op_parameter_sidebar_get_settings:
 *
 * Returns: (transfer none): the application's settings
 */
GSettings *
op_parameter_sidebar_get_settings (OpParameterSidebar *self)
{
  g_return_val_if_fail (OP_IS_PARAMETER_SIDEBAR (self), NULL);

  return self->settings;
}

/**
 * op_parameter_sidebar_get_backend:
 *
 * Returns: (transfer none) (nullable): the chosen backend
 */
OpBackend *
op_parameter_sidebar_get_backend (OpParameterSidebar *self)
{
  g_return_val_if_fail (OP_IS_PARAMETER_SIDEBAR (self), NULL);

  return self->backend;
}

/**
 * op_parameter_sidebar_dup_params:
 *
 * A snapshot of everything the sidebar shows, to build a request from.  The seed is
 * -1 (a random one per job) unless it is locked.
 *
 * Returns: (transfer full): the parameters
 */
OpParams *
op_parameter_sidebar_dup_params (OpParameterSidebar *self)
{
  g_autoptr(OpParams) params = NULL;
  g_autofree char *negative = NULL;
  g_autofree char *sampler = NULL;
  g_autofree char *scheduler = NULL;

  g_return_val_if_fail (OP_IS_PARAMETER_SIDEBAR (self), NULL);

  params = op_params_new ();
  negative = buffer_dup_text (self->negative_buffer);
  sampler = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->sampler_row))));
  scheduler = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->scheduler_row))));

  if (self->backend != NULL)
    replace_string (&params->backend, op_backend_get_id (self->backend), FALSE);
  replace_string (&params->prompt, self->prompt, FALSE);
  replace_string (&params->negative_prompt, negative, FALSE);
  replace_string (&params->sampler, sampler, TRUE);
  replace_string (&params->scheduler, scheduler, TRUE);
  g_free (params->model);
  params->model = selected_model (self);

  if (gtk_toggle_button_get_active (self->seed_lock_button))
    params->seed = (gint64) llround (gtk_adjustment_get_value (self->seed_adjustment));
  else
    params->seed = -1;

  params->n_variants = adjustment_get_int (self->variants_adjustment);
  params->steps = adjustment_get_int (self->steps_adjustment);
  params->cfg = gtk_adjustment_get_value (self->cfg_adjustment);
  params->strength = gtk_adjustment_get_value (self->strength_adjustment);
  params->mask_grow = adjustment_get_int (self->grow_adjustment);
  params->mask_feather = adjustment_get_int (self->feather_adjustment);
  params->context = adw_combo_row_get_selected (self->context_row) == OP_CONTEXT_WHOLE
                    ? OP_CONTEXT_WHOLE : OP_CONTEXT_MASKED;
  params->padding = adjustment_get_int (self->padding_adjustment);
  params->color_match = gtk_switch_get_active (self->color_match_switch);

  return g_steal_pointer (&params);
}

/**
 * op_parameter_sidebar_get_prompt:
 *
 * Returns: (transfer none): the prompt, never %NULL
 */
const char *
op_parameter_sidebar_get_prompt (OpParameterSidebar *self)
{
  g_return_val_if_fail (OP_IS_PARAMETER_SIDEBAR (self), NULL);

  return self->prompt;
}

void
op_parameter_sidebar_set_prompt (OpParameterSidebar *self,
                                 const char         *prompt)
{
  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));

  if (prompt == NULL)
    prompt = "";

  if (g_strcmp0 (self->prompt, prompt) == 0)
    return;

  /* The buffer's changed handler stores the prompt and notifies. */
  gtk_text_buffer_set_text (self->prompt_buffer, prompt, -1);
}

/**
 * op_parameter_sidebar_set_progress:
 * @running: whether a generation is running; %FALSE hides the progress
 * @fraction: 0 … 1, or < 0 when the backend cannot tell (the bar pulses)
 * @text: (nullable): what is happening, in a few words
 */
void
op_parameter_sidebar_set_progress (OpParameterSidebar *self,
                                   gboolean            running,
                                   double              fraction,
                                   const char         *text)
{
  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));

  gtk_revealer_set_reveal_child (self->progress_revealer, running);
  gtk_label_set_text (self->status_label, text != NULL ? text : "");

  if (running && fraction < 0)
    {
      if (self->pulse_id == 0)
        {
          gtk_progress_bar_pulse (self->progress_bar);
          self->pulse_id = g_timeout_add (PULSE_INTERVAL_MS, pulse_cb, self);
        }
      return;
    }

  g_clear_handle_id (&self->pulse_id, g_source_remove);
  gtk_progress_bar_set_fraction (self->progress_bar, running ? CLAMP (fraction, 0.0, 1.0) : 0.0);
}

/**
 * op_backend_settings_new:
 *
 * Returns: (transfer full): the settings of one backend (its address, and what the
 *   sidebar remembers for it)
 */
GSettings *
op_backend_settings_new (const char *backend_id)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (backend_id != NULL, NULL);

  path = g_strconcat (OP_BACKEND_SETTINGS_PATH, backend_id, "/", NULL);
  return g_settings_new_with_path (OP_BACKEND_SETTINGS_SCHEMA, path);
}

void
op_parameter_sidebar_insert_phrase (OpParameterSidebar *self,
                                    const char         *phrase,
                                    gboolean            negative)
{
  GtkTextBuffer *buffer;
  GtkTextIter cursor, before, after;
  g_autofree char *text = NULL;
  gunichar previous = 0, next = 0;

  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));
  g_return_if_fail (phrase != NULL);

  buffer = negative ? self->negative_buffer : self->prompt_buffer;
  gtk_text_buffer_get_iter_at_mark (buffer, &cursor, gtk_text_buffer_get_insert (buffer));

  /* the nearest non-blank characters either side decide the separators */
  before = cursor;
  while (gtk_text_iter_backward_char (&before))
    if (!g_unichar_isspace (previous = gtk_text_iter_get_char (&before)))
      break;
    else
      previous = 0;
  after = cursor;
  while (!gtk_text_iter_is_end (&after) && g_unichar_isspace (gtk_text_iter_get_char (&after)))
    gtk_text_iter_forward_char (&after);
  next = gtk_text_iter_is_end (&after) ? 0 : gtk_text_iter_get_char (&after);

  text = g_strconcat (previous != 0 && previous != ',' ? ", " : (previous == ',' ? " " : ""),
                      phrase,
                      next != 0 && next != ',' ? ", " : "",
                      NULL);
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_insert (buffer, &cursor, text, -1);
  gtk_text_buffer_end_user_action (buffer);
}

void
op_parameter_sidebar_add_below_prompt (OpParameterSidebar *self,
                                       GtkWidget          *widget)
{
  GtkWidget *parent;

  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));
  g_return_if_fail (GTK_IS_WIDGET (widget));

  parent = gtk_widget_get_parent (GTK_WIDGET (self->prompt_group));
  gtk_box_insert_child_after (GTK_BOX (parent), widget, GTK_WIDGET (self->prompt_group));
}

const char *
op_parameter_sidebar_get_prompt_length (OpParameterSidebar *self)
{
  g_return_val_if_fail (OP_IS_PARAMETER_SIDEBAR (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->prompt_length)))
    return NULL;

  return gtk_label_get_text (self->prompt_length);
}

void
op_parameter_sidebar_set_history (OpParameterSidebar *self,
                                  OpPromptHistory    *history)
{
  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));
  g_return_if_fail (history == NULL || OP_IS_PROMPT_HISTORY (history));

  g_set_object (&self->history, history);
  g_clear_pointer (&self->history_items, g_strfreev);
  self->history_index = -1;
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->prompt_view),
                               history != NULL ? _("Alt+Up and Alt+Down go through the prompts "
                                                   "you generated with") : NULL);
}

/**
 * op_parameter_sidebar_set_params:
 * @params: what to show (a project's saved sidebar)
 *
 * Shows @params: the backend first (it rebinds the rest), then every parameter.  An
 * unknown backend keeps the chosen one.  The fields are bound to the settings, so this
 * also becomes what the next session starts with, as if the user had typed it.
 */
void
op_parameter_sidebar_set_params (OpParameterSidebar *self,
                                 const OpParams     *params)
{
  g_autoptr(OpBackend) known = NULL;
  guint n;

  g_return_if_fail (OP_IS_PARAMETER_SIDEBAR (self));
  g_return_if_fail (params != NULL);

  if (params->backend != NULL && (known = op_backend_new_for_id (params->backend, NULL)) != NULL &&
      (self->backend == NULL || g_strcmp0 (op_backend_get_id (self->backend), params->backend) != 0))
    g_settings_set_string (self->settings, "backend", params->backend);

  self->changes_blocked++;
  op_parameter_sidebar_set_prompt (self, params->prompt != NULL ? params->prompt : "");
  gtk_text_buffer_set_text (self->negative_buffer,
                            params->negative_prompt != NULL ? params->negative_prompt : "", -1);
  gtk_editable_set_text (GTK_EDITABLE (self->sampler_row),
                         params->sampler != NULL ? params->sampler : "");
  gtk_editable_set_text (GTK_EDITABLE (self->scheduler_row),
                         params->scheduler != NULL ? params->scheduler : "");
  if (self->backend_settings != NULL)
    g_settings_set_string (self->backend_settings, "model",
                           params->model != NULL ? params->model : "");

  /* the model may not be in the list yet: pick it when it is */
  n = g_list_model_get_n_items (G_LIST_MODEL (self->model_list));
  for (guint i = 0; i < n; i++)
    if (i > 0 && g_strcmp0 (gtk_string_list_get_string (self->model_list, i), params->model) == 0)
      adw_combo_row_set_selected (self->model_row, i);

  gtk_toggle_button_set_active (self->seed_lock_button, params->seed >= 0);
  if (params->seed >= 0)
    gtk_adjustment_set_value (self->seed_adjustment, (double) params->seed);
  gtk_adjustment_set_value (self->variants_adjustment, params->n_variants);
  gtk_adjustment_set_value (self->steps_adjustment, params->steps);
  gtk_adjustment_set_value (self->cfg_adjustment, params->cfg);
  gtk_adjustment_set_value (self->strength_adjustment, params->strength);
  gtk_adjustment_set_value (self->grow_adjustment, params->mask_grow);
  gtk_adjustment_set_value (self->feather_adjustment, params->mask_feather);
  adw_combo_row_set_selected (self->context_row, params->context);
  gtk_adjustment_set_value (self->padding_adjustment, params->padding);
  gtk_switch_set_active (self->color_match_switch, params->color_match);
  self->changes_blocked--;

  emit_params_changed (self);
}
