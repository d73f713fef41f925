/* op-mask-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-mask.h"

G_BEGIN_DECLS

struct _OpMask
{
  gatomicrefcount ref_count;
  int width;
  int height;
  guint8 *data;   /* width * height bytes, rows of width */
};

/* Side of the square tiles that undo steps and brush strokes work in. */
#define OP_MASK_TILE 64

OpMask  *_op_mask_history_get_mask (OpMaskHistory *self);
gboolean _op_mask_history_is_open  (OpMaskHistory *self);

G_END_DECLS
