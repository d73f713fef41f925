/* op-stability-backend-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-http.h"
#include "op-stability-backend.h"

G_BEGIN_DECLS

/* The backend's reading of a server's answer, without a server: for the fuzz targets
 * (tests/fuzz).  Each is what the request's thread does with the answer it got. */

/* A generation's or an upscale's answer: v1 masking's JSON artifacts when @artifacts,
 * else v2beta's picture bytes with finish-reason and seed headers.  @seed is updated
 * when the answer names one. */
OpImage  *_op_stability_read_picture (OpHttpResponse  *response,
                                      gboolean         artifacts,
                                      gint64          *seed,
                                      GError         **error);
/* GET /v1/engines/list: the engines that inpaint. */
GStrv     _op_stability_read_engines (OpHttpResponse  *response,
                                      GError         **error);
/* GET /v1/user/balance. */
gboolean  _op_stability_read_balance (OpHttpResponse  *response,
                                      double          *credits,
                                      GError         **error);

G_END_DECLS
