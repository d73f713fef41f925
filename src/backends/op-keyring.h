/* op-keyring.h — API keys in the desktop keyring (libsecret), never anywhere else.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The secret of a backend: an API key, or "user:password" for a self-hosted server. */
void     op_keyring_store_async   (const char          *backend_id,
                                   const char          *secret,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean op_keyring_store_finish  (GAsyncResult        *result,
                                   GError             **error);
/* A NULL or empty secret means "none stored"; then the environment's key applies. */
void     op_keyring_lookup_async  (const char          *backend_id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
char    *op_keyring_lookup_finish (GAsyncResult        *result,
                                   GError             **error);
void     op_keyring_clear_async   (const char          *backend_id,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean op_keyring_clear_finish  (GAsyncResult        *result,
                                   GError             **error);
/* Blocking, for overpaint-cli and threads: the stored secret, else the environment's
 * (STABILITY_API_KEY, OPENAI_API_KEY), else NULL.  A keyring that cannot be reached is
 * not an error here: the environment still applies. */
char    *op_keyring_lookup_sync   (const char          *backend_id);
char    *op_keyring_secret_or_environment (const char *backend_id,
                                           char       *secret);
/* The environment variable a backend's key may come from, or NULL. */
const char *op_keyring_env_name   (const char          *backend_id);

G_END_DECLS
