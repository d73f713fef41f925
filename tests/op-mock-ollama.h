/* op-mock-ollama.h — Ollama's /api/generate and /api/tags on 127.0.0.1
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-image.h"
#include "op-mock-server.h"

G_BEGIN_DECLS

/* What the mock answers, in Ollama's words: a model that is not pulled is 404
 * "model 'x' not found"; an image with a data: prefix is 400 "illegal base64 data at
 * input byte 4"; a request that leaves "stream" on is answered in NDJSON, as Ollama
 * does by default. */
#define OP_MOCK_OLLAMA_CAPTION "A cup of coffee on a saucer, warm light, wooden table, shallow depth of field"

typedef struct
{
  OpMockServer *server;
  GMutex        lock;

  gboolean      always_stream;     /* NDJSON even when "stream": false was asked */
  gboolean      fail_mid_stream;   /* streamed answers end with an {"error"} line */

  /* Recorded */
  guint         n_generate;
  char         *model;             /* the last request's */
  gboolean      streamed;          /* the last answer was NDJSON */
  OpImage      *image;             /* the last picture */
} OpMockOllama;

OpMockOllama *op_mock_ollama_new     (void);
void          op_mock_ollama_free    (OpMockOllama *mock);
const char   *op_mock_ollama_get_url (OpMockOllama *mock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMockOllama, op_mock_ollama_free)

G_END_DECLS
