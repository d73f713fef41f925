/* test-request.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-request"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-request.h"

/* The backends' size rules, as their documentation states them. */
static const OpSize gpt_image_sizes[] = { { 1024, 1024 }, { 1536, 1024 }, { 1024, 1536 } };
static const OpSize dall_e_2_sizes[] = { { 256, 256 }, { 512, 512 }, { 1024, 1024 } };

static const OpSizeRule rule_multiple_8 = { 8, 0, 0, 0, NULL, 0 };
static const OpSizeRule rule_stability_v1 = { 64, 1048576, 262144, 0, NULL, 0 };
static const OpSizeRule rule_budget = { 1, 9437184, 4096, 0, NULL, 0 };
static const OpSizeRule rule_gpt_image = {
  1, 0, 0, 0, gpt_image_sizes, G_N_ELEMENTS (gpt_image_sizes)
};
static const OpSizeRule rule_dall_e_2 = {
  1, 0, 0, 0, dall_e_2_sizes, G_N_ELEMENTS (dall_e_2_sizes)
};

typedef struct
{
  const char *name;
  const OpSizeRule *rule;
} NamedRule;

static const NamedRule all_rules[] = {
  { "multiple of 8", &rule_multiple_8 },
  { "Stability v1", &rule_stability_v1 },
  { "pixel budget", &rule_budget },
  { "gpt-image-1", &rule_gpt_image },
  { "dall-e-2", &rule_dall_e_2 },
};

static OpImage *large_photo;

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
  return image;
}

static inline const guint8 *
image_px (const OpImage *image,
          int            x,
          int            y)
{
  return op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;
}

static inline guint8
mask_px (const OpMask *mask,
         int           x,
         int           y)
{
  return op_mask_peek_data (mask)[(gsize) y * op_mask_get_width (mask) + x];
}

static gboolean
rect_contains (const OpRect *outer,
               const OpRect *inner)
{
  return inner->x >= outer->x && inner->y >= outer->y &&
         inner->x + inner->width <= outer->x + outer->width &&
         inner->y + inner->height <= outer->y + outer->height;
}

static gboolean
rect_contains_point (const OpRect *r,
                     int           x,
                     int           y)
{
  return x >= r->x && y >= r->y && x < r->x + r->width && y < r->y + r->height;
}

static OpMask *
mask_with_rect (int width,
                int height,
                int x,
                int y,
                int w,
                int h)
{
  OpMask *mask = op_mask_new (width, height);

  op_mask_fill_rect (mask, NULL, &(OpRect) { x, y, w, h }, OP_MASK_MODE_ADD, NULL);
  return mask;
}

/* A soft-edged disc, as a brush would paint it. */
static OpMask *
mask_with_disc (int    width,
                int    height,
                double cx,
                double cy,
                double radius)
{
  OpMask *mask = op_mask_new (width, height);
  OpBrush brush = { radius, 0.5, 1.0, 0.1, OP_MASK_MODE_ADD };
  OpMaskStroke *stroke = op_mask_stroke_begin (mask, NULL, &brush, cx, cy, 1.0, NULL);

  op_mask_stroke_end (stroke, NULL);
  return mask;
}

/* Noise, alpha included: a backend may answer anything. */
static OpImage *
noise_image (int     width,
             int     height,
             guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);

  for (gsize i = 0; i < (gsize) width * height * 4; i++)
    data[i] = (guint8) g_rand_int_range (rand, 0, 256);
  return image;
}

/* The sample repeated to fill width × height: a big photo without a big file. */
static OpImage *
tiled_image (const OpImage *tile,
             int            width,
             int            height)
{
  OpImage *image = op_image_new (width, height);
  int tw = op_image_get_width (tile), th = op_image_get_height (tile);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x += tw)
      memcpy (op_image_get_data (image) + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x,
              image_px (tile, 0, y % th), 4 * (gsize) MIN (tw, width - x));
  return image;
}

static OpImage *
get_large_photo (void)
{
  if (large_photo == NULL)
    {
      g_autoptr(OpImage) coffee = load_sample ("coffee.png");

      large_photo = tiled_image (coffee, 6000, 4000);
    }
  return large_photo;
}

static OpRequest *
request_new (OpImage         *source,
             const OpMask    *mask,
             const OpMargins *margins,
             const OpParams  *params)
{
  g_autoptr(GError) error = NULL;
  OpRequest *request = op_request_new (source, mask, margins, params, &error);

  g_assert_no_error (error);
  g_assert_nonnull (request);
  return request;
}

static OpPrepared *
prepare (OpRequest        *request,
         const OpSizeRule *rule)
{
  g_autoptr(GError) error = NULL;
  OpPrepared *prepared = op_prepared_new (request, rule, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (prepared);
  return prepared;
}

static void
assert_size_obeys (const OpSizeRule *rule,
                   const OpSize     *size)
{
  g_assert_cmpint (size->width, >, 0);
  g_assert_cmpint (size->height, >, 0);

  if (rule->n_sizes > 0)
    {
      gboolean listed = FALSE;

      for (guint i = 0; i < rule->n_sizes; i++)
        listed |= rule->sizes[i].width == size->width && rule->sizes[i].height == size->height;
      g_assert_true (listed);
      return;
    }

  g_assert_cmpint (size->width % MAX (rule->multiple, 1), ==, 0);
  g_assert_cmpint (size->height % MAX (rule->multiple, 1), ==, 0);
  if (rule->max_pixels > 0)
    g_assert_cmpint ((gint64) size->width * size->height, <=, rule->max_pixels);
  if (rule->min_pixels > 0)
    g_assert_cmpint ((gint64) size->width * size->height, >=, rule->min_pixels);
  if (rule->max_side > 0)
    g_assert_cmpint (MAX (size->width, size->height), <=, rule->max_side);
}

/* Every context pixel the blend mask touches maps to an input pixel the backend is told
 * to regenerate: scaling never shrinks the generation mask. */
static void
assert_input_mask_covers (OpPrepared *prepared)
{
  const OpMask *blend = op_prepared_get_blend (prepared);
  const OpMask *input_mask = op_prepared_get_input_mask (prepared);
  OpRect ctx;
  OpSize size;

  op_prepared_get_context (prepared, &ctx);
  op_prepared_get_input_size (prepared, &size);
  g_assert_cmpint (op_mask_get_width (input_mask), ==, size.width);
  g_assert_cmpint (op_mask_get_height (input_mask), ==, size.height);

  for (int y = 0; y < ctx.height; y++)
    for (int x = 0; x < ctx.width; x++)
      {
        int ix = (int) ((x + 0.5) * size.width / ctx.width);
        int iy = (int) ((y + 0.5) * size.height / ctx.height);

        if (mask_px (blend, x, y) > 0 && mask_px (input_mask, ix, iy) != 255)
          g_error ("blend (%d, %d) > 0 but input mask (%d, %d) is %d",
                   x, y, ix, iy, mask_px (input_mask, ix, iy));
      }

  for (int y = 0; y < size.height; y++)
    for (int x = 0; x < size.width; x++)
      g_assert_true (mask_px (input_mask, x, y) == 0 || mask_px (input_mask, x, y) == 255);
}

/* The composite against the placed parent and the patch, pixel by pixel: bit for bit
 * the parent (transparent in the margins) wherever the blend is 0, bit for bit the patch
 * wherever it is 255.  Returns how many pixels inside the context kept the parent. */
static guint64
assert_composite_exact (OpImage         *parent,
                        const OpMargins *m,
                        OpImage         *patch,
                        const OpRect    *ctx,
                        const OpMask    *blend,
                        OpImage         *composite)
{
  static const guint8 transparent[4] = { 0, 0, 0, 0 };
  static const OpMargins no_margins = { 0, 0, 0, 0 };
  guint64 kept_in_context = 0;
  OpRect s;

  if (m == NULL)
    m = &no_margins;
  s = (OpRect) { m->left, m->top, op_image_get_width (parent), op_image_get_height (parent) };

  g_assert_cmpint (op_image_get_width (composite), ==, s.width + m->left + m->right);
  g_assert_cmpint (op_image_get_height (composite), ==, s.height + m->top + m->bottom);

  for (int y = 0; y < op_image_get_height (composite); y++)
    for (int x = 0; x < op_image_get_width (composite); x++)
      {
        gboolean inside = rect_contains_point (ctx, x, y);
        guint8 b = inside ? mask_px (blend, x - ctx->x, y - ctx->y) : 0;
        const guint8 *out = image_px (composite, x, y);
        const guint8 *expected;

        if (b == 255)
          expected = image_px (patch, x - ctx->x, y - ctx->y);
        else if (b == 0)
          expected = rect_contains_point (&s, x, y) ? image_px (parent, x - s.x, y - s.y)
                                                    : transparent;
        else
          continue;

        if (memcmp (out, expected, 4) != 0)
          g_error ("composite (%d, %d) with blend %d differs from what it must be", x, y, b);
        kept_in_context += inside && b == 0;
      }

  return kept_in_context;
}

/* Means of the parent and of @image over the blend band where the parent is opaque. */
static void
band_means (OpPrepared *prepared,
            OpImage    *image,
            gboolean    image_is_canvas_sized,
            double      parent_mean[3],
            double      image_mean[3])
{
  OpImage *canvas = op_prepared_get_canvas (prepared);
  const OpMask *blend = op_prepared_get_blend (prepared);
  double sp[3] = { 0 }, si[3] = { 0 };
  guint64 n = 0;
  OpRect ctx;

  op_prepared_get_context (prepared, &ctx);
  for (int y = 0; y < ctx.height; y++)
    for (int x = 0; x < ctx.width; x++)
      {
        guint8 b = mask_px (blend, x, y);
        const guint8 *p = image_px (canvas, ctx.x + x, ctx.y + y);
        const guint8 *q = image_is_canvas_sized ? image_px (image, ctx.x + x, ctx.y + y)
                                                : image_px (image, x, y);

        if (b == 0 || b == 255 || p[3] != 255)
          continue;
        for (int c = 0; c < 3; c++)
          {
            sp[c] += p[c];
            si[c] += q[c];
          }
        n++;
      }

  g_assert_cmpuint (n, >=, 1000);
  for (int c = 0; c < 3; c++)
    {
      parent_mean[c] = sp[c] / n;
      image_mean[c] = si[c] / n;
    }
}

/* Parameters */

static void
test_params_defaults (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpParams) copy = NULL;
  g_autoptr(GError) error = NULL;
  OpParams *boxed;

  g_assert_cmpstr (params->backend, ==, "local");
  g_assert_null (params->model);
  g_assert_null (params->sampler);
  g_assert_cmpstr (params->prompt, ==, "");
  g_assert_cmpstr (params->negative_prompt, ==, "");
  g_assert_cmpint (params->seed, ==, -1);
  g_assert_cmpint (params->n_variants, ==, 4);
  g_assert_cmpint (params->steps, ==, 30);
  g_assert_cmpfloat (params->cfg, ==, 7.0);
  g_assert_cmpfloat (params->strength, ==, 0.75);
  g_assert_cmpint (params->mask_grow, ==, 4);
  g_assert_cmpint (params->mask_feather, ==, 8);
  g_assert_cmpint (params->context, ==, OP_CONTEXT_MASKED);
  g_assert_cmpint (params->padding, ==, 64);
  g_assert_true (params->color_match);
  g_assert_true (op_params_validate (params, &error));
  g_assert_no_error (error);

  params->model = g_strdup ("sdxl-inpaint");
  copy = op_params_copy (params);
  g_assert_true (copy->model != params->model);
  g_assert_true (op_params_equal (params, copy));
  g_free (copy->prompt);
  copy->prompt = g_strdup ("a red door");
  g_assert_false (op_params_equal (params, copy));

  boxed = g_boxed_copy (OP_TYPE_PARAMS, params);
  g_assert_true (op_params_equal (params, boxed));
  g_boxed_free (OP_TYPE_PARAMS, boxed);
}

typedef enum
{
  FIELD_INT,
  FIELD_DOUBLE,
  FIELD_BACKEND,
} FieldKind;

typedef struct
{
  const char *name;
  FieldKind kind;
  gsize offset;
  double value;
  const char *needle;   /* what the message must name */
} BadValue;

static const BadValue bad_values[] = {
  { "variants-zero", FIELD_INT, G_STRUCT_OFFSET (OpParams, n_variants), 0, "variants" },
  { "variants-nine", FIELD_INT, G_STRUCT_OFFSET (OpParams, n_variants), 9, "variants" },
  { "steps-zero", FIELD_INT, G_STRUCT_OFFSET (OpParams, steps), 0, "steps" },
  { "steps-151", FIELD_INT, G_STRUCT_OFFSET (OpParams, steps), 151, "steps" },
  { "cfg-low", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, cfg), 0.5, "guidance" },
  { "cfg-high", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, cfg), 30.5, "guidance" },
  { "cfg-nan", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, cfg), NAN, "guidance" },
  { "strength-negative", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, strength), -0.01, "strength" },
  { "strength-high", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, strength), 1.01, "strength" },
  { "strength-nan", FIELD_DOUBLE, G_STRUCT_OFFSET (OpParams, strength), NAN, "strength" },
  { "feather-negative", FIELD_INT, G_STRUCT_OFFSET (OpParams, mask_feather), -1, "feather" },
  { "feather-257", FIELD_INT, G_STRUCT_OFFSET (OpParams, mask_feather), 257, "feather" },
  { "grow-257", FIELD_INT, G_STRUCT_OFFSET (OpParams, mask_grow), 257, "grow" },
  { "grow-minus-257", FIELD_INT, G_STRUCT_OFFSET (OpParams, mask_grow), -257, "grow" },
  { "padding-negative", FIELD_INT, G_STRUCT_OFFSET (OpParams, padding), -1, "padding" },
  { "padding-4097", FIELD_INT, G_STRUCT_OFFSET (OpParams, padding), 4097, "padding" },
  { "context-unknown", FIELD_INT, G_STRUCT_OFFSET (OpParams, context), 7, "context" },
  { "backend-missing", FIELD_BACKEND, 0, 0, "backend" },
};

static void
test_params_invalid (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      const BadValue *bad = &bad_values[i];
      g_autoptr(OpParams) params = op_params_new ();
      g_autoptr(OpImage) image = op_image_new (8, 8);
      g_autoptr(OpMask) mask = mask_with_rect (8, 8, 2, 2, 2, 2);
      g_autoptr(OpRequest) request = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *lower = NULL;

      if (bad->kind == FIELD_INT)
        G_STRUCT_MEMBER (int, params, bad->offset) = (int) bad->value;
      else if (bad->kind == FIELD_DOUBLE)
        G_STRUCT_MEMBER (double, params, bad->offset) = bad->value;
      else
        g_clear_pointer (&params->backend, g_free);

      g_test_message ("%s", bad->name);
      g_assert_false (op_params_validate (params, &error));
      g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
      lower = g_ascii_strdown (error->message, -1);
      g_assert_nonnull (strstr (lower, bad->needle));
      g_clear_error (&error);

      /* A request refuses the same parameters with the same message. */
      request = op_request_new (image, mask, NULL, params, &error);
      g_assert_null (request);
      g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
    }
}

/* Requests */

static void
test_request_wrong_mask_size (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpImage) image = op_image_new (64, 48);
  g_autoptr(OpMask) mask = mask_with_rect (48, 64, 4, 4, 8, 8);
  g_autoptr(GError) error = NULL;
  OpRequest *request;

  request = op_request_new (image, mask, NULL, params, &error);
  g_assert_null (request);
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "mask"));
  g_assert_nonnull (strstr (error->message, "48 × 64"));
}

static void
test_request_nothing_to_do (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpImage) image = op_image_new (64, 48);
  g_autoptr(OpMask) empty = op_mask_new (64, 48);
  OpMargins zero = { 0, 0, 0, 0 }, one = { 0, 0, 1, 0 };
  g_autoptr(OpRequest) outpaint = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (op_request_new (image, NULL, NULL, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
  g_assert_cmpstr (error->message, ==,
                   "Paint over the part to regenerate, or extend a border, first.");
  g_clear_error (&error);

  g_assert_null (op_request_new (image, empty, &zero, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
  g_clear_error (&error);

  /* Extending one border is enough, mask or no mask. */
  outpaint = op_request_new (image, empty, &one, params, &error);
  g_assert_no_error (error);
  g_assert_nonnull (outpaint);
}

static void
test_request_margins (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpImage) image = op_image_new (1000, 800);
  OpMargins wide = { 8000, 7385, 0, 0 }, huge = { 0, 0, 0, 100000 };
  OpMargins many = { 4000, 4000, 2000, 2000 }, negative = { 10, -1, 0, 0 };
  OpMargins fits = { 7000, 8384, 0, 0 };
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  int width, height;

  /* 1000 + 15385 is one pixel a side too many. */
  g_assert_null (op_request_new (image, NULL, &wide, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (op_request_new (image, NULL, &huge, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_TOO_LARGE);
  g_clear_error (&error);
  /* 9000 × 4800: 43 megapixels, within the limits. */
  request = op_request_new (image, NULL, &many, params, &error);
  g_assert_no_error (error);
  g_clear_pointer (&request, op_request_unref);
  g_assert_null (op_request_new (image, NULL, &negative, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
  g_clear_error (&error);

  request = op_request_new (image, NULL, &fits, params, &error);
  g_assert_no_error (error);
  op_request_get_canvas_size (request, &width, &height);
  g_assert_cmpint (width, ==, OP_IMAGE_MAX_SIDE);
  g_assert_cmpint (height, ==, 800);
}

static void
test_request_too_many_pixels (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpImage) image = op_image_new (100, 100);
  OpMargins margins = { 0, 16284, 0, 6200 };   /* 16384 × 6300: 103 megapixels */
  g_autoptr(GError) error = NULL;

  g_assert_null (op_request_new (image, NULL, &margins, params, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "16384 × 6300"));
}

static void
test_request_snapshot (void)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpImage) image = load_sample ("chelsea.png");
  g_autoptr(OpMask) mask = mask_with_rect (451, 300, 100, 100, 50, 40);
  g_autoptr(OpMask) before = op_mask_copy (mask);
  g_autoptr(OpRequest) request = NULL;
  OpMargins margins = { 1, 2, 3, 4 };

  request = request_new (image, mask, &margins, params);

  op_mask_fill_rect (mask, NULL, &(OpRect) { 0, 0, 451, 300 }, OP_MASK_MODE_ADD, NULL);
  margins.left = 100;
  g_free (params->prompt);
  params->prompt = g_strdup ("changed");
  params->n_variants = 1;

  g_assert_true (op_request_get_source (request) == image);
  g_assert_true (op_request_get_mask (request) != mask);
  g_assert_true (op_mask_equal (op_request_get_mask (request), before));
  g_assert_cmpint (op_request_get_margins (request)->left, ==, 1);
  g_assert_cmpint (op_request_get_margins (request)->bottom, ==, 4);
  g_assert_cmpstr (op_request_get_params (request)->prompt, ==, "");
  g_assert_cmpint (op_request_get_params (request)->n_variants, ==, 4);
}

/* Size fitting */

typedef struct
{
  const char *path;
  const OpSizeRule *rule;
  int bounds_width;
  int bounds_height;
  OpRect context;
  OpSize expected;   /* 0 × 0: only check the rule */
} FitCase;

static const FitCase fit_cases[] = {
  { "/request/fit/multiple-of-8/small",
    &rule_multiple_8, 600, 400, { 250, 150, 101, 77 }, { 104, 80 } },
  { "/request/fit/multiple-of-8/whole-large",
    &rule_multiple_8, 6000, 4000, { 0, 0, 6000, 4000 }, { 6000, 4000 } },
  { "/request/fit/multiple-of-8/one-pixel",
    &rule_multiple_8, 600, 400, { 599, 399, 1, 1 }, { 8, 8 } },
  { "/request/fit/multiple-of-64/small",
    &rule_stability_v1, 600, 400, { 250, 150, 100, 100 }, { 512, 512 } },
  { "/request/fit/multiple-of-64/whole-large",
    &rule_stability_v1, 6000, 4000, { 0, 0, 6000, 4000 }, { 1216, 832 } },
  { "/request/fit/multiple-of-64/thin-strip",
    &rule_stability_v1, 6000, 4000, { 1000, 10, 3000, 20 }, { 0, 0 } },
  { "/request/fit/multiple-of-64/tall",
    &rule_stability_v1, 6000, 4000, { 10, 0, 30, 4000 }, { 0, 0 } },
  { "/request/fit/pixel-budget/one-pixel",
    &rule_budget, 600, 400, { 0, 0, 1, 1 }, { 64, 64 } },
  { "/request/fit/pixel-budget/whole-large",
    &rule_budget, 6000, 4000, { 0, 0, 6000, 4000 }, { 3762, 2508 } },
  { "/request/fit/pixel-budget/kept",
    &rule_budget, 6000, 4000, { 100, 100, 1234, 567 }, { 1234, 567 } },
  { "/request/fit/size-list/gpt-image-1/square",
    &rule_gpt_image, 6000, 4000, { 3000, 2000, 100, 90 }, { 1024, 1024 } },
  { "/request/fit/size-list/gpt-image-1/landscape",
    &rule_gpt_image, 6000, 4000, { 3000, 2000, 400, 250 }, { 1536, 1024 } },
  { "/request/fit/size-list/gpt-image-1/portrait",
    &rule_gpt_image, 6000, 4000, { 3000, 2000, 200, 310 }, { 1024, 1536 } },
  { "/request/fit/size-list/gpt-image-1/at-edge",
    &rule_gpt_image, 600, 400, { 560, 0, 40, 200 }, { 1024, 1536 } },
  { "/request/fit/size-list/gpt-image-1/whole-large",
    &rule_gpt_image, 6000, 4000, { 0, 0, 6000, 4000 }, { 1536, 1024 } },
  { "/request/fit/size-list/gpt-image-1/bounds-too-narrow",
    &rule_gpt_image, 1000, 700, { 0, 0, 1000, 700 }, { 1536, 1024 } },
  { "/request/fit/size-list/dall-e-2/small",
    &rule_dall_e_2, 600, 400, { 10, 10, 100, 100 }, { 1024, 1024 } },
  { "/request/fit/size-list/dall-e-2/wide",
    &rule_dall_e_2, 600, 400, { 100, 390, 300, 10 }, { 1024, 1024 } },
};

static void
test_fit_case (gconstpointer data)
{
  const FitCase *fc = data;
  OpRect bounds = { 0, 0, fc->bounds_width, fc->bounds_height }, context = fc->context;
  g_autoptr(GError) error = NULL;
  OpSize size = { 0, 0 };

  g_assert_true (op_size_rule_fit (fc->rule, &bounds, &context, &size, &error));
  g_assert_no_error (error);
  g_test_message ("context %d,%d %dx%d -> %d,%d %dx%d, size %dx%d",
                  fc->context.x, fc->context.y, fc->context.width, fc->context.height,
                  context.x, context.y, context.width, context.height, size.width, size.height);

  assert_size_obeys (fc->rule, &size);
  if (fc->expected.width > 0)
    {
      g_assert_cmpint (size.width, ==, fc->expected.width);
      g_assert_cmpint (size.height, ==, fc->expected.height);
    }

  g_assert_true (rect_contains (&bounds, &context));
  g_assert_true (rect_contains (&context, &fc->context));

  if (fc->rule->n_sizes == 0)
    {
      g_assert_true (memcmp (&context, &fc->context, sizeof context) == 0);
      return;
    }

  /* Grown to the size's aspect ratio, to the pixel, unless the bounds stopped it. */
  if (context.width < bounds.width && context.height < bounds.height)
    g_assert_cmpfloat (fabs ((double) context.width * size.height -
                             (double) context.height * size.width),
                       <=, MAX (size.width, size.height));
}

typedef struct
{
  const char *name;
  OpSizeRule rule;
} BadRule;

static const OpSize zero_sizes[] = { { 0, 0 } };

static const BadRule bad_rules[] = {
  { "max side below the multiple", { 64, 0, 0, 32, NULL, 0 } },
  { "window below one multiple", { 64, 1000, 0, 0, NULL, 0 } },
  { "empty window", { 8, 1000000, 2000000, 0, NULL, 0 } },
  { "window beyond the max side", { 8, 0, 1000000, 512, NULL, 0 } },
  { "listed sizes all empty", { 1, 0, 0, 0, zero_sizes, 1 } },
  { "listed sizes all too large", { 1, 0, 0, 512, dall_e_2_sizes + 2, 1 } },
};

static void
test_fit_impossible (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_rules); i++)
    {
      OpRect bounds = { 0, 0, 600, 400 }, context = { 100, 100, 200, 100 };
      g_autoptr(GError) error = NULL;
      OpSize size;

      g_test_message ("%s", bad_rules[i].name);
      g_assert_false (op_size_rule_fit (&bad_rules[i].rule, &bounds, &context, &size, &error));
      g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
    }
}

/* A prepared request for every rule: the input obeys the rule, the context stays on the
 * canvas, and a patch made from an input-sized answer covers exactly the context. */
static void
check_round_trip (OpImage          *source,
                  const OpMask     *mask,
                  OpContextMode     mode,
                  const NamedRule  *named)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(GError) error = NULL;
  OpRect ctx, canvas;
  OpSize size;

  params->context = mode;
  request = request_new (source, mask, NULL, params);
  prepared = prepare (request, named->rule);

  op_prepared_get_context (prepared, &ctx);
  op_prepared_get_input_size (prepared, &size);
  canvas = (OpRect) { 0, 0, op_image_get_width (source), op_image_get_height (source) };
  g_test_message ("%s, %d x %d: context %d,%d %dx%d, input %dx%d", named->name,
                  canvas.width, canvas.height, ctx.x, ctx.y, ctx.width, ctx.height,
                  size.width, size.height);

  assert_size_obeys (named->rule, &size);
  g_assert_true (rect_contains (&canvas, &ctx));
  if (mode == OP_CONTEXT_WHOLE)
    g_assert_true (memcmp (&ctx, &canvas, sizeof ctx) == 0);
  g_assert_cmpint (op_image_get_width (op_prepared_get_input (prepared)), ==, size.width);
  g_assert_cmpint (op_image_get_height (op_prepared_get_input (prepared)), ==, size.height);
  g_assert_cmpint (op_mask_get_width (op_prepared_get_blend (prepared)), ==, ctx.width);
  g_assert_cmpint (op_mask_get_height (op_prepared_get_blend (prepared)), ==, ctx.height);
  assert_input_mask_covers (prepared);

  patch = op_prepared_make_patch (prepared, op_prepared_get_input (prepared), &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (patch), ==, ctx.width);
  g_assert_cmpint (op_image_get_height (patch), ==, ctx.height);
}

static void
test_fit_round_trip (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) coffee_mask = mask_with_disc (600, 400, 300, 200, 60);
  g_autoptr(OpMask) edge_mask = mask_with_rect (600, 400, 580, 10, 20, 120);

  for (guint i = 0; i < G_N_ELEMENTS (all_rules); i++)
    {
      check_round_trip (coffee, coffee_mask, OP_CONTEXT_MASKED, &all_rules[i]);
      check_round_trip (coffee, edge_mask, OP_CONTEXT_MASKED, &all_rules[i]);
      check_round_trip (coffee, coffee_mask, OP_CONTEXT_WHOLE, &all_rules[i]);
    }
}

/* The case: a 6000 × 4000 photo with a small mask, context cropped, and the
 * same photo with the whole picture as context, through every backend's rule. */
static void
test_fit_large_photo (void)
{
  OpImage *photo = get_large_photo ();
  g_autoptr(OpMask) mask = mask_with_rect (6000, 4000, 4000, 1000, 100, 100);

  for (guint i = 0; i < G_N_ELEMENTS (all_rules); i++)
    {
      check_round_trip (photo, mask, OP_CONTEXT_MASKED, &all_rules[i]);
      if (all_rules[i].rule != &rule_multiple_8)
        check_round_trip (photo, mask, OP_CONTEXT_WHOLE, &all_rules[i]);
    }
}

/* Resampling */

static void
test_scale_exact_and_flat (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpImage) same = op_image_scale (coffee, NULL, 600, 400);
  g_autoptr(OpImage) crop = op_image_scale (coffee, &(OpRect) { 10, 20, 30, 40 }, 30, 40);
  g_autoptr(OpImage) expected = op_image_crop (coffee, 10, 20, 30, 40);
  g_autoptr(OpImage) flat = op_image_new (97, 53);
  g_autoptr(OpMask) flat_mask = op_mask_new (97, 53);
  const OpSize sizes[] = { { 13, 7 }, { 97, 200 }, { 300, 11 }, { 1000, 1000 }, { 1, 1 } };

  g_assert_true (op_image_equal (same, coffee));
  g_assert_true (op_image_equal (crop, expected));

  for (gsize i = 0; i < 97 * 53; i++)
    memcpy (op_image_get_data (flat) + 4 * i, (guint8[]) { 200, 100, 7, 255 }, 4);
  memset (op_mask_get_data (flat_mask), 77, 97 * 53);

  /* A flat picture stays flat at any size, shrinking or enlarging. */
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(OpImage) scaled = op_image_scale (flat, NULL, sizes[i].width, sizes[i].height);
      g_autoptr(OpMask) scaled_mask = op_mask_scale (flat_mask, NULL, sizes[i].width,
                                                     sizes[i].height);

      for (int y = 0; y < sizes[i].height; y++)
        for (int x = 0; x < sizes[i].width; x++)
          {
            g_assert_cmpmem (image_px (scaled, x, y), 4, ((guint8[]) { 200, 100, 7, 255 }), 4);
            g_assert_cmpint (mask_px (scaled_mask, x, y), ==, 77);
          }
    }
}

/* Half size is the mean of each 2 × 2 block, weighted by alpha. */
static void
test_scale_area_average (void)
{
  static const guint8 pixels[] = {
    0, 0, 0, 255,      100, 100, 100, 255,
    200, 40, 0, 255,   255, 255, 255, 0,     /* transparent white must not lighten */
  };
  g_autoptr(OpImage) image = op_image_new_from_data (pixels, 2, 2, 8);
  g_autoptr(OpImage) half = op_image_scale (image, NULL, 1, 1);
  const guint8 *p = image_px (half, 0, 0);

  g_assert_cmpint (p[0], ==, 100);   /* (0 + 100 + 200) / 3 */
  g_assert_cmpint (p[1], ==, 47);    /* (0 + 100 + 40) / 3 */
  g_assert_cmpint (p[2], ==, 33);
  g_assert_cmpint (p[3], ==, 191);   /* 3 × 255 / 4 */
}

/* Compositing */

static void
check_composite_identity (OpImage          *source,
                          const OpMask     *mask,
                          const OpMargins  *margins,
                          const OpSizeRule *rule,
                          guint32           seed)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) result = noise_image (313 + seed % 50, 97 + seed % 31, seed);
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(OpImage) composite = NULL;
  g_autoptr(GError) error = NULL;
  guint64 kept;
  OpRect ctx;

  request = request_new (source, mask, margins, params);
  prepared = prepare (request, rule);
  op_prepared_get_context (prepared, &ctx);

  patch = op_prepared_make_patch (prepared, result, &error);
  g_assert_no_error (error);
  composite = op_composite (source, margins, patch, &ctx, op_prepared_get_blend (prepared));

  kept = assert_composite_exact (source, margins, patch, &ctx,
                                 op_prepared_get_blend (prepared), composite);
  /* The padding around the mask is in the context but must be kept. */
  g_assert_cmpuint (kept, >, 0);
}

static void
test_composite_identity_inpaint (void)
{
  const char *samples[] = { "coffee.png", "chelsea.png" };

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr(OpImage) source = load_sample (samples[i]);
      int w = op_image_get_width (source), h = op_image_get_height (source);
      g_autoptr(OpMask) disc = mask_with_disc (w, h, w * 0.4, h * 0.55, 45);
      g_autoptr(OpMask) rect = mask_with_rect (w, h, 0, h - 70, 130, 70);

      for (guint r = 0; r < G_N_ELEMENTS (all_rules); r++)
        {
          check_composite_identity (source, disc, NULL, all_rules[r].rule, 17 * i + r);
          check_composite_identity (source, rect, NULL, all_rules[r].rule, 91 * i + r);
        }
    }
}

static void
test_composite_identity_outpaint (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) disc = mask_with_disc (600, 400, 200, 150, 30);
  const OpMargins margins[] = {
    { 40, 0, 25, 60 },
    { 0, 128, 0, 0 },
    { 300, 300, 200, 200 },
  };

  for (guint m = 0; m < G_N_ELEMENTS (margins); m++)
    for (guint r = 0; r < G_N_ELEMENTS (all_rules); r++)
      {
        check_composite_identity (coffee, NULL, &margins[m], all_rules[r].rule, 7 * m + r);
        check_composite_identity (coffee, disc, &margins[m], all_rules[r].rule, 5 * m + r);
      }
}

/* The blend arithmetic on hand-picked pixels: an opaque parent mixes linearly, a
 * transparent one (the margins) takes the patch's colour with the blend as alpha, and a
 * half-transparent parent mixes premultiplied.  The canvas is 8 × 1: one margin pixel,
 * the 4-pixel parent, three margin pixels. */
static void
test_composite_formula (void)
{
  static const guint8 parent_px[] = {
    10, 20, 30, 255,   10, 20, 30, 255,   10, 20, 30, 255,   50, 60, 70, 128,
  };
  static const guint8 patch_px[] = {
    1, 2, 3, 4,          250, 0, 100, 255,    250, 0, 100, 255,    250, 0, 100, 255,
    250, 0, 100, 255,    200, 150, 100, 255,  200, 150, 100, 255,  0, 0, 0, 0,
  };
  static const guint8 blend_px[] = { 0, 255, 128, 0, 128, 64, 255, 200 };
  static const guint8 expected[] = {
    0, 0, 0, 0,          /* margin, blend 0: stays transparent */
    250, 0, 100, 255,    /* blend 255: the patch */
    130, 10, 65, 255,    /* 10 + (250 − 10) · 128 / 255 … */
    10, 20, 30, 255,     /* blend 0: the parent */
    184, 20, 90, 192,    /* premultiplied: parent alpha 128, patch alpha 255 */
    200, 150, 100, 64,   /* margin: the patch's colour, alpha = blend */
    200, 150, 100, 255,
    0, 0, 0, 0,          /* margin under a transparent patch */
  };
  g_autoptr(OpImage) parent = op_image_new_from_data (parent_px, 4, 1, 16);
  g_autoptr(OpImage) patch = op_image_new_from_data (patch_px, 8, 1, 32);
  g_autoptr(OpMask) blend = op_mask_new (8, 1);
  g_autoptr(OpImage) out = NULL;
  OpMargins margins = { 1, 3, 0, 0 };
  OpRect rect = { 0, 0, 8, 1 };

  memcpy (op_mask_get_data (blend), blend_px, 8);
  out = op_composite (parent, &margins, patch, &rect, blend);

  g_assert_cmpint (op_image_get_width (out), ==, 8);
  g_assert_cmpint (op_image_get_height (out), ==, 1);
  for (int x = 0; x < 8; x++)
    {
      const guint8 *p = image_px (out, x, 0);

      g_test_message ("pixel %d: %d %d %d %d", x, p[0], p[1], p[2], p[3]);
      g_assert_cmpmem (p, 4, expected + 4 * x, 4);
    }
}

/* Colour matching */

static OpImage *
with_red_cast (OpImage *image,
               int      shift)
{
  OpImage *cast = op_image_copy (image);
  guint8 *data = op_image_get_data (cast);
  gsize n = (gsize) op_image_get_width (cast) * op_image_get_height (cast);

  for (gsize i = 0; i < n; i++)
    data[4 * i] = (guint8) CLAMP (data[4 * i] + shift, 0, 255);
  return cast;
}

static void
check_red_cast (gboolean color_match,
                double  *red_difference,
                double  *max_other_difference)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) mask = mask_with_rect (600, 400, 220, 140, 150, 110);
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) result = NULL;
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(OpImage) composite = NULL;
  g_autoptr(GError) error = NULL;
  double parent_mean[3], patch_mean[3], composite_mean[3];
  OpRect ctx;

  params->color_match = color_match;
  params->mask_feather = 16;
  request = request_new (coffee, mask, NULL, params);
  prepared = prepare (request, &rule_stability_v1);
  result = with_red_cast (op_prepared_get_input (prepared), 40);

  patch = op_prepared_make_patch (prepared, result, &error);
  g_assert_no_error (error);
  op_prepared_get_context (prepared, &ctx);
  composite = op_composite (coffee, NULL, patch, &ctx, op_prepared_get_blend (prepared));

  band_means (prepared, patch, FALSE, parent_mean, patch_mean);
  band_means (prepared, composite, TRUE, parent_mean, composite_mean);
  g_test_message ("colour match %d: band means parent %.1f %.1f %.1f, patch %.1f %.1f %.1f, "
                  "composite %.1f %.1f %.1f", color_match,
                  parent_mean[0], parent_mean[1], parent_mean[2],
                  patch_mean[0], patch_mean[1], patch_mean[2],
                  composite_mean[0], composite_mean[1], composite_mean[2]);

  *red_difference = fabs (composite_mean[0] - parent_mean[0]);
  *max_other_difference = MAX (fabs (composite_mean[1] - parent_mean[1]),
                               fabs (composite_mean[2] - parent_mean[2]));
  if (color_match)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat (fabs (patch_mean[c] - parent_mean[c]), <, 1.0);
}

static void
test_color_match_red_cast (void)
{
  double red, other;

  check_red_cast (TRUE, &red, &other);
  g_assert_cmpfloat (red, <, 2.0);
  g_assert_cmpfloat (other, <, 2.0);
}

static void
test_color_match_disabled (void)
{
  double red, other;

  check_red_cast (FALSE, &red, &other);
  /* The composite takes part of the parent in the band, so less than the full cast. */
  g_assert_cmpfloat (red, >, 10.0);
  g_assert_cmpfloat (other, <, 2.0);
}

/* A flat patch has no spread to scale: the mean alone moves, and nothing divides by 0. */
static void
test_color_match_flat_result (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) mask = mask_with_rect (600, 400, 220, 140, 150, 110);
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) flat = op_image_new (64, 64);
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(GError) error = NULL;
  double parent_mean[3], patch_mean[3];

  request = request_new (coffee, mask, NULL, params);
  prepared = prepare (request, &rule_multiple_8);
  patch = op_prepared_make_patch (prepared, flat, &error);
  g_assert_no_error (error);
  band_means (prepared, patch, FALSE, parent_mean, patch_mean);
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (fabs (patch_mean[c] - parent_mean[c]), <, 1.0);
  g_assert_cmpint (image_px (patch, 0, 0)[3], ==, 255);
}

/* Outpainting */

static OpPrepared *
prepare_outpaint (OpImage          *source,
                  const OpMask     *mask,
                  const OpMargins  *margins,
                  OpRequest       **request_out)
{
  g_autoptr(OpParams) params = op_params_new ();
  OpRequest *request = request_new (source, mask, margins, params);

  *request_out = request;
  return prepare (request, &rule_multiple_8);
}

static void
test_outpaint_margins_only (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) result = noise_image (200, 100, 3);
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(OpImage) composite = NULL;
  OpMargins margins = { 100, 0, 0, 50 };
  OpRect s = { 100, 0, 600, 400 }, ctx;
  const OpMask *blend;
  OpImage *canvas;
  int width, height;
  int reach = OP_OUTPAINT_OVERLAP + 4 + 2 * 8;

  prepared = prepare_outpaint (coffee, NULL, &margins, &request);
  op_request_get_canvas_size (request, &width, &height);
  g_assert_cmpint (width, ==, 700);
  g_assert_cmpint (height, ==, 450);

  canvas = op_prepared_get_canvas (prepared);
  g_assert_cmpint (op_image_get_width (canvas), ==, 700);
  g_assert_cmpint (op_image_get_height (canvas), ==, 450);

  op_prepared_get_context (prepared, &ctx);
  blend = op_prepared_get_blend (prepared);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gboolean original = rect_contains_point (&s, x, y);
        guint8 b = rect_contains_point (&ctx, x, y) ? mask_px (blend, x - ctx.x, y - ctx.y) : 0;
        int depth = MIN (x - s.x, s.y + s.height - 1 - y);   /* into the original */

        if (!original)
          {
            /* The new area: transparent on the canvas, wholly regenerated. */
            g_assert_cmpmem (image_px (canvas, x, y), 4, ((guint8[]) { 0, 0, 0, 0 }), 4);
            g_assert_cmpint (b, ==, 255);
            continue;
          }

        g_assert_cmpmem (image_px (canvas, x, y), 4, image_px (coffee, x - s.x, y - s.y), 4);
        if (depth < OP_OUTPAINT_OVERLAP)
          g_assert_cmpint (b, >, 0);        /* the overlap band is regenerated … */
        if (depth == 0)
          g_assert_cmpint (b, ==, 255);     /* … wholly at the seam */
        if (depth >= reach)
          g_assert_cmpint (b, ==, 0);       /* and the rest is left alone */
      }

  assert_input_mask_covers (prepared);
  patch = op_prepared_make_patch (prepared, result, NULL);
  composite = op_composite (coffee, &margins, patch, &ctx, blend);
  assert_composite_exact (coffee, &margins, patch, &ctx, blend, composite);
}

static void
test_outpaint_with_mask (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) mask = mask_with_rect (600, 400, 250, 180, 60, 40);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) result = noise_image (77, 311, 11);
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(OpImage) composite = NULL;
  OpMargins margins = { 0, 80, 30, 0 };
  const OpMask *blend;
  OpRect ctx;

  prepared = prepare_outpaint (coffee, mask, &margins, &request);
  op_prepared_get_context (prepared, &ctx);
  blend = op_prepared_get_blend (prepared);

  /* Both the brush mask (offset by the top margin) and the new strips are covered. */
  g_assert_true (rect_contains (&ctx, &(OpRect) { 250, 210, 60, 40 }));
  g_assert_true (rect_contains (&ctx, &(OpRect) { 600, 0, 80, 430 }));
  g_assert_true (rect_contains (&ctx, &(OpRect) { 0, 0, 680, 30 }));
  /* The painted area is regenerated throughout, wholly away from its feathered edge. */
  for (int y = 210; y < 250; y++)
    for (int x = 250; x < 310; x++)
      {
        gboolean inner = x >= 258 && x < 302 && y >= 218 && y < 242;

        g_assert_cmpint (mask_px (blend, x - ctx.x, y - ctx.y), >, 0);
        if (inner)
          g_assert_cmpint (mask_px (blend, x - ctx.x, y - ctx.y), ==, 255);
      }
  g_assert_cmpint (mask_px (blend, 679 - ctx.x, 429 - ctx.y), ==, 255);
  g_assert_cmpint (mask_px (blend, 0 - ctx.x, 0 - ctx.y), ==, 255);
  /* Between them the original is kept. */
  g_assert_cmpint (mask_px (blend, 150 - ctx.x, 300 - ctx.y), ==, 0);

  assert_input_mask_covers (prepared);
  patch = op_prepared_make_patch (prepared, result, NULL);
  composite = op_composite (coffee, &margins, patch, &ctx, blend);
  assert_composite_exact (coffee, &margins, patch, &ctx, blend, composite);
}

/* Preparing */

static void
test_prepare_cancelled (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) mask = mask_with_rect (600, 400, 10, 10, 10, 10);
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = request_new (coffee, mask, NULL, params);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_null (op_prepared_new (request, &rule_multiple_8, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_prepare_shrunk_away (void)
{
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(OpMask) mask = mask_with_rect (600, 400, 100, 100, 6, 6);
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(GError) error = NULL;

  params->mask_grow = -10;
  request = request_new (coffee, mask, NULL, params);
  g_assert_null (op_prepared_new (request, &rule_multiple_8, NULL, &error));
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
}

static void
test_prepare_large_photo (void)
{
  OpImage *photo = get_large_photo ();
  g_autoptr(OpMask) mask = mask_with_rect (6000, 4000, 3000, 2000, 100, 100);
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpImage) patch = NULL;
  g_autoptr(OpImage) composite = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  double request_time, prepare_time, patch_time, composite_time;
  int reach = params->mask_grow + 2 * params->mask_feather + params->padding;
  OpRect ctx;
  OpSize size;

  request = request_new (photo, mask, NULL, params);
  request_time = g_timer_elapsed (timer, NULL);
  g_timer_start (timer);
  prepared = prepare (request, &rule_stability_v1);
  prepare_time = g_timer_elapsed (timer, NULL);

  op_prepared_get_context (prepared, &ctx);
  op_prepared_get_input_size (prepared, &size);
  g_assert_true (op_prepared_get_canvas (prepared) == photo);
  g_assert_true (rect_contains (&ctx, &(OpRect) { 3000, 2000, 100, 100 }));
  g_assert_true (rect_contains (&(OpRect) { 3000 - reach, 2000 - reach, 100 + 2 * reach,
                                            100 + 2 * reach }, &ctx));
  g_assert_cmpint (size.width, ==, 512);
  g_assert_cmpint (size.height, ==, 512);

  g_timer_start (timer);
  patch = op_prepared_make_patch (prepared, op_prepared_get_input (prepared), NULL);
  patch_time = g_timer_elapsed (timer, NULL);
  g_timer_start (timer);
  composite = op_composite (photo, NULL, patch, &ctx, op_prepared_get_blend (prepared));
  composite_time = g_timer_elapsed (timer, NULL);

  g_test_message ("6000 x 4000, 100 x 100 mask: context %d,%d %dx%d; request %.3f s, "
                  "prepare %.3f s, patch %.3f s, composite %.3f s",
                  ctx.x, ctx.y, ctx.width, ctx.height,
                  request_time, prepare_time, patch_time, composite_time);
  g_assert_cmpfloat (prepare_time, <, 2.0);
  assert_composite_exact (photo, NULL, patch, &ctx,
                          op_prepared_get_blend (prepared), composite);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request/params/defaults", test_params_defaults);
  g_test_add_func ("/request/params/invalid", test_params_invalid);
  g_test_add_func ("/request/new/wrong-mask-size", test_request_wrong_mask_size);
  g_test_add_func ("/request/new/nothing-to-do", test_request_nothing_to_do);
  g_test_add_func ("/request/new/margins", test_request_margins);
  g_test_add_func ("/request/new/too-many-pixels", test_request_too_many_pixels);
  g_test_add_func ("/request/new/snapshot", test_request_snapshot);
  for (guint i = 0; i < G_N_ELEMENTS (fit_cases); i++)
    g_test_add_data_func (fit_cases[i].path, &fit_cases[i], test_fit_case);
  g_test_add_func ("/request/fit/impossible", test_fit_impossible);
  g_test_add_func ("/request/fit/round-trip", test_fit_round_trip);
  g_test_add_func ("/request/fit/large-photo", test_fit_large_photo);
  g_test_add_func ("/request/scale/exact-and-flat", test_scale_exact_and_flat);
  g_test_add_func ("/request/scale/area-average", test_scale_area_average);
  g_test_add_func ("/request/composite/formula", test_composite_formula);
  g_test_add_func ("/request/composite/identity-inpaint", test_composite_identity_inpaint);
  g_test_add_func ("/request/composite/identity-outpaint", test_composite_identity_outpaint);
  g_test_add_func ("/request/color-match/red-cast", test_color_match_red_cast);
  g_test_add_func ("/request/color-match/disabled", test_color_match_disabled);
  g_test_add_func ("/request/color-match/flat-result", test_color_match_flat_result);
  g_test_add_func ("/request/outpaint/margins-only", test_outpaint_margins_only);
  g_test_add_func ("/request/outpaint/with-mask", test_outpaint_with_mask);
  g_test_add_func ("/request/prepare/cancelled", test_prepare_cancelled);
  g_test_add_func ("/request/prepare/shrunk-away", test_prepare_shrunk_away);
  g_test_add_func ("/request/prepare/large-photo", test_prepare_large_photo);

  status = g_test_run ();
  g_clear_pointer (&large_photo, op_image_unref);
  return status;
}
