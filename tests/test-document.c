/* test-document.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

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

  op_document_export_async (doc, file, NULL, on_ready_cb, &result);
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

  op_document_export_async (doc, file, NULL, on_ready_cb, &result);
  g_assert_false (op_document_export_finish (doc, wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
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

  return g_test_run ();
}
