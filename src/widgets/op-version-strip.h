/* op-version-strip.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "op-document.h"

G_BEGIN_DECLS

#define OP_TYPE_VERSION_STRIP (op_version_strip_get_type ())

/* The variants of each generation as thumbnails along the bottom of the window: the
 * version they were made from ("Original"), then one group per generation.  Clicking a
 * thumbnail makes its version current.
 * Properties: document, has-variants (FALSE while there is nothing to choose from).
 * Actions: version-strip.select (u: the index among the thumbnails, "Original" is 0). */
G_DECLARE_FINAL_TYPE (OpVersionStrip, op_version_strip, OP, VERSION_STRIP, GtkWidget)

GtkWidget  *op_version_strip_new               (void);
OpDocument *op_version_strip_get_document      (OpVersionStrip *self);
void        op_version_strip_set_document      (OpVersionStrip *self,
                                                OpDocument     *document);
gboolean    op_version_strip_get_has_variants  (OpVersionStrip *self);

G_END_DECLS
