/* op-document.h
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

#define OP_TYPE_DOCUMENT (op_document_get_type ())

G_DECLARE_FINAL_TYPE (OpDocument, op_document, OP, DOCUMENT, GObject)

/* How much mask undo history a document keeps. */
#define OP_DOCUMENT_UNDO_BYTES ((gsize) 256 * 1024 * 1024)

OpDocument   *op_document_new              (void);

OpImage      *op_document_get_image        (OpDocument     *self);
OpMask       *op_document_get_mask         (OpDocument     *self);
GFile        *op_document_get_file         (OpDocument     *self);
char         *op_document_dup_title        (OpDocument     *self);
void          op_document_set_image        (OpDocument     *self,
                                            OpImage        *image,
                                            GFile          *file);

void          op_document_load_async       (OpDocument         *self,
                                            GFile              *file,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean      op_document_load_finish      (OpDocument         *self,
                                            GAsyncResult       *result,
                                            GError            **error);
void          op_document_load_bytes_async (OpDocument         *self,
                                            GBytes             *bytes,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean      op_document_load_bytes_finish (OpDocument        *self,
                                            GAsyncResult       *result,
                                            GError            **error);
void          op_document_export_async     (OpDocument         *self,
                                            GFile              *file,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean      op_document_export_finish    (OpDocument         *self,
                                            GAsyncResult       *result,
                                            GError            **error);

/* Mask edits: each is one undo step and emits ::mask-changed with the rectangle. */
void          op_document_stroke_begin     (OpDocument     *self,
                                            const OpBrush  *brush,
                                            double          x,
                                            double          y,
                                            double          pressure);
void          op_document_stroke_to        (OpDocument     *self,
                                            double          x,
                                            double          y,
                                            double          pressure);
void          op_document_stroke_end       (OpDocument     *self);
gboolean      op_document_is_stroking      (OpDocument     *self);
void          op_document_fill_rect        (OpDocument     *self,
                                            const OpRect   *rect,
                                            OpMaskMode      mode);
void          op_document_fill_polygon     (OpDocument     *self,
                                            const double   *xy,
                                            guint           n_points,
                                            OpMaskMode      mode);
void          op_document_invert_mask      (OpDocument     *self);
void          op_document_clear_mask       (OpDocument     *self);
void          op_document_select_all       (OpDocument     *self);
void          op_document_grow_mask        (OpDocument     *self,
                                            int             radius);
void          op_document_feather_mask     (OpDocument     *self,
                                            double          radius);

gboolean      op_document_can_undo         (OpDocument     *self);
gboolean      op_document_can_redo         (OpDocument     *self);
void          op_document_undo             (OpDocument     *self);
void          op_document_redo             (OpDocument     *self);
gsize         op_document_get_undo_bytes   (OpDocument     *self);

G_END_DECLS
