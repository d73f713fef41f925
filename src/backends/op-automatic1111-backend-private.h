/* op-automatic1111-backend-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-automatic1111-backend.h"

G_BEGIN_DECLS

/* How long the server may leave the progress endpoint unanswered before a generation
 * gives up on it (default 120 s); the tests shorten it. */
void _op_automatic1111_backend_set_stall_timeout (OpAutomatic1111Backend *self,
                                                  guint                   seconds);

G_END_DECLS
