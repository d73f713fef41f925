/* op-image.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Largest picture we accept: beyond either limit a file is refused before decoding.
 * The fuzzing build (-Dfuzzing=true) lowers the pixel limit: a 300-byte file may declare
 * 40 megapixels, and converting those under ASan takes longer than a fuzzer waits; the
 * code that converts them does not depend on the size. */
#define OP_IMAGE_MAX_SIDE   16384
#ifndef OP_IMAGE_MAX_PIXELS
#define OP_IMAGE_MAX_PIXELS (100 * 1000 * 1000)
#endif

#define OP_IMAGE_ERROR (op_image_error_quark ())

typedef enum
{
  OP_IMAGE_ERROR_EMPTY,        /* zero-byte file */
  OP_IMAGE_ERROR_NOT_AN_IMAGE, /* no loader recognises it */
  OP_IMAGE_ERROR_TOO_LARGE,    /* declared size beyond the limits */
  OP_IMAGE_ERROR_CORRUPT,      /* truncated or damaged data */
  OP_IMAGE_ERROR_WRITE,        /* could not write the file */
} OpImageError;

#define OP_TYPE_IMAGE (op_image_get_type ())

/* An RGBA8 picture, straight (not premultiplied) alpha, rows of width * 4 bytes.
 * Reference counted; treat a shared image as immutable (copy before writing). */
typedef struct _OpImage OpImage;

GQuark    op_image_error_quark      (void);
GType     op_image_get_type         (void) G_GNUC_CONST;

OpImage  *op_image_new              (int            width,
                                     int            height);
OpImage  *op_image_new_from_data    (const guint8  *rgba,
                                     int            width,
                                     int            height,
                                     int            stride);
OpImage  *op_image_new_from_file    (const char    *path,
                                     GError       **error);
OpImage  *op_image_new_from_bytes   (GBytes        *bytes,
                                     GError       **error);
OpImage  *op_image_copy             (const OpImage *self);
OpImage  *op_image_ref              (OpImage       *self);
void      op_image_unref            (OpImage       *self);

int       op_image_get_width        (const OpImage *self);
int       op_image_get_height       (const OpImage *self);
int       op_image_get_stride       (const OpImage *self);
guint8   *op_image_get_data         (OpImage       *self);
const guint8 *op_image_peek_data    (const OpImage *self);
gsize     op_image_get_size_bytes   (const OpImage *self);

GBytes   *op_image_get_icc_profile  (const OpImage *self);
void      op_image_set_icc_profile  (OpImage       *self,
                                     GBytes        *icc_profile);

gboolean  op_image_equal            (const OpImage *a,
                                     const OpImage *b);
OpImage  *op_image_crop             (const OpImage *self,
                                     int            x,
                                     int            y,
                                     int            width,
                                     int            height);

/* A text chunk: tEXt when the text is ASCII, else (or when asked) iTXt in UTF-8. */
typedef struct
{
  const char *key;
  const char *text;
  gboolean    international;
} OpPngText;

/* PNG with atomic replace: a temporary file in the same folder, then rename. */
gboolean  op_image_save_png         (const OpImage *self,
                                     const char    *path,
                                     GError       **error);
GBytes   *op_image_encode_png       (const OpImage *self,
                                     GError       **error);
GBytes   *op_image_encode_png_fast  (const OpImage *self,
                                     GError       **error);
/* Called after each row is compressed, in the thread that encodes. */
typedef void (*OpImageRowsFunc) (int      rows_done,
                                 gpointer user_data);
GBytes   *op_image_encode_png_fast_full (const OpImage  *self,
                                         OpImageRowsFunc rows,
                                         gpointer        user_data,
                                         GError        **error);
gboolean  op_image_save_png_with_text (const OpImage   *self,
                                       const char      *path,
                                       const OpPngText *texts,
                                       guint            n_texts,
                                       GError         **error);
GBytes   *op_image_encode_png_with_text (const OpImage   *self,
                                         const OpPngText *texts,
                                         guint            n_texts,
                                         GError         **error);
/* The text chunks of a PNG file (key → text), for tests and PNG Info. */
GHashTable *op_png_read_text        (GBytes        *png,
                                     GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpImage, op_image_unref)

G_END_DECLS
