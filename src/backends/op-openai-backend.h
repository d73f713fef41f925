/* op-openai-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_OPENAI_BACKEND (op_openai_backend_get_type ())

/* OpenAI's Images API (POST /v1/images/edits) as a backend: gpt-image-1 or dall-e-2.
 * Properties: "url", "api-key" (write-only), "model" (sets the size rule), "quality"
 * (gpt-image-1) and "stall-timeout". */
G_DECLARE_FINAL_TYPE (OpOpenaiBackend, op_openai_backend, OP, OPENAI_BACKEND, GObject)

OpBackend *op_openai_backend_new (void);

G_END_DECLS
