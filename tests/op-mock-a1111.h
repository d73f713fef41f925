/* op-mock-a1111.h — a mock of the AUTOMATIC1111 / Forge web UI's API, for the tests.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "op-mock-server.h"
#include "op-request.h"

G_BEGIN_DECLS

/* The web UI's API as shared/contracts/backends.md (sections 1 and 6) has it, and
 * stricter where the real server silently does the wrong thing: field types with
 * pydantic's coercion and its 422 answers, Basic auth with the 401 body, sizes, the
 * mask convention, the batch size; answers shaped like the real ones (the init image
 * tinted where the mask says, one tint per picture of the batch); a progress endpoint
 * that moves, with a live preview, while a job runs; and the ways a real server or its
 * proxy fail.  Routes: /sdapi/v1/{img2img,progress,interrupt,sd-models,samplers,
 * schedulers}. */

#define OP_MOCK_A1111_SDXL_TITLE "sd_xl_base_1.0.safetensors [31e35c80fc]"

/* What /sdapi/v1/samplers, /sd-models (titles) and /schedulers (labels) list. */
extern const char * const op_mock_a1111_samplers[];
extern const char * const op_mock_a1111_models[];
extern const char * const op_mock_a1111_schedulers[];

typedef enum
{
  OP_MOCK_A1111_FAIL_NONE,
  OP_MOCK_A1111_FAIL_VALIDATION,     /* FastAPI's 422 with pydantic v1's details */
  OP_MOCK_A1111_FAIL_VALIDATION_V2,  /* the same from pydantic v2 (Forge), two of them */
  OP_MOCK_A1111_FAIL_EXCEPTION,      /* the web UI's wrapped 500: CUDA out of memory */
  OP_MOCK_A1111_FAIL_PROXY_HTML,     /* a reverse proxy's 502 page */
  OP_MOCK_A1111_FAIL_TRUNCATED,      /* the connection closes halfway through the body */
  OP_MOCK_A1111_FAIL_BAD_BASE64,     /* an "image" that is not base64 */
  OP_MOCK_A1111_FAIL_WRONG_SIZE,     /* a picture of another shape */
  OP_MOCK_A1111_FAIL_RESET,          /* the connection is reset instead of answered */
  OP_MOCK_A1111_FAIL_STALL,          /* nothing ever comes back, progress included */
  OP_MOCK_A1111_FAIL_NO_IMAGES,      /* "images": [] */
  OP_MOCK_A1111_FAIL_NO_API,         /* the web UI started without --api: FastAPI's 404 */
} OpMockA1111Failure;

/* How the mock behaves; handed to the server's thread by op_mock_a1111_configure (). */
typedef struct
{
  OpMockA1111Failure  failure;
  const char         *auth;         /* what --api-auth would be, or NULL */
  guint               hold_ms;      /* how long a generation takes */
  int                 answer_scale; /* answers this many times the asked size (0: 1) */
  gboolean            custom_seeds; /* all_seeds other than seed + i */
  gboolean            old_version;  /* before 1.9: no /schedulers */
} OpMockA1111Config;

/* The mock web UI.  Handlers run in the server's thread; what they record is read by
 * the test under @lock.  The running job's fields belong to the server's thread. */
typedef struct
{
  OpMockServer      *server;
  GMutex             lock;

  /* The server thread's copy of the configuration */
  OpMockA1111Config  config;
  char              *auth;

  /* Recorded */
  JsonNode          *body;               /* the last img2img request */
  GPtrArray         *unknown_keys;
  OpImage           *init_image;
  OpImage           *mask_image;
  OpMask            *mask;               /* what the server regenerates, its way */
  guint              n_img2img;
  guint              n_interrogate;
  OpImage           *interrogate_image;  /* the last picture sent to be described */
  char              *interrogate_model;
  guint              n_progress_running; /* polls while a generation ran */
  guint              n_interrupt;
  guint              n_unauthorized;

  /* The running job, server thread only */
  SoupServerMessage *held;
  char              *held_answer;
  GSource           *hold_source;
  gint64             job_started;
  guint              job_hold_ms;
  int                job_steps;
  OpImage           *job_image;
  OpMask            *job_mask;
  GPtrArray         *stalled;            /* messages never answered */
} OpMockA1111;

OpMockA1111 *op_mock_a1111_new       (void);
void         op_mock_a1111_free      (OpMockA1111             *mock);
/* Hands @config to the server's thread; it applies from the next request on. */
void         op_mock_a1111_configure (OpMockA1111             *mock,
                                      const OpMockA1111Config *config);
/* One of the mock's counters, read under its lock. */
guint        op_mock_a1111_get_count (OpMockA1111             *mock,
                                      guint                   *counter);
/* "http://127.0.0.1:PORT" */
const char  *op_mock_a1111_get_url   (OpMockA1111             *mock);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpMockA1111, op_mock_a1111_free)

G_END_DECLS
