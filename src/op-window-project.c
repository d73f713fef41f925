/* op-window-project.c — projects in the window: Save, Save As, Open (pictures and
 * projects), recent projects, the unsaved-changes title and question, autosave to a
 * recovery copy and the offer to restore it after a crash.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-window"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "op-http.h"
#include "op-project.h"
#include "op-window-private.h"

/* A change reaches the recovery copy this long after the last one … */
#define AUTOSAVE_DELAY_MS   1500
/* … or this long after the first unsaved one, when changes keep coming. */
#define AUTOSAVE_MAX_DELAY_US (5 * G_USEC_PER_SEC)
#define RECENT_MAX          6

/* Recovery copies */

static char *
recovery_dir (void)
{
  return g_build_filename (g_get_user_state_dir (), "overpaint", "recovery", NULL);
}

static char *
recovery_path (const char *id,
               const char *suffix)
{
  g_autofree char *dir = recovery_dir ();
  g_autofree char *name = g_strconcat (id, suffix, NULL);

  return g_build_filename (dir, name, NULL);
}

static void
delete_recovery (const char *id)
{
  g_autofree char *ora = recovery_path (id, ".ora");
  g_autofree char *json = recovery_path (id, ".json");

  /* the description first: without it no copy is offered, even if the .ora stays */
  g_unlink (json);
  g_unlink (ora);
}

/* When process @pid started, in clock ticks after boot (field 22 of /proc/PID/stat), or
 * 0 when there is no such process or no /proc.  With the boot's id it tells a process
 * from a later one that was given the same pid. */
static guint64
process_start_time (gint64 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;

  /* the command's name, in parentheses, may hold spaces and parentheses itself */
  after = strrchr (stat, ')');
  if (after == NULL)
    return 0;
  fields = g_strsplit (after + 1, " ", 0);
  /* fields[0] is empty (the space after ')'), fields[1] is field 3 of the line */
  if (g_strv_length (fields) < 21)
    return 0;

  return g_ascii_strtoull (fields[20], NULL, 10);
}

static char *
boot_id (void)
{
  g_autofree char *id = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
    return NULL;

  return g_strdup (g_strstrip (id));
}

/* A description's members, of the type expected or nothing: the file may be from another
 * version, or damaged. */
static gint64
description_int (JsonObject *description,
                 const char *member)
{
  double value;

  return op_json_member_number (description, member, &value) && value >= 0 &&
         value <= (double) G_MAXINT64 / 2 ? (gint64) value : 0;
}

static gboolean
description_boolean (JsonObject *description,
                     const char *member)
{
  JsonNode *node = json_object_get_member (description, member);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

/* This process's start time and the boot's id: read once, they never change. */
static const char *
this_boot_id (void)
{
  static const char *id;

  if (g_once_init_enter (&id))
    {
      char *read = boot_id ();

      g_once_init_leave (&id, read != NULL ? read : "");
    }

  return id[0] != '\0' ? id : NULL;
}

static guint64
this_process_start_time (void)
{
  static gsize started;

  if (g_once_init_enter (&started))
    g_once_init_leave (&started, (gsize) process_start_time (getpid ()) + 1);

  return started - 1;
}

/* Whether the Overpaint that wrote a recovery description is still running. */
static gboolean
recovery_owner_alive (JsonObject *description)
{
  gint64 pid = description_int (description, "pid");
  gint64 started = description_int (description, "started");
  const char *boot = op_json_member_string (description, "boot");
  const char *this_boot = this_boot_id ();
  guint64 now_started;

  if (pid <= 0 || pid > G_MAXINT)
    return FALSE;

  /* written before the machine last started: it cannot be running */
  if (boot != NULL && this_boot != NULL && !g_str_equal (boot, this_boot))
    return FALSE;

  if (started > 0 && (now_started = process_start_time (pid)) != 0)
    /* the same pid, started at another time, is another program */
    return now_started == (guint64) started;

  if (pid == getpid ())
    return TRUE;

  /* no /proc, or a description from before the start time was kept */
  return kill ((pid_t) pid, 0) == 0 || errno == EPERM;
}

/* What the next start shows before restoring: which file, when, how many versions. */
static char *
recovery_description (OpWindow *self,
                      guint     n_versions)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  GFile *file = op_document_get_file (self->document);
  g_autofree char *title = op_document_dup_title (self->document);
  const char *boot = this_boot_id ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "started");
  json_builder_add_int_value (b, (gint64) this_process_start_time ());
  json_builder_set_member_name (b, "boot");
  if (boot != NULL)
    json_builder_add_string_value (b, boot);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, title);
  json_builder_set_member_name (b, "versions");
  json_builder_add_int_value (b, n_versions);
  json_builder_set_member_name (b, "file");
  if (file != NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      json_builder_add_string_value (b, uri);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "is-project");
  json_builder_add_boolean_value (b, op_document_get_project_file (self->document) != NULL);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

typedef struct
{
  OpProjectSnapshot *snapshot;
  OpProjectCache *cache;
  char *id;
  char *description;
  gpointer pending;            /* (PendingVariants *) taken by the callback */
} RecoveryWrite;

static void
recovery_write_free (RecoveryWrite *w)
{
  op_project_snapshot_free (w->snapshot);
  g_free (w->id);
  g_free (w->description);
  g_free (w);
}

static void
recovery_write_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  RecoveryWrite *w = task_data;
  g_autofree char *dir = recovery_dir ();
  g_autofree char *ora = recovery_path (w->id, ".ora");
  g_autofree char *json = recovery_path (w->id, ".json");
  GError *error = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Could not make the recovery folder %s: %s"), dir,
                               g_strerror (saved_errno));
      return;
    }

  /* the project first, then its description: a description always has its copy */
  if (!op_project_snapshot_write (w->snapshot, ora, w->cache, &error) ||
      !g_file_set_contents_full (json, w->description, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* Variants waiting for the recovery copy before they are shown. */
typedef struct
{
  OpVersion *parent;
  GPtrArray *versions;
} PendingVariants;

static void
pending_variants_free (PendingVariants *p)
{
  g_clear_object (&p->parent);
  g_clear_pointer (&p->versions, g_ptr_array_unref);
  g_free (p);
}

static void start_recovery_write (OpWindow        *self,
                                  PendingVariants *pending);

static gboolean
version_in_tree (OpVersion *root,
                 OpVersion *version)
{
  for (OpVersion *v = version; v != NULL; v = op_version_get_parent (v))
    if (v == root)
      return TRUE;

  return FALSE;
}

static void
show_pending (OpWindow        *self,
              PendingVariants *pending)
{
  g_autofree char *message = NULL;

  if (!version_in_tree (op_document_get_root (self->document), pending->parent))
    {
      op_window_show_error (self, _("The picture these variants were made from was discarded; "
                                    "they were dropped."));
      return;
    }

  op_document_add_variants (self->document, pending->parent, pending->versions);
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u variant ready",
                                          "%u variants ready", pending->versions->len),
                             pending->versions->len);
  _op_window_show_message (self, message);
}

static void
recovery_write_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  RecoveryWrite *w = g_task_get_task_data (G_TASK (result));
  PendingVariants *pending = g_steal_pointer (&w->pending);
  g_autoptr(GError) error = NULL;

  self->recovery_running = FALSE;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* once per session: a full disk should not bury the canvas in toasts */
      if (!self->recovery_warned && !self->disposed)
        {
          g_autofree char *message =
            g_strdup_printf (_("Could not write the recovery copy: %s"), error->message);

          op_window_show_error (self, message);
          self->recovery_warned = TRUE;
        }
    }

  if (self->disposed)
    {
      /* the window closed while we wrote: a closed window leaves no copy behind */
      delete_recovery (self->recovery_id);
      g_clear_pointer (&pending, pending_variants_free);
      return;
    }

  if (pending != NULL)
    {
      show_pending (self, pending);
      pending_variants_free (pending);
    }

  if (!g_queue_is_empty (&self->recovery_queue))
    start_recovery_write (self, g_queue_pop_head (&self->recovery_queue));
  else if (self->recovery_again)
    start_recovery_write (self, NULL);
}

/* One write at a time: an older copy must never be renamed over a newer one. */
static void
start_recovery_write (OpWindow        *self,
                      PendingVariants *pending)
{
  g_autoptr(OpParams) sidebar = NULL;
  g_autoptr(GTask) task = NULL;
  RecoveryWrite *w;

  if (self->recovery_running)
    {
      if (pending != NULL)
        g_queue_push_tail (&self->recovery_queue, pending);
      else
        self->recovery_again = TRUE;
      return;
    }

  self->recovery_again = FALSE;
  if (op_document_get_root (self->document) == NULL)
    {
      g_clear_pointer (&pending, pending_variants_free);
      return;
    }

  sidebar = op_parameter_sidebar_dup_params (self->sidebar);
  w = g_new0 (RecoveryWrite, 1);
  if (pending != NULL)
    w->snapshot = op_project_snapshot_new_with_variants (self->document, sidebar,
                                                         pending->parent, pending->versions);
  else
    w->snapshot = op_project_snapshot_new (self->document, sidebar);
  op_project_snapshot_set_recovery (w->snapshot, TRUE);
  w->cache = self->recovery_cache;
  w->id = g_strdup (self->recovery_id);
  w->description = recovery_description (self, op_project_snapshot_get_n_versions (w->snapshot));

  w->pending = pending;

  /* The window is the callback's, not the task's source object: the thread may drop the
   * task's last reference, and a window must never be finalized there. */
  self->recovery_running = TRUE;
  task = g_task_new (NULL, NULL, recovery_write_cb, g_object_ref (self));
  g_task_set_source_tag (task, start_recovery_write);
  g_task_set_task_data (task, w, (GDestroyNotify) recovery_write_free);
  g_task_run_in_thread (task, recovery_write_thread);
}

static gboolean
autosave_cb (gpointer user_data)
{
  OpWindow *self = user_data;

  self->autosave_source = 0;
  self->first_unsaved_change = 0;
  if (op_document_is_modified (self->document))
    start_recovery_write (self, NULL);

  return G_SOURCE_REMOVE;
}

static void
on_document_changed_cb (OpWindow   *self,
                        OpDocument *document)
{
  gint64 now = g_get_monotonic_time ();

  self->changes++;

  if (self->first_unsaved_change == 0)
    self->first_unsaved_change = now;

  /* wait for a pause in the changes, but never longer than the maximum */
  if (self->autosave_source != 0 && now - self->first_unsaved_change < AUTOSAVE_MAX_DELAY_US)
    g_clear_handle_id (&self->autosave_source, g_source_remove);
  if (self->autosave_source == 0)
    self->autosave_source = g_timeout_add (AUTOSAVE_DELAY_MS, autosave_cb, self);
}

/**
 * _op_window_add_variants_safely:
 * @versions: (transfer none): new variants of @parent, not yet in the tree
 *
 * Generated variants are written to the recovery copy first and shown once they are
 * on disk: nothing that arrived is lost to a crash.
 */
void
_op_window_add_variants_safely (OpWindow  *self,
                                OpVersion *parent,
                                GPtrArray *versions)
{
  PendingVariants *pending = g_new0 (PendingVariants, 1);

  pending->parent = g_object_ref (parent);
  pending->versions = g_ptr_array_ref (versions);
  g_clear_handle_id (&self->autosave_source, g_source_remove);
  start_recovery_write (self, pending);
}

/* The title: the file's name, a dot while there are unsaved changes. */

void
_op_window_update_title (OpWindow *self)
{
  OpImage *image = op_document_get_image (self->document);
  g_autofree char *name = NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  if (image == NULL)
    {
      adw_window_title_set_title (self->window_title, _("Overpaint"));
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_window_set_title (GTK_WINDOW (self), _("Overpaint"));
      return;
    }

  name = op_document_dup_title (self->document);
  /* Translators: the window title while a document has unsaved changes */
  title = op_document_is_modified (self->document) ? g_strdup_printf (_("• %s"), name)
                                                   : g_strdup (name);
  if (self->saving)
    /* Translators: the window's subtitle while a project is written: its size, then how
     * far the save has come */
    subtitle = g_strdup_printf (_("%d × %d · Saving… %d %%"), op_image_get_width (image),
                                op_image_get_height (image), self->save_percent_shown);
  else
    subtitle = g_strdup_printf ("%d × %d", op_image_get_width (image),
                                op_image_get_height (image));
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
on_document_modified_cb (OpWindow   *self,
                         GParamSpec *pspec,
                         OpDocument *document)
{
  _op_window_update_title (self);
}

/* Recent projects */

static void
add_recent (GFile *file)
{
  g_autofree char *uri = g_file_get_uri (file);
  GtkRecentData data = { 0, };
  static char *groups[] = { (char *) "overpaint", NULL };

  data.mime_type = (char *) OP_PROJECT_MIME_TYPE;
  data.app_name = (char *) g_get_application_name ();
  data.app_exec = (char *) "overpaint %u";
  data.groups = groups;
  gtk_recent_manager_add_full (gtk_recent_manager_get_default (), uri, &data);
}

static int
newest_first (gconstpointer a,
              gconstpointer b)
{
  GDateTime *ta = gtk_recent_info_get_modified ((GtkRecentInfo *) a);
  GDateTime *tb = gtk_recent_info_get_modified ((GtkRecentInfo *) b);

  return g_date_time_compare (tb, ta);
}

static void
fill_recent_menu (OpWindow *self)
{
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  guint n = 0;

  g_menu_remove_all (self->recent_section);
  items = g_list_sort (items, newest_first);
  for (GList *l = items; l != NULL && n < RECENT_MAX; l = l->next)
    {
      GtkRecentInfo *info = l->data;
      const char *uri = gtk_recent_info_get_uri (info);
      g_autoptr(GMenuItem) item = NULL;

      if (!gtk_recent_info_has_group (info, "overpaint") || !gtk_recent_info_exists (info))
        continue;

      item = g_menu_item_new (gtk_recent_info_get_display_name (info), NULL);
      g_menu_item_set_action_and_target_value (item, "win.open-recent",
                                               g_variant_new_string (uri));
      g_menu_append_item (self->recent_section, item);
      n++;
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
}

/* Asking before unsaved changes are lost */

typedef void (*ThenFunc) (OpWindow *self,
                          gpointer  data);

typedef struct
{
  OpWindow *self;
  ThenFunc then;
  gpointer data;
  GDestroyNotify destroy;
} Then;

static void
then_free (Then *t)
{
  if (t->destroy != NULL && t->data != NULL)
    t->destroy (t->data);
  g_clear_object (&t->self);
  g_free (t);
}

static void
then_run (Then *t)
{
  t->then (t->self, t->data);
  then_free (t);
}

static void
save_then_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Then *t = user_data;
  g_autoptr(GError) error = NULL;

  /* a failed or cancelled save keeps the window and its changes */
  if (!op_window_save_finish (OP_WINDOW (object), result, &error))
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (t->self, error->message);
      then_free (t);
      return;
    }

  then_run (t);
}

static void
save_then (gpointer data)
{
  Then *t = data;

  op_window_save_async (t->self, NULL, NULL, save_then_cb, t);
}

static void
on_ask_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  Then *t = user_data;

  /* answered once: the dialog may live on a little while it closes */
  g_signal_handlers_disconnect_by_data (dialog, t);
  t->self->ask_dialog = NULL;

  /* after the dialog closed: closing the window from here would take the dialog
   * with it while it still answers */
  if (g_strcmp0 (response, "discard") == 0)
    g_idle_add_once ((GSourceOnceFunc) then_run, t);
  else if (g_strcmp0 (response, "save") == 0)
    g_idle_add_once (save_then, t);
  else
    then_free (t);
}

/* Runs @then now, or after the user chose to save (and the save worked) or discard. */
static void
confirm_then (OpWindow      *self,
              ThenFunc       then,
              gpointer       data,
              GDestroyNotify destroy)
{
  Then *t = g_new0 (Then, 1);
  g_autofree char *name = NULL;
  GtkWidget *dialog;

  t->self = g_object_ref (self);
  t->then = then;
  t->data = data;
  t->destroy = destroy;

  if (!op_document_is_modified (self->document) || op_document_get_root (self->document) == NULL)
    {
      then_run (t);
      return;
    }

  if (self->ask_dialog != NULL)
    {
      then_free (t);
      gtk_window_present (GTK_WINDOW (self->ask_dialog));
      return;
    }

  name = op_document_dup_title (self->document);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Save Changes?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("“%s” has changes that are not saved. "
                                    "Without saving, they are lost."), name);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "discard", _("_Discard"),
                                    "save", _("_Save"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_ask_response_cb), t);
  self->ask_dialog = ADW_MESSAGE_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
close_now (OpWindow *self,
           gpointer  data)
{
  self->close_confirmed = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

/* The window's close-request: TRUE when it asks first. */
gboolean
_op_window_project_close_request (OpWindow *self)
{
  if (self->close_confirmed || !op_document_is_modified (self->document))
    return FALSE;

  confirm_then (self, close_now, NULL, NULL);
  return TRUE;
}

/* Saving */

typedef struct
{
  GFile *file;
  guint64 changes;      /* the document's change count when the snapshot was taken */
} SaveOp;

static void
save_op_free (SaveOp *op)
{
  g_clear_object (&op->file);
  g_free (op);
}

static void
project_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  OpWindow *self = g_task_get_source_object (task);
  SaveOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  self->saving = FALSE;
  g_clear_handle_id (&self->save_progress_source, g_source_remove);

  if (!op_project_save_finish (result, &error))
    {
      _op_window_update_title (self);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  op_document_saved (self->document, op->file);
  if (self->changes != op->changes)
    /* edited while it was written: what is on disk is not all there is */
    op_document_set_modified (self->document);
  else
    {
      g_clear_handle_id (&self->autosave_source, g_source_remove);
      self->first_unsaved_change = 0;
      if (!self->recovery_running)
        delete_recovery (self->recovery_id);
    }

  add_recent (op->file);
  _op_window_update_title (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* In the saving thread: only the number crosses over. */
static void
save_progress_cb (double   fraction,
                  gpointer user_data)
{
  OpWindow *self = user_data;   /* alive: the save's task holds it until the end */

  g_atomic_int_set (&self->save_percent, (int) (fraction * 100));
}

static gboolean
save_progress_tick_cb (gpointer user_data)
{
  OpWindow *self = user_data;
  int percent = g_atomic_int_get (&self->save_percent);

  if (percent != self->save_percent_shown)
    {
      self->save_percent_shown = percent;
      _op_window_update_title (self);
    }

  return G_SOURCE_CONTINUE;
}

/**
 * op_window_save_async:
 * @file: (nullable): where; NULL for the project the document belongs to
 *
 * Saves the document as a project, off the main thread, replacing @file atomically.
 * Without a file and without a project (a picture was opened) this asks where, as
 * Save As does.
 */
void
op_window_save_async (OpWindow           *self,
                      GFile              *file,
                      GCancellable       *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer            user_data)
{
  g_autoptr(OpParams) sidebar = NULL;
  g_autoptr(GTask) task = NULL;
  OpProjectSnapshot *snapshot;
  SaveOp *op;

  g_return_if_fail (OP_IS_WINDOW (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_window_save_async);

  if (op_document_get_root (self->document) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("There is nothing to save."));
      return;
    }

  if (file == NULL)
    file = op_document_get_project_file (self->document);
  if (file == NULL)
    {
      _op_window_save_as (self, g_steal_pointer (&task));
      return;
    }

  if (self->saving)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("The project is being saved already."));
      return;
    }

  op = g_new0 (SaveOp, 1);
  op->file = g_object_ref (file);
  op->changes = self->changes;
  g_task_set_task_data (task, op, (GDestroyNotify) save_op_free);

  sidebar = op_parameter_sidebar_dup_params (self->sidebar);
  snapshot = op_project_snapshot_new (self->document, sidebar);
  op_project_snapshot_set_progress (snapshot, save_progress_cb, self);
  self->saving = TRUE;
  g_atomic_int_set (&self->save_percent, 0);
  self->save_percent_shown = 0;
  self->save_progress_source = g_timeout_add (250, save_progress_tick_cb, self);
  _op_window_update_title (self);
  op_project_save_async (snapshot, file, self->save_cache, cancellable, project_saved_cb,
                         g_steal_pointer (&task));
}

gboolean
op_window_save_finish (OpWindow      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
save_action_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  OpWindow *self = OP_WINDOW (object);
  g_autoptr(GError) error = NULL;

  if (!op_window_save_finish (self, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (self, error->message);
      return;
    }

  _op_window_show_message (self, _("Project saved"));
}

/* Save As: the chooser, then the save.  @task is the save to finish. */

static void
forward_save_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (op_window_save_finish (OP_WINDOW (object), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
ask_replace (OpWindow *self,
             GFile    *file,
             GTask    *task);

static void
on_save_as_response_cb (GtkFileChooserNative *chooser,
                        int                   response,
                        gpointer              user_data)
{
  GTask *task = user_data;
  OpWindow *self = g_task_get_source_object (task);
  g_autoptr(GFile) chosen = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *name = NULL;

  if (self->chooser == chooser)
    g_clear_object (&self->chooser);

  if (response != GTK_RESPONSE_ACCEPT)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      g_object_unref (task);
      return;
    }

  chosen = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  name = g_file_get_basename (chosen);
  if (op_project_is_project_path (name))
    file = g_object_ref (chosen);
  else
    {
      g_autoptr(GFile) parent = g_file_get_parent (chosen);
      g_autofree char *with_extension = g_strconcat (name, ".ora", NULL);

      file = g_file_get_child (parent, with_extension);
      /* the chooser asked about the name it was given, not this one */
      if (g_file_query_exists (file, NULL))
        {
          ask_replace (self, file, task);
          return;
        }
    }

  op_window_save_async (self, file, g_task_get_cancellable (task), forward_save_cb, task);
}

static void
on_ask_replace_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   gpointer          user_data)
{
  GTask *task = user_data;
  OpWindow *self = g_task_get_source_object (task);
  GFile *file = g_object_get_data (G_OBJECT (dialog), "op-file");

  if (g_strcmp0 (response, "replace") == 0)
    op_window_save_async (self, file, g_task_get_cancellable (task), forward_save_cb, task);
  else
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      g_object_unref (task);
    }
}

static void
ask_replace (OpWindow *self,
             GFile    *file,
             GTask    *task)
{
  g_autofree char *name = g_file_get_basename (file);
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Replace Existing File?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _("A file named “%s” already exists. Replacing it "
                                    "overwrites its contents."), name);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "replace", _("_Replace"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "op-file", g_object_ref (file), g_object_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (on_ask_replace_cb), task);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
_op_window_save_as (OpWindow *self,
                    GTask    *task)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *title = op_document_dup_title (self->document);
  g_autofree char *name = NULL;
  GtkFileChooserNative *chooser;
  GFile *project = op_document_get_project_file (self->document);
  char *dot;

  if (self->chooser != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("A file chooser is open already."));
      g_object_unref (task);
      return;
    }

  chooser = gtk_file_chooser_native_new (_("Save Project"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Save"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("OpenRaster projects"));
  gtk_file_filter_add_mime_type (filter, OP_PROJECT_MIME_TYPE);
  gtk_file_filter_add_suffix (filter, "ora");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);

  if (project != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), project, NULL);
  else
    {
      GFile *file = op_document_get_file (self->document);
      g_autoptr(GFile) folder = file != NULL ? g_file_get_parent (file) : NULL;

      if (folder != NULL)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
      if ((dot = strrchr (title, '.')) != NULL)
        *dot = '\0';
      name = g_strconcat (title, ".ora", NULL);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }

  self->chooser = chooser;
  g_signal_connect (chooser, "response", G_CALLBACK (on_save_as_response_cb), task);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
save_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  OpWindow *self = user_data;

  if (op_document_get_root (self->document) != NULL)
    op_window_save_async (self, NULL, NULL, save_action_cb, NULL);
}

static void
save_as_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  OpWindow *self = user_data;
  GTask *task;

  if (op_document_get_root (self->document) == NULL)
    return;

  task = g_task_new (self, NULL, save_action_cb, NULL);
  g_task_set_source_tag (task, op_window_save_async);
  _op_window_save_as (self, task);
}

/* Opening */

static void
project_loaded_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(OpWindow) self = NULL;
  GFile *file = user_data;
  g_autoptr(OpProject) project = NULL;
  g_autoptr(GError) error = NULL;

  self = g_object_steal_data (G_OBJECT (file), "op-window");
  project = op_project_load_finish (result, &error);
  if (project == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->disposed)
        op_window_show_error (self, error->message);
      g_object_unref (file);
      return;
    }

  if (!self->disposed)
    {
      op_project_apply (project, self->document, file);
      if (op_project_get_sidebar (project) != NULL)
        op_parameter_sidebar_set_params (self->sidebar, op_project_get_sidebar (project));
      if (!op_project_is_foreign (project))
        add_recent (file);
      _op_window_remember_folder (self, file);
      _op_window_update_title (self);
    }
  g_object_unref (file);
}

/* A project (.ora) off the main thread; a failure shows a toast and changes nothing. */
void
_op_window_open_project (OpWindow *self,
                         GFile    *file)
{
  g_object_set_data_full (G_OBJECT (file), "op-window", g_object_ref (self), g_object_unref);
  op_project_load_async (file, self->cancellable, project_loaded_cb, g_object_ref (file));
}

static void
open_file_now (OpWindow *self,
               gpointer  data)
{
  op_window_open_file (self, data);
}

/* Opening another file replaces the document: ask first when it has unsaved changes. */
void
_op_window_open_file_confirmed (OpWindow *self,
                                GFile    *file)
{
  confirm_then (self, open_file_now, g_object_ref (file), g_object_unref);
}

static void
open_recent_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));

  _op_window_open_file_confirmed (self, file);
}

/* Recovery after a crash */

typedef struct
{
  char *id;
  char *title;
  char *file_uri;
  gboolean is_project;
  gint64 time;
  guint versions;
} Recovery;

static void
recovery_free (Recovery *r)
{
  g_free (r->id);
  g_free (r->title);
  g_free (r->file_uri);
  g_free (r);
}


/* Copies whose program is gone: it crashed or was killed before saving. */
static GPtrArray *
find_recoveries (void)
{
  g_autofree char *dir = recovery_dir ();
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) recovery_free);
  const char *name;

  if (listing == NULL)
    return found;

  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *ora = NULL;
      g_autofree char *id = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *o;
      const char *title;
      Recovery *r;

      if (!g_str_has_suffix (name, ".json"))
        continue;

      id = g_strndup (name, strlen (name) - strlen (".json"));
      path = g_build_filename (dir, name, NULL);
      ora = recovery_path (id, ".ora");
      if (!g_file_test (ora, G_FILE_TEST_IS_REGULAR) ||
          !json_parser_load_from_mapped_file (parser, path, NULL) ||
          !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          g_debug ("Ignoring the recovery description %s", path);
          continue;
        }

      o = json_node_get_object (json_parser_get_root (parser));
      if (recovery_owner_alive (o))
        continue;

      r = g_new0 (Recovery, 1);
      r->id = g_steal_pointer (&id);
      title = op_json_member_string (o, "title");
      r->title = g_strdup (title != NULL ? title : _("Untitled"));
      r->file_uri = g_strdup (op_json_member_string (o, "file"));
      r->is_project = description_boolean (o, "is-project");
      r->time = description_int (o, "time");
      r->versions = (guint) CLAMP (description_int (o, "versions"), 0, G_MAXINT);
      g_ptr_array_add (found, r);
    }

  return found;
}

static void offer_next_recovery (OpWindow *self);

typedef struct
{
  OpWindow *self;
  Recovery *recovery;
} RecoveryLoad;

static void
recovery_loaded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  RecoveryLoad *load = user_data;
  g_autoptr(OpWindow) self = load->self;
  Recovery *r = load->recovery;
  g_autoptr(OpProject) project = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = r->file_uri != NULL ? g_file_new_for_uri (r->file_uri) : NULL;
  OpMargins margins;

  g_free (load);
  project = op_project_load_finish (result, &error);
  if (self->disposed)
    {
      recovery_free (r);
      return;
    }
  if (project == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not restore “%s”: %s"), r->title,
                                                  error->message);

      /* kept on disk: a later version may read what this one cannot */
      op_window_show_error (self, message);
      recovery_free (r);
      offer_next_recovery (self);
      return;
    }

  op_project_get_margins (project, &margins);
  op_document_restore (self->document, op_project_get_root (project),
                       op_project_get_current (project), &margins,
                       op_project_get_brush_masks (project),
                       op_project_get_last_generation (project), file, r->is_project);
  if (op_project_get_sidebar (project) != NULL)
    op_parameter_sidebar_set_params (self->sidebar, op_project_get_sidebar (project));

  /* the copy becomes this window's, so a second crash loses nothing either */
  {
    g_autofree char *old_ora = recovery_path (r->id, ".ora");
    g_autofree char *old_json = recovery_path (r->id, ".json");
    g_autofree char *new_ora = recovery_path (self->recovery_id, ".ora");
    g_autofree char *new_json = recovery_path (self->recovery_id, ".json");

    g_rename (old_ora, new_ora);
    g_rename (old_json, new_json);
  }

  /* restored work is unsaved work */
  op_document_set_modified (self->document);
  _op_window_update_title (self);
  _op_window_show_message (self, _("Unsaved work restored"));
  recovery_free (r);
}

static void
on_recovery_response_cb (AdwMessageDialog *dialog,
                         const char       *response,
                         gpointer          user_data)
{
  Recovery *r = user_data;
  OpWindow *self = g_object_get_data (G_OBJECT (dialog), "op-window");

  g_signal_handlers_disconnect_by_data (dialog, r);
  self->ask_dialog = NULL;

  if (g_strcmp0 (response, "restore") == 0)
    {
      g_autofree char *path = recovery_path (r->id, ".ora");
      g_autoptr(GFile) file = g_file_new_for_path (path);
      RecoveryLoad *load = g_new0 (RecoveryLoad, 1);

      load->self = g_object_ref (self);
      load->recovery = r;
      op_project_load_async (file, NULL, recovery_loaded_cb, load);
      return;
    }

  if (g_strcmp0 (response, "discard") == 0)
    delete_recovery (r->id);
  recovery_free (r);
  offer_next_recovery (self);
}

static void
offer_next_recovery (OpWindow *self)
{
  Recovery *r;
  GtkWidget *dialog;
  g_autoptr(GDateTime) when = NULL;
  g_autofree char *time_text = NULL;

  if (self->recoveries == NULL || self->recoveries->len == 0 || self->disposed)
    return;

  /* one window restores one copy: the others are offered by the next start */
  if (op_document_get_root (self->document) != NULL)
    return;

  r = g_ptr_array_steal_index (self->recoveries, 0);
  when = g_date_time_new_from_unix_local (r->time);
  time_text = when != NULL ? g_date_time_format (when, "%x %X") : g_strdup ("?");

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Restore Unsaved Work?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "Overpaint closed before the changes to “%s” "
                                               "were saved. The recovery copy from %s has "
                                               "%u version.",
                                               "Overpaint closed before the changes to “%s” "
                                               "were saved. The recovery copy from %s has "
                                               "%u versions.", r->versions),
                                  r->title, time_text, r->versions);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "later", _("_Later"),
                                    "discard", _("_Discard"),
                                    "restore", _("_Restore"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "restore",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "restore");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "later");
  g_object_set_data (G_OBJECT (dialog), "op-window", self);
  g_signal_connect (dialog, "response", G_CALLBACK (on_recovery_response_cb), r);
  self->ask_dialog = ADW_MESSAGE_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * op_window_offer_recovery:
 *
 * Looks for recovery copies that a crashed or killed Overpaint left and offers to
 * restore them, one at a time.  Returns how many there are.
 */
guint
op_window_offer_recovery (OpWindow *self)
{
  g_return_val_if_fail (OP_IS_WINDOW (self), 0);

  g_clear_pointer (&self->recoveries, g_ptr_array_unref);
  self->recoveries = find_recoveries ();
  offer_next_recovery (self);

  return self->recoveries->len + (self->ask_dialog != NULL ? 1 : 0);
}

/* Set up */

static const GActionEntry project_entries[] = {
  { "save", save_action },
  { "save-as", save_as_action },
  { "open-recent", open_recent_action, "s" },
};

void
_op_window_project_init (OpWindow *self)
{
  static guint n_windows;

  self->save_cache = op_project_cache_new ();
  self->recovery_cache = op_project_cache_new ();
  self->recovery_id = g_strdup_printf ("%d-%" G_GINT64_FORMAT "-%u", getpid (),
                                       g_get_real_time () / G_USEC_PER_SEC, ++n_windows);
  g_queue_init (&self->recovery_queue);

  g_action_map_add_action_entries (G_ACTION_MAP (self), project_entries,
                                   G_N_ELEMENTS (project_entries), self);

  g_signal_connect_object (self->document, "changed", G_CALLBACK (on_document_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::modified",
                           G_CALLBACK (on_document_modified_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::file",
                           G_CALLBACK (on_document_modified_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gtk_recent_manager_get_default (), "changed",
                           G_CALLBACK (fill_recent_menu), self, G_CONNECT_SWAPPED);
  fill_recent_menu (self);
  _op_window_update_title (self);
}

void
_op_window_project_dispose (OpWindow *self)
{
  if (self->disposed)
    return;

  self->disposed = TRUE;
  g_clear_handle_id (&self->autosave_source, g_source_remove);
  g_clear_handle_id (&self->save_progress_source, g_source_remove);
  g_queue_clear_full (&self->recovery_queue, (GDestroyNotify) pending_variants_free);
  /* a window that closes normally was asked about its changes: no copy stays */
  if (!self->recovery_running && self->recovery_id != NULL)
    delete_recovery (self->recovery_id);
  if (self->ask_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->ask_dialog));
  g_clear_pointer (&self->recoveries, g_ptr_array_unref);
}

void
_op_window_project_finalize (OpWindow *self)
{
  g_clear_pointer (&self->save_cache, op_project_cache_free);
  g_clear_pointer (&self->recovery_cache, op_project_cache_free);
  g_clear_pointer (&self->recovery_id, g_free);
}
