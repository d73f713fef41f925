/* op-automatic1111-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_AUTOMATIC1111_BACKEND (op_automatic1111_backend_get_type ())

/* The Stable Diffusion web UI's API (AUTOMATIC1111, Forge): self-hosted, started with
 * --api.  Properties: "url" (default http://127.0.0.1:7860) and "api-auth" ("user:pass"
 * for --api-auth, nullable, never shown). */
G_DECLARE_FINAL_TYPE (OpAutomatic1111Backend, op_automatic1111_backend,
                      OP, AUTOMATIC1111_BACKEND, GObject)

OpBackend *op_automatic1111_backend_new                  (void);

/* The sampler names the server offers (/sdapi/v1/samplers), for OpParams.sampler. */
void       op_automatic1111_backend_list_samplers_async   (OpAutomatic1111Backend *self,
                                                          GCancellable           *cancellable,
                                                          GAsyncReadyCallback     callback,
                                                          gpointer                user_data);
GStrv      op_automatic1111_backend_list_samplers_finish  (OpAutomatic1111Backend *self,
                                                          GAsyncResult           *result,
                                                          GError                **error);

/* The schedulers' labels (/sdapi/v1/schedulers, web UI 1.9 and later; older versions
 * fail with OP_BACKEND_ERROR_NOT_SUPPORTED). */
void       op_automatic1111_backend_list_schedulers_async  (OpAutomatic1111Backend *self,
                                                           GCancellable           *cancellable,
                                                           GAsyncReadyCallback     callback,
                                                           gpointer                user_data);
GStrv      op_automatic1111_backend_list_schedulers_finish (OpAutomatic1111Backend *self,
                                                           GAsyncResult           *result,
                                                           GError                **error);

G_END_DECLS
