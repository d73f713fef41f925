/* test-stability.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-stability"

#include "config.h"

#include <string.h>

#include "op-http.h"
#include "op-mock-stability.h"
#include "op-stability-backend.h"
#include "op-test-cli.h"
#include "op-worker.h"

/* The Stability AI backend against a mock that holds it to the contract the way the
 * service does (shared/contracts/backends.md §2; op-mock-stability.c): the key, the
 * accept header, every multipart field's name, type and range, picture sizes and the
 * 10 MiB limit, and the mask, which must be white exactly where the prepared input says
 * to regenerate.  The mock answers as the service does, or fails in one of the ways it
 * can. */

#define JOB_TIMEOUT_S 120

/* Helpers */

static OpImage *
load_chelsea (void)
{
  const char *dir = g_getenv ("OVERPAINT_SAMPLES");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  OpImage *image;

  if (dir != NULL)
    path = g_build_filename (dir, "chelsea.png", NULL);
  else
    path = g_test_build_filename (G_TEST_DIST, "..", "data", "samples", "chelsea.png", NULL);

  image = op_image_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (image), ==, 451);
  g_assert_cmpint (op_image_get_height (image), ==, 300);

  return image;
}

/* The client side */

static OpBackend *
make_backend (OpMockStability *mock,
              const char      *endpoint)
{
  OpBackend *backend = op_stability_backend_new ();

  g_object_set (backend,
                "url", op_mock_server_get_url (mock->server),
                "api-key", OP_MOCK_STABILITY_KEY,
                "endpoint", endpoint,
                "stall-timeout", 2,
                NULL);

  return backend;
}

static OpParams *
make_params (gint64 seed,
             int    n_variants)
{
  OpParams *params = op_params_new ();

  g_free (params->backend);
  params->backend = g_strdup ("stability");
  g_free (params->prompt);
  params->prompt = g_strdup ("a sleeping tabby cat");
  g_free (params->negative_prompt);
  params->negative_prompt = g_strdup ("blurry, watermark");
  params->seed = seed;
  params->n_variants = n_variants;
  params->color_match = FALSE;

  return params;
}

static OpRequest *
make_request (OpImage         *image,
              const OpRect    *hole,
              const OpMargins *margins,
              const OpParams  *params)
{
  g_autoptr(OpMask) mask = NULL;
  g_autoptr(GError) error = NULL;
  OpRequest *request;

  if (hole != NULL)
    {
      mask = op_mask_new (op_image_get_width (image), op_image_get_height (image));
      op_mask_fill_rect (mask, NULL, hole, OP_MASK_MODE_ADD, NULL);
    }

  request = op_request_new (image, mask, margins, params, &error);
  g_assert_no_error (error);

  return request;
}

/* The input mask the worker will prepare, for the mock to compare with. */
static OpPrepared *
prepare_like_worker (OpBackend *backend,
                     OpRequest *request)
{
  g_autoptr(GError) error = NULL;
  OpSizeRule rule;
  OpPrepared *prepared;

  op_backend_get_size_rule (backend, &rule);
  prepared = op_prepared_new (request, &rule, NULL, &error);
  g_assert_no_error (error);

  return prepared;
}

static void
expect_mask_of (OpMockStability *mock,
                OpBackend       *backend,
                OpRequest       *request)
{
  g_autoptr(OpPrepared) prepared = prepare_like_worker (backend, request);

  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  mock->expected_mask = op_mask_copy (op_prepared_get_input_mask (prepared));
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

static OpJob *
run_job (OpWorker  *worker,
         OpBackend *backend,
         OpRequest *request)
{
  OpJob *job = op_worker_submit (worker, backend, request);

  wait_for_job (job);
  return job;
}

static void
assert_done (OpJob *job)
{
  const GError *error = op_job_get_error (job);

  if (error != NULL)
    g_test_message ("unexpected failure: %s", error->message);
  g_assert_null (error);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_DONE);
}

static void
assert_pixel (OpImage      *image,
              int           x,
              int           y,
              const guint8  rgb[3])
{
  const guint8 *p = op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * x;

  g_assert_cmpuint (p[0], ==, rgb[0]);
  g_assert_cmpuint (p[1], ==, rgb[1]);
  g_assert_cmpuint (p[2], ==, rgb[2]);
}

/* Each variant painted in its own seed's colour at the middle of the hole. */
static void
assert_variants (OpJob        *job,
                 const OpRect *hole,
                 const gint64 *seeds,
                 guint         n)
{
  GPtrArray *variants = op_job_get_variants (job);

  g_assert_nonnull (variants);
  g_assert_cmpuint (variants->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      OpVariant *variant = g_ptr_array_index (variants, i);
      guint8 rgb[3];

      g_assert_cmpint (variant->seed, ==, seeds[i]);
      op_mock_stability_seed_color (variant->seed, rgb);
      assert_pixel (variant->patch, hole->x + hole->width / 2 - variant->rect.x,
                    hole->y + hole->height / 2 - variant->rect.y, rgb);
    }
}

typedef struct
{
  GAsyncResult *result;
} Waiter;

static void
waiter_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (Waiter *waiter)
{
  gint64 deadline = g_get_monotonic_time () + JOB_TIMEOUT_S * G_USEC_PER_SEC;

  while (waiter->result == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  return waiter->result;
}

/* Tests */

static void
test_metadata (void)
{
  g_autoptr(OpBackend) backend = op_stability_backend_new ();
  g_autofree char *url = NULL;
  g_autofree char *endpoint = NULL;
  g_autofree char *engine = NULL;
  g_autofree char *style = NULL;
  GParamSpec *key;
  OpSizeRule rule;

  g_assert_cmpstr (op_backend_get_id (backend), ==, "stability");
  g_assert_cmpstr (op_backend_get_name (backend), ==, "Stability AI");

  g_object_get (backend, "url", &url, "endpoint", &endpoint, "engine", &engine,
                "style-preset", &style, NULL);
  g_assert_cmpstr (url, ==, "https://api.stability.ai");
  g_assert_cmpstr (endpoint, ==, "inpaint");
  g_assert_nonnull (engine);
  g_assert_null (style);

  /* The key can be given but never read back. */
  key = g_object_class_find_property (G_OBJECT_GET_CLASS (backend), "api-key");
  g_assert_nonnull (key);
  g_assert_false (key->flags & G_PARAM_READABLE);

  g_assert_cmpuint (op_backend_get_capabilities (backend), ==,
                    OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_NATIVE_OUTPAINT |
                    OP_BACKEND_CAP_MODELS);
  g_assert_cmpuint (op_backend_get_parameters (backend), ==,
                    OP_PARAM_PROMPT | OP_PARAM_NEGATIVE_PROMPT | OP_PARAM_SEED |
                    OP_PARAM_VARIANTS);
  g_assert_nonnull (strstr (op_backend_explain_parameter (backend, OP_PARAM_STEPS),
                            "picks its own steps and guidance"));
  g_assert_nonnull (op_backend_explain_parameter (backend, OP_PARAM_MODEL));
  g_assert_null (op_backend_explain_parameter (backend, OP_PARAM_PROMPT));
  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpint (rule.multiple, ==, 1);
  g_assert_cmpint (rule.min_pixels, ==, 4096);
  g_assert_cmpint (rule.max_pixels, ==, 9437184);

  g_object_set (backend, "endpoint", "v1-masking", "url", "http://example.test/", NULL);
  g_clear_pointer (&url, g_free);
  g_object_get (backend, "url", &url, NULL);
  g_assert_cmpstr (url, ==, "http://example.test");
  g_assert_cmpuint (op_backend_get_capabilities (backend), ==,
                    OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS);
  g_assert_cmpuint (op_backend_get_parameters (backend), ==,
                    OP_PARAM_PROMPT | OP_PARAM_NEGATIVE_PROMPT | OP_PARAM_SEED |
                    OP_PARAM_VARIANTS | OP_PARAM_STEPS | OP_PARAM_CFG | OP_PARAM_SAMPLER |
                    OP_PARAM_MODEL);
  g_assert_null (op_backend_explain_parameter (backend, OP_PARAM_STEPS));
  g_assert_nonnull (op_backend_explain_parameter (backend, OP_PARAM_STRENGTH));
  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpint (rule.multiple, ==, 64);
  g_assert_cmpint (rule.min_pixels, ==, 262144);
  g_assert_cmpint (rule.max_pixels, ==, 1048576);
}

/* Three variants, two calls at a time, each with its own seed; seed 0 lets the service
 * pick, and the seed it answers with is the variant's. */
static void
test_inpaint_v2beta (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (0, 3);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const gint64 seeds[] = { OP_MOCK_STABILITY_RANDOM_SEED, 1, 2 };

  request = make_request (image, &hole, NULL, params);
  expect_mask_of (mock, backend, request);
  mock->delay_ms = 500;

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));

  g_assert_cmpuint (mock->n_calls, ==, 3);
  g_assert_cmpuint (mock->max_in_flight, ==, 2);
  g_assert_cmpuint (mock->seeds->len, ==, 3);
  g_assert_cmpstr (mock->image_type, ==, "image/png");
  g_assert_cmpstr (mock->mask_type, ==, "image/png");
  g_assert_cmpstr (mock->grow_mask, ==, "0");
  g_assert_cmpstr (mock->prompt, ==, "a sleeping tabby cat");
  g_assert_cmpstr (mock->negative_prompt, ==, "blurry, watermark");
}

static void
test_inpaint_v1_masking (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "v1-masking");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (100, 3);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const gint64 seeds[] = { 100, 101, 102 };

  params->model = g_strdup ("stable-diffusion-512-v2-1");
  params->sampler = g_strdup ("K_EULER");
  params->steps = 5;
  params->cfg = 9.5;
  request = make_request (image, &hole, NULL, params);
  expect_mask_of (mock, backend, request);
  mock->delay_ms = 500;

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));

  g_assert_cmpuint (mock->n_calls, ==, 3);
  g_assert_cmpuint (mock->max_in_flight, ==, 2);
  g_assert_true (op_mock_stability_saw_path (mock, "engine:stable-diffusion-512-v2-1"));
  g_assert_cmpstr (mock->mask_source, ==, "MASK_IMAGE_WHITE");
  g_assert_cmpstr (mock->image_type, ==, "image/png");
  g_assert_cmpstr (mock->mask_type, ==, "image/png");
  g_assert_cmpstr (mock->prompt, ==, "a sleeping tabby cat");
  g_assert_cmpfloat (mock->prompt_weight, >, 0);
  g_assert_cmpstr (mock->negative_prompt, ==, "blurry, watermark");
  g_assert_cmpfloat (mock->negative_weight, <, 0);
  g_assert_cmpstr (mock->sampler, ==, "K_EULER");
  /* Steps below the endpoint's 10 are raised to it. */
  g_assert_cmpstr (mock->steps, ==, "10");
  g_assert_cmpstr (mock->cfg_scale, ==, "9.50");
}

/* A context thinner than 64 pixels is padded for v2beta and the answer cut back. */
static void
test_inpaint_thin (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (7, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 200, 20, 6, 260 };
  const gint64 seeds[] = { 7 };
  const OpMask *input_mask;
  OpMask *padded;
  OpSize size;

  params->padding = 0;
  params->mask_grow = 0;
  params->mask_feather = 2;
  request = make_request (image, &hole, NULL, params);

  prepared = prepare_like_worker (backend, request);
  op_prepared_get_input_size (prepared, &size);
  g_assert_cmpint (size.width, <, 64);
  input_mask = op_prepared_get_input_mask (prepared);
  padded = op_mask_new (64, size.height);
  for (int y = 0; y < size.height; y++)
    memcpy (op_mask_get_data (padded) + (gsize) y * 64,
            op_mask_peek_data (input_mask) + (gsize) y * size.width, size.width);
  mock->expected_mask = padded;

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));
}

/* Smooth colours with a little grain: too much for PNG to squeeze under 10 MiB, easy
 * for JPEG. */
static OpImage *
make_grainy_picture (int width,
                     int height)
{
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;

        p[0] = (guint8) CLAMP (x * 200 / width + g_rand_int_range (rand, -8, 9), 0, 255);
        p[1] = (guint8) CLAMP (y * 200 / height + g_rand_int_range (rand, -8, 9), 0, 255);
        p[2] = (guint8) CLAMP (128 + g_rand_int_range (rand, -8, 9), 0, 255);
        p[3] = 255;
      }

  return image;
}

static void
test_inpaint_large (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = make_grainy_picture (3000, 2400);
  g_autoptr(OpParams) params = make_params (3, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 1200, 900, 300, 200 };
  const gint64 seeds[] = { 3 };

  /* The mock takes a few seconds over a picture this size. */
  g_object_set (backend, "stall-timeout", 60, NULL);
  params->context = OP_CONTEXT_WHOLE;
  request = make_request (image, &hole, NULL, params);
  expect_mask_of (mock, backend, request);

  /* The premise: sent as PNG, the picture alone would break the limit. */
  prepared = prepare_like_worker (backend, request);
  png = op_image_encode_png (op_prepared_get_input (prepared), &error);
  g_assert_no_error (error);
  g_test_message ("PNG: %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (png));
  g_assert_cmpuint (g_bytes_get_size (png), >, OP_MOCK_STABILITY_V2_LIMIT);

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));

  g_test_message ("sent: %" G_GSIZE_FORMAT " bytes as %s", mock->body_size, mock->image_type);
  g_assert_true (g_strcmp0 (mock->image_type, "image/jpeg") == 0 ||
                 g_strcmp0 (mock->image_type, "image/webp") == 0);
  g_assert_cmpstr (mock->mask_type, ==, "image/png");
  g_assert_cmpuint (mock->body_size, <=, OP_MOCK_STABILITY_V2_LIMIT);
}

/* Both inpainting endpoints require a prompt: refused before any call. */
static void
test_inpaint_no_prompt (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (1, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };

  g_free (params->prompt);
  params->prompt = g_strdup ("  ");
  request = make_request (image, &hole, NULL, params);

  job = run_job (worker, backend, request);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  g_assert_error (op_job_get_error (job), OP_HTTP_ERROR, OP_HTTP_ERROR_INVALID);
  g_assert_nonnull (strstr (op_job_get_error (job)->message, "needs a prompt"));
  g_assert_cmpuint (op_mock_stability_get_n_calls (mock), ==, 0);
}

typedef struct
{
  const char *name;
  OpMargins   margins;
} OutpaintCase;

static const OutpaintCase outpaint_cases[] = {
  /* The context covers the left strip and a little of the picture only. */
  { "left", { 40, 0, 0, 0 } },
  { "three-sides", { 0, 72, 24, 56 } },
};

/* The service extends the original picture; the context is cut out of its answer: the
 * picture's own pixels exactly where it was, the new areas where the margins are. */
static void
test_outpaint_native (gconstpointer user_data)
{
  const OutpaintCase *test = user_data;
  const OpMargins *m = &test->margins;
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (11, 2);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  int sw = op_image_get_width (image), sh = op_image_get_height (image);
  GPtrArray *variants;

  /* Outpainting takes an empty prompt. */
  g_free (params->prompt);
  params->prompt = g_strdup ("");
  request = make_request (image, NULL, m, params);
  mock->expected_image = op_image_ref (image);
  mock->expected_dirs[0] = m->left;
  mock->expected_dirs[1] = m->right;
  mock->expected_dirs[2] = m->top;
  mock->expected_dirs[3] = m->bottom;

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  g_assert_true (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));
  g_assert_false (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/inpaint"));

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 2);
  for (guint i = 0; i < variants->len; i++)
    {
      OpVariant *variant = g_ptr_array_index (variants, i);
      const OpRect *r = &variant->rect;
      guint8 rgb[3];

      g_assert_cmpint (variant->seed, ==, 11 + i);
      g_assert_cmpint (op_image_get_width (variant->patch), ==, r->width);
      g_assert_cmpint (op_image_get_height (variant->patch), ==, r->height);
      if (m->left > 0)
        g_assert_cmpint (r->width, <, sw + m->left);

      op_mock_stability_seed_color (variant->seed, rgb);
      for (int y = 0; y < r->height; y++)
        for (int x = 0; x < r->width; x++)
          {
            int sx = r->x + x - m->left, sy = r->y + y - m->top;

            if (sx >= 0 && sy >= 0 && sx < sw && sy < sh)
              {
                const guint8 *p = op_image_peek_data (image) +
                                  (gsize) sy * op_image_get_stride (image) + 4 * (gsize) sx;

                assert_pixel (variant->patch, x, y, p);
              }
            else
              {
                assert_pixel (variant->patch, x, y, rgb);
              }
          }
    }
}

static OpImage *
make_gradient_picture (int width,
                       int height)
{
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;

        p[0] = (guint8) (x * 255 / width);
        p[1] = (guint8) (y * 255 / height);
        p[2] = 128;
        p[3] = 255;
      }

  return image;
}

static gboolean
near (const guint8 *p,
      const guint8 *q,
      int           tolerance)
{
  for (int c = 0; c < 3; c++)
    if (ABS ((int) p[c] - (int) q[c]) > tolerance)
      return FALSE;

  return TRUE;
}

/* A picture beyond the endpoint's 9.4 megapixels goes up scaled down, the margin with
 * it; the answer is scaled back over the context. */
static void
test_outpaint_scaled (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = make_gradient_picture (3200, 3000);
  g_autoptr(OpParams) params = make_params (13, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpMargins margins = { 0, 0, 100, 0 };
  OpVariant *variant;
  guint8 rgb[3];

  g_object_set (backend, "stall-timeout", 60, NULL);
  request = make_request (image, NULL, &margins, params);
  /* sqrt (9,437,184 / 9,600,000) of 100 pixels */
  mock->expected_dirs[2] = 99;

  job = run_job (worker, backend, request);
  assert_done (job);
  op_mock_stability_assert_no_refusals (mock);
  g_assert_true (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));

  variant = g_ptr_array_index (op_job_get_variants (job), 0);
  g_assert_cmpint (variant->rect.y, ==, 0);
  op_mock_stability_seed_color (variant->seed, rgb);
  for (int y = 0; y < variant->rect.height; y++)
    for (int x = variant->rect.x % 97; x < variant->rect.width; x += 97)
      {
        const guint8 *p = op_image_peek_data (variant->patch) +
                          (gsize) y * op_image_get_stride (variant->patch) + 4 * (gsize) x;
        int sx = variant->rect.x + x, sy = variant->rect.y + y - margins.top;

        /* Two pixels either side of the seam mix old and new. */
        if (sy < -2)
          g_assert_true (near (p, rgb, 0));
        else if (sy >= 2)
          g_assert_true (near (p, op_image_peek_data (image) +
                               (gsize) sy * op_image_get_stride (image) + 4 * (gsize) sx, 3));
      }
}

/* Outpainting the endpoint cannot do goes through inpainting of the prepared canvas:
 * a brush mask as well as margins, or a margin beyond its 2000 pixels. */
static void
test_outpaint_fallback (void)
{
  const struct { const OpRect *hole; OpMargins margins; } cases[] = {
    { &(OpRect) { 300, 180, 60, 50 }, { 64, 0, 0, 0 } },
    { NULL, { 0, 2100, 0, 0 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpMockStability) mock = op_mock_stability_new ();
      g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
      g_autoptr(OpWorker) worker = op_worker_new ();
      g_autoptr(OpImage) image = load_chelsea ();
      g_autoptr(OpParams) params = make_params (5, 1);
      g_autoptr(OpRequest) request = NULL;
      g_autoptr(OpJob) job = NULL;

      request = make_request (image, cases[i].hole, &cases[i].margins, params);
      expect_mask_of (mock, backend, request);

      job = run_job (worker, backend, request);
      assert_done (job);
      op_mock_stability_assert_no_refusals (mock);
      g_assert_true (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/inpaint"));
      g_assert_false (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));
    }
}

static void
test_engines (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "v1-masking");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  Waiter waiter = { NULL };

  op_backend_list_models_async (backend, NULL, waiter_cb, &waiter);
  models = op_backend_list_models_finish (backend, wait_for_result (&waiter), &error);
  g_clear_object (&waiter.result);
  g_assert_no_error (error);
  g_assert_nonnull (models);
  /* Text models and upscalers cannot inpaint. */
  g_assert_cmpuint (g_strv_length (models), ==, 2);
  g_assert_cmpstr (models[0], ==, "stable-diffusion-v1-6");
  g_assert_cmpstr (models[1], ==, "stable-diffusion-512-v2-1");

  g_object_set (backend, "api-key", "sk-wrong", NULL);
  op_backend_list_models_async (backend, NULL, waiter_cb, &waiter);
  g_clear_pointer (&models, g_strfreev);
  models = op_backend_list_models_finish (backend, wait_for_result (&waiter), &error);
  g_clear_object (&waiter.result);
  g_assert_null (models);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_assert_null (strstr (error->message, "sk-wrong"));
}

static void
test_balance (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  OpStabilityBackend *stability = OP_STABILITY_BACKEND (backend);
  g_autoptr(GError) error = NULL;
  Waiter waiter = { NULL };
  double credits = 0;

  op_stability_backend_get_balance_async (stability, NULL, waiter_cb, &waiter);
  g_assert_true (op_stability_backend_get_balance_finish (stability, wait_for_result (&waiter),
                                                          &credits, &error));
  g_clear_object (&waiter.result);
  g_assert_no_error (error);
  g_assert_cmpfloat (credits, ==, 42.5);
  op_mock_stability_assert_no_refusals (mock);

  /* a rejected key is a clear error that does not repeat the key */
  g_object_set (backend, "api-key", "sk-wrong-balance", NULL);
  op_stability_backend_get_balance_async (stability, NULL, waiter_cb, &waiter);
  g_assert_false (op_stability_backend_get_balance_finish (stability, wait_for_result (&waiter),
                                                           &credits, &error));
  g_clear_object (&waiter.result);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_assert_null (strstr (error->message, "sk-wrong-balance"));
}

static OpImage *
upscale_sync (OpBackend  *backend,
              OpImage    *picture,
              int         factor,
              GError    **error)
{
  OpStabilityBackend *stability = OP_STABILITY_BACKEND (backend);
  Waiter waiter = { NULL };
  OpImage *image;

  op_stability_backend_upscale_async (stability, picture, factor, NULL, waiter_cb, &waiter);
  image = op_stability_backend_upscale_finish (stability, wait_for_result (&waiter), error);
  g_clear_object (&waiter.result);

  return image;
}

static void
test_upscale (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpImage) picture = load_chelsea ();
  g_autoptr(OpImage) big = op_image_new (2000, 1000);
  g_autoptr(OpImage) twice = NULL;
  g_autoptr(OpImage) four = NULL;
  g_autoptr(OpImage) none = NULL;
  g_autoptr(GError) error = NULL;

  twice = upscale_sync (backend, picture, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (twice), ==, 902);
  g_assert_cmpint (op_image_get_height (twice), ==, 600);
  op_mock_stability_assert_no_refusals (mock);
  g_assert_true (op_mock_stability_saw_path (mock, "/v2beta/stable-image/upscale/fast"));

  /* The mock upscales by repeating pixels, so 2× is each pixel twice. */
  for (int y = 0; y < 600; y += 37)
    for (int x = 0; x < 902; x += 41)
      assert_pixel (twice, x, y, op_image_peek_data (picture) +
                    (gsize) (y / 2) * op_image_get_stride (picture) + 4 * (gsize) (x / 2));

  four = upscale_sync (backend, picture, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpint (op_image_get_width (four), ==, 1804);
  g_assert_cmpint (op_image_get_height (four), ==, 1200);

  /* Beyond the fast upscaler's limits: refused here, without a call. */
  none = upscale_sync (backend, big, 2, &error);
  g_assert_null (none);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TOO_LARGE);
  g_assert_cmpuint (op_mock_stability_get_n_calls (mock), ==, 2);
}

/* A 429 with Retry-After, then success on the same call. */
static void
test_rate_limit_retry (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (9, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const gint64 seeds[] = { 9 };

  request = make_request (image, &hole, NULL, params);
  op_mock_stability_set_failure (mock, OP_MOCK_STABILITY_FAIL_RATE_LIMIT_ONCE);

  job = run_job (worker, backend, request);
  assert_done (job);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));
  g_assert_cmpuint (op_mock_stability_get_n_calls (mock), ==, 2);
}

typedef struct
{
  const char             *name;
  const char             *endpoint;
  OpMockStabilityFailure  failure;
  const char             *api_key; /* NULL: the right one; "": none */
  const char             *engine;  /* NULL: the default */
  GQuark                (*domain) (void);
  int                     code;
  const char             *words;
} FailCase;

static const FailCase fail_cases[] = {
  { "unauthorized", "inpaint", OP_MOCK_STABILITY_FAIL_NONE, "sk-wrong", NULL,
    op_http_error_quark, OP_HTTP_ERROR_AUTH, "API key was rejected" },
  { "no-key", "inpaint", OP_MOCK_STABILITY_FAIL_NONE, "", NULL,
    op_http_error_quark, OP_HTTP_ERROR_AUTH, "API key was rejected" },
  { "v1-unauthorized", "v1-masking", OP_MOCK_STABILITY_FAIL_NONE, "sk-wrong", NULL,
    op_http_error_quark, OP_HTTP_ERROR_AUTH, "invalid API key" },
  { "credits", "inpaint", OP_MOCK_STABILITY_FAIL_CREDITS, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_CREDITS, "out of credits" },
  { "too-large", "inpaint", OP_MOCK_STABILITY_FAIL_TOO_LARGE, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_TOO_LARGE, "10MiB" },
  { "language", "inpaint", OP_MOCK_STABILITY_FAIL_LANGUAGE, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_INVALID, "English is the only supported language" },
  { "bad-request", "inpaint", OP_MOCK_STABILITY_FAIL_BAD_REQUEST, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_INVALID, "style_preset: must be one of" },
  { "unknown-engine", "v1-masking", OP_MOCK_STABILITY_FAIL_NONE, NULL, "stable-diffusion-v0",
    op_http_error_quark, OP_HTTP_ERROR_INVALID, "engine not found" },
  { "v1-bad-request", "v1-masking", OP_MOCK_STABILITY_FAIL_BAD_REQUEST, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_INVALID, "style_preset: must be one of" },
  { "moderation", "inpaint", OP_MOCK_STABILITY_FAIL_MODERATION, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_FILTERED, "content moderation" },
  { "server", "inpaint", OP_MOCK_STABILITY_FAIL_SERVER, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_SERVER, "unexpected server error" },
  { "v1-server", "v1-masking", OP_MOCK_STABILITY_FAIL_SERVER, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_SERVER, "unexpected server error" },
  { "html-502", "inpaint", OP_MOCK_STABILITY_FAIL_HTML_502, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_BUSY, "busy" },
  { "truncated", "inpaint", OP_MOCK_STABILITY_FAIL_TRUNCATED, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_BAD_ANSWER, "cut off" },
  { "bad-base64", "v1-masking", OP_MOCK_STABILITY_FAIL_BAD_BASE64, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_BAD_ANSWER, "base64" },
  { "wrong-size", "inpaint", OP_MOCK_STABILITY_FAIL_WRONG_SIZE, NULL, NULL,
    op_backend_error_quark, OP_BACKEND_ERROR_BAD_ANSWER, "picture where" },
  { "v1-wrong-size", "v1-masking", OP_MOCK_STABILITY_FAIL_WRONG_SIZE, NULL, NULL,
    op_backend_error_quark, OP_BACKEND_ERROR_BAD_ANSWER, "picture where" },
  { "reset", "inpaint", OP_MOCK_STABILITY_FAIL_RESET, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_UNREACHABLE, "could not reach" },
  { "stall", "inpaint", OP_MOCK_STABILITY_FAIL_STALL, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_TIMEOUT, "stopped answering" },
  { "filtered", "inpaint", OP_MOCK_STABILITY_FAIL_FILTERED, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_FILTERED, "content was filtered" },
  { "v1-filtered", "v1-masking", OP_MOCK_STABILITY_FAIL_FILTERED, NULL, NULL,
    op_http_error_quark, OP_HTTP_ERROR_FILTERED, "content was filtered" },
};

static void
test_failure (gconstpointer user_data)
{
  const FailCase *test = user_data;
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, test->endpoint);
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (21, 2);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const GError *error;

  if (test->api_key != NULL)
    g_object_set (backend, "api-key", test->api_key, NULL);
  if (test->engine != NULL)
    g_object_set (backend, "engine", test->engine, NULL);
  op_mock_stability_set_failure (mock, test->failure);
  request = make_request (image, &hole, NULL, params);

  job = run_job (worker, backend, request);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  error = op_job_get_error (job);
  g_test_message ("%s", error->message);
  g_assert_error (error, test->domain (), test->code);
  g_assert_nonnull (strstr (error->message, test->words));
  if (test->api_key != NULL && *test->api_key != '\0')
    g_assert_null (strstr (error->message, test->api_key));
  g_assert_null (strstr (error->message, OP_MOCK_STABILITY_KEY));
  op_mock_stability_assert_no_refusals (mock);
}

/* Cancelling while the service works stops the call at once. */
static void
test_cancel (void)
{
  g_autoptr(OpMockStability) mock = op_mock_stability_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (1, 3);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  gint64 deadline, cancelled_at;

  g_object_set (backend, "stall-timeout", 60, NULL);
  op_mock_stability_set_failure (mock, OP_MOCK_STABILITY_FAIL_STALL);
  request = make_request (image, &hole, NULL, params);
  job = op_worker_submit (worker, backend, request);

  deadline = g_get_monotonic_time () + JOB_TIMEOUT_S * G_USEC_PER_SEC;
  while (op_mock_stability_get_n_calls (mock) < 2)
    {
      g_assert_false (job_is_finished (job));
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }

  cancelled_at = g_get_monotonic_time ();
  op_job_cancel (job);
  wait_for_job (job);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, G_USEC_PER_SEC);
  g_assert_cmpuint (op_mock_stability_get_n_calls (mock), ==, 2);
}

/* The command line, end to end against the same mock */

static const OpRect cli_hole = { 300, 180, 60, 50 };

/* A mock that takes the planted key, and a command line that has it in its
 * environment. */
static void
cli_set_up (OpMockStability **mock,
            OpTestCli       **cli)
{
  *mock = op_mock_stability_new ();
  op_mock_stability_set_api_key (*mock, OP_TEST_PLANTED_KEY);
  *cli = op_test_cli_new (&cli_hole);
  if (*cli != NULL)
    op_test_cli_setenv (*cli, "STABILITY_API_KEY", OP_TEST_PLANTED_KEY);
}

static OpTestCliRun *
cli_inpaint (OpTestCli  *cli,
             const char *url,
             const char *output)
{
  return op_test_cli_run (cli, "inpaint", "--backend", "stability", "--url", url,
                          "--image", cli->picture, "--mask", cli->mask, "--output", output,
                          "--prompt", "a sleeping tabby cat", "--seed", "21", "--variants", "2",
                          "--mask-grow", "0", "--mask-blur", "0", NULL);
}

static void
test_cli_inpaint (void)
{
  g_autoptr(OpMockStability) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "inpainted.png");
  run = cli_inpaint (cli, op_mock_stability_get_url (mock), output);
  g_assert_cmpint (run->status, ==, 0);
  op_mock_stability_assert_no_refusals (mock);

  /* one call a variant, each with its seed */
  g_assert_cmpuint (op_mock_stability_get_n_calls (mock), ==, 2);
  first = op_test_cli_path (cli, "inpainted-1.png");
  second = op_test_cli_path (cli, "inpainted-2.png");
  op_test_cli_assert_inpainted (cli, first);
  op_test_cli_assert_inpainted (cli, second);
  op_test_cli_assert_differ (cli, first, second);
}

static void
test_cli_outpaint (void)
{
  g_autoptr(OpMockStability) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  const OpMargins margins = { .left = 60, .right = 0, .top = 30, .bottom = 0 };

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "outpainted.png");
  run = op_test_cli_run (cli, "outpaint", "--backend", "stability",
                         "--url", op_mock_stability_get_url (mock), "--image", cli->picture,
                         "--left", "60", "--top", "30", "--output", output,
                         "--prompt", "a sleeping tabby cat on a sofa", NULL);
  g_assert_cmpint (run->status, ==, 0);
  op_mock_stability_assert_no_refusals (mock);
  g_assert_true (op_mock_stability_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));
  op_test_cli_assert_outpainted (cli, output, &margins);
}

typedef struct
{
  const char             *name;
  OpMockStabilityFailure  failure;
  const char             *service_key;  /* what the service takes; NULL: the planted key */
  const char             *words[3];
} CliFailCase;

static const CliFailCase cli_fail_cases[] = {
  { "unauthorized", OP_MOCK_STABILITY_FAIL_NONE, OP_MOCK_STABILITY_KEY,
    { "API key", "rejected" } },
  { "credits", OP_MOCK_STABILITY_FAIL_CREDITS, NULL, { "credits" } },
  { "html-502", OP_MOCK_STABILITY_FAIL_HTML_502, NULL, { "busy", "502" } },
  { "moderation", OP_MOCK_STABILITY_FAIL_MODERATION, NULL, { "content moderation" } },
};

static void
test_cli_fail (gconstpointer data)
{
  const CliFailCase *fail = data;
  g_autoptr(OpMockStability) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  if (fail->service_key != NULL)
    op_mock_stability_set_api_key (mock, fail->service_key);
  op_mock_stability_set_failure (mock, fail->failure);
  output = op_test_cli_path (cli, "never.png");
  run = cli_inpaint (cli, op_mock_stability_get_url (mock), output);

  op_test_cli_assert_failed (run, fail->words[0], fail->words[1], fail->words[2], NULL);
  op_mock_stability_assert_no_refusals (mock);
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

/* Nothing listens: the message says where it tried. */
static void
test_cli_unreachable (void)
{
  g_autoptr(OpMockStability) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *url = op_test_cli_dead_url ();
  g_autofree char *output = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "never.png");
  run = cli_inpaint (cli, url, output);
  op_test_cli_assert_failed (run, "could not reach", url + strlen ("http://"), NULL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/stability/metadata", test_metadata);
  g_test_add_func ("/stability/inpaint/v2beta", test_inpaint_v2beta);
  g_test_add_func ("/stability/inpaint/v1-masking", test_inpaint_v1_masking);
  g_test_add_func ("/stability/inpaint/thin", test_inpaint_thin);
  g_test_add_func ("/stability/inpaint/large", test_inpaint_large);
  g_test_add_func ("/stability/inpaint/no-prompt", test_inpaint_no_prompt);
  for (guint i = 0; i < G_N_ELEMENTS (outpaint_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/stability/outpaint/native/%s",
                                               outpaint_cases[i].name);

      g_test_add_data_func (path, &outpaint_cases[i], test_outpaint_native);
    }
  g_test_add_func ("/stability/outpaint/scaled", test_outpaint_scaled);
  g_test_add_func ("/stability/outpaint/fallback", test_outpaint_fallback);
  g_test_add_func ("/stability/engines", test_engines);
  g_test_add_func ("/stability/balance", test_balance);
  g_test_add_func ("/stability/upscale", test_upscale);
  g_test_add_func ("/stability/retry/rate-limit", test_rate_limit_retry);
  for (guint i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/stability/failure/%s", fail_cases[i].name);

      g_test_add_data_func (path, &fail_cases[i], test_failure);
    }
  g_test_add_func ("/stability/cancel", test_cancel);

  g_test_add_func ("/stability/cli/inpaint", test_cli_inpaint);
  g_test_add_func ("/stability/cli/outpaint", test_cli_outpaint);
  for (guint i = 0; i < G_N_ELEMENTS (cli_fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/stability/cli/fail/%s", cli_fail_cases[i].name);

      g_test_add_data_func (path, &cli_fail_cases[i], test_cli_fail);
    }
  g_test_add_func ("/stability/cli/unreachable", test_cli_unreachable);

  return g_test_run ();
}
