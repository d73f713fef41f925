/* fuzz-ollama.c — the Ollama backend reading what its server answers: a caption from
 * /api/generate, whole or streamed as NDJSON (Content-Type: application/x-ndjson), the
 * model list from /api/tags, and the {"error"} bodies.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a mode byte, then an answer as fuzz-response.h describes.  Modes: 0 a caption,
 * 1 the models. */

#include "config.h"

#include "fuzz-response.h"
#include "op-ollama-backend-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint mode = fuzz_take_mode (&data, &size, 2);
  g_autoptr(OpHttpResponse) response = fuzz_response_new (data, size, FALSE);
  g_autoptr(GError) error = NULL;

  if (mode == 0)
    {
      g_autofree char *caption = _op_ollama_read_caption (response, "llava", &error);

      g_assert ((caption == NULL) == (error != NULL));
    }
  else
    {
      g_auto(GStrv) models = _op_ollama_read_models (response, &error);

      g_assert ((models == NULL) == (error != NULL));
    }

  if (error != NULL)
    g_assert (g_utf8_validate (error->message, -1, NULL));

  return 0;
}
