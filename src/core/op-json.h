/* op-json.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* json-glib has no depth limit and recurses: a hostile document could exhaust the stack.
 * Whether @data nests arrays and objects at most @max_depth deep (strings skipped). */
gboolean op_json_depth_ok (const char *data,
                           gsize       length,
                           guint       max_depth);

G_END_DECLS
