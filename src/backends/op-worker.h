/* op-worker.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-backend.h"

G_BEGIN_DECLS

#define OP_TYPE_JOB (op_job_get_type ())
#define OP_TYPE_JOB_STATE (op_job_state_get_type ())

G_DECLARE_FINAL_TYPE (OpJob, op_job, OP, JOB, GObject)

typedef enum
{
  OP_JOB_QUEUED,
  OP_JOB_RUNNING,
  OP_JOB_DONE,
  OP_JOB_FAILED,
  OP_JOB_CANCELLED,
} OpJobState;

GType         op_job_state_get_type  (void) G_GNUC_CONST;

/* One generated variant, ready to become a version: the patch over the context
 * rectangle (canvas coordinates), its blend mask, and the seed it used. */
typedef struct
{
  OpImage *patch;
  OpRect   rect;
  OpMask  *blend;
  gint64   seed;
  OpImage *composite;   /* the request's source with the patch blended in */
} OpVariant;

void          op_variant_free        (OpVariant *variant);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpVariant, op_variant_free)

/* A job is used on the worker's main context only.  Its state, fraction, text, preview
 * and seed are also properties that notify. */
OpRequest    *op_job_get_request     (OpJob *self);
OpBackend    *op_job_get_backend     (OpJob *self);
OpJobState    op_job_get_state       (OpJob *self);
/* 0 … 1 while running, < 0 while the backend cannot tell; 1 once done. */
double        op_job_get_fraction    (OpJob *self);
const char   *op_job_get_text        (OpJob *self);
OpImage      *op_job_get_preview     (OpJob *self);
/* The seed of the first variant: the request's, or the random one picked when the job
 * started; -1 while queued. */
gint64        op_job_get_seed        (OpJob *self);
/* The variants once done (OpVariant), else NULL. */
GPtrArray    *op_job_get_variants    (OpJob *self);
/* Why a failed job failed, else NULL. */
const GError *op_job_get_error       (OpJob *self);
/* A queued job is dropped at once (::job-finished, never ::job-started); a running one
 * stops at the backend's next check and ends CANCELLED, its results discarded. */
void          op_job_cancel          (OpJob *self);

#define OP_TYPE_WORKER (op_worker_get_type ())

/* Runs jobs one after another off the main loop.  Signals (on the main context the
 * worker was created in, never from inside op_worker_submit):
 *   job-started (OpJob), job-progress (OpJob), job-finished (OpJob) — the job's state
 *   says whether it is done, failed or cancelled.  Progress is coalesced: however often
 *   a backend reports, at most one update waits for the main loop. */
G_DECLARE_FINAL_TYPE (OpWorker, op_worker, OP, WORKER, GObject)

OpWorker     *op_worker_new          (void);
/* Returns a new reference to the queued job; it starts from the main loop. */
OpJob        *op_worker_submit       (OpWorker  *self,
                                      OpBackend *backend,
                                      OpRequest *request);
guint         op_worker_get_n_jobs   (OpWorker  *self);   /* queued + running */
OpJob        *op_worker_get_current  (OpWorker  *self);
void          op_worker_cancel_all   (OpWorker  *self);

G_END_DECLS
