/* op-mock-a1111.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mock-a1111"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "op-mock-a1111.h"

/* Every field of StableDiffusionProcessingImg2Img the API accepts (section 1.3). */
typedef enum
{
  FIELD_STR,
  FIELD_STR_OR_LIST,
  FIELD_INT,
  FIELD_FLOAT,
  FIELD_BOOL,
  FIELD_LIST,
  FIELD_DICT,
} FieldType;

static const struct
{
  const char *name;
  FieldType   type;
} img2img_fields[] = {
  { "init_images", FIELD_LIST }, { "mask", FIELD_STR },
  { "prompt", FIELD_STR_OR_LIST }, { "negative_prompt", FIELD_STR }, { "styles", FIELD_LIST },
  { "seed", FIELD_INT }, { "subseed", FIELD_INT }, { "subseed_strength", FIELD_FLOAT },
  { "seed_resize_from_h", FIELD_INT }, { "seed_resize_from_w", FIELD_INT },
  { "sampler_name", FIELD_STR }, { "sampler_index", FIELD_STR }, { "scheduler", FIELD_STR },
  { "batch_size", FIELD_INT }, { "n_iter", FIELD_INT }, { "steps", FIELD_INT },
  { "cfg_scale", FIELD_FLOAT }, { "distilled_cfg_scale", FIELD_FLOAT },
  { "width", FIELD_INT }, { "height", FIELD_INT },
  { "restore_faces", FIELD_BOOL }, { "tiling", FIELD_BOOL },
  { "do_not_save_samples", FIELD_BOOL }, { "do_not_save_grid", FIELD_BOOL },
  { "eta", FIELD_FLOAT }, { "denoising_strength", FIELD_FLOAT },
  { "s_min_uncond", FIELD_FLOAT }, { "s_churn", FIELD_FLOAT }, { "s_tmax", FIELD_FLOAT },
  { "s_tmin", FIELD_FLOAT }, { "s_noise", FIELD_FLOAT },
  { "override_settings", FIELD_DICT }, { "override_settings_restore_afterwards", FIELD_BOOL },
  { "refiner_checkpoint", FIELD_STR }, { "refiner_switch_at", FIELD_FLOAT },
  { "disable_extra_networks", FIELD_BOOL }, { "firstpass_image", FIELD_STR },
  { "comments", FIELD_DICT }, { "resize_mode", FIELD_INT }, { "image_cfg_scale", FIELD_FLOAT },
  { "mask_blur", FIELD_INT }, { "mask_blur_x", FIELD_INT }, { "mask_blur_y", FIELD_INT },
  { "mask_round", FIELD_BOOL }, { "inpainting_fill", FIELD_INT },
  { "inpaint_full_res", FIELD_BOOL }, { "inpaint_full_res_padding", FIELD_INT },
  { "inpainting_mask_invert", FIELD_INT }, { "initial_noise_multiplier", FIELD_FLOAT },
  { "latent_mask", FIELD_STR }, { "force_task_id", FIELD_STR },
  { "hr_distilled_cfg", FIELD_FLOAT }, { "script_name", FIELD_STR },
  { "script_args", FIELD_LIST }, { "alwayson_scripts", FIELD_DICT },
  { "send_images", FIELD_BOOL }, { "save_images", FIELD_BOOL },
  { "include_init_images", FIELD_BOOL }, { "infotext", FIELD_STR },
};

/* Integer fields with a closed range (section 1.11). */
static const struct
{
  const char *name;
  double      min;
  double      max;
} img2img_ranges[] = {
  { "inpainting_fill", 0, 3 },
  { "resize_mode", 0, 3 },
  { "inpainting_mask_invert", 0, 1 },
  { "denoising_strength", 0, 1 },
  { "batch_size", 1, 64 },
  { "steps", 1, 500 },
  { "width", 64, 8192 },
  { "height", 64, 8192 },
};

const char * const op_mock_a1111_samplers[] = {
  "DPM++ 2M", "Euler a", "Euler", "DDIM", NULL
};
const char * const op_mock_a1111_models[] = {
  "v1-5-pruned-emaonly.safetensors [6ce0161689]", OP_MOCK_A1111_SDXL_TITLE, NULL
};
const char * const op_mock_a1111_schedulers[] = {
  "Automatic", "Uniform", "Karras", "Exponential", NULL
};

/* Replies */

static void
reply (SoupServerMessage *msg,
       guint              status,
       const char        *content_type,
       const char        *body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

static void
reply_json (SoupServerMessage *msg,
            guint              status,
            JsonNode          *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  reply (msg, status, "application/json", text);
}

/* The web UI's handler for every exception: {"error", "detail", "body", "errors"}. */
static void
reply_exception (SoupServerMessage *msg,
                 guint              status,
                 const char        *error,
                 const char        *detail,
                 const char        *errors)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, error);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_string_value (builder, detail);
  json_builder_set_member_name (builder, "body");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "errors");
  json_builder_add_string_value (builder, errors);
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  reply_json (msg, status, node);
}

/* FastAPI's own 422: not wrapped (section 1.6); pydantic v1 items. */
static void
reply_validation (SoupServerMessage *msg,
                  JsonBuilder       *items)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) detail = NULL;
  g_autoptr(JsonNode) node = NULL;

  json_builder_end_array (items);
  detail = json_builder_get_root (items);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detail");
  json_builder_add_value (builder, g_steal_pointer (&detail));
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  reply_json (msg, 422, node);
}

static void
add_validation_item (JsonBuilder *items,
                     const char  *field,
                     const char  *msg,
                     const char  *type)
{
  json_builder_begin_object (items);
  json_builder_set_member_name (items, "loc");
  json_builder_begin_array (items);
  json_builder_add_string_value (items, "body");
  if (field != NULL)
    json_builder_add_string_value (items, field);
  json_builder_end_array (items);
  json_builder_set_member_name (items, "msg");
  json_builder_add_string_value (items, msg);
  json_builder_set_member_name (items, "type");
  json_builder_add_string_value (items, type);
  json_builder_end_object (items);
}

static void
reply_one_validation (SoupServerMessage *msg,
                      const char        *field,
                      const char        *text,
                      const char        *type)
{
  g_autoptr(JsonBuilder) items = json_builder_new ();

  json_builder_begin_array (items);
  add_validation_item (items, field, text, type);
  reply_validation (msg, items);
}

/* Hands the connection over and writes @head and @body itself, or resets it. */
static void
reply_raw (SoupServerMessage *msg,
           const char        *head,
           const char        *body,
           gsize              body_length,
           gboolean           reset)
{
  g_autoptr(GSocket) socket = g_object_ref (soup_server_message_get_socket (msg));
  g_autoptr(GIOStream) stream = soup_server_message_steal_connection (msg);
  GOutputStream *out;

  g_assert_nonnull (stream);
  out = g_io_stream_get_output_stream (stream);

  if (reset)
    {
      struct linger linger = { 1, 0 };

      /* closing with a zero linger sends RST rather than FIN */
      g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER,
                                   &linger, sizeof linger), ==, 0);
    }
  else
    {
      g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
      g_output_stream_write_all (out, body, body_length, NULL, NULL, NULL);
    }

  g_io_stream_close (stream, NULL, NULL);
}

/* Checks every route makes */

static gboolean
mock_check_method (SoupServerMessage *msg,
                   const char        *method)
{
  if (g_str_equal (soup_server_message_get_method (msg), method))
    return TRUE;

  reply (msg, 405, "application/json", "{\"detail\":\"Method Not Allowed\"}");
  return FALSE;
}

/* --api-auth guards every /sdapi/v1 route (section 1.1). */
static gboolean
mock_check_auth (OpMockA1111       *mock,
                 SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *expected = NULL;
  g_autofree char *encoded = NULL;

  if (mock->auth == NULL)
    return TRUE;

  encoded = g_base64_encode ((const guchar *) mock->auth, strlen (mock->auth));
  expected = g_strconcat ("Basic ", encoded, NULL);
  if (g_strcmp0 (value, expected) == 0)
    return TRUE;

  g_mutex_lock (&mock->lock);
  mock->n_unauthorized++;
  g_mutex_unlock (&mock->lock);

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "WWW-Authenticate", "Basic");
  reply_exception (msg, 401, "HTTPException", "Incorrect username or password",
                   "401: Incorrect username or password");
  return FALSE;
}

/* Held forever, like a hung server; answered when the mock goes. */
static void
mock_stall (OpMockA1111       *mock,
            SoupServerMessage *msg)
{
  g_ptr_array_add (mock->stalled, g_object_ref (msg));
  soup_server_message_pause (msg);
}

/* What every route does first; FALSE when it has answered already. */
static gboolean
mock_enter (OpMockA1111       *mock,
            SoupServerMessage *msg,
            const char        *method)
{
  if (mock->config.failure == OP_MOCK_A1111_FAIL_NO_API)
    {
      reply (msg, 404, "application/json", "{\"detail\":\"Not Found\"}");
      return FALSE;
    }

  if (!mock_check_method (msg, method) || !mock_check_auth (mock, msg))
    return FALSE;

  if (mock->config.failure == OP_MOCK_A1111_FAIL_STALL)
    {
      mock_stall (mock, msg);
      return FALSE;
    }

  return TRUE;
}

/* pydantic */

/* A number the way pydantic v1 reads one: numbers, numeric strings, booleans. */
static gboolean
coerce_number (JsonNode *node,
               double   *value)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64 || type == G_TYPE_DOUBLE || type == G_TYPE_BOOLEAN)
    {
      *value = type == G_TYPE_BOOLEAN ? json_node_get_boolean (node) : json_node_get_double (node);
      return TRUE;
    }

  if (type == G_TYPE_STRING)
    {
      const char *text = json_node_get_string (node);
      char *end;

      *value = g_ascii_strtod (text, &end);
      return end != text && *end == '\0';
    }

  return FALSE;
}

static gboolean
coerce_bool (JsonNode *node)
{
  static const char * const words[] = {
    "0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes", NULL
  };
  double value;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return TRUE;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    {
      g_autofree char *lower = g_ascii_strdown (json_node_get_string (node), -1);

      return g_strv_contains (words, lower);
    }

  return coerce_number (node, &value) && (value == 0 || value == 1);
}

/* NULL when @node fits @type, else pydantic's message; @code gets its type code. */
static const char *
type_error (JsonNode    *node,
            FieldType    type,
            const char **code)
{
  double value;

  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;

  switch (type)
    {
    case FIELD_STR_OR_LIST:
      if (JSON_NODE_HOLDS_ARRAY (node))
        return NULL;
      G_GNUC_FALLTHROUGH;
    case FIELD_STR:
      *code = "type_error.str";
      return JSON_NODE_HOLDS_VALUE (node) ? NULL : "str type expected";

    case FIELD_INT:
      *code = "type_error.integer";
      return coerce_number (node, &value) ? NULL : "value is not a valid integer";

    case FIELD_FLOAT:
      *code = "type_error.float";
      return coerce_number (node, &value) ? NULL : "value is not a valid float";

    case FIELD_BOOL:
      *code = "type_error.bool";
      return coerce_bool (node) ? NULL : "value could not be parsed to a boolean";

    case FIELD_LIST:
      *code = "type_error.list";
      return JSON_NODE_HOLDS_ARRAY (node) ? NULL : "value is not a valid list";

    case FIELD_DICT:
      *code = "type_error.dict";
      return JSON_NODE_HOLDS_OBJECT (node) ? NULL : "value is not a valid dict";

    default:
      g_assert_not_reached ();
    }
}

static int
field_index (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (img2img_fields); i++)
    if (g_str_equal (img2img_fields[i].name, name))
      return (int) i;

  return -1;
}

/* Types first, as pydantic does, all errors at once; unknown keys are only noted
 * (pydantic ignores them), and recorded so the tests can insist there are none. */
static gboolean
mock_check_types (OpMockA1111       *mock,
                  SoupServerMessage *msg,
                  JsonObject        *body)
{
  g_autoptr(JsonBuilder) items = json_builder_new ();
  g_autoptr(GList) members = json_object_get_members (body);
  gboolean ok = TRUE;

  json_builder_begin_array (items);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      int index = field_index (name);
      const char *code = NULL, *error;

      if (index < 0)
        {
          g_test_message ("mock web UI: ignoring the unknown field “%s”", name);
          g_mutex_lock (&mock->lock);
          g_ptr_array_add (mock->unknown_keys, g_strdup (name));
          g_mutex_unlock (&mock->lock);
          continue;
        }

      error = type_error (json_object_get_member (body, name), img2img_fields[index].type, &code);
      if (error != NULL)
        {
          add_validation_item (items, name, error, code);
          ok = FALSE;
        }
    }

  if (!ok)
    reply_validation (msg, items);

  return ok;
}

static double
body_number (JsonObject *body,
             const char *name,
             double      fallback)
{
  JsonNode *node = json_object_get_member (body, name);
  double value;

  if (node == NULL || !coerce_number (node, &value))
    return fallback;

  return value;
}

static const char *
body_string (JsonObject *body,
             const char *name)
{
  JsonNode *node = json_object_get_member (body, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static gboolean
mock_check_ranges (SoupServerMessage *msg,
                   JsonObject        *body)
{
  for (guint i = 0; i < G_N_ELEMENTS (img2img_ranges); i++)
    {
      double value = body_number (body, img2img_ranges[i].name, img2img_ranges[i].min);

      if (value >= img2img_ranges[i].min && value <= img2img_ranges[i].max)
        continue;

      reply_one_validation (msg, img2img_ranges[i].name, "mock: value out of range",
                            "value_error.number.not_in_range");
      return FALSE;
    }

  return TRUE;
}

/* Pictures */

/* decode_base64_to_image: an optional data: prefix, standard base64 with its padding,
 * then a picture; NULL when the web UI would answer "Invalid encoded image". */
static OpImage *
decode_picture (const char *text)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree guchar *data = NULL;
  gsize length = 0, n = 0;

  if (text == NULL)
    return NULL;

  if (g_str_has_prefix (text, "data:image/"))
    {
      const char *comma = strchr (text, ',');

      if (comma == NULL)
        return NULL;
      text = comma + 1;
    }

  for (const char *p = text; *p != '\0'; p++)
    if (g_ascii_isalnum (*p) || *p == '+' || *p == '/' || *p == '=')
      n++;
  if (n == 0 || n % 4 != 0)
    return NULL;

  data = g_base64_decode (text, &length);
  if (length == 0)
    return NULL;

  bytes = g_bytes_new_take (g_steal_pointer (&data), length);
  return op_image_new_from_bytes (bytes, NULL);
}

static gboolean
image_is_opaque (OpImage *image)
{
  int width = op_image_get_width (image), height = op_image_get_height (image);

  for (int y = 0; y < height; y++)
    {
      const guint8 *row = op_image_peek_data (image) + (gsize) y * op_image_get_stride (image);

      for (int x = 0; x < width; x++)
        if (row[4 * x + 3] != 255)
          return FALSE;
    }

  return TRUE;
}

/* create_binary_mask: the alpha channel when the mask has real transparency (opaque =
 * inpaint), else the luminance (white = inpaint); rounded at 128. */
static OpMask *
effective_mask (OpImage *image)
{
  int width = op_image_get_width (image), height = op_image_get_height (image);
  gboolean use_alpha = !image_is_opaque (image);
  OpMask *mask = op_mask_new (width, height);

  for (int y = 0; y < height; y++)
    {
      const guint8 *row = op_image_peek_data (image) + (gsize) y * op_image_get_stride (image);
      guint8 *out = op_mask_get_data (mask) + (gsize) y * width;

      for (int x = 0; x < width; x++)
        {
          const guint8 *p = row + 4 * x;
          double value = use_alpha ? p[3] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];

          out[x] = value > 128 ? 255 : 0;
        }
    }

  return mask;
}

/* The picture a generation gives: the init image, tinted where the mask says. */
static OpImage *
make_answer_picture (OpImage      *init,
                     const OpMask *mask,
                     guint         index,
                     double        amount)
{
  static const guint8 tints[][3] = {
    { 220, 40, 40 }, { 40, 200, 60 }, { 40, 80, 220 }, { 230, 200, 30 },
  };
  const guint8 *tint = tints[index % G_N_ELEMENTS (tints)];
  OpImage *out = op_image_copy (init);
  int width = op_image_get_width (out), height = op_image_get_height (out);

  for (int y = 0; y < height; y++)
    {
      guint8 *row = op_image_get_data (out) + (gsize) y * op_image_get_stride (out);

      for (int x = 0; x < width; x++)
        {
          if (mask != NULL && op_mask_peek_data (mask)[(gsize) y * width + x] == 0)
            continue;
          for (int c = 0; c < 3; c++)
            row[4 * x + c] = (guint8) (row[4 * x + c] * (1 - amount) + tint[c] * amount);
        }
    }

  return out;
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

/* img2img */

/* The sizes and the mask as this client's contract has them (sections 1.5 and 6). */
static gboolean
mock_check_pictures (OpMockA1111        *mock,
                     SoupServerMessage  *msg,
                     JsonObject         *body,
                     OpImage           **init_out,
                     OpImage           **mask_out)
{
  JsonNode *images = json_object_get_member (body, "init_images");
  JsonNode *first;
  g_autoptr(OpImage) init = NULL;
  g_autoptr(OpImage) mask = NULL;
  int width, height;

  if (images == NULL || JSON_NODE_HOLDS_NULL (images) ||
      json_array_get_length (json_node_get_array (images)) == 0)
    {
      reply_exception (msg, 404, "HTTPException", "Init image not found",
                       "404: Init image not found");
      return FALSE;
    }

  first = json_array_get_element (json_node_get_array (images), 0);
  if (JSON_NODE_HOLDS_VALUE (first) && json_node_get_value_type (first) == G_TYPE_STRING)
    init = decode_picture (json_node_get_string (first));
  mask = decode_picture (body_string (body, "mask"));
  if (init == NULL || (json_object_has_member (body, "mask") && mask == NULL))
    {
      reply_exception (msg, 500, "HTTPException", "Invalid encoded image",
                       "500: Invalid encoded image");
      return FALSE;
    }

  width = (int) body_number (body, "width", 512);
  height = (int) body_number (body, "height", 512);
  if (width % 8 != 0 || height % 8 != 0 ||
      width != op_image_get_width (init) || height != op_image_get_height (init))
    {
      reply_one_validation (msg, "width", "mock: width and height must be multiples of 8 "
                            "and the init image's size", "value_error.mock");
      return FALSE;
    }

  if (mask == NULL || !image_is_opaque (mask) || !image_is_opaque (init) ||
      op_image_get_width (mask) != width || op_image_get_height (mask) != height)
    {
      reply_one_validation (msg, "mask", "mock: the mask must be an opaque picture of the "
                            "init image's size, and the init image opaque", "value_error.mock");
      return FALSE;
    }

  *init_out = g_steal_pointer (&init);
  *mask_out = g_steal_pointer (&mask);
  return TRUE;
}

/* v1.10 answers 400 for a sampler it does not know (older ones fall back silently,
 * which would hide the mistake). */
static gboolean
mock_check_sampler (SoupServerMessage *msg,
                    JsonObject        *body)
{
  const char *sampler = body_string (body, "sampler_name");

  if (sampler == NULL || g_strv_contains (op_mock_a1111_samplers, sampler))
    return TRUE;

  reply_exception (msg, 400, "HTTPException", "Sampler not found", "400: Sampler not found");
  return FALSE;
}

static void
mock_record (OpMockA1111 *mock,
             JsonNode    *root,
             OpImage     *init,
             OpImage     *mask_image)
{
  g_autofree char *text = NULL;

  g_mutex_lock (&mock->lock);
  g_clear_pointer (&mock->body, json_node_unref);
  /* a deep copy: json_node_copy () shares the object */
  text = json_to_string (root, FALSE);
  mock->body = json_from_string (text, NULL);
  g_clear_pointer (&mock->init_image, op_image_unref);
  mock->init_image = op_image_ref (init);
  g_clear_pointer (&mock->mask_image, op_image_unref);
  mock->mask_image = op_image_ref (mask_image);
  g_clear_pointer (&mock->mask, op_mask_unref);
  mock->mask = effective_mask (mask_image);
  g_mutex_unlock (&mock->lock);
}

static char *
make_info (JsonObject *body,
           gint64      seed,
           int         batch_size,
           gboolean    custom_seeds)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  const char *sampler = body_string (body, "sampler_name");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt");
  json_builder_add_string_value (builder, body_string (body, "prompt"));
  json_builder_set_member_name (builder, "seed");
  json_builder_add_int_value (builder, seed);
  json_builder_set_member_name (builder, "all_seeds");
  json_builder_begin_array (builder);
  for (int i = 0; i < batch_size; i++)
    json_builder_add_int_value (builder, custom_seeds ? 1000 + 7 * i : seed + i);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, (gint64) body_number (body, "width", 512));
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, (gint64) body_number (body, "height", 512));
  json_builder_set_member_name (builder, "sampler_name");
  json_builder_add_string_value (builder, sampler != NULL ? sampler : "Euler");
  json_builder_set_member_name (builder, "batch_size");
  json_builder_add_int_value (builder, batch_size);
  json_builder_set_member_name (builder, "index_of_first_image");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, "v1.10.1");
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  return json_to_string (node, FALSE);
}

/* The request echoed, its pictures left out unless include_init_images. */
static void
add_parameters (JsonBuilder *builder,
                JsonObject  *body)
{
  g_autoptr(GList) members = json_object_get_members (body);

  json_builder_begin_object (builder);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;

      json_builder_set_member_name (builder, name);
      if (g_str_equal (name, "init_images") || g_str_equal (name, "mask"))
        json_builder_add_null_value (builder);
      else
        json_builder_add_value (builder, json_node_copy (json_object_get_member (body, name)));
    }
  json_builder_end_object (builder);
}

/* The 1.4 shape: images, the echoed parameters (pictures left out), info as a string. */
static char *
make_answer (OpMockA1111 *mock,
             JsonObject  *body,
             OpImage     *init,
             OpMask      *mask,
             double       amount)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *info = NULL;
  int batch_size = (int) body_number (body, "batch_size", 1);
  gint64 seed = (gint64) body_number (body, "seed", -1);

  if (seed < 0)
    seed = g_random_int_range (0, G_MAXINT32);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (int i = 0; i < batch_size; i++)
    {
      g_autoptr(OpImage) picture = make_answer_picture (init, mask, i, amount);
      g_autofree char *text = NULL;

      if (mock->config.failure == OP_MOCK_A1111_FAIL_WRONG_SIZE)
        {
          g_clear_pointer (&picture, op_image_unref);
          picture = op_image_new (64, 64);
        }
      else if (mock->config.answer_scale > 1)
        {
          OpRect all = { 0, 0, op_image_get_width (init), op_image_get_height (init) };
          OpImage *big = op_image_scale (picture, &all, all.width * mock->config.answer_scale,
                                         all.height * mock->config.answer_scale);

          g_clear_pointer (&picture, op_image_unref);
          picture = big;
        }

      if (mock->config.failure == OP_MOCK_A1111_FAIL_BAD_BASE64)
        text = g_strdup ("!!! not *** base64 ###");
      else
        text = encode_picture (picture);
      if (mock->config.failure != OP_MOCK_A1111_FAIL_NO_IMAGES)
        json_builder_add_string_value (builder, text);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "parameters");
  add_parameters (builder, body);

  info = make_info (body, seed, batch_size, mock->config.custom_seeds);
  json_builder_set_member_name (builder, "info");
  json_builder_add_string_value (builder, info);
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  return json_to_string (node, FALSE);
}

/* The web UI answers when the job is done, or at once with what it has when
 * interrupted; anything else it is asked meanwhile (progress) is answered as usual. */
static void
mock_release_held (OpMockA1111 *mock,
                   guint        status)
{
  if (mock->held == NULL)
    return;

  if (mock->hold_source != NULL)
    {
      g_source_destroy (mock->hold_source);
      g_clear_pointer (&mock->hold_source, g_source_unref);
    }

  if (status == 200)
    reply (mock->held, 200, "application/json", mock->held_answer);
  else
    reply (mock->held, status, "application/json", "{\"detail\":\"shutting down\"}");
  soup_server_message_unpause (mock->held);

  g_clear_object (&mock->held);
  g_clear_pointer (&mock->held_answer, g_free);
  g_clear_pointer (&mock->job_image, op_image_unref);
  g_clear_pointer (&mock->job_mask, op_mask_unref);
}

static gboolean
hold_done_cb (gpointer user_data)
{
  OpMockA1111 *mock = user_data;

  g_clear_pointer (&mock->hold_source, g_source_unref);
  mock_release_held (mock, 200);

  return G_SOURCE_REMOVE;
}

/* Takes @answer. */
static void
mock_hold (OpMockA1111       *mock,
           SoupServerMessage *msg,
           char              *answer,
           OpImage           *init,
           OpMask            *mask,
           JsonObject        *body)
{
  double strength = body_number (body, "denoising_strength", 0.75);

  /* the web UI runs one job at a time, and the tests never ask for two */
  g_assert_null (mock->held);

  mock->held = g_object_ref (msg);
  mock->held_answer = answer;
  mock->job_image = op_image_ref (init);
  mock->job_mask = op_mask_ref (mask);
  mock->job_started = g_get_monotonic_time ();
  mock->job_hold_ms = mock->config.hold_ms;
  /* img2img runs steps × strength steps unless img2img_fix_steps is on */
  mock->job_steps = MAX (1, (int) (body_number (body, "steps", 50) * strength));
  soup_server_message_pause (msg);

  mock->hold_source = g_timeout_source_new (mock->config.hold_ms);
  g_source_set_callback (mock->hold_source, hold_done_cb, mock, NULL);
  g_source_attach (mock->hold_source, op_mock_server_get_context (mock->server));
}

/* Answers a request that passed every check, the way the failure mode says. */
static void
mock_answer (OpMockA1111       *mock,
             SoupServerMessage *msg,
             JsonObject        *body,
             OpImage           *init,
             OpMask            *mask)
{
  g_autofree char *answer = NULL;
  g_autofree char *head = NULL;

  switch (mock->config.failure)
    {
    case OP_MOCK_A1111_FAIL_VALIDATION:
      reply_one_validation (msg, "steps", "value is not a valid integer", "type_error.integer");
      return;

    case OP_MOCK_A1111_FAIL_VALIDATION_V2:
      reply (msg, 422, "application/json",
             "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"body\",\"steps\"],"
             "\"msg\":\"Input should be a valid integer, unable to parse string as an integer\","
             "\"input\":\"many\",\"url\":\"https://errors.pydantic.dev/2.8/v/int_parsing\"},"
             "{\"type\":\"float_parsing\",\"loc\":[\"body\",\"cfg_scale\"],"
             "\"msg\":\"Input should be a valid number\",\"input\":[]}]}");
      return;

    case OP_MOCK_A1111_FAIL_EXCEPTION:
      reply_exception (msg, 500, "OutOfMemoryError", "",
                       "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB "
                       "total capacity; 5.12 GiB already allocated)");
      return;

    case OP_MOCK_A1111_FAIL_PROXY_HTML:
      reply (msg, 502, "text/html",
             "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
             "</body>\r\n</html>\r\n");
      return;

    case OP_MOCK_A1111_FAIL_RESET:
      reply_raw (msg, NULL, NULL, 0, TRUE);
      return;

    case OP_MOCK_A1111_FAIL_TRUNCATED:
      answer = make_answer (mock, body, init, mask, 0.5);
      head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                              strlen (answer));
      reply_raw (msg, head, answer, strlen (answer) / 2, FALSE);
      return;

    case OP_MOCK_A1111_FAIL_NONE:
    case OP_MOCK_A1111_FAIL_BAD_BASE64:
    case OP_MOCK_A1111_FAIL_WRONG_SIZE:
    case OP_MOCK_A1111_FAIL_NO_IMAGES:
    case OP_MOCK_A1111_FAIL_STALL:
    case OP_MOCK_A1111_FAIL_NO_API:
    default:
      break;
    }

  answer = make_answer (mock, body, init, mask, 0.5);
  if (mock->config.hold_ms > 0)
    mock_hold (mock, msg, g_steal_pointer (&answer), init, mask, body);
  else
    reply (msg, 200, "application/json", answer);
}

static JsonNode *
parse_body (SoupServerMessage *msg)
{
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes), NULL) ||
      json_parser_get_root (parser) == NULL)
    return NULL;

  return json_node_ref (json_parser_get_root (parser));
}

static void
img2img_cb (SoupServer        *server,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  OpMockA1111 *mock = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(OpImage) init = NULL;
  g_autoptr(OpImage) mask_image = NULL;
  g_autoptr(OpMask) mask = NULL;
  JsonObject *body;

  if (!mock_enter (mock, msg, "POST"))
    return;

  g_mutex_lock (&mock->lock);
  mock->n_img2img++;
  g_mutex_unlock (&mock->lock);

  /* FastAPI reads the body as JSON whatever it is called, but a client that does not
   * say so is broken: stricter than upstream on purpose. */
  if (g_strcmp0 (soup_message_headers_get_content_type (headers, NULL), "application/json") != 0)
    {
      reply_one_validation (msg, NULL, "mock: the body must be sent as application/json",
                            "value_error.mock");
      return;
    }

  root = parse_body (msg);
  if (root == NULL)
    {
      reply_one_validation (msg, NULL, "Expecting value: line 1 column 1 (char 0)",
                            "value_error.jsondecode");
      return;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_one_validation (msg, NULL, "value is not a valid dict", "type_error.dict");
      return;
    }

  body = json_node_get_object (root);
  if (!mock_check_types (mock, msg, body) || !mock_check_ranges (msg, body) ||
      !mock_check_pictures (mock, msg, body, &init, &mask_image) ||
      !mock_check_sampler (msg, body))
    return;

  mock_record (mock, root, init, mask_image);
  mask = effective_mask (mask_image);
  mock_answer (mock, msg, body, init, mask);
}

/* POST /sdapi/v1/interrogate {"image", "model"} → {"caption"} (section 1.7): CLIP's
 * sentence-and-flavours caption or DeepDanbooru's tags, both naming something of the
 * picture (its shape and whether it is light or dark) so a test can tell which picture
 * was described. */
static void
interrogate_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  OpMockA1111 *mock = user_data;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *caption = NULL;
  const char *model, *light, *shape;
  JsonObject *body;
  double sum = 0;
  int w, h;

  if (!mock_enter (mock, msg, "POST"))
    return;

  root = parse_body (msg);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      reply_one_validation (msg, NULL, "value is not a valid dict", "type_error.dict");
      return;
    }
  body = json_node_get_object (root);

  model = body_string (body, "model");
  if (model == NULL)
    model = "clip";

  if (body_string (body, "image") == NULL)
    {
      reply_exception (msg, 404, "HTTPException", "Image not found", "404: Image not found");
      return;
    }
  image = decode_picture (body_string (body, "image"));
  if (image == NULL)
    {
      reply_exception (msg, 500, "HTTPException", "Invalid encoded image",
                       "500: Invalid encoded image");
      return;
    }
  if (!g_str_equal (model, "clip") && !g_str_equal (model, "deepdanbooru"))
    {
      reply_exception (msg, 404, "HTTPException", "Model not found", "404: Model not found");
      return;
    }

  g_mutex_lock (&mock->lock);
  mock->n_interrogate++;
  g_clear_pointer (&mock->interrogate_image, op_image_unref);
  mock->interrogate_image = op_image_ref (image);
  g_free (mock->interrogate_model);
  mock->interrogate_model = g_strdup (model);
  g_mutex_unlock (&mock->lock);

  w = op_image_get_width (image);
  h = op_image_get_height (image);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + x * 4;

        sum += p[0] + p[1] + p[2];
      }
  light = sum / (3.0 * w * h) > 110 ? "bright" : "dark";
  shape = w > h * 1.15 ? "wide" : h > w * 1.15 ? "tall" : "square";

  if (g_str_equal (model, "clip"))
    caption = g_strdup_printf ("a photo of a cup of coffee on a wooden table, %s %s picture, "
                               "by Greg Rutkowski, trending on artstation, shallow depth of field",
                               light, shape);
  else
    caption = g_strdup_printf ("no_humans, cup, coffee, table, %s_theme, %s_image, still_life",
                               light, shape);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "caption");
  json_builder_add_string_value (builder, caption);
  json_builder_end_object (builder);
  answer = json_builder_get_root (builder);
  reply_json (msg, 200, answer);
}

/* {"progress", "eta_relative", "state", "current_image", "textinfo"}: idle, or the
 * running job's step and its live preview. */
static void
add_progress (JsonBuilder *builder,
              OpMockA1111 *mock,
              gboolean     with_image)
{
  gboolean running = mock->held != NULL;
  double elapsed = (g_get_monotonic_time () - mock->job_started) / 1000.0;
  double done = running ? CLAMP (elapsed / MAX (mock->job_hold_ms, 1), 0.0, 1.0) : 0.0;
  int steps = running ? mock->job_steps : 0;
  int step = (int) (done * steps);
  const struct { const char *name; gint64 value; } state[] = {
    { "job_count", running ? 1 : 0 }, { "job_no", 0 },
    { "sampling_step", step }, { "sampling_steps", steps },
  };

  json_builder_set_member_name (builder, "progress");
  json_builder_add_double_value (builder, running ? MIN (0.01 + (double) step / steps, 1.0) : 0.0);
  json_builder_set_member_name (builder, "eta_relative");
  json_builder_add_double_value (builder, running ? (1 - done) * mock->job_hold_ms / 1000.0 : 0.0);

  json_builder_set_member_name (builder, "state");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "skipped");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "interrupted");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "job");
  json_builder_add_string_value (builder, running ? "scripts_img2img" : "");
  json_builder_set_member_name (builder, "job_timestamp");
  json_builder_add_string_value (builder, "20261121133122");
  for (guint i = 0; i < G_N_ELEMENTS (state); i++)
    {
      json_builder_set_member_name (builder, state[i].name);
      json_builder_add_int_value (builder, state[i].value);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "current_image");
  if (running && with_image && step > 0)
    {
      g_autoptr(OpImage) preview = make_answer_picture (mock->job_image, mock->job_mask, 0,
                                                        0.5 * done);
      g_autofree char *text = encode_picture (preview);

      json_builder_add_string_value (builder, text);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "textinfo");
  json_builder_add_null_value (builder);
}

static void
progress_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  OpMockA1111 *mock = user_data;
  const char *skip = query != NULL ? g_hash_table_lookup (query, "skip_current_image") : NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) node = NULL;

  if (!mock_enter (mock, msg, "GET"))
    return;

  g_mutex_lock (&mock->lock);
  if (mock->held != NULL)
    mock->n_progress_running++;
  g_mutex_unlock (&mock->lock);

  json_builder_begin_object (builder);
  add_progress (builder, mock, skip == NULL || g_ascii_strcasecmp (skip, "false") == 0);
  json_builder_end_object (builder);

  node = json_builder_get_root (builder);
  reply_json (msg, 200, node);
}

static void
interrupt_cb (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  OpMockA1111 *mock = user_data;

  if (!mock_enter (mock, msg, "POST"))
    return;

  g_mutex_lock (&mock->lock);
  mock->n_interrupt++;
  g_mutex_unlock (&mock->lock);

  /* the blocked img2img returns at once, with whatever was made (section 1.8) */
  mock_release_held (mock, 200);
  reply (msg, 200, "application/json", "{}");
}

static void
sd_models_cb (SoupServer        *server,
              SoupServerMessage *msg,
              const char        *path,
              GHashTable        *query,
              gpointer           user_data)
{
  static const char *answer =
    "[{\"title\":\"v1-5-pruned-emaonly.safetensors [6ce0161689]\","
    "\"model_name\":\"v1-5-pruned-emaonly\",\"hash\":\"6ce0161689\","
    "\"sha256\":\"6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa\","
    "\"filename\":\"/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors\",\"config\":null},"
    "{\"title\":\"" OP_MOCK_A1111_SDXL_TITLE "\","
    "\"model_name\":\"sd_xl_base_1.0\",\"hash\":\"31e35c80fc\","
    "\"sha256\":\"31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b\","
    "\"filename\":\"/models/Stable-diffusion/sd_xl_base_1.0.safetensors\",\"config\":null}]";

  if (mock_enter (user_data, msg, "GET"))
    reply (msg, 200, "application/json", answer);
}

static void
samplers_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  static const char *answer =
    "[{\"name\":\"DPM++ 2M\",\"aliases\":[\"k_dpmpp_2m\"],\"options\":{}},"
    "{\"name\":\"Euler a\",\"aliases\":[\"k_euler_a\",\"k_euler_ancestral\"],"
    "\"options\":{\"uses_ensd\":\"True\"}},"
    "{\"name\":\"Euler\",\"aliases\":[\"k_euler\"],\"options\":{}},"
    "{\"name\":\"DDIM\",\"aliases\":[],\"options\":{\"default_eta_is_0\":\"True\"}}]";

  if (mock_enter (user_data, msg, "GET"))
    reply (msg, 200, "application/json", answer);
}

static void
schedulers_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  OpMockA1111 *mock = user_data;
  static const char *answer =
    "[{\"name\":\"automatic\",\"label\":\"Automatic\",\"aliases\":null,"
    "\"default_rho\":-1,\"need_inner_model\":false},"
    "{\"name\":\"uniform\",\"label\":\"Uniform\",\"aliases\":null,"
    "\"default_rho\":-1,\"need_inner_model\":true},"
    "{\"name\":\"karras\",\"label\":\"Karras\",\"aliases\":null,"
    "\"default_rho\":7.0,\"need_inner_model\":false},"
    "{\"name\":\"exponential\",\"label\":\"Exponential\",\"aliases\":null,"
    "\"default_rho\":-1,\"need_inner_model\":false}]";

  if (!mock_enter (mock, msg, "GET"))
    return;

  if (mock->config.old_version)
    reply (msg, 404, "application/json", "{\"detail\":\"Not Found\"}");
  else
    reply (msg, 200, "application/json", answer);
}

/* Life */

static gboolean
configure_cb (gpointer user_data)
{
  gpointer *args = user_data;
  OpMockA1111 *mock = args[0];
  const OpMockA1111Config *config = args[1];

  mock->config = *config;
  g_free (mock->auth);
  mock->auth = g_strdup (config->auth);
  mock->config.auth = mock->auth;

  return G_SOURCE_REMOVE;
}

void
op_mock_a1111_configure (OpMockA1111             *mock,
                         const OpMockA1111Config *config)
{
  gpointer args[] = { mock, (gpointer) config };

  op_mock_server_invoke (mock->server, configure_cb, args);
}

/* Answers whatever still waits, so the server can go. */
static gboolean
release_all_cb (gpointer user_data)
{
  OpMockA1111 *mock = user_data;

  mock_release_held (mock, 503);
  for (guint i = 0; i < mock->stalled->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (mock->stalled, i);

      reply (msg, 503, "application/json", "{\"detail\":\"shutting down\"}");
      soup_server_message_unpause (msg);
    }
  g_ptr_array_set_size (mock->stalled, 0);

  return G_SOURCE_REMOVE;
}

OpMockA1111 *
op_mock_a1111_new (void)
{
  static const struct
  {
    const char         *path;
    SoupServerCallback  callback;
  } routes[] = {
    { "/sdapi/v1/img2img", img2img_cb },
    { "/sdapi/v1/progress", progress_cb },
    { "/sdapi/v1/interrupt", interrupt_cb },
    { "/sdapi/v1/sd-models", sd_models_cb },
    { "/sdapi/v1/samplers", samplers_cb },
    { "/sdapi/v1/schedulers", schedulers_cb },
    { "/sdapi/v1/interrogate", interrogate_cb },
  };
  OpMockA1111 *mock = g_new0 (OpMockA1111, 1);

  g_mutex_init (&mock->lock);
  mock->unknown_keys = g_ptr_array_new_with_free_func (g_free);
  mock->stalled = g_ptr_array_new_with_free_func (g_object_unref);
  mock->server = op_mock_server_new ();

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    op_mock_server_add_handler (mock->server, routes[i].path, routes[i].callback, mock);

  return mock;
}

void
op_mock_a1111_free (OpMockA1111 *mock)
{
  op_mock_server_invoke (mock->server, release_all_cb, mock);
  op_mock_server_free (mock->server);

  g_clear_pointer (&mock->body, json_node_unref);
  g_clear_pointer (&mock->init_image, op_image_unref);
  g_clear_pointer (&mock->mask_image, op_image_unref);
  g_clear_pointer (&mock->mask, op_mask_unref);
  g_clear_pointer (&mock->interrogate_image, op_image_unref);
  g_free (mock->interrogate_model);
  g_ptr_array_unref (mock->unknown_keys);
  g_ptr_array_unref (mock->stalled);
  g_free (mock->auth);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

guint
op_mock_a1111_get_count (OpMockA1111 *mock,
                         guint       *counter)
{
  guint value;

  g_mutex_lock (&mock->lock);
  value = *counter;
  g_mutex_unlock (&mock->lock);

  return value;
}

const char *
op_mock_a1111_get_url (OpMockA1111 *mock)
{
  return op_mock_server_get_url (mock->server);
}
