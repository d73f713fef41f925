/* op-mask.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "op-image.h"

G_BEGIN_DECLS

/* A rectangle in picture pixels; width or height 0 is empty. */
typedef struct
{
  int x, y, width, height;
} OpRect;

gboolean op_rect_is_empty     (const OpRect *r);
void     op_rect_union        (const OpRect *a,
                               const OpRect *b,
                               OpRect       *out);
gboolean op_rect_intersect    (const OpRect *a,
                               const OpRect *b,
                               OpRect       *out);

#define OP_TYPE_MASK (op_mask_get_type ())

/* An 8-bit coverage mask: 255 = regenerate, 0 = keep.  Rows of width bytes. */
typedef struct _OpMask OpMask;

typedef enum
{
  OP_MASK_MODE_ADD,      /* raise coverage towards the value */
  OP_MASK_MODE_SUBTRACT, /* lower coverage (eraser) */
} OpMaskMode;

/* One brush dab: round, with hardness 0..1 (1 = hard edge) and opacity 0..1. */
typedef struct
{
  double     radius;    /* in pixels, > 0 */
  double     hardness;  /* 0 = soft falloff over the whole radius, 1 = hard disc */
  double     opacity;   /* 0..1, the most one stroke can add */
  double     spacing;   /* distance between dabs as a fraction of the diameter (e.g. 0.1) */
  OpMaskMode mode;
} OpBrush;

GType        op_mask_get_type      (void) G_GNUC_CONST;

OpMask      *op_mask_new           (int            width,
                                    int            height);
OpMask      *op_mask_new_from_image (const OpImage *image,
                                    GError       **error);
OpMask      *op_mask_copy          (const OpMask  *self);
OpMask      *op_mask_ref           (OpMask        *self);
void         op_mask_unref         (OpMask        *self);

int          op_mask_get_width     (const OpMask  *self);
int          op_mask_get_height    (const OpMask  *self);
guint8      *op_mask_get_data      (OpMask        *self);
const guint8 *op_mask_peek_data    (const OpMask  *self);
gboolean     op_mask_is_empty      (const OpMask  *self);
gboolean     op_mask_get_bounds    (const OpMask  *self,
                                    OpRect        *bounds);
gboolean     op_mask_equal         (const OpMask  *a,
                                    const OpMask  *b);
OpImage     *op_mask_to_image      (const OpMask  *self);

/* Undo history of one mask.  An undo step records the 64×64 tiles an edit touches,
 * before and after, never a copy of the whole mask; the oldest steps are dropped when
 * the history holds more than max_bytes. */
typedef struct _OpMaskHistory OpMaskHistory;

OpMaskHistory *op_mask_history_new       (OpMask        *mask,
                                          gsize          max_bytes);
void          op_mask_history_free       (OpMaskHistory *self);
void          op_mask_history_begin      (OpMaskHistory *self);
void          op_mask_history_save_rect  (OpMaskHistory *self,
                                          const OpRect  *rect);
gboolean      op_mask_history_end        (OpMaskHistory *self);
gboolean      op_mask_history_can_undo   (OpMaskHistory *self);
gboolean      op_mask_history_can_redo   (OpMaskHistory *self);
gboolean      op_mask_history_undo       (OpMaskHistory *self,
                                          OpRect        *changed);
gboolean      op_mask_history_redo       (OpMaskHistory *self,
                                          OpRect        *changed);
gsize         op_mask_history_get_bytes  (OpMaskHistory *self);
guint         op_mask_history_get_n_steps (OpMaskHistory *self);

/* Edits.  @history may be NULL; when given, the edit saves what it changes into the open
 * step (between op_mask_history_begin and _end).  @changed receives the rectangle whose
 * pixels changed (empty when nothing did); it may be NULL. */
void          op_mask_fill_rect          (OpMask        *self,
                                          OpMaskHistory *history,
                                          const OpRect  *rect,
                                          OpMaskMode     mode,
                                          OpRect        *changed);
void          op_mask_fill_polygon       (OpMask        *self,
                                          OpMaskHistory *history,
                                          const double  *xy,
                                          guint          n_points,
                                          OpMaskMode     mode,
                                          OpRect        *changed);
void          op_mask_invert             (OpMask        *self,
                                          OpMaskHistory *history,
                                          OpRect        *changed);
void          op_mask_clear              (OpMask        *self,
                                          OpMaskHistory *history,
                                          OpRect        *changed);
void          op_mask_select_all         (OpMask        *self,
                                          OpMaskHistory *history,
                                          OpRect        *changed);
void          op_mask_grow               (OpMask        *self,
                                          OpMaskHistory *history,
                                          int            radius,
                                          OpRect        *changed);
void          op_mask_feather            (OpMask        *self,
                                          OpMaskHistory *history,
                                          double         radius,
                                          OpRect        *changed);

/* A brush stroke: dabs spaced along the path, so a fast pointer leaves no gaps.
 * Within one stroke dabs do not build up beyond the brush opacity. */
typedef struct _OpMaskStroke OpMaskStroke;

OpMaskStroke *op_mask_stroke_begin       (OpMask        *self,
                                          OpMaskHistory *history,
                                          const OpBrush *brush,
                                          double         x,
                                          double         y,
                                          double         pressure,
                                          OpRect        *changed);
void          op_mask_stroke_to          (OpMaskStroke  *stroke,
                                          double         x,
                                          double         y,
                                          double         pressure,
                                          OpRect        *changed);
guint         op_mask_stroke_get_n_dabs  (OpMaskStroke  *stroke);
void          op_mask_stroke_end         (OpMaskStroke  *stroke,
                                          OpRect        *changed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMask, op_mask_unref)

G_END_DECLS
