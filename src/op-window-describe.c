/* op-window-describe.c — the window's prompt suggestion panel
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "op-keyring.h"
#include "op-window-private.h"

/* Mask strokes come many a second: the analysis waits for a pause. */
#define ANALYSE_DELAY_MS 300

static gboolean
update_picture_cb (gpointer user_data)
{
  OpWindow *self = user_data;
  OpMargins margins;

  self->suggestions_source = 0;
  op_document_get_margins (self->document, &margins);
  op_prompt_suggestions_set_picture (self->suggestions, op_document_get_image (self->document),
                                     op_document_get_brush_mask (self->document), &margins);

  return G_SOURCE_REMOVE;
}

static void
queue_update (OpWindow *self)
{
  if (self->suggestions_source != 0 || op_document_is_stroking (self->document))
    {
      /* a stroke in progress: start the wait again */
      g_clear_handle_id (&self->suggestions_source, g_source_remove);
    }
  self->suggestions_source = g_timeout_add (ANALYSE_DELAY_MS, update_picture_cb, self);
}

static void
on_params_changed_cb (OpWindow *self)
{
  op_prompt_suggestions_set_backend (self->suggestions, op_parameter_sidebar_get_backend (self->sidebar));
  op_prompt_suggestions_set_prompt (self->suggestions, op_parameter_sidebar_get_prompt (self->sidebar));
}

static void
on_insert_phrase_cb (OpWindow   *self,
                     const char *phrase,
                     gboolean    negative)
{
  op_parameter_sidebar_insert_phrase (self->sidebar, phrase, negative);
}

static void
on_use_all_cb (OpWindow   *self,
               const char *caption)
{
  op_parameter_sidebar_set_prompt (self->sidebar, caption);
}

typedef struct
{
  OpWindow  *self;
  OpBackend *backend;
} PendingDescribe;

/* The backend gets its address and login (the keyring's, else the environment's) just
 * before describing, as it does before generating. */
static void
secret_found_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PendingDescribe *pending = user_data;
  const char *id = op_backend_get_id (pending->backend);
  g_autoptr(GSettings) settings = op_backend_settings_new (id);
  g_autofree char *secret = op_keyring_secret_or_environment (id, op_keyring_lookup_finish (result, NULL));
  g_autofree char *url = settings != NULL ? g_settings_get_string (settings, "url") : NULL;
  g_autoptr(GError) error = NULL;

  if (!op_backend_configure_service (pending->backend, url, secret, &error))
    op_window_show_error (pending->self, error->message);
  else
    op_prompt_suggestions_describe (pending->self->suggestions);

  g_object_unref (pending->self);
  g_object_unref (pending->backend);
  g_free (pending);
}

static void
on_describe_requested_cb (OpWindow *self)
{
  OpBackend *backend = op_prompt_suggestions_get_describer (self->suggestions);
  PendingDescribe *pending;

  if (backend == NULL)
    return;

  /* the picture as it is now, not as it was at the last pause */
  g_clear_handle_id (&self->suggestions_source, g_source_remove);
  update_picture_cb (self);

  pending = g_new0 (PendingDescribe, 1);
  pending->self = g_object_ref (self);
  pending->backend = g_object_ref (backend);
  op_keyring_lookup_async (op_backend_get_id (backend), self->cancellable, secret_found_cb, pending);
}

void
_op_window_remember_prompt (OpWindow   *self,
                            const char *prompt)
{
  g_autoptr(GError) error = NULL;

  if (prompt == NULL || *prompt == '\0')
    return;

  op_prompt_history_add (self->history, prompt, g_get_real_time ());
  /* a small file; losing it loses no picture, so a failure is only logged */
  if (!op_prompt_history_save (self->history, &error))
    g_message ("%s", error->message);
}

void
_op_window_describe_init (OpWindow *self)
{
  g_autoptr(GError) error = NULL;

  self->history = op_prompt_history_new (NULL);
  if (!op_prompt_history_load (self->history, &error))
    g_message ("%s", error->message);
  op_parameter_sidebar_set_history (self->sidebar, self->history);

  self->suggestions = OP_PROMPT_SUGGESTIONS (op_prompt_suggestions_new ());
  op_parameter_sidebar_add_below_prompt (self->sidebar, GTK_WIDGET (self->suggestions));
  op_prompt_suggestions_set_history (self->suggestions, self->history);

  g_signal_connect_object (self->suggestions, "insert-phrase", G_CALLBACK (on_insert_phrase_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->suggestions, "use-all", G_CALLBACK (on_use_all_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->suggestions, "describe-requested",
                           G_CALLBACK (on_describe_requested_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sidebar, "params-changed", G_CALLBACK (on_params_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "image-changed", G_CALLBACK (queue_update), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "mask-changed", G_CALLBACK (queue_update), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "margins-changed", G_CALLBACK (queue_update), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "versions-changed", G_CALLBACK (queue_update), self,
                           G_CONNECT_SWAPPED);

  on_params_changed_cb (self);
  queue_update (self);
}

void
_op_window_describe_dispose (OpWindow *self)
{
  g_clear_handle_id (&self->suggestions_source, g_source_remove);
  g_clear_object (&self->history);
}
