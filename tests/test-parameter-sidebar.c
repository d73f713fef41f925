/* test-parameter-sidebar.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include <adwaita.h>

#include "op-parameter-sidebar.h"

#define BACKEND_PATH OP_BACKEND_SETTINGS_PATH "local/"

typedef struct
{
  GSettings *settings;
  GSettings *local;          /* the local backend's settings, to check what is stored */
  GtkWindow *window;
  OpParameterSidebar *sidebar;
} Fixture;

static void
reset_all (GSettings *settings)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
}

static OpParameterSidebar *
add_sidebar (Fixture *f)
{
  GtkWidget *sidebar = op_parameter_sidebar_new (f->settings);

  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 340, 900);
  gtk_window_set_child (f->window, sidebar);
  gtk_window_present (f->window);

  return OP_PARAMETER_SIDEBAR (sidebar);
}

/* Destroys the window and checks both it and the sidebar are finalized. */
static void
destroy_sidebar (Fixture *f)
{
  GtkWindow *window = g_steal_pointer (&f->window);
  OpParameterSidebar *sidebar = g_steal_pointer (&f->sidebar);

  g_object_ref (window);
  g_object_ref (sidebar);
  gtk_window_destroy (window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* The window lets go of its child when it is finalized. */
  g_assert_finalize_object (window);
  g_assert_finalize_object (sidebar);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->settings = g_settings_new (APP_ID);
  f->local = g_settings_new_with_path (OP_BACKEND_SETTINGS_SCHEMA, BACKEND_PATH);
  reset_all (f->settings);
  reset_all (f->local);
  f->sidebar = add_sidebar (f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->window != NULL)
    destroy_sidebar (f);
  g_assert_finalize_object (f->local);
  g_assert_finalize_object (f->settings);
}

static gpointer
child (Fixture    *f,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (f->sidebar),
                                                   OP_TYPE_PARAMETER_SIDEBAR, name);

  g_assert_nonnull (object);
  return object;
}

static GtkAdjustment *
adjustment (Fixture    *f,
            const char *name)
{
  return GTK_ADJUSTMENT (child (f, name));
}

static GtkSpinButton *
find_spin (GtkWidget     *widget,
           GtkAdjustment *adj)
{
  if (GTK_IS_SPIN_BUTTON (widget) &&
      gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (widget)) == adj)
    return GTK_SPIN_BUTTON (widget);

  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkSpinButton *spin = find_spin (c, adj);

      if (spin != NULL)
        return spin;
    }

  return NULL;
}

/* Compares a string setting, freeing it. */
static void
assert_setting (GSettings  *settings,
                const char *key,
                const char *expected)
{
  g_autofree char *value = g_settings_get_string (settings, key);

  g_assert_cmpstr (value, ==, expected);
}

static OpParams *
params (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  OpParams *p = op_parameter_sidebar_dup_params (f->sidebar);

  g_assert_nonnull (p);
  op_params_validate (p, &error);
  g_assert_no_error (error);

  return p;
}

static void
test_defaults (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(OpParams) p = params (f);

  g_assert_cmpstr (p->backend, ==, "local");
  g_assert_true (OP_IS_BACKEND (op_parameter_sidebar_get_backend (f->sidebar)));
  g_assert_cmpstr (op_backend_get_id (op_parameter_sidebar_get_backend (f->sidebar)), ==,
                   "local");
  g_assert_cmpstr (p->prompt, ==, "");
  g_assert_cmpstr (p->negative_prompt, ==, "");
  g_assert_null (p->model);
  g_assert_null (p->sampler);
  g_assert_cmpint (p->seed, ==, -1);
  g_assert_cmpint (p->n_variants, ==, 4);
  g_assert_cmpint (p->steps, ==, 30);
  g_assert_cmpfloat_with_epsilon (p->cfg, 7.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (p->strength, 0.75, 1e-9);
  g_assert_cmpint (p->mask_grow, ==, 4);
  g_assert_cmpint (p->mask_feather, ==, 8);
  g_assert_cmpint (p->context, ==, OP_CONTEXT_MASKED);
  g_assert_cmpint (p->padding, ==, 64);
  g_assert_true (p->color_match);
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "");
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_edit (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(OpParams) p = NULL;
  guint changes = 0;
  guint prompt_notifies = 0;

  g_signal_connect (f->sidebar, "params-changed", G_CALLBACK (count_cb), &changes);
  g_signal_connect (f->sidebar, "notify::prompt", G_CALLBACK (count_notify_cb),
                    &prompt_notifies);

  gtk_text_buffer_set_text (child (f, "prompt_buffer"), "a red brick wall", -1);
  gtk_text_buffer_set_text (child (f, "negative_buffer"), "blurry", -1);
  gtk_adjustment_set_value (adjustment (f, "variants_adjustment"), 2);
  gtk_adjustment_set_value (adjustment (f, "steps_adjustment"), 50);
  gtk_adjustment_set_value (adjustment (f, "cfg_adjustment"), 4.5);
  gtk_adjustment_set_value (adjustment (f, "strength_adjustment"), 0.4);
  gtk_editable_set_text (child (f, "sampler_row"), " Euler a ");
  gtk_adjustment_set_value (adjustment (f, "grow_adjustment"), -12);
  gtk_adjustment_set_value (adjustment (f, "feather_adjustment"), 20);
  adw_combo_row_set_selected (child (f, "context_row"), OP_CONTEXT_WHOLE);
  gtk_adjustment_set_value (adjustment (f, "padding_adjustment"), 128);
  gtk_switch_set_active (child (f, "color_match_switch"), FALSE);

  p = params (f);
  g_assert_cmpstr (p->prompt, ==, "a red brick wall");
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "a red brick wall");
  g_assert_cmpstr (p->negative_prompt, ==, "blurry");
  g_assert_cmpint (p->n_variants, ==, 2);
  g_assert_cmpint (p->steps, ==, 50);
  g_assert_cmpfloat_with_epsilon (p->cfg, 4.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (p->strength, 0.4, 1e-9);
  g_assert_cmpstr (p->sampler, ==, "Euler a");
  g_assert_cmpint (p->mask_grow, ==, -12);
  g_assert_cmpint (p->mask_feather, ==, 20);
  g_assert_cmpint (p->context, ==, OP_CONTEXT_WHOLE);
  g_assert_cmpint (p->padding, ==, 128);
  g_assert_false (p->color_match);

  g_assert_cmpuint (changes, >=, 12);
  g_assert_cmpuint (prompt_notifies, ==, 1);

  /* The padding only matters around the mask. */
  g_assert_false (gtk_widget_get_sensitive (child (f, "padding_row")));
  g_assert_nonnull (gtk_widget_get_tooltip_text (child (f, "padding_row")));
  adw_combo_row_set_selected (child (f, "context_row"), OP_CONTEXT_MASKED);
  g_assert_true (gtk_widget_get_sensitive (child (f, "padding_row")));

  /* Everything but the prompt went to the backend's settings. */
  g_assert_cmpint (g_settings_get_int (f->local, "variants"), ==, 2);
  g_assert_cmpint (g_settings_get_int (f->local, "mask-grow"), ==, -12);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (f->local, "cfg"), 4.5, 1e-9);
  g_assert_false (g_settings_get_boolean (f->local, "color-match"));
  assert_setting (f->local, "negative-prompt", "blurry");
  assert_setting (f->local, "sampler", " Euler a ");
  assert_setting (f->local, "context", "masked");
}

static void
test_prompt_property (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *prompt = NULL;
  guint notifies = 0;

  g_signal_connect (f->sidebar, "notify::prompt", G_CALLBACK (count_notify_cb), &notifies);

  op_parameter_sidebar_set_prompt (f->sidebar, "a cat");
  op_parameter_sidebar_set_prompt (f->sidebar, "a cat");
  g_assert_cmpuint (notifies, ==, 1);
  g_object_get (f->sidebar, "prompt", &prompt, NULL);
  g_assert_cmpstr (prompt, ==, "a cat");
  g_assert_false (gtk_widget_get_visible (child (f, "prompt_hint")));

  g_object_set (f->sidebar, "prompt", NULL, NULL);
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "");
  g_assert_true (gtk_widget_get_visible (child (f, "prompt_hint")));
  g_assert_cmpuint (notifies, ==, 2);
}

/* What the local fill uses (seed and variants) and what it does not. */
static const struct
{
  const char *widget;
  gboolean    used;
} local_params[] = {
  { "prompt_group",   FALSE },
  { "negative_group", FALSE },
  { "steps_row",      FALSE },
  { "cfg_row",        FALSE },
  { "strength_row",   FALSE },
  { "sampler_row",    FALSE },
  { "model_row",      FALSE },
  { "seed_row",       TRUE },
  { "variants_row",   TRUE },
};

static void
test_unused_parameters (Fixture       *f,
                        gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (local_params); i++)
    {
      GtkWidget *widget = child (f, local_params[i].widget);
      const char *tooltip = gtk_widget_get_tooltip_text (widget);

      g_test_message ("%s", local_params[i].widget);
      g_assert_cmpint (gtk_widget_get_sensitive (widget), ==, local_params[i].used);
      if (!local_params[i].used)
        {
          g_assert_nonnull (tooltip);
          g_assert_cmpstr (tooltip, !=, "");
        }
    }
}

static void
test_remembered_per_backend (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(OpParams) p = NULL;
  guint changes = 0;

  gtk_adjustment_set_value (adjustment (f, "variants_adjustment"), 2);
  gtk_toggle_button_set_active (child (f, "seed_lock_button"), TRUE);
  gtk_adjustment_set_value (adjustment (f, "seed_adjustment"), 1234);
  op_parameter_sidebar_set_prompt (f->sidebar, "per document");
  destroy_sidebar (f);

  f->sidebar = add_sidebar (f);
  p = params (f);
  g_assert_cmpint (p->n_variants, ==, 2);
  g_assert_cmpint (p->seed, ==, 1234);
  /* The prompt belongs to the document, not to the backend. */
  g_assert_cmpstr (p->prompt, ==, "");
  assert_setting (f->settings, "backend", "local");
  g_clear_pointer (&p, op_params_free);

  /* A change made elsewhere (another window, dconf-editor) shows up here. */
  g_signal_connect (f->sidebar, "params-changed", G_CALLBACK (count_cb), &changes);
  g_settings_set_int (f->local, "variants", 7);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  p = params (f);
  g_assert_cmpint (p->n_variants, ==, 7);
  g_assert_cmpuint (changes, ==, 1);
}

static void
test_unknown_backend (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(OpParams) p = NULL;

  destroy_sidebar (f);

  /* Settings written by a build with more backends. */
  g_settings_set_string (f->settings, "backend", "no-such-backend");
  f->sidebar = add_sidebar (f);
  p = params (f);
  g_assert_cmpstr (p->backend, ==, "local");
}

static void
test_seed_lock (Fixture       *f,
                gconstpointer  data)
{
  GtkToggleButton *lock = child (f, "seed_lock_button");
  OpParams *p;

  gtk_adjustment_set_value (adjustment (f, "seed_adjustment"), 987654321);
  p = params (f);
  g_assert_cmpint (p->seed, ==, -1);
  op_params_free (p);

  gtk_toggle_button_set_active (lock, TRUE);
  p = params (f);
  g_assert_cmpint (p->seed, ==, 987654321);
  op_params_free (p);
  g_assert_true (g_settings_get_boolean (f->local, "seed-locked"));
  g_assert_cmpint (g_settings_get_int64 (f->local, "seed"), ==, 987654321);

  gtk_toggle_button_set_active (lock, FALSE);
  p = params (f);
  g_assert_cmpint (p->seed, ==, -1);
  op_params_free (p);
}

/* Typed or set values outside a parameter's range are clamped to it. */
static const struct
{
  const char *adjustment;
  const char *text;
  double      expected;
} clamp_cases[] = {
  { "variants_adjustment", "99",         8 },
  { "variants_adjustment", "0",          1 },
  { "variants_adjustment", "-3",         1 },
  { "seed_adjustment",     "-1",         0 },
  { "seed_adjustment",     "9999999999", 2147483647 },
  { "steps_adjustment",    "1000",       150 },
  { "steps_adjustment",    "0",          1 },
  { "cfg_adjustment",      "0.2",        1 },
  { "cfg_adjustment",      "31",         30 },
  { "strength_adjustment", "1.5",        1 },
  { "strength_adjustment", "-0.5",       0 },
  { "grow_adjustment",     "999",        256 },
  { "grow_adjustment",     "-999",       -256 },
  { "feather_adjustment",  "-4",         0 },
  { "padding_adjustment",  "100000",     4096 },
  { "padding_adjustment",  "-1",         0 },
};

static void
test_clamp (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(OpParams) p = NULL;

  gtk_toggle_button_set_active (child (f, "seed_lock_button"), TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (clamp_cases); i++)
    {
      GtkAdjustment *adj = adjustment (f, clamp_cases[i].adjustment);
      GtkSpinButton *spin = find_spin (GTK_WIDGET (f->sidebar), adj);

      g_test_message ("%s <- %s", clamp_cases[i].adjustment, clamp_cases[i].text);
      g_assert_nonnull (spin);
      gtk_editable_set_text (GTK_EDITABLE (spin), clamp_cases[i].text);
      gtk_spin_button_update (spin);
      g_assert_cmpfloat_with_epsilon (gtk_adjustment_get_value (adj),
                                      clamp_cases[i].expected, 1e-9);

    }

  /* A numeric spin drops letters; what is left (nothing) reads as 0, then clamps. */
  {
    GtkAdjustment *adj = adjustment (f, "steps_adjustment");
    GtkSpinButton *spin = find_spin (GTK_WIDGET (f->sidebar), adj);

    gtk_adjustment_set_value (adj, 32);
    gtk_editable_set_text (GTK_EDITABLE (spin), "lots");
    gtk_spin_button_update (spin);
    g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 1);
  }

  /* Set directly too, as a program would. */
  gtk_adjustment_set_value (adjustment (f, "variants_adjustment"), 1e9);
  gtk_adjustment_set_value (adjustment (f, "steps_adjustment"), 1e9);

  p = params (f);
  g_assert_cmpint (p->n_variants, ==, OP_VARIANTS_MAX);
  g_assert_cmpint (p->steps, ==, 150);
  g_assert_cmpint (p->padding, ==, 0);
  g_assert_cmpint (p->seed, ==, 2147483647);
  g_assert_cmpint (g_settings_get_int (f->local, "variants"), ==, OP_VARIANTS_MAX);
}

static void
test_progress (Fixture       *f,
               gconstpointer  data)
{
  GtkRevealer *revealer = child (f, "progress_revealer");
  GtkProgressBar *bar = child (f, "progress_bar");
  GtkLabel *label = child (f, "status_label");

  g_assert_false (gtk_revealer_get_reveal_child (revealer));

  op_parameter_sidebar_set_progress (f->sidebar, TRUE, 0.25, "Filling");
  g_assert_true (gtk_revealer_get_reveal_child (revealer));
  g_assert_cmpfloat_with_epsilon (gtk_progress_bar_get_fraction (bar), 0.25, 1e-9);
  g_assert_cmpstr (gtk_label_get_text (label), ==, "Filling");

  op_parameter_sidebar_set_progress (f->sidebar, TRUE, 7.0, NULL);
  g_assert_cmpfloat_with_epsilon (gtk_progress_bar_get_fraction (bar), 1.0, 1e-9);
  g_assert_cmpstr (gtk_label_get_text (label), ==, "");

  /* Unknown progress pulses until told otherwise, and stops with the sidebar. */
  op_parameter_sidebar_set_progress (f->sidebar, TRUE, -1, "Waiting for the server");
  g_assert_true (gtk_revealer_get_reveal_child (revealer));

  op_parameter_sidebar_set_progress (f->sidebar, FALSE, 0, NULL);
  g_assert_false (gtk_revealer_get_reveal_child (revealer));

  op_parameter_sidebar_set_progress (f->sidebar, TRUE, -1, NULL);
}

static gboolean
has_tag_at (GtkTextBuffer *buffer,
            int            offset,
            const char    *name)
{
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), name);
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_offset (buffer, &iter, offset);
  return gtk_text_iter_has_tag (&iter, tag);
}

/* No service runs here: a backend's model list fails, and says so in a warning. */
static gboolean
no_service_is_not_fatal_cb (const char     *log_domain,
                            GLogLevelFlags  log_level,
                            const char     *message,
                            gpointer        user_data)
{
  return strstr (message, "Could not list the models") == NULL;
}

/* The prompt's length against the backend's limit, and its weights coloured where the
 * backend reads them. */
static void
test_prompt_length (Fixture       *f,
                    gconstpointer  data)
{
  GtkTextBuffer *buffer = GTK_TEXT_BUFFER (gtk_widget_get_template_child (GTK_WIDGET (f->sidebar),
                                                                          OP_TYPE_PARAMETER_SIDEBAR,
                                                                          "prompt_buffer"));
  g_autofree char *long_prompt = g_strnfill (1200, 'a');

  g_test_log_set_fatal_handler (no_service_is_not_fatal_cb, NULL);

  /* the local fill reads no prompt */
  g_assert_null (op_parameter_sidebar_get_prompt_length (f->sidebar));

  g_settings_set_string (f->settings, "backend", "automatic1111");
  op_parameter_sidebar_set_prompt (f->sidebar, "a (red scarf:1.3), [blurry], (open");
  g_assert_cmpstr (op_parameter_sidebar_get_prompt_length (f->sidebar), ==, "7 / 75 tokens (approximate)");
  g_assert_true (has_tag_at (buffer, 4, "op-weight-stronger"));
  g_assert_true (has_tag_at (buffer, 21, "op-weight-weaker"));
  g_assert_true (has_tag_at (buffer, 29, "op-weight-error"));
  g_assert_false (has_tag_at (buffer, 0, "op-weight-stronger"));

  /* OpenAI counts characters, by model, and reads no weights */
  g_settings_set_string (f->settings, "backend", "openai");
  op_parameter_sidebar_set_prompt (f->sidebar, long_prompt);
  g_assert_cmpstr (op_parameter_sidebar_get_prompt_length (f->sidebar), ==, "1200 / 32000 characters");
  op_parameter_sidebar_set_prompt (f->sidebar, "(cat:1.2)");
  g_assert_false (has_tag_at (buffer, 1, "op-weight-stronger"));

  g_settings_set_string (f->settings, "backend", "stability");
  op_parameter_sidebar_set_prompt (f->sidebar, long_prompt);
  g_assert_cmpstr (op_parameter_sidebar_get_prompt_length (f->sidebar), ==, "1200 / 10000 characters");

  /* back to the local fill, so no list is left to fail after the test */
  g_settings_set_string (f->settings, "backend", "local");
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
press_alt (Fixture *f,
           guint    keyval)
{
  GtkWidget *view = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (f->sidebar),
                                                               OP_TYPE_PARAMETER_SIDEBAR,
                                                               "prompt_view"));
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (view);
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      /* the sidebar's own, not the text view's */
      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          g_signal_handler_find (controller, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, f->sidebar) != 0)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, GDK_ALT_MASK, &handled);
    }

  return handled;
}

/* Alt+Up and Alt+Down walk through the prompts generated with, newest first, and come
 * back to what was typed. */
static void
test_prompt_history_keys (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *dir = g_dir_make_tmp ("overpaint-sidebar-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "history.json", NULL);
  g_autoptr(OpPromptHistory) history = op_prompt_history_new (path);

  op_prompt_history_add (history, "an old barn", 1);
  op_prompt_history_add (history, "a red fox", 2);
  op_parameter_sidebar_set_history (f->sidebar, history);

  op_parameter_sidebar_set_prompt (f->sidebar, "my draft");
  g_assert_true (press_alt (f, GDK_KEY_Up));
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "a red fox");
  g_assert_true (press_alt (f, GDK_KEY_Up));
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "an old barn");
  /* the oldest: nothing further */
  g_assert_true (press_alt (f, GDK_KEY_Up));
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "an old barn");
  g_assert_true (press_alt (f, GDK_KEY_Down));
  g_assert_true (press_alt (f, GDK_KEY_Down));
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "my draft");

  /* a key without Alt is the text view's */
  g_assert_false (press_alt (f, GDK_KEY_a));
  g_remove (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add ("/parameter-sidebar/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)

  ADD ("defaults", test_defaults);
  ADD ("edit", test_edit);
  ADD ("prompt-property", test_prompt_property);
  ADD ("unused-parameters", test_unused_parameters);
  ADD ("remembered-per-backend", test_remembered_per_backend);
  ADD ("unknown-backend", test_unknown_backend);
  ADD ("seed-lock", test_seed_lock);
  ADD ("clamp", test_clamp);
  ADD ("progress", test_progress);
  ADD ("prompt-length", test_prompt_length);
  ADD ("prompt-history-keys", test_prompt_history_keys);

#undef ADD

  return g_test_run ();
}
