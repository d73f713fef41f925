/* bench-mask.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Times mask edits the way the editor makes them, with the undo history on: a
 * 1000-dab stroke of a 300 px brush on an 8192×8192 mask (per dab), grow and feather by
 * 10 px, and undo/redo of the stroke.  Run by hand: bench-mask [repetitions]. */

#define G_LOG_DOMAIN "bench-mask"

#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "op-mask.h"

#define SIDE        8192
#define N_DABS      1000
#define BRUSH_SIZE  300.0
#define SPACING     0.1
#define HISTORY_MAX ((gsize) 512 * 1024 * 1024)

typedef struct
{
  OpMask        *mask;
  OpMaskHistory *history;
  GArray        *dab_us;   /* double, one per dab */
} Bench;

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double da = *(const double *) a, db = *(const double *) b;

  return (da > db) - (da < db);
}

static double
percentile (GArray *sorted,
            double  p)
{
  guint i = (guint) MIN (sorted->len - 1, floor (p * (sorted->len - 1) + 0.5));

  return g_array_index (sorted, double, i);
}

static void
print_stats (const char *what,
             GArray     *samples)
{
  g_array_sort (samples, compare_double);
  g_print ("%s: median %.0f us, p90 %.0f us, max %.0f us (%u samples)\n", what,
           percentile (samples, 0.5), percentile (samples, 0.9),
           g_array_index (samples, double, samples->len - 1), samples->len);
}

/* A Lissajous figure over most of the mask, sampled every dab spacing, so that each
 * pointer event places about one dab and later loops cross earlier ones. */
static void
path_point (double  t,
            double *x,
            double *y)
{
  *x = SIDE / 2.0 + 3400 * sin (3 * t);
  *y = SIDE / 2.0 + 3400 * sin (2 * t + 0.5);
}

static void
next_event (double *t,
            double *x,
            double *y)
{
  double step = SPACING * BRUSH_SIZE, nx, ny;

  do
    {
      *t += 1e-4;
      path_point (*t, &nx, &ny);
    }
  while (hypot (nx - *x, ny - *y) < step);

  *x = nx;
  *y = ny;
}

static void
bench_stroke (Bench *bench)
{
  OpBrush brush = { BRUSH_SIZE / 2, 0.8, 1.0, SPACING, OP_MASK_MODE_ADD };
  OpMaskStroke *stroke;
  double t = 0, x, y;
  gint64 start;

  path_point (t, &x, &y);
  stroke = op_mask_stroke_begin (bench->mask, bench->history, &brush, x, y, 1.0, NULL);
  while (op_mask_stroke_get_n_dabs (stroke) < N_DABS)
    {
      guint n = op_mask_stroke_get_n_dabs (stroke);
      double us;

      next_event (&t, &x, &y);
      start = g_get_monotonic_time ();
      op_mask_stroke_to (stroke, x, y, 1.0, NULL);
      us = g_get_monotonic_time () - start;

      n = op_mask_stroke_get_n_dabs (stroke) - n;
      for (guint i = 0; i < n; i++)
        {
          double per_dab = us / n;
          g_array_append_val (bench->dab_us, per_dab);
        }
    }

  start = g_get_monotonic_time ();
  op_mask_stroke_end (stroke, NULL);
  g_print ("stroke end: %.1f ms, undo step %.1f MiB\n",
           (g_get_monotonic_time () - start) / 1000.0,
           op_mask_history_get_bytes (bench->history) / (1024.0 * 1024.0));
}

static double
time_ms (void (*func) (Bench *),
         Bench *bench)
{
  gint64 start = g_get_monotonic_time ();

  func (bench);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
do_grow (Bench *bench)
{
  op_mask_grow (bench->mask, bench->history, 10, NULL);
}

static void
do_shrink (Bench *bench)
{
  op_mask_grow (bench->mask, bench->history, -10, NULL);
}

static void
do_feather (Bench *bench)
{
  op_mask_feather (bench->mask, bench->history, 10, NULL);
}

static void
do_undo (Bench *bench)
{
  op_mask_history_undo (bench->history, NULL);
}

static void
do_redo (Bench *bench)
{
  op_mask_history_redo (bench->history, NULL);
}

/* Whole-mask operations on the stroke's mask: its bounds span most of the picture. */
static void
bench_operations (Bench *bench)
{
  OpRect bounds;

  op_mask_get_bounds (bench->mask, &bounds);
  g_print ("mask bounds %dx%d\n", bounds.width, bounds.height);
  g_print ("undo stroke: %.1f ms\n", time_ms (do_undo, bench));
  g_print ("redo stroke: %.1f ms\n", time_ms (do_redo, bench));
  g_print ("grow(10): %.1f ms\n", time_ms (do_grow, bench));
  g_print ("shrink(10): %.1f ms\n", time_ms (do_shrink, bench));
  g_print ("feather(10): %.1f ms\n", time_ms (do_feather, bench));
  g_print ("undo feather: %.1f ms\n", time_ms (do_undo, bench));
}

/* A typical inpainting selection: a 1500×1000 blob in a corner of the picture. */
static void
bench_small_region (Bench *bench)
{
  const double xy[] = { 500, 600, 1700, 400, 2000, 1100, 1200, 1400, 600, 1300 };

  op_mask_clear (bench->mask, bench->history, NULL);
  op_mask_fill_polygon (bench->mask, bench->history, xy, 5, OP_MASK_MODE_ADD, NULL);
  g_print ("lasso 1500x1000: grow(10) %.1f ms, feather(10) %.1f ms\n",
           time_ms (do_grow, bench), time_ms (do_feather, bench));
}

int
main (int   argc,
      char *argv[])
{
  int reps = argc > 1 ? MAX (atoi (argv[1]), 1) : 3;
  g_autoptr(GArray) dab_us = g_array_new (FALSE, FALSE, sizeof (double));

  for (int rep = 0; rep < reps; rep++)
    {
      Bench bench = { op_mask_new (SIDE, SIDE), NULL, dab_us };

      bench.history = op_mask_history_new (bench.mask, HISTORY_MAX);
      g_print ("# repetition %d\n", rep + 1);
      bench_stroke (&bench);
      if (rep == reps - 1)
        {
          bench_operations (&bench);
          bench_small_region (&bench);
        }
      op_mask_history_free (bench.history);
      op_mask_unref (bench.mask);
    }

  print_stats ("stroke dab", dab_us);
  return EXIT_SUCCESS;
}
