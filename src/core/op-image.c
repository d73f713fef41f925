/* op-image.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-image"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <png.h>
#include <string.h>

#include "op-image.h"

struct _OpImage
{
  gatomicrefcount ref_count;
  int width;
  int height;
  int stride;
  guint8 *data;
  GBytes *icc_profile;
};

G_DEFINE_BOXED_TYPE (OpImage, op_image, op_image_ref, op_image_unref)
G_DEFINE_QUARK (op-image-error-quark, op_image_error)

typedef struct
{
  gboolean too_large;
  int width;
  int height;
  int rows_seen;   /* how far down the loader delivered pixels */
} SizeCheck;

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
static const guint8 png_iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

static gboolean
size_is_acceptable (int width,
                    int height)
{
  return width > 0 && height > 0 &&
         width <= OP_IMAGE_MAX_SIDE && height <= OP_IMAGE_MAX_SIDE &&
         (gint64) width * height <= OP_IMAGE_MAX_PIXELS;
}

static OpImage *
op_image_alloc (int width,
                int height,
                gboolean zero)
{
  OpImage *self;

  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail ((gint64) width * height <= G_MAXINT / 4, NULL);

  self = g_new0 (OpImage, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->width = width;
  self->height = height;
  self->stride = width * 4;
  if (zero)
    self->data = g_malloc0 ((gsize) self->stride * height);
  else
    self->data = g_malloc ((gsize) self->stride * height);

  return self;
}

static void
on_loader_size_prepared_cb (GdkPixbufLoader *loader,
                            int              width,
                            int              height,
                            SizeCheck       *check)
{
  check->width = width;
  check->height = height;

  /* Stop the loader before it allocates the pixel buffer: loaders refuse a 0×0 target. */
  if (!size_is_acceptable (width, height))
    {
      check->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

static void
on_loader_area_updated_cb (GdkPixbufLoader *loader,
                           int              x,
                           int              y,
                           int              width,
                           int              height,
                           SizeCheck       *check)
{
  check->rows_seen = MAX (check->rows_seen, y + height);
}

/* A JPEG ends with its EOI marker; tolerate a little padding after it, as cameras write. */
static gboolean
jpeg_has_end (const guint8 *data,
              gsize         len)
{
  gsize from = len > 4096 ? len - 4096 : 2;

  for (gsize i = len - 1; i > from; i--)
    if (data[i - 1] == 0xff && data[i] == 0xd9)
      return TRUE;

  return FALSE;
}

/* GdkPixbuf hands back what it decoded of a cut-off file without an error (libjpeg even
 * paints the missing rows grey); a PNG must end with its IEND chunk, a JPEG with its EOI
 * marker, and any format must have delivered every row. */
static gboolean
looks_complete (GBytes          *bytes,
                const SizeCheck *check,
                GdkPixbuf       *pixbuf)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (len >= sizeof png_signature && memcmp (data, png_signature, sizeof png_signature) == 0)
    return len >= sizeof png_signature + sizeof png_iend &&
           memcmp (data + len - sizeof png_iend, png_iend, sizeof png_iend) == 0;

  if (len >= 4 && data[0] == 0xff && data[1] == 0xd8 && !jpeg_has_end (data, len))
    return FALSE;

  return check->rows_seen >= gdk_pixbuf_get_height (pixbuf);
}

/* The profile GdkPixbuf keeps, base64, in its "icc-profile" option; NULL without one. */
static GBytes *
icc_from_pixbuf (GdkPixbuf *pixbuf)
{
  const char *icc_b64 = gdk_pixbuf_get_option (pixbuf, "icc-profile");
  gsize len = 0;
  guchar *icc;

  if (icc_b64 == NULL)
    return NULL;

  icc = g_base64_decode (icc_b64, &len);
  if (len == 0)
    {
      g_free (icc);
      return NULL;
    }

  return g_bytes_new_take (icc, len);
}

static OpImage *
image_from_pixbuf (GdkPixbuf *pixbuf)
{
  OpImage *self;
  const guint8 *src;
  int width, height, rowstride, n_channels;

  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  src = gdk_pixbuf_read_pixels (pixbuf);

  g_assert (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);
  g_assert (n_channels == 3 || n_channels == 4);

  self = op_image_alloc (width, height, FALSE);

  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * rowstride;
      guint8 *d = self->data + (gsize) y * self->stride;

      if (n_channels == 4)
        {
          memcpy (d, s, (gsize) width * 4);
          continue;
        }

      for (int x = 0; x < width; x++)
        {
          d[4 * x + 0] = s[3 * x + 0];
          d[4 * x + 1] = s[3 * x + 1];
          d[4 * x + 2] = s[3 * x + 2];
          d[4 * x + 3] = 255;
        }
    }

  self->icc_profile = icc_from_pixbuf (pixbuf);

  return self;
}

/**
 * op_image_new_from_bytes:
 * @bytes: the encoded file (PNG, JPEG, WebP, … whatever GdkPixbuf can read)
 *
 * Decodes a picture.  The declared size is checked before pixels are decoded, so a
 * file that claims 100000×100000 pixels costs nothing.  EXIF orientation is applied
 * and an embedded ICC profile kept.
 */
OpImage *
op_image_new_from_bytes (GBytes  *bytes,
                         GError **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GError) local_error = NULL;
  SizeCheck check = { FALSE, 0, 0, 0 };
  GdkPixbuf *pixbuf;
  OpImage *self;
  gboolean ok;

  g_return_val_if_fail (bytes != NULL, NULL);

  if (g_bytes_get_size (bytes) == 0)
    {
      g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_EMPTY, _("The file is empty."));
      return NULL;
    }

  loader = gdk_pixbuf_loader_new ();
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_loader_size_prepared_cb), &check);
  g_signal_connect (loader, "area-updated", G_CALLBACK (on_loader_area_updated_cb), &check);

  ok = gdk_pixbuf_loader_write_bytes (loader, bytes, &local_error);
  /* close must always run, even after a failed write */
  if (!gdk_pixbuf_loader_close (loader, ok ? &local_error : NULL))
    ok = FALSE;

  if (check.too_large)
    {
      g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_TOO_LARGE,
                   _("The picture is too large (%d × %d pixels). "
                     "Overpaint opens pictures up to %d pixels on a side and %d megapixels."),
                   check.width, check.height, OP_IMAGE_MAX_SIDE, OP_IMAGE_MAX_PIXELS / 1000000);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);

  if (!ok || pixbuf == NULL)
    {
      if (local_error != NULL &&
          g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE))
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_NOT_AN_IMAGE,
                     _("This file is not a picture Overpaint can open."));
      else if (check.width == 0)
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_NOT_AN_IMAGE,
                     _("This file is not a picture Overpaint can open."));
      else
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_CORRUPT,
                     _("The picture is damaged or incomplete (%s)."),
                     local_error != NULL ? local_error->message : _("no pixel data"));
      return NULL;
    }

  if (!looks_complete (bytes, &check, pixbuf))
    {
      g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_CORRUPT,
                   _("The picture is damaged or incomplete (the file ends too early)."));
      return NULL;
    }

  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      (gdk_pixbuf_get_n_channels (pixbuf) != 3 && gdk_pixbuf_get_n_channels (pixbuf) != 4))
    {
      g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_NOT_AN_IMAGE,
                   _("This picture uses a pixel format Overpaint cannot read."));
      return NULL;
    }

  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  self = image_from_pixbuf (oriented != NULL ? oriented : pixbuf);

  /* The oriented copy drops options; take the profile from the original (its option,
   * not a second conversion of every pixel). */
  if (self->icc_profile == NULL && oriented != NULL)
    self->icc_profile = icc_from_pixbuf (pixbuf);

  return self;
}

OpImage *
op_image_new_from_file (const char  *path,
                        GError     **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *display = NULL;
  OpImage *self;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  display = g_filename_display_basename (path);
  bytes = g_file_load_bytes (file, NULL, NULL, &local_error);
  if (bytes == NULL)
    {
      g_set_error (error, G_IO_ERROR, local_error->code,
                   _("Could not read “%s”: %s"), display, local_error->message);
      return NULL;
    }

  self = op_image_new_from_bytes (bytes, &local_error);
  if (self == NULL)
    {
      g_set_error (error, OP_IMAGE_ERROR, local_error->code,
                   _("Could not open “%s”: %s"), display, local_error->message);
      return NULL;
    }

  return self;
}

OpImage *
op_image_new (int width,
              int height)
{
  return op_image_alloc (width, height, TRUE);
}

OpImage *
op_image_new_from_data (const guint8 *rgba,
                        int           width,
                        int           height,
                        int           stride)
{
  OpImage *self;

  g_return_val_if_fail (rgba != NULL, NULL);
  g_return_val_if_fail (stride >= width * 4, NULL);

  self = op_image_alloc (width, height, FALSE);
  for (int y = 0; y < height; y++)
    memcpy (self->data + (gsize) y * self->stride, rgba + (gsize) y * stride, (gsize) width * 4);

  return self;
}

OpImage *
op_image_copy (const OpImage *self)
{
  OpImage *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = op_image_new_from_data (self->data, self->width, self->height, self->stride);
  if (self->icc_profile != NULL)
    copy->icc_profile = g_bytes_ref (self->icc_profile);

  return copy;
}

OpImage *
op_image_ref (OpImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
op_image_unref (OpImage *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_clear_pointer (&self->icc_profile, g_bytes_unref);
      g_free (self->data);
      g_free (self);
    }
}

int
op_image_get_width (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->width;
}

int
op_image_get_height (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->height;
}

int
op_image_get_stride (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->stride;
}

guint8 *
op_image_get_data (OpImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

const guint8 *
op_image_peek_data (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

gsize
op_image_get_size_bytes (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (gsize) self->stride * self->height;
}

GBytes *
op_image_get_icc_profile (const OpImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->icc_profile;
}

void
op_image_set_icc_profile (OpImage *self,
                          GBytes  *icc_profile)
{
  g_return_if_fail (self != NULL);

  if (icc_profile != NULL)
    g_bytes_ref (icc_profile);
  g_clear_pointer (&self->icc_profile, g_bytes_unref);
  self->icc_profile = icc_profile;
}

gboolean
op_image_equal (const OpImage *a,
                const OpImage *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (a->width != b->width || a->height != b->height)
    return FALSE;

  for (int y = 0; y < a->height; y++)
    if (memcmp (a->data + (gsize) y * a->stride, b->data + (gsize) y * b->stride,
                (gsize) a->width * 4) != 0)
      return FALSE;

  return TRUE;
}

OpImage *
op_image_crop (const OpImage *self,
               int            x,
               int            y,
               int            width,
               int            height)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (x >= 0 && y >= 0 && width > 0 && height > 0, NULL);
  g_return_val_if_fail (x + width <= self->width && y + height <= self->height, NULL);

  return op_image_new_from_data (self->data + (gsize) y * self->stride + (gsize) x * 4,
                                 width, height, self->stride);
}

static gboolean
image_is_opaque (const OpImage *self)
{
  for (int y = 0; y < self->height; y++)
    {
      const guint8 *row = self->data + (gsize) y * self->stride;

      for (int x = 0; x < self->width; x++)
        if (row[4 * x + 3] != 255)
          return FALSE;
    }

  return TRUE;
}

static void
png_write_to_array (png_structp  png,
                    png_bytep    data,
                    png_size_t   length)
{
  g_byte_array_append (png_get_io_ptr (png), data, length);
}

static void
png_flush_nothing (png_structp png)
{
}

static void
png_error_to_gerror (png_structp     png,
                     png_const_charp message)
{
  GError **error = png_get_error_ptr (png);

  if (error != NULL && *error == NULL)
    g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE,
                 _("Could not encode the picture as PNG: %s"), message);
  png_longjmp (png, 1);
}

static void
png_read_error_to_gerror (png_structp     png,
                          png_const_charp message)
{
  GError **error = png_get_error_ptr (png);

  if (error != NULL && *error == NULL)
    g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_CORRUPT,
                 _("The PNG file is damaged (%s)."), message);
  png_longjmp (png, 1);
}

static void
png_warning_ignore (png_structp     png,
                    png_const_charp message)
{
  g_debug ("libpng: %s", message);
}

/* libpng itself, not GdkPixbuf: GdkPixbuf 2.42 cannot write an RGB ICC profile (it sets
 * iCCP before IHDR and libpng refuses), and later we need tEXt and iTXt chunks. */
static gboolean
is_ascii (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p; p++)
    if (*p >= 0x80)
      return FALSE;

  return TRUE;
}

static void
set_text_chunks (png_structp      png,
                 png_infop        info,
                 const OpPngText *texts,
                 guint            n_texts)
{
  g_autofree png_text *chunks = g_new0 (png_text, n_texts);

  /* tEXt is Latin-1 only: anything else goes into an iTXt chunk in UTF-8, as the
   * Stable Diffusion web UI does for its parameters */
  for (guint i = 0; i < n_texts; i++)
    {
      gboolean international = texts[i].international || !is_ascii (texts[i].text);

      chunks[i].compression = international ? PNG_ITXT_COMPRESSION_NONE
                                            : PNG_TEXT_COMPRESSION_NONE;
      chunks[i].key = (png_charp) texts[i].key;
      chunks[i].text = (png_charp) texts[i].text;
      chunks[i].text_length = international ? 0 : strlen (texts[i].text);
      chunks[i].itxt_length = international ? strlen (texts[i].text) : 0;
      chunks[i].lang = international ? (png_charp) "" : NULL;
      chunks[i].lang_key = international ? (png_charp) "" : NULL;
    }

  png_set_text (png, info, chunks, (int) n_texts);
}

static gboolean
encode_png (const OpImage   *self,
            const OpPngText *texts,
            guint            n_texts,
            int              level,
            OpImageRowsFunc  rows,
            gpointer         rows_data,
            GByteArray      *out,
            GError         **error)
{
  png_structp png;
  png_infop info;
  volatile gboolean opaque = image_is_opaque (self);
  guint8 *volatile row = NULL;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, error, png_error_to_gerror,
                                 png_warning_ignore);
  info = png_create_info_struct (png);

  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_free (row);
      return FALSE;
    }

  png_set_write_fn (png, out, png_write_to_array, png_flush_nothing);
  /* Keep the profile the camera or editor wrote, even one libpng knows to be slightly off. */
  png_set_benign_errors (png, 1);
#ifdef PNG_SKIP_sRGB_CHECK_PROFILE
  png_set_option (png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
#endif
  png_set_compression_level (png, level);
  /* Opaque pictures are written as RGB: smaller files, the same pixels. */
  png_set_IHDR (png, info, self->width, self->height, 8,
                opaque ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGB_ALPHA,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);

  if (self->icc_profile != NULL)
    png_set_iCCP (png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE,
                  g_bytes_get_data (self->icc_profile, NULL),
                  (png_uint_32) g_bytes_get_size (self->icc_profile));

  if (n_texts > 0)
    set_text_chunks (png, info, texts, n_texts);

  png_write_info (png, info);

  row = g_malloc ((gsize) self->width * 4);
  for (int y = 0; y < self->height; y++)
    {
      const guint8 *src = self->data + (gsize) y * self->stride;

      if (opaque)
        {
          for (int x = 0; x < self->width; x++)
            memcpy (row + 3 * x, src + 4 * x, 3);
          png_write_row (png, row);
        }
      else
        png_write_row (png, (png_const_bytep) src);

      /* every 64 rows: often enough for a progress bar, rare enough to cost nothing */
      if (rows != NULL && ((y + 1) % 64 == 0 || y + 1 == self->height))
        rows (y + 1, rows_data);
    }

  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  g_free (row);

  return TRUE;
}

GBytes *
op_image_encode_png (const OpImage  *self,
                     GError        **error)
{
  return op_image_encode_png_with_text (self, NULL, 0, error);
}

/**
 * op_image_encode_png_with_text:
 * @texts: (array length=n_texts): text chunks to write before the pixels
 */
GBytes *
op_image_encode_png_with_text (const OpImage   *self,
                               const OpPngText *texts,
                               guint            n_texts,
                               GError         **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (texts != NULL || n_texts == 0, NULL);

  if (!encode_png (self, texts, n_texts, 6, NULL, NULL, out, error))
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/**
 * op_image_encode_png_fast:
 *
 * The same pixels, compressed less: a third quicker on an 8K picture (bench-project), for
 * projects and recovery copies where saving time matters more than a few megabytes.
 */
GBytes *
op_image_encode_png_fast (const OpImage  *self,
                          GError        **error)
{
  return op_image_encode_png_fast_full (self, NULL, NULL, error);
}

/**
 * op_image_encode_png_fast_full:
 * @rows: (nullable): told how many rows are done, every 64 rows and at the end
 *
 * op_image_encode_png_fast(), for a caller that shows how far it has come.
 */
GBytes *
op_image_encode_png_fast_full (const OpImage  *self,
                               OpImageRowsFunc rows,
                               gpointer        user_data,
                               GError        **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (!encode_png (self, NULL, 0, 1, rows, user_data, out, error))
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/**
 * op_image_save_png:
 *
 * Writes a PNG through a temporary file in the same folder and a rename, so a failed
 * write never leaves a half-written file where the old one was.
 */
gboolean
op_image_save_png (const OpImage  *self,
                   const char     *path,
                   GError        **error)
{
  return op_image_save_png_with_text (self, path, NULL, 0, error);
}

gboolean
op_image_save_png_with_text (const OpImage   *self,
                             const char      *path,
                             const OpPngText *texts,
                             guint            n_texts,
                             GError         **error)
{
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  png = op_image_encode_png_with_text (self, texts, n_texts, error);
  if (png == NULL)
    return FALSE;

  display = g_filename_display_name (path);
  /* the old file stays as it was until the new one is complete on disk */
  if (!g_file_set_contents_full (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png),
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ||
          g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_PERM) ||
          g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_ROFS))
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE,
                     _("Could not write “%s”: the folder is read-only. "
                       "Choose another folder."), display);
      else if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOSPC))
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE,
                     _("Could not write “%s”: the disk is full. "
                       "Free some space or choose another place."), display);
      else
        g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_WRITE,
                     _("Could not write “%s”: %s"), display, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* The most op_png_read_text takes of one chunk (inflated) and how many text chunks. */
#define PNG_TEXT_CHUNK_MAX  8000000
#define PNG_TEXT_CHUNKS_MAX 128

/* libpng allocates a text chunk's declared length before reading it, whatever the chunk
 * limit says: a bigger block is refused, and libpng skips the chunk as one it has no
 * memory for. */
static png_voidp
png_malloc_capped (png_structp      png,
                   png_alloc_size_t size)
{
  return size <= PNG_TEXT_CHUNK_MAX + 1 ? g_try_malloc (size) : NULL;
}

static void
png_free_plain (png_structp png,
                png_voidp   data)
{
  g_free (data);
}

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} PngReader;

static void
png_read_from_bytes (png_structp png,
                     png_bytep   out,
                     png_size_t  length)
{
  PngReader *reader = png_get_io_ptr (png);

  if (length > reader->len - reader->pos)
    png_error (png, "unexpected end of data");

  memcpy (out, reader->data + reader->pos, length);
  reader->pos += length;
}

/**
 * op_png_read_text:
 *
 * Returns: (transfer full): the tEXt, zTXt and iTXt chunks before the pixel data, by
 *   key; NULL with @error when @png is not a PNG.
 */
GHashTable *
op_png_read_text (GBytes  *png,
                  GError **error)
{
  GHashTable *volatile table = NULL;
  PngReader reader = { 0, };
  png_structp png_ptr;
  png_infop info;
  png_textp texts = NULL;
  int n = 0;

  g_return_val_if_fail (png != NULL, NULL);

  reader.data = g_bytes_get_data (png, &reader.len);
  if (reader.len < 8 || png_sig_cmp (reader.data, 0, 8) != 0)
    {
      g_set_error (error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_NOT_AN_IMAGE, _("This is not a PNG file."));
      return NULL;
    }

  png_ptr = png_create_read_struct_2 (PNG_LIBPNG_VER_STRING, error, png_read_error_to_gerror,
                                      png_warning_ignore, NULL, png_malloc_capped,
                                      png_free_plain);
  info = png_create_info_struct (png_ptr);
  if (setjmp (png_jmpbuf (png_ptr)))
    {
      png_destroy_read_struct (&png_ptr, &info, NULL);
      g_clear_pointer ((GHashTable **) &table, g_hash_table_unref);
      return NULL;
    }

  png_set_read_fn (png_ptr, &reader, png_read_from_bytes);
  /* libpng's "safe limits", which Debian's build leaves unset (they bound what a
   * compressed chunk inflates to; png_malloc_capped the chunk itself). */
  png_set_chunk_malloc_max (png_ptr, PNG_TEXT_CHUNK_MAX);
  png_set_chunk_cache_max (png_ptr, PNG_TEXT_CHUNKS_MAX);
  png_read_info (png_ptr, info);
  table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  png_get_text (png_ptr, info, &texts, &n);
  for (int i = 0; i < n; i++)
    g_hash_table_insert (table, g_strdup (texts[i].key),
                         g_strndup (texts[i].text, texts[i].itxt_length > 0
                                                   ? texts[i].itxt_length
                                                   : texts[i].text_length));
  png_destroy_read_struct (&png_ptr, &info, NULL);

  return table;
}
