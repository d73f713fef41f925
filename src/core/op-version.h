/* op-version.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "op-image.h"
#include "op-mask.h"
#include "op-request.h"

G_BEGIN_DECLS

#define OP_TYPE_VERSION (op_version_get_type ())

/* One picture in the version tree.  The root holds the opened picture; every other
 * version is a generated variant over its parent: the parent extended by margins, a
 * patch over a rectangle, and its own blend mask that the user may paint afterwards.
 * Its composite is recomputed from these, never baked until export or "use as base". */
G_DECLARE_FINAL_TYPE (OpVersion, op_version, OP, VERSION, GObject)

OpVersion       *op_version_new_root        (OpImage         *picture);
OpVersion       *op_version_new_root_from   (OpImage         *picture,
                                             OpVersion       *from);
OpVersion       *op_version_new_root_with   (OpImage         *picture,
                                             const OpParams  *params,
                                             gint64           seed,
                                             guint            generation);
OpVersion       *op_version_new_variant     (OpVersion       *parent,
                                             const OpMargins *margins,
                                             OpImage         *patch,
                                             const OpRect    *rect,
                                             OpMask          *blend,
                                             const OpParams  *params,
                                             gint64           seed,
                                             guint            generation);

OpVersion       *op_version_get_parent      (OpVersion       *self);
gboolean         op_version_is_root         (OpVersion       *self);
guint            op_version_get_n_children  (OpVersion       *self);
OpVersion       *op_version_get_child       (OpVersion       *self,
                                             guint            index);
/* Children are owned by their parent. */
void             op_version_insert_child    (OpVersion       *self,
                                             OpVersion       *child,
                                             int              position);
void             op_version_remove_child    (OpVersion       *self,
                                             OpVersion       *child);
int              op_version_index_of        (OpVersion       *self,
                                             OpVersion       *child);

int              op_version_get_width       (OpVersion       *self);
int              op_version_get_height      (OpVersion       *self);
const OpMargins *op_version_get_margins     (OpVersion       *self);
OpImage         *op_version_get_patch       (OpVersion       *self);
void             op_version_get_rect        (OpVersion       *self,
                                             OpRect          *rect);
OpMask          *op_version_get_blend       (OpVersion       *self);
/* NULL for an opened picture: nothing generated in it. */
const OpParams  *op_version_get_params      (OpVersion       *self);
gint64           op_version_get_seed        (OpVersion       *self);
guint            op_version_get_generation  (OpVersion       *self);
/* "prompt — seed 123 — Built-in fill", for tooltips and the export metadata. */
char            *op_version_dup_summary     (OpVersion       *self);

/* The picture this version shows.  Cached; a blend mask edit updates the cached picture
 * in place over the changed rectangle (op_version_update_composite). */
OpImage         *op_version_get_composite   (OpVersion       *self);
void             op_version_update_composite (OpVersion      *self,
                                             const OpRect    *rect);
void             op_version_set_composite   (OpVersion       *self,
                                             OpImage         *composite);
void             op_version_drop_composite  (OpVersion       *self);
guint            op_version_get_serial      (OpVersion       *self);
guint64          op_version_get_uid         (OpVersion       *self);

G_END_DECLS
