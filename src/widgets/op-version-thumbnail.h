/* op-version-thumbnail.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Height of a thumbnail in the version strip, in logical pixels. */
#define OP_VERSION_THUMBNAIL_HEIGHT 80

#define OP_TYPE_VERSION_THUMBNAIL (op_version_thumbnail_get_type ())

/* One picture of the version strip: the scaled picture on a checkerboard with rounded
 * corners, a number badge, and an accent ring when it is the version on the canvas. */
G_DECLARE_FINAL_TYPE (OpVersionThumbnail, op_version_thumbnail, OP, VERSION_THUMBNAIL, GtkWidget)

GtkWidget  *op_version_thumbnail_new              (void);
/* The size a thumbnail of a @width × @height picture takes, in logical pixels. */
void        op_version_thumbnail_compute_size     (int                  width,
                                                   int                  height,
                                                   int                 *thumb_width,
                                                   int                 *thumb_height);
void        op_version_thumbnail_set_picture_size (OpVersionThumbnail  *self,
                                                   int                  width,
                                                   int                  height);
GdkTexture *op_version_thumbnail_get_texture      (OpVersionThumbnail  *self);
void        op_version_thumbnail_set_texture      (OpVersionThumbnail  *self,
                                                   GdkTexture          *texture);
guint       op_version_thumbnail_get_number       (OpVersionThumbnail  *self);
void        op_version_thumbnail_set_number       (OpVersionThumbnail  *self,
                                                   guint                number);
gboolean    op_version_thumbnail_get_selected     (OpVersionThumbnail  *self);
void        op_version_thumbnail_set_selected     (OpVersionThumbnail  *self,
                                                   gboolean             selected);

G_END_DECLS
