/* op-view-util.h — what every view of a picture (canvas, compare view, thumbnails)
 * draws and computes the same way.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* One zoom step: ×√2 (or ÷), snapped to that ladder so 100 % and 200 % stay reachable
 * from any zoom. */
double op_view_zoom_step              (double                 zoom,
                                       int                    direction);

/* The transparency checkerboard over @area, squares of @size pixels; @light and @dark
 * shades (0…1) so thumbnails can be quieter than the canvas. */
void   op_view_append_checkerboard    (GtkSnapshot           *snapshot,
                                       const graphene_rect_t *area,
                                       float                  size,
                                       float                  light,
                                       float                  dark);

G_END_DECLS
