/* op-worker.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-worker"

#include "config.h"

#include <math.h>

#include <glib/gi18n-lib.h>

#include "op-worker.h"

/* A job runs in three steps, each off the main loop:
 *
 *   prepare   (thread)   crop, grow, feather and scale the request for the backend
 *   generate  (backend)  the backend's own async call; progress from any thread
 *   patch     (thread)   scale each answer back and colour match it into a patch
 *
 * The main context only moves the job from step to step and emits signals.  Big buffers
 * are also released in a thread: giving tens of megabytes back to the system can take
 * longer than a frame. */

/* A different shape would be stretched into the context; a different size of the same
 * shape is fine (servers may return upscaled answers) and is scaled back. */
#define ASPECT_TOLERANCE 0.02

struct _OpJob
{
  GObject parent_instance;

  /* Borrowed references */
  OpWorker *worker;          /* NULL once the worker is disposed */

  /* Owned references */
  OpBackend *backend;
  OpRequest *request;
  GCancellable *cancellable;
  GMainContext *context;
  OpPrepared *prepared;      /* from prepare until patch */
  GPtrArray *variants;
  GError *error;
  OpImage *preview;
  char *text;

  OpJobState state;
  double fraction;
  gint64 seed;

  /* Progress from the backend's thread waits here for the main context: only the
   * latest counts, and at most one idle is ever pending, so a backend that reports a
   * thousand times a second cannot flood the loop. */
  GMutex lock;
  gboolean pending_set;
  gboolean pending_scheduled;
  double pending_fraction;
  char *pending_text;
  OpImage *pending_preview;
};

struct _OpWorker
{
  GObject parent_instance;

  /* Owned references */
  GMainContext *context;
  GQueue queue;              /* OpJob, waiting, oldest first */
  OpJob *current;
  GSource *start_source;
};

enum {
  JOB_PROP_0,
  JOB_PROP_BACKEND,
  JOB_PROP_FRACTION,
  JOB_PROP_PREVIEW,
  JOB_PROP_REQUEST,
  JOB_PROP_SEED,
  JOB_PROP_STATE,
  JOB_PROP_TEXT,
  JOB_N_PROPS
};

enum {
  PROP_0,
  PROP_CURRENT,
  PROP_N_JOBS,
  N_PROPS
};

enum {
  JOB_STARTED,
  JOB_PROGRESS,
  JOB_FINISHED,
  N_SIGNALS
};

G_DEFINE_ENUM_TYPE (OpJobState, op_job_state,
                    G_DEFINE_ENUM_VALUE (OP_JOB_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (OP_JOB_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (OP_JOB_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (OP_JOB_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (OP_JOB_CANCELLED, "cancelled"))

G_DEFINE_FINAL_TYPE (OpJob, op_job, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE (OpWorker, op_worker, G_TYPE_OBJECT)

static GParamSpec *job_properties[JOB_N_PROPS];
static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void schedule_next (OpWorker *self);

/* Releasing in a thread */

typedef struct
{
  gpointer       data;
  GDestroyNotify free_func;
} Release;

static void
release_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Release *release = task_data;

  release->free_func (g_steal_pointer (&release->data));
}

static void
release_in_thread (gpointer       data,
                   GDestroyNotify free_func)
{
  g_autoptr(GTask) task = NULL;
  Release *release;

  if (data == NULL)
    return;

  release = g_new0 (Release, 1);
  release->data = data;
  release->free_func = free_func;

  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_source_tag (task, release_in_thread);
  g_task_set_task_data (task, release, g_free);
  g_task_run_in_thread (task, release_thread);
}

/* Job state, on the main context */

static gboolean
job_is_finished (OpJob *job)
{
  return job->state == OP_JOB_DONE ||
         job->state == OP_JOB_FAILED ||
         job->state == OP_JOB_CANCELLED;
}

static void
job_set_state (OpJob      *job,
               OpJobState  state)
{
  if (job->state == state)
    return;

  job->state = state;
  g_object_notify_by_pspec (G_OBJECT (job), job_properties[JOB_PROP_STATE]);
}

/* Takes @text and @preview; a NULL preview keeps the last one. */
static void
job_set_progress (OpJob   *job,
                  double   fraction,
                  char    *text,
                  OpImage *preview)
{
  g_autofree char *new_text = text;
  g_autoptr(OpImage) new_preview = preview;
  gboolean changed = FALSE;

  g_object_freeze_notify (G_OBJECT (job));

  if (job->fraction != fraction)
    {
      job->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (job), job_properties[JOB_PROP_FRACTION]);
      changed = TRUE;
    }

  if (g_strcmp0 (job->text, new_text) != 0)
    {
      g_free (job->text);
      job->text = g_steal_pointer (&new_text);
      g_object_notify_by_pspec (G_OBJECT (job), job_properties[JOB_PROP_TEXT]);
      changed = TRUE;
    }

  if (new_preview != NULL && new_preview != job->preview)
    {
      g_clear_pointer (&job->preview, op_image_unref);
      job->preview = g_steal_pointer (&new_preview);
      g_object_notify_by_pspec (G_OBJECT (job), job_properties[JOB_PROP_PREVIEW]);
      changed = TRUE;
    }

  g_object_thaw_notify (G_OBJECT (job));

  if (changed && job->worker != NULL)
    g_signal_emit (job->worker, signals[JOB_PROGRESS], 0, job);
}

/* Applies what the backend reported last, if anything is waiting. */
static void
job_flush_progress (OpJob *job)
{
  g_autofree char *text = NULL;
  g_autoptr(OpImage) preview = NULL;
  gboolean set;
  double fraction;

  g_mutex_lock (&job->lock);
  set = job->pending_set;
  fraction = job->pending_fraction;
  text = g_steal_pointer (&job->pending_text);
  preview = g_steal_pointer (&job->pending_preview);
  job->pending_set = FALSE;
  g_mutex_unlock (&job->lock);

  /* Reports racing with the end of the job are stale. */
  if (!set || job->state != OP_JOB_RUNNING)
    return;

  /* A report without words keeps the stage's. */
  if (text == NULL)
    text = g_strdup (job->text);

  job_set_progress (job, fraction, g_steal_pointer (&text), g_steal_pointer (&preview));
}

static void
job_finish (OpJob      *job,
            OpJobState  state,
            GError     *error)
{
  g_autoptr(OpWorker) worker = NULL;
  g_autoptr(OpJob) current = NULL;

  g_assert (job->state == OP_JOB_RUNNING);
  g_assert ((state == OP_JOB_FAILED) == (error != NULL));

  job_flush_progress (job);
  release_in_thread (g_steal_pointer (&job->prepared), (GDestroyNotify) op_prepared_free);

  g_object_freeze_notify (G_OBJECT (job));
  if (state == OP_JOB_DONE)
    job_set_progress (job, 1.0, g_strdup (_("Done")), NULL);
  job->error = error;
  job_set_state (job, state);
  g_object_thaw_notify (G_OBJECT (job));

  if (state == OP_JOB_FAILED)
    g_debug ("Job with “%s” failed: %s", op_backend_get_id (job->backend), error->message);

  if (job->worker == NULL)
    return;

  /* A ::job-finished handler may drop the last reference to the worker. */
  worker = g_object_ref (job->worker);
  job->worker = NULL;
  g_assert (worker->current == job);
  current = g_steal_pointer (&worker->current);

  g_object_notify_by_pspec (G_OBJECT (worker), properties[PROP_CURRENT]);
  g_object_notify_by_pspec (G_OBJECT (worker), properties[PROP_N_JOBS]);
  g_signal_emit (worker, signals[JOB_FINISHED], 0, job);

  schedule_next (worker);
}

/* Ends the job from an async step's error: cancelled if it was asked to stop, even when
 * the step failed for another reason on the way, else failed. */
static void
job_finish_with_error (OpJob  *job,
                       GError *error)
{
  if (g_cancellable_is_cancelled (job->cancellable))
    {
      g_clear_error (&error);
      job_finish (job, OP_JOB_CANCELLED, NULL);
      return;
    }

  job_finish (job, OP_JOB_FAILED, error);
}

/* Step 1: prepare */

typedef struct
{
  OpRequest  *request;
  OpSizeRule  rule;
  OpSize     *sizes;   /* a copy, so the thread never reads the backend */
} PrepareData;

static void
prepare_data_free (PrepareData *data)
{
  g_clear_pointer (&data->request, op_request_unref);
  g_free (data->sizes);
  g_free (data);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareData *data = task_data;
  OpPrepared *prepared;
  GError *error = NULL;

  prepared = op_prepared_new (data->request, &data->rule, cancellable, &error);
  if (prepared == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, prepared, (GDestroyNotify) op_prepared_free);
}

static void
job_prepare_async (OpJob               *job,
                   GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = NULL;
  PrepareData *data;

  data = g_new0 (PrepareData, 1);
  data->request = op_request_ref (job->request);
  /* a backend whose sizes depend on the model (OpenAI's) must know it first */
  op_backend_apply_params (job->backend, op_request_get_params (job->request));
  op_backend_get_size_rule (job->backend, &data->rule);
  if (data->rule.sizes != NULL && data->rule.n_sizes > 0)
    {
      data->sizes = g_memdup2 (data->rule.sizes, data->rule.n_sizes * sizeof (OpSize));
      data->rule.sizes = data->sizes;
    }

  task = g_task_new (job, job->cancellable, callback, NULL);
  g_task_set_source_tag (task, job_prepare_async);
  g_task_set_task_data (task, data, (GDestroyNotify) prepare_data_free);
  g_task_run_in_thread (task, prepare_thread);
}

static OpPrepared *
job_prepare_finish (OpJob         *job,
                    GAsyncResult  *result,
                    GError       **error)
{
  g_assert (g_task_is_valid (result, job));
  g_assert (g_async_result_is_tagged (result, job_prepare_async));

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Step 3: patch */

typedef struct
{
  OpPrepared *prepared;
  GPtrArray  *results;
  OpRequest  *request;
} PatchData;

static void
patch_data_free (PatchData *data)
{
  g_clear_pointer (&data->request, op_request_unref);
  g_clear_pointer (&data->prepared, op_prepared_free);
  g_clear_pointer (&data->results, g_ptr_array_unref);
  g_free (data);
}

static OpVariant *
make_variant (OpRequest   *request,
              OpPrepared  *prepared,
              OpResult    *result,
              GError     **error)
{
  g_autoptr(OpVariant) variant = g_new0 (OpVariant, 1);

  variant->patch = op_prepared_make_patch (prepared, result->image, error);
  if (variant->patch == NULL)
    return NULL;

  op_prepared_get_context (prepared, &variant->rect);
  /* Each variant's blend is painted on separately once it is a version. */
  variant->blend = op_mask_copy (op_prepared_get_blend (prepared));
  variant->seed = result->seed;
  /* the whole picture too, here rather than on the main loop when it is first shown:
   * on a 24 MP photo that is a 96 MB copy per variant */
  variant->composite = op_composite (op_request_get_source (request),
                                     op_request_get_margins (request), variant->patch,
                                     &variant->rect, variant->blend);

  return g_steal_pointer (&variant);
}

static GPtrArray *
make_variants (PatchData     *data,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GPtrArray) variants = NULL;

  variants = g_ptr_array_new_with_free_func ((GDestroyNotify) op_variant_free);

  for (guint i = 0; i < data->results->len; i++)
    {
      OpVariant *variant;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      variant = make_variant (data->request, data->prepared,
                              g_ptr_array_index (data->results, i), error);
      if (variant == NULL)
        return NULL;

      g_ptr_array_add (variants, variant);
    }

  return g_steal_pointer (&variants);
}

static void
patch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PatchData *data = task_data;
  GPtrArray *variants;
  GError *error = NULL;

  variants = make_variants (data, cancellable, &error);

  /* Here rather than when the task is finalized, which happens on the main context. */
  g_clear_pointer (&data->prepared, op_prepared_free);
  g_clear_pointer (&data->results, g_ptr_array_unref);

  if (variants == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, variants, (GDestroyNotify) g_ptr_array_unref);
}

/* Takes @prepared and @results. */
static void
job_patch_async (OpJob               *job,
                 OpPrepared          *prepared,
                 GPtrArray           *results,
                 GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = NULL;
  PatchData *data;

  data = g_new0 (PatchData, 1);
  data->prepared = prepared;
  data->results = results;
  data->request = op_request_ref (job->request);

  task = g_task_new (job, job->cancellable, callback, NULL);
  g_task_set_source_tag (task, job_patch_async);
  g_task_set_task_data (task, data, (GDestroyNotify) patch_data_free);
  g_task_run_in_thread (task, patch_thread);
}

static GPtrArray *
job_patch_finish (OpJob         *job,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_assert (g_task_is_valid (result, job));
  g_assert (g_async_result_is_tagged (result, job_patch_async));

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A backend must answer with pictures of the input's shape. */
static gboolean
check_results (OpJob      *job,
               GPtrArray  *results,
               GError    **error)
{
  OpSize size;

  op_prepared_get_input_size (job->prepared, &size);

  for (guint i = 0; i < results->len; i++)
    {
      const OpResult *r = g_ptr_array_index (results, i);
      int width = op_image_get_width (r->image);
      int height = op_image_get_height (r->image);
      double aspect = ((double) width * size.height) / ((double) height * size.width);

      if (width > 0 && height > 0 && fabs (aspect - 1.0) <= ASPECT_TOLERANCE)
        continue;

      g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER,
                   _("“%s” answered with a %d × %d picture where %d × %d was asked."),
                   op_backend_get_name (job->backend), width, height,
                   size.width, size.height);
      return FALSE;
    }

  return TRUE;
}

/* Callbacks */

static gboolean
job_progress_idle_cb (gpointer user_data)
{
  OpJob *job = user_data;

  g_mutex_lock (&job->lock);
  job->pending_scheduled = FALSE;
  g_mutex_unlock (&job->lock);

  job_flush_progress (job);

  return G_SOURCE_REMOVE;
}

/* From any thread. */
static void
job_progress_cb (double      fraction,
                 const char *text,
                 OpImage    *preview,
                 gpointer    user_data)
{
  OpJob *job = user_data;
  g_autoptr(OpImage) old_preview = NULL;
  g_autofree char *old_text = NULL;
  g_autoptr(GSource) source = NULL;
  gboolean schedule;

  g_mutex_lock (&job->lock);
  job->pending_set = TRUE;
  /* Unknown (negative or NaN) is -1; the property never leaves -1 … 1. */
  job->pending_fraction = !(fraction >= 0) ? -1.0 : MIN (fraction, 1.0);
  old_text = g_steal_pointer (&job->pending_text);
  job->pending_text = g_strdup (text);
  if (preview != NULL)
    {
      old_preview = g_steal_pointer (&job->pending_preview);
      job->pending_preview = op_image_ref (preview);
    }
  schedule = !job->pending_scheduled;
  job->pending_scheduled = TRUE;
  g_mutex_unlock (&job->lock);

  if (!schedule)
    return;

  /* Not g_main_context_invoke_full(): from a thread without a context of its own (the
   * backend's) it runs the function right there whenever it can acquire the default
   * context, which GApplication leaves free between iterations. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[overpaint] job progress");
  g_source_set_callback (source, job_progress_idle_cb, g_object_ref (job), g_object_unref);
  g_source_attach (source, job->context);
}

static void
job_patch_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  OpJob *job = OP_JOB (object);
  g_autoptr(GPtrArray) variants = NULL;
  GError *error = NULL;

  variants = job_patch_finish (job, result, &error);
  if (variants == NULL)
    {
      job_finish_with_error (job, error);
      return;
    }

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      release_in_thread (g_steal_pointer (&variants), (GDestroyNotify) g_ptr_array_unref);
      job_finish (job, OP_JOB_CANCELLED, NULL);
      return;
    }

  job->variants = g_steal_pointer (&variants);
  job_finish (job, OP_JOB_DONE, NULL);
}

static void
job_generate_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(OpJob) job = user_data;
  g_autoptr(GPtrArray) results = NULL;
  GError *error = NULL;

  results = op_backend_generate_finish (OP_BACKEND (object), result, &error);
  if (results == NULL || !check_results (job, results, &error))
    {
      release_in_thread (g_steal_pointer (&results), (GDestroyNotify) g_ptr_array_unref);
      job_finish_with_error (job, error);
      return;
    }

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      release_in_thread (g_steal_pointer (&results), (GDestroyNotify) g_ptr_array_unref);
      job_finish (job, OP_JOB_CANCELLED, NULL);
      return;
    }

  /* The backend's last report first, so it cannot land after this stage's text. */
  job_flush_progress (job);
  job_set_progress (job, job->fraction, g_strdup (_("Blending the results")), NULL);
  job_patch_async (job, g_steal_pointer (&job->prepared), g_steal_pointer (&results),
                   job_patch_cb);
}

static void
job_prepare_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  OpJob *job = OP_JOB (object);
  OpGenerateInput input;
  GError *error = NULL;

  job->prepared = job_prepare_finish (job, result, &error);
  if (job->prepared == NULL)
    {
      job_finish_with_error (job, error);
      return;
    }

  if (g_cancellable_is_cancelled (job->cancellable))
    {
      job_finish (job, OP_JOB_CANCELLED, NULL);
      return;
    }

  input = (OpGenerateInput) {
    .prepared = job->prepared,
    .params = op_request_get_params (job->request),
    .seed = job->seed,
    .progress = job_progress_cb,
    .progress_data = job,
  };

  job_set_progress (job, 0.0, g_strdup (_("Generating")), NULL);
  /* The reference keeps the job, its prepared input and the parameters alive for as
   * long as the backend may read them or report progress. */
  op_backend_generate_async (job->backend, &input, job->cancellable, job_generate_cb,
                             g_object_ref (job));
}

/* The worker's queue */

static void
job_start (OpWorker *self,
           OpJob    *job)
{
  g_autoptr(OpJob) hold = g_object_ref (job);
  const OpParams *params = op_request_get_params (job->request);

  g_assert (self->current == NULL);
  self->current = job;

  /* A random seed is chosen once per job and recorded, so any variant can be made
   * again; 31 bits fit every backend's seed field. */
  job->seed = params->seed >= 0 ? params->seed : (gint64) (g_random_int () & 0x7fffffff);
  g_object_notify_by_pspec (G_OBJECT (job), job_properties[JOB_PROP_SEED]);
  job_set_state (job, OP_JOB_RUNNING);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT]);
  g_signal_emit (self, signals[JOB_STARTED], 0, job);

  /* A handler may have cancelled the job or dropped the worker: preparing notices the
   * cancellation, and the job finishes on its own. */
  job_set_progress (job, 0.0, g_strdup (_("Preparing the picture")), NULL);
  job_prepare_async (job, job_prepare_cb);
}

static gboolean
start_next_cb (gpointer user_data)
{
  OpWorker *self = user_data;
  OpJob *job;

  g_clear_pointer (&self->start_source, g_source_unref);

  if (self->current != NULL)
    return G_SOURCE_REMOVE;

  job = g_queue_pop_head (&self->queue);
  if (job != NULL)
    job_start (self, job);  /* the queue's reference becomes the current job's */

  return G_SOURCE_REMOVE;
}

/* Jobs start from the main loop, never inside submit() or a ::job-finished handler, so
 * the caller can connect to a job before anything happens to it. */
static void
schedule_next (OpWorker *self)
{
  if (self->start_source != NULL || self->current != NULL ||
      g_queue_is_empty (&self->queue))
    return;

  self->start_source = g_idle_source_new ();
  g_source_set_priority (self->start_source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (self->start_source, "[overpaint] start next job");
  g_source_set_callback (self->start_source, start_next_cb, self, NULL);
  g_source_attach (self->start_source, self->context);
}

/* Takes the queue's reference to @job. */
static void
drop_queued (OpWorker *self,
             OpJob    *job,
             gboolean  emit)
{
  g_autoptr(OpJob) hold = job;

  g_cancellable_cancel (job->cancellable);
  job->worker = NULL;
  job_set_state (job, OP_JOB_CANCELLED);

  if (emit)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_JOBS]);
      g_signal_emit (self, signals[JOB_FINISHED], 0, job);
    }
}

/* OpJob */

static void
op_job_dispose (GObject *object)
{
  OpJob *self = (OpJob *) object;

  g_cancellable_cancel (self->cancellable);

  g_clear_pointer (&self->prepared, op_prepared_free);
  g_clear_pointer (&self->variants, g_ptr_array_unref);
  g_clear_pointer (&self->preview, op_image_unref);
  g_clear_pointer (&self->pending_preview, op_image_unref);
  g_clear_pointer (&self->request, op_request_unref);
  g_clear_object (&self->backend);

  G_OBJECT_CLASS (op_job_parent_class)->dispose (object);
}

static void
op_job_finalize (GObject *object)
{
  OpJob *self = (OpJob *) object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->error);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->pending_text, g_free);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (op_job_parent_class)->finalize (object);
}

static void
op_job_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  OpJob *self = OP_JOB (object);

  switch (prop_id)
    {
    case JOB_PROP_BACKEND:
      g_value_set_object (value, self->backend);
      break;

    case JOB_PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;

    case JOB_PROP_PREVIEW:
      g_value_set_boxed (value, self->preview);
      break;

    case JOB_PROP_REQUEST:
      g_value_set_boxed (value, self->request);
      break;

    case JOB_PROP_SEED:
      g_value_set_int64 (value, self->seed);
      break;

    case JOB_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case JOB_PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_job_class_init (OpJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = op_job_dispose;
  object_class->finalize = op_job_finalize;
  object_class->get_property = op_job_get_property;

  job_properties[JOB_PROP_BACKEND] =
    g_param_spec_object ("backend", NULL, NULL, OP_TYPE_BACKEND, flags);
  job_properties[JOB_PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, -1.0, 1.0, 0.0, flags);
  job_properties[JOB_PROP_PREVIEW] =
    g_param_spec_boxed ("preview", NULL, NULL, OP_TYPE_IMAGE, flags);
  job_properties[JOB_PROP_REQUEST] =
    g_param_spec_boxed ("request", NULL, NULL, OP_TYPE_REQUEST, flags);
  job_properties[JOB_PROP_SEED] =
    g_param_spec_int64 ("seed", NULL, NULL, -1, G_MAXINT64, -1, flags);
  job_properties[JOB_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, OP_TYPE_JOB_STATE, OP_JOB_QUEUED, flags);
  job_properties[JOB_PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, JOB_N_PROPS, job_properties);
}

static void
op_job_init (OpJob *self)
{
  g_mutex_init (&self->lock);
  self->cancellable = g_cancellable_new ();
  self->state = OP_JOB_QUEUED;
  self->seed = -1;
}

static OpJob *
op_job_new (OpWorker  *worker,
            OpBackend *backend,
            OpRequest *request)
{
  OpJob *self = g_object_new (OP_TYPE_JOB, NULL);

  self->worker = worker;
  self->backend = g_object_ref (backend);
  self->request = op_request_ref (request);
  self->context = g_main_context_ref (worker->context);

  return self;
}

void
op_variant_free (OpVariant *variant)
{
  if (variant == NULL)
    return;

  g_clear_pointer (&variant->patch, op_image_unref);
  g_clear_pointer (&variant->blend, op_mask_unref);
  g_clear_pointer (&variant->composite, op_image_unref);
  g_free (variant);
}

OpRequest *
op_job_get_request (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->request;
}

OpBackend *
op_job_get_backend (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->backend;
}

OpJobState
op_job_get_state (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), OP_JOB_FAILED);

  return self->state;
}

double
op_job_get_fraction (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), 0.0);

  return self->fraction;
}

const char *
op_job_get_text (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->text;
}

OpImage *
op_job_get_preview (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->preview;
}

gint64
op_job_get_seed (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), -1);

  return self->seed;
}

/**
 * op_job_get_variants:
 *
 * Returns: (transfer none) (element-type OpVariant) (nullable): the variants of a done
 *   job, in seed order
 */
GPtrArray *
op_job_get_variants (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->variants;
}

const GError *
op_job_get_error (OpJob *self)
{
  g_return_val_if_fail (OP_IS_JOB (self), NULL);

  return self->error;
}

void
op_job_cancel (OpJob *self)
{
  g_return_if_fail (OP_IS_JOB (self));

  if (job_is_finished (self))
    return;

  if (self->state == OP_JOB_QUEUED && self->worker != NULL)
    {
      OpWorker *worker = self->worker;

      g_assert (g_queue_find (&worker->queue, self) != NULL);
      g_queue_remove (&worker->queue, self);
      drop_queued (worker, self, TRUE);
      return;
    }

  g_cancellable_cancel (self->cancellable);
}

/* OpWorker */

static void
op_worker_dispose (GObject *object)
{
  OpWorker *self = (OpWorker *) object;
  OpJob *job;

  if (self->start_source != NULL)
    {
      g_source_destroy (self->start_source);
      g_clear_pointer (&self->start_source, g_source_unref);
    }

  while ((job = g_queue_pop_head (&self->queue)) != NULL)
    drop_queued (self, job, FALSE);

  /* The running job finishes on its own once its step notices the cancellation; it
   * must not call back into a worker that is gone. */
  if (self->current != NULL)
    {
      self->current->worker = NULL;
      g_cancellable_cancel (self->current->cancellable);
      g_clear_object (&self->current);
    }

  G_OBJECT_CLASS (op_worker_parent_class)->dispose (object);
}

static void
op_worker_finalize (GObject *object)
{
  OpWorker *self = (OpWorker *) object;

  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (op_worker_parent_class)->finalize (object);
}

static void
op_worker_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  OpWorker *self = OP_WORKER (object);

  switch (prop_id)
    {
    case PROP_CURRENT:
      g_value_set_object (value, self->current);
      break;

    case PROP_N_JOBS:
      g_value_set_uint (value, op_worker_get_n_jobs (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_worker_class_init (OpWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = op_worker_dispose;
  object_class->finalize = op_worker_finalize;
  object_class->get_property = op_worker_get_property;

  properties[PROP_CURRENT] =
    g_param_spec_object ("current", NULL, NULL, OP_TYPE_JOB,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_JOBS] =
    g_param_spec_uint ("n-jobs", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * OpWorker::job-started:
   *
   * The job left the queue and is running; its seed is known.
   */
  signals[JOB_STARTED] =
    g_signal_new ("job-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, OP_TYPE_JOB);

  /**
   * OpWorker::job-progress:
   *
   * The running job's fraction, text or preview changed.
   */
  signals[JOB_PROGRESS] =
    g_signal_new ("job-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, OP_TYPE_JOB);

  /**
   * OpWorker::job-finished:
   *
   * The job is done, failed or cancelled (a queued job cancelled never started).
   */
  signals[JOB_FINISHED] =
    g_signal_new ("job-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, OP_TYPE_JOB);
}

static void
op_worker_init (OpWorker *self)
{
  g_queue_init (&self->queue);
  self->context = g_main_context_ref_thread_default ();
}

/**
 * op_worker_new:
 *
 * The worker emits its signals on the thread-default main context of the caller.
 */
OpWorker *
op_worker_new (void)
{
  return g_object_new (OP_TYPE_WORKER, NULL);
}

/**
 * op_worker_submit:
 * @backend: the backend to generate with
 * @request: the snapshot to generate from
 *
 * Queues a job behind the others.
 *
 * Returns: (transfer full): the job
 */
OpJob *
op_worker_submit (OpWorker  *self,
                  OpBackend *backend,
                  OpRequest *request)
{
  OpJob *job;

  g_return_val_if_fail (OP_IS_WORKER (self), NULL);
  g_return_val_if_fail (OP_IS_BACKEND (backend), NULL);
  g_return_val_if_fail (request != NULL, NULL);

  job = op_job_new (self, backend, request);
  g_queue_push_tail (&self->queue, g_object_ref (job));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_JOBS]);

  schedule_next (self);

  return job;
}

guint
op_worker_get_n_jobs (OpWorker *self)
{
  g_return_val_if_fail (OP_IS_WORKER (self), 0);

  return self->queue.length + (self->current != NULL ? 1 : 0);
}

/**
 * op_worker_get_current:
 *
 * Returns: (transfer none) (nullable): the running job
 */
OpJob *
op_worker_get_current (OpWorker *self)
{
  g_return_val_if_fail (OP_IS_WORKER (self), NULL);

  return self->current;
}

/**
 * op_worker_cancel_all:
 *
 * Drops every queued job and stops the running one.
 */
void
op_worker_cancel_all (OpWorker *self)
{
  OpJob *job;

  g_return_if_fail (OP_IS_WORKER (self));

  while ((job = g_queue_pop_head (&self->queue)) != NULL)
    drop_queued (self, job, TRUE);

  if (self->current != NULL)
    g_cancellable_cancel (self->current->cancellable);
}
