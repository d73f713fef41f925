/* test-openai.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-openai"

#include "config.h"

#include <string.h>

#include "op-http.h"
#include "op-mock-openai.h"
#include "op-openai-backend.h"
#include "op-test-cli.h"
#include "op-worker.h"

/* The OpenAI Images backend against a mock of POST /v1/images/edits that holds it to
 * shared/contracts/backends.md §3 and the vendored OpenAPI spec (op-mock-openai.c).
 * Every refusal is recorded, and a test that expected success prints it. */

#define SEED 1000
#define JOB_TIMEOUT_S 120
#define CANCEL_LIMIT_US (1 * G_USEC_PER_SEC)

/* Helpers: pictures, requests, jobs */

/* Smooth, opaque, and different in every pixel's neighbourhood; with @noise, as hard
 * to compress as a picture gets. */
static OpImage *
make_picture (int      width,
              int      height,
              gboolean noise)
{
  OpImage *image = op_image_new (width, height);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 *data = op_image_get_data (image);
  int stride = op_image_get_stride (image);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *pixel = data + (gsize) y * stride + 4 * x;

        if (noise)
          {
            guint32 r = g_rand_int (rand);

            pixel[0] = r & 0xff;
            pixel[1] = (r >> 8) & 0xff;
            pixel[2] = (r >> 16) & 0xff;
          }
        else
          {
            pixel[0] = (guint8) (x * 255 / MAX (width - 1, 1));
            pixel[1] = (guint8) (y * 255 / MAX (height - 1, 1));
            pixel[2] = (guint8) ((x / 8 + y / 8) % 2 ? 60 : 180);
          }
        pixel[3] = 255;
      }

  return image;
}

static OpRequest *
make_request (OpImage       *picture,
              const OpRect  *hole,
              OpContextMode  context,
              const char    *model,
              const char    *prompt,
              int            n_variants)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpMask) mask = NULL;
  g_autoptr(GError) error = NULL;
  OpRequest *request;

  g_free (params->backend);
  params->backend = g_strdup ("openai");
  g_free (params->model);
  params->model = g_strdup (model);
  g_free (params->prompt);
  params->prompt = g_strdup (prompt);
  params->seed = SEED;
  params->n_variants = n_variants;
  params->context = context;
  /* The tests compare colours: no colour matching in between. */
  params->color_match = FALSE;

  mask = op_mask_new (op_image_get_width (picture), op_image_get_height (picture));
  op_mask_fill_rect (mask, NULL, hole, OP_MASK_MODE_ADD, NULL);

  request = op_request_new (picture, mask, NULL, params, &error);
  g_assert_no_error (error);

  return request;
}

/* A 300 × 100 hole in a 900 × 600 picture: a wide context. */
static OpRequest *
make_wide_request (const char *model,
                   const char *prompt,
                   int         n_variants)
{
  g_autoptr(OpImage) picture = make_picture (900, 600, FALSE);
  OpRect hole = { 300, 250, 300, 100 };

  return make_request (picture, &hole, OP_CONTEXT_MASKED, model, prompt, n_variants);
}

static OpPrepared *
prepare (OpBackend *backend,
         OpRequest *request)
{
  g_autoptr(GError) error = NULL;
  OpPrepared *prepared;
  OpSizeRule rule;

  op_backend_get_size_rule (backend, &rule);
  prepared = op_prepared_new (request, &rule, NULL, &error);
  g_assert_no_error (error);

  return prepared;
}

/* The worker prepares the same way, so the mock can check the picture and the mask it
 * receives against these. */
static void
mock_expect (OpMockOpenai *mock,
             OpBackend    *backend,
             OpRequest    *request,
             OpSize       *size)
{
  g_autoptr(OpPrepared) prepared = prepare (backend, request);

  g_mutex_lock (&mock->lock);
  g_clear_pointer (&mock->expected_input, op_image_unref);
  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  mock->expected_input = op_image_ref (op_prepared_get_input (prepared));
  mock->expected_mask = op_mask_ref ((OpMask *) op_prepared_get_input_mask (prepared));
  g_mutex_unlock (&mock->lock);

  if (size != NULL)
    op_prepared_get_input_size (prepared, size);
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

static void
assert_done (OpJob *job)
{
  const GError *error = op_job_get_error (job);

  if (error != NULL)
    g_test_message ("unexpected failure: %s", error->message);
  g_assert_null (error);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_DONE);
  g_assert_nonnull (op_job_get_variants (job));
}

static void
assert_failed (OpJob       *job,
               GQuark       domain,
               int          code,
               const char  *words)
{
  const GError *error = op_job_get_error (job);
  g_autofree char *message = NULL;
  g_autofree char *needle = NULL;

  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  g_assert_nonnull (error);
  g_test_message ("failed as expected: %s", error->message);
  g_assert_error (error, domain, code);

  message = g_utf8_casefold (error->message, -1);
  needle = g_utf8_casefold (words, -1);
  if (strstr (message, needle) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);

  /* Nothing of the key, not even the part OpenAI's 401 quotes. */
  g_assert_null (strstr (error->message, OP_MOCK_OPENAI_KEY));
  g_assert_null (strstr (error->message, "QZXW"));
}

/* The pixel of @image at (x, y), as one number. */
static guint32
pixel_at (const OpImage *image,
          int            x,
          int            y)
{
  const guint8 *p = op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * x;

  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* The composite keeps the source wherever the blend is 0, although the answer changed
 * pixels there; where the blend is full it shows the answer.  Returns the colour at the
 * middle of the hole. */
static guint32
assert_composite_keeps_source (OpRequest       *request,
                               const OpVariant *v,
                               const OpRect    *hole)
{
  OpImage *source = op_request_get_source (request);
  g_autoptr(OpImage) out = op_composite (source, op_request_get_margins (request), v->patch,
                                         &v->rect, v->blend);
  const guint8 *blend = op_mask_peek_data (v->blend);
  int width = op_image_get_width (source), height = op_image_get_height (source);
  guint drifted = 0;
  int cx = hole->x + hole->width / 2, cy = hole->y + hole->height / 2;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gboolean inside = x >= v->rect.x && x < v->rect.x + v->rect.width &&
                          y >= v->rect.y && y < v->rect.y + v->rect.height;
        guint8 b = inside ? blend[(gsize) (y - v->rect.y) * v->rect.width + x - v->rect.x] : 0;

        if (b != 0)
          continue;

        g_assert_cmphex (pixel_at (out, x, y), ==, pixel_at (source, x, y));
        if (inside && pixel_at (v->patch, x - v->rect.x, y - v->rect.y) != pixel_at (source, x, y))
          drifted++;
      }

  /* The answer did change kept pixels, so the check above means something. */
  g_assert_cmpuint (drifted, >, 0);

  g_assert_cmpuint (blend[(gsize) (cy - v->rect.y) * v->rect.width + cx - v->rect.x], ==, 255);
  g_assert_cmphex (pixel_at (out, cx, cy), !=, pixel_at (source, cx, cy));

  return pixel_at (out, cx, cy);
}

/* The fixture: a mock, a configured backend and a worker */

typedef struct
{
  OpMockOpenai      *mock;
  OpBackend *backend;
  OpWorker  *worker;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->mock = op_mock_openai_new ();
  f->backend = op_openai_backend_new ();
  op_backend_configure (f->backend, op_mock_openai_get_url (f->mock), OP_MOCK_OPENAI_KEY, NULL,
                        &error);
  g_assert_no_error (error);
  f->worker = op_worker_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->worker);
  g_clear_object (&f->backend);
  g_clear_pointer (&f->mock, op_mock_openai_free);
}

static OpJob *
run_job (Fixture   *f,
         OpRequest *request)
{
  OpJob *job = op_worker_submit (f->worker, f->backend, request);

  wait_for_job (job);
  return job;
}

/* Tests: the backend's description */

static void
test_identity (void)
{
  g_autoptr(OpBackend) backend = op_openai_backend_new ();
  GParamSpec *pspec;
  g_autofree char *url = NULL;
  g_autofree char *quality = NULL;
  g_autofree char *model = NULL;
  guint stall_timeout = 0;

  g_assert_cmpstr (op_backend_get_id (backend), ==, "openai");
  g_assert_cmpstr (op_backend_get_name (backend), ==, "OpenAI Images");
  g_assert_cmpint (op_backend_get_capabilities (backend), ==,
                   OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS | OP_BACKEND_CAP_DESCRIBE);
  g_assert_cmpint (op_backend_get_parameters (backend), ==,
                   OP_PARAM_PROMPT | OP_PARAM_VARIANTS | OP_PARAM_MODEL);

  g_assert_null (op_backend_explain_parameter (backend, OP_PARAM_PROMPT));
  g_assert_cmpstr (op_backend_explain_parameter (backend, OP_PARAM_SEED), ==,
                   "OpenAI’s image API has no seed; every call is new.");
  g_assert_nonnull (strstr (op_backend_explain_parameter (backend, OP_PARAM_NEGATIVE_PROMPT),
                            "no negative prompt"));

  g_object_get (backend, "url", &url, "quality", &quality, "model", &model, NULL);
  g_assert_cmpstr (url, ==, "https://api.openai.com");
  g_assert_cmpstr (quality, ==, "auto");
  g_assert_cmpstr (model, ==, "gpt-image-1");

  /* A quality gpt-image-1 does not know is a programming error, and changes nothing. */
  g_test_expect_message ("op-openai-backend", G_LOG_LEVEL_CRITICAL, "*qualities*");
  g_object_set (backend, "quality", "ultra", NULL);
  g_test_assert_expected_messages ();
  g_clear_pointer (&quality, g_free);
  g_object_get (backend, "quality", &quality, "stall-timeout", &stall_timeout, NULL);
  g_assert_cmpstr (quality, ==, "auto");
  /* gpt-image-1 edits can take minutes of silence. */
  g_assert_cmpuint (stall_timeout, >=, 150);

  /* Nothing can read the key back. */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (backend), "api-key");
  g_assert_nonnull (pspec);
  g_assert_false (pspec->flags & G_PARAM_READABLE);
}

static void
test_configure (void)
{
  g_autoptr(OpBackend) backend = op_openai_backend_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  g_assert_true (op_backend_configure (backend, "http://127.0.0.1:9", OP_MOCK_OPENAI_KEY, NULL,
                                       &error));
  g_assert_no_error (error);
  g_object_get (backend, "url", &url, NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:9");

  g_assert_false (op_backend_configure (backend, NULL, NULL, "user:pass", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
assert_rule_sizes (OpBackend    *backend,
                   const OpSize *expected,
                   guint         n_expected)
{
  OpSizeRule rule;

  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpuint (rule.n_sizes, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    {
      g_assert_cmpint (rule.sizes[i].width, ==, expected[i].width);
      g_assert_cmpint (rule.sizes[i].height, ==, expected[i].height);
    }
}

static void
test_size_rule_follows_model (void)
{
  static const OpSize gpt[] = { { 1024, 1024 }, { 1536, 1024 }, { 1024, 1536 } };
  static const OpSize dalle[] = { { 256, 256 }, { 512, 512 }, { 1024, 1024 } };
  g_autoptr(OpBackend) backend = op_openai_backend_new ();
  guint n_notify = 0;

  g_signal_connect (backend, "notify::model", G_CALLBACK (count_notify_cb), &n_notify);

  assert_rule_sizes (backend, gpt, G_N_ELEMENTS (gpt));

  g_object_set (backend, "model", "dall-e-2", NULL);
  g_object_set (backend, "model", "dall-e-2", NULL);
  g_assert_cmpuint (n_notify, ==, 1);
  assert_rule_sizes (backend, dalle, G_N_ELEMENTS (dalle));

  /* NULL is the default again; a name we do not know is sized like it until it fails. */
  g_object_set (backend, "model", NULL, NULL);
  assert_rule_sizes (backend, gpt, G_N_ELEMENTS (gpt));
  g_object_set (backend, "model", "gpt-image-9", NULL);
  assert_rule_sizes (backend, gpt, G_N_ELEMENTS (gpt));
}

static void
list_models_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GStrv *models = user_data;
  g_autoptr(GError) error = NULL;

  *models = op_backend_list_models_finish (OP_BACKEND (object), result, &error);
  g_assert_no_error (error);
}

static void
test_list_models (void)
{
  g_autoptr(OpBackend) backend = op_openai_backend_new ();
  g_auto(GStrv) models = NULL;

  op_backend_list_models_async (backend, NULL, list_models_cb, &models);
  while (models == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (g_strv_length (models), ==, 2);
  g_assert_cmpstr (models[0], ==, "gpt-image-1");
  g_assert_cmpstr (models[1], ==, "dall-e-2");
}

/* Which size a context gets: the list's nearest shape, the context grown to it. */
typedef struct
{
  const char *path;
  const char *model;
  int         width;
  int         height;
  OpRect      hole;
  int         expected_width;
  int         expected_height;
} SizeCase;

static const SizeCase size_cases[] = {
  { "/openai/size/gpt-image-1/wide", "gpt-image-1", 900, 600, { 300, 250, 300, 100 }, 1536, 1024 },
  { "/openai/size/gpt-image-1/tall", "gpt-image-1", 600, 900, { 250, 300, 100, 300 }, 1024, 1536 },
  { "/openai/size/gpt-image-1/square", "gpt-image-1", 800, 800, { 300, 300, 150, 150 },
    1024, 1024 },
  { "/openai/size/dall-e-2/wide", "dall-e-2", 900, 600, { 300, 250, 300, 100 }, 1024, 1024 },
  { "/openai/size/dall-e-2/small", "dall-e-2", 200, 150, { 80, 60, 30, 20 }, 1024, 1024 },
};

static void
test_size (gconstpointer data)
{
  const SizeCase *c = data;
  g_autoptr(OpBackend) backend = op_openai_backend_new ();
  g_autoptr(OpImage) picture = make_picture (c->width, c->height, FALSE);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpPrepared) prepared = NULL;
  OpSize size;
  OpRect context;

  g_object_set (backend, "model", c->model, NULL);
  request = make_request (picture, &c->hole, OP_CONTEXT_MASKED, c->model, "a red door", 1);
  prepared = prepare (backend, request);

  op_prepared_get_input_size (prepared, &size);
  g_assert_cmpint (size.width, ==, c->expected_width);
  g_assert_cmpint (size.height, ==, c->expected_height);

  /* Grown to the size's shape, not stretched into it, unless the picture ends first. */
  op_prepared_get_context (prepared, &context);
  if (context.width < c->width && context.height < c->height)
    g_assert_cmpfloat_with_epsilon ((double) context.width / context.height,
                                    (double) size.width / size.height, 0.01);
  else
    g_assert_true (context.width == c->width || context.height == c->height);
}

/* Tests: generating */

static void
test_inpaint_gpt_image_1 (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 1);
  g_autoptr(OpJob) job = NULL;
  OpRect hole = { 300, 250, 300, 100 };
  GPtrArray *variants;
  OpSize size;

  g_object_set (f->backend, "quality", "high", NULL);
  mock_expect (f->mock, f->backend, request, &size);
  g_assert_cmpint (size.width, ==, 1536);
  g_assert_cmpint (size.height, ==, 1024);

  job = run_job (f, request);
  op_mock_openai_assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, 1);
  op_mock_openai_assert_field (f->mock, "model", "gpt-image-1");
  op_mock_openai_assert_field (f->mock, "prompt", "a red door");
  op_mock_openai_assert_field (f->mock, "size", "1536x1024");
  op_mock_openai_assert_field (f->mock, "n", "1");
  op_mock_openai_assert_field (f->mock, "quality", "high");
  op_mock_openai_assert_field (f->mock, "background", "opaque");
  op_mock_openai_assert_field (f->mock, "response_format", NULL);

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 1);
  g_assert_cmpint (((OpVariant *) variants->pdata[0])->seed, ==, SEED);
  assert_composite_keeps_source (request, variants->pdata[0], &hole);
}

/* dall-e-2 on a picture of pure noise, the worst case for its 4 MB limit: still one
 * square RGBA PNG under it, and links are not what it answers with. */
static void
test_inpaint_dall_e_2 (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(OpImage) picture = make_picture (1024, 1024, TRUE);
  OpRect hole = { 400, 400, 200, 160 };
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  GPtrArray *variants;
  OpSize size;

  g_object_set (f->backend, "model", "dall-e-2", NULL);
  request = make_request (picture, &hole, OP_CONTEXT_WHOLE, "dall-e-2", "a stone wall", 1);
  mock_expect (f->mock, f->backend, request, &size);
  g_assert_cmpint (size.width, ==, 1024);
  g_assert_cmpint (size.height, ==, 1024);

  job = run_job (f, request);
  op_mock_openai_assert_no_violation (f->mock);
  assert_done (job);

  op_mock_openai_assert_field (f->mock, "model", "dall-e-2");
  op_mock_openai_assert_field (f->mock, "size", "1024x1024");
  op_mock_openai_assert_field (f->mock, "response_format", "b64_json");
  op_mock_openai_assert_field (f->mock, "quality", NULL);
  op_mock_openai_assert_field (f->mock, "background", NULL);
  g_mutex_lock (&f->mock->lock);
  g_test_message ("dall-e-2 upload: picture %zu bytes, mask %zu bytes",
                  f->mock->image_bytes, f->mock->mask_bytes);
  g_assert_cmpint (f->mock->image_color_type, ==, 6);
  g_assert_cmpuint (f->mock->image_bytes, <, OP_MOCK_OPENAI_MAX_SMALL_UPLOAD);
  g_assert_cmpuint (f->mock->mask_bytes, <, 100000);
  g_mutex_unlock (&f->mock->lock);

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 1);
  assert_composite_keeps_source (request, variants->pdata[0], &hole);
}

static void
test_variants_in_one_call (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request (NULL, "a red door", 3);
  g_autoptr(OpJob) job = NULL;
  OpRect hole = { 300, 250, 300, 100 };
  GPtrArray *variants;
  guint32 colours[3];

  mock_expect (f->mock, f->backend, request, NULL);
  job = run_job (f, request);
  op_mock_openai_assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, 1);
  op_mock_openai_assert_field (f->mock, "n", "3");
  /* No model chosen: the default, named explicitly. */
  op_mock_openai_assert_field (f->mock, "model", "gpt-image-1");
  op_mock_openai_assert_field (f->mock, "quality", "auto");

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 3);
  for (guint k = 0; k < 3; k++)
    {
      OpVariant *v = variants->pdata[k];

      g_assert_cmpint (v->seed, ==, SEED + k);
      colours[k] = assert_composite_keeps_source (request, v, &hole);
    }
  g_assert_cmphex (colours[0], !=, colours[1]);
  g_assert_cmphex (colours[1], !=, colours[2]);
  g_assert_cmphex (colours[0], !=, colours[2]);
}

/* A base address ending in /v1, as OpenAI's SDKs are configured, reaches the same
 * endpoint. */
static void
test_url_with_v1 (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 1);
  g_autofree char *url = g_strconcat (op_mock_server_get_url (f->mock->server), "/v1/", NULL);
  g_autoptr(OpJob) job = NULL;

  g_object_set (f->backend, "url", url, NULL);
  mock_expect (f->mock, f->backend, request, NULL);
  job = run_job (f, request);
  op_mock_openai_assert_no_violation (f->mock);
  assert_done (job);
  g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, 1);
}

static void
test_rate_limit_then_success (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 2);
  g_autoptr(OpJob) job = NULL;

  mock_expect (f->mock, f->backend, request, NULL);
  op_mock_openai_set_failure (f->mock, OP_MOCK_OPENAI_FAIL_RATE_LIMIT_ONCE);
  job = run_job (f, request);
  op_mock_openai_assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, 2);
  g_assert_cmpuint (op_job_get_variants (job)->len, ==, 2);
}

/* Tests: refused before sending */

typedef struct
{
  const char *path;
  const char *model;       /* params->model */
  const char *prompt;
  gboolean    no_key;
  GQuark    (*domain) (void);
  int         code;
  const char *words;
} RefusalCase;

static char long_prompt[1002];

static const RefusalCase refusal_cases[] = {
  { "/openai/refused/empty-prompt", NULL, "", FALSE, g_io_error_quark,
    G_IO_ERROR_INVALID_ARGUMENT,
    "OpenAI needs a prompt: describe what should fill the masked area." },
  { "/openai/refused/blank-prompt", NULL, " \t\n ", FALSE, g_io_error_quark,
    G_IO_ERROR_INVALID_ARGUMENT, "OpenAI needs a prompt" },
  { "/openai/refused/prompt-too-long", "dall-e-2", long_prompt, FALSE, g_io_error_quark,
    G_IO_ERROR_INVALID_ARGUMENT, "at most 1000 characters" },
  { "/openai/refused/unknown-model", "dall-e-3", "a red door", FALSE, g_io_error_quark,
    G_IO_ERROR_INVALID_ARGUMENT, "“dall-e-3”" },
  /* (A request prepared for one model's sizes and sent as another cannot happen: the
   * worker gives the backend the request's model before it asks for the size rule.) */
  { "/openai/refused/no-key", NULL, "a red door", TRUE, op_http_error_quark,
    OP_HTTP_ERROR_AUTH, "needs an API key" },
};

static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  const RefusalCase *c = data;
  g_autoptr(OpRequest) request = make_wide_request (c->model, c->prompt, 1);
  g_autoptr(OpJob) job = NULL;

  if (c->no_key)
    g_object_set (f->backend, "api-key", NULL, NULL);

  job = run_job (f, request);
  assert_failed (job, c->domain (), c->code, c->words);
  g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, 0);
}

/* Tests: the server fails */

typedef struct
{
  const char          *path;
  OpMockOpenaiFailure  failure;
  OpHttpError          code;
  const char          *words;
  guint                n_requests;    /* 0: not checked */
  guint                stall_timeout; /* 0: the default */
} FailureCase;

static const FailureCase failure_cases[] = {
  { "/openai/failure/auth", OP_MOCK_OPENAI_FAIL_AUTH, OP_HTTP_ERROR_AUTH,
    "API key was rejected", 1, 0 },
  { "/openai/failure/quota", OP_MOCK_OPENAI_FAIL_QUOTA, OP_HTTP_ERROR_CREDITS,
    "out of credits", 0, 0 },
  { "/openai/failure/moderation", OP_MOCK_OPENAI_FAIL_MODERATION, OP_HTTP_ERROR_FILTERED,
    "rejected by the safety system", 1, 0 },
  { "/openai/failure/content-policy", OP_MOCK_OPENAI_FAIL_CONTENT_POLICY, OP_HTTP_ERROR_FILTERED,
    "filtered", 1, 0 },
  { "/openai/failure/invalid-size", OP_MOCK_OPENAI_FAIL_INVALID_SIZE, OP_HTTP_ERROR_INVALID,
    "Invalid value: '1536x1024'. Supported values are", 1, 0 },
  { "/openai/failure/image-too-large", OP_MOCK_OPENAI_FAIL_IMAGE_TOO_LARGE,
    OP_HTTP_ERROR_TOO_LARGE, "less than 4 MB", 1, 0 },
  { "/openai/failure/server-error", OP_MOCK_OPENAI_FAIL_SERVER, OP_HTTP_ERROR_SERVER,
    "HTTP 500", 1, 0 },
  { "/openai/failure/html-502", OP_MOCK_OPENAI_FAIL_HTML_502, OP_HTTP_ERROR_BUSY,
    "502 Bad Gateway", 4, 0 },
  { "/openai/failure/truncated", OP_MOCK_OPENAI_FAIL_TRUNCATED, OP_HTTP_ERROR_BAD_ANSWER,
    "cut off", 1, 0 },
  { "/openai/failure/bad-base64", OP_MOCK_OPENAI_FAIL_BAD_BASE64, OP_HTTP_ERROR_BAD_ANSWER,
    "base64", 1, 0 },
  { "/openai/failure/not-a-picture", OP_MOCK_OPENAI_FAIL_NOT_A_PICTURE, OP_HTTP_ERROR_BAD_ANSWER,
    "not an image", 1, 0 },
  { "/openai/failure/no-pictures", OP_MOCK_OPENAI_FAIL_NO_PICTURES, OP_HTTP_ERROR_BAD_ANSWER,
    "no pictures", 1, 0 },
  { "/openai/failure/wrong-size", OP_MOCK_OPENAI_FAIL_WRONG_SIZE, OP_HTTP_ERROR_BAD_ANSWER,
    "768 × 512 picture where 1536 × 1024 was asked", 1, 0 },
  { "/openai/failure/connection-reset", OP_MOCK_OPENAI_FAIL_RESET, OP_HTTP_ERROR_UNREACHABLE,
    "reset", 1, 0 },
  { "/openai/failure/stall", OP_MOCK_OPENAI_FAIL_STALL, OP_HTTP_ERROR_TIMEOUT,
    "stopped answering", 1, 1 },
};

static void
test_failure (Fixture       *f,
              gconstpointer  data)
{
  const FailureCase *c = data;
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 1);
  g_autoptr(OpJob) job = NULL;

  if (c->stall_timeout > 0)
    g_object_set (f->backend, "stall-timeout", c->stall_timeout, NULL);

  mock_expect (f->mock, f->backend, request, NULL);
  op_mock_openai_set_failure (f->mock, c->failure);
  job = run_job (f, request);

  op_mock_openai_assert_no_violation (f->mock);
  assert_failed (job, OP_HTTP_ERROR, c->code, c->words);
  g_test_message ("the mock saw %u requests", op_mock_openai_get_n_requests (f->mock));
  if (c->n_requests > 0)
    g_assert_cmpuint (op_mock_openai_get_n_requests (f->mock), ==, c->n_requests);
}

/* Cancelling while OpenAI thinks: the job ends within a second, with nothing. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 2);
  g_autoptr(OpJob) job = NULL;
  gint64 deadline = g_get_monotonic_time () + JOB_TIMEOUT_S * G_USEC_PER_SEC;
  gint64 cancelled_at;

  mock_expect (f->mock, f->backend, request, NULL);
  op_mock_openai_set_failure (f->mock, OP_MOCK_OPENAI_FAIL_STALL);
  job = op_worker_submit (f->worker, f->backend, request);

  while (op_mock_openai_get_n_requests (f->mock) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  /* Well into the silence. */
  g_usleep (200000);
  g_assert_false (job_is_finished (job));

  cancelled_at = g_get_monotonic_time ();
  op_job_cancel (job);
  wait_for_job (job);

  g_test_message ("cancelled after %.3f s",
                  (g_get_monotonic_time () - cancelled_at) / (double) G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, CANCEL_LIMIT_US);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_CANCELLED);
  g_assert_null (op_job_get_variants (job));
  op_mock_openai_assert_no_violation (f->mock);
}

/* Tests: the command line, end to end against the same mock */

static const OpRect cli_hole = { 280, 170, 90, 70 };

/* A mock that takes the planted key, and a command line that has it in its
 * environment. */
static void
cli_set_up (OpMockOpenai **mock,
            OpTestCli    **cli)
{
  *mock = op_mock_openai_new ();
  op_mock_openai_set_api_key (*mock, OP_TEST_PLANTED_KEY);
  *cli = op_test_cli_new (&cli_hole);
  if (*cli != NULL)
    op_test_cli_setenv (*cli, "OPENAI_API_KEY", OP_TEST_PLANTED_KEY);
}

static OpTestCliRun *
cli_inpaint (OpTestCli  *cli,
             const char *url,
             const char *output)
{
  return op_test_cli_run (cli, "inpaint", "--backend", "openai", "--url", url,
                          "--image", cli->picture, "--mask", cli->mask, "--output", output,
                          "--prompt", "a ginger cat", "--variants", "2", "--mask-grow", "0",
                          "--mask-blur", "0", NULL);
}

static void
test_cli_inpaint (void)
{
  g_autoptr(OpMockOpenai) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "inpainted-{n}.png");
  run = cli_inpaint (cli, op_mock_openai_get_url (mock), output);
  g_assert_cmpint (run->status, ==, 0);
  op_mock_openai_assert_no_violation (mock);

  /* both variants from one call; the mock drifted the kept pixels, which the composite
   * undoes (op_test_cli_assert_inpainted checks every one) */
  g_assert_cmpuint (op_mock_openai_get_n_requests (mock), ==, 1);
  op_mock_openai_assert_field (mock, "n", "2");
  first = op_test_cli_path (cli, "inpainted-1.png");
  second = op_test_cli_path (cli, "inpainted-2.png");
  op_test_cli_assert_inpainted (cli, first);
  op_test_cli_assert_inpainted (cli, second);
  op_test_cli_assert_differ (cli, first, second);
}

static void
test_cli_outpaint (void)
{
  g_autoptr(OpMockOpenai) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  const OpMargins margins = { .left = 50, .right = 50, .top = 0, .bottom = 0 };

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "outpainted.png");
  run = op_test_cli_run (cli, "outpaint", "--backend", "openai",
                         "--url", op_mock_openai_get_url (mock), "--image", cli->picture,
                         "--left", "50", "--right", "50", "--output", output,
                         "--prompt", "a ginger cat on a sofa", NULL);
  g_assert_cmpint (run->status, ==, 0);
  op_mock_openai_assert_no_violation (mock);
  op_test_cli_assert_outpainted (cli, output, &margins);
}

typedef struct
{
  const char          *name;
  OpMockOpenaiFailure  failure;
  const char          *words[3];
} CliFailCase;

static const CliFailCase cli_fail_cases[] = {
  /* OpenAI's 401 quotes the start and the end of the key it was given */
  { "unauthorized", OP_MOCK_OPENAI_FAIL_AUTH, { "API key", "rejected" } },
  { "quota", OP_MOCK_OPENAI_FAIL_QUOTA, { "credits" } },
  { "html-502", OP_MOCK_OPENAI_FAIL_HTML_502, { "busy", "502 Bad Gateway" } },
  { "moderation", OP_MOCK_OPENAI_FAIL_MODERATION, { "safety system" } },
};

static void
test_cli_fail (gconstpointer data)
{
  const CliFailCase *fail = data;
  g_autoptr(OpMockOpenai) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  op_mock_openai_set_failure (mock, fail->failure);
  output = op_test_cli_path (cli, "never.png");
  run = cli_inpaint (cli, op_mock_openai_get_url (mock), output);

  op_test_cli_assert_failed (run, fail->words[0], fail->words[1], fail->words[2], NULL);
  op_mock_openai_assert_no_violation (mock);
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

/* Nothing listens: the message says where it tried. */
static void
test_cli_unreachable (void)
{
  g_autoptr(OpMockOpenai) mock = NULL;
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


static void
describe_ready_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static char *
describe (OpBackend  *backend,
          OpImage    *image,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  op_backend_describe_async (backend, image, NULL, describe_ready_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return op_backend_describe_finish (backend, result, error);
}

/* A vision chat model describes the picture, shown as a data URL. */
static void
test_describe (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(OpImage) picture = make_picture (320, 200, TRUE);
  g_autoptr(OpBackend) keyless = op_openai_backend_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *none = NULL;
  g_autofree char *unknown = NULL;

  caption = describe (f->backend, picture, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (caption, ==, OP_MOCK_OPENAI_CAPTION);
  g_assert_cmpuint (f->mock->n_chats, ==, 1);
  g_assert_cmpstr (f->mock->chat_model, ==, "gpt-4o-mini");
  g_assert_true (op_image_equal (f->mock->chat_image, picture));

  /* no key: said before anything is sent */
  none = describe (keyless, picture, &error);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_assert_null (none);
  g_clear_error (&error);

  /* a model that cannot see, or does not exist: OpenAI's words */
  g_object_set (f->backend, "describe-model", "gpt-3.5-turbo-instruct", NULL);
  unknown = describe (f->backend, picture, &error);
  g_assert_null (unknown);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "gpt-3.5-turbo-instruct"));
  g_assert_null (strstr (error->message, OP_MOCK_OPENAI_KEY));
  g_assert_cmpuint (f->mock->n_chats, ==, 1);
}


/* overpaint-cli describe --backend openai: the key from the environment, never printed. */
static void
test_cli_describe (void)
{
  g_autoptr(OpMockOpenai) mock = NULL;
  g_autoptr(OpTestCli) cli = NULL;
  g_autoptr(OpTestCliRun) run = NULL;

  cli_set_up (&mock, &cli);
  if (cli == NULL)
    return;

  run = op_test_cli_run (cli, "describe", "--backend", "openai", "--url", op_mock_openai_get_url (mock),
                         "--image", cli->picture, "--mask", cli->mask, NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, OP_MOCK_OPENAI_CAPTION));
  g_assert_nonnull (strstr (run->out, "palette: "));
  g_assert_null (strstr (run->out, OP_TEST_PLANTED_KEY));
  g_assert_null (strstr (run->err, OP_TEST_PLANTED_KEY));
  g_assert_cmpuint (mock->n_chats, ==, 1);
}

static void
add_fixture_test (const char    *path,
                  gconstpointer  data,
                  void         (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  memset (long_prompt, 'a', sizeof long_prompt - 1);

  g_test_add_func ("/openai/backend/identity", test_identity);
  g_test_add_func ("/openai/backend/configure", test_configure);
  g_test_add_func ("/openai/backend/size-rule-follows-model", test_size_rule_follows_model);
  g_test_add_func ("/openai/backend/list-models", test_list_models);

  for (guint i = 0; i < G_N_ELEMENTS (size_cases); i++)
    g_test_add_data_func (size_cases[i].path, &size_cases[i], test_size);

  add_fixture_test ("/openai/inpaint/gpt-image-1", NULL, test_inpaint_gpt_image_1);
  add_fixture_test ("/openai/describe", NULL, test_describe);
  g_test_add_func ("/openai/cli/describe", test_cli_describe);
  add_fixture_test ("/openai/inpaint/dall-e-2", NULL, test_inpaint_dall_e_2);
  add_fixture_test ("/openai/inpaint/variants-in-one-call", NULL, test_variants_in_one_call);
  add_fixture_test ("/openai/inpaint/url-with-v1", NULL, test_url_with_v1);
  add_fixture_test ("/openai/inpaint/rate-limit-then-success", NULL,
                    test_rate_limit_then_success);

  for (guint i = 0; i < G_N_ELEMENTS (refusal_cases); i++)
    add_fixture_test (refusal_cases[i].path, &refusal_cases[i], test_refused);

  for (guint i = 0; i < G_N_ELEMENTS (failure_cases); i++)
    add_fixture_test (failure_cases[i].path, &failure_cases[i], test_failure);

  add_fixture_test ("/openai/cancel", NULL, test_cancel);

  g_test_add_func ("/openai/cli/inpaint", test_cli_inpaint);
  g_test_add_func ("/openai/cli/outpaint", test_cli_outpaint);
  for (guint i = 0; i < G_N_ELEMENTS (cli_fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/openai/cli/fail/%s", cli_fail_cases[i].name);

      g_test_add_data_func (path, &cli_fail_cases[i], test_cli_fail);
    }
  g_test_add_func ("/openai/cli/unreachable", test_cli_unreachable);

  return g_test_run ();
}
