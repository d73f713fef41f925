/* op-compare-view.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-compare-view"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "op-compare-view.h"
#include "op-view-util.h"
#include "op-tile-cache.h"

#define ZOOM_STEP G_SQRT2
#define ZOOM_MIN (1.0 / 64.0)
#define ZOOM_MAX 64.0
#define FIT_MARGIN 12.0
#define GAP 2.0
#define CHECKER_SIZE 8.0
#define SCROLL_STEP 48.0
#define LABEL_INSET 8.0
#define DIVIDER_GRAB 8.0
#define HANDLE_RADIUS 16.0

/* One picture on screen. */
typedef struct
{
  OpVersion *version;
  OpImage *picture;      /* the composite the tiles were made from */
  OpTileCache *tiles;
  int x;                 /* where the picture lies in the frame all pictures share */
  int y;
  int width;
  int height;
  guint number;          /* among its generation's variants, from 1; 0 for a root */
} Cell;

struct _OpCompareView
{
  GtkWidget parent_instance;

  /* Owned references */
  GPtrArray *versions;       /* the versions side by side */
  OpVersion *wipe_variant;   /* NULL: side by side */
  GArray *cells;             /* what is drawn: the versions, or parent and variant */

  guint focused;             /* index into versions */

  /* View, shared by every cell: widget = cell origin + frame * zoom + offset */
  double zoom;
  double offset_x;
  double offset_y;
  gboolean fit;
  double cell_width;         /* the cell size the view was last laid out for */
  double cell_height;
  double divider;            /* wipe divider, a fraction of the width */

  /* Interaction */
  double pointer_x;
  double pointer_y;
  gboolean pointer_inside;
  gboolean panning;
  gboolean dragging_divider;
  double drag_start_x;
  double drag_offset_x;
  double drag_offset_y;
  double pinch_zoom;
  const char *cursor_name;   /* static strings */
};

enum {
  PROP_0,
  PROP_FOCUSED_INDEX,
  PROP_WIPE,
  PROP_ZOOM,
  PROP_DIVIDER,
  N_PROPS
};

enum {
  PICK,
  DISCARD,
  CLOSE,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (OpCompareView, op_compare_view, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Versions */

/* The variant's number in the version strip: its place among its generation. */
static guint
variant_number (OpVersion *version)
{
  OpVersion *parent = op_version_get_parent (version);
  guint generation = op_version_get_generation (version);
  guint number = 0;

  if (parent == NULL)
    return 0;

  for (guint i = 0; i < op_version_get_n_children (parent); i++)
    {
      OpVersion *child = op_version_get_child (parent, i);

      if (op_version_get_generation (child) == generation)
        number++;
      if (child == version)
        return number;
    }

  return 0;
}

/* Where a version's picture lies relative to the root's: every outpainting moved the
 * picture it extended by its left and top margins. */
static void
frame_origin (OpVersion *version,
              int       *x,
              int       *y)
{
  *x = *y = 0;
  for (; op_version_get_parent (version) != NULL; version = op_version_get_parent (version))
    {
      const OpMargins *margins = op_version_get_margins (version);

      *x -= margins->left;
      *y -= margins->top;
    }
}

static void
cell_clear (gpointer data)
{
  Cell *cell = data;

  g_clear_pointer (&cell->tiles, op_tile_cache_free);
  g_clear_pointer (&cell->picture, op_image_unref);
  g_clear_object (&cell->version);
}

static void
on_pyramid_ready_cb (gpointer cache,
                     gpointer user_data)
{
  gtk_widget_queue_draw (GTK_WIDGET (user_data));
}

static gboolean
is_wipe (OpCompareView *self)
{
  return self->wipe_variant != NULL;
}

static OpVersion *
focused_version (OpCompareView *self)
{
  if (is_wipe (self))
    return self->wipe_variant;
  if (self->focused < self->versions->len)
    return self->versions->pdata[self->focused];

  return NULL;
}

static void
update_actions (OpCompareView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  OpVersion *focused = focused_version (self);
  gboolean has = focused != NULL;
  gboolean variant = has && op_version_get_parent (focused) != NULL;

  gtk_widget_action_set_enabled (widget, "compare.move", self->versions->len > 1);
  gtk_widget_action_set_enabled (widget, "compare.pick", has);
  gtk_widget_action_set_enabled (widget, "compare.pick-number", has);
  gtk_widget_action_set_enabled (widget, "compare.discard", variant);
  gtk_widget_action_set_enabled (widget, "compare.toggle-wipe", variant);
  gtk_widget_action_set_enabled (widget, "compare.zoom-in", has);
  gtk_widget_action_set_enabled (widget, "compare.zoom-out", has);
  gtk_widget_action_set_enabled (widget, "compare.zoom-fit", has);
  gtk_widget_action_set_enabled (widget, "compare.zoom-100", has);
}

/* The frame every picture shown lies in, in picture pixels. */
static gboolean
frame_bounds (GArray *cells,
              OpRect *bounds)
{
  *bounds = (OpRect) { 0, 0, 0, 0 };

  for (guint i = 0; i < cells->len; i++)
    {
      Cell *cell = &g_array_index (cells, Cell, i);
      OpRect r = { cell->x, cell->y, cell->width, cell->height };

      if (i == 0)
        *bounds = r;
      else
        op_rect_union (bounds, &r, bounds);
    }

  return cells->len > 0;
}

/* Layout */

static void
grid_shape (guint  n,
            guint *cols,
            guint *rows)
{
  *cols = n == 4 ? 2 : MAX (n, 1);
  *rows = n == 4 ? 2 : 1;
}

static graphene_rect_t
cell_rect (OpCompareView *self,
           guint          index)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  guint cols, rows, col, row;
  double x0, x1, y0, y1;

  if (is_wipe (self))
    return GRAPHENE_RECT_INIT (0, 0, width, height);

  grid_shape (self->cells->len, &cols, &rows);
  col = index % cols;
  row = index / cols;

  /* whole pixels, the gaps between them */
  x0 = round (col * (width + GAP) / cols);
  x1 = round ((col + 1) * (width + GAP) / cols) - GAP;
  y0 = round (row * (height + GAP) / rows);
  y1 = round ((row + 1) * (height + GAP) / rows) - GAP;

  return GRAPHENE_RECT_INIT (x0, y0, MAX (0, x1 - x0), MAX (0, y1 - y0));
}

/* The cell under a widget point; the nearest one in a gap. */
static guint
cell_at (OpCompareView *self,
         double         x,
         double         y)
{
  guint best = 0;
  double best_distance = G_MAXDOUBLE;

  if (is_wipe (self))
    return 0;

  for (guint i = 0; i < self->cells->len; i++)
    {
      graphene_rect_t r = cell_rect (self, i);
      double dx = MAX (0, MAX (r.origin.x - x, x - (r.origin.x + r.size.width)));
      double dy = MAX (0, MAX (r.origin.y - y, y - (r.origin.y + r.size.height)));

      if (dx * dx + dy * dy < best_distance)
        {
          best_distance = dx * dx + dy * dy;
          best = i;
        }
    }

  return best;
}

static double
divider_x (OpCompareView *self)
{
  return round (gtk_widget_get_width (GTK_WIDGET (self)) * self->divider);
}

static gboolean
near_divider (OpCompareView *self,
              double         x,
              double         y)
{
  double cx = divider_x (self);
  double cy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;

  if (!is_wipe (self))
    return FALSE;

  return fabs (x - cx) <= DIVIDER_GRAB || hypot (x - cx, y - cy) <= HANDLE_RADIUS + 2;
}

static void
update_cursor (OpCompareView *self)
{
  const char *name = NULL;

  if (self->dragging_divider ||
      (!self->panning && self->pointer_inside &&
       near_divider (self, self->pointer_x, self->pointer_y)))
    name = "col-resize";
  else if (self->panning)
    name = "grabbing";

  /* every motion lands here: only a change makes a new cursor */
  if (g_strcmp0 (name, self->cursor_name) == 0)
    return;

  self->cursor_name = name;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

/* View */

static void
notify_zoom (OpCompareView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
apply_fit (OpCompareView *self)
{
  graphene_rect_t cell = cell_rect (self, 0);
  double w = cell.size.width - 2 * FIT_MARGIN;
  double h = cell.size.height - 2 * FIT_MARGIN;
  OpRect frame;

  if (!frame_bounds (self->cells, &frame) || frame.width <= 0 || frame.height <= 0 ||
      w <= 0 || h <= 0)
    return;

  self->zoom = CLAMP (MIN (w / frame.width, h / frame.height), ZOOM_MIN, ZOOM_MAX);
  self->offset_x = round ((cell.size.width - frame.width * self->zoom) / 2.0 -
                          frame.x * self->zoom);
  self->offset_y = round ((cell.size.height - frame.height * self->zoom) / 2.0 -
                          frame.y * self->zoom);
}

/* The cells changed size (a resize, a wipe, another grid): what showed in the middle
 * of a cell still does. */
static void
recenter (OpCompareView *self)
{
  graphene_rect_t cell = cell_rect (self, 0);

  if (gtk_widget_get_width (GTK_WIDGET (self)) <= 0)
    return;

  if (self->cell_width > 0 && self->cell_height > 0)
    {
      self->offset_x = round (self->offset_x + (cell.size.width - self->cell_width) / 2.0);
      self->offset_y = round (self->offset_y + (cell.size.height - self->cell_height) / 2.0);
    }

  self->cell_width = cell.size.width;
  self->cell_height = cell.size.height;
}

static void
zoom_around_pointer (OpCompareView *self,
                     double         zoom)
{
  double x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  double y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;

  if (self->pointer_inside)
    {
      x = self->pointer_x;
      y = self->pointer_y;
    }
  else if (!is_wipe (self))
    {
      graphene_rect_t r = cell_rect (self, MIN (self->focused, self->cells->len - 1));

      x = r.origin.x + r.size.width / 2.0;
      y = r.origin.y + r.size.height / 2.0;
    }

  op_compare_view_zoom_at (self, zoom, x, y);
}

/* Shows @versions, keeping the tiles of those already shown: toggling the wipe or
 * discarding a variant does not upload the others again. */
static void
set_cells (OpCompareView *self,
           OpVersion    **versions,
           guint          n_versions)
{
  g_autoptr(GArray) old = self->cells;
  OpRect before, after;
  gboolean had;

  had = frame_bounds (old, &before);
  self->cells = g_array_sized_new (FALSE, TRUE, sizeof (Cell), n_versions);
  g_array_set_clear_func (self->cells, cell_clear);

  for (guint i = 0; i < n_versions; i++)
    {
      Cell cell = { 0, };
      OpImage *picture = op_version_get_composite (versions[i]);

      cell.version = g_object_ref (versions[i]);
      cell.width = op_version_get_width (versions[i]);
      cell.height = op_version_get_height (versions[i]);
      cell.number = variant_number (versions[i]);
      frame_origin (versions[i], &cell.x, &cell.y);

      for (guint j = 0; j < old->len && picture != NULL; j++)
        {
          Cell *o = &g_array_index (old, Cell, j);

          if (o->version == versions[i] && o->picture == picture && o->tiles != NULL)
            cell.tiles = g_steal_pointer (&o->tiles);
        }

      if (picture != NULL)
        {
          cell.picture = op_image_ref (picture);
          if (cell.tiles == NULL)
            cell.tiles = op_tile_cache_new (picture, NULL, on_pyramid_ready_cb, self);
        }

      g_array_append_val (self->cells, cell);
    }

  /* the same frame keeps the user's zoom and pan; another one is fitted */
  frame_bounds (self->cells, &after);
  if (!had || before.x != after.x || before.y != after.y ||
      before.width != after.width || before.height != after.height)
    self->fit = TRUE;

  /* the grid changed too: lay out now rather than at the next allocation, so the view
   * is right for whoever asks before the next frame */
  recenter (self);
  if (self->fit && gtk_widget_get_width (GTK_WIDGET (self)) > 0)
    {
      apply_fit (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
show_versions (OpCompareView *self)
{
  if (is_wipe (self))
    {
      OpVersion *pair[2] = { op_version_get_parent (self->wipe_variant), self->wipe_variant };

      set_cells (self, pair, 2);
    }
  else
    set_cells (self, (OpVersion **) self->versions->pdata, self->versions->len);

  update_actions (self);
}

/* Snapshot */

/* Draws a cell's picture inside @clip, the cell's top left at @origin. */
static void
snapshot_picture (OpCompareView         *self,
                  GtkSnapshot           *snapshot,
                  Cell                  *cell,
                  const graphene_rect_t *clip,
                  const graphene_point_t *origin)
{
  double ox = origin->x + self->offset_x + cell->x * self->zoom;
  double oy = origin->y + self->offset_y + cell->y * self->zoom;
  graphene_rect_t picture, visible;
  OpRect area, all = { 0, 0, cell->width, cell->height }, view;

  if (cell->tiles == NULL)
    return;

  picture = GRAPHENE_RECT_INIT (ox, oy, cell->width * self->zoom, cell->height * self->zoom);
  if (!graphene_rect_intersection (&picture, clip, &visible))
    return;

  view.x = (int) floor ((visible.origin.x - ox) / self->zoom);
  view.y = (int) floor ((visible.origin.y - oy) / self->zoom);
  view.width = (int) ceil ((visible.origin.x + visible.size.width - ox) / self->zoom) - view.x;
  view.height = (int) ceil ((visible.origin.y + visible.size.height - oy) / self->zoom) - view.y;
  if (!op_rect_intersect (&all, &view, &area))
    return;

  gtk_snapshot_push_clip (snapshot, &visible);
  op_view_append_checkerboard (snapshot, &picture, CHECKER_SIZE, 0.80, 0.62);
  op_tile_cache_snapshot (cell->tiles, snapshot, self->zoom, ox, oy, &area, FALSE);
  gtk_snapshot_pop (snapshot);
}

/* A caption on a dark pill, so it reads on any picture. */
static void
snapshot_label (OpCompareView *self,
                GtkSnapshot   *snapshot,
                const char    *markup,
                double         x,
                double         y,
                gboolean       from_right)
{
  static const GdkRGBA shade = { 0, 0, 0, 0.65 };
  static const GdkRGBA white = { 1, 1, 1, 1 };
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
  PangoAttrList *attrs;
  PangoRectangle logical;
  GskRoundedRect pill;
  double width, height;

  /* tabular figures: a seed's digits do not dance when the wipe steps through variants */
  pango_layout_set_markup (layout, markup, -1);
  attrs = pango_attr_list_copy (pango_layout_get_attributes (layout));
  if (attrs == NULL)
    attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  width = logical.width + 16;
  height = logical.height + 6;
  if (from_right)
    x -= width;

  gsk_rounded_rect_init_from_rect (&pill, &GRAPHENE_RECT_INIT (x, y, width, height), height / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &pill);
  gtk_snapshot_append_color (snapshot, &shade, &pill.bounds);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + 8, y + 3));
  gtk_snapshot_append_layout (snapshot, layout, &white);
  gtk_snapshot_restore (snapshot);
}

static char *
cell_markup (Cell *cell)
{
  g_autofree char *seed = NULL;

  if (op_version_is_root (cell->version))
    return g_markup_printf_escaped ("<b>%s</b>", _("Original"));

  if (op_version_get_seed (cell->version) < 0)
    return g_markup_printf_escaped ("<b>%u</b>", cell->number);

  seed = g_strdup_printf ("%" G_GINT64_FORMAT, op_version_get_seed (cell->version));
  /* a discarded variant being shown still has its seed, no longer a number */
  if (cell->number == 0)
    return g_markup_printf_escaped (_("Seed %s"), seed);

  /* Translators: the caption of a variant in the compare view: its number, then its seed */
  return g_markup_printf_escaped (_("<b>%u</b>  Seed %s"), cell->number, seed);
}

static void
lookup_accent (GtkWidget *widget,
               GdkRGBA   *color)
{
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget),
                                       "accent_bg_color", color))
    gdk_rgba_parse (color, "#3584e4");
}

static void
append_outline (GtkSnapshot           *snapshot,
                const graphene_rect_t *rect,
                float                  width,
                const GdkRGBA         *color)
{
  GskRoundedRect outline;
  float widths[4] = { width, width, width, width };
  GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline, rect, 0);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
snapshot_side_by_side (OpCompareView *self,
                       GtkSnapshot   *snapshot)
{
  static const GdkRGBA gap = { 0, 0, 0, 0.35 };
  guint cols, rows;
  GdkRGBA accent;

  lookup_accent (GTK_WIDGET (self), &accent);
  grid_shape (self->cells->len, &cols, &rows);

  for (guint i = 0; i < self->cells->len; i++)
    {
      Cell *cell = &g_array_index (self->cells, Cell, i);
      graphene_rect_t r = cell_rect (self, i);
      g_autofree char *markup = cell_markup (cell);

      /* the gaps right of and under the cell */
      if (i % cols < cols - 1)
        gtk_snapshot_append_color (snapshot, &gap,
                                   &GRAPHENE_RECT_INIT (r.origin.x + r.size.width, r.origin.y,
                                                        GAP, r.size.height));
      if (i / cols < rows - 1)
        gtk_snapshot_append_color (snapshot, &gap,
                                   &GRAPHENE_RECT_INIT (r.origin.x, r.origin.y + r.size.height,
                                                        r.size.width + GAP, GAP));

      gtk_snapshot_push_clip (snapshot, &r);
      snapshot_picture (self, snapshot, cell, &r, &r.origin);
      snapshot_label (self, snapshot, markup, r.origin.x + LABEL_INSET,
                      r.origin.y + LABEL_INSET, FALSE);
      if (self->cells->len > 1 && i == self->focused)
        append_outline (snapshot, &r, 3, &accent);
      gtk_snapshot_pop (snapshot);
    }
}

static void
snapshot_handle (OpCompareView *self,
                 GtkSnapshot   *snapshot,
                 double         x,
                 double         height)
{
  static const GdkRGBA line = { 1, 1, 1, 0.95 };
  static const GdkRGBA edge = { 0, 0, 0, 0.35 };
  static const GdkRGBA shadow = { 0, 0, 0, 0.35 };
  static const GdkRGBA knob = { 1, 1, 1, 0.95 };
  static const GdkRGBA arrow = { 0.24, 0.22, 0.27, 1 };
  double cy = round (height / 2.0);
  GskRoundedRect circle;
  cairo_t *cr;

  gtk_snapshot_append_color (snapshot, &edge, &GRAPHENE_RECT_INIT (x - 2, 0, 4, height));
  gtk_snapshot_append_color (snapshot, &line, &GRAPHENE_RECT_INIT (x - 1, 0, 2, height));

  gsk_rounded_rect_init_from_rect (&circle,
                                   &GRAPHENE_RECT_INIT (x - HANDLE_RADIUS, cy - HANDLE_RADIUS,
                                                        2 * HANDLE_RADIUS, 2 * HANDLE_RADIUS),
                                   HANDLE_RADIUS);
  gtk_snapshot_append_outset_shadow (snapshot, &circle, &shadow, 0, 1, 0, 4);
  gtk_snapshot_push_rounded_clip (snapshot, &circle);
  gtk_snapshot_append_color (snapshot, &knob, &circle.bounds);
  gtk_snapshot_pop (snapshot);

  /* ◀ ▶: the divider moves sideways */
  cr = gtk_snapshot_append_cairo (snapshot, &circle.bounds);
  gdk_cairo_set_source_rgba (cr, &arrow);
  cairo_move_to (cr, x - 3, cy - 5);
  cairo_line_to (cr, x - 9, cy);
  cairo_line_to (cr, x - 3, cy + 5);
  cairo_close_path (cr);
  cairo_move_to (cr, x + 3, cy - 5);
  cairo_line_to (cr, x + 9, cy);
  cairo_line_to (cr, x + 3, cy + 5);
  cairo_close_path (cr);
  cairo_fill (cr);
  cairo_destroy (cr);
}

static void
snapshot_wipe (OpCompareView *self,
               GtkSnapshot   *snapshot)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double x = divider_x (self);
  graphene_rect_t left = GRAPHENE_RECT_INIT (0, 0, x, height);
  graphene_rect_t right = GRAPHENE_RECT_INIT (x, 0, width - x, height);
  graphene_point_t origin = GRAPHENE_POINT_INIT (0, 0);
  g_autofree char *before = g_markup_printf_escaped ("<b>%s</b>", _("Before"));
  g_autofree char *after = NULL;
  g_autofree char *variant = NULL;

  if (self->cells->len < 2)
    return;

  /* which variant: the arrows step through them */
  variant = cell_markup (&g_array_index (self->cells, Cell, 1));
  after = g_strdup_printf ("<b>%s</b>   %s", _("After"), variant);

  /* each side's caption slides away under the divider with its picture */
  gtk_snapshot_push_clip (snapshot, &left);
  snapshot_picture (self, snapshot, &g_array_index (self->cells, Cell, 0), &left, &origin);
  snapshot_label (self, snapshot, before, LABEL_INSET, LABEL_INSET, FALSE);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_push_clip (snapshot, &right);
  snapshot_picture (self, snapshot, &g_array_index (self->cells, Cell, 1), &right, &origin);
  snapshot_label (self, snapshot, after, width - LABEL_INSET, LABEL_INSET, TRUE);
  gtk_snapshot_pop (snapshot);

  snapshot_handle (self, snapshot, x, height);
}

static void
op_compare_view_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  OpCompareView *self = (OpCompareView *) widget;

  if (is_wipe (self))
    snapshot_wipe (self, snapshot);
  else
    snapshot_side_by_side (self, snapshot);
}

static void
op_compare_view_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  OpCompareView *self = (OpCompareView *) widget;

  recenter (self);
  if (self->fit)
    {
      apply_fit (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
    }
}

/* Callbacks */

static void
on_drag_begin_cb (OpCompareView  *self,
                  double          x,
                  double          y,
                  GtkGestureDrag *gesture)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));

  self->drag_start_x = x;
  if (near_divider (self, x, y))
    self->dragging_divider = TRUE;
  else
    {
      self->panning = TRUE;
      self->drag_offset_x = self->offset_x;
      self->drag_offset_y = self->offset_y;
    }
  update_cursor (self);
}

static void
on_drag_update_cb (OpCompareView  *self,
                   double          dx,
                   double          dy,
                   GtkGestureDrag *gesture)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));

  if (self->dragging_divider && width > 0)
    op_compare_view_set_divider (self, (self->drag_start_x + dx) / width);
  else if (self->panning)
    {
      self->fit = FALSE;
      self->offset_x = self->drag_offset_x + dx;
      self->offset_y = self->drag_offset_y + dy;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_drag_end_cb (OpCompareView  *self,
                double          dx,
                double          dy,
                GtkGestureDrag *gesture)
{
  self->panning = FALSE;
  self->dragging_divider = FALSE;
  update_cursor (self);
}

static void
on_click_pressed_cb (OpCompareView   *self,
                     int              n_press,
                     double           x,
                     double           y,
                     GtkGestureClick *gesture)
{
  OpVersion *version;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (near_divider (self, x, y))
    return;

  if (!is_wipe (self) && self->cells->len > 0)
    op_compare_view_set_focused_index (self, cell_at (self, x, y));

  /* a double click picks, like Enter */
  version = focused_version (self);
  if (n_press == 2 && version != NULL)
    g_signal_emit (self, signals[PICK], 0, version);
}

static void
on_motion_cb (OpCompareView            *self,
              double                    x,
              double                    y,
              GtkEventControllerMotion *controller)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  update_cursor (self);
}

static void
on_leave_cb (OpCompareView            *self,
             GtkEventControllerMotion *controller)
{
  self->pointer_inside = FALSE;
}

static gboolean
on_scroll_cb (OpCompareView            *self,
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

      zoom_around_pointer (self, self->zoom * factor);
      return TRUE;
    }

  if (state & GDK_SHIFT_MASK && dx == 0)
    {
      dx = dy;
      dy = 0;
    }

  op_compare_view_pan (self, -dx * step, -dy * step);
  return TRUE;
}

static void
on_zoom_begin_cb (OpCompareView    *self,
                  GdkEventSequence *sequence,
                  GtkGestureZoom   *gesture)
{
  self->pinch_zoom = self->zoom;
}

static void
on_zoom_scale_changed_cb (OpCompareView  *self,
                          double          scale,
                          GtkGestureZoom *gesture)
{
  double cx, cy;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    return;

  op_compare_view_zoom_at (self, self->pinch_zoom * scale, cx, cy);
}

/* Actions */

static void
compare_move_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);
  int dx, dy, index;
  guint cols, rows;

  g_variant_get (param, "(ii)", &dx, &dy);

  if (is_wipe (self))
    {
      /* the wipe steps through the variants being compared */
      index = (int) self->focused + dx + dy;
      if (index >= 0 && index < (int) self->versions->len &&
          op_version_get_parent (self->versions->pdata[index]) != NULL)
        op_compare_view_set_wipe (self, self->versions->pdata[index]);
      return;
    }

  grid_shape (self->versions->len, &cols, &rows);
  if ((dx < 0 && self->focused % cols == 0) || (dx > 0 && self->focused % cols == cols - 1))
    return;

  index = (int) self->focused + dx + dy * (int) cols;
  if (index >= 0 && index < (int) self->versions->len)
    op_compare_view_set_focused_index (self, index);
}

static void
compare_pick_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);

  g_signal_emit (self, signals[PICK], 0, focused_version (self));
}

static void
compare_pick_number_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);
  guint number = g_variant_get_uint32 (param);

  for (guint i = 0; i < self->versions->len; i++)
    if (variant_number (self->versions->pdata[i]) == number)
      {
        g_signal_emit (self, signals[PICK], 0, self->versions->pdata[i]);
        return;
      }

  gtk_widget_error_bell (widget);
}

static void
compare_discard_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);

  g_signal_emit (self, signals[DISCARD], 0, focused_version (self));
}

static void
compare_close_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  g_signal_emit (widget, signals[CLOSE], 0);
}

static void
compare_toggle_wipe_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);

  if (!is_wipe (self))
    {
      op_compare_view_set_wipe (self, focused_version (self));
      return;
    }

  g_clear_object (&self->wipe_variant);
  show_versions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIPE]);
}

static void
compare_zoom_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  OpCompareView *self = OP_COMPARE_VIEW (widget);

  if (g_str_equal (action_name, "compare.zoom-in"))
    zoom_around_pointer (self, op_view_zoom_step (self->zoom, +1));
  else if (g_str_equal (action_name, "compare.zoom-out"))
    zoom_around_pointer (self, op_view_zoom_step (self->zoom, -1));
  else if (g_str_equal (action_name, "compare.zoom-100"))
    zoom_around_pointer (self, 1.0);
  else
    op_compare_view_zoom_to_fit (self);
}

/* GObject */

static void
op_compare_view_dispose (GObject *object)
{
  OpCompareView *self = (OpCompareView *) object;

  g_clear_pointer (&self->cells, g_array_unref);
  g_clear_pointer (&self->versions, g_ptr_array_unref);
  g_clear_object (&self->wipe_variant);

  G_OBJECT_CLASS (op_compare_view_parent_class)->dispose (object);
}

static void
op_compare_view_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  OpCompareView *self = OP_COMPARE_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOCUSED_INDEX:
      g_value_set_uint (value, self->focused);
      break;

    case PROP_WIPE:
      g_value_set_boolean (value, is_wipe (self));
      break;

    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;

    case PROP_DIVIDER:
      g_value_set_double (value, self->divider);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_compare_view_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  OpCompareView *self = OP_COMPARE_VIEW (object);

  switch (prop_id)
    {
    case PROP_FOCUSED_INDEX:
      op_compare_view_set_focused_index (self, g_value_get_uint (value));
      break;

    case PROP_DIVIDER:
      op_compare_view_set_divider (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* Binds a key (and its keypad twin) to an action with an optional target. */
static void
add_key (GtkWidgetClass  *widget_class,
         guint            keyval,
         guint            keypad,
         GdkModifierType  mods,
         const char      *action,
         const char      *format,
         ...)
{
  guint keys[2] = { keyval, keypad };
  GVariant *target = NULL;
  va_list args;

  va_start (args, format);
  if (format != NULL)
    target = g_variant_ref_sink (g_variant_new_va (format, NULL, &args));
  va_end (args);

  for (guint i = 0; i < G_N_ELEMENTS (keys) && keys[i] != 0; i++)
    {
      g_autoptr(GtkShortcut) shortcut = NULL;

      shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (keys[i], mods),
                                   gtk_named_action_new (action));
      gtk_shortcut_set_arguments (shortcut, target);
      gtk_widget_class_add_shortcut (widget_class, shortcut);
    }

  g_clear_pointer (&target, g_variant_unref);
}

static void
op_compare_view_class_init (OpCompareViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = op_compare_view_dispose;
  object_class->get_property = op_compare_view_get_property;
  object_class->set_property = op_compare_view_set_property;

  widget_class->snapshot = op_compare_view_snapshot;
  widget_class->size_allocate = op_compare_view_size_allocate;

  properties[PROP_FOCUSED_INDEX] =
    g_param_spec_uint ("focused-index", NULL, NULL, 0, OP_COMPARE_VIEW_MAX_VERSIONS - 1, 0, flags);
  properties[PROP_WIPE] =
    g_param_spec_boolean ("wipe", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, ZOOM_MIN, ZOOM_MAX, 1.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DIVIDER] =
    g_param_spec_double ("divider", NULL, NULL, 0.0, 1.0, 0.5, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * OpCompareView::pick:
   * @version: the version the user chose to keep working on
   */
  signals[PICK] =
    g_signal_new ("pick", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, OP_TYPE_VERSION);
  /**
   * OpCompareView::discard:
   * @version: the variant the user wants gone
   */
  signals[DISCARD] =
    g_signal_new ("discard", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, OP_TYPE_VERSION);
  signals[CLOSE] =
    g_signal_new ("close", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "compare.move", "(ii)", compare_move_action);
  gtk_widget_class_install_action (widget_class, "compare.pick", NULL, compare_pick_action);
  gtk_widget_class_install_action (widget_class, "compare.pick-number", "u",
                                   compare_pick_number_action);
  gtk_widget_class_install_action (widget_class, "compare.discard", NULL,
                                   compare_discard_action);
  gtk_widget_class_install_action (widget_class, "compare.close", NULL, compare_close_action);
  gtk_widget_class_install_action (widget_class, "compare.toggle-wipe", NULL,
                                   compare_toggle_wipe_action);
  gtk_widget_class_install_action (widget_class, "compare.zoom-in", NULL, compare_zoom_action);
  gtk_widget_class_install_action (widget_class, "compare.zoom-out", NULL, compare_zoom_action);
  gtk_widget_class_install_action (widget_class, "compare.zoom-fit", NULL, compare_zoom_action);
  gtk_widget_class_install_action (widget_class, "compare.zoom-100", NULL, compare_zoom_action);

  add_key (widget_class, GDK_KEY_Left, GDK_KEY_KP_Left, 0, "compare.move", "(ii)", -1, 0);
  add_key (widget_class, GDK_KEY_Right, GDK_KEY_KP_Right, 0, "compare.move", "(ii)", 1, 0);
  add_key (widget_class, GDK_KEY_Up, GDK_KEY_KP_Up, 0, "compare.move", "(ii)", 0, -1);
  add_key (widget_class, GDK_KEY_Down, GDK_KEY_KP_Down, 0, "compare.move", "(ii)", 0, 1);
  add_key (widget_class, GDK_KEY_Return, GDK_KEY_KP_Enter, 0, "compare.pick", NULL);
  add_key (widget_class, GDK_KEY_ISO_Enter, 0, 0, "compare.pick", NULL);
  for (guint n = 1; n <= 8; n++)
    add_key (widget_class, GDK_KEY_0 + n, GDK_KEY_KP_0 + n, 0, "compare.pick-number", "u", n);
  add_key (widget_class, GDK_KEY_Delete, GDK_KEY_KP_Delete, 0, "compare.discard", NULL);
  add_key (widget_class, GDK_KEY_Escape, 0, 0, "compare.close", NULL);
  add_key (widget_class, GDK_KEY_w, 0, 0, "compare.toggle-wipe", NULL);
  /* digits pick here, so 100 % moves to Ctrl+1; 0 still fits, as on the canvas */
  add_key (widget_class, GDK_KEY_0, GDK_KEY_KP_0, 0, "compare.zoom-fit", NULL);
  add_key (widget_class, GDK_KEY_0, GDK_KEY_KP_0, GDK_CONTROL_MASK, "compare.zoom-fit", NULL);
  add_key (widget_class, GDK_KEY_1, GDK_KEY_KP_1, GDK_CONTROL_MASK, "compare.zoom-100", NULL);
  add_key (widget_class, GDK_KEY_plus, GDK_KEY_KP_Add, 0, "compare.zoom-in", NULL);
  add_key (widget_class, GDK_KEY_equal, 0, 0, "compare.zoom-in", NULL);
  add_key (widget_class, GDK_KEY_minus, GDK_KEY_KP_Subtract, 0, "compare.zoom-out", NULL);

  gtk_widget_class_set_css_name (widget_class, "op-compare-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
op_compare_view_init (OpCompareView *self)
{
  GtkGesture *gesture;
  GtkEventController *controller;

  self->versions = g_ptr_array_new_with_free_func (g_object_unref);
  self->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  g_array_set_clear_func (self->cells, cell_clear);
  self->zoom = 1.0;
  self->fit = TRUE;
  self->divider = 0.5;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), 0);
  g_signal_connect_swapped (gesture, "drag-begin", G_CALLBACK (on_drag_begin_cb), self);
  g_signal_connect_swapped (gesture, "drag-update", G_CALLBACK (on_drag_update_cb), self);
  g_signal_connect_swapped (gesture, "drag-end", G_CALLBACK (on_drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect_swapped (gesture, "pressed", G_CALLBACK (on_click_pressed_cb), self);
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

  update_actions (self);
}

/* Public API */

GtkWidget *
op_compare_view_new (void)
{
  return g_object_new (OP_TYPE_COMPARE_VIEW, NULL);
}

/**
 * op_compare_view_set_versions:
 * @versions: (array length=n_versions): one to four versions
 *
 * Shows @versions side by side.  The focus stays on the version it was on if that is
 * still shown.
 */
void
op_compare_view_set_versions (OpCompareView  *self,
                              OpVersion     **versions,
                              guint           n_versions)
{
  OpVersion *focused;
  GPtrArray *list;
  guint index = 0;

  g_return_if_fail (OP_IS_COMPARE_VIEW (self));
  g_return_if_fail (versions != NULL || n_versions == 0);
  g_return_if_fail (n_versions <= OP_COMPARE_VIEW_MAX_VERSIONS);

  focused = focused_version (self);
  for (guint i = 0; i < n_versions; i++)
    if (versions[i] == focused)
      index = i;

  /* referenced before the old list goes: it may hold the last references to them */
  list = g_ptr_array_new_full (n_versions, g_object_unref);
  for (guint i = 0; i < n_versions; i++)
    g_ptr_array_add (list, g_object_ref (versions[i]));
  g_ptr_array_unref (self->versions);
  self->versions = list;

  if (self->wipe_variant != NULL)
    {
      g_clear_object (&self->wipe_variant);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIPE]);
    }

  show_versions (self);
  if (self->focused != index)
    {
      self->focused = index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOCUSED_INDEX]);
    }
  update_actions (self);
}

guint
op_compare_view_get_n_versions (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), 0);
  return self->versions->len;
}

OpVersion *
op_compare_view_get_version (OpCompareView *self,
                             guint          index)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (index < self->versions->len, NULL);
  return self->versions->pdata[index];
}

/**
 * op_compare_view_set_wipe:
 * @variant: a version with a parent
 *
 * Wipes between @variant and its parent.  When @variant is not among the versions
 * side by side, they become the parent and @variant.
 */
void
op_compare_view_set_wipe (OpCompareView *self,
                          OpVersion     *variant)
{
  OpVersion *parent;
  guint index;

  g_return_if_fail (OP_IS_COMPARE_VIEW (self));
  g_return_if_fail (OP_IS_VERSION (variant));

  parent = op_version_get_parent (variant);
  g_return_if_fail (parent != NULL);

  if (!g_ptr_array_find (self->versions, variant, &index))
    {
      OpVersion *pair[2] = { parent, variant };

      op_compare_view_set_versions (self, pair, 2);
      index = 1;
    }

  g_set_object (&self->wipe_variant, variant);
  show_versions (self);

  if (self->focused != index)
    {
      self->focused = index;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOCUSED_INDEX]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIPE]);
}

gboolean
op_compare_view_get_wipe (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), FALSE);
  return is_wipe (self);
}

guint
op_compare_view_get_focused_index (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), 0);
  return self->focused;
}

void
op_compare_view_set_focused_index (OpCompareView *self,
                                   guint          index)
{
  g_return_if_fail (OP_IS_COMPARE_VIEW (self));

  if (index >= self->versions->len || index == self->focused)
    return;

  if (is_wipe (self))
    {
      if (op_version_get_parent (self->versions->pdata[index]) != NULL)
        op_compare_view_set_wipe (self, self->versions->pdata[index]);
      return;
    }

  self->focused = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOCUSED_INDEX]);
  update_actions (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * op_compare_view_get_focused:
 *
 * Returns: (nullable) (transfer none): what Enter picks: the focused version, or the
 *   variant in the wipe
 */
OpVersion *
op_compare_view_get_focused (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), NULL);
  return focused_version (self);
}

double
op_compare_view_get_zoom (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), 1.0);
  return self->zoom;
}

/**
 * op_compare_view_zoom_at:
 *
 * Sets the zoom of every picture, keeping the point under (@widget_x, @widget_y) in
 * place in its cell (and so the same point of every picture in each cell).
 */
void
op_compare_view_zoom_at (OpCompareView *self,
                         double         zoom,
                         double         widget_x,
                         double         widget_y)
{
  graphene_rect_t cell;
  double x, y;

  g_return_if_fail (OP_IS_COMPARE_VIEW (self));

  if (!isfinite (zoom))
    return;

  zoom = CLAMP (zoom, ZOOM_MIN, ZOOM_MAX);
  self->fit = FALSE;
  if (zoom == self->zoom)
    return;

  cell = cell_rect (self, cell_at (self, widget_x, widget_y));
  x = widget_x - cell.origin.x;
  y = widget_y - cell.origin.y;
  self->offset_x = x - (x - self->offset_x) / self->zoom * zoom;
  self->offset_y = y - (y - self->offset_y) / self->zoom * zoom;
  self->zoom = zoom;

  /* at whole zoom levels picture pixels land on screen pixels */
  if (zoom >= 1.0 && zoom == floor (zoom))
    {
      self->offset_x = round (self->offset_x);
      self->offset_y = round (self->offset_y);
    }

  notify_zoom (self);
}

void
op_compare_view_zoom_to_fit (OpCompareView *self)
{
  g_return_if_fail (OP_IS_COMPARE_VIEW (self));

  self->fit = TRUE;
  apply_fit (self);
  notify_zoom (self);
}

void
op_compare_view_pan (OpCompareView *self,
                     double         dx,
                     double         dy)
{
  g_return_if_fail (OP_IS_COMPARE_VIEW (self));

  if (!isfinite (dx) || !isfinite (dy))
    return;

  self->fit = FALSE;
  self->offset_x += dx;
  self->offset_y += dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
op_compare_view_image_to_widget (OpCompareView *self,
                                 guint          index,
                                 double         x,
                                 double         y,
                                 double        *widget_x,
                                 double        *widget_y)
{
  graphene_rect_t r;
  Cell *cell;

  g_return_if_fail (OP_IS_COMPARE_VIEW (self));
  g_return_if_fail (index < self->cells->len);

  cell = &g_array_index (self->cells, Cell, index);
  r = cell_rect (self, index);
  *widget_x = r.origin.x + self->offset_x + (cell->x + x) * self->zoom;
  *widget_y = r.origin.y + self->offset_y + (cell->y + y) * self->zoom;
}

double
op_compare_view_get_divider (OpCompareView *self)
{
  g_return_val_if_fail (OP_IS_COMPARE_VIEW (self), 0.5);
  return self->divider;
}

void
op_compare_view_set_divider (OpCompareView *self,
                             double         divider)
{
  g_return_if_fail (OP_IS_COMPARE_VIEW (self));

  if (!isfinite (divider))
    return;

  divider = CLAMP (divider, 0.0, 1.0);
  if (divider == self->divider)
    return;

  self->divider = divider;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIVIDER]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
