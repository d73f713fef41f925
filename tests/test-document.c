/* test-document.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "op-document.h"

static char *
sample_path (const char *name)
{
  return g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), name, NULL);
}

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static OpDocument *
load_sample (const char *name)
{
  OpDocument *doc = op_document_new ();
  g_autofree char *path = sample_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  op_document_load_async (doc, file, NULL, on_ready_cb, &result);
  g_assert_true (op_document_load_finish (doc, wait_for (&result), &error));
  g_assert_no_error (error);
  return doc;
}

static void
test_load_and_fail_keeps_document (void)
{
  g_autoptr(OpDocument) doc = load_sample ("coffee.png");
  OpImage *before = op_document_get_image (doc);
  g_autofree char *bad = g_test_build_filename (G_TEST_DIST, "data", "truncated.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (bad);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  OpBrush brush = { 20, 1, 1, 0.1, OP_MASK_MODE_ADD };
  g_autoptr(OpMask) mask_before = NULL;

  op_document_stroke_begin (doc, &brush, 100, 100, 1);
  op_document_stroke_to (doc, 200, 150, 1);
  op_document_stroke_end (doc);
  mask_before = op_mask_copy (op_document_get_mask (doc));

  op_document_load_async (doc, file, NULL, on_ready_cb, &result);
  g_assert_false (op_document_load_finish (doc, wait_for (&result), &error));
  g_assert_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_CORRUPT);

  /* the failed open touched nothing: same picture, same mask, same undo */
  g_assert_true (op_document_get_image (doc) == before);
  g_assert_true (op_mask_equal (mask_before, op_document_get_mask (doc)));
  g_assert_true (op_document_can_undo (doc));
  g_assert_cmpstr (g_file_peek_path (op_document_get_file (doc)), !=, bad);
}

typedef struct
{
  OpRect total;
  guint count;
} Changes;

static void
on_mask_changed_cb (OpDocument *doc,
                    int x, int y, int w, int h,
                    Changes    *changes)
{
  OpRect r = { x, y, w, h };

  op_rect_union (&changes->total, &r, &changes->total);
  changes->count++;
}

static void
test_stroke_undo_redo (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  OpBrush brush = { 10, 1, 1, 0.1, OP_MASK_MODE_ADD };
  Changes changes = { { 0, }, 0 };
  g_autoptr(OpMask) empty = op_mask_copy (op_document_get_mask (doc));
  g_autoptr(OpMask) painted = NULL;
  OpRect bounds;

  g_signal_connect (doc, "mask-changed", G_CALLBACK (on_mask_changed_cb), &changes);

  g_assert_false (op_document_can_undo (doc));
  op_document_stroke_begin (doc, &brush, 50, 50, 1);
  op_document_stroke_to (doc, 300, 50, 1);
  g_assert_false (op_document_can_undo (doc));   /* not until the stroke ends */
  op_document_stroke_end (doc);
  g_assert_true (op_document_can_undo (doc));
  g_assert_cmpuint (changes.count, >=, 2);

  g_assert_true (op_mask_get_bounds (op_document_get_mask (doc), &bounds));
  g_assert_cmpint (bounds.x, <=, 41);
  g_assert_cmpint (bounds.x + bounds.width, >=, 309);
  /* what was reported covers what changed */
  g_assert_cmpint (changes.total.x, <=, bounds.x);
  g_assert_cmpint (changes.total.x + changes.total.width, >=, bounds.x + bounds.width);

  painted = op_mask_copy (op_document_get_mask (doc));
  op_document_undo (doc);
  g_assert_true (op_mask_equal (empty, op_document_get_mask (doc)));
  g_assert_true (op_document_can_redo (doc));
  op_document_redo (doc);
  g_assert_true (op_mask_equal (painted, op_document_get_mask (doc)));
}

static void
test_whole_mask_ops_are_single_steps (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  g_autoptr(OpMask) empty = op_mask_copy (op_document_get_mask (doc));
  OpRect rect = { 10, 10, 50, 40 };
  double tri[] = { 100, 100, 200, 100, 150, 200 };

  op_document_fill_rect (doc, &rect, OP_MASK_MODE_ADD);
  op_document_fill_polygon (doc, tri, 3, OP_MASK_MODE_ADD);
  op_document_grow_mask (doc, 4);
  op_document_feather_mask (doc, 3);
  op_document_invert_mask (doc);
  op_document_select_all (doc);
  op_document_clear_mask (doc);

  for (int i = 0; i < 7; i++)
    {
      g_assert_true (op_document_can_undo (doc));
      op_document_undo (doc);
    }
  g_assert_false (op_document_can_undo (doc));
  g_assert_true (op_mask_equal (empty, op_document_get_mask (doc)));
}

static void
test_export_identical (void)
{
  g_autoptr(OpDocument) doc = load_sample ("astronaut.png");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-doc-XXXXXX", &error);
  g_autofree char *out = g_build_filename (dir, "out.png", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (out);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(OpImage) again = NULL;

  op_document_export_async (doc, file, NULL, NULL, on_ready_cb, &result);
  op_document_export_finish (doc, wait_for (&result), &error);
  g_assert_no_error (error);

  again = op_image_new_from_file (out, &error);
  g_assert_no_error (error);
  g_assert_true (op_image_equal (again, op_document_get_image (doc)));
  g_unlink (out);
  g_rmdir (dir);
}

static void
test_export_without_picture (void)
{
  g_autoptr(OpDocument) doc = op_document_new ();
  g_autoptr(GFile) file = g_file_new_for_path ("/tmp/never-written.png");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  op_document_export_async (doc, file, NULL, NULL, on_ready_cb, &result);
  g_assert_false (op_document_export_finish (doc, wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* A variant over @parent: a flat-coloured patch over a rectangle, fully blended. */
static OpVersion *
make_variant (OpVersion *parent,
              guint8     red,
              guint      generation)
{
  OpRect rect = { 40, 30, 100, 80 };
  g_autoptr(OpImage) patch = op_image_new (rect.width, rect.height);
  g_autoptr(OpMask) blend = op_mask_new (rect.width, rect.height);
  g_autoptr(OpParams) params = op_params_new ();
  static const OpMargins none = { 0, 0, 0, 0 };
  guint8 *px = op_image_get_data (patch);

  for (int i = 0; i < rect.width * rect.height; i++)
    {
      px[4 * i + 0] = red;
      px[4 * i + 1] = 10;
      px[4 * i + 2] = 20;
      px[4 * i + 3] = 255;
    }
  memset (op_mask_get_data (blend), 255, (gsize) rect.width * rect.height);

  return op_version_new_variant (parent, &none, patch, &rect, blend, params, 1000 + red,
                                 generation);
}

/* Swapped, so it gets the counter first; a signal's other arguments are ignored. */
static void
count_cb (guint *counter)
{
  (*counter)++;
}

static void
count_signal (gpointer    instance,
              const char *name,
              guint      *counter)
{
  g_signal_connect_swapped (instance, name, G_CALLBACK (count_cb), counter);
}

static void
test_variants_undo_redo (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  OpVersion *root = op_document_get_root (doc);
  g_autoptr(OpImage) original = op_image_copy (op_document_get_image (doc));
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  guint generation = op_document_new_generation (doc);
  guint changed = 0;
  const guint8 *px;

  count_signal (doc, "versions-changed", &changed);
  for (int i = 0; i < 3; i++)
    g_ptr_array_add (versions, make_variant (root, 100 + i, generation));

  op_document_add_variants (doc, root, versions);
  g_assert_cmpuint (op_version_get_n_children (root), ==, 3);
  g_assert_true (op_document_get_current (doc) == versions->pdata[0]);
  g_assert_cmpuint (changed, >=, 1);

  /* the composite: the patch inside, the original bit for bit outside */
  px = op_image_peek_data (op_document_get_image (doc));
  g_assert_cmpint (px[(50 * 451 + 60) * 4], ==, 100);
  g_assert_cmpmem (px, 451 * 4 * 30, op_image_peek_data (original), 451 * 4 * 30);

  op_document_set_current (doc, versions->pdata[2]);
  px = op_image_peek_data (op_document_get_image (doc));
  g_assert_cmpint (px[(50 * 451 + 60) * 4], ==, 102);

  op_document_discard (doc, versions->pdata[2]);
  g_assert_cmpuint (op_version_get_n_children (root), ==, 2);
  g_assert_true (op_document_get_current (doc) == versions->pdata[1]);

  op_document_use_as_base (doc);
  g_assert_true (op_document_get_root (doc) != root);
  g_assert_true (op_version_is_root (op_document_get_current (doc)));
  g_assert_nonnull (op_version_get_params (op_document_get_current (doc)));

  /* undo all four steps: back to the original picture, alone */
  op_document_undo (doc);
  g_assert_true (op_document_get_root (doc) == root);
  g_assert_true (op_document_get_current (doc) == versions->pdata[1]);
  op_document_undo (doc);
  g_assert_cmpuint (op_version_get_n_children (root), ==, 3);
  g_assert_true (op_document_get_current (doc) == versions->pdata[2]);
  op_document_undo (doc);
  g_assert_true (op_document_get_current (doc) == versions->pdata[0]);
  op_document_undo (doc);
  g_assert_cmpuint (op_version_get_n_children (root), ==, 0);
  g_assert_true (op_document_get_current (doc) == root);
  g_assert_true (op_image_equal (op_document_get_image (doc), original));
  g_assert_false (op_document_can_undo (doc));

  /* and redo all of it */
  for (int i = 0; i < 4; i++)
    op_document_redo (doc);
  g_assert_true (op_document_get_root (doc) != root);
  g_assert_false (op_document_can_redo (doc));
}

static void
test_blend_mask_editing (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  OpVersion *root = op_document_get_root (doc);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(OpImage) original = op_image_copy (op_document_get_image (doc));
  OpRect erase = { 40, 30, 50, 80 };   /* the left half of the patch */
  guint pictures = 0;
  const guint8 *px;
  int ox, oy;

  g_ptr_array_add (versions, make_variant (root, 200, op_document_new_generation (doc)));
  op_document_add_variants (doc, root, versions);
  count_signal (doc, "picture-changed", &pictures);

  op_document_set_mask_target (doc, OP_MASK_TARGET_BLEND);
  g_assert_cmpint (op_document_get_mask_target (doc), ==, OP_MASK_TARGET_BLEND);
  op_document_get_mask_origin (doc, &ox, &oy);
  g_assert_cmpint (ox, ==, 40);
  g_assert_cmpint (oy, ==, 30);

  /* subtracting from the blend mask brings the original back there, bit for bit */
  op_document_fill_rect (doc, &erase, OP_MASK_MODE_SUBTRACT);
  g_assert_cmpuint (pictures, >=, 1);
  px = op_image_peek_data (op_document_get_image (doc));
  for (int y = 30; y < 110; y++)
    g_assert_cmpmem (px + (y * 451 + 40) * 4, 50 * 4,
                     op_image_peek_data (original) + (y * 451 + 40) * 4, 50 * 4);
  g_assert_cmpint (px[(50 * 451 + 120) * 4], ==, 200);

  /* a soft stroke on the blend mask: the picture updated in place over the stroke is
   * exactly what compositing from scratch gives */
  {
    OpBrush soft = { 25, 0.2, 0.6, 0.1, OP_MASK_MODE_SUBTRACT };
    OpVersion *v = op_document_get_current (doc);
    g_autoptr(OpImage) fresh = NULL;
    OpRect rect;

    op_document_stroke_begin (doc, &soft, 60, 40, 1);
    op_document_stroke_to (doc, 130, 100, 0.7);
    op_document_stroke_end (doc);
    op_version_get_rect (v, &rect);
    fresh = op_composite (op_version_get_composite (root), op_version_get_margins (v),
                          op_version_get_patch (v), &rect, op_version_get_blend (v));
    g_assert_true (op_image_equal (fresh, op_document_get_image (doc)));
    op_document_undo (doc);
  }

  /* undo reveals the result again */
  op_document_undo (doc);
  px = op_image_peek_data (op_document_get_image (doc));
  g_assert_cmpint (px[(50 * 451 + 60) * 4], ==, 200);

  /* on the original picture there is no blend mask to paint */
  op_document_set_current (doc, root);
  g_assert_cmpint (op_document_get_mask_target (doc), ==, OP_MASK_TARGET_BRUSH);
  op_document_set_mask_target (doc, OP_MASK_TARGET_BLEND);
  g_assert_cmpint (op_document_get_mask_target (doc), ==, OP_MASK_TARGET_BRUSH);
}

static void
test_margins (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  OpMargins m = { 10, 20, 0, 5 }, got;
  OpMargins bad = { -1, 0, 0, 0 };
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  int w, h;

  op_document_set_margins (doc, &m);
  op_document_get_margins (doc, &got);
  g_assert_cmpmem (&got, sizeof got, &m, sizeof m);

  /* a negative margin is refused and changes nothing */
  op_document_set_margins (doc, &bad);
  op_document_get_margins (doc, &got);
  g_assert_cmpmem (&got, sizeof got, &m, sizeof m);

  request = op_document_create_request (doc, params, &error);
  g_assert_no_error (error);
  op_request_get_canvas_size (request, &w, &h);
  g_assert_cmpint (w, ==, 451 + 30);
  g_assert_cmpint (h, ==, 300 + 5);

  op_document_undo (doc);
  op_document_get_margins (doc, &got);
  g_assert_cmpint (got.left + got.right + got.top + got.bottom, ==, 0);
}

static void
test_request_is_snapshot (void)
{
  g_autoptr(OpDocument) doc = load_sample ("chelsea.png");
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpMask) mask_then = NULL;
  g_autoptr(GError) error = NULL;
  OpRect rect = { 10, 10, 30, 30 }, more = { 100, 100, 30, 30 };

  request = op_document_create_request (doc, params, &error);
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
  g_clear_error (&error);

  op_document_fill_rect (doc, &rect, OP_MASK_MODE_ADD);
  request = op_document_create_request (doc, params, &error);
  g_assert_no_error (error);
  mask_then = op_mask_copy (op_request_get_mask (request));

  /* painting on after the request was made changes nothing in it */
  op_document_fill_rect (doc, &more, OP_MASK_MODE_ADD);
  g_assert_true (op_mask_equal (mask_then, op_request_get_mask (request)));
  g_assert_false (op_request_get_source (request) == op_document_get_image (doc));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/document/load/failure-keeps-document", test_load_and_fail_keeps_document);
  g_test_add_func ("/document/mask/stroke-undo-redo", test_stroke_undo_redo);
  g_test_add_func ("/document/mask/single-steps", test_whole_mask_ops_are_single_steps);
  g_test_add_func ("/document/export/identical", test_export_identical);
  g_test_add_func ("/document/export/no-picture", test_export_without_picture);
  g_test_add_func ("/document/versions/undo-redo", test_variants_undo_redo);
  g_test_add_func ("/document/versions/blend-mask", test_blend_mask_editing);
  g_test_add_func ("/document/margins", test_margins);
  g_test_add_func ("/document/request/snapshot", test_request_is_snapshot);

  return g_test_run ();
}
