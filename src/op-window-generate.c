/* op-window-generate.c — the window's generation side: jobs, variants, versions, the
 * outpaint margins and the preview of what the backend will see.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-window"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "op-export.h"
#include "op-keyring.h"
#include "op-stability-backend.h"
#include "op-window-private.h"

#define PREVIEW_DELAY_MS 250

static gboolean
is_in_tree (OpWindow  *self,
            OpVersion *version)
{
  OpVersion *root = op_document_get_root (self->document);

  for (; version != NULL; version = op_version_get_parent (version))
    {
      OpVersion *parent = op_version_get_parent (version);

      if (version == root)
        return TRUE;
      if (parent != NULL && op_version_index_of (parent, version) < 0)
        return FALSE;
    }

  return FALSE;
}

/* The variants of the current version's generation, in order. */
static GPtrArray *
current_generation (OpWindow *self)
{
  OpVersion *current = op_document_get_current (self->document);
  OpVersion *parent = current != NULL ? op_version_get_parent (current) : NULL;
  GPtrArray *siblings = g_ptr_array_new ();

  if (parent == NULL)
    return siblings;

  for (guint i = 0; i < op_version_get_n_children (parent); i++)
    {
      OpVersion *child = op_version_get_child (parent, i);

      if (op_version_get_generation (child) == op_version_get_generation (current))
        g_ptr_array_add (siblings, child);
    }

  return siblings;
}

void
_op_window_update_version_actions (OpWindow *self)
{
  OpVersion *current = op_document_get_current (self->document);
  gboolean variant = current != NULL && !op_version_is_root (current);
  gboolean has_image = current != NULL;
  gboolean running = self->worker != NULL && op_worker_get_n_jobs (self->worker) > 0;

  _op_window_set_action_enabled (self, "generate", has_image);
  _op_window_set_action_enabled (self, "cancel-generation", running);
  _op_window_set_action_enabled (self, "retry-generation", self->last_request != NULL);
  _op_window_set_action_enabled (self, "generate-again", variant);
  _op_window_set_action_enabled (self, "discard-version", variant);
  _op_window_set_action_enabled (self, "use-as-base", variant);
  _op_window_set_action_enabled (self, "edit-blend", variant);
  _op_window_set_action_enabled (self, "compare", variant);
  _op_window_set_action_enabled (self, "export-variants", variant);
  _op_window_set_action_enabled (self, "margins-preset", has_image);
  _op_window_set_action_enabled (self, "export-upscaled", has_image);
}

/* Submitting */

/* @serial: the parent's picture serial when @request was made from it */
static void
submit (OpWindow  *self,
        OpBackend *backend,
        OpRequest *request,
        OpVersion *parent,
        guint      serial)
{
  g_autoptr(OpJob) job = NULL;

  g_clear_pointer (&self->last_request, op_request_unref);
  self->last_request = op_request_ref (request);
  g_set_object (&self->last_backend, backend);
  g_set_object (&self->last_parent, parent);
  self->last_serial = serial;

  job = op_worker_submit (self->worker, backend, request);
  /* results land under the version they were asked from, whatever is shown by then */
  g_object_set_data_full (G_OBJECT (job), "op-parent", g_object_ref (parent), g_object_unref);
  g_object_set_data (G_OBJECT (job), "op-parent-serial", GUINT_TO_POINTER (serial));

  op_parameter_sidebar_set_progress (self->sidebar, TRUE, 0.0, _("Waiting…"));
  _op_window_update_version_actions (self);
}

typedef struct
{
  OpWindow *self;
  OpBackend *backend;
  OpRequest *request;
  OpVersion *parent;
  guint serial;
} PendingSubmit;

static void
pending_submit_free (PendingSubmit *pending)
{
  g_clear_object (&pending->self);
  g_clear_object (&pending->backend);
  g_clear_pointer (&pending->request, op_request_unref);
  g_clear_object (&pending->parent);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingSubmit, pending_submit_free)

static gboolean
backend_has_property (OpBackend  *backend,
                      const char *name)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (backend), name) != NULL;
}

static void
secret_found_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PendingSubmit) pending = user_data;
  OpBackend *backend = pending->backend;
  const char *id = op_backend_get_id (backend);
  g_autofree char *secret = NULL;
  g_autoptr(GSettings) settings = op_backend_settings_new (id);
  g_autofree char *url = g_settings_get_string (settings, "url");
  g_autoptr(GError) error = NULL;

  secret = op_keyring_secret_or_environment (id, op_keyring_lookup_finish (result, NULL));
  if (!op_backend_configure_service (backend, url, secret, &error))
    {
      op_window_show_error (pending->self, error->message);
      return;
    }

  submit (pending->self, backend, pending->request, pending->parent, pending->serial);
}

/* A backend that talks to a service gets its address and its key (from the keyring, else
 * the environment) just before the job is queued; the request was snapshot already. */
static void
submit_configured (OpWindow  *self,
                   OpBackend *backend,
                   OpRequest *request,
                   OpVersion *parent)
{
  PendingSubmit *pending;

  if (!backend_has_property (backend, "url") && !backend_has_property (backend, "api-key"))
    {
      submit (self, backend, request, parent, op_version_get_serial (parent));
      return;
    }

  pending = g_new0 (PendingSubmit, 1);
  /* the request was just made: the parent's picture is as it was then */
  pending->serial = op_version_get_serial (parent);
  pending->self = g_object_ref (self);
  pending->backend = g_object_ref (backend);
  pending->request = op_request_ref (request);
  pending->parent = g_object_ref (parent);
  op_keyring_lookup_async (op_backend_get_id (backend), self->cancellable, secret_found_cb,
                           pending);
}

static void
generate_action (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(OpParams) params = op_parameter_sidebar_dup_params (self->sidebar);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  OpBackend *backend = op_parameter_sidebar_get_backend (self->sidebar);

  if (backend == NULL)
    {
      op_window_show_error (self, _("Choose a backend first."));
      return;
    }

  request = op_document_create_request (self->document, params, &error);
  if (request == NULL)
    {
      op_window_show_error (self, error->message);
      return;
    }

  if (op_backend_get_parameters (backend) & OP_PARAM_PROMPT)
    _op_window_remember_prompt (self, params->prompt);
  submit_configured (self, backend, request, op_document_get_current (self->document));
}

static void
retry_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(OpVersion) parent = NULL;

  if (self->last_request == NULL)
    return;

  request = op_request_ref (self->last_request);
  backend = g_object_ref (self->last_backend);
  parent = g_object_ref (self->last_parent);
  submit (self, backend, request, parent, self->last_serial);
}

/* "Generate again": the current variant's request once more, with a new seed. */
static void
generate_again_action (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  OpWindow *self = user_data;
  OpVersion *current = op_document_get_current (self->document);
  OpVersion *parent;
  g_autoptr(OpParams) params = NULL;
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(GError) error = NULL;

  if (current == NULL || op_version_is_root (current))
    return;

  parent = op_version_get_parent (current);
  params = op_params_copy (op_version_get_params (current));
  params->seed = -1;

  backend = op_backend_new_for_id (params->backend, &error);
  if (backend != NULL)
    request = op_document_create_request_for (self->document, parent,
                                              op_version_get_margins (current), params, &error);
  if (request == NULL)
    {
      op_window_show_error (self, error->message);
      return;
    }

  submit_configured (self, backend, request, parent);
}

static void
cancel_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  OpWindow *self = user_data;

  op_worker_cancel_all (self->worker);
}

/* Worker */

static void
on_worker_job_progress_cb (OpWindow *self,
                           OpJob    *job,
                           OpWorker *worker)
{
  op_parameter_sidebar_set_progress (self->sidebar, TRUE, op_job_get_fraction (job),
                                     op_job_get_text (job));
  /* a backend that shows its picture in the making (the web UI): over the context */
  if (op_job_get_preview (job) != NULL)
    op_canvas_set_live_preview (self->canvas, op_job_get_preview (job));
}

static void
add_variants (OpWindow *self,
              OpJob    *job)
{
  OpVersion *parent = g_object_get_data (G_OBJECT (job), "op-parent");
  OpRequest *request = op_job_get_request (job);
  GPtrArray *variants = op_job_get_variants (job);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  guint generation, serial;

  if (variants == NULL || variants->len == 0)
    return;

  if (!is_in_tree (self, parent))
    {
      op_window_show_error (self, _("The picture these variants were made from was discarded; "
                                    "they were dropped."));
      return;
    }

  serial = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (job), "op-parent-serial"));
  generation = op_document_new_generation (self->document);
  for (guint i = 0; i < variants->len; i++)
    {
      OpVariant *v = variants->pdata[i];
      OpVersion *version;

      version = op_version_new_variant (parent, op_request_get_margins (request), v->patch,
                                        &v->rect, v->blend, op_request_get_params (request),
                                        v->seed, generation);
      /* the worker composited over the parent's picture as it was at submit time: that is
       * this version's picture unless the parent's picture changed since */
      if (v->composite != NULL && serial == op_version_get_serial (parent))
        op_version_set_composite (version, v->composite);
      g_ptr_array_add (versions, version);
    }

  /* on disk in the recovery copy before they are shown */
  _op_window_add_variants_safely (self, parent, versions);
}

static void
show_failure (OpWindow *self,
              OpJob    *job)
{
  const GError *error = op_job_get_error (job);
  AdwToast *toast;

  g_warning ("Generation failed: %s", error != NULL ? error->message : "?");
  toast = adw_toast_new (error != NULL ? error->message : _("The generation failed."));
  adw_toast_set_button_label (toast, _("_Retry"));
  adw_toast_set_action_name (toast, "win.retry-generation");
  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
on_worker_job_finished_cb (OpWindow *self,
                           OpJob    *job,
                           OpWorker *worker)
{
  switch (op_job_get_state (job))
    {
    case OP_JOB_DONE:
      add_variants (self, job);
      break;

    case OP_JOB_FAILED:
      show_failure (self, job);
      break;

    case OP_JOB_CANCELLED:
      _op_window_show_message (self, _("Generation cancelled"));
      break;

    case OP_JOB_QUEUED:
    case OP_JOB_RUNNING:
    default:
      break;
    }

  op_canvas_set_live_preview (self->canvas, NULL);
  if (op_worker_get_n_jobs (worker) == 0)
    op_parameter_sidebar_set_progress (self->sidebar, FALSE, 0.0, NULL);
  _op_window_update_version_actions (self);
}

/* Versions */

static void
discard_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  OpWindow *self = user_data;
  OpVersion *current = op_document_get_current (self->document);

  if (current != NULL && !op_version_is_root (current))
    op_document_discard (self->document, current);
}

static void
use_as_base_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  OpWindow *self = user_data;

  op_document_use_as_base (self->document);
}

static void
edit_blend_change_state (GSimpleAction *action,
                         GVariant      *state,
                         gpointer       user_data)
{
  OpWindow *self = user_data;

  op_document_set_mask_target (self->document, g_variant_get_boolean (state)
                                                 ? OP_MASK_TARGET_BLEND
                                                 : OP_MASK_TARGET_BRUSH);
}

static void
on_document_mask_target_cb (OpWindow   *self,
                            GParamSpec *pspec,
                            OpDocument *document)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "edit-blend");
  gboolean blend = op_document_get_mask_target (document) == OP_MASK_TARGET_BLEND;

  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_boolean (blend));
}

static void
show_canvas (OpWindow *self)
{
  gtk_stack_set_visible_child_name (self->view_stack, "canvas");
  gtk_widget_grab_focus (GTK_WIDGET (self->canvas));
}

static void
compare_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(GPtrArray) generation = current_generation (self);
  OpVersion *current = op_document_get_current (self->document);
  guint first = 0, n;

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "compare") == 0)
    {
      show_canvas (self);
      return;
    }
  if (generation->len == 0)
    return;

  if (generation->len == 1)
    op_compare_view_set_wipe (self->compare, current);
  else
    {
      /* up to four, starting so that the current one is among them */
      guint index = 0;

      g_ptr_array_find (generation, current, &index);
      n = MIN (4, generation->len);
      first = MIN (index, generation->len - n);
      op_compare_view_set_versions (self->compare, (OpVersion **) generation->pdata + first, n);
    }

  gtk_stack_set_visible_child_name (self->view_stack, "compare");
  gtk_widget_grab_focus (GTK_WIDGET (self->compare));
}

static void
on_compare_pick_cb (OpWindow      *self,
                    OpVersion     *version,
                    OpCompareView *compare)
{
  op_document_set_current (self->document, version);
  show_canvas (self);
}

/* Discarding in the compare view keeps comparing what is left. */
static void
on_compare_discard_cb (OpWindow      *self,
                       OpVersion     *version,
                       OpCompareView *compare)
{
  g_autoptr(GPtrArray) left = NULL;

  op_document_discard (self->document, version);
  left = current_generation (self);
  if (left->len < 2)
    {
      show_canvas (self);
      return;
    }

  op_compare_view_set_versions (self->compare, (OpVersion **) left->pdata, MIN (4, left->len));
}

static void
on_compare_close_cb (OpWindow      *self,
                     OpCompareView *compare)
{
  show_canvas (self);
}

/* Export all variants */

static void
export_variants_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!op_document_export_finish (OP_DOCUMENT (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (self, error->message);
      return;
    }

  _op_window_show_message (self, _("Variants exported"));
}

typedef struct
{
  OpWindow *self;
  GPtrArray *versions;
  GPtrArray *files;
  GPtrArray *texts;
} VariantsExport;

static void
variants_export_free (VariantsExport *e)
{
  g_clear_object (&e->self);
  g_ptr_array_unref (e->versions);
  g_ptr_array_unref (e->files);
  g_ptr_array_unref (e->texts);
  g_free (e);
}

static void
variants_export_run (VariantsExport *e)
{
  op_document_export_versions_async (e->self->document, e->versions, e->files, e->texts,
                                     e->self->cancellable, export_variants_cb,
                                     g_object_ref (e->self));
  variants_export_free (e);
}

static void
on_replace_variants_cb (AdwMessageDialog *dialog,
                        const char       *response,
                        gpointer          user_data)
{
  VariantsExport *e = user_data;

  g_signal_handlers_disconnect_by_data (dialog, e);
  if (g_strcmp0 (response, "replace") == 0)
    variants_export_run (e);
  else
    variants_export_free (e);
}

/* Exporting into a folder never overwrites what is there without asking. */
static void
export_variants_checked (OpWindow  *self,
                         GPtrArray *versions,
                         GPtrArray *files,
                         GPtrArray *texts)
{
  VariantsExport *e = g_new0 (VariantsExport, 1);
  g_autoptr(GString) names = g_string_new (NULL);
  guint n_existing = 0;
  GtkWidget *dialog;

  e->self = g_object_ref (self);
  e->versions = g_ptr_array_ref (versions);
  e->files = g_ptr_array_ref (files);
  e->texts = g_ptr_array_ref (texts);

  for (guint i = 0; i < files->len; i++)
    if (g_file_query_exists (files->pdata[i], NULL))
      {
        g_autofree char *name = g_file_get_basename (files->pdata[i]);

        if (n_existing++ > 0)
          g_string_append (names, ", ");
        g_string_append (names, name);
      }

  if (n_existing == 0)
    {
      variants_export_run (e);
      return;
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Replace Existing Files?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "The folder already has %s. Replacing it "
                                               "overwrites its contents.",
                                               "The folder already has %s. Replacing them "
                                               "overwrites their contents.", n_existing),
                                  names->str);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "replace", _("_Replace"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_replace_variants_cb), e);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * op_window_export_variants:
 * @folder: where to write "<name>-variant-N.png" for each variant of the current
 *   version's generation; files there already are replaced only when the user agrees
 */
void
op_window_export_variants (OpWindow *self,
                           GFile    *folder)
{
  g_autoptr(GPtrArray) generation = current_generation (self);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autofree char *title = op_document_dup_title (self->document);
  char *dot = strrchr (title, '.');

  g_return_if_fail (OP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (folder));

  if (generation->len == 0)
    return;
  if (dot != NULL)
    *dot = '\0';

  for (guint i = 0; i < generation->len; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-variant-%u.png", title, i + 1);

      g_ptr_array_add (files, g_file_get_child (folder, name));
      g_ptr_array_add (texts, op_export_dup_texts (generation->pdata[i]));
    }

  export_variants_checked (self, generation, files, texts);
}

static void
on_export_variants_response_cb (OpWindow             *self,
                                int                   response,
                                GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      op_window_export_variants (self, folder);
    }

  g_clear_object (&self->chooser);
}

static void
export_variants_action (GSimpleAction *action,
                        GVariant      *param,
                        gpointer       user_data)
{
  OpWindow *self = user_data;

  if (self->chooser != NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Export All Variants to a Folder"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Export"), _("_Cancel"));
  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (on_export_variants_response_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Export at 2× / 4× through Stability AI's upscaler */

typedef struct
{
  OpWindow *self;
  GFile *file;
  GStrv texts;
  int factor;
} UpscaleOp;

static void
upscale_op_free (UpscaleOp *op)
{
  g_clear_object (&op->self);
  g_clear_object (&op->file);
  g_strfreev (op->texts);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UpscaleOp, upscale_op_free)

static void
upscaled_write_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  UpscaleOp *op = g_object_get_data (G_OBJECT (task), "op");
  OpImage *image = task_data;
  g_autofree char *path = g_file_get_path (op->file);
  guint n = op->texts != NULL ? g_strv_length (op->texts) / 2 : 0;
  g_autofree OpPngText *chunks = g_new0 (OpPngText, n + 1);
  GError *error = NULL;

  for (guint i = 0; i < n; i++)
    chunks[i] = (OpPngText) { op->texts[2 * i], op->texts[2 * i + 1], FALSE };

  if (path == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             _("Pictures can only be exported to local folders."));
  else if (op_image_save_png_with_text (image, path, chunks, n, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
upscaled_written_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  UpscaleOp *op = g_object_get_data (G_OBJECT (result), "op");
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      op_window_show_error (op->self, error->message);
      return;
    }

  name = g_file_get_basename (op->file);
  message = g_strdup_printf (_("Exported “%s” at %d×"), name, op->factor);
  _op_window_show_message (op->self, message);
}

static void
upscaled_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(UpscaleOp) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GTask) task = NULL;

  image = op_stability_backend_upscale_finish (OP_STABILITY_BACKEND (object), result, &error);
  op_parameter_sidebar_set_progress (op->self->sidebar, FALSE, 0.0, NULL);
  if (image == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (op->self, error->message);
      return;
    }

  /* encoding a 4× picture takes a while: off the main loop, like every export */
  task = g_task_new (NULL, op->self->cancellable, upscaled_written_cb, NULL);
  g_task_set_source_tag (task, upscaled_cb);
  g_task_set_task_data (task, op_image_ref (image), (GDestroyNotify) op_image_unref);
  g_object_set_data_full (G_OBJECT (task), "op", g_steal_pointer (&op),
                          (GDestroyNotify) upscale_op_free);
  g_task_run_in_thread (task, upscaled_write_thread);
}

static void
upscale_key_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(UpscaleOp) op = user_data;
  g_autofree char *key = NULL;
  g_autoptr(OpBackend) backend = op_backend_new_for_id ("stability", NULL);
  g_autoptr(GSettings) settings = op_backend_settings_new ("stability");
  g_autofree char *url = g_settings_get_string (settings, "url");
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) picture = NULL;
  OpWindow *self = op->self;

  key = op_keyring_secret_or_environment ("stability", op_keyring_lookup_finish (result, NULL));
  if (backend == NULL || !op_backend_configure_service (backend, url, key, &error))
    {
      op_window_show_error (self, error != NULL ? error->message
                                                : _("Stability AI is not available."));
      return;
    }

  picture = op_image_copy (op_document_get_image (self->document));
  op_parameter_sidebar_set_progress (self->sidebar, TRUE, -1, _("Upscaling with Stability AI…"));
  op_stability_backend_upscale_async (OP_STABILITY_BACKEND (backend), picture, op->factor,
                                      self->cancellable, upscaled_cb, g_steal_pointer (&op));
}

static void
on_export_upscaled_response_cb (GtkFileChooserNative *chooser,
                                int                   response,
                                UpscaleOp            *op)
{
  g_autoptr(UpscaleOp) owned = op;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      op->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      op_keyring_lookup_async ("stability", op->self->cancellable, upscale_key_cb,
                               g_steal_pointer (&owned));
    }

  g_clear_object (&op->self->chooser);
}

static void
export_upscaled_action (GSimpleAction *action,
                        GVariant      *param,
                        gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autofree char *title = NULL;
  g_autofree char *name = NULL;
  UpscaleOp *op;
  char *dot;

  if (self->chooser != NULL || op_document_get_current (self->document) == NULL)
    return;

  op = g_new0 (UpscaleOp, 1);
  op->self = g_object_ref (self);
  op->factor = g_variant_get_int32 (param) == 4 ? 4 : 2;
  op->texts = op_export_dup_texts (op_document_get_current (self->document));

  self->chooser = gtk_file_chooser_native_new (_("Export Enlarged as PNG"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Export"), _("_Cancel"));
  title = op_document_dup_title (self->document);
  if ((dot = strrchr (title, '.')) != NULL)
    *dot = '\0';
  name = g_strdup_printf ("%s-%dx.png", title, op->factor);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_export_upscaled_response_cb), op);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* Margins */

/* The margins that extend the picture to an aspect ratio, split evenly on both sides of
 * the dimension that grows; or a percentage of each side all around. */
static gboolean
preset_margins (const char *preset,
                int         width,
                int         height,
                OpMargins  *m)
{
  double aw, ah;

  *m = (OpMargins) { 0, 0, 0, 0 };

  if (g_strcmp0 (preset, "none") == 0)
    return TRUE;

  if (preset[0] == '+')
    {
      double fraction = g_ascii_strtod (preset + 1, NULL) / 100.0;
      int dx = (int) round (width * fraction), dy = (int) round (height * fraction);

      *m = (OpMargins) { dx, dx, dy, dy };
      return fraction > 0;
    }

  if (sscanf (preset, "%lf:%lf", &aw, &ah) != 2 || aw <= 0 || ah <= 0)
    return FALSE;

  if ((double) width / height < aw / ah)
    {
      int grow = (int) round (height * aw / ah) - width;

      m->left = grow / 2;
      m->right = grow - grow / 2;
    }
  else
    {
      int grow = (int) round (width * ah / aw) - height;

      m->top = grow / 2;
      m->bottom = grow - grow / 2;
    }

  return TRUE;
}

static void
margins_preset_action (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  OpWindow *self = user_data;
  OpImage *image = op_document_get_image (self->document);
  OpMargins margins;

  if (image == NULL ||
      !preset_margins (g_variant_get_string (param, NULL), op_image_get_width (image),
                       op_image_get_height (image), &margins))
    return;

  if (op_image_get_width (image) + margins.left + margins.right > OP_IMAGE_MAX_SIDE ||
      op_image_get_height (image) + margins.top + margins.bottom > OP_IMAGE_MAX_SIDE)
    {
      op_window_show_error (self, _("The extended picture would be larger than 16384 pixels "
                                    "on a side."));
      return;
    }

  op_document_set_margins (self->document, &margins);
  op_canvas_zoom_to_fit (self->canvas);
}

static void
on_margin_spin_changed_cb (OpWindow      *self,
                           GtkSpinButton *spin)
{
  OpMargins m;

  if (self->updating_margins)
    return;

  m.left = gtk_spin_button_get_value_as_int (self->margin_left_spin);
  m.right = gtk_spin_button_get_value_as_int (self->margin_right_spin);
  m.top = gtk_spin_button_get_value_as_int (self->margin_top_spin);
  m.bottom = gtk_spin_button_get_value_as_int (self->margin_bottom_spin);
  op_document_set_margins (self->document, &m);
}

static void
on_document_margins_changed_cb (OpWindow   *self,
                                OpDocument *document)
{
  OpMargins m;

  op_document_get_margins (document, &m);
  self->updating_margins = TRUE;
  gtk_spin_button_set_value (self->margin_left_spin, m.left);
  gtk_spin_button_set_value (self->margin_right_spin, m.right);
  gtk_spin_button_set_value (self->margin_top_spin, m.top);
  gtk_spin_button_set_value (self->margin_bottom_spin, m.bottom);
  self->updating_margins = FALSE;
  _op_window_queue_preview (self);
}

/* The preview of what the backend will see */

typedef struct
{
  OpRect context;
  OpMask *blend;
} Preview;

static void
preview_free (Preview *preview)
{
  g_clear_pointer (&preview->blend, op_mask_unref);
  g_free (preview);
}

static void
preview_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  OpRequest *request = task_data;
  OpBackend *backend = g_object_get_data (G_OBJECT (task), "backend");
  g_autoptr(OpPrepared) prepared = NULL;
  OpSizeRule rule = { 0, };
  GError *error = NULL;
  Preview *preview;

  op_backend_get_size_rule (backend, &rule);
  prepared = op_prepared_new (request, &rule, cancellable, &error);
  if (prepared == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  preview = g_new0 (Preview, 1);
  op_prepared_get_context (prepared, &preview->context);
  preview->blend = op_mask_copy (op_prepared_get_blend (prepared));
  g_task_return_pointer (task, preview, (GDestroyNotify) preview_free);
}

static void
preview_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  Preview *preview;

  preview = g_task_propagate_pointer (G_TASK (result), &error);
  if (preview == NULL)
    {
      /* nothing to send yet (no mask), or superseded: show no context */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_canvas_set_context (self->canvas, NULL, NULL);
      return;
    }

  op_canvas_set_context (self->canvas, &preview->context, preview->blend);
  preview_free (preview);
}

static gboolean
run_preview_cb (gpointer user_data)
{
  OpWindow *self = user_data;
  g_autoptr(OpParams) params = NULL;
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(GTask) task = NULL;
  OpBackend *backend;
  OpImage *image = op_document_get_image (self->document);
  OpMargins margins;

  if (op_document_is_stroking (self->document))
    return G_SOURCE_CONTINUE;

  self->preview_source = 0;
  backend = op_parameter_sidebar_get_backend (self->sidebar);
  if (image == NULL || backend == NULL)
    return G_SOURCE_REMOVE;

  params = op_parameter_sidebar_dup_params (self->sidebar);
  op_document_get_margins (self->document, &margins);
  /* no copy of the picture: the preview only needs the geometry */
  request = op_request_new (image, op_document_get_brush_mask (self->document), &margins,
                            params, NULL);
  if (request == NULL)
    {
      op_canvas_set_context (self->canvas, NULL, NULL);
      return G_SOURCE_REMOVE;
    }

  g_cancellable_cancel (self->preview_cancellable);
  g_clear_object (&self->preview_cancellable);
  self->preview_cancellable = g_cancellable_new ();

  task = g_task_new (NULL, self->preview_cancellable, preview_cb, g_object_ref (self));
  g_task_set_source_tag (task, run_preview_cb);
  g_task_set_task_data (task, op_request_ref (request), (GDestroyNotify) op_request_unref);
  g_object_set_data_full (G_OBJECT (task), "backend", g_object_ref (backend), g_object_unref);
  g_task_run_in_thread (task, preview_thread);

  return G_SOURCE_REMOVE;
}

void
_op_window_queue_preview (OpWindow *self)
{
  g_clear_handle_id (&self->preview_source, g_source_remove);
  self->preview_source = g_timeout_add (PREVIEW_DELAY_MS, run_preview_cb, self);
}

static void
on_changed_queue_preview_cb (OpWindow *self)
{
  _op_window_queue_preview (self);
}

static void
on_document_versions_changed_cb (OpWindow   *self,
                                 OpDocument *document)
{
  gtk_revealer_set_reveal_child (self->strip_revealer,
                                 op_version_strip_get_has_variants (self->strip));
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "compare") == 0 &&
      op_document_get_current (document) != NULL &&
      op_version_is_root (op_document_get_current (document)))
    show_canvas (self);
  _op_window_update_version_actions (self);
  _op_window_queue_preview (self);
}

static const GActionEntry generate_entries[] = {
  { "generate", generate_action },
  { "cancel-generation", cancel_action },
  { "retry-generation", retry_action },
  { "generate-again", generate_again_action },
  { "discard-version", discard_action },
  { "use-as-base", use_as_base_action },
  { "compare", compare_action },
  { "export-variants", export_variants_action },
  { "margins-preset", margins_preset_action, "s" },
  { "export-upscaled", export_upscaled_action, "i" },
  { "edit-blend", NULL, NULL, "false", edit_blend_change_state },
};

void
_op_window_generate_init (OpWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), generate_entries,
                                   G_N_ELEMENTS (generate_entries), self);

  self->worker = op_worker_new ();
  g_signal_connect_object (self->worker, "job-progress",
                           G_CALLBACK (on_worker_job_progress_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->worker, "job-finished",
                           G_CALLBACK (on_worker_job_finished_cb), self, G_CONNECT_SWAPPED);

  self->sidebar = OP_PARAMETER_SIDEBAR (op_parameter_sidebar_new (self->settings));
  gtk_widget_set_hexpand (GTK_WIDGET (self->sidebar), TRUE);
  gtk_box_append (self->sidebar_box, GTK_WIDGET (self->sidebar));
  g_signal_connect_object (self->sidebar, "params-changed",
                           G_CALLBACK (on_changed_queue_preview_cb), self, G_CONNECT_SWAPPED);

  self->strip = OP_VERSION_STRIP (op_version_strip_new ());
  op_version_strip_set_document (self->strip, self->document);
  gtk_widget_set_hexpand (GTK_WIDGET (self->strip), TRUE);
  gtk_box_prepend (self->strip_box, GTK_WIDGET (self->strip));

  self->compare = OP_COMPARE_VIEW (op_compare_view_new ());
  gtk_stack_add_named (self->view_stack, GTK_WIDGET (self->compare), "compare");
  g_signal_connect_object (self->compare, "pick", G_CALLBACK (on_compare_pick_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare, "discard", G_CALLBACK (on_compare_discard_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare, "close", G_CALLBACK (on_compare_close_cb), self,
                           G_CONNECT_SWAPPED);

  g_signal_connect_object (self->document, "versions-changed",
                           G_CALLBACK (on_document_versions_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "margins-changed",
                           G_CALLBACK (on_document_margins_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::mask-target",
                           G_CALLBACK (on_document_mask_target_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "mask-changed",
                           G_CALLBACK (on_changed_queue_preview_cb), self, G_CONNECT_SWAPPED);

  g_signal_connect_object (self->margin_left_spin, "value-changed",
                           G_CALLBACK (on_margin_spin_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->margin_right_spin, "value-changed",
                           G_CALLBACK (on_margin_spin_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->margin_top_spin, "value-changed",
                           G_CALLBACK (on_margin_spin_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->margin_bottom_spin, "value-changed",
                           G_CALLBACK (on_margin_spin_changed_cb), self, G_CONNECT_SWAPPED);

  _op_window_update_version_actions (self);
}

void
_op_window_generate_dispose (OpWindow *self)
{
  g_clear_handle_id (&self->preview_source, g_source_remove);
  g_cancellable_cancel (self->preview_cancellable);
  g_clear_object (&self->preview_cancellable);
  if (self->worker != NULL)
    op_worker_cancel_all (self->worker);
  g_clear_object (&self->worker);
  g_clear_pointer (&self->last_request, op_request_unref);
  g_clear_object (&self->last_backend);
  g_clear_object (&self->last_parent);
}
