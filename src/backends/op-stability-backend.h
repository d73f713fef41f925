/* op-stability-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_STABILITY_BACKEND (op_stability_backend_get_type ())

/* Stability AI's REST API: v2beta stable-image edit (inpaint, native outpaint) or the v1
 * masking endpoint with an engine from /v1/engines/list, and v2beta upscale for
 * "Export at 2×/4×".  Properties: "url", "api-key" (write-only), "endpoint" ("inpaint"
 * or "v1-masking"), "engine", "style-preset", "creativity", "stall-timeout". */
G_DECLARE_FINAL_TYPE (OpStabilityBackend, op_stability_backend, OP, STABILITY_BACKEND, GObject)

OpBackend *op_stability_backend_new            (void);

/* Upscales @picture by @factor (2 or 4) with Stability's fast upscaler; the answer is
 * exactly @factor times the picture's size. */
void       op_stability_backend_upscale_async  (OpStabilityBackend  *self,
                                                OpImage             *picture,
                                                int                  factor,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
OpImage   *op_stability_backend_upscale_finish (OpStabilityBackend  *self,
                                                GAsyncResult        *result,
                                                GError             **error);

void       op_stability_backend_get_balance_async  (OpStabilityBackend  *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean   op_stability_backend_get_balance_finish (OpStabilityBackend  *self,
                                                   GAsyncResult        *result,
                                                   double              *credits,
                                                   GError             **error);

G_END_DECLS
