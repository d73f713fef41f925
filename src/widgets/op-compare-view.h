/* op-compare-view.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "op-version.h"

G_BEGIN_DECLS

#define OP_TYPE_COMPARE_VIEW (op_compare_view_get_type ())

#define OP_COMPARE_VIEW_MAX_VERSIONS 4

/* Two to four versions side by side (1×2, 1×3, 2×2) sharing one zoom and pan, or a wipe
 * between a variant and its parent ("Before" left of a divider the user drags, "After"
 * right of it).  Pictures line up by what they show: an outpainted variant is larger
 * than its parent, and the parent sits at the variant's margins.
 *
 * Signals: pick (OpVersion*), discard (OpVersion*), close ().
 * Properties: focused-index, wipe, zoom, divider.
 * Actions (keys): compare.move (ii) (arrows), compare.pick (Enter),
 *   compare.pick-number (u) (1…8: the variant with that number), compare.discard (Delete),
 *   compare.close (Escape), compare.toggle-wipe (W), compare.zoom-fit (0),
 *   compare.zoom-100 (Ctrl+1), compare.zoom-in (+), compare.zoom-out (-). */
G_DECLARE_FINAL_TYPE (OpCompareView, op_compare_view, OP, COMPARE_VIEW, GtkWidget)

GtkWidget *op_compare_view_new               (void);
void       op_compare_view_set_versions      (OpCompareView  *self,
                                              OpVersion     **versions,
                                              guint           n_versions);
guint      op_compare_view_get_n_versions    (OpCompareView  *self);
OpVersion *op_compare_view_get_version       (OpCompareView  *self,
                                              guint           index);
void       op_compare_view_set_wipe          (OpCompareView  *self,
                                              OpVersion      *variant);
gboolean   op_compare_view_get_wipe          (OpCompareView  *self);
guint      op_compare_view_get_focused_index (OpCompareView  *self);
void       op_compare_view_set_focused_index (OpCompareView  *self,
                                              guint           index);
OpVersion *op_compare_view_get_focused       (OpCompareView  *self);

double     op_compare_view_get_zoom          (OpCompareView  *self);
void       op_compare_view_zoom_at           (OpCompareView  *self,
                                              double          zoom,
                                              double          widget_x,
                                              double          widget_y);
void       op_compare_view_zoom_to_fit       (OpCompareView  *self);
void       op_compare_view_pan               (OpCompareView  *self,
                                              double          dx,
                                              double          dy);
/* Where the pixel (@x, @y) of the @index-th picture shows (side by side: the index-th
 * cell; wipe: 0 is the parent, 1 the variant). */
void       op_compare_view_image_to_widget   (OpCompareView  *self,
                                              guint           index,
                                              double          x,
                                              double          y,
                                              double         *widget_x,
                                              double         *widget_y);
/* Where the wipe divider is, as a fraction of the width. */
double     op_compare_view_get_divider       (OpCompareView  *self);
void       op_compare_view_set_divider       (OpCompareView  *self,
                                              double          divider);

G_END_DECLS
