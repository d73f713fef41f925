/* fuzz-automatic1111.c — the AUTOMATIC1111 (Stable Diffusion web UI) backend reading what
 * its server answers: the lists, an img2img answer, the progress, a caption, and the
 * error bodies of each.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a mode byte, then an answer as fuzz-response.h describes.  Modes: 0 the models
 * (/sdapi/v1/sd-models), 1 the samplers, 2 the schedulers, 3 an img2img answer for a
 * 32 × 32 input and up to 4 variants, 4 the progress, 5 an interrogate answer.  The
 * length's lowest bit says whether --api-auth's user name and password were sent. */

#include "config.h"

#include "fuzz-response.h"
#include "op-automatic1111-backend-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint mode = fuzz_take_mode (&data, &size, 6);
  gboolean api_auth = size & 1;
  g_autoptr(OpHttpResponse) response = fuzz_response_new (data, size, api_auth);
  g_autoptr(GError) error = NULL;

  switch (mode)
    {
    case 0:
    case 1:
    case 2:
      {
        g_auto(GStrv) names = _op_automatic1111_read_list (response, mode, api_auth, &error);

        g_assert ((names == NULL) == (error != NULL));
        for (guint i = 0; names != NULL && names[i] != NULL; i++)
          g_assert (names[i][0] != '\0');
      }
      break;

    case 3:
      {
        g_autoptr(GPtrArray) results = NULL;

        results = _op_automatic1111_read_generation (response, api_auth, 32, 32, 4, 1234,
                                                     &error);
        g_assert ((results == NULL) == (error != NULL));
        g_assert (results == NULL || (results->len >= 1 && results->len <= 4));
      }
      break;

    case 4:
      {
        g_autoptr(OpImage) preview = NULL;
        g_autofree char *text = NULL;
        double fraction = 0;

        text = _op_automatic1111_read_progress (response, size & 2, &fraction, &preview);
        g_assert (text != NULL || preview == NULL);
        g_assert (text == NULL || fraction == -1.0 || (fraction >= 0.0 && fraction <= 1.0));
      }
      break;

    default:
      {
        g_autofree char *caption = _op_automatic1111_read_caption (response, api_auth, "clip",
                                                                   &error);

        g_assert ((caption == NULL) == (error != NULL));
      }
      break;
    }

  if (error != NULL)
    g_assert (g_utf8_validate (error->message, -1, NULL));

  return 0;
}
