/* fuzz-image.c — the picture loader: whatever a user opens or a server sends goes
 * through op_image_new_from_bytes (GdkPixbuf with the size check before decoding, the
 * completeness checks, EXIF orientation, the ICC profile), then is read as a mask, and
 * its PNG text chunks are read as PNG Info does.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a file, any format. */

#include "config.h"

#include "fuzz-common.h"
#include "op-image.h"
#include "op-mask.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GHashTable) texts = NULL;

  image = op_image_new_from_bytes (bytes, &error);
  g_assert ((image == NULL) == (error != NULL));
  g_clear_error (&error);

  if (image != NULL)
    {
      g_autoptr(OpMask) mask = NULL;
      int width = op_image_get_width (image), height = op_image_get_height (image);

      g_assert (width > 0 && height > 0 && width <= OP_IMAGE_MAX_SIDE &&
                height <= OP_IMAGE_MAX_SIDE &&
                (gint64) width * height <= OP_IMAGE_MAX_PIXELS);
      g_assert (op_image_get_size_bytes (image) == (gsize) width * height * 4);

      mask = op_mask_new_from_image (image, &error);
      g_assert ((mask == NULL) == (error != NULL));
      g_clear_error (&error);
    }

  texts = op_png_read_text (bytes, &error);
  g_assert ((texts == NULL) == (error != NULL));

  return 0;
}
