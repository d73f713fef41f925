/* op-fill-engine.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-fill"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "op-fill-private.h"

/* Coarse-to-fine expectation–maximisation (Wexler, Shechtman and Irani 2007): at each
 * level of a pyramid, alternate a PatchMatch search of the nearest-neighbour field
 * (op-fill-nnf.c) with a vote that rebuilds the hole from it (op-fill-vote.c); then
 * upsample the field to the next finer level.
 *
 * Work is split into fixed stripes of rows, each with its own generator seeded from the
 * seed, the step and the stripe index, so the result is the same whatever the number of
 * threads and however they are scheduled. */

typedef struct
{
  OpFillEngine     *engine;
  OpFillLevel      *level;
  OpFillStripeFunc  func;
  gpointer          data;
  guint64           salt;
  int               n_stripes;
  int               stripe_height;
  int               offset;
  int               next;       /* atomic */
  int               rows_done;  /* atomic */
  int               active;     /* workers still running, under engine->mutex */
  double            units;      /* progress work of the whole run */
} StripeJob;

enum
{
  SALT_INIT = 1,
  SALT_UPSAMPLE,
  SALT_SEARCH,
  SALT_LAYER,
};

/* Search passes (alternating scan directions) per EM iteration, and per ring of the
 * coarsest level's first guess */
#define SEARCH_PASSES 2
#define LAYER_PASSES  3

/* The coarsest level keeps at least this many pixels on its shorter side: below it a
 * patch spans too much of the picture to guess anything but a smear. */
#define MIN_COARSE_SIDE 64

#define PROGRESS_INTERVAL (25 * G_TIME_SPAN_MILLISECOND)

/* EM iterations per level (0 = finest): many where they are cheap, few where they are
 * not (the bench saw no gain from more at the finest level, even when it is also the
 * coarsest one). */
static int
em_iterations (const OpFillEngine *engine,
               int                 level)
{
  if (level == engine->n_levels - 1)
    return level == 0 ? 3 : 6;
  return MIN (2 + level, 4);
}

/* Work units for progress, roughly proportional to time: one search pass costs one
 * unit per target patch. */
static double
units_features (const OpFillLevel *level,
                gboolean           holes_only)
{
  if (holes_only)
    return level->n_holes / 16.0;
  /* with the texture channel, see compute_texture (): as much again */
  return (double) level->width * level->height / (level->texture ? 5.0 : 10.0);
}

static double
units_upsample (const OpFillLevel *level)
{
  return level->n_targets / 4.0;
}

static double
units_vote (const OpFillLevel *level)
{
  return level->n_holes / 2.0;
}

static double
units_guess (const OpFillLevel *level)
{
  return units_features (level, FALSE) + 2.0 * level->n_targets;
}

static double
units_blend (const OpFillLevel *level)
{
  return level->n_targets / 2.0 + level->n_holes / 8.0;
}

static guint64
make_salt (int level,
           int iteration,
           int pass,
           int kind)
{
  return ((guint64) level << 48) | ((guint64) iteration << 32) | ((guint64) pass << 16) | kind;
}

static void
report (OpFillEngine *engine,
        double        partial)
{
  char stage[128];
  double fraction;

  if (engine->progress == NULL)
    return;

  fraction = engine->work_total > 0 ? (engine->work_done + partial) / engine->work_total : 0.0;
  fraction = CLAMP (fraction, engine->last_fraction, 1.0);
  engine->last_fraction = fraction;

  g_snprintf (stage, sizeof stage, _("Filling, level %d of %d"),
              engine->n_levels - engine->current_level, engine->n_levels);
  engine->progress (fraction, stage, engine->progress_data);
}

static void
run_job (StripeJob *job)
{
  for (;;)
    {
      int s = g_atomic_int_add (&job->next, 1);
      int y0, y1;

      if (s >= job->n_stripes)
        return;

      y0 = MAX (0, s * job->stripe_height - job->offset);
      y1 = MIN (job->level->height, (s + 1) * job->stripe_height - job->offset);
      if (y0 >= y1)
        continue;

      job->func (job->engine, job->level, s, y0, y1,
                 _op_fill_mix (job->engine->seed ^ _op_fill_mix (job->salt * 131 + s)),
                 job->data);
    }
}

/* Progress from sequential steps: the same fraction again, to show life. */
void
_op_fill_engine_heartbeat (OpFillEngine *engine)
{
  gint64 now = g_get_monotonic_time ();

  if (g_thread_self () != engine->caller || now - engine->last_report < PROGRESS_INTERVAL)
    return;
  engine->last_report = now;
  report (engine, 0);
}

/* Called by stripe functions after each row: progress goes out from the calling thread
 * only, at most every PROGRESS_INTERVAL. */
void
_op_fill_engine_tick (OpFillEngine *engine)
{
  StripeJob *job = engine->job;
  int rows = g_atomic_int_add (&job->rows_done, 1) + 1;
  gint64 now;

  if (job->units <= 0 || g_thread_self () != engine->caller)
    return;

  now = g_get_monotonic_time ();
  if (now - engine->last_report < PROGRESS_INTERVAL)
    return;
  engine->last_report = now;
  report (engine, job->units * MIN (rows, job->level->height) / job->level->height);
}

static void
pool_func (gpointer data,
           gpointer user_data)
{
  StripeJob *job = data;
  OpFillEngine *engine = job->engine;

  run_job (job);

  /* The job lives on the caller's stack: do not touch it after this. */
  g_mutex_lock (&engine->mutex);
  job->active--;
  g_cond_signal (&engine->cond);
  g_mutex_unlock (&engine->mutex);
}

/* Runs @func over all stripes of @level; the odd parity shifts the stripe borders by
 * half a stripe so propagation crosses them every other pass.  FALSE when cancelled. */
gboolean
_op_fill_engine_run_stripes (OpFillEngine     *engine,
                             OpFillLevel      *level,
                             int               parity,
                             guint64           salt,
                             OpFillStripeFunc  func,
                             gpointer          data)
{
  StripeJob job = { engine, level, func, data, salt, 0, 0, 0, 0, 0, 0, 0 };
  int n_workers;

  /* the caller's estimate of this run's share of the work, see plan_work () */
  job.units = engine->phase_units;
  engine->phase_units = 0;
  engine->job = &job;

  job.stripe_height = MAX (4, (level->height + OP_FILL_N_STRIPES - 1) / OP_FILL_N_STRIPES);
  job.offset = parity ? job.stripe_height / 2 : 0;
  job.n_stripes = (level->height + job.offset + job.stripe_height - 1) / job.stripe_height;
  g_assert (job.n_stripes <= OP_FILL_MAX_STRIPES);

  n_workers = engine->pool != NULL ? MIN (engine->n_threads - 1, job.n_stripes - 1) : 0;
  job.active = n_workers;
  for (int i = 0; i < n_workers; i++)
    g_thread_pool_push (engine->pool, &job, NULL);

  run_job (&job);

  g_mutex_lock (&engine->mutex);
  while (job.active > 0)
    g_cond_wait (&engine->cond, &engine->mutex);
  g_mutex_unlock (&engine->mutex);

  engine->work_done += job.units;
  engine->job = NULL;
  return !_op_fill_engine_is_cancelled (engine);
}

gboolean
_op_fill_engine_is_cancelled (OpFillEngine *engine)
{
  return engine->cancellable != NULL && g_cancellable_is_cancelled (engine->cancellable);
}

static gsize
level_bytes (const OpFillLevel *level)
{
  gsize n = (gsize) level->width * level->height;

  return n * ((level->color_owned != NULL ? 4 : 0) + (level->flags != NULL ? 1 : 0) +
              (level->dmap != NULL ? 1 : 0) + (level->feat != NULL ? 4 : 0) +
              (level->nnf != NULL ? 4 : 0) + (level->weight != NULL ? 4 : 0));
}

/* Adds up the level buffers (plus @transient bytes of scratch) and keeps the peak. */
void
_op_fill_engine_account (OpFillEngine *engine,
                         gsize         transient)
{
  gsize total = transient;

  for (int l = 0; l < OP_FILL_MAX_LEVELS; l++)
    total += level_bytes (&engine->levels[l]);
  engine->peak_bytes = MAX (engine->peak_bytes, total);
}

static gboolean
check_cancelled (OpFillEngine  *engine,
                 GError       **error)
{
  return engine->cancellable != NULL &&
         g_cancellable_set_error_if_cancelled (engine->cancellable, error);
}

OpFillEngine *
_op_fill_engine_new (const OpFillParams *params,
                     OpFillProgressFunc  progress,
                     gpointer            progress_data,
                     GCancellable       *cancellable)
{
  OpFillEngine *engine = g_new0 (OpFillEngine, 1);

  engine->patch_size = params->patch_size > 0 ? params->patch_size : OP_FILL_DEFAULT_PATCH_SIZE;
  engine->radius = engine->patch_size / 2;
  engine->seed = params->seed;
  engine->n_threads = params->n_threads > 0 ? params->n_threads
                                            : (int) g_get_num_processors ();
  engine->n_threads = CLAMP (engine->n_threads, 1, 64);
  engine->cancellable = cancellable;
  engine->progress = progress;
  engine->progress_data = progress_data;
  engine->caller = g_thread_self ();

  /* Votes from patches deep inside the hole count less: γ = 1.3 as in Wexler et al. */
  for (int d = 0; d < 256; d++)
    engine->conf_lut[d] = powf (1.3f, (float) -d);

  g_mutex_init (&engine->mutex);
  g_cond_init (&engine->cond);
  if (engine->n_threads > 1)
    engine->pool = g_thread_pool_new (pool_func, NULL, engine->n_threads - 1, TRUE, NULL);

  return engine;
}

void
_op_fill_engine_free (OpFillEngine *engine)
{
  if (engine == NULL)
    return;

  if (engine->pool != NULL)
    g_thread_pool_free (engine->pool, FALSE, TRUE);
  for (int l = 0; l < OP_FILL_MAX_LEVELS; l++)
    _op_fill_level_clear (&engine->levels[l]);
  g_mutex_clear (&engine->mutex);
  g_cond_clear (&engine->cond);
  g_free (engine);
}

/* Picks the largest patch, down from the requested one, that fits somewhere in the
 * known part: a thin known strip can still be sampled pixel by pixel. */
static gboolean
analyse_base (OpFillEngine  *engine,
              GError       **error)
{
  OpFillLevel *base = &engine->levels[0];
  gsize n = (gsize) base->width * base->height, n_known = 0;

  for (gsize i = 0; i < n; i++)
    n_known += (base->flags[i] & OP_FILL_KNOWN) != 0;
  if (n_known == 0)
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_NO_SOURCE,
                   _("There is no known part of the picture to fill from."));
      return FALSE;
    }

  for (;;)
    {
      if (!_op_fill_level_analyse (base, engine->radius, engine))
        return !check_cancelled (engine, error);
      _op_fill_engine_account (engine, (gsize) base->width * base->height);
      if (base->n_sources > 0 || engine->patch_size <= 1)
        break;
      engine->patch_size -= 2;
      engine->radius = engine->patch_size / 2;
    }

  return TRUE;
}

/* The progress estimate of the whole fill, step by step as fill_level () goes. */
static void
plan_work (OpFillEngine *engine)
{
  engine->work_total = 0;
  engine->work_done = 0;

  for (int l = engine->n_levels - 1; l >= 0; l--)
    {
      const OpFillLevel *level = &engine->levels[l];
      int n_em = em_iterations (engine, l);

      if (l == engine->n_levels - 1)
        engine->work_total += units_guess (level);
      else
        engine->work_total += units_features (level, FALSE) + units_upsample (level) +
                              units_vote (level) + units_features (level, TRUE);

      for (int em = 0; em < n_em; em++)
        {
          engine->work_total += SEARCH_PASSES * (double) level->n_targets;
          if (l > 0 && em == n_em - 1)
            break;
          engine->work_total += units_vote (level);
          if (em < n_em - 1)
            engine->work_total += units_features (level, TRUE);
        }

      if (l == 0)
        engine->work_total += units_blend (level);
    }
}

/* Halves until the hole is about a patch thick (filled well from its border), while the
 * level stays large enough and keeps whole patches to copy from. */
static gboolean
build_pyramid (OpFillEngine  *engine,
               GError       **error)
{
  engine->n_levels = 1;

  while (engine->n_levels < OP_FILL_MAX_LEVELS)
    {
      OpFillLevel *fine = &engine->levels[engine->n_levels - 1];
      OpFillLevel *coarse = &engine->levels[engine->n_levels];

      if (fine->max_dist <= engine->patch_size + 3 ||
          MIN ((fine->width + 1) / 2, (fine->height + 1) / 2) <
            MAX (MIN_COARSE_SIDE, 2 * engine->patch_size + 1))
        break;

      if (!_op_fill_level_downsample (fine, coarse, engine->cancellable) ||
          !_op_fill_level_analyse (coarse, engine->radius, engine))
        {
          _op_fill_level_clear (coarse);
          return !check_cancelled (engine, error);
        }
      _op_fill_engine_account (engine, (gsize) coarse->width * coarse->height);
      coarse->texture = engine->texture;
      report (engine, 0);
      if (coarse->n_sources == 0 || coarse->n_holes == 0)
        {
          _op_fill_level_clear (coarse);
          break;
        }
      engine->n_levels++;
    }

  plan_work (engine);
  return TRUE;
}

static void
features_stripe (OpFillEngine *engine,
                 OpFillLevel  *level,
                 int           stripe,
                 int           y0,
                 int           y1,
                 guint64       rng_seed,
                 gpointer      data)
{
  for (int y = y0; y < y1; y++)
    {
      if (_op_fill_engine_is_cancelled (engine))
        return;
      _op_fill_level_features (level, y, y + 1, GPOINTER_TO_INT (data));
      _op_fill_engine_tick (engine);
    }
}

/* Each stripe sums its own rows plus the window's reach above and below, so no
 * picture-sized scratch is needed; the sums are the same whatever the stripes. */
static void
texture_stripe (OpFillEngine *engine,
                OpFillLevel  *level,
                int           stripe,
                int           y0,
                int           y1,
                guint64       rng_seed,
                gpointer      data)
{
  int r = _op_fill_level_texture_radius ();
  int h0 = MAX (0, y0 - r), h1 = MIN (level->height, y1 + r);
  gsize n = (gsize) level->width * (h1 - h0);
  g_autofree guint16 *hsum = g_new (guint16, n);
  g_autofree guint8 *hcount = g_new (guint8, n);

  for (int y = h0; y < h1; y++)
    {
      if (_op_fill_engine_is_cancelled (engine))
        return;
      _op_fill_level_texture_rows (level, hsum, hcount, h0, y, y + 1);
    }
  for (int y = y0; y < y1; y++)
    {
      if (_op_fill_engine_is_cancelled (engine))
        return;
      _op_fill_level_texture_columns (level, hsum, hcount, h0, y, y + 1);
      _op_fill_engine_tick (engine);
    }
}

static gboolean
compute_texture (OpFillEngine *engine,
                 OpFillLevel  *level)
{
  engine->phase_units = (double) level->width * level->height / 10.0;
  return _op_fill_engine_run_stripes (engine, level, 0, 0, texture_stripe, NULL);
}

static gboolean
compute_features (OpFillEngine *engine,
                  OpFillLevel  *level,
                  gboolean      holes_only)
{
  _op_fill_level_alloc_features (level);
  engine->phase_units = holes_only ? units_features (level, TRUE)
                                   : (double) level->width * level->height / 10.0;
  if (!_op_fill_engine_run_stripes (engine, level, 0, 0, features_stripe,
                                    GINT_TO_POINTER (holes_only)))
    return FALSE;
  if (!holes_only && level->texture)
    return compute_texture (engine, level);
  return TRUE;
}

static gboolean
vote (OpFillEngine *engine,
      OpFillLevel  *level)
{
  engine->phase_units = units_vote (level);
  return _op_fill_vote (engine, level);
}

/* The coarsest level's first guess, an onion peel (Newson et al. 2014): ring by ring
 * from the border inwards, search with the patches' known and guessed pixels only and
 * vote that ring.  A plain average of the neighbours would pull the search towards
 * smooth patches. */
static gboolean
first_guess (OpFillEngine *engine,
             int           l)
{
  OpFillLevel *level = &engine->levels[l];

  engine->guess_counted = engine->work_done;
  _op_fill_level_mark_done (level, 0);
  if (!compute_features (engine, level, FALSE) ||
      !_op_fill_nnf_init_random (engine, level, make_salt (l, 0, 0, SALT_INIT)))
    return FALSE;

  for (int layer = 1; layer <= level->max_dist; layer++)
    {
      for (int pass = 0; pass < LAYER_PASSES; pass++)
        if (!_op_fill_nnf_search_layer (engine, level, layer, pass,
                                        make_salt (l, layer, pass, SALT_LAYER)))
          return FALSE;
      if (!_op_fill_nnf_layer_weights (engine, level, layer) ||
          !_op_fill_vote_layer (engine, level, layer))
        return FALSE;
      _op_fill_level_mark_done (level, layer);
      if (!compute_features (engine, level, TRUE))
        return FALSE;
    }

  _op_fill_level_peel (level);
  _op_fill_level_clear_done (level);
  g_clear_pointer (&level->weight, g_free);
  if (!compute_features (engine, level, TRUE))
    return FALSE;

  /* the features above were counted as they went; the rest of the guess in one go */
  engine->work_done = engine->work_done - engine->guess_counted + units_guess (level);
  return TRUE;
}

/* Starts a level: the coarsest from a first guess, the others from the coarser field,
 * voted once to give the search something to compare. */
static gboolean
start_level (OpFillEngine *engine,
             int           l)
{
  OpFillLevel *level = &engine->levels[l];

  if (l == engine->n_levels - 1)
    return first_guess (engine, l);

  engine->phase_units = units_upsample (level);
  if (!_op_fill_nnf_upsample (engine, &engine->levels[l + 1], level,
                              make_salt (l, 0, 0, SALT_UPSAMPLE)))
    return FALSE;
  /* The coarser level has given all it had to give: drop it before the features, the
   * largest buffer, are allocated. */
  _op_fill_engine_account (engine, 0);
  _op_fill_level_clear (&engine->levels[l + 1]);

  return compute_features (engine, level, FALSE) && vote (engine, level) &&
         compute_features (engine, level, TRUE);
}

static gboolean
fill_level (OpFillEngine  *engine,
            int            l,
            GError       **error)
{
  OpFillLevel *level = &engine->levels[l];
  int n_em = em_iterations (engine, l);

  engine->search_radius = MAX (level->src_box.width, level->src_box.height);
  engine->current_level = l;
  if (!start_level (engine, l))
    return !check_cancelled (engine, error);
  _op_fill_engine_account (engine, 0);

  for (int em = 0; em < n_em; em++)
    {
      for (int pass = 0; pass < SEARCH_PASSES; pass++)
        {
          engine->phase_units = level->n_targets;
          if (!_op_fill_nnf_search (engine, level, pass, make_salt (l, em, pass, SALT_SEARCH)))
            return !check_cancelled (engine, error);
          report (engine, 0);
        }

      /* Above the finest level the last vote would be thrown away: the finer level
       * votes again from the upsampled field. */
      if (l > 0 && em == n_em - 1)
        break;

      if (!vote (engine, level) ||
          (em < n_em - 1 && !compute_features (engine, level, TRUE)))
        return !check_cancelled (engine, error);
    }

  if (l == 0)
    {
      engine->phase_units = units_blend (level);
      if (!_op_fill_blend_border (engine, level))
        return !check_cancelled (engine, error);
    }
  report (engine, 0);

  return !check_cancelled (engine, error);
}

static gboolean
is_opaque (const OpFillLevel *level)
{
  for (int y = 0; y < level->height; y++)
    {
      const guint8 *c = level->color + (gsize) y * level->color_stride;
      const guint8 *f = level->flags + (gsize) y * level->width;

      for (int x = 0; x < level->width; x++)
        if (c[4 * x + 3] != 255 && !(f[x] & OP_FILL_HOLE))
          return FALSE;
    }

  return TRUE;
}

static void
collect_matches (const OpFillLevel *level,
                 const OpRect      *region,
                 GArray            *matches)
{
  for (int y = 0; y < level->height; y++)
    for (int x = 0; x < level->width; x++)
      {
        gsize i = (gsize) y * level->width + x;
        OpFillMatch m;

        if (!(level->flags[i] & OP_FILL_TARGET))
          continue;
        m.tx = region->x + x;
        m.ty = region->y + y;
        m.sx = region->x + OP_FILL_X (level->nnf[i]);
        m.sy = region->y + OP_FILL_Y (level->nnf[i]);
        g_array_append_val (matches, m);
      }
}

gboolean
_op_fill_engine_fill (OpFillEngine  *engine,
                      guint8        *pixels,
                      int            stride,
                      const guint8  *mask,
                      int            mask_stride,
                      const OpRect  *region,
                      const OpRect  *source,
                      GArray        *matches,
                      GError       **error)
{
  if (!_op_fill_level_init_base (&engine->levels[0],
                                 pixels + (gsize) region->y * stride + 4 * (gsize) region->x,
                                 stride, region->width, region->height,
                                 mask + (gsize) region->y * mask_stride + region->x,
                                 mask_stride, source, engine->cancellable))
    return !check_cancelled (engine, error);
  engine->n_levels = 1;
  engine->texture = is_opaque (&engine->levels[0]);
  engine->levels[0].texture = engine->texture;
  report (engine, 0);

  if (!analyse_base (engine, error) || check_cancelled (engine, error) ||
      !build_pyramid (engine, error))
    return FALSE;

  for (int l = engine->n_levels - 1; l >= 0; l--)
    if (!fill_level (engine, l, error))
      return FALSE;

  if (matches != NULL)
    collect_matches (&engine->levels[0], region, matches);

  g_debug ("filled %zu hole pixels in a %dx%d crop, %d levels, patch %d: "
           "peak %.1f MiB of buffers (%.1f bytes per hole pixel, %.1f per crop pixel)",
           engine->levels[0].n_holes, region->width, region->height, engine->n_levels,
           engine->patch_size, engine->peak_bytes / 1048576.0,
           (double) engine->peak_bytes / MAX (engine->levels[0].n_holes, 1),
           (double) engine->peak_bytes / ((gsize) region->width * region->height));

  engine->work_done = engine->work_total;
  report (engine, 0);

  return TRUE;
}
