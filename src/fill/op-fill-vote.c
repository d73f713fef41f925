/* op-fill-vote.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-fill"

#include "config.h"

#include <string.h>

#include "op-fill-private.h"

/* The reconstruction step: every hole pixel takes the weighted mean of what the
 * overlapping target patches' sources hold at its place.  Each pixel gathers its own
 * votes, so stripes write disjoint pixels and read only known ones (a source patch is
 * entirely known): no locks, and the result does not depend on the schedule. */

/* Votes from patches deep inside the hole count less (Wexler et al. 2007): patches
 * near the border carry the surroundings in.  Their similarity weight exp (-d / 2σ²)
 * made the bench worse (more seam, lower PSNR), so it is left out. */
static inline float
weight_at (const OpFillLevel *level,
           const float       *conf_lut,
           gsize              i)
{
  return level->weight != NULL ? level->weight[i] : conf_lut[level->dmap[i]];
}

static void
vote_pixel (const OpFillLevel *level,
            const float       *conf_lut,
            int                radius,
            int                x,
            int                y)
{
  int width = level->width, stride = level->color_stride;
  float acc[3] = { 0, 0, 0 }, acc_a = 0, acc_w = 0, acc_t = 0;
  guint8 *out;

  for (int oy = -radius; oy <= radius; oy++)
    {
      int ty = y - oy;

      if (ty < 0 || ty >= level->height)
        continue;

      for (int ox = -radius; ox <= radius; ox++)
        {
          int tx = x - ox;
          gsize t = (gsize) ty * width + tx;
          int sx, sy;
          const guint8 *c;
          float w, wa;

          if (tx < 0 || tx >= width)
            continue;

          /* the source patch's pixel where this one is in the target patch */
          sx = OP_FILL_X (level->nnf[t]) + ox;
          sy = OP_FILL_Y (level->nnf[t]) + oy;
          w = weight_at (level, conf_lut, t);
          c = level->color + (gsize) sy * stride + 4 * sx;
          wa = w * c[3];
          acc[0] += wa * c[0];
          acc[1] += wa * c[1];
          acc[2] += wa * c[2];
          acc_a += wa;
          acc_w += w;
          if (level->texture)
            acc_t += w * level->feat[4 * ((gsize) sy * width + sx) + 3];
        }
    }

  out = level->color + (gsize) y * stride + 4 * x;
  if (acc_w <= 0)
    return;
  /* Colours are averaged premultiplied, so transparent sources add no colour. */
  for (int k = 0; k < 3; k++)
    out[k] = acc_a > 0 ? (guint8) CLAMP ((int) (acc[k] / acc_a + 0.5f), 0, 255) : 0;
  out[3] = (guint8) CLAMP ((int) (acc_a / acc_w + 0.5f), 0, 255);
  if (level->texture)
    level->feat[4 * ((gsize) y * width + x) + 3] =
      (guint8) CLAMP ((int) (acc_t / acc_w + 0.5f), 0, 255);
}

static void
vote_stripe (OpFillEngine *engine,
             OpFillLevel  *level,
             int           stripe,
             int           y0,
             int           y1,
             guint64       rng_seed,
             gpointer      data)
{
  int layer = GPOINTER_TO_INT (data);

  for (int y = y0; y < y1; y++)
    {
      const guint8 *f = level->flags + (gsize) y * level->width;
      const guint8 *d = level->dmap + (gsize) y * level->width;

      if (_op_fill_engine_is_cancelled (engine))
        return;
      _op_fill_engine_tick (engine);

      for (int x = 0; x < level->width; x++)
        if ((f[x] & OP_FILL_HOLE) && (layer == 0 || d[x] == layer))
          vote_pixel (level, engine->conf_lut, engine->radius, x, y);
    }
}

gboolean
_op_fill_vote (OpFillEngine *engine,
               OpFillLevel  *level)
{
  return _op_fill_engine_run_stripes (engine, level, 0, 0, vote_stripe, NULL);
}

/* Votes only the pixels of ring @layer of the hole (chessboard distance to it). */
gboolean
_op_fill_vote_layer (OpFillEngine *engine,
                     OpFillLevel  *level,
                     int           layer)
{
  return _op_fill_engine_run_stripes (engine, level, 0, 0, vote_stripe,
                                      GINT_TO_POINTER (layer));
}
