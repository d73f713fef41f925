/* test-window-project.c — projects from the window: save and open, the unsaved title
 * and question, and recovery after kill -9 (a child process of this very test).
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "op-window.h"

#define TIMEOUT_S 60

static const char *self_path;

typedef gboolean (*Ready) (gpointer data);

static void
wait_until (Ready    ready,
            gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!ready (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
has_image (gpointer data)
{
  return op_document_get_image (op_window_get_document (data)) != NULL;
}

static OpWindow *
new_window (GSettings *settings)
{
  OpWindow *window = op_window_new (NULL, settings);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static OpWindow *
open_sample (GSettings  *settings,
             const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  OpWindow *window = new_window (settings);

  op_window_open_file (window, file);
  wait_until (has_image, window);
  return window;
}

static void
destroy_window (OpWindow *window)
{
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
paint (OpWindow *window,
       double    x,
       double    y)
{
  OpDocument *doc = op_window_get_document (window);
  OpBrush brush = { 40, 1, 1, 0.1, OP_MASK_MODE_ADD };

  op_document_stroke_begin (doc, &brush, x, y, 1);
  op_document_stroke_to (doc, x + 60, y + 30, 1);
  op_document_stroke_end (doc);
}

static guint
count_versions (OpVersion *v)
{
  guint n = 1;

  for (guint i = 0; i < op_version_get_n_children (v); i++)
    n += count_versions (op_version_get_child (v, i));
  return n;
}

static guint
n_versions (OpWindow *window)
{
  OpVersion *root = op_document_get_root (op_window_get_document (window));

  return root != NULL ? count_versions (root) : 0;
}

typedef struct
{
  OpWindow *window;
  guint target;
} VersionWait;

static gboolean
has_versions (gpointer data)
{
  VersionWait *w = data;

  return n_versions (w->window) >= w->target;
}

/* Generate with the built-in fill and wait until the variants are shown. */
static void
generate (OpWindow *window)
{
  VersionWait w = { window, n_versions (window) + 1 };

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.generate", NULL));
  wait_until (has_versions, &w);
}

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
result_ready (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static const char *
window_title (OpWindow *window)
{
  return gtk_window_get_title (GTK_WINDOW (window));
}

static AdwWindowTitle *
find_window_title (GtkWidget *widget)
{
  if (ADW_IS_WINDOW_TITLE (widget))
    return ADW_WINDOW_TITLE (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      AdwWindowTitle *found = find_window_title (child);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static const char *
window_subtitle (OpWindow *window)
{
  AdwWindowTitle *title = find_window_title (GTK_WIDGET (window));

  g_assert_nonnull (title);
  return adw_window_title_get_subtitle (title);
}

static void
test_save_and_open (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *dir = g_dir_make_tmp ("op-window-project-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "coffee.ora", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  OpWindow *window = open_sample (settings, "coffee.png");
  OpDocument *doc = op_window_get_document (window);
  g_autoptr(OpImage) shown = NULL;
  OpWindow *again;
  guint n;

  g_assert_cmpstr (window_title (window), ==, "coffee.png");
  paint (window, 200, 150);
  g_assert_true (op_document_is_modified (doc));
  g_assert_cmpstr (window_title (window), ==, "• coffee.png");

  generate (window);
  n = n_versions (window);
  g_assert_cmpuint (n, >=, 2);
  shown = op_image_ref (op_document_get_image (doc));

  g_assert_cmpstr (window_subtitle (window), ==, "600 × 400");
  op_window_save_async (window, file, NULL, on_ready_cb, &result);
  /* the subtitle says a save is under way, and how far it has come */
  g_assert_true (g_str_has_prefix (window_subtitle (window), "600 × 400 · Saving… "));
  wait_until (result_ready, &result);
  g_assert_true (op_window_save_finish (window, result, &error));
  g_assert_no_error (error);
  g_assert_false (op_document_is_modified (doc));
  g_assert_cmpstr (window_title (window), ==, "coffee.ora");
  g_assert_cmpstr (window_subtitle (window), ==, "600 × 400");
  g_assert_true (g_file_equal (op_document_get_project_file (doc), file));

  /* a fresh window opens it: every version, the same picture */
  again = new_window (settings);
  op_window_open_file (again, file);
  wait_until (has_image, again);
  g_assert_cmpuint (n_versions (again), ==, n);
  g_assert_true (op_image_equal (op_document_get_image (op_window_get_document (again)), shown));
  g_assert_false (op_document_is_modified (op_window_get_document (again)));
  g_assert_cmpstr (window_title (again), ==, "coffee.ora");

  /* the save's result holds the window */
  g_clear_object (&result);
  destroy_window (again);
  destroy_window (window);
  g_unlink (path);
  g_rmdir (dir);
}

/* A project that cannot be read: a toast, and the document is what it was. */
static void
test_open_bad_project (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *dir = g_dir_make_tmp ("op-window-project-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "broken.ora", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  OpWindow *window = open_sample (settings, "coffee.png");
  OpDocument *doc = op_window_get_document (window);
  OpImage *before = op_document_get_image (doc);
  gint64 until;

  g_assert_true (g_file_set_contents (path, "PK\3\4 not really a zip", -1, NULL));
  paint (window, 100, 100);

  g_test_expect_message ("op-window", G_LOG_LEVEL_WARNING, "*not an OpenRaster project*");
  op_window_open_file (window, file);
  until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_test_assert_expected_messages ();

  g_assert_true (op_document_get_image (doc) == before);
  g_assert_true (op_document_is_modified (doc));
  g_assert_true (op_document_can_undo (doc));

  destroy_window (window);
  g_unlink (path);
  g_rmdir (dir);
}

static AdwMessageDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return ADW_MESSAGE_DIALOG (w);
    }

  return NULL;
}

/* As a click does: the response, then the dialog closes. */
static void
respond (AdwMessageDialog *dialog,
         const char       *response)
{
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static gboolean
dialog_shown (gpointer data)
{
  return find_dialog () != NULL;
}

static gboolean
no_dialog (gpointer data)
{
  return find_dialog () == NULL;
}

static void
test_close_asks (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  OpWindow *window = open_sample (settings, "chelsea.png");
  AdwMessageDialog *dialog;

  paint (window, 50, 50);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);

  /* Cancel keeps the window and the changes */
  gtk_window_close (GTK_WINDOW (window));
  wait_until (dialog_shown, NULL);
  dialog = find_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Save Changes?");
  respond (dialog, "cancel");
  wait_until (no_dialog, NULL);
  g_assert_nonnull (window);
  g_assert_true (op_document_is_modified (op_window_get_document (window)));

  /* Discard closes it */
  gtk_window_close (GTK_WINDOW (window));
  wait_until (dialog_shown, NULL);
  respond (find_dialog (), "discard");
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
is_png (gpointer data)
{
  g_autofree char *contents = NULL;

  return g_file_get_contents (data, &contents, NULL, NULL) && g_str_has_prefix (contents, "\x89PNG");
}

/* Export All Variants into a folder that has one of the names already. */
static void
test_export_never_overwrites_silently (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *dir = g_dir_make_tmp ("op-export-XXXXXX", NULL);
  g_autofree char *first = g_build_filename (dir, "coffee-variant-1.png", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autofree char *contents = NULL;
  OpWindow *window = open_sample (settings, "coffee.png");
  gint64 until;

  paint (window, 200, 150);
  generate (window);
  g_assert_true (g_file_set_contents (first, "the designer's earlier export", -1, NULL));

  /* asked; Cancel writes nothing */
  op_window_export_variants (window, folder);
  wait_until (dialog_shown, NULL);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (find_dialog ()), "coffee-variant-1.png"));
  respond (find_dialog (), "cancel");
  until = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (g_file_get_contents (first, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "the designer's earlier export");

  /* Replace writes them */
  op_window_export_variants (window, folder);
  wait_until (dialog_shown, NULL);
  respond (find_dialog (), "replace");
  wait_until (is_png, first);

  destroy_window (window);
  {
    g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (listing)) != NULL)
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);

        g_unlink (path);
      }
  }
  g_rmdir (dir);
}

/* kill -9 */

static char *
recovery_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "overpaint", "recovery", NULL);
}

static guint
count_recovery_files (void)
{
  g_autofree char *dir = recovery_dir ();
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (listing != NULL && g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

/* The child: opens a picture, generates, reports, then (during) starts another
 * generation, and waits to be killed. */
static G_GNUC_NORETURN void
run_child (const char *mode,
           const char *out_dir)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autofree char *expected = g_build_filename (out_dir, "expected.png", NULL);
  OpWindow *window;

  window = open_sample (settings, "coffee.png");
  paint (window, 250, 180);
  generate (window);

  /* what had arrived, as the user saw it */
  g_assert_true (op_image_save_png (op_document_get_image (op_window_get_document (window)),
                                    expected, NULL));
  g_print ("ARRIVED %u\n", n_versions (window));

  if (g_str_equal (mode, "during"))
    {
      paint (window, 60, 60);
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.generate", NULL));
      g_print ("STARTED\n");
    }

  for (;;)
    g_main_context_iteration (NULL, TRUE);
}

static void
kill_and_recover (const char *mode)
{
  g_autofree char *out_dir = g_dir_make_tmp ("op-kill-XXXXXX", NULL);
  g_autofree char *expected_path = g_build_filename (out_dir, "expected.png", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(OpImage) expected = NULL;
  OpWindow *window;
  guint arrived = 0;
  char *line;

  g_assert_cmpuint (count_recovery_files (), ==, 0);

  g_subprocess_launcher_setenv (launcher, "OVERPAINT_TEST_CHILD", mode, TRUE);
  g_subprocess_launcher_setenv (launcher, "OVERPAINT_TEST_CHILD_DIR", out_dir, TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, self_path, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));

  while ((line = g_data_input_stream_read_line (lines, NULL, NULL, &error)) != NULL)
    {
      gboolean done;

      g_test_message ("child: %s", line);
      if (g_str_has_prefix (line, "ARRIVED "))
        arrived = (guint) g_ascii_strtoull (line + 8, NULL, 10);
      done = (g_str_equal (mode, "after") && arrived > 0) || g_str_equal (line, "STARTED");
      g_free (line);
      if (done)
        break;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (arrived, >=, 2);

  /* during: the second generation is running; after: nothing is */
  kill (atoi (g_subprocess_get_identifier (child)), SIGKILL);
  g_subprocess_wait (child, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);
  g_assert_cmpuint (count_recovery_files (), ==, 2);

  /* the next start offers the copy; restoring brings back all that had arrived */
  window = new_window (settings);
  g_assert_cmpuint (op_window_offer_recovery (window), ==, 1);
  wait_until (dialog_shown, NULL);
  respond (find_dialog (), "restore");
  wait_until (has_image, window);
  g_assert_cmpuint (n_versions (window), ==, arrived);
  expected = op_image_new_from_file (expected_path, &error);
  g_assert_no_error (error);
  g_assert_true (op_image_equal (op_document_get_image (op_window_get_document (window)), expected));
  g_assert_true (op_document_is_modified (op_window_get_document (window)));
  g_assert_nonnull (strstr (window_title (window), "coffee.png"));

  /* a normal close (discarding) leaves no copy behind */
  destroy_window (window);
  g_assert_cmpuint (count_recovery_files (), ==, 0);

  g_unlink (expected_path);
  g_rmdir (out_dir);
}

/* The path of the one recovery description in the folder, or NULL. */
static char *
find_description (void)
{
  g_autofree char *dir = recovery_dir ();
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      return g_build_filename (dir, name, NULL);

  return NULL;
}

static gboolean
description_written (gpointer data)
{
  g_autofree char *path = find_description ();

  return path != NULL;
}

/* Writes a recovery description (and a stand-in copy) under @id, from @description with
 * @member set to @value (a JSON value; NULL removes the member). */
static void
write_description (JsonObject *description,
                   const char *id,
                   const char *member,
                   const char *value)
{
  g_autofree char *dir = recovery_dir ();
  g_autofree char *json_name = g_strconcat (id, ".json", NULL);
  g_autofree char *ora_name = g_strconcat (id, ".ora", NULL);
  g_autofree char *json_path = g_build_filename (dir, json_name, NULL);
  g_autofree char *ora_path = g_build_filename (dir, ora_name, NULL);
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), description);
  g_autofree char *original = json_to_string (node, FALSE);
  /* json_node_copy() would share the object: a copy through text is a copy */
  g_autoptr(JsonNode) copy = json_from_string (original, NULL);
  JsonObject *o = json_node_get_object (copy);
  g_autofree char *text = NULL;

  /* the title names the case, so the offer tells which one it is */
  json_object_set_string_member (o, "title", id);
  if (value == NULL)
    json_object_remove_member (o, member);
  else
    json_object_set_member (o, member, json_from_string (value, NULL));
  text = json_to_string (copy, FALSE);

  g_assert_true (g_file_set_contents (json_path, text, -1, NULL));
  g_assert_true (g_file_set_contents (ora_path, "not read before Restore", -1, NULL));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
remove_descriptions (const char * const *ids)
{
  g_autofree char *dir = recovery_dir ();

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *json = g_strdup_printf ("%s/%s.json", dir, ids[i]);
      g_autofree char *ora = g_strdup_printf ("%s/%s.ora", dir, ids[i]);

      g_unlink (json);
      g_unlink (ora);
    }
}

/* A copy is offered only when the program that wrote it is gone: a pid given to another
 * program since, or a machine restarted since, does not hide it. */
static void
test_recovery_owner (void)
{
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  static const char * const ids[] = {
    "alive", "reused-pid", "rebooted", "old-format", "dead", "bad-started", "bad-boot",
    "bad-pid", NULL
  };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GSubprocess) gone = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) offered = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *listed = NULL;
  g_autofree char *own = NULL;
  g_autofree char *dead_pid = NULL;
  g_autofree char *later_start = NULL;
  OpWindow *window, *other;
  JsonObject *description;

  /* this process's own copy, as a running window writes it */
  window = open_sample (settings, "coffee.png");
  paint (window, 100, 100);
  wait_until (description_written, NULL);
  own = find_description ();
  g_assert_true (json_parser_load_from_file (parser, own, &error));
  g_assert_no_error (error);
  description = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (description, "pid"), ==, getpid ());
  g_assert_cmpint (json_object_get_int_member (description, "started"), >, 0);
  g_assert_nonnull (json_object_get_string_member (description, "boot"));

  /* a process that has ended and been reaped */
  gone = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "true", NULL);
  g_assert_no_error (error);
  dead_pid = g_strdup (g_subprocess_get_identifier (gone));
  g_assert_true (g_subprocess_wait (gone, NULL, NULL));

  later_start = g_strdup_printf ("%" G_GINT64_FORMAT,
                                 json_object_get_int_member (description, "started") + 1);
  write_description (description, "alive", "versions", "1");
  write_description (description, "reused-pid", "started", later_start);
  write_description (description, "rebooted", "boot", "\"00000000-0000-0000-0000-000000000000\"");
  write_description (description, "old-format", "started", NULL);
  write_description (description, "dead", "pid", dead_pid);
  write_description (description, "bad-started", "started", "\"soon\"");
  write_description (description, "bad-boot", "boot", "{\"id\": 7}");
  write_description (description, "bad-pid", "pid", "[1]");

  other = new_window (settings);
  /* the window's own copy and "alive", "old-format", "bad-started" and "bad-boot" are
   * this process's; a pid that cannot be read could be anyone's: offered */
  g_assert_cmpuint (op_window_offer_recovery (other), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      const char *body;

      wait_until (dialog_shown, NULL);
      body = adw_message_dialog_get_body (find_dialog ());
      g_test_message ("offered: %s", body);
      g_ptr_array_add (offered, g_strdup (strstr (body, "“") + strlen ("“")));
      *strstr (g_ptr_array_index (offered, i), "”") = '\0';
      respond (find_dialog (), "later");
    }
  g_assert_null (find_dialog ());
  g_ptr_array_sort (offered, compare_strings);
  g_ptr_array_add (offered, NULL);
  listed = g_strjoinv (" ", (char **) offered->pdata);
  g_assert_cmpstr (listed, ==, "bad-pid dead rebooted reused-pid");

  remove_descriptions (ids);
  destroy_window (other);
  destroy_window (window);
  g_assert_cmpuint (count_recovery_files (), ==, 0);
}

static void
test_kill_after_generation (void)
{
  kill_and_recover ("after");
}

static void
test_kill_during_generation (void)
{
  kill_and_recover ("during");
}

int
main (int   argc,
      char *argv[])
{
  const char *child = g_getenv ("OVERPAINT_TEST_CHILD");

  self_path = argv[0];
  /* recovery copies of our own, apart from the other tests running beside us; the
   * child inherits it */
  if (child == NULL)
    {
      g_autofree char *state = g_dir_make_tmp ("op-state-XXXXXX", NULL);

      g_setenv ("XDG_STATE_HOME", state, TRUE);
    }
  if (child != NULL)
    {
      gtk_init ();
      adw_init ();
      run_child (child, g_getenv ("OVERPAINT_TEST_CHILD_DIR"));
    }

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/window-project/save-and-open", test_save_and_open);
  g_test_add_func ("/window-project/open-bad-project", test_open_bad_project);
  g_test_add_func ("/window-project/close-asks", test_close_asks);
  g_test_add_func ("/window-project/export-asks-before-replacing",
                   test_export_never_overwrites_silently);
  g_test_add_func ("/window-project/recovery-owner", test_recovery_owner);
  g_test_add_func ("/window-project/kill-after-generation", test_kill_after_generation);
  g_test_add_func ("/window-project/kill-during-generation", test_kill_during_generation);

  return g_test_run ();
}
