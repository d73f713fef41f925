/* op-fill.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-image.h"
#include "op-mask.h"

G_BEGIN_DECLS

#define OP_FILL_ERROR (op_fill_error_quark ())

typedef enum
{
  OP_FILL_ERROR_INVALID,    /* mask of the wrong size, bad parameters */
  OP_FILL_ERROR_NO_SOURCE,  /* nothing known to copy from */
} OpFillError;

typedef struct
{
  guint64       seed;
  int           patch_size;     /* odd, 0 = default (7) */
  const OpRect *source_region;  /* NULL = the whole picture; else sources only from here */
  int           n_threads;      /* 0 = as many as cores */
} OpFillParams;

/* Called from the thread that called op_fill_run () (the filling thread), every few
 * tens of milliseconds: a fraction that never goes down and ends at exactly 1.0, and a
 * short translated stage text. */
typedef void (*OpFillProgressFunc) (double      fraction,
                                    const char *stage,
                                    gpointer    user_data);

GQuark   op_fill_error_quark (void);

void     op_fill_params_init (OpFillParams       *params);

/* Fills every pixel whose mask coverage is > 0 from the picture's own patches.
 * Pixels where the mask is 0 are returned bit for bit.  Deterministic for a seed,
 * whatever n_threads.  Cancelling stops it within a few milliseconds with
 * G_IO_ERROR_CANCELLED.  No hole: a copy.  Memory grows with the holes' crops (their
 * bounding boxes plus a context margin), about 12 bytes per crop pixel. */
OpImage *op_fill_run         (const OpImage      *picture,
                              const OpMask       *mask,
                              const OpFillParams *params,
                              OpFillProgressFunc  progress,
                              gpointer            progress_data,
                              GCancellable       *cancellable,
                              GError            **error);

/* Extends the picture by the margins and fills the new area from the original. */
OpImage *op_fill_outpaint    (const OpImage      *picture,
                              int                 left,
                              int                 right,
                              int                 top,
                              int                 bottom,
                              const OpFillParams *params,
                              OpFillProgressFunc  progress,
                              gpointer            progress_data,
                              GCancellable       *cancellable,
                              GError            **error);

G_END_DECLS
