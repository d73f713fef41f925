/* op-fill-level.c
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

/* Bytes read past the end of the buffers by the vector distance code */
#define FEAT_PADDING  64
#define FLAGS_PADDING 16

/* a* and b* span about ±100 in sRGB; L* 0..100 is stretched to 0..255, so lightness
 * weighs about twice as much as chroma in the patch distance, which follows texture. */
#define AB_SCALE 1.25f

#define CBRT_LUT_SIZE 1024

/* Long loops look at the cancellable every so many rows. */
#define CANCELLED(cancellable, y) \
  (((y) & 15) == 0 && (cancellable) != NULL && g_cancellable_is_cancelled (cancellable))

#define TEXTURE_RADIUS 2
#define TEXTURE_GAIN   3.f

static float srgb_lut[256];
static float cbrt_lut[CBRT_LUT_SIZE + 2];

static gpointer
init_luts (gpointer data)
{
  for (int i = 0; i < 256; i++)
    {
      double c = i / 255.0;

      srgb_lut[i] = (float) (c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4));
    }

  for (int i = 0; i <= CBRT_LUT_SIZE + 1; i++)
    {
      double t = (double) i / CBRT_LUT_SIZE;

      cbrt_lut[i] = (float) (t > 0.008856 ? cbrt (t) : 7.787 * t + 16.0 / 116.0);
    }

  return NULL;
}

static inline float
lab_f (float t)
{
  float pos;
  int i;

  t = CLAMP (t, 0.f, 1.f);
  pos = t * CBRT_LUT_SIZE;
  i = (int) pos;
  return cbrt_lut[i] + (cbrt_lut[i + 1] - cbrt_lut[i]) * (pos - i);
}

static inline guint8
clamp_u8 (float v)
{
  return (guint8) CLAMP ((int) lrintf (v), 0, 255);
}

static inline void
rgba_to_feature (const guint8 *rgba,
                 guint8       *out,
                 gboolean      with_alpha)
{
  float r = srgb_lut[rgba[0]], g = srgb_lut[rgba[1]], b = srgb_lut[rgba[2]];
  float fx, fy, fz, alpha = rgba[3] / 255.f;

  fx = lab_f ((0.4124f * r + 0.3576f * g + 0.1805f * b) * (1.f / 0.95047f));
  fy = lab_f (0.2126f * r + 0.7152f * g + 0.0722f * b);
  fz = lab_f ((0.0193f * r + 0.1192f * g + 0.9505f * b) * (1.f / 1.08883f));

  /* A transparent pixel's colour means nothing: scale it away with the alpha. */
  out[0] = clamp_u8 ((116.f * fy - 16.f) * 2.55f * alpha);
  out[1] = clamp_u8 (128.f + 500.f * (fx - fy) * AB_SCALE * alpha);
  out[2] = clamp_u8 (128.f + 200.f * (fy - fz) * AB_SCALE * alpha);
  if (with_alpha)
    out[3] = rgba[3];
}

static void
ensure_luts (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, init_luts, NULL);
}

gboolean
_op_fill_level_init_base (OpFillLevel  *level,
                          guint8       *color,
                          int           color_stride,
                          int           width,
                          int           height,
                          const guint8 *mask,
                          int           mask_stride,
                          const OpRect *source,
                          GCancellable *cancellable)
{
  memset (level, 0, sizeof *level);
  level->width = width;
  level->height = height;
  level->color = color;
  level->color_stride = color_stride;
  level->flags = g_malloc0 ((gsize) width * height + FLAGS_PADDING);

  for (int y = 0; y < height; y++)
    {
      const guint8 *m = mask + (gsize) y * mask_stride;
      guint8 *f = level->flags + (gsize) y * width;
      gboolean row_in = y >= source->y && y < source->y + source->height;

      if (CANCELLED (cancellable, y))
        return FALSE;
      for (int x = 0; x < width; x++)
        {
          if (m[x] != 0)
            f[x] = OP_FILL_HOLE;
          else if (row_in && x >= source->x && x < source->x + source->width)
            f[x] = OP_FILL_KNOWN;
          else
            f[x] = 0;
        }
    }

  return TRUE;
}

/* A coarse pixel is a hole when any of its children is, so a known coarse pixel is
 * made of known pixels only and sources never carry hole colours up the pyramid. */
static void
downsample_pixel (const OpFillLevel *fine,
                  int                cx,
                  int                cy,
                  guint8            *flag,
                  guint8            *rgba)
{
  guint sum[4] = { 0, 0, 0, 0 };
  guint8 all_known = OP_FILL_KNOWN;
  int n = 0;

  *flag = 0;
  for (int j = 0; j < 2; j++)
    for (int i = 0; i < 2; i++)
      {
        int x = 2 * cx + i, y = 2 * cy + j;
        const guint8 *c;
        guint8 f;

        if (x >= fine->width || y >= fine->height)
          continue;

        f = fine->flags[(gsize) y * fine->width + x];
        if (f & OP_FILL_HOLE)
          {
            *flag = OP_FILL_HOLE;
            memset (rgba, 0, 4);
            return;
          }
        all_known &= f;

        c = fine->color + (gsize) y * fine->color_stride + 4 * x;
        sum[0] += c[0] * c[3];
        sum[1] += c[1] * c[3];
        sum[2] += c[2] * c[3];
        sum[3] += c[3];
        n++;
      }

  *flag = all_known & OP_FILL_KNOWN;
  if (sum[3] == 0)
    {
      memset (rgba, 0, 4);
      return;
    }
  for (int k = 0; k < 3; k++)
    rgba[k] = (guint8) ((sum[k] + sum[3] / 2) / sum[3]);
  rgba[3] = (guint8) ((sum[3] + n / 2) / n);
}

gboolean
_op_fill_level_downsample (const OpFillLevel *fine,
                           OpFillLevel       *coarse,
                           GCancellable      *cancellable)
{
  int width = (fine->width + 1) / 2, height = (fine->height + 1) / 2;

  memset (coarse, 0, sizeof *coarse);
  coarse->width = width;
  coarse->height = height;
  coarse->color_stride = width * 4;
  coarse->color_owned = g_malloc ((gsize) width * height * 4);
  coarse->color = coarse->color_owned;
  coarse->flags = g_malloc0 ((gsize) width * height + FLAGS_PADDING);

  for (int y = 0; y < height; y++)
    {
      if (CANCELLED (cancellable, y))
        return FALSE;
      for (int x = 0; x < width; x++)
        downsample_pixel (fine, x, y, &coarse->flags[(gsize) y * width + x],
                          coarse->color + (gsize) y * coarse->color_stride + 4 * x);
    }

  return TRUE;
}

/* OP_FILL_SOURCE = the (2r+1)² square around the pixel lies inside the level and is
 * all OP_FILL_KNOWN: a separable erosion, rows then columns. */
static gboolean
mark_sources (OpFillLevel  *level,
              int           radius,
              guint8       *scratch,
              GCancellable *cancellable)
{
  int width = level->width, height = level->height, side = 2 * radius + 1;
  int x0 = G_MAXINT, y0 = G_MAXINT, x1 = -1, y1 = -1;
  g_autofree int *count = g_new0 (int, width);

  for (int y = 0; y < height; y++)
    {
      const guint8 *f = level->flags + (gsize) y * width;
      guint8 *h = scratch + (gsize) y * width;
      int run = 0;

      if (CANCELLED (cancellable, y))
        return FALSE;
      memset (h, 0, width);
      for (int x = 0; x < width; x++)
        {
          run = (f[x] & OP_FILL_KNOWN) ? run + 1 : 0;
          if (run >= side)
            h[x - radius] = 1;
        }
    }

  level->n_sources = 0;
  for (int y = 0; y < height; y++)
    {
      const guint8 *h = scratch + (gsize) y * width;

      if (CANCELLED (cancellable, y))
        return FALSE;

      for (int x = 0; x < width; x++)
        {
          count[x] = h[x] ? count[x] + 1 : 0;
          if (count[x] >= side)
            {
              level->flags[(gsize) (y - radius) * width + x] |= OP_FILL_SOURCE;
              level->n_sources++;
              x0 = MIN (x0, x);
              x1 = MAX (x1, x);
              y0 = MIN (y0, y - radius);
              y1 = MAX (y1, y - radius);
            }
        }
    }

  if (level->n_sources > 0)
    level->src_box = (OpRect) { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
  else
    level->src_box = (OpRect) { 0, 0, 0, 0 };

  return TRUE;
}

/* OP_FILL_TARGET = within the chessboard radius of a hole pixel: separable dilation
 * with sliding window counts. */
static gboolean
mark_targets (OpFillLevel  *level,
              int           radius,
              guint8       *scratch,
              GCancellable *cancellable)
{
  int width = level->width, height = level->height;
  g_autofree int *count = g_new0 (int, width);

  for (int y = 0; y < height; y++)
    {
      const guint8 *f = level->flags + (gsize) y * width;
      guint8 *h = scratch + (gsize) y * width;
      int n = 0;

      if (CANCELLED (cancellable, y))
        return FALSE;

      /* n counts holes in [x - radius, x + radius] */
      for (int x = 0; x < radius && x < width; x++)
        n += f[x] & OP_FILL_HOLE;
      for (int x = 0; x < width; x++)
        {
          if (x + radius < width)
            n += f[x + radius] & OP_FILL_HOLE;
          if (x - radius - 1 >= 0)
            n -= f[x - radius - 1] & OP_FILL_HOLE;
          h[x] = n > 0;
        }
    }

  level->n_targets = 0;
  for (int y = 0; y < height + radius; y++)
    {
      if (CANCELLED (cancellable, y))
        return FALSE;
      if (y < height)
        {
          const guint8 *h = scratch + (gsize) y * width;

          for (int x = 0; x < width; x++)
            count[x] += h[x];
        }
      if (y - 2 * radius - 1 >= 0)
        {
          const guint8 *h = scratch + (gsize) (y - 2 * radius - 1) * width;

          for (int x = 0; x < width; x++)
            count[x] -= h[x];
        }
      if (y - radius >= 0)
        {
          guint8 *f = level->flags + (gsize) (y - radius) * width;

          for (int x = 0; x < width; x++)
            if (count[x] > 0)
              {
                f[x] |= OP_FILL_TARGET;
                level->n_targets++;
              }
        }
    }

  return TRUE;
}

/* Two-pass chessboard distance to the nearest pixel that is not a hole. */
static gboolean
compute_dmap (OpFillLevel  *level,
              GCancellable *cancellable)
{
  int width = level->width, height = level->height;
  guint8 *d = level->dmap;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        if (x == 0 && CANCELLED (cancellable, y))
          return FALSE;
        gsize i = (gsize) y * width + x;
        int best = 255;

        if (!(level->flags[i] & OP_FILL_HOLE))
          {
            d[i] = 0;
            continue;
          }
        if (x > 0)
          best = MIN (best, d[i - 1]);
        if (y > 0)
          {
            best = MIN (best, d[i - width]);
            if (x > 0)
              best = MIN (best, d[i - width - 1]);
            if (x + 1 < width)
              best = MIN (best, d[i - width + 1]);
          }
        d[i] = (guint8) MIN (best + 1, 255);
      }

  level->max_dist = 0;
  level->n_holes = 0;
  for (int y = height - 1; y >= 0; y--)
    for (int x = width - 1; x >= 0; x--)
      {
        gsize i = (gsize) y * width + x;
        int best = d[i];

        if (x == width - 1 && CANCELLED (cancellable, y))
          return FALSE;
        if (best == 0)
          continue;
        if (x + 1 < width)
          best = MIN (best, d[i + 1] + 1);
        if (y + 1 < height)
          {
            best = MIN (best, d[i + width] + 1);
            if (x + 1 < width)
              best = MIN (best, d[i + width + 1] + 1);
            if (x > 0)
              best = MIN (best, d[i + width - 1] + 1);
          }
        d[i] = (guint8) MIN (best, 255);
        level->max_dist = MAX (level->max_dist, d[i]);
        level->n_holes++;
      }

  return TRUE;
}

gboolean
_op_fill_level_analyse (OpFillLevel  *level,
                        int           radius,
                        OpFillEngine *engine)
{
  GCancellable *cancellable = engine->cancellable;
  gsize n = (gsize) level->width * level->height;
  g_autofree guint8 *scratch = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    level->flags[i] &= OP_FILL_HOLE | OP_FILL_KNOWN;

  if (level->dmap == NULL)
    level->dmap = g_malloc (n);

  if (!mark_sources (level, radius, scratch, cancellable))
    return FALSE;
  _op_fill_engine_heartbeat (engine);
  if (!mark_targets (level, radius, scratch, cancellable))
    return FALSE;
  _op_fill_engine_heartbeat (engine);
  return compute_dmap (level, cancellable);
}

/* Allocates the features before the stripes compute them. */
void
_op_fill_level_alloc_features (OpFillLevel *level)
{
  ensure_luts ();

  if (level->feat == NULL)
    level->feat = g_malloc0 ((gsize) level->width * level->height * 4 + FEAT_PADDING);
}

void
_op_fill_level_features (OpFillLevel *level,
                         int          y0,
                         int          y1,
                         gboolean     holes_only)
{
  g_assert (level->feat != NULL);

  for (int y = y0; y < y1; y++)
    {
      const guint8 *c = level->color + (gsize) y * level->color_stride;
      const guint8 *f = level->flags + (gsize) y * level->width;
      guint8 *out = level->feat + (gsize) y * level->width * 4;

      for (int x = 0; x < level->width; x++)
        if (!holes_only || (f[x] & OP_FILL_HOLE))
          rgba_to_feature (c + 4 * x, out + 4 * x, !level->texture || !holes_only);
    }
}

/* Absolute lightness gradient, from known pixels only */
static inline int
known_gradient (const OpFillLevel *level,
                int                x,
                int                y)
{
  const guint8 *f = level->flags, *feat = level->feat;
  int width = level->width;
  gsize i = (gsize) y * width + x;
  int g = 0;

  for (int axis = 0; axis < 2; axis++)
    {
      gsize step = axis == 0 ? 1 : (gsize) width;
      gboolean lo = axis == 0 ? x > 0 : y > 0;
      gboolean hi = axis == 0 ? x + 1 < width : y + 1 < level->height;
      int l = feat[4 * i];

      lo = lo && !(f[i - step] & OP_FILL_HOLE);
      hi = hi && !(f[i + step] & OP_FILL_HOLE);
      if (lo && hi)
        g += ABS (feat[4 * (i + step)] - feat[4 * (i - step)]) / 2;
      else if (hi)
        g += ABS (feat[4 * (i + step)] - l);
      else if (lo)
        g += ABS (l - feat[4 * (i - step)]);
    }

  return g;
}

/* The texture channel of the known pixels: the mean absolute lightness gradient over
 * a 5×5 window, as in Newson et al. (2014).  Colours alone let smooth patches win in a
 * textured place, since the first guesses are smooth; hole pixels get theirs by vote.
 * Two passes over rows [y0, y1), the second after the first is done everywhere:
 * horizontal window sums into @hsum, @hcount, then vertical sums into the features. */
int
_op_fill_level_texture_radius (void)
{
  return TEXTURE_RADIUS;
}

void
_op_fill_level_texture_rows (OpFillLevel *level,
                             guint16     *hsum,
                             guint8      *hcount,
                             int          base,
                             int          y0,
                             int          y1)
{
  int width = level->width, r = TEXTURE_RADIUS;
  g_autofree guint8 *grad = g_new (guint8, width);
  g_autofree guint8 *known = g_new (guint8, width);

  for (int y = y0; y < y1; y++)
    {
      const guint8 *f = level->flags + (gsize) y * width;
      int sum = 0, count = 0;

      for (int x = 0; x < width; x++)
        {
          known[x] = !(f[x] & OP_FILL_HOLE);
          grad[x] = known[x] ? (guint8) MIN (known_gradient (level, x, y), 255) : 0;
        }
      for (int x = 0; x < r && x < width; x++)
        {
          sum += grad[x];
          count += known[x];
        }
      for (int x = 0; x < width; x++)
        {
          if (x + r < width)
            {
              sum += grad[x + r];
              count += known[x + r];
            }
          if (x - r - 1 >= 0)
            {
              sum -= grad[x - r - 1];
              count -= known[x - r - 1];
            }
          hsum[(gsize) (y - base) * width + x] = (guint16) sum;
          hcount[(gsize) (y - base) * width + x] = (guint8) count;
        }
    }
}

void
_op_fill_level_texture_columns (OpFillLevel   *level,
                                const guint16 *hsum,
                                const guint8  *hcount,
                                int            base,
                                int            y0,
                                int            y1)
{
  int width = level->width, height = level->height, r = TEXTURE_RADIUS;
  g_autofree int *sum = g_new0 (int, width);
  g_autofree int *count = g_new0 (int, width);

  /* rows from @base on are in @hsum, @hcount */
  for (int y = MAX (0, y0 - r); y < MIN (height, y0 + r); y++)
    for (int x = 0; x < width; x++)
      {
        sum[x] += hsum[(gsize) (y - base) * width + x];
        count[x] += hcount[(gsize) (y - base) * width + x];
      }

  for (int y = y0; y < y1; y++)
    {
      const guint16 *add_s = y + r < height ? hsum + (gsize) (y + r - base) * width : NULL;
      const guint8 *add_c = y + r < height ? hcount + (gsize) (y + r - base) * width : NULL;
      gboolean drop = y - r - 1 >= MAX (0, y0 - r);
      const guint8 *f = level->flags + (gsize) y * width;
      guint8 *out = level->feat + (gsize) y * width * 4;

      for (int x = 0; x < width; x++)
        {
          if (add_s != NULL)
            {
              sum[x] += add_s[x];
              count[x] += add_c[x];
            }
          if (drop)
            {
              sum[x] -= hsum[(gsize) (y - r - 1 - base) * width + x];
              count[x] -= hcount[(gsize) (y - r - 1 - base) * width + x];
            }
          if (f[x] & OP_FILL_HOLE)
            out[4 * x + 3] = 0;
          else
            out[4 * x + 3] = clamp_u8 (TEXTURE_GAIN * sum[x] / MAX (count[x], 1));
        }
    }
}

/* Marks ring @layer of the hole as guessed; layer 0 marks every pixel outside it. */
void
_op_fill_level_mark_done (OpFillLevel *level,
                          int          layer)
{
  gsize n = (gsize) level->width * level->height;

  for (gsize i = 0; i < n; i++)
    if (level->dmap[i] == layer)
      level->flags[i] |= OP_FILL_DONE;
}

void
_op_fill_level_clear_done (OpFillLevel *level)
{
  gsize n = (gsize) level->width * level->height;

  for (gsize i = 0; i < n; i++)
    level->flags[i] &= ~OP_FILL_DONE;
}

/* Grows the guessed colours inwards ring by ring into whatever hole pixel is not
 * OP_FILL_DONE yet: the last resort of the first guess. */
void
_op_fill_level_peel (OpFillLevel *level)
{
  int width = level->width, height = level->height;
  gsize n = (gsize) width * height;
  gboolean progress = TRUE;
  g_autofree guint8 *ready = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    ready[i] = !(level->flags[i] & OP_FILL_HOLE) || (level->flags[i] & OP_FILL_DONE);

  while (progress)
    {
      g_autofree guint8 *before = g_memdup2 (ready, n);

      progress = FALSE;
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            guint sum[4] = { 0, 0, 0, 0 };
            guint8 *c;
            int k = 0;

            if (before[(gsize) y * width + x])
              continue;

            for (int dy = -1; dy <= 1; dy++)
              for (int dx = -1; dx <= 1; dx++)
                {
                  int nx = x + dx, ny = y + dy;
                  const guint8 *nc;

                  if (nx < 0 || ny < 0 || nx >= width || ny >= height ||
                      !before[(gsize) ny * width + nx])
                    continue;
                  nc = level->color + (gsize) ny * level->color_stride + 4 * nx;
                  for (int ch = 0; ch < 4; ch++)
                    sum[ch] += nc[ch];
                  k++;
                }
            if (k == 0)
              continue;

            c = level->color + (gsize) y * level->color_stride + 4 * x;
            for (int ch = 0; ch < 4; ch++)
              c[ch] = (guint8) ((sum[ch] + k / 2) / k);
            ready[(gsize) y * width + x] = 1;
            progress = TRUE;
          }
    }
}

void
_op_fill_level_clear (OpFillLevel *level)
{
  g_clear_pointer (&level->feat, g_free);
  g_clear_pointer (&level->nnf, g_free);
  g_clear_pointer (&level->weight, g_free);
  g_clear_pointer (&level->color_owned, g_free);
  g_clear_pointer (&level->flags, g_free);
  g_clear_pointer (&level->dmap, g_free);
  memset (level, 0, sizeof *level);
}
