/* op-view-util.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-view"

#include "config.h"

#include <math.h>

#include "op-view-util.h"

double
op_view_zoom_step (double zoom,
                   int    direction)
{
  double level = round (log (zoom) / log (G_SQRT2));

  return pow (G_SQRT2, level + direction);
}

void
op_view_append_checkerboard (GtkSnapshot           *snapshot,
                             const graphene_rect_t *area,
                             float                  size,
                             float                  light,
                             float                  dark)
{
  const GdkRGBA l = { light, light, light, 1.0 };
  const GdkRGBA d = { dark, dark, dark, 1.0 };
  const float x = area->origin.x, y = area->origin.y;

  gtk_snapshot_push_repeat (snapshot, area, &GRAPHENE_RECT_INIT (x, y, 2 * size, 2 * size));
  gtk_snapshot_append_color (snapshot, &l, &GRAPHENE_RECT_INIT (x, y, 2 * size, 2 * size));
  gtk_snapshot_append_color (snapshot, &d, &GRAPHENE_RECT_INIT (x + size, y, size, size));
  gtk_snapshot_append_color (snapshot, &d, &GRAPHENE_RECT_INIT (x, y + size, size, size));
  gtk_snapshot_pop (snapshot);
}
