/* op-fill-nnf.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-fill"

#include "config.h"

#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "op-fill-private.h"

/* The nearest-neighbour field (PatchMatch, Barnes et al. 2009): for every target patch
 * the centre of the most similar source patch, improved by propagation from the
 * neighbours and a random search around the current best. */

/* The part of a target patch that lies inside the level, as offsets from its centre. */
typedef struct
{
  int ox0, ox1;
  int oy0, oy1;
  int n_bytes;
  int radius;
} PatchBox;

typedef struct
{
  int      pass;
  int      layer;  /* > 0: first guess of this ring of the hole, see _op_fill_nnf_search_layer */
  gboolean weighted;
} SearchData;

static inline void
patch_box (const OpFillLevel *level,
           int                x,
           int                y,
           int                radius,
           PatchBox          *box)
{
  box->ox0 = MAX (-radius, -x);
  box->ox1 = MIN (radius, level->width - 1 - x);
  box->oy0 = MAX (-radius, -y);
  box->oy1 = MIN (radius, level->height - 1 - y);
  box->n_bytes = (box->ox1 - box->ox0 + 1) * 4;
  box->radius = radius;
}

/* How target pixels weigh in the patch distance.  Known pixels count four times as
 * much as guessed ones (their differences are doubled): the patches along the border
 * must agree with what is really there, not with the current guess, or the fill
 * drifts away from its surroundings.  The onion peel counts only the pixels known or
 * already guessed (OP_FILL_DONE). */
typedef enum
{
  WEIGH_NONE,
  WEIGH_KNOWN,
  WEIGH_DONE,
} Weighing;

#ifdef __SSE2__
static const guint8 tail_mask[32] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* The factor per channel of 4 pixels from their flags: 2 known / 1 in the hole, or
 * 1 guessed / 0 not yet. */
static inline __m128i
factors (const guint8 *flags,
         Weighing      weighing)
{
  guint32 four;
  __m128i v;

  memcpy (&four, flags, sizeof four);
  v = _mm_cvtsi32_si128 ((int) four);
  v = _mm_unpacklo_epi8 (v, v);
  v = _mm_unpacklo_epi16 (v, v);
  if (weighing == WEIGH_KNOWN)
    return _mm_sub_epi8 (_mm_set1_epi8 (2), _mm_and_si128 (v, _mm_set1_epi8 (OP_FILL_HOLE)));
  /* OP_FILL_DONE is bit 4 of every byte: shifted down, no bit crosses into the next */
  return _mm_srli_epi16 (_mm_and_si128 (v, _mm_set1_epi8 (OP_FILL_DONE)), 4);
}

static inline __m128i
ssd16 (__m128i       a,
       __m128i       b,
       const guint8 *flags,
       Weighing      weighing)
{
  __m128i zero = _mm_setzero_si128 ();
  __m128i lo = _mm_sub_epi16 (_mm_unpacklo_epi8 (a, zero), _mm_unpacklo_epi8 (b, zero));
  __m128i hi = _mm_sub_epi16 (_mm_unpackhi_epi8 (a, zero), _mm_unpackhi_epi8 (b, zero));

  if (weighing != WEIGH_NONE)
    {
      __m128i k = factors (flags, weighing);

      lo = _mm_mullo_epi16 (lo, _mm_unpacklo_epi8 (k, zero));
      hi = _mm_mullo_epi16 (hi, _mm_unpackhi_epi8 (k, zero));
    }
  return _mm_add_epi32 (_mm_madd_epi16 (lo, lo), _mm_madd_epi16 (hi, hi));
}

static inline guint32
hsum (__m128i acc)
{
  acc = _mm_add_epi32 (acc, _mm_shuffle_epi32 (acc, _MM_SHUFFLE (1, 0, 3, 2)));
  acc = _mm_add_epi32 (acc, _mm_shuffle_epi32 (acc, _MM_SHUFFLE (2, 3, 0, 1)));
  return (guint32) _mm_cvtsi128_si32 (acc);
}

/* @n bytes of features; reads up to 15 bytes past the row and 3 flags past the last
 * pixel: the buffers are padded for it. */
static inline guint32
row_ssd (const guint8 *a,
         const guint8 *b,
         const guint8 *flags,
         int           n,
         Weighing      weighing)
{
  __m128i acc = _mm_setzero_si128 ();
  int i = 0;

  for (; i + 16 <= n; i += 16)
    acc = _mm_add_epi32 (acc, ssd16 (_mm_loadu_si128 ((const __m128i *) (a + i)),
                                     _mm_loadu_si128 ((const __m128i *) (b + i)),
                                     flags + i / 4, weighing));
  if (i < n)
    {
      __m128i m = _mm_loadu_si128 ((const __m128i *) (tail_mask + 16 - (n - i)));

      acc = _mm_add_epi32 (acc,
                           ssd16 (_mm_and_si128 (m, _mm_loadu_si128 ((const __m128i *) (a + i))),
                                  _mm_and_si128 (m, _mm_loadu_si128 ((const __m128i *) (b + i))),
                                  flags + i / 4, weighing));
    }

  return hsum (acc);
}
#else
static inline guint32
row_ssd (const guint8 *a,
         const guint8 *b,
         const guint8 *flags,
         int           n,
         Weighing      weighing)
{
  guint32 sum = 0;

  for (int i = 0; i < n; i++)
    {
      int d = (int) a[i] - (int) b[i];

      if (weighing == WEIGH_KNOWN && !(flags[i / 4] & OP_FILL_HOLE))
        d *= 2;
      else if (weighing == WEIGH_DONE && !(flags[i / 4] & OP_FILL_DONE))
        d = 0;
      sum += (guint32) (d * d);
    }
  return sum;
}
#endif

/* Sum of squared feature differences, giving up once it reaches @bail. */
static inline guint32
patch_ssd (const OpFillLevel *level,
           int                tx,
           int                ty,
           int                sx,
           int                sy,
           const PatchBox    *box,
           Weighing           weighing,
           guint32            bail)
{
  gsize stride = (gsize) level->width * 4;
  gsize ti = (gsize) (ty + box->oy0) * level->width + tx + box->ox0;
  const guint8 *a = level->feat + ti * 4;
  const guint8 *b = level->feat + ((gsize) (sy + box->oy0) * level->width + sx + box->ox0) * 4;
  const guint8 *f = level->flags + ti;
  guint32 sum = 0;

  for (int oy = box->oy0; oy <= box->oy1; oy++)
    {
      sum += row_ssd (a, b, f, box->n_bytes, weighing);
      if (sum >= bail)
        return sum;
      a += stride;
      b += stride;
      f += level->width;
    }

  return sum;
}

static inline guint32
distance (const OpFillLevel *level,
          const SearchData  *sd,
          int                tx,
          int                ty,
          int                sx,
          int                sy,
          const PatchBox    *box,
          guint32            bail)
{
  if (sd->layer > 0)
    return patch_ssd (level, tx, ty, sx, sy, box, WEIGH_DONE, bail);

  /* Beyond the radius from the known part a patch is all guess: no weighting. */
  if (sd->weighted && level->dmap[(gsize) ty * level->width + tx] <= box->radius)
    return patch_ssd (level, tx, ty, sx, sy, box, WEIGH_KNOWN, bail);
  return patch_ssd (level, tx, ty, sx, sy, box, WEIGH_NONE, bail);
}

static inline gboolean
is_source (const OpFillLevel *level,
           int                x,
           int                y)
{
  return x >= 0 && y >= 0 && x < level->width && y < level->height &&
         (level->flags[(gsize) y * level->width + x] & OP_FILL_SOURCE);
}

static guint32
random_source (const OpFillLevel *level,
               OpFillRng         *rng)
{
  const OpRect *box = &level->src_box;
  int x = 0, y = 0;

  for (int i = 0; i < 64; i++)
    {
      x = box->x + _op_fill_rng_below (rng, box->width);
      y = box->y + _op_fill_rng_below (rng, box->height);
      if (is_source (level, x, y))
        return _op_fill_pack (x, y);
    }

  /* Sparse sources: walk on from the last guess; the box holds at least one. */
  for (gint64 k = 0; k < (gint64) box->width * box->height; k++)
    {
      if (++x >= box->x + box->width)
        {
          x = box->x;
          if (++y >= box->y + box->height)
            y = box->y;
        }
      if (is_source (level, x, y))
        break;
    }

  return _op_fill_pack (x, y);
}

/* Tries candidate source (cx, cy) for the target at (x, y). */
static inline void
try_candidate (const OpFillLevel *level,
               const SearchData  *sd,
               int                x,
               int                y,
               int                cx,
               int                cy,
               const PatchBox    *box,
               guint32           *best,
               guint32           *best_d)
{
  guint32 cand, d;

  if (!is_source (level, cx, cy))
    return;
  cand = _op_fill_pack (cx, cy);
  if (cand == *best)
    return;

  d = distance (level, sd, x, y, cx, cy, box, *best_d);
  if (d < *best_d)
    {
      *best = cand;
      *best_d = d;
    }
}

static void
improve_target (OpFillEngine     *engine,
                OpFillLevel      *level,
                const SearchData *sd,
                int               x,
                int               y,
                int               y0,
                int               y1,
                int               dir,
                OpFillRng        *rng)
{
  gsize i = (gsize) y * level->width + x;
  const OpRect *sb = &level->src_box;
  guint32 best = level->nnf[i], best_d;
  PatchBox box;

  patch_box (level, x, y, engine->radius, &box);
  /* The guess under the patch changed since the last pass (or the last ring): keeping
   * the old distance would cost 4 bytes a pixel for little time. */
  best_d = distance (level, sd, x, y, OP_FILL_X (best), OP_FILL_Y (best), &box, G_MAXUINT32);

  /* Propagation, only from neighbours in this stripe: they are final for this pass
   * whatever the other threads do. */
  if (x - dir >= 0 && x - dir < level->width && (level->flags[i - dir] & OP_FILL_TARGET))
    {
      guint32 n = level->nnf[i - dir];

      try_candidate (level, sd, x, y, OP_FILL_X (n) + dir, OP_FILL_Y (n), &box, &best, &best_d);
    }
  if (y - dir >= y0 && y - dir < y1 &&
      (level->flags[i - dir * level->width] & OP_FILL_TARGET))
    {
      guint32 n = level->nnf[i - dir * level->width];

      try_candidate (level, sd, x, y, OP_FILL_X (n), OP_FILL_Y (n) + dir, &box, &best, &best_d);
    }

  for (int r = engine->search_radius; r >= 1; r /= 2)
    {
      int cx = OP_FILL_X (best) + _op_fill_rng_below (rng, 2 * r + 1) - r;
      int cy = OP_FILL_Y (best) + _op_fill_rng_below (rng, 2 * r + 1) - r;

      cx = CLAMP (cx, sb->x, sb->x + sb->width - 1);
      cy = CLAMP (cy, sb->y, sb->y + sb->height - 1);
      try_candidate (level, sd, x, y, cx, cy, &box, &best, &best_d);
    }

  level->nnf[i] = best;
}

static void
search_stripe (OpFillEngine *engine,
               OpFillLevel  *level,
               int           stripe,
               int           y0,
               int           y1,
               guint64       rng_seed,
               gpointer      data)
{
  const SearchData *sd = data;
  OpFillRng rng = { rng_seed };
  int dir = (sd->pass & 1) ? -1 : 1;
  int width = level->width;

  for (int k = 0; k < y1 - y0; k++)
    {
      int y = dir > 0 ? y0 + k : y1 - 1 - k;
      const guint8 *f = level->flags + (gsize) y * width;

      if (_op_fill_engine_is_cancelled (engine))
        return;
      _op_fill_engine_tick (engine);

      for (int j = 0; j < width; j++)
        {
          int x = dir > 0 ? j : width - 1 - j;

          if (!(f[x] & OP_FILL_TARGET))
            continue;
          /* A ring is only reached by patches centred within the radius of it. */
          if (sd->layer > 0 &&
              ABS (level->dmap[(gsize) y * width + x] - sd->layer) > engine->radius)
            continue;
          improve_target (engine, level, sd, x, y, y0, y1, dir, &rng);
        }
    }
}

gboolean
_op_fill_nnf_search (OpFillEngine *engine,
                     OpFillLevel  *level,
                     int           pass,
                     guint64       salt)
{
  SearchData sd = { pass, 0, TRUE };

  return _op_fill_engine_run_stripes (engine, level, pass & 1, salt, search_stripe, &sd);
}

/* The search for the onion-peel first guess (Newson et al. 2014): patches compared
 * over their known and already guessed pixels only, for the targets that reach ring
 * @layer of the hole. */
gboolean
_op_fill_nnf_search_layer (OpFillEngine *engine,
                           OpFillLevel  *level,
                           int           layer,
                           int           pass,
                           guint64       salt)
{
  SearchData sd = { pass, layer, FALSE };

  return _op_fill_engine_run_stripes (engine, level, pass & 1, salt, search_stripe, &sd);
}

static void
init_stripe (OpFillEngine *engine,
             OpFillLevel  *level,
             int           stripe,
             int           y0,
             int           y1,
             guint64       rng_seed,
             gpointer      data)
{
  OpFillRng rng = { rng_seed };

  for (int y = y0; y < y1; y++)
    for (int x = 0; x < level->width; x++)
      {
        gsize i = (gsize) y * level->width + x;

        if (!(level->flags[i] & OP_FILL_TARGET))
          continue;
        level->nnf[i] = random_source (level, &rng);
      }
}

static void
ensure_search_arrays (OpFillLevel *level)
{
  gsize n = (gsize) level->width * level->height;

  if (level->nnf == NULL)
    level->nnf = g_new0 (guint32, n);
}

gboolean
_op_fill_nnf_init_random (OpFillEngine *engine,
                          OpFillLevel  *level,
                          guint64       salt)
{
  ensure_search_arrays (level);
  return _op_fill_engine_run_stripes (engine, level, 0, salt, init_stripe, NULL);
}

static void
upsample_stripe (OpFillEngine *engine,
                 OpFillLevel  *fine,
                 int           stripe,
                 int           y0,
                 int           y1,
                 guint64       rng_seed,
                 gpointer      data)
{
  const OpFillLevel *coarse = data;
  OpFillRng rng = { rng_seed };

  for (int y = y0; y < y1; y++)
    for (int x = 0; x < fine->width; x++)
      {
        gsize i = (gsize) y * fine->width + x;
        gsize ci = (gsize) (y / 2) * coarse->width + x / 2;
        guint32 p = 0;
        gboolean found = FALSE;

        if (!(fine->flags[i] & OP_FILL_TARGET))
          continue;

        if (coarse->flags[ci] & OP_FILL_TARGET)
          {
            int sx = 2 * OP_FILL_X (coarse->nnf[ci]), sy = 2 * OP_FILL_Y (coarse->nnf[ci]);

            if (is_source (fine, sx + (x & 1), sy + (y & 1)))
              {
                p = _op_fill_pack (sx + (x & 1), sy + (y & 1));
                found = TRUE;
              }
            else if (is_source (fine, sx, sy))
              {
                p = _op_fill_pack (sx, sy);
                found = TRUE;
              }
          }

        fine->nnf[i] = found ? p : random_source (fine, &rng);
      }
}

gboolean
_op_fill_nnf_upsample (OpFillEngine      *engine,
                       const OpFillLevel *coarse,
                       OpFillLevel       *fine,
                       guint64            salt)
{
  ensure_search_arrays (fine);
  return _op_fill_engine_run_stripes (engine, fine, 0, salt, upsample_stripe,
                                      (gpointer) coarse);
}

/* Weights for a ring's vote: the share of the patch already known or guessed, so the
 * guess leans on what is there. */
static void
layer_weight_stripe (OpFillEngine *engine,
                     OpFillLevel  *level,
                     int           stripe,
                     int           y0,
                     int           y1,
                     guint64       rng_seed,
                     gpointer      data)
{
  int layer = GPOINTER_TO_INT (data);

  for (int y = y0; y < y1; y++)
    for (int x = 0; x < level->width; x++)
      {
        gsize i = (gsize) y * level->width + x;
        PatchBox box;
        int n_valid = 0;

        if (!(level->flags[i] & OP_FILL_TARGET) || ABS (level->dmap[i] - layer) > engine->radius)
          continue;

        patch_box (level, x, y, engine->radius, &box);
        for (int oy = box.oy0; oy <= box.oy1; oy++)
          for (int ox = box.ox0; ox <= box.ox1; ox++)
            n_valid += (level->flags[i + (gssize) oy * level->width + ox] & OP_FILL_DONE) != 0;

        level->weight[i] = (float) n_valid / ((box.ox1 - box.ox0 + 1) * (box.oy1 - box.oy0 + 1));
      }
}

gboolean
_op_fill_nnf_layer_weights (OpFillEngine *engine,
                            OpFillLevel  *level,
                            int           layer)
{
  if (level->weight == NULL)
    level->weight = g_new0 (float, (gsize) level->width * level->height);

  return _op_fill_engine_run_stripes (engine, level, 0, 0, layer_weight_stripe,
                                      GINT_TO_POINTER (layer));
}
