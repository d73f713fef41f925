/* op-mock-openai.h — a mock of OpenAI's image edit endpoint, for the tests.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-mock-server.h"
#include "op-request.h"

G_BEGIN_DECLS

/* POST /v1/images/edits as shared/contracts/backends.md §3 and the vendored OpenAPI
 * spec have it.  What the real server refuses the mock refuses, with OpenAI's error
 * body; what our client promises beyond that (the model always named, the size the
 * picture's own, the mask exactly our regenerate area) the mock checks too.  It answers
 * with the picture, the area to edit filled with one tint per picture asked for and a
 * little drift everywhere else, which the client's composite must undo.  The first
 * refusal of a request is recorded. */

/* The key the mock takes unless told another. */
#define OP_MOCK_OPENAI_KEY "sk-test-Overpaint0123456789-QZXW"
/* "Less than 4 MB" for dall-e-2's files and for every mask, read the strict way. */
#define OP_MOCK_OPENAI_MAX_SMALL_UPLOAD 4000000

/* How the mock misbehaves, after checking the request. */
typedef enum
{
  OP_MOCK_OPENAI_FAIL_NONE,
  OP_MOCK_OPENAI_FAIL_AUTH,
  OP_MOCK_OPENAI_FAIL_QUOTA,
  OP_MOCK_OPENAI_FAIL_RATE_LIMIT_ONCE,
  OP_MOCK_OPENAI_FAIL_MODERATION,
  OP_MOCK_OPENAI_FAIL_CONTENT_POLICY,
  OP_MOCK_OPENAI_FAIL_INVALID_SIZE,
  OP_MOCK_OPENAI_FAIL_IMAGE_TOO_LARGE,
  OP_MOCK_OPENAI_FAIL_SERVER,
  OP_MOCK_OPENAI_FAIL_HTML_502,
  OP_MOCK_OPENAI_FAIL_TRUNCATED,
  OP_MOCK_OPENAI_FAIL_BAD_BASE64,
  OP_MOCK_OPENAI_FAIL_NOT_A_PICTURE,
  OP_MOCK_OPENAI_FAIL_NO_PICTURES,
  OP_MOCK_OPENAI_FAIL_WRONG_SIZE,
  OP_MOCK_OPENAI_FAIL_RESET,
  OP_MOCK_OPENAI_FAIL_STALL,
} OpMockOpenaiFailure;

/* The mock.  Handlers run in the server's thread; what they record is read by the test
 * under @lock. */
typedef struct
{
  OpMockServer        *server;
  GMutex               lock;

  /* Set by the test, under the lock */
  OpMockOpenaiFailure  failure;
  char                *api_key;   /* the key it takes (OP_MOCK_OPENAI_KEY) */
  OpImage             *expected_input;
  OpMask              *expected_mask;

  /* Recorded by the server */
  guint                n_requests;
  char                *violation; /* the first refusal of a request */
  GHashTable          *fields;    /* the last accepted request's text fields */
  gsize                image_bytes;
  gsize                mask_bytes;
  int                  image_color_type;
  GPtrArray           *held;      /* stalled connections (GIOStream) */
  guint                n_chats;   /* accepted /v1/chat/completions */
  char                *chat_model;
  OpImage             *chat_image;
} OpMockOpenai;

#define OP_MOCK_OPENAI_CAPTION "espresso in a red cup, saucer, wooden table, warm window light"



OpMockOpenai *op_mock_openai_new                 (void);
void          op_mock_openai_free                (OpMockOpenai        *mock);
void          op_mock_openai_set_failure         (OpMockOpenai        *mock,
                                                  OpMockOpenaiFailure  failure);
void          op_mock_openai_set_api_key         (OpMockOpenai        *mock,
                                                  const char          *api_key);
guint         op_mock_openai_get_n_requests      (OpMockOpenai        *mock);
/* A text field of the last request the mock accepted. */
char         *op_mock_openai_dup_field           (OpMockOpenai        *mock,
                                                  const char          *name);
void          op_mock_openai_assert_field        (OpMockOpenai        *mock,
                                                  const char          *name,
                                                  const char          *expected);
/* Fails the test, saying why, if the mock refused a request. */
void          op_mock_openai_assert_no_violation (OpMockOpenai        *mock);
const char   *op_mock_openai_get_url             (OpMockOpenai        *mock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMockOpenai, op_mock_openai_free)

G_END_DECLS
