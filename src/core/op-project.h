/* op-project.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-document.h"

G_BEGIN_DECLS

/* Projects are OpenRaster files (a zip): `mimetype` first and stored, `stack.xml`, every
 * version's picture as a PNG layer (the current one visible) so GIMP and Krita show the
 * versions as layers, `mergedimage.png` and a thumbnail; Overpaint's own data (the
 * version tree, patches, blend and brush masks, parameters, margins, sidebar state) in
 * `overpaint/` and in attributes of our namespace in `stack.xml`. */

#define OP_PROJECT_MIME_TYPE      "image/openraster"
#define OP_PROJECT_NAMESPACE      "https://overpaint.github.io/ns/openraster/1"
#define OP_PROJECT_FORMAT_VERSION 1

/* What a project may hold: beyond any limit a file is refused before it costs memory. */
#define OP_PROJECT_MAX_ENTRIES     10000
#define OP_PROJECT_MAX_VERSIONS    2000
#define OP_PROJECT_MAX_XML_BYTES   ((gsize) 4 * 1024 * 1024)
#define OP_PROJECT_MAX_JSON_BYTES  ((gsize) 16 * 1024 * 1024)
#define OP_PROJECT_MAX_PNG_BYTES   ((gsize) 1024 * 1024 * 1024)
#define OP_PROJECT_MAX_TOTAL_BYTES ((guint64) 8 * 1024 * 1024 * 1024)

#define OP_PROJECT_ERROR (op_project_error_quark ())

typedef enum
{
  OP_PROJECT_ERROR_NOT_A_PROJECT, /* not a zip, or not OpenRaster */
  OP_PROJECT_ERROR_CORRUPT,       /* damaged, or parts that disagree */
  OP_PROJECT_ERROR_TOO_LARGE,     /* beyond the limits above */
  OP_PROJECT_ERROR_NEWER,         /* written by a newer Overpaint */
  OP_PROJECT_ERROR_WRITE,         /* could not write the file */
} OpProjectError;

GQuark op_project_error_quark (void);

/* Encoded pictures kept between saves, so an autosave after one generation encodes only
 * the new variants.  Thread safe. */
typedef struct _OpProjectCache OpProjectCache;

OpProjectCache    *op_project_cache_new        (void);
void               op_project_cache_free       (OpProjectCache    *self);

/* Everything a save writes, taken on the main thread without copying pictures (they are
 * immutable; the masks, which are not, are copied), then encoded on any thread. */
typedef struct _OpProjectSnapshot OpProjectSnapshot;

OpProjectSnapshot *op_project_snapshot_new     (OpDocument        *document,
                                                const OpParams    *sidebar);
/* The document as it will be once @versions (new variants of @parent, not yet in the
 * tree) are added and the first is current: what the recovery copy holds before the
 * variants are shown. */
OpProjectSnapshot *op_project_snapshot_new_with_variants (OpDocument     *document,
                                                const OpParams    *sidebar,
                                                OpVersion         *parent,
                                                GPtrArray         *versions);
/* A recovery copy: only Overpaint reads it, so it leaves out the versions' layers (the
 * original stays), which keeps the write after a generation quick. */
void               op_project_snapshot_set_recovery (OpProjectSnapshot *self,
                                                gboolean           recovery);
/* How far a save has come, from 0 to 1.  Called in the thread that encodes and writes,
 * so @func must only hand the number over (an atomic store, say). */
typedef void     (*OpProjectProgressFunc)      (double             fraction,
                                                gpointer           user_data);
void               op_project_snapshot_set_progress (OpProjectSnapshot   *self,
                                                OpProjectProgressFunc func,
                                                gpointer             user_data);
void               op_project_snapshot_free    (OpProjectSnapshot *self);
guint              op_project_snapshot_get_n_versions (OpProjectSnapshot *self);
GBytes            *op_project_snapshot_encode  (OpProjectSnapshot *self,
                                                OpProjectCache    *cache,
                                                GError           **error);
/* Atomic: a temporary file in the same folder, flushed to disk, then renamed over @path. */
gboolean           op_project_snapshot_write   (OpProjectSnapshot *self,
                                                const char        *path,
                                                OpProjectCache    *cache,
                                                GError           **error);

/* A project read back, ready to become a document. */
typedef struct _OpProject OpProject;

OpProject         *op_project_decode           (GBytes            *bytes,
                                                GError           **error);
OpProject         *op_project_load             (const char        *path,
                                                GError           **error);
void               op_project_free             (OpProject         *self);
OpVersion         *op_project_get_root         (OpProject         *self);
OpVersion         *op_project_get_current      (OpProject         *self);
void               op_project_get_margins      (OpProject         *self,
                                                OpMargins         *margins);
/* (element-type OpVersion OpMask) */
GHashTable        *op_project_get_brush_masks  (OpProject         *self);
guint              op_project_get_last_generation (OpProject      *self);
/* The sidebar's parameters when the project was saved, or NULL. */
const OpParams    *op_project_get_sidebar      (OpProject         *self);
/* An OpenRaster file from another program: its merged picture became the root, and
 * saving writes a new project rather than replacing it. */
gboolean           op_project_is_foreign       (OpProject         *self);
/* Makes @document show the project (its undo history starts afresh). */
void               op_project_apply            (OpProject         *self,
                                                OpDocument        *document,
                                                GFile             *file);

/* Whether @path names an OpenRaster file (by its extension). */
gboolean           op_project_is_project_path  (const char        *path);

/* Off the main thread. */
void               op_project_save_async       (OpProjectSnapshot *snapshot,
                                                GFile             *file,
                                                OpProjectCache    *cache,
                                                GCancellable      *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer           user_data);
gboolean           op_project_save_finish      (GAsyncResult      *result,
                                                GError           **error);
void               op_project_load_async       (GFile             *file,
                                                GCancellable      *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer           user_data);
OpProject         *op_project_load_finish      (GAsyncResult      *result,
                                                GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpProject, op_project_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpProjectSnapshot, op_project_snapshot_free)

G_END_DECLS
