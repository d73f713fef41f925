/* op-ollama-backend-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-http.h"
#include "op-ollama-backend.h"

G_BEGIN_DECLS

/* The backend's reading of a server's answer, without a server: for the fuzz targets
 * (tests/fuzz).  Each is what the request's thread does with the answer it got. */

/* POST /api/generate, whole or streamed as NDJSON: the caption. */
char  *_op_ollama_read_caption (OpHttpResponse  *response,
                                const char      *model,
                                GError         **error);
/* GET /api/tags: the models pulled. */
GStrv  _op_ollama_read_models  (OpHttpResponse  *response,
                                GError         **error);

G_END_DECLS
