/* op-automatic1111-backend-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-automatic1111-backend.h"
#include "op-http.h"

G_BEGIN_DECLS

/* How long the server may leave the progress endpoint unanswered before a generation
 * gives up on it (default 120 s); the tests shorten it. */
void _op_automatic1111_backend_set_stall_timeout (OpAutomatic1111Backend *self,
                                                  guint                   seconds);

/* The backend's reading of a server's answer, without a server: for the fuzz targets
 * (tests/fuzz).  Each is what the request's thread does with the answer it got; @api_auth
 * says whether a user name and password were sent. */

/* @list: 0 the models (/sdapi/v1/sd-models), 1 the samplers, 2 the schedulers. */
GStrv      _op_automatic1111_read_list       (OpHttpResponse  *response,
                                              guint            list,
                                              gboolean         api_auth,
                                              GError         **error);
/* An img2img answer for a @width × @height input: OpResult. */
GPtrArray *_op_automatic1111_read_generation (OpHttpResponse  *response,
                                              gboolean         api_auth,
                                              int              width,
                                              int              height,
                                              int              n_variants,
                                              gint64           seed,
                                              GError         **error);
/* A progress answer: the words to show (NULL: nothing), the fraction and the preview. */
char      *_op_automatic1111_read_progress   (OpHttpResponse  *response,
                                              gboolean         seen_steps,
                                              double          *fraction,
                                              OpImage        **preview);
/* An interrogate answer: the caption. */
char      *_op_automatic1111_read_caption    (OpHttpResponse  *response,
                                              gboolean         api_auth,
                                              const char      *model,
                                              GError         **error);

G_END_DECLS
