/* op-fill-blend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-fill"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-fill-private.h"

/* Border blending.  The votes also predict the known pixels around the hole; where the
 * prediction misses the real pixel, the hole's edge would show a step.  The misses
 * (residuals) are spread smoothly over the hole by pull-push interpolation (Gortler et
 * al. 1996) on a grid of CELL×CELL blocks and added to the fill: low frequencies of the
 * border carry into the hole, the fill's own texture stays.  Then the first ring of the
 * hole is feathered into its known neighbours. */

#define CELL 4

typedef struct
{
  int    width;
  int    height;
  float *rgb;     /* 3 per cell */
  float *weight;  /* 1 per cell */
} Grid;

typedef struct
{
  OpFillLevel *level;
  Grid        *grid;
  int          radius;
} BlendData;

static void
grid_init (Grid *grid,
           int   width,
           int   height)
{
  grid->width = width;
  grid->height = height;
  grid->rgb = g_new0 (float, (gsize) width * height * 3);
  grid->weight = g_new0 (float, (gsize) width * height);
}

static void
grid_clear (Grid *grid)
{
  g_clear_pointer (&grid->rgb, g_free);
  g_clear_pointer (&grid->weight, g_free);
}

/* What the votes say about known pixel (x, y), from the target patches over it. */
static gboolean
predict_known (const OpFillLevel *level,
               const float       *conf_lut,
               int                radius,
               int                x,
               int                y,
               float             *rgb)
{
  int width = level->width, stride = level->color_stride;
  float acc[3] = { 0, 0, 0 }, acc_w = 0;

  for (int oy = -radius; oy <= radius; oy++)
    {
      int ty = y - oy;

      if (ty < 0 || ty >= level->height)
        continue;

      for (int ox = -radius; ox <= radius; ox++)
        {
          int tx = x - ox;
          gsize t = (gsize) ty * width + tx;
          const guint8 *c;
          guint32 s;
          float w;

          if (tx < 0 || tx >= width || !(level->flags[t] & OP_FILL_TARGET))
            continue;

          s = level->nnf[t];
          w = conf_lut[level->dmap[t]];
          c = level->color + (gsize) (OP_FILL_Y (s) + oy) * stride + 4 * (OP_FILL_X (s) + ox);
          acc[0] += w * c[0];
          acc[1] += w * c[1];
          acc[2] += w * c[2];
          acc_w += w;
        }
    }

  if (acc_w <= 0)
    return FALSE;
  for (int k = 0; k < 3; k++)
    rgb[k] = acc[k] / acc_w;
  return TRUE;
}

/* Stripes here are rows of cells: a cell is summed by one stripe only. */
static void
residual_stripe (OpFillEngine *engine,
                 OpFillLevel  *cells,
                 int           stripe,
                 int           g0,
                 int           g1,
                 guint64       rng_seed,
                 gpointer      data)
{
  BlendData *bd = data;
  const OpFillLevel *level = bd->level;
  Grid *grid = bd->grid;

  for (int y = g0 * CELL; y < MIN (g1 * CELL, level->height); y++)
    {
      const guint8 *f = level->flags + (gsize) y * level->width;
      const guint8 *c = level->color + (gsize) y * level->color_stride;

      if (_op_fill_engine_is_cancelled (engine))
        return;
      if (y % CELL == 0)
        _op_fill_engine_tick (engine);

      for (int x = 0; x < level->width; x++)
        {
          gsize g = (gsize) (y / CELL) * grid->width + x / CELL;
          float predicted[3];

          /* known pixels next to the hole */
          if ((f[x] & (OP_FILL_TARGET | OP_FILL_HOLE)) != OP_FILL_TARGET ||
              level->dmap[(gsize) y * level->width + x] != 0 ||
              !predict_known (level, engine->conf_lut, bd->radius, x, y, predicted))
            continue;

          for (int k = 0; k < 3; k++)
            grid->rgb[3 * g + k] += c[4 * x + k] - predicted[k];
          grid->weight[g] += 1;
        }
    }
}

/* Pull: average the cells that have data into a coarser grid, recursively; push: fill
 * what a cell misses from the coarser grid, bilinearly.  Base weights saturate at 1. */
static void
pull_push (Grid *grid)
{
  Grid coarse;
  int width = grid->width, height = grid->height;
  gboolean complete = TRUE;

  for (gsize i = 0; i < (gsize) width * height; i++)
    complete = complete && grid->weight[i] >= 1;
  if (complete || (width == 1 && height == 1))
    return;

  grid_init (&coarse, (width + 1) / 2, (height + 1) / 2);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gsize i = (gsize) y * width + x, ci = (gsize) (y / 2) * coarse.width + x / 2;
        float w = MIN (grid->weight[i], 1.f);

        for (int k = 0; k < 3; k++)
          coarse.rgb[3 * ci + k] += w * grid->rgb[3 * i + k];
        coarse.weight[ci] += w;
      }
  for (gsize ci = 0; ci < (gsize) coarse.width * coarse.height; ci++)
    if (coarse.weight[ci] > 0)
      for (int k = 0; k < 3; k++)
        coarse.rgb[3 * ci + k] /= coarse.weight[ci];

  pull_push (&coarse);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gsize i = (gsize) y * width + x;
        float w = MIN (grid->weight[i], 1.f);
        float fx = CLAMP ((x + 0.5f) / 2 - 0.5f, 0.f, coarse.width - 1.f);
        float fy = CLAMP ((y + 0.5f) / 2 - 0.5f, 0.f, coarse.height - 1.f);
        int x0 = (int) fx, y0 = (int) fy;
        int x1 = MIN (x0 + 1, coarse.width - 1), y1 = MIN (y0 + 1, coarse.height - 1);
        float ax = fx - x0, ay = fy - y0;

        for (int k = 0; k < 3; k++)
          {
            const float *r = coarse.rgb;
            float up = (1 - ay) * ((1 - ax) * r[3 * ((gsize) y0 * coarse.width + x0) + k] +
                                   ax * r[3 * ((gsize) y0 * coarse.width + x1) + k]) +
                       ay * ((1 - ax) * r[3 * ((gsize) y1 * coarse.width + x0) + k] +
                             ax * r[3 * ((gsize) y1 * coarse.width + x1) + k]);

            grid->rgb[3 * i + k] = w * grid->rgb[3 * i + k] + (1 - w) * up;
          }
        grid->weight[i] = 1;
      }

  grid_clear (&coarse);
}

/* The first ring of the hole goes 70 % of the way towards its known neighbours (50 %
 * measured a seam ratio of 0.79 on fill-bench, 70 % 0.75 with the same PSNR): what steps
 * the residual could not explain (a texture that does not line up) fade over a pixel.
 * Known pixels never change, so stripes can do this in any order. */
static void
feather_pixel (OpFillLevel *level,
               int          x,
               int          y)
{
  guint8 *c = level->color + (gsize) y * level->color_stride + 4 * x;
  int sum[3] = { 0, 0, 0 }, n = 0;

  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      {
        int nx = x + dx, ny = y + dy;
        const guint8 *nc;

        if (nx < 0 || ny < 0 || nx >= level->width || ny >= level->height ||
            (level->flags[(gsize) ny * level->width + nx] & OP_FILL_HOLE))
          continue;
        nc = level->color + (gsize) ny * level->color_stride + 4 * nx;
        for (int k = 0; k < 3; k++)
          sum[k] += nc[k];
        n++;
      }

  if (n == 0)
    return;
  for (int k = 0; k < 3; k++)
    c[k] = (guint8) ((3 * c[k] * n + 7 * sum[k] + 5 * n) / (10 * n));
}

static void
apply_stripe (OpFillEngine *engine,
              OpFillLevel  *level,
              int           stripe,
              int           y0,
              int           y1,
              guint64       rng_seed,
              gpointer      data)
{
  BlendData *bd = data;
  const Grid *grid = bd->grid;

  for (int y = y0; y < y1; y++)
    {
      const guint8 *f = level->flags + (gsize) y * level->width;
      guint8 *c = level->color + (gsize) y * level->color_stride;
      float fy = CLAMP ((y + 0.5f) / CELL - 0.5f, 0.f, grid->height - 1.f);
      int gy0 = (int) fy, gy1 = MIN (gy0 + 1, grid->height - 1);
      float ay = fy - gy0;

      for (int x = 0; x < level->width; x++)
        {
          float fx, ax;
          int gx0, gx1;

          if (!(f[x] & OP_FILL_HOLE))
            continue;

          fx = CLAMP ((x + 0.5f) / CELL - 0.5f, 0.f, grid->width - 1.f);
          gx0 = (int) fx;
          gx1 = MIN (gx0 + 1, grid->width - 1);
          ax = fx - gx0;
          for (int k = 0; k < 3; k++)
            {
              const float *r = grid->rgb;
              float d = (1 - ay) * ((1 - ax) * r[3 * ((gsize) gy0 * grid->width + gx0) + k] +
                                    ax * r[3 * ((gsize) gy0 * grid->width + gx1) + k]) +
                        ay * ((1 - ax) * r[3 * ((gsize) gy1 * grid->width + gx0) + k] +
                              ax * r[3 * ((gsize) gy1 * grid->width + gx1) + k]);

              c[4 * x + k] = (guint8) CLAMP ((int) lrintf (c[4 * x + k] + d), 0, 255);
            }

          if (level->dmap[(gsize) y * level->width + x] == 1)
            feather_pixel (level, x, y);
        }
    }
}

gboolean
_op_fill_blend_border (OpFillEngine *engine,
                       OpFillLevel  *level)
{
  Grid grid;
  OpFillLevel cells = { 0, };
  BlendData bd = { level, &grid, engine->radius };
  double units;
  gboolean ok;

  grid_init (&grid, (level->width + CELL - 1) / CELL, (level->height + CELL - 1) / CELL);
  /* the grid and its pull-push pyramid: 16 bytes a cell, 4/3 of it */
  _op_fill_engine_account (engine, (gsize) grid.width * grid.height * 16 * 4 / 3);
  cells.width = grid.width;
  cells.height = grid.height;

  /* the caller's progress units: most of the time goes to the residuals */
  units = engine->phase_units;
  engine->phase_units = units * 0.8;
  ok = _op_fill_engine_run_stripes (engine, &cells, 0, 0, residual_stripe, &bd);
  engine->phase_units = units * 0.2;
  if (ok)
    {
      for (gsize i = 0; i < (gsize) grid.width * grid.height; i++)
        if (grid.weight[i] > 0)
          for (int k = 0; k < 3; k++)
            grid.rgb[3 * i + k] /= grid.weight[i];
      pull_push (&grid);
      ok = _op_fill_engine_run_stripes (engine, level, 0, 0, apply_stripe, &bd);
    }
  engine->phase_units = 0;

  grid_clear (&grid);
  return ok;
}
