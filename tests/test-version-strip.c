/* test-version-strip.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "op-version-strip.h"
#include "op-version-thumbnail.h"

typedef struct
{
  OpDocument *document;
  OpVersionStrip *strip;
  GtkWindow *window;
  OpImage *picture;
} Fixture;

static void
wait_until (gboolean (*ready) (Fixture *), Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!ready (f))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *found)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (g_type_is_a (G_OBJECT_TYPE (child), type))
        g_ptr_array_add (found, child);
      collect (child, type, found);
    }
}

static GPtrArray *
thumbnails (Fixture *f)
{
  GPtrArray *found = g_ptr_array_new ();

  collect (GTK_WIDGET (f->strip), OP_TYPE_VERSION_THUMBNAIL, found);
  return found;
}

/* The group captions, in order. */
static GPtrArray *
captions (Fixture *f)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  GPtrArray *texts = g_ptr_array_new ();

  collect (GTK_WIDGET (f->strip), GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (gtk_widget_has_css_class (labels->pdata[i], "caption-heading"))
      g_ptr_array_add (texts, (gpointer) gtk_label_get_label (labels->pdata[i]));

  return texts;
}

static OpVersionThumbnail *
thumbnail_at (Fixture *f,
              guint    index)
{
  g_autoptr(GPtrArray) all = thumbnails (f);

  g_assert_cmpuint (index, <, all->len);
  return all->pdata[index];
}

static guint
selected_index (Fixture *f)
{
  g_autoptr(GPtrArray) all = thumbnails (f);
  guint index = G_MAXUINT;

  for (guint i = 0; i < all->len; i++)
    if (op_version_thumbnail_get_selected (all->pdata[i]))
      {
        g_assert_cmpuint (index, ==, G_MAXUINT);   /* one at most */
        index = i;
      }

  return index;
}

/* A variant whose patch is one solid colour over @rect. */
static OpVersion *
solid_variant (OpVersion    *parent,
               const OpRect *rect,
               guint32       rgba,
               gint64        seed,
               guint         generation)
{
  g_autoptr(OpImage) patch = op_image_new (rect->width, rect->height);
  g_autoptr(OpMask) blend = op_mask_new (rect->width, rect->height);
  g_autoptr(OpParams) params = op_params_new ();
  OpMargins none = { 0, };
  guint8 *px = op_image_get_data (patch);

  for (int i = 0; i < rect->width * rect->height; i++)
    {
      px[4 * i + 0] = rgba >> 24;
      px[4 * i + 1] = (rgba >> 16) & 0xff;
      px[4 * i + 2] = (rgba >> 8) & 0xff;
      px[4 * i + 3] = rgba & 0xff;
    }
  memset (op_mask_get_data (blend), 255, (gsize) rect->width * rect->height);
  g_free (params->prompt);
  params->prompt = g_strdup ("a red ball");

  return op_version_new_variant (parent, &none, patch, rect, blend, params, seed, generation);
}

static GPtrArray *
add_generation (Fixture   *f,
                OpVersion *parent,
                guint      n)
{
  static const guint32 colors[] = { 0xff0000ff, 0x00ff00ff, 0x0000ffff, 0xffff00ff };
  guint generation = op_document_new_generation (f->document);
  GPtrArray *versions = g_ptr_array_new_with_free_func (g_object_unref);
  OpRect rect = { 100, 80, 120, 90 };

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (versions, solid_variant (parent, &rect, colors[i % G_N_ELEMENTS (colors)],
                                              1000 + i, generation));
  op_document_add_variants (f->document, parent, versions);

  return versions;
}

static gboolean
is_allocated (Fixture *f)
{
  return gtk_widget_get_width (GTK_WIDGET (f->strip)) > 0;
}

static gboolean
thumbnails_loaded (Fixture *f)
{
  g_autoptr(GPtrArray) all = thumbnails (f);

  for (guint i = 0; i < all->len; i++)
    if (op_version_thumbnail_get_texture (all->pdata[i]) == NULL)
      return FALSE;

  return TRUE;
}

static gboolean
thumbnails_laid_out (Fixture *f)
{
  g_autoptr(GPtrArray) all = thumbnails (f);

  for (guint i = 0; i < all->len; i++)
    if (gtk_widget_get_width (all->pdata[i]) == 0)
      return FALSE;

  return thumbnails_loaded (f);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), "chelsea.png", NULL);
  g_autoptr(GError) error = NULL;

  f->picture = op_image_new_from_file (path, &error);
  g_assert_no_error (error);
  f->document = op_document_new ();
  op_document_set_image (f->document, f->picture, NULL);

  f->strip = OP_VERSION_STRIP (op_version_strip_new ());
  op_version_strip_set_document (f->strip, f->document);
  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 1200, 140);
  gtk_window_set_child (f->window, GTK_WIDGET (f->strip));
  gtk_window_present (f->window);
  wait_until (is_allocated, f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  /* a thumbnail being scaled holds the strip until its callback has run */
  g_object_add_weak_pointer (G_OBJECT (f->strip), (gpointer *) &f->strip);
  gtk_window_destroy (f->window);
  while (f->strip != NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (f->strip);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->document);
  op_image_unref (f->picture);
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GPtrArray) all = thumbnails (f);
  g_autoptr(GPtrArray) texts = captions (f);

  /* the opened picture alone: nothing to choose from */
  g_assert_false (op_version_strip_get_has_variants (f->strip));
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpuint (texts->len, ==, 1);
  g_assert_cmpuint (op_version_thumbnail_get_number (all->pdata[0]), ==, 0);
  g_assert_true (op_version_strip_get_document (f->strip) == f->document);
}

static void
test_groups (Fixture       *f,
             gconstpointer  data)
{
  OpVersion *root = op_document_get_root (f->document);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) texts = NULL;

  first = add_generation (f, root, 4);
  g_assert_true (op_version_strip_get_has_variants (f->strip));
  all = thumbnails (f);
  texts = captions (f);
  g_assert_cmpuint (all->len, ==, 5);
  g_assert_cmpuint (texts->len, ==, 2);
  g_assert_cmpstr (texts->pdata[1], ==, "Generation 1 · 4 variants");
  for (guint i = 1; i < all->len; i++)
    g_assert_cmpuint (op_version_thumbnail_get_number (all->pdata[i]), ==, i);
  /* the first new variant is current */
  g_assert_cmpuint (selected_index (f), ==, 1);

  /* the original is the anchor too: the strip stays */
  op_document_set_current (f->document, root);
  g_assert_cmpuint (selected_index (f), ==, 0);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 5);

  /* another generation from the original, grouped apart */
  second = add_generation (f, root, 2);
  g_clear_pointer (&all, g_ptr_array_unref);
  g_clear_pointer (&texts, g_ptr_array_unref);
  all = thumbnails (f);
  texts = captions (f);
  g_assert_cmpuint (all->len, ==, 7);
  g_assert_cmpuint (texts->len, ==, 3);
  g_assert_cmpstr (texts->pdata[2], ==, "Generation 2 · 2 variants");
  g_assert_cmpuint (op_version_thumbnail_get_number (all->pdata[5]), ==, 1);
  g_assert_cmpuint (op_version_thumbnail_get_number (all->pdata[6]), ==, 2);
  g_assert_cmpuint (selected_index (f), ==, 5);
}

static void
test_select (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) versions = add_generation (f, op_document_get_root (f->document), 3);
  GtkWidget *button;

  g_assert_true (op_document_get_current (f->document) == versions->pdata[0]);

  /* the action the thumbnails activate */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->strip), "version-strip.select",
                                             "u", 3));
  g_assert_true (op_document_get_current (f->document) == versions->pdata[2]);
  g_assert_cmpuint (selected_index (f), ==, 3);

  /* a click on the button around a thumbnail */
  button = gtk_widget_get_parent (GTK_WIDGET (thumbnail_at (f, 2)));
  g_assert_true (GTK_IS_BUTTON (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (op_document_get_current (f->document) == versions->pdata[1]);
  g_assert_cmpuint (selected_index (f), ==, 2);

  /* "Original" */
  button = gtk_widget_get_parent (GTK_WIDGET (thumbnail_at (f, 0)));
  g_signal_emit_by_name (button, "clicked");
  g_assert_true (op_document_get_current (f->document) == op_document_get_root (f->document));

  /* out of range does nothing */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->strip), "version-strip.select",
                                             "u", 99));
  g_assert_true (op_document_get_current (f->document) == op_document_get_root (f->document));
}

static void
test_tooltips_and_thumbnails (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GPtrArray) versions = add_generation (f, op_document_get_root (f->document), 2);
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *summary = op_version_dup_summary (versions->pdata[1]);
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (f->strip));
  g_autofree guint8 *pixels = NULL;
  int width, height, stride, x, y;
  GdkTexture *texture;
  GtkWidget *button;
  guint32 argb;

  wait_until (thumbnails_laid_out, f);
  all = thumbnails (f);

  button = gtk_widget_get_parent (all->pdata[2]);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, summary);
  g_assert_nonnull (strstr (summary, "a red ball"));

  /* scaled to the thumbnail's size, aspect kept */
  op_version_thumbnail_compute_size (451, 300, &width, &height);
  g_assert_cmpint (height, ==, OP_VERSION_THUMBNAIL_HEIGHT);
  g_assert_cmpint (width, ==, 120);
  texture = op_version_thumbnail_get_texture (all->pdata[1]);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width * scale);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height * scale);
  g_assert_cmpint (gtk_widget_get_width (all->pdata[1]), ==, width);

  /* the middle of the red patch (picture 160, 125) is red in the thumbnail */
  stride = width * scale * 4;
  pixels = g_malloc ((gsize) stride * height * scale);
  gdk_texture_download (texture, pixels, stride);
  x = 160 * width * scale / 451;
  y = 125 * height * scale / 300;
  argb = *(guint32 *) (pixels + y * stride + x * 4);   /* cairo ARGB32, native endian */
  g_assert_cmpuint ((argb >> 16) & 0xff, >=, 250);
  g_assert_cmpuint ((argb >> 8) & 0xff, <=, 5);

  /* cached on the version: a rebuilt strip finds them at once */
  op_version_strip_set_document (f->strip, NULL);
  g_assert_false (op_version_strip_get_has_variants (f->strip));
  op_version_strip_set_document (f->strip, f->document);
  g_assert_true (thumbnails_loaded (f));
}

static void
test_updates (Fixture       *f,
              gconstpointer  data)
{
  OpVersion *root = op_document_get_root (f->document);
  g_autoptr(GPtrArray) versions = add_generation (f, root, 3);
  g_autoptr(GPtrArray) nested = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) texts = NULL;

  /* discard and undo change the tree: the strip follows */
  op_document_discard (f->document, versions->pdata[1]);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 3);
  op_document_undo (f->document);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 4);

  /* variants of a variant: that variant is the "Original" now */
  nested = add_generation (f, versions->pdata[0], 2);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  texts = captions (f);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpuint (texts->len, ==, 2);
  g_assert_cmpuint (selected_index (f), ==, 1);

  /* choosing it keeps its variants in view rather than jumping to its siblings */
  op_document_set_current (f->document, versions->pdata[0]);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpuint (selected_index (f), ==, 0);

  /* a sibling without variants shows the generation it belongs to */
  op_document_set_current (f->document, versions->pdata[2]);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 4);
  g_assert_cmpuint (selected_index (f), ==, 3);

  /* a new picture: a new tree */
  op_document_set_image (f->document, f->picture, NULL);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = thumbnails (f);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_false (op_version_strip_get_has_variants (f->strip));
}

static gboolean
current_thumbnail_changed (Fixture *f)
{
  GdkTexture *texture = op_version_thumbnail_get_texture (thumbnail_at (f, 1));

  return texture != NULL && g_object_get_data (G_OBJECT (f->strip), "test-old") != texture;
}

static void
test_picture_changed (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) versions = add_generation (f, op_document_get_root (f->document), 2);
  OpRect rect = { 100, 80, 60, 40 };   /* picture coordinates, inside the patch */

  wait_until (thumbnails_loaded, f);
  g_object_set_data (G_OBJECT (f->strip), "test-old",
                     op_version_thumbnail_get_texture (thumbnail_at (f, 1)));

  /* erasing part of the blend mask shows the parent there again */
  op_document_set_mask_target (f->document, OP_MASK_TARGET_BLEND);
  op_document_fill_rect (f->document, &rect, OP_MASK_MODE_SUBTRACT);
  wait_until (current_thumbnail_changed, f);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/version-strip/empty", test_empty);
  ADD ("/version-strip/groups", test_groups);
  ADD ("/version-strip/select", test_select);
  ADD ("/version-strip/thumbnails", test_tooltips_and_thumbnails);
  ADD ("/version-strip/updates", test_updates);
  ADD ("/version-strip/picture-changed", test_picture_changed);
#undef ADD

  return g_test_run ();
}
