/* op-request.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-request"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "op-request.h"

/* Limits op_params_validate enforces; the sidebar's ranges match them. */
#define STEPS_MAX     150
#define CFG_MIN       1.0
#define CFG_MAX       30.0
#define GROW_MAX      256
#define FEATHER_MAX   256
#define PADDING_MAX   4096

/* Without a side limit in the rule: far beyond any picture we accept, and small enough
 * that sides times multiples stay within an int. */
#define NO_SIDE_LIMIT (1 << 20)

/* Colour matching needs this many band pixels for a mean and a spread worth trusting. */
#define COLOR_MATCH_MIN_PIXELS 64

struct _OpRequest
{
  gatomicrefcount ref_count;

  /* Owned references */
  OpImage *source;
  OpMask *mask;          /* NULL: no brush mask */
  OpParams *params;

  OpMargins margins;
};

struct _OpPrepared
{
  /* Owned references */
  OpRequest *request;
  OpImage *canvas;       /* the source itself when there are no margins */
  OpMask *blend;         /* context sized */
  OpImage *input;        /* fitted size */
  OpMask *input_mask;    /* fitted size, binary */

  OpRect context;
  OpSize input_size;
};

/* Per-axis filter taps of the resampler; see taps_init (). */
typedef struct
{
  int *start;     /* n + 1 offsets into index and weight */
  int *index;     /* source pixel, clamped to the picture */
  float *weight;
  int n;
} Taps;

typedef struct
{
  const guint8 *data;
  int stride;
  int channels;   /* 4: RGBA, filtered premultiplied; 1: a mask */
  Taps x_taps;
  Taps y_taps;
  float *rows[2]; /* the last two horizontally filtered source rows */
  int row_index[2];
  int victim;
} Resampler;

typedef struct
{
  double sum[3];
  double sum2[3];
} ChannelStats;

G_DEFINE_QUARK (op-request-error-quark, op_request_error)
G_DEFINE_BOXED_TYPE (OpParams, op_params, op_params_copy, op_params_free)
G_DEFINE_BOXED_TYPE (OpRequest, op_request, op_request_ref, op_request_unref)

/* Parameters */

/**
 * op_params_new:
 *
 * The defaults.  Denoising strength is 0.75: enough to replace what is under the mask
 * while keeping its broad colours, which suits "change this" more than a strength of 1
 * does; a clean fill of an erased area wants 1 and the sidebar offers it.
 */
OpParams *
op_params_new (void)
{
  OpParams *self = g_new0 (OpParams, 1);

  self->backend = g_strdup ("local");
  self->prompt = g_strdup ("");
  self->negative_prompt = g_strdup ("");
  self->seed = -1;
  self->n_variants = 4;
  self->steps = 30;
  self->cfg = 7.0;
  self->strength = 0.75;
  self->mask_grow = 4;
  self->mask_feather = 8;
  self->context = OP_CONTEXT_MASKED;
  self->padding = 64;
  self->color_match = TRUE;

  return self;
}

OpParams *
op_params_copy (const OpParams *self)
{
  OpParams *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  copy->backend = g_strdup (self->backend);
  copy->model = g_strdup (self->model);
  copy->sampler = g_strdup (self->sampler);
  copy->scheduler = g_strdup (self->scheduler);
  copy->prompt = g_strdup (self->prompt);
  copy->negative_prompt = g_strdup (self->negative_prompt);

  return copy;
}

void
op_params_free (OpParams *self)
{
  if (self == NULL)
    return;

  g_free (self->backend);
  g_free (self->model);
  g_free (self->sampler);
  g_free (self->scheduler);
  g_free (self->prompt);
  g_free (self->negative_prompt);
  g_free (self);
}

static gboolean
invalid (GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID,
                                                format, args));
  va_end (args);

  return FALSE;
}

/* The counts and the sampler settings.  The "!(a <= x && x <= b)" tests also catch NaN. */
static gboolean
validate_generation (const OpParams  *self,
                     GError         **error)
{
  if (self->backend == NULL || self->backend[0] == '\0')
    return invalid (error, _("No backend is chosen."));
  if (self->n_variants < 1 || self->n_variants > OP_VARIANTS_MAX)
    return invalid (error, _("The number of variants must be between 1 and %d, not %d."),
                    OP_VARIANTS_MAX, self->n_variants);
  if (self->steps < 1 || self->steps > STEPS_MAX)
    return invalid (error, _("The number of steps must be between 1 and %d, not %d."),
                    STEPS_MAX, self->steps);
  if (!(self->cfg >= CFG_MIN && self->cfg <= CFG_MAX))
    return invalid (error, _("The guidance scale (CFG) must be between %g and %g, not %g."),
                    CFG_MIN, CFG_MAX, self->cfg);
  if (!(self->strength >= 0 && self->strength <= 1))
    return invalid (error, _("The denoising strength must be between 0 and 1, not %g."),
                    self->strength);

  return TRUE;
}

static gboolean
validate_mask_settings (const OpParams  *self,
                        GError         **error)
{
  if (self->mask_grow < -GROW_MAX || self->mask_grow > GROW_MAX)
    return invalid (error, _("The mask can grow or shrink by at most %d pixels, not %d."),
                    GROW_MAX, self->mask_grow);
  if (self->mask_feather < 0 || self->mask_feather > FEATHER_MAX)
    return invalid (error, _("The mask feather must be between 0 and %d pixels, not %d."),
                    FEATHER_MAX, self->mask_feather);
  if (self->context != OP_CONTEXT_WHOLE && self->context != OP_CONTEXT_MASKED)
    return invalid (error, _("The context must be the whole picture or the masked area."));
  if (self->padding < 0 || self->padding > PADDING_MAX)
    return invalid (error, _("The context padding must be between 0 and %d pixels, not %d."),
                    PADDING_MAX, self->padding);

  return TRUE;
}

/**
 * op_params_validate:
 *
 * Checks every value against its range.  The message names the setting in the words of
 * the sidebar, so it can be shown as it is.
 */
gboolean
op_params_validate (const OpParams  *self,
                    GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return validate_generation (self, error) && validate_mask_settings (self, error);
}

gboolean
op_params_equal (const OpParams *a,
                 const OpParams *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return g_strcmp0 (a->backend, b->backend) == 0 &&
         g_strcmp0 (a->model, b->model) == 0 &&
         g_strcmp0 (a->sampler, b->sampler) == 0 &&
         g_strcmp0 (a->scheduler, b->scheduler) == 0 &&
         g_strcmp0 (a->prompt, b->prompt) == 0 &&
         g_strcmp0 (a->negative_prompt, b->negative_prompt) == 0 &&
         a->seed == b->seed &&
         a->n_variants == b->n_variants &&
         a->steps == b->steps &&
         a->cfg == b->cfg &&
         a->strength == b->strength &&
         a->mask_grow == b->mask_grow &&
         a->mask_feather == b->mask_feather &&
         a->context == b->context &&
         a->padding == b->padding &&
         !a->color_match == !b->color_match;
}

/* Size rules */

static gboolean
no_size_fits (const OpRect  *context,
              GError       **error)
{
  g_set_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID,
               _("The backend accepts no picture size for a %d × %d area."),
               context->width, context->height);
  return FALSE;
}

/* The nearest multiple of @multiple, at least one multiple and at most @limit. */
static int
round_to_multiple (double value,
                   int    multiple,
                   int    limit)
{
  double k = floor (value / multiple + 0.5);

  k = CLAMP (k, 1, limit / multiple);
  return (int) k * multiple;
}

/* The uniform scale that brings a w × h area within the rule's pixel window and side. */
static double
free_scale (const OpSizeRule *rule,
            double            w,
            double            h)
{
  double scale = 1.0;

  if (rule->max_pixels > 0 && w * h > rule->max_pixels)
    scale = sqrt (rule->max_pixels / (w * h));
  else if (rule->min_pixels > 0 && w * h < rule->min_pixels)
    scale = sqrt (rule->min_pixels / (w * h));
  if (rule->max_side > 0 && MAX (w, h) * scale > rule->max_side)
    scale = rule->max_side / MAX (w, h);

  return scale;
}

/* Rounding may leave the pixel count a little outside the window: step one side by one
 * multiple at a time, the side furthest from its ideal length (@tw × @th) first. */
static gboolean
step_into_window (const OpSizeRule *rule,
                  int               multiple,
                  int               limit,
                  double            tw,
                  double            th,
                  OpSize           *size)
{
  int *w = &size->width, *h = &size->height;

  while (rule->max_pixels > 0 && (gint64) *w * *h > rule->max_pixels)
    {
      int *side = *w / tw >= *h / th ? w : h;

      if (*side <= multiple)
        side = side == w ? h : w;
      if (*side <= multiple)
        return FALSE;
      *side -= multiple;
    }

  while (rule->min_pixels > 0 && (gint64) *w * *h < rule->min_pixels)
    {
      int *side = *w / tw <= *h / th ? w : h;

      if (*side + multiple > limit)
        side = side == w ? h : w;
      if (*side + multiple > limit)
        return FALSE;
      *side += multiple;
    }

  return rule->max_pixels <= 0 || (gint64) *w * *h <= rule->max_pixels;
}

static gboolean
fit_free_size (const OpSizeRule  *rule,
               const OpRect      *context,
               OpSize            *size,
               GError           **error)
{
  int multiple = MAX (rule->multiple, 1);
  int limit = rule->max_side > 0 ? rule->max_side : NO_SIDE_LIMIT;
  double scale, tw, th;

  limit -= limit % multiple;
  if (limit < multiple)
    return no_size_fits (context, error);

  scale = free_scale (rule, context->width, context->height);
  tw = context->width * scale;
  th = context->height * scale;
  size->width = round_to_multiple (tw, multiple, limit);
  size->height = round_to_multiple (th, multiple, limit);

  if (!step_into_window (rule, multiple, limit, tw, th, size))
    return no_size_fits (context, error);

  return TRUE;
}

static gboolean
listed_size_usable (const OpSizeRule *rule,
                    const OpSize     *size)
{
  return size->width > 0 && size->height > 0 &&
         (rule->max_side <= 0 || MAX (size->width, size->height) <= rule->max_side) &&
         (rule->max_pixels <= 0 || (gint64) size->width * size->height <= rule->max_pixels);
}

/* The listed size whose aspect ratio is nearest the context's, on a log scale so that
 * 2:1 and 1:2 are equally far from 1:1; between equals, the largest, which gives the
 * model the most pixels to work with. */
static const OpSize *
pick_listed_size (const OpSizeRule *rule,
                  const OpRect     *context)
{
  double target = log ((double) context->width / context->height);
  const OpSize *best = NULL;
  double best_distance = G_MAXDOUBLE;

  for (guint i = 0; i < rule->n_sizes; i++)
    {
      const OpSize *size = &rule->sizes[i];
      double distance;

      if (!listed_size_usable (rule, size))
        continue;

      distance = fabs (log ((double) size->width / size->height) - target);
      if (best == NULL || distance < best_distance - 1e-9 ||
          (distance < best_distance + 1e-9 &&
           (gint64) size->width * size->height > (gint64) best->width * best->height))
        {
          best = size;
          best_distance = distance;
        }
    }

  return best;
}

/* Widens [*pos, *pos + *len) to @new_len about its middle, shifted to stay within
 * [lo, lo + extent). */
static void
grow_span (int *pos,
           int *len,
           int  new_len,
           int  lo,
           int  extent)
{
  int start;

  new_len = MIN (new_len, extent);
  if (new_len <= *len)
    return;

  start = *pos - (new_len - *len) / 2;
  *pos = CLAMP (start, lo, lo + extent - new_len);
  *len = new_len;
}

/* Grows the context to the aspect ratio of @size so that scaling does not distort it;
 * where @bounds are too narrow it keeps the closest ratio they allow. */
static void
grow_to_aspect (const OpRect *bounds,
                const OpSize *size,
                OpRect       *context)
{
  double aspect = (double) size->width / size->height;

  if ((double) context->width / context->height < aspect)
    grow_span (&context->x, &context->width, (int) lround (context->height * aspect),
               bounds->x, bounds->width);
  else
    grow_span (&context->y, &context->height, (int) lround (context->width / aspect),
               bounds->y, bounds->height);
}

/**
 * op_size_rule_fit:
 * @bounds: where @context may grow (the canvas)
 * @context: (inout): the area the backend should see; clipped to @bounds
 * @size: (out): what the backend receives
 *
 * Without a list of sizes the context is scaled uniformly into the pixel window and the
 * side limit, then each side rounded to the nearest multiple (stepping back into the
 * window if rounding left it).  With a list, the size of the nearest aspect ratio wins
 * and the context grows to that ratio.  The result is never 0 wide or high.
 */
gboolean
op_size_rule_fit (const OpSizeRule  *rule,
                  const OpRect      *bounds,
                  OpRect            *context,
                  OpSize            *size,
                  GError           **error)
{
  const OpSize *listed;

  g_return_val_if_fail (rule != NULL, FALSE);
  g_return_val_if_fail (rule->n_sizes == 0 || rule->sizes != NULL, FALSE);
  g_return_val_if_fail (bounds != NULL && context != NULL && size != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!op_rect_intersect (context, bounds, context))
    return invalid (error, _("The area to regenerate lies outside the picture."));

  if (rule->n_sizes == 0)
    return fit_free_size (rule, context, size, error);

  listed = pick_listed_size (rule, context);
  if (listed == NULL)
    return no_size_fits (context, error);

  *size = *listed;
  grow_to_aspect (bounds, size, context);
  return TRUE;
}

/* Requests */

static gboolean
margins_extend (const OpMargins *margins)
{
  return margins->left > 0 || margins->right > 0 || margins->top > 0 || margins->bottom > 0;
}

static gboolean
check_mask (OpImage       *source,
            const OpMask  *mask,
            GError       **error)
{
  int width = op_image_get_width (source), height = op_image_get_height (source);

  if (mask == NULL || (op_mask_get_width (mask) == width && op_mask_get_height (mask) == height))
    return TRUE;

  return invalid (error, _("The mask is %d × %d pixels but the picture is %d × %d."),
                  op_mask_get_width (mask), op_mask_get_height (mask), width, height);
}

static gboolean
check_margins (OpImage          *source,
               const OpMargins  *margins,
               GError          **error)
{
  gint64 width, height;

  if (margins->left < 0 || margins->right < 0 || margins->top < 0 || margins->bottom < 0)
    return invalid (error, _("A border can only be extended outwards."));

  width = (gint64) op_image_get_width (source) + margins->left + margins->right;
  height = (gint64) op_image_get_height (source) + margins->top + margins->bottom;
  if (width <= OP_IMAGE_MAX_SIDE && height <= OP_IMAGE_MAX_SIDE &&
      width * height <= OP_IMAGE_MAX_PIXELS)
    return TRUE;

  g_set_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_TOO_LARGE,
               _("The extended picture would be %lld × %lld pixels; pictures can have at most "
                 "%d pixels a side and %d megapixels."),
               (long long) width, (long long) height, OP_IMAGE_MAX_SIDE,
               OP_IMAGE_MAX_PIXELS / 1000000);
  return FALSE;
}

/**
 * op_request_new:
 * @mask: (nullable): the brush mask, the source's size; NULL when only extending
 * @margins: (nullable): how far to extend the picture; NULL for not at all
 *
 * Takes a snapshot: the source is referenced (pictures are immutable once shared), the
 * mask and the parameters are copied, so later edits do not reach the job.  Cheap
 * enough for the main thread: one copy of the mask.
 */
OpRequest *
op_request_new (OpImage          *source,
                const OpMask     *mask,
                const OpMargins  *margins,
                const OpParams   *params,
                GError          **error)
{
  static const OpMargins no_margins = { 0, 0, 0, 0 };
  OpRequest *self;

  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (margins == NULL)
    margins = &no_margins;

  if (!op_params_validate (params, error) ||
      !check_mask (source, mask, error) ||
      !check_margins (source, margins, error))
    return NULL;

  if (!margins_extend (margins) && (mask == NULL || op_mask_is_empty (mask)))
    {
      g_set_error_literal (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO,
                           _("Paint over the part to regenerate, or extend a border, first."));
      return NULL;
    }

  self = g_new0 (OpRequest, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->source = op_image_ref (source);
  self->mask = mask != NULL ? op_mask_copy (mask) : NULL;
  self->params = op_params_copy (params);
  self->margins = *margins;

  return self;
}

OpRequest *
op_request_ref (OpRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
op_request_unref (OpRequest *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  op_image_unref (self->source);
  g_clear_pointer (&self->mask, op_mask_unref);
  op_params_free (self->params);
  g_free (self);
}

OpImage *
op_request_get_source (OpRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->source;
}

const OpMask *
op_request_get_mask (OpRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->mask;
}

const OpMargins *
op_request_get_margins (OpRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->margins;
}

const OpParams *
op_request_get_params (OpRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->params;
}

void
op_request_get_canvas_size (OpRequest *self,
                            int       *width,
                            int       *height)
{
  g_return_if_fail (self != NULL);

  if (width != NULL)
    *width = op_image_get_width (self->source) + self->margins.left + self->margins.right;
  if (height != NULL)
    *height = op_image_get_height (self->source) + self->margins.top + self->margins.bottom;
}

/* Resampling.  Each axis gets, per output pixel, a list of taps: area-average weights
 * when shrinking, the two bilinear neighbours when enlarging, a single tap of weight 1
 * when the length is kept.  Source indices are clamped to the picture, so a rectangle
 * reaching beyond it repeats the edge pixels.  Rows are filtered horizontally on demand
 * and the last two are kept, which is all either filter needs: memory stays at a few
 * rows whatever the picture's size.  Colours are filtered premultiplied so that
 * transparent pixels do not darken their neighbours. */

static void
taps_push (Taps   *taps,
           int     offset,
           int     src_len,
           int     limit,
           int     j,
           double  weight)
{
  if (weight <= 0)
    return;

  j = offset + CLAMP (j, 0, src_len - 1);
  taps->index[taps->n] = CLAMP (j, 0, limit - 1);
  taps->weight[taps->n] = (float) weight;
  taps->n++;
}

static void
taps_push_area (Taps *taps,
                int   offset,
                int   src_len,
                int   dst_len,
                int   limit,
                int   i)
{
  double scale = (double) src_len / dst_len;
  double a = i * scale, b = a + scale;

  for (int j = (int) floor (a); j < b; j++)
    taps_push (taps, offset, src_len, limit, j, (MIN (b, j + 1) - MAX (a, j)) / scale);
}

static void
taps_push_linear (Taps *taps,
                  int   offset,
                  int   src_len,
                  int   dst_len,
                  int   limit,
                  int   i)
{
  double centre = (i + 0.5) * src_len / dst_len - 0.5;
  int j = (int) floor (centre);
  double f = centre - j;

  taps_push (taps, offset, src_len, limit, j, 1 - f);
  taps_push (taps, offset, src_len, limit, j + 1, f);
}

/* Taps for @src_len source pixels from @offset onto @dst_len; the picture is @limit
 * pixels long on this axis. */
static void
taps_init (Taps *taps,
           int   offset,
           int   src_len,
           int   dst_len,
           int   limit)
{
  gsize per_pixel = src_len > dst_len ? (gsize) (src_len + dst_len - 1) / dst_len + 2 : 2;

  taps->start = g_new (int, dst_len + 1);
  taps->index = g_new (int, per_pixel * dst_len);
  taps->weight = g_new (float, per_pixel * dst_len);
  taps->n = 0;

  for (int i = 0; i < dst_len; i++)
    {
      taps->start[i] = taps->n;
      if (src_len > dst_len)
        taps_push_area (taps, offset, src_len, dst_len, limit, i);
      else if (src_len < dst_len)
        taps_push_linear (taps, offset, src_len, dst_len, limit, i);
      else
        taps_push (taps, offset, src_len, limit, i, 1.0);
    }
  taps->start[dst_len] = taps->n;
}

static void
taps_clear (Taps *taps)
{
  g_clear_pointer (&taps->start, g_free);
  g_clear_pointer (&taps->index, g_free);
  g_clear_pointer (&taps->weight, g_free);
}

static void
resampler_init (Resampler    *rs,
                const guint8 *data,
                int           stride,
                int           channels,
                int           src_width,
                int           src_height,
                const OpRect *rect,
                int           width,
                int           height)
{
  rs->data = data;
  rs->stride = stride;
  rs->channels = channels;
  taps_init (&rs->x_taps, rect->x, rect->width, width, src_width);
  taps_init (&rs->y_taps, rect->y, rect->height, height, src_height);
  for (int i = 0; i < 2; i++)
    {
      rs->rows[i] = g_new (float, (gsize) width * channels);
      rs->row_index[i] = -1;
    }
  rs->victim = 0;
}

static void
resampler_clear (Resampler *rs)
{
  taps_clear (&rs->x_taps);
  taps_clear (&rs->y_taps);
  g_clear_pointer (&rs->rows[0], g_free);
  g_clear_pointer (&rs->rows[1], g_free);
}

static void
filter_row_rgba (const Taps   *taps,
                 const guint8 *src,
                 int           width,
                 float        *out)
{
  for (int x = 0; x < width; x++)
    {
      float r = 0, g = 0, b = 0, a = 0;

      for (int t = taps->start[x]; t < taps->start[x + 1]; t++)
        {
          const guint8 *p = src + 4 * (gsize) taps->index[t];
          float wa = taps->weight[t] * p[3];

          r += wa * p[0];
          g += wa * p[1];
          b += wa * p[2];
          a += wa;
        }
      out[4 * x + 0] = r;
      out[4 * x + 1] = g;
      out[4 * x + 2] = b;
      out[4 * x + 3] = a;
    }
}

static void
filter_row_mask (const Taps   *taps,
                 const guint8 *src,
                 int           width,
                 float        *out)
{
  for (int x = 0; x < width; x++)
    {
      float v = 0;

      for (int t = taps->start[x]; t < taps->start[x + 1]; t++)
        v += taps->weight[t] * src[taps->index[t]];
      out[x] = v;
    }
}

/* Source row @y filtered horizontally, from the two-row cache when it is there. */
static const float *
resampler_get_row (Resampler *rs,
                   int        y,
                   int        width)
{
  const guint8 *src = rs->data + (gsize) y * rs->stride;
  int slot;

  for (slot = 0; slot < 2; slot++)
    if (rs->row_index[slot] == y)
      {
        rs->victim = 1 - slot;
        return rs->rows[slot];
      }

  slot = rs->victim;
  if (rs->channels == 4)
    filter_row_rgba (&rs->x_taps, src, width, rs->rows[slot]);
  else
    filter_row_mask (&rs->x_taps, src, width, rs->rows[slot]);
  rs->row_index[slot] = y;
  rs->victim = 1 - slot;

  return rs->rows[slot];
}

/* Output row @j, filtered both ways, into @acc (width × channels floats). */
static void
resampler_run_row (Resampler *rs,
                   int        j,
                   int        width,
                   float     *acc)
{
  const Taps *taps = &rs->y_taps;
  gsize n = (gsize) width * rs->channels;

  memset (acc, 0, n * sizeof (float));
  for (int t = taps->start[j]; t < taps->start[j + 1]; t++)
    {
      const float *row = resampler_get_row (rs, taps->index[t], width);
      float w = taps->weight[t];

      for (gsize i = 0; i < n; i++)
        acc[i] += w * row[i];
    }
}

static inline guint8
to_byte (float v)
{
  return (guint8) CLAMP (v + 0.5f, 0.f, 255.f);
}

static void
store_row_rgba (const float *acc,
                int          width,
                guint8      *out)
{
  for (int x = 0; x < width; x++)
    {
      const float *p = acc + 4 * x;
      guint8 *d = out + 4 * x;

      if (p[3] <= 0)
        {
          memset (d, 0, 4);
          continue;
        }
      d[0] = to_byte (p[0] / p[3]);
      d[1] = to_byte (p[1] / p[3]);
      d[2] = to_byte (p[2] / p[3]);
      d[3] = to_byte (p[3]);
    }
}

/* @rect may reach beyond @src: the edge pixels repeat there. */
static OpImage *
scale_image (const OpImage *src,
             const OpRect  *rect,
             int            width,
             int            height)
{
  OpImage *dst = op_image_new (width, height);
  g_autofree float *acc = g_new (float, (gsize) width * 4);
  guint8 *out = op_image_get_data (dst);
  int stride = op_image_get_stride (dst);
  Resampler rs;

  resampler_init (&rs, op_image_peek_data (src), op_image_get_stride (src), 4,
                  op_image_get_width (src), op_image_get_height (src), rect, width, height);
  for (int j = 0; j < height; j++)
    {
      resampler_run_row (&rs, j, width, acc);
      store_row_rgba (acc, width, out + (gsize) j * stride);
    }
  resampler_clear (&rs);

  op_image_set_icc_profile (dst, op_image_get_icc_profile (src));
  return dst;
}

/* With @binary, a pixel is 255 wherever any covered source pixel is above 0: what the
 * mask covers never shrinks, however small the scale. */
static OpMask *
scale_mask (const OpMask *src,
            const OpRect *rect,
            int           width,
            int           height,
            gboolean      binary)
{
  OpMask *dst = op_mask_new (width, height);
  g_autofree float *acc = g_new (float, width);
  guint8 *out = op_mask_get_data (dst);
  Resampler rs;

  resampler_init (&rs, op_mask_peek_data (src), op_mask_get_width (src), 1,
                  op_mask_get_width (src), op_mask_get_height (src), rect, width, height);
  for (int j = 0; j < height; j++)
    {
      guint8 *row = out + (gsize) j * width;

      resampler_run_row (&rs, j, width, acc);
      for (int x = 0; x < width; x++)
        row[x] = binary ? (acc[x] > 0 ? 255 : 0) : to_byte (acc[x]);
    }
  resampler_clear (&rs);

  return dst;
}

static gboolean
rect_within (const OpRect *rect,
             int           width,
             int           height)
{
  return rect->x >= 0 && rect->y >= 0 && rect->width > 0 && rect->height > 0 &&
         rect->x + rect->width <= width && rect->y + rect->height <= height;
}

/**
 * op_image_scale:
 * @src_rect: (nullable): the part of @self to scale, within it; NULL for all of it
 *
 * Area average when shrinking, bilinear when enlarging, each axis on its own; an exact
 * copy when the size is kept.  Colours are averaged weighted by alpha.
 */
OpImage *
op_image_scale (const OpImage *self,
                const OpRect  *src_rect,
                int            width,
                int            height)
{
  OpRect whole;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  whole = (OpRect) { 0, 0, op_image_get_width (self), op_image_get_height (self) };
  if (src_rect == NULL)
    src_rect = &whole;
  g_return_val_if_fail (rect_within (src_rect, whole.width, whole.height), NULL);

  if (src_rect->width == width && src_rect->height == height)
    {
      OpImage *copy = op_image_crop (self, src_rect->x, src_rect->y, width, height);

      op_image_set_icc_profile (copy, op_image_get_icc_profile (self));
      return copy;
    }

  return scale_image (self, src_rect, width, height);
}

OpMask *
op_mask_scale (const OpMask *self,
               const OpRect *src_rect,
               int           width,
               int           height)
{
  OpRect whole;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  whole = (OpRect) { 0, 0, op_mask_get_width (self), op_mask_get_height (self) };
  if (src_rect == NULL)
    src_rect = &whole;
  g_return_val_if_fail (rect_within (src_rect, whole.width, whole.height), NULL);

  return scale_mask (self, src_rect, width, height, FALSE);
}

/* Preparing */

/* The parent placed at (left, top) on a transparent picture of the extended size.
 * With @share and no margins, the parent itself. */
static OpImage *
extend_picture (OpImage         *parent,
                const OpMargins *margins,
                gboolean         share)
{
  int width = op_image_get_width (parent), height = op_image_get_height (parent);
  OpImage *canvas;
  guint8 *dst;
  int stride;

  if (!margins_extend (margins))
    return share ? op_image_ref (parent) : op_image_copy (parent);

  canvas = op_image_new (width + margins->left + margins->right,
                         height + margins->top + margins->bottom);
  dst = op_image_get_data (canvas);
  stride = op_image_get_stride (canvas);
  for (int y = 0; y < height; y++)
    memcpy (dst + (gsize) (y + margins->top) * stride + (gsize) margins->left * 4,
            op_image_peek_data (parent) + (gsize) y * op_image_get_stride (parent),
            (gsize) width * 4);

  op_image_set_icc_profile (canvas, op_image_get_icc_profile (parent));
  return canvas;
}

static OpRect
canvas_rect (const OpPrepared *self)
{
  return (OpRect) { 0, 0, op_image_get_width (self->canvas), op_image_get_height (self->canvas) };
}

static OpRect
source_rect (const OpPrepared *self)
{
  const OpMargins *m = &self->request->margins;

  return (OpRect) { m->left, m->top,
                    op_image_get_width (self->request->source),
                    op_image_get_height (self->request->source) };
}

/* The new areas: up to four strips around the source, in canvas pixels. */
static guint
margin_rects (const OpPrepared *self,
              OpRect            rects[4])
{
  const OpMargins *m = &self->request->margins;
  OpRect c = canvas_rect (self), s = source_rect (self);
  guint n = 0;

  if (m->top > 0)
    rects[n++] = (OpRect) { 0, 0, c.width, m->top };
  if (m->bottom > 0)
    rects[n++] = (OpRect) { 0, s.y + s.height, c.width, m->bottom };
  if (m->left > 0)
    rects[n++] = (OpRect) { 0, s.y, m->left, s.height };
  if (m->right > 0)
    rects[n++] = (OpRect) { s.x + s.width, s.y, m->right, s.height };

  return n;
}

/* The strips of the original along each extended edge that are regenerated so the seam
 * between old and new pixels blends. */
static guint
overlap_rects (const OpPrepared *self,
               OpRect            rects[4])
{
  const OpMargins *m = &self->request->margins;
  OpRect s = source_rect (self);
  int ow = MIN (OP_OUTPAINT_OVERLAP, s.width), oh = MIN (OP_OUTPAINT_OVERLAP, s.height);
  guint n = 0;

  if (m->top > 0)
    rects[n++] = (OpRect) { s.x, s.y, s.width, oh };
  if (m->bottom > 0)
    rects[n++] = (OpRect) { s.x, s.y + s.height - oh, s.width, oh };
  if (m->left > 0)
    rects[n++] = (OpRect) { s.x, s.y, ow, s.height };
  if (m->right > 0)
    rects[n++] = (OpRect) { s.x + s.width - ow, s.y, ow, s.height };

  return n;
}

/* The bounds of everything to regenerate before growing and feathering. */
static gboolean
hole_bounds (const OpPrepared *self,
             OpRect           *bounds)
{
  const OpMask *mask = self->request->mask;
  OpRect rects[4], s = source_rect (self);
  guint n;

  *bounds = (OpRect) { 0, 0, 0, 0 };
  if (mask != NULL && op_mask_get_bounds (mask, bounds))
    {
      bounds->x += s.x;
      bounds->y += s.y;
    }

  n = margin_rects (self, rects);
  for (guint i = 0; i < n; i++)
    op_rect_union (bounds, &rects[i], bounds);
  n = overlap_rects (self, rects);
  for (guint i = 0; i < n; i++)
    op_rect_union (bounds, &rects[i], bounds);

  return !op_rect_is_empty (bounds);
}

/* Fills @rect (canvas pixels) of the hole whose top left sits at @origin. */
static void
hole_fill (OpMask       *hole,
           const OpRect *origin,
           const OpRect *rect)
{
  OpRect r = { rect->x - origin->x, rect->y - origin->y, rect->width, rect->height };

  op_mask_fill_rect (hole, NULL, &r, OP_MASK_MODE_ADD, NULL);
}

/* The brush mask copied into the hole over the part they share. */
static void
hole_add_brush (const OpPrepared *self,
                OpMask           *hole,
                const OpRect     *work)
{
  const OpMask *mask = self->request->mask;
  OpRect s = source_rect (self), r;
  int mask_width;

  if (mask == NULL || !op_rect_intersect (&s, work, &r))
    return;

  mask_width = op_mask_get_width (mask);
  for (int y = r.y; y < r.y + r.height; y++)
    memcpy (op_mask_get_data (hole) + (gsize) (y - work->y) * work->width + (r.x - work->x),
            op_mask_peek_data (mask) + (gsize) (y - s.y) * mask_width + (r.x - s.x),
            r.width);
}

/* The feathered blend mask over @work (canvas pixels): hole, grow, feather.  The new
 * areas are then set back to 255 whatever the feather did near the seam: there is no
 * parent pixel there to blend with, and a partly transparent border would be a defect. */
static OpMask *
make_work_blend (const OpPrepared *self,
                 const OpRect     *work)
{
  const OpParams *params = self->request->params;
  OpMask *hole = op_mask_new (work->width, work->height);
  OpRect rects[4];
  guint n;

  hole_add_brush (self, hole, work);
  n = overlap_rects (self, rects);
  for (guint i = 0; i < n; i++)
    hole_fill (hole, work, &rects[i]);
  n = margin_rects (self, rects);
  for (guint i = 0; i < n; i++)
    hole_fill (hole, work, &rects[i]);

  op_mask_grow (hole, NULL, params->mask_grow, NULL);
  op_mask_feather (hole, NULL, params->mask_feather, NULL);

  for (guint i = 0; i < n; i++)
    hole_fill (hole, work, &rects[i]);

  return hole;
}

/* The part of the canvas the hole, grown and feathered, can reach: working there
 * rather than on the whole canvas keeps a small mask on a 6000 × 4000 photo cheap.  The
 * feather reaches about 1.5 × its radius; twice is a safe bound. */
static gboolean
work_rect (const OpPrepared *self,
           OpRect           *work)
{
  const OpParams *params = self->request->params;
  OpRect bounds, c = canvas_rect (self);
  int reach = MAX (params->mask_grow, 0) + 2 * params->mask_feather + 2;

  if (!hole_bounds (self, &bounds))
    return FALSE;

  bounds.x -= reach;
  bounds.y -= reach;
  bounds.width += 2 * reach;
  bounds.height += 2 * reach;
  return op_rect_intersect (&bounds, &c, work);
}

static gboolean
nothing_left (GError **error)
{
  g_set_error_literal (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO,
                       _("Nothing is left to regenerate once the mask is shrunk; paint a "
                         "larger area or shrink the mask less."));
  return FALSE;
}

static gboolean
not_cancelled (GCancellable  *cancellable,
                 GError       **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Copies what two masks placed at @src_at and @dst_at (canvas pixels) share. */
static void
copy_mask_area (const OpMask *src,
                const OpRect *src_at,
                OpMask       *dst,
                const OpRect *dst_at)
{
  OpRect r;

  if (!op_rect_intersect (src_at, dst_at, &r))
    return;

  for (int y = r.y; y < r.y + r.height; y++)
    memcpy (op_mask_get_data (dst) + (gsize) (y - dst_at->y) * dst_at->width + (r.x - dst_at->x),
            op_mask_peek_data (src) + (gsize) (y - src_at->y) * src_at->width + (r.x - src_at->x),
            r.width);
}

/* Picks the context from the work blend's extent, fits it to the rule and keeps the
 * blend over it. */
static gboolean
prepare_blend (OpPrepared        *self,
               const OpSizeRule  *rule,
               GError           **error)
{
  const OpParams *params = self->request->params;
  g_autoptr(OpMask) work_blend = NULL;
  OpRect work, extent, c = canvas_rect (self);

  if (!work_rect (self, &work))
    return nothing_left (error);

  work_blend = make_work_blend (self, &work);
  if (!op_mask_get_bounds (work_blend, &extent))
    return nothing_left (error);

  extent.x += work.x - params->padding;
  extent.y += work.y - params->padding;
  extent.width += 2 * params->padding;
  extent.height += 2 * params->padding;
  self->context = params->context == OP_CONTEXT_WHOLE ? c : extent;
  if (!op_size_rule_fit (rule, &c, &self->context, &self->input_size, error))
    return FALSE;

  self->blend = op_mask_new (self->context.width, self->context.height);
  copy_mask_area (work_blend, &work, self->blend, &self->context);

  return TRUE;
}

/* The backend's picture is sampled from the source directly, the context shifted into
 * source pixels: where it reaches into the margins the source's edge pixels repeat.
 * Backends read alpha differently (A1111 ignores it, OpenAI treats transparency as the
 * area to edit), so the input is made fully opaque and the mask alone says what to
 * regenerate; the edge colours give a fill or a diffusion model a plausible start. */
static void
prepare_input (OpPrepared *self)
{
  const OpMargins *m = &self->request->margins;
  OpRect rect = self->context;
  OpRect blend_rect = { 0, 0, self->context.width, self->context.height };
  guint8 *data;
  gsize n;

  rect.x -= m->left;
  rect.y -= m->top;
  self->input = scale_image (self->request->source, &rect,
                             self->input_size.width, self->input_size.height);

  data = op_image_get_data (self->input);
  n = (gsize) self->input_size.width * self->input_size.height;
  for (gsize i = 0; i < n; i++)
    data[4 * i + 3] = 255;

  self->input_mask = scale_mask (self->blend, &blend_rect,
                                 self->input_size.width, self->input_size.height, TRUE);
}

/**
 * op_prepared_new:
 *
 * Builds the canvas, the blend mask (brush mask and outpainting strips, grown and
 * feathered), the context rectangle and the backend's input.  Blocking: call it from a
 * worker thread.  The generation mask is wherever the blend mask is above 0, so the
 * backend regenerates everything that will be blended.
 */
OpPrepared *
op_prepared_new (OpRequest         *request,
                 const OpSizeRule  *rule,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(OpPrepared) self = NULL;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (rule != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!not_cancelled (cancellable, error))
    return NULL;

  self = g_new0 (OpPrepared, 1);
  self->request = op_request_ref (request);
  self->canvas = extend_picture (request->source, &request->margins, TRUE);

  if (!not_cancelled (cancellable, error) ||
      !prepare_blend (self, rule, error) ||
      !not_cancelled (cancellable, error))
    return NULL;

  prepare_input (self);
  if (!not_cancelled (cancellable, error))
    return NULL;

  return g_steal_pointer (&self);
}

void
op_prepared_free (OpPrepared *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->request, op_request_unref);
  g_clear_pointer (&self->canvas, op_image_unref);
  g_clear_pointer (&self->blend, op_mask_unref);
  g_clear_pointer (&self->input, op_image_unref);
  g_clear_pointer (&self->input_mask, op_mask_unref);
  g_free (self);
}

OpRequest *
op_prepared_get_request (OpPrepared *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->request;
}

OpImage *
op_prepared_get_canvas (OpPrepared *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->canvas;
}

void
op_prepared_get_context (OpPrepared *self,
                         OpRect     *context)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (context != NULL);
  *context = self->context;
}

const OpMask *
op_prepared_get_blend (OpPrepared *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->blend;
}

OpImage *
op_prepared_get_input (OpPrepared *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->input;
}

const OpMask *
op_prepared_get_input_mask (OpPrepared *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->input_mask;
}

void
op_prepared_get_input_size (OpPrepared *self,
                            OpSize     *size)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (size != NULL);
  *size = self->input_size;
}

/* Patches and colour matching */

/* Sums over the blend band (0 < blend < 255) where the parent pixel is known (opaque):
 * the transparent margins say nothing about the surroundings' colour. */
static guint64
band_stats (OpPrepared   *self,
            OpImage      *patch,
            ChannelStats *parent,
            ChannelStats *result)
{
  const OpRect *ctx = &self->context;
  const guint8 *blend = op_mask_peek_data (self->blend);
  const guint8 *canvas = op_image_peek_data (self->canvas);
  const guint8 *pixels = op_image_peek_data (patch);
  int canvas_stride = op_image_get_stride (self->canvas);
  guint64 n = 0;

  for (int y = 0; y < ctx->height; y++)
    for (int x = 0; x < ctx->width; x++)
      {
        guint8 b = blend[(gsize) y * ctx->width + x];
        const guint8 *p = canvas + (gsize) (ctx->y + y) * canvas_stride + 4 * (gsize) (ctx->x + x);
        const guint8 *q = pixels + 4 * ((gsize) y * ctx->width + x);

        if (b == 0 || b == 255 || p[3] != 255)
          continue;
        for (int c = 0; c < 3; c++)
          {
            parent->sum[c] += p[c];
            parent->sum2[c] += p[c] * p[c];
            result->sum[c] += q[c];
            result->sum2[c] += q[c] * q[c];
          }
        n++;
      }

  return n;
}

static void
stats_moments (const ChannelStats *stats,
               guint64             n,
               int                 c,
               double             *mean,
               double             *sigma)
{
  *mean = stats->sum[c] / n;
  *sigma = sqrt (MAX (stats->sum2[c] / n - *mean * *mean, 0));
}

/* p' = (p − μ_result) · clamp (σ_parent / σ_result, ½, 2) + μ_parent, as a table per
 * channel so the result is deterministic and cheap. */
static void
color_tables (const ChannelStats *parent,
              const ChannelStats *result,
              guint64             n,
              guint8              tables[3][256])
{
  for (int c = 0; c < 3; c++)
    {
      double mp, sp, mr, sr, k;

      stats_moments (parent, n, c, &mp, &sp);
      stats_moments (result, n, c, &mr, &sr);
      k = sr > 1e-6 ? CLAMP (sp / sr, 0.5, 2.0) : 1.0;

      for (int v = 0; v < 256; v++)
        tables[c][v] = (guint8) CLAMP (floor ((v - mr) * k + mp + 0.5), 0, 255);
    }
}

/* Shifts the patch's mean and spread in the blend band towards the parent's.  The
 * correction applies to the whole patch with full weight: fading it towards the hole's
 * middle would leave the cast inside, fading it towards the seam would show the cast
 * exactly where the eye compares old and new. */
static void
match_colors (OpPrepared *self,
              OpImage    *patch)
{
  ChannelStats parent = { { 0 } }, result = { { 0 } };
  guint8 tables[3][256];
  guint8 *data;
  gsize n_pixels;
  guint64 n;

  n = band_stats (self, patch, &parent, &result);
  if (n < COLOR_MATCH_MIN_PIXELS)
    return;

  color_tables (&parent, &result, n, tables);
  data = op_image_get_data (patch);
  n_pixels = (gsize) op_image_get_width (patch) * op_image_get_height (patch);
  for (gsize i = 0; i < n_pixels; i++)
    for (int c = 0; c < 3; c++)
      data[4 * i + c] = tables[c][data[4 * i + c]];
}

/**
 * op_prepared_make_patch:
 * @result: a backend's answer, of the input size or any other
 *
 * Scales @result to the context rectangle and makes it opaque: generated pixels are
 * never meant to be see-through, and an opaque patch stays right when the user later
 * paints more of the blend mask in.  Then matches its colours when the request asks.
 */
OpImage *
op_prepared_make_patch (OpPrepared  *self,
                        OpImage     *result,
                        GError     **error)
{
  OpImage *patch;
  guint8 *data;
  gsize n;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (result == NULL || op_image_get_width (result) <= 0 || op_image_get_height (result) <= 0)
    {
      g_set_error_literal (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID,
                           _("The backend returned an empty picture."));
      return NULL;
    }

  patch = op_image_scale (result, NULL, self->context.width, self->context.height);
  data = op_image_get_data (patch);
  n = (gsize) self->context.width * self->context.height;
  for (gsize i = 0; i < n; i++)
    data[4 * i + 3] = 255;

  if (self->request->params->color_match)
    match_colors (self, patch);

  return patch;
}

/* Compositing */

/* Interpolates premultiplied colours and converts back: with an opaque parent this is
 * the plain parent + (patch − parent) · b / 255; over a transparent parent (the margins)
 * it is the patch's colour with its alpha scaled by b.  Integer only. */
static inline void
mix_pixel (guint8       *d,
           const guint8 *q,
           guint         b)
{
  guint wp = d[3] * (255 - b), wq = q[3] * b, w = wp + wq;

  if (w == 0)
    {
      memset (d, 0, 4);
      return;
    }

  for (int c = 0; c < 3; c++)
    d[c] = (guint8) ((d[c] * wp + q[c] * wq + w / 2) / w);
  d[3] = (guint8) ((w + 127) / 255);
}

/* Pixels where blend is 0 are not written at all, so they keep the parent's bytes. */
static void
blend_row (guint8       *dst,
           const guint8 *patch,
           const guint8 *blend,
           int           width)
{
  for (int x = 0; x < width; x++)
    {
      if (blend[x] == 0)
        continue;
      if (blend[x] == 255)
        memcpy (dst + 4 * x, patch + 4 * x, 4);
      else
        mix_pixel (dst + 4 * x, patch + 4 * x, blend[x]);
    }
}

/**
 * op_composite:
 * @margins: (nullable): where the parent sits on the extended canvas
 *
 * Returns: (transfer full): a new picture, the size of the parent plus the margins.
 */
OpImage *
op_composite (OpImage         *parent,
              const OpMargins *margins,
              OpImage         *patch,
              const OpRect    *rect,
              const OpMask    *blend)
{
  static const OpMargins no_margins = { 0, 0, 0, 0 };
  OpImage *out;
  guint8 *dst;
  int stride, width, height;

  g_return_val_if_fail (parent != NULL && patch != NULL && rect != NULL && blend != NULL, NULL);
  g_return_val_if_fail (margins == NULL || (margins->left >= 0 && margins->right >= 0 &&
                                            margins->top >= 0 && margins->bottom >= 0), NULL);
  g_return_val_if_fail (op_image_get_width (patch) == rect->width &&
                        op_image_get_height (patch) == rect->height, NULL);
  g_return_val_if_fail (op_mask_get_width (blend) == rect->width &&
                        op_mask_get_height (blend) == rect->height, NULL);

  if (margins == NULL)
    margins = &no_margins;
  width = op_image_get_width (parent) + margins->left + margins->right;
  height = op_image_get_height (parent) + margins->top + margins->bottom;
  g_return_val_if_fail (rect_within (rect, width, height), NULL);

  out = extend_picture (parent, margins, FALSE);
  dst = op_image_get_data (out);
  stride = op_image_get_stride (out);
  for (int y = 0; y < rect->height; y++)
    blend_row (dst + (gsize) (rect->y + y) * stride + 4 * (gsize) rect->x,
               op_image_peek_data (patch) + (gsize) y * op_image_get_stride (patch),
               op_mask_peek_data (blend) + (gsize) y * rect->width,
               rect->width);

  return out;
}

/* The placed parent's pixel at (x, y) of the extended canvas: transparent in a margin. */
static void
placed_parent_row (OpImage         *parent,
                   const OpMargins *margins,
                   int              x,
                   int              y,
                   int              width,
                   guint8          *dst)
{
  int pw = op_image_get_width (parent), ph = op_image_get_height (parent);
  int py = y - margins->top;

  memset (dst, 0, (gsize) width * 4);
  if (py < 0 || py >= ph)
    return;

  for (int i = 0; i < width; i++)
    {
      int px = x + i - margins->left;

      if (px >= 0 && px < pw)
        memcpy (dst + 4 * i,
                op_image_peek_data (parent) + (gsize) py * op_image_get_stride (parent) +
                4 * (gsize) px, 4);
    }
}

/**
 * op_composite_region:
 * @out: the composite op_composite made from these arguments, changed in place
 * @region: the part to recompute, in canvas pixels
 *
 * After a blend mask edit: the same mix as op_composite, over @region only.
 */
void
op_composite_region (OpImage         *out,
                     OpImage         *parent,
                     const OpMargins *margins,
                     OpImage         *patch,
                     const OpRect    *rect,
                     const OpMask    *blend,
                     const OpRect    *region)
{
  static const OpMargins no_margins = { 0, 0, 0, 0 };
  OpRect part;
  guint8 *dst;
  int stride;

  g_return_if_fail (out != NULL && parent != NULL && patch != NULL);
  g_return_if_fail (rect != NULL && blend != NULL && region != NULL);

  if (margins == NULL)
    margins = &no_margins;
  /* outside the patch the composite is the placed parent, which no blend edit changes */
  if (!op_rect_intersect (rect, region, &part))
    return;

  dst = op_image_get_data (out);
  stride = op_image_get_stride (out);
  for (int y = part.y; y < part.y + part.height; y++)
    {
      guint8 *row = dst + (gsize) y * stride + 4 * (gsize) part.x;
      int dx = part.x - rect->x, dy = y - rect->y;

      placed_parent_row (parent, margins, part.x, y, part.width, row);
      blend_row (row,
                 op_image_peek_data (patch) + (gsize) dy * op_image_get_stride (patch) + 4 * dx,
                 op_mask_peek_data (blend) + (gsize) dy * rect->width + dx,
                 part.width);
    }
}
