/* test-stability.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-stability"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-glib/json-glib.h>

#include "op-http.h"
#include "op-mock-server.h"
#include "op-stability-backend.h"
#include "op-worker.h"

/* The Stability AI backend against a mock that holds it to the contract the way the
 * service does (shared/contracts/backends.md §2): the key, the accept header, every
 * multipart field's name, type and range, picture sizes and the 10 MiB limit, and the
 * mask, which must be white exactly where the prepared input says to regenerate.  The
 * mock answers as the service does, or fails in one of the ways it can. */

#define API_KEY "sk-test-0123456789abcdef"
#define JOB_TIMEOUT_S 120
/* What the mock says it picked when asked for seed 0 ("random"). */
#define MOCK_RANDOM_SEED 424242
#define V2_REQUEST_LIMIT (10 * 1024 * 1024)

static const char * const style_presets[] = {
  "3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
  "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk",
  "origami", "photographic", "pixel-art", "tile-texture", NULL
};

static const char * const samplers[] = {
  "DDIM", "DDPM", "K_DPMPP_2M", "K_DPMPP_2S_ANCESTRAL", "K_DPM_2", "K_DPM_2_ANCESTRAL",
  "K_EULER", "K_EULER_ANCESTRAL", "K_HEUN", "K_LMS", NULL
};

static const char * const clip_presets[] = {
  "FAST_BLUE", "FAST_GREEN", "NONE", "SIMPLE", "SLOW", "SLOWER", "SLOWEST", NULL
};

static const char * const mask_sources[] = {
  "MASK_IMAGE_WHITE", "MASK_IMAGE_BLACK", "INIT_IMAGE_ALPHA", NULL
};

static const char * const output_formats[] = { "jpeg", "png", "webp", NULL };

static const char * const engines_json =
  "[{\"id\":\"stable-diffusion-v1-6\",\"name\":\"Stable Diffusion v1.6\","
  "\"description\":\"Stability-AI Stable Diffusion v1.6\",\"type\":\"PICTURE\"},"
  "{\"id\":\"stable-diffusion-512-v2-1\",\"name\":\"Stable Diffusion v2.1-base\","
  "\"description\":\"Stability-AI Stable Diffusion v2.1-base\",\"type\":\"PICTURE\"},"
  "{\"id\":\"esrgan-v1-x2plus\",\"name\":\"Real-ESRGAN x2\","
  "\"description\":\"Real-ESRGAN_x2plus upscaler model\",\"type\":\"PICTURE\"},"
  "{\"id\":\"stable-lm\",\"name\":\"StableLM\",\"description\":\"text\",\"type\":\"TEXT\"}]";

typedef enum
{
  FAIL_NONE,
  FAIL_CREDITS,           /* 402 insufficient balance */
  FAIL_TOO_LARGE,         /* 413 */
  FAIL_LANGUAGE,          /* 422 invalid_language */
  FAIL_BAD_REQUEST,       /* 400 with validation details */
  FAIL_MODERATION,        /* 403 content_moderation */
  FAIL_RATE_LIMIT_ONCE,   /* 429 with Retry-After, then success */
  FAIL_SERVER,            /* 500 JSON */
  FAIL_HTML_502,          /* a gateway's HTML page */
  FAIL_TRUNCATED,         /* the body stops short of its Content-Length */
  FAIL_BAD_BASE64,        /* v1 artifact that is not base64 */
  FAIL_WRONG_SIZE,        /* a picture of another shape */
  FAIL_RESET,             /* the connection is reset */
  FAIL_STALL,             /* never answers */
  FAIL_FILTERED,          /* finish reason CONTENT_FILTERED */
} Failure;

typedef enum
{
  API_V1,
  API_V2,
} Api;

typedef struct
{
  char   *content_type;
  char   *filename;     /* NULL: a text field */
  GBytes *data;
} Part;

/* The mock's state.  The test sets what it asks for before the first call and reads
 * what the mock saw once its job is over; in between the handlers, in the server's
 * thread, write under @lock. */
typedef struct
{
  OpMockServer *server;
  GMutex        lock;

  /* What the test asks for */
  Failure       failure;
  guint         delay_ms;
  OpMask       *expected_mask;
  OpImage      *expected_image;
  int           expected_dirs[4];   /* left, right, up, down; -1: do not check */

  /* What the mock saw */
  guint         n_calls;
  guint         in_flight;
  guint         max_in_flight;
  GPtrArray    *paths;
  GPtrArray    *refusals;           /* "name: message" of every 4xx the mock chose */
  GArray       *seeds;              /* gint64, as sent */
  char         *image_type;
  char         *mask_type;
  gsize         body_size;
  char         *mask_source;
  char         *grow_mask;
  char         *negative_prompt;
  char         *prompt;
  double        prompt_weight;
  double        negative_weight;
  char         *sampler;
  char         *steps;
  char         *cfg_scale;
} Mock;

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

/* A distinct, opaque colour per seed, so a test can tell which call made a pixel. */
static void
seed_color (gint64  seed,
            guint8  rgb[3])
{
  rgb[0] = (guint8) (30 + (seed * 53) % 200);
  rgb[1] = (guint8) (30 + (seed * 97) % 200);
  rgb[2] = (guint8) (30 + (seed * 29) % 200);
}

static void
part_free (Part *part)
{
  g_free (part->content_type);
  g_free (part->filename);
  g_clear_pointer (&part->data, g_bytes_unref);
  g_free (part);
}

static gboolean
in_list (const char         *value,
         const char * const *list)
{
  return value != NULL && g_strv_contains (list, value);
}

static gboolean
has_signature (GBytes     *bytes,
               const char *type)
{
  gsize length = 0;
  const guint8 *data = g_bytes_get_data (bytes, &length);

  if (g_str_equal (type, "image/png"))
    return length > 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0;
  if (g_str_equal (type, "image/jpeg"))
    return length > 3 && memcmp (data, "\xff\xd8\xff", 3) == 0;
  if (g_str_equal (type, "image/webp"))
    return length > 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0;

  return FALSE;
}

/* The mock: answering */

static char *
request_id (void)
{
  return g_strdup_printf ("%08x%08x%08x%08x", g_random_int (), g_random_int (),
                          g_random_int (), g_random_int ());
}

static void
call_finished (Mock *mock)
{
  g_mutex_lock (&mock->lock);
  mock->in_flight--;
  g_mutex_unlock (&mock->lock);
}

static gboolean
release_cb (gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  Mock *mock = g_object_get_data (G_OBJECT (msg), "mock");

  call_finished (mock);
  soup_server_message_unpause (msg);

  return G_SOURCE_REMOVE;
}

/* Sends the answer now, or after the mock's delay so calls overlap. */
static void
send_answer (Mock              *mock,
             SoupServerMessage *msg,
             guint              status,
             const char        *content_type,
             GBytes            *body)
{
  g_autoptr(GSource) source = NULL;
  gsize length = 0;
  const char *data = g_bytes_get_data (body, &length);
  guint delay;

  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, data, length);
  soup_server_message_set_status (msg, status, NULL);

  g_mutex_lock (&mock->lock);
  delay = mock->delay_ms;
  g_mutex_unlock (&mock->lock);

  if (delay == 0)
    {
      call_finished (mock);
      return;
    }

  g_object_set_data (G_OBJECT (msg), "mock", mock);
  soup_server_message_pause (msg);
  source = g_timeout_source_new (delay);
  g_source_set_callback (source, release_cb, g_object_ref (msg), g_object_unref);
  g_source_attach (source, op_mock_server_get_context (mock->server));
}

static void
send_json (Mock              *mock,
           SoupServerMessage *msg,
           guint              status,
           JsonBuilder       *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autoptr(GBytes) body = NULL;
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  body = g_bytes_new_take (text, length);
  send_answer (mock, msg, status, "application/json", body);
}

/* v2beta: {"id","name","errors":[…]}; v1: {"id","name","message"}. */
static void
send_error (Mock              *mock,
            SoupServerMessage *msg,
            Api                api,
            guint              status,
            const char        *name,
            const char        *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *id = request_id ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  if (api == API_V2)
    {
      json_builder_set_member_name (builder, "errors");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, message);
      json_builder_end_array (builder);
    }
  else
    {
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, message);
    }
  json_builder_end_object (builder);

  send_json (mock, msg, status, builder);
}

/* A refusal the contract makes: remembered, so a test can say the client broke it. */
static void
refuse (Mock              *mock,
        SoupServerMessage *msg,
        Api                api,
        guint              status,
        const char        *name,
        const char        *message)
{
  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->refusals, g_strdup_printf ("%u %s: %s", status, name, message));
  g_mutex_unlock (&mock->lock);

  send_error (mock, msg, api, status, name, message);
}

static void
send_raw_and_close (SoupServerMessage *msg,
                    const char        *head,
                    GBytes            *body,
                    gsize              body_length)
{
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);
  GOutputStream *out;

  g_assert_nonnull (stream);
  out = g_io_stream_get_output_stream (stream);
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  if (body != NULL)
    g_output_stream_write_all (out, g_bytes_get_data (body, NULL), body_length, NULL, NULL,
                               NULL);
  g_output_stream_flush (out, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

/* A body cut off half way through its declared length. */
static void
send_truncated (Mock              *mock,
                SoupServerMessage *msg,
                GBytes            *png)
{
  g_autofree char *head = NULL;

  call_finished (mock);
  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\nfinish-reason: SUCCESS\r\n"
                          "seed: 1\r\n\r\n", g_bytes_get_size (png));
  send_raw_and_close (msg, head, png, g_bytes_get_size (png) / 2);
}

/* SO_LINGER with a zero timeout makes close() send a reset. */
static void
send_reset (Mock              *mock,
            SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  struct linger linger = { 1, 0 };

  call_finished (mock);
  g_assert_nonnull (socket);
  g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER,
                               &linger, sizeof linger), ==, 0);
  send_raw_and_close (msg, "", NULL, 0);
}

static void
send_stall (Mock              *mock,
            SoupServerMessage *msg)
{
  /* Paused for good: the server closes the connection when the test frees it. */
  soup_server_message_pause (msg);
}

static void
send_html_502 (Mock              *mock,
               SoupServerMessage *msg)
{
  static const char page[] =
    "<html><head><title>502 Bad Gateway</title></head><body><center>"
    "<h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>";
  g_autoptr(GBytes) body = g_bytes_new_static (page, sizeof page - 1);

  /* A short Retry-After keeps the client's retries to a few seconds. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Retry-After", "1");
  send_answer (mock, msg, 502, "text/html", body);
}

/* The failures every endpoint can answer with instead of success.  TRUE when it
 * answered. */
static gboolean
send_failure (Mock              *mock,
              SoupServerMessage *msg,
              Api                api,
              GBytes            *png)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  Failure failure;

  g_mutex_lock (&mock->lock);
  failure = mock->failure;
  if (failure == FAIL_RATE_LIMIT_ONCE)
    mock->failure = FAIL_NONE;
  g_mutex_unlock (&mock->lock);

  switch (failure)
    {
    case FAIL_CREDITS:
      send_error (mock, msg, api, 402, "payment_required",
                  "insufficient balance: your account has 0 credits left");
      return TRUE;

    case FAIL_TOO_LARGE:
      send_error (mock, msg, api, 413, "payload_too_large",
                  "body: payloads cannot be larger than 10MiB in size");
      return TRUE;

    case FAIL_LANGUAGE:
      send_error (mock, msg, api, 422, "invalid_language",
                  "English is the only supported language for this service.");
      return TRUE;

    case FAIL_BAD_REQUEST:
      send_error (mock, msg, api, 400, "bad_request",
                  "style_preset: must be one of the supported presets");
      return TRUE;

    case FAIL_MODERATION:
      send_error (mock, msg, api, 403, "content_moderation",
                  "Your request was flagged by our content moderation system.");
      return TRUE;

    case FAIL_RATE_LIMIT_ONCE:
      soup_message_headers_replace (headers, "Retry-After", "1");
      send_error (mock, msg, api, 429, "rate_limit_exceeded",
                  "You have exceeded the rate limit of 150 requests within a 10 second "
                  "period.");
      return TRUE;

    case FAIL_SERVER:
      send_error (mock, msg, api, 500, api == API_V2 ? "internal_error" : "server_error",
                  "An unexpected server error has occurred, please try again later.");
      return TRUE;

    case FAIL_HTML_502:
      send_html_502 (mock, msg);
      return TRUE;

    case FAIL_TRUNCATED:
      send_truncated (mock, msg, png);
      return TRUE;

    case FAIL_RESET:
      send_reset (mock, msg);
      return TRUE;

    case FAIL_STALL:
      send_stall (mock, msg);
      return TRUE;

    case FAIL_NONE:
    case FAIL_BAD_BASE64:
    case FAIL_WRONG_SIZE:
    case FAIL_FILTERED:
    default:
      return FALSE;
    }
}

static Failure
current_failure (Mock *mock)
{
  Failure failure;

  g_mutex_lock (&mock->lock);
  failure = mock->failure;
  g_mutex_unlock (&mock->lock);

  return failure;
}

/* v2beta asked for any image type answers the bytes with finish-reason and seed headers;
 * with accept: application/json, {"image","seed","finish_reason"}. */
static void
send_v2_image (Mock              *mock,
               SoupServerMessage *msg,
               GBytes            *png,
               gint64             seed)
{
  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Accept");
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *reason = current_failure (mock) == FAIL_FILTERED ? "CONTENT_FILTERED" : "SUCCESS";
  g_autofree char *seed_text = g_strdup_printf ("%" G_GINT64_FORMAT, seed);
  g_autofree char *id = request_id ();

  soup_message_headers_replace (headers, "x-request-id", id);

  if (g_strcmp0 (accept, "application/json") == 0)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *b64 = g_base64_encode (g_bytes_get_data (png, NULL),
                                              g_bytes_get_size (png));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "image");
      json_builder_add_string_value (builder, b64);
      json_builder_set_member_name (builder, "seed");
      json_builder_add_int_value (builder, seed);
      json_builder_set_member_name (builder, "finish_reason");
      json_builder_add_string_value (builder, reason);
      json_builder_end_object (builder);
      send_json (mock, msg, 200, builder);
      soup_message_headers_set_content_type (headers, "application/json; type=image/png", NULL);
      return;
    }

  soup_message_headers_replace (headers, "finish-reason", reason);
  soup_message_headers_replace (headers, "seed", seed_text);
  send_answer (mock, msg, 200, "image/png", png);
}

/* v1: {"artifacts":[{"base64","seed","finishReason"}]} or, with accept: image/png, the
 * bytes with Finish-Reason and Seed headers. */
static void
send_v1_artifact (Mock              *mock,
                  SoupServerMessage *msg,
                  GBytes            *png,
                  gint64             seed)
{
  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Accept");
  const char *reason = current_failure (mock) == FAIL_FILTERED ? "CONTENT_FILTERED" : "SUCCESS";
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *b64 = NULL;

  if (g_strcmp0 (accept, "image/png") == 0)
    {
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
      g_autofree char *seed_text = g_strdup_printf ("%" G_GINT64_FORMAT, seed);

      soup_message_headers_replace (headers, "Finish-Reason", reason);
      soup_message_headers_replace (headers, "Seed", seed_text);
      send_answer (mock, msg, 200, "image/png", png);
      return;
    }

  if (current_failure (mock) == FAIL_BAD_BASE64)
    b64 = g_strdup ("iVBORw0KGgo=!!not*base64**");
  else
    b64 = g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "artifacts");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "base64");
  json_builder_add_string_value (builder, b64);
  json_builder_set_member_name (builder, "seed");
  json_builder_add_int_value (builder, seed);
  json_builder_set_member_name (builder, "finishReason");
  json_builder_add_string_value (builder, reason);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  send_json (mock, msg, 200, builder);
}

/* The mock: reading requests */

/* Counts the call, checks the key, the accept header and the form.  FALSE when it has
 * answered already. */
static gboolean
begin_call (Mock               *mock,
            SoupServerMessage  *msg,
            Api                 api,
            const char * const *accepts,
            GHashTable        **form)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (headers, "Authorization");
  const char *accept = soup_message_headers_get_one (headers, "Accept");
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autofree char *message = NULL;
  SoupMultipart *multipart;

  g_mutex_lock (&mock->lock);
  mock->n_calls++;
  mock->in_flight++;
  mock->max_in_flight = MAX (mock->max_in_flight, mock->in_flight);
  g_ptr_array_add (mock->paths, g_strdup (g_uri_get_path (soup_server_message_get_uri (msg))));
  mock->body_size = g_bytes_get_size (body);
  g_mutex_unlock (&mock->lock);

  if (g_strcmp0 (auth, "Bearer " API_KEY) != 0)
    {
      send_error (mock, msg, api, 401, "unauthorized",
                  auth == NULL ? "authorization: missing" : "authorization: invalid API key");
      return FALSE;
    }

  if (!in_list (accept, accepts))
    {
      message = g_strdup_printf ("accept: %s is not one of the accepted types",
                                 accept != NULL ? accept : "(none)");
      refuse (mock, msg, api, 400, "bad_request", message);
      return FALSE;
    }

  if (api == API_V2 && g_bytes_get_size (body) > V2_REQUEST_LIMIT)
    {
      refuse (mock, msg, api, 413, "payload_too_large",
              "body: payloads cannot be larger than 10MiB in size");
      return FALSE;
    }

  if (form == NULL)
    return TRUE;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0 ||
      (multipart = soup_multipart_new_from_message (headers, body)) == NULL)
    {
      refuse (mock, msg, api, 400, "bad_request", "body: must be multipart/form-data");
      return FALSE;
    }

  *form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) part_free);
  for (int i = 0; i < soup_multipart_get_length (multipart); i++)
    {
      SoupMessageHeaders *part_headers;
      g_autoptr(GHashTable) params = NULL;
      GBytes *part_body;
      Part *part;
      const char *name;

      soup_multipart_get_part (multipart, i, &part_headers, &part_body);
      if (!soup_message_headers_get_content_disposition (part_headers, NULL, &params) ||
          (name = g_hash_table_lookup (params, "name")) == NULL ||
          g_hash_table_contains (*form, name))
        {
          soup_multipart_free (multipart);
          refuse (mock, msg, api, 400, "bad_request", "body: a part without a name, or twice");
          return FALSE;
        }

      part = g_new0 (Part, 1);
      part->filename = g_strdup (g_hash_table_lookup (params, "filename"));
      part->content_type = g_strdup (soup_message_headers_get_content_type (part_headers, NULL));
      part->data = g_bytes_ref (part_body);
      g_hash_table_insert (*form, g_strdup (name), part);
    }
  soup_multipart_free (multipart);

  return TRUE;
}

/* NULL when every field is one the endpoint knows. */
static char *
unknown_field (GHashTable         *form,
               const char * const *known,
               const char         *known_prefix)
{
  GHashTableIter iter;
  const char *name;

  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      if (in_list (name, known) || (known_prefix != NULL && g_str_has_prefix (name, known_prefix)))
        continue;
      return g_strdup_printf ("%s: is not a field of this endpoint", name);
    }

  return NULL;
}

/* A text field's value; NULL with @message when it is a file or, when @required,
 * missing. */
static const char *
text_field (GHashTable  *form,
            const char  *name,
            gboolean     required,
            char       **message)
{
  Part *part = g_hash_table_lookup (form, name);

  if (*message != NULL)
    return NULL;
  if (part == NULL)
    {
      if (required)
        *message = g_strdup_printf ("%s: is required", name);
      return NULL;
    }
  if (part->filename != NULL)
    {
      *message = g_strdup_printf ("%s: must be a text field, not a file", name);
      return NULL;
    }

  return g_bytes_get_data (part->data, NULL) != NULL ? g_bytes_get_data (part->data, NULL) : "";
}

static gboolean
check_number (GHashTable  *form,
              const char  *name,
              double       min,
              double       max,
              gboolean     integer,
              gboolean     required,
              double      *value,
              char       **message)
{
  g_autofree char *text = NULL;
  const char *field = text_field (form, name, required, message);
  char *end = NULL;
  double v;

  if (field == NULL)
    return *message == NULL;

  text = g_strndup (field, g_bytes_get_size (((Part *) g_hash_table_lookup (form, name))->data));
  v = g_ascii_strtod (text, &end);
  if (*text == '\0' || *end != '\0' || (integer && v != (gint64) v) || !(v >= min && v <= max))
    {
      *message = g_strdup_printf ("%s: must be %s between %g and %g, not “%s”", name,
                                  integer ? "an integer" : "a number", min, max, text);
      return FALSE;
    }

  if (value != NULL)
    *value = v;
  return TRUE;
}

static char *
field_string (GHashTable *form,
              const char *name)
{
  Part *part = g_hash_table_lookup (form, name);

  if (part == NULL || part->filename != NULL)
    return NULL;

  return g_strndup (g_bytes_get_data (part->data, NULL), g_bytes_get_size (part->data));
}

static void
check_text (GHashTable  *form,
            const char  *name,
            gboolean     required,
            glong        min_chars,
            glong        max_chars,
            char       **message)
{
  g_autofree char *text = NULL;
  glong n;

  if (text_field (form, name, required, message) == NULL)
    return;

  text = field_string (form, name);
  n = g_utf8_strlen (text, -1);
  if (n < min_chars || n > max_chars)
    *message = g_strdup_printf ("%s: must be %ld to %ld characters long", name, min_chars,
                                max_chars);
}

static void
check_enum (GHashTable         *form,
            const char         *name,
            const char * const *values,
            gboolean            required,
            char              **message)
{
  g_autofree char *text = NULL;

  if (text_field (form, name, required, message) == NULL)
    return;

  text = field_string (form, name);
  if (!in_list (text, values))
    *message = g_strdup_printf ("%s: “%s” is not one of the accepted values", name, text);
}

/* A file part holding a picture in one of @types; the decoded picture. */
static OpImage *
file_picture (GHashTable         *form,
              const char         *name,
              const char * const *types,
              char              **type,
              char              **message)
{
  Part *part = g_hash_table_lookup (form, name);
  g_autoptr(GError) error = NULL;
  OpImage *image;

  if (*message != NULL)
    return NULL;
  if (part == NULL || part->filename == NULL)
    {
      *message = g_strdup_printf (part == NULL ? "%s: is required" : "%s: must be a file",
                                  name);
      return NULL;
    }
  if (!in_list (part->content_type, types) || !has_signature (part->data, part->content_type))
    {
      *message = g_strdup_printf ("%s: unsupported or mislabelled type %s", name,
                                  part->content_type);
      return NULL;
    }

  image = op_image_new_from_bytes (part->data, &error);
  if (image == NULL)
    *message = g_strdup_printf ("%s: could not be decoded: %s", name, error->message);
  else if (type != NULL)
    *type = g_strdup (part->content_type);

  return image;
}

/* Grey, and white exactly where the prepared input says to regenerate. */
static void
check_mask (Mock          *mock,
            const char    *name,
            OpImage       *mask,
            OpImage       *image,
            char         **message)
{
  const OpMask *expected = mock->expected_mask;
  const guint8 *data;
  int width, height;

  if (*message != NULL)
    return;

  data = op_image_peek_data (mask);
  width = op_image_get_width (mask);
  height = op_image_get_height (mask);
  if (width != op_image_get_width (image) || height != op_image_get_height (image))
    {
      *message = g_strdup_printf ("%s: is %d × %d but the image is %d × %d", name, width,
                                  height, op_image_get_width (image),
                                  op_image_get_height (image));
      return;
    }

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = data + (gsize) y * op_image_get_stride (mask) + 4 * (gsize) x;
        gboolean white;

        if (p[0] != p[1] || p[1] != p[2] || p[3] != 255 || (p[0] != 0 && p[0] != 255))
          {
            *message = g_strdup_printf ("%s: pixel %d,%d is not black or white", name, x, y);
            return;
          }

        white = p[0] == 255;
        if (expected != NULL &&
            white != (op_mask_peek_data (expected)[(gsize) y * width + x] == 255))
          {
            *message = g_strdup_printf ("%s: pixel %d,%d differs from the painted area",
                                        name, x, y);
            return;
          }
      }
}

/* The answer to an inpainting: the picture with the white area in the seed's colour. */
static GBytes *
paint_answer (OpImage *image,
              OpImage *mask,
              gint64   seed,
              gboolean wrong_size)
{
  g_autoptr(OpImage) answer = op_image_copy (image);
  g_autoptr(OpImage) cropped = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *data = op_image_get_data (answer);
  int stride = op_image_get_stride (answer);
  guint8 rgb[3];
  GBytes *png;

  seed_color (seed, rgb);
  for (int y = 0; y < op_image_get_height (answer); y++)
    for (int x = 0; x < op_image_get_width (answer); x++)
      {
        guint8 *p = data + (gsize) y * stride + 4 * (gsize) x;
        const guint8 *m = mask != NULL ? op_image_peek_data (mask) +
                                         (gsize) y * op_image_get_stride (mask) + 4 * (gsize) x
                                       : NULL;

        p[3] = 255;
        if (m != NULL && m[0] > 127)
          memcpy (p, rgb, 3);
      }

  if (wrong_size)
    cropped = op_image_crop (answer, 0, 0, op_image_get_width (answer) / 2,
                             op_image_get_height (answer));

  png = op_image_encode_png (cropped != NULL ? cropped : answer, &error);
  g_assert_no_error (error);
  return png;
}

static gint64
answered_seed (gint64 sent)
{
  return sent != 0 ? sent : MOCK_RANDOM_SEED;
}

static void
record_image (Mock       *mock,
              const char *image_type,
              const char *mask_type,
              gint64      seed)
{
  g_mutex_lock (&mock->lock);
  g_free (mock->image_type);
  mock->image_type = g_strdup (image_type);
  g_free (mock->mask_type);
  mock->mask_type = g_strdup (mask_type);
  g_array_append_val (mock->seeds, seed);
  g_mutex_unlock (&mock->lock);
}

static void
replace_string (char       **field,
                const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* The mock: v2beta handlers */

static const char * const v2_accepts[] = { "image/*", "application/json", NULL };
static const char * const v2_types[] = { "image/png", "image/jpeg", "image/webp", NULL };
static const char * const png_only[] = { "image/png", NULL };

/* image: every side ≥ 64, 4,096–9,437,184 pixels in all. */
static void
check_v2_image (OpImage  *image,
                char    **message)
{
  int width, height;

  if (*message != NULL)
    return;

  width = op_image_get_width (image);
  height = op_image_get_height (image);
  if (width < 64 || height < 64)
    *message = g_strdup_printf ("image: width and height must be at least 64, not %d × %d",
                                width, height);
  else if ((gint64) width * height < 4096 || (gint64) width * height > 9437184)
    *message = g_strdup_printf ("image: %d × %d is outside 4,096–9,437,184 pixels",
                                width, height);
}

static void
check_v2_common (GHashTable  *form,
                 double      *seed,
                 char       **message)
{
  check_number (form, "seed", 0, 4294967294.0, FALSE, FALSE, seed, message);
  check_enum (form, "output_format", output_formats, FALSE, message);
  check_enum (form, "style_preset", style_presets, FALSE, message);
}

static void
inpaint_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  static const char * const fields[] = {
    "image", "prompt", "negative_prompt", "mask", "grow_mask", "seed", "output_format",
    "style_preset", NULL
  };
  Mock *mock = user_data;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(OpImage) mask = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autofree char *message = NULL;
  g_autofree char *image_type = NULL;
  g_autofree char *mask_type = NULL;
  double seed = 0;

  if (!begin_call (mock, msg, API_V2, v2_accepts, &form))
    return;

  message = unknown_field (form, fields, NULL);
  image = file_picture (form, "image", v2_types, &image_type, &message);
  check_v2_image (image, &message);
  check_text (form, "prompt", TRUE, 1, 10000, &message);
  check_text (form, "negative_prompt", FALSE, 0, 10000, &message);
  check_number (form, "grow_mask", 0, 100, FALSE, FALSE, NULL, &message);
  check_v2_common (form, &seed, &message);
  if (g_hash_table_contains (form, "mask"))
    {
      mask = file_picture (form, "mask", png_only, &mask_type, &message);
      check_mask (mock, "mask", mask, image, &message);
    }

  if (message != NULL)
    {
      refuse (mock, msg, API_V2, 400, "bad_request", message);
      return;
    }

  g_mutex_lock (&mock->lock);
  g_clear_pointer (&mock->grow_mask, g_free);
  mock->grow_mask = field_string (form, "grow_mask");
  g_clear_pointer (&mock->prompt, g_free);
  mock->prompt = field_string (form, "prompt");
  g_clear_pointer (&mock->negative_prompt, g_free);
  mock->negative_prompt = field_string (form, "negative_prompt");
  g_mutex_unlock (&mock->lock);
  record_image (mock, image_type, mask_type, (gint64) seed);

  png = paint_answer (image, mask, answered_seed ((gint64) seed),
                      current_failure (mock) == FAIL_WRONG_SIZE);
  if (!send_failure (mock, msg, API_V2, png))
    send_v2_image (mock, msg, png, answered_seed ((gint64) seed));
}

/* The answer to an outpainting: the image at (left, up) on a canvas of the seed's
 * colour. */
static GBytes *
extend_answer (OpImage *image,
               int      dirs[4],
               gint64   seed)
{
  int width = op_image_get_width (image), height = op_image_get_height (image);
  g_autoptr(OpImage) answer = op_image_new (width + dirs[0] + dirs[1], height + dirs[2] + dirs[3]);
  g_autoptr(GError) error = NULL;
  guint8 *data = op_image_get_data (answer);
  int stride = op_image_get_stride (answer);
  guint8 rgb[4];
  GBytes *png;

  seed_color (seed, rgb);
  rgb[3] = 255;
  for (int y = 0; y < op_image_get_height (answer); y++)
    for (int x = 0; x < op_image_get_width (answer); x++)
      memcpy (data + (gsize) y * stride + 4 * (gsize) x, rgb, 4);

  for (int y = 0; y < height; y++)
    memcpy (data + (gsize) (y + dirs[2]) * stride + 4 * (gsize) dirs[0],
            op_image_peek_data (image) + (gsize) y * op_image_get_stride (image),
            4 * (gsize) width);

  png = op_image_encode_png (answer, &error);
  g_assert_no_error (error);
  return png;
}

static void
check_outpaint_image (Mock     *mock,
                      OpImage  *image,
                      char    **message)
{
  OpImage *expected = mock->expected_image;
  double aspect;

  if (*message != NULL)
    return;

  aspect = (double) op_image_get_width (image) / op_image_get_height (image);
  if (aspect > 2.5 || aspect < 1 / 2.5)
    *message = g_strdup_printf ("image: aspect ratio must be between 1:2.5 and 2.5:1");
  else if (expected != NULL &&
           (op_image_get_width (image) != op_image_get_width (expected) ||
            op_image_get_height (image) != op_image_get_height (expected) ||
            memcmp (op_image_peek_data (image), op_image_peek_data (expected),
                    op_image_get_size_bytes (expected)) != 0))
    *message = g_strdup ("image: is not the original picture (mock check)");
}

static void
outpaint_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  static const char * const fields[] = {
    "image", "left", "right", "up", "down", "creativity", "prompt", "seed", "output_format",
    "style_preset", NULL
  };
  static const char * const directions[] = { "left", "right", "up", "down" };
  Mock *mock = user_data;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autofree char *message = NULL;
  g_autofree char *image_type = NULL;
  double seed = 0;
  int dirs[4] = { 0 };

  if (!begin_call (mock, msg, API_V2, v2_accepts, &form))
    return;

  message = unknown_field (form, fields, NULL);
  image = file_picture (form, "image", v2_types, &image_type, &message);
  check_v2_image (image, &message);
  check_outpaint_image (mock, image, &message);
  for (guint i = 0; i < G_N_ELEMENTS (directions); i++)
    {
      double value = 0;

      check_number (form, directions[i], 0, 2000, TRUE, FALSE, &value, &message);
      dirs[i] = (int) value;
      if (message == NULL && mock->expected_dirs[i] >= 0 && dirs[i] != mock->expected_dirs[i])
        message = g_strdup_printf ("%s: %d where the test expects %d (mock check)",
                                   directions[i], dirs[i], mock->expected_dirs[i]);
    }
  if (message == NULL && dirs[0] + dirs[1] + dirs[2] + dirs[3] == 0)
    message = g_strdup ("left, right, up, down: at least one must be non-zero");
  check_number (form, "creativity", 0, 1, FALSE, FALSE, NULL, &message);
  check_text (form, "prompt", FALSE, 0, 10000, &message);
  check_v2_common (form, &seed, &message);

  if (message != NULL)
    {
      refuse (mock, msg, API_V2, 400, "bad_request", message);
      return;
    }

  record_image (mock, image_type, NULL, (gint64) seed);
  png = extend_answer (image, dirs, answered_seed ((gint64) seed));
  if (!send_failure (mock, msg, API_V2, png))
    send_v2_image (mock, msg, png, answered_seed ((gint64) seed));
}

static GBytes *
upscale_answer (OpImage *image)
{
  int width = op_image_get_width (image), height = op_image_get_height (image);
  g_autoptr(OpImage) answer = op_image_new (4 * width, 4 * height);
  g_autoptr(GError) error = NULL;
  int src_stride = op_image_get_stride (image), dst_stride = op_image_get_stride (answer);
  GBytes *png;

  for (int y = 0; y < 4 * height; y++)
    for (int x = 0; x < 4 * width; x++)
      memcpy (op_image_get_data (answer) + (gsize) y * dst_stride + 4 * (gsize) x,
              op_image_peek_data (image) + (gsize) (y / 4) * src_stride + 4 * (gsize) (x / 4), 4);

  png = op_image_encode_png (answer, &error);
  g_assert_no_error (error);
  return png;
}

/* upscale/fast: 32–1536 pixels a side, 1,024–1,048,576 pixels; the answer is 4×. */
static void
upscale_fast_cb (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  static const char * const fields[] = { "image", "output_format", NULL };
  Mock *mock = user_data;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autofree char *message = NULL;
  g_autofree char *image_type = NULL;

  if (!begin_call (mock, msg, API_V2, v2_accepts, &form))
    return;

  message = unknown_field (form, fields, NULL);
  image = file_picture (form, "image", v2_types, &image_type, &message);
  check_enum (form, "output_format", output_formats, FALSE, &message);
  if (message == NULL)
    {
      int width = op_image_get_width (image), height = op_image_get_height (image);
      gint64 pixels = (gint64) width * height;

      if (MIN (width, height) < 32 || MAX (width, height) > 1536 ||
          pixels < 1024 || pixels > 1048576)
        message = g_strdup_printf ("image: %d × %d is outside the fast upscaler's limits",
                                   width, height);
    }

  if (message != NULL)
    {
      refuse (mock, msg, API_V2, 400, "bad_request", message);
      return;
    }

  record_image (mock, image_type, NULL, 0);
  png = upscale_answer (image);
  if (!send_failure (mock, msg, API_V2, png))
    send_v2_image (mock, msg, png, MOCK_RANDOM_SEED);
}

/* The mock: v1 handlers */

static const char * const v1_accepts[] = { "application/json", "image/png", NULL };
static const char * const json_only[] = { "application/json", NULL };

static void
engines_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  Mock *mock = user_data;
  g_autoptr(GBytes) body = g_bytes_new_static (engines_json, strlen (engines_json));

  if (!begin_call (mock, msg, API_V1, json_only, NULL))
    return;

  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      refuse (mock, msg, API_V1, 405, "method_not_allowed", "use GET");
      return;
    }

  send_answer (mock, msg, 200, "application/json", body);
}

/* text_prompts[i][text] and [weight], numbered from 0 without gaps. */
static void
check_v1_prompts (Mock        *mock,
                  GHashTable  *form,
                  char       **message)
{
  guint n = 0;

  for (;; n++)
    {
      g_autofree char *text_name = g_strdup_printf ("text_prompts[%u][text]", n);
      g_autofree char *weight_name = g_strdup_printf ("text_prompts[%u][weight]", n);
      g_autofree char *text = NULL;
      double weight = 1.0;

      if (!g_hash_table_contains (form, text_name))
        break;
      check_text (form, text_name, TRUE, 1, 2000, message);
      check_number (form, weight_name, -100, 100, FALSE, FALSE, &weight, message);
      if (*message != NULL)
        return;

      text = field_string (form, text_name);
      g_mutex_lock (&mock->lock);
      if (weight < 0)
        {
          replace_string (&mock->negative_prompt, text);
          mock->negative_weight = weight;
        }
      else
        {
          replace_string (&mock->prompt, text);
          mock->prompt_weight = weight;
        }
      g_mutex_unlock (&mock->lock);
    }

  if (n == 0)
    *message = g_strdup ("text_prompts: at least one prompt is required");
  else if (g_hash_table_size (form) > 0)
    {
      GHashTableIter iter;
      const char *name;

      /* Every text_prompts field must belong to a prompt counted above. */
      g_hash_table_iter_init (&iter, form);
      while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
        {
          guint index;

          if (g_str_has_prefix (name, "text_prompts[") &&
              (sscanf (name, "text_prompts[%u]", &index) != 1 || index >= n ||
               (!g_str_has_suffix (name, "][text]") && !g_str_has_suffix (name, "][weight]"))))
            {
              *message = g_strdup_printf ("%s: is not a valid prompt field", name);
              return;
            }
        }
    }
}

/* init_image: multiples of 64 in the 262,144–1,048,576 pixel window. */
static void
check_v1_image (OpImage  *image,
                char    **message)
{
  int width, height;

  if (*message != NULL)
    return;

  width = op_image_get_width (image);
  height = op_image_get_height (image);
  if (width % 64 != 0 || height % 64 != 0)
    *message = g_strdup_printf ("invalid_height_or_width: %d × %d is not a multiple of 64",
                                width, height);
  else if ((gint64) width * height < 262144 || (gint64) width * height > 1048576)
    *message = g_strdup_printf ("invalid_pixel_count: %d × %d is outside "
                                "262,144–1,048,576 pixels", width, height);
}

static gboolean
masking_engine (SoupServerMessage  *msg,
                char              **engine)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);

  /* "", "v1", "generation", ENGINE, "image-to-image", "masking" */
  if (g_strv_length (parts) != 6 || !g_str_equal (parts[4], "image-to-image") ||
      !g_str_equal (parts[5], "masking"))
    return FALSE;

  *engine = g_strdup (parts[3]);
  return TRUE;
}

static void
check_v1_fields (Mock        *mock,
                 GHashTable  *form,
                 double      *seed,
                 char       **message)
{
  check_number (form, "cfg_scale", 0, 35, FALSE, FALSE, NULL, message);
  check_enum (form, "clip_guidance_preset", clip_presets, FALSE, message);
  check_enum (form, "sampler", samplers, FALSE, message);
  check_number (form, "samples", 1, 10, TRUE, FALSE, NULL, message);
  check_number (form, "seed", 0, 4294967295.0, TRUE, FALSE, seed, message);
  check_number (form, "steps", 10, 150, TRUE, FALSE, NULL, message);
  check_enum (form, "style_preset", style_presets, FALSE, message);
  check_v1_prompts (mock, form, message);

  g_mutex_lock (&mock->lock);
  replace_string (&mock->sampler, NULL);
  mock->sampler = field_string (form, "sampler");
  replace_string (&mock->steps, NULL);
  mock->steps = field_string (form, "steps");
  replace_string (&mock->cfg_scale, NULL);
  mock->cfg_scale = field_string (form, "cfg_scale");
  g_mutex_unlock (&mock->lock);
}

static void
masking_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  static const char * const fields[] = {
    "init_image", "mask_image", "mask_source", "cfg_scale", "clip_guidance_preset",
    "sampler", "samples", "seed", "steps", "style_preset", NULL
  };
  Mock *mock = user_data;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(OpImage) mask = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autofree char *engine = NULL;
  g_autofree char *message = NULL;
  g_autofree char *image_type = NULL;
  g_autofree char *mask_type = NULL;
  g_autofree char *mask_source = NULL;
  g_autofree char *samples = NULL;
  double seed = 0;

  if (!begin_call (mock, msg, API_V1, v1_accepts, &form))
    return;

  if (!masking_engine (msg, &engine) || strstr (engines_json, engine) == NULL)
    {
      send_error (mock, msg, API_V1, 404, "not_found", "engine not found");
      return;
    }

  message = unknown_field (form, fields, "text_prompts[");
  image = file_picture (form, "init_image", v2_types, &image_type, &message);
  check_v1_image (image, &message);
  check_enum (form, "mask_source", mask_sources, TRUE, &message);
  mask_source = field_string (form, "mask_source");
  if (message == NULL && g_strcmp0 (mask_source, "INIT_IMAGE_ALPHA") != 0)
    {
      if (!g_hash_table_contains (form, "mask_image"))
        message = g_strdup ("invalid_mask_image: mask_image is required");
      mask = file_picture (form, "mask_image", png_only, &mask_type, &message);
      if (message == NULL &&
          (op_image_get_width (mask) != op_image_get_width (image) ||
           op_image_get_height (mask) != op_image_get_height (image)))
        message = g_strdup ("invalid_image_dimensions: mask_image and init_image differ");
      check_mask (mock, "mask_image", mask, image, &message);
    }
  check_v1_fields (mock, form, &seed, &message);
  samples = field_string (form, "samples");
  if (message == NULL && samples != NULL && !g_str_equal (samples, "1") &&
      g_strcmp0 (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                               "Accept"), "image/png") == 0)
    message = g_strdup ("invalid_samples: samples must be 1 with accept: image/png");

  if (message != NULL)
    {
      refuse (mock, msg, API_V1, 400, "bad_request", message);
      return;
    }

  g_mutex_lock (&mock->lock);
  replace_string (&mock->mask_source, mask_source);
  g_ptr_array_add (mock->paths, g_strconcat ("engine:", engine, NULL));
  g_mutex_unlock (&mock->lock);
  record_image (mock, image_type, mask_type, (gint64) seed);

  png = paint_answer (image, mask, answered_seed ((gint64) seed),
                      current_failure (mock) == FAIL_WRONG_SIZE);
  if (!send_failure (mock, msg, API_V1, png))
    send_v1_artifact (mock, msg, png, answered_seed ((gint64) seed));
}

/* The mock: set up */

static Mock *
mock_new (void)
{
  Mock *mock = g_new0 (Mock, 1);

  g_mutex_init (&mock->lock);
  mock->paths = g_ptr_array_new_with_free_func (g_free);
  mock->refusals = g_ptr_array_new_with_free_func (g_free);
  mock->seeds = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < G_N_ELEMENTS (mock->expected_dirs); i++)
    mock->expected_dirs[i] = -1;

  mock->server = op_mock_server_new ();
  op_mock_server_add_handler (mock->server, "/v2beta/stable-image/edit/inpaint", inpaint_cb,
                              mock);
  op_mock_server_add_handler (mock->server, "/v2beta/stable-image/edit/outpaint", outpaint_cb,
                              mock);
  op_mock_server_add_handler (mock->server, "/v2beta/stable-image/upscale/fast",
                              upscale_fast_cb, mock);
  op_mock_server_add_handler (mock->server, "/v1/engines/list", engines_cb, mock);
  op_mock_server_add_handler (mock->server, "/v1/generation", masking_cb, mock);

  return mock;
}

static void
mock_free (Mock *mock)
{
  /* The server first: its thread may still be answering. */
  g_clear_pointer (&mock->server, op_mock_server_free);

  g_ptr_array_unref (mock->paths);
  g_ptr_array_unref (mock->refusals);
  g_array_unref (mock->seeds);
  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  g_clear_pointer (&mock->expected_image, op_image_unref);
  g_free (mock->image_type);
  g_free (mock->mask_type);
  g_free (mock->mask_source);
  g_free (mock->grow_mask);
  g_free (mock->negative_prompt);
  g_free (mock->prompt);
  g_free (mock->sampler);
  g_free (mock->steps);
  g_free (mock->cfg_scale);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mock, mock_free)

static void
mock_set_failure (Mock    *mock,
                  Failure  failure)
{
  g_mutex_lock (&mock->lock);
  mock->failure = failure;
  g_mutex_unlock (&mock->lock);
}

static void
assert_no_refusals (Mock *mock)
{
  g_mutex_lock (&mock->lock);
  for (guint i = 0; i < mock->refusals->len; i++)
    g_test_message ("the mock refused: %s", (char *) g_ptr_array_index (mock->refusals, i));
  g_assert_cmpuint (mock->refusals->len, ==, 0);
  g_mutex_unlock (&mock->lock);
}

static gboolean
mock_saw_path (Mock       *mock,
               const char *path)
{
  gboolean found;

  g_mutex_lock (&mock->lock);
  found = g_ptr_array_find_with_equal_func (mock->paths, path, g_str_equal, NULL);
  g_mutex_unlock (&mock->lock);

  return found;
}

static guint
mock_n_calls (Mock *mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_calls;
  g_mutex_unlock (&mock->lock);

  return n;
}

/* The client side */

static OpBackend *
make_backend (Mock       *mock,
              const char *endpoint)
{
  OpBackend *backend = op_stability_backend_new ();

  g_object_set (backend,
                "url", op_mock_server_get_url (mock->server),
                "api-key", API_KEY,
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
expect_mask_of (Mock      *mock,
                OpBackend *backend,
                OpRequest *request)
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
      seed_color (variant->seed, rgb);
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (0, 3);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const gint64 seeds[] = { MOCK_RANDOM_SEED, 1, 2 };

  request = make_request (image, &hole, NULL, params);
  expect_mask_of (mock, backend, request);
  mock->delay_ms = 500;

  job = run_job (worker, backend, request);
  assert_done (job);
  assert_no_refusals (mock);
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
  g_autoptr(Mock) mock = mock_new ();
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
  assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));

  g_assert_cmpuint (mock->n_calls, ==, 3);
  g_assert_cmpuint (mock->max_in_flight, ==, 2);
  g_assert_true (mock_saw_path (mock, "engine:stable-diffusion-512-v2-1"));
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
  g_autoptr(Mock) mock = mock_new ();
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
  assert_no_refusals (mock);
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
  g_autoptr(Mock) mock = mock_new ();
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
  g_assert_cmpuint (g_bytes_get_size (png), >, V2_REQUEST_LIMIT);

  job = run_job (worker, backend, request);
  assert_done (job);
  assert_no_refusals (mock);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));

  g_test_message ("sent: %" G_GSIZE_FORMAT " bytes as %s", mock->body_size, mock->image_type);
  g_assert_true (g_strcmp0 (mock->image_type, "image/jpeg") == 0 ||
                 g_strcmp0 (mock->image_type, "image/webp") == 0);
  g_assert_cmpstr (mock->mask_type, ==, "image/png");
  g_assert_cmpuint (mock->body_size, <=, V2_REQUEST_LIMIT);
}

/* Both inpainting endpoints require a prompt: refused before any call. */
static void
test_inpaint_no_prompt (void)
{
  g_autoptr(Mock) mock = mock_new ();
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
  g_assert_cmpuint (mock_n_calls (mock), ==, 0);
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
  g_autoptr(Mock) mock = mock_new ();
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
  assert_no_refusals (mock);
  g_assert_true (mock_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));
  g_assert_false (mock_saw_path (mock, "/v2beta/stable-image/edit/inpaint"));

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

      seed_color (variant->seed, rgb);
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
  g_autoptr(Mock) mock = mock_new ();
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
  assert_no_refusals (mock);
  g_assert_true (mock_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));

  variant = g_ptr_array_index (op_job_get_variants (job), 0);
  g_assert_cmpint (variant->rect.y, ==, 0);
  seed_color (variant->seed, rgb);
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
      g_autoptr(Mock) mock = mock_new ();
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
      assert_no_refusals (mock);
      g_assert_true (mock_saw_path (mock, "/v2beta/stable-image/edit/inpaint"));
      g_assert_false (mock_saw_path (mock, "/v2beta/stable-image/edit/outpaint"));
    }
}

static void
test_engines (void)
{
  g_autoptr(Mock) mock = mock_new ();
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
  g_autoptr(Mock) mock = mock_new ();
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
  assert_no_refusals (mock);
  g_assert_true (mock_saw_path (mock, "/v2beta/stable-image/upscale/fast"));

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
  g_assert_cmpuint (mock_n_calls (mock), ==, 2);
}

/* A 429 with Retry-After, then success on the same call. */
static void
test_rate_limit_retry (void)
{
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (9, 1);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  const gint64 seeds[] = { 9 };

  request = make_request (image, &hole, NULL, params);
  mock_set_failure (mock, FAIL_RATE_LIMIT_ONCE);

  job = run_job (worker, backend, request);
  assert_done (job);
  assert_variants (job, &hole, seeds, G_N_ELEMENTS (seeds));
  g_assert_cmpuint (mock_n_calls (mock), ==, 2);
}

typedef struct
{
  const char *name;
  const char *endpoint;
  Failure     failure;
  const char *api_key;    /* NULL: the right one; "": none */
  const char *engine;     /* NULL: the default */
  GQuark    (*domain) (void);
  int         code;
  const char *words;
} FailCase;

static const FailCase fail_cases[] = {
  { "unauthorized", "inpaint", FAIL_NONE, "sk-wrong", NULL, op_http_error_quark,
    OP_HTTP_ERROR_AUTH, "API key was rejected" },
  { "no-key", "inpaint", FAIL_NONE, "", NULL, op_http_error_quark,
    OP_HTTP_ERROR_AUTH, "API key was rejected" },
  { "v1-unauthorized", "v1-masking", FAIL_NONE, "sk-wrong", NULL, op_http_error_quark,
    OP_HTTP_ERROR_AUTH, "invalid API key" },
  { "credits", "inpaint", FAIL_CREDITS, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_CREDITS, "out of credits" },
  { "too-large", "inpaint", FAIL_TOO_LARGE, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_TOO_LARGE, "10MiB" },
  { "language", "inpaint", FAIL_LANGUAGE, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_INVALID, "English is the only supported language" },
  { "bad-request", "inpaint", FAIL_BAD_REQUEST, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_INVALID, "style_preset: must be one of" },
  { "unknown-engine", "v1-masking", FAIL_NONE, NULL, "stable-diffusion-v0", op_http_error_quark,
    OP_HTTP_ERROR_INVALID, "engine not found" },
  { "v1-bad-request", "v1-masking", FAIL_BAD_REQUEST, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_INVALID, "style_preset: must be one of" },
  { "moderation", "inpaint", FAIL_MODERATION, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_FILTERED, "content moderation" },
  { "server", "inpaint", FAIL_SERVER, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_SERVER, "unexpected server error" },
  { "v1-server", "v1-masking", FAIL_SERVER, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_SERVER, "unexpected server error" },
  { "html-502", "inpaint", FAIL_HTML_502, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_BUSY, "busy" },
  { "truncated", "inpaint", FAIL_TRUNCATED, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_BAD_ANSWER, "cut off" },
  { "bad-base64", "v1-masking", FAIL_BAD_BASE64, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_BAD_ANSWER, "base64" },
  { "wrong-size", "inpaint", FAIL_WRONG_SIZE, NULL, NULL, op_backend_error_quark,
    OP_BACKEND_ERROR_BAD_ANSWER, "picture where" },
  { "v1-wrong-size", "v1-masking", FAIL_WRONG_SIZE, NULL, NULL, op_backend_error_quark,
    OP_BACKEND_ERROR_BAD_ANSWER, "picture where" },
  { "reset", "inpaint", FAIL_RESET, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_UNREACHABLE, "could not reach" },
  { "stall", "inpaint", FAIL_STALL, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_TIMEOUT, "stopped answering" },
  { "filtered", "inpaint", FAIL_FILTERED, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_FILTERED, "content was filtered" },
  { "v1-filtered", "v1-masking", FAIL_FILTERED, NULL, NULL, op_http_error_quark,
    OP_HTTP_ERROR_FILTERED, "content was filtered" },
};

static void
test_failure (gconstpointer user_data)
{
  const FailCase *test = user_data;
  g_autoptr(Mock) mock = mock_new ();
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
  mock_set_failure (mock, test->failure);
  request = make_request (image, &hole, NULL, params);

  job = run_job (worker, backend, request);
  g_assert_cmpint (op_job_get_state (job), ==, OP_JOB_FAILED);
  error = op_job_get_error (job);
  g_test_message ("%s", error->message);
  g_assert_error (error, test->domain (), test->code);
  g_assert_nonnull (strstr (error->message, test->words));
  if (test->api_key != NULL && *test->api_key != '\0')
    g_assert_null (strstr (error->message, test->api_key));
  g_assert_null (strstr (error->message, API_KEY));
  assert_no_refusals (mock);
}

/* Cancelling while the service works stops the call at once. */
static void
test_cancel (void)
{
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = make_backend (mock, "inpaint");
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpImage) image = load_chelsea ();
  g_autoptr(OpParams) params = make_params (1, 3);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  const OpRect hole = { 300, 180, 60, 50 };
  gint64 deadline, cancelled_at;

  g_object_set (backend, "stall-timeout", 60, NULL);
  mock_set_failure (mock, FAIL_STALL);
  request = make_request (image, &hole, NULL, params);
  job = op_worker_submit (worker, backend, request);

  deadline = g_get_monotonic_time () + JOB_TIMEOUT_S * G_USEC_PER_SEC;
  while (mock_n_calls (mock) < 2)
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
  g_assert_cmpuint (mock_n_calls (mock), ==, 2);
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
  g_test_add_func ("/stability/upscale", test_upscale);
  g_test_add_func ("/stability/retry/rate-limit", test_rate_limit_retry);
  for (guint i = 0; i < G_N_ELEMENTS (fail_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/stability/failure/%s", fail_cases[i].name);

      g_test_add_data_func (path, &fail_cases[i], test_failure);
    }
  g_test_add_func ("/stability/cancel", test_cancel);

  return g_test_run ();
}
