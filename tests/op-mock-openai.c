/* op-mock-openai.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mock-openai"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <json-glib/json-glib.h>

#include "op-mock-openai.h"

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
  { "dall-e-2", dall_e_2_sizes, 1000, OP_MOCK_OPENAI_MAX_SMALL_UPLOAD, FALSE },
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
refuse (OpMockOpenai      *mock,
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
hold_connection (OpMockOpenai      *mock,
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
send_pictures (SoupServerMessage   *msg,
               const Edit          *edit,
               OpMockOpenaiFailure  failure)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *quality = g_hash_table_lookup (edit->fields, "quality");
  int n = failure == OP_MOCK_OPENAI_FAIL_NO_PICTURES ? 0 : edit->n;

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
      else if (failure == OP_MOCK_OPENAI_FAIL_BAD_BASE64)
        {
          json_builder_set_member_name (builder, "b64_json");
          json_builder_add_string_value (builder, "iVBORw0KGgo!!not*base64");
        }
      else if (failure == OP_MOCK_OPENAI_FAIL_NOT_A_PICTURE)
        {
          g_autofree char *text = g_base64_encode ((const guchar *) "not a picture", 13);

          json_builder_set_member_name (builder, "b64_json");
          json_builder_add_string_value (builder, text);
        }
      else
        {
          gboolean wrong_size = failure == OP_MOCK_OPENAI_FAIL_WRONG_SIZE;
          g_autofree char *b64 = encode_answer (edit, k, wrong_size);

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
answer (OpMockOpenai        *mock,
        SoupServerMessage   *msg,
        const Edit          *edit,
        OpMockOpenaiFailure  failure)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *message = NULL;

  switch (failure)
    {
    case OP_MOCK_OPENAI_FAIL_QUOTA:
      send_error (msg, 429, "You exceeded your current quota, please check your plan and "
                  "billing details. For more information on this error, read the docs: "
                  "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                  "insufficient_quota", NULL, "insufficient_quota");
      break;

    case OP_MOCK_OPENAI_FAIL_RATE_LIMIT_ONCE:
      soup_message_headers_replace (headers, "Retry-After", "1");
      send_error (msg, 429, "Rate limit reached for gpt-image-1 in organization org-mock on "
                  "images per minute (IPM): Limit 5, Used 5. Please try again in 1s.",
                  "requests", NULL, "rate_limit_exceeded");
      break;

    case OP_MOCK_OPENAI_FAIL_MODERATION:
      send_error (msg, 400, "Your request was rejected by the safety system. If you believe "
                  "this is an error, contact us at help.openai.com and include the request "
                  "ID req_mock.", "image_generation_user_error", NULL, "moderation_blocked");
      break;

    case OP_MOCK_OPENAI_FAIL_CONTENT_POLICY:
      send_error (msg, 400, "Your request was rejected as a result of our safety system. "
                  "Your prompt may contain text that is not allowed by our safety system.",
                  "invalid_request_error", NULL, "content_policy_violation");
      break;

    case OP_MOCK_OPENAI_FAIL_INVALID_SIZE:
      message = g_strdup_printf ("Invalid value: '%s'. Supported values are: '256x256', "
                                 "'512x512', and '1024x1024'.",
                                 (char *) g_hash_table_lookup (edit->fields, "size"));
      send_error (msg, 400, message, "invalid_request_error", "size", "invalid_value");
      break;

    case OP_MOCK_OPENAI_FAIL_IMAGE_TOO_LARGE:
      send_error (msg, 400, "Uploaded image must be a PNG and less than 4 MB.",
                  "invalid_request_error", "image", NULL);
      break;

    case OP_MOCK_OPENAI_FAIL_SERVER:
      send_error (msg, 500, "The server had an error while processing your request. Sorry "
                  "about that!", "server_error", NULL, NULL);
      break;

    case OP_MOCK_OPENAI_FAIL_HTML_502:
      soup_server_message_set_status (msg, 502, NULL);
      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        bad_gateway_page, sizeof bad_gateway_page - 1);
      break;

    case OP_MOCK_OPENAI_FAIL_TRUNCATED:
      close_connection (msg, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 100000\r\n"
                             "Connection: close\r\n\r\n"
                             "{\"created\": 1713833628, \"data\": [{\"b64_json\": \"iVBORw0KGgoA",
                        FALSE);
      break;

    case OP_MOCK_OPENAI_FAIL_RESET:
      close_connection (msg, NULL, TRUE);
      break;

    case OP_MOCK_OPENAI_FAIL_STALL:
      hold_connection (mock, msg);
      break;

    case OP_MOCK_OPENAI_FAIL_NONE:
    case OP_MOCK_OPENAI_FAIL_AUTH:
    case OP_MOCK_OPENAI_FAIL_BAD_BASE64:
    case OP_MOCK_OPENAI_FAIL_NOT_A_PICTURE:
    case OP_MOCK_OPENAI_FAIL_NO_PICTURES:
    case OP_MOCK_OPENAI_FAIL_WRONG_SIZE:
    default:
      send_pictures (msg, edit, failure);
      break;
    }
}

/* The mock: reading and checking the request */

/* OpenAI's 401 quotes the start and the end of the key it was given. */
static gboolean
check_auth (OpMockOpenai        *mock,
            SoupServerMessage   *msg,
            OpMockOpenaiFailure  failure)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *message = NULL;
  gsize length;

  g_autofree char *expected = NULL;

  g_mutex_lock (&mock->lock);
  expected = g_strconcat ("Bearer ", mock->api_key, NULL);
  g_mutex_unlock (&mock->lock);

  if (failure != OP_MOCK_OPENAI_FAIL_AUTH && g_strcmp0 (value, expected) == 0)
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
  if (edit->mask_bytes >= OP_MOCK_OPENAI_MAX_SMALL_UPLOAD)
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
check_expected (OpMockOpenai *mock,
                Edit         *edit)
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
read_edit (OpMockOpenai       *mock,
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
record (OpMockOpenai *mock,
        const Edit   *edit)
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
  OpMockOpenai *mock = user_data;
  g_autoptr(Edit) edit = NULL;
  g_autofree char *problem = NULL;
  OpMockOpenaiFailure failure;

  g_mutex_lock (&mock->lock);
  mock->n_requests++;
  failure = mock->failure;
  if (failure == OP_MOCK_OPENAI_FAIL_RATE_LIMIT_ONCE)
    mock->failure = OP_MOCK_OPENAI_FAIL_NONE;
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

/* POST /v1/chat/completions with a picture: {"model", "messages": [{"role", "content":
 * [{"type": "text"}, {"type": "image_url", "image_url": {"url": data URL}}]}]}.  Models
 * that cannot see are refused the way OpenAI refuses them. */
static void
chat_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  static const char * const vision[] = { "gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", NULL };
  OpMockOpenai *mock = user_data;
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autofree char *answer = NULL;
  JsonObject *body;
  JsonArray *messages;
  const char *model;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      send_error (msg, 405, "Method not allowed.", "invalid_request_error", NULL, NULL);
      return;
    }
  if (!check_auth (mock, msg, OP_MOCK_OPENAI_FAIL_NONE))
    return;

  root = json_from_string (g_bytes_get_data (bytes, NULL), NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      send_error (msg, 400, "We could not parse the JSON body of your request.", "invalid_request_error",
                  NULL, NULL);
      return;
    }
  body = json_node_get_object (root);
  model = json_object_get_string_member_with_default (body, "model", NULL);
  if (model == NULL || !json_object_has_member (body, "messages"))
    {
      send_error (msg, 400, "Missing required parameter: 'model'.", "invalid_request_error", "model", NULL);
      return;
    }
  if (!g_strv_contains (vision, model))
    {
      g_autofree char *message = g_strdup_printf ("The model `%s` does not exist or you do not have access to it.", model);

      send_error (msg, 404, message, "invalid_request_error", NULL, "model_not_found");
      return;
    }

  messages = json_object_get_array_member (body, "messages");
  for (guint i = 0; messages != NULL && i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);
      JsonArray *content = message != NULL && json_object_has_member (message, "content") &&
                           JSON_NODE_HOLDS_ARRAY (json_object_get_member (message, "content"))
                           ? json_object_get_array_member (message, "content") : NULL;

      for (guint j = 0; content != NULL && j < json_array_get_length (content); j++)
        {
          JsonObject *part = json_array_get_object_element (content, j);
          JsonObject *image_url;
          const char *url, *comma;
          g_autofree guchar *data = NULL;
          g_autoptr(GBytes) png = NULL;
          gsize length = 0;

          if (part == NULL || g_strcmp0 (json_object_get_string_member_with_default (part, "type", ""), "image_url") != 0)
            continue;
          image_url = json_object_get_object_member (part, "image_url");
          url = image_url != NULL ? json_object_get_string_member_with_default (image_url, "url", "") : "";
          comma = strchr (url, ',');
          if (!g_str_has_prefix (url, "data:image/") || comma == NULL)
            {
              send_error (msg, 400, "Invalid image URL: expected a data URL or an https URL.",
                          "invalid_request_error", "messages", "invalid_image_url");
              return;
            }
          data = g_base64_decode (comma + 1, &length);
          png = g_bytes_new_take (g_steal_pointer (&data), length);
          g_clear_pointer (&image, op_image_unref);
          image = op_image_new_from_bytes (png, NULL);
          if (image == NULL)
            {
              send_error (msg, 400, "You uploaded an unsupported image. Please make sure your image is valid.",
                          "invalid_request_error", NULL, "invalid_image_format");
              return;
            }
        }
    }
  if (image == NULL)
    {
      send_error (msg, 400, "mock: no picture was sent to describe", "invalid_request_error", NULL, NULL);
      return;
    }

  g_mutex_lock (&mock->lock);
  mock->n_chats++;
  g_free (mock->chat_model);
  mock->chat_model = g_strdup (model);
  g_clear_pointer (&mock->chat_image, op_image_unref);
  mock->chat_image = g_steal_pointer (&image);
  g_mutex_unlock (&mock->lock);

  answer = g_strdup_printf ("{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\",\"created\":1764752400,"
                            "\"model\":\"%s\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                            "\"content\":\"%s\",\"refusal\":null},\"finish_reason\":\"stop\"}],"
                            "\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":20,\"total_tokens\":320}}",
                            model, OP_MOCK_OPENAI_CAPTION);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, answer, strlen (answer));
}

OpMockOpenai *
op_mock_openai_new (void)
{
  OpMockOpenai *mock = g_new0 (OpMockOpenai, 1);

  g_mutex_init (&mock->lock);
  mock->api_key = g_strdup (OP_MOCK_OPENAI_KEY);
  mock->held = g_ptr_array_new_with_free_func (g_object_unref);
  mock->server = op_mock_server_new ();
  op_mock_server_add_handler (mock->server, "/v1/images/edits", edits_cb, mock);
  op_mock_server_add_handler (mock->server, "/v1/chat/completions", chat_cb, mock);

  return mock;
}

void
op_mock_openai_free (OpMockOpenai *mock)
{
  /* The server's thread stops first, so no handler runs on what is freed below. */
  g_clear_pointer (&mock->server, op_mock_server_free);

  for (guint i = 0; i < mock->held->len; i++)
    g_io_stream_close (g_ptr_array_index (mock->held, i), NULL, NULL);
  g_ptr_array_unref (mock->held);
  g_clear_pointer (&mock->fields, g_hash_table_unref);
  g_clear_pointer (&mock->expected_input, op_image_unref);
  g_clear_pointer (&mock->expected_mask, op_mask_unref);
  g_free (mock->chat_model);
  g_clear_pointer (&mock->chat_image, op_image_unref);
  g_free (mock->api_key);
  g_free (mock->violation);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

void
op_mock_openai_set_failure (OpMockOpenai        *mock,
                            OpMockOpenaiFailure  failure)
{
  g_mutex_lock (&mock->lock);
  mock->failure = failure;
  g_mutex_unlock (&mock->lock);
}

guint
op_mock_openai_get_n_requests (OpMockOpenai *mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_requests;
  g_mutex_unlock (&mock->lock);

  return n;
}

char *
op_mock_openai_dup_field (OpMockOpenai *mock,
                          const char   *name)
{
  char *value = NULL;

  g_mutex_lock (&mock->lock);
  if (mock->fields != NULL)
    value = g_strdup (g_hash_table_lookup (mock->fields, name));
  g_mutex_unlock (&mock->lock);

  return value;
}

void
op_mock_openai_assert_field (OpMockOpenai *mock,
                             const char   *name,
                             const char   *expected)
{
  g_autofree char *value = op_mock_openai_dup_field (mock, name);

  g_assert_cmpstr (value, ==, expected);
}

void
op_mock_openai_assert_no_violation (OpMockOpenai *mock)
{
  g_mutex_lock (&mock->lock);
  if (mock->violation != NULL)
    g_test_message ("the mock refused a request: %s", mock->violation);
  g_assert_null (mock->violation);
  g_mutex_unlock (&mock->lock);
}

void
op_mock_openai_set_api_key (OpMockOpenai *mock,
                            const char   *api_key)
{
  g_mutex_lock (&mock->lock);
  g_free (mock->api_key);
  mock->api_key = g_strdup (api_key);
  g_mutex_unlock (&mock->lock);
}

const char *
op_mock_openai_get_url (OpMockOpenai *mock)
{
  return op_mock_server_get_url (mock->server);
}
