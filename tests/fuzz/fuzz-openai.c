/* fuzz-openai.c — the OpenAI backend reading what its service answers: an images/edits
 * answer ({"data": [{"b64_json"}]}), a chat/completions caption, the "out of credits"
 * test on busy answers, and the error bodies ({"error": {"message", "code"}}).
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a mode byte, then an answer as fuzz-response.h describes.  Modes: 0 an edit
 * answer for up to 4 pictures of 32 × 32, 1 a caption, 2 is it out of credits. */

#include "config.h"

#include "fuzz-response.h"
#include "op-openai-backend-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint mode = fuzz_take_mode (&data, &size, 3);
  g_autoptr(OpHttpResponse) response = fuzz_response_new (data, size, FALSE);
  g_autoptr(GError) error = NULL;

  switch (mode)
    {
    case 0:
      {
        g_autoptr(GPtrArray) results = _op_openai_read_generation (response, 32, 32, 4, 99,
                                                                   &error);

        g_assert ((results == NULL) == (error != NULL));
        g_assert (results == NULL || (results->len >= 1 && results->len <= 4));
      }
      break;

    case 1:
      {
        g_autofree char *caption = _op_openai_read_caption (response, &error);

        g_assert ((caption == NULL) == (error != NULL));
      }
      break;

    default:
      (void) _op_openai_is_out_of_credits (response);
      break;
    }

  if (error != NULL)
    g_assert (g_utf8_validate (error->message, -1, NULL) &&
              strstr (error->message, fuzz_secrets[0]) == NULL);

  return 0;
}
