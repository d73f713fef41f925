/* op-mock-stability.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mock-stability"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-glib/json-glib.h>

#include "op-mock-stability.h"

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
  API_V1,
  API_V2,
} Api;

typedef struct
{
  char   *content_type;
  char   *filename;     /* NULL: a text field */
  GBytes *data;
} Part;

/* A distinct, opaque colour per seed, so a test can tell which call made a pixel. */
void
op_mock_stability_seed_color (gint64  seed,
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
call_finished (OpMockStability *mock)
{
  g_mutex_lock (&mock->lock);
  mock->in_flight--;
  g_mutex_unlock (&mock->lock);
}

static gboolean
release_cb (gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  OpMockStability *mock = g_object_get_data (G_OBJECT (msg), "mock");

  call_finished (mock);
  soup_server_message_unpause (msg);

  return G_SOURCE_REMOVE;
}

/* Sends the answer now, or after the mock's delay so calls overlap. */
static void
send_answer (OpMockStability   *mock,
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
send_json (OpMockStability   *mock,
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
send_error (OpMockStability   *mock,
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
refuse (OpMockStability   *mock,
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
send_truncated (OpMockStability   *mock,
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
send_reset (OpMockStability   *mock,
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
send_stall (OpMockStability   *mock,
            SoupServerMessage *msg)
{
  /* Paused for good: the server closes the connection when the test frees it. */
  soup_server_message_pause (msg);
}

static void
send_html_502 (OpMockStability   *mock,
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
send_failure (OpMockStability   *mock,
              SoupServerMessage *msg,
              Api                api,
              GBytes            *png)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  OpMockStabilityFailure failure;

  g_mutex_lock (&mock->lock);
  failure = mock->failure;
  if (failure == OP_MOCK_STABILITY_FAIL_RATE_LIMIT_ONCE)
    mock->failure = OP_MOCK_STABILITY_FAIL_NONE;
  g_mutex_unlock (&mock->lock);

  switch (failure)
    {
    case OP_MOCK_STABILITY_FAIL_CREDITS:
      send_error (mock, msg, api, 402, "payment_required",
                  "insufficient balance: your account has 0 credits left");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_TOO_LARGE:
      send_error (mock, msg, api, 413, "payload_too_large",
                  "body: payloads cannot be larger than 10MiB in size");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_LANGUAGE:
      send_error (mock, msg, api, 422, "invalid_language",
                  "English is the only supported language for this service.");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_BAD_REQUEST:
      send_error (mock, msg, api, 400, "bad_request",
                  "style_preset: must be one of the supported presets");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_MODERATION:
      send_error (mock, msg, api, 403, "content_moderation",
                  "Your request was flagged by our content moderation system.");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_RATE_LIMIT_ONCE:
      soup_message_headers_replace (headers, "Retry-After", "1");
      send_error (mock, msg, api, 429, "rate_limit_exceeded",
                  "You have exceeded the rate limit of 150 requests within a 10 second "
                  "period.");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_SERVER:
      send_error (mock, msg, api, 500, api == API_V2 ? "internal_error" : "server_error",
                  "An unexpected server error has occurred, please try again later.");
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_HTML_502:
      send_html_502 (mock, msg);
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_TRUNCATED:
      send_truncated (mock, msg, png);
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_RESET:
      send_reset (mock, msg);
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_STALL:
      send_stall (mock, msg);
      return TRUE;

    case OP_MOCK_STABILITY_FAIL_NONE:
    case OP_MOCK_STABILITY_FAIL_BAD_BASE64:
    case OP_MOCK_STABILITY_FAIL_WRONG_SIZE:
    case OP_MOCK_STABILITY_FAIL_FILTERED:
    default:
      return FALSE;
    }
}

static OpMockStabilityFailure
current_failure (OpMockStability *mock)
{
  OpMockStabilityFailure failure;

  g_mutex_lock (&mock->lock);
  failure = mock->failure;
  g_mutex_unlock (&mock->lock);

  return failure;
}

static const char *
finish_reason (OpMockStability *mock)
{
  return current_failure (mock) == OP_MOCK_STABILITY_FAIL_FILTERED ? "CONTENT_FILTERED"
                                                                    : "SUCCESS";
}

/* v2beta asked for any image type answers the bytes with finish-reason and seed headers;
 * with accept: application/json, {"image","seed","finish_reason"}. */
static void
send_v2_image (OpMockStability   *mock,
               SoupServerMessage *msg,
               GBytes            *png,
               gint64             seed)
{
  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Accept");
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *reason = finish_reason (mock);
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
send_v1_artifact (OpMockStability   *mock,
                  SoupServerMessage *msg,
                  GBytes            *png,
                  gint64             seed)
{
  const char *accept = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Accept");
  const char *reason = finish_reason (mock);
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

  if (current_failure (mock) == OP_MOCK_STABILITY_FAIL_BAD_BASE64)
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

static gboolean
has_key (OpMockStability *mock,
         const char      *authorization)
{
  g_autofree char *expected = NULL;

  g_mutex_lock (&mock->lock);
  expected = g_strconcat ("Bearer ", mock->api_key, NULL);
  g_mutex_unlock (&mock->lock);

  return g_strcmp0 (authorization, expected) == 0;
}

/* Counts the call, checks the key, the accept header and the form.  FALSE when it has
 * answered already. */
static gboolean
begin_call (OpMockStability     *mock,
            SoupServerMessage   *msg,
            Api                  api,
            const char * const  *accepts,
            GHashTable         **form)
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

  if (!has_key (mock, auth))
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

  if (api == API_V2 && g_bytes_get_size (body) > OP_MOCK_STABILITY_V2_LIMIT)
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
check_mask (OpMockStability  *mock,
            const char       *name,
            OpImage          *mask,
            OpImage          *image,
            char            **message)
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

  op_mock_stability_seed_color (seed, rgb);
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
  return sent != 0 ? sent : OP_MOCK_STABILITY_RANDOM_SEED;
}

static void
record_image (OpMockStability *mock,
              const char      *image_type,
              const char      *mask_type,
              gint64           seed)
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
  OpMockStability *mock = user_data;
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
                      current_failure (mock) == OP_MOCK_STABILITY_FAIL_WRONG_SIZE);
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

  op_mock_stability_seed_color (seed, rgb);
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
check_outpaint_image (OpMockStability  *mock,
                      OpImage          *image,
                      char            **message)
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
  OpMockStability *mock = user_data;
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
  OpMockStability *mock = user_data;
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
    send_v2_image (mock, msg, png, OP_MOCK_STABILITY_RANDOM_SEED);
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
  OpMockStability *mock = user_data;
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

/* GET /v1/user/balance: the account's credits. */
static void
balance_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  OpMockStability *mock = user_data;
  static const char balance_json[] = "{\"credits\": 42.5}";
  g_autoptr(GBytes) body = g_bytes_new_static (balance_json, strlen (balance_json));

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
check_v1_prompts (OpMockStability  *mock,
                  GHashTable       *form,
                  char            **message)
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
check_v1_fields (OpMockStability  *mock,
                 GHashTable       *form,
                 double           *seed,
                 char            **message)
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
  OpMockStability *mock = user_data;
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
                      current_failure (mock) == OP_MOCK_STABILITY_FAIL_WRONG_SIZE);
  if (!send_failure (mock, msg, API_V1, png))
    send_v1_artifact (mock, msg, png, answered_seed ((gint64) seed));
}

/* The mock: set up */

OpMockStability *
op_mock_stability_new (void)
{
  OpMockStability *mock = g_new0 (OpMockStability, 1);

  g_mutex_init (&mock->lock);
  mock->api_key = g_strdup (OP_MOCK_STABILITY_KEY);
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
  op_mock_server_add_handler (mock->server, "/v1/user/balance", balance_cb, mock);
  op_mock_server_add_handler (mock->server, "/v1/generation", masking_cb, mock);

  return mock;
}

void
op_mock_stability_free (OpMockStability *mock)
{
  /* The server first: its thread may still be answering. */
  g_clear_pointer (&mock->server, op_mock_server_free);

  g_ptr_array_unref (mock->paths);
  g_ptr_array_unref (mock->refusals);
  g_array_unref (mock->seeds);
  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  g_clear_pointer (&mock->expected_image, op_image_unref);
  g_free (mock->api_key);
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

void
op_mock_stability_set_failure (OpMockStability        *mock,
                               OpMockStabilityFailure  failure)
{
  g_mutex_lock (&mock->lock);
  mock->failure = failure;
  g_mutex_unlock (&mock->lock);
}

void
op_mock_stability_assert_no_refusals (OpMockStability *mock)
{
  g_mutex_lock (&mock->lock);
  for (guint i = 0; i < mock->refusals->len; i++)
    g_test_message ("the mock refused: %s", (char *) g_ptr_array_index (mock->refusals, i));
  g_assert_cmpuint (mock->refusals->len, ==, 0);
  g_mutex_unlock (&mock->lock);
}

gboolean
op_mock_stability_saw_path (OpMockStability *mock,
                            const char      *path)
{
  gboolean found;

  g_mutex_lock (&mock->lock);
  found = g_ptr_array_find_with_equal_func (mock->paths, path, g_str_equal, NULL);
  g_mutex_unlock (&mock->lock);

  return found;
}

guint
op_mock_stability_get_n_calls (OpMockStability *mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_calls;
  g_mutex_unlock (&mock->lock);

  return n;
}

void
op_mock_stability_set_api_key (OpMockStability *mock,
                               const char      *api_key)
{
  g_mutex_lock (&mock->lock);
  g_free (mock->api_key);
  mock->api_key = g_strdup (api_key);
  g_mutex_unlock (&mock->lock);
}

const char *
op_mock_stability_get_url (OpMockStability *mock)
{
  return op_mock_server_get_url (mock->server);
}
