/* op-mask-edit.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mask"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-mask-private.h"

/* Coordinates beyond this are nonsense from a device or a file; clamping them keeps
 * every later computation finite. */
#define COORD_LIMIT 1e8

/* Polygons are sampled on a 4×4 grid in each pixel. */
#define POLY_SS 4

/* Columns the feather's vertical passes work on at once. */
#define FEATHER_BLOCK 256

/* The pixels an edit changed, with x2 and y2 exclusive. */
typedef struct
{
  int x1, y1, x2, y2;
} Extent;

#define EXTENT_INIT { G_MAXINT, G_MAXINT, G_MININT, G_MININT }

/* An edit's link to the undo history.  An edit given a history with no open step makes
 * a step of its own, so every edit is one undo step unless the caller groups them. */
typedef struct
{
  OpMaskHistory *history;
  gboolean       own_step;
} EditStep;

typedef struct
{
  double x0, y0;   /* the upper end */
  double y1;       /* the lower end */
  double dxdy;
  int    dir;      /* +1 downwards, -1 upwards: the winding it adds */
} PolyEdge;

typedef struct
{
  double x;
  int    dir;
} PolyCrossing;

typedef struct
{
  OpMask       *mask;
  OpMaskMode    mode;
  PolyEdge     *edges;    /* sorted by y0 */
  guint         n_edges;
  guint         next;     /* first edge not yet active */
  GArray       *active;   /* guint, indices into edges */
  GArray       *crossings;
  int          *samples;  /* per sample column: +1 where a span starts, -1 past its end */
  OpRect        clip;     /* pixels the polygon may cover */
} PolyRaster;

typedef struct
{
  guint8 orig[OP_MASK_TILE * OP_MASK_TILE];   /* the mask before the stroke */
  guint8 alpha[OP_MASK_TILE * OP_MASK_TILE];  /* the strongest dab so far */
} StrokeTile;

typedef struct
{
  double cx, cy;
  double lo, hi;  /* full alpha within lo of the centre, none beyond hi */
  double lo2, hi2;
} Dab;

/* One row of a dab within one tile; alpha and orig are indexed by picture x. */
typedef struct
{
  OpMaskStroke *stroke;
  const Dab    *dab;
  guint8       *alpha;
  const guint8 *orig;
  guint8       *row;
  double        dy2;
  int           first;  /* the columns changed */
  int           last;
} DabRow;

struct _OpMaskStroke
{
  /* Owned references */
  OpMask      *mask;
  StrokeTile **tiles;   /* one pointer per tile; a tile is allocated when a dab reaches it */

  /* Borrowed references */
  EditStep     step;

  OpBrush      brush;
  guint        opacity;  /* 0..255 */
  gboolean     inert;    /* a brush that cannot paint */
  int          n_tiles_x;
  int          n_tiles_y;

  gboolean     has_last;
  double       last_x;
  double       last_y;
  double       last_pressure;
  double       last_radius;  /* of the last dab, which sets the spacing */
  double       carry;        /* distance travelled since the last dab */
  guint        n_dabs;
  Extent       total;
};

/* Morphology of a binary set S: cover every pixel within radius of a pixel of S.
 * Growing takes S = the pixels in the mask; shrinking takes S = the pixels out of it,
 * and the covered pixels leave the mask. */
typedef struct
{
  OpMask   *mask;
  OpRect    region;
  int       radius;
  gboolean  shrink;
  guint16  *dist;   /* per pixel of region: rows to the nearest pixel of S in its column */
  int      *half;   /* half[g]: half-width of the disc's row at vertical distance g */
  int      *reach;  /* per column of a row: the furthest column covered from there */
} Morph;

static inline double
clamp_coord (double v)
{
  return CLAMP (v, -COORD_LIMIT, COORD_LIMIT);
}

static void
extent_add (Extent *e,
            int     x1,
            int     y1,
            int     x2,
            int     y2)
{
  e->x1 = MIN (e->x1, x1);
  e->y1 = MIN (e->y1, y1);
  e->x2 = MAX (e->x2, x2);
  e->y2 = MAX (e->y2, y2);
}

static void
extent_add_extent (Extent       *e,
                   const Extent *other)
{
  if (other->x2 > other->x1)
    extent_add (e, other->x1, other->y1, other->x2, other->y2);
}

static void
extent_get_rect (const Extent *e,
                 OpRect       *rect)
{
  if (rect == NULL)
    return;

  if (e->x2 <= e->x1 || e->y2 <= e->y1)
    *rect = (OpRect) { 0, 0, 0, 0 };
  else
    *rect = (OpRect) { e->x1, e->y1, e->x2 - e->x1, e->y2 - e->y1 };
}

static void
set_changed (OpRect       *changed,
             const OpRect *rect)
{
  if (changed != NULL)
    *changed = rect != NULL ? *rect : (OpRect) { 0, 0, 0, 0 };
}

/* Clips [x1, x2) × [y1, y2) to the mask; 64-bit so that huge rectangles cannot
 * overflow. */
static gboolean
clip_to_mask (const OpMask *self,
              gint64        x1,
              gint64        y1,
              gint64        x2,
              gint64        y2,
              OpRect       *out)
{
  x1 = MAX (x1, 0);
  y1 = MAX (y1, 0);
  x2 = MIN (x2, self->width);
  y2 = MIN (y2, self->height);

  if (x2 <= x1 || y2 <= y1)
    {
      *out = (OpRect) { 0, 0, 0, 0 };
      return FALSE;
    }

  *out = (OpRect) { (int) x1, (int) y1, (int) (x2 - x1), (int) (y2 - y1) };
  return TRUE;
}

static gboolean
clip_rect_grown (const OpMask *self,
                 const OpRect *rect,
                 gint64        margin,
                 OpRect       *out)
{
  return clip_to_mask (self, (gint64) rect->x - margin, (gint64) rect->y - margin,
                       (gint64) rect->x + rect->width + margin,
                       (gint64) rect->y + rect->height + margin, out);
}

static inline guint8 *
mask_row (OpMask *self,
          int     y)
{
  return self->data + (gsize) y * self->width;
}

static gboolean
history_matches (OpMask        *self,
                 OpMaskHistory *history)
{
  return history == NULL || _op_mask_history_get_mask (history) == self;
}

static void
edit_step_begin (EditStep      *step,
                 OpMaskHistory *history)
{
  step->history = history;
  step->own_step = history != NULL && !_op_mask_history_is_open (history);
  if (step->own_step)
    op_mask_history_begin (history);
}

static void
edit_step_save (EditStep     *step,
                const OpRect *rect)
{
  if (step->history != NULL && !op_rect_is_empty (rect))
    op_mask_history_save_rect (step->history, rect);
}

static void
edit_step_end (EditStep *step)
{
  if (step->own_step)
    op_mask_history_end (step->history);
  step->own_step = FALSE;
}

/* Sets pixels [x1, x2) of row y to value, adding those that change to @extent. */
static void
fill_span (OpMask *self,
           int     y,
           int     x1,
           int     x2,
           guint8  value,
           Extent *extent)
{
  guint8 *row = mask_row (self, y);
  int first = x1, last = x2 - 1;

  while (first < x2 && row[first] == value)
    first++;
  if (first == x2)
    return;
  while (row[last] == value)
    last--;

  memset (row + first, value, last - first + 1);
  extent_add (extent, first, y, last + 1, y + 1);
}

/* The bounding box of the pixels that are not @value. */
static void
find_extent_not (OpMask *self,
                 guint8  value,
                 Extent *extent)
{
  for (int y = 0; y < self->height; y++)
    {
      const guint8 *row = mask_row (self, y);
      int first = 0, last = self->width - 1;

      while (first < self->width && row[first] == value)
        first++;
      if (first == self->width)
        continue;
      while (row[last] == value)
        last--;
      extent_add (extent, first, y, last + 1, y + 1);
    }
}

static void
fill_all (OpMask        *self,
          OpMaskHistory *history,
          guint8         value,
          OpRect        *changed)
{
  Extent extent = EXTENT_INIT, done = EXTENT_INIT;
  EditStep step;
  OpRect rect;

  find_extent_not (self, value, &extent);
  extent_get_rect (&extent, &rect);
  set_changed (changed, &rect);
  if (op_rect_is_empty (&rect))
    return;

  edit_step_begin (&step, history);
  edit_step_save (&step, &rect);
  for (int y = rect.y; y < rect.y + rect.height; y++)
    fill_span (self, y, rect.x, rect.x + rect.width, value, &done);
  edit_step_end (&step);
}

void
op_mask_fill_rect (OpMask        *self,
                   OpMaskHistory *history,
                   const OpRect  *rect,
                   OpMaskMode     mode,
                   OpRect        *changed)
{
  Extent extent = EXTENT_INIT;
  guint8 value = mode == OP_MASK_MODE_ADD ? 255 : 0;
  EditStep step;
  OpRect clip;

  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (rect != NULL);
  g_return_if_fail (mode == OP_MASK_MODE_ADD || mode == OP_MASK_MODE_SUBTRACT);
  g_return_if_fail (history_matches (self, history));

  if (op_rect_is_empty (rect) || !clip_rect_grown (self, rect, 0, &clip))
    return;

  edit_step_begin (&step, history);
  edit_step_save (&step, &clip);
  for (int y = clip.y; y < clip.y + clip.height; y++)
    fill_span (self, y, clip.x, clip.x + clip.width, value, &extent);
  edit_step_end (&step);

  extent_get_rect (&extent, changed);
}

/* Polygon fill.  The rule is nonzero winding, so a lasso that loops over itself stays
 * filled where it overlaps.  Each pixel has 4×4 samples at ((i + ½) / 4, (j + ½) / 4);
 * a sample on an edge counts as inside on the left and top edges only. */

static int
poly_edge_compare (gconstpointer a,
                   gconstpointer b)
{
  const PolyEdge *ea = a, *eb = b;

  return (ea->y0 > eb->y0) - (ea->y0 < eb->y0);
}

static gboolean
poly_points_valid (const double *xy,
                   guint         n_points)
{
  for (guint i = 0; i < 2 * n_points; i++)
    if (!isfinite (xy[i]))
      return FALSE;
  return TRUE;
}

static guint
poly_build_edges (const double *xy,
                  guint         n_points,
                  PolyEdge     *edges)
{
  guint n = 0;

  for (guint i = 0; i < n_points; i++)
    {
      guint j = (i + 1) % n_points;
      double xa = clamp_coord (xy[2 * i]), ya = clamp_coord (xy[2 * i + 1]);
      double xb = clamp_coord (xy[2 * j]), yb = clamp_coord (xy[2 * j + 1]);
      int dir = yb > ya ? 1 : -1;

      if (ya == yb)
        continue;
      if (dir < 0)
        {
          double t;

          t = xa, xa = xb, xb = t;
          t = ya, ya = yb, yb = t;
        }
      edges[n++] = (PolyEdge) { xa, ya, yb, (xb - xa) / (yb - ya), dir };
    }

  qsort (edges, n, sizeof (PolyEdge), poly_edge_compare);
  return n;
}

static gboolean
poly_get_clip (const OpMask *self,
               const double *xy,
               guint         n_points,
               OpRect       *clip)
{
  double x1 = G_MAXDOUBLE, y1 = G_MAXDOUBLE, x2 = -G_MAXDOUBLE, y2 = -G_MAXDOUBLE;

  for (guint i = 0; i < n_points; i++)
    {
      x1 = MIN (x1, clamp_coord (xy[2 * i]));
      x2 = MAX (x2, clamp_coord (xy[2 * i]));
      y1 = MIN (y1, clamp_coord (xy[2 * i + 1]));
      y2 = MAX (y2, clamp_coord (xy[2 * i + 1]));
    }

  return clip_to_mask (self, (gint64) floor (x1), (gint64) floor (y1),
                       (gint64) ceil (x2), (gint64) ceil (y2), clip);
}

static int
poly_crossing_compare (gconstpointer a,
                       gconstpointer b)
{
  const PolyCrossing *ca = a, *cb = b;

  return (ca->x > cb->x) - (ca->x < cb->x);
}

/* Updates the active edges for sample row @ys and lists where they cross it. */
static void
poly_find_crossings (PolyRaster *raster,
                     double      ys)
{
  guint kept = 0;

  while (raster->next < raster->n_edges && raster->edges[raster->next].y0 <= ys)
    {
      g_array_append_val (raster->active, raster->next);
      raster->next++;
    }

  g_array_set_size (raster->crossings, 0);
  for (guint i = 0; i < raster->active->len; i++)
    {
      guint index = g_array_index (raster->active, guint, i);
      const PolyEdge *e = &raster->edges[index];
      PolyCrossing c;

      if (e->y1 <= ys)
        continue;
      g_array_index (raster->active, guint, kept++) = index;
      c = (PolyCrossing) { e->x0 + (ys - e->y0) * e->dxdy, e->dir };
      g_array_append_val (raster->crossings, c);
    }
  g_array_set_size (raster->active, kept);

  g_array_sort (raster->crossings, poly_crossing_compare);
}

/* The first sample column, relative to the clip, at or right of x. */
static int
poly_sample_column (const PolyRaster *raster,
                    double            x)
{
  double lo = raster->clip.x, hi = raster->clip.x + raster->clip.width;
  double k = ceil (POLY_SS * CLAMP (x, lo - 1, hi + 1) - 0.5);

  return CLAMP ((int) k - POLY_SS * raster->clip.x, 0, POLY_SS * raster->clip.width);
}

static void
poly_add_spans (PolyRaster *raster)
{
  int winding = 0;
  double start = 0;

  for (guint i = 0; i < raster->crossings->len; i++)
    {
      const PolyCrossing *c = &g_array_index (raster->crossings, PolyCrossing, i);
      int before = winding;

      winding += c->dir;
      if (before == 0 && winding != 0)
        start = c->x;
      else if (before != 0 && winding == 0)
        {
          raster->samples[poly_sample_column (raster, start)]++;
          raster->samples[poly_sample_column (raster, c->x)]--;
        }
    }
}

static guint8
apply_coverage (guint8     v,
                guint      coverage,
                OpMaskMode mode)
{
  if (mode == OP_MASK_MODE_ADD)
    return v + ((255 - v) * coverage + 127) / 255;
  return v - (v * coverage + 127) / 255;
}

/* Turns the sample counts of pixel row y into coverage and applies it. */
static void
poly_apply_row (PolyRaster *raster,
                int         y,
                Extent     *extent)
{
  guint8 *row = mask_row (raster->mask, y) + raster->clip.x;
  int inside = 0;

  for (int x = 0; x < raster->clip.width; x++)
    {
      guint count = 0, coverage;
      guint8 v;

      for (int i = 0; i < POLY_SS; i++)
        {
          inside += raster->samples[POLY_SS * x + i];
          count += inside;
        }
      coverage = (count * 255 + POLY_SS * POLY_SS / 2) / (POLY_SS * POLY_SS);
      v = apply_coverage (row[x], coverage, raster->mode);
      if (v == row[x])
        continue;
      row[x] = v;
      extent_add (extent, raster->clip.x + x, y, raster->clip.x + x + 1, y + 1);
    }
}

static void
poly_raster (PolyRaster *raster,
             Extent     *extent)
{
  gsize n_samples = (gsize) POLY_SS * raster->clip.width + 1;

  raster->samples = g_new (int, n_samples);
  raster->active = g_array_new (FALSE, FALSE, sizeof (guint));
  raster->crossings = g_array_new (FALSE, FALSE, sizeof (PolyCrossing));

  for (int y = raster->clip.y; y < raster->clip.y + raster->clip.height; y++)
    {
      memset (raster->samples, 0, n_samples * sizeof (int));
      for (int j = 0; j < POLY_SS; j++)
        {
          poly_find_crossings (raster, y + (j + 0.5) / POLY_SS);
          poly_add_spans (raster);
        }
      poly_apply_row (raster, y, extent);
    }

  g_clear_pointer (&raster->samples, g_free);
  g_clear_pointer (&raster->active, g_array_unref);
  g_clear_pointer (&raster->crossings, g_array_unref);
}

/**
 * op_mask_fill_polygon:
 * @xy: (array length=n_points): x, y pairs; the last point joins the first
 *
 * Fills a lasso with the nonzero winding rule, antialiased by 4×4 supersampling:
 * a pixel gets coverage round (255 · samples inside / 16).  Add raises a pixel v to
 * v + (255 − v) · coverage / 255, subtract lowers it to v · (255 − coverage) / 255.
 * Fewer than 3 points, or any coordinate that is NaN or infinite, change nothing.
 */
void
op_mask_fill_polygon (OpMask        *self,
                      OpMaskHistory *history,
                      const double  *xy,
                      guint          n_points,
                      OpMaskMode     mode,
                      OpRect        *changed)
{
  g_autofree PolyEdge *edges = NULL;
  Extent extent = EXTENT_INIT;
  PolyRaster raster = { self, mode };
  EditStep step;

  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (xy != NULL || n_points == 0);
  g_return_if_fail (mode == OP_MASK_MODE_ADD || mode == OP_MASK_MODE_SUBTRACT);
  g_return_if_fail (history_matches (self, history));

  if (n_points < 3 || !poly_points_valid (xy, n_points) ||
      !poly_get_clip (self, xy, n_points, &raster.clip))
    return;

  edges = g_new (PolyEdge, n_points);
  raster.edges = edges;
  raster.n_edges = poly_build_edges (xy, n_points, edges);

  edit_step_begin (&step, history);
  edit_step_save (&step, &raster.clip);
  poly_raster (&raster, &extent);
  edit_step_end (&step);

  extent_get_rect (&extent, changed);
}

void
op_mask_invert (OpMask        *self,
                OpMaskHistory *history,
                OpRect        *changed)
{
  OpRect full;
  EditStep step;
  gsize n;

  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (history_matches (self, history));

  full = (OpRect) { 0, 0, self->width, self->height };
  n = (gsize) self->width * self->height;

  edit_step_begin (&step, history);
  edit_step_save (&step, &full);
  for (gsize i = 0; i < n; i++)
    self->data[i] = 255 - self->data[i];
  edit_step_end (&step);

  /* 255 − v never equals v, so every pixel changed. */
  set_changed (changed, &full);
}

void
op_mask_clear (OpMask        *self,
               OpMaskHistory *history,
               OpRect        *changed)
{
  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (history_matches (self, history));

  fill_all (self, history, 0, changed);
}

void
op_mask_select_all (OpMask        *self,
                    OpMaskHistory *history,
                    OpRect        *changed)
{
  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (history_matches (self, history));

  fill_all (self, history, 255, changed);
}

/* Grow and shrink.  The mask is made binary first (coverage ≥ 128 is in) and the result
 * is binary: 255 in, 0 out, in the whole region the operation works on.  Distances are
 * exact Euclidean: a pixel is within r of another when dx² + dy² ≤ r².  Beyond the
 * picture's border nothing is in when growing, and nothing is out when shrinking: the
 * border is not an edge of the mask. */

static inline gboolean
morph_in_set (const Morph *m,
              guint8       v)
{
  return m->shrink ? v < 128 : v >= 128;
}

/* dist = rows to the nearest pixel of S in the same column, capped at radius + 1. */
static void
morph_columns (Morph *m)
{
  const OpRect *r = &m->region;
  guint16 cap = m->radius + 1;

  for (int y = 0; y < r->height; y++)
    {
      const guint8 *row = mask_row (m->mask, r->y + y) + r->x;
      guint16 *d = m->dist + (gsize) y * r->width;

      for (int x = 0; x < r->width; x++)
        d[x] = morph_in_set (m, row[x]) ? 0 : y == 0 ? cap : MIN (d[x - r->width] + 1, cap);
    }

  for (int y = r->height - 2; y >= 0; y--)
    {
      guint16 *d = m->dist + (gsize) y * r->width;
      const guint16 *down = d + r->width;

      for (int x = 0; x < r->width; x++)
        d[x] = MIN (d[x], down[x] + 1);
    }
}

static void
morph_init_half (Morph *m)
{
  gint64 r2 = (gint64) m->radius * m->radius;

  m->half = g_new (int, m->radius + 1);
  for (int g = 0; g <= m->radius; g++)
    {
      gint64 room = r2 - (gint64) g * g;
      gint64 h = (gint64) sqrt ((double) room);

      while ((h + 1) * (h + 1) <= room)
        h++;
      while (h * h > room)
        h--;
      m->half[g] = (int) h;
    }
}

/* A pixel q of row y with column distance g covers the columns within half[g] of q; a
 * sweep over the row keeps the furthest reach so far. */
static void
morph_row (Morph  *m,
           int     y,
           Extent *extent)
{
  const OpRect *r = &m->region;
  const guint16 *d = m->dist + (gsize) y * r->width;
  guint8 *row = mask_row (m->mask, r->y + y) + r->x;
  guint8 covered_value = m->shrink ? 0 : 255;
  int reach = -1;

  for (int x = 0; x < r->width; x++)
    m->reach[x] = -1;
  for (int q = 0; q < r->width; q++)
    if (d[q] <= m->radius)
      {
        int start = MAX (q - m->half[d[q]], 0);

        m->reach[start] = MAX (m->reach[start], q + m->half[d[q]]);
      }

  for (int x = 0; x < r->width; x++)
    {
      guint8 v;

      reach = MAX (reach, m->reach[x]);
      v = x <= reach ? covered_value : 255 - covered_value;
      if (row[x] == v)
        continue;
      row[x] = v;
      extent_add (extent, r->x + x, r->y + y, r->x + x + 1, r->y + y + 1);
    }
}

static void
morph_run (Morph  *m,
           Extent *extent)
{
  m->dist = g_new (guint16, (gsize) m->region.width * m->region.height);
  m->reach = g_new (int, m->region.width);
  morph_init_half (m);

  morph_columns (m);
  for (int y = 0; y < m->region.height; y++)
    morph_row (m, y, extent);

  g_clear_pointer (&m->dist, g_free);
  g_clear_pointer (&m->reach, g_free);
  g_clear_pointer (&m->half, g_free);
}

/**
 * op_mask_grow:
 * @radius: pixels to grow by; negative shrinks, 0 does nothing
 *
 * Dilates (or erodes) the mask by an exact Euclidean disc, in time proportional to the
 * pixels of the mask's bounds plus @radius.  The pixels worked on become binary: 255
 * where the result is in, 0 elsewhere; partial coverage is in from 128.  @radius is
 * clamped to what can reach across the mask.
 */
void
op_mask_grow (OpMask        *self,
              OpMaskHistory *history,
              int            radius,
              OpRect        *changed)
{
  Extent extent = EXTENT_INIT;
  Morph m = { self };
  EditStep step;
  OpRect bounds;
  gint64 limit;

  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (history_matches (self, history));

  if (radius == 0 || !op_mask_get_bounds (self, &bounds))
    return;

  limit = MIN ((gint64) self->width + self->height, G_MAXUINT16 - 1);
  m.shrink = radius < 0;
  m.radius = (int) MIN (ABS ((gint64) radius), limit);

  /* Shrinking needs the ring of zeros around the bounds, which stands for all the
   * pixels out of the mask beyond them. */
  clip_rect_grown (self, &bounds, m.shrink ? 1 : m.radius, &m.region);

  edit_step_begin (&step, history);
  edit_step_save (&step, m.shrink ? &bounds : &m.region);
  morph_run (&m, &extent);
  edit_step_end (&step);

  extent_get_rect (&extent, changed);
}

/* Feather: a Gaussian of sigma = radius / 2 made of three box blurs (Kutskir's box
 * sizes), horizontal then vertical, in 8.8 fixed point.  Beyond the picture's border the
 * edge pixel repeats, so a full mask stays full. */

static int
box_radii_for_gaussian (double sigma,
                        int    radii[3])
{
  double ideal = sqrt (12.0 * sigma * sigma / 3 + 1);
  int wl = (int) floor (ideal);
  int wu, m, total = 0;

  if (wl % 2 == 0)
    wl--;
  wu = wl + 2;
  m = (int) round ((12.0 * sigma * sigma - 3.0 * wl * wl - 12.0 * wl - 9) / (-4.0 * wl - 4));

  for (int i = 0; i < 3; i++)
    {
      radii[i] = ((i < m ? wl : wu) - 1) / 2;
      total += radii[i];
    }
  return total;
}

/* One box blur of radius r over n values.  Both lines have room for r + 1 values
 * before index 0 and after n − 1: beyond its ends the source repeats its end value
 * (clamp) or is zero, which the padding holds so that the loop has no branch. */
static void
box_blur_line (guint32  *src,
               guint32  *dst,
               int       n,
               int       r,
               gboolean  clamp_lo,
               gboolean  clamp_hi)
{
  guint32 lo = clamp_lo ? src[0] : 0, hi = clamp_hi ? src[n - 1] : 0;
  double inv = 1.0 / (2.0 * r + 1);
  gint64 sum = 0;

  for (int i = 1; i <= r + 1; i++)
    {
      src[-i] = lo;
      src[n - 1 + i] = hi;
    }

  for (int i = -r; i <= r; i++)
    sum += src[i];
  for (int i = 0; i < n; i++)
    {
      dst[i] = (guint32) (sum * inv + 0.5);
      sum += (gint64) src[i + r + 1] - src[i - r];
    }
}

/* Three passes over line[0..n), leaving the result in line; both lines padded by the
 * largest radius + 1. */
static void
box_blur_3 (guint32   *line,
            guint32   *tmp,
            int        n,
            const int  radii[3],
            gboolean   clamp_lo,
            gboolean   clamp_hi)
{
  box_blur_line (line, tmp, n, radii[0], clamp_lo, clamp_hi);
  box_blur_line (tmp, line, n, radii[1], clamp_lo, clamp_hi);
  box_blur_line (line, tmp, n, radii[2], clamp_lo, clamp_hi);
  memcpy (line, tmp, n * sizeof (guint32));
}

static void
feather_rows (OpMask       *self,
              const OpRect *r,
              const int     radii[3],
              guint16      *buf)
{
  int pad = MAX (MAX (radii[0], radii[1]), radii[2]) + 1;
  g_autofree guint32 *line_buf = g_new (guint32, r->width + 2 * pad);
  g_autofree guint32 *tmp_buf = g_new (guint32, r->width + 2 * pad);
  guint32 *line = line_buf + pad, *tmp = tmp_buf + pad;
  gboolean clamp_lo = r->x == 0, clamp_hi = r->x + r->width == self->width;

  for (int y = 0; y < r->height; y++)
    {
      const guint8 *row = mask_row (self, r->y + y) + r->x;
      guint16 *out = buf + (gsize) y * r->width;

      for (int x = 0; x < r->width; x++)
        line[x] = row[x] << 8;
      box_blur_3 (line, tmp, r->width, radii, clamp_lo, clamp_hi);
      for (int x = 0; x < r->width; x++)
        out[x] = line[x];
    }
}

/* One box blur down @count columns of n values stored row by row (value y of column c
 * at y · count + c), so that memory is read in order. */
static void
box_blur_columns (const guint16 *src,
                  guint16       *dst,
                  int            n,
                  int            count,
                  int            r,
                  gboolean       clamp_lo,
                  gboolean       clamp_hi)
{
  static const guint16 zeros[FEATHER_BLOCK];
  const guint16 *lo = clamp_lo ? src : zeros;
  const guint16 *hi = clamp_hi ? src + (gsize) (n - 1) * count : zeros;
  double inv = 1.0 / (2.0 * r + 1);
  gint64 sums[FEATHER_BLOCK];
  int k = MIN (r, n - 1);

  for (int c = 0; c < count; c++)
    sums[c] = (gint64) lo[c] * r + (gint64) hi[c] * (r - k);
  for (int i = 0; i <= k; i++)
    for (int c = 0; c < count; c++)
      sums[c] += src[(gsize) i * count + c];

  for (int y = 0; y < n; y++)
    {
      const guint16 *in = y + r + 1 < n ? src + (gsize) (y + r + 1) * count : hi;
      const guint16 *out = y - r >= 0 ? src + (gsize) (y - r) * count : lo;
      guint16 *d = dst + (gsize) y * count;

      for (int c = 0; c < count; c++)
        {
          d[c] = (guint16) (sums[c] * inv + 0.5);
          sums[c] += in[c] - out[c];
        }
    }
}

static void
feather_store_block (OpMask        *self,
                     const OpRect  *r,
                     int            bx,
                     int            count,
                     const guint16 *block,
                     Extent        *extent)
{
  for (int y = 0; y < r->height; y++)
    {
      guint8 *row = mask_row (self, r->y + y) + r->x + bx;
      const guint16 *b = block + (gsize) y * count;
      int first = G_MAXINT, last = -1;

      for (int c = 0; c < count; c++)
        {
          guint8 v = (guint8) MIN ((b[c] + 128) >> 8, 255);

          if (row[c] == v)
            continue;
          row[c] = v;
          first = MIN (first, c);
          last = c;
        }
      if (last >= 0)
        extent_add (extent, r->x + bx + first, r->y + y, r->x + bx + last + 1, r->y + y + 1);
    }
}

/* The vertical passes, FEATHER_BLOCK columns at a time. */
static void
feather_columns (OpMask        *self,
                 const OpRect  *r,
                 const int      radii[3],
                 const guint16 *buf,
                 Extent        *extent)
{
  g_autofree guint16 *block = g_new (guint16, (gsize) r->height * FEATHER_BLOCK);
  g_autofree guint16 *tmp = g_new (guint16, (gsize) r->height * FEATHER_BLOCK);
  gboolean clamp_lo = r->y == 0, clamp_hi = r->y + r->height == self->height;

  for (int bx = 0; bx < r->width; bx += FEATHER_BLOCK)
    {
      int count = MIN (FEATHER_BLOCK, r->width - bx);

      for (int y = 0; y < r->height; y++)
        memcpy (block + (gsize) y * count, buf + (gsize) y * r->width + bx,
                count * sizeof (guint16));

      box_blur_columns (block, tmp, r->height, count, radii[0], clamp_lo, clamp_hi);
      box_blur_columns (tmp, block, r->height, count, radii[1], clamp_lo, clamp_hi);
      box_blur_columns (block, tmp, r->height, count, radii[2], clamp_lo, clamp_hi);
      feather_store_block (self, r, bx, count, tmp, extent);
    }
}

/**
 * op_mask_feather:
 * @radius: pixels; the blur's sigma is @radius / 2.  NaN, infinite, zero or negative
 *   do nothing; a huge radius is clamped to the mask's larger side.
 *
 * Blurs the mask in time proportional to the pixels of its bounds plus 1.5 × @radius,
 * whatever the radius.
 */
void
op_mask_feather (OpMask        *self,
                 OpMaskHistory *history,
                 double         radius,
                 OpRect        *changed)
{
  g_autofree guint16 *buf = NULL;
  Extent extent = EXTENT_INIT;
  EditStep step;
  OpRect bounds, region;
  int radii[3], margin;

  set_changed (changed, NULL);
  g_return_if_fail (self != NULL);
  g_return_if_fail (history_matches (self, history));

  if (!isfinite (radius) || radius <= 0 || !op_mask_get_bounds (self, &bounds))
    return;

  radius = MIN (radius, MAX (self->width, self->height));
  margin = box_radii_for_gaussian (radius / 2, radii);
  if (margin == 0)
    return;

  clip_rect_grown (self, &bounds, margin, &region);
  buf = g_new (guint16, (gsize) region.width * region.height);

  edit_step_begin (&step, history);
  edit_step_save (&step, &region);
  feather_rows (self, &region, radii, buf);
  feather_columns (self, &region, radii, buf, &extent);
  edit_step_end (&step);

  extent_get_rect (&extent, changed);
}

/* Brush strokes.  A dab's alpha is 1 within radius · hardness of its centre and falls
 * off with a smoothstep to 0 at the radius.  A falloff narrower than 1 px (a hard brush)
 * is widened to 1 px about its middle, which antialiases the edge and keeps a hard
 * dab's area at π·r².  Pixels are sampled at their centres.  The stroke
 * keeps, per pixel, the mask before the stroke and the strongest dab alpha a so far, and
 * sets the pixel to orig + (255 − orig) · opacity · a (add) or orig · (1 − opacity · a)
 * (subtract): overlapping dabs of one stroke never build up beyond the opacity. */

static void
dab_init (Dab          *dab,
          OpMaskStroke *stroke,
          double        cx,
          double        cy,
          double        radius)
{
  double lo = radius * stroke->brush.hardness, hi = radius;

  if (hi - lo < 1)
    {
      double mid = (lo + hi) / 2;

      lo = MAX (mid - 0.5, 0);
      hi = mid + 0.5;
    }

  *dab = (Dab) { cx, cy, lo, hi, lo * lo, hi * hi };
}

static inline guint
dab_alpha (const Dab *dab,
           double     d2)
{
  double t, a;

  if (d2 <= dab->lo2)
    return 255;
  if (d2 >= dab->hi2)
    return 0;
  t = (sqrt (d2) - dab->lo) / (dab->hi - dab->lo);
  a = 1 - t * t * (3 - 2 * t);
  return (guint) (a * 255 + 0.5);
}

/* Pixel columns whose centres lie within @radius of the dab's centre on row y, or FALSE
 * when none do. */
static gboolean
dab_row_span (const Dab *dab,
              int        y,
              double     radius,
              int       *x1,
              int       *x2)
{
  double dy = y + 0.5 - dab->cy;
  double room = radius * radius - dy * dy, half;

  if (room < 0)
    return FALSE;
  half = sqrt (room);
  *x1 = (int) ceil (dab->cx - half - 0.5);
  *x2 = (int) floor (dab->cx + half - 0.5);
  return *x1 <= *x2;
}

static StrokeTile *
stroke_get_tile (OpMaskStroke *stroke,
                 int           tx,
                 int           ty)
{
  StrokeTile **slot = &stroke->tiles[(gsize) ty * stroke->n_tiles_x + tx];
  OpRect rect;

  if (*slot != NULL)
    return *slot;

  clip_to_mask (stroke->mask, (gint64) tx * OP_MASK_TILE, (gint64) ty * OP_MASK_TILE,
                (gint64) (tx + 1) * OP_MASK_TILE, (gint64) (ty + 1) * OP_MASK_TILE, &rect);
  edit_step_save (&stroke->step, &rect);

  *slot = g_new0 (StrokeTile, 1);
  for (int row = 0; row < rect.height; row++)
    memcpy ((*slot)->orig + row * OP_MASK_TILE, mask_row (stroke->mask, rect.y + row) + rect.x,
            rect.width);
  return *slot;
}

static inline guint8
stroke_pixel_value (const OpMaskStroke *stroke,
                    guint8              orig,
                    guint               alpha)
{
  guint amount = stroke->opacity * alpha;

  if (stroke->brush.mode == OP_MASK_MODE_ADD)
    return orig + ((255 - orig) * amount + 32512) / 65025;
  return orig - (orig * amount + 32512) / 65025;
}

/* The first x in [x, end) whose alpha is below 255.  Along a stroke most of a dab lies
 * under the cores of earlier dabs, so runs of 255 are skipped eight at a time. */
static inline int
skip_opaque (const guint8 *alpha,
             int           x,
             int           end)
{
  guint64 word;

  while (x + 8 <= end)
    {
      memcpy (&word, alpha + x, sizeof word);
      if (word != G_MAXUINT64)
        break;
      x += 8;
    }
  while (x < end && alpha[x] == 255)
    x++;
  return x;
}

static inline void
dab_row_set (DabRow *r,
             int     x,
             guint   a)
{
  guint8 v;

  if (a <= r->alpha[x])
    return;
  r->alpha[x] = a;
  v = stroke_pixel_value (r->stroke, r->orig[x], a);
  if (v == r->row[x])
    return;
  r->row[x] = v;
  r->first = MIN (r->first, x);
  r->last = MAX (r->last, x);
}

/* Columns [x1, x2] inside the dab's core, at full alpha. */
static void
dab_row_core (DabRow *r,
              int     x1,
              int     x2)
{
  for (int x = skip_opaque (r->alpha, x1, x2 + 1); x <= x2;
       x = skip_opaque (r->alpha, x + 1, x2 + 1))
    dab_row_set (r, x, 255);
}

/* Columns [x1, x2] in the dab's falloff. */
static void
dab_row_falloff (DabRow *r,
                 int     x1,
                 int     x2)
{
  for (int x = skip_opaque (r->alpha, x1, x2 + 1); x <= x2;
       x = skip_opaque (r->alpha, x + 1, x2 + 1))
    {
      double dx = x + 0.5 - r->dab->cx;

      dab_row_set (r, x, dab_alpha (r->dab, dx * dx + r->dy2));
    }
}

/* Paints columns [x1, x2] of row y, all inside one tile: the core analytically, the
 * falloff on either side pixel by pixel. */
static void
stroke_paint_row (OpMaskStroke *stroke,
                  const Dab    *dab,
                  StrokeTile   *tile,
                  int           y,
                  int           x1,
                  int           x2,
                  Extent       *extent)
{
  int tile_offset = (y % OP_MASK_TILE) * OP_MASK_TILE - (x1 - x1 % OP_MASK_TILE);
  double dy = y + 0.5 - dab->cy;
  DabRow r = {
    stroke, dab, tile->alpha + tile_offset, tile->orig + tile_offset,
    mask_row (stroke->mask, y), dy * dy, G_MAXINT, -1,
  };
  int c1, c2;

  if (!dab_row_span (dab, y, dab->lo, &c1, &c2))
    c1 = x2 + 1, c2 = x2;
  c1 = CLAMP (c1, x1, x2 + 1);
  c2 = CLAMP (c2, c1 - 1, x2);

  dab_row_falloff (&r, x1, c1 - 1);
  dab_row_core (&r, c1, c2);
  dab_row_falloff (&r, c2 + 1, x2);

  if (r.last >= 0)
    extent_add (extent, r.first, y, r.last + 1, y + 1);
}

static void
stroke_paint_tile (OpMaskStroke *stroke,
                   const Dab    *dab,
                   const OpRect *box,
                   int           tx,
                   int           ty,
                   Extent       *extent)
{
  StrokeTile *tile = NULL;
  int y1 = MAX (box->y, ty * OP_MASK_TILE);
  int y2 = MIN (box->y + box->height, (ty + 1) * OP_MASK_TILE);
  int tile_x1 = MAX (box->x, tx * OP_MASK_TILE);
  int tile_x2 = MIN (box->x + box->width, (tx + 1) * OP_MASK_TILE) - 1;

  for (int y = y1; y < y2; y++)
    {
      int x1, x2;

      if (!dab_row_span (dab, y, dab->hi, &x1, &x2))
        continue;
      x1 = MAX (x1, tile_x1);
      x2 = MIN (x2, tile_x2);
      if (x1 > x2)
        continue;
      if (tile == NULL)
        tile = stroke_get_tile (stroke, tx, ty);
      stroke_paint_row (stroke, dab, tile, y, x1, x2, extent);
    }
}

static void
stroke_dab (OpMaskStroke *stroke,
            double        x,
            double        y,
            double        pressure,
            Extent       *extent)
{
  double radius = MAX (stroke->brush.radius * pressure, 0.5);
  Dab dab;
  OpRect box;

  stroke->n_dabs++;
  stroke->last_radius = radius;
  dab_init (&dab, stroke, x, y, radius);

  if (!clip_to_mask (stroke->mask, (gint64) floor (x - dab.hi), (gint64) floor (y - dab.hi),
                     (gint64) ceil (x + dab.hi) + 1, (gint64) ceil (y + dab.hi) + 1, &box))
    return;

  for (int ty = box.y / OP_MASK_TILE; ty <= (box.y + box.height - 1) / OP_MASK_TILE; ty++)
    for (int tx = box.x / OP_MASK_TILE; tx <= (box.x + box.width - 1) / OP_MASK_TILE; tx++)
      stroke_paint_tile (stroke, &dab, &box, tx, ty, extent);
}

static double
sanitize_pressure (double pressure)
{
  return isfinite (pressure) ? CLAMP (pressure, 0.05, 1.0) : 1.0;
}

static void
stroke_set_brush (OpMaskStroke  *stroke,
                  const OpBrush *brush)
{
  double max_radius = hypot (stroke->mask->width, stroke->mask->height) + 1;
  OpBrush *b = &stroke->brush;

  *b = *brush;
  stroke->inert = !isfinite (b->radius) || b->radius <= 0 ||
                  !isfinite (b->opacity) || b->opacity <= 0;
  b->radius = stroke->inert ? 1 : MIN (b->radius, max_radius);
  b->hardness = isfinite (b->hardness) ? CLAMP (b->hardness, 0, 1) : 1;
  b->spacing = isfinite (b->spacing) ? CLAMP (b->spacing, 0, 100) : 0.1;
  stroke->opacity = stroke->inert ? 0 : (guint) round (MIN (b->opacity, 1) * 255);
}

/* Limits a segment to the part where a dab could touch the mask. */
static gboolean
stroke_clip_segment (OpMaskStroke *stroke,
                     double        dx,
                     double        dy,
                     double       *t0,
                     double       *t1)
{
  double margin = stroke->brush.radius + 2;
  double p[4] = { -dx, dx, -dy, dy };
  double q[4] = {
    stroke->last_x + margin, stroke->mask->width + margin - stroke->last_x,
    stroke->last_y + margin, stroke->mask->height + margin - stroke->last_y,
  };

  *t0 = 0;
  *t1 = 1;
  for (int i = 0; i < 4; i++)
    {
      if (p[i] == 0)
        {
          if (q[i] < 0)
            return FALSE;
          continue;
        }
      if (p[i] < 0)
        *t0 = MAX (*t0, q[i] / p[i]);
      else
        *t1 = MIN (*t1, q[i] / p[i]);
    }
  return *t0 <= *t1;
}

/* Places dabs every spacing · diameter along the segment from the last point, carrying
 * the distance left over to the next segment. */
static void
stroke_segment (OpMaskStroke *stroke,
                double        x,
                double        y,
                double        pressure,
                Extent       *extent)
{
  double dx = x - stroke->last_x, dy = y - stroke->last_y;
  double len = hypot (dx, dy), t0, t1, pos, end;

  if (len == 0 || !stroke_clip_segment (stroke, dx, dy, &t0, &t1))
    {
      stroke->carry += len;
      return;
    }

  pos = t0 * len;
  end = t1 * len;
  if (t0 > 0)
    stroke->carry = G_MAXDOUBLE;

  for (;;)
    {
      double step = MAX (1.0, stroke->brush.spacing * 2 * stroke->last_radius);
      double need = MAX (step - stroke->carry, 0), f;

      if (pos + need > end)
        break;
      pos += need;
      stroke->carry = 0;
      f = pos / len;
      stroke_dab (stroke, stroke->last_x + f * dx, stroke->last_y + f * dy,
                  stroke->last_pressure + f * (pressure - stroke->last_pressure), extent);
    }

  stroke->carry += len - pos;
}

static void
stroke_move (OpMaskStroke *stroke,
             double        x,
             double        y,
             double        pressure,
             Extent       *extent)
{
  if (stroke->inert || !isfinite (x) || !isfinite (y))
    return;

  x = clamp_coord (x);
  y = clamp_coord (y);
  pressure = sanitize_pressure (pressure);

  if (stroke->has_last)
    stroke_segment (stroke, x, y, pressure, extent);
  else
    stroke_dab (stroke, x, y, pressure, extent);

  stroke->has_last = TRUE;
  stroke->last_x = x;
  stroke->last_y = y;
  stroke->last_pressure = pressure;
  extent_add_extent (&stroke->total, extent);
}

/**
 * op_mask_stroke_begin:
 * @pressure: 0..1, clamped to at least 0.05; 1.0 for a mouse; NaN counts as 1.0
 *
 * Starts a stroke with a dab at (x, y).  A brush with a radius or opacity that is not
 * positive paints nothing; NaN or infinite coordinates place no dab, and the first
 * valid point of op_mask_stroke_to() starts the stroke instead.  The mask must not be
 * edited otherwise until op_mask_stroke_end().
 */
OpMaskStroke *
op_mask_stroke_begin (OpMask        *self,
                      OpMaskHistory *history,
                      const OpBrush *brush,
                      double         x,
                      double         y,
                      double         pressure,
                      OpRect        *changed)
{
  Extent extent = EXTENT_INIT;
  OpMaskStroke *stroke;

  set_changed (changed, NULL);
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (brush != NULL, NULL);
  g_return_val_if_fail (brush->mode == OP_MASK_MODE_ADD ||
                        brush->mode == OP_MASK_MODE_SUBTRACT, NULL);
  g_return_val_if_fail (history_matches (self, history), NULL);

  stroke = g_new0 (OpMaskStroke, 1);
  stroke->mask = op_mask_ref (self);
  stroke->n_tiles_x = (self->width + OP_MASK_TILE - 1) / OP_MASK_TILE;
  stroke->n_tiles_y = (self->height + OP_MASK_TILE - 1) / OP_MASK_TILE;
  stroke->tiles = g_new0 (StrokeTile *, (gsize) stroke->n_tiles_x * stroke->n_tiles_y);
  stroke->total = (Extent) EXTENT_INIT;
  stroke_set_brush (stroke, brush);
  edit_step_begin (&stroke->step, history);

  stroke_move (stroke, x, y, pressure, &extent);
  extent_get_rect (&extent, changed);
  return stroke;
}

void
op_mask_stroke_to (OpMaskStroke *stroke,
                   double        x,
                   double        y,
                   double        pressure,
                   OpRect       *changed)
{
  Extent extent = EXTENT_INIT;

  set_changed (changed, NULL);
  g_return_if_fail (stroke != NULL);

  stroke_move (stroke, x, y, pressure, &extent);
  extent_get_rect (&extent, changed);
}

guint
op_mask_stroke_get_n_dabs (OpMaskStroke *stroke)
{
  g_return_val_if_fail (stroke != NULL, 0);

  return stroke->n_dabs;
}

/**
 * op_mask_stroke_end:
 * @changed: (out) (optional): every pixel the stroke changed
 *
 * Frees the stroke, closing the undo step it opened, if any.
 */
void
op_mask_stroke_end (OpMaskStroke *stroke,
                    OpRect       *changed)
{
  gsize n_tiles;

  set_changed (changed, NULL);
  g_return_if_fail (stroke != NULL);

  extent_get_rect (&stroke->total, changed);
  edit_step_end (&stroke->step);

  n_tiles = (gsize) stroke->n_tiles_x * stroke->n_tiles_y;
  for (gsize i = 0; i < n_tiles; i++)
    g_free (stroke->tiles[i]);
  g_free (stroke->tiles);
  op_mask_unref (stroke->mask);
  g_free (stroke);
}
