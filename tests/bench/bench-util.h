/* bench-util.h — what the benchmarks share: a picture with real texture, timing, and
 * the median line they print.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stdlib.h>
#include <string.h>

#include "op-image.h"

static inline int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static inline void
report (const char *what,
        double     *v,
        guint       n)
{
  qsort (v, n, sizeof (double), cmp_double);
  g_print ("%-58s median %8.1f ms   max %8.1f ms   (n=%u)\n", what, v[n / 2] * 1e3,
           v[n - 1] * 1e3, n);
}

static inline OpImage *
make_picture (int width,
              int height)
{
  g_autofree char *path = g_build_filename (SAMPLES_DIR, "coffee.png", NULL);
  g_autoptr(OpImage) tile = op_image_new_from_file (path, NULL);
  OpImage *image = op_image_new (width, height);
  int tw = op_image_get_width (tile), th = op_image_get_height (tile);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x += tw)
      memcpy (op_image_get_data (image) + (gsize) y * op_image_get_stride (image) + (gsize) x * 4,
              op_image_peek_data (tile) + (gsize) (y % th) * op_image_get_stride (tile),
              (gsize) MIN (tw, width - x) * 4);

  return image;
}

static inline double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

