/* op-mock-stability.h — a mock of the Stability AI REST API, for the tests.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-mock-server.h"
#include "op-request.h"

G_BEGIN_DECLS

/* The service as shared/contracts/backends.md §2 has it: the key, the accept header,
 * every multipart field's name, type and range, picture sizes and the 10 MiB limit, and
 * the mask, which must be black and white (and, when the test says which, white
 * exactly where the prepared input says to regenerate).  It answers as the service
 * does, painting the white area in the seed's colour, or fails in one of the ways the
 * service can.  Routes: /v2beta/stable-image/edit/{inpaint,outpaint},
 * /v2beta/stable-image/upscale/fast, /v1/engines/list, /v1/generation/ENGINE/
 * image-to-image/masking. */

/* The key the mock takes unless told another. */
#define OP_MOCK_STABILITY_KEY "sk-test-0123456789abcdef"
/* What the mock says it picked when asked for seed 0 ("random"). */
#define OP_MOCK_STABILITY_RANDOM_SEED 424242
#define OP_MOCK_STABILITY_V2_LIMIT (10 * 1024 * 1024)

typedef enum
{
  OP_MOCK_STABILITY_FAIL_NONE,
  OP_MOCK_STABILITY_FAIL_CREDITS,          /* 402 insufficient balance */
  OP_MOCK_STABILITY_FAIL_TOO_LARGE,        /* 413 */
  OP_MOCK_STABILITY_FAIL_LANGUAGE,         /* 422 invalid_language */
  OP_MOCK_STABILITY_FAIL_BAD_REQUEST,      /* 400 with validation details */
  OP_MOCK_STABILITY_FAIL_MODERATION,       /* 403 content_moderation */
  OP_MOCK_STABILITY_FAIL_RATE_LIMIT_ONCE,  /* 429 with Retry-After, then success */
  OP_MOCK_STABILITY_FAIL_SERVER,           /* 500 JSON */
  OP_MOCK_STABILITY_FAIL_HTML_502,         /* a gateway's HTML page */
  OP_MOCK_STABILITY_FAIL_TRUNCATED,        /* the body stops short of its Content-Length */
  OP_MOCK_STABILITY_FAIL_BAD_BASE64,       /* v1 artifact that is not base64 */
  OP_MOCK_STABILITY_FAIL_WRONG_SIZE,       /* a picture of another shape */
  OP_MOCK_STABILITY_FAIL_RESET,            /* the connection is reset */
  OP_MOCK_STABILITY_FAIL_STALL,            /* never answers */
  OP_MOCK_STABILITY_FAIL_FILTERED,         /* finish reason CONTENT_FILTERED */
} OpMockStabilityFailure;

/* The mock's state.  The test sets what it asks for before the first call and reads
 * what the mock saw once its job is over; in between the handlers, in the server's
 * thread, write under @lock. */
typedef struct
{
  OpMockServer           *server;
  GMutex                  lock;

  /* What the test asks for */
  OpMockStabilityFailure  failure;
  char                   *api_key;          /* the key it takes (OP_MOCK_STABILITY_KEY) */
  guint                   delay_ms;
  OpMask                 *expected_mask;
  OpImage                *expected_image;
  int                     expected_dirs[4]; /* left, right, up, down; -1: do not check */

  /* What the mock saw */
  guint                   n_calls;
  guint                   in_flight;
  guint                   max_in_flight;
  GPtrArray              *paths;
  GPtrArray              *refusals;         /* "name: message" of every 4xx the mock chose */
  GArray                 *seeds;            /* gint64, as sent */
  char                   *image_type;
  char                   *mask_type;
  gsize                   body_size;
  char                   *mask_source;
  char                   *grow_mask;
  char                   *negative_prompt;
  char                   *prompt;
  double                  prompt_weight;
  double                  negative_weight;
  char                   *sampler;
  char                   *steps;
  char                   *cfg_scale;
} OpMockStability;

OpMockStability *op_mock_stability_new                (void);
void             op_mock_stability_free               (OpMockStability        *mock);
void             op_mock_stability_set_failure        (OpMockStability        *mock,
                                                       OpMockStabilityFailure  failure);
void             op_mock_stability_set_api_key        (OpMockStability        *mock,
                                                       const char             *api_key);
/* Fails the test, saying why, if the mock refused a request the contract allows. */
void             op_mock_stability_assert_no_refusals (OpMockStability        *mock);
gboolean         op_mock_stability_saw_path           (OpMockStability        *mock,
                                                       const char             *path);
guint            op_mock_stability_get_n_calls        (OpMockStability        *mock);
const char      *op_mock_stability_get_url            (OpMockStability        *mock);
/* The colour the mock paints with for @seed: opaque, and different for each seed. */
void             op_mock_stability_seed_color         (gint64                  seed,
                                                       guint8                  rgb[3]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMockStability, op_mock_stability_free)

G_END_DECLS
