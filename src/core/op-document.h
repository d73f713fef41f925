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
#include "op-request.h"
#include "op-version.h"

G_BEGIN_DECLS

#define OP_TYPE_DOCUMENT (op_document_get_type ())

/* Signals, all on the main loop:
 *   image-changed ()                     another picture is shown (opened, or the current
 *                                        version changed): redraw everything
 *   picture-changed (x, y, w, h)         the shown picture changed in place (blend edit)
 *   mask-changed (x, y, w, h)            the active mask changed, picture coordinates
 *   versions-changed ()                  the version tree or the current version changed
 *   margins-changed ()                   the outpaint margins changed
 *   changed ()                           anything a project keeps changed
 * Properties: can-undo, can-redo, file, has-image, mask-target, modified. */
G_DECLARE_FINAL_TYPE (OpDocument, op_document, OP, DOCUMENT, GObject)

/* How much mask undo history a document keeps. */
#define OP_DOCUMENT_UNDO_BYTES ((gsize) 256 * 1024 * 1024)

/* What mask edits paint on: the brush mask (the region to regenerate) of the current
 * version, or the current variant's blend mask (where its result shows). */
typedef enum
{
  OP_MASK_TARGET_BRUSH,
  OP_MASK_TARGET_BLEND,
} OpMaskTarget;

OpDocument   *op_document_new              (void);

/* The current version's picture (its composite). */
OpImage      *op_document_get_image        (OpDocument     *self);
/* The mask edits paint on (see OpMaskTarget), and where its top left lies on the
 * picture: (0, 0) for the brush mask, the patch's corner for a blend mask. */
OpMask       *op_document_get_mask         (OpDocument     *self);
void          op_document_get_mask_origin  (OpDocument     *self,
                                            int            *x,
                                            int            *y);
OpMaskTarget  op_document_get_mask_target  (OpDocument     *self);
void          op_document_set_mask_target  (OpDocument     *self,
                                            OpMaskTarget    target);
/* The brush mask of the current version, whatever the target. */
OpMask       *op_document_get_brush_mask   (OpDocument     *self);

/* Versions.  Every change of the tree, of the current version and of the margins is
 * one undo step, like a mask edit. */
OpVersion    *op_document_get_root         (OpDocument     *self);
OpVersion    *op_document_get_current      (OpDocument     *self);
void          op_document_set_current      (OpDocument     *self,
                                            OpVersion      *version);
/* A new id for the variants of one Generate (OpVersion's generation). */
guint         op_document_new_generation   (OpDocument     *self);
/* Adds generated variants (versions made with op_version_new_variant under @parent)
 * and makes the first one current. */
void          op_document_add_variants     (OpDocument     *self,
                                            OpVersion      *parent,
                                            GPtrArray      *versions);
void          op_document_discard          (OpDocument     *self,
                                            OpVersion      *version);
/* Makes the current picture the new root: flattens the tree (undoable). */
void          op_document_use_as_base      (OpDocument     *self);

/* How far the next generation extends the current picture (outpainting). */
void          op_document_get_margins      (OpDocument     *self,
                                            OpMargins      *margins);
void          op_document_set_margins      (OpDocument     *self,
                                            const OpMargins *margins);

/* A snapshot of the current picture, brush mask and margins for a job. */
OpRequest    *op_document_create_request   (OpDocument     *self,
                                            const OpParams *params,
                                            GError        **error);
OpRequest    *op_document_create_request_for (OpDocument    *self,
                                            OpVersion       *version,
                                            const OpMargins *margins,
                                            const OpParams  *params,
                                            GError         **error);
GFile        *op_document_get_file         (OpDocument     *self);
char         *op_document_dup_title        (OpDocument     *self);
void          op_document_set_image        (OpDocument     *self,
                                            OpImage        *image,
                                            GFile          *file);
void          op_document_restore          (OpDocument      *self,
                                            OpVersion       *root,
                                            OpVersion       *current,
                                            const OpMargins *margins,
                                            GHashTable      *brush_masks,
                                            guint            last_generation,
                                            GFile           *file,
                                            gboolean         is_project);
OpMask       *op_document_peek_brush_mask  (OpDocument     *self,
                                            OpVersion      *version);
guint         op_document_get_last_generation (OpDocument  *self);
/* Unsaved changes.  ::changed fires on every change a project keeps (each undo step
 * made, undone or redone): autosave listens to it. */
gboolean      op_document_is_modified      (OpDocument     *self);
void          op_document_set_modified     (OpDocument     *self);
GFile        *op_document_get_project_file (OpDocument     *self);
void          op_document_saved            (OpDocument     *self,
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
                                            const char * const *texts,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
void          op_document_export_versions_async (OpDocument    *self,
                                            GPtrArray          *versions,
                                            GPtrArray          *files,
                                            GPtrArray          *texts,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
/* Finishes both exports. */
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
