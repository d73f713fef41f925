/* test-compare-view.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "op-compare-view.h"
#include "op-document.h"

#define RED   0xff0000ffu
#define BLUE  0x0000ffffu
#define GREEN 0x00ff00ffu

typedef struct
{
  OpDocument *document;
  OpCompareView *view;
  GtkWindow *window;
  OpImage *picture;
  GPtrArray *variants;     /* red, blue, green over the same rectangle */

  GPtrArray *picked;
  GPtrArray *discarded;
  guint n_closed;
} Fixture;

static const OpRect patch_rect = { 100, 80, 120, 90 };

static void
wait_until (gboolean (*ready) (Fixture *), Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!ready (f))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
fill (guint8  *px,
      gsize    n,
      guint32  rgba)
{
  for (gsize i = 0; i < n; i++)
    {
      px[4 * i + 0] = rgba >> 24;
      px[4 * i + 1] = (rgba >> 16) & 0xff;
      px[4 * i + 2] = (rgba >> 8) & 0xff;
      px[4 * i + 3] = rgba & 0xff;
    }
}

/* A variant of one solid colour over @rect, extended by @margins. */
static OpVersion *
solid_variant (OpVersion       *parent,
               const OpMargins *margins,
               const OpRect    *rect,
               OpMask          *blend,
               guint32          rgba,
               gint64           seed,
               guint            generation)
{
  g_autoptr(OpImage) patch = op_image_new (rect->width, rect->height);
  g_autoptr(OpParams) params = op_params_new ();

  fill (op_image_get_data (patch), (gsize) rect->width * rect->height, rgba);
  return op_version_new_variant (parent, margins, patch, rect, blend, params, seed, generation);
}

static gboolean
is_allocated (Fixture *f)
{
  return gtk_widget_get_width (GTK_WIDGET (f->view)) > 0;
}

static void
on_pick_cb (OpCompareView *view,
            OpVersion     *version,
            Fixture       *f)
{
  g_ptr_array_add (f->picked, version);
}

static void
on_discard_cb (OpCompareView *view,
               OpVersion     *version,
               Fixture       *f)
{
  g_ptr_array_add (f->discarded, version);
}

static void
on_close_cb (OpCompareView *view,
             Fixture       *f)
{
  f->n_closed++;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), "chelsea.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpMask) blend = op_mask_new (patch_rect.width, patch_rect.height);
  static const guint32 colors[] = { RED, BLUE, GREEN };
  OpMargins none = { 0, };
  guint generation;

  f->picture = op_image_new_from_file (path, &error);
  g_assert_no_error (error);
  f->document = op_document_new ();
  op_document_set_image (f->document, f->picture, NULL);

  memset (op_mask_get_data (blend), 255, (gsize) patch_rect.width * patch_rect.height);
  generation = op_document_new_generation (f->document);
  f->variants = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
    g_ptr_array_add (f->variants,
                     solid_variant (op_document_get_root (f->document), &none, &patch_rect,
                                    blend, colors[i], 42 + i, generation));
  op_document_add_variants (f->document, op_document_get_root (f->document), f->variants);

  f->picked = g_ptr_array_new ();
  f->discarded = g_ptr_array_new ();

  f->view = OP_COMPARE_VIEW (op_compare_view_new ());
  g_signal_connect (f->view, "pick", G_CALLBACK (on_pick_cb), f);
  g_signal_connect (f->view, "discard", G_CALLBACK (on_discard_cb), f);
  g_signal_connect (f->view, "close", G_CALLBACK (on_close_cb), f);
  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 960, 400);
  gtk_window_set_child (f->window, GTK_WIDGET (f->view));
  gtk_window_present (f->window);
  wait_until (is_allocated, f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_object_add_weak_pointer (G_OBJECT (f->view), (gpointer *) &f->view);
  gtk_window_destroy (f->window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (f->view);
  g_ptr_array_unref (f->picked);
  g_ptr_array_unref (f->discarded);
  g_ptr_array_unref (f->variants);
  g_assert_finalize_object (f->document);
  op_image_unref (f->picture);
}

/* The view drawn as the renderer would, read back as cairo ARGB32. */
static cairo_surface_t *
render (Fixture *f)
{
  int width = gtk_widget_get_width (GTK_WIDGET (f->view));
  int height = gtk_widget_get_height (GTK_WIDGET (f->view));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;

  GTK_WIDGET_GET_CLASS (f->view)->snapshot (GTK_WIDGET (f->view), snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  if (node != NULL)
    gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

static guint32
pixel_at (cairo_surface_t *surface,
          double           x,
          double           y)
{
  guint8 *px = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  g_assert_cmpfloat (x, >=, 0);
  g_assert_cmpfloat (y, >=, 0);
  g_assert_cmpfloat (x, <, cairo_image_surface_get_width (surface));
  g_assert_cmpfloat (y, <, cairo_image_surface_get_height (surface));

  return *(guint32 *) (px + (int) y * stride + (int) x * 4) & 0xffffff;
}

/* The colour picture pixel (@x, @y) of the @index-th picture shows as. */
static guint32
picture_pixel (Fixture         *f,
               cairo_surface_t *surface,
               guint            index,
               double           x,
               double           y)
{
  double wx, wy;

  op_compare_view_image_to_widget (f->view, index, x + 0.5, y + 0.5, &wx, &wy);
  return pixel_at (surface, wx, wy);
}

/* Whether a drawn pixel is the picture's, give or take the filtering of a zoomed out
 * photo. */
static gboolean
looks_like (guint32  rgb,
            OpImage *picture,
            int      x,
            int      y)
{
  const guint8 *px = op_image_peek_data (picture) +
                     (gsize) y * op_image_get_stride (picture) + (gsize) x * 4;
  int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;

  g_test_message ("drawn %06x, picture %02x%02x%02x", rgb, px[0], px[1], px[2]);
  return ABS (r - px[0]) < 48 && ABS (g - px[1]) < 48 && ABS (b - px[2]) < 48;
}

static void
show_three (Fixture *f)
{
  op_compare_view_set_versions (f->view, (OpVersion **) f->variants->pdata, 3);
  gtk_widget_queue_allocate (GTK_WIDGET (f->view));
  /* let the size allocation fit the pictures */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_cells (Fixture       *f,
            gconstpointer  data)
{
  cairo_surface_t *surface;
  double x0, y0, x1, y1;

  show_three (f);
  g_assert_cmpuint (op_compare_view_get_n_versions (f->view), ==, 3);
  g_assert_false (op_compare_view_get_wipe (f->view));
  g_assert_true (op_compare_view_get_version (f->view, 1) == f->variants->pdata[1]);

  /* three cells side by side: the same picture point lies a cell width apart */
  op_compare_view_image_to_widget (f->view, 0, 10, 10, &x0, &y0);
  op_compare_view_image_to_widget (f->view, 1, 10, 10, &x1, &y1);
  g_assert_cmpfloat (y0, ==, y1);
  g_assert_cmpfloat (x1 - x0, >, 300);

  surface = render (f);
  /* the patch differs: red, blue, green */
  g_assert_cmphex (picture_pixel (f, surface, 0, 160, 125), ==, 0xff0000);
  g_assert_cmphex (picture_pixel (f, surface, 1, 160, 125), ==, 0x0000ff);
  g_assert_cmphex (picture_pixel (f, surface, 2, 160, 125), ==, 0x00ff00);
  /* outside it the pictures are the same, drawn the same */
  g_assert_cmphex (picture_pixel (f, surface, 0, 400, 250), ==,
                   picture_pixel (f, surface, 1, 400, 250));
  g_assert_cmphex (picture_pixel (f, surface, 0, 400, 250), ==,
                   picture_pixel (f, surface, 2, 400, 250));
  cairo_surface_destroy (surface);
}

static void
test_zoom_synchronized (Fixture       *f,
                        gconstpointer  data)
{
  double x0, y0, x1, y1, zoom;
  cairo_surface_t *surface;

  show_three (f);
  zoom = op_compare_view_get_zoom (f->view);
  g_assert_cmpfloat (zoom, <, 1.0);   /* fitted: 451 px in a ~320 px cell */

  /* zooming in the second cell keeps its point still, and every cell follows */
  op_compare_view_image_to_widget (f->view, 1, 160, 125, &x1, &y1);
  op_compare_view_zoom_at (f->view, 4.0, x1, y1);
  g_assert_cmpfloat (op_compare_view_get_zoom (f->view), ==, 4.0);
  op_compare_view_image_to_widget (f->view, 1, 160, 125, &x0, &y0);
  g_assert_cmpfloat_with_epsilon (x0, x1, 1.0);
  g_assert_cmpfloat_with_epsilon (y0, y1, 1.0);
  op_compare_view_image_to_widget (f->view, 1, 160, 125, &x1, &y1);
  op_compare_view_image_to_widget (f->view, 0, 160, 125, &x0, &y0);
  g_assert_cmpfloat (y0, ==, y1);
  g_assert_cmpfloat (x1 - x0, >, 300);

  surface = render (f);
  g_assert_cmphex (picture_pixel (f, surface, 0, 160, 125), ==, 0xff0000);
  g_assert_cmphex (picture_pixel (f, surface, 1, 160, 125), ==, 0x0000ff);
  g_assert_cmphex (picture_pixel (f, surface, 2, 160, 125), ==, 0x00ff00);
  cairo_surface_destroy (surface);

  /* panning moves all of them */
  op_compare_view_pan (f->view, 30, -20);
  op_compare_view_image_to_widget (f->view, 2, 160, 125, &x1, &y1);
  op_compare_view_image_to_widget (f->view, 0, 160, 125, &x0, &y0);
  g_assert_cmpfloat (y0, ==, y1);

  /* keys: fit, zoom in and out on the √2 ladder, 100 % */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "compare.zoom-fit", NULL));
  g_assert_cmpfloat_with_epsilon (op_compare_view_get_zoom (f->view), zoom, 1e-9);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "compare.zoom-100", NULL));
  g_assert_cmpfloat (op_compare_view_get_zoom (f->view), ==, 1.0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "compare.zoom-in", NULL));
  g_assert_cmpfloat_with_epsilon (op_compare_view_get_zoom (f->view), G_SQRT2, 1e-9);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "compare.zoom-out", NULL));
  g_assert_cmpfloat_with_epsilon (op_compare_view_get_zoom (f->view), 1.0, 1e-9);

  /* nonsense is ignored, extremes clamped */
  op_compare_view_zoom_at (f->view, NAN, 10, 10);
  g_assert_cmpfloat_with_epsilon (op_compare_view_get_zoom (f->view), 1.0, 1e-9);
  op_compare_view_zoom_at (f->view, 1e9, 10, 10);
  g_assert_cmpfloat (op_compare_view_get_zoom (f->view), ==, 64.0);
}

static void
test_keys (Fixture       *f,
           gconstpointer  data)
{
  GtkWidget *view = GTK_WIDGET (f->view);

  show_three (f);
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 0);

  /* arrows move the focus within the row */
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 1);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 2);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 0, 1));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 2);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", -1, 0));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 1);

  /* Enter picks the focused one, a digit the one with that number */
  g_assert_true (gtk_widget_activate_action (view, "compare.pick", NULL));
  g_assert_cmpuint (f->picked->len, ==, 1);
  g_assert_true (f->picked->pdata[0] == f->variants->pdata[1]);
  g_assert_true (gtk_widget_activate_action (view, "compare.pick-number", "u", 3));
  g_assert_cmpuint (f->picked->len, ==, 2);
  g_assert_true (f->picked->pdata[1] == f->variants->pdata[2]);

  /* Delete discards the focused one; the view does not change by itself */
  g_assert_true (gtk_widget_activate_action (view, "compare.discard", NULL));
  g_assert_cmpuint (f->discarded->len, ==, 1);
  g_assert_true (f->discarded->pdata[0] == f->variants->pdata[1]);

  g_assert_true (gtk_widget_activate_action (view, "compare.close", NULL));
  g_assert_cmpuint (f->n_closed, ==, 1);

  /* the window answers a discard by showing what is left; the focus stays put */
  op_compare_view_set_versions (f->view,
                                (OpVersion *[]) { f->variants->pdata[0], f->variants->pdata[2] },
                                2);
  g_assert_cmpuint (op_compare_view_get_n_versions (f->view), ==, 2);
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 0);
  op_compare_view_set_focused_index (f->view, 1);
  op_compare_view_set_versions (f->view, (OpVersion **) f->variants->pdata, 3);
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 2);
}

static void
test_grid (Fixture       *f,
           gconstpointer  data)
{
  OpVersion *four[4] = { op_document_get_root (f->document), f->variants->pdata[0],
                         f->variants->pdata[1], f->variants->pdata[2] };
  GtkWidget *view = GTK_WIDGET (f->view);
  double x0, y0, x2, y2;

  op_compare_view_set_versions (f->view, four, 4);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* 2 × 2: the third sits under the first */
  op_compare_view_image_to_widget (f->view, 0, 10, 10, &x0, &y0);
  op_compare_view_image_to_widget (f->view, 2, 10, 10, &x2, &y2);
  g_assert_cmpfloat (x0, ==, x2);
  g_assert_cmpfloat (y2, >, y0);

  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 0, 1));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 2);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 3);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 0, -1));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 1);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", -1, 0));
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 0);

  /* the original cannot be discarded nor wiped against a parent */
  gtk_widget_activate_action (view, "compare.discard", NULL);
  gtk_widget_activate_action (view, "compare.toggle-wipe", NULL);
  g_assert_cmpuint (f->discarded->len, ==, 0);
  g_assert_false (op_compare_view_get_wipe (f->view));
}

static void
test_wipe (Fixture       *f,
           gconstpointer  data)
{
  GtkWidget *view = GTK_WIDGET (f->view);
  int width = gtk_widget_get_width (view);
  cairo_surface_t *surface;
  double x, y;

  show_three (f);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_true (gtk_widget_activate_action (view, "compare.toggle-wipe", NULL));
  g_assert_true (op_compare_view_get_wipe (f->view));
  g_assert_true (op_compare_view_get_focused (f->view) == f->variants->pdata[1]);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* the divider right of the patch: parent pixels show there */
  op_compare_view_image_to_widget (f->view, 1, 220, 0, &x, &y);
  op_compare_view_set_divider (f->view, (x + 20) / width);
  surface = render (f);
  op_compare_view_image_to_widget (f->view, 0, 160, 125, &x, &y);
  g_assert_true (looks_like (pixel_at (surface, x, y), f->picture, 160, 125));
  cairo_surface_destroy (surface);

  /* left of the patch: the variant's blue shows */
  op_compare_view_image_to_widget (f->view, 1, 100, 0, &x, &y);
  op_compare_view_set_divider (f->view, (x - 20) / width);
  surface = render (f);
  op_compare_view_image_to_widget (f->view, 1, 160, 125, &x, &y);
  g_assert_cmphex (pixel_at (surface, x, y), ==, 0x0000ff);
  cairo_surface_destroy (surface);

  /* actions pick and discard the variant; arrows step to the next variant */
  g_assert_true (gtk_widget_activate_action (view, "compare.pick", NULL));
  g_assert_true (f->picked->pdata[0] == f->variants->pdata[1]);
  g_assert_true (gtk_widget_activate_action (view, "compare.move", "(ii)", 1, 0));
  g_assert_true (op_compare_view_get_focused (f->view) == f->variants->pdata[2]);
  g_assert_cmpuint (op_compare_view_get_focused_index (f->view), ==, 2);
  g_assert_true (gtk_widget_activate_action (view, "compare.discard", NULL));
  g_assert_true (f->discarded->pdata[0] == f->variants->pdata[2]);

  /* W again: back side by side, the three of them */
  g_assert_true (gtk_widget_activate_action (view, "compare.toggle-wipe", NULL));
  g_assert_false (op_compare_view_get_wipe (f->view));
  g_assert_cmpuint (op_compare_view_get_n_versions (f->view), ==, 3);
}

/* An outpainted variant is larger than its parent: the wipe lines them up. */
static void
test_wipe_outpainted (Fixture       *f,
                      gconstpointer  data)
{
  OpVersion *root = op_document_get_root (f->document);
  OpMargins margins = { 40, 0, 30, 0 };
  OpRect rect = { 0, 0, 451 + 40, 300 + 30 };
  g_autoptr(OpMask) blend = op_mask_new (rect.width, rect.height);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  int width = gtk_widget_get_width (GTK_WIDGET (f->view));
  cairo_surface_t *surface;
  OpVersion *variant;
  guint32 before, after;
  double x, y;

  /* green margins, the parent untouched inside */
  memset (op_mask_get_data (blend), 255, (gsize) rect.width * rect.height);
  for (int row = 30; row < rect.height; row++)
    memset (op_mask_get_data (blend) + (gsize) row * rect.width + 40, 0, 451);
  variant = solid_variant (root, &margins, &rect, blend, GREEN, 7,
                           op_document_new_generation (f->document));
  g_ptr_array_add (versions, variant);
  op_document_add_variants (f->document, root, versions);

  op_compare_view_set_wipe (f->view, variant);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (op_compare_view_get_wipe (f->view));
  g_assert_cmpuint (op_compare_view_get_n_versions (f->view), ==, 2);

  /* the parent's pixel (200, 150) is the variant's (240, 180): the same place on screen */
  op_compare_view_image_to_widget (f->view, 0, 200, 150, &x, &y);
  {
    double vx, vy;

    op_compare_view_image_to_widget (f->view, 1, 240, 180, &vx, &vy);
    g_assert_cmpfloat_with_epsilon (vx, x, 1e-6);
    g_assert_cmpfloat_with_epsilon (vy, y, 1e-6);
  }

  /* with the divider just right and just left of that point, the picture is the same */
  op_compare_view_set_divider (f->view, (x + 30) / width);
  surface = render (f);
  before = pixel_at (surface, x, y);
  cairo_surface_destroy (surface);
  op_compare_view_set_divider (f->view, (x - 30) / width);
  surface = render (f);
  after = pixel_at (surface, x, y);
  g_assert_cmphex (before, ==, after);

  /* all "After": the margin is green */
  op_compare_view_image_to_widget (f->view, 1, 10, 100, &x, &y);
  op_compare_view_set_divider (f->view, 0.0);
  cairo_surface_destroy (surface);
  surface = render (f);
  g_assert_cmphex (pixel_at (surface, x, y), ==, 0x00ff00);
  cairo_surface_destroy (surface);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/compare-view/cells", test_cells);
  ADD ("/compare-view/zoom-synchronized", test_zoom_synchronized);
  ADD ("/compare-view/keys", test_keys);
  ADD ("/compare-view/grid", test_grid);
  ADD ("/compare-view/wipe", test_wipe);
  ADD ("/compare-view/wipe-outpainted", test_wipe_outpainted);
#undef ADD

  return g_test_run ();
}
