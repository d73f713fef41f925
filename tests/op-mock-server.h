/* op-mock-server.h — a libsoup 3 server on 127.0.0.1 for the backends' tests.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The server listens on 127.0.0.1 on a port the system picks, and runs its own main
 * context in its own thread, so the client under test may block the test's thread
 * (the backends make blocking calls from worker threads).  Handlers run in the server's
 * thread. */
typedef struct _OpMockServer OpMockServer;

OpMockServer *op_mock_server_new          (void);
void          op_mock_server_free         (OpMockServer       *self);
/* "http://127.0.0.1:PORT", no trailing slash. */
const char   *op_mock_server_get_url      (OpMockServer       *self);
GMainContext *op_mock_server_get_context  (OpMockServer       *self);
void          op_mock_server_add_handler  (OpMockServer       *self,
                                           const char         *path,
                                           SoupServerCallback  callback,
                                           gpointer            user_data);
/* Runs @func in the server's thread and waits for it (to change the mock's state). */
void          op_mock_server_invoke       (OpMockServer       *self,
                                           GSourceFunc         func,
                                           gpointer            user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMockServer, op_mock_server_free)

G_END_DECLS
