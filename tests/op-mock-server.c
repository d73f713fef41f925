/* op-mock-server.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mock-server"

#include "config.h"

#include "op-mock-server.h"

/* SoupServer is not thread-safe: everything that touches it runs in the server's thread,
 * and the test's thread only waits there through op_mock_server_invoke(). */

struct _OpMockServer
{
  /* Owned references */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;        /* used only in the server's thread */
  char *url;

  GMutex lock;
  GCond cond;
  gboolean ready;
};

/* One call waiting for the server's thread. */
typedef struct
{
  GSourceFunc func;
  gpointer user_data;
  GMutex *lock;
  GCond *cond;
  gboolean done;
} OpMockCall;

typedef struct
{
  OpMockServer *self;
  const char *path;
  SoupServerCallback callback;
  gpointer user_data;
} OpMockHandler;

static char *
listen_on_loopback (SoupServer *server)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;
  char *url;

  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("The mock server could not listen on 127.0.0.1: %s", error->message);

  uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return url;
}

static gpointer
server_thread (gpointer data)
{
  OpMockServer *self = data;

  /* Sources the server creates attach to the thread-default context. */
  g_main_context_push_thread_default (self->context);

  self->server = soup_server_new ("server-header", "op-mock-server ", NULL);

  g_mutex_lock (&self->lock);
  self->url = listen_on_loopback (self->server);
  self->ready = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  g_main_loop_run (self->loop);

  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  while (g_main_context_iteration (self->context, FALSE))
    ;

  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static gboolean
run_call_cb (gpointer data)
{
  OpMockCall *call = data;

  call->func (call->user_data);

  g_mutex_lock (call->lock);
  call->done = TRUE;
  g_cond_broadcast (call->cond);
  g_mutex_unlock (call->lock);

  return G_SOURCE_REMOVE;
}

static gboolean
add_handler_cb (gpointer data)
{
  OpMockHandler *handler = data;

  soup_server_add_handler (handler->self->server, handler->path, handler->callback,
                           handler->user_data, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer data)
{
  OpMockServer *self = data;

  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

OpMockServer *
op_mock_server_new (void)
{
  OpMockServer *self = g_new0 (OpMockServer, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("mock-server", server_thread, self);

  g_mutex_lock (&self->lock);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  return self;
}

/* Connections still open (a handler that paused its message) are closed with the
 * server. */
void
op_mock_server_free (OpMockServer *self)
{
  if (self == NULL)
    return;

  op_mock_server_invoke (self, quit_cb, self);
  g_thread_join (self->thread);

  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_free (self->url);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

const char *
op_mock_server_get_url (OpMockServer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->url;
}

GMainContext *
op_mock_server_get_context (OpMockServer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->context;
}

void
op_mock_server_add_handler (OpMockServer       *self,
                            const char         *path,
                            SoupServerCallback  callback,
                            gpointer            user_data)
{
  OpMockHandler handler = { self, path, callback, user_data };

  g_return_if_fail (self != NULL);
  g_return_if_fail (callback != NULL);

  op_mock_server_invoke (self, add_handler_cb, &handler);
}

void
op_mock_server_invoke (OpMockServer *self,
                       GSourceFunc   func,
                       gpointer      user_data)
{
  OpMockCall call = { func, user_data, &self->lock, &self->cond, FALSE };
  g_autoptr(GSource) source = NULL;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  /* From a handler, we are already there; waiting would deadlock. */
  if (g_main_context_is_owner (self->context))
    {
      func (user_data);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, run_call_cb, &call, NULL);
  g_source_attach (source, self->context);

  g_mutex_lock (&self->lock);
  while (!call.done)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}
