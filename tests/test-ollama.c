/* test-ollama.c — describing with a local Ollama vision model, against its mock
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "op-backend.h"
#include "op-describe.h"
#include "op-http.h"
#include "op-mock-ollama.h"
#include "op-prompt-text.h"
#include "op-test-cli.h"

static OpImage *
load_sample (const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), name, NULL);
  g_autoptr(GError) error = NULL;
  OpImage *image = op_image_new_from_file (path, &error);

  g_assert_no_error (error);
  return image;
}

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static OpBackend *
mock_backend (OpMockOllama *mock)
{
  g_autoptr(GError) error = NULL;
  OpBackend *backend = op_backend_new_for_id ("ollama", &error);

  g_assert_no_error (error);
  g_assert_true (op_backend_configure (backend, op_mock_ollama_get_url (mock), NULL, NULL, &error));
  g_assert_no_error (error);

  return backend;
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

static void
test_metadata (void)
{
  g_autoptr(OpBackend) backend = op_backend_new_for_id ("ollama", NULL);
  g_autofree char *url = NULL;
  g_autofree char *model = NULL;

  g_assert_nonnull (backend);
  g_assert_cmpstr (op_backend_get_id (backend), ==, "ollama");
  g_assert_cmpint (op_backend_get_capabilities (backend), ==, OP_BACKEND_CAP_DESCRIBE | OP_BACKEND_CAP_MODELS);
  g_assert_cmpint (op_backend_get_parameters (backend), ==, 0);
  g_object_get (backend, "url", &url, "describe-model", &model, NULL);
  g_assert_cmpstr (url, ==, "http://127.0.0.1:11434");
  g_assert_cmpstr (model, ==, "llava");
  /* a describer, not a generation backend: not in the sidebar's list */
  g_assert_false (g_strv_contains (op_backend_list_ids (), "ollama"));
}

static void
test_describe (void)
{
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock);
  g_autoptr(OpImage) picture = load_sample ("coffee.png");
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = NULL;
  g_auto(GStrv) phrases = NULL;
  g_auto(GStrv) models = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  caption = describe (backend, picture, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (caption, ==, OP_MOCK_OLLAMA_CAPTION);
  g_assert_cmpuint (mock->n_generate, ==, 1);
  g_assert_cmpstr (mock->model, ==, "llava");
  /* stream off, the picture as it was sent */
  g_assert_false (mock->streamed);
  g_assert_true (op_image_equal (mock->image, picture));

  phrases = op_caption_split (caption, 20);
  g_assert_cmpstr (phrases[0], ==, "A cup of coffee on a saucer");
  g_assert_cmpstr (phrases[1], ==, "warm light");

  op_backend_list_models_async (backend, NULL, on_ready_cb, &result);
  models = op_backend_list_models_finish (backend, wait_for_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (models, ((const char *[]) { "llava:latest", "llama3.2-vision:latest", NULL }));
}

static void
test_not_pulled (void)
{
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock);
  g_autoptr(OpImage) picture = load_sample ("chelsea.png");
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = NULL;

  g_object_set (backend, "describe-model", "bakllava", NULL);
  caption = describe (backend, picture, &error);
  g_assert_null (caption);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "ollama pull bakllava"));
}

/* The answer streamed in NDJSON, as Ollama does when stream is left on: the pieces are
 * put together; an error line in the stream is the error. */
static void
test_stream (void)
{
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (op_mock_ollama_get_url (mock), "/api/generate", NULL);
  g_autoptr(OpHttpRequest) request = op_http_request_new ("POST", url);
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(JsonNode) body = json_from_string ("{\"model\":\"llava\",\"prompt\":\"hi\"}", NULL);
  gsize size;
  const char *data;

  op_http_request_set_json (request, body);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (op_http_response_get_status (response), ==, 200);
  g_assert_cmpstr (op_http_response_get_header (response, "Content-Type"), ==, "application/x-ndjson");
  data = g_bytes_get_data (op_http_response_get_body (response), &size);
  g_assert_nonnull (g_strstr_len (data, size, "\"done\":false"));
  g_assert_true (mock->streamed);
}

/* The contract's pitfalls, from the mock itself: a data: URL is refused the way Ollama
 * refuses it, and the client never sends one. */
static void
test_data_prefix_refused (void)
{
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (op_mock_ollama_get_url (mock), "/api/generate", NULL);
  g_autoptr(OpHttpRequest) request = op_http_request_new ("POST", url);
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(JsonNode) body = json_from_string ("{\"model\":\"llava\",\"stream\":false,"
                                               "\"images\":[\"data:image/png;base64,iVBORw0KGgo=\"]}", NULL);
  g_autoptr(JsonNode) answer = NULL;

  op_http_request_set_json (request, body);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (op_http_response_get_status (response), ==, 400);
  answer = op_http_response_parse_json (response, &error);
  g_assert_cmpstr (op_json_member_string (op_json_node_object (answer), "error"), ==,
                   "illegal base64 data at input byte 4");
}

static void
test_failures (void)
{
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock);
  g_autoptr(OpBackend) nowhere = op_backend_new_for_id ("ollama", NULL);
  g_autoptr(OpImage) picture = load_sample ("chelsea.png");
  g_autoptr(GError) error = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *streamed = NULL;

  g_object_set (nowhere, "url", "http://127.0.0.1:9", NULL);
  caption = describe (nowhere, picture, &error);
  g_assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE);
  g_clear_error (&error);

  /* no key is taken: a local service */
  g_assert_false (op_backend_configure (backend, NULL, "sk-123", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  empty = op_describe_take_caption ("\n\n", "Ollama", &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER);
  g_clear_error (&error);

  /* an answer that streams although asked not to is read line by line */
  mock->always_stream = TRUE;
  streamed = describe (backend, picture, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (streamed, ==, OP_MOCK_OLLAMA_CAPTION);
  g_clear_pointer (&streamed, g_free);

  /* and an error line in the stream is the error, not a caption */
  mock->fail_mid_stream = TRUE;
  streamed = describe (backend, picture, &error);
  g_assert_null (streamed);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "unexpected EOF"));
}

/* overpaint-cli describe --backend ollama: the caption, then the suggestions. */
static void
test_cli (void)
{
  static const OpRect hole = { 200, 120, 120, 100 };
  g_autoptr(OpMockOllama) mock = op_mock_ollama_new ();
  g_autoptr(OpTestCli) cli = op_test_cli_new (&hole);
  g_autoptr(OpTestCliRun) run = NULL;
  g_autoptr(OpTestCliRun) missing = NULL;

  if (cli == NULL)
    return;

  run = op_test_cli_run (cli, "describe", "--backend", "ollama", "--url", op_mock_ollama_get_url (mock),
                         "--model", "llama3.2-vision", "--image", cli->picture, "--mask", cli->mask, NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, OP_MOCK_OLLAMA_CAPTION));
  g_assert_nonnull (strstr (run->out, "lighting: "));
  g_assert_cmpstr (mock->model, ==, "llama3.2-vision");

  missing = op_test_cli_run (cli, "describe", "--backend", "ollama", "--url", op_mock_ollama_get_url (mock),
                             "--model", "moondream", "--image", cli->picture, NULL);
  g_assert_cmpint (missing->status, ==, 1);
  g_assert_nonnull (strstr (missing->err, "describing the picture failed"));
  g_assert_nonnull (strstr (missing->err, "ollama pull moondream"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ollama/metadata", test_metadata);
  g_test_add_func ("/ollama/describe", test_describe);
  g_test_add_func ("/ollama/not-pulled", test_not_pulled);
  g_test_add_func ("/ollama/stream", test_stream);
  g_test_add_func ("/ollama/data-prefix-refused", test_data_prefix_refused);
  g_test_add_func ("/ollama/failures", test_failures);
  g_test_add_func ("/ollama/cli", test_cli);

  return g_test_run ();
}
