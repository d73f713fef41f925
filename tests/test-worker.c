/* test-worker.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-worker"

#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "op-backend.h"
#include "op-local-backend.h"
#include "op-worker.h"

/* The backends' contract and the worker: queueing, cancelling, failing, progress, and
 * above all that the main loop keeps turning while a big job runs. */

#define JOB_TIMEOUT_S 120

static GThread *main_thread;

/* Helpers */

static OpImage *
load_sample (const char *name)
{
  const char *dir = g_getenv ("OVERPAINT_SAMPLES");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  OpImage *image;

  if (dir != NULL)
    path = g_build_filename (dir, name, NULL);
  else
    path = g_test_build_filename (G_TEST_DIST, "..", "data", "samples", name, NULL);

  image = op_image_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);

  return image;
}

static OpImage *
load_chelsea (void)
{
  OpImage *image = load_sample ("chelsea.png");

  g_assert_cmpint (op_image_get_width (image), ==, 451);
  g_assert_cmpint (op_image_get_height (image), ==, 300);

  return image;
}

static OpParams *
make_params (const char    *backend,
             gint64         seed,
             int            n_variants,
             OpContextMode  context)
{
  OpParams *params = op_params_new ();

  g_free (params->backend);
  params->backend = g_strdup (backend);
  params->seed = seed;
  params->n_variants = n_variants;
  params->context = context;

  return params;
}

static OpRequest *
make_request_full (OpImage       *image,
                   const OpRect  *hole,
                   const char    *backend,
                   gint64         seed,
                   int            n_variants,
                   OpContextMode  context)
{
  g_autoptr(OpParams) params = make_params (backend, seed, n_variants, context);
  g_autoptr(OpMask) mask = NULL;
  g_autoptr(GError) error = NULL;
  OpRequest *request;

  mask = op_mask_new (op_image_get_width (image), op_image_get_height (image));
  op_mask_fill_rect (mask, NULL, hole, OP_MASK_MODE_ADD, NULL);

  request = op_request_new (image, mask, NULL, params, &error);
  g_assert_no_error (error);
  g_assert_nonnull (request);

  return request;
}

/* A 60 × 50 hole on the cat's flank: small enough to fill in a fraction of a second. */
static OpRequest *
make_chelsea_request (gint64 seed,
                      int    n_variants)
{
  g_autoptr(OpImage) image = load_chelsea ();
  OpRect hole = { 300, 180, 60, 50 };

  return make_request_full (image, &hole, "local", seed, n_variants, OP_CONTEXT_MASKED);
}

static gboolean
job_is_finished (OpJob *job)
{
  OpJobState state = op_job_get_state (job);

  return state == OP_JOB_DONE || state == OP_JOB_FAILED || state == OP_JOB_CANCELLED;
}

static void
wait_for_job (OpJob *job)
{
  gint64 deadline = g_get_monotonic_time () + JOB_TIMEOUT_S * G_USEC_PER_SEC;

  while (!job_is_finished (job))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *fired = user_data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Turns the loop for @ms, so late signals, if any, get their chance. */
static void
spin_loop (guint ms)
{
  gboolean fired = FALSE;

  g_timeout_add (ms, timeout_cb, &fired);
  while (!fired)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_done (OpJob *job)
{
  const GError *error = op_job_get_error (job);

  if (error != NULL)
    g_test_message ("unexpected failure: %s", error->message);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_DONE);
  g_assert_null (error);
  g_assert_nonnull (op_job_get_variants (job));
}

/* What a worker said, in order; checks every signal arrives on the main thread. */
typedef struct
{
  GString   *log;          /* "s1 p1 f1 …": started, progress, finished, by job index */
  GPtrArray *jobs;         /* to name jobs by index */
  GArray    *fractions;    /* of every ::job-progress, in order */
  guint      n_started;
  guint      n_progress;
  guint      n_finished;
  gint64     finished_at;
  guint      progress_sleep_us;
} Recorder;

static int
recorder_index (Recorder *rec,
                OpJob    *job)
{
  guint index;

  if (!g_ptr_array_find (rec->jobs, job, &index))
    return -1;

  return (int) index + 1;
}

static void
on_job_started_cb (OpWorker *worker,
                   OpJob    *job,
                   Recorder *rec)
{
  g_assert_true (g_thread_self () == main_thread);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_RUNNING);
  g_assert_true (op_worker_get_current (worker) == job);

  rec->n_started++;
  g_string_append_printf (rec->log, "s%d ", recorder_index (rec, job));
}

static void
on_job_progress_cb (OpWorker *worker,
                    OpJob    *job,
                    Recorder *rec)
{
  double fraction = op_job_get_fraction (job);

  g_assert_true (g_thread_self () == main_thread);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_RUNNING);

  rec->n_progress++;
  g_array_append_val (rec->fractions, fraction);

  /* A slow handler, like a redraw, to show reports pile up into one update. */
  if (rec->progress_sleep_us > 0)
    g_usleep (rec->progress_sleep_us);
}

static void
on_job_finished_cb (OpWorker *worker,
                    OpJob    *job,
                    Recorder *rec)
{
  g_assert_true (g_thread_self () == main_thread);
  g_assert_true (job_is_finished (job));
  g_assert_true (op_worker_get_current (worker) != job);

  rec->n_finished++;
  rec->finished_at = g_get_monotonic_time ();
  g_string_append_printf (rec->log, "f%d ", recorder_index (rec, job));
}

static void
recorder_init (Recorder *rec,
               OpWorker *worker)
{
  memset (rec, 0, sizeof *rec);
  rec->log = g_string_new (NULL);
  rec->jobs = g_ptr_array_new ();
  rec->fractions = g_array_new (FALSE, FALSE, sizeof (double));

  g_signal_connect (worker, "job-started", G_CALLBACK (on_job_started_cb), rec);
  g_signal_connect (worker, "job-progress", G_CALLBACK (on_job_progress_cb), rec);
  g_signal_connect (worker, "job-finished", G_CALLBACK (on_job_finished_cb), rec);
}

static void
recorder_clear (Recorder *rec)
{
  g_string_free (rec->log, TRUE);
  g_ptr_array_unref (rec->jobs);
  g_array_unref (rec->fractions);
}

static OpJob *
recorder_submit (Recorder  *rec,
                 OpWorker  *worker,
                 OpBackend *backend,
                 OpRequest *request)
{
  OpJob *job = op_worker_submit (worker, backend, request);

  g_ptr_array_add (rec->jobs, job);
  return job;
}

/* Every known fraction at least the one before, and the last one 1. */
static void
assert_progress_monotonic (Recorder *rec)
{
  double last = 0.0;

  g_assert_cmpuint (rec->fractions->len, >, 0);
  for (guint i = 0; i < rec->fractions->len; i++)
    {
      double f = g_array_index (rec->fractions, double, i);

      if (f < 0)
        continue;
      g_assert_cmpfloat (f, >=, last);
      g_assert_cmpfloat (f, <=, 1.0);
      last = f;
    }
  g_assert_cmpfloat (last, ==, 1.0);
}

/* A fake backend, to make a job fail every way a real one could */

typedef enum
{
  FAKE_OK,            /* returns the input, unchanged */
  FAKE_ERROR,         /* fails with an error */
  FAKE_NULL,          /* returns NULL and no error */
  FAKE_EMPTY,         /* returns no results */
  FAKE_WRONG_SIZE,    /* returns a picture of another shape */
  FAKE_BAD_RULE,      /* a size rule no size satisfies: preparing fails */
  FAKE_FLOOD,         /* reports progress 1000 times, 50 µs apart */
  FAKE_FLOOD_BLOCKED, /* 1000 times at once, while the main thread waits for it */
  FAKE_HANG,          /* runs until cancelled, checking every millisecond */
} FakeMode;

#define FAKE_N_REPORTS 1000

#define TEST_TYPE_FAKE_BACKEND (test_fake_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestFakeBackend, test_fake_backend, TEST, FAKE_BACKEND, GObject)

struct _TestFakeBackend
{
  GObject parent_instance;

  FakeMode mode;
  gint64   flood_us;      /* how long the last flood took */
  GMutex   lock;
  GCond    cond;
  gboolean flooded;
};

static void test_fake_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFakeBackend, test_fake_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND,
                                                      test_fake_backend_iface_init))

typedef struct
{
  TestFakeBackend *self;
  OpImage         *input;
  gint64           seed;
  int              n_variants;
  OpProgressFunc   progress;
  gpointer         progress_data;
} FakeData;

static void
fake_data_free (FakeData *data)
{
  g_clear_pointer (&data->input, op_image_unref);
  g_free (data);
}

static void
fake_flood (FakeData *data)
{
  gint64 start = g_get_monotonic_time ();

  for (int i = 1; i <= FAKE_N_REPORTS; i++)
    {
      data->progress ((double) i / FAKE_N_REPORTS, "Fake step", NULL, data->progress_data);
      /* Quick, but slow enough for the main loop to take several updates meanwhile. */
      if (data->self->mode == FAKE_FLOOD)
        g_usleep (50);
    }
  data->self->flood_us = g_get_monotonic_time () - start;

  g_mutex_lock (&data->self->lock);
  data->self->flooded = TRUE;
  g_cond_signal (&data->self->cond);
  g_mutex_unlock (&data->self->lock);
}

static void
fake_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  FakeData *data = task_data;
  g_autoptr(GPtrArray) results = NULL;

  results = g_ptr_array_new_with_free_func ((GDestroyNotify) op_result_free);

  switch (data->self->mode)
    {
    case FAKE_ERROR:
      g_task_return_new_error (task, OP_BACKEND_ERROR, OP_BACKEND_ERROR_FAILED,
                               "The fake server is on fire.");
      return;

    case FAKE_NULL:
      g_task_return_pointer (task, NULL, NULL);
      return;

    case FAKE_EMPTY:
      g_task_return_pointer (task, g_steal_pointer (&results),
                             (GDestroyNotify) g_ptr_array_unref);
      return;

    case FAKE_WRONG_SIZE:
      {
        g_autoptr(OpImage) odd = op_image_new (op_image_get_width (data->input),
                                               op_image_get_width (data->input) * 3);

        g_ptr_array_add (results, op_result_new (odd, data->seed));
        g_task_return_pointer (task, g_steal_pointer (&results),
                               (GDestroyNotify) g_ptr_array_unref);
        return;
      }

    case FAKE_HANG:
      while (!g_cancellable_is_cancelled (cancellable))
        g_usleep (1000);
      g_task_return_error_if_cancelled (task);
      return;

    case FAKE_FLOOD:
    case FAKE_FLOOD_BLOCKED:
      fake_flood (data);
      break;

    case FAKE_OK:
    case FAKE_BAD_RULE:
    default:
      break;
    }

  for (int k = 0; k < data->n_variants; k++)
    g_ptr_array_add (results, op_result_new (data->input, data->seed + k));

  g_task_return_pointer (task, g_steal_pointer (&results), (GDestroyNotify) g_ptr_array_unref);
}

static const char *
test_fake_backend_get_id (OpBackend *backend)
{
  return "fake";
}

static void
test_fake_backend_get_size_rule (OpBackend  *backend,
                                 OpSizeRule *rule)
{
  TestFakeBackend *self = TEST_FAKE_BACKEND (backend);

  if (self->mode == FAKE_BAD_RULE)
    {
      /* Multiples of 64 no larger than 32: nothing fits. */
      rule->multiple = 64;
      rule->max_side = 32;
    }
}

static void
test_fake_backend_generate_async (OpBackend             *backend,
                                  const OpGenerateInput *input,
                                  GCancellable          *cancellable,
                                  GAsyncReadyCallback    callback,
                                  gpointer               user_data)
{
  TestFakeBackend *self = TEST_FAKE_BACKEND (backend);
  g_autoptr(GTask) task = NULL;
  FakeData *data;

  data = g_new0 (FakeData, 1);
  data->self = self;
  data->input = op_image_ref (op_prepared_get_input (input->prepared));
  data->seed = input->seed;
  data->n_variants = input->params->n_variants;
  data->progress = input->progress;
  data->progress_data = input->progress_data;

  task = g_task_new (backend, cancellable, callback, user_data);
  g_task_set_source_tag (task, test_fake_backend_generate_async);
  g_task_set_task_data (task, data, (GDestroyNotify) fake_data_free);

  self->flooded = FALSE;
  g_task_run_in_thread (task, fake_thread);

  /* Holds the main loop until every report is in, so whatever the thread schedules is
   * waiting when the loop turns again. */
  if (self->mode == FAKE_FLOOD_BLOCKED)
    {
      g_mutex_lock (&self->lock);
      while (!self->flooded)
        g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);
    }
}

static GPtrArray *
test_fake_backend_generate_finish (OpBackend     *backend,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_assert_true (g_task_is_valid (result, backend));

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_fake_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = test_fake_backend_get_id;
  iface->get_size_rule = test_fake_backend_get_size_rule;
  iface->generate_async = test_fake_backend_generate_async;
  iface->generate_finish = test_fake_backend_generate_finish;
}

static void
test_fake_backend_finalize (GObject *object)
{
  TestFakeBackend *self = TEST_FAKE_BACKEND (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (test_fake_backend_parent_class)->finalize (object);
}

static void
test_fake_backend_class_init (TestFakeBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_fake_backend_finalize;
}

static void
test_fake_backend_init (TestFakeBackend *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
}

static OpBackend *
fake_backend_new (FakeMode mode)
{
  TestFakeBackend *self = g_object_new (TEST_TYPE_FAKE_BACKEND, NULL);

  self->mode = mode;
  return OP_BACKEND (self);
}

/* Backends */

static const struct
{
  OpParamFlags param;
  gboolean     used;
} local_params[] = {
  { OP_PARAM_PROMPT, FALSE },
  { OP_PARAM_NEGATIVE_PROMPT, FALSE },
  { OP_PARAM_SEED, TRUE },
  { OP_PARAM_VARIANTS, TRUE },
  { OP_PARAM_STEPS, FALSE },
  { OP_PARAM_CFG, FALSE },
  { OP_PARAM_STRENGTH, FALSE },
  { OP_PARAM_SAMPLER, FALSE },
  { OP_PARAM_MODEL, FALSE },
};

static void
test_local_metadata (void)
{
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  OpSizeRule rule;

  g_assert_cmpstr (op_backend_get_id (backend), ==, "local");
  g_assert_cmpstr (op_backend_get_name (backend), !=, "");
  g_assert_cmpint (op_backend_get_capabilities (backend), ==,
                   OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_PROGRESS);
  g_assert_cmpint (op_backend_get_parameters (backend), ==,
                   OP_PARAM_SEED | OP_PARAM_VARIANTS);

  for (guint i = 0; i < G_N_ELEMENTS (local_params); i++)
    {
      const char *why = op_backend_explain_parameter (backend, local_params[i].param);

      if (local_params[i].used)
        {
          g_assert_null (why);
          continue;
        }

      g_assert_nonnull (why);
      g_assert_cmpuint (strlen (why), >, 10);
    }

  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpint (rule.multiple, ==, 1);
  g_assert_cmpint (rule.max_pixels, ==, 0);   /* full resolution, always */
  g_assert_null (rule.sizes);
}

/* A backend that leaves out the optional parts still answers sensibly. */
static void
test_fake_defaults (void)
{
  g_autoptr(OpBackend) backend = fake_backend_new (FAKE_OK);
  OpSizeRule rule;

  g_assert_cmpstr (op_backend_get_name (backend), ==, "fake");
  g_assert_cmpint (op_backend_get_capabilities (backend), ==, 0);
  g_assert_nonnull (op_backend_explain_parameter (backend, OP_PARAM_PROMPT));

  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpint (rule.multiple, ==, 1);
  g_assert_cmpint (rule.max_pixels, ==, 0);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *result;
}

static void
test_local_not_supported (void)
{
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpImage) image = op_image_new (8, 8);
  g_autoptr(GAsyncResult) describe = NULL;
  g_autoptr(GAsyncResult) models = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prompt = NULL;
  g_auto(GStrv) names = NULL;

  op_backend_describe_async (backend, image, NULL, store_result_cb, &describe);
  prompt = op_backend_describe_finish (backend, wait_for_result (&describe), &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (prompt);
  g_clear_error (&error);

  op_backend_list_models_async (backend, NULL, store_result_cb, &models);
  names = op_backend_list_models_finish (backend, wait_for_result (&models), &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (names);
}

static void
test_backend_ids (void)
{
  const char * const *ids = op_backend_list_ids ();
  g_autoptr(OpBackend) local = NULL;
  g_autoptr(OpBackend) unknown = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_strv_contains (ids, "local"));

  local = op_backend_new_for_id ("local", &error);
  g_assert_no_error (error);
  g_assert_true (OP_IS_LOCAL_BACKEND (local));

  unknown = op_backend_new_for_id ("dalle-9000", &error);
  g_assert_null (unknown);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "dalle-9000"));
  g_assert_nonnull (strstr (error->message, "local"));
  g_test_message ("%s", error->message);
}

/* Jobs on the local backend */

static void
test_local_variants (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpRequest) request = make_chelsea_request (1234, 4);
  g_autoptr(OpJob) job = NULL;
  GPtrArray *variants;
  gboolean some_differ = FALSE;
  Recorder rec;

  recorder_init (&rec, worker);
  job = recorder_submit (&rec, worker, backend, request);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_QUEUED);
  g_assert_cmpint (op_job_get_seed (job), ==, -1);
  g_assert_true (op_job_get_request (job) == request);
  g_assert_true (op_job_get_backend (job) == backend);

  wait_for_job (job);
  assert_done (job);
  g_assert_cmpstr (rec.log->str, ==, "s1 f1 ");
  g_assert_cmpint (op_job_get_seed (job), ==, 1234);
  g_assert_cmpfloat (op_job_get_fraction (job), ==, 1.0);
  assert_progress_monotonic (&rec);
  g_test_message ("%u progress updates", rec.n_progress);

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 4);
  for (guint i = 0; i < variants->len; i++)
    {
      OpVariant *v = g_ptr_array_index (variants, i);
      OpVariant *first = g_ptr_array_index (variants, 0);

      g_assert_cmpint (v->seed, ==, 1234 + i);
      g_assert_cmpint (op_image_get_width (v->patch), ==, v->rect.width);
      g_assert_cmpint (op_image_get_height (v->patch), ==, v->rect.height);
      g_assert_cmpint (op_mask_get_width (v->blend), ==, v->rect.width);
      g_assert_cmpint (op_mask_get_height (v->blend), ==, v->rect.height);
      /* The context holds the hole. */
      g_assert_cmpint (v->rect.x, <=, 300);
      g_assert_cmpint (v->rect.x + v->rect.width, >=, 360);
      /* Each variant owns its blend, to be painted on alone. */
      if (i > 0)
        {
          g_assert_true (v->blend != first->blend);
          g_assert_true (op_mask_equal (v->blend, first->blend));
          some_differ |= !op_image_equal (v->patch, first->patch);
        }
    }
  g_assert_true (some_differ);

  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 0);
  g_assert_null (op_worker_get_current (worker));
  recorder_clear (&rec);
}

static GPtrArray *
run_local_job (OpWorker *worker,
               gint64    seed,
               int       n_variants,
               gint64   *job_seed)
{
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpRequest) request = make_chelsea_request (seed, n_variants);
  g_autoptr(OpJob) job = op_worker_submit (worker, backend, request);

  wait_for_job (job);
  assert_done (job);
  *job_seed = op_job_get_seed (job);

  return g_ptr_array_ref (op_job_get_variants (job));
}

static void
test_local_locked_seed (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  gint64 seed_a, seed_b;

  a = run_local_job (worker, 77, 2, &seed_a);
  b = run_local_job (worker, 77, 2, &seed_b);
  g_assert_cmpint (seed_a, ==, 77);
  g_assert_cmpint (seed_b, ==, 77);

  for (guint i = 0; i < 2; i++)
    {
      OpVariant *va = g_ptr_array_index (a, i);
      OpVariant *vb = g_ptr_array_index (b, i);

      g_assert_cmpint (va->seed, ==, vb->seed);
      g_assert_true (memcmp (&va->rect, &vb->rect, sizeof va->rect) == 0);
      g_assert_true (op_image_equal (va->patch, vb->patch));
    }
}

static void
test_local_random_seed (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(GPtrArray) variants = NULL;
  gint64 seed;

  variants = run_local_job (worker, -1, 2, &seed);
  g_test_message ("random seed %" G_GINT64_FORMAT, seed);
  g_assert_cmpint (seed, >=, 0);
  g_assert_cmpint (seed, <=, G_MAXINT32);

  for (guint i = 0; i < variants->len; i++)
    g_assert_cmpint (((OpVariant *) g_ptr_array_index (variants, i))->seed, ==, seed + i);
}

/* The queue */

static void
test_queue_order (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  OpJob *jobs[3];
  Recorder rec;

  recorder_init (&rec, worker);
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_autoptr(OpRequest) request = make_chelsea_request (i, 1);

      jobs[i] = recorder_submit (&rec, worker, backend, request);
      g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, i + 1);
    }

  /* Nothing starts inside submit. */
  g_assert_null (op_worker_get_current (worker));
  g_assert_cmpuint (rec.n_started, ==, 0);

  wait_for_job (jobs[0]);
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 2);
  wait_for_job (jobs[2]);
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 0);

  g_assert_cmpstr (rec.log->str, ==, "s1 f1 s2 f2 s3 f3 ");
  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      assert_done (jobs[i]);
      g_object_unref (jobs[i]);
    }
  recorder_clear (&rec);
}

static void
test_queue_cancel_queued (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpRequest) request = make_chelsea_request (5, 1);
  g_autoptr(OpJob) first = NULL;
  g_autoptr(OpJob) second = NULL;
  g_autoptr(OpJob) third = NULL;
  Recorder rec;

  recorder_init (&rec, worker);
  first = recorder_submit (&rec, worker, backend, request);
  second = recorder_submit (&rec, worker, backend, request);
  third = recorder_submit (&rec, worker, backend, request);
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 3);

  op_job_cancel (second);
  g_assert_cmpint (op_job_get_state (second), ==, OP_JOB_CANCELLED);
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 2);
  g_assert_cmpstr (rec.log->str, ==, "f2 ");

  wait_for_job (first);
  /* Cancelling the third while the first runs or just after: it never starts either. */
  op_job_cancel (third);
  spin_loop (200);

  assert_done (first);
  g_assert_cmpint (op_job_get_state (third), ==, OP_JOB_CANCELLED);
  g_assert_null (op_job_get_variants (second));
  g_assert_null (op_job_get_error (second));
  g_assert_cmpint (op_job_get_seed (second), ==, -1);
  g_assert_cmpstr (rec.log->str, ==, "f2 s1 f1 f3 ");
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 0);

  /* Cancelling what is over does nothing. */
  op_job_cancel (first);
  op_job_cancel (second);
  g_assert_cmpint (op_job_get_state (first), ==, OP_JOB_DONE);
  recorder_clear (&rec);
}

static void
run_cancel_running (OpBackend  *backend,
                    OpRequest  *request,
                    const char *what)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpJob) job = NULL;
  g_autoptr(OpJob) next = NULL;
  g_autoptr(OpRequest) small = make_chelsea_request (3, 1);
  g_autoptr(OpBackend) local = OP_BACKEND (op_local_backend_new ());
  gint64 cancelled_at = 0;
  double elapsed_ms;
  Recorder rec;

  recorder_init (&rec, worker);
  job = recorder_submit (&rec, worker, backend, request);
  next = recorder_submit (&rec, worker, local, small);

  while (op_job_get_state (job) != OP_JOB_RUNNING || op_job_get_fraction (job) < 0.05)
    {
      g_assert_false (job_is_finished (job));
      g_main_context_iteration (NULL, TRUE);
    }

  cancelled_at = g_get_monotonic_time ();
  op_job_cancel (job);
  wait_for_job (job);
  elapsed_ms = (rec.finished_at - cancelled_at) / 1000.0;

  g_test_message ("%s: cancelled at %.0f%%, finished %.1f ms later", what,
                  100 * op_job_get_fraction (job), elapsed_ms);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_CANCELLED);
  g_assert_null (op_job_get_variants (job));
  g_assert_null (op_job_get_error (job));
  g_assert_cmpfloat (elapsed_ms, <, 1000.0);

  /* The queue goes on. */
  wait_for_job (next);
  assert_done (next);
  g_assert_cmpstr (rec.log->str, ==, "s1 f1 s2 f2 ");
  recorder_clear (&rec);
}

/* 8 variants with a large hole on chelsea: seconds of filling, cancelled early on. */
static void
test_cancel_running_local (void)
{
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpImage) image = load_chelsea ();
  OpRect hole = { 100, 60, 250, 180 };
  g_autoptr(OpRequest) request = NULL;

  request = make_request_full (image, &hole, "local", 9, 8, OP_CONTEXT_MASKED);
  run_cancel_running (backend, request, "local fill");
}

static void
test_cancel_all (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) hang = fake_backend_new (FAKE_HANG);
  g_autoptr(OpRequest) request = make_chelsea_request (1, 1);
  g_autoptr(OpJob) running = NULL;
  g_autoptr(OpJob) queued = NULL;
  Recorder rec;

  recorder_init (&rec, worker);
  running = recorder_submit (&rec, worker, hang, request);
  queued = recorder_submit (&rec, worker, hang, request);
  while (op_job_get_state (running) != OP_JOB_RUNNING)
    g_main_context_iteration (NULL, TRUE);

  op_worker_cancel_all (worker);
  g_assert_cmpint (op_job_get_state (queued), ==, OP_JOB_CANCELLED);
  wait_for_job (running);
  g_assert_cmpint (op_job_get_state (running), ==, OP_JOB_CANCELLED);
  g_assert_cmpstr (rec.log->str, ==, "s1 f2 f1 ");
  g_assert_cmpuint (op_worker_get_n_jobs (worker), ==, 0);
  recorder_clear (&rec);
}

/* Dropping the worker stops everything and nothing calls back into it. */
static void
test_dispose_cancels (void)
{
  g_autoptr(OpBackend) hang = fake_backend_new (FAKE_HANG);
  g_autoptr(OpRequest) request = make_chelsea_request (1, 1);
  g_autoptr(OpJob) running = NULL;
  g_autoptr(OpJob) queued = NULL;
  OpWorker *worker = op_worker_new ();

  running = op_worker_submit (worker, hang, request);
  queued = op_worker_submit (worker, hang, request);
  while (op_job_get_state (running) != OP_JOB_RUNNING)
    g_main_context_iteration (NULL, TRUE);

  g_assert_finalize_object (worker);
  g_assert_cmpint (op_job_get_state (queued), ==, OP_JOB_CANCELLED);
  wait_for_job (running);
  g_assert_cmpint (op_job_get_state (running), ==, OP_JOB_CANCELLED);
  spin_loop (50);
}

/* Failures */

typedef struct
{
  const char *name;
  FakeMode    mode;
  const char *domain;  /* of the expected error, by quark string */
  int         code;
} FailCase;

static const FailCase fail_cases[] = {
  { "error", FAKE_ERROR, "op-backend-error-quark", OP_BACKEND_ERROR_FAILED },
  { "null", FAKE_NULL, "op-backend-error-quark", OP_BACKEND_ERROR_BAD_ANSWER },
  { "empty", FAKE_EMPTY, "op-backend-error-quark", OP_BACKEND_ERROR_BAD_ANSWER },
  { "wrong-size", FAKE_WRONG_SIZE, "op-backend-error-quark", OP_BACKEND_ERROR_BAD_ANSWER },
  { "bad-size-rule", FAKE_BAD_RULE, "op-request-error-quark", OP_REQUEST_ERROR_INVALID },
};

static void
test_fail (gconstpointer data)
{
  const FailCase *fc = data;
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) fake = fake_backend_new (fc->mode);
  g_autoptr(OpBackend) local = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpRequest) request = make_chelsea_request (1, 2);
  g_autoptr(OpJob) job = NULL;
  g_autoptr(OpJob) next = NULL;
  const GError *error;
  Recorder rec;

  recorder_init (&rec, worker);
  job = recorder_submit (&rec, worker, fake, request);
  next = recorder_submit (&rec, worker, local, request);
  wait_for_job (job);

  error = op_job_get_error (job);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", fc->name, error->message);
  g_assert_error ((GError *) error, g_quark_from_string (fc->domain), fc->code);
  g_assert_cmpuint (strlen (error->message), >, 10);
  g_assert_null (op_job_get_variants (job));

  /* A failure does not stall the queue. */
  wait_for_job (next);
  assert_done (next);
  g_assert_cmpstr (rec.log->str, ==, "s1 f1 s2 f2 ");
  recorder_clear (&rec);
}

/* A fake that returns the input unchanged makes patches of the context's size. */
static void
test_fake_ok (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) fake = fake_backend_new (FAKE_OK);
  g_autoptr(OpRequest) request = make_chelsea_request (40, 3);
  g_autoptr(OpJob) job = op_worker_submit (worker, fake, request);
  GPtrArray *variants;

  wait_for_job (job);
  assert_done (job);
  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 3);
  g_assert_cmpint (((OpVariant *) g_ptr_array_index (variants, 2))->seed, ==, 42);
}

/* Progress */

/* The main thread waits while the backend reports a thousand times: once the loop turns,
 * exactly one update, the last, reaches it. */
static void
test_progress_coalesce_blocked (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) fake = fake_backend_new (FAKE_FLOOD_BLOCKED);
  g_autoptr(OpRequest) request = make_chelsea_request (1, 1);
  g_autoptr(OpJob) job = NULL;
  guint n_at_one = 0;
  Recorder rec;

  recorder_init (&rec, worker);
  job = recorder_submit (&rec, worker, fake, request);
  wait_for_job (job);
  assert_done (job);

  /* Preparing, generating, the flood's last report, blending, done */
  for (guint i = 0; i < rec.fractions->len; i++)
    n_at_one += g_array_index (rec.fractions, double, i) == 1.0;
  g_test_message ("%u reports, %u updates on the main loop", FAKE_N_REPORTS, rec.n_progress);
  g_assert_cmpuint (rec.n_progress, ==, 5);
  g_assert_cmpfloat (g_array_index (rec.fractions, double, 2), ==, 1.0);
  g_assert_cmpuint (n_at_one, ==, 3);
  assert_progress_monotonic (&rec);
  recorder_clear (&rec);
}

/* With a handler that takes 2 ms, like a redraw would, updates come no faster than it
 * can take them: reports pile up into one, and the last one always arrives. */
static void
test_progress_coalesce_busy (void)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) fake = fake_backend_new (FAKE_FLOOD);
  g_autoptr(OpRequest) request = make_chelsea_request (1, 1);
  g_autoptr(OpJob) job = NULL;
  guint bound;
  Recorder rec;

  recorder_init (&rec, worker);
  rec.progress_sleep_us = 2000;
  job = recorder_submit (&rec, worker, fake, request);
  wait_for_job (job);
  assert_done (job);

  /* One update per handler run during the flood, plus the fixed stages around it. */
  bound = (guint) (TEST_FAKE_BACKEND (fake)->flood_us / 2000) + 2 + 4;
  g_test_message ("%u reports in %.1f ms, %u updates on the main loop (bound %u)",
                  FAKE_N_REPORTS, TEST_FAKE_BACKEND (fake)->flood_us / 1000.0,
                  rec.n_progress, bound);
  g_assert_cmpuint (rec.n_progress, <=, bound);
  g_assert_cmpuint (rec.n_progress, <, FAKE_N_REPORTS / 5);
  assert_progress_monotonic (&rec);
  recorder_clear (&rec);
}

/* The main-loop stall test */

/* The main-loop stall test */

/* A 1 ms timeout on the main loop, and the longest time between two of its runs.  On a
 * shared machine (two cores, tests running side by side) a thread can wait tens of
 * milliseconds for a CPU however little it does; Linux says how long in schedstat, so
 * the stall counted against us is the gap less that wait: time the main thread spent
 * running or blocked. */
typedef struct
{
  int    schedstat_fd;  /* -1 where the kernel does not say */
  gint64 last;          /* µs */
  gint64 last_wait;     /* µs waiting for a CPU, at the last tick */
  gint64 max_gap;       /* µs, wall clock */
  gint64 max_stall;     /* µs, the gap less the wait for a CPU */
  gint64 total_wait;    /* µs */
  guint  n_ticks;
} Ticker;

static gint64
read_cpu_wait (int fd)
{
  guint64 run_ns, wait_ns;
  char buf[128];
  ssize_t n;

  if (fd < 0)
    return 0;

  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  if (sscanf (buf, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &run_ns, &wait_ns) != 2)
    return 0;

  return (gint64) (wait_ns / 1000);
}

static gboolean
tick_cb (gpointer user_data)
{
  Ticker *ticker = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 wait = read_cpu_wait (ticker->schedstat_fd);

  if (ticker->last != 0)
    {
      gint64 gap = now - ticker->last;
      gint64 waited = wait - ticker->last_wait;

      ticker->max_gap = MAX (ticker->max_gap, gap);
      ticker->max_stall = MAX (ticker->max_stall, gap - waited);
      ticker->total_wait += waited;
    }
  ticker->last = now;
  ticker->last_wait = wait;
  ticker->n_ticks++;

  return G_SOURCE_CONTINUE;
}

static void
ticker_init (Ticker *ticker)
{
  memset (ticker, 0, sizeof *ticker);
  ticker->schedstat_fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
}

static void
ticker_clear (Ticker *ticker)
{
  if (ticker->schedstat_fd >= 0)
    close (ticker->schedstat_fd);
}

typedef struct
{
  const char    *name;
  OpContextMode  context;
  int            context_side;  /* expected, 0: not checked */
} StallCase;

/* Whole picture: the prepare step scales 16.8 MP down to the fill's 4 MP and the patch
 * step scales the answer back up over the whole canvas.  Masked: the fill works at full
 * resolution on a 1.7 MP hole, seconds of work in a thread. */
static const StallCase stall_cases[] = {
  { "whole", OP_CONTEXT_WHOLE, 4096 },
  { "masked", OP_CONTEXT_MASKED, 0 },
};

/* chelsea scaled to 4096 × 4096 (16.8 MP, 64 MB) with a 1296 × 1296 hole (10 %) in the
 * middle: every step handles big buffers, and none of it may hold up the main loop. */
static void
test_main_loop_stall (gconstpointer data)
{
  const StallCase *sc = data;
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpBackend) backend = OP_BACKEND (op_local_backend_new ());
  g_autoptr(OpImage) chelsea = load_chelsea ();
  g_autoptr(OpImage) big = NULL;
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  OpRect all = { 0, 0, 451, 300 };
  OpRect hole = { 1400, 1400, 1296, 1296 };
  Ticker ticker;
  guint tick_id;
  gint64 start;
  OpVariant *v;

  big = op_image_scale (chelsea, &all, 4096, 4096);
  request = make_request_full (big, &hole, "local", 11, 1, sc->context);

  ticker_init (&ticker);
  start = g_get_monotonic_time ();
  tick_id = g_timeout_add (1, tick_cb, &ticker);
  job = op_worker_submit (worker, backend, request);
  wait_for_job (job);
  g_source_remove (tick_id);

  g_test_message ("4096 × 4096, 10 %% hole, %s context: job took %.2f s, %u ticks; longest "
                  "main-loop stall %.1f ms (longest gap %.1f ms; %.0f ms in all spent waiting for "
                  "a CPU)%s", sc->name,
                  (g_get_monotonic_time () - start) / 1e6, ticker.n_ticks,
                  ticker.max_stall / 1000.0, ticker.max_gap / 1000.0,
                  ticker.total_wait / 1000.0,
                  ticker.schedstat_fd < 0 ? " [no schedstat: stall = gap]" : "");
  ticker_clear (&ticker);
  assert_done (job);
  v = g_ptr_array_index (op_job_get_variants (job), 0);
  g_assert_cmpint (op_image_get_width (v->patch), ==, v->rect.width);
  if (sc->context_side > 0)
    {
      g_assert_cmpint (v->rect.width, ==, sc->context_side);
      g_assert_cmpint (v->rect.height, ==, sc->context_side);
    }
  g_assert_cmpuint (ticker.n_ticks, >, 10);
  g_assert_cmpint (ticker.max_stall, <, 50 * 1000);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();

  g_test_add_func ("/backend/local/metadata", test_local_metadata);
  g_test_add_func ("/backend/local/not-supported", test_local_not_supported);
  g_test_add_func ("/backend/defaults", test_fake_defaults);
  g_test_add_func ("/backend/ids", test_backend_ids);

  g_test_add_func ("/worker/local/variants", test_local_variants);
  g_test_add_func ("/worker/local/locked-seed", test_local_locked_seed);
  g_test_add_func ("/worker/local/random-seed", test_local_random_seed);
  g_test_add_func ("/worker/fake/ok", test_fake_ok);
  for (guint i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/worker/fail/%s", fail_cases[i].name);

      g_test_add_data_func (path, &fail_cases[i], test_fail);
    }

  g_test_add_func ("/worker/queue/order", test_queue_order);
  g_test_add_func ("/worker/queue/cancel-queued", test_queue_cancel_queued);
  g_test_add_func ("/worker/cancel/running", test_cancel_running_local);
  g_test_add_func ("/worker/cancel/all", test_cancel_all);
  g_test_add_func ("/worker/cancel/dispose", test_dispose_cancels);

  g_test_add_func ("/worker/progress/coalesce-blocked", test_progress_coalesce_blocked);
  g_test_add_func ("/worker/progress/coalesce-busy", test_progress_coalesce_busy);
  for (guint i = 0; i < G_N_ELEMENTS (stall_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/worker/main-loop-stall/%s",
                                               stall_cases[i].name);

      g_test_add_data_func (path, &stall_cases[i], test_main_loop_stall);
    }

  return g_test_run ();
}
