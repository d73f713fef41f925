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
#include <sys/socket.h>

#include <json-glib/json-glib.h>

#include "op-automatic1111-backend-private.h"
#include "op-http.h"
#include "op-mock-server.h"
#include "op-worker.h"

/* The web UI client against a mock of its API that holds the client to the contract
 * (shared/contracts/backends.md, sections 1 and 6) the way the real server would, and
 * stricter where the real server silently does the wrong thing: field types with
 * pydantic's coercion and its 422 answers, Basic auth with the 401 body, sizes, the
 * mask convention, the batch size; answers shaped like the real ones; a progress
 * endpoint that moves while a job runs; and the ways a real server or its proxy fail. */

#define JOB_TIMEOUT_S     60
#define HOLD_MS           1500
#define AUTH              "painter:s3cret-Pa55"
#define SDXL_TITLE        "sd_xl_base_1.0.safetensors [31e35c80fc]"

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

/* What we mean to send for an inpaint, and nothing more. */
static const char * const inpaint_keys[] = {
  "init_images", "mask", "inpainting_mask_invert", "mask_blur", "inpainting_fill",
  "inpaint_full_res", "prompt", "negative_prompt", "seed", "batch_size", "steps",
  "cfg_scale", "denoising_strength", "width", "height", NULL
};

static const char * const sampler_names[] = { "DPM++ 2M", "Euler a", "Euler", "DDIM", NULL };
static const char * const model_titles[] = {
  "v1-5-pruned-emaonly.safetensors [6ce0161689]", SDXL_TITLE, NULL
};
static const char * const scheduler_labels[] = {
  "Automatic", "Uniform", "Karras", "Exponential", NULL
};

typedef enum
{
  FAIL_NONE,
  FAIL_VALIDATION,  /* FastAPI's 422 with pydantic v1's details */
  FAIL_VALIDATION_V2, /* the same from pydantic v2 (Forge), two of them */
  FAIL_EXCEPTION,   /* the web UI's wrapped 500: CUDA out of memory */
  FAIL_PROXY_HTML,  /* a reverse proxy's 502 page */
  FAIL_TRUNCATED,   /* the connection closes halfway through the body */
  FAIL_BAD_BASE64,  /* an "image" that is not base64 */
  FAIL_WRONG_SIZE,  /* a picture of another shape */
  FAIL_RESET,       /* the connection is reset instead of answered */
  FAIL_STALL,       /* nothing ever comes back, progress included */
  FAIL_NO_IMAGES,   /* "images": [] */
  FAIL_NO_API,      /* the web UI started without --api: FastAPI's 404 */
} Failure;

/* How the mock behaves; handed to the server's thread by mock_configure (). */
typedef struct
{
  Failure       failure;
  const char   *auth;            /* what --api-auth would be, or NULL */
  guint         hold_ms;         /* how long a generation takes */
  int           answer_scale;    /* answers this many times the asked size (0: 1) */
  gboolean      custom_seeds;    /* all_seeds other than seed + i */
  gboolean      old_version;     /* before 1.9: no /schedulers */
} MockConfig;

/* The mock web UI.  Handlers run in the server's thread; what they record is read by
 * the test under the lock. */
typedef struct
{
  OpMockServer *server;
  GMutex        lock;

  /* The server thread's copy of the configuration */
  MockConfig    config;
  char         *auth;

  /* Recorded */
  JsonNode     *body;            /* the last img2img request */
  GPtrArray    *unknown_keys;
  OpImage      *init_image;
  OpImage      *mask_image;
  OpMask       *mask;            /* what the server regenerates, its way */
  guint         n_img2img;
  guint         n_progress_running;   /* polls while a generation ran */
  guint         n_interrupt;
  guint         n_unauthorized;

  /* The running job, server thread only */
  SoupServerMessage *held;
  char         *held_answer;
  GSource      *hold_source;
  gint64        job_started;
  guint         job_hold_ms;
  int           job_steps;
  OpImage      *job_image;
  OpMask       *job_mask;
  GPtrArray    *stalled;         /* messages never answered */
} Mock;

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

/* Mock: replies */

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

/* Mock: checks every route makes */

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
mock_check_auth (Mock              *mock,
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
mock_stall (Mock              *mock,
            SoupServerMessage *msg)
{
  g_ptr_array_add (mock->stalled, g_object_ref (msg));
  soup_server_message_pause (msg);
}

/* What every route does first; FALSE when it has answered already. */
static gboolean
mock_enter (Mock              *mock,
            SoupServerMessage *msg,
            const char        *method)
{
  if (mock->config.failure == FAIL_NO_API)
    {
      reply (msg, 404, "application/json", "{\"detail\":\"Not Found\"}");
      return FALSE;
    }

  if (!mock_check_method (msg, method) || !mock_check_auth (mock, msg))
    return FALSE;

  if (mock->config.failure == FAIL_STALL)
    {
      mock_stall (mock, msg);
      return FALSE;
    }

  return TRUE;
}

/* Mock: pydantic */

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
mock_check_types (Mock              *mock,
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

/* Mock: pictures */

static const guint8 *
pixel_at (const OpImage *image,
          int            x,
          int            y)
{
  return op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;
}

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

/* Mock: img2img */

/* The sizes and the mask as this client's contract has them (sections 1.5 and 6). */
static gboolean
mock_check_pictures (Mock              *mock,
                     SoupServerMessage *msg,
                     JsonObject        *body,
                     OpImage          **init_out,
                     OpImage          **mask_out)
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

  if (sampler == NULL || g_strv_contains (sampler_names, sampler))
    return TRUE;

  reply_exception (msg, 400, "HTTPException", "Sampler not found", "400: Sampler not found");
  return FALSE;
}

static void
mock_record (Mock       *mock,
             JsonNode   *root,
             OpImage    *init,
             OpImage    *mask_image)
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
make_answer (Mock       *mock,
             JsonObject *body,
             OpImage    *init,
             OpMask     *mask,
             double      amount)
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

      if (mock->config.failure == FAIL_WRONG_SIZE)
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

      text = mock->config.failure == FAIL_BAD_BASE64 ? g_strdup ("!!! not *** base64 ###") :
             encode_picture (picture);
      if (mock->config.failure != FAIL_NO_IMAGES)
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
mock_release_held (Mock  *mock,
                   guint  status)
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
  Mock *mock = user_data;

  g_clear_pointer (&mock->hold_source, g_source_unref);
  mock_release_held (mock, 200);

  return G_SOURCE_REMOVE;
}

/* Takes @answer. */
static void
mock_hold (Mock              *mock,
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
mock_answer (Mock              *mock,
             SoupServerMessage *msg,
             JsonObject        *body,
             OpImage           *init,
             OpMask            *mask)
{
  g_autofree char *answer = NULL;
  g_autofree char *head = NULL;

  switch (mock->config.failure)
    {
    case FAIL_VALIDATION:
      reply_one_validation (msg, "steps", "value is not a valid integer", "type_error.integer");
      return;

    case FAIL_VALIDATION_V2:
      reply (msg, 422, "application/json",
             "{\"detail\":[{\"type\":\"int_parsing\",\"loc\":[\"body\",\"steps\"],"
             "\"msg\":\"Input should be a valid integer, unable to parse string as an integer\","
             "\"input\":\"many\",\"url\":\"https://errors.pydantic.dev/2.8/v/int_parsing\"},"
             "{\"type\":\"float_parsing\",\"loc\":[\"body\",\"cfg_scale\"],"
             "\"msg\":\"Input should be a valid number\",\"input\":[]}]}");
      return;

    case FAIL_EXCEPTION:
      reply_exception (msg, 500, "OutOfMemoryError", "",
                       "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB "
                       "total capacity; 5.12 GiB already allocated)");
      return;

    case FAIL_PROXY_HTML:
      reply (msg, 502, "text/html",
             "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
             "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
             "</body>\r\n</html>\r\n");
      return;

    case FAIL_RESET:
      reply_raw (msg, NULL, NULL, 0, TRUE);
      return;

    case FAIL_TRUNCATED:
      answer = make_answer (mock, body, init, mask, 0.5);
      head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: %" G_GSIZE_FORMAT "\r\nConnection: close\r\n\r\n",
                              strlen (answer));
      reply_raw (msg, head, answer, strlen (answer) / 2, FALSE);
      return;

    case FAIL_NONE:
    case FAIL_BAD_BASE64:
    case FAIL_WRONG_SIZE:
    case FAIL_NO_IMAGES:
    case FAIL_STALL:
    case FAIL_NO_API:
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
  Mock *mock = user_data;
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

/* {"progress", "eta_relative", "state", "current_image", "textinfo"}: idle, or the
 * running job's step and its live preview. */
static void
add_progress (JsonBuilder *builder,
              Mock        *mock,
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
  Mock *mock = user_data;
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
  Mock *mock = user_data;

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
    "{\"title\":\"" SDXL_TITLE "\",\"model_name\":\"sd_xl_base_1.0\",\"hash\":\"31e35c80fc\","
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
  Mock *mock = user_data;
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

/* Mock: life */

static gboolean
configure_cb (gpointer user_data)
{
  gpointer *args = user_data;
  Mock *mock = args[0];
  const MockConfig *config = args[1];

  mock->config = *config;
  g_free (mock->auth);
  mock->auth = g_strdup (config->auth);
  mock->config.auth = mock->auth;

  return G_SOURCE_REMOVE;
}

static void
mock_configure (Mock             *mock,
                const MockConfig *config)
{
  gpointer args[] = { mock, (gpointer) config };

  op_mock_server_invoke (mock->server, configure_cb, args);
}

/* Answers whatever still waits, so the server can go. */
static gboolean
release_all_cb (gpointer user_data)
{
  Mock *mock = user_data;

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

static Mock *
mock_new (void)
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
  };
  Mock *mock = g_new0 (Mock, 1);

  g_mutex_init (&mock->lock);
  mock->unknown_keys = g_ptr_array_new_with_free_func (g_free);
  mock->stalled = g_ptr_array_new_with_free_func (g_object_unref);
  mock->server = op_mock_server_new ();

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    op_mock_server_add_handler (mock->server, routes[i].path, routes[i].callback, mock);

  return mock;
}

static void
mock_free (Mock *mock)
{
  op_mock_server_invoke (mock->server, release_all_cb, mock);
  op_mock_server_free (mock->server);

  g_clear_pointer (&mock->body, json_node_unref);
  g_clear_pointer (&mock->init_image, op_image_unref);
  g_clear_pointer (&mock->mask_image, op_image_unref);
  g_clear_pointer (&mock->mask, op_mask_unref);
  g_ptr_array_unref (mock->unknown_keys);
  g_ptr_array_unref (mock->stalled);
  g_free (mock->auth);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mock, mock_free)

static guint
mock_get_count (Mock  *mock,
                guint *counter)
{
  guint value;

  g_mutex_lock (&mock->lock);
  value = *counter;
  g_mutex_unlock (&mock->lock);

  return value;
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
mock_backend (Mock       *mock,
              const char *api_auth)
{
  g_autoptr(GError) error = NULL;
  OpBackend *backend = op_automatic1111_backend_new ();

  op_backend_configure (backend, op_mock_server_get_url (mock->server), NULL, api_auth, &error);
  g_assert_no_error (error);

  return backend;
}

/* Checks on what the server saw */

static JsonObject *
body_object (Mock *mock)
{
  g_assert_nonnull (mock->body);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (mock->body));

  return json_node_get_object (mock->body);
}

/* The body holds exactly these keys: nothing we do not mean, no placeholders. */
static void
assert_keys (Mock               *mock,
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
body_int (Mock       *mock,
          const char *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_INT64);

  return json_node_get_int (node);
}

static gboolean
body_bool (Mock       *mock,
           const char *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_BOOLEAN);

  return json_node_get_boolean (node);
}

static double
body_double (Mock       *mock,
             const char *name)
{
  JsonNode *node = json_object_get_member (body_object (mock), name);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_VALUE (node));

  return json_node_get_double (node);
}

/* The mask as the web UI reads it is exactly the area the client regenerates. */
static void
assert_mask_matches (Mock       *mock,
                     OpPrepared *prepared)
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
                   OP_BACKEND_CAP_PROGRESS | OP_BACKEND_CAP_PREVIEW);
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

  /* describing is another backend's business */
  op_backend_describe_async (backend, image, NULL, on_ready_cb, &result);
  caption = op_backend_describe_finish (backend, wait_for_result (&result), &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (caption);
}

static void
test_inpaint (void)
{
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (3);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { .hold_ms = HOLD_MS };
  ProgressLog log = { 0 };
  GPtrArray *variants;
  OpSize size;

  op_prepared_get_input_size (prepared, &size);
  mock_configure (mock, &config);
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
  g_assert_cmpstr (body_string (body_object (mock), "prompt"), ==, params->prompt);
  g_assert_cmpstr (body_string (body_object (mock), "negative_prompt"), ==,
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (1);
  OpMargins margins = { .left = 0, .right = 128, .top = 0, .bottom = 0 };
  g_autoptr(OpRequest) request = make_outpaint_request (params, &margins);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { 0 };
  OpImage *input = op_prepared_get_input (prepared);
  OpRect context;
  OpSize size;
  guint n_new = 0, n_overlap = 0;
  double sent, replicated;

  mock_configure (mock, &config);
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
    "sampler_name", "override_settings", "override_settings_restore_afterwards", NULL
  };
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { 0 };
  JsonObject *settings;
  g_autoptr(GList) members = NULL;

  params->model = g_strdup (SDXL_TITLE);
  params->sampler = g_strdup ("Euler a");
  request = make_inpaint_request (params);

  mock_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);
  g_assert_cmpuint (op_job_get_variants (job)->len, ==, 2);

  g_mutex_lock (&mock->lock);
  assert_keys (mock, inpaint_keys, extra);
  g_assert_cmpstr (body_string (body_object (mock), "sampler_name"), ==, "Euler a");
  g_assert_true (body_bool (mock, "override_settings_restore_afterwards"));
  settings = json_object_get_object_member (body_object (mock), "override_settings");
  members = json_object_get_members (settings);
  g_assert_cmpuint (g_list_length (members), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (settings, "sd_model_checkpoint"), ==,
                   SDXL_TITLE);
  g_mutex_unlock (&mock->lock);
}

/* The seeds come from the answer's info, not from counting. */
static void
test_seeds_from_info (void)
{
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { .custom_seeds = TRUE };
  GPtrArray *variants;

  mock_configure (mock, &config);
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpPrepared) prepared = prepare (backend, request);
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { .answer_scale = 2 };
  OpVariant *variant;
  OpRect context;

  mock_configure (mock, &config);
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  g_auto(GStrv) samplers = NULL;
  g_auto(GStrv) schedulers = NULL;
  MockConfig config = { .old_version = TRUE };

  models = list (backend, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (models, model_titles);

  samplers = list (backend, op_automatic1111_backend_list_samplers_async,
                   op_automatic1111_backend_list_samplers_finish, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (samplers, sampler_names);

  schedulers = list (backend, op_automatic1111_backend_list_schedulers_async,
                     op_automatic1111_backend_list_schedulers_finish, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (schedulers, scheduler_labels);
  g_clear_pointer (&schedulers, g_strfreev);

  /* before 1.9 there is no choice of scheduler */
  mock_configure (mock, &config);
  schedulers = list (backend, op_automatic1111_backend_list_schedulers_async,
                     op_automatic1111_backend_list_schedulers_finish, &error);
  g_assert_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED);
  g_assert_null (schedulers);
}

static void
test_auth_accepted (void)
{
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, AUTH);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  MockConfig config = { .auth = AUTH, .hold_ms = 800 };

  mock_configure (mock, &config);
  job = run_job (backend, request, NULL);
  assert_done (job);

  models = list (backend, NULL, NULL, &error);
  g_assert_no_error (error);

  /* sent up front: a 20 MB body is not sent twice to learn that a login is wanted */
  g_assert_cmpuint (mock_get_count (mock, &mock->n_unauthorized), ==, 0);
  g_assert_cmpuint (mock_get_count (mock, &mock->n_progress_running), >=, 1);
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, auth->api_auth);
  g_autoptr(OpParams) params = make_params (1);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = NULL;
  MockConfig config = { .auth = AUTH };
  const GError *job_error;

  mock_configure (mock, &config);
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
  g_assert_cmpuint (mock_get_count (mock, &mock->n_unauthorized), >=, 2);
}

typedef struct
{
  const char *name;
  Failure     failure;
  OpHttpError code;
  const char *words[3];
} FailCase;

static const FailCase fail_cases[] = {
  { "validation", FAIL_VALIDATION, OP_HTTP_ERROR_INVALID,
    { "422", "steps", "not a valid integer" } },
  { "validation-v2", FAIL_VALIDATION_V2, OP_HTTP_ERROR_INVALID,
    { "steps: Input should be a valid integer", "cfg_scale: Input should be a valid number" } },
  { "exception", FAIL_EXCEPTION, OP_HTTP_ERROR_SERVER, { "500", "CUDA out of memory" } },
  { "proxy-html", FAIL_PROXY_HTML, OP_HTTP_ERROR_BUSY, { "busy", "502 Bad Gateway" } },
  { "truncated", FAIL_TRUNCATED, OP_HTTP_ERROR_BAD_ANSWER, { "cut off" } },
  { "bad-base64", FAIL_BAD_BASE64, OP_HTTP_ERROR_BAD_ANSWER, { "base64" } },
  { "wrong-size", FAIL_WRONG_SIZE, OP_HTTP_ERROR_BAD_ANSWER, { "64 × 64", "was asked" } },
  { "reset", FAIL_RESET, OP_HTTP_ERROR_UNREACHABLE, { "connection" } },
  { "stall", FAIL_STALL, OP_HTTP_ERROR_TIMEOUT, { "stopped answering" } },
  { "no-images", FAIL_NO_IMAGES, OP_HTTP_ERROR_BAD_ANSWER, { "no pictures" } },
  { "no-api", FAIL_NO_API, OP_HTTP_ERROR_INVALID, { "404", "--api" } },
};

static void
test_fail (gconstpointer data)
{
  const FailCase *fail = data;
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { .failure = fail->failure };
  const GError *error;

  _op_automatic1111_backend_set_stall_timeout (OP_AUTOMATIC1111_BACKEND (backend), 2);
  mock_configure (mock, &config);
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
  g_autoptr(Mock) mock = mock_new ();
  g_autoptr(OpBackend) backend = mock_backend (mock, NULL);
  g_autoptr(OpParams) params = make_params (2);
  g_autoptr(OpRequest) request = make_inpaint_request (params);
  g_autoptr(OpWorker) worker = op_worker_new ();
  g_autoptr(OpJob) job = NULL;
  MockConfig config = { .hold_ms = 10000 };
  ProgressLog log = { 0 };
  gint64 deadline, cancelled_at, elapsed;

  mock_configure (mock, &config);
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
  while (mock_get_count (mock, &mock->n_interrupt) == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      spin_loop (20);
    }
  g_assert_cmpuint (mock_get_count (mock, &mock->n_interrupt), ==, 1);
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
mock_send (Mock       *mock,
           const char *method,
           const char *path,
           const char *json)
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
  g_autoptr(Mock) mock = mock_new ();
  g_autofree char *picture = opaque_picture (64, 64);
  g_autofree char *bad_types = NULL;
  g_autofree char *typo = NULL;
  MockConfig config = { .auth = AUTH };

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
  mock_configure (mock, &config);
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

  return g_test_run ();
}
