/* test-http.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-http"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "op-http.h"
#include "op-mock-server.h"

/* Every failing request carries this key; no error message may ever show it. */
#define PLANTED_KEY "sk-test-PLANTED-KEY-123"

#define PNG_BASE64 "iVBORw0KGgoAAAANSUhEUg=="
#define PNG_LENGTH 16

typedef struct
{
  char *name;
  char *filename;
  char *content_type;
  GBytes *data;
} Part;

/* What the handlers saw, and how they answer.  Handlers run in the server's thread. */
typedef struct
{
  OpMockServer *server;
  GMutex lock;

  /* seen */
  guint hits;
  char *method;
  char *content_type;
  char *user_agent;
  char *authorization;
  char *host;
  GBytes *body;
  GPtrArray *parts;
  GPtrArray *paused;         /* SoupServerMessage, held until the server is gone */

  /* answer */
  guint status;
  const char *answer_type;
  const char *answer;
  const char *retry_after;
  guint failures;            /* busy answers before a 200 */
} Fixture;

/* ------------------------------------------------------------------------------------ */
/* Helpers */

static void
part_free (Part *part)
{
  g_free (part->name);
  g_free (part->filename);
  g_free (part->content_type);
  g_bytes_unref (part->data);
  g_free (part);
}

static char *
url_for (Fixture    *fixture,
         const char *path)
{
  return g_strconcat (op_mock_server_get_url (fixture->server), path, NULL);
}

static OpHttpRequest *
request_with_key (Fixture    *fixture,
                  const char *method,
                  const char *path)
{
  g_autofree char *url = url_for (fixture, path);
  OpHttpRequest *request = op_http_request_new (method, url);

  op_http_request_set_bearer (request, PLANTED_KEY);
  return request;
}

static void
assert_contains (const char *text,
                 const char *words)
{
  if (words != NULL && strstr (text, words) == NULL)
    g_error ("“%s” does not contain “%s”", text, words);
}

static void
assert_error (const GError *error,
              GQuark        domain,
              int           code,
              const char   *words)
{
  g_assert_error (error, domain, code);
  g_test_message ("error: %s", error->message);
  g_assert_null (strstr (error->message, "PLANTED"));
  g_assert_null (strchr (error->message, '<'));
  assert_contains (error->message, words);
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

static void
answer (SoupServerMessage *msg,
        guint              status,
        const char        *content_type,
        const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

static void
record_request (Fixture           *fixture,
                SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  g_mutex_lock (&fixture->lock);
  fixture->hits++;
  g_free (fixture->method);
  fixture->method = g_strdup (soup_server_message_get_method (msg));
  g_free (fixture->content_type);
  fixture->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  g_free (fixture->user_agent);
  fixture->user_agent = g_strdup (soup_message_headers_get_one (headers, "User-Agent"));
  g_free (fixture->authorization);
  fixture->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  g_free (fixture->host);
  fixture->host = g_strdup (g_uri_get_host (soup_server_message_get_uri (msg)));
  g_clear_pointer (&fixture->body, g_bytes_unref);
  fixture->body = soup_message_body_flatten (body);
  g_mutex_unlock (&fixture->lock);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers */

static void
on_echo_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *json = NULL;

  record_request (fixture, msg);
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  json = g_strdup_printf ("{\"ok\": true, \"echo\": %.*s}", (int) g_bytes_get_size (body),
                          (const char *) g_bytes_get_data (body, NULL));
  answer (msg, 200, "application/json", json);
}

static void
record_parts (Fixture       *fixture,
              SoupMultipart *multipart)
{
  for (int i = 0; i < soup_multipart_get_length (multipart); i++)
    {
      Part *part = g_new0 (Part, 1);
      g_autoptr(GHashTable) params = NULL;
      SoupMessageHeaders *headers;
      GBytes *data;

      soup_multipart_get_part (multipart, i, &headers, &data);
      soup_message_headers_get_content_disposition (headers, NULL, &params);
      part->name = g_strdup (g_hash_table_lookup (params, "name"));
      part->filename = g_strdup (g_hash_table_lookup (params, "filename"));
      part->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
      part->data = g_bytes_ref (data);
      g_ptr_array_add (fixture->parts, part);
    }
}

static void
on_multipart_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  Fixture *fixture = user_data;
  g_autoptr(GBytes) body = NULL;
  SoupMultipart *multipart;

  record_request (fixture, msg);
  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  multipart = soup_multipart_new_from_message (soup_server_message_get_request_headers (msg),
                                               body);
  if (multipart == NULL)
    {
      answer (msg, 400, "text/plain", "not multipart");
      return;
    }

  g_mutex_lock (&fixture->lock);
  record_parts (fixture, multipart);
  g_mutex_unlock (&fixture->lock);
  soup_multipart_free (multipart);
  answer (msg, 200, "application/json", "{}");
}

/* Answers with the fixture's status, type and body. */
static void
on_status_cb (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  Fixture *fixture = user_data;

  record_request (fixture, msg);
  if (fixture->retry_after != NULL)
    soup_message_headers_append (soup_server_message_get_response_headers (msg),
                                 "Retry-After", fixture->retry_after);
  answer (msg, fixture->status, fixture->answer_type, fixture->answer);
}

/* Busy (the fixture's status and Retry-After) for the first few hits, then 200. */
static void
on_busy_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Fixture *fixture = user_data;
  guint hits;

  record_request (fixture, msg);
  g_mutex_lock (&fixture->lock);
  hits = fixture->hits;
  g_mutex_unlock (&fixture->lock);

  if (hits > fixture->failures)
    {
      answer (msg, 200, "application/json", "{\"done\": true}");
      return;
    }

  if (fixture->retry_after != NULL)
    soup_message_headers_append (soup_server_message_get_response_headers (msg),
                                 "Retry-After", fixture->retry_after);
  answer (msg, fixture->status, "application/json", "{\"error\": \"busy\"}");
}

/* Never answers. */
static void
on_stall_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Fixture *fixture = user_data;

  record_request (fixture, msg);
  g_ptr_array_add (fixture->paused, g_object_ref (msg));
  soup_server_message_pause (msg);
}

/* ------------------------------------------------------------------------------------ */
/* Fixture */

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_mutex_init (&fixture->lock);
  fixture->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) part_free);
  fixture->paused = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->server = op_mock_server_new ();
  op_mock_server_add_handler (fixture->server, "/echo", on_echo_cb, fixture);
  op_mock_server_add_handler (fixture->server, "/multipart", on_multipart_cb, fixture);
  op_mock_server_add_handler (fixture->server, "/status", on_status_cb, fixture);
  op_mock_server_add_handler (fixture->server, "/busy", on_busy_cb, fixture);
  op_mock_server_add_handler (fixture->server, "/stall", on_stall_cb, fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  /* The server closes the paused messages' connections as it goes. */
  g_clear_pointer (&fixture->server, op_mock_server_free);
  g_ptr_array_unref (fixture->paused);
  g_ptr_array_unref (fixture->parts);
  g_free (fixture->method);
  g_free (fixture->content_type);
  g_free (fixture->user_agent);
  g_free (fixture->authorization);
  g_free (fixture->host);
  g_clear_pointer (&fixture->body, g_bytes_unref);
  g_mutex_clear (&fixture->lock);
}

/* ------------------------------------------------------------------------------------ */
/* Requests */

static void
test_json_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/echo");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(JsonNode) sent = json_from_string ("{\"prompt\": \"a red scarf\", \"steps\": 25}",
                                               NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *echo;

  op_http_request_set_json (request, sent);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (op_http_response_check_status (response, "Mock", NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (fixture->method, ==, "POST");
  g_assert_cmpstr (fixture->content_type, ==, "application/json");
  g_assert_true (g_str_has_prefix (fixture->user_agent, "Overpaint/"));
  g_assert_cmpstr (fixture->authorization, ==, "Bearer " PLANTED_KEY);
  g_assert_cmpstr (op_http_response_get_header (response, "content-type"), ==,
                   "application/json");

  root = op_http_response_parse_json (response, &error);
  g_assert_no_error (error);
  echo = json_object_get_object_member (json_node_get_object (root), "echo");
  g_assert_cmpstr (json_object_get_string_member (echo, "prompt"), ==, "a red scarf");
  g_assert_cmpint (json_object_get_int_member (echo, "steps"), ==, 25);
}

static void
test_multipart (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/multipart");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  Part *field, *file;

  png = op_http_decode_base64 (PNG_BASE64, &error);
  g_assert_no_error (error);
  op_http_request_add_field (request, "prompt", "a red scarf");
  op_http_request_add_file (request, "image", "picture.png", "image/png", png);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (op_http_response_get_status (response), ==, 200);

  g_assert_true (g_str_has_prefix (fixture->content_type, "multipart/form-data"));
  g_assert_cmpuint (fixture->parts->len, ==, 2);
  field = g_ptr_array_index (fixture->parts, 0);
  g_assert_cmpstr (field->name, ==, "prompt");
  g_assert_null (field->filename);
  g_assert_cmpmem (g_bytes_get_data (field->data, NULL), g_bytes_get_size (field->data),
                   "a red scarf", 11);
  file = g_ptr_array_index (fixture->parts, 1);
  g_assert_cmpstr (file->name, ==, "image");
  g_assert_cmpstr (file->filename, ==, "picture.png");
  g_assert_cmpstr (file->content_type, ==, "image/png");
  g_assert_true (g_bytes_equal (file->data, png));
}

static void
test_basic_auth (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *url = url_for (fixture, "/status");
  g_autoptr(OpHttpRequest) request = op_http_request_new ("GET", url);
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) "user:" PLANTED_KEY,
                                              strlen ("user:" PLANTED_KEY));

  expected = g_strconcat ("Basic ", encoded, NULL);
  fixture->status = 401;
  fixture->answer_type = "application/json";
  fixture->answer = "{\"error\": \"HTTPException\", "
                    "\"detail\": \"Incorrect username or password\"}";
  op_http_request_set_basic_auth (request, "user:" PLANTED_KEY);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (fixture->authorization, ==, expected);
  g_assert_false (op_http_response_check_status (response, "AUTOMATIC1111", NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH, "user name or password was rejected");
  assert_contains (error->message, "Incorrect username or password");
}

/* A server that echoes what it was sent, or a backend that passes such a body on as
 * the detail, must not put the key in front of the designer. */
static void
test_key_never_shown (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/status");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  fixture->status = 401;
  fixture->answer_type = "text/plain";
  fixture->answer = "Incorrect API key provided: " PLANTED_KEY ". Find yours at example.com";
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  g_assert_false (op_http_response_check_status (response, "OpenAI", NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH, "the API key was rejected by OpenAI");
  assert_contains (error->message, "Incorrect API key provided");
  g_clear_error (&error);

  g_assert_false (op_http_response_check_status (response, "OpenAI",
                                                 "key " PLANTED_KEY " is wrong", &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH, "is wrong");
}

/* ------------------------------------------------------------------------------------ */
/* Statuses */

typedef struct
{
  const char *path;
  guint status;
  const char *type;
  const char *body;
  const char *detail;
  int code;
  const char *words;
  const char *more_words;
} StatusCase;

static const StatusCase status_cases[] = {
  { "/http/status/401", 401, "application/json",
    "{\"error\": {\"message\": \"Incorrect API key provided\", "
    "\"type\": \"invalid_request_error\"}}",
    NULL, OP_HTTP_ERROR_AUTH, "the API key was rejected", "Incorrect API key provided" },
  { "/http/status/403", 403, NULL, NULL, NULL, OP_HTTP_ERROR_AUTH, "the API key was rejected",
    NULL },
  { "/http/status/402", 402, "text/plain", "Payment Required", NULL, OP_HTTP_ERROR_CREDITS,
    "out of credits", "Payment Required" },
  { "/http/status/413", 413, "text/html",
    "<html><head><title>413 Request Entity Too Large</title></head><body></body></html>",
    NULL, OP_HTTP_ERROR_TOO_LARGE, "too large for Mock", "413 Request Entity Too Large" },
  { "/http/status/413-detail", 413, "application/json", "{\"name\": \"payload_too_large\"}",
    "body: payloads cannot be larger than 10MiB in size", OP_HTTP_ERROR_TOO_LARGE,
    "too large for Mock", "larger than 10MiB" },
  { "/http/status/400", 400, "application/json", "{}", "init_image: is required",
    OP_HTTP_ERROR_INVALID, "refused the request", "init_image: is required" },
  { "/http/status/404", 404, NULL, NULL, NULL, OP_HTTP_ERROR_INVALID, "check the address",
    "/status" },
  { "/http/status/500", 500, "application/json", "{\"detail\": \"CUDA out of memory\"}", NULL,
    OP_HTTP_ERROR_SERVER, "HTTP 500", "CUDA out of memory" },
  { "/http/status/502-html", 502, "text/html",
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "<script>var x = '<b>';</script></body>\r\n</html>\r\n",
    NULL, OP_HTTP_ERROR_BUSY, "busy (HTTP 502)", ": 502 Bad Gateway" },
  { "/http/status/html-without-title", 500, "text/html",
    "<!DOCTYPE html><html><style>p { color: red; }</style><body><p>Something &amp; "
    "nothing</p></body></html>",
    NULL, OP_HTTP_ERROR_SERVER, "HTTP 500", "Something & nothing" },
  { "/http/status/524", 524, "text/plain", "A timeout occurred", NULL, OP_HTTP_ERROR_TIMEOUT,
    "gave up waiting", NULL },
};

static void
test_status (Fixture       *fixture,
             gconstpointer  data)
{
  const StatusCase *test = data;
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/status");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  fixture->status = test->status;
  fixture->answer_type = test->type;
  fixture->answer = test->body;
  op_http_request_set_retries (request, 1, 0, NULL, NULL);
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (op_http_response_get_status (response), ==, test->status);

  g_assert_false (op_http_response_check_status (response, "Mock", test->detail, &error));
  assert_error (error, OP_HTTP_ERROR, test->code, test->words);
  assert_contains (error->message, test->more_words);
}

/* As a backend does it: FastAPI's validation error, parsed for its message. */
static void
test_status_422 (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/status");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *item;

  fixture->status = 422;
  fixture->answer_type = "application/json";
  fixture->answer = "{\"detail\": [{\"loc\": [\"body\", \"steps\"], "
                    "\"msg\": \"value is not a valid integer\", "
                    "\"type\": \"type_error.integer\"}]}";
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  root = op_http_response_parse_json (response, &error);
  g_assert_no_error (error);
  item = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (root), "detail"), 0);
  g_assert_false (op_http_response_check_status (response, "AUTOMATIC1111",
                                                 json_object_get_string_member (item, "msg"),
                                                 &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_INVALID, "value is not a valid integer");
}

static void
test_set_error (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/status");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  fixture->status = 403;
  fixture->answer_type = "application/json";
  fixture->answer = "{\"name\": \"content_moderation\", \"errors\": [\"flagged\"]}";
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  g_assert_false (op_http_response_set_error (response, OP_HTTP_ERROR_FILTERED, "Stability",
                                              "Your request was flagged", &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_FILTERED, "content was filtered");
  assert_contains (error->message, "Your request was flagged");
}

/* ------------------------------------------------------------------------------------ */
/* JSON */

static OpHttpResponse *
fetch (Fixture    *fixture,
       const char *type,
       const char *body)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "GET", "/status");
  g_autoptr(GError) error = NULL;
  OpHttpResponse *response;

  fixture->status = 200;
  fixture->answer_type = type;
  fixture->answer = body;
  response = op_http_request_send (request, NULL, &error);
  g_assert_no_error (error);

  return response;
}

static void
test_json_deep (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *body = g_strnfill (20000, '[');
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  memset (body + 10000, ']', 10000);
  response = fetch (fixture, "application/json", body);
  root = op_http_response_parse_json (response, &error);
  g_assert_null (root);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, "too deeply nested");
}

/* Brackets in strings are text, not nesting; 64 levels are fine. */
static void
test_json_brackets_in_strings (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *brackets = g_strnfill (200, '[');
  g_autofree char *open = g_strnfill (63, '[');
  g_autofree char *close = g_strnfill (63, ']');
  g_autofree char *body = g_strdup_printf ("{\"a\": \"%s\\\"[\", \"b\": %s1%s}",
                                           brackets, open, close);
  g_autoptr(OpHttpResponse) response = fetch (fixture, "application/json", body);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;

  root = op_http_response_parse_json (response, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
}

static void
test_json_invalid (Fixture       *fixture,
                   gconstpointer  data)
{
  static const struct { const char *type; const char *body; const char *words; } cases[] = {
    { "application/json", "{\"images\": [\"abc\"", "not valid JSON" },
    { "application/json", NULL, "empty answer" },
    { "text/html", "<!DOCTYPE html><html><head><title>Stable Diffusion</title></head></html>",
      "web page instead of data: Stable Diffusion" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OpHttpResponse) response = fetch (fixture, cases[i].type, cases[i].body);
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GError) error = NULL;

      root = op_http_response_parse_json (response, &error);
      g_assert_null (root);
      assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, cases[i].words);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Retries */

typedef struct
{
  guint calls;
  int last_attempt;
  char *last_message;
} RetryLog;

static void
on_retry_cb (int         attempt,
             double      delay_seconds,
             const char *message,
             gpointer    user_data)
{
  RetryLog *log = user_data;

  log->calls++;
  log->last_attempt = attempt;
  g_free (log->last_message);
  log->last_message = g_strdup (message);
  g_test_message ("retry %d after %.1f s: %s", attempt, delay_seconds, message);
}

static OpHttpResponse *
send_busy (Fixture       *fixture,
           guint          max_attempts,
           guint          max_seconds,
           RetryLog      *log,
           GCancellable  *cancellable,
           double        *elapsed,
           GError       **error)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/busy");
  gint64 start = g_get_monotonic_time ();
  OpHttpResponse *response;

  op_http_request_set_retries (request, max_attempts, max_seconds, on_retry_cb, log);
  response = op_http_request_send (request, cancellable, error);
  *elapsed = seconds_since (start);

  return response;
}

static void
test_retry_after_seconds (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  RetryLog log = { 0 };
  double elapsed;

  fixture->status = 429;
  fixture->retry_after = "1";
  fixture->failures = 1;
  response = send_busy (fixture, 4, 60, &log, NULL, &elapsed, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (op_http_response_get_status (response), ==, 200);
  g_assert_cmpuint (fixture->hits, ==, 2);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_cmpint (log.last_attempt, ==, 1);
  g_assert_cmpstr (log.last_message, ==, "the server is busy, retrying in 1 s");
  g_assert_cmpfloat (elapsed, >=, 0.9);
  g_free (log.last_message);
}

static char *
http_date (gint64 seconds_from_now)
{
  static const char * const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char * const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                         "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_seconds (now, seconds_from_now);

  return g_strdup_printf ("%s, %02d %s %d %02d:%02d:%02d GMT",
                          days[g_date_time_get_day_of_week (then) - 1],
                          g_date_time_get_day_of_month (then),
                          months[g_date_time_get_month (then) - 1],
                          g_date_time_get_year (then), g_date_time_get_hour (then),
                          g_date_time_get_minute (then), g_date_time_get_second (then));
}

static void
test_retry_after_date (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *date = http_date (2);
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  RetryLog log = { 0 };
  double elapsed;

  fixture->status = 503;
  fixture->retry_after = date;
  fixture->failures = 1;
  response = send_busy (fixture, 4, 60, &log, NULL, &elapsed, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (op_http_response_get_status (response), ==, 200);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_cmpfloat (elapsed, >=, 0.9);
  g_assert_cmpfloat (elapsed, <, 3.5);
  g_free (log.last_message);
}

static void
test_retry_attempts_run_out (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  RetryLog log = { 0 };
  double elapsed;

  fixture->status = 503;
  fixture->retry_after = "1";
  fixture->failures = G_MAXUINT;
  response = send_busy (fixture, 3, 60, &log, NULL, &elapsed, &error);
  g_assert_no_error (error);
  g_test_message ("3 attempts in %.2f s", elapsed);

  g_assert_cmpuint (fixture->hits, ==, 3);
  g_assert_cmpuint (log.calls, ==, 2);
  g_assert_cmpfloat (elapsed, <, 4.0);
  g_assert_false (op_http_response_check_status (response, "Mock", NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BUSY, "busy (HTTP 503), try again in 1 s");
  g_free (log.last_message);
}

/* Ten attempts allowed, but only two seconds of waiting: three attempts. */
static void
test_retry_time_runs_out (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  RetryLog log = { 0 };
  double elapsed;

  fixture->status = 504;
  fixture->retry_after = "1";
  fixture->failures = G_MAXUINT;
  response = send_busy (fixture, 10, 2, &log, NULL, &elapsed, &error);
  g_assert_no_error (error);
  g_test_message ("%u attempts in %.2f s", fixture->hits, elapsed);

  g_assert_cmpuint (fixture->hits, ==, 3);
  g_assert_cmpfloat (elapsed, <, 3.5);
  g_assert_false (op_http_response_check_status (response, "Mock", NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BUSY, "busy (HTTP 504)");
  g_free (log.last_message);
}

typedef struct
{
  GCancellable *cancellable;
  guint delay_ms;
  gint64 cancelled_at;
} Canceller;

static gpointer
canceller_thread (gpointer data)
{
  Canceller *canceller = data;

  g_usleep (canceller->delay_ms * 1000);
  canceller->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (canceller->cancellable);

  return NULL;
}

static GThread *
cancel_later (Canceller    *canceller,
              GCancellable *cancellable,
              guint         delay_ms)
{
  canceller->cancellable = cancellable;
  canceller->delay_ms = delay_ms;
  return g_thread_new ("canceller", canceller_thread, canceller);
}

static void
test_retry_wait_cancelled (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  Canceller canceller = { 0 };
  RetryLog log = { 0 };
  GThread *thread;
  double elapsed;

  fixture->status = 503;
  fixture->retry_after = "30";
  fixture->failures = G_MAXUINT;
  thread = cancel_later (&canceller, cancellable, 300);
  response = send_busy (fixture, 4, 60, &log, cancellable, &elapsed, &error);
  g_thread_join (thread);
  g_test_message ("cancelled the 30 s wait after %.3f s, returned %.3f s after the cancel",
                  elapsed, (g_get_monotonic_time () - canceller.cancelled_at) / 1e6);

  g_assert_null (response);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_cmpfloat (elapsed, <, 1.3);
  g_free (log.last_message);
}

/* ------------------------------------------------------------------------------------ */
/* Transport */

static void
test_stall (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/stall");
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double elapsed;

  op_http_request_set_stall_timeout (request, 1);
  response = op_http_request_send (request, NULL, &error);
  elapsed = seconds_since (start);
  g_test_message ("a silent server failed after %.3f s (stall timeout 1 s)", elapsed);

  g_assert_null (response);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TIMEOUT, "nothing arrived for 1 s");
  assert_contains (error->message, op_mock_server_get_url (fixture->server));
  g_assert_cmpfloat (elapsed, >=, 0.9);
  g_assert_cmpfloat (elapsed, <, 2.5);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "POST", "/stall");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  Canceller canceller = { 0 };
  GThread *thread;
  double latency;

  op_http_request_set_stall_timeout (request, 0);
  thread = cancel_later (&canceller, cancellable, 300);
  response = op_http_request_send (request, cancellable, &error);
  latency = (g_get_monotonic_time () - canceller.cancelled_at) / (double) G_USEC_PER_SEC;
  g_thread_join (thread);
  g_test_message ("a waiting request returned %.3f s after the cancel", latency);

  g_assert_null (response);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (fixture->hits, ==, 1);
  g_assert_cmpfloat (latency, <, 1.0);
}

static void
test_cancel_before (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = request_with_key (fixture, "GET", "/echo");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  response = op_http_request_send (request, cancellable, &error);
  g_assert_null (response);
  assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
}

static guint16
unused_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  g_socket_close (socket, NULL);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
test_refused (void)
{
  g_autofree char *base = g_strdup_printf ("http://127.0.0.1:%u", unused_port ());
  g_autofree char *url = g_strconcat (base, "/sdapi/v1/img2img", NULL);
  g_autoptr(OpHttpRequest) request = op_http_request_new ("POST", url);
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  op_http_request_set_bearer (request, PLANTED_KEY);
  response = op_http_request_send (request, NULL, &error);
  g_assert_null (response);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "connection refused");
  assert_contains (error->message, base);
}

/* A server written by hand, for what libsoup would never do: lie about the length,
 * or reset the connection. */
typedef struct
{
  GSocketListener *listener;
  GThread *thread;
  char *url;
  const char *answer;
  gboolean reset;
} RawServer;

static void
read_request_head (GSocketConnection *connection)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GString *head = g_string_new (NULL);
  char c;

  while (!g_str_has_suffix (head->str, "\r\n\r\n")
         && g_input_stream_read (input, &c, 1, NULL, NULL) == 1)
    g_string_append_c (head, c);

  g_string_free (head, TRUE);
}

static gpointer
raw_server_thread (gpointer data)
{
  RawServer *raw = data;
  g_autoptr(GSocketConnection) connection = NULL;
  GOutputStream *output;

  connection = g_socket_listener_accept (raw->listener, NULL, NULL, NULL);
  g_assert_nonnull (connection);
  read_request_head (connection);

  output = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  if (raw->answer != NULL)
    g_output_stream_write_all (output, raw->answer, strlen (raw->answer), NULL, NULL, NULL);

  /* Lingering for zero seconds sends a reset instead of an orderly close. */
  if (raw->reset)
    {
      struct linger linger = { 1, 0 };

      setsockopt (g_socket_get_fd (g_socket_connection_get_socket (connection)), SOL_SOCKET,
                  SO_LINGER, &linger, sizeof linger);
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);

  return NULL;
}

static void
raw_server_start (RawServer  *raw,
                  const char *answer,
                  gboolean    reset)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  raw->listener = g_socket_listener_new ();
  g_socket_listener_add_address (raw->listener, address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  raw->url = g_strdup_printf ("http://127.0.0.1:%u/raw", g_inet_socket_address_get_port (
                                G_INET_SOCKET_ADDRESS (effective)));
  raw->answer = answer;
  raw->reset = reset;
  raw->thread = g_thread_new ("raw-server", raw_server_thread, raw);
}

static void
raw_server_stop (RawServer *raw)
{
  g_thread_join (raw->thread);
  g_socket_listener_close (raw->listener);
  g_object_unref (raw->listener);
  g_free (raw->url);
}

static GError *
send_to_raw (const char *answer,
             gboolean    reset,
             char      **url)
{
  RawServer raw = { 0 };
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  GError *error = NULL;

  raw_server_start (&raw, answer, reset);
  request = op_http_request_new ("GET", raw.url);
  op_http_request_set_bearer (request, PLANTED_KEY);
  op_http_request_set_stall_timeout (request, 5);
  response = op_http_request_send (request, NULL, &error);
  g_assert_null (response);
  *url = g_strdup (raw.url);
  raw_server_stop (&raw);

  return error;
}

static void
test_truncated (void)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  error = send_to_raw ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 1000\r\n\r\n{\"images\": [\"iVBOR", FALSE, &url);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, "was cut off");
  assert_contains (error->message, url);
}

static void
test_reset (void)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  error = send_to_raw (NULL, TRUE, &url);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "the connection was reset");
  assert_contains (error->message, url);
}

static void
test_closed_without_answer (void)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  error = send_to_raw (NULL, FALSE, &url);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "without answering");
}

static void
test_not_http (void)
{
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;

  error = send_to_raw ("SSH-2.0-OpenSSH_9.2p1\r\n", FALSE, &url);
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, "not HTTP");
}

static void
test_url_redacted (void)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strdup_printf ("http://user:%s@127.0.0.1:%u/x?key=%s",
                                          PLANTED_KEY, unused_port (), PLANTED_KEY);

  request = op_http_request_new ("GET", url);
  g_assert_null (op_http_request_send (request, NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "/x");
  g_assert_null (strstr (error->message, "key="));
  g_assert_null (strstr (error->message, "user"));
  g_clear_error (&error);
  g_clear_pointer (&request, op_http_request_free);

  /* An address curl cannot parse is cleaned by hand. */
  request = op_http_request_new ("GET", "http://user:" PLANTED_KEY "@exa mple.invalid/x");
  g_assert_null (op_http_request_send (request, NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "http://exa mple.invalid/x");
}

static void
test_not_http_address (void)
{
  g_autoptr(OpHttpRequest) request = op_http_request_new ("GET", "ftp://127.0.0.1/x");
  g_autoptr(GError) error = NULL;

  g_assert_null (op_http_request_send (request, NULL, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, "not an http://");
}

/* ------------------------------------------------------------------------------------ */
/* Proxy */

static void
on_proxy_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  record_request (user_data, msg);
  answer (msg, 200, "text/plain", "through the proxy");
}

static void
test_proxy_from_environment (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *body;

  /* libcurl reads the environment for each transfer; nothing else runs meanwhile. */
  op_mock_server_add_handler (fixture->server, NULL, on_proxy_cb, fixture);
  g_setenv ("http_proxy", op_mock_server_get_url (fixture->server), TRUE);
  g_unsetenv ("no_proxy");
  g_unsetenv ("NO_PROXY");

  request = op_http_request_new ("GET", "http://overpaint-nowhere.invalid/sdapi/v1/options");
  response = op_http_request_send (request, NULL, &error);
  g_unsetenv ("http_proxy");
  g_assert_no_error (error);

  g_assert_cmpuint (op_http_response_get_status (response), ==, 200);
  g_assert_cmpstr (fixture->host, ==, "overpaint-nowhere.invalid");
  body = op_http_response_get_body (response);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   "through the proxy", 17);
}

/* ------------------------------------------------------------------------------------ */
/* Pictures */

typedef struct
{
  const char *path;
  const char *text;
  gsize length;              /* of the picture; 0 for an error */
  const char *words;
} Base64Case;

static const Base64Case base64_cases[] = {
  { "/http/base64/png", PNG_BASE64, PNG_LENGTH, NULL },
  { "/http/base64/data-url", "data:image/png;base64," PNG_BASE64, PNG_LENGTH, NULL },
  { "/http/base64/line-breaks", "iVBORw0K\nGgoAAAAN\r\nSUhEUg==\n", PNG_LENGTH, NULL },
  { "/http/base64/no-padding", "iVBORw0KGgoAAAANSUhEUg", PNG_LENGTH, NULL },
  { "/http/base64/jpeg", "/9j/4AAQSkZJRgA=", 11, NULL },
  { "/http/base64/webp", "UklGRiQAAABXRUJQVlA4IA==", 16, NULL },
  { "/http/base64/garbage", "!!!! not base64 ****", 0, "not valid base64" },
  { "/http/base64/garbage-inside", "iVBORw0K*GgoAAAANSUhEUg==", 0, "not valid base64" },
  { "/http/base64/after-padding", "iVBORw0KGgoAAAANSUhEUg==AA", 0, "not valid base64" },
  { "/http/base64/url-safe", "iVBORw0KGgoAAAANSUhE_g==", 0, "not valid base64" },
  { "/http/base64/data-url-not-base64", "data:image/png,iVBORw0K", 0, "not valid base64" },
  { "/http/base64/text", "aGVsbG8sIHdvcmxk", 0, "something that is not an image" },
  { "/http/base64/empty", "", 0, "empty picture" },
  { "/http/base64/empty-data-url", "data:image/png;base64,", 0, "empty picture" },
};

static void
test_base64 (gconstpointer data)
{
  const Base64Case *test = data;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  bytes = op_http_decode_base64 (test->text, &error);
  if (test->length == 0)
    {
      g_assert_null (bytes);
      assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, test->words);
      return;
    }

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, test->length);
}

static void
test_check_image (void)
{
  g_autoptr(GBytes) text = g_bytes_new_static ("{\"error\": 1}", 12);
  g_autoptr(GBytes) png = op_http_decode_base64 (PNG_BASE64, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (op_http_check_image (png, &error));
  g_assert_no_error (error);
  g_assert_false (op_http_check_image (text, &error));
  assert_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER, "not an image");
}

/* ------------------------------------------------------------------------------------ */

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  /* A proxy in the test's environment would take the requests to 127.0.0.1; the
   * environment is changed before any thread starts. */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("https_proxy");
  g_unsetenv ("HTTPS_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

  g_test_init (&argc, &argv, NULL);

  ADD ("/http/json/round-trip", test_json_round_trip);
  ADD ("/http/json/deep-nesting", test_json_deep);
  ADD ("/http/json/brackets-in-strings", test_json_brackets_in_strings);
  ADD ("/http/json/invalid", test_json_invalid);
  ADD ("/http/multipart", test_multipart);
  ADD ("/http/auth/basic", test_basic_auth);
  ADD ("/http/auth/key-never-shown", test_key_never_shown);
  for (guint i = 0; i < G_N_ELEMENTS (status_cases); i++)
    g_test_add (status_cases[i].path, Fixture, &status_cases[i], fixture_set_up, test_status,
                fixture_tear_down);
  ADD ("/http/status/422-detail", test_status_422);
  ADD ("/http/status/set-error", test_set_error);
  ADD ("/http/retry/retry-after-seconds", test_retry_after_seconds);
  ADD ("/http/retry/retry-after-date", test_retry_after_date);
  ADD ("/http/retry/attempts-run-out", test_retry_attempts_run_out);
  ADD ("/http/retry/time-runs-out", test_retry_time_runs_out);
  ADD ("/http/retry/wait-cancelled", test_retry_wait_cancelled);
  ADD ("/http/transport/stall", test_stall);
  ADD ("/http/transport/cancel", test_cancel);
  ADD ("/http/transport/cancel-before", test_cancel_before);
  g_test_add_func ("/http/transport/refused", test_refused);
  g_test_add_func ("/http/transport/truncated", test_truncated);
  g_test_add_func ("/http/transport/reset", test_reset);
  g_test_add_func ("/http/transport/closed-without-answer", test_closed_without_answer);
  g_test_add_func ("/http/transport/not-http", test_not_http);
  g_test_add_func ("/http/transport/url-redacted", test_url_redacted);
  g_test_add_func ("/http/transport/not-http-address", test_not_http_address);
  ADD ("/http/proxy/environment", test_proxy_from_environment);
  for (guint i = 0; i < G_N_ELEMENTS (base64_cases); i++)
    g_test_add_data_func (base64_cases[i].path, &base64_cases[i], test_base64);
  g_test_add_func ("/http/check-image", test_check_image);

  return g_test_run ();
}
