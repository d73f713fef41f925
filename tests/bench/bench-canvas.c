/* bench-canvas.c — what painting costs on a large picture, per dab, and a full redraw.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run under a display: xvfb-run -a _build/tests/bench/bench-canvas [SIZE]
 */

#include "config.h"

#include <adwaita.h>
#include <math.h>

#include "op-canvas-private.h"
#include "op-tile-cache.h"

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
report (const char *what,
        double     *v,
        guint       n,
        const char *unit,
        double      scale)
{
  qsort (v, n, sizeof (double), cmp_double);
  g_print ("%-44s median %8.1f %s   p90 %8.1f %s   max %8.1f %s   (n=%u)\n", what,
           v[n / 2] * scale, unit, v[(n * 9) / 10] * scale, unit, v[n - 1] * scale, unit, n);
}

static OpImage *
make_picture (int size)
{
  g_autofree char *path = g_build_filename (SAMPLES_DIR, "coffee.png", NULL);
  g_autoptr(OpImage) tile = op_image_new_from_file (path, NULL);
  OpImage *image = op_image_new (size, size);
  int tw = op_image_get_width (tile), th = op_image_get_height (tile);

  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x += tw)
      memcpy (op_image_get_data (image) + (gsize) y * size * 4 + (gsize) x * 4,
              op_image_peek_data (tile) + (gsize) (y % th) * tw * 4,
              (gsize) MIN (tw, size - x) * 4);

  return image;
}

static double
redraw (GtkWidget *canvas)
{
  int w = gtk_widget_get_width (canvas), h = gtk_widget_get_height (canvas);
  gint64 t0 = g_get_monotonic_time ();
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GskRenderNode *node;
  cairo_surface_t *surface;
  cairo_t *cr;

  GTK_WIDGET_GET_CLASS (canvas)->snapshot (canvas, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cr = cairo_create (surface);
  if (node != NULL)
    gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  g_clear_pointer (&node, gsk_render_node_unref);

  return (g_get_monotonic_time () - t0) / 1e6;
}

int
main (int   argc,
      char *argv[])
{
  int size = argc > 1 ? atoi (argv[1]) : 8192;
  g_autoptr(OpDocument) doc = op_document_new ();
  g_autoptr(OpImage) image = NULL;
  GtkWidget *window, *canvas;
  OpBrush brush = { 150, 0.8, 1.0, 0.1, OP_MASK_MODE_ADD };
  double dabs[1000], draws[20];
  guint n_tiles = 0;

  gtk_init ();
  image = make_picture (size);
  op_document_set_image (doc, image, NULL);

  window = gtk_window_new ();
  canvas = op_canvas_new (doc);
  gtk_window_set_child (GTK_WINDOW (window), canvas);
  gtk_window_set_default_size (GTK_WINDOW (window), 1600, 1000);
  gtk_window_present (GTK_WINDOW (window));
  {
    gint64 t0 = g_get_monotonic_time ();

    while (gtk_widget_get_width (canvas) == 0 || !_op_canvas_has_pyramid (OP_CANVAS (canvas)))
      g_main_context_iteration (NULL, TRUE);
    g_print ("window shown and zoom pyramid built (off the main loop) in %.0f ms\n",
             (g_get_monotonic_time () - t0) / 1e3);
  }
  _op_canvas_update_mask_tiles (OP_CANVAS (canvas), TRUE);

  g_print ("picture %d × %d, canvas %d × %d, tile %d px\n", size, size,
           gtk_widget_get_width (canvas), gtk_widget_get_height (canvas), OP_TILE_SIZE);

  /* 1000 dabs of a 300 px brush: a stroke with spacing 0.1 places one dab per 30 px.
   * Once with the view at fit zoom (overlay tiles from the pyramid), once at 100 %. */
  for (int pass = 0; pass < 2; pass++)
    {
      g_autofree char *label = NULL;

      if (pass == 0)
        op_canvas_zoom_to_fit (OP_CANVAS (canvas));
      else
        op_canvas_set_zoom (OP_CANVAS (canvas), 1.0);
      /* bring this level's overlay up to date with the first stroke before timing */
      _op_canvas_update_mask_tiles (OP_CANVAS (canvas), TRUE);
      n_tiles = 0;

      op_document_stroke_begin (doc, &brush, 200, 200, 1.0);
      for (int i = 0; i < 1000; i++)
        {
          double t = i / 999.0;
          double x = 200 + t * (size - 400);
          double y = size / 2.0 + sin (t * 12 * G_PI) * size / 3.0;
          gint64 t0 = g_get_monotonic_time ();

          op_document_stroke_to (doc, x, y, 1.0);
          n_tiles += _op_canvas_update_mask_tiles (OP_CANVAS (canvas), TRUE);
          dabs[i] = (g_get_monotonic_time () - t0) / 1e6;
        }
      op_document_stroke_end (doc);
      label = g_strdup_printf ("stroke step at %.1f %% (mask + tiles)",
                               op_canvas_get_zoom (OP_CANVAS (canvas)) * 100);
      g_print ("%u overlay tiles rebuilt, undo history %.1f MiB\n", n_tiles,
               op_document_get_undo_bytes (doc) / 1048576.0);
      report (label, dabs, 1000, "us", 1e6);
    }

  op_canvas_zoom_to_fit (OP_CANVAS (canvas));
  g_print ("fit zoom %.1f %%\n", op_canvas_get_zoom (OP_CANVAS (canvas)) * 100);
  redraw (canvas);
  for (int i = 0; i < 20; i++)
    draws[i] = redraw (canvas);
  report ("full redraw at fit zoom", draws, 20, "ms", 1e3);

  op_canvas_set_zoom (OP_CANVAS (canvas), 1.0);
  redraw (canvas);
  for (int i = 0; i < 20; i++)
    draws[i] = redraw (canvas);
  report ("full redraw at 100%", draws, 20, "ms", 1e3);

  op_canvas_set_zoom (OP_CANVAS (canvas), 4.0);
  redraw (canvas);
  for (int i = 0; i < 20; i++)
    draws[i] = redraw (canvas);
  report ("full redraw at 400% (nearest)", draws, 20, "ms", 1e3);

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
