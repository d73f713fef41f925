/* test-automatic1111.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-automatic1111"

#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "op-automatic1111-backend-private.h"
#include "op-describe.h"
#include "op-prompt-text.h"
#include "op-http.h"
#include "op-mock-a1111.h"
#include "op-test-cli.h"
#include "op-worker.h"

/* The web UI client against a mock of its API that holds the client to the contract
 * (shared/contracts/backends.md, sections 1 and 6) the way the real server would, and
 * stricter where the real server silently does the wrong thing (op-mock-a1111.c). */

#define JOB_TIMEOUT_S     60
#define HOLD_MS           1500
#define AUTH              "painter:s3cret-Pa55"

/* What we mean to send for an inpaint, and nothing more. */
static const char * const inpaint_keys[] = {
  "init_images", "mask", "inpainting_mask_invert", "mask_blur", "inpainting_fill",
  "inpaint_full_res", "prompt", "negative_prompt", "seed", "batch_size", "steps",
  "cfg_scale", "denoising_strength", "width", "height", NULL
};

static GThread *main_thread;

/* Samples and requests */

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

static OpParams *
make_params (int n_variants)
{
  OpParams *params = op_params_new ();

  g_free (params->backend);
  params->backend = g_strdup ("automatic1111");
  g_free (params->prompt);
  params->prompt = g_strdup ("a ginger cat asleep on a wool blanket");
  g_free (params->negative_prompt);
  params->negative_prompt = g_strdup ("blurry, lowres");
  params->seed = 1234;
  params->n_variants = n_variants;
  params->steps = 20;
  params->strength = 0.8;
  /* the answers' tints are how the tests tell variants apart: keep them */
  params->color_match = FALSE;

  return params;
}

/* A painted rectangle on the cat's flank of chelsea.png (451 × 300). */
static OpRequest *
make_inpaint_request (const OpParams *params)
{
  g_autoptr(OpImage) image = load_sample ("chelsea.png");
  g_autoptr(OpMask) mask = NULL;
  g_autoptr(GError) error = NULL;
  OpRect hole = { 280, 170, 90, 70 };
  OpRequest *request;

  mask = op_mask_new (op_image_get_width (image), op_image_get_height (image));
  op_mask_fill_rect (mask, NULL, &hole, OP_MASK_MODE_ADD, NULL);

  request = op_request_new (image, mask, NULL, params, &error);
  g_assert_no_error (error);

  return request;
}

static OpRequest *
make_outpaint_request (const OpParams  *params,
                       const OpMargins *margins)
{
  g_autoptr(OpImage) image = load_sample ("chelsea.png");
  g_autoptr(GError) error = NULL;
  OpRequest *request;

  request = op_request_new (image, NULL, margins, params, &error);
  g_assert_no_error (error);

  return request;
}

/* What the backend receives, prepared again the same way: it is deterministic. */
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

/* Pictures */

static const guint8 *
pixel_at (const OpImage *image,
          int            x,
          int            y)
{
  return op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;
}

static gboolean
image_is_opaque (OpImage *image)
{
  for (int y = 0; y < op_image_get_height (image); y++)
    for (int x = 0; x < op_image_get_width (image); x++)
      if (pixel_at (image, x, y)[3] != 255)
        return FALSE;

  return TRUE;
}

static char *
encode_picture (OpImage *image)
{
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;

  png = op_image_encode_png (image, &error);
  g_assert_no_error (error);

  return g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

/* Running jobs */

typedef struct
{
  guint    n_reports;
  guint    n_steps;          /* "Step k of n" with 0 < fraction < 1 */
  OpImage *preview;          /* the last one seen */
} ProgressLog;

static void
progress_log_clear (ProgressLog *log)
{
  g_clear_pointer (&log->preview, op_image_unref);
}

static void
on_job_progress_cb (OpWorker    *worker,
                    OpJob       *job,
                    ProgressLog *log)
{
  const char *text = op_job_get_text (job);
  double fraction = op_job_get_fraction (job);
  OpImage *preview = op_job_get_preview (job);

  g_assert_true (g_thread_self () == main_thread);

  log->n_reports++;
  if (text != NULL && g_str_has_prefix (text, "Step ") && fraction > 0 && fraction < 1)
    log->n_steps++;
  if (preview != NULL && preview != log->preview)
    {
      g_clear_pointer (&log->preview, op_image_unref);
      log->preview = op_image_ref (preview);
    }
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

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *fired = user_data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin_loop (guint ms)
{
  gboolean fired = FALSE;

  g_timeout_add (ms, timeout_cb, &fired);
  while (!fired)
    g_main_context_iteration (NULL, TRUE);
}

static OpJob *
submit (OpWorker    *worker,
        OpBackend   *backend,
        OpRequest   *request,
        ProgressLog *log)
{
  if (log != NULL)
    g_signal_connect (worker, "job-progress", G_CALLBACK (on_job_progress_cb), log);

  return op_worker_submit (worker, backend, request);
}

static OpJob *
run_job (OpBackend   *backend,
         OpRequest   *request,
         ProgressLog *log)
{
  g_autoptr(OpWorker) worker = op_worker_new ();
  OpJob *job = submit (worker, backend, request, log);

  wait_for_job (job);

  return job;
}

static void
assert_done (OpJob *job)
{
  const GError *error = op_job_get_error (job);

  if (error != NULL)
    g_test_message ("unexpected failure: %s", error->message);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_DONE);
  g_assert_nonnull (op_job_get_variants (job));
}

static OpBackend *
mock_backend (OpMockA1111 *mock,
              const char  *api_auth)
{
  g_autoptr(GError) error = NULL;
  OpBackend *backend = op_automatic1111_backend_new ();

  op_backend_configure (backend, op_mock_server_get_url (mock->server), NULL, api_auth, &error);
  g_assert_no_error (error);

  return backend;
}

/* Checks on what the server saw */

static JsonObject *
body_object (OpMockA1111 *mock)
{
  g_assert_nonnull (mock->body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (mock->body));

  return json_node_get_object (mock->body);
}

/* The body holds exactly these keys: nothing we do not mean, no placeholders. */
static void
assert_keys (OpMockA1111        *mock,
             const char * const *expected,
             const char * const *extra)
{
  JsonObject *body = body_object (mock);
  g_autoptr(GList) members = json_object_get_members (body);
  guint n_expected = g_strv_length ((GStrv) expected);

  if (extra != NULL)
    n_expected += g_strv_length ((GStrv) extra);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (expected, l->data) &&
        (extra == NULL || !g_strv_contains (extra, l->data)))
      g_error ("the client sent “%s”, which it does not mean to", (const char *) l->data);

  g_assert_cmpuint (g_list_length (members), ==, n_expected);
  g_assert_cmpuint (mock->unknown_keys->len, ==, 0);
}

static gint64
body_int (OpMockA1111 *mock,
          const char  *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_INT64);

  return json_node_get_int (node);
}

static const char *
body_string (OpMockA1111 *mock,
             const char  *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);

  return json_node_get_string (node);
}

static gboolean
body_bool (OpMockA1111 *mock,
           const char  *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_BOOLEAN);

  return json_node_get_boolean (node);
}

static double
body_double (OpMockA1111 *mock,
             const char  *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));

  return json_node_get_double (node);
}

/* The mask as the web UI reads it is exactly the area the client regenerates. */
static void
assert_mask_matches (OpMockA1111 *mock,
                     OpPrepared  *prepared)
{
  const OpMask *expected = op_prepared_get_input_mask (prepared);

  g_assert_nonnull (mock->mask);
  g_assert_true (image_is_opaque (mock->mask_image));
  g_assert_true (op_mask_equal (mock->mask, expected));

  /* and it is plain white on black, not merely above the threshold */
  for (int y = 0; y < op_mask_get_height (expected); y++)
    for (int x = 0; x < op_mask_get_width (expected); x++)
      {
        const guint8 *p = pixel_at (mock->mask_image, x, y);
        guint8 m = op_mask_peek_data (expected)[(gsize) y * op_mask_get_width (expected) + x];

        g_assert_true (p[0] == m && p[1] == m && p[2] == m);
      }
}

/* Whether input pixel (x, y) shows the canvas's new area rather than the picture. */
static gboolean
is_new_area (OpPrepared *prepared,
             int         x,
             int         y)
{
  OpRequest *request = op_prepared_get_request (prepared);
  const OpMargins *m = op_request_get_margins (request);
  OpImage *source = op_request_get_source (request);
  OpRect context;
  OpSize size;
  double cx, cy;

  op_prepared_get_context (prepared, &context);
  op_prepared_get_input_size (prepared, &size);
  cx = context.x + (x + 0.5) * context.width / size.width;
  cy = context.y + (y + 0.5) * context.height / size.height;

  return cx < m->left || cx >= m->left + op_image_get_width (source) ||
         cy < m->top || cy >= m->top + op_image_get_height (source);
}

/* The mean spread of brightness along each row of the new area: edge replication makes
 * every row of a side margin one flat colour. */
static double
new_area_row_spread (OpImage    *image,
                     OpPrepared *prepared)
{
  double total = 0;
  int n_rows = 0;

  for (int y = 0; y < op_image_get_height (image); y++)
    {
      double sum = 0, sum2 = 0;
      int n = 0;

      for (int x = 0; x < op_image_get_width (image); x++)
        {
          const guint8 *p = pixel_at (image, x, y);
          double v = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];

          if (!is_new_area (prepared, x, y))
            continue;
          sum += v;
          sum2 += v * v;
          n++;
        }

      if (n < 2)
        continue;
      total += sqrt (MAX (sum2 / n - (sum / n) * (sum / n), 0));
      n_rows++;
    }

  g_assert_cmpint (n_rows, >, 0);
  return total / n_rows;
}

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static void
assert_contains (const char *text,
                 const char *word)
{
  g_autofree char *haystack = g_utf8_casefold (text, -1);
  g_autofree char *needle = g_utf8_casefold (word, -1);

  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not say “%s”", text, word);
}

/* Tests */

static void
test_metadata (void)
{
  g_autoptr(OpBackend) backend = op_automatic1111_backend_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(OpImage) image = op_image_new (8, 8);
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *caption = NULL;
  OpParamFlags all = OP_PARAM_PROMPT | OP_PARAM_NEGATIVE_PROMPT | OP_PARAM_SEED |
                     OP_PARAM_VARIANTS | OP_PARAM_STEPS | OP_PARAM_CFG | OP_PARAM_STRENGTH |
                     OP_PARAM_SAMPLER | OP_PARAM_MODEL;
  OpSizeRule rule;
  OpRect bounds = { 0, 0, 5000, 3000 }, context = { 13, 7, 301, 197 };
  OpSize size;

  g_assert_cmpstr (op_backend_get_id (backend), ==, "automatic1111");
  assert_contains (op_backend_get_name (backend), "AUTOMATIC1111");
  assert_contains (op_backend_get_name (backend), "Forge");
  g_assert_cmpint (op_backend_get_capabilities (backend), ==,
                   OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS | OP_BACKEND_CAP_SAMPLERS |
                   OP_BACKEND_CAP_PROGRESS | OP_BACKEND_CAP_PREVIEW | OP_BACKEND_CAP_DESCRIBE);
  g_assert_cmpint (op_backend_get_parameters (backend), ==, all);
  for (OpParamFlags p = OP_PARAM_PROMPT; p <= OP_PARAM_MODEL; p <<= 1)
    g_assert_null (op_backend_explain_parameter (backend, p));

  op_backend_get_size_rule (backend, &rule);
  g_assert_cmpint (rule.multiple, ==, 8);
  g_assert_cmpint (rule.max_side, ==, 2048);
  g_assert_cmpint (rule.max_pixels, ==, 2048 * 2048);
  g_assert_cmpint (rule.min_pixels, ==, 512 * 512);

  /* an odd little area is scaled up to the model's size, in multiples of 8 */
  g_assert_true (op_size_rule_fit (&rule, &bounds, &context, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpint (size.width % 8, ==, 0);
  g_assert_cmpint (size.height % 8, ==, 0);
  g_assert_cmpint ((gint64) size.width * size.height, >=, 512 * 512);

  g_object_get (backend, "url", &url, "api-auth", &auth, NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:7860");
  g_assert_null (auth);
  g_clear_pointer (&url, g_free);

  /* paths are appended to the address, so a trailing slash goes */
  g_object_set (backend, "url", " http://gpu-box:7861/ ", NULL);
  g_object_get (backend, "url", &url, NULL);
  g_assert_cmpstr (url, ==, "http://gpu-box:7861");
  g_clear_pointer (&url, g_free);
  g_object_set (backend, "url", NULL, NULL);
  g_object_get (backend, "url", &url, NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:7860");

  /* it takes a Basic login, not a key */
  g_assert_true (op_backend_configure (backend, NULL, NULL, "me:pw", &error));
  g_assert_no_error (error);
  g_assert_false (op_backend_configure (backend, NULL, "sk-123", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* describing goes to the server's interrogator: nobody listens here */
  g_object_set (backend, "url", "http://127.0.0.1:9", NULL);
  op_backend_describe_async (backend, image, NULL, on_ready_cb, &result);
  caption = op_backend_describe_finish (backend, wait_for_result (&result), &error);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE);
  g_assert_null (caption);
}

static void
test_inpaint (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (3);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { .hold_ms = HOLD_MS };
  ProgressLog log = { 0 };
  GPtrArray *variants;
  OpSize size;

  op_prepared_get_input_size (prepared, &size);
  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, &log);
  assert_done (job);

  /* n variants, with the seeds the server reported */
  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 3);
  for (guint i = 0; i < variants->len; i++)
    {
      OpVariant *variant = g_ptr_array_index (variants, i);

      g_assert_cmpint (variant->seed, ==, 1234 + i);
    }

  /* each picture became its own variant, in order: they carry different tints */
  {
    OpVariant *a = g_ptr_array_index (variants, 0), *b = g_ptr_array_index (variants, 1);
    int x = 325 - a->rect.x, y = 205 - a->rect.y;
    g_assert_true (memcmp (pixel_at (a->patch, x, y), pixel_at (b->patch, x, y), 3) != 0);
  }

  g_mutex_lock (&mock->lock);
  g_assert_cmpuint (mock->n_img2img, ==, 1);
  assert_keys (mock, inpaint_keys, NULL);
  g_assert_cmpint (body_int (mock, "batch_size"), ==, 3);
  g_assert_cmpint (body_int (mock, "seed"), ==, 1234);
  g_assert_cmpint (body_int (mock, "steps"), ==, 20);
  g_assert_cmpfloat_with_epsilon (body_double (mock, "cfg_scale"), 7.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (body_double (mock, "denoising_strength"), 0.8, 1e-9);
  g_assert_cmpint (body_int (mock, "width"), ==, size.width);
  g_assert_cmpint (body_int (mock, "height"), ==, size.height);
  g_assert_cmpint (body_int (mock, "inpainting_fill"), ==, 1);
  g_assert_cmpint (body_int (mock, "inpainting_mask_invert"), ==, 0);
  g_assert_cmpint (body_int (mock, "mask_blur"), ==, 4);
  g_assert_false (body_bool (mock, "inpaint_full_res"));
  g_assert_cmpstr (body_string (mock, "prompt"), ==, params->prompt);
  g_assert_cmpstr (body_string (mock, "negative_prompt"), ==,
                   params->negative_prompt);

  /* the picture is the prepared input untouched, and the mask its regenerate area */
  g_assert_true (op_image_equal (mock->init_image, op_prepared_get_input (prepared)));
  assert_mask_matches (mock, prepared);

  /* progress was asked for on the side while the generation ran */
  g_assert_cmpuint (mock->n_progress_running, >=, 1);
  g_mutex_unlock (&mock->lock);

  g_assert_cmpuint (log.n_steps, >=, 1);
  g_assert_nonnull (log.preview);
  g_assert_cmpint (op_image_get_width (log.preview), ==, size.width);
  g_assert_cmpint (op_image_get_height (log.preview), ==, size.height);
  progress_log_clear (&log);
}

static void
test_outpaint (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (1);
  OpMargins margins = { .left = 0, .right = 128, .top = 0, .bottom = 0 };
  g_autoptr(OpRequest) request = make_outpaint_request (params, &margins);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { 0 };
  OpImage *input = op_prepared_get_input (prepared);
  OpRect context;
  OpSize size;
  guint n_new = 0, n_overlap = 0;
  double sent, replicated;

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);

  op_prepared_get_context (prepared, &context);
  op_prepared_get_input_size (prepared, &size);

  g_mutex_lock (&mock->lock);
  assert_keys (mock, inpaint_keys, NULL);
  assert_mask_matches (mock, prepared);

  for (int y = 0; y < size.height; y++)
    for (int x = 0; x < size.width; x++)
      {
        guint8 m = op_mask_peek_data (mock->mask)[(gsize) y * size.width + x];
        double cx = context.x + (x + 0.5) * context.width / size.width;

        if (is_new_area (prepared, x, y))
          {
            /* the whole new area is regenerated … */
            g_assert_cmpint (m, ==, 255);
            n_new++;
            continue;
          }

        /* … and so is the seam with the picture (chelsea.png is 451 wide; the strip's
         * inner half, clear of the scaling at its edge) … */
        if (cx >= 451 - OP_OUTPAINT_OVERLAP / 2 && cx < 451)
          {
            g_assert_cmpint (m, ==, 255);
            n_overlap++;
          }

        /* … while the picture itself is sent as prepared, bit for bit */
        g_assert_cmpmem (pixel_at (mock->init_image, x, y), 4, pixel_at (input, x, y), 4);
      }
  g_assert_cmpuint (n_new, >, 0);
  g_assert_cmpuint (n_overlap, >, 0);

  /* the new area was filled from the picture, not left as smeared edge pixels */
  sent = new_area_row_spread (mock->init_image, prepared);
  replicated = new_area_row_spread (input, prepared);
  g_test_message ("brightness spread along the margin's rows: %.2f sent, %.2f replicated",
                  sent, replicated);
  g_assert_cmpfloat (replicated, <, 1.0);
  g_assert_cmpfloat (sent, >, 2.0);
  g_mutex_unlock (&mock->lock);
}

/* A chosen checkpoint and sampler go out, and only then. */
static void
test_model_and_sampler (void)
{
  static const char * const extra[] = {
    "sampler_name", "scheduler", "override_settings", "override_settings_restore_afterwards",
    NULL
  };
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { 0 };
  JsonObject *settings;
  g_autoptr(GList) members = NULL;

  params->model = g_strdup (OP_MOCK_A1111_SDXL_TITLE);
  params->sampler = g_strdup ("Euler a");
  params->scheduler = g_strdup ("Karras");
  request = make_inpaint_request (params);

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);
  g_assert_cmpuint (op_job_get_variants (job)->len, ==, 2);

  g_mutex_lock (&mock->lock);
  assert_keys (mock, inpaint_keys, extra);
  g_assert_cmpstr (body_string (mock, "sampler_name"), ==, "Euler a");
  g_assert_cmpstr (body_string (mock, "scheduler"), ==, "Karras");
  g_assert_true (body_bool (mock, "override_settings_restore_afterwards"));
  settings = json_object_get_object_member (body_object (mock), "override_settings");
  members = json_object_get_members (settings);
  g_assert_cmpuint (g_list_length (members), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (settings, "sd_model_checkpoint"), ==,
                   OP_MOCK_A1111_SDXL_TITLE);
  g_mutex_unlock (&mock->lock);
}

/* The seeds come from the answer's info, not from counting. */
static void
test_seeds_from_info (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { .custom_seeds = TRUE };
  GPtrArray *variants;

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);

  variants = op_job_get_variants (job);
  g_assert_cmpuint (variants->len, ==, 2);
  g_assert_cmpint (((OpVariant *) g_ptr_array_index (variants, 0))->seed, ==, 1000);
  g_assert_cmpint (((OpVariant *) g_ptr_array_index (variants, 1))->seed, ==, 1007);
}

/* An upscaled answer of the same shape is taken and scaled back. */
static void
test_upscaled_answer (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { .answer_scale = 2 };
  OpVariant *variant;
  OpRect context;

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);

  op_prepared_get_context (prepared, &context);
  variant = g_ptr_array_index (op_job_get_variants (job), 0);
  g_assert_cmpint (op_image_get_width (variant->patch), ==, context.width);
  g_assert_cmpint (op_image_get_height (variant->patch), ==, context.height);
}

typedef void  (*ListAsync)  (OpAutomatic1111Backend *self,
                             GCancellable           *cancellable,
                             GAsyncReadyCallback     callback,
                             gpointer                user_data);
typedef GStrv (*ListFinish) (OpAutomatic1111Backend *self,
                             GAsyncResult           *result,
                             GError                **error);

static GStrv
list (OpBackend   *backend,
      ListAsync    list_async,
      ListFinish   list_finish,
      GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (list_async == NULL)
    {
      op_backend_list_models_async (backend, NULL, on_ready_cb, &result);
      return op_backend_list_models_finish (backend, wait_for_result (&result), error);
    }

  list_async (OP_AUTOMATIC1111_BACKEND (backend), NULL, on_ready_cb, &result);
  return list_finish (OP_AUTOMATIC1111_BACKEND (backend), wait_for_result (&result), error);
}

static void
test_lists (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  g_auto(GStrv) samplers = NULL;
  g_auto(GStrv) schedulers = NULL;
  OpMockA1111Config config = { .old_version = TRUE };

  models = list (backend, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (models, op_mock_a1111_models);

  samplers = list (backend, op_automatic1111_backend_list_samplers_async,
                   op_automatic1111_backend_list_samplers_finish, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (samplers, op_mock_a1111_samplers);

  schedulers = list (backend, op_automatic1111_backend_list_schedulers_async,
                     op_automatic1111_backend_list_schedulers_finish, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (schedulers, op_mock_a1111_schedulers);
  g_clear_pointer (&schedulers, g_strfreev);

  /* before 1.9 there is no choice of scheduler */
  op_mock_a1111_configure (mock, &config);
  schedulers = list (backend, op_automatic1111_backend_list_schedulers_async,
                     op_automatic1111_backend_list_schedulers_finish, &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (schedulers);
}

static void
test_auth_accepted (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, AUTH);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  OpMockA1111Config config = { .auth = AUTH, .hold_ms = 800 };

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);

  models = list (backend, NULL, NULL, &error);
  g_assert_no_error (error);

  /* sent up front: a 20 MB body is not sent twice to learn that a login is wanted */
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_unauthorized), ==, 0);
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_progress_running), >=, 1);
}

typedef struct
{
  const char *api_auth;
  const char *words[2];
} AuthCase;

static const AuthCase auth_missing = { NULL, { "user name and password", "--api-auth" } };
static const AuthCase auth_wrong = { "painter:wrong-guess", { "password", "rejected" } };

static void
test_auth_rejected (gconstpointer data)
{
  const AuthCase *auth = data;
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, auth->api_auth);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  OpMockA1111Config config = { .auth = AUTH };
  const GError *job_error;

  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);

  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  job_error = op_job_get_error (job);
  g_assert_error ((GError *) job_error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_test_message ("%s", job_error->message);
  for (guint i = 0; i < G_N_ELEMENTS (auth->words); i++)
    assert_contains (job_error->message, auth->words[i]);
  g_assert_null (strstr (job_error->message, "s3cret"));
  g_assert_null (strstr (job_error->message, "guess"));

  models = list (backend, NULL, NULL, &error);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_unauthorized), >=, 2);
}

typedef struct
{
  const char         *name;
  OpMockA1111Failure  failure;
  OpHttpError         code;
  const char         *words[3];
} FailCase;

static const FailCase fail_cases[] = {
  { "validation", OP_MOCK_A1111_FAIL_VALIDATION, OP_HTTP_ERROR_INVALID,
    { "422", "steps", "not a valid integer" } },
  { "validation-v2", OP_MOCK_A1111_FAIL_VALIDATION_V2, OP_HTTP_ERROR_INVALID,
    { "steps: Input should be a valid integer", "cfg_scale: Input should be a valid number" } },
  { "exception", OP_MOCK_A1111_FAIL_EXCEPTION, OP_HTTP_ERROR_SERVER,
    { "500", "CUDA out of memory" } },
  { "proxy-html", OP_MOCK_A1111_FAIL_PROXY_HTML, OP_HTTP_ERROR_BUSY,
    { "busy", "502 Bad Gateway" } },
  { "truncated", OP_MOCK_A1111_FAIL_TRUNCATED, OP_HTTP_ERROR_BAD_ANSWER, { "cut off" } },
  { "bad-base64", OP_MOCK_A1111_FAIL_BAD_BASE64, OP_HTTP_ERROR_BAD_ANSWER, { "base64" } },
  { "wrong-size", OP_MOCK_A1111_FAIL_WRONG_SIZE, OP_HTTP_ERROR_BAD_ANSWER,
    { "64 × 64", "was asked" } },
  { "reset", OP_MOCK_A1111_FAIL_RESET, OP_HTTP_ERROR_UNREACHABLE, { "connection" } },
  { "stall", OP_MOCK_A1111_FAIL_STALL, OP_HTTP_ERROR_TIMEOUT, { "stopped answering" } },
  { "no-images", OP_MOCK_A1111_FAIL_NO_IMAGES, OP_HTTP_ERROR_BAD_ANSWER, { "no pictures" } },
  { "no-api", OP_MOCK_A1111_FAIL_NO_API, OP_HTTP_ERROR_INVALID, { "404", "--api" } },
};

static void
test_fail (gconstpointer data)
{
  const FailCase *fail = data;
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { .failure = fail->failure };
  const GError *error;

  _op_automatic1111_backend_set_stall_timeout (OP_AUTOMATIC1111_BACKEND (backend), 2);
  op_mock_a1111_configure (mock, &config);
  job = run_job (backend, request, NULL);

  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  g_assert_null (op_job_get_variants (job));
  error = op_job_get_error (job);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", fail->name, error->message);
  g_assert_error ((GError *) error, OP_HTTP_ERROR, (int) fail->code);
  for (guint i = 0; i < G_N_ELEMENTS (fail->words) && fail->words[i] != NULL; i++)
    assert_contains (error->message, fail->words[i]);
}

static void
test_cancel (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpJob) job = NULL;
  OpMockA1111Config config = { .hold_ms = 10000 };
  ProgressLog log = { 0 };
  gint64 deadline, cancelled_at, elapsed;

  op_mock_a1111_configure (mock, &config);
  job = submit (worker, backend, request, &log);

  /* mid-request: the server reports steps */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (log.n_steps == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }

  cancelled_at = g_get_monotonic_time ();
  op_job_cancel (job);
  wait_for_job (job);
  elapsed = g_get_monotonic_time () - cancelled_at;

  g_test_message ("cancelled after %.3f s", elapsed / (double) G_USEC_PER_SEC);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_CANCELLED);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);
  g_assert_null (op_job_get_variants (job));
  g_assert_null (op_job_get_error (job));

  /* the server was told to stop: it does not notice a closed connection */
  deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (op_mock_a1111_get_count (mock, &mock->n_interrupt) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin_loop (20);
    }
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_interrupt), ==, 1);
  progress_log_clear (&log);
}

/* A plain opaque picture, as base64 PNG. */
static char *
opaque_picture (int width,
                int height)
{
  g_autoptr(OpImage) image = op_image_new (width, height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      op_image_get_data (image)[(gsize) y * op_image_get_stride (image) + 4 * x + 3] = 255;

  return encode_picture (image);
}

static OpHttpResponse *
mock_send (OpMockA1111 *mock,
           const char  *method,
           const char  *path,
           const char  *json)
{
  g_autofree char *url = g_strconcat (op_mock_server_get_url (mock->server), path, NULL);
  g_autoptr(OpHttpRequest) request = op_http_request_new (method, url);
  g_autoptr(GError) error = NULL;
  OpHttpResponse *response;

  if (json != NULL)
    {
      g_autoptr(JsonNode) body = json_from_string (json, &error);

      g_assert_no_error (error);
      op_http_request_set_json (request, body);
    }
  op_http_request_set_retries (request, 1, 0, NULL, NULL);

  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  return response;
}

static JsonObject *
response_object (OpHttpResponse *response,
                 JsonNode      **root)
{
  g_autoptr(GError) error = NULL;

  *root = op_http_response_parse_json (response, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*root));

  return json_node_get_object (*root);
}

/* The mock refuses what the web UI refuses, with the web UI's answers (section 7), so a
 * passing client test means something. */
static void
test_mock_contract (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autofree char *picture = opaque_picture (64, 64);
  g_autofree char *bad_types = NULL;
  g_autofree char *typo = NULL;
  OpMockA1111Config config = { .auth = AUTH };

  /* pydantic's 422, every wrong field at once, unwrapped */
  bad_types = g_strdup_printf ("{\"init_images\":[\"%s\"],\"steps\":\"many\",\"cfg_scale\":[1]}",
                               picture);
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "POST", "/sdapi/v1/img2img", bad_types);
    g_autoptr(JsonNode) root = NULL;
    JsonArray *detail;

    g_assert_cmpuint (op_http_response_get_status (response), ==, 422);
    detail = json_object_get_array_member (response_object (response, &root), "detail");
    g_assert_cmpuint (json_array_get_length (detail), ==, 2);
  }

  /* no init image, and one that is not an image */
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "POST", "/sdapi/v1/img2img",
                                                    "{\"steps\":20}");
    g_autoptr(JsonNode) root = NULL;

    g_assert_cmpuint (op_http_response_get_status (response), ==, 404);
    g_assert_cmpstr (json_object_get_string_member (response_object (response, &root), "detail"),
                     ==, "Init image not found");
  }
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "POST", "/sdapi/v1/img2img",
                                                    "{\"init_images\":[\"@@@\"]}");
    g_autoptr(JsonNode) root = NULL;

    g_assert_cmpuint (op_http_response_get_status (response), ==, 500);
    g_assert_cmpstr (json_object_get_string_member (response_object (response, &root), "detail"),
                     ==, "Invalid encoded image");
  }

  /* an unknown key is ignored, as pydantic does, but noted */
  typo = g_strdup_printf ("{\"init_images\":[\"%s\"],\"mask\":\"%s\",\"width\":64,"
                          "\"height\":64,\"sampler\":\"Euler\"}", picture, picture);
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "POST", "/sdapi/v1/img2img", typo);
    g_autoptr(JsonNode) root = NULL;
    JsonObject *answer;
    JsonArray *images;

    g_assert_cmpuint (op_http_response_get_status (response), ==, 200);
    answer = response_object (response, &root);
    images = json_object_get_array_member (answer, "images");
    g_assert_cmpuint (json_array_get_length (images), ==, 1);
    g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (
                     json_object_get_object_member (answer, "parameters"), "init_images")));
    g_mutex_lock (&mock->lock);
    g_assert_cmpuint (mock->unknown_keys->len, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (mock->unknown_keys, 0), ==, "sampler");
    g_mutex_unlock (&mock->lock);
  }

  /* wrong methods, and a login when --api-auth is on */
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "GET", "/sdapi/v1/interrupt", NULL);

    g_assert_cmpuint (op_http_response_get_status (response), ==, 405);
  }
  op_mock_a1111_configure (mock, &config);
  {
    g_autoptr(OpHttpResponse) response = mock_send (mock, "GET", "/sdapi/v1/sd-models", NULL);
    g_autoptr(JsonNode) root = NULL;

    g_assert_cmpuint (op_http_response_get_status (response), ==, 401);
    g_assert_cmpstr (op_http_response_get_header (response, "WWW-Authenticate"), ==, "Basic");
    g_assert_cmpstr (json_object_get_string_member (response_object (response, &root), "detail"),
                     ==, "Incorrect username or password");
  }
}

/* Nothing listens: a refused connection, said in words. */
static void
test_unreachable (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OpBackend) backend = op_automatic1111_backend_new ();
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  g_autofree char *url = NULL;
  const GError *job_error;

  /* a port that was free a moment ago */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  g_object_set (backend, "url", url, NULL);
  job = run_job (backend, request, NULL);

  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  job_error = op_job_get_error (job);
  g_assert_error ((GError *) job_error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE);
  assert_contains (job_error->message, "could not reach");
}

/* The command line, end to end against the same mock */

/* A --api-auth login whose password must never be printed. */
#define CLI_AUTH "painter:" OP_TEST_PLANTED_KEY

static const OpRect cli_hole = { 280, 170, 90, 70 };

static OpTestCliRun *
cli_inpaint (OpTestCli  *cli,
             const char *url,
             const char *api_auth,
             const char *output)
{
  return op_test_cli_run (cli, "inpaint", "--backend", "automatic1111", "--url", url,
                          "--api-auth", api_auth, "--image", cli->picture, "--mask", cli->mask,
                          "--output", output, "--prompt", "a ginger cat", "--seed", "1234",
                          "--variants", "2", "--mask-grow", "0", "--mask-blur", "0", NULL);
}

static void
test_cli_inpaint (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpTestCli) cli = op_test_cli_new (&cli_hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  OpMockA1111Config config = { .auth = CLI_AUTH, .hold_ms = 300 };

  if (cli == NULL)
    return;

  op_mock_a1111_configure (mock, &config);
  output = op_test_cli_path (cli, "inpainted-{n}.png");
  run = cli_inpaint (cli, op_mock_a1111_get_url (mock), CLI_AUTH, output);
  g_assert_cmpint (run->status, ==, 0);

  /* both variants from one batch */
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_img2img), ==, 1);
  first = op_test_cli_path (cli, "inpainted-1.png");
  second = op_test_cli_path (cli, "inpainted-2.png");
  op_test_cli_assert_inpainted (cli, first);
  op_test_cli_assert_inpainted (cli, second);
  op_test_cli_assert_differ (cli, first, second);
}

static void
test_cli_outpaint (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpTestCli) cli = op_test_cli_new (&cli_hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  const OpMargins margins = { .left = 0, .right = 96, .top = 0, .bottom = 40 };

  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "outpainted.png");
  run = op_test_cli_run (cli, "outpaint", "--backend", "automatic1111",
                         "--url", op_mock_a1111_get_url (mock), "--image", cli->picture,
                         "--right", "96", "--bottom", "40", "--output", output,
                         "--prompt", "a ginger cat on a blanket", NULL);
  g_assert_cmpint (run->status, ==, 0);
  op_test_cli_assert_outpainted (cli, output, &margins);
}

typedef struct
{
  const char         *name;
  OpMockA1111Failure  failure;
  const char         *server_auth;  /* what the server takes */
  const char         *words[3];
} CliFailCase;

static const CliFailCase cli_fail_cases[] = {
  { "unauthorized", OP_MOCK_A1111_FAIL_NONE, AUTH, { "password", "rejected" } },
  { "proxy-html", OP_MOCK_A1111_FAIL_PROXY_HTML, CLI_AUTH, { "busy", "502 Bad Gateway" } },
  { "exception", OP_MOCK_A1111_FAIL_EXCEPTION, CLI_AUTH, { "CUDA out of memory" } },
};

static void
test_cli_fail (gconstpointer data)
{
  const CliFailCase *fail = data;
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpTestCli) cli = op_test_cli_new (&cli_hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *output = NULL;
  OpMockA1111Config config = { .failure = fail->failure, .auth = fail->server_auth };

  if (cli == NULL)
    return;

  op_mock_a1111_configure (mock, &config);
  output = op_test_cli_path (cli, "never.png");
  run = cli_inpaint (cli, op_mock_a1111_get_url (mock), CLI_AUTH, output);

  op_test_cli_assert_failed (run, fail->words[0], fail->words[1], fail->words[2], NULL);
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

/* Nothing listens: the message says where it tried. */
static void
test_cli_unreachable (void)
{
  g_autoptr(OpTestCli) cli = op_test_cli_new (&cli_hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autofree char *url = op_test_cli_dead_url ();
  g_autofree char *output = NULL;

  if (cli == NULL)
    return;

  output = op_test_cli_path (cli, "never.png");
  run = cli_inpaint (cli, url, CLI_AUTH, output);
  op_test_cli_assert_failed (run, "could not reach", url + strlen ("http://"), NULL);
}

/* overpaint-cli describe: the web UI's caption first, then the offline suggestions;
 * with no backend, the suggestions alone. */
static void
test_cli_describe (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpTestCli) cli = op_test_cli_new (&cli_hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autoptr(OpTestCliRun) tags = NULL;
  g_autoptr(OpTestCliRun) offline = NULL;
  g_autoptr(OpTestCliRun) bad = NULL;

  if (cli == NULL)
    return;

  run = op_test_cli_run (cli, "describe", "--backend", "automatic1111", "--url",
                         op_mock_server_get_url (mock->server), "--image", cli->picture,
                         "--mask", cli->mask, NULL);
  g_assert_cmpint (run->status, ==, 0);
  /* the caption comes before the suggestions (GLib's debug lines may come first) */
  g_assert_nonnull (strstr (run->out, "a cup of coffee"));
  g_assert_cmpint (strstr (run->out, "a cup of coffee") - run->out, <, strstr (run->out, "subject: ") - run->out);
  g_assert_nonnull (strstr (run->out, "\nlighting: "));
  g_assert_nonnull (strstr (run->out, "\npalette: "));
  /* the context around the hole was described, not the whole picture */
  g_assert_cmpint (op_image_get_width (mock->interrogate_image), <, op_image_get_width (cli->source));
  g_assert_cmpstr (mock->interrogate_model, ==, "clip");

  tags = op_test_cli_run (cli, "describe", "--backend", "automatic1111", "--url",
                          op_mock_server_get_url (mock->server), "--model", "deepdanbooru",
                          "--region", "whole", "--image", cli->picture, NULL);
  g_assert_cmpint (tags->status, ==, 0);
  g_assert_nonnull (strstr (tags->out, "no_humans, cup, coffee"));
  g_assert_cmpint (op_image_get_width (mock->interrogate_image), ==, op_image_get_width (cli->source));

  offline = op_test_cli_run (cli, "describe", "--image", cli->picture, "--left", "64", NULL);
  g_assert_cmpint (offline->status, ==, 0);
  g_assert_nonnull (strstr (offline->out, "subject: "));
  g_assert_null (strstr (offline->out, "coffee"));
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_interrogate), ==, 2);

  bad = op_test_cli_run (cli, "describe", "--image", cli->picture, "--region", "middle", NULL);
  g_assert_cmpint (bad->status, ==, 2);
  assert_contains (bad->err, "middle");
}

static char *
describe (OpBackend  *backend,
          OpImage    *image,
          GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  op_backend_describe_async (backend, image, NULL, on_ready_cb, &result);
  return op_backend_describe_finish (backend, wait_for_result (&result), error);
}

static OpMask *
centre_mask (int width,
             int height)
{
  OpMask *mask = op_mask_new (width, height);

  for (int y = height / 3; y < 2 * height / 3; y++)
    memset (op_mask_get_data (mask) + (gsize) y * width + width / 3, 255, width / 3);

  return mask;
}

/* What the describer is shown: the whole picture, the context with its hole filled,
 * or the strips along extended edges; never more than 1024 pixels on a side. */
static void
test_describe_regions (void)
{
  g_autoptr(OpImage) picture = load_sample ("coffee.png");
  g_autoptr(OpImage) big = op_image_scale (picture, NULL, 2400, 1600);
  g_autoptr(OpMask) mask = centre_mask (600, 400);
  g_autoptr(OpMask) empty = op_mask_new (600, 400);
  g_autoptr(OpMask) wrong = op_mask_new (10, 10);
  g_autoptr(GPtrArray) whole = NULL;
  g_autoptr(GPtrArray) context = NULL;
  g_autoptr(GPtrArray) edges = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GError) error = NULL;
  OpMargins margins = { .left = 100, .bottom = 40 };
  OpMargins no_margins = { 0, };
  OpDescribePart *part;
  guint changed = 0;

  whole = op_describe_prepare (big, NULL, NULL, OP_DESCRIBE_WHOLE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (whole->len, ==, 1);
  part = whole->pdata[0];
  g_assert_cmpint (op_image_get_width (part->image), ==, 1024);
  g_assert_cmpint (op_image_get_height (part->image), ==, 683);
  g_assert_cmpint (op_image_get_width (part->analysed), ==, 2400);

  /* the hole is filled from around it: the describer does not see what is there now */
  context = op_describe_prepare (picture, mask, NULL, OP_DESCRIBE_CONTEXT, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (context->len, ==, 1);
  part = context->pdata[0];
  g_assert_cmpint (op_image_get_width (part->image), ==, 600);
  g_assert_nonnull (part->exclude);
  g_assert_cmpint (op_mask_get_width (part->exclude), ==, op_image_get_width (part->analysed));
  for (int y = 150; y < 250; y++)
    for (int x = 220; x < 380; x++)
      {
        const guint8 *a = op_image_peek_data (part->image) + (gsize) y * op_image_get_stride (part->image) + 4 * x;
        const guint8 *b = op_image_peek_data (picture) + (gsize) y * op_image_get_stride (picture) + 4 * x;

        changed += memcmp (a, b, 3) != 0;
      }
  g_assert_cmpuint (changed, >, 100 * 160 / 2);

  edges = op_describe_prepare (picture, NULL, &margins, OP_DESCRIBE_EDGES, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (edges->len, ==, 2);
  g_assert_cmpint (op_image_get_width (((OpDescribePart *) edges->pdata[0])->image), ==, 200);
  g_assert_cmpint (op_image_get_height (((OpDescribePart *) edges->pdata[0])->image), ==, 400);
  g_assert_cmpint (op_image_get_height (((OpDescribePart *) edges->pdata[1])->image), ==, 80);

  /* nothing to describe around: a clear error */
  none = op_describe_prepare (picture, empty, NULL, OP_DESCRIBE_CONTEXT, NULL, &error);
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
  g_assert_null (none);
  g_clear_error (&error);
  none = op_describe_prepare (picture, NULL, &no_margins, OP_DESCRIBE_EDGES, NULL, &error);
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO);
  g_clear_error (&error);
  none = op_describe_prepare (picture, wrong, NULL, OP_DESCRIBE_WHOLE, NULL, &error);
  g_assert_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID);
}

static void
test_describe (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpImage) picture = load_sample ("coffee.png");
  g_autoptr(GError) error = NULL;
  g_autofree char *clip = NULL;
  g_autofree char *tags = NULL;
  g_autofree char *missing = NULL;
  g_auto(GStrv) phrases = NULL;
  g_auto(GStrv) tag_phrases = NULL;

  g_assert_true (op_backend_get_capabilities (backend) & OP_BACKEND_CAP_DESCRIBE);

  clip = describe (backend, picture, &error);
  g_assert_no_error (error);
  assert_contains (clip, "coffee");
  assert_contains (clip, "wide");
  g_assert_cmpuint (op_mock_a1111_get_count (mock, &mock->n_interrogate), ==, 1);
  g_assert_cmpstr (mock->interrogate_model, ==, "clip");
  g_assert_true (op_image_equal (mock->interrogate_image, picture));

  phrases = op_caption_split (clip, 20);
  g_assert_cmpstr (phrases[0], ==, "a cup of coffee on a wooden table");

  g_object_set (backend, "describe-model", "deepdanbooru", NULL);
  tags = describe (backend, picture, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mock->interrogate_model, ==, "deepdanbooru");
  tag_phrases = op_caption_split (tags, 20);
  g_assert_cmpstr (tag_phrases[0], ==, "no humans");

  /* an interrogator the server does not have */
  g_object_set (backend, "describe-model", "blip", NULL);
  missing = describe (backend, picture, &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (missing);
  assert_contains (error->message, "blip");
}

static void
test_describe_fail (void)
{
  g_autoptr(OpMockA1111) mock = op_mock_a1111_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpImage) picture = load_sample ("chelsea.png");
  g_autoptr(OpHttpResponse) bad = NULL;
  g_autoptr(OpHttpResponse) absent = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *empty = NULL;
  OpMockA1111Config auth = { .auth = AUTH };
  OpMockA1111Config no_api = { .failure = OP_MOCK_A1111_FAIL_NO_API };

  /* the mock keeps the contract: 500 for garbage, 404 for no picture */
  bad = mock_send (mock, "POST", "/sdapi/v1/interrogate", "{\"image\":\"not-base64!\"}");
  g_assert_cmpuint (op_http_response_get_status (bad), ==, 500);
  absent = mock_send (mock, "POST", "/sdapi/v1/interrogate", "{\"model\":\"clip\"}");
  g_assert_cmpuint (op_http_response_get_status (absent), ==, 404);

  op_mock_a1111_configure (mock, &auth);
  caption = describe (backend, picture, &error);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH);
  g_clear_error (&error);

  op_mock_a1111_configure (mock, &no_api);
  caption = describe (backend, picture, &error);
  g_assert_nonnull (error);
  assert_contains (error->message, "--api");
  g_clear_error (&error);

  empty = op_describe_take_caption ("  \n ", "Test", &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER);
  g_assert_null (empty);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();

  g_test_add_func ("/automatic1111/metadata", test_metadata);
  g_test_add_func ("/automatic1111/mock/contract", test_mock_contract);
  g_test_add_func ("/automatic1111/generate/inpaint", test_inpaint);
  g_test_add_func ("/automatic1111/generate/outpaint", test_outpaint);
  g_test_add_func ("/automatic1111/generate/model-and-sampler", test_model_and_sampler);
  g_test_add_func ("/automatic1111/answer/seeds-from-info", test_seeds_from_info);
  g_test_add_func ("/automatic1111/answer/upscaled", test_upscaled_answer);
  g_test_add_func ("/automatic1111/lists", test_lists);
  g_test_add_func ("/automatic1111/auth/accepted", test_auth_accepted);
  g_test_add_data_func ("/automatic1111/auth/missing", &auth_missing, test_auth_rejected);
  g_test_add_data_func ("/automatic1111/auth/wrong", &auth_wrong, test_auth_rejected);

  for (guint i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/automatic1111/fail/%s", fail_cases[i].name);

      g_test_add_data_func (path, &fail_cases[i], test_fail);
    }

  g_test_add_func ("/automatic1111/cancel", test_cancel);
  g_test_add_func ("/automatic1111/unreachable", test_unreachable);

  g_test_add_func ("/automatic1111/describe/regions", test_describe_regions);
  g_test_add_func ("/automatic1111/describe", test_describe);
  g_test_add_func ("/automatic1111/describe/fail", test_describe_fail);
  g_test_add_func ("/automatic1111/cli/inpaint", test_cli_inpaint);
  g_test_add_func ("/automatic1111/cli/describe", test_cli_describe);
  g_test_add_func ("/automatic1111/cli/outpaint", test_cli_outpaint);
  for (guint i = 0; i < G_N_ELEMENTS (cli_fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/automatic1111/cli/fail/%s",
                                               cli_fail_cases[i].name);

      g_test_add_data_func (path, &cli_fail_cases[i], test_cli_fail);
    }
  g_test_add_func ("/automatic1111/cli/unreachable", test_cli_unreachable);

  return g_test_run ();
}
