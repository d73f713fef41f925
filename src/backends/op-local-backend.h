/* op-local-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_LOCAL_BACKEND (op_local_backend_get_type ())

/* The built-in fill (src/fill) as a backend: offline, no prompt, always there. */
G_DECLARE_FINAL_TYPE (OpLocalBackend, op_local_backend, OP, LOCAL_BACKEND, GObject)

OpLocalBackend *op_local_backend_new (void);

G_END_DECLS
