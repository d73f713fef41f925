/* fuzz-stability.c — the Stability AI backend reading what its service answers: v2beta
 * picture bytes with their finish-reason and seed headers, v1's JSON artifacts, the
 * engine list, the balance, and the error bodies ({"name", "errors"}, {"message"}) of
 * each.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a mode byte, then an answer as fuzz-response.h describes.  Modes: 0 a v2beta
 * picture, 1 a v1 masking answer (artifacts), 2 /v1/engines/list, 3 /v1/user/balance. */

#include "config.h"

#include "fuzz-response.h"
#include "op-stability-backend-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint mode = fuzz_take_mode (&data, &size, 4);
  g_autoptr(OpHttpResponse) response = fuzz_response_new (data, size, FALSE);
  g_autoptr(GError) error = NULL;

  switch (mode)
    {
    case 0:
    case 1:
      {
        gint64 seed = 7;
        g_autoptr(OpImage) image = _op_stability_read_picture (response, mode == 1, &seed,
                                                               &error);

        g_assert ((image == NULL) == (error != NULL));
      }
      break;

    case 2:
      {
        g_auto(GStrv) engines = _op_stability_read_engines (response, &error);

        g_assert ((engines == NULL) == (error != NULL));
      }
      break;

    default:
      {
        double credits = -1;
        gboolean ok = _op_stability_read_balance (response, &credits, &error);

        g_assert (ok == (error == NULL));
      }
      break;
    }

  if (error != NULL && (!g_utf8_validate (error->message, -1, NULL) ||
                        strstr (error->message, fuzz_secrets[0]) != NULL))
    g_printerr ("bad message: %s\n", error->message);
  if (error != NULL)
    g_assert (g_utf8_validate (error->message, -1, NULL) &&
              strstr (error->message, fuzz_secrets[0]) == NULL);

  return 0;
}
