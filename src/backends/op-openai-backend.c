/* op-openai-backend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-openai-backend"

#include "config.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>

#include "op-describe.h"
#include "op-http.h"
#include "op-openai-backend.h"
#include "op-openai-backend-private.h"

/* OpenAI's Images API, POST /v1/images/edits (shared/contracts/backends.md §3), one
 * multipart call per generation: the picture, the mask, the prompt, the model (always
 * sent: the server's default changed over time), n, the size and, for gpt-image-1, the
 * quality.  All variants come from that one call: both models take up to 10.
 *
 * Sizes: each model takes a short list (gpt-image-1: 1024², 1536×1024, 1024×1536;
 * dall-e-2: 256², 512², 1024²), so the size rule is that list and the context crop
 * grows to the chosen size's shape.  That is also how dall-e-2's "square PNG" rule is
 * met.  The size rule follows the "model" property, which the window and the CLI set
 * from OpParams.model before asking for it.
 *
 * Pixels: the picture goes up as RGBA PNG (dall-e-2 refuses RGB), opaque; the mask as
 * RGBA PNG of the same size, alpha 0 where to regenerate.  These models may change
 * pixels outside the mask, so the answers are returned whole and the worker composites
 * them through our blend mask.
 *
 * Seeds: OpenAI takes none.  Variant k is labelled with the job's seed + k, as with
 * every other backend, so versions, exported parameters and file names stay distinct;
 * the sidebar greys the seed out and says why. */

/* Both models' limit on n. */
#define OPENAI_MAX_N 10

G_STATIC_ASSERT (OP_VARIANTS_MAX <= OPENAI_MAX_N);

/* dall-e-2's limit for each uploaded file: "less than 4 MB", read as the stricter 4e6. */
#define DALL_E_2_MAX_BYTES 4000000
#define GPT_IMAGE_MAX_BYTES 50000000

/* A gpt-image-1 edit can take 60–150 s during which no byte moves. */
#define DEFAULT_STALL_TIMEOUT_S 300

#define RETRY_ATTEMPTS 4
#define RETRY_WAIT_S 60

/* How errors name the service. */
#define SERVICE "OpenAI"

#define DEFAULT_URL "https://api.openai.com"
#define DEFAULT_DESCRIBE_MODEL "gpt-4o-mini"
#define DESCRIBE_MAX_TOKENS 200
#define DEFAULT_MODEL "gpt-image-1"
#define DEFAULT_QUALITY "auto"

typedef struct
{
  const char   *id;
  const OpSize *sizes;
  guint         n_sizes;
  guint         max_prompt;   /* characters */
  gsize         max_upload;   /* bytes per file */
  gboolean      gpt_image;    /* takes quality and background; always answers b64_json */
} OpenaiModel;

static const OpSize gpt_image_sizes[] = { { 1024, 1024 }, { 1536, 1024 }, { 1024, 1536 } };
static const OpSize dall_e_2_sizes[] = { { 256, 256 }, { 512, 512 }, { 1024, 1024 } };

static const OpenaiModel models[] = {
  { "gpt-image-1", gpt_image_sizes, G_N_ELEMENTS (gpt_image_sizes), 32000,
    GPT_IMAGE_MAX_BYTES, TRUE },
  { "dall-e-2", dall_e_2_sizes, G_N_ELEMENTS (dall_e_2_sizes), 1000,
    DALL_E_2_MAX_BYTES, FALSE },
};

static const char * const qualities[] = { "low", "medium", "high", "auto", NULL };

struct _OpOpenaiBackend
{
  GObject parent_instance;

  /* The properties; a generation works on copies */
  char *url;
  char *api_key;
  char *model;
  char *quality;
  char *describe_model;   /* a vision-capable chat model */
  guint stall_timeout;
};

enum {
  PROP_0,
  PROP_API_KEY,
  PROP_MODEL,
  PROP_QUALITY,
  PROP_STALL_TIMEOUT,
  PROP_URL,
  PROP_DESCRIBE_MODEL,
  N_PROPS
};

static void op_openai_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OpOpenaiBackend, op_openai_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND,
                                                      op_openai_backend_iface_init))

static GParamSpec *properties[N_PROPS];

/* Everything the sending thread reads: copies, so the backend's properties may change
 * while a generation runs. */
typedef struct
{
  char              *endpoint;
  char              *api_key;
  const OpenaiModel *model;
  char              *prompt;
  char              *quality;
  int                n;
  OpSize             size;
  guint              stall_timeout;
  OpImage           *input;
  OpMask            *mask;
  gint64             seed;
  OpProgressFunc     progress;
  gpointer           progress_data;
} GenerateData;

static void
secret_free (char *secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
generate_data_free (GenerateData *data)
{
  g_clear_pointer (&data->endpoint, g_free);
  g_clear_pointer (&data->api_key, secret_free);
  g_clear_pointer (&data->prompt, g_free);
  g_clear_pointer (&data->quality, g_free);
  g_clear_pointer (&data->input, op_image_unref);
  g_clear_pointer (&data->mask, op_mask_unref);
  g_free (data);
}

static const OpenaiModel *
find_model (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      if (g_strcmp0 (models[i].id, id) == 0)
        return &models[i];
    }

  return NULL;
}

static gboolean
model_takes_size (const OpenaiModel *model,
                  const OpSize      *size)
{
  for (guint i = 0; i < model->n_sizes; i++)
    {
      if (model->sizes[i].width == size->width && model->sizes[i].height == size->height)
        return TRUE;
    }

  return FALSE;
}

/* The API lives under /v1; a base that already ends in /v1 (as OpenAI's own SDKs and
 * most compatible proxies are configured) is taken as it is. */
static char *
build_endpoint (const char *base)
{
  g_autofree char *trimmed = g_strdup (base);
  gsize len = strlen (trimmed);

  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  if (g_str_has_suffix (trimmed, "/v1"))
    return g_strconcat (trimmed, "/images/edits", NULL);

  return g_strconcat (trimmed, "/v1/images/edits", NULL);
}

static gboolean
string_is_blank (const char *text)
{
  if (text == NULL)
    return TRUE;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (!g_unichar_isspace (g_utf8_get_char (p)))
        return FALSE;
    }

  return TRUE;
}

static void
report (const GenerateData *data,
        const char         *text)
{
  if (data->progress != NULL)
    data->progress (-1.0, text, NULL, data->progress_data);
}

/* Always RGBA, even for an opaque picture: dall-e-2 refuses RGB PNGs ("format must be
 * in ['RGBA', 'LA', 'L']"), and op_image_encode_png() writes opaque pictures as RGB. */
static GBytes *
encode_rgba_png (const OpImage  *image,
                 GError        **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *buffer = NULL;
  gsize size = 0;

  pixbuf = gdk_pixbuf_new_from_data (op_image_peek_data (image), GDK_COLORSPACE_RGB, TRUE, 8,
                                     op_image_get_width (image), op_image_get_height (image),
                                     op_image_get_stride (image), NULL, NULL);
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", error, NULL))
    return NULL;

  return g_bytes_new_take (g_steal_pointer (&buffer), size);
}

/* OpenAI edits where the mask is fully transparent.  The colour is black throughout so
 * the file stays small; only the alpha channel is read. */
static GBytes *
encode_mask_png (const OpMask  *mask,
                 GError       **error)
{
  int width = op_mask_get_width (mask), height = op_mask_get_height (mask);
  g_autoptr(OpImage) image = op_image_new (width, height);
  const guint8 *src = op_mask_peek_data (mask);
  guint8 *dst = op_image_get_data (image);
  int stride = op_image_get_stride (image);

  for (int y = 0; y < height; y++)
    {
      for (int x = 0; x < width; x++)
        {
          guint8 *pixel = dst + (gsize) y * stride + 4 * x;

          pixel[0] = pixel[1] = pixel[2] = 0;
          pixel[3] = src[(gsize) y * width + x] > 0 ? 0 : 255;
        }
    }

  return encode_rgba_png (image, error);
}

static gboolean
check_upload (const GenerateData  *data,
              GBytes              *file,
              GError             **error)
{
  gsize size = g_bytes_get_size (file);

  if (size < data->model->max_upload)
    return TRUE;

  g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TOO_LARGE,
               _("The upload to %s would be %.1f MB; it takes less than %.0f MB a file. "
                 "Pick a smaller area or another model."),
               data->model->id, size / 1e6, data->model->max_upload / 1e6);
  return FALSE;
}

static void
http_retry_cb (int         attempt,
               double      delay_seconds,
               const char *message,
               gpointer    user_data)
{
  report (user_data, message);
}

static gboolean is_out_of_credits (OpHttpResponse *response,
                                   gpointer        user_data);

static OpHttpRequest *
build_request (GenerateData  *data,
               GError       **error)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(GBytes) image = NULL;
  g_autoptr(GBytes) mask = NULL;
  g_autofree char *n = NULL;
  g_autofree char *size = NULL;

  image = encode_rgba_png (data->input, error);
  if (image == NULL || !check_upload (data, image, error))
    return NULL;

  mask = encode_mask_png (data->mask, error);
  if (mask == NULL || !check_upload (data, mask, error))
    return NULL;

  n = g_strdup_printf ("%d", data->n);
  size = g_strdup_printf ("%dx%d", data->size.width, data->size.height);

  request = op_http_request_new ("POST", data->endpoint);
  op_http_request_set_bearer (request, data->api_key);
  op_http_request_add_file (request, "image", "image.png", "image/png", image);
  /* Some servers read the prompt before the mask (openai-openapi#59). */
  op_http_request_add_field (request, "prompt", data->prompt);
  op_http_request_add_file (request, "mask", "mask.png", "image/png", mask);
  op_http_request_add_field (request, "model", data->model->id);
  op_http_request_add_field (request, "n", n);
  op_http_request_add_field (request, "size", size);

  if (data->model->gpt_image)
    {
      op_http_request_add_field (request, "quality", data->quality);
      /* The input is opaque; a transparent answer would punch holes in the picture. */
      op_http_request_add_field (request, "background", "opaque");
    }
  else
    {
      /* dall-e-2 answers with links unless asked; GPT image models refuse the field. */
      op_http_request_add_field (request, "response_format", "b64_json");
    }

  op_http_request_set_stall_timeout (request, data->stall_timeout);
  op_http_request_set_retries (request, RETRY_ATTEMPTS, RETRY_WAIT_S, http_retry_cb, data);
  op_http_request_set_final_func (request, is_out_of_credits, NULL);

  return g_steal_pointer (&request);
}

static gboolean
is_size_message (const char *code,
                 const char *message)
{
  return g_strcmp0 (code, "image_too_large") == 0 ||
         (message != NULL && (strstr (message, "4 MB") != NULL ||
                              strstr (message, "too large") != NULL));
}

static const char *error_code (OpHttpResponse *response,
                               JsonNode      **root);

/* An empty account answers 429 as a busy server does: no retry will help. */
static gboolean
is_out_of_credits (OpHttpResponse *response,
                   gpointer        user_data)
{
  g_autoptr(JsonNode) root = NULL;
  const char *code = error_code (response, &root);

  return g_strcmp0 (code, "insufficient_quota") == 0 ||
         g_strcmp0 (code, "billing_hard_limit_reached") == 0;
}

static const char *
error_code (OpHttpResponse  *response,
            JsonNode       **root)
{
  *root = op_http_response_parse_json (response, NULL);
  return op_json_member_string (op_json_member_object (op_json_node_object (*root), "error"), "code");
}

/* OpenAI's error body is {"error": {"message", "type", "param", "code"}}.  The codes
 * that say more than the status are turned into our own errors here; the rest go to
 * the HTTP layer with OpenAI's message as the detail. */
static gboolean
check_status (OpHttpResponse  *response,
              GError         **error)
{
  guint status = op_http_response_get_status (response);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *body;
  const char *detail;
  const char *code;

  if (status >= 200 && status < 300)
    return TRUE;

  root = op_http_response_parse_json (response, NULL);
  body = op_json_member_object (op_json_node_object (root), "error");
  code = op_json_member_string (body, "code");
  detail = op_json_member_string (body, "message");

  /* A 429 arrives here once the HTTP layer's retries ran out; one that says quota is
   * not a busy server but an empty account. */
  if (g_strcmp0 (code, "insufficient_quota") == 0 ||
      g_strcmp0 (code, "billing_hard_limit_reached") == 0)
    return op_http_response_set_error (response, OP_HTTP_ERROR_CREDITS, SERVICE, detail, error);

  if (status == 400 && (g_strcmp0 (code, "moderation_blocked") == 0 ||
                        g_strcmp0 (code, "content_policy_violation") == 0))
    return op_http_response_set_error (response, OP_HTTP_ERROR_FILTERED, SERVICE, detail, error);

  if (status == 400 && is_size_message (code, detail))
    return op_http_response_set_error (response, OP_HTTP_ERROR_TOO_LARGE, SERVICE, detail, error);

  /* OpenAI's 401 text quotes the start and end of the key it was given, which the HTTP
   * layer's scrubbing of the whole key would not catch; without a detail it would fall
   * back to that same body. */
  if (status == 401 || status == 403)
    detail = _("check the key in Preferences, or make a new one at "
               "platform.openai.com/api-keys");

  return op_http_response_check_status (response, SERVICE, detail, error);
}

static OpImage *
read_picture (const GenerateData  *data,
              JsonNode            *item,
              guint                index,
              GError             **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *b64 = NULL;
  int width, height;

  if (JSON_NODE_HOLDS_OBJECT (item))
    b64 = op_json_member_string (json_node_get_object (item), "b64_json");
  if (b64 == NULL || b64[0] == '\0')
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("OpenAI’s answer holds no picture for variant %u."), index + 1);
      return NULL;
    }

  bytes = op_http_decode_base64 (b64, error);
  if (bytes == NULL)
    return NULL;

  image = op_image_new_from_bytes (bytes, &local_error);
  if (image == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("OpenAI’s picture for variant %u cannot be read: %s"), index + 1,
                   local_error->message);
      return NULL;
    }

  width = op_image_get_width (image);
  height = op_image_get_height (image);
  if (width != data->size.width || height != data->size.height)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("OpenAI answered with a %d × %d picture where %d × %d was asked."),
                   width, height, data->size.width, data->size.height);
      return NULL;
    }

  return g_steal_pointer (&image);
}

static GPtrArray *
read_answer (const GenerateData  *data,
             JsonNode            *root,
             GCancellable        *cancellable,
             GError             **error)
{
  g_autoptr(GPtrArray) results = NULL;
  JsonArray *items = NULL;
  guint n_items = 0;

  if (JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *member = json_object_get_member (json_node_get_object (root), "data");

      if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
        items = json_node_get_array (member);
    }
  if (items != NULL)
    n_items = json_array_get_length (items);

  if (n_items == 0)
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("OpenAI’s answer holds no pictures."));
      return NULL;
    }

  /* Fewer than asked is still worth showing; more is not what was paid for. */
  if (n_items < (guint) data->n)
    g_debug ("OpenAI returned %u of %d pictures", n_items, data->n);

  results = g_ptr_array_new_with_free_func ((GDestroyNotify) op_result_free);
  for (guint k = 0; k < MIN (n_items, (guint) data->n); k++)
    {
      g_autoptr(OpImage) image = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      image = read_picture (data, json_array_get_element (items, k), k, error);
      if (image == NULL)
        return NULL;

      g_ptr_array_add (results, op_result_new (image, data->seed + k));
    }

  return g_steal_pointer (&results);
}

static GPtrArray *
results_from_response (const GenerateData  *data,
                       OpHttpResponse      *response,
                       GCancellable        *cancellable,
                       GError             **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (!check_status (response, error))
    return NULL;

  root = op_http_response_parse_json (response, error);
  if (root == NULL)
    return NULL;

  report (data, _("Reading OpenAI’s answer"));
  return read_answer (data, root, cancellable, error);
}

static GPtrArray *
generate (GenerateData  *data,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;

  report (data, _("Encoding the picture"));
  request = build_request (data, error);
  if (request == NULL)
    return NULL;

  report (data, _("Waiting for OpenAI"));
  response = op_http_request_send (request, cancellable, error);
  if (response == NULL)
    return NULL;

  return results_from_response (data, response, cancellable, error);
}

static void
generate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GPtrArray *results;
  GError *error = NULL;

  results = generate (task_data, cancellable, &error);
  if (results == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
}

/* What can be known wrong before anything is sent, in words the designer can act on. */
static gboolean
check_input (OpOpenaiBackend        *self,
             const OpGenerateInput  *input,
             const OpenaiModel     **model_out,
             GError                **error)
{
  const OpParams *params = input->params;
  const char *model_id = params->model != NULL && params->model[0] != '\0'
                         ? params->model : self->model;
  const OpenaiModel *model;
  OpSize size;

  if (string_is_blank (params->prompt))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("OpenAI needs a prompt: describe what should fill the masked "
                             "area."));
      return FALSE;
    }

  model = find_model (model_id);
  if (model == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("OpenAI Images has no model “%s” here; pick gpt-image-1 or dall-e-2."),
                   model_id);
      return FALSE;
    }

  if (g_utf8_strlen (params->prompt, -1) > model->max_prompt)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s takes prompts of at most %u characters; this one has %ld."),
                   model->id, model->max_prompt, g_utf8_strlen (params->prompt, -1));
      return FALSE;
    }

  if (self->api_key == NULL)
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH,
                           _("OpenAI needs an API key: add one in Preferences."));
      return FALSE;
    }

  /* The size rule followed the "model" property; a request naming another model was
   * prepared for the wrong list. */
  op_prepared_get_input_size (input->prepared, &size);
  if (!model_takes_size (model, &size))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The picture was prepared at %d × %d, a size %s does not take."),
                   size.width, size.height, model->id);
      return FALSE;
    }

  *model_out = model;
  return TRUE;
}

static void
set_string (OpOpenaiBackend  *self,
            char            **field,
            const char       *value,
            const char       *fallback,
            guint             prop_id)
{
  if (value == NULL || value[0] == '\0')
    value = fallback;

  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_api_key (OpOpenaiBackend *self,
             const char      *key)
{
  if (key != NULL && key[0] == '\0')
    key = NULL;

  if (g_strcmp0 (self->api_key, key) == 0)
    return;

  secret_free (self->api_key);
  self->api_key = g_strdup (key);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_KEY]);
}

static void
set_quality (OpOpenaiBackend *self,
             const char      *quality)
{
  if (quality == NULL)
    quality = DEFAULT_QUALITY;

  g_return_if_fail (g_strv_contains (qualities, quality));

  set_string (self, &self->quality, quality, DEFAULT_QUALITY, PROP_QUALITY);
}

static void
set_stall_timeout (OpOpenaiBackend *self,
                   guint            seconds)
{
  if (self->stall_timeout == seconds)
    return;

  self->stall_timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STALL_TIMEOUT]);
}

static const char *
op_openai_backend_get_id (OpBackend *backend)
{
  return "openai";
}

static const char *
op_openai_backend_get_name (OpBackend *backend)
{
  return _("OpenAI Images");
}

static OpBackendCaps
op_openai_backend_get_capabilities (OpBackend *backend)
{
  return OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS | OP_BACKEND_CAP_DESCRIBE;
}

static OpParamFlags
op_openai_backend_get_parameters (OpBackend *backend)
{
  return OP_PARAM_PROMPT | OP_PARAM_VARIANTS | OP_PARAM_MODEL;
}

static const char *
op_openai_backend_explain_parameter (OpBackend    *backend,
                                     OpParamFlags  param)
{
  switch (param)
    {
    case OP_PARAM_NEGATIVE_PROMPT:
      return _("OpenAI’s image API has no negative prompt; say what to avoid in the "
               "prompt itself.");

    case OP_PARAM_SEED:
      return _("OpenAI’s image API has no seed; every call is new.");

    case OP_PARAM_STEPS:
      return _("OpenAI does not let you set the number of steps; its quality setting "
               "trades time for detail.");

    case OP_PARAM_CFG:
      return _("OpenAI does not let you set how closely the prompt is followed.");

    case OP_PARAM_STRENGTH:
      return _("OpenAI always redraws the masked area completely.");

    case OP_PARAM_SAMPLER:
      return _("OpenAI does not let you choose a sampler.");

    case OP_PARAM_PROMPT:
    case OP_PARAM_VARIANTS:
    case OP_PARAM_MODEL:
    default:
      return NULL;
    }
}

static void
op_openai_backend_get_size_rule (OpBackend  *backend,
                                 OpSizeRule *rule)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (backend);
  const OpenaiModel *model = find_model (self->model);

  /* An unknown model fails when generating, with its name; until then it is sized
   * like the default. */
  if (model == NULL)
    model = find_model (DEFAULT_MODEL);

  rule->multiple = 1;
  rule->sizes = model->sizes;
  rule->n_sizes = model->n_sizes;
}

static void
op_openai_backend_generate_async (OpBackend             *backend,
                                  const OpGenerateInput *input,
                                  GCancellable          *cancellable,
                                  GAsyncReadyCallback    callback,
                                  gpointer               user_data)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (backend);
  g_autoptr(GTask) task = NULL;
  const OpenaiModel *model = NULL;
  GError *error = NULL;
  GenerateData *data;

  task = g_task_new (backend, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_openai_backend_generate_async);

  if (!check_input (self, input, &model, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data = g_new0 (GenerateData, 1);
  data->endpoint = build_endpoint (self->url);
  data->api_key = g_strdup (self->api_key);
  data->model = model;
  data->prompt = g_strdup (input->params->prompt);
  data->quality = g_strdup (self->quality);
  data->n = CLAMP (input->params->n_variants, 1, OP_VARIANTS_MAX);
  op_prepared_get_input_size (input->prepared, &data->size);
  data->stall_timeout = self->stall_timeout;
  data->input = op_image_ref (op_prepared_get_input (input->prepared));
  data->mask = op_mask_ref ((OpMask *) op_prepared_get_input_mask (input->prepared));
  data->seed = input->seed;
  data->progress = input->progress;
  data->progress_data = input->progress_data;
  g_task_set_task_data (task, data, (GDestroyNotify) generate_data_free);

  g_task_run_in_thread (task, generate_thread);
}

static GPtrArray *
op_openai_backend_generate_finish (OpBackend     *backend,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_openai_backend_generate_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The list is fixed: these are the edit models whose sizes and fields we know. */
static void
op_openai_backend_list_models_async (OpBackend           *backend,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GStrvBuilder *builder = g_strv_builder_new ();

  task = g_task_new (backend, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_openai_backend_list_models_async);

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    g_strv_builder_add (builder, models[i].id);

  g_task_return_pointer (task, g_strv_builder_end (builder), (GDestroyNotify) g_strfreev);
  g_strv_builder_unref (builder);
}

static GStrv
op_openai_backend_list_models_finish (OpBackend     *backend,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_openai_backend_list_models_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}


/* Describing: a vision chat model is shown the picture as a data URL, with the
 * instruction to answer in prompt phrases.  POST /v1/chat/completions →
 * {"choices": [{"message": {"content"}}]}. */

typedef struct
{
  char   *endpoint;
  char   *api_key;
  char   *model;
  GBytes *png;
  guint   stall_timeout;
} DescribeData;

static void
describe_data_free (DescribeData *data)
{
  g_free (data->endpoint);
  g_clear_pointer (&data->api_key, secret_free);
  g_free (data->model);
  g_clear_pointer (&data->png, g_bytes_unref);
  g_free (data);
}

static char *
build_chat_endpoint (const char *base)
{
  g_autofree char *trimmed = g_strdup (base);
  gsize len = strlen (trimmed);

  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  return g_strconcat (trimmed, g_str_has_suffix (trimmed, "/v1") ? "" : "/v1", "/chat/completions", NULL);
}

static char *
caption_from_response (OpHttpResponse  *response,
                       GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonArray *choices;
  const char *content = NULL;

  if (!check_status (response, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return NULL;

  choices = op_json_member_array (op_json_node_object (root), "choices");
  if (choices != NULL && json_array_get_length (choices) > 0)
    content = op_json_member_string (op_json_member_object (op_json_node_object (json_array_get_element (choices, 0)),
                                                            "message"), "content");
  if (content == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("%s answered the description without a message."), SERVICE);
      return NULL;
    }

  return op_describe_take_caption (content, SERVICE, error);
}

static void
describe_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  DescribeData *data = task_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autofree char *image = NULL;
  g_autofree char *url = NULL;
  GError *error = NULL;
  char *caption;

  image = g_base64_encode (g_bytes_get_data (data->png, NULL), g_bytes_get_size (data->png));
  url = g_strconcat ("data:image/png;base64,", image, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, data->model);
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, DESCRIBE_MAX_TOKENS);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "content");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "text");
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, OP_DESCRIBE_INSTRUCTION);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "image_url");
  json_builder_set_member_name (builder, "image_url");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, url);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  request = op_http_request_new ("POST", data->endpoint);
  op_http_request_set_bearer (request, data->api_key);
  op_http_request_set_json (request, body);
  op_http_request_set_stall_timeout (request, data->stall_timeout);
  op_http_request_set_final_func (request, is_out_of_credits, NULL);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL || (caption = caption_from_response (response, &error)) == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, caption, g_free);
}

static void
op_openai_backend_describe_async (OpBackend           *backend,
                                  OpImage             *image,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (backend);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  DescribeData *data;
  GBytes *png;

  g_task_set_source_tag (task, op_openai_backend_describe_async);

  if (self->api_key == NULL)
    {
      g_task_return_new_error (task, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH,
                               _("OpenAI needs an API key: add one in Preferences."));
      return;
    }

  png = op_image_encode_png (image, &error);
  if (png == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_new0 (DescribeData, 1);
  data->endpoint = build_chat_endpoint (self->url);
  data->api_key = g_strdup (self->api_key);
  data->model = g_strdup (self->describe_model);
  data->png = png;
  data->stall_timeout = self->stall_timeout;
  g_task_set_task_data (task, data, (GDestroyNotify) describe_data_free);
  g_task_run_in_thread (task, describe_thread);
}

static char *
op_openai_backend_describe_finish (OpBackend     *backend,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Each model's own limit, the one generate checks; no weight syntax. */
static void
op_openai_backend_get_prompt_limit (OpBackend     *backend,
                                    const char    *model_id,
                                    OpPromptLimit *limit)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (backend);
  const OpenaiModel *model = find_model (model_id != NULL && *model_id != '\0' ? model_id : self->model);

  if (model != NULL)
    *limit = (OpPromptLimit) { OP_PROMPT_UNIT_CHARS, model->max_prompt, FALSE };
}

static void
op_openai_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = op_openai_backend_get_id;
  iface->get_name = op_openai_backend_get_name;
  iface->get_capabilities = op_openai_backend_get_capabilities;
  iface->get_parameters = op_openai_backend_get_parameters;
  iface->explain_parameter = op_openai_backend_explain_parameter;
  iface->get_size_rule = op_openai_backend_get_size_rule;
  iface->get_prompt_limit = op_openai_backend_get_prompt_limit;
  iface->describe_async = op_openai_backend_describe_async;
  iface->describe_finish = op_openai_backend_describe_finish;
  iface->generate_async = op_openai_backend_generate_async;
  iface->generate_finish = op_openai_backend_generate_finish;
  iface->list_models_async = op_openai_backend_list_models_async;
  iface->list_models_finish = op_openai_backend_list_models_finish;
}

static void
op_openai_backend_finalize (GObject *object)
{
  OpOpenaiBackend *self = (OpOpenaiBackend *) object;

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->api_key, secret_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->describe_model, g_free);
  g_clear_pointer (&self->quality, g_free);

  G_OBJECT_CLASS (op_openai_backend_parent_class)->finalize (object);
}

static void
op_openai_backend_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;

    case PROP_QUALITY:
      g_value_set_string (value, self->quality);
      break;

    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, self->stall_timeout);
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_DESCRIBE_MODEL:
      g_value_set_string (value, self->describe_model);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_openai_backend_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  OpOpenaiBackend *self = OP_OPENAI_BACKEND (object);

  switch (prop_id)
    {
    case PROP_API_KEY:
      set_api_key (self, g_value_get_string (value));
      break;

    case PROP_MODEL:
      set_string (self, &self->model, g_value_get_string (value), DEFAULT_MODEL, PROP_MODEL);
      break;

    case PROP_QUALITY:
      set_quality (self, g_value_get_string (value));
      break;

    case PROP_STALL_TIMEOUT:
      set_stall_timeout (self, g_value_get_uint (value));
      break;

    case PROP_URL:
      set_string (self, &self->url, g_value_get_string (value), DEFAULT_URL, PROP_URL);
      break;

    case PROP_DESCRIBE_MODEL:
      set_string (self, &self->describe_model, g_value_get_string (value), DEFAULT_DESCRIBE_MODEL,
                  PROP_DESCRIBE_MODEL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_openai_backend_class_init (OpOpenaiBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = op_openai_backend_finalize;
  object_class->get_property = op_openai_backend_get_property;
  object_class->set_property = op_openai_backend_set_property;

  /* Write-only: nothing reads a key back out of a backend, so nothing can print it. */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL, NULL,
                         G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The size rule follows it; OpParams.model, when set, picks the model sent. */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, DEFAULT_MODEL, flags);
  /* gpt-image-1 only: "low", "medium", "high" or "auto". */
  properties[PROP_QUALITY] =
    g_param_spec_string ("quality", NULL, NULL, DEFAULT_QUALITY, flags);
  /* Seconds without a byte moving before a call fails; 0 waits for ever. */
  properties[PROP_STALL_TIMEOUT] =
    g_param_spec_uint ("stall-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_STALL_TIMEOUT_S,
                       flags);
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, DEFAULT_URL, flags);
  /* the chat model that describes pictures for prompt suggestions */
  properties[PROP_DESCRIBE_MODEL] =
    g_param_spec_string ("describe-model", NULL, NULL, DEFAULT_DESCRIBE_MODEL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
op_openai_backend_init (OpOpenaiBackend *self)
{
  self->url = g_strdup (DEFAULT_URL);
  self->describe_model = g_strdup (DEFAULT_DESCRIBE_MODEL);
  self->model = g_strdup (DEFAULT_MODEL);
  self->quality = g_strdup (DEFAULT_QUALITY);
  self->stall_timeout = DEFAULT_STALL_TIMEOUT_S;
}

/**
 * op_openai_backend_new:
 *
 * Returns: (transfer full): a backend for OpenAI's Images API at the default address,
 *   with no key yet (op_backend_configure() hands it one)
 */
OpBackend *
op_openai_backend_new (void)
{
  return g_object_new (OP_TYPE_OPENAI_BACKEND, NULL);
}

/* Reading answers without a server, for the fuzz targets: see the private header. */

GPtrArray *
_op_openai_read_generation (OpHttpResponse  *response,
                            int              width,
                            int              height,
                            int              n,
                            gint64           seed,
                            GError         **error)
{
  GenerateData data = { 0 };

  g_return_val_if_fail (response != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0 && n > 0, NULL);

  data.model = &models[0];
  data.n = n;
  data.size = (OpSize) { width, height };
  data.seed = seed;

  return results_from_response (&data, response, NULL, error);
}

char *
_op_openai_read_caption (OpHttpResponse  *response,
                         GError         **error)
{
  g_return_val_if_fail (response != NULL, NULL);

  return caption_from_response (response, error);
}

gboolean
_op_openai_is_out_of_credits (OpHttpResponse *response)
{
  g_return_val_if_fail (response != NULL, FALSE);

  return is_out_of_credits (response, NULL);
}
