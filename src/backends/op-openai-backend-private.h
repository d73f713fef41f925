/* op-openai-backend-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-http.h"
#include "op-openai-backend.h"

G_BEGIN_DECLS

/* The backend's reading of a server's answer, without a server: for the fuzz targets
 * (tests/fuzz).  Each is what the request's thread does with the answer it got. */

/* An images/edits answer for @n pictures of @width × @height: OpResult. */
GPtrArray *_op_openai_read_generation   (OpHttpResponse  *response,
                                         int              width,
                                         int              height,
                                         int              n,
                                         gint64           seed,
                                         GError         **error);
/* A chat/completions answer describing a picture: the caption. */
char      *_op_openai_read_caption      (OpHttpResponse  *response,
                                         GError         **error);
/* Whether a busy-looking answer says the account is empty (no retry then). */
gboolean   _op_openai_is_out_of_credits (OpHttpResponse  *response);

G_END_DECLS
