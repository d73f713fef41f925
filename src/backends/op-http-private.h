/* op-http-private.h — what the fuzz targets (tests/fuzz) need of the HTTP layer: an
 * answer made from bytes without a transfer, and the header parser curl's callback uses.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-http.h"

G_BEGIN_DECLS

/* An answer as a transfer would have made it.  @headers (lower-case name → value, as
 * _op_http_parse_header_line fills it) is taken; @body is referenced; @secrets (nullable)
 * are the request's secrets, scrubbed from every message. */
OpHttpResponse *_op_http_response_new      (guint               status,
                                            const char         *url,
                                            GHashTable         *headers,
                                            GBytes             *body,
                                            const char * const *secrets,
                                            gboolean            basic_auth);

/* One header line as curl hands it over ("Name: value\r\n"), into @headers: a status
 * line ("HTTP/…") starts a new set. */
void            _op_http_parse_header_line (GHashTable         *headers,
                                            const char         *data,
                                            gsize               length);

/* The wait before retry @attempt (1, 2, …): the server's Retry-After or a back-off. */
double          _op_http_retry_delay       (OpHttpResponse     *response,
                                            guint               attempt);

G_END_DECLS
