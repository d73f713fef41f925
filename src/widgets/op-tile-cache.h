/* op-tile-cache.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "op-image.h"
#include "op-mask.h"

G_BEGIN_DECLS

/* Side of the square textures the picture and the mask overlay are drawn with. */
#define OP_TILE_SIZE 256

/* How many times the picture is halved at most for drawing zoomed out. */
#define OP_TILE_MAX_LEVEL 6

/* The textures the canvas draws: the picture and its mask overlay cut into tiles, at
 * full size and at halved sizes (a mipmap pyramid) so a zoomed-out 8K picture draws
 * from a few hundred thousand pixels instead of 64 million.  Only tiles whose mask
 * changed are rebuilt, and only the changed part of each. */
typedef struct _OpTileCache OpTileCache;

/* @mask may be NULL (no overlay). */
OpTileCache *op_tile_cache_new              (OpImage        *image,
                                             OpMask         *mask,
                                             GFunc           pyramid_ready,
                                             gpointer        user_data);
void         op_tile_cache_free             (OpTileCache    *self);

void         op_tile_cache_set_mask         (OpTileCache    *self,
                                             OpMask         *mask,
                                             int             x,
                                             int             y);
void         op_tile_cache_invalidate_picture (OpTileCache  *self,
                                             const OpRect   *rect);
void         op_tile_cache_set_overlay      (OpTileCache    *self,
                                             const GdkRGBA  *color,
                                             double          opacity);
void         op_tile_cache_invalidate_mask  (OpTileCache    *self,
                                             const OpRect   *rect);
int          op_tile_cache_level_for_zoom   (OpTileCache    *self,
                                             double          zoom);
gboolean     op_tile_cache_has_pyramid      (OpTileCache    *self);
guint        op_tile_cache_update_mask      (OpTileCache    *self,
                                             int             level,
                                             const OpRect   *area);
guint        op_tile_cache_get_n_dirty      (OpTileCache    *self,
                                             int             level);
void         op_tile_cache_snapshot         (OpTileCache    *self,
                                             GtkSnapshot    *snapshot,
                                             double          zoom,
                                             double          offset_x,
                                             double          offset_y,
                                             const OpRect   *visible,
                                             gboolean        show_mask);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpTileCache, op_tile_cache_free)

G_END_DECLS
