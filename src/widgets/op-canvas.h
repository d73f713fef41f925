/* op-canvas.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "op-document.h"

G_BEGIN_DECLS

#define OP_TYPE_CANVAS (op_canvas_get_type ())

G_DECLARE_FINAL_TYPE (OpCanvas, op_canvas, OP, CANVAS, GtkWidget)

#define OP_CANVAS_ZOOM_MIN (1.0 / 64.0)
#define OP_CANVAS_ZOOM_MAX 64.0

GtkWidget  *op_canvas_new               (OpDocument *document);
OpDocument *op_canvas_get_document      (OpCanvas   *self);
void        op_canvas_set_document      (OpCanvas   *self,
                                         OpDocument *document);

double      op_canvas_get_zoom          (OpCanvas   *self);
void        op_canvas_set_zoom          (OpCanvas   *self,
                                         double      zoom);
void        op_canvas_zoom_at           (OpCanvas   *self,
                                         double      zoom,
                                         double      widget_x,
                                         double      widget_y);
void        op_canvas_zoom_in           (OpCanvas   *self);
void        op_canvas_zoom_out          (OpCanvas   *self);
void        op_canvas_zoom_to_fit       (OpCanvas   *self);
void        op_canvas_pan               (OpCanvas   *self,
                                         double      dx,
                                         double      dy);

void        op_canvas_widget_to_image   (OpCanvas   *self,
                                         double      widget_x,
                                         double      widget_y,
                                         double     *image_x,
                                         double     *image_y);
void        op_canvas_image_to_widget   (OpCanvas   *self,
                                         double      image_x,
                                         double      image_y,
                                         double     *widget_x,
                                         double     *widget_y);

/* The current tool applied at widget coordinates, as the pointer does it. */
void        op_canvas_tool_begin        (OpCanvas   *self,
                                         double      widget_x,
                                         double      widget_y,
                                         double      pressure);
void        op_canvas_tool_motion       (OpCanvas   *self,
                                         double      widget_x,
                                         double      widget_y,
                                         double      pressure);
void        op_canvas_tool_end          (OpCanvas   *self);

void        op_canvas_set_context       (OpCanvas     *self,
                                         const OpRect *context,
                                         const OpMask *band);
void        op_canvas_set_live_preview  (OpCanvas     *self,
                                         OpImage      *preview);
void        op_canvas_get_margins       (OpCanvas     *self,
                                         OpMargins    *margins);
void        op_canvas_drag_margin       (OpCanvas     *self,
                                         GtkPositionType side,
                                         double        widget_dx,
                                         double        widget_dy);

G_END_DECLS
