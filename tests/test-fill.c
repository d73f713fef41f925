/* test-fill.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-fill"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-fill-private.h"

/* The built-in local fill: identity outside the hole, determinism, where sources come
 * from, cancellation, progress, degenerate holes, errors and outpainting. */

/* ------------------------------------------------------------------------- helpers */

/* A synthetic photo: a smooth gradient, oblique stripes and fine noise, in browns,
 * greens and blues, never near magenta. */
static OpImage *
make_picture (int     width,
              int     height,
              guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);
  int stride = op_image_get_stride (image);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * stride + 4 * x;
        double stripe = 0.5 + 0.5 * sin ((x + 0.6 * y) * 0.35);
        double grad = (double) x / width;
        int noise = g_rand_int_range (rand, -12, 13);

        p[0] = (guint8) CLAMP (60 + 90 * grad + 50 * stripe + noise, 0, 255);
        p[1] = (guint8) CLAMP (70 + 60 * (double) y / height + 40 * stripe + noise, 0, 255);
        p[2] = (guint8) CLAMP (40 + 50 * (1 - grad) + noise, 0, 255);
        p[3] = 255;
      }

  return image;
}

static OpMask *
make_mask_rect (int width,
                int height,
                int x0,
                int y0,
                int w,
                int h)
{
  OpMask *mask = op_mask_new (width, height);
  guint8 *m = op_mask_get_data (mask);

  for (int y = MAX (0, y0); y < MIN (height, y0 + h); y++)
    memset (m + (gsize) y * width + MAX (0, x0), 255, MIN (width, x0 + w) - MAX (0, x0));

  return mask;
}

/* An ellipse with a soft (partial coverage) edge. */
static OpMask *
make_mask_ellipse (int    width,
                   int    height,
                   double cx,
                   double cy,
                   double rx,
                   double ry)
{
  OpMask *mask = op_mask_new (width, height);
  guint8 *m = op_mask_get_data (mask);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        double d = hypot ((x - cx) / rx, (y - cy) / ry);
        double v = CLAMP ((1.0 - d) * 12.0, 0.0, 1.0);

        m[(gsize) y * width + x] = (guint8) (v * 255 + 0.5);
      }

  return mask;
}

static void
paint_hole (OpImage      *image,
            const OpMask *mask,
            const guint8  rgba[4])
{
  const guint8 *m = op_mask_peek_data (mask);
  guint8 *data = op_image_get_data (image);
  int width = op_image_get_width (image);

  for (int y = 0; y < op_image_get_height (image); y++)
    for (int x = 0; x < width; x++)
      if (m[(gsize) y * width + x] != 0)
        memcpy (data + (gsize) y * op_image_get_stride (image) + 4 * x, rgba, 4);
}

static const guint8 magenta[4] = { 255, 0, 255, 255 };

static gboolean
is_magentaish (const guint8 *p)
{
  return p[0] > 200 && p[1] < 80 && p[2] > 200;
}

static void
assert_outside_identical (const OpImage *a,
                          const OpImage *b,
                          const OpMask  *mask)
{
  const guint8 *m = op_mask_peek_data (mask);
  int width = op_image_get_width (a);

  g_assert_cmpint (op_image_get_width (b), ==, width);
  g_assert_cmpint (op_image_get_height (b), ==, op_image_get_height (a));

  for (int y = 0; y < op_image_get_height (a); y++)
    for (int x = 0; x < width; x++)
      if (m[(gsize) y * width + x] == 0)
        g_assert_cmpmem (op_image_peek_data (a) + (gsize) y * op_image_get_stride (a) + 4 * x, 4,
                         op_image_peek_data (b) + (gsize) y * op_image_get_stride (b) + 4 * x, 4);
}

static void
assert_no_magenta (const OpImage *image)
{
  const guint8 *data = op_image_peek_data (image);

  for (int y = 0; y < op_image_get_height (image); y++)
    for (int x = 0; x < op_image_get_width (image); x++)
      {
        const guint8 *p = data + (gsize) y * op_image_get_stride (image) + 4 * x;

        if (is_magentaish (p))
          g_error ("magenta-like pixel (%d, %d, %d) at %d,%d", p[0], p[1], p[2], x, y);
      }
}

static OpImage *
fill (const OpImage *picture,
      const OpMask  *mask,
      guint64        seed,
      int            n_threads)
{
  g_autoptr(GError) error = NULL;
  OpFillParams params;
  OpImage *result;

  op_fill_params_init (&params);
  params.seed = seed;
  params.n_threads = n_threads;
  result = op_fill_run (picture, mask, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  return result;
}

/* ------------------------------------------------------------------------- identity */

static void
test_identity_outside_hole (void)
{
  g_autoptr(OpImage) picture = make_picture (200, 150, 1);
  g_autoptr(OpMask) mask = make_mask_ellipse (200, 150, 90, 70, 40, 30);
  g_autoptr(OpImage) result = fill (picture, mask, 1, 0);

  assert_outside_identical (picture, result, mask);
}

static void
test_identity_empty_mask (void)
{
  g_autoptr(OpImage) picture = make_picture (64, 48, 2);
  g_autoptr(OpMask) mask = op_mask_new (64, 48);
  g_autoptr(OpImage) result = fill (picture, mask, 1, 0);

  g_assert_true (op_image_equal (picture, result));
  g_assert_true (result != picture);
}

/* ---------------------------------------------------------------------- determinism */

static void
test_determinism_same_seed (void)
{
  g_autoptr(OpImage) picture = make_picture (180, 140, 3);
  g_autoptr(OpMask) mask = make_mask_ellipse (180, 140, 90, 70, 45, 35);
  g_autoptr(OpImage) a = fill (picture, mask, 42, 2);
  g_autoptr(OpImage) b = fill (picture, mask, 42, 2);
  g_autoptr(OpImage) c = fill (picture, mask, 42, 1);
  g_autoptr(OpImage) d = fill (picture, mask, 42, 4);

  /* the same seed gives the same pixels whatever the threads and their schedule */
  g_assert_true (op_image_equal (a, b));
  g_assert_true (op_image_equal (a, c));
  g_assert_true (op_image_equal (a, d));
}

static void
test_determinism_different_seeds (void)
{
  g_autoptr(OpImage) picture = make_picture (180, 140, 4);
  g_autoptr(OpMask) mask = make_mask_ellipse (180, 140, 90, 70, 45, 35);
  g_autoptr(OpImage) a = fill (picture, mask, 1, 0);
  g_autoptr(OpImage) b = fill (picture, mask, 2, 0);

  g_assert_false (op_image_equal (a, b));
  assert_outside_identical (a, b, mask);
}

/* -------------------------------------------------------------------------- sources */

static void
test_sources_no_magenta (void)
{
  g_autoptr(OpImage) picture = make_picture (220, 160, 5);
  g_autoptr(OpMask) mask = make_mask_ellipse (220, 160, 110, 80, 60, 45);
  g_autoptr(OpImage) result = NULL;

  paint_hole (picture, mask, magenta);
  result = fill (picture, mask, 7, 0);
  assert_no_magenta (result);
}

static void
check_matches (GArray       *matches,
               const OpMask *mask,
               const OpRect *source,
               int           radius)
{
  const guint8 *m = op_mask_peek_data (mask);
  int width = op_mask_get_width (mask), height = op_mask_get_height (mask);

  g_assert_cmpuint (matches->len, >, 0);
  for (guint i = 0; i < matches->len; i++)
    {
      const OpFillMatch *match = &g_array_index (matches, OpFillMatch, i);

      for (int dy = -radius; dy <= radius; dy++)
        for (int dx = -radius; dx <= radius; dx++)
          {
            int x = match->sx + dx, y = match->sy + dy;

            g_assert_cmpint (x, >=, 0);
            g_assert_cmpint (y, >=, 0);
            g_assert_cmpint (x, <, width);
            g_assert_cmpint (y, <, height);
            g_assert_cmpint (m[(gsize) y * width + x], ==, 0);
            if (source != NULL)
              {
                g_assert_cmpint (x, >=, source->x);
                g_assert_cmpint (y, >=, source->y);
                g_assert_cmpint (x, <, source->x + source->width);
                g_assert_cmpint (y, <, source->y + source->height);
              }
          }
    }
}

/* Every target patch of the finest field points at a source patch that is entirely
 * known (mask 0 over the whole patch) and inside the picture. */
static void
test_sources_nnf_known (void)
{
  g_autoptr(OpImage) picture = make_picture (200, 160, 6);
  g_autoptr(OpMask) mask = make_mask_ellipse (200, 160, 100, 80, 50, 40);
  g_autoptr(OpImage) result = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GError) error = NULL;

  result = _op_fill_run_full (picture, mask, NULL, NULL, NULL, NULL, &matches, &error);
  g_assert_no_error (error);
  check_matches (matches, mask, NULL, 3);
}

/* The hole is in the right half and the sources are restricted to the left half:
 * every source patch of the field lies inside it.  (The colours themselves may lean
 * towards the right half near the border: that is the border blending at work.) */
static void
test_sources_region (void)
{
  int width = 160, height = 120;
  g_autoptr(OpImage) picture = make_picture (width, height, 8);
  g_autoptr(OpMask) mask = make_mask_rect (width, height, 110, 40, 30, 30);
  g_autoptr(OpImage) result = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GError) error = NULL;
  OpRect left = { 0, 0, 80, height };
  OpFillParams params;

  op_fill_params_init (&params);
  params.source_region = &left;
  result = _op_fill_run_full (picture, mask, &params, NULL, NULL, NULL, &matches, &error);
  g_assert_no_error (error);
  check_matches (matches, mask, &left, 3);

  assert_outside_identical (picture, result, mask);
}

/* --------------------------------------------------------------------- cancellation */

typedef struct
{
  OpImage      *picture;
  OpMask       *mask;
  GCancellable *cancellable;
  GError       *error;
  OpImage      *result;
  gint64        returned;
} CancelData;

static gpointer
cancel_thread_func (gpointer user_data)
{
  CancelData *data = user_data;
  OpFillParams params;

  op_fill_params_init (&params);
  data->result = op_fill_run (data->picture, data->mask, &params, NULL, NULL,
                              data->cancellable, &data->error);
  data->returned = g_get_monotonic_time ();
  return NULL;
}

/* A large fill cancelled from another thread, at several moments of its run, returns
 * G_IO_ERROR_CANCELLED quickly.  The requirement is 100 ms; the assertion allows 1 s so
 * timing noise on a loaded machine never fails the suite, and the measured values are
 * reported. */
static double
cancel_after (const OpImage *picture,
              const OpMask  *mask,
              int            delay_ms)
{
  CancelData data = { 0, };
  g_autoptr(GThread) thread = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gint64 cancelled_at;

  data.picture = (OpImage *) picture;
  data.mask = (OpMask *) mask;
  data.cancellable = cancellable;
  thread = g_thread_new ("fill", cancel_thread_func, &data);

  g_usleep (delay_ms * 1000);
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_thread_join (g_steal_pointer (&thread));

  g_assert_null (data.result);
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&data.error);

  return (data.returned - cancelled_at) / 1000.0;
}

static void
test_cancel_quickly (void)
{
  g_autoptr(OpImage) picture = make_picture (2000, 2000, 9);
  g_autoptr(OpMask) mask = make_mask_ellipse (2000, 2000, 1000, 1000, 640, 560);
  const int delays[] = { 0, 20, 80, 250, 600 };
  double worst = 0;

  for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
    {
      double ms = cancel_after (picture, mask, delays[i]);

      g_test_message ("cancel after %d ms: returned in %.1f ms", delays[i], ms);
      worst = MAX (worst, ms);
    }

  g_test_message ("worst cancel latency: %.1f ms (goal 100 ms)", worst);
  g_assert_cmpfloat (worst, <, 1000.0);
}

static void
test_cancel_before_start (void)
{
  g_autoptr(OpImage) picture = make_picture (64, 64, 10);
  g_autoptr(OpMask) mask = make_mask_rect (64, 64, 20, 20, 10, 10);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) result = NULL;

  g_cancellable_cancel (cancellable);
  result = op_fill_run (picture, mask, NULL, NULL, NULL, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---------------------------------------------------------------------------- large */

/* Thick random strokes until @fraction of the picture is covered. */
static OpMask *
make_mask_strokes (int     width,
                   int     height,
                   double  fraction,
                   guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  OpMask *mask = op_mask_new (width, height);
  guint8 *m = op_mask_get_data (mask);
  gsize covered = 0, goal = (gsize) (fraction * width * height);

  while (covered < goal)
    {
      double x = g_rand_double_range (rand, 0, width), y = g_rand_double_range (rand, 0, height);
      double angle = g_rand_double_range (rand, 0, 2 * G_PI);
      double radius = g_rand_double_range (rand, MIN (width, height) / 120.0,
                                           MIN (width, height) / 45.0);

      for (int step = 0; step < 400 && covered < goal; step++)
        {
          int x0 = MAX (0, (int) (x - radius)), x1 = MIN (width - 1, (int) (x + radius));
          int y0 = MAX (0, (int) (y - radius)), y1 = MIN (height - 1, (int) (y + radius));

          for (int py = y0; py <= y1; py++)
            for (int px = x0; px <= x1; px++)
              if (hypot (px - x, py - y) <= radius && m[(gsize) py * width + px] == 0)
                {
                  m[(gsize) py * width + px] = 255;
                  covered++;
                }
          angle += g_rand_double_range (rand, -0.15, 0.15);
          x = CLAMP (x + radius * 0.5 * cos (angle), 0, width - 1);
          y = CLAMP (y + radius * 0.5 * sin (angle), 0, height - 1);
        }
    }

  return mask;
}

typedef struct
{
  gint64 start;
  gint64 last;
  gint64 max_gap;
  double last_fraction;
  guint  n_calls;
  gboolean monotonic;
} LargeProgress;

static void
on_large_progress_cb (double      fraction,
                      const char *stage,
                      gpointer    user_data)
{
  LargeProgress *p = user_data;
  gint64 now = g_get_monotonic_time ();

  p->max_gap = MAX (p->max_gap, now - p->last);
  p->last = now;
  p->monotonic = p->monotonic && fraction >= p->last_fraction;
  p->last_fraction = fraction;
  p->n_calls++;
}

/* 4096×4096 with a 10 % brush-stroke hole: progress all the way, cancel at any time.
 * Slow (tens of seconds): only with -m slow; fill-bench runs it. */
static void
test_large_4096 (void)
{
  g_autoptr(OpImage) picture = NULL;
  g_autoptr(OpMask) mask = NULL;
  g_autoptr(OpImage) result = NULL;
  g_autoptr(GError) error = NULL;
  LargeProgress p = { 0, 0, 0, 0.0, 0, TRUE };
  const int delays[] = { 0, 300, 1500, 4000 };
  double worst = 0;

  if (!g_test_slow ())
    {
      g_test_skip ("4096×4096: run with -m slow");
      return;
    }

  picture = make_picture (4096, 4096, 22);
  mask = make_mask_strokes (4096, 4096, 0.10, 22);

  p.start = p.last = g_get_monotonic_time ();
  result = op_fill_run (picture, mask, NULL, on_large_progress_cb, &p, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("4096x4096, 10%% hole: %.2f s, %u progress calls, longest gap %.0f ms",
                  (g_get_monotonic_time () - p.start) / 1e6, p.n_calls, p.max_gap / 1000.0);
  g_assert_true (p.monotonic);
  g_assert_cmpfloat (p.last_fraction, ==, 1.0);
  assert_outside_identical (picture, result, mask);

  for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
    {
      double ms = cancel_after (picture, mask, delays[i]);

      g_test_message ("4096x4096: cancel after %d ms returned in %.1f ms", delays[i], ms);
      worst = MAX (worst, ms);
    }
  g_test_message ("4096x4096: worst cancel latency %.1f ms (goal 100 ms)", worst);
  g_assert_cmpfloat (worst, <, 1000.0);
}

/* ------------------------------------------------------------------------- progress */

typedef struct
{
  GArray  *fractions;
  GThread *thread;
  gboolean wrong_thread;
  gboolean empty_stage;
} ProgressData;

static void
on_progress_cb (double      fraction,
                const char *stage,
                gpointer    user_data)
{
  ProgressData *data = user_data;

  g_array_append_val (data->fractions, fraction);
  if (g_thread_self () != data->thread)
    data->wrong_thread = TRUE;
  if (stage == NULL || *stage == '\0')
    data->empty_stage = TRUE;
}

static void
test_progress_monotonic (void)
{
  g_autoptr(OpImage) picture = make_picture (300, 220, 11);
  g_autoptr(OpMask) mask = make_mask_ellipse (300, 220, 150, 110, 80, 60);
  g_autoptr(OpImage) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) fractions = g_array_new (FALSE, FALSE, sizeof (double));
  ProgressData data = { fractions, g_thread_self (), FALSE, FALSE };

  result = op_fill_run (picture, mask, NULL, on_progress_cb, &data, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (fractions->len, >=, 10);
  for (guint i = 0; i < fractions->len; i++)
    {
      double f = g_array_index (fractions, double, i);

      g_assert_cmpfloat (f, >=, 0.0);
      g_assert_cmpfloat (f, <=, 1.0);
      if (i > 0)
        g_assert_cmpfloat (f, >=, g_array_index (fractions, double, i - 1));
    }
  g_assert_cmpfloat (g_array_index (fractions, double, fractions->len - 1), ==, 1.0);
  g_assert_false (data.wrong_thread);
  g_assert_false (data.empty_stage);
}

/* ----------------------------------------------------------------------- degenerate */

static void
test_degenerate_one_pixel (void)
{
  g_autoptr(OpImage) picture = make_picture (50, 40, 12);
  g_autoptr(OpMask) mask = make_mask_rect (50, 40, 25, 20, 1, 1);
  g_autoptr(OpImage) result = NULL;

  paint_hole (picture, mask, magenta);
  result = fill (picture, mask, 1, 0);
  assert_outside_identical (picture, result, mask);
  assert_no_magenta (result);
}

/* A frame along all four borders plus a cross through the middle. */
static void
test_degenerate_touching_borders (void)
{
  int width = 160, height = 120;
  g_autoptr(OpImage) picture = make_picture (width, height, 13);
  g_autoptr(OpMask) mask = op_mask_new (width, height);
  g_autoptr(OpImage) result = NULL;
  guint8 *m = op_mask_get_data (mask);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (x < 6 || y < 6 || x >= width - 6 || y >= height - 6 ||
          ABS (x - width / 2) < 4 || ABS (y - height / 2) < 4)
        m[(gsize) y * width + x] = 255;

  paint_hole (picture, mask, magenta);
  result = fill (picture, mask, 1, 0);
  assert_outside_identical (picture, result, mask);
  assert_no_magenta (result);
}

static void
test_degenerate_ninety_percent (void)
{
  int width = 200, height = 200;
  g_autoptr(OpImage) picture = make_picture (width, height, 14);
  /* known: a 63×63 corner, about 10 % */
  g_autoptr(OpMask) mask = make_mask_rect (width, height, 0, 0, width, height);
  g_autoptr(OpImage) result = NULL;
  guint8 *m = op_mask_get_data (mask);

  for (int y = 0; y < 63; y++)
    memset (m + (gsize) y * width, 0, 63);

  paint_hole (picture, mask, magenta);
  result = fill (picture, mask, 1, 0);
  assert_outside_identical (picture, result, mask);
  assert_no_magenta (result);
}

/* The known part is too thin for a 7×7 patch anywhere: smaller patches take over. */
static void
test_degenerate_thin_known (void)
{
  int width = 80, height = 60;
  g_autoptr(OpImage) picture = make_picture (width, height, 15);
  g_autoptr(OpMask) mask = make_mask_rect (width, height, 0, 0, width, height);
  g_autoptr(OpImage) result = NULL;
  guint8 *m = op_mask_get_data (mask);

  for (int y = 28; y < 31; y++)
    memset (m + (gsize) y * width, 0, width);

  paint_hole (picture, mask, magenta);
  result = fill (picture, mask, 1, 0);
  assert_outside_identical (picture, result, mask);
  assert_no_magenta (result);
}

/* A flat picture can only be filled with its one colour. */
static void
test_quality_flat (void)
{
  g_autoptr(OpImage) picture = op_image_new (120, 90);
  g_autoptr(OpMask) mask = make_mask_ellipse (120, 90, 60, 45, 30, 25);
  g_autoptr(OpImage) result = NULL;
  const guint8 color[4] = { 90, 140, 60, 255 };
  guint8 *data = op_image_get_data (picture);

  for (int i = 0; i < 120 * 90; i++)
    memcpy (data + 4 * i, color, 4);
  paint_hole (picture, mask, magenta);

  result = fill (picture, mask, 1, 0);
  for (int i = 0; i < 120 * 90; i++)
    g_assert_cmpmem (op_image_peek_data (result) + 4 * i, 4, color, 4);
}

/* Transparent pixels: the features use the alpha instead of the texture measure. */
static void
test_quality_transparent (void)
{
  int width = 120, height = 90;
  g_autoptr(OpImage) picture = make_picture (width, height, 16);
  g_autoptr(OpMask) mask = make_mask_ellipse (width, height, 60, 45, 25, 20);
  g_autoptr(OpImage) result = NULL;
  guint8 *data = op_image_get_data (picture);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width / 3; x++)
      data[(gsize) y * op_image_get_stride (picture) + 4 * x + 3] = 0;

  result = fill (picture, mask, 1, 0);
  assert_outside_identical (picture, result, mask);
}

/* --------------------------------------------------------------------------- errors */

static void
test_errors_wrong_size (void)
{
  g_autoptr(OpImage) picture = make_picture (64, 48, 17);
  g_autoptr(OpMask) mask = op_mask_new (48, 64);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) result = NULL;

  result = op_fill_run (picture, mask, NULL, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "48"));
}

static void
test_errors_no_source (void)
{
  g_autoptr(OpImage) picture = make_picture (64, 48, 18);
  g_autoptr(OpMask) full = make_mask_rect (64, 48, 0, 0, 64, 48);
  g_autoptr(OpMask) part = make_mask_rect (64, 48, 0, 0, 32, 48);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) result = NULL;
  OpRect inside_hole = { 0, 0, 20, 20 };
  OpFillParams params;

  result = op_fill_run (picture, full, NULL, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_NO_SOURCE);
  g_clear_error (&error);

  /* the source region holds only hole pixels */
  op_fill_params_init (&params);
  params.source_region = &inside_hole;
  result = op_fill_run (picture, part, &params, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_NO_SOURCE);
}

static void
test_errors_bad_params (void)
{
  g_autoptr(OpImage) picture = make_picture (64, 48, 19);
  g_autoptr(OpMask) mask = make_mask_rect (64, 48, 10, 10, 10, 10);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) result = NULL;
  OpRect outside = { 100, 100, 10, 10 };
  OpFillParams params;

  op_fill_params_init (&params);
  params.patch_size = 6;
  result = op_fill_run (picture, mask, &params, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID);
  g_clear_error (&error);

  op_fill_params_init (&params);
  params.source_region = &outside;
  result = op_fill_run (picture, mask, &params, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID);
  g_clear_error (&error);

  op_fill_params_init (&params);
  params.patch_size = 3;
  result = op_fill_run (picture, mask, &params, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
}

/* ------------------------------------------------------------------------- outpaint */

static void
test_outpaint_dimensions (void)
{
  g_autoptr(OpImage) picture = make_picture (120, 80, 20);
  g_autoptr(OpImage) result = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *out;
  int stride;

  result = op_fill_outpaint (picture, 10, 20, 5, 15, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (result), ==, 150);
  g_assert_cmpint (op_image_get_height (result), ==, 100);

  out = op_image_peek_data (result);
  stride = op_image_get_stride (result);
  for (int y = 0; y < 100; y++)
    for (int x = 0; x < 150; x++)
      {
        const guint8 *p = out + (gsize) y * stride + 4 * x;

        if (x >= 10 && x < 130 && y >= 5 && y < 85)
          g_assert_cmpmem (p, 4, op_image_peek_data (picture) +
                           (gsize) (y - 5) * op_image_get_stride (picture) + 4 * (x - 10), 4);
        else
          g_assert_cmpint (p[3], ==, 255);  /* filled from an opaque picture */
      }
}

static void
test_outpaint_errors (void)
{
  g_autoptr(OpImage) picture = make_picture (40, 30, 21);
  g_autoptr(OpImage) result = NULL;
  g_autoptr(OpImage) same = NULL;
  g_autoptr(GError) error = NULL;

  result = op_fill_outpaint (picture, -1, 0, 0, 0, NULL, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID);
  g_clear_error (&error);

  result = op_fill_outpaint (picture, 0, 20000, 0, 0, NULL, NULL, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID);
  g_clear_error (&error);

  same = op_fill_outpaint (picture, 0, 0, 0, 0, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (op_image_equal (picture, same));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fill/identity/outside-hole", test_identity_outside_hole);
  g_test_add_func ("/fill/identity/empty-mask", test_identity_empty_mask);
  g_test_add_func ("/fill/determinism/same-seed", test_determinism_same_seed);
  g_test_add_func ("/fill/determinism/different-seeds", test_determinism_different_seeds);
  g_test_add_func ("/fill/sources/no-magenta", test_sources_no_magenta);
  g_test_add_func ("/fill/sources/nnf-known", test_sources_nnf_known);
  g_test_add_func ("/fill/sources/region", test_sources_region);
  g_test_add_func ("/fill/cancel/within-100ms", test_cancel_quickly);
  g_test_add_func ("/fill/cancel/before-start", test_cancel_before_start);
  g_test_add_func ("/fill/progress/monotonic", test_progress_monotonic);
  g_test_add_func ("/fill/degenerate/one-pixel", test_degenerate_one_pixel);
  g_test_add_func ("/fill/degenerate/touching-borders", test_degenerate_touching_borders);
  g_test_add_func ("/fill/degenerate/ninety-percent", test_degenerate_ninety_percent);
  g_test_add_func ("/fill/degenerate/thin-known", test_degenerate_thin_known);
  g_test_add_func ("/fill/quality/flat", test_quality_flat);
  g_test_add_func ("/fill/quality/transparent", test_quality_transparent);
  g_test_add_func ("/fill/errors/wrong-size", test_errors_wrong_size);
  g_test_add_func ("/fill/errors/no-source", test_errors_no_source);
  g_test_add_func ("/fill/errors/bad-params", test_errors_bad_params);
  g_test_add_func ("/fill/outpaint/dimensions", test_outpaint_dimensions);
  g_test_add_func ("/fill/outpaint/errors", test_outpaint_errors);
  g_test_add_func ("/fill/slow/large-4096", test_large_4096);

  return g_test_run ();
}
