/* fuzz-response.h — a server's answer made from the fuzzer's bytes, for the targets of
 * the HTTP layer and the backends.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An answer is written the way it comes over the wire, so the seeds read as what a
 * server sends:
 *
 *     HTTP/1.1 422 Unprocessable Entity\r\n
 *     content-type: application/json\r\n
 *     \r\n
 *     {"detail": …}
 *
 * The status is the number after the first space of the first line; each line up to the
 * first empty one goes through the header parser curl's callback uses; the rest is the
 * body.  Input that does not start with "HTTP/" is the body of a 200 without headers.
 * The backends' targets take one byte before it that picks what is read (see each). */

#pragma once

#include "fuzz-common.h"
#include "op-http-private.h"

/* The request's secrets: whatever an answer echoes of them must be scrubbed. */
static const char * const fuzz_secrets[] = { "sk-fuzz-0123456789abcdef", "user:password",
                                             "password", NULL };

static inline OpHttpResponse *
fuzz_response_new (const uint8_t *data,
                   size_t         size,
                   gboolean       basic_auth)
{
  GHashTable *headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GBytes) body = NULL;
  guint status = 200;
  size_t pos = 0;

  if (size >= 5 && memcmp (data, "HTTP/", 5) == 0)
    {
      const uint8_t *space = memchr (data, ' ', size);

      status = 0;
      if (space != NULL)
        for (const uint8_t *p = space + 1; p < data + size && g_ascii_isdigit (*p) &&
             status < 1000; p++)
          status = status * 10 + (*p - '0');

      /* each line as curl hands it over, the status line and the empty one included */
      while (pos < size)
        {
          const uint8_t *nl = memchr (data + pos, '\n', size - pos);
          size_t end = nl != NULL ? (size_t) (nl - data) + 1 : size;
          gboolean blank = end - pos <= 2 && (data[pos] == '\n' || data[pos] == '\r');

          _op_http_parse_header_line (headers, (const char *) data + pos, end - pos);
          pos = end;
          if (blank)
            break;
        }
    }

  body = g_bytes_new (data + pos, size - pos);
  return _op_http_response_new (status, "http://127.0.0.1:7860/fuzz", headers, body,
                                fuzz_secrets, basic_auth);
}
