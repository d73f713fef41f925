/* test-window.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "op-window.h"

#include <string.h>

typedef struct
{
  GSettings *settings;
  OpWindow *window;
  OpDocument *document;
  OpCanvas *canvas;
} Fixture;

/* ./build-aux/test.sh --sanitize runs the code about 3 times slower and says so here. */
static double
timeout_multiplier (void)
{
  const char *value = g_getenv ("OVERPAINT_TEST_TIMEOUT_MULTIPLIER");
  double multiplier = value != NULL ? g_ascii_strtod (value, NULL) : 1;

  return multiplier > 1 ? multiplier : 1;
}

static void
wait_until (gboolean (*ready) (Fixture *), Fixture *f)
{
  /* a guard against a hang, not a timing: the machine may be busy */
  gint64 deadline = g_get_monotonic_time () + 60 * timeout_multiplier () * G_USEC_PER_SEC;

  while (!ready (f))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
has_image_and_size (Fixture *f)
{
  return op_document_get_image (f->document) != NULL &&
         gtk_widget_get_width (GTK_WIDGET (f->canvas)) > 0;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), "coffee.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  f->settings = g_settings_new (APP_ID);
  f->window = op_window_new (NULL, f->settings);
  f->document = op_window_get_document (f->window);
  f->canvas = op_window_get_canvas (f->window);
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 700);
  gtk_window_present (GTK_WINDOW (f->window));

  op_window_open_file (f->window, file);
  wait_until (has_image_and_size, f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_object_add_weak_pointer (G_OBJECT (f->window), (gpointer *) &f->window);
  g_object_add_weak_pointer (G_OBJECT (f->canvas), (gpointer *) &f->canvas);
  g_object_add_weak_pointer (G_OBJECT (f->document), (gpointer *) &f->document);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while ((f->window != NULL || f->canvas != NULL || f->document != NULL) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (f->window);
  g_assert_null (f->canvas);
  g_assert_null (f->document);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->settings);
}

static guint
mask_count (OpDocument *doc)
{
  OpMask *mask = op_document_get_mask (doc);
  const guint8 *px = op_mask_peek_data (mask);
  gsize n = (gsize) op_mask_get_width (mask) * op_mask_get_height (mask);
  guint count = 0;

  for (gsize i = 0; i < n; i++)
    count += px[i] != 0;

  return count;
}

static void
stroke_image (Fixture *f,
              double   x0,
              double   y0,
              double   x1,
              double   y1)
{
  double wx, wy;

  op_canvas_image_to_widget (f->canvas, x0, y0, &wx, &wy);
  op_canvas_tool_begin (f->canvas, wx, wy, 1.0);
  op_canvas_image_to_widget (f->canvas, x1, y1, &wx, &wy);
  op_canvas_tool_motion (f->canvas, wx, wy, 1.0);
  op_canvas_tool_end (f->canvas);
}

static void
test_opens_sample (Fixture       *f,
                   gconstpointer  data)
{
  OpImage *image = op_document_get_image (f->document);

  g_assert_cmpint (op_image_get_width (image), ==, 600);
  g_assert_cmpint (op_image_get_height (image), ==, 400);
  /* fit zoom shows the whole picture */
  g_assert_cmpfloat (op_canvas_get_zoom (f->canvas) * 600, <=,
                     gtk_widget_get_width (GTK_WIDGET (f->canvas)));
}

static void
test_stroke_lands_and_undo (Fixture       *f,
                            gconstpointer  data)
{
  OpMask *mask;

  g_settings_set_string (f->settings, "tool", "brush");
  g_settings_set_double (f->settings, "brush-size", 30);
  g_assert_cmpuint (mask_count (f->document), ==, 0);

  stroke_image (f, 100, 100, 400, 100);
  mask = op_document_get_mask (f->document);
  g_assert_cmpuint (mask_count (f->document), >, 300 * 25);
  g_assert_cmpint (op_mask_peek_data (mask)[100 * 600 + 250], ==, 255);
  g_assert_cmpint (op_mask_peek_data (mask)[200 * 600 + 250], ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.undo", NULL));
  g_assert_cmpuint (mask_count (f->document), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.redo", NULL));
  g_assert_cmpint (op_mask_peek_data (mask)[100 * 600 + 250], ==, 255);
}

static void
test_rectangle_and_lasso_tools (Fixture       *f,
                                gconstpointer  data)
{
  double wx, wy;

  g_settings_set_string (f->settings, "tool", "rectangle");
  stroke_image (f, 10, 10, 110, 60);
  g_assert_cmpuint (mask_count (f->document), ==, 100 * 50);

  g_settings_set_string (f->settings, "selection-mode", "subtract");
  stroke_image (f, 10, 10, 60, 60);
  g_assert_cmpuint (mask_count (f->document), ==, 50 * 50);
  g_settings_set_string (f->settings, "selection-mode", "add");

  g_settings_set_string (f->settings, "tool", "lasso");
  op_canvas_image_to_widget (f->canvas, 300, 300, &wx, &wy);
  op_canvas_tool_begin (f->canvas, wx, wy, 1);
  op_canvas_image_to_widget (f->canvas, 400, 300, &wx, &wy);
  op_canvas_tool_motion (f->canvas, wx, wy, 1);
  op_canvas_image_to_widget (f->canvas, 400, 380, &wx, &wy);
  op_canvas_tool_motion (f->canvas, wx, wy, 1);
  op_canvas_tool_end (f->canvas);
  /* a right triangle of legs 100 and 80 */
  g_assert_cmpuint (mask_count (f->document), >, 50 * 50 + 3900);
  g_assert_cmpuint (mask_count (f->document), <, 50 * 50 + 4100);
}

static void
test_overlay_drawn (Fixture       *f,
                    gconstpointer  data)
{
  int width = gtk_widget_get_width (GTK_WIDGET (f->canvas));
  int height = gtk_widget_get_height (GTK_WIDGET (f->canvas));
  GtkSnapshot *snapshot;
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  double wx, wy;
  guint8 *px;
  int stride;
  guint32 painted, plain;

  g_settings_set_string (f->settings, "tool", "brush");
  g_settings_set_string (f->settings, "mask-color", "#ff0000");
  g_settings_set_double (f->settings, "mask-opacity", 1.0);
  g_settings_set_double (f->settings, "brush-size", 40);
  stroke_image (f, 50, 300, 550, 300);

  snapshot = gtk_snapshot_new ();
  GTK_WIDGET_GET_CLASS (f->canvas)->snapshot (GTK_WIDGET (f->canvas), snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  px = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);

  op_canvas_image_to_widget (f->canvas, 300, 300, &wx, &wy);
  painted = *(guint32 *) (px + (int) wy * stride + (int) wx * 4);
  op_canvas_image_to_widget (f->canvas, 300, 100, &wx, &wy);
  plain = *(guint32 *) (px + (int) wy * stride + (int) wx * 4);
  cairo_surface_destroy (surface);

  g_test_message ("painted %08x plain %08x", painted, plain);
  g_assert_cmpuint ((painted >> 16) & 0xff, >=, 250);   /* opaque red overlay */
  g_assert_cmpuint ((painted >> 8) & 0xff, <=, 5);
  g_assert_cmpuint ((plain >> 16) & 0xff, !=, 0xff);

  /* hidden overlay: the picture shows through */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->canvas), "canvas.toggle-mask", NULL));
  g_assert_false (g_settings_get_boolean (f->settings, "mask-visible"));
}

static guint32
render_pixel (Fixture *f,
              double   image_x,
              double   image_y)
{
  int width = gtk_widget_get_width (GTK_WIDGET (f->canvas));
  int height = gtk_widget_get_height (GTK_WIDGET (f->canvas));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  double wx, wy;
  guint32 pixel;

  GTK_WIDGET_GET_CLASS (f->canvas)->snapshot (GTK_WIDGET (f->canvas), snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  op_canvas_image_to_widget (f->canvas, image_x, image_y, &wx, &wy);
  pixel = *(guint32 *) (cairo_image_surface_get_data (surface) +
                        (int) wy * cairo_image_surface_get_stride (surface) + (int) wx * 4);
  cairo_surface_destroy (surface);

  return pixel;
}

static void
test_context_overlay (Fixture       *f,
                      gconstpointer  data)
{
  OpRect context = { 100, 100, 200, 150 };
  guint32 before, after, inside_before, inside_after;

  before = render_pixel (f, 500, 350);
  inside_before = render_pixel (f, 150, 150);
  op_canvas_set_context (f->canvas, &context, NULL);
  after = render_pixel (f, 500, 350);
  inside_after = render_pixel (f, 150, 150);

  g_test_message ("outside %08x -> %08x, inside %08x -> %08x", before, after,
                  inside_before, inside_after);
  /* outside the context is dimmed, inside it is untouched */
  g_assert_cmpuint ((after >> 8) & 0xff, <, ((before >> 8) & 0xff));
  g_assert_cmpuint (inside_after, ==, inside_before);
}

static void
test_zoom (Fixture       *f,
           gconstpointer  data)
{
  double ix, iy, wx, wy;

  op_canvas_set_zoom (f->canvas, 1.0);
  g_assert_cmpfloat (op_canvas_get_zoom (f->canvas), ==, 1.0);
  op_canvas_zoom_in (f->canvas);
  g_assert_cmpfloat_with_epsilon (op_canvas_get_zoom (f->canvas), G_SQRT2, 1e-9);
  op_canvas_zoom_in (f->canvas);
  g_assert_cmpfloat_with_epsilon (op_canvas_get_zoom (f->canvas), 2.0, 1e-9);
  op_canvas_zoom_out (f->canvas);
  op_canvas_zoom_out (f->canvas);
  g_assert_cmpfloat_with_epsilon (op_canvas_get_zoom (f->canvas), 1.0, 1e-9);

  /* zooming around a point keeps it still */
  op_canvas_widget_to_image (f->canvas, 123, 77, &ix, &iy);
  op_canvas_zoom_at (f->canvas, 5.0, 123, 77);
  op_canvas_image_to_widget (f->canvas, ix, iy, &wx, &wy);
  g_assert_cmpfloat_with_epsilon (wx, 123, 1e-6);
  g_assert_cmpfloat_with_epsilon (wy, 77, 1e-6);

  /* out of range and bad values are clamped or ignored */
  op_canvas_set_zoom (f->canvas, 1e9);
  g_assert_cmpfloat (op_canvas_get_zoom (f->canvas), ==, OP_CANVAS_ZOOM_MAX);
  op_canvas_set_zoom (f->canvas, NAN);
  g_assert_cmpfloat (op_canvas_get_zoom (f->canvas), ==, OP_CANVAS_ZOOM_MAX);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->canvas), "canvas.zoom-fit", NULL));
  g_assert_cmpfloat (op_canvas_get_zoom (f->canvas), <, 2.0);

  /* brush size keys */
  g_settings_set_double (f->settings, "brush-size", 50);
  gtk_widget_activate_action (GTK_WIDGET (f->canvas), "canvas.brush-larger", NULL);
  g_assert_cmpfloat (g_settings_get_double (f->settings, "brush-size"), ==, 60);
  gtk_widget_activate_action (GTK_WIDGET (f->canvas), "canvas.brush-smaller", NULL);
  g_assert_cmpfloat (g_settings_get_double (f->settings, "brush-size"), ==, 50);
}

static void
on_export_done_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
}

static gboolean
file_exists (Fixture *f)
{
  const char *path = g_object_get_data (G_OBJECT (f->window), "test-export");

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_export_identical (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-window-XXXXXX", &error);
  g_autofree char *out = g_build_filename (dir, "export.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (out);
  g_autoptr(OpImage) again = NULL;

  (void) on_export_done_cb;
  stroke_image (f, 10, 10, 200, 200);   /* the mask is not part of the picture */
  g_object_set_data (G_OBJECT (f->window), "test-export", out);
  op_window_export_file (f->window, file);
  wait_until (file_exists, f);

  again = op_image_new_from_file (out, &error);
  g_assert_no_error (error);
  g_assert_true (op_image_equal (again, op_document_get_image (f->document)));
  g_unlink (out);
  g_rmdir (dir);
}

static gboolean
idle_settled (Fixture *f)
{
  static int n;

  return ++n % 200 == 0;
}

static void
test_bad_open_keeps_document (Fixture       *f,
                              gconstpointer  data)
{
  static const char *bad[] = { "empty.png", "truncated.png", "huge-declared.png", "not-an-image.png" };
  OpImage *before = op_document_get_image (f->document);

  stroke_image (f, 100, 100, 200, 100);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", bad[i], NULL);
      g_autoptr(GFile) file = g_file_new_for_path (path);
      guint count = mask_count (f->document);

      g_test_expect_message ("op-window", G_LOG_LEVEL_WARNING, "*");
      op_window_open_file (f->window, file);
      wait_until (idle_settled, f);
      g_test_assert_expected_messages ();

      g_assert_true (op_document_get_image (f->document) == before);
      g_assert_cmpuint (mask_count (f->document), ==, count);
    }
}

static gboolean
has_variants (Fixture *f)
{
  OpVersion *current = op_document_get_current (f->document);

  return current != NULL && !op_version_is_root (current);
}

static void
test_generate_end_to_end (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(OpImage) source = op_image_copy (op_document_get_image (f->document));
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-window-XXXXXX", &error);
  g_autofree char *out = g_build_filename (dir, "generated.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (out);
  g_autoptr(OpImage) exported = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GHashTable) texts = NULL;
  OpVersion *current, *root;
  OpRect rect;
  const guint8 *blend;
  const char *parameters;
  guint outside = 0;

  g_settings_set_string (f->settings, "tool", "rectangle");
  stroke_image (f, 420, 200, 480, 260);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.generate", NULL));
  wait_until (has_variants, f);

  current = op_document_get_current (f->document);
  root = op_version_get_parent (current);
  g_assert_cmpuint (op_version_get_n_children (root), ==, 4);   /* the default variant count */
  g_assert_true (op_version_get_seed (op_version_get_child (root, 0)) !=
                 op_version_get_seed (op_version_get_child (root, 1)));

  g_object_set_data (G_OBJECT (f->window), "test-export", out);
  op_window_export_file (f->window, file);
  wait_until (file_exists, f);
  exported = op_image_new_from_file (out, &error);
  g_assert_no_error (error);

  /* outside the blend mask the export equals the source, bit for bit */
  op_version_get_rect (current, &rect);
  blend = op_mask_peek_data (op_version_get_blend (current));
  for (int y = 0; y < 400; y++)
    for (int x = 0; x < 600; x++)
      {
        gboolean in_rect = x >= rect.x && y >= rect.y && x < rect.x + rect.width &&
                           y < rect.y + rect.height;

        if (in_rect && blend[(y - rect.y) * rect.width + (x - rect.x)] != 0)
          continue;
        g_assert_cmpmem (op_image_peek_data (exported) + (y * 600 + x) * 4, 4,
                         op_image_peek_data (source) + (y * 600 + x) * 4, 4);
        outside++;
      }
  g_assert_cmpuint (outside, >, 600 * 400 / 2);

  /* the metadata the Stable Diffusion web UI's PNG Info reads, and the IPTC source type */
  bytes = g_file_load_bytes (file, NULL, NULL, &error);
  texts = op_png_read_text (bytes, &error);
  g_assert_no_error (error);
  parameters = g_hash_table_lookup (texts, "parameters");
  g_assert_nonnull (parameters);
  g_assert_nonnull (strstr (parameters, "Seed: "));
  g_assert_nonnull (strstr (parameters, "Size: 600x400"));
  g_assert_nonnull (strstr (g_hash_table_lookup (texts, "XML:com.adobe.xmp"),
                            "compositeWithTrainedAlgorithmicMedia"));

  /* undo takes the whole generation away */
  op_document_undo (f->document);
  g_assert_true (op_version_is_root (op_document_get_current (f->document)));
  g_unlink (out);
  g_rmdir (dir);
}

static void
test_outpaint_margins (Fixture       *f,
                       gconstpointer  data)
{
  OpMargins m;

  /* dragging the right handle 100 px outward at the current zoom */
  op_canvas_drag_margin (f->canvas, GTK_POS_RIGHT, 100, 0);
  op_document_get_margins (f->document, &m);
  g_assert_cmpint (m.right, ==, (int) round (100 / op_canvas_get_zoom (f->canvas)));
  g_assert_cmpint (m.left + m.top + m.bottom, ==, 0);
  op_canvas_drag_margin (f->canvas, GTK_POS_RIGHT, -10000, 0);   /* back in, never below 0 */
  op_document_get_margins (f->document, &m);
  g_assert_cmpint (m.right, ==, 0);

  /* presets: 600×400 to 1:1 grows 100 px above and below; +25 % all around */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.margins-preset",
                                             "s", "1:1"));
  op_document_get_margins (f->document, &m);
  g_assert_cmpint (m.top, ==, 100);
  g_assert_cmpint (m.bottom, ==, 100);
  g_assert_cmpint (m.left + m.right, ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.margins-preset",
                                             "s", "+25"));
  op_document_get_margins (f->document, &m);
  g_assert_cmpint (m.left, ==, 150);
  g_assert_cmpint (m.top, ==, 100);

  /* generate the extension: the new picture is larger, the original sits inside it */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.generate", NULL));
  wait_until (has_variants, f);
  g_assert_cmpint (op_image_get_width (op_document_get_image (f->document)), ==, 900);
  g_assert_cmpint (op_image_get_height (op_document_get_image (f->document)), ==, 600);
  /* and the extended area is opaque: the fill covered it */
  g_assert_cmpint (op_image_peek_data (op_document_get_image (f->document))[3], ==, 255);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/window/opens-sample", Fixture, NULL, fixture_set_up, test_opens_sample,
              fixture_tear_down);
  g_test_add ("/window/canvas/stroke-undo", Fixture, NULL, fixture_set_up,
              test_stroke_lands_and_undo, fixture_tear_down);
  g_test_add ("/window/canvas/rectangle-lasso", Fixture, NULL, fixture_set_up,
              test_rectangle_and_lasso_tools, fixture_tear_down);
  g_test_add ("/window/canvas/overlay", Fixture, NULL, fixture_set_up, test_overlay_drawn,
              fixture_tear_down);
  g_test_add ("/window/canvas/zoom", Fixture, NULL, fixture_set_up, test_zoom,
              fixture_tear_down);
  g_test_add ("/window/canvas/context-overlay", Fixture, NULL, fixture_set_up,
              test_context_overlay, fixture_tear_down);
  g_test_add ("/window/export/identical", Fixture, NULL, fixture_set_up, test_export_identical,
              fixture_tear_down);
  g_test_add ("/window/generate/end-to-end", Fixture, NULL, fixture_set_up,
              test_generate_end_to_end, fixture_tear_down);
  g_test_add ("/window/generate/outpaint-margins", Fixture, NULL, fixture_set_up,
              test_outpaint_margins, fixture_tear_down);
  g_test_add ("/window/open/bad-files", Fixture, NULL, fixture_set_up,
              test_bad_open_keeps_document, fixture_tear_down);

  return g_test_run ();
}
