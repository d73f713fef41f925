/* op-stability-backend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-stability-backend"

#include "config.h"

#include <math.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>

#include "op-http.h"
#include "op-stability-backend.h"
#include "op-stability-backend-private.h"

/* Stability AI's REST API (shared/contracts/backends.md §2), multipart calls with a
 * bearer key.  Two ways to inpaint, chosen by the "endpoint" property:
 *
 * - "inpaint": POST /v2beta/stable-image/edit/inpaint accepting any image type; the answer
 *   is the picture's bytes with finish-reason and seed headers.  The mask goes up as a
 *   PNG, white where to regenerate; grow_mask is 0 because our mask is already grown
 *   and feathered by the user's settings and is exactly what gets blended.
 *   Pure outpainting (margins, no brush mask) goes to edit/outpaint instead: the
 *   original picture with left/right/up/down, so the service extends the picture
 *   itself rather than filling edge-replicated margins.
 * - "v1-masking": POST /v1/generation/{engine}/image-to-image/masking with
 *   mask_source=MASK_IMAGE_WHITE, the negative prompt as a prompt of weight -1, and
 *   accept: application/json, whose artifacts carry the seed and the finish reason.
 *
 * Variants are separate calls with seeds seed, seed + 1, …, two at a time: each can be
 * made again alone from its seed, and the service's rate limit (150 calls in 10 s) is
 * far away.  The first failure stops the other calls.
 *
 * Sizes: v1 wants multiples of 64 in a 262,144–1,048,576 pixel window.  v2beta takes
 * any size in 4,096–9,437,184 pixels with every side at least 64, so its rule keeps the
 * context's own size (multiple 1) and a thinner input is padded here; a whole request
 * may not exceed 10 MiB, so a picture whose PNG would is sent as JPEG (see
 * encode_picture ()).  The mask is always PNG. */

#define SERVICE_NAME "Stability AI"

#define DEFAULT_URL "https://api.stability.ai"
#define DEFAULT_ENDPOINT "inpaint"
/* The v1 engine that takes any multiple-of-64 size in the window (the SDXL engines take
 * only a few fixed sizes). */
#define DEFAULT_ENGINE "stable-diffusion-v1-6"
#define DEFAULT_CREATIVITY 0.5

/* Inpainting a 9 MP picture can keep the connection silent for a while. */
#define DEFAULT_STALL_TIMEOUT_S 180

#define RETRY_ATTEMPTS 4
#define RETRY_WAIT_S 60

/* Calls in flight at once for the variants of one generation. */
#define MAX_CONCURRENT 2

#define V1_MIN_PIXELS 262144
#define V1_MAX_PIXELS 1048576
#define V1_MULTIPLE 64
#define V1_MIN_STEPS 10
#define V1_MAX_STEPS 150
#define V1_MAX_SEED G_GINT64_CONSTANT (4294967295)

#define V2_MIN_PIXELS 4096
#define V2_MAX_PIXELS 9437184
#define V2_MIN_SIDE 64
#define V2_MAX_SEED G_GINT64_CONSTANT (4294967294)
#define V2_REQUEST_LIMIT (10 * 1024 * 1024)
/* Room for the text fields and the multipart boundaries and headers. */
#define MULTIPART_SLACK (16 * 1024)
#define JPEG_QUALITY "95"

#define OUTPAINT_MAX 2000
#define OUTPAINT_MAX_ASPECT 2.5

#define FAST_UPSCALE_FACTOR 4
#define FAST_UPSCALE_MIN_SIDE 32
#define FAST_UPSCALE_MAX_SIDE 1536
#define FAST_UPSCALE_MIN_PIXELS 1024
#define FAST_UPSCALE_MAX_PIXELS 1048576

/* How far an answer's shape may stray from what was asked: a rounding pixel. */
#define ASPECT_TOLERANCE 0.02

/* Longest detail quoted from an error body. */
#define MAX_DETAIL 300

typedef enum
{
  ENDPOINT_INPAINT,
  ENDPOINT_V1_MASKING,
} Endpoint;

typedef enum
{
  CALL_INPAINT,    /* v2beta stable-image/edit/inpaint */
  CALL_OUTPAINT,   /* v2beta stable-image/edit/outpaint */
  CALL_MASKING,    /* v1 image-to-image/masking */
} CallKind;

struct _OpStabilityBackend
{
  GObject parent_instance;

  /* Owned references */
  char *url;
  char *api_key;
  char *engine;
  char *style_preset;

  Endpoint endpoint;
  double creativity;
  guint stall_timeout;
};

enum {
  PROP_0,
  PROP_API_KEY,
  PROP_CREATIVITY,
  PROP_ENDPOINT,
  PROP_ENGINE,
  PROP_STALL_TIMEOUT,
  PROP_STYLE_PRESET,
  PROP_URL,
  N_PROPS
};

static void op_stability_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OpStabilityBackend, op_stability_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND,
                                                      op_stability_backend_iface_init))

static GParamSpec *properties[N_PROPS];

static const char * const endpoint_names[] = { "inpaint", "v1-masking" };

/* What every call needs, copied on the main thread so the properties may change while
 * a generation runs. */
typedef struct
{
  char   *url;
  char   *api_key;
  char   *engine;
  char   *style_preset;
  double  creativity;
  guint   stall_timeout;
} Service;

/* Native outpainting: the source (scaled into the endpoint's pixel window) goes up with
 * four directions in sent pixels; the answer covers @answer, in canvas pixels, and the
 * context is cut out of it. */
typedef struct
{
  OpRect answer;
  OpRect context;
  int    left;
  int    right;
  int    up;
  int    down;
} Outpaint;

typedef struct
{
  /* Borrowed references: alive until the task's callback runs (OpBackend's contract) */
  OpPrepared     *prepared;
  const OpParams *params;
  OpProgressFunc  progress;
  gpointer        progress_data;

  /* Owned references */
  Service        *service;
  OpImage        *image;        /* what is sent: the input (maybe padded) or the source */
  GBytes         *image_part;
  GBytes         *mask_part;    /* NULL when outpainting */
  GCancellable   *stop;         /* the task's cancellable, or the first failure */

  CallKind        kind;
  const char     *image_type;
  OpSize          input_size;   /* the prepared input's size, before padding */
  Outpaint        outpaint;
  gint64          seed;
  int             n_variants;

  /* Shared by the variants' threads, under @lock */
  GMutex          lock;
  int             next;
  int             n_done;
  OpResult      **results;
  GError         *error;
} GenerateData;

typedef struct
{
  Service *service;
  OpImage *picture;
  int      factor;
} UpscaleData;

/* Helpers */

/* A key is wiped before its memory is reused. */
static void
secret_free (char *secret)
{
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  g_free (secret);
}

static void
service_free (Service *service)
{
  g_free (service->url);
  secret_free (service->api_key);
  g_free (service->engine);
  g_free (service->style_preset);
  g_free (service);
}

static Service *
service_new (OpStabilityBackend *self)
{
  Service *service = g_new0 (Service, 1);

  service->url = g_strdup (self->url);
  service->api_key = g_strdup (self->api_key);
  service->engine = g_strdup (self->engine);
  service->style_preset = g_strdup (self->style_preset);
  service->creativity = self->creativity;
  service->stall_timeout = self->stall_timeout;

  return service;
}

static void
generate_data_free (GenerateData *data)
{
  g_clear_pointer (&data->service, service_free);
  g_clear_pointer (&data->image, op_image_unref);
  g_clear_pointer (&data->image_part, g_bytes_unref);
  g_clear_pointer (&data->mask_part, g_bytes_unref);
  g_clear_object (&data->stop);
  for (int i = 0; data->results != NULL && i < data->n_variants; i++)
    g_clear_pointer (&data->results[i], op_result_free);
  g_free (data->results);
  g_clear_error (&data->error);
  g_mutex_clear (&data->lock);
  g_free (data);
}

static void
upscale_data_free (UpscaleData *data)
{
  g_clear_pointer (&data->service, service_free);
  g_clear_pointer (&data->picture, op_image_unref);
  g_free (data);
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
set_string (char       **field,
            const char  *value)
{
  g_free (*field);
  *field = string_is_blank (value) ? NULL : g_strstrip (g_strdup (value));
}

static char *
format_double (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%.2f", value));
}

static char *
format_int (gint64 value)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

static gboolean
aspect_matches (int width,
                int height,
                int expected_width,
                int expected_height)
{
  double ratio = ((double) width * expected_height) / ((double) height * expected_width);

  return width > 0 && height > 0 && fabs (ratio - 1.0) <= ASPECT_TOLERANCE;
}

static void
wrong_size (int      width,
            int      height,
            int      expected_width,
            int      expected_height,
            GError **error)
{
  g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
               _("Stability AI answered with a %d × %d picture where %d × %d was asked."),
               width, height, expected_width, expected_height);
}

/* Progress */

static void
report_progress (GenerateData *data,
                 const char   *text)
{
  g_autofree char *owned = NULL;
  double fraction;
  int n_done;

  if (data->progress == NULL)
    return;

  g_mutex_lock (&data->lock);
  n_done = data->n_done;
  g_mutex_unlock (&data->lock);

  fraction = (double) n_done / data->n_variants;
  if (text == NULL && data->n_variants == 1)
    text = _("Waiting for Stability AI");
  else if (text == NULL)
    text = owned = g_strdup_printf (_("Waiting for Stability AI: %d of %d variants done"),
                                    n_done, data->n_variants);

  data->progress (fraction, text, NULL, data->progress_data);
}

static void
retry_cb (int         attempt,
          double      delay_seconds,
          const char *message,
          gpointer    user_data)
{
  report_progress (user_data, message);
}

/* Requests */

static OpHttpRequest *
new_request (const Service *service,
             const char    *method,
             const char    *path,
             const char    *accept,
             gpointer       retry_data)
{
  g_autofree char *url = g_strconcat (service->url, path, NULL);
  OpHttpRequest *request = op_http_request_new (method, url);

  if (service->api_key != NULL)
    op_http_request_set_bearer (request, service->api_key);
  op_http_request_add_header (request, "Accept", accept);
  op_http_request_set_stall_timeout (request, service->stall_timeout);
  op_http_request_set_retries (request, RETRY_ATTEMPTS, RETRY_WAIT_S,
                               retry_data != NULL ? retry_cb : NULL, retry_data);

  return request;
}

static void
add_int_field (OpHttpRequest *request,
               const char    *name,
               gint64         value)
{
  g_autofree char *text = format_int (value);

  op_http_request_add_field (request, name, text);
}

static void
add_double_field (OpHttpRequest *request,
                  const char    *name,
                  double         value)
{
  g_autofree char *text = format_double (value);

  op_http_request_add_field (request, name, text);
}

static void
add_optional_field (OpHttpRequest *request,
                    const char    *name,
                    const char    *value)
{
  if (!string_is_blank (value))
    op_http_request_add_field (request, name, value);
}

/* Pictures */

static gboolean
is_opaque (const OpImage *image)
{
  const guint8 *data = op_image_peek_data (image);
  int stride = op_image_get_stride (image);

  for (int y = 0; y < op_image_get_height (image); y++)
    for (int x = 0; x < op_image_get_width (image); x++)
      if (data[(gsize) y * stride + 4 * (gsize) x + 3] != 255)
        return FALSE;

  return TRUE;
}

/* @image itself when it is opaque already: a photo is, and it may be 9 megapixels. */
static OpImage *
make_opaque (OpImage *image)
{
  OpImage *opaque;
  guint8 *data;
  int stride;

  if (is_opaque (image))
    return op_image_ref (image);

  opaque = op_image_copy (image);
  data = op_image_get_data (opaque);
  stride = op_image_get_stride (opaque);
  for (int y = 0; y < op_image_get_height (opaque); y++)
    for (int x = 0; x < op_image_get_width (opaque); x++)
      data[(gsize) y * stride + 4 * (gsize) x + 3] = 255;

  return opaque;
}

static GBytes *
encode_jpeg (OpImage  *image,
             GError  **error)
{
  int width = op_image_get_width (image), height = op_image_get_height (image);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *buffer = NULL;
  const guint8 *src = op_image_peek_data (image);
  guint8 *dst;
  gsize length = 0;
  int rowstride;

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  if (pixbuf == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           _("Not enough memory to encode the picture."));
      return NULL;
    }

  dst = gdk_pixbuf_get_pixels (pixbuf);
  rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      memcpy (dst + (gsize) y * rowstride + 3 * (gsize) x,
              src + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x, 3);

  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &length, "jpeg", error,
                                  "quality", JPEG_QUALITY, NULL))
    return NULL;

  return g_bytes_new_take (g_steal_pointer (&buffer), length);
}

/* PNG when the request stays within @budget bytes with it, else JPEG at quality 95.
 * Lossless WebP would be the better second choice, but GdkPixbuf's WebP saver
 * (webp-pixbuf-loader, 0.2 on bookworm) takes only "quality" and "preset", so it always
 * writes lossy WebP, and it may not be installed at all; JPEG is built into GdkPixbuf.
 * The picture here is opaque, so JPEG loses nothing but a little precision. */
static GBytes *
encode_picture (OpImage     *image,
                gsize        budget,
                const char **content_type,
                GError     **error)
{
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GBytes) jpeg = NULL;

  png = op_image_encode_png (image, error);
  if (png == NULL)
    return NULL;

  *content_type = "image/png";
  if (g_bytes_get_size (png) <= budget)
    return g_steal_pointer (&png);

  jpeg = encode_jpeg (image, error);
  if (jpeg == NULL)
    return NULL;

  g_debug ("The picture is %" G_GSIZE_FORMAT " bytes as PNG, over the budget of %"
           G_GSIZE_FORMAT "; sending %" G_GSIZE_FORMAT " bytes of JPEG",
           g_bytes_get_size (png), budget, g_bytes_get_size (jpeg));

  if (g_bytes_get_size (jpeg) > budget)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TOO_LARGE,
                   _("The picture is too large for Stability AI even as JPEG: "
                     "requests may be at most 10 MiB."));
      return NULL;
    }

  *content_type = "image/jpeg";
  return g_steal_pointer (&jpeg);
}

static GBytes *
encode_mask (const OpMask  *mask,
             GError       **error)
{
  g_autoptr(OpImage) image = op_mask_to_image (mask);

  return op_image_encode_png (image, error);
}

/* v2beta wants every side at least 64 pixels: a thinner input is widened by repeating
 * its last column or row, with the mask kept there; the answer is cropped back. */
static OpImage *
pad_image (OpImage *image,
           int      width,
           int      height)
{
  int w = op_image_get_width (image), h = op_image_get_height (image);
  OpImage *padded = op_image_new (width, height);
  int src_stride = op_image_get_stride (image), dst_stride = op_image_get_stride (padded);
  const guint8 *src = op_image_peek_data (image);
  guint8 *dst = op_image_get_data (padded);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      memcpy (dst + (gsize) y * dst_stride + 4 * (gsize) x,
              src + (gsize) MIN (y, h - 1) * src_stride + 4 * (gsize) MIN (x, w - 1), 4);

  return padded;
}

static OpMask *
pad_mask (const OpMask *mask,
          int           width,
          int           height)
{
  int w = op_mask_get_width (mask), h = op_mask_get_height (mask);
  OpMask *padded = op_mask_new (width, height);

  for (int y = 0; y < h; y++)
    memcpy (op_mask_get_data (padded) + (gsize) y * width,
            op_mask_peek_data (mask) + (gsize) y * w, w);

  return padded;
}

/* Errors */

/* v2beta: {"id","name","errors":["field: message", …]}; v1: {"id","name","message"}. */
static void
parse_error_body (OpHttpResponse  *response,
                  char           **name,
                  char           **detail)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObject *object;
  JsonNode *member;

  root = op_http_response_parse_json (response, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;

  object = json_node_get_object (root);
  *name = g_strdup (op_json_member_string (object, "name"));

  member = json_object_get_member (object, "errors");
  if (member != NULL && JSON_NODE_HOLDS_ARRAY (member))
    {
      JsonArray *errors = json_node_get_array (member);

      for (guint i = 0; i < json_array_get_length (errors); i++)
        {
          JsonNode *item = json_array_get_element (errors, i);

          if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
            continue;
          if (text->len > 0)
            g_string_append (text, "; ");
          g_string_append (text, json_node_get_string (item));
        }
    }

  if (text->len == 0 && op_json_member_string (object, "message") != NULL)
    g_string_append (text, op_json_member_string (object, "message"));

  if (text->len > MAX_DETAIL)
    {
      g_string_truncate (text, MAX_DETAIL);
      while (text->len > 0 && !g_utf8_validate_len (text->str, text->len, NULL))
        g_string_truncate (text, text->len - 1);
      g_string_append (text, "…");
    }

  if (text->len > 0)
    *detail = g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
name_means_credits (const char *name)
{
  return name != NULL &&
         (strstr (name, "insufficient") != NULL || strstr (name, "balance") != NULL ||
          strstr (name, "credit") != NULL || strstr (name, "payment") != NULL);
}

/* Stability says more in its body than in its status: a 403 is content moderation, an
 * insufficient balance may come with a status other than 402. */
static gboolean
check_answer (OpHttpResponse  *response,
              GError         **error)
{
  guint status = op_http_response_get_status (response);
  g_autofree char *name = NULL;
  g_autofree char *detail = NULL;

  if (status >= 200 && status < 300)
    return TRUE;

  parse_error_body (response, &name, &detail);

  if (g_strcmp0 (name, "content_moderation") == 0)
    return op_http_response_set_error (response, OP_HTTP_ERROR_FILTERED, SERVICE_NAME,
                                       detail, error);

  if (status == 402 || name_means_credits (name))
    return op_http_response_set_error (response, OP_HTTP_ERROR_CREDITS, SERVICE_NAME,
                                       detail, error);

  if (status == 413)
    {
      g_autofree char *limited = NULL;

      limited = detail != NULL && strstr (detail, "10") != NULL
                ? g_strdup (detail)
                : g_strdup (_("a request may be at most 10 MiB"));
      return op_http_response_set_error (response, OP_HTTP_ERROR_TOO_LARGE, SERVICE_NAME,
                                         limited, error);
    }

  return op_http_response_check_status (response, SERVICE_NAME, detail, error);
}

/* A 200 whose finish reason says the picture is not the one asked for. */
static gboolean
finish_reason_ok (OpHttpResponse  *response,
                  const char      *reason,
                  GError         **error)
{
  if (reason == NULL || g_ascii_strcasecmp (reason, "SUCCESS") == 0)
    return TRUE;

  if (g_ascii_strcasecmp (reason, "CONTENT_FILTERED") == 0)
    g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_FILTERED,
                         _("content was filtered by Stability AI: it sent back a blurred "
                           "picture"));
  else
    {
      /* the server's words: through the HTTP layer, which makes them one line of UTF-8
       * and scrubs the key from them */
      g_autofree char *detail = g_strdup_printf (_("the generation ended with “%s”"), reason);

      return op_http_response_set_error (response, OP_HTTP_ERROR_SERVER, SERVICE_NAME,
                                         detail, error);
    }

  return FALSE;
}

/* Answers */

static OpImage *
decode_picture (GBytes  *bytes,
                GError **error)
{
  g_autoptr(GError) local_error = NULL;
  OpImage *image;

  if (!op_http_check_image (bytes, error))
    return NULL;

  image = op_image_new_from_bytes (bytes, &local_error);
  if (image == NULL)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                 _("Stability AI answered with a picture that could not be read: %s"),
                 local_error->message);

  return image;
}

/* v2beta accepting any image type: the bytes, and finish-reason and seed headers. */
static OpImage *
read_image_answer (OpHttpResponse  *response,
                   gint64          *seed,
                   GError         **error)
{
  const char *reason = op_http_response_get_header (response, "finish-reason");
  const char *seed_text = op_http_response_get_header (response, "seed");
  guint64 value;

  if (!finish_reason_ok (response, reason, error))
    return NULL;

  if (seed_text != NULL &&
      g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT32, &value, NULL))
    *seed = (gint64) value;

  return decode_picture (op_http_response_get_body (response), error);
}

static void
bad_json (GError **error)
{
  g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                       _("Stability AI answered without a picture."));
}

/* v1 with accept: application/json: {"artifacts":[{"base64","seed","finishReason"}]}. */
static OpImage *
read_artifact_answer (OpHttpResponse  *response,
                      gint64          *seed,
                      GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) bytes = NULL;
  JsonObject *artifact;
  JsonArray *artifacts;
  const char *base64;
  JsonNode *node;

  root = op_http_response_parse_json (response, error);
  if (root == NULL)
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      (node = json_object_get_member (json_node_get_object (root), "artifacts")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (artifacts = json_node_get_array (node)) == 0 ||
      !JSON_NODE_HOLDS_OBJECT (json_array_get_element (artifacts, 0)))
    {
      bad_json (error);
      return NULL;
    }

  artifact = json_array_get_object_element (artifacts, 0);
  if (!finish_reason_ok (response, op_json_member_string (artifact, "finishReason"), error))
    return NULL;

  node = json_object_get_member (artifact, "seed");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64)
    *seed = json_node_get_int (node);

  base64 = op_json_member_string (artifact, "base64");
  if (base64 == NULL)
    {
      bad_json (error);
      return NULL;
    }

  bytes = op_http_decode_base64 (base64, error);
  if (bytes == NULL)
    return NULL;

  return decode_picture (bytes, error);
}

/* Native outpainting */

/* Whether the request is one the outpaint endpoint can do, and how: only margins (a
 * brush mask needs inpainting), a source of the shape and size the endpoint takes,
 * directions within its limit.  Otherwise the prepared canvas is inpainted. */
static gboolean
plan_outpaint (GenerateData *data,
               double       *scale)
{
  OpRequest *request = op_prepared_get_request (data->prepared);
  const OpMargins *m = op_request_get_margins (request);
  const OpMask *mask = op_request_get_mask (request);
  OpImage *source = op_request_get_source (request);
  int sw = op_image_get_width (source), sh = op_image_get_height (source);
  Outpaint *plan = &data->outpaint;
  OpRect s = { m->left, m->top, sw, sh };
  double tw, th;

  if (m->left == 0 && m->right == 0 && m->top == 0 && m->bottom == 0)
    return FALSE;
  if (mask != NULL && !op_mask_is_empty (mask))
    return FALSE;

  *scale = 1.0;
  if ((double) sw * sh > V2_MAX_PIXELS)
    *scale = sqrt (V2_MAX_PIXELS / ((double) sw * sh));
  tw = floor (sw * *scale);
  th = floor (sh * *scale);
  if (tw < V2_MIN_SIDE || th < V2_MIN_SIDE || tw * th < V2_MIN_PIXELS ||
      tw / th > OUTPAINT_MAX_ASPECT || th / tw > OUTPAINT_MAX_ASPECT)
    return FALSE;

  op_prepared_get_context (data->prepared, &plan->context);
  op_rect_union (&plan->context, &s, &plan->answer);
  plan->left = (int) lround ((s.x - plan->answer.x) * *scale);
  plan->up = (int) lround ((s.y - plan->answer.y) * *scale);
  plan->right = (int) lround ((plan->answer.x + plan->answer.width - s.x - sw) * *scale);
  plan->down = (int) lround ((plan->answer.y + plan->answer.height - s.y - sh) * *scale);

  return MAX (MAX (plan->left, plan->right), MAX (plan->up, plan->down)) > 0 &&
         plan->left <= OUTPAINT_MAX && plan->right <= OUTPAINT_MAX &&
         plan->up <= OUTPAINT_MAX && plan->down <= OUTPAINT_MAX;
}

static OpImage *
outpaint_image (GenerateData *data,
                double        scale)
{
  OpImage *source = op_request_get_source (op_prepared_get_request (data->prepared));
  int sw = op_image_get_width (source), sh = op_image_get_height (source);
  g_autoptr(OpImage) scaled = NULL;

  if (scale >= 1.0)
    scaled = op_image_ref (source);
  else
    scaled = op_image_scale (source, NULL, (int) floor (sw * scale), (int) floor (sh * scale));

  /* Like the prepared input: the picture goes up opaque, whatever its alpha. */
  return make_opaque (scaled);
}

/* The context cut out of the answer, which covers the plan's answer rectangle at
 * whatever scale the service chose, and brought to the input's size. */
static OpImage *
cut_outpaint_answer (GenerateData  *data,
                     OpImage       *answer,
                     GError       **error)
{
  const Outpaint *plan = &data->outpaint;
  int aw = op_image_get_width (answer), ah = op_image_get_height (answer);
  int ew = op_image_get_width (data->image) + plan->left + plan->right;
  int eh = op_image_get_height (data->image) + plan->up + plan->down;
  double fx = (double) aw / plan->answer.width, fy = (double) ah / plan->answer.height;
  OpRect crop;
  int x1, y1;

  if (!aspect_matches (aw, ah, ew, eh))
    {
      wrong_size (aw, ah, ew, eh, error);
      return NULL;
    }

  crop.x = (int) lround ((plan->context.x - plan->answer.x) * fx);
  crop.y = (int) lround ((plan->context.y - plan->answer.y) * fy);
  x1 = (int) lround ((plan->context.x + plan->context.width - plan->answer.x) * fx);
  y1 = (int) lround ((plan->context.y + plan->context.height - plan->answer.y) * fy);
  crop.x = CLAMP (crop.x, 0, aw - 1);
  crop.y = CLAMP (crop.y, 0, ah - 1);
  crop.width = CLAMP (x1, crop.x + 1, aw) - crop.x;
  crop.height = CLAMP (y1, crop.y + 1, ah) - crop.y;

  return op_image_scale (answer, &crop, data->input_size.width, data->input_size.height);
}

/* Generating */

static const char *
engine_for (const GenerateData *data)
{
  return !string_is_blank (data->params->model) ? data->params->model : data->service->engine;
}

static OpHttpRequest *
build_v2_request (GenerateData *data,
                  gint64        seed)
{
  const Service *service = data->service;
  const OpParams *params = data->params;
  const char *path = data->kind == CALL_OUTPAINT ? "/v2beta/stable-image/edit/outpaint"
                                                 : "/v2beta/stable-image/edit/inpaint";
  const char *filename = g_str_equal (data->image_type, "image/png") ? "image.png" : "image.jpg";
  OpHttpRequest *request = new_request (service, "POST", path, "image/*", data);

  op_http_request_add_file (request, "image", filename, data->image_type, data->image_part);

  if (data->kind == CALL_OUTPAINT)
    {
      add_int_field (request, "left", data->outpaint.left);
      add_int_field (request, "right", data->outpaint.right);
      add_int_field (request, "up", data->outpaint.up);
      add_int_field (request, "down", data->outpaint.down);
      add_double_field (request, "creativity", service->creativity);
      add_optional_field (request, "prompt", params->prompt);
    }
  else
    {
      op_http_request_add_file (request, "mask", "mask.png", "image/png", data->mask_part);
      op_http_request_add_field (request, "prompt", params->prompt);
      add_optional_field (request, "negative_prompt", params->negative_prompt);
      op_http_request_add_field (request, "grow_mask", "0");
    }

  add_int_field (request, "seed", MIN (seed, V2_MAX_SEED));
  op_http_request_add_field (request, "output_format", "png");
  add_optional_field (request, "style_preset", service->style_preset);

  return request;
}

static OpHttpRequest *
build_v1_request (GenerateData *data,
                  gint64        seed)
{
  const Service *service = data->service;
  const OpParams *params = data->params;
  g_autofree char *engine = g_uri_escape_string (engine_for (data), NULL, FALSE);
  g_autofree char *path = NULL;
  OpHttpRequest *request;

  path = g_strdup_printf ("/v1/generation/%s/image-to-image/masking", engine);
  request = new_request (service, "POST", path, "application/json", data);

  op_http_request_add_file (request, "init_image", "init_image.png", "image/png",
                            data->image_part);
  op_http_request_add_file (request, "mask_image", "mask_image.png", "image/png",
                            data->mask_part);
  op_http_request_add_field (request, "mask_source", "MASK_IMAGE_WHITE");
  op_http_request_add_field (request, "text_prompts[0][text]", params->prompt);
  op_http_request_add_field (request, "text_prompts[0][weight]", "1");
  if (!string_is_blank (params->negative_prompt))
    {
      op_http_request_add_field (request, "text_prompts[1][text]", params->negative_prompt);
      op_http_request_add_field (request, "text_prompts[1][weight]", "-1");
    }
  add_double_field (request, "cfg_scale", params->cfg);
  add_optional_field (request, "sampler", params->sampler);
  op_http_request_add_field (request, "samples", "1");
  add_int_field (request, "steps", CLAMP (params->steps, V1_MIN_STEPS, V1_MAX_STEPS));
  add_int_field (request, "seed", MIN (seed, V1_MAX_SEED));
  add_optional_field (request, "style_preset", service->style_preset);

  return request;
}

/* The answer brought to the input's size: the context cut out of an outpainted
 * picture, or the padding taken off again. */
static OpImage *
shape_answer (GenerateData  *data,
              OpImage       *answer,
              GError       **error)
{
  int aw = op_image_get_width (answer), ah = op_image_get_height (answer);
  int pw = op_image_get_width (data->image), ph = op_image_get_height (data->image);
  const OpSize *size = &data->input_size;
  OpRect crop;

  if (data->kind == CALL_OUTPAINT)
    return cut_outpaint_answer (data, answer, error);

  if (pw == size->width && ph == size->height)
    return op_image_ref (answer);

  /* Padded: the answer's shape is checked against what was sent. */
  if (!aspect_matches (aw, ah, pw, ph))
    {
      wrong_size (aw, ah, pw, ph, error);
      return NULL;
    }

  crop = (OpRect) { 0, 0,
                    MAX ((int) lround ((double) size->width * aw / pw), 1),
                    MAX ((int) lround ((double) size->height * ah / ph), 1) };
  return op_image_scale (answer, &crop, size->width, size->height);
}

static OpResult *
run_variant (GenerateData  *data,
             int            index,
             GError       **error)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(OpImage) answer = NULL;
  g_autoptr(OpImage) image = NULL;
  gint64 seed = data->seed + index;

  if (data->kind == CALL_MASKING)
    request = build_v1_request (data, seed);
  else
    request = build_v2_request (data, seed);

  response = op_http_request_send (request, data->stop, error);
  if (response == NULL || !check_answer (response, error))
    return NULL;

  if (data->kind == CALL_MASKING)
    answer = read_artifact_answer (response, &seed, error);
  else
    answer = read_image_answer (response, &seed, error);
  if (answer == NULL)
    return NULL;

  image = shape_answer (data, answer, error);
  if (image == NULL)
    return NULL;

  return op_result_new (image, seed);
}

/* One of at most MAX_CONCURRENT loops taking the next variant until none is left or
 * one failed. */
static gpointer
variants_loop (gpointer user_data)
{
  GenerateData *data = user_data;

  for (;;)
    {
      GError *error = NULL;
      gboolean first_failure = FALSE;
      OpResult *result;
      int index;

      g_mutex_lock (&data->lock);
      index = data->error == NULL && data->next < data->n_variants ? data->next++ : -1;
      g_mutex_unlock (&data->lock);
      if (index < 0)
        break;

      result = run_variant (data, index, &error);

      g_mutex_lock (&data->lock);
      if (result != NULL)
        {
          data->results[index] = result;
          data->n_done++;
        }
      else if (data->error == NULL)
        {
          data->error = g_steal_pointer (&error);
          first_failure = TRUE;
        }
      g_mutex_unlock (&data->lock);
      g_clear_error (&error);

      /* Outside the lock: cancelling runs the other transfers' handlers. */
      if (first_failure)
        g_cancellable_cancel (data->stop);
      else if (result != NULL)
        report_progress (data, NULL);
    }

  return NULL;
}

static void
forward_cancel_cb (GCancellable *cancellable,
                   GCancellable *stop)
{
  g_cancellable_cancel (stop);
}

/* Picks the call and the picture it sends; returns the mask to send with it, NULL when
 * outpainting. */
static OpMask *
choose_call (GenerateData *data)
{
  const OpMask *mask = op_prepared_get_input_mask (data->prepared);
  OpImage *input = op_prepared_get_input (data->prepared);
  const OpSize *size = &data->input_size;
  double scale;

  if (data->kind == CALL_INPAINT && plan_outpaint (data, &scale))
    {
      data->kind = CALL_OUTPAINT;
      data->image = outpaint_image (data, scale);
      return NULL;
    }

  if (data->kind == CALL_INPAINT && (size->width < V2_MIN_SIDE || size->height < V2_MIN_SIDE))
    {
      int width = MAX (size->width, V2_MIN_SIDE), height = MAX (size->height, V2_MIN_SIDE);

      data->image = pad_image (input, width, height);
      return pad_mask (mask, width, height);
    }

  data->image = op_image_ref (input);
  return op_mask_ref ((OpMask *) mask);
}

/* The parts every variant shares, encoded once.  The picture gets what is left of
 * v2beta's 10 MiB once the mask and the text fields are counted. */
static gboolean
encode_parts (GenerateData  *data,
              const OpMask  *mask,
              GError       **error)
{
  gsize used = MULTIPART_SLACK;

  if (mask != NULL)
    {
      data->mask_part = encode_mask (mask, error);
      if (data->mask_part == NULL)
        return FALSE;
      used += g_bytes_get_size (data->mask_part);
    }

  if (data->kind == CALL_MASKING)
    {
      data->image_type = "image/png";
      data->image_part = op_image_encode_png (data->image, error);
      return data->image_part != NULL;
    }

  used += data->params->prompt != NULL ? strlen (data->params->prompt) : 0;
  used += data->params->negative_prompt != NULL ? strlen (data->params->negative_prompt) : 0;
  data->image_part = encode_picture (data->image,
                                     used < V2_REQUEST_LIMIT ? V2_REQUEST_LIMIT - used : 0,
                                     &data->image_type, error);

  return data->image_part != NULL;
}

/* Both inpainting endpoints require a prompt; outpainting does not. */
static gboolean
check_prompt (GenerateData  *data,
              GError       **error)
{
  if (data->kind == CALL_OUTPAINT || !string_is_blank (data->params->prompt))
    return TRUE;

  g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_INVALID,
                       _("Stability AI needs a prompt to inpaint: describe what should "
                         "appear in the painted area."));
  return FALSE;
}

/* The variants, MAX_CONCURRENT at a time: this thread and helpers. */
static void
run_variants (GenerateData *data,
              GCancellable *cancellable)
{
  GThread *helpers[MAX_CONCURRENT - 1] = { NULL };
  int n_helpers = MIN (data->n_variants, MAX_CONCURRENT) - 1;
  gulong handler = 0;

  /* Connected now, a cancellation that came while encoding stops the calls at once. */
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel_cb),
                                     g_object_ref (data->stop), g_object_unref);

  report_progress (data, NULL);
  for (int i = 0; i < n_helpers; i++)
    helpers[i] = g_thread_new ("stability-variant", variants_loop, data);
  variants_loop (data);
  for (int i = 0; i < n_helpers; i++)
    g_thread_join (helpers[i]);

  g_cancellable_disconnect (cancellable, handler);
}

static void
generate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GenerateData *data = task_data;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(OpMask) mask = NULL;
  GError *error = NULL;

  mask = choose_call (data);
  if (!check_prompt (data, &error) || !encode_parts (data, mask, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  run_variants (data, cancellable);

  if (g_task_return_error_if_cancelled (task))
    return;
  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  results = g_ptr_array_new_with_free_func ((GDestroyNotify) op_result_free);
  for (int i = 0; i < data->n_variants; i++)
    g_ptr_array_add (results, g_steal_pointer (&data->results[i]));

  g_task_return_pointer (task, g_steal_pointer (&results), (GDestroyNotify) g_ptr_array_unref);
}

/* Models */

/* GET /v1/engines/list: [{"id","name","description","type"}]; the upscalers are
 * pictures too but cannot inpaint. */
static GStrv
read_engines (OpHttpResponse  *response,
              GError         **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  JsonArray *engines;

  root = op_http_response_parse_json (response, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("Stability AI answered without a list of engines."));
      return NULL;
    }

  engines = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (engines); i++)
    {
      JsonNode *node = json_array_get_element (engines, i);
      JsonObject *engine;
      const char *id, *type;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      engine = json_node_get_object (node);
      id = op_json_member_string (engine, "id");
      type = op_json_member_string (engine, "type");
      if (id == NULL || g_strcmp0 (type, "PICTURE") != 0 ||
          g_str_has_prefix (id, "esrgan") || strstr (id, "upscaler") != NULL)
        continue;
      g_strv_builder_add (builder, id);
    }

  return g_strv_builder_end (builder);
}

static void
list_models_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  GError *error = NULL;
  GStrv models;

  request = new_request (task_data, "GET", "/v1/engines/list", "application/json", NULL);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL || !check_answer (response, &error) ||
      (models = read_engines (response, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, models, (GDestroyNotify) g_strfreev);
}

/* The account's credits: GET /v1/user/balance → {"credits": number}. */
static gboolean
read_balance (OpHttpResponse  *response,
              double          *credits,
              GError         **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (!check_answer (response, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return FALSE;

  *credits = 0;
  if (!op_json_member_number (op_json_node_object (root), "credits", credits))
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("Stability AI answered without a credit balance."));
      return FALSE;
    }

  return TRUE;
}

static void
balance_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  GError *error = NULL;
  double *credits, credits_value;

  request = new_request (task_data, "GET", "/v1/user/balance", "application/json", NULL);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL || !read_balance (response, &credits_value, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  credits = g_new (double, 1);
  *credits = credits_value;
  g_task_return_pointer (task, credits, g_free);
}

/**
 * op_stability_backend_get_balance_async:
 *
 * Asks how many credits the account has left, for the connection test.
 */
void
op_stability_backend_get_balance_async (OpStabilityBackend  *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (OP_IS_STABILITY_BACKEND (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_stability_backend_get_balance_async);
  g_task_set_task_data (task, service_new (self), (GDestroyNotify) service_free);
  g_task_run_in_thread (task, balance_thread);
}

gboolean
op_stability_backend_get_balance_finish (OpStabilityBackend  *self,
                                         GAsyncResult        *result,
                                         double              *credits,
                                         GError             **error)
{
  g_autofree double *value = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  value = g_task_propagate_pointer (G_TASK (result), error);
  if (value == NULL)
    return FALSE;

  *credits = *value;
  return TRUE;
}

/* Upscaling */

/* upscale/fast: 4× the picture, which must be 32–1536 pixels a side and 1,024–1,048,576
 * pixels in all.  The other upscalers need a prompt and make things up; an export
 * should not. */
static gboolean
check_upscale_size (OpImage  *picture,
                    GError  **error)
{
  int width = op_image_get_width (picture), height = op_image_get_height (picture);
  gint64 pixels = (gint64) width * height;

  if (MAX (width, height) > FAST_UPSCALE_MAX_SIDE || pixels > FAST_UPSCALE_MAX_PIXELS)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TOO_LARGE,
                   _("Stability AI upscales pictures of at most %d pixels a side and "
                     "1 megapixel; this one is %d × %d."),
                   FAST_UPSCALE_MAX_SIDE, width, height);
      return FALSE;
    }

  if (MIN (width, height) < FAST_UPSCALE_MIN_SIDE || pixels < FAST_UPSCALE_MIN_PIXELS)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_INVALID,
                   _("Stability AI upscales pictures of at least %d pixels a side and "
                     "%d pixels in all; this one is %d × %d."),
                   FAST_UPSCALE_MIN_SIDE, FAST_UPSCALE_MIN_PIXELS, width, height);
      return FALSE;
    }

  return TRUE;
}

static OpImage *
upscale (UpscaleData   *data,
         GCancellable  *cancellable,
         GError       **error)
{
  int width = op_image_get_width (data->picture), height = op_image_get_height (data->picture);
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(OpImage) answer = NULL;
  g_autoptr(GBytes) png = NULL;
  gint64 seed = 0;

  if (!check_upscale_size (data->picture, error))
    return NULL;

  png = op_image_encode_png (data->picture, error);
  if (png == NULL)
    return NULL;

  request = new_request (data->service, "POST", "/v2beta/stable-image/upscale/fast",
                         "image/*", NULL);
  op_http_request_add_file (request, "image", "image.png", "image/png", png);
  op_http_request_add_field (request, "output_format", "png");

  response = op_http_request_send (request, cancellable, error);
  if (response == NULL || !check_answer (response, error))
    return NULL;

  answer = read_image_answer (response, &seed, error);
  if (answer == NULL)
    return NULL;

  if (!aspect_matches (op_image_get_width (answer), op_image_get_height (answer),
                       width, height))
    {
      wrong_size (op_image_get_width (answer), op_image_get_height (answer),
                  width * FAST_UPSCALE_FACTOR, height * FAST_UPSCALE_FACTOR, error);
      return NULL;
    }

  /* 2× is the 4× answer brought down by area averaging, sharper than a 2× upscaler. */
  return op_image_scale (answer, NULL, width * data->factor, height * data->factor);
}

static void
upscale_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;
  OpImage *image;

  image = upscale (task_data, cancellable, &error);
  if (image == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, image, (GDestroyNotify) op_image_unref);
}

/* Properties */

static void
set_url (OpStabilityBackend *self,
         const char         *url)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (string_is_blank (url) ? DEFAULT_URL : url));
  gsize len = strlen (trimmed);

  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';

  if (g_strcmp0 (self->url, trimmed) == 0)
    return;

  g_free (self->url);
  self->url = g_steal_pointer (&trimmed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}

static void
set_endpoint (OpStabilityBackend *self,
              const char         *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (endpoint_names); i++)
    {
      if (g_strcmp0 (name != NULL ? name : DEFAULT_ENDPOINT, endpoint_names[i]) != 0)
        continue;
      if (self->endpoint == (Endpoint) i)
        return;
      self->endpoint = (Endpoint) i;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENDPOINT]);
      return;
    }

  /* Settings written by a newer build may name an endpoint this one lacks. */
  g_warning ("Unknown Stability AI endpoint “%s”; keeping “%s”",
             name, endpoint_names[self->endpoint]);
}

static void
set_string_property (OpStabilityBackend  *self,
                     char               **field,
                     const char          *value,
                     const char          *fallback,
                     guint                prop)
{
  g_autofree char *old = g_strdup (*field);

  set_string (field, value);
  if (*field == NULL && fallback != NULL)
    *field = g_strdup (fallback);

  if (g_strcmp0 (old, *field) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/* Vfuncs */

static const char *
op_stability_backend_get_id (OpBackend *backend)
{
  return "stability";
}

static const char *
op_stability_backend_get_name (OpBackend *backend)
{
  return _("Stability AI");
}

static OpBackendCaps
op_stability_backend_get_capabilities (OpBackend *backend)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);
  OpBackendCaps caps = OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS;

  if (self->endpoint == ENDPOINT_INPAINT)
    caps |= OP_BACKEND_CAP_NATIVE_OUTPAINT;

  return caps;
}

static OpParamFlags
op_stability_backend_get_parameters (OpBackend *backend)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);
  OpParamFlags params = OP_PARAM_PROMPT | OP_PARAM_NEGATIVE_PROMPT | OP_PARAM_SEED |
                        OP_PARAM_VARIANTS;

  if (self->endpoint == ENDPOINT_V1_MASKING)
    params |= OP_PARAM_STEPS | OP_PARAM_CFG | OP_PARAM_SAMPLER | OP_PARAM_MODEL;

  return params;
}

static const char *
explain_v2_parameter (OpParamFlags param)
{
  switch (param)
    {
    case OP_PARAM_STEPS:
    case OP_PARAM_CFG:
      return _("Stability’s inpaint endpoint picks its own steps and guidance.");

    case OP_PARAM_SAMPLER:
      return _("Stability’s inpaint endpoint picks its own sampler.");

    case OP_PARAM_MODEL:
      return _("Stability’s inpaint endpoint has a single model; choose the v1 masking "
               "endpoint in Preferences to pick an engine.");

    case OP_PARAM_STRENGTH:
      return _("Stability’s inpaint endpoint always replaces the painted area; it has no "
               "denoising strength.");

    default:
      return NULL;
    }
}

static const char *
op_stability_backend_explain_parameter (OpBackend    *backend,
                                        OpParamFlags  param)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);

  if (self->endpoint == ENDPOINT_INPAINT)
    return explain_v2_parameter (param);

  if (param == OP_PARAM_STRENGTH)
    return _("Stability’s masking endpoint replaces the painted area completely; it has "
             "no denoising strength.");

  return NULL;
}

static void
op_stability_backend_get_size_rule (OpBackend  *backend,
                                    OpSizeRule *rule)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);

  if (self->endpoint == ENDPOINT_V1_MASKING)
    {
      rule->multiple = V1_MULTIPLE;
      rule->min_pixels = V1_MIN_PIXELS;
      rule->max_pixels = V1_MAX_PIXELS;
    }
  else
    {
      rule->multiple = 1;
      rule->min_pixels = V2_MIN_PIXELS;
      rule->max_pixels = V2_MAX_PIXELS;
    }
}

static void
op_stability_backend_generate_async (OpBackend             *backend,
                                     const OpGenerateInput *input,
                                     GCancellable          *cancellable,
                                     GAsyncReadyCallback    callback,
                                     gpointer               user_data)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);
  g_autoptr(GTask) task = NULL;
  GenerateData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_stability_backend_generate_async);

  data = g_new0 (GenerateData, 1);
  g_mutex_init (&data->lock);
  data->prepared = input->prepared;
  data->params = input->params;
  data->progress = input->progress;
  data->progress_data = input->progress_data;
  data->service = service_new (self);
  data->stop = g_cancellable_new ();
  data->kind = self->endpoint == ENDPOINT_V1_MASKING ? CALL_MASKING : CALL_INPAINT;
  data->seed = MAX (input->seed, 0);
  data->n_variants = CLAMP (input->params->n_variants, 1, OP_VARIANTS_MAX);
  data->results = g_new0 (OpResult *, data->n_variants);
  op_prepared_get_input_size (input->prepared, &data->input_size);
  g_task_set_task_data (task, data, (GDestroyNotify) generate_data_free);

  g_task_run_in_thread (task, generate_thread);
}

static GPtrArray *
op_stability_backend_generate_finish (OpBackend     *backend,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_stability_backend_generate_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_stability_backend_list_models_async (OpBackend           *backend,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_stability_backend_list_models_async);
  g_task_set_task_data (task, service_new (self), (GDestroyNotify) service_free);
  g_task_run_in_thread (task, list_models_thread);
}

static GStrv
op_stability_backend_list_models_finish (OpBackend     *backend,
                                         GAsyncResult  *result,
                                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
                                                  op_stability_backend_list_models_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* v2beta takes up to 10,000 characters and reads (word:weight); v1's text_prompts
 * take 2,000 each, weighted per prompt rather than per word. */
static void
op_stability_backend_get_prompt_limit (OpBackend     *backend,
                                       const char    *model,
                                       OpPromptLimit *limit)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (backend);

  if (self->endpoint == ENDPOINT_V1_MASKING)
    *limit = (OpPromptLimit) { OP_PROMPT_UNIT_CHARS, 2000, FALSE };
  else
    *limit = (OpPromptLimit) { OP_PROMPT_UNIT_CHARS, 10000, TRUE };
}

static void
op_stability_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = op_stability_backend_get_id;
  iface->get_name = op_stability_backend_get_name;
  iface->get_capabilities = op_stability_backend_get_capabilities;
  iface->get_parameters = op_stability_backend_get_parameters;
  iface->explain_parameter = op_stability_backend_explain_parameter;
  iface->get_size_rule = op_stability_backend_get_size_rule;
  iface->get_prompt_limit = op_stability_backend_get_prompt_limit;
  iface->generate_async = op_stability_backend_generate_async;
  iface->generate_finish = op_stability_backend_generate_finish;
  iface->list_models_async = op_stability_backend_list_models_async;
  iface->list_models_finish = op_stability_backend_list_models_finish;
}

static void
op_stability_backend_finalize (GObject *object)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (object);

  g_free (self->url);
  secret_free (self->api_key);
  g_free (self->engine);
  g_free (self->style_preset);

  G_OBJECT_CLASS (op_stability_backend_parent_class)->finalize (object);
}

static void
op_stability_backend_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (object);

  switch (prop_id)
    {
    case PROP_CREATIVITY:
      g_value_set_double (value, self->creativity);
      break;

    case PROP_ENDPOINT:
      g_value_set_string (value, endpoint_names[self->endpoint]);
      break;

    case PROP_ENGINE:
      g_value_set_string (value, self->engine);
      break;

    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, self->stall_timeout);
      break;

    case PROP_STYLE_PRESET:
      g_value_set_string (value, self->style_preset);
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_stability_backend_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  OpStabilityBackend *self = OP_STABILITY_BACKEND (object);

  switch (prop_id)
    {
    case PROP_API_KEY:
      set_string_property (self, &self->api_key, g_value_get_string (value), NULL, prop_id);
      break;

    case PROP_CREATIVITY:
      if (self->creativity != g_value_get_double (value))
        {
          self->creativity = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_ENDPOINT:
      set_endpoint (self, g_value_get_string (value));
      break;

    case PROP_ENGINE:
      set_string_property (self, &self->engine, g_value_get_string (value), DEFAULT_ENGINE,
                           prop_id);
      break;

    case PROP_STALL_TIMEOUT:
      if (self->stall_timeout != g_value_get_uint (value))
        {
          self->stall_timeout = g_value_get_uint (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_STYLE_PRESET:
      set_string_property (self, &self->style_preset, g_value_get_string (value), NULL,
                           prop_id);
      break;

    case PROP_URL:
      set_url (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_stability_backend_class_init (OpStabilityBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = op_stability_backend_finalize;
  object_class->get_property = op_stability_backend_get_property;
  object_class->set_property = op_stability_backend_set_property;

  /* Write-only, so neither a property dump nor the inspector can show it. */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL, NULL,
                         G_PARAM_WRITABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* outpaint's creativity: how freely the new areas are invented. */
  properties[PROP_CREATIVITY] =
    g_param_spec_double ("creativity", NULL, NULL, 0.0, 1.0, DEFAULT_CREATIVITY, flags);
  properties[PROP_ENDPOINT] =
    g_param_spec_string ("endpoint", NULL, NULL, DEFAULT_ENDPOINT, flags);
  properties[PROP_ENGINE] =
    g_param_spec_string ("engine", NULL, NULL, DEFAULT_ENGINE, flags);
  /* Seconds without a byte moving before a call fails; 0 waits for ever. */
  properties[PROP_STALL_TIMEOUT] =
    g_param_spec_uint ("stall-timeout", NULL, NULL, 0, G_MAXUINT, DEFAULT_STALL_TIMEOUT_S,
                       flags);
  properties[PROP_STYLE_PRESET] =
    g_param_spec_string ("style-preset", NULL, NULL, NULL, flags);
  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, DEFAULT_URL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
op_stability_backend_init (OpStabilityBackend *self)
{
  self->url = g_strdup (DEFAULT_URL);
  self->engine = g_strdup (DEFAULT_ENGINE);
  self->endpoint = ENDPOINT_INPAINT;
  self->creativity = DEFAULT_CREATIVITY;
  self->stall_timeout = DEFAULT_STALL_TIMEOUT_S;
}

OpBackend *
op_stability_backend_new (void)
{
  return g_object_new (OP_TYPE_STABILITY_BACKEND, NULL);
}

/**
 * op_stability_backend_upscale_async:
 * @picture: the picture to upscale; referenced, so treat it as immutable
 * @factor: 2 or 4
 *
 * "Export at 2×/4×": Stability's fast upscaler, which always gives 4×; 2× is that
 * answer scaled down.  Fails with %OP_HTTP_ERROR_TOO_LARGE for a picture beyond the
 * upscaler's limits (1536 pixels a side, 1 megapixel).
 */
void
op_stability_backend_upscale_async (OpStabilityBackend  *self,
                                    OpImage             *picture,
                                    int                  factor,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  UpscaleData *data;

  g_return_if_fail (OP_IS_STABILITY_BACKEND (self));
  g_return_if_fail (picture != NULL);
  g_return_if_fail (factor == 2 || factor == 4);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_stability_backend_upscale_async);

  data = g_new0 (UpscaleData, 1);
  data->service = service_new (self);
  data->picture = op_image_ref (picture);
  data->factor = factor;
  g_task_set_task_data (task, data, (GDestroyNotify) upscale_data_free);

  g_task_run_in_thread (task, upscale_thread);
}

/**
 * op_stability_backend_upscale_finish:
 *
 * Returns: (transfer full): the upscaled picture, @factor times the size of the one
 *   given, or %NULL with @error set
 */
OpImage *
op_stability_backend_upscale_finish (OpStabilityBackend  *self,
                                     GAsyncResult        *result,
                                     GError             **error)
{
  g_return_val_if_fail (OP_IS_STABILITY_BACKEND (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_stability_backend_upscale_async),
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Reading answers without a server, for the fuzz targets: see the private header. */

OpImage *
_op_stability_read_picture (OpHttpResponse  *response,
                            gboolean         artifacts,
                            gint64          *seed,
                            GError         **error)
{
  g_return_val_if_fail (response != NULL, NULL);
  g_return_val_if_fail (seed != NULL, NULL);

  if (!check_answer (response, error))
    return NULL;

  return artifacts ? read_artifact_answer (response, seed, error)
                   : read_image_answer (response, seed, error);
}

GStrv
_op_stability_read_engines (OpHttpResponse  *response,
                            GError         **error)
{
  g_return_val_if_fail (response != NULL, NULL);

  if (!check_answer (response, error))
    return NULL;

  return read_engines (response, error);
}

gboolean
_op_stability_read_balance (OpHttpResponse  *response,
                            double          *credits,
                            GError         **error)
{
  g_return_val_if_fail (response != NULL, FALSE);
  g_return_val_if_fail (credits != NULL, FALSE);

  return read_balance (response, credits, error);
}
