/* op-prompt-suggestions.c — describe the picture and suggest prompt phrases
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "op-prompt-suggestions.h"
#include "op-prompt-history.h"
#include "op-prompt-text.h"
#include "op-suggest.h"

#define CHIPS_PER_CATEGORY 6
#define MAX_CAPTION_PHRASES 24

struct _OpPromptSuggestions
{
  GtkBox        parent_instance;

  GtkDropDown  *region_dropdown;
  GtkDropDown  *describer_dropdown;
  GtkButton    *describe_button;
  GtkButton    *cancel_button;
  GtkSpinner   *spinner;
  GtkLabel     *status_label;
  GtkFlowBox   *caption_box;
  GtkButton    *use_all_button;
  GtkBox       *hints_box;
  GtkBox       *offline_box;
  GtkBox       *history_section;
  GtkSearchEntry *history_search;
  GtkFlowBox   *history_box;
  GtkButton    *clear_history_button;
  OpPromptHistory *history;

  OpImage      *picture;
  OpMask       *mask;
  OpMargins     margins;
  OpBackend    *backend;       /* the sidebar's */
  OpBackend    *ollama;        /* made when first chosen */
  char         *prompt;

  GCancellable *cancellable;   /* the running description */
  GPtrArray    *parts;         /* OpDescribePart, while describing */
  guint         next_part;
  GString      *caption;
  GStrv         caption_phrases;
  GPtrArray    *offline;       /* "category: phrase" shown */
};

G_DEFINE_FINAL_TYPE (OpPromptSuggestions, op_prompt_suggestions, GTK_TYPE_BOX)

enum { INSERT_PHRASE, USE_ALL, DESCRIBE_REQUESTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The describer dropdown's order */
enum { DESCRIBER_CLIP, DESCRIBER_DEEPDANBOORU, DESCRIBER_OLLAMA };

/* The region dropdown's order */
static const OpDescribeRegion regions[] = { OP_DESCRIBE_CONTEXT, OP_DESCRIBE_WHOLE, OP_DESCRIBE_EDGES };

static void
set_status (OpPromptSuggestions *self,
            const char          *text,
            gboolean             is_error)
{
  gtk_label_set_text (self->status_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), text != NULL && *text != '\0');
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
clear_box (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_FLOW_BOX (box))
        gtk_flow_box_remove (GTK_FLOW_BOX (box), child);
      else
        gtk_box_remove (GTK_BOX (box), child);
    }
}

static void
on_chip_clicked_cb (GtkButton           *button,
                    OpPromptSuggestions *self)
{
  const char *phrase = g_object_get_data (G_OBJECT (button), "phrase");
  gboolean negative = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "negative"));

  g_signal_emit (self, signals[INSERT_PHRASE], 0, phrase, negative);
}

static GtkWidget *
chip_new (OpPromptSuggestions *self,
          const char          *phrase,
          gboolean             negative)
{
  GtkWidget *button = gtk_button_new_with_label (phrase);
  g_autofree char *tooltip = NULL;

  gtk_widget_add_css_class (button, "op-chip");
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  g_object_set_data_full (G_OBJECT (button), "phrase", g_strdup (phrase), g_free);
  g_object_set_data (G_OBJECT (button), "negative", GINT_TO_POINTER (negative));
  tooltip = g_strdup_printf (negative ? _("Add “%s” to the negative prompt")
                                      : _("Add “%s” to the prompt at the cursor"), phrase);
  gtk_widget_set_tooltip_text (button, tooltip);
  g_signal_connect (button, "clicked", G_CALLBACK (on_chip_clicked_cb), self);

  return button;
}

static GtkWidget *
flow_box_new (void)
{
  GtkWidget *box = gtk_flow_box_new ();

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (box), GTK_SELECTION_NONE);
  gtk_flow_box_set_min_children_per_line (GTK_FLOW_BOX (box), 2);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (box), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (box), 4);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (box), 4);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (box), FALSE);

  return box;
}

static GtkWidget *
heading_new (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_add_css_class (label, "dim-label");

  return label;
}

/* Offline */

static void
update_hints (OpPromptSuggestions *self)
{
  g_autoptr(GPtrArray) hints = op_vocabulary_get_hints (op_vocabulary_get_default (), self->prompt);

  clear_box (GTK_WIDGET (self->hints_box));
  for (guint i = 0; i < hints->len; i++)
    {
      GtkWidget *label = gtk_label_new (hints->pdata[i]);

      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "op-hint");
      gtk_widget_add_css_class (label, "warning");
      gtk_box_append (self->hints_box, label);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->hints_box), hints->len > 0);
}

/* The phrases for what the describer would look at, analysed here: fast (one pass over
 * at most the picture's pixels) and deterministic. */
static void
update_offline (OpPromptSuggestions *self)
{
  OpVocabulary *vocabulary = op_vocabulary_get_default ();
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GPtrArray) parts = NULL;
  OpPictureTraits traits;
  gboolean have_traits = FALSE;
  OpDescribeRegion region = regions[gtk_drop_down_get_selected (self->region_dropdown) % G_N_ELEMENTS (regions)];
  GtkWidget *flow = NULL;
  const char *category = NULL;
  guint shown = 0;

  clear_box (GTK_WIDGET (self->offline_box));
  g_ptr_array_set_size (self->offline, 0);

  if (self->picture != NULL)
    {
      /* no mask or no margins: the whole picture stands for the region */
      parts = op_describe_prepare_analysis (self->picture, self->mask, &self->margins, region, NULL);
      if (parts == NULL)
        parts = op_describe_prepare_analysis (self->picture, NULL, NULL, OP_DESCRIBE_WHOLE, NULL);
      if (parts != NULL && parts->len > 0)
        {
          OpDescribePart *part = parts->pdata[0];

          have_traits = op_picture_traits_analyse (part->analysed, part->exclude, &traits, NULL);
        }
    }

  ranked = op_vocabulary_rank (vocabulary, have_traits ? &traits : NULL);
  for (guint i = 0; i < ranked->len; i++)
    {
      OpSuggestion *suggestion = ranked->pdata[i];
      gboolean negative = FALSE;

      if (g_strcmp0 (category, suggestion->category) != 0)
        {
          guint c;

          category = suggestion->category;
          shown = 0;
          for (c = 0; c < op_vocabulary_get_n_categories (vocabulary); c++)
            if (g_str_equal (op_vocabulary_get_category_id (vocabulary, c), category))
              break;
          gtk_box_append (self->offline_box, heading_new (op_vocabulary_get_category_label (vocabulary, c)));
          flow = flow_box_new ();
          gtk_box_append (self->offline_box, flow);
        }
      for (guint c = 0; c < op_vocabulary_get_n_categories (vocabulary); c++)
        if (g_str_equal (op_vocabulary_get_category_id (vocabulary, c), category))
          negative = op_vocabulary_category_is_negative (vocabulary, c);

      if (shown++ >= CHIPS_PER_CATEGORY)
        continue;
      gtk_flow_box_append (GTK_FLOW_BOX (flow), chip_new (self, suggestion->text, negative));
      g_ptr_array_add (self->offline, g_strdup_printf ("%s: %s", suggestion->category, suggestion->text));
    }
}

/* The user's own prompts */

#define HISTORY_CHIPS 6

static void
on_history_chip_clicked_cb (GtkButton           *button,
                            OpPromptSuggestions *self)
{
  g_signal_emit (self, signals[USE_ALL], 0, g_object_get_data (G_OBJECT (button), "prompt"));
}

/* Most used first, or those holding every word searched for; a click replaces the
 * prompt with it. */
static void
update_history (OpPromptSuggestions *self)
{
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->history_search));
  g_auto(GStrv) prompts = NULL;
  guint n = self->history != NULL ? op_prompt_history_get_n_prompts (self->history) : 0;

  gtk_widget_set_visible (GTK_WIDGET (self->history_section), n > 0);
  clear_box (GTK_WIDGET (self->history_box));
  if (n == 0)
    return;

  prompts = *query != '\0' ? op_prompt_history_search (self->history, query, HISTORY_CHIPS)
                           : op_prompt_history_list_most_used (self->history, HISTORY_CHIPS);
  for (guint i = 0; prompts[i] != NULL; i++)
    {
      /* Cut only a long one: g_utf8_substring() reads past the end of a string shorter
       * than its end_pos. */
      gboolean cut = g_utf8_strlen (prompts[i], -1) > 60;
      g_autofree char *start = cut ? g_utf8_substring (prompts[i], 0, 57) : NULL;
      g_autofree char *shown = cut ? g_strconcat (start, "…", NULL) : g_strdup (prompts[i]);
      GtkWidget *chip = gtk_button_new_with_label (shown);

      gtk_widget_add_css_class (chip, "op-chip");
      gtk_widget_set_halign (chip, GTK_ALIGN_START);
      gtk_widget_set_tooltip_text (chip, prompts[i]);
      g_object_set_data_full (G_OBJECT (chip), "prompt", g_strdup (prompts[i]), g_free);
      g_signal_connect (chip, "clicked", G_CALLBACK (on_history_chip_clicked_cb), self);
      gtk_flow_box_append (self->history_box, chip);
    }
}

static void
on_history_search_changed_cb (GtkSearchEntry      *entry,
                              OpPromptSuggestions *self)
{
  update_history (self);
}

static void
on_clear_history_clicked_cb (GtkButton           *button,
                             OpPromptSuggestions *self)
{
  g_autoptr(GError) error = NULL;

  if (self->history == NULL)
    return;

  op_prompt_history_clear (self->history);
  if (!op_prompt_history_save (self->history, &error))
    set_status (self, error->message, TRUE);
}

void
op_prompt_suggestions_set_history (OpPromptSuggestions *self,
                                   OpPromptHistory     *history)
{
  g_return_if_fail (OP_IS_PROMPT_SUGGESTIONS (self));

  if (self->history != NULL)
    g_signal_handlers_disconnect_by_data (self->history, self);
  g_set_object (&self->history, history);
  if (history != NULL)
    g_signal_connect_swapped (history, "changed", G_CALLBACK (update_history), self);
  update_history (self);
}

/* Describing */

static void
show_caption (OpPromptSuggestions *self)
{
  clear_box (GTK_WIDGET (self->caption_box));
  g_clear_pointer (&self->caption_phrases, g_strfreev);

  if (self->caption == NULL || self->caption->len == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->caption_box), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->use_all_button), FALSE);
      return;
    }

  self->caption_phrases = op_caption_split (self->caption->str, MAX_CAPTION_PHRASES);
  for (guint i = 0; self->caption_phrases[i] != NULL; i++)
    gtk_flow_box_append (self->caption_box, chip_new (self, self->caption_phrases[i], FALSE));
  gtk_widget_set_visible (GTK_WIDGET (self->caption_box), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->use_all_button), TRUE);
}

/* The web UI's interrogators on the sidebar's backend, or Ollama's vision model. */
OpBackend *
op_prompt_suggestions_get_describer (OpPromptSuggestions *self)
{
  guint chosen;

  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), NULL);

  chosen = gtk_drop_down_get_selected (self->describer_dropdown);
  if (chosen == DESCRIBER_OLLAMA)
    {
      if (self->ollama == NULL)
        self->ollama = op_backend_new_for_id ("ollama", NULL);
      return self->ollama;
    }

  return self->backend;
}

/* The interrogator chosen, told to the web UI when describing starts; OpenAI describes
 * with its own chat model. */
static void
apply_interrogator (OpPromptSuggestions *self,
                    OpBackend           *describer)
{
  guint chosen = gtk_drop_down_get_selected (self->describer_dropdown);

  if (describer == self->backend && g_str_equal (op_backend_get_id (describer), "automatic1111"))
    g_object_set (describer, "describe-model", chosen == DESCRIBER_DEEPDANBOORU ? "deepdanbooru" : "clip",
                  NULL);
}

static void
update_describe_button (OpPromptSuggestions *self)
{
  gboolean running = self->cancellable != NULL;
  OpBackend *describer = op_prompt_suggestions_get_describer (self);
  gboolean can = describer != NULL &&
                 (op_backend_get_capabilities (describer) & OP_BACKEND_CAP_DESCRIBE) != 0;

  gtk_widget_set_sensitive (GTK_WIDGET (self->describe_button), can && self->picture != NULL && !running);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_spinner_set_spinning (self->spinner, running);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), running);

  if (!can)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->describe_button),
                                 _("The chosen backend cannot describe pictures; choose "
                                   "AUTOMATIC1111 / Forge or OpenAI, or Ollama as the describer. "
                                   "The phrases below work offline."));
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->describe_button),
                                 _("Ask the backend to describe the region as a prompt"));
}

static void
describe_done (OpPromptSuggestions *self,
               GError              *error)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->parts, g_ptr_array_unref);

  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_status (self, _("Describing was cancelled."), FALSE);
  else if (error != NULL)
    set_status (self, error->message, TRUE);
  else
    set_status (self, NULL, FALSE);

  show_caption (self);
  update_describe_button (self);
}

static void describe_next (OpPromptSuggestions *self);

static void
describe_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(OpPromptSuggestions) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = op_backend_describe_finish (OP_BACKEND (object), result, &error);

  if (self->parts == NULL)
    return;   /* disposed */

  if (caption == NULL)
    {
      g_string_truncate (self->caption, 0);
      describe_done (self, error);
      return;
    }

  if (self->caption->len > 0)
    g_string_append (self->caption, ", ");
  g_string_append (self->caption, caption);
  describe_next (self);
}

static void
describe_next (OpPromptSuggestions *self)
{
  OpDescribePart *part;
  g_autofree char *status = NULL;

  if (self->next_part >= self->parts->len)
    {
      describe_done (self, NULL);
      return;
    }

  part = self->parts->pdata[self->next_part++];
  status = g_strdup_printf (_("Describing %s (%u of %u)…"), part->name, self->next_part, self->parts->len);
  set_status (self, status, FALSE);
  op_backend_describe_async (op_prompt_suggestions_get_describer (self), part->image, self->cancellable, describe_cb,
                             g_object_ref (self));
}

typedef struct
{
  OpImage          *picture;
  OpMask           *mask;
  OpMargins         margins;
  OpDescribeRegion  region;
} PrepareData;

static void
prepare_data_free (PrepareData *data)
{
  g_clear_pointer (&data->picture, op_image_unref);
  g_clear_pointer (&data->mask, op_mask_unref);
  g_free (data);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareData *data = task_data;
  GError *error = NULL;
  GPtrArray *parts = op_describe_prepare (data->picture, data->mask, &data->margins, data->region,
                                          cancellable, &error);

  if (parts == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, parts, (GDestroyNotify) g_ptr_array_unref);
}

static void
prepare_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  OpPromptSuggestions *self = OP_PROMPT_SUGGESTIONS (object);
  g_autoptr(GError) error = NULL;
  GPtrArray *parts = g_task_propagate_pointer (G_TASK (result), &error);

  if (parts == NULL)
    {
      describe_done (self, error);
      return;
    }

  self->parts = parts;
  self->next_part = 0;
  g_string_truncate (self->caption, 0);
  describe_next (self);
}

gboolean
op_prompt_suggestions_describe (OpPromptSuggestions *self)
{
  g_autoptr(GTask) task = NULL;
  PrepareData *data;
  OpBackend *describer = op_prompt_suggestions_get_describer (self);

  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), FALSE);

  if (self->cancellable != NULL || self->picture == NULL || describer == NULL ||
      !(op_backend_get_capabilities (describer) & OP_BACKEND_CAP_DESCRIBE))
    return FALSE;

  apply_interrogator (self, describer);

  self->cancellable = g_cancellable_new ();
  data = g_new0 (PrepareData, 1);
  data->picture = op_image_ref (self->picture);
  data->mask = self->mask != NULL ? op_mask_copy (self->mask) : NULL;
  data->margins = self->margins;
  data->region = regions[gtk_drop_down_get_selected (self->region_dropdown) % G_N_ELEMENTS (regions)];

  set_status (self, _("Preparing the picture…"), FALSE);
  update_describe_button (self);

  task = g_task_new (self, self->cancellable, prepare_cb, NULL);
  g_task_set_source_tag (task, op_prompt_suggestions_describe);
  g_task_set_task_data (task, data, (GDestroyNotify) prepare_data_free);
  g_task_run_in_thread (task, prepare_thread);

  return TRUE;
}

/* The window configures the backend (its address and login from the keyring) first,
 * then calls op_prompt_suggestions_describe(). */
static void
on_describe_clicked_cb (GtkButton           *button,
                        OpPromptSuggestions *self)
{
  if (g_signal_has_handler_pending (self, signals[DESCRIBE_REQUESTED], 0, FALSE))
    g_signal_emit (self, signals[DESCRIBE_REQUESTED], 0);
  else
    op_prompt_suggestions_describe (self);
}

static void
on_cancel_clicked_cb (GtkButton           *button,
                      OpPromptSuggestions *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
on_use_all_clicked_cb (GtkButton           *button,
                       OpPromptSuggestions *self)
{
  g_autofree char *joined = NULL;

  if (self->caption_phrases == NULL)
    return;

  joined = g_strjoinv (", ", self->caption_phrases);
  g_signal_emit (self, signals[USE_ALL], 0, joined);
}

static void
on_describer_changed_cb (GObject             *object,
                         GParamSpec          *pspec,
                         OpPromptSuggestions *self)
{
  update_describe_button (self);
}

static void
on_region_changed_cb (GObject             *object,
                      GParamSpec          *pspec,
                      OpPromptSuggestions *self)
{
  update_offline (self);
}

/* GObject */

static void
op_prompt_suggestions_dispose (GObject *object)
{
  OpPromptSuggestions *self = OP_PROMPT_SUGGESTIONS (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->parts, g_ptr_array_unref);
  g_clear_object (&self->backend);
  g_clear_object (&self->ollama);
  if (self->history != NULL)
    g_signal_handlers_disconnect_by_data (self->history, self);
  g_clear_object (&self->history);
  g_clear_pointer (&self->picture, op_image_unref);
  g_clear_pointer (&self->mask, op_mask_unref);

  G_OBJECT_CLASS (op_prompt_suggestions_parent_class)->dispose (object);
}

static void
op_prompt_suggestions_finalize (GObject *object)
{
  OpPromptSuggestions *self = OP_PROMPT_SUGGESTIONS (object);

  g_free (self->prompt);
  g_string_free (self->caption, TRUE);
  g_strfreev (self->caption_phrases);
  g_ptr_array_unref (self->offline);

  G_OBJECT_CLASS (op_prompt_suggestions_parent_class)->finalize (object);
}

static void
op_prompt_suggestions_class_init (OpPromptSuggestionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = op_prompt_suggestions_dispose;
  object_class->finalize = op_prompt_suggestions_finalize;

  signals[INSERT_PHRASE] = g_signal_new ("insert-phrase", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);
  signals[DESCRIBE_REQUESTED] = g_signal_new ("describe-requested", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[USE_ALL] = g_signal_new ("use-all", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
op_prompt_suggestions_init (OpPromptSuggestions *self)
{
  const char *region_labels[] = { _("Around the mask"), _("Whole picture"), _("Extended edges"), NULL };
  const char *describer_labels[] = { _("Backend · CLIP"), _("Backend · DeepDanbooru"), _("Ollama · llava"), NULL };
  GtkWidget *row, *title;

  self->caption = g_string_new (NULL);
  self->offline = g_ptr_array_new_with_free_func (g_free);

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self), "op-prompt-suggestions");

  title = gtk_label_new (_("Prompt Suggestions"));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (self), title);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->region_dropdown = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (region_labels));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->region_dropdown),
                               _("What is described and analysed: the context a fill should "
                                 "continue, the whole picture, or the edges to extend"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->region_dropdown), TRUE);
  g_signal_connect (self->region_dropdown, "notify::selected", G_CALLBACK (on_region_changed_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->region_dropdown));
  self->describer_dropdown = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (describer_labels));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->describer_dropdown),
                               _("Who describes: the backend chosen above (the AUTOMATIC1111 / "
                                 "Forge web UI with CLIP for sentences or DeepDanbooru for tags; "
                                 "OpenAI with a vision chat model), or a local Ollama vision model"));
  g_signal_connect (self->describer_dropdown, "notify::selected", G_CALLBACK (on_describer_changed_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->describer_dropdown));
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->spinner));
  self->describe_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Describe")));
  g_signal_connect (self->describe_button, "clicked", G_CALLBACK (on_describe_clicked_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->describe_button));
  self->cancel_button = GTK_BUTTON (gtk_button_new_from_icon_name ("process-stop-symbolic"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->cancel_button), _("Stop describing"));
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->cancel_button));
  gtk_box_append (GTK_BOX (self), row);

  self->status_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->status_label, TRUE);
  gtk_label_set_xalign (self->status_label, 0);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->status_label));

  self->caption_box = GTK_FLOW_BOX (flow_box_new ());
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->caption_box));
  self->use_all_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Use All")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->use_all_button),
                               _("Replace the prompt with the whole description"));
  gtk_widget_set_halign (GTK_WIDGET (self->use_all_button), GTK_ALIGN_START);
  g_signal_connect (self->use_all_button, "clicked", G_CALLBACK (on_use_all_clicked_cb), self);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->use_all_button));

  self->hints_box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 4));
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->hints_box));

  self->history_section = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 4));
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  title = heading_new (_("Your prompts"));
  gtk_widget_set_hexpand (title, TRUE);
  gtk_box_append (GTK_BOX (row), title);
  self->clear_history_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("C_lear History")));
  gtk_widget_add_css_class (GTK_WIDGET (self->clear_history_button), "flat");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->clear_history_button),
                               _("Forget every prompt you generated with"));
  g_signal_connect (self->clear_history_button, "clicked", G_CALLBACK (on_clear_history_clicked_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->clear_history_button));
  gtk_box_append (self->history_section, row);
  self->history_search = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  g_object_set (self->history_search, "placeholder-text", _("Search your prompts"), NULL);
  g_signal_connect (self->history_search, "search-changed", G_CALLBACK (on_history_search_changed_cb), self);
  gtk_box_append (self->history_section, GTK_WIDGET (self->history_search));
  self->history_box = GTK_FLOW_BOX (flow_box_new ());
  gtk_box_append (self->history_section, GTK_WIDGET (self->history_box));
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->history_section));

  self->offline_box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_VERTICAL, 4));
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->offline_box));

  set_status (self, NULL, FALSE);
  show_caption (self);
  update_hints (self);
  update_offline (self);
  update_describe_button (self);
  update_history (self);
}

GtkWidget *
op_prompt_suggestions_new (void)
{
  return g_object_new (OP_TYPE_PROMPT_SUGGESTIONS, NULL);
}

void
op_prompt_suggestions_set_picture (OpPromptSuggestions *self,
                                   OpImage             *picture,
                                   OpMask              *mask,
                                   const OpMargins     *margins)
{
  g_return_if_fail (OP_IS_PROMPT_SUGGESTIONS (self));

  g_clear_pointer (&self->picture, op_image_unref);
  g_clear_pointer (&self->mask, op_mask_unref);
  self->picture = picture != NULL ? op_image_ref (picture) : NULL;
  self->mask = mask != NULL && !op_mask_is_empty (mask) ? op_mask_copy (mask) : NULL;
  self->margins = margins != NULL ? *margins : (OpMargins) { 0, };

  update_offline (self);
  update_describe_button (self);
}

void
op_prompt_suggestions_set_backend (OpPromptSuggestions *self,
                                   OpBackend           *backend)
{
  g_return_if_fail (OP_IS_PROMPT_SUGGESTIONS (self));

  if (!g_set_object (&self->backend, backend))
    return;
  update_describe_button (self);
}

void
op_prompt_suggestions_set_prompt (OpPromptSuggestions *self,
                                  const char          *prompt)
{
  g_return_if_fail (OP_IS_PROMPT_SUGGESTIONS (self));

  g_free (self->prompt);
  self->prompt = g_strdup (prompt);
  update_hints (self);
}

gboolean
op_prompt_suggestions_is_describing (OpPromptSuggestions *self)
{
  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), FALSE);

  return self->cancellable != NULL;
}

GStrv
op_prompt_suggestions_dup_caption_phrases (OpPromptSuggestions *self)
{
  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), NULL);

  return g_strdupv (self->caption_phrases);
}

GStrv
op_prompt_suggestions_dup_offline (OpPromptSuggestions *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), NULL);

  for (guint i = 0; i < self->offline->len; i++)
    g_strv_builder_add (builder, self->offline->pdata[i]);
  return g_strv_builder_end (builder);
}

const char *
op_prompt_suggestions_get_status (OpPromptSuggestions *self)
{
  g_return_val_if_fail (OP_IS_PROMPT_SUGGESTIONS (self), NULL);

  return gtk_label_get_text (self->status_label);
}
