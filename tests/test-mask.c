/* test-mask.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-mask"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-mask.h"

#define MIB (1024 * 1024)

typedef void (*EditFunc) (OpMask        *mask,
                          OpMaskHistory *history,
                          OpRect        *changed);

/* Helpers */

static guint8
px (OpMask *mask,
    int     x,
    int     y)
{
  return op_mask_peek_data (mask)[(gsize) y * op_mask_get_width (mask) + x];
}

static void
set_px (OpMask *mask,
        int     x,
        int     y,
        guint8  v)
{
  op_mask_get_data (mask)[(gsize) y * op_mask_get_width (mask) + x] = v;
}

static gsize
n_pixels (OpMask *mask)
{
  return (gsize) op_mask_get_width (mask) * op_mask_get_height (mask);
}

static guint
count_value (OpMask *mask,
             guint8  value)
{
  const guint8 *data = op_mask_peek_data (mask);
  guint n = 0;

  for (gsize i = 0; i < n_pixels (mask); i++)
    n += data[i] == value;
  return n;
}

static guint64
mass (OpMask *mask)
{
  const guint8 *data = op_mask_peek_data (mask);
  guint64 sum = 0;

  for (gsize i = 0; i < n_pixels (mask); i++)
    sum += data[i];
  return sum;
}

/* The bounding box of the pixels where a and b differ. */
static void
diff_rect (OpMask *a,
           OpMask *b,
           OpRect *out)
{
  int x1 = G_MAXINT, y1 = G_MAXINT, x2 = -1, y2 = -1;

  for (int y = 0; y < op_mask_get_height (a); y++)
    for (int x = 0; x < op_mask_get_width (a); x++)
      if (px (a, x, y) != px (b, x, y))
        {
          x1 = MIN (x1, x);
          y1 = MIN (y1, y);
          x2 = MAX (x2, x);
          y2 = MAX (y2, y);
        }

  *out = x2 < 0 ? (OpRect) { 0, 0, 0, 0 } : (OpRect) { x1, y1, x2 - x1 + 1, y2 - y1 + 1 };
}

static void
assert_rect (const OpRect *r,
             int           x,
             int           y,
             int           width,
             int           height)
{
  g_assert_cmpint (r->x, ==, x);
  g_assert_cmpint (r->y, ==, y);
  g_assert_cmpint (r->width, ==, width);
  g_assert_cmpint (r->height, ==, height);
}

static void
assert_rect_equal (const OpRect *a,
                   const OpRect *b)
{
  if (op_rect_is_empty (a) && op_rect_is_empty (b))
    return;
  assert_rect (a, b->x, b->y, b->width, b->height);
}

static OpBrush
brush (double     radius,
       double     hardness,
       double     opacity,
       double     spacing,
       OpMaskMode mode)
{
  return (OpBrush) { radius, hardness, opacity, spacing, mode };
}

static void
paint_dab (OpMask        *mask,
           OpMaskHistory *history,
           const OpBrush *b,
           double         x,
           double         y,
           double         pressure)
{
  op_mask_stroke_end (op_mask_stroke_begin (mask, history, b, x, y, pressure, NULL), NULL);
}

static void
paint_line (OpMask        *mask,
            OpMaskHistory *history,
            const OpBrush *b,
            double         x1,
            double         y1,
            double         x2,
            double         y2,
            OpRect        *changed)
{
  OpMaskStroke *stroke = op_mask_stroke_begin (mask, history, b, x1, y1, 1.0, NULL);

  op_mask_stroke_to (stroke, x2, y2, 1.0, NULL);
  op_mask_stroke_end (stroke, changed);
}

/* A mask with hard shapes, one touching the border, a soft dab and scattered partial
 * coverage, the same on every run. */
static OpMask *
make_test_mask (int width,
                int height)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  OpMask *mask = op_mask_new (width, height);
  OpBrush soft = brush (9, 0.2, 1, 0.1, OP_MASK_MODE_ADD);

  op_mask_fill_rect (mask, NULL, &(OpRect) { width / 4, height / 4, width / 3, height / 5 },
                     OP_MASK_MODE_ADD, NULL);
  op_mask_fill_rect (mask, NULL, &(OpRect) { 0, height - 12, 15, 12 }, OP_MASK_MODE_ADD, NULL);
  op_mask_fill_rect (mask, NULL, &(OpRect) { width / 3, height / 4 + 4, 5, 5 },
                     OP_MASK_MODE_SUBTRACT, NULL);
  paint_dab (mask, NULL, &soft, width * 0.7, height * 0.6, 1.0);
  for (int i = 0; i < 40; i++)
    set_px (mask, g_rand_int_range (rand, 0, width), g_rand_int_range (rand, 0, height),
            g_rand_int_range (rand, 1, 256));

  return mask;
}

/* Brush */

static void
test_brush_hard_dab (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpBrush b = brush (10, 1, 1, 0.1, OP_MASK_MODE_ADD);

  paint_dab (mask, NULL, &b, 32, 32, 1.0);

  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      {
        double d = hypot (x + 0.5 - 32, y + 0.5 - 32);

        if (d <= 9.5)
          g_assert_cmpuint (px (mask, x, y), ==, 255);
        else if (d >= 10.5)
          g_assert_cmpuint (px (mask, x, y), ==, 0);
      }
  g_assert_cmpfloat_with_epsilon (mass (mask) / 255.0, G_PI * 100, G_PI * 100 * 0.01);
}

static void
test_brush_soft_dab (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpBrush b = brush (20, 0.5, 1, 0.1, OP_MASK_MODE_ADD);

  paint_dab (mask, NULL, &b, 32.5, 32.5, 1.0);

  /* Full within radius · hardness, then strictly falling to 0 at the radius. */
  for (int x = 32; x <= 42; x++)
    g_assert_cmpuint (px (mask, x, 32), ==, 255);
  for (int x = 43; x < 52; x++)
    g_assert_cmpuint (px (mask, x, 32), <, px (mask, x - 1, 32));
  for (int x = 52; x < 64; x++)
    g_assert_cmpuint (px (mask, x, 32), ==, 0);

  /* A smoothstep over [10, 20]: 255 · (1 − S (t)) at t = 0.2 and 0.5. */
  g_assert_cmpuint (px (mask, 44, 32), ==, 228);
  g_assert_cmpuint (px (mask, 47, 32), ==, 128);

  /* Round: the same falloff along the column. */
  for (int d = 0; d < 32; d++)
    g_assert_cmpuint (px (mask, 32 + d, 32), ==, px (mask, 32, 32 + d));
}

static void
test_brush_opacity (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpBrush b = brush (8, 1, 0.5, 0.1, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke;

  stroke = op_mask_stroke_begin (mask, NULL, &b, 30, 32, 1.0, NULL);
  g_assert_cmpuint (px (mask, 30, 32), ==, 128);

  /* Overlapping dabs of the same stroke do not build up. */
  op_mask_stroke_to (stroke, 34, 32, 1.0, NULL);
  g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), >, 2);
  op_mask_stroke_end (stroke, NULL);
  for (int x = 26; x <= 38; x++)
    g_assert_cmpuint (px (mask, x, 32), ==, 128);

  /* A second stroke does: 128 + 127 · 0.5. */
  paint_dab (mask, NULL, &b, 32, 32, 1.0);
  g_assert_cmpuint (px (mask, 32, 32), ==, 192);
}

static void
test_brush_eraser (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpBrush eraser = brush (8, 1, 1, 0.1, OP_MASK_MODE_SUBTRACT);
  OpBrush half = brush (8, 1, 0.5, 0.1, OP_MASK_MODE_SUBTRACT);

  op_mask_select_all (mask, NULL, NULL);
  paint_dab (mask, NULL, &eraser, 16, 16, 1.0);
  paint_dab (mask, NULL, &half, 48, 48, 1.0);

  g_assert_cmpuint (px (mask, 16, 16), ==, 0);
  g_assert_cmpuint (px (mask, 48, 48), ==, 127);
  g_assert_cmpuint (px (mask, 32, 32), ==, 255);
  g_assert_cmpuint (count_value (mask, 0), >=, (guint) (G_PI * 7.5 * 7.5));
}

static void
test_brush_fast_stroke (void)
{
  g_autoptr(OpMask) mask = op_mask_new (2200, 100);
  OpBrush b = brush (10, 1, 1, 0.25, OP_MASK_MODE_ADD);
  g_autoptr(OpMask) before = NULL;
  OpMaskStroke *stroke;
  OpRect changed, diff;

  /* One pointer event 2000 px after the first: dabs every 5 px, no gaps. */
  stroke = op_mask_stroke_begin (mask, NULL, &b, 50, 50, 1.0, NULL);
  before = op_mask_copy (mask);
  op_mask_stroke_to (stroke, 2050, 50, 1.0, &changed);
  g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), ==, 1 + 2000 / 5);
  diff_rect (before, mask, &diff);
  assert_rect_equal (&changed, &diff);
  op_mask_stroke_end (stroke, &changed);

  assert_rect (&changed, 40, 40, 2020, 20);
  for (int x = 50; x <= 2050; x++)
    for (int y = 41; y < 59; y++)
      g_assert_cmpuint (px (mask, x, y), ==, 255);
}

static void
test_brush_diagonal_stroke (void)
{
  g_autoptr(OpMask) mask = op_mask_new (1600, 1200);
  OpBrush b = brush (3, 1, 1, 0.3, OP_MASK_MODE_ADD);
  OpRect changed, diff;
  g_autoptr(OpMask) before = op_mask_copy (mask);

  paint_line (mask, NULL, &b, 20, 30, 1580, 1170, &changed);

  for (double t = 0; t <= 1; t += 1e-4)
    g_assert_cmpuint (px (mask, (int) (20 + t * 1560), (int) (30 + t * 1140)), ==, 255);
  diff_rect (before, mask, &diff);
  assert_rect_equal (&changed, &diff);
}

static void
test_brush_carry (void)
{
  g_autoptr(OpMask) one = op_mask_new (800, 64);
  g_autoptr(OpMask) many = op_mask_new (800, 64);
  OpBrush b = brush (10, 0.8, 1, 0.25, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke;
  guint n_dabs;

  stroke = op_mask_stroke_begin (one, NULL, &b, 20, 32, 1.0, NULL);
  op_mask_stroke_to (stroke, 720, 32, 1.0, NULL);
  n_dabs = op_mask_stroke_get_n_dabs (stroke);
  op_mask_stroke_end (stroke, NULL);

  /* The same line in 0.7 px events places the same dabs. */
  stroke = op_mask_stroke_begin (many, NULL, &b, 20, 32, 1.0, NULL);
  for (int i = 1; i <= 1000; i++)
    op_mask_stroke_to (stroke, 20 + 0.7 * i, 32, 1.0, NULL);
  g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), ==, n_dabs);
  op_mask_stroke_end (stroke, NULL);

  g_assert_cmpuint (n_dabs, ==, 1 + 700 / 5);
  for (gsize i = 0; i < n_pixels (one); i++)
    g_assert_cmpint (ABS (op_mask_peek_data (one)[i] - op_mask_peek_data (many)[i]), <=, 1);
}

static void
test_brush_spacing (void)
{
  const struct
  {
    double spacing;
    double radius;
    guint  n_dabs;
  } cases[] = {
    { 0.1, 10, 1 + 1000 / 2 },
    { 0.25, 10, 1 + 1000 / 5 },
    { 1.0, 25, 1 + 1000 / 50 },
    { 0.0, 10, 1 + 1000 },       /* never closer than 1 px */
    { 0.01, 2, 1 + 1000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpMask) mask = op_mask_new (1100, 64);
      OpBrush b = brush (cases[i].radius, 1, 1, cases[i].spacing, OP_MASK_MODE_ADD);
      OpMaskStroke *stroke = op_mask_stroke_begin (mask, NULL, &b, 50, 32, 1.0, NULL);

      op_mask_stroke_to (stroke, 1050, 32, 1.0, NULL);
      g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), ==, cases[i].n_dabs);
      op_mask_stroke_end (stroke, NULL);
    }
}

static void
test_brush_pressure (void)
{
  g_autoptr(OpMask) pressed = op_mask_new (64, 64);
  g_autoptr(OpMask) small = op_mask_new (64, 64);
  g_autoptr(OpMask) line = op_mask_new (1200, 64);
  OpBrush big = brush (20, 0.5, 1, 0.1, OP_MASK_MODE_ADD);
  OpBrush half = brush (10, 0.5, 1, 0.1, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke;
  int top = 0, bottom = 0;

  /* Pressure scales the radius. */
  paint_dab (pressed, NULL, &big, 32, 32, 0.5);
  paint_dab (small, NULL, &half, 32, 32, 1.0);
  g_assert_true (op_mask_equal (pressed, small));

  /* Interpolated along the stroke: wide where pressed, narrow where light. */
  stroke = op_mask_stroke_begin (line, NULL, &big, 50, 32, 1.0, NULL);
  op_mask_stroke_to (stroke, 1150, 32, 0.25, NULL);
  op_mask_stroke_end (stroke, NULL);
  for (int y = 0; y < 64; y++)
    {
      top += px (line, 60, y) == 255;
      bottom += px (line, 1140, y) == 255;
    }
  g_assert_cmpint (top, >=, 18);
  g_assert_cmpint (bottom, <=, 6);
  g_assert_cmpint (bottom, >=, 2);
}

/* Rectangles */

static void
test_rect_fill (void)
{
  const struct
  {
    gboolean   full;
    OpRect     rect;
    OpMaskMode mode;
    guint      n_set;      /* pixels at 255 afterwards */
    OpRect     changed;
  } cases[] = {
    { FALSE, { 10, 10, 20, 5 }, OP_MASK_MODE_ADD, 100, { 10, 10, 20, 5 } },
    { TRUE, { 0, 0, 64, 32 }, OP_MASK_MODE_SUBTRACT, 2048, { 0, 0, 64, 32 } },
    { FALSE, { -10, -10, 20, 20 }, OP_MASK_MODE_ADD, 100, { 0, 0, 10, 10 } },
    { FALSE, { 60, 50, 100, 100 }, OP_MASK_MODE_ADD, 4 * 14, { 60, 50, 4, 14 } },
    { FALSE, { 100, 100, 5, 5 }, OP_MASK_MODE_ADD, 0, { 0, 0, 0, 0 } },
    { FALSE, { -5, -5, 0, 100 }, OP_MASK_MODE_ADD, 0, { 0, 0, 0, 0 } },
    { FALSE, { G_MININT / 2, G_MININT / 2, G_MAXINT, G_MAXINT }, OP_MASK_MODE_ADD, 4096,
      { 0, 0, 64, 64 } },
    { TRUE, { 5, 5, 10, 10 }, OP_MASK_MODE_ADD, 4096, { 0, 0, 0, 0 } },
    { FALSE, { 5, 5, 10, 10 }, OP_MASK_MODE_SUBTRACT, 0, { 0, 0, 0, 0 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpMask) mask = op_mask_new (64, 64);
      OpRect changed;

      if (cases[i].full)
        op_mask_select_all (mask, NULL, NULL);
      op_mask_fill_rect (mask, NULL, &cases[i].rect, cases[i].mode, &changed);

      if (cases[i].full && cases[i].mode == OP_MASK_MODE_SUBTRACT)
        g_assert_cmpuint (count_value (mask, 0), ==, cases[i].n_set);
      else
        g_assert_cmpuint (count_value (mask, 255), ==, cases[i].n_set);
      assert_rect_equal (&changed, &cases[i].changed);
    }
}

/* Polygons */

/* The rasteriser's rule, one sample at a time: the winding number of the crossings at
 * or left of the sample, with each edge covering [upper y, lower y). */
static int
reference_winding (const double *xy,
                   guint         n,
                   double        xs,
                   double        ys)
{
  int winding = 0;

  for (guint i = 0; i < n; i++)
    {
      guint j = (i + 1) % n;
      double xa = xy[2 * i], ya = xy[2 * i + 1], xb = xy[2 * j], yb = xy[2 * j + 1];
      int dir = yb > ya ? 1 : -1;

      if (ya == yb)
        continue;
      if (dir < 0)
        {
          double t;

          t = xa, xa = xb, xb = t;
          t = ya, ya = yb, yb = t;
        }
      if (ys >= ya && ys < yb && xa + (ys - ya) * ((xb - xa) / (yb - ya)) <= xs)
        winding += dir;
    }
  return winding;
}

static void
assert_polygon_matches_reference (const double *xy,
                                  guint         n)
{
  g_autoptr(OpMask) mask = op_mask_new (48, 40);

  op_mask_fill_polygon (mask, NULL, xy, n, OP_MASK_MODE_ADD, NULL);

  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 48; x++)
      {
        guint inside = 0;

        for (int j = 0; j < 4; j++)
          for (int i = 0; i < 4; i++)
            inside += reference_winding (xy, n, x + (i + 0.5) / 4, y + (j + 0.5) / 4) != 0;
        g_assert_cmpuint (px (mask, x, y), ==, (inside * 255 + 8) / 16);
      }
}

static void
test_polygon_exact (void)
{
  const double square[] = { 10, 10, 20, 10, 20, 20, 10, 20 };
  const double square_ccw[] = { 10, 10, 10, 20, 20, 20, 20, 10 };
  const double half_square[] = { 10.5, 10.5, 20.5, 10.5, 20.5, 20.5, 10.5, 20.5 };
  const double triangle[] = { 0, 0, 16, 0, 0, 16 };
  const struct
  {
    const double *xy;
    guint         n;
    guint         n_255, n_128, n_96, n_64;
  } cases[] = {
    { square, 4, 100, 0, 0, 0 },
    { square_ccw, 4, 100, 0, 0, 0 },
    { half_square, 4, 81, 36, 0, 4 },
    /* Below the diagonal x + y = 16: 120 whole pixels, 16 with 6 of 16 samples. */
    { triangle, 3, 120, 0, 16, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpMask) mask = op_mask_new (32, 32);
      guint n_other;

      op_mask_fill_polygon (mask, NULL, cases[i].xy, cases[i].n, OP_MASK_MODE_ADD, NULL);
      g_assert_cmpuint (count_value (mask, 255), ==, cases[i].n_255);
      g_assert_cmpuint (count_value (mask, 128), ==, cases[i].n_128);
      g_assert_cmpuint (count_value (mask, 96), ==, cases[i].n_96);
      g_assert_cmpuint (count_value (mask, 64), ==, cases[i].n_64);
      n_other = 32 * 32 - count_value (mask, 0) - cases[i].n_255 - cases[i].n_128 -
                cases[i].n_96 - cases[i].n_64;
      g_assert_cmpuint (n_other, ==, 0);
      assert_polygon_matches_reference (cases[i].xy, cases[i].n);
    }
}

static void
test_polygon_self_intersecting (void)
{
  const double bowtie[] = { 2, 2, 30, 30, 30, 2, 2, 30 };
  const double star[] = { 24, 2, 34.58, 34.56, 6.88, 14.44, 41.12, 14.44, 13.42, 34.56 };
  const double slanted[] = { 3.3, 1.7, 41.2, 9.9, 27.75, 38.1, 6.05, 22.6 };
  g_autoptr(OpMask) mask = op_mask_new (48, 40);

  assert_polygon_matches_reference (bowtie, 4);
  assert_polygon_matches_reference (star, 5);
  assert_polygon_matches_reference (slanted, 4);

  /* Bowtie: two triangles of area 196 meeting at the crossing. */
  op_mask_fill_polygon (mask, NULL, bowtie, 4, OP_MASK_MODE_ADD, NULL);
  g_assert_cmpfloat_with_epsilon (mass (mask) / 255.0, 392, 3);
  g_assert_cmpuint (px (mask, 5, 16), ==, 255);
  g_assert_cmpuint (px (mask, 16, 5), ==, 0);

  /* Nonzero winding: the pentagram's centre, where the winding is 2, is filled. */
  op_mask_clear (mask, NULL, NULL);
  op_mask_fill_polygon (mask, NULL, star, 5, OP_MASK_MODE_ADD, NULL);
  g_assert_cmpuint (px (mask, 24, 20), ==, 255);
}

static void
test_polygon_subtract (void)
{
  const double square[] = { 10, 10, 20, 10, 20, 20, 10, 20 };
  const double half_square[] = { 10.5, 10.5, 20.5, 10.5, 20.5, 20.5, 10.5, 20.5 };
  g_autoptr(OpMask) mask = op_mask_new (32, 32);
  OpRect changed;

  op_mask_select_all (mask, NULL, NULL);
  op_mask_fill_polygon (mask, NULL, square, 4, OP_MASK_MODE_SUBTRACT, &changed);
  g_assert_cmpuint (count_value (mask, 0), ==, 100);
  assert_rect (&changed, 10, 10, 10, 10);

  /* Partial coverage lowers in proportion: 255 · (1 − 128/255) = 127. */
  op_mask_select_all (mask, NULL, NULL);
  op_mask_fill_polygon (mask, NULL, half_square, 4, OP_MASK_MODE_SUBTRACT, &changed);
  g_assert_cmpuint (px (mask, 10, 15), ==, 127);
  g_assert_cmpuint (px (mask, 15, 15), ==, 0);
  assert_rect (&changed, 10, 10, 11, 11);
}

static void
test_polygon_clip (void)
{
  const double off[] = { -50, -50, 30, -50, 30, 30, -50, 30 };
  const double huge[] = { -1e300, -1e300, 1e300, -1e300, 1e300, 1e300, -1e300, 1e300 };
  const double outside[] = { 100, 100, 200, 100, 150, 200 };
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpRect changed;

  op_mask_fill_polygon (mask, NULL, off, 4, OP_MASK_MODE_ADD, &changed);
  g_assert_cmpuint (count_value (mask, 255), ==, 900);
  assert_rect (&changed, 0, 0, 30, 30);

  op_mask_fill_polygon (mask, NULL, outside, 3, OP_MASK_MODE_ADD, &changed);
  g_assert_true (op_rect_is_empty (&changed));

  op_mask_fill_polygon (mask, NULL, huge, 4, OP_MASK_MODE_ADD, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 64 * 64);
}

static void
test_polygon_degenerate (void)
{
  const double pts[] = { 5, 5, 30, 8, 12, 30 };
  const double line[] = { 5, 5, 10, 10, 20, 20 };
  const double nan_pt[] = { 5, 5, NAN, 8, 12, 30 };
  const double inf_pt[] = { 5, 5, 30, 8, 12, INFINITY };
  g_autoptr(OpMask) mask = op_mask_new (32, 32);
  OpRect changed;

  for (guint n = 0; n < 3; n++)
    {
      op_mask_fill_polygon (mask, NULL, pts, n, OP_MASK_MODE_ADD, &changed);
      g_assert_true (op_rect_is_empty (&changed));
    }
  op_mask_fill_polygon (mask, NULL, NULL, 0, OP_MASK_MODE_ADD, NULL);
  op_mask_fill_polygon (mask, NULL, line, 3, OP_MASK_MODE_ADD, NULL);
  op_mask_fill_polygon (mask, NULL, nan_pt, 3, OP_MASK_MODE_ADD, NULL);
  op_mask_fill_polygon (mask, NULL, inf_pt, 3, OP_MASK_MODE_ADD, NULL);
  g_assert_true (op_mask_is_empty (mask));
}

/* Whole-mask edits */

static void
test_invert_twice (void)
{
  g_autoptr(OpMask) mask = make_test_mask (70, 50);
  g_autoptr(OpMask) orig = op_mask_copy (mask);
  OpRect changed;

  op_mask_invert (mask, NULL, &changed);
  assert_rect (&changed, 0, 0, 70, 50);
  for (gsize i = 0; i < n_pixels (mask); i++)
    g_assert_cmpuint (op_mask_peek_data (mask)[i], ==, 255 - op_mask_peek_data (orig)[i]);

  op_mask_invert (mask, NULL, NULL);
  g_assert_true (op_mask_equal (mask, orig));
}

static void
test_clear_select_all (void)
{
  g_autoptr(OpMask) mask = op_mask_new (40, 30);
  OpRect changed;

  op_mask_fill_rect (mask, NULL, &(OpRect) { 5, 6, 7, 8 }, OP_MASK_MODE_ADD, NULL);
  op_mask_clear (mask, NULL, &changed);
  assert_rect (&changed, 5, 6, 7, 8);
  g_assert_true (op_mask_is_empty (mask));
  op_mask_clear (mask, NULL, &changed);
  g_assert_true (op_rect_is_empty (&changed));

  op_mask_select_all (mask, NULL, &changed);
  assert_rect (&changed, 0, 0, 40, 30);
  g_assert_cmpuint (count_value (mask, 255), ==, 40 * 30);
  op_mask_select_all (mask, NULL, &changed);
  g_assert_true (op_rect_is_empty (&changed));

  op_mask_fill_rect (mask, NULL, &(OpRect) { 30, 1, 2, 3 }, OP_MASK_MODE_SUBTRACT, NULL);
  op_mask_select_all (mask, NULL, &changed);
  assert_rect (&changed, 30, 1, 2, 3);
}

/* Grow and shrink */

/* Brute force: binary at 128, a disc of dx² + dy² ≤ r², beyond the picture nothing is in
 * when growing and nothing is out when shrinking. */
static OpMask *
reference_grow (OpMask *src,
                int     radius)
{
  int w = op_mask_get_width (src), h = op_mask_get_height (src), r = ABS (radius);
  OpMask *out = op_mask_new (w, h);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean hit = FALSE;

        for (int dy = -r; dy <= r && !hit; dy++)
          for (int dx = -r; dx <= r && !hit; dx++)
            {
              int qx = x + dx, qy = y + dy;

              if (dx * dx + dy * dy > r * r || qx < 0 || qy < 0 || qx >= w || qy >= h)
                continue;
              hit = radius > 0 ? px (src, qx, qy) >= 128 : px (src, qx, qy) < 128;
            }
        if (radius > 0)
          set_px (out, x, y, hit ? 255 : 0);
        else
          set_px (out, x, y, !hit && px (src, x, y) >= 128 ? 255 : 0);
      }

  return out;
}

static void
test_grow_disc (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  OpRect changed;

  set_px (mask, 32, 32, 255);
  op_mask_grow (mask, NULL, 3, &changed);

  /* 1 + 4·3 + 4·(2 + 2 + 1 + 1) … counted by brute force: 29 pixels. */
  g_assert_cmpuint (count_value (mask, 255), ==, 29);
  assert_rect (&changed, 29, 29, 7, 7);
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++)
      g_assert_cmpuint (px (mask, x, y), ==,
                        (x - 32) * (x - 32) + (y - 32) * (y - 32) <= 9 ? 255 : 0);
}

static void
test_grow_reference (void)
{
  const int radii[] = { 1, 2, 3, 5, 8, 13, -1, -2, -3, -5, -8 };

  for (guint i = 0; i < G_N_ELEMENTS (radii); i++)
    {
      g_autoptr(OpMask) mask = make_test_mask (96, 80);
      g_autoptr(OpMask) expected = reference_grow (mask, radii[i]);
      g_autoptr(OpMask) before = op_mask_copy (mask);
      OpRect changed, diff;

      op_mask_grow (mask, NULL, radii[i], &changed);
      g_assert_true (op_mask_equal (mask, expected));
      diff_rect (before, mask, &diff);
      assert_rect_equal (&changed, &diff);
    }
}

static void
test_grow_shrink (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  g_autoptr(OpMask) rect = NULL;

  op_mask_fill_rect (mask, NULL, &(OpRect) { 20, 22, 20, 16 }, OP_MASK_MODE_ADD, NULL);
  rect = op_mask_copy (mask);

  op_mask_grow (mask, NULL, -3, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 14 * 10);
  op_mask_grow (mask, NULL, 3, NULL);
  g_assert_cmpuint (count_value (mask, 255), <, 20 * 16);

  /* Closing restores a convex shape. */
  op_mask_grow (rect, NULL, 4, NULL);
  op_mask_grow (rect, NULL, -4, NULL);
  g_assert_cmpuint (count_value (rect, 255), ==, 20 * 16);
  g_assert_cmpuint (px (rect, 20, 22), ==, 255);
  g_assert_cmpuint (px (rect, 39, 37), ==, 255);
}

static void
test_grow_border_and_limits (void)
{
  g_autoptr(OpMask) mask = op_mask_new (50, 40);
  OpRect changed;

  /* The picture's border is not an edge of the mask. */
  op_mask_select_all (mask, NULL, NULL);
  op_mask_grow (mask, NULL, -5, &changed);
  g_assert_cmpuint (count_value (mask, 255), ==, 50 * 40);
  g_assert_true (op_rect_is_empty (&changed));

  op_mask_grow (mask, NULL, G_MININT, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 50 * 40);

  op_mask_clear (mask, NULL, NULL);
  set_px (mask, 3, 3, 200);
  op_mask_grow (mask, NULL, 0, &changed);
  g_assert_true (op_rect_is_empty (&changed));
  op_mask_grow (mask, NULL, G_MAXINT, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 50 * 40);

  /* From 128 is in, below is out; a disc of radius 2 has 13 pixels. */
  op_mask_clear (mask, NULL, NULL);
  set_px (mask, 3, 3, 128);
  set_px (mask, 20, 20, 127);
  op_mask_grow (mask, NULL, 2, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 13);
  g_assert_cmpuint (count_value (mask, 0), ==, 50 * 40 - 13);

  op_mask_clear (mask, NULL, NULL);
  set_px (mask, 3, 3, 127);
  op_mask_grow (mask, NULL, 2, NULL);
  g_assert_true (op_mask_is_empty (mask));
}

/* Feather */

static void
test_feather_mass (void)
{
  g_autoptr(OpMask) mask = op_mask_new (128, 128);
  g_autoptr(OpMask) before = NULL;
  guint64 m0;
  OpRect changed, diff;

  op_mask_fill_rect (mask, NULL, &(OpRect) { 50, 44, 24, 30 }, OP_MASK_MODE_ADD, NULL);
  before = op_mask_copy (mask);
  m0 = mass (mask);

  op_mask_feather (mask, NULL, 8, &changed);
  g_assert_cmpfloat_with_epsilon ((double) mass (mask), (double) m0, m0 * 0.005);
  g_assert_cmpuint (px (mask, 62, 59), ==, 255);
  g_assert_cmpuint (px (mask, 50, 59), >, 90);
  g_assert_cmpuint (px (mask, 50, 59), <, 165);
  diff_rect (before, mask, &diff);
  assert_rect_equal (&changed, &diff);
  /* Nothing beyond 1.5 · radius + rounding of the box sizes. */
  g_assert_cmpint (changed.x, >=, 50 - 14);
}

static void
test_feather_ramp (void)
{
  g_autoptr(OpMask) mask = op_mask_new (128, 64);

  op_mask_fill_rect (mask, NULL, &(OpRect) { 0, 0, 64, 64 }, OP_MASK_MODE_ADD, NULL);
  op_mask_feather (mask, NULL, 10, NULL);

  for (int y = 0; y < 64; y++)
    {
      g_assert_cmpuint (px (mask, 0, y), ==, 255);
      g_assert_cmpuint (px (mask, 127, y), ==, 0);
      for (int x = 1; x < 128; x++)
        {
          g_assert_cmpuint (px (mask, x, y), <=, px (mask, x - 1, y));
          g_assert_cmpuint (px (mask, x, y), ==, px (mask, x, 0));
        }
    }
  g_assert_cmpuint (px (mask, 54, 10), >, 200);
  g_assert_cmpuint (px (mask, 63, 10), >, 128);
  g_assert_cmpuint (px (mask, 64, 10), <, 128);
  g_assert_cmpuint (px (mask, 73, 10), <, 55);
}

static void
test_feather_no_op (void)
{
  const double radii[] = { 0, -4, NAN, INFINITY, -INFINITY, 0.4 };
  g_autoptr(OpMask) mask = make_test_mask (40, 40);
  g_autoptr(OpMask) orig = op_mask_copy (mask);
  g_autoptr(OpMask) full = op_mask_new (40, 40);
  OpRect changed;

  for (guint i = 0; i < G_N_ELEMENTS (radii); i++)
    {
      op_mask_feather (mask, NULL, radii[i], &changed);
      g_assert_true (op_rect_is_empty (&changed));
      g_assert_true (op_mask_equal (mask, orig));
    }

  /* Repeating the border keeps a full mask full, whatever the radius. */
  op_mask_select_all (full, NULL, NULL);
  op_mask_feather (full, NULL, 1e9, &changed);
  g_assert_true (op_rect_is_empty (&changed));
}

static void
test_feather_tiny_masks (void)
{
  const struct
  {
    int width, height;
  } sizes[] = { { 1, 1 }, { 1, 50 }, { 50, 1 }, { 3, 3 } };

  /* Radii far beyond the mask: the padding and clamping must hold. */
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(OpMask) mask = op_mask_new (sizes[i].width, sizes[i].height);
      OpBrush b = brush (1, 1, 1, 0.1, OP_MASK_MODE_ADD);

      set_px (mask, 0, 0, 255);
      op_mask_feather (mask, NULL, 40, NULL);
      g_assert_cmpuint (px (mask, 0, 0), >, 0);
      set_px (mask, 0, 0, 255);
      op_mask_grow (mask, NULL, 100, NULL);
      g_assert_cmpuint (count_value (mask, 255), ==, n_pixels (mask));
      op_mask_grow (mask, NULL, -100, NULL);
      g_assert_cmpuint (count_value (mask, 255), ==, n_pixels (mask));
      op_mask_invert (mask, NULL, NULL);
      paint_line (mask, NULL, &b, 0.5, -20, 0.5, 80, NULL);
      g_assert_false (op_mask_is_empty (mask));
    }
}

/* History */

static void
edit_rect_add (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_fill_rect (m, h, &(OpRect) { 70, 3, 90, 40 }, OP_MASK_MODE_ADD, c);
}

static void
edit_rect_subtract (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_fill_rect (m, h, &(OpRect) { 30, 30, 50, 50 }, OP_MASK_MODE_SUBTRACT, c);
}

static void
edit_polygon (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  const double xy[] = { 10.3, 100.2, 150.7, 20.1, 120.4, 110.9, 60, 5 };

  op_mask_fill_polygon (m, h, xy, 4, OP_MASK_MODE_ADD, c);
}

static void
edit_invert (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_invert (m, h, c);
}

static void
edit_clear (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_clear (m, h, c);
}

static void
edit_select_all (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_select_all (m, h, c);
}

static void
edit_grow (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_grow (m, h, 6, c);
}

static void
edit_shrink (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_grow (m, h, -4, c);
}

static void
edit_feather (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  op_mask_feather (m, h, 7, c);
}

static void
edit_stroke (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  OpBrush b = brush (12, 0.6, 0.8, 0.1, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke = op_mask_stroke_begin (m, h, &b, 10, 10, 0.5, NULL);

  op_mask_stroke_to (stroke, 150, 40, 1.0, NULL);
  op_mask_stroke_to (stroke, 60, 110, 0.7, NULL);
  op_mask_stroke_end (stroke, c);
}

static void
edit_eraser (OpMask *m, OpMaskHistory *h, OpRect *c)
{
  OpBrush b = brush (9, 1, 1, 0.2, OP_MASK_MODE_SUBTRACT);

  paint_line (m, h, &b, 20, 50, 140, 70, c);
}

static void
test_history_undo_redo (void)
{
  const struct
  {
    const char *name;
    EditFunc    edit;
  } cases[] = {
    { "rect-add", edit_rect_add },
    { "rect-subtract", edit_rect_subtract },
    { "polygon", edit_polygon },
    { "invert", edit_invert },
    { "clear", edit_clear },
    { "select-all", edit_select_all },
    { "grow", edit_grow },
    { "shrink", edit_shrink },
    { "feather", edit_feather },
    { "stroke", edit_stroke },
    { "eraser", edit_eraser },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpMask) mask = make_test_mask (170, 130);
      g_autoptr(OpMask) before = op_mask_copy (mask);
      g_autoptr(OpMask) after = NULL;
      OpMaskHistory *history = op_mask_history_new (mask, 64 * MIB);
      OpRect changed, diff, undone;

      g_test_message ("edit: %s", cases[i].name);
      op_mask_history_begin (history);
      cases[i].edit (mask, history, &changed);
      g_assert_true (op_mask_history_end (history));
      after = op_mask_copy (mask);

      /* The reported rectangle is exactly the pixels that changed. */
      diff_rect (before, after, &diff);
      g_assert_false (op_rect_is_empty (&diff));
      assert_rect_equal (&changed, &diff);

      g_assert_true (op_mask_history_undo (history, &undone));
      g_assert_true (op_mask_equal (mask, before));
      assert_rect_equal (&undone, &diff);
      g_assert_true (op_mask_history_redo (history, &undone));
      g_assert_true (op_mask_equal (mask, after));
      assert_rect_equal (&undone, &diff);
      g_assert_true (op_mask_history_undo (history, NULL));
      g_assert_true (op_mask_equal (mask, before));
      g_assert_false (op_mask_history_undo (history, &undone));
      g_assert_true (op_rect_is_empty (&undone));

      op_mask_history_free (history);
    }
}

static void
test_history_sequence (void)
{
  g_autoptr(OpMask) mask = make_test_mask (170, 130);
  OpMaskHistory *history = op_mask_history_new (mask, 64 * MIB);
  EditFunc edits[] = { edit_stroke, edit_grow, edit_polygon, edit_eraser, edit_feather };
  OpMask *states[G_N_ELEMENTS (edits) + 1];

  /* Each edit without begin/end is a step of its own. */
  states[0] = op_mask_copy (mask);
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      edits[i] (mask, history, NULL);
      states[i + 1] = op_mask_copy (mask);
    }
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, G_N_ELEMENTS (edits));

  for (int i = G_N_ELEMENTS (edits) - 1; i >= 0; i--)
    {
      g_assert_true (op_mask_history_undo (history, NULL));
      g_assert_true (op_mask_equal (mask, states[i]));
    }
  for (guint i = 1; i <= G_N_ELEMENTS (edits); i++)
    {
      g_assert_true (op_mask_history_redo (history, NULL));
      g_assert_true (op_mask_equal (mask, states[i]));
    }
  g_assert_false (op_mask_history_can_redo (history));

  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    op_mask_unref (states[i]);
  op_mask_history_free (history);
}

static void
test_history_group (void)
{
  g_autoptr(OpMask) mask = make_test_mask (170, 130);
  g_autoptr(OpMask) before = op_mask_copy (mask);
  OpMaskHistory *history = op_mask_history_new (mask, 64 * MIB);

  op_mask_history_begin (history);
  edit_rect_add (mask, history, NULL);
  edit_stroke (mask, history, NULL);
  edit_shrink (mask, history, NULL);
  g_assert_true (op_mask_history_end (history));

  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 1);
  op_mask_history_undo (history, NULL);
  g_assert_true (op_mask_equal (mask, before));
  op_mask_history_free (history);
}

static void
test_history_no_op (void)
{
  g_autoptr(OpMask) mask = op_mask_new (200, 100);
  OpMaskHistory *history = op_mask_history_new (mask, 64 * MIB);
  OpBrush eraser = brush (20, 1, 1, 0.1, OP_MASK_MODE_SUBTRACT);

  /* Erasing nothing saves tiles but changes no byte. */
  op_mask_history_begin (history);
  paint_line (mask, history, &eraser, 10, 10, 190, 90, NULL);
  g_assert_cmpuint (op_mask_history_get_bytes (history), >, 0);
  g_assert_false (op_mask_history_end (history));
  g_assert_cmpuint (op_mask_history_get_bytes (history), ==, 0);
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 0);
  g_assert_false (op_mask_history_can_undo (history));

  /* A step that changes one pixel keeps one tile. */
  op_mask_fill_rect (mask, history, &(OpRect) { 70, 70, 1, 1 }, OP_MASK_MODE_ADD, NULL);
  g_assert_cmpuint (op_mask_history_get_bytes (history), ==, 64 * 36);

  /* A discarded step leaves the redo steps alone. */
  op_mask_history_undo (history, NULL);
  op_mask_clear (mask, history, NULL);
  g_assert_true (op_mask_history_can_redo (history));
  op_mask_history_free (history);
}

static void
test_history_redo_cleared (void)
{
  g_autoptr(OpMask) mask = op_mask_new (100, 100);
  OpMaskHistory *history = op_mask_history_new (mask, 64 * MIB);

  edit_rect_subtract (mask, history, NULL);
  op_mask_select_all (mask, history, NULL);
  op_mask_invert (mask, history, NULL);
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 2);

  g_assert_true (op_mask_history_undo (history, NULL));
  g_assert_true (op_mask_history_can_redo (history));
  op_mask_fill_rect (mask, history, &(OpRect) { 1, 1, 5, 5 }, OP_MASK_MODE_SUBTRACT, NULL);
  g_assert_false (op_mask_history_can_redo (history));
  g_assert_false (op_mask_history_redo (history, NULL));
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 2);
  op_mask_history_free (history);
}

static void
test_history_large_mask (void)
{
  g_autoptr(OpMask) mask = op_mask_new (8192, 8192);
  g_autoptr(OpMask) after = NULL;
  OpMaskHistory *history = op_mask_history_new (mask, 256 * MIB);
  OpBrush b = brush (150, 0.7, 1, 0.1, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke;
  OpRect changed;
  gsize bytes;

  stroke = op_mask_stroke_begin (mask, history, &b, 4000, 4000, 1.0, NULL);
  for (int i = 1; i <= 40; i++)
    op_mask_stroke_to (stroke, 4000 + 15 * i, 4000 + 5 * i, 1.0, NULL);
  op_mask_stroke_end (stroke, &changed);

  /* Only the touched tiles: about 900 × 500 px, far below the 64 MiB mask. */
  bytes = op_mask_history_get_bytes (history);
  g_test_message ("stroke step: %" G_GSIZE_FORMAT " bytes", bytes);
  g_assert_cmpuint (bytes, <, 2 * MIB);
  g_assert_cmpuint (bytes, >=, (gsize) (G_PI * 150 * 150));

  after = op_mask_copy (mask);
  op_mask_history_undo (history, &changed);
  g_assert_true (op_mask_is_empty (mask));
  op_mask_history_redo (history, NULL);
  g_assert_true (op_mask_equal (mask, after));

  /* A whole-mask edit is one step too, and still undoes bit for bit. */
  op_mask_invert (mask, history, NULL);
  op_mask_history_undo (history, NULL);
  g_assert_true (op_mask_equal (mask, after));
  op_mask_history_free (history);
}

static void
test_history_max_bytes (void)
{
  g_autoptr(OpMask) mask = op_mask_new (256, 256);
  OpMaskHistory *history = op_mask_history_new (mask, 10000);

  /* Five steps of one full 4096-byte tile each: only the two newest fit. */
  for (int i = 0; i < 5; i++)
    op_mask_fill_rect (mask, history, &(OpRect) { 64 * i % 256, 64 * (i / 4), 64, 64 },
                       OP_MASK_MODE_ADD, NULL);
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 2);
  g_assert_cmpuint (op_mask_history_get_bytes (history), ==, 2 * 4096);

  g_assert_true (op_mask_history_undo (history, NULL));
  g_assert_true (op_mask_history_undo (history, NULL));
  g_assert_false (op_mask_history_undo (history, NULL));
  g_assert_cmpuint (count_value (mask, 255), ==, 3 * 4096);

  /* The newest step stays even when it alone is over the limit. */
  op_mask_invert (mask, history, NULL);
  g_assert_cmpuint (op_mask_history_get_n_steps (history), ==, 1);
  g_assert_cmpuint (op_mask_history_get_bytes (history), ==, 256 * 256);
  g_assert_true (op_mask_history_undo (history, NULL));
  g_assert_cmpuint (count_value (mask, 255), ==, 3 * 4096);
  op_mask_history_free (history);
}

/* Bad input */

static void
test_bad_stroke (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 64);
  const OpBrush brushes[] = {
    brush (-5, 1, 1, 0.1, OP_MASK_MODE_ADD),
    brush (0, 1, 1, 0.1, OP_MASK_MODE_ADD),
    brush (NAN, 1, 1, 0.1, OP_MASK_MODE_ADD),
    brush (INFINITY, 1, 1, 0.1, OP_MASK_MODE_ADD),
    brush (10, 1, 0, 0.1, OP_MASK_MODE_ADD),
    brush (10, 1, NAN, 0.1, OP_MASK_MODE_ADD),
  };
  OpBrush good = brush (10, 1, 1, 0.1, OP_MASK_MODE_ADD);
  OpMaskStroke *stroke;
  OpRect changed;

  for (guint i = 0; i < G_N_ELEMENTS (brushes); i++)
    {
      paint_line (mask, NULL, &brushes[i], 10, 10, 50, 50, &changed);
      g_assert_true (op_rect_is_empty (&changed));
    }

  /* NaN and infinite points are skipped; the next valid point starts the stroke. */
  stroke = op_mask_stroke_begin (mask, NULL, &good, NAN, 10, 1.0, &changed);
  g_assert_true (op_rect_is_empty (&changed));
  op_mask_stroke_to (stroke, 10, INFINITY, 1.0, NULL);
  op_mask_stroke_to (stroke, -INFINITY, NAN, NAN, NULL);
  g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), ==, 0);
  g_assert_true (op_mask_is_empty (mask));
  op_mask_stroke_to (stroke, 32, 32, NAN, NULL);
  g_assert_cmpuint (op_mask_stroke_get_n_dabs (stroke), ==, 1);
  g_assert_cmpuint (px (mask, 32, 32), ==, 255);

  /* Absurd but finite points: clipped, quick. */
  op_mask_stroke_to (stroke, 1e300, -1e300, 1.0, NULL);
  op_mask_stroke_to (stroke, -1e300, 1e300, 1.0, NULL);
  op_mask_stroke_end (stroke, NULL);
}

static void
test_bad_huge_brush (void)
{
  g_autoptr(OpMask) mask = op_mask_new (64, 48);
  OpBrush huge = brush (1e12, 1, 1, 0.1, OP_MASK_MODE_ADD);

  paint_line (mask, NULL, &huge, 0, 0, 1e9, 1e9, NULL);
  g_assert_cmpuint (count_value (mask, 255), ==, 64 * 48);
}

static void
test_bad_arguments (void)
{
  g_autoptr(OpMask) mask = op_mask_new (16, 16);
  g_autoptr(OpMask) other = op_mask_new (16, 16);
  OpMaskHistory *history = op_mask_history_new (other, MIB);
  OpBrush b = brush (4, 1, 1, 0.1, OP_MASK_MODE_ADD);
  OpRect changed;

  g_test_expect_message ("op-mask", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  op_mask_invert (NULL, NULL, &changed);
  g_test_assert_expected_messages ();
  g_assert_true (op_rect_is_empty (&changed));

  g_test_expect_message ("op-mask", G_LOG_LEVEL_CRITICAL, "*rect != NULL*");
  op_mask_fill_rect (mask, NULL, NULL, OP_MASK_MODE_ADD, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("op-mask", G_LOG_LEVEL_CRITICAL, "*history_matches*");
  op_mask_select_all (mask, history, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("op-mask", G_LOG_LEVEL_CRITICAL, "*brush != NULL*");
  g_assert_null (op_mask_stroke_begin (mask, NULL, NULL, 1, 1, 1, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("op-mask", G_LOG_LEVEL_CRITICAL, "*open == NULL*");
  op_mask_history_begin (history);
  op_mask_history_begin (history);
  g_test_assert_expected_messages ();
  op_mask_history_end (history);

  g_assert_true (op_mask_is_empty (mask));
  op_mask_stroke_end (op_mask_stroke_begin (mask, NULL, &b, 8, 8, 1, NULL), NULL);
  g_assert_false (op_mask_is_empty (mask));
  op_mask_history_free (history);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mask/brush/hard-dab", test_brush_hard_dab);
  g_test_add_func ("/mask/brush/soft-dab", test_brush_soft_dab);
  g_test_add_func ("/mask/brush/opacity", test_brush_opacity);
  g_test_add_func ("/mask/brush/eraser", test_brush_eraser);
  g_test_add_func ("/mask/brush/fast-stroke", test_brush_fast_stroke);
  g_test_add_func ("/mask/brush/diagonal-stroke", test_brush_diagonal_stroke);
  g_test_add_func ("/mask/brush/carry", test_brush_carry);
  g_test_add_func ("/mask/brush/spacing", test_brush_spacing);
  g_test_add_func ("/mask/brush/pressure", test_brush_pressure);
  g_test_add_func ("/mask/rect/fill", test_rect_fill);
  g_test_add_func ("/mask/polygon/exact", test_polygon_exact);
  g_test_add_func ("/mask/polygon/self-intersecting", test_polygon_self_intersecting);
  g_test_add_func ("/mask/polygon/subtract", test_polygon_subtract);
  g_test_add_func ("/mask/polygon/clip", test_polygon_clip);
  g_test_add_func ("/mask/polygon/degenerate", test_polygon_degenerate);
  g_test_add_func ("/mask/whole/invert-twice", test_invert_twice);
  g_test_add_func ("/mask/whole/clear-select-all", test_clear_select_all);
  g_test_add_func ("/mask/grow/disc", test_grow_disc);
  g_test_add_func ("/mask/grow/reference", test_grow_reference);
  g_test_add_func ("/mask/grow/shrink", test_grow_shrink);
  g_test_add_func ("/mask/grow/border-and-limits", test_grow_border_and_limits);
  g_test_add_func ("/mask/feather/mass", test_feather_mass);
  g_test_add_func ("/mask/feather/ramp", test_feather_ramp);
  g_test_add_func ("/mask/feather/no-op", test_feather_no_op);
  g_test_add_func ("/mask/feather/tiny-masks", test_feather_tiny_masks);
  g_test_add_func ("/mask/history/undo-redo", test_history_undo_redo);
  g_test_add_func ("/mask/history/sequence", test_history_sequence);
  g_test_add_func ("/mask/history/group", test_history_group);
  g_test_add_func ("/mask/history/no-op", test_history_no_op);
  g_test_add_func ("/mask/history/redo-cleared", test_history_redo_cleared);
  g_test_add_func ("/mask/history/large-mask", test_history_large_mask);
  g_test_add_func ("/mask/history/max-bytes", test_history_max_bytes);
  g_test_add_func ("/mask/bad/stroke", test_bad_stroke);
  g_test_add_func ("/mask/bad/huge-brush", test_bad_huge_brush);
  g_test_add_func ("/mask/bad/arguments", test_bad_arguments);

  return g_test_run ();
}
