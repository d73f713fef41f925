/* test-project.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "op-project.h"
#include "op-test-files.h"

static char *
sample_path (const char *name)
{
  return g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), name, NULL);
}

/* Deterministic noise: a patch no compression can flatter. */
static OpImage *
noise_image (int     width,
             int     height,
             guint32 seed,
             gboolean with_alpha)
{
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);
  GRand *rand = g_rand_new_with_seed (seed);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * op_image_get_stride (image) + 4 * x;

        p[0] = g_rand_int_range (rand, 0, 256);
        p[1] = g_rand_int_range (rand, 0, 256);
        p[2] = g_rand_int_range (rand, 0, 256);
        p[3] = with_alpha ? g_rand_int_range (rand, 0, 256) : 255;
      }

  g_rand_free (rand);
  return image;
}

static OpMask *
gradient_mask (int width,
               int height)
{
  OpMask *mask = op_mask_new (width, height);
  guint8 *data = op_mask_get_data (mask);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      data[y * width + x] = (guint8) ((x * 7 + y * 3) % 256);

  return mask;
}

static OpParams *
params_for (const char *prompt,
            gint64      seed)
{
  OpParams *params = op_params_new ();

  g_free (params->prompt);
  params->prompt = g_strdup (prompt);
  g_free (params->negative_prompt);
  params->negative_prompt = g_strdup ("blurry, “quoted” — ünïcode");
  g_free (params->model);
  params->model = g_strdup ("sd_xl_base_1.0.safetensors");
  params->seed = seed;
  params->steps = 33;
  params->cfg = 6.55;
  params->strength = 0.8123456789;
  params->mask_grow = -3;
  params->mask_feather = 12;
  params->context = OP_CONTEXT_MASKED;
  params->padding = 48;
  params->color_match = FALSE;
  params->n_variants = 2;
  return params;
}

static OpVersion *
add_variant (OpDocument      *doc,
             OpVersion       *parent,
             const OpMargins *margins,
             int              seed)
{
  int width = op_version_get_width (parent) + margins->left + margins->right;
  int height = op_version_get_height (parent) + margins->top + margins->bottom;
  OpRect rect = { width / 4, height / 5, width / 2, height / 3 };
  g_autoptr(OpImage) patch = noise_image (rect.width, rect.height, seed, seed % 2 == 0);
  g_autoptr(OpMask) blend = gradient_mask (rect.width, rect.height);
  g_autofree char *prompt = g_strdup_printf ("a red kite over the dunes, take %d", seed);
  g_autoptr(OpParams) params = params_for (prompt, seed);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  OpVersion *variant;

  variant = op_version_new_variant (parent, margins, patch, &rect, blend, params, 1000 + seed,
                                    op_document_new_generation (doc));
  g_ptr_array_add (versions, variant);
  op_document_add_variants (doc, parent, versions);
  return variant;
}

/* A tree: root → A (outpainted) → A1, A2; root → B; painted brush masks; a blend edit. */
static OpDocument *
make_project (void)
{
  static const OpMargins none = { 0, 0, 0, 0 };
  static const OpMargins wider = { 32, 16, 0, 8 };
  static const OpMargins doc_margins = { 5, 6, 7, 8 };
  OpDocument *doc = op_document_new ();
  g_autoptr(OpImage) picture = noise_image (160, 120, 7, FALSE);
  OpBrush brush = { 12, 0.5, 1, 0.1, OP_MASK_MODE_ADD };
  OpVersion *root, *a, *b;

  op_document_set_image (doc, picture, NULL);
  root = op_document_get_root (doc);

  op_document_stroke_begin (doc, &brush, 40, 40, 1);
  op_document_stroke_to (doc, 90, 60, 1);
  op_document_stroke_end (doc);

  a = add_variant (doc, root, &wider, 1);
  add_variant (doc, a, &none, 2);
  add_variant (doc, a, &none, 3);
  op_document_set_current (doc, root);
  b = add_variant (doc, root, &none, 4);

  /* a blend mask painted after the generation */
  op_document_set_current (doc, a);
  op_document_set_mask_target (doc, OP_MASK_TARGET_BLEND);
  op_document_stroke_begin (doc, &brush, 70, 40, 1);
  op_document_stroke_end (doc);
  op_document_set_mask_target (doc, OP_MASK_TARGET_BRUSH);

  op_document_set_current (doc, op_version_get_child (a, 1));
  op_document_stroke_begin (doc, &brush, 100, 70, 0.5);
  op_document_stroke_end (doc);
  op_document_set_margins (doc, &doc_margins);

  g_assert_nonnull (b);
  return doc;
}

static void
assert_versions_equal (OpDocument *da,
                       OpVersion  *a,
                       OpDocument *db,
                       OpVersion  *b)
{
  OpMask *ma = op_document_peek_brush_mask (da, a);
  OpMask *mb = op_document_peek_brush_mask (db, b);

  g_assert_cmpint (op_version_is_root (a), ==, op_version_is_root (b));
  g_assert_cmpint (op_version_get_width (a), ==, op_version_get_width (b));
  g_assert_cmpint (op_version_get_height (a), ==, op_version_get_height (b));
  g_assert_cmpint (op_version_get_seed (a), ==, op_version_get_seed (b));
  g_assert_cmpuint (op_version_get_generation (a), ==, op_version_get_generation (b));
  g_assert_cmpint (op_version_get_params (a) != NULL, ==, op_version_get_params (b) != NULL);
  if (op_version_get_params (a) != NULL)
    g_assert_true (op_params_equal (op_version_get_params (a), op_version_get_params (b)));

  /* every pixel */
  g_assert_true (op_image_equal (op_version_get_composite (a), op_version_get_composite (b)));

  if (!op_version_is_root (a))
    {
      OpRect ra, rb;

      g_assert_cmpmem (op_version_get_margins (a), sizeof (OpMargins),
                       op_version_get_margins (b), sizeof (OpMargins));
      op_version_get_rect (a, &ra);
      op_version_get_rect (b, &rb);
      g_assert_cmpmem (&ra, sizeof ra, &rb, sizeof rb);
      g_assert_true (op_image_equal (op_version_get_patch (a), op_version_get_patch (b)));
      g_assert_true (op_mask_equal (op_version_get_blend (a), op_version_get_blend (b)));
    }

  if (ma != NULL && !op_mask_is_empty (ma))
    {
      g_assert_nonnull (mb);
      g_assert_true (op_mask_equal (ma, mb));
    }
  else
    g_assert_true (mb == NULL || op_mask_is_empty (mb));

  g_assert_cmpuint (op_version_get_n_children (a), ==, op_version_get_n_children (b));
  for (guint i = 0; i < op_version_get_n_children (a); i++)
    assert_versions_equal (da, op_version_get_child (a, i), db, op_version_get_child (b, i));
}

/* The path from the root to @v, as child indices: "the same place" in another tree. */
static GArray *
path_of (OpVersion *v)
{
  GArray *path = g_array_new (FALSE, FALSE, sizeof (int));

  for (; !op_version_is_root (v); v = op_version_get_parent (v))
    {
      int index = op_version_index_of (op_version_get_parent (v), v);

      g_array_prepend_val (path, index);
    }

  return path;
}

static void
assert_documents_equal (OpDocument *a,
                        OpDocument *b)
{
  g_autoptr(GArray) pa = path_of (op_document_get_current (a));
  g_autoptr(GArray) pb = path_of (op_document_get_current (b));
  OpMargins ma, mb;

  assert_versions_equal (a, op_document_get_root (a), b, op_document_get_root (b));
  g_assert_cmpmem (pa->data, pa->len * sizeof (int), pb->data, pb->len * sizeof (int));
  op_document_get_margins (a, &ma);
  op_document_get_margins (b, &mb);
  g_assert_cmpmem (&ma, sizeof ma, &mb, sizeof mb);
  g_assert_cmpuint (op_document_get_last_generation (a), ==, op_document_get_last_generation (b));
  g_assert_true (op_image_equal (op_document_get_image (a), op_document_get_image (b)));
}

static OpDocument *
reopen (GBytes     *bytes,
        OpParams  **sidebar)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OpProject) project = op_project_decode (bytes, &error);
  OpDocument *doc;

  g_assert_no_error (error);
  g_assert_nonnull (project);
  g_assert_false (op_project_is_foreign (project));

  doc = op_document_new ();
  op_project_apply (project, doc, NULL);
  if (sidebar != NULL)
    *sidebar = op_project_get_sidebar (project) != NULL
               ? op_params_copy (op_project_get_sidebar (project)) : NULL;
  return doc;
}

static GBytes *
encode (OpDocument     *doc,
        const OpParams *sidebar,
        OpProjectCache *cache)
{
  g_autoptr(OpProjectSnapshot) snapshot = op_project_snapshot_new (doc, sidebar);
  g_autoptr(GError) error = NULL;
  GBytes *bytes = op_project_snapshot_encode (snapshot, cache, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static void
test_round_trip (void)
{
  g_autoptr(OpDocument) doc = make_project ();
  g_autoptr(OpParams) sidebar = params_for ("next: a lighthouse (at dusk:1.2)", -1);
  g_autoptr(OpParams) sidebar_back = NULL;
  g_autoptr(OpParams) sidebar_back2 = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) bytes2 = NULL;
  g_autoptr(OpDocument) back = NULL;
  g_autoptr(OpDocument) back2 = NULL;

  bytes = encode (doc, sidebar, NULL);
  back = reopen (bytes, &sidebar_back);
  assert_documents_equal (doc, back);
  g_assert_nonnull (sidebar_back);
  g_assert_true (op_params_equal (sidebar, sidebar_back));
  g_assert_false (op_document_is_modified (back));

  /* lossless across cycles: save what was opened, open it again */
  bytes2 = encode (back, sidebar_back, NULL);
  back2 = reopen (bytes2, &sidebar_back2);
  assert_documents_equal (doc, back2);
  g_assert_true (op_params_equal (sidebar, sidebar_back2));

  /* the reopened tree keeps working: undo history is fresh, a new generation numbers on */
  g_assert_false (op_document_can_undo (back2));
  g_assert_cmpuint (op_document_new_generation (back2), ==,
                    op_document_get_last_generation (doc) + 1);
}

static GBytes *
read_member (GBytes     *zip_bytes,
             const char *name)
{
  zip_error_t ze;
  zip_source_t *src;
  zip_t *za;
  zip_stat_t st;
  zip_file_t *zf;
  guint8 *data;

  zip_error_init (&ze);
  src = zip_source_buffer_create (g_bytes_get_data (zip_bytes, NULL), g_bytes_get_size (zip_bytes),
                                  0, &ze);
  za = zip_open_from_source (src, ZIP_RDONLY, &ze);
  g_assert_nonnull (za);
  if (zip_stat (za, name, 0, &st) < 0)
    {
      zip_discard (za);
      return NULL;
    }
  data = g_malloc (st.size + 1);
  zf = zip_fopen (za, name, 0);
  g_assert_cmpint (zip_fread (zf, data, st.size), ==, (zip_int64_t) st.size);
  zip_fclose (zf);
  zip_discard (za);
  zip_error_fini (&ze);
  return g_bytes_new_take (data, st.size);
}

/* What other programs read: the layout the OpenRaster specification asks for. */
static void
test_openraster_layout (void)
{
  g_autoptr(OpDocument) doc = make_project ();
  g_autoptr(GBytes) bytes = encode (doc, NULL, NULL);
  g_autoptr(GBytes) xml = read_member (bytes, "stack.xml");
  g_autoptr(GBytes) merged = read_member (bytes, "mergedimage.png");
  g_autoptr(GBytes) thumb = read_member (bytes, "Thumbnails/thumbnail.png");
  g_autoptr(OpImage) merged_image = NULL;
  g_autoptr(OpImage) thumb_image = NULL;
  g_autofree char *text = NULL;
  const guint8 *raw = g_bytes_get_data (bytes, NULL);
  OpImage *current = op_document_get_image (doc);

  /* a local file header for "mimetype", stored (method 0), its content right after */
  g_assert_cmpmem (raw, 4, "PK\3\4", 4);
  g_assert_cmpint (raw[8] | raw[9] << 8, ==, 0);
  g_assert_cmpint (raw[26] | raw[27] << 8, ==, 8);
  g_assert_cmpint (raw[28] | raw[29] << 8, ==, 0);     /* no extra field */
  g_assert_cmpmem (raw + 30, 8, "mimetype", 8);
  g_assert_cmpmem (raw + 38, 16, "image/openraster", 16);

  text = g_strndup (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml));
  g_assert_nonnull (strstr (text, "xmlns:overpaint=\"" OP_PROJECT_NAMESPACE "\""));
  g_assert_nonnull (strstr (text, "src=\"data/version-0.png\""));
  g_assert_nonnull (strstr (text, "src=\"data/version-4.png\""));
  /* one visible layer: the current version; the outpainted layers sit left of it */
  g_assert_nonnull (strstr (text, "visibility=\"visible\""));
  g_assert_null (strstr (strstr (text, "visibility=\"visible\"") + 1, "visibility=\"visible\""));
  g_assert_nonnull (strstr (text, "x=\"32\" y=\"0\""));

  merged_image = op_image_new_from_bytes (merged, NULL);
  g_assert_true (op_image_equal (merged_image, current));
  thumb_image = op_image_new_from_bytes (thumb, NULL);
  g_assert_cmpint (MAX (op_image_get_width (thumb_image), op_image_get_height (thumb_image)), <=, 256);
}

/* A save through @cache, opened again, is @doc. */
static void
assert_cached_save_keeps (OpDocument     *doc,
                          OpProjectCache *cache)
{
  g_autoptr(GBytes) bytes = encode (doc, NULL, cache);
  g_autoptr(OpDocument) back = reopen (bytes, NULL);

  assert_documents_equal (doc, back);
}

static void
test_cache (void)
{
  g_autoptr(OpDocument) doc = make_project ();
  OpProjectCache *cache = op_project_cache_new ();
  g_autoptr(GBytes) first = encode (doc, NULL, cache);
  g_autoptr(GBytes) second = NULL;
  g_autoptr(OpDocument) back = NULL;
  OpBrush brush = { 8, 1, 1, 0.1, OP_MASK_MODE_SUBTRACT };
  gint64 t0, t1;

  /* a blend edit must reach the next save, cache or not */
  op_document_set_current (doc, op_version_get_child (op_document_get_root (doc), 0));
  op_document_set_mask_target (doc, OP_MASK_TARGET_BLEND);
  op_document_stroke_begin (doc, &brush, 80, 45, 1);
  op_document_stroke_end (doc);

  t0 = g_get_monotonic_time ();
  second = encode (doc, NULL, cache);
  t1 = g_get_monotonic_time ();
  g_test_message ("second save with the cache: %.1f ms", (t1 - t0) / 1000.0);

  back = reopen (second, NULL);
  assert_documents_equal (doc, back);

  /* the brush masks are cached by their contents: an erase inside the painted area, a
   * stroke, an erase back to nothing and a stroke on a version that had no mask each
   * reach the next save */
  {
    OpBrush add = { 10, 1, 1, 0.1, OP_MASK_MODE_ADD };
    OpBrush erase = { 400, 1, 1, 0.1, OP_MASK_MODE_SUBTRACT };
    OpVersion *root = op_document_get_root (doc);
    OpVersion *leaf = op_version_get_child (op_version_get_child (root, 0), 1);

    OpBrush dab = { 3, 1, 1, 0.1, OP_MASK_MODE_SUBTRACT };
    OpRect before, after;

    /* a small erase inside the painted area: the pixels change, the bounds do not */
    op_document_set_mask_target (doc, OP_MASK_TARGET_BRUSH);
    op_document_set_current (doc, leaf);
    g_assert_true (op_mask_get_bounds (op_document_get_brush_mask (doc), &before));
    op_document_stroke_begin (doc, &dab, 100, 70, 1);
    op_document_stroke_end (doc);
    g_assert_true (op_mask_get_bounds (op_document_get_brush_mask (doc), &after));
    g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
    assert_cached_save_keeps (doc, cache);

    op_document_stroke_begin (doc, &add, 20, 20, 1);
    op_document_stroke_end (doc);
    assert_cached_save_keeps (doc, cache);

    op_document_set_current (doc, root);
    op_document_stroke_begin (doc, &erase, 80, 60, 1);
    op_document_stroke_end (doc);
    g_assert_true (op_mask_is_empty (op_document_get_brush_mask (doc)));
    op_document_set_current (doc, op_version_get_child (root, 1));
    op_document_stroke_begin (doc, &add, 30, 90, 1);
    op_document_stroke_end (doc);
    assert_cached_save_keeps (doc, cache);
  }

  op_project_cache_free (cache);
}

static void
record_progress_cb (double   fraction,
                    gpointer user_data)
{
  GArray *seen = user_data;

  g_array_append_val (seen, fraction);
}

/* Progress never goes back, and reaches 1 at the end, with a cache or without. */
static void
assert_progress (GArray *seen)
{
  g_autoptr(GString) line = g_string_new ("progress:");

  for (guint i = 0; i < seen->len; i++)
    g_string_append_printf (line, " %.2f", g_array_index (seen, double, i));
  g_test_message ("%s", line->str);

  g_assert_cmpuint (seen->len, >=, 3);
  g_assert_cmpfloat (g_array_index (seen, double, 0), >=, 0.0);
  for (guint i = 1; i < seen->len; i++)
    g_assert_cmpfloat (g_array_index (seen, double, i), >=, g_array_index (seen, double, i - 1));
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
}

static void
test_file_write_and_load (void)
{
  g_autoptr(OpDocument) doc = make_project ();
  g_autofree char *dir = g_dir_make_tmp ("op-project-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "kite.ora", NULL);
  g_autoptr(OpProjectSnapshot) snapshot = op_project_snapshot_new (doc, NULL);
  g_autoptr(OpProject) project = NULL;
  g_autoptr(OpDocument) back = op_document_new ();
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) listing = NULL;

  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) seen_again = g_array_new (FALSE, FALSE, sizeof (double));
  OpProjectCache *cache = op_project_cache_new ();

  op_project_snapshot_set_progress (snapshot, record_progress_cb, seen);
  g_assert_true (op_project_snapshot_write (snapshot, path, cache, &error));
  g_assert_no_error (error);
  assert_progress (seen);

  /* again, with everything in the cache */
  op_project_snapshot_set_progress (snapshot, record_progress_cb, seen_again);
  g_assert_true (op_project_snapshot_write (snapshot, path, cache, &error));
  g_assert_no_error (error);
  assert_progress (seen_again);
  op_project_cache_free (cache);

  project = op_project_load (path, &error);
  g_assert_no_error (error);
  op_project_apply (project, back, file);
  assert_documents_equal (doc, back);
  g_assert_true (op_document_get_project_file (back) != NULL);
  g_assert_true (g_file_equal (op_document_get_project_file (back), file));

  /* nothing left behind but the project: the temporary file was renamed */
  listing = g_dir_open (dir, 0, NULL);
  g_assert_cmpstr (g_dir_read_name (listing), ==, "kite.ora");
  g_assert_null (g_dir_read_name (listing));

  g_unlink (path);
  g_rmdir (dir);
}

/* A save that cannot happen says why in plain words and leaves the old file. */
static void
test_write_errors (void)
{
  g_autoptr(OpDocument) doc = make_project ();
  g_autoptr(OpProjectSnapshot) snapshot = op_project_snapshot_new (doc, NULL);
  g_autofree char *dir = g_dir_make_tmp ("op-project-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "old.ora", NULL);
  g_autofree char *missing = g_build_filename (dir, "no-such-folder", "x.ora", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_assert_false (op_project_snapshot_write (snapshot, missing, NULL, &error));
  g_assert_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "x.ora"));
  g_clear_error (&error);

  /* a read-only folder (root ignores permissions: then there is nothing to test) */
  g_assert_true (g_file_set_contents (path, "the old project", -1, NULL));
  g_chmod (dir, 0555);
  if (access (dir, W_OK) != 0)
    {
      g_assert_false (op_project_snapshot_write (snapshot, path, NULL, &error));
      g_assert_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE);
      g_assert_nonnull (strstr (error->message, "read-only"));
      g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "the old project");
    }
  else
    g_test_message ("running as root: the read-only folder is writable, skipped that part");
  g_chmod (dir, 0755);

  /* a file that cannot be replaced, even by root: the save fails, says so, and leaves the
   * old project and nothing else */
  if (op_test_make_immutable (path))
    {
      g_autofree char *left = NULL;

      g_clear_pointer (&contents, g_free);
      g_assert_false (op_project_snapshot_write (snapshot, path, NULL, &error));
      op_test_set_immutable (path, FALSE);
      g_assert_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "read-only"));
      g_assert_nonnull (strstr (error->message, "old.ora"));
      g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "the old project");
      left = op_test_list_dir (dir);
      g_assert_cmpstr (left, ==, "old.ora");
    }

  g_unlink (path);
  g_rmdir (dir);
}

/* Bad files */

typedef struct
{
  const char *name;
  const char *text;   /* NULL: leave the member out */
  gsize length;       /* 0: strlen (text) */
  gboolean compress;
} Member;

/* A zip with exactly these members in this order. */
static GBytes *
make_zip (const Member *members,
          guint         n)
{
  zip_error_t ze;
  zip_source_t *src;
  zip_t *za;
  zip_stat_t st;
  guint8 *data;

  zip_error_init (&ze);
  src = zip_source_buffer_create (NULL, 0, 0, &ze);
  zip_source_keep (src);
  za = zip_open_from_source (src, ZIP_TRUNCATE, &ze);
  for (guint i = 0; i < n; i++)
    {
      gsize length = members[i].length ? members[i].length : strlen (members[i].text);
      zip_source_t *s = zip_source_buffer (za, members[i].text, length, 0);
      zip_int64_t index = zip_file_add (za, members[i].name, s, ZIP_FL_ENC_UTF_8);

      g_assert_cmpint (index, >=, 0);
      zip_set_file_compression (za, index, members[i].compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 9);
    }
  g_assert_cmpint (zip_close (za), ==, 0);
  zip_source_stat (src, &st);
  zip_source_open (src);
  data = g_malloc (st.size);
  zip_source_read (src, data, st.size);
  zip_source_close (src);
  zip_source_free (src);
  zip_error_fini (&ze);
  return g_bytes_new_take (data, st.size);
}

/* A valid project, with one member's content replaced (or added). */
static GBytes *
replace_member (GBytes     *project,
                const char *name,
                const char *text,
                gsize       length)
{
  static const char * const order[] = {
    "mimetype", "stack.xml", "data/version-0.png", "data/version-1.png", "overpaint/patch-1.png",
    "overpaint/blend-1.png", "overpaint/brush-0.png", "mergedimage.png",
    "Thumbnails/thumbnail.png", "overpaint/project.json",
  };
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  Member members[G_N_ELEMENTS (order) + 1];
  guint n = 0;
  gboolean replaced = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      GBytes *b;

      if (strcmp (order[i], name) == 0)
        {
          replaced = TRUE;
          if (text == NULL)
            continue;
          members[n++] = (Member) { order[i], text, length ? length : strlen (text), TRUE };
          continue;
        }
      b = read_member (project, order[i]);
      if (b == NULL)
        continue;
      g_ptr_array_add (keep, b);
      members[n++] = (Member) { order[i], g_bytes_get_data (b, NULL), MAX (g_bytes_get_size (b), 1),
                                strcmp (order[i], "mimetype") != 0 };
    }
  if (!replaced && text != NULL)
    members[n++] = (Member) { name, text, length ? length : strlen (text), TRUE };

  return make_zip (members, n);
}

/* One root, one variant with a brush mask: small and quick to rewrite. */
static GBytes *
small_project (void)
{
  static const OpMargins none = { 0, 0, 0, 0 };
  g_autoptr(OpDocument) doc = op_document_new ();
  g_autoptr(OpImage) picture = noise_image (48, 32, 3, FALSE);
  OpBrush brush = { 6, 1, 1, 0.1, OP_MASK_MODE_ADD };

  op_document_set_image (doc, picture, NULL);
  op_document_stroke_begin (doc, &brush, 10, 10, 1);
  op_document_stroke_end (doc);
  add_variant (doc, op_document_get_root (doc), &none, 5);
  return encode (doc, NULL, NULL);
}

static char *
member_text (GBytes     *project,
             const char *name)
{
  g_autoptr(GBytes) b = read_member (project, name);

  return g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

/* The project.json of a small project with one substring replaced. */
static GBytes *
with_json_edit (GBytes     *project,
                const char *from,
                const char *to)
{
  g_autofree char *json = member_text (project, "overpaint/project.json");
  g_autoptr(GString) edited = g_string_new (json);

  if (strstr (json, from) == NULL)
    g_error ("“%s” is not in %s", from, json);
  g_string_replace (edited, from, to, 1);
  return replace_member (project, "overpaint/project.json", edited->str, edited->len);
}

static void
assert_refused (GBytes     *bytes,
                int         code,
                const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OpProject) project = op_project_decode (bytes, &error);

  g_assert_null (project);
  g_assert_error (error, OP_PROJECT_ERROR, code);
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);
  g_test_message ("refused: %s", error->message);
}

static void
test_bad_archives (void)
{
  g_autoptr(GBytes) good = small_project ();
  static const char stack_plain[] =
    "<?xml version='1.0'?><image w='4' h='4'><stack/></image>";
  Member not_first[] = { { "stack.xml", stack_plain, 0, TRUE },
                         { "mimetype", "image/openraster", 0, FALSE } };
  Member wrong_type[] = { { "mimetype", "application/zip", 0, FALSE },
                          { "stack.xml", stack_plain, 0, TRUE } };
  Member traversal[] = { { "mimetype", "image/openraster", 0, FALSE },
                         { "stack.xml", stack_plain, 0, TRUE },
                         { "../../.bashrc", "echo owned", 0, TRUE } };
  Member absolute[] = { { "mimetype", "image/openraster", 0, FALSE },
                        { "stack.xml", stack_plain, 0, TRUE },
                        { "/etc/passwd", "x", 0, TRUE } };
  Member no_merged[] = { { "mimetype", "image/openraster", 0, FALSE },
                         { "stack.xml", stack_plain, 0, TRUE } };
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) text = g_bytes_new_static ("hello, not a zip", 16);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) / 2);
  g_autoptr(GBytes) b1 = make_zip (not_first, G_N_ELEMENTS (not_first));
  g_autoptr(GBytes) b2 = make_zip (wrong_type, G_N_ELEMENTS (wrong_type));
  g_autoptr(GBytes) b3 = make_zip (traversal, G_N_ELEMENTS (traversal));
  g_autoptr(GBytes) b4 = make_zip (absolute, G_N_ELEMENTS (absolute));
  g_autoptr(GBytes) b5 = make_zip (no_merged, G_N_ELEMENTS (no_merged));
  g_autoptr(GBytes) flipped = g_bytes_new (g_bytes_get_data (good, NULL), g_bytes_get_size (good));
  guint8 *raw;
  gsize len;

  assert_refused (empty, OP_PROJECT_ERROR_NOT_A_PROJECT, "empty");
  assert_refused (text, OP_PROJECT_ERROR_NOT_A_PROJECT, "not an OpenRaster");
  assert_refused (truncated, OP_PROJECT_ERROR_NOT_A_PROJECT, NULL);
  assert_refused (b1, OP_PROJECT_ERROR_NOT_A_PROJECT, "mimetype");
  assert_refused (b2, OP_PROJECT_ERROR_NOT_A_PROJECT, "mimetype");
  assert_refused (b3, OP_PROJECT_ERROR_CORRUPT, "outside");
  assert_refused (b4, OP_PROJECT_ERROR_CORRUPT, "outside");
  assert_refused (b5, OP_PROJECT_ERROR_CORRUPT, "mergedimage.png");

  /* a flipped byte in the last member's compressed data: the checksum catches it */
  raw = g_bytes_unref_to_data (g_steal_pointer (&flipped), &len);
  {
    g_autoptr(GBytes) json = read_member (good, "overpaint/project.json");
    guint8 *at = memmem (raw, len, "overpaint/project.json", 22);

    g_assert_nonnull (at);
    at[22 + 40] ^= 0x55;   /* inside the deflated data after the local header */
    flipped = g_bytes_new_take (raw, len);
    assert_refused (flipped, OP_PROJECT_ERROR_CORRUPT, NULL);
  }
}

static void
test_bad_contents (void)
{
  g_autoptr(GBytes) good = small_project ();
  g_autoptr(GString) deep = g_string_new ("");
  g_autofree char *bomb_path = g_test_build_filename (G_TEST_DIST, "data", "huge-declared.png", NULL);
  g_autoptr(GBytes) bomb_png = NULL;
  g_autofree char *huge = NULL;
  struct {
    const char *from;
    const char *to;
    int code;
    const char *words;
  } edits[] = {
    { "\"version\" : 1", "\"version\" : 7", OP_PROJECT_ERROR_NEWER, "newer" },
    { "\"format\" : \"overpaint-project\"", "\"format\" : \"other\"", OP_PROJECT_ERROR_CORRUPT, NULL },
    { "\"current\" : 1", "\"current\" : 9", OP_PROJECT_ERROR_CORRUPT, "current" },
    { "\"current\" : 1", "\"current\" : \"1\"", OP_PROJECT_ERROR_CORRUPT, "current" },
    { "\"parent\" : 0", "\"parent\" : 1", OP_PROJECT_ERROR_CORRUPT, "parent" },
    { "\"parent\" : 0", "\"parent\" : -4", OP_PROJECT_ERROR_CORRUPT, "parent" },
    { "\"width\" : 48", "\"width\" : 100000", OP_PROJECT_ERROR_CORRUPT, "width" },
    { "\"width\" : 48", "\"width\" : 47", OP_PROJECT_ERROR_CORRUPT, "47" },
    { "\"steps\" : 33", "\"steps\" : 100000", OP_PROJECT_ERROR_CORRUPT, "steps" },
    { "\"cfg\" : 6.5", "\"cfg\" : 1e308, \"x\" : 6.5", OP_PROJECT_ERROR_CORRUPT, NULL },
    { "\"context\" : \"masked\"", "\"context\" : \"sideways\"", OP_PROJECT_ERROR_CORRUPT, "sideways" },
    { "\"patch\" : \"overpaint/patch-1.png\"", "\"patch\" : \"../../etc/passwd\"",
      OP_PROJECT_ERROR_CORRUPT, "unsafe" },
    { "\"patch\" : \"overpaint/patch-1.png\"", "\"patch\" : \"overpaint/nothing.png\"",
      OP_PROJECT_ERROR_CORRUPT, "missing" },
    /* the patch where the blend mask should be: sizes agree, so take the root picture */
    { "\"blend\" : \"overpaint/blend-1.png\"", "\"blend\" : \"data/version-0.png\"",
      OP_PROJECT_ERROR_CORRUPT, "expected" },
    { "\"brush\" : \"overpaint/brush-0.png\"", "\"brush\" : \"overpaint/patch-1.png\"",
      OP_PROJECT_ERROR_CORRUPT, "expected" },
    { "\"versions\" : [", "\"versions\" : 3, \"x\" : [", OP_PROJECT_ERROR_CORRUPT, "versions" },
    /* found by fuzz-project: a missing member must not reach json-glib as NULL */
    { "\"rect\" : [", "\"rekt\" : [", OP_PROJECT_ERROR_CORRUPT, "rectangle" },
    { "\"versions\" : [", "\"snoisrev\" : [", OP_PROJECT_ERROR_CORRUPT, "versions" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr(GBytes) bad = with_json_edit (good, edits[i].from, edits[i].to);

      g_test_message ("edit %u: %s → %s", i, edits[i].from, edits[i].to);
      assert_refused (bad, edits[i].code, edits[i].words);
    }

  /* JSON nested far too deep */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr(GBytes) bad = replace_member (good, "overpaint/project.json", deep->str, deep->len);

    assert_refused (bad, OP_PROJECT_ERROR_CORRUPT, "deeply");
  }

  /* a zip bomb: 64 MiB of spaces deflate to a few kilobytes */
  huge = g_malloc (64 * 1024 * 1024 + 1);
  memset (huge, ' ', 64 * 1024 * 1024);
  huge[64 * 1024 * 1024] = '\0';
  {
    g_autoptr(GBytes) bad = replace_member (good, "overpaint/project.json", huge,
                                            64 * 1024 * 1024);

    g_assert_cmpuint (g_bytes_get_size (bad), <, 1024 * 1024);
    assert_refused (bad, OP_PROJECT_ERROR_TOO_LARGE, "too large");
  }

  /* a decompression bomb: a patch declaring 100000 × 100000 pixels */
  {
    char *data;
    gsize length;

    g_assert_true (g_file_get_contents (bomb_path, &data, &length, NULL));
    bomb_png = g_bytes_new_take (data, length);
  }
  {
    g_autoptr(GBytes) bad = replace_member (good, "overpaint/patch-1.png",
                                            g_bytes_get_data (bomb_png, NULL),
                                            g_bytes_get_size (bomb_png));

    assert_refused (bad, OP_PROJECT_ERROR_TOO_LARGE, "too large");
  }

  /* garbage where a picture should be */
  {
    g_autoptr(GBytes) bad = replace_member (good, "overpaint/blend-1.png", "iVBORw0KGgo=garbage", 0);

    assert_refused (bad, OP_PROJECT_ERROR_CORRUPT, "blend-1.png");
  }

  /* stack.xml: malformed, an entity bomb, a foreign root element */
  {
    static const char * const bad_xml[] = {
      "<image w='1' h='1'><stack>",
      "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 "
      "'&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]><image w='1' h='1'>&lol2;</image>",
      "<svg xmlns='http://www.w3.org/2000/svg'/>",
      "\xff\xfe\x00<",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad_xml); i++)
      {
        g_autoptr(GBytes) bad = replace_member (good, "stack.xml", bad_xml[i], 0);

        assert_refused (bad, OP_PROJECT_ERROR_CORRUPT, "stack.xml");
      }
  }

  /* unknown elements and attributes in stack.xml are someone else's: ignored */
  {
    g_autofree char *xml = member_text (good, "stack.xml");
    g_autoptr(GString) edited = g_string_new (xml);
    g_autoptr(GBytes) extra = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(OpProject) project = NULL;

    g_string_replace (edited, "<stack>", "<stack krita:odd='1'><unknown><deeper/></unknown>", 1);
    extra = replace_member (good, "stack.xml", edited->str, edited->len);
    project = op_project_decode (extra, &error);
    g_assert_no_error (error);
    g_assert_nonnull (project);
  }
}

/* GIMP and Krita write OpenRaster without our data: their merged picture opens. */
static void
test_foreign_openraster (void)
{
  g_autoptr(OpImage) picture = noise_image (20, 10, 9, TRUE);
  g_autoptr(GBytes) png = op_image_encode_png (picture, NULL);
  Member members[] = {
    { "mimetype", "image/openraster", 0, FALSE },
    { "stack.xml", "<?xml version='1.0'?><image w='20' h='10'><stack>"
                   "<layer src='data/a.png' name='Background'/></stack></image>", 0, TRUE },
    { "data/a.png", g_bytes_get_data (png, NULL), g_bytes_get_size (png), FALSE },
    { "mergedimage.png", g_bytes_get_data (png, NULL), g_bytes_get_size (png), FALSE },
  };
  g_autoptr(GBytes) bytes = make_zip (members, G_N_ELEMENTS (members));
  g_autoptr(GError) error = NULL;
  g_autoptr(OpProject) project = op_project_decode (bytes, &error);
  g_autoptr(OpDocument) doc = op_document_new ();
  g_autoptr(GFile) file = g_file_new_for_path ("/tmp/from-gimp.ora");

  g_assert_no_error (error);
  g_assert_true (op_project_is_foreign (project));
  op_project_apply (project, doc, file);
  g_assert_true (op_image_equal (op_document_get_image (doc), picture));
  /* saving must not overwrite GIMP's file with ours without asking */
  g_assert_null (op_document_get_project_file (doc));
}

static void
test_sample_photo (void)
{
  g_autofree char *path = sample_path ("coffee.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) picture = op_image_new_from_file (path, &error);
  g_autoptr(OpDocument) doc = op_document_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpDocument) back = NULL;

  g_assert_no_error (error);
  op_document_set_image (doc, picture, NULL);
  bytes = encode (doc, NULL, NULL);
  back = reopen (bytes, NULL);
  assert_documents_equal (doc, back);
  /* the ICC profile survives too */
  g_assert_cmpint (op_image_get_icc_profile (picture) != NULL, ==,
                   op_image_get_icc_profile (op_document_get_image (back)) != NULL);
}

/* For tests/test-krita.sh: the project of round-trip and its current picture, written
 * where OVERPAINT_ORA_OUT says, so another program can open it. */
static void
test_write_for_others (void)
{
  const char *dir = g_getenv ("OVERPAINT_ORA_OUT");
  g_autoptr(OpDocument) doc = NULL;
  g_autoptr(OpProjectSnapshot) snapshot = NULL;
  g_autofree char *ora = NULL;
  g_autofree char *png = NULL;
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    {
      g_test_skip ("OVERPAINT_ORA_OUT is not set");
      return;
    }

  doc = make_project ();
  snapshot = op_project_snapshot_new (doc, NULL);
  ora = g_build_filename (dir, "project.ora", NULL);
  png = g_build_filename (dir, "expected.png", NULL);
  g_assert_true (op_project_snapshot_write (snapshot, ora, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (op_image_save_png (op_document_get_image (doc), png, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/project/round-trip", test_round_trip);
  g_test_add_func ("/project/openraster-layout", test_openraster_layout);
  g_test_add_func ("/project/cache", test_cache);
  g_test_add_func ("/project/file", test_file_write_and_load);
  g_test_add_func ("/project/write-errors", test_write_errors);
  g_test_add_func ("/project/bad-archives", test_bad_archives);
  g_test_add_func ("/project/bad-contents", test_bad_contents);
  g_test_add_func ("/project/foreign", test_foreign_openraster);
  g_test_add_func ("/project/sample-photo", test_sample_photo);
  g_test_add_func ("/project/write-for-others", test_write_for_others);

  return g_test_run ();
}
