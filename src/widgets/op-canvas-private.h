/* op-canvas-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-canvas.h"

G_BEGIN_DECLS

/* Side of the square texture tiles the picture and the mask overlay are drawn with. */
#define OP_CANVAS_TILE 256

/* Re-creates the mask overlay textures of tiles marked dirty (all of them, visible or
 * not, when @all is TRUE; else only visible ones).  Returns how many were rebuilt. */
guint _op_canvas_update_mask_tiles (OpCanvas *self,
                                    gboolean  all);
guint _op_canvas_get_n_dirty_tiles (OpCanvas *self);

G_END_DECLS
