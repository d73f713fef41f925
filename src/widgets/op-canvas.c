/* op-canvas.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-canvas"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-canvas-private.h"
#include "op-tile-cache.h"
#include "op-view-util.h"

#define ZOOM_STEP G_SQRT2
#define FIT_MARGIN 24.0
#define CHECKER_SIZE 8.0
#define SCROLL_STEP 48.0

typedef enum
{
  TOOL_BRUSH,
  TOOL_ERASER,
  TOOL_RECTANGLE,
  TOOL_LASSO,
} Tool;

static const char *tool_names[] = { "brush", "eraser", "rectangle", "lasso" };
static const guint tool_keys[] = { GDK_KEY_b, GDK_KEY_e, GDK_KEY_r, GDK_KEY_l };

struct _OpCanvas
{
  GtkWidget parent_instance;

  /* Owned references */
  OpDocument *document;
  OpTileCache *tiles;
  GArray *lasso;          /* image-space x, y pairs */

  int image_width;
  int image_height;

  /* View: widget = image * zoom + offset */
  double zoom;
  double offset_x;
  double offset_y;
  gboolean fit;

  /* Tool settings */
  Tool tool;
  double brush_size;
  double brush_hardness;
  double brush_opacity;
  double brush_spacing;
  OpMaskMode selection_mode;
  GdkRGBA mask_color;
  double mask_opacity;
  gboolean mask_visible;

  /* Interaction */
  double pointer_x;
  double pointer_y;
  gboolean pointer_inside;
  gboolean space_held;
  gboolean panning;
  gboolean tool_active;
  double drag_start_x;
  double drag_start_y;
  double drag_offset_x;
  double drag_offset_y;
  double rect_x0, rect_y0, rect_x1, rect_y1;   /* image space */
  double pinch_zoom;

  /* Outpainting: the margins shown (the document's, or the one being dragged) */
  OpMargins margins;
  int drag_edge;              /* EDGE_NONE or the edge whose handle is dragged */
  OpMargins drag_margins;
  int hover_edge;

  /* What the backend will see, computed by the window off the main loop */
  gboolean has_context;
  OpRect context;
  GdkTexture *band;           /* the feather band over the context, tinted */
  GdkTexture *live;           /* the backend's picture in the making, over the context */
};

enum {
  EDGE_NONE = -1,
  EDGE_LEFT,
  EDGE_RIGHT,
  EDGE_TOP,
  EDGE_BOTTOM,
};

#define HANDLE_LENGTH 36.0
#define HANDLE_THICKNESS 8.0
#define HANDLE_REACH 12.0

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_ZOOM,
  PROP_TOOL,
  PROP_BRUSH_SIZE,
  PROP_BRUSH_HARDNESS,
  PROP_BRUSH_OPACITY,
  PROP_BRUSH_SPACING,
  PROP_SELECTION_MODE,
  PROP_MASK_COLOR,
  PROP_MASK_OPACITY,
  PROP_MASK_VISIBLE,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (OpCanvas, op_canvas, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

/* Tiles */

/* The feather band: where the blend mask is neither 0 nor 255, a warm tint whose
 * strength follows how far the result fades there. */
static GdkTexture *
band_texture (const OpMask *band)
{
  int w = op_mask_get_width (band), h = op_mask_get_height (band);
  const guint8 *src = op_mask_peek_data (band);
  g_autoptr(GBytes) bytes = NULL;
  guint8 *rgba = g_malloc ((gsize) w * h * 4);

  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      guint8 v = src[i];

      rgba[4 * i + 0] = 246;
      rgba[4 * i + 1] = 211;
      rgba[4 * i + 2] = 45;
      rgba[4 * i + 3] = v == 0 || v == 255 ? 0 : (guint8) (60 + (v < 128 ? v : 255 - v));
    }

  bytes = g_bytes_new_take (rgba, (gsize) w * h * 4);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8A8, bytes, w * 4);
}

static void
on_pyramid_ready_cb (gpointer cache,
                     gpointer user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static void
update_overlay_style (OpCanvas *self)
{
  /* a variant's blend mask shows in green, so it is never taken for the brush mask */
  static const GdkRGBA blend_color = { 0.20, 0.82, 0.48, 1.0 };
  gboolean blend;

  if (self->tiles == NULL)
    return;

  blend = op_document_get_mask_target (self->document) == OP_MASK_TARGET_BLEND;
  op_tile_cache_set_overlay (self->tiles, blend ? &blend_color : &self->mask_color,
                             self->mask_opacity);
}

/* The overlay shows the mask edits paint on: the brush mask, or a variant's blend mask
 * placed at its patch. */
static void
update_tile_mask (OpCanvas *self)
{
  int x, y;

  op_document_get_mask_origin (self->document, &x, &y);
  op_tile_cache_set_mask (self->tiles, op_document_get_mask (self->document), x, y);
}

static void
rebuild_tiles (OpCanvas *self)
{
  OpImage *image = NULL;

  g_clear_pointer (&self->tiles, op_tile_cache_free);

  if (self->document != NULL)
    image = op_document_get_image (self->document);

  if (image == NULL)
    {
      self->image_width = self->image_height = 0;
      return;
    }

  self->image_width = op_image_get_width (image);
  self->image_height = op_image_get_height (image);
  self->tiles = op_tile_cache_new (image, NULL, on_pyramid_ready_cb, self);
  update_tile_mask (self);
  update_overlay_style (self);
}

/* The part of the picture inside the widget, in picture pixels. */
static gboolean
visible_area (OpCanvas *self,
              OpRect   *area)
{
  double x0, y0, x1, y1;
  OpRect all = { 0, 0, self->image_width, self->image_height };
  OpRect view;

  op_canvas_widget_to_image (self, 0, 0, &x0, &y0);
  op_canvas_widget_to_image (self, gtk_widget_get_width (GTK_WIDGET (self)),
                             gtk_widget_get_height (GTK_WIDGET (self)), &x1, &y1);
  view.x = (int) floor (x0);
  view.y = (int) floor (y0);
  view.width = (int) ceil (x1) - view.x;
  view.height = (int) ceil (y1) - view.y;

  return op_rect_intersect (&all, &view, area);
}

guint
_op_canvas_update_mask_tiles (OpCanvas *self,
                              gboolean  all)
{
  OpRect area;
  int level;

  if (self->tiles == NULL)
    return 0;

  level = op_tile_cache_level_for_zoom (self->tiles, self->zoom > 1.0 ? 1.0 : self->zoom);
  if (all)
    return op_tile_cache_update_mask (self->tiles, level, NULL);
  if (!visible_area (self, &area))
    return 0;

  return op_tile_cache_update_mask (self->tiles, level, &area);
}

guint
_op_canvas_get_n_dirty_tiles (OpCanvas *self)
{
  if (self->tiles == NULL)
    return 0;

  return op_tile_cache_get_n_dirty (self->tiles,
                                    op_tile_cache_level_for_zoom (self->tiles, self->zoom));
}

gboolean
_op_canvas_has_pyramid (OpCanvas *self)
{
  return self->tiles == NULL || op_tile_cache_has_pyramid (self->tiles);
}

/* View */

static double
fit_zoom (OpCanvas *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self)) - 2 * FIT_MARGIN;
  double h = gtk_widget_get_height (GTK_WIDGET (self)) - 2 * FIT_MARGIN;

  double ew = self->image_width + self->margins.left + self->margins.right;
  double eh = self->image_height + self->margins.top + self->margins.bottom;

  if (self->image_width == 0 || w <= 0 || h <= 0)
    return 1.0;

  return CLAMP (MIN (w / ew, h / eh), OP_CANVAS_ZOOM_MIN, OP_CANVAS_ZOOM_MAX);
}

/* Fits the picture with its margins, centred. */
static void
apply_fit (OpCanvas *self)
{
  double ew = self->image_width + self->margins.left + self->margins.right;
  double eh = self->image_height + self->margins.top + self->margins.bottom;

  self->zoom = fit_zoom (self);
  self->offset_x = round ((gtk_widget_get_width (GTK_WIDGET (self)) - ew * self->zoom) / 2.0 +
                          self->margins.left * self->zoom);
  self->offset_y = round ((gtk_widget_get_height (GTK_WIDGET (self)) - eh * self->zoom) / 2.0 +
                          self->margins.top * self->zoom);
}

/* The extended canvas (picture plus margins) in widget coordinates. */
static graphene_rect_t
extended_rect (OpCanvas *self)
{
  const OpMargins *m = &self->margins;

  return GRAPHENE_RECT_INIT (self->offset_x - m->left * self->zoom,
                             self->offset_y - m->top * self->zoom,
                             (self->image_width + m->left + m->right) * self->zoom,
                             (self->image_height + m->top + m->bottom) * self->zoom);
}

static graphene_rect_t
handle_rect (OpCanvas *self,
             int       edge)
{
  graphene_rect_t e = extended_rect (self);
  double cx = e.origin.x + e.size.width / 2, cy = e.origin.y + e.size.height / 2;

  switch (edge)
    {
    case EDGE_LEFT:
      return GRAPHENE_RECT_INIT (e.origin.x - HANDLE_THICKNESS, cy - HANDLE_LENGTH / 2,
                                 HANDLE_THICKNESS, HANDLE_LENGTH);
    case EDGE_RIGHT:
      return GRAPHENE_RECT_INIT (e.origin.x + e.size.width, cy - HANDLE_LENGTH / 2,
                                 HANDLE_THICKNESS, HANDLE_LENGTH);
    case EDGE_TOP:
      return GRAPHENE_RECT_INIT (cx - HANDLE_LENGTH / 2, e.origin.y - HANDLE_THICKNESS,
                                 HANDLE_LENGTH, HANDLE_THICKNESS);
    case EDGE_BOTTOM:
    default:
      return GRAPHENE_RECT_INIT (cx - HANDLE_LENGTH / 2, e.origin.y + e.size.height,
                                 HANDLE_LENGTH, HANDLE_THICKNESS);
    }
}

/* Which margin handle (or edge of the extended canvas near it) is under a point. */
static int
edge_at (OpCanvas *self,
         double    x,
         double    y)
{
  if (self->tiles == NULL)
    return EDGE_NONE;

  for (int edge = EDGE_LEFT; edge <= EDGE_BOTTOM; edge++)
    {
      graphene_rect_t r = handle_rect (self, edge);

      graphene_rect_inset (&r, -HANDLE_REACH / 2, -HANDLE_REACH / 2);
      if (graphene_rect_contains_point (&r, &GRAPHENE_POINT_INIT (x, y)))
        return edge;
    }

  return EDGE_NONE;
}

static double
brush_radius_widget (OpCanvas *self)
{
  return self->brush_size / 2.0 * self->zoom;
}

static void
fill_brush (OpCanvas *self,
            OpBrush  *brush)
{
  brush->radius = MAX (0.5, self->brush_size / 2.0);
  brush->hardness = self->brush_hardness;
  brush->opacity = self->brush_opacity;
  brush->spacing = self->brush_spacing;
  brush->mode = self->tool == TOOL_ERASER ? OP_MASK_MODE_SUBTRACT : OP_MASK_MODE_ADD;
}

static void
update_cursor (OpCanvas *self)
{
  const char *name = "crosshair";

  if (self->drag_edge != EDGE_NONE || self->hover_edge != EDGE_NONE)
    {
      int edge = self->drag_edge != EDGE_NONE ? self->drag_edge : self->hover_edge;

      name = edge == EDGE_LEFT || edge == EDGE_RIGHT ? "ew-resize" : "ns-resize";
    }
  else if (self->panning)
    name = "grabbing";
  else if (self->space_held)
    name = "grab";
  else if (self->tool == TOOL_BRUSH || self->tool == TOOL_ERASER)
    name = "none";

  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

/* Snapshot */

static void
append_circle (GtkSnapshot *snapshot,
               double       cx,
               double       cy,
               double       radius,
               const GdkRGBA *color)
{
  GskRoundedRect outline;
  float widths[4] = { 1, 1, 1, 1 };
  GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline,
                                   &GRAPHENE_RECT_INIT (cx - radius, cy - radius,
                                                        2 * radius, 2 * radius),
                                   radius);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
snapshot_tool_overlay (OpCanvas    *self,
                       GtkSnapshot *snapshot)
{
  static const GdkRGBA black = { 0, 0, 0, 0.8 };
  static const GdkRGBA white = { 1, 1, 1, 0.9 };
  static const GdkRGBA faint = { 1, 1, 1, 0.4 };
  static const GdkRGBA fill = { 0.21, 0.52, 0.89, 0.2 };
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  if ((self->tool == TOOL_BRUSH || self->tool == TOOL_ERASER) &&
      self->pointer_inside && !self->space_held && !self->panning &&
      self->hover_edge == EDGE_NONE && self->drag_edge == EDGE_NONE)
    {
      double r = MAX (2.0, brush_radius_widget (self));

      /* two rings so the outline shows on dark and light pictures alike */
      append_circle (snapshot, self->pointer_x, self->pointer_y, r + 1, &black);
      append_circle (snapshot, self->pointer_x, self->pointer_y, r, &white);
      if (self->brush_hardness < 1.0 && r * self->brush_hardness > 3)
        append_circle (snapshot, self->pointer_x, self->pointer_y,
                       r * self->brush_hardness, &faint);
    }

  if (self->tool_active && self->tool == TOOL_RECTANGLE)
    {
      double x0, y0, x1, y1;
      cairo_t *cr;

      op_canvas_image_to_widget (self, self->rect_x0, self->rect_y0, &x0, &y0);
      op_canvas_image_to_widget (self, self->rect_x1, self->rect_y1, &x1, &y1);
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
      cairo_rectangle (cr, floor (MIN (x0, x1)) + 0.5, floor (MIN (y0, y1)) + 0.5,
                       round (fabs (x1 - x0)), round (fabs (y1 - y0)));
      gdk_cairo_set_source_rgba (cr, &fill);
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1);
      gdk_cairo_set_source_rgba (cr, &white);
      cairo_stroke_preserve (cr);
      cairo_set_dash (cr, (double[]) { 4, 4 }, 2, 0);
      gdk_cairo_set_source_rgba (cr, &black);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  if (self->tool_active && self->tool == TOOL_LASSO && self->lasso->len >= 4)
    {
      const double *xy = (const double *) self->lasso->data;
      cairo_t *cr;

      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
      for (guint i = 0; i < self->lasso->len / 2; i++)
        {
          double wx, wy;

          op_canvas_image_to_widget (self, xy[2 * i], xy[2 * i + 1], &wx, &wy);
          cairo_line_to (cr, wx, wy);
        }
      cairo_close_path (cr);
      gdk_cairo_set_source_rgba (cr, &fill);
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1);
      gdk_cairo_set_source_rgba (cr, &white);
      cairo_stroke_preserve (cr);
      cairo_set_dash (cr, (double[]) { 4, 4 }, 2, 0);
      gdk_cairo_set_source_rgba (cr, &black);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }
}

/* The new area of an outpaint: a translucent wash over the checkerboard and a dashed
 * line where the picture ends, so the designer sees what will be invented. */
static void
snapshot_margin_area (OpCanvas    *self,
                      GtkSnapshot *snapshot)
{
  static const GdkRGBA wash = { 0.21, 0.52, 0.89, 0.12 };
  const OpMargins *m = &self->margins;
  graphene_rect_t e = extended_rect (self);
  double px = self->offset_x, py = self->offset_y;
  double pw = self->image_width * self->zoom, ph = self->image_height * self->zoom;
  cairo_t *cr;

  if (m->left == 0 && m->right == 0 && m->top == 0 && m->bottom == 0)
    return;

  gtk_snapshot_append_color (snapshot, &wash,
                             &GRAPHENE_RECT_INIT (e.origin.x, e.origin.y, px - e.origin.x,
                                                  e.size.height));
  gtk_snapshot_append_color (snapshot, &wash,
                             &GRAPHENE_RECT_INIT (px + pw, e.origin.y,
                                                  e.origin.x + e.size.width - px - pw,
                                                  e.size.height));
  gtk_snapshot_append_color (snapshot, &wash,
                             &GRAPHENE_RECT_INIT (px, e.origin.y, pw, py - e.origin.y));
  gtk_snapshot_append_color (snapshot, &wash,
                             &GRAPHENE_RECT_INIT (px, py + ph, pw,
                                                  e.origin.y + e.size.height - py - ph));

  cr = gtk_snapshot_append_cairo (snapshot, &e);
  cairo_rectangle (cr, round (px) + 0.5, round (py) + 0.5, round (pw) - 1, round (ph) - 1);
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
  cairo_set_dash (cr, (double[]) { 6, 4 }, 2, 0);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

/* The context the backend will receive: everything outside it dimmed, its outline, and
 * the feather band where the result fades into the picture. */
static void
snapshot_context (OpCanvas    *self,
                  GtkSnapshot *snapshot)
{
  static const GdkRGBA dim = { 0, 0, 0, 0.45 };
  graphene_rect_t e, c;
  cairo_t *cr;

  if (!self->has_context)
    return;

  e = extended_rect (self);
  c = GRAPHENE_RECT_INIT (round (self->offset_x + (self->context.x - self->margins.left) *
                                 self->zoom),
                          round (self->offset_y + (self->context.y - self->margins.top) *
                                 self->zoom),
                          round (self->context.width * self->zoom),
                          round (self->context.height * self->zoom));

  /* four dimmed bands around the context */
  gtk_snapshot_append_color (snapshot, &dim,
                             &GRAPHENE_RECT_INIT (e.origin.x, e.origin.y, e.size.width,
                                                  MAX (0, c.origin.y - e.origin.y)));
  gtk_snapshot_append_color (snapshot, &dim,
                             &GRAPHENE_RECT_INIT (e.origin.x, c.origin.y + c.size.height,
                                                  e.size.width,
                                                  MAX (0, e.origin.y + e.size.height -
                                                          c.origin.y - c.size.height)));
  gtk_snapshot_append_color (snapshot, &dim,
                             &GRAPHENE_RECT_INIT (e.origin.x, c.origin.y,
                                                  MAX (0, c.origin.x - e.origin.x),
                                                  c.size.height));
  gtk_snapshot_append_color (snapshot, &dim,
                             &GRAPHENE_RECT_INIT (c.origin.x + c.size.width, c.origin.y,
                                                  MAX (0, e.origin.x + e.size.width -
                                                          c.origin.x - c.size.width),
                                                  c.size.height));

  if (self->live != NULL)
    gtk_snapshot_append_texture (snapshot, self->live, &c);
  else if (self->band != NULL)
    gtk_snapshot_append_texture (snapshot, self->band, &c);

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (c.origin.x - 2, c.origin.y - 2,
                                                                  c.size.width + 4,
                                                                  c.size.height + 4));
  cairo_rectangle (cr, c.origin.x + 0.5, c.origin.y + 0.5, c.size.width - 1, c.size.height - 1);
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, 0.96, 0.76, 0.07, 0.95);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
snapshot_handles (OpCanvas    *self,
                  GtkSnapshot *snapshot)
{
  static const GdkRGBA fill = { 1, 1, 1, 0.95 };
  static const GdkRGBA active = { 0.21, 0.52, 0.89, 1 };
  static const GdkRGBA edge = { 0, 0, 0, 0.5 };

  for (int i = EDGE_LEFT; i <= EDGE_BOTTOM; i++)
    {
      graphene_rect_t r = handle_rect (self, i);
      GskRoundedRect rounded;
      float widths[4] = { 1, 1, 1, 1 };
      GdkRGBA colors[4] = { edge, edge, edge, edge };
      gboolean hot = i == self->drag_edge || i == self->hover_edge;

      gsk_rounded_rect_init_from_rect (&rounded, &r, HANDLE_THICKNESS / 2);
      gtk_snapshot_push_rounded_clip (snapshot, &rounded);
      gtk_snapshot_append_color (snapshot, hot ? &active : &fill, &r);
      gtk_snapshot_pop (snapshot);
      gtk_snapshot_append_border (snapshot, &rounded, widths, colors);
    }
}

static void
op_canvas_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  OpCanvas *self = (OpCanvas *) widget;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  graphene_rect_t picture, view, visible;
  OpRect area;

  if (self->tiles == NULL)
    return;

  picture = extended_rect (self);
  view = GRAPHENE_RECT_INIT (0, 0, width, height);
  if (graphene_rect_intersection (&picture, &view, &visible))
    {
      gtk_snapshot_push_clip (snapshot, &visible);
      op_view_append_checkerboard (snapshot, &picture, CHECKER_SIZE, 0.80, 0.62);
      if (visible_area (self, &area))
        op_tile_cache_snapshot (self->tiles, snapshot, self->zoom, self->offset_x,
                                self->offset_y, &area, self->mask_visible);
      snapshot_margin_area (self, snapshot);
      gtk_snapshot_pop (snapshot);
      snapshot_context (self, snapshot);
    }

  snapshot_handles (self, snapshot);
  snapshot_tool_overlay (self, snapshot);
}

static void
op_canvas_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  OpCanvas *self = (OpCanvas *) widget;

  GTK_WIDGET_CLASS (op_canvas_parent_class)->size_allocate (widget, width, height, baseline);

  if (self->fit)
    {
      apply_fit (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
    }
}

/* Callbacks */

static void
on_document_image_changed_cb (OpCanvas   *self,
                              OpDocument *document)
{
  int old_width = self->image_width, old_height = self->image_height;

  rebuild_tiles (self);

  /* switching between variants of one size keeps the view; another size refits */
  if (self->image_width != old_width || self->image_height != old_height)
    self->fit = TRUE;
  if (self->fit && gtk_widget_get_width (GTK_WIDGET (self)) > 0)
    apply_fit (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_document_margins_changed_cb (OpCanvas   *self,
                                OpDocument *document)
{
  op_document_get_margins (document, &self->margins);
  self->has_context = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_document_mask_target_cb (OpCanvas   *self,
                            GParamSpec *pspec,
                            OpDocument *document)
{
  if (self->tiles != NULL)
    {
      update_tile_mask (self);
      update_overlay_style (self);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_document_picture_changed_cb (OpCanvas   *self,
                                int         x,
                                int         y,
                                int         width,
                                int         height,
                                OpDocument *document)
{
  if (self->tiles != NULL)
    op_tile_cache_invalidate_picture (self->tiles, &(OpRect) { x, y, width, height });
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_document_mask_changed_cb (OpCanvas   *self,
                             int         x,
                             int         y,
                             int         width,
                             int         height,
                             OpDocument *document)
{
  if (self->tiles != NULL)
    op_tile_cache_invalidate_mask (self->tiles, &(OpRect) { x, y, width, height });
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static double
event_pressure (GtkGesture *gesture)
{
  GdkEventSequence *sequence;
  GdkEvent *event;
  double pressure;

  sequence = gtk_gesture_single_get_current_sequence (GTK_GESTURE_SINGLE (gesture));
  event = gtk_gesture_get_last_event (gesture, sequence);
  if (event != NULL && gdk_event_get_axis (event, GDK_AXIS_PRESSURE, &pressure) &&
      pressure > 0.0)
    return pressure;

  return 1.0;
}

static void
begin_pan (OpCanvas *self,
           double    x,
           double    y)
{
  self->panning = TRUE;
  self->fit = FALSE;
  self->drag_start_x = x;
  self->drag_start_y = y;
  self->drag_offset_x = self->offset_x;
  self->drag_offset_y = self->offset_y;
  update_cursor (self);
}

/* Dragging an edge handle outward extends the canvas on that side; back in, shrinks. */
static void
drag_margin (OpCanvas *self,
             double    dx,
             double    dy)
{
  OpMargins m = self->drag_margins;
  int limit_w = OP_IMAGE_MAX_SIDE - self->image_width;
  int limit_h = OP_IMAGE_MAX_SIDE - self->image_height;

  switch (self->drag_edge)
    {
    case EDGE_LEFT:
      m.left = CLAMP ((int) round (m.left - dx / self->zoom), 0, limit_w - m.right);
      break;
    case EDGE_RIGHT:
      m.right = CLAMP ((int) round (m.right + dx / self->zoom), 0, limit_w - m.left);
      break;
    case EDGE_TOP:
      m.top = CLAMP ((int) round (m.top - dy / self->zoom), 0, limit_h - m.bottom);
      break;
    case EDGE_BOTTOM:
    default:
      m.bottom = CLAMP ((int) round (m.bottom + dy / self->zoom), 0, limit_h - m.top);
      break;
    }

  self->margins = m;
  self->has_context = FALSE;   /* out of date until the window computes it again */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_paint_drag_begin_cb (OpCanvas       *self,
                        double          x,
                        double          y,
                        GtkGestureDrag *gesture)
{
  int edge = edge_at (self, x, y);

  gtk_widget_grab_focus (GTK_WIDGET (self));

  if (edge != EDGE_NONE && !self->space_held)
    {
      self->drag_edge = edge;
      self->drag_margins = self->margins;
      update_cursor (self);
    }
  else if (self->space_held)
    begin_pan (self, x, y);
  else
    op_canvas_tool_begin (self, x, y, event_pressure (GTK_GESTURE (gesture)));
}

static void
on_paint_drag_update_cb (OpCanvas       *self,
                         double          dx,
                         double          dy,
                         GtkGestureDrag *gesture)
{
  double x, y;

  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  self->pointer_x = x + dx;
  self->pointer_y = y + dy;

  if (self->drag_edge != EDGE_NONE)
    drag_margin (self, dx, dy);
  else if (self->panning)
    {
      self->offset_x = self->drag_offset_x + dx;
      self->offset_y = self->drag_offset_y + dy;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  else
    op_canvas_tool_motion (self, x + dx, y + dy, event_pressure (GTK_GESTURE (gesture)));
}

static void
on_paint_drag_end_cb (OpCanvas       *self,
                      double          dx,
                      double          dy,
                      GtkGestureDrag *gesture)
{
  if (self->drag_edge != EDGE_NONE)
    {
      OpMargins margins = self->margins;

      self->drag_edge = EDGE_NONE;
      update_cursor (self);
      /* one undo step for the whole drag */
      op_document_set_margins (self->document, &margins);
    }
  else if (self->panning)
    {
      self->panning = FALSE;
      update_cursor (self);
    }
  else
    op_canvas_tool_end (self);
}

static void
on_pan_drag_begin_cb (OpCanvas       *self,
                      double          x,
                      double          y,
                      GtkGestureDrag *gesture)
{
  begin_pan (self, x, y);
}

static void
on_pan_drag_update_cb (OpCanvas       *self,
                       double          dx,
                       double          dy,
                       GtkGestureDrag *gesture)
{
  self->offset_x = self->drag_offset_x + dx;
  self->offset_y = self->drag_offset_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pan_drag_end_cb (OpCanvas       *self,
                    double          dx,
                    double          dy,
                    GtkGestureDrag *gesture)
{
  self->panning = FALSE;
  update_cursor (self);
}

static void
on_motion_cb (OpCanvas                 *self,
              double                    x,
              double                    y,
              GtkEventControllerMotion *controller)
{
  int edge = edge_at (self, x, y);

  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (edge != self->hover_edge)
    {
      self->hover_edge = edge;
      update_cursor (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (self->tool == TOOL_BRUSH || self->tool == TOOL_ERASER)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave_cb (OpCanvas                 *self,
             GtkEventControllerMotion *controller)
{
  self->pointer_inside = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_scroll_cb (OpCanvas                 *self,
              double                    dx,
              double                    dy,
              GtkEventControllerScroll *controller)
{
  GdkModifierType state;
  double step = SCROLL_STEP;

  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  if (gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_SURFACE)
    step = 1.0;

  if (state & GDK_CONTROL_MASK)
    {
      double factor = pow (ZOOM_STEP, -dy * (step == 1.0 ? 0.05 : 1.0));

      op_canvas_zoom_at (self, self->zoom * factor, self->pointer_x, self->pointer_y);
      return TRUE;
    }

  if (state & GDK_SHIFT_MASK && dx == 0)
    {
      dx = dy;
      dy = 0;
    }

  op_canvas_pan (self, -dx * step, -dy * step);
  return TRUE;
}

static void
on_zoom_begin_cb (OpCanvas       *self,
                  GdkEventSequence *sequence,
                  GtkGestureZoom *gesture)
{
  self->pinch_zoom = self->zoom;
}

static void
on_zoom_scale_changed_cb (OpCanvas       *self,
                          double          scale,
                          GtkGestureZoom *gesture)
{
  double cx, cy;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    return;

  op_canvas_zoom_at (self, self->pinch_zoom * scale, cx, cy);
}

static gboolean
on_key_pressed_cb (OpCanvas              *self,
                   guint                  keyval,
                   guint                  keycode,
                   GdkModifierType        state,
                   GtkEventControllerKey *controller)
{
  if (keyval == GDK_KEY_space)
    {
      if (!self->space_held)
        {
          self->space_held = TRUE;
          update_cursor (self);
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      return TRUE;
    }

  return FALSE;
}

static void
on_key_released_cb (OpCanvas              *self,
                    guint                  keyval,
                    guint                  keycode,
                    GdkModifierType        state,
                    GtkEventControllerKey *controller)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_held = FALSE;
      update_cursor (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

/* Actions */

static void
canvas_zoom_in_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  op_canvas_zoom_in (OP_CANVAS (widget));
}

static void
canvas_zoom_out_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  op_canvas_zoom_out (OP_CANVAS (widget));
}

static void
canvas_zoom_fit_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  op_canvas_zoom_to_fit (OP_CANVAS (widget));
}

static void
canvas_zoom_one_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  op_canvas_set_zoom (OP_CANVAS (widget), 1.0);
}

static void
set_brush_size (OpCanvas *self,
                double    size)
{
  size = CLAMP (size, 1.0, 2000.0);
  if (size == self->brush_size)
    return;

  self->brush_size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BRUSH_SIZE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
canvas_brush_larger_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  OpCanvas *self = OP_CANVAS (widget);

  set_brush_size (self, MAX (self->brush_size + 1, round (self->brush_size * 1.2)));
}

static void
canvas_brush_smaller_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  OpCanvas *self = OP_CANVAS (widget);

  set_brush_size (self, MIN (self->brush_size - 1, round (self->brush_size / 1.2)));
}

static void
canvas_toggle_mask_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  OpCanvas *self = OP_CANVAS (widget);

  g_object_set (self, "mask-visible", !self->mask_visible, NULL);
}

/* GObject */

static void
op_canvas_dispose (GObject *object)
{
  OpCanvas *self = (OpCanvas *) object;

  op_canvas_set_document (self, NULL);
  g_clear_pointer (&self->tiles, op_tile_cache_free);
  g_clear_pointer (&self->lasso, g_array_unref);
  g_clear_object (&self->band);
  g_clear_object (&self->live);

  G_OBJECT_CLASS (op_canvas_parent_class)->dispose (object);
}

static int
tool_from_string (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (tool_names); i++)
    if (g_strcmp0 (name, tool_names[i]) == 0)
      return i;

  return -1;
}

static void
op_canvas_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OpCanvas *self = OP_CANVAS (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;

    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;

    case PROP_TOOL:
      g_value_set_string (value, tool_names[self->tool]);
      break;

    case PROP_BRUSH_SIZE:
      g_value_set_double (value, self->brush_size);
      break;

    case PROP_BRUSH_HARDNESS:
      g_value_set_double (value, self->brush_hardness);
      break;

    case PROP_BRUSH_OPACITY:
      g_value_set_double (value, self->brush_opacity);
      break;

    case PROP_BRUSH_SPACING:
      g_value_set_double (value, self->brush_spacing);
      break;

    case PROP_SELECTION_MODE:
      g_value_set_string (value, self->selection_mode == OP_MASK_MODE_ADD ? "add" : "subtract");
      break;

    case PROP_MASK_COLOR:
      g_value_take_string (value, gdk_rgba_to_string (&self->mask_color));
      break;

    case PROP_MASK_OPACITY:
      g_value_set_double (value, self->mask_opacity);
      break;

    case PROP_MASK_VISIBLE:
      g_value_set_boolean (value, self->mask_visible);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
set_double (OpCanvas     *self,
            double       *field,
            const GValue *value,
            int           prop_id)
{
  double v = g_value_get_double (value);

  if (*field == v)
    return FALSE;

  *field = v;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
set_mask_color (OpCanvas   *self,
                const char *spec)
{
  GdkRGBA color;

  if (spec == NULL || !gdk_rgba_parse (&color, spec))
    {
      g_warning ("Ignoring mask colour “%s”: not a colour", spec ? spec : "(null)");
      return;
    }
  if (gdk_rgba_equal (&color, &self->mask_color))
    return;

  self->mask_color = color;
  self->mask_color.alpha = 1.0;
  update_overlay_style (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MASK_COLOR]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
op_canvas_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  OpCanvas *self = OP_CANVAS (object);
  int tool;

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      op_canvas_set_document (self, g_value_get_object (value));
      break;

    case PROP_ZOOM:
      op_canvas_set_zoom (self, g_value_get_double (value));
      break;

    case PROP_TOOL:
      tool = tool_from_string (g_value_get_string (value));
      if (tool < 0 || (Tool) tool == self->tool)
        break;
      op_canvas_tool_end (self);
      self->tool = tool;
      update_cursor (self);
      g_object_notify_by_pspec (object, pspec);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;

    case PROP_BRUSH_SIZE:
      set_brush_size (self, g_value_get_double (value));
      break;

    case PROP_BRUSH_HARDNESS:
      set_double (self, &self->brush_hardness, value, prop_id);
      break;

    case PROP_BRUSH_OPACITY:
      set_double (self, &self->brush_opacity, value, prop_id);
      break;

    case PROP_BRUSH_SPACING:
      set_double (self, &self->brush_spacing, value, prop_id);
      break;

    case PROP_SELECTION_MODE:
      {
        OpMaskMode mode = g_strcmp0 (g_value_get_string (value), "subtract") == 0
                            ? OP_MASK_MODE_SUBTRACT : OP_MASK_MODE_ADD;
        if (mode != self->selection_mode)
          {
            self->selection_mode = mode;
            g_object_notify_by_pspec (object, pspec);
          }
      }
      break;

    case PROP_MASK_COLOR:
      set_mask_color (self, g_value_get_string (value));
      break;

    case PROP_MASK_OPACITY:
      if (set_double (self, &self->mask_opacity, value, prop_id))
        update_overlay_style (self);
      break;

    case PROP_MASK_VISIBLE:
      if (self->mask_visible != g_value_get_boolean (value))
        {
          self->mask_visible = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_canvas_class_init (OpCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = op_canvas_dispose;
  object_class->get_property = op_canvas_get_property;
  object_class->set_property = op_canvas_set_property;

  widget_class->snapshot = op_canvas_snapshot;
  widget_class->size_allocate = op_canvas_size_allocate;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, OP_TYPE_DOCUMENT, flags);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, OP_CANVAS_ZOOM_MIN, OP_CANVAS_ZOOM_MAX, 1.0, flags);
  properties[PROP_TOOL] =
    g_param_spec_string ("tool", NULL, NULL, "brush", flags);
  properties[PROP_BRUSH_SIZE] =
    g_param_spec_double ("brush-size", NULL, NULL, 1.0, 2000.0, 60.0, flags);
  properties[PROP_BRUSH_HARDNESS] =
    g_param_spec_double ("brush-hardness", NULL, NULL, 0.0, 1.0, 0.8, flags);
  properties[PROP_BRUSH_OPACITY] =
    g_param_spec_double ("brush-opacity", NULL, NULL, 0.0, 1.0, 1.0, flags);
  properties[PROP_BRUSH_SPACING] =
    g_param_spec_double ("brush-spacing", NULL, NULL, 0.01, 1.0, 0.1, flags);
  properties[PROP_SELECTION_MODE] =
    g_param_spec_string ("selection-mode", NULL, NULL, "add", flags);
  properties[PROP_MASK_COLOR] =
    g_param_spec_string ("mask-color", NULL, NULL, "#e01b24", flags);
  properties[PROP_MASK_OPACITY] =
    g_param_spec_double ("mask-opacity", NULL, NULL, 0.0, 1.0, 0.5, flags);
  properties[PROP_MASK_VISIBLE] =
    g_param_spec_boolean ("mask-visible", NULL, NULL, TRUE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "canvas.zoom-in", NULL, canvas_zoom_in_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-out", NULL, canvas_zoom_out_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-fit", NULL, canvas_zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-100", NULL, canvas_zoom_one_action);
  gtk_widget_class_install_action (widget_class, "canvas.brush-larger", NULL,
                                   canvas_brush_larger_action);
  gtk_widget_class_install_action (widget_class, "canvas.brush-smaller", NULL,
                                   canvas_brush_smaller_action);
  gtk_widget_class_install_action (widget_class, "canvas.toggle-mask", NULL,
                                   canvas_toggle_mask_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0,
                                       "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "canvas.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0, 0, "canvas.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, 0, "canvas.zoom-100", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_1, 0, "canvas.zoom-100", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, 0,
                                       "canvas.brush-larger", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, 0,
                                       "canvas.brush-smaller", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, 0, "canvas.toggle-mask", NULL);

  /* window actions, reachable from the canvas; single keys only here, where no text is
   * typed (an application accelerator would steal them from the prompt) */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.discard-version",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0,
                                       "win.discard-version", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, 0, "win.compare", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, 0, "win.edit-blend", NULL);

  gtk_widget_class_install_property_action (widget_class, "canvas.tool", "tool");
  for (guint i = 0; i < G_N_ELEMENTS (tool_names); i++)
    gtk_widget_class_add_binding_action (widget_class, tool_keys[i], 0, "canvas.tool",
                                         "s", tool_names[i]);

  gtk_widget_class_set_css_name (widget_class, "op-canvas");
}

static void
op_canvas_init (OpCanvas *self)
{
  GtkGesture *gesture;
  GtkEventController *controller;

  self->zoom = 1.0;
  self->fit = TRUE;
  self->tool = TOOL_BRUSH;
  self->brush_size = 60.0;
  self->brush_hardness = 0.8;
  self->brush_opacity = 1.0;
  self->brush_spacing = 0.1;
  self->selection_mode = OP_MASK_MODE_ADD;
  gdk_rgba_parse (&self->mask_color, "#e01b24");
  self->mask_opacity = 0.5;
  self->mask_visible = TRUE;
  self->lasso = g_array_new (FALSE, FALSE, sizeof (double));
  self->drag_edge = EDGE_NONE;
  self->hover_edge = EDGE_NONE;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect_swapped (gesture, "drag-begin", G_CALLBACK (on_paint_drag_begin_cb), self);
  g_signal_connect_swapped (gesture, "drag-update", G_CALLBACK (on_paint_drag_update_cb), self);
  g_signal_connect_swapped (gesture, "drag-end", G_CALLBACK (on_paint_drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_MIDDLE);
  g_signal_connect_swapped (gesture, "drag-begin", G_CALLBACK (on_pan_drag_begin_cb), self);
  g_signal_connect_swapped (gesture, "drag-update", G_CALLBACK (on_pan_drag_update_cb), self);
  g_signal_connect_swapped (gesture, "drag-end", G_CALLBACK (on_pan_drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect_swapped (gesture, "begin", G_CALLBACK (on_zoom_begin_cb), self);
  g_signal_connect_swapped (gesture, "scale-changed", G_CALLBACK (on_zoom_scale_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_motion_new ();
  g_signal_connect_swapped (controller, "enter", G_CALLBACK (on_motion_cb), self);
  g_signal_connect_swapped (controller, "motion", G_CALLBACK (on_motion_cb), self);
  g_signal_connect_swapped (controller, "leave", G_CALLBACK (on_leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect_swapped (controller, "scroll", G_CALLBACK (on_scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_swapped (controller, "key-pressed", G_CALLBACK (on_key_pressed_cb), self);
  g_signal_connect_swapped (controller, "key-released", G_CALLBACK (on_key_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  update_cursor (self);
}

/* Public API */

GtkWidget *
op_canvas_new (OpDocument *document)
{
  return g_object_new (OP_TYPE_CANVAS, "document", document, NULL);
}

OpDocument *
op_canvas_get_document (OpCanvas *self)
{
  g_return_val_if_fail (OP_IS_CANVAS (self), NULL);
  return self->document;
}

void
op_canvas_set_document (OpCanvas   *self,
                        OpDocument *document)
{
  g_return_if_fail (OP_IS_CANVAS (self));
  g_return_if_fail (document == NULL || OP_IS_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    {
      op_canvas_tool_end (self);
      g_signal_handlers_disconnect_by_data (self->document, self);
    }

  g_set_object (&self->document, document);

  if (document != NULL)
    {
      g_signal_connect_object (document, "image-changed",
                               G_CALLBACK (on_document_image_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "mask-changed",
                               G_CALLBACK (on_document_mask_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "margins-changed",
                               G_CALLBACK (on_document_margins_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "notify::mask-target",
                               G_CALLBACK (on_document_mask_target_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "picture-changed",
                               G_CALLBACK (on_document_picture_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }

  rebuild_tiles (self);
  self->fit = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
  gtk_widget_queue_allocate (GTK_WIDGET (self));
}

double
op_canvas_get_zoom (OpCanvas *self)
{
  g_return_val_if_fail (OP_IS_CANVAS (self), 1.0);
  return self->zoom;
}

/**
 * op_canvas_zoom_at:
 *
 * Sets the zoom keeping the picture point under (@widget_x, @widget_y) in place.
 */
void
op_canvas_zoom_at (OpCanvas *self,
                   double    zoom,
                   double    widget_x,
                   double    widget_y)
{
  double ix, iy;

  g_return_if_fail (OP_IS_CANVAS (self));

  if (!isfinite (zoom))
    return;

  zoom = CLAMP (zoom, OP_CANVAS_ZOOM_MIN, OP_CANVAS_ZOOM_MAX);
  op_canvas_widget_to_image (self, widget_x, widget_y, &ix, &iy);
  self->fit = FALSE;

  if (zoom == self->zoom)
    return;

  self->zoom = zoom;
  self->offset_x = widget_x - ix * zoom;
  self->offset_y = widget_y - iy * zoom;

  /* At whole zoom levels keep picture pixels on screen pixels. */
  if (zoom >= 1.0 && zoom == floor (zoom))
    {
      self->offset_x = round (self->offset_x);
      self->offset_y = round (self->offset_y);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
op_canvas_set_zoom (OpCanvas *self,
                    double    zoom)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  op_canvas_zoom_at (self, zoom,
                     gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                     gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static void
zoom_step_around_pointer (OpCanvas *self,
                          int       direction)
{
  double x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;

  if (self->pointer_inside)
    {
      x = self->pointer_x;
      y = self->pointer_y;
    }

  op_canvas_zoom_at (self, op_view_zoom_step (self->zoom, direction), x, y);
}

void
op_canvas_zoom_in (OpCanvas *self)
{
  g_return_if_fail (OP_IS_CANVAS (self));
  zoom_step_around_pointer (self, +1);
}

void
op_canvas_zoom_out (OpCanvas *self)
{
  g_return_if_fail (OP_IS_CANVAS (self));
  zoom_step_around_pointer (self, -1);
}

void
op_canvas_zoom_to_fit (OpCanvas *self)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  self->fit = TRUE;
  apply_fit (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
op_canvas_pan (OpCanvas *self,
               double    dx,
               double    dy)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  if (!isfinite (dx) || !isfinite (dy))
    return;

  self->fit = FALSE;
  self->offset_x += dx;
  self->offset_y += dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
op_canvas_widget_to_image (OpCanvas *self,
                           double    widget_x,
                           double    widget_y,
                           double   *image_x,
                           double   *image_y)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  *image_x = (widget_x - self->offset_x) / self->zoom;
  *image_y = (widget_y - self->offset_y) / self->zoom;
}

void
op_canvas_image_to_widget (OpCanvas *self,
                           double    image_x,
                           double    image_y,
                           double   *widget_x,
                           double   *widget_y)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  *widget_x = image_x * self->zoom + self->offset_x;
  *widget_y = image_y * self->zoom + self->offset_y;
}

void
op_canvas_tool_begin (OpCanvas *self,
                      double    widget_x,
                      double    widget_y,
                      double    pressure)
{
  double ix, iy;

  g_return_if_fail (OP_IS_CANVAS (self));

  if (self->document == NULL || self->tiles == NULL || self->tool_active)
    return;

  op_canvas_widget_to_image (self, widget_x, widget_y, &ix, &iy);
  self->tool_active = TRUE;

  switch (self->tool)
    {
    case TOOL_BRUSH:
    case TOOL_ERASER:
      {
        OpBrush brush;

        fill_brush (self, &brush);
        op_document_stroke_begin (self->document, &brush, ix, iy, pressure);
      }
      break;

    case TOOL_RECTANGLE:
      self->rect_x0 = self->rect_x1 = ix;
      self->rect_y0 = self->rect_y1 = iy;
      break;

    case TOOL_LASSO:
      g_array_set_size (self->lasso, 0);
      g_array_append_vals (self->lasso, (double[]) { ix, iy }, 2);
      break;

    default:
      g_assert_not_reached ();
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
op_canvas_tool_motion (OpCanvas *self,
                       double    widget_x,
                       double    widget_y,
                       double    pressure)
{
  double ix, iy;

  g_return_if_fail (OP_IS_CANVAS (self));

  if (!self->tool_active)
    return;

  op_canvas_widget_to_image (self, widget_x, widget_y, &ix, &iy);

  switch (self->tool)
    {
    case TOOL_BRUSH:
    case TOOL_ERASER:
      op_document_stroke_to (self->document, ix, iy, pressure);
      break;

    case TOOL_RECTANGLE:
      self->rect_x1 = ix;
      self->rect_y1 = iy;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;

    case TOOL_LASSO:
      {
        const double *last = &g_array_index (self->lasso, double, self->lasso->len - 2);

        /* one point per screen pixel of movement is all the precision a hand has */
        if (hypot (ix - last[0], iy - last[1]) * self->zoom >= 1.0)
          {
            g_array_append_vals (self->lasso, (double[]) { ix, iy }, 2);
            gtk_widget_queue_draw (GTK_WIDGET (self));
          }
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

void
op_canvas_tool_end (OpCanvas *self)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  if (!self->tool_active)
    return;

  self->tool_active = FALSE;

  switch (self->tool)
    {
    case TOOL_BRUSH:
    case TOOL_ERASER:
      op_document_stroke_end (self->document);
      break;

    case TOOL_RECTANGLE:
      {
        int x0 = (int) round (MIN (self->rect_x0, self->rect_x1));
        int y0 = (int) round (MIN (self->rect_y0, self->rect_y1));
        int x1 = (int) round (MAX (self->rect_x0, self->rect_x1));
        int y1 = (int) round (MAX (self->rect_y0, self->rect_y1));
        OpRect rect = { x0, y0, x1 - x0, y1 - y0 };

        if (!op_rect_is_empty (&rect))
          op_document_fill_rect (self->document, &rect, self->selection_mode);
      }
      break;

    case TOOL_LASSO:
      if (self->lasso->len >= 6)
        op_document_fill_polygon (self->document, (const double *) self->lasso->data,
                                  self->lasso->len / 2, self->selection_mode);
      g_array_set_size (self->lasso, 0);
      break;

    default:
      g_assert_not_reached ();
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * op_canvas_set_context:
 * @context: (nullable): the context rectangle in the extended canvas's pixels (the
 *   picture's top left is at the margins' left and top), or NULL to hide it
 * @band: (nullable): the blend mask over @context; its partial values are drawn as the
 *   feather band
 *
 * Shows what the backend will receive, before sending.
 */
void
op_canvas_set_context (OpCanvas     *self,
                       const OpRect *context,
                       const OpMask *band)
{
  g_return_if_fail (OP_IS_CANVAS (self));

  g_clear_object (&self->band);
  self->has_context = context != NULL && !op_rect_is_empty (context);
  if (!self->has_context)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }

  self->context = *context;
  if (band != NULL)
    self->band = band_texture (band);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The margins being shown, including during a handle drag. */
void
op_canvas_get_margins (OpCanvas  *self,
                       OpMargins *margins)
{
  g_return_if_fail (OP_IS_CANVAS (self));
  *margins = self->margins;
}

/* Drags a margin handle as the pointer would: for tests and keyboard access. */
void
op_canvas_drag_margin (OpCanvas  *self,
                       GtkPositionType side,
                       double     widget_dx,
                       double     widget_dy)
{
  static const int edges[] = { EDGE_LEFT, EDGE_RIGHT, EDGE_TOP, EDGE_BOTTOM };
  OpMargins margins;

  g_return_if_fail (OP_IS_CANVAS (self));
  g_return_if_fail (side <= GTK_POS_BOTTOM);

  self->drag_edge = edges[side];
  self->drag_margins = self->margins;
  drag_margin (self, widget_dx, widget_dy);
  self->drag_edge = EDGE_NONE;
  margins = self->margins;
  op_document_set_margins (self->document, &margins);
}

/**
 * op_canvas_set_live_preview:
 * @preview: (nullable): the backend's picture in the making (any size: it is drawn over
 *   the context rectangle), or NULL when the job is over
 */
void
op_canvas_set_live_preview (OpCanvas *self,
                            OpImage  *preview)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_if_fail (OP_IS_CANVAS (self));

  g_clear_object (&self->live);
  if (preview != NULL)
    {
      bytes = g_bytes_new (op_image_peek_data (preview), op_image_get_size_bytes (preview));
      self->live = gdk_memory_texture_new (op_image_get_width (preview),
                                           op_image_get_height (preview),
                                           GDK_MEMORY_R8G8B8A8, bytes,
                                           op_image_get_stride (preview));
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}
