/* test-openai.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-openai"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-glib/json-glib.h>

#include "op-http.h"
#include "op-mock-server.h"
#include "op-openai-backend.h"
#include "op-worker.h"

/* The OpenAI Images backend against a mock of POST /v1/images/edits that holds it to
 * shared/contracts/backends.md §3 and the vendored OpenAPI spec.  What the real server
 * refuses the mock refuses, with OpenAI's error body; what our client promises beyond
 * that (the model always named, the size the picture's own, the mask exactly our
 * regenerate area) the mock checks too.  Every refusal is recorded, and a test that
 * expected success prints it. */

#define KEY "sk-test-Overpaint0123456789-QZXW"
#define SEED 1000
#define JOB_TIMEOUT_S 120
#define CANCEL_LIMIT_US (1 * G_USEC_PER_SEC)

/* "Less than 4 MB" for dall-e-2's files and for every mask, read the strict way. */
#define MAX_SMALL_UPLOAD 4000000
#define MAX_GPT_IMAGE_UPLOAD 50000000

/* The mock's models.  GPT image models also take size "auto"; our client must name the
 * picture's own size, so the mock does not. */
typedef struct
{
  const char         *id;
  const char * const *sizes;
  guint               max_prompt;
  gsize               max_image;
  gboolean            gpt_image;
} MockModel;

static const char * const gpt_image_sizes[] = { "1024x1024", "1536x1024", "1024x1536", NULL };
static const char * const dall_e_2_sizes[] = { "256x256", "512x512", "1024x1024", NULL };

static const MockModel mock_models[] = {
  { "gpt-image-1", gpt_image_sizes, 32000, MAX_GPT_IMAGE_UPLOAD, TRUE },
  { "dall-e-2", dall_e_2_sizes, 1000, MAX_SMALL_UPLOAD, FALSE },
};

/* Every field the multipart edit endpoint knows. */
static const char * const known_fields[] = {
  "image", "mask", "prompt", "model", "n", "size", "quality", "response_format",
  "background", "output_format", "output_compression", "input_fidelity", "stream",
  "partial_images", "user", NULL
};

static const char * const gpt_qualities[] = { "low", "medium", "high", "auto", NULL };
static const char * const backgrounds[] = { "transparent", "opaque", "auto", NULL };
static const char * const output_formats[] = { "png", "jpeg", "webp", NULL };
static const char * const response_formats[] = { "url", "b64_json", NULL };

/* How the mock misbehaves, after checking the request. */
typedef enum
{
  FAIL_NONE,
  FAIL_AUTH,
  FAIL_QUOTA,
  FAIL_RATE_LIMIT_ONCE,
  FAIL_MODERATION,
  FAIL_CONTENT_POLICY,
  FAIL_INVALID_SIZE,
  FAIL_IMAGE_TOO_LARGE,
  FAIL_SERVER,
  FAIL_HTML_502,
  FAIL_TRUNCATED,
  FAIL_BAD_BASE64,
  FAIL_NOT_A_PICTURE,
  FAIL_NO_PICTURES,
  FAIL_WRONG_SIZE,
  FAIL_RESET,
  FAIL_STALL,
} Failure;

typedef struct
{
  OpMockServer *server;
  GMutex        lock;

  /* Set by the test */
  Failure       failure;
  OpImage      *expected_input;
  OpMask       *expected_mask;

  /* Recorded by the server */
  guint         n_requests;
  char         *violation;      /* the first refusal of a request */
  GHashTable   *fields;         /* the last accepted request's text fields */
  gsize         image_bytes;
  gsize         mask_bytes;
  int           image_color_type;
  GPtrArray    *held;           /* stalled connections (GIOStream) */
} Mock;

/* One multipart part. */
typedef struct
{
  GBytes *data;
  char   *text;       /* a text field's value; NULL for a file */
  char   *filename;
} Part;

/* An edit request that passed every check. */
typedef struct
{
  const MockModel *model;
  GHashTable      *fields;      /* name → text */
  int              n;
  int              width;
  int              height;
  OpImage         *image;
  OpImage         *mask;
  gboolean         b64_json;
  gsize            image_bytes;
  gsize            mask_bytes;
  int              image_color_type;
} Edit;

static void
part_free (Part *part)
{
  g_clear_pointer (&part->data, g_bytes_unref);
  g_free (part->text);
  g_free (part->filename);
  g_free (part);
}

static void
edit_free (Edit *edit)
{
  g_clear_pointer (&edit->fields, g_hash_table_unref);
  g_clear_pointer (&edit->image, op_image_unref);
  g_clear_pointer (&edit->mask, op_image_unref);
  g_free (edit);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Edit, edit_free)

/* The mock: answers */

static void
send_json (SoupServerMessage *msg,
           guint              status,
           JsonBuilder       *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

static void
add_nullable (JsonBuilder *builder,
              const char  *name,
              const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* {"error": {"message", "type", "param", "code"}}: all four keys, nullable. */
static void
send_error (SoupServerMessage *msg,
            guint              status,
            const char        *message,
            const char        *type,
            const char        *param,
            const char        *code)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  add_nullable (builder, "message", message);
  add_nullable (builder, "type", type);
  add_nullable (builder, "param", param);
  add_nullable (builder, "code", code);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  send_json (msg, status, builder);
}

static void
refuse (Mock              *mock,
        SoupServerMessage *msg,
        const char        *param,
        const char        *message)
{
  g_mutex_lock (&mock->lock);
  if (mock->violation == NULL)
    mock->violation = g_strdup (message);
  g_mutex_unlock (&mock->lock);

  send_error (msg, 400, message, "invalid_request_error", param, NULL);
}

/* Writes @raw (if any) on the bare connection and closes it; with @reset, as a TCP
 * reset rather than an orderly close. */
static void
close_connection (SoupServerMessage *msg,
                  const char        *raw,
                  gboolean           reset)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  g_autoptr(GIOStream) stream = NULL;

  if (reset)
    {
      struct linger linger = { 1, 0 };

      g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER,
                                   &linger, sizeof linger), ==, 0);
    }

  stream = soup_server_message_steal_connection (msg);
  if (raw != NULL)
    g_output_stream_write_all (g_io_stream_get_output_stream (stream), raw, strlen (raw),
                               NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

static void
hold_connection (Mock              *mock,
                 SoupServerMessage *msg)
{
  GIOStream *stream = soup_server_message_steal_connection (msg);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->held, stream);
  g_mutex_unlock (&mock->lock);
}

static const char bad_gateway_page[] =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
  "</body>\r\n</html>\r\n";

static const guint8 tints[][3] = {
  { 230, 40, 40 }, { 40, 200, 60 }, { 50, 80, 230 }, { 240, 200, 30 },
  { 200, 40, 220 }, { 30, 210, 210 }, { 250, 130, 20 }, { 120, 120, 120 },
};

/* What a model might do: fill the area it was given, and drift a little everywhere
 * else, which the composite must undo. */
static OpImage *
paint_answer (const Edit *edit,
              guint       k)
{
  OpImage *out = op_image_copy (edit->image);
  const guint8 *mask = op_image_peek_data (edit->mask);
  guint8 *data = op_image_get_data (out);
  int stride = op_image_get_stride (out);
  int mask_stride = op_image_get_stride (edit->mask);

  for (int y = 0; y < edit->height; y++)
    {
      for (int x = 0; x < edit->width; x++)
        {
          guint8 *pixel = data + (gsize) y * stride + 4 * x;

          if (mask[(gsize) y * mask_stride + 4 * x + 3] == 0)
            memcpy (pixel, tints[k % G_N_ELEMENTS (tints)], 3);
          else if ((x + 2 * y + (int) k) % 7 == 0)
            for (int c = 0; c < 3; c++)
              pixel[c] = 255 - pixel[c];
        }
    }

  return out;
}

static char *
encode_answer (const Edit *edit,
               guint       k,
               gboolean    wrong_size)
{
  g_autoptr(OpImage) image = paint_answer (edit, k);
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;

  if (wrong_size)
    {
      g_autoptr(OpImage) half = op_image_scale (image, NULL, edit->width / 2,
                                                edit->height / 2);

      g_clear_pointer (&image, op_image_unref);
      image = g_steal_pointer (&half);
    }

  png = op_image_encode_png (image, &error);
  g_assert_no_error (error);

  return g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

static void
add_usage (JsonBuilder *builder)
{
  json_builder_set_member_name (builder, "usage");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "input_tokens");
  json_builder_add_int_value (builder, 50);
  json_builder_set_member_name (builder, "output_tokens");
  json_builder_add_int_value (builder, 4160);
  json_builder_set_member_name (builder, "total_tokens");
  json_builder_add_int_value (builder, 4210);
  json_builder_set_member_name (builder, "input_tokens_details");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "text_tokens");
  json_builder_add_int_value (builder, 10);
  json_builder_set_member_name (builder, "image_tokens");
  json_builder_add_int_value (builder, 40);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

/* {"created", "data": [{"b64_json"}…]} and, for GPT image models, what was made. */
static void
send_pictures (SoupServerMessage *msg,
               const Edit        *edit,
               Failure            failure)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *quality = g_hash_table_lookup (edit->fields, "quality");
  int n = failure == FAIL_NO_PICTURES ? 0 : edit->n;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "data");
  json_builder_begin_array (builder);
  for (int k = 0; k < n; k++)
    {
      json_builder_begin_object (builder);
      if (!edit->b64_json)
        {
          /* dall-e-2's default: a link, which the client cannot use. */
          json_builder_set_member_name (builder, "url");
          json_builder_add_string_value (builder, "https://oaidalleapiprodscus.blob.core."
                                                  "windows.net/private/img-mock.png");
        }
      else if (failure == FAIL_BAD_BASE64)
        {
          json_builder_set_member_name (builder, "b64_json");
          json_builder_add_string_value (builder, "iVBORw0KGgo!!not*base64");
        }
      else if (failure == FAIL_NOT_A_PICTURE)
        {
          g_autofree char *text = g_base64_encode ((const guchar *) "not a picture", 13);

          json_builder_set_member_name (builder, "b64_json");
          json_builder_add_string_value (builder, text);
        }
      else
        {
          g_autofree char *b64 = encode_answer (edit, k, failure == FAIL_WRONG_SIZE);

          json_builder_set_member_name (builder, "b64_json");
          json_builder_add_string_value (builder, b64);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (edit->model->gpt_image)
    {
      json_builder_set_member_name (builder, "background");
      json_builder_add_string_value (builder, "opaque");
      json_builder_set_member_name (builder, "output_format");
      json_builder_add_string_value (builder, "png");
      json_builder_set_member_name (builder, "size");
      json_builder_add_string_value (builder, g_hash_table_lookup (edit->fields, "size"));
      json_builder_set_member_name (builder, "quality");
      json_builder_add_string_value (builder, quality == NULL || g_str_equal (quality, "auto")
                                              ? "medium" : quality);
      add_usage (builder);
    }
  json_builder_end_object (builder);

  send_json (msg, 200, builder);
}

static void
answer (Mock              *mock,
        SoupServerMessage *msg,
        const Edit        *edit,
        Failure            failure)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *message = NULL;

  switch (failure)
    {
    case FAIL_QUOTA:
      send_error (msg, 429, "You exceeded your current quota, please check your plan and "
                  "billing details. For more information on this error, read the docs: "
                  "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                  "insufficient_quota", NULL, "insufficient_quota");
      break;

    case FAIL_RATE_LIMIT_ONCE:
      soup_message_headers_replace (headers, "Retry-After", "1");
      send_error (msg, 429, "Rate limit reached for gpt-image-1 in organization org-mock on "
                  "images per minute (IPM): Limit 5, Used 5. Please try again in 1s.",
                  "requests", NULL, "rate_limit_exceeded");
      break;

    case FAIL_MODERATION:
      send_error (msg, 400, "Your request was rejected by the safety system. If you believe "
                  "this is an error, contact us at help.openai.com and include the request "
                  "ID req_mock.", "image_generation_user_error", NULL, "moderation_blocked");
      break;

    case FAIL_CONTENT_POLICY:
      send_error (msg, 400, "Your request was rejected as a result of our safety system. "
                  "Your prompt may contain text that is not allowed by our safety system.",
                  "invalid_request_error", NULL, "content_policy_violation");
      break;

    case FAIL_INVALID_SIZE:
      message = g_strdup_printf ("Invalid value: '%s'. Supported values are: '256x256', "
                                 "'512x512', and '1024x1024'.",
                                 (char *) g_hash_table_lookup (edit->fields, "size"));
      send_error (msg, 400, message, "invalid_request_error", "size", "invalid_value");
      break;

    case FAIL_IMAGE_TOO_LARGE:
      send_error (msg, 400, "Uploaded image must be a PNG and less than 4 MB.",
                  "invalid_request_error", "image", NULL);
      break;

    case FAIL_SERVER:
      send_error (msg, 500, "The server had an error while processing your request. Sorry "
                  "about that!", "server_error", NULL, NULL);
      break;

    case FAIL_HTML_502:
      soup_server_message_set_status (msg, 502, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        bad_gateway_page, sizeof bad_gateway_page - 1);
      break;

    case FAIL_TRUNCATED:
      close_connection (msg, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 100000\r\n"
                             "Connection: close\r\n\r\n"
                             "{\"created\": 1713833628, \"data\": [{\"b64_json\": \"iVBORw0KGgoA",
                        FALSE);
      break;

    case FAIL_RESET:
      close_connection (msg, NULL, TRUE);
      break;

    case FAIL_STALL:
      hold_connection (mock, msg);
      break;

    case FAIL_NONE:
    case FAIL_AUTH:
    case FAIL_BAD_BASE64:
    case FAIL_NOT_A_PICTURE:
    case FAIL_NO_PICTURES:
    case FAIL_WRONG_SIZE:
    default:
      send_pictures (msg, edit, failure);
      break;
    }
}

/* The mock: reading and checking the request */

/* OpenAI's 401 quotes the start and the end of the key it was given. */
static gboolean
check_auth (Mock              *mock,
            SoupServerMessage *msg,
            Failure            failure)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *message = NULL;
  gsize length;

  if (value != NULL && failure != FAIL_AUTH && g_str_equal (value, "Bearer " KEY))
    return TRUE;

  if (value == NULL || !g_str_has_prefix (value, "Bearer "))
    {
      send_error (msg, 401, "You didn't provide an API key. You need to provide your API key "
                  "in an Authorization header using Bearer auth (i.e. Authorization: Bearer "
                  "YOUR_KEY).", "invalid_request_error", NULL, NULL);
      return FALSE;
    }

  value += strlen ("Bearer ");
  length = strlen (value);
  message = g_strdup_printf ("Incorrect API key provided: %.*s*****%s. You can find your API "
                             "key at https://platform.openai.com/account/api-keys.",
                             (int) MIN (length, 6), value, length > 10 ? value + length - 4 : "");
  send_error (msg, 401, message, "invalid_request_error", NULL, "invalid_api_key");
  return FALSE;
}

/* name → Part; NULL and @problem for a body that is not a form or repeats a name. */
static GHashTable *
parse_form (SoupServerMessage  *msg,
            char              **problem)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GHashTable) form = NULL;
  const char *type = soup_message_headers_get_content_type (headers, NULL);
  SoupMultipart *multipart;

  if (g_strcmp0 (type, "multipart/form-data") != 0)
    {
      *problem = g_strdup_printf ("Invalid Content-Type header (%s), expected "
                                  "multipart/form-data.", type != NULL ? type : "none");
      return NULL;
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  multipart = soup_multipart_new_from_message (headers, body);
  if (multipart == NULL)
    {
      *problem = g_strdup ("Could not parse multipart form.");
      return NULL;
    }

  form = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) part_free);
  for (int i = 0; i < soup_multipart_get_length (multipart) && *problem == NULL; i++)
    {
      SoupMessageHeaders *part_headers;
      GBytes *part_body;
      g_autofree char *disposition = NULL;
      GHashTable *params = NULL;
      const char *name;
      Part *part;

      soup_multipart_get_part (multipart, i, &part_headers, &part_body);
      if (!soup_message_headers_get_content_disposition (part_headers, &disposition, &params))
        {
          *problem = g_strdup ("Could not parse multipart form.");
          break;
        }

      name = g_hash_table_lookup (params, "name");
      if (name == NULL || g_hash_table_contains (form, name))
        *problem = g_strdup_printf ("Duplicate or unnamed parameter: '%s'.",
                                    name != NULL ? name : "");
      else
        {
          part = g_new0 (Part, 1);
          part->data = g_bytes_ref (part_body);
          part->filename = g_strdup (g_hash_table_lookup (params, "filename"));
          if (part->filename == NULL)
            part->text = g_strndup (g_bytes_get_data (part_body, NULL),
                                    g_bytes_get_size (part_body));
          g_hash_table_insert (form, g_strdup (name), part);
        }
      g_hash_table_destroy (params);
    }
  soup_multipart_free (multipart);

  if (*problem != NULL)
    return NULL;

  return g_steal_pointer (&form);
}

static const char *
form_text (GHashTable *form,
           const char *name)
{
  Part *part = g_hash_table_lookup (form, name);

  return part != NULL ? part->text : NULL;
}

static gboolean
parse_int (const char *text,
           int         min,
           int         max,
           int        *value)
{
  gint64 number;

  if (!g_ascii_string_to_signed (text, 10, min, max, &number, NULL))
    return FALSE;

  *value = (int) number;
  return TRUE;
}

/* The PNG colour type from the IHDR chunk: 6 RGBA, 4 LA, 2 RGB, 0 L; -1 if not a PNG. */
static int
png_color_type (GBytes *data)
{
  static const guint8 signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  gsize size = 0;
  const guint8 *bytes = g_bytes_get_data (data, &size);

  if (size < 26 || memcmp (bytes, signature, 8) != 0 || memcmp (bytes + 12, "IHDR", 4) != 0)
    return -1;

  return bytes[25];
}

static char *
check_fields (GHashTable  *form,
              Edit        *edit)
{
  GHashTableIter iter;
  const char *name, *model, *prompt, *size, *value;

  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    if (!g_strv_contains (known_fields, name))
      return g_strdup_printf ("Unknown parameter: '%s'.", name);

  prompt = form_text (form, "prompt");
  if (prompt == NULL || prompt[0] == '\0')
    return g_strdup ("Missing required parameter: 'prompt'.");

  /* Our client's promise: the server's default model changed over time. */
  model = form_text (form, "model");
  if (model == NULL)
    return g_strdup ("The client must name the model (field 'model').");
  for (guint i = 0; i < G_N_ELEMENTS (mock_models); i++)
    if (g_str_equal (model, mock_models[i].id))
      edit->model = &mock_models[i];
  if (edit->model == NULL)
    return g_strdup_printf ("Invalid value: '%s'. Supported values are: 'gpt-image-1' and "
                            "'dall-e-2'.", model);

  if (g_utf8_strlen (prompt, -1) > edit->model->max_prompt)
    return g_strdup_printf ("Invalid 'prompt': string too long. Expected a string with maximum "
                            "length %u, but got a string with length %ld instead.",
                            edit->model->max_prompt, g_utf8_strlen (prompt, -1));

  value = form_text (form, "n");
  edit->n = 1;
  if (value != NULL && !parse_int (value, 1, 10, &edit->n))
    return g_strdup_printf ("Invalid 'n': expected an integer from 1 to 10, got '%s'.", value);

  size = form_text (form, "size");
  if (size == NULL || !g_strv_contains (edit->model->sizes, size) ||
      sscanf (size, "%dx%d", &edit->width, &edit->height) != 2)
    return g_strdup_printf ("Invalid value: '%s'. Supported values for %s are the listed "
                            "sizes.", size != NULL ? size : "", edit->model->id);

  value = form_text (form, "quality");
  if (value != NULL && edit->model->gpt_image && !g_strv_contains (gpt_qualities, value))
    return g_strdup_printf ("Invalid value: '%s'. Supported values are: 'low', 'medium', "
                            "'high', and 'auto'.", value);
  if (value != NULL && !edit->model->gpt_image && !g_str_equal (value, "standard"))
    return g_strdup_printf ("Invalid value: '%s'. dall-e-2 supports only 'standard'.", value);

  value = form_text (form, "response_format");
  if (value != NULL && edit->model->gpt_image)
    return g_strdup ("Unknown parameter: 'response_format'.");
  if (value != NULL && !g_strv_contains (response_formats, value))
    return g_strdup_printf ("Invalid value: '%s'. Supported values are: 'url' and "
                            "'b64_json'.", value);
  edit->b64_json = edit->model->gpt_image || g_strcmp0 (value, "b64_json") == 0;

  value = form_text (form, "background");
  if (value != NULL && (!edit->model->gpt_image || !g_strv_contains (backgrounds, value)))
    return g_strdup_printf ("Invalid 'background' for %s: '%s'.", edit->model->id, value);

  value = form_text (form, "output_format");
  if (value != NULL && (!edit->model->gpt_image || !g_strv_contains (output_formats, value)))
    return g_strdup_printf ("Invalid 'output_format' for %s: '%s'.", edit->model->id, value);

  return NULL;
}

static char *
check_image (GHashTable *form,
             Edit       *edit)
{
  Part *part = g_hash_table_lookup (form, "image");
  g_autoptr(GError) error = NULL;

  if (part == NULL || part->filename == NULL)
    return g_strdup ("Missing required parameter: 'image'.");

  edit->image_bytes = g_bytes_get_size (part->data);
  edit->image_color_type = png_color_type (part->data);
  if (edit->image_color_type < 0)
    return g_strdup ("Invalid image file or mode for image 1, please check your image file.");
  if (edit->image_bytes >= edit->model->max_image)
    return g_strdup_printf ("Uploaded image must be a PNG and less than %zu MB.",
                            edit->model->max_image / 1000000);
  if (!edit->model->gpt_image && edit->image_color_type != 6 &&
      edit->image_color_type != 4 && edit->image_color_type != 0)
    return g_strdup ("Invalid input image - format must be in ['RGBA', 'LA', 'L'], got RGB.");

  edit->image = op_image_new_from_bytes (part->data, &error);
  if (edit->image == NULL)
    return g_strdup_printf ("Invalid image file: %s", error->message);

  if (!edit->model->gpt_image &&
      op_image_get_width (edit->image) != op_image_get_height (edit->image))
    return g_strdup ("Uploaded image must be square.");

  /* Our client's promise: the picture is sent at the size asked for. */
  if (op_image_get_width (edit->image) != edit->width ||
      op_image_get_height (edit->image) != edit->height)
    return g_strdup_printf ("The image is %d×%d but size is %dx%d.",
                            op_image_get_width (edit->image), op_image_get_height (edit->image),
                            edit->width, edit->height);

  return NULL;
}

static char *
check_mask (GHashTable *form,
            Edit       *edit)
{
  Part *part = g_hash_table_lookup (form, "mask");
  g_autoptr(GError) error = NULL;
  const guint8 *data;
  int stride;

  /* Without a mask the picture's own transparency would be edited: ours is opaque. */
  if (part == NULL || part->filename == NULL)
    return g_strdup ("The client must send a mask (field 'mask').");

  edit->mask_bytes = g_bytes_get_size (part->data);
  if (png_color_type (part->data) != 6)
    return g_strdup ("Invalid mask image: it must be an RGBA PNG.");
  if (edit->mask_bytes >= MAX_SMALL_UPLOAD)
    return g_strdup ("Uploaded mask must be a PNG and less than 4 MB.");

  edit->mask = op_image_new_from_bytes (part->data, &error);
  if (edit->mask == NULL)
    return g_strdup_printf ("Invalid mask image: %s", error->message);
  if (op_image_get_width (edit->mask) != edit->width ||
      op_image_get_height (edit->mask) != edit->height)
    return g_strdup ("Invalid mask image: mask and image must have the same dimensions.");

  data = op_image_peek_data (edit->mask);
  stride = op_image_get_stride (edit->mask);
  for (int y = 0; y < edit->height; y++)
    for (int x = 0; x < edit->width; x++)
      {
        guint8 alpha = data[(gsize) y * stride + 4 * x + 3];

        if (alpha != 0 && alpha != 255)
          return g_strdup_printf ("The mask's alpha is %u at (%d, %d): only 0 (edit) or 255 "
                                  "(keep) is expected.", alpha, x, y);
      }

  return NULL;
}

/* What the test prepared on its own: the same picture, and alpha 0 exactly where the
 * input mask says regenerate. */
static char *
check_expected (Mock *mock,
                Edit *edit)
{
  const guint8 *alpha = op_image_peek_data (edit->mask);
  const guint8 *expected;
  int stride = op_image_get_stride (edit->mask);

  if (mock->expected_input == NULL)
    return NULL;

  if (!op_image_equal (edit->image, mock->expected_input))
    return g_strdup ("The image is not the prepared input.");

  if (op_mask_get_width (mock->expected_mask) != edit->width ||
      op_mask_get_height (mock->expected_mask) != edit->height)
    return g_strdup ("The mask is not the prepared input mask's size.");

  expected = op_mask_peek_data (mock->expected_mask);
  for (int y = 0; y < edit->height; y++)
    for (int x = 0; x < edit->width; x++)
      {
        gboolean edit_here = alpha[(gsize) y * stride + 4 * x + 3] == 0;

        if (edit_here != (expected[(gsize) y * edit->width + x] > 0))
          return g_strdup_printf ("The mask says %s at (%d, %d), the request the opposite.",
                                  edit_here ? "edit" : "keep", x, y);
      }

  return NULL;
}

static Edit *
read_edit (Mock               *mock,
           SoupServerMessage  *msg,
           char              **problem)
{
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(Edit) edit = g_new0 (Edit, 1);
  GHashTableIter iter;
  const char *name;
  Part *part;

  form = parse_form (msg, problem);
  if (form == NULL)
    return NULL;

  g_mutex_lock (&mock->lock);
  if ((*problem = check_fields (form, edit)) == NULL &&
      (*problem = check_image (form, edit)) == NULL &&
      (*problem = check_mask (form, edit)) == NULL)
    *problem = check_expected (mock, edit);
  g_mutex_unlock (&mock->lock);

  if (*problem != NULL)
    return NULL;

  edit->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&iter, form);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, (gpointer *) &part))
    if (part->text != NULL)
      g_hash_table_insert (edit->fields, g_strdup (name), g_strdup (part->text));

  return g_steal_pointer (&edit);
}

static void
record (Mock       *mock,
        const Edit *edit)
{
  g_mutex_lock (&mock->lock);
  g_clear_pointer (&mock->fields, g_hash_table_unref);
  mock->fields = g_hash_table_ref (edit->fields);
  mock->image_bytes = edit->image_bytes;
  mock->mask_bytes = edit->mask_bytes;
  mock->image_color_type = edit->image_color_type;
  g_mutex_unlock (&mock->lock);
}

static void
edits_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Mock *mock = user_data;
  g_autoptr(Edit) edit = NULL;
  g_autofree char *problem = NULL;
  Failure failure;

  g_mutex_lock (&mock->lock);
  mock->n_requests++;
  failure = mock->failure;
  if (failure == FAIL_RATE_LIMIT_ONCE)
    mock->failure = FAIL_NONE;
  g_mutex_unlock (&mock->lock);

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      send_error (msg, 405, "Method not allowed.", "invalid_request_error", NULL, NULL);
      return;
    }

  if (!check_auth (mock, msg, failure))
    return;

  edit = read_edit (mock, msg, &problem);
  if (edit == NULL)
    {
      refuse (mock, msg, NULL, problem);
      return;
    }

  record (mock, edit);
  answer (mock, msg, edit, failure);
}

static Mock *
mock_new (void)
{
  Mock *mock = g_new0 (Mock, 1);

  g_mutex_init (&mock->lock);
  mock->held = g_ptr_array_new_with_free_func (g_object_unref);
  mock->server = op_mock_server_new ();
  op_mock_server_add_handler (mock->server, "/v1/images/edits", edits_cb, mock);

  return mock;
}

static void
mock_free (Mock *mock)
{
  /* The server's thread stops first, so no handler runs on what is freed below. */
  g_clear_pointer (&mock->server, op_mock_server_free);

  for (guint i = 0; i < mock->held->len; i++)
    g_io_stream_close (g_ptr_array_index (mock->held, i), NULL, NULL);
  g_ptr_array_unref (mock->held);
  g_clear_pointer (&mock->fields, g_hash_table_unref);
  g_clear_pointer (&mock->expected_input, op_image_unref);
  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  g_free (mock->violation);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

static void
mock_set_failure (Mock    *mock,
                  Failure  failure)
{
  g_mutex_lock (&mock->lock);
  mock->failure = failure;
  g_mutex_unlock (&mock->lock);
}

static guint
mock_get_n_requests (Mock *mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_requests;
  g_mutex_unlock (&mock->lock);

  return n;
}

static char *
mock_dup_field (Mock       *mock,
                const char *name)
{
  char *value = NULL;

  g_mutex_lock (&mock->lock);
  if (mock->fields != NULL)
    value = g_strdup (g_hash_table_lookup (mock->fields, name));
  g_mutex_unlock (&mock->lock);

  return value;
}

static void
assert_field (Mock       *mock,
              const char *name,
              const char *expected)
{
  g_autofree char *value = mock_dup_field (mock, name);

  g_assert_cmpstr (value, ==, expected);
}

static void
assert_no_violation (Mock *mock)
{
  g_mutex_lock (&mock->lock);
  if (mock->violation != NULL)
    g_test_message ("the mock refused a request: %s", mock->violation);
  g_assert_null (mock->violation);
  g_mutex_unlock (&mock->lock);
}

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
mock_expect (Mock      *mock,
             OpBackend *backend,
             OpRequest *request,
             OpSize    *size)
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
  g_assert_null (strstr (error->message, KEY));
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
  Mock      *mock;
  OpBackend *backend;
  OpWorker  *worker;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->mock = mock_new ();
  f->backend = op_openai_backend_new ();
  op_backend_configure (f->backend, op_mock_server_get_url (f->mock->server), KEY, NULL, &error);
  g_assert_no_error (error);
  f->worker = op_worker_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->worker);
  g_clear_object (&f->backend);
  g_clear_pointer (&f->mock, mock_free);
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
                   OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS);
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

  g_assert_true (op_backend_configure (backend, "http://127.0.0.1:9", KEY, NULL, &error));
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
  assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (mock_get_n_requests (f->mock), ==, 1);
  assert_field (f->mock, "model", "gpt-image-1");
  assert_field (f->mock, "prompt", "a red door");
  assert_field (f->mock, "size", "1536x1024");
  assert_field (f->mock, "n", "1");
  assert_field (f->mock, "quality", "high");
  assert_field (f->mock, "background", "opaque");
  assert_field (f->mock, "response_format", NULL);

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
  assert_no_violation (f->mock);
  assert_done (job);

  assert_field (f->mock, "model", "dall-e-2");
  assert_field (f->mock, "size", "1024x1024");
  assert_field (f->mock, "response_format", "b64_json");
  assert_field (f->mock, "quality", NULL);
  assert_field (f->mock, "background", NULL);
  g_mutex_lock (&f->mock->lock);
  g_test_message ("dall-e-2 upload: picture %zu bytes, mask %zu bytes",
                  f->mock->image_bytes, f->mock->mask_bytes);
  g_assert_cmpint (f->mock->image_color_type, ==, 6);
  g_assert_cmpuint (f->mock->image_bytes, <, MAX_SMALL_UPLOAD);
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
  assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (mock_get_n_requests (f->mock), ==, 1);
  assert_field (f->mock, "n", "3");
  /* No model chosen: the default, named explicitly. */
  assert_field (f->mock, "model", "gpt-image-1");
  assert_field (f->mock, "quality", "auto");

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
  assert_no_violation (f->mock);
  assert_done (job);
  g_assert_cmpuint (mock_get_n_requests (f->mock), ==, 1);
}

static void
test_rate_limit_then_success (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(OpRequest) request = make_wide_request ("gpt-image-1", "a red door", 2);
  g_autoptr(OpJob) job = NULL;

  mock_expect (f->mock, f->backend, request, NULL);
  mock_set_failure (f->mock, FAIL_RATE_LIMIT_ONCE);
  job = run_job (f, request);
  assert_no_violation (f->mock);
  assert_done (job);

  g_assert_cmpuint (mock_get_n_requests (f->mock), ==, 2);
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
  g_assert_cmpuint (mock_get_n_requests (f->mock), ==, 0);
}

/* Tests: the server fails */

typedef struct
{
  const char  *path;
  Failure      failure;
  OpHttpError  code;
  const char  *words;
  guint        n_requests;    /* 0: not checked */
  guint        stall_timeout; /* 0: the default */
} FailureCase;

static const FailureCase failure_cases[] = {
  { "/openai/failure/auth", FAIL_AUTH, OP_HTTP_ERROR_AUTH, "API key was rejected", 1, 0 },
  { "/openai/failure/quota", FAIL_QUOTA, OP_HTTP_ERROR_CREDITS, "out of credits", 0, 0 },
  { "/openai/failure/moderation", FAIL_MODERATION, OP_HTTP_ERROR_FILTERED,
    "rejected by the safety system", 1, 0 },
  { "/openai/failure/content-policy", FAIL_CONTENT_POLICY, OP_HTTP_ERROR_FILTERED,
    "filtered", 1, 0 },
  { "/openai/failure/invalid-size", FAIL_INVALID_SIZE, OP_HTTP_ERROR_INVALID,
    "Invalid value: '1536x1024'. Supported values are", 1, 0 },
  { "/openai/failure/image-too-large", FAIL_IMAGE_TOO_LARGE, OP_HTTP_ERROR_TOO_LARGE,
    "less than 4 MB", 1, 0 },
  { "/openai/failure/server-error", FAIL_SERVER, OP_HTTP_ERROR_SERVER, "HTTP 500", 1, 0 },
  { "/openai/failure/html-502", FAIL_HTML_502, OP_HTTP_ERROR_BUSY, "502 Bad Gateway", 4, 0 },
  { "/openai/failure/truncated", FAIL_TRUNCATED, OP_HTTP_ERROR_BAD_ANSWER, "cut off", 1, 0 },
  { "/openai/failure/bad-base64", FAIL_BAD_BASE64, OP_HTTP_ERROR_BAD_ANSWER, "base64", 1, 0 },
  { "/openai/failure/not-a-picture", FAIL_NOT_A_PICTURE, OP_HTTP_ERROR_BAD_ANSWER,
    "not an image", 1, 0 },
  { "/openai/failure/no-pictures", FAIL_NO_PICTURES, OP_HTTP_ERROR_BAD_ANSWER,
    "no pictures", 1, 0 },
  { "/openai/failure/wrong-size", FAIL_WRONG_SIZE, OP_HTTP_ERROR_BAD_ANSWER,
    "768 × 512 picture where 1536 × 1024 was asked", 1, 0 },
  { "/openai/failure/connection-reset", FAIL_RESET, OP_HTTP_ERROR_UNREACHABLE, "reset", 1, 0 },
  { "/openai/failure/stall", FAIL_STALL, OP_HTTP_ERROR_TIMEOUT, "stopped answering", 1, 1 },
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
  mock_set_failure (f->mock, c->failure);
  job = run_job (f, request);

  assert_no_violation (f->mock);
  assert_failed (job, OP_HTTP_ERROR, c->code, c->words);
  g_test_message ("the mock saw %u requests", mock_get_n_requests (f->mock));
  if (c->n_requests > 0)
    g_assert_cmpuint (mock_get_n_requests (f->mock), ==, c->n_requests);
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
  mock_set_failure (f->mock, FAIL_STALL);
  job = op_worker_submit (f->worker, f->backend, request);

  while (mock_get_n_requests (f->mock) == 0)
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
  assert_no_violation (f->mock);
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

  return g_test_run ();
}
