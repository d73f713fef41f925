/* op-ollama-backend.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_OLLAMA_BACKEND (op_ollama_backend_get_type ())

G_DECLARE_FINAL_TYPE (OpOllamaBackend, op_ollama_backend, OP, OLLAMA_BACKEND, GObject)

/* Describes pictures with a local vision model ("describe-model", llava by default);
 * it does not generate.  "url" defaults to http://127.0.0.1:11434. */
OpBackend *op_ollama_backend_new (void);

G_END_DECLS
