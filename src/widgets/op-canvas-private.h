/* op-canvas-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-canvas.h"

G_BEGIN_DECLS

/* Rebuilds the out-of-date mask overlay tiles at the current zoom level (all of them,
 * visible or not, when @all is TRUE; else only visible ones).  Returns how many. */
guint _op_canvas_update_mask_tiles (OpCanvas *self,
                                    gboolean  all);
guint    _op_canvas_get_n_dirty_tiles (OpCanvas *self);
gboolean _op_canvas_has_pyramid       (OpCanvas *self);

G_END_DECLS
