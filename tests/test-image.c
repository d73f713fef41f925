/* test-image.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "op-image.h"
#include "op-test-files.h"

static char *
sample_path (const char *name)
{
  const char *dir = g_getenv ("OVERPAINT_SAMPLES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
test_load_sample (void)
{
  g_autofree char *path = sample_path ("coffee.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = op_image_new_from_file (path, &error);
  const guint8 *px;

  g_assert_no_error (error);
  g_assert_nonnull (image);
  g_assert_cmpint (op_image_get_width (image), ==, 600);
  g_assert_cmpint (op_image_get_height (image), ==, 400);
  g_assert_cmpint (op_image_get_stride (image), ==, 2400);

  /* an RGB file loads opaque */
  px = op_image_peek_data (image);
  for (int i = 0; i < 600 * 400; i++)
    g_assert_cmpint (px[4 * i + 3], ==, 255);
}

typedef struct
{
  const char *file;
  int code;
  const char *words;   /* what the message must say, in plain words */
} BadFile;

static const BadFile bad_files[] = {
  { "empty.png", OP_IMAGE_ERROR_EMPTY, "empty" },
  { "not-an-image.png", OP_IMAGE_ERROR_NOT_AN_IMAGE, "not a picture" },
  { "truncated.png", OP_IMAGE_ERROR_CORRUPT, "damaged or incomplete" },
  { "truncated.jpg", OP_IMAGE_ERROR_CORRUPT, "damaged or incomplete" },
  { "huge-declared.png", OP_IMAGE_ERROR_TOO_LARGE, "too large (100000 × 100000" },
  { "too-wide.png", OP_IMAGE_ERROR_TOO_LARGE, "too large (20000 × 20" },
};

static void
test_bad_file (gconstpointer data)
{
  const BadFile *bad = data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", bad->file, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = NULL;

  image = op_image_new_from_file (path, &error);
  g_assert_null (image);
  g_assert_error (error, OP_IMAGE_ERROR, bad->code);
  g_test_message ("%s: %s", bad->file, error->message);
  g_assert_nonnull (strstr (error->message, bad->words));
  g_assert_nonnull (strstr (error->message, bad->file));
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = op_image_new_from_file ("/nonexistent/picture.png", &error);

  g_assert_null (image);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "picture.png"));
}

static void
test_wrong_extension_opens (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "jpeg-content.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = op_image_new_from_file (path, &error);

  /* the content decides, not the name */
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (image), ==, 60);
  g_assert_cmpint (op_image_get_height (image), ==, 40);
}

static void
test_exif_orientation (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "rotated.jpg", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = op_image_new_from_file (path, &error);

  /* stored 60×40 with orientation 6: shown upright as 40×60 */
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (image), ==, 40);
  g_assert_cmpint (op_image_get_height (image), ==, 60);
}

static void
test_icc_round_trip (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "with-icc.png", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) image = op_image_new_from_file (path, &error);
  g_autoptr(OpImage) again = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-image-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_nonnull (op_image_get_icc_profile (image));
  g_assert_cmpuint (g_bytes_get_size (op_image_get_icc_profile (image)), ==, 588);

  out = g_build_filename (dir, "out.png", NULL);
  g_assert_true (op_image_save_png (image, out, &error));
  g_assert_no_error (error);

  again = op_image_new_from_file (out, &error);
  g_assert_no_error (error);
  g_assert_true (op_image_equal (image, again));
  g_assert_true (g_bytes_equal (op_image_get_icc_profile (image),
                                op_image_get_icc_profile (again)));
  g_unlink (out);
  g_rmdir (dir);
}

static void
test_save_round_trip_alpha (void)
{
  g_autoptr(OpImage) image = op_image_new (37, 23);
  g_autoptr(OpImage) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-image-XXXXXX", &error);
  g_autofree char *out = g_build_filename (dir, "alpha.png", NULL);
  guint8 *px = op_image_get_data (image);

  for (int i = 0; i < 37 * 23 * 4; i++)
    px[i] = (guint8) (i * 7 + 3);
  for (int i = 0; i < 37 * 23; i++)
    px[4 * i + 3] = 255; 
  px[3] = 0;

  g_assert_true (op_image_save_png (image, out, &error));
  again = op_image_new_from_file (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_peek_data (again)[3], ==, 0);
  for (int i = 1; i < 37 * 23; i++)
    g_assert_cmpmem (op_image_peek_data (again) + 4 * i, 4, px + 4 * i, 4);
  g_unlink (out);
  g_rmdir (dir);
}

static void
test_save_atomic_failure_keeps_old (void)
{
  g_autoptr(OpImage) image = op_image_new (4, 4);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("op-image-XXXXXX", &error);
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "x.png", NULL);

  g_autofree char *old = g_build_filename (dir, "old.png", NULL);
  g_autofree char *contents = NULL;

  g_assert_false (op_image_save_png (image, missing, &error));
  g_assert_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "x.png"));
  g_clear_error (&error);

  /* an export over a file that cannot be replaced (even by root): a plain message, the
   * old file as it was, no temporary file left */
  g_assert_true (g_file_set_contents (old, "the old export", -1, NULL));
  if (op_test_make_immutable (old))
    {
      g_autofree char *left = NULL;

      g_assert_false (op_image_save_png (image, old, &error));
      op_test_set_immutable (old, FALSE);
      g_assert_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "read-only"));
      g_assert_true (g_file_get_contents (old, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "the old export");
      left = op_test_list_dir (dir);
      g_assert_cmpstr (left, ==, "old.png");
    }

  g_unlink (old);
  g_rmdir (dir);
}

static void
test_crop_and_copy (void)
{
  g_autofree char *path = sample_path ("chelsea.png");
  g_autoptr(OpImage) image = op_image_new_from_file (path, NULL);
  g_autoptr(OpImage) crop = op_image_crop (image, 10, 20, 30, 40);
  g_autoptr(OpImage) copy = op_image_copy (image);

  g_assert_true (op_image_equal (image, copy));
  g_assert_cmpint (op_image_get_width (crop), ==, 30);
  g_assert_cmpmem (op_image_peek_data (crop), 30 * 4,
                   op_image_peek_data (image) + 20 * op_image_get_stride (image) + 40, 30 * 4);
}

static void
test_png_text_chunks (void)
{
  g_autoptr(OpImage) image = op_image_new (8, 8);
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GHashTable) texts = NULL;
  g_autoptr(GError) error = NULL;
  const OpPngText chunks[] = {
    { "parameters", "a cat\nSteps: 30, Seed: 7", FALSE },
    { "Comment", "猫 — unicode goes to iTXt", FALSE },
    { "XML:com.adobe.xmp", "<x:xmpmeta/>", TRUE },
  };

  png = op_image_encode_png_with_text (image, chunks, G_N_ELEMENTS (chunks), &error);
  g_assert_no_error (error);
  texts = op_png_read_text (png, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (texts, "parameters"), ==, "a cat\nSteps: 30, Seed: 7");
  g_assert_cmpstr (g_hash_table_lookup (texts, "Comment"), ==, "猫 — unicode goes to iTXt");
  g_assert_cmpstr (g_hash_table_lookup (texts, "XML:com.adobe.xmp"), ==, "<x:xmpmeta/>");
}

static void
test_png_text_bad_input (void)
{
  g_autoptr(GBytes) junk = g_bytes_new_static ("not a png at all", 16);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "truncated.png", NULL);
  g_autoptr(GBytes) cut = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *texts;
  char *data;
  gsize len;

  texts = op_png_read_text (junk, &error);
  g_assert_null (texts);
  g_assert_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_NOT_AN_IMAGE);
  g_clear_error (&error);

  /* only the signature and half an IHDR */
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  cut = g_bytes_new_take (data, 20);
  texts = op_png_read_text (cut, &error);
  g_assert_null (texts);
  g_assert_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_CORRUPT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/load/sample", test_load_sample);
  for (guint i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autofree char *name = g_strdup_printf ("/image/load/bad/%s", bad_files[i].file);
      g_test_add_data_func (name, &bad_files[i], test_bad_file);
    }
  g_test_add_func ("/image/load/missing", test_missing_file);
  g_test_add_func ("/image/load/wrong-extension", test_wrong_extension_opens);
  g_test_add_func ("/image/load/exif-orientation", test_exif_orientation);
  g_test_add_func ("/image/save/icc-round-trip", test_icc_round_trip);
  g_test_add_func ("/image/save/alpha-round-trip", test_save_round_trip_alpha);
  g_test_add_func ("/image/save/failure", test_save_atomic_failure_keeps_old);
  g_test_add_func ("/image/crop-copy", test_crop_and_copy);
  g_test_add_func ("/image/png/text-chunks", test_png_text_chunks);
  g_test_add_func ("/image/png/text-bad-input", test_png_text_bad_input);

  return g_test_run ();
}
