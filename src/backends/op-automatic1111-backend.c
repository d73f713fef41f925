/* op-automatic1111-backend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-automatic1111-backend"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "op-automatic1111-backend-private.h"
#include "op-fill.h"
#include "op-http.h"

/* The Stable Diffusion web UI's API (shared/contracts/backends.md, section 1).
 *
 * One generation is one blocking POST /sdapi/v1/img2img.  What we send, and why:
 *
 *   init_images   the prepared input: the context crop at the fitted size, opaque.  When
 *                 the request extends the canvas, the new area is first filled by the
 *                 built-in fill, as InvokeAI does with its PatchMatch infill: diffusion
 *                 starts far better from plausible texture than from smeared edge pixels.
 *   mask          white = regenerate, black = keep, an opaque PNG of the same size, with
 *                 inpainting_mask_invert 0 (section 6).
 *   inpainting_fill 1 ("original"): the masked area starts from the init image, which
 *                 is what makes the denoising strength mean something, and what the
 *                 pre-filled margins are for.
 *   inpaint_full_res false ("whole picture"): we crop the context ourselves; "only
 *                 masked" would crop and upscale a second time.  Its padding means
 *                 nothing then and is not sent.
 *   mask_blur 4   the web UI's own default, said out loud: it softens the pasted-back
 *                 seam inside the server; our feathered blend mask does the real blending
 *                 afterwards.
 *   seed, batch_size (= variants), steps, cfg_scale, denoising_strength, width, height
 *                 always; sampler_name and override_settings (the checkpoint, restored
 *                 afterwards so other users of the server keep theirs) only when chosen.
 *
 * Nothing else: every other field keeps the server's default, because placeholder
 * values such as "s_noise": 0 or "initial_noise_multiplier": 0 silently ruin results
 * (section 1.10).  OpParams has no scheduler, so none is sent ("Automatic"); a legacy
 * combined sampler name such as "DPM++ 2M Karras" still picks one on the server.
 *
 * The POST sends nothing back until every picture is done, so the transfer has no
 * stall limit of its own.  A second thread polls /sdapi/v1/progress every half second
 * on its own connections: the step count and the live preview go to the progress
 * callback, and the same polls are the watchdog, since a server that leaves them
 * unanswered for the stall timeout is gone.  Progress is the server's, global: while
 * another client's job runs ahead of ours, that job's steps show.
 *
 * Cancelling aborts the transfer at once and, in parallel, asks the server to stop with
 * POST /sdapi/v1/interrupt: the web UI does not notice a closed connection and would
 * otherwise finish the job.  Whatever it answers afterwards is discarded.
 *
 * Size rule: multiples of 8 (the latent factor), at most 2048 on a side (so at most
 * 4 MP, the web UI's own slider limit) and at least 512 × 512 pixels.  SD 1.5 is
 * trained at 512², SDXL at 1024²; far beyond that subjects repeat, and a small crop
 * scaled up to the model's size comes back with more detail than one generated at its
 * own few pixels (what the web UI's "only masked" does too). */

#define DEFAULT_URL           "http://127.0.0.1:7860"
#define DEFAULT_DESCRIBE_MODEL "clip"
#define SIZE_MULTIPLE         8
#define MAX_SIDE              2048
#define MIN_PIXELS            (512 * 512)

#define MASK_BLUR             4
#define INPAINTING_FILL_ORIGINAL 1

#define POLL_INTERVAL_MS      500
#define DEFAULT_STALL_S       120
#define INTERRUPT_STALL_S     5
#define RETRY_ATTEMPTS        3
#define RETRY_SECONDS         30

/* A different shape would be distorted when scaled back; a different size is fine. */
#define ASPECT_TOLERANCE      0.02
#define DETAIL_MAX_ITEMS      3

struct _OpAutomatic1111Backend
{
  GObject parent_instance;

  /* Owned references */
  char *url;
  char *api_auth;
  char *describe_model;   /* "clip" or "deepdanbooru" */

  guint stall_timeout;
};

enum {
  PROP_0,
  PROP_URL,
  PROP_API_AUTH,
  PROP_DESCRIBE_MODEL,
  N_PROPS
};

static void op_automatic1111_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OpAutomatic1111Backend, op_automatic1111_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND,
                                                      op_automatic1111_backend_iface_init))

static GParamSpec *properties[N_PROPS];

/* Where to send requests: copied for each task, so a thread never reads the backend. */
typedef struct
{
  char *url;        /* without a trailing slash */
  char *api_auth;   /* "user:pass", or NULL */
} Server;

/* Everything a generation's thread reads. */
typedef struct
{
  Server          server;
  OpImage        *input;
  OpMask         *mask;
  OpParams       *params;
  OpMargins       margins;
  OpRect          context;        /* canvas pixels */
  OpSize          size;           /* the input's */
  int             source_width;
  int             source_height;
  gint64          seed;           /* < 0: the server picks */
  int             n_variants;
  guint           stall_timeout;
  OpProgressFunc  progress;
  gpointer        progress_data;
} GenerateData;

/* Shared by a generation's thread, its progress thread and the cancellable's handler. */
typedef struct
{
  gatomicrefcount  ref_count;
  Server           server;
  guint            stall_timeout;
  OpProgressFunc   progress;
  gpointer         progress_data;
  GCancellable    *transfer;      /* aborts the img2img transfer */
  GCancellable    *stop;          /* aborts the progress thread's requests */

  GMutex           lock;
  GCond            cond;
  gboolean         finished;      /* the transfer returned: report nothing more */
  gboolean         interrupt;     /* cancelled while it ran: stop the server's job */
  gboolean         stalled;       /* the server stopped answering */

  /* Progress thread only */
  char            *last_preview;
  gboolean         seen_steps;    /* the server was sampling */
} Watch;

/* What one look at /sdapi/v1/progress found. */
typedef struct
{
  double   fraction;
  char    *text;       /* NULL: nothing worth reporting */
  OpImage *preview;
} Report;

/* The lists the server offers, and how to read them. */
typedef struct
{
  const char *path;
  const char *field;      /* the member naming each entry … */
  const char *fallback;   /* … or this one, when it is missing */
  gboolean    optional;   /* a 404 means this version has no such list */
} ListKind;

typedef struct
{
  Server          server;
  const ListKind *kind;
} ListData;

static const ListKind models_kind = { "/sdapi/v1/sd-models", "title", "model_name", FALSE };
static const ListKind samplers_kind = { "/sdapi/v1/samplers", "name", NULL, FALSE };
static const ListKind schedulers_kind = { "/sdapi/v1/schedulers", "label", "name", TRUE };

/* Servers and answers */

static const char *
service_name (void)
{
  return _("Stable Diffusion web UI");
}

static void
server_init (Server                 *server,
             OpAutomatic1111Backend *self)
{
  server->url = g_strdup (self->url);
  server->api_auth = g_strdup (self->api_auth);
}

static void
server_clear (Server *server)
{
  g_clear_pointer (&server->url, g_free);
  /* a password does not linger in freed memory */
  if (server->api_auth != NULL)
    explicit_bzero (server->api_auth, strlen (server->api_auth));
  g_clear_pointer (&server->api_auth, g_free);
}

static OpHttpRequest *
server_request (const Server *server,
                const char   *method,
                const char   *path)
{
  g_autofree char *url = g_strconcat (server->url, path, NULL);
  OpHttpRequest *request = op_http_request_new (method, url);

  if (server->api_auth != NULL)
    op_http_request_set_basic_auth (request, server->api_auth);

  return request;
}

static int
member_int (JsonObject *object,
            const char *name,
            int         fallback)
{
  double value;

  if (!op_json_member_number (object, name, &value) || !(fabs (value) < G_MAXINT))
    return fallback;

  return (int) value;
}

static gboolean
is_blank (const char *text)
{
  return text == NULL || text[0] == '\0';
}

/* FastAPI's validation errors as "steps: value is not a valid integer", the "body"
 * that starts every location left out. */
static void
append_validation_errors (GString   *out,
                          JsonArray *items)
{
  guint n = json_array_get_length (items);

  for (guint i = 0; i < n && i < DETAIL_MAX_ITEMS; i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      JsonObject *item;
      JsonArray *loc;
      const char *msg;
      guint n_loc;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      item = json_node_get_object (node);
      loc = op_json_member_array (item, "loc");
      msg = op_json_member_string (item, "msg");
      n_loc = loc != NULL ? json_array_get_length (loc) : 0;

      if (out->len > 0)
        g_string_append (out, "; ");
      for (guint k = 0, shown = 0; k < n_loc; k++)
        {
          JsonNode *part = json_array_get_element (loc, k);

          if (!JSON_NODE_HOLDS_VALUE (part) || (k == 0 && n_loc > 1 &&
              g_strcmp0 (json_node_get_string (part), "body") == 0))
            continue;
          if (shown++ > 0)
            g_string_append_c (out, '.');
          if (json_node_get_value_type (part) == G_TYPE_STRING)
            g_string_append (out, json_node_get_string (part));
          else
            g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (part));
        }
      g_string_append_printf (out, "%s%s", n_loc > 0 ? ": " : "", msg != NULL ? msg : "?");
    }

  if (n > DETAIL_MAX_ITEMS)
    g_string_append (out, "; …");
}

/* The server's own words from an error body: the web UI's
 * {"error", "detail", "body", "errors"}, or FastAPI's {"detail": [validation errors]}.
 * NULL when the body says nothing readable (an HTML page from a proxy). */
static char *
error_detail (OpHttpResponse *response)
{
  g_autoptr(JsonNode) root = op_http_response_parse_json (response, NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  static const char * const fields[] = { "detail", "errors", "error" };
  JsonObject *object;
  JsonArray *items;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  object = json_node_get_object (root);
  items = op_json_member_array (object, "detail");
  if (items != NULL)
    append_validation_errors (out, items);

  for (guint i = 0; i < G_N_ELEMENTS (fields) && out->len == 0; i++)
    {
      const char *text = op_json_member_string (object, fields[i]);

      if (!is_blank (text))
        g_string_append (out, text);
    }

  if (out->len == 0)
    return NULL;

  /* the HTTP layer makes it one line of reasonable length */
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A non-2xx status as an OpHttpError, in the server's words where it has any. */
static gboolean
check_response (const Server    *server,
                OpHttpResponse  *response,
                GError         **error)
{
  g_autofree char *detail = NULL;
  guint status = op_http_response_get_status (response);

  if (status >= 200 && status < 300)
    return TRUE;

  /* no key was rejected: none was given, and the server wants a login */
  if (status == 401 && server->api_auth == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_AUTH,
                   _("%s asks for a user name and password (it was started with "
                     "--api-auth); enter them in the backend’s settings."), service_name ());
      return FALSE;
    }

  detail = error_detail (response);
  /* FastAPI's answer for a route that does not exist: the web UI runs without --api */
  if (status == 404 && g_strcmp0 (detail, "Not Found") == 0)
    {
      g_free (detail);
      detail = g_strdup (_("there is no web UI API at this address; start the web UI "
                           "with --api"));
    }

  return op_http_response_check_status (response, service_name (), detail, error);
}

static gpointer
bad_answer (GError     **error,
            const char  *format,
            ...) G_GNUC_PRINTF (2, 3);

static gpointer
bad_answer (GError     **error,
            const char  *format,
            ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                                                format, args));
  va_end (args);

  return NULL;
}

/* Lists */

static void
list_data_free (ListData *data)
{
  server_clear (&data->server);
  g_free (data);
}

static GStrv
names_from_answer (JsonNode        *root,
                   const ListKind  *kind,
                   GError         **error)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  JsonArray *array;
  guint n;

  if (!JSON_NODE_HOLDS_ARRAY (root))
    return bad_answer (error, _("%s sent something other than a list from %s."),
                       service_name (), kind->path);

  array = json_node_get_array (root);
  n = json_array_get_length (array);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      const char *name = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      name = op_json_member_string (json_node_get_object (node), kind->field);
      if (name == NULL && kind->fallback != NULL)
        name = op_json_member_string (json_node_get_object (node), kind->fallback);
      if (!is_blank (name))
        g_strv_builder_add (names, name);
    }

  return g_strv_builder_end (names);
}

static GStrv
list_from_response (const Server    *server,
                    const ListKind  *kind,
                    OpHttpResponse  *response,
                    GError         **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (kind->optional && op_http_response_get_status (response) == 404)
    {
      g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED,
                   _("This version of the %s has no list at %s; version 1.9 "
                     "or later has."), service_name (), kind->path);
      return NULL;
    }

  if (!check_response (server, response, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return NULL;

  return names_from_answer (root, kind, error);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ListData *data = task_data;
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  GError *error = NULL;
  GStrv names;

  request = server_request (&data->server, "GET", data->kind->path);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL ||
      (names = list_from_response (&data->server, data->kind, response, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, names, (GDestroyNotify) g_strfreev);
}

static void
list_async (OpAutomatic1111Backend *self,
            const ListKind         *kind,
            gpointer                source_tag,
            GCancellable           *cancellable,
            GAsyncReadyCallback     callback,
            gpointer                user_data)
{
  g_autoptr(GTask) task = NULL;
  ListData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  data = g_new0 (ListData, 1);
  server_init (&data->server, self);
  data->kind = kind;
  g_task_set_task_data (task, data, (GDestroyNotify) list_data_free);

  g_task_run_in_thread (task, list_thread);
}

static GStrv
list_finish (OpAutomatic1111Backend  *self,
             GAsyncResult            *result,
             gpointer                 source_tag,
             GError                 **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, source_tag), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Generating: the request */

static void
generate_data_free (GenerateData *data)
{
  server_clear (&data->server);
  g_clear_pointer (&data->input, op_image_unref);
  g_clear_pointer (&data->mask, op_mask_unref);
  g_clear_pointer (&data->params, op_params_free);
  g_free (data);
}

/* The part of the input the request adds to the canvas (and that is regenerated, which
 * all of it is), in input pixels; NULL when the canvas is not extended. */
static OpMask *
new_area_mask (const GenerateData *data)
{
  const OpMargins *m = &data->margins;
  const OpRect *c = &data->context;
  int width = data->size.width, height = data->size.height;
  const guint8 *regenerate = op_mask_peek_data (data->mask);
  g_autoptr(OpMask) area = NULL;
  gboolean any = FALSE;

  if (m->left <= 0 && m->right <= 0 && m->top <= 0 && m->bottom <= 0)
    return NULL;

  area = op_mask_new (width, height);
  for (int y = 0; y < height; y++)
    {
      double cy = c->y + (y + 0.5) * c->height / height;
      gboolean inside_y = cy >= m->top && cy < m->top + data->source_height;
      guint8 *row = op_mask_get_data (area) + (gsize) y * width;

      for (int x = 0; x < width; x++)
        {
          double cx = c->x + (x + 0.5) * c->width / width;
          gboolean inside = inside_y && cx >= m->left && cx < m->left + data->source_width;

          if (!inside && regenerate[(gsize) y * width + x] > 0)
            {
              row[x] = 255;
              any = TRUE;
            }
        }
    }

  return any ? g_steal_pointer (&area) : NULL;
}

static void
fill_progress_cb (double      fraction,
                  const char *stage,
                  gpointer    user_data)
{
  const GenerateData *data = user_data;

  data->progress (fraction, _("Filling the new area"), NULL, data->progress_data);
}

/* The input with the canvas's new area filled from the picture itself; the pixels the
 * fill leaves alone are the prepared input's, bit for bit. */
static OpImage *
prefill_input (const GenerateData  *data,
               GCancellable        *cancellable,
               GError             **error)
{
  g_autoptr(OpMask) area = new_area_mask (data);
  g_autoptr(GError) local_error = NULL;
  OpFillParams params;
  OpImage *filled;

  if (area == NULL)
    return op_image_ref (data->input);

  op_fill_params_init (&params);
  params.seed = (guint64) MAX (data->seed, 0);

  filled = op_fill_run (data->input, area, &params,
                        data->progress != NULL ? fill_progress_cb : NULL, (gpointer) data,
                        cancellable, &local_error);
  if (filled != NULL)
    return filled;

  /* Edge colours are a worse start, not a reason to fail the generation. */
  if (g_error_matches (local_error, OP_FILL_ERROR, OP_FILL_ERROR_NO_SOURCE))
    {
      g_debug ("Sending the new area unfilled: %s", local_error->message);
      return op_image_ref (data->input);
    }

  g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static char *
encode_base64_png (const OpImage  *image,
                   GError        **error)
{
  g_autoptr(GBytes) png = op_image_encode_png (image, error);
  gsize size;
  const guchar *data;

  if (png == NULL)
    return NULL;

  data = g_bytes_get_data (png, &size);
  return g_base64_encode (data, size);
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_double (JsonBuilder *builder,
            const char  *name,
            double       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_double_value (builder, value);
}

static void
add_boolean (JsonBuilder *builder,
             const char  *name,
             gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

static void
add_pictures (JsonBuilder *builder,
              const char  *init_image,
              const char  *mask)
{
  json_builder_set_member_name (builder, "init_images");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, init_image);
  json_builder_end_array (builder);

  add_string (builder, "mask", mask);
  add_int (builder, "inpainting_mask_invert", 0);
  add_int (builder, "mask_blur", MASK_BLUR);
  add_int (builder, "inpainting_fill", INPAINTING_FILL_ORIGINAL);
  add_boolean (builder, "inpaint_full_res", FALSE);
}

static void
add_choices (JsonBuilder    *builder,
             const OpParams *params)
{
  if (!is_blank (params->sampler))
    add_string (builder, "sampler_name", params->sampler);
  /* web UI 1.9 and later; an older one ignores the key */
  if (!is_blank (params->scheduler))
    add_string (builder, "scheduler", params->scheduler);

  if (!is_blank (params->model))
    {
      json_builder_set_member_name (builder, "override_settings");
      json_builder_begin_object (builder);
      add_string (builder, "sd_model_checkpoint", params->model);
      json_builder_end_object (builder);
      add_boolean (builder, "override_settings_restore_afterwards", TRUE);
    }
}

/* The img2img body: only the fields we mean (see the top of the file). */
static JsonNode *
build_body (const GenerateData  *data,
            GCancellable        *cancellable,
            GError             **error)
{
  const OpParams *params = data->params;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(OpImage) input = NULL;
  g_autoptr(OpImage) mask = NULL;
  g_autofree char *input_base64 = NULL;
  g_autofree char *mask_base64 = NULL;

  input = prefill_input (data, cancellable, error);
  if (input == NULL)
    return NULL;

  mask = op_mask_to_image (data->mask);
  if ((input_base64 = encode_base64_png (input, error)) == NULL ||
      (mask_base64 = encode_base64_png (mask, error)) == NULL ||
      g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  json_builder_begin_object (builder);
  add_pictures (builder, input_base64, mask_base64);
  add_string (builder, "prompt", params->prompt != NULL ? params->prompt : "");
  add_string (builder, "negative_prompt",
              params->negative_prompt != NULL ? params->negative_prompt : "");
  add_int (builder, "seed", data->seed);
  add_int (builder, "batch_size", data->n_variants);
  add_int (builder, "steps", params->steps);
  add_double (builder, "cfg_scale", params->cfg);
  add_double (builder, "denoising_strength", params->strength);
  add_int (builder, "width", data->size.width);
  add_int (builder, "height", data->size.height);
  add_choices (builder, params);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Generating: the progress thread */

static Watch *
watch_ref (Watch *watch)
{
  g_atomic_ref_count_inc (&watch->ref_count);
  return watch;
}

static void
watch_unref (Watch *watch)
{
  if (!g_atomic_ref_count_dec (&watch->ref_count))
    return;

  server_clear (&watch->server);
  g_clear_object (&watch->transfer);
  g_clear_object (&watch->stop);
  g_clear_pointer (&watch->last_preview, g_free);
  g_mutex_clear (&watch->lock);
  g_cond_clear (&watch->cond);
  g_free (watch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watch, watch_unref)

static Watch *
watch_new (const GenerateData *data)
{
  Watch *watch = g_new0 (Watch, 1);

  g_atomic_ref_count_init (&watch->ref_count);
  watch->server.url = g_strdup (data->server.url);
  watch->server.api_auth = g_strdup (data->server.api_auth);
  watch->stall_timeout = data->stall_timeout;
  watch->progress = data->progress;
  watch->progress_data = data->progress_data;
  watch->transfer = g_cancellable_new ();
  watch->stop = g_cancellable_new ();
  g_mutex_init (&watch->lock);
  g_cond_init (&watch->cond);

  return watch;
}

static gboolean
watch_is_over (Watch *watch)
{
  return watch->finished || watch->interrupt || watch->stalled;
}

/* With the lock held, until the next poll is due: FALSE once there is nothing left to
 * watch. */
static gboolean
watch_wait (Watch *watch)
{
  gint64 until = g_get_monotonic_time () + POLL_INTERVAL_MS * G_TIME_SPAN_MILLISECOND;

  while (!watch_is_over (watch) && g_cond_wait_until (&watch->cond, &watch->lock, until))
    ;

  return !watch_is_over (watch);
}

static void
report_clear (Report *report)
{
  g_clear_pointer (&report->text, g_free);
  g_clear_pointer (&report->preview, op_image_unref);
}

/* The live preview, decoded only when it changed since the last poll. */
static OpImage *
read_preview (Watch      *watch,
              JsonObject *answer)
{
  const char *text = op_json_member_string (answer, "current_image");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  OpImage *preview;

  if (is_blank (text) || g_strcmp0 (text, watch->last_preview) == 0)
    return NULL;

  g_free (watch->last_preview);
  watch->last_preview = g_strdup (text);

  if ((bytes = op_http_decode_base64 (text, &error)) == NULL ||
      (preview = op_image_new_from_bytes (bytes, &error)) == NULL)
    {
      g_debug ("Ignoring an unreadable preview: %s", error->message);
      return NULL;
    }

  return preview;
}

/* {"progress", "state": {"job_count", "job_no", "sampling_step", "sampling_steps"…},
 * "current_image"} as a fraction, "Step 12 of 30" and the preview.  An idle server
 * answers zeros, before our job starts and after it ends. */
static void
read_progress (Watch      *watch,
               JsonObject *answer,
               Report     *report)
{
  JsonObject *state = op_json_member_object (answer, "state");
  int steps = 0, step = 0, jobs = 0, job = 0;
  double fraction;

  if (!op_json_member_number (answer, "progress", &fraction))
    return;

  if (state != NULL)
    {
      steps = member_int (state, "sampling_steps", 0);
      step = member_int (state, "sampling_step", 0);
      jobs = member_int (state, "job_count", 0);
      job = member_int (state, "job_no", 0);
    }

  if (jobs > 0 && steps > 0)
    {
      watch->seen_steps = TRUE;
      report->fraction = CLAMP (fraction, 0.0, 1.0);
      if (jobs > 1)
        report->text = g_strdup_printf (_("Image %d of %d, step %d of %d"),
                                        CLAMP (job + 1, 1, jobs), jobs,
                                        CLAMP (step, 0, steps), steps);
      else
        report->text = g_strdup_printf (_("Step %d of %d"), CLAMP (step, 0, steps), steps);
      report->preview = read_preview (watch, answer);
    }
  else if (watch->seen_steps)
    {
      /* the server went idle: what is left is encoding and sending the pictures */
      report->fraction = 1.0;
      report->text = g_strdup (_("Receiving the pictures"));
    }
  else
    {
      /* loading a checkpoint, or another client's job ahead of ours */
      report->fraction = -1.0;
      report->text = g_strdup (_("Waiting for the server"));
    }
}

/* What an answer from the progress endpoint says; nothing when it is not a 2xx object. */
static void
progress_from_response (Watch          *watch,
                        OpHttpResponse *response,
                        Report         *report)
{
  g_autoptr(JsonNode) root = NULL;
  guint status = op_http_response_get_status (response);

  if (status >= 200 && status < 300 &&
      (root = op_http_response_parse_json (response, NULL)) != NULL &&
      JSON_NODE_HOLDS_OBJECT (root))
    read_progress (watch, json_node_get_object (root), report);
}

/* One look at the progress; FALSE when the server did not answer at all. */
static gboolean
poll_progress (Watch  *watch,
               Report *report)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  request = server_request (&watch->server, "GET",
                            "/sdapi/v1/progress?skip_current_image=false");
  op_http_request_set_stall_timeout (request, watch->stall_timeout);
  /* the next poll is the retry */
  op_http_request_set_retries (request, 1, 0, NULL, NULL);

  response = op_http_request_send (request, watch->stop, &error);
  if (response == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No progress: %s", error->message);
      return FALSE;
    }

  progress_from_response (watch, response, report);
  return TRUE;
}

/* Asks the server to stop the running job.  No cancellable: the job was cancelled, and
 * this is what makes the server notice. */
static void
send_interrupt (Watch *watch)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) error = NULL;

  request = server_request (&watch->server, "POST", "/sdapi/v1/interrupt");
  op_http_request_set_stall_timeout (request, INTERRUPT_STALL_S);
  op_http_request_set_retries (request, 1, 0, NULL, NULL);

  response = op_http_request_send (request, NULL, &error);
  if (response == NULL || !check_response (&watch->server, response, &error))
    g_debug ("Could not interrupt the server's job: %s", error->message);
}

static gpointer
poll_thread (gpointer user_data)
{
  g_autoptr(Watch) watch = user_data;
  gint64 last_answer = g_get_monotonic_time ();
  gint64 stall_us = (gint64) watch->stall_timeout * G_USEC_PER_SEC;
  gboolean interrupt;

  g_mutex_lock (&watch->lock);
  while (watch_wait (watch))
    {
      Report report = { 0, NULL, NULL };
      gboolean answered;

      g_mutex_unlock (&watch->lock);
      answered = poll_progress (watch, &report);
      g_mutex_lock (&watch->lock);

      if (answered)
        last_answer = g_get_monotonic_time ();
      else if (!watch_is_over (watch) && g_get_monotonic_time () - last_answer > stall_us)
        {
          watch->stalled = TRUE;
          g_cancellable_cancel (watch->transfer);
        }

      /* Under the lock: once the transfer returned, the caller's data may be gone. */
      if (report.text != NULL && watch->progress != NULL && !watch_is_over (watch))
        watch->progress (report.fraction, report.text, report.preview, watch->progress_data);
      report_clear (&report);
    }
  interrupt = watch->interrupt;
  g_mutex_unlock (&watch->lock);

  if (interrupt)
    send_interrupt (watch);

  return NULL;
}

/* Generating: the transfer */

/* From the thread that cancelled. */
static void
on_cancellable_cancelled_cb (GCancellable *cancellable,
                             Watch        *watch)
{
  g_mutex_lock (&watch->lock);
  if (!watch->finished)
    {
      watch->interrupt = TRUE;
      g_cond_signal (&watch->cond);
    }
  g_mutex_unlock (&watch->lock);

  g_cancellable_cancel (watch->transfer);
  g_cancellable_cancel (watch->stop);
}

/* From the transfer's thread. */
static void
retry_cb (int         attempt,
          double      delay_seconds,
          const char *message,
          gpointer    user_data)
{
  const GenerateData *data = user_data;

  if (data->progress != NULL)
    data->progress (-1.0, message, NULL, data->progress_data);
}

/* The blocking POST, with the progress thread beside it for as long as it runs. */
static OpHttpResponse *
send_generation (const GenerateData  *data,
                 JsonNode            *body,
                 GCancellable        *cancellable,
                 GError             **error)
{
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(Watch) watch = watch_new (data);
  gboolean interrupt, stalled;
  GThread *thread;
  gulong handler = 0;

  /* cancelled before anything was sent: nothing to interrupt */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  request = server_request (&data->server, "POST", "/sdapi/v1/img2img");
  op_http_request_set_json (request, body);
  /* silent until done, for minutes: the progress polls notice a dead server instead */
  op_http_request_set_stall_timeout (request, 0);
  op_http_request_set_retries (request, RETRY_ATTEMPTS, RETRY_SECONDS, retry_cb,
                               (gpointer) data);

  thread = g_thread_new ("op-a1111-progress", poll_thread, watch_ref (watch));
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancellable_cancelled_cb),
                                     watch_ref (watch), (GDestroyNotify) watch_unref);

  response = op_http_request_send (request, watch->transfer, &local_error);

  g_mutex_lock (&watch->lock);
  watch->finished = TRUE;
  g_cond_signal (&watch->cond);
  interrupt = watch->interrupt;
  stalled = watch->stalled;
  g_mutex_unlock (&watch->lock);

  g_cancellable_cancel (watch->stop);
  g_cancellable_disconnect (cancellable, handler);
  /* An interrupt to a dead server may take seconds; the job is over for the user now. */
  if (interrupt)
    g_thread_unref (thread);
  else
    g_thread_join (thread);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (response != NULL)
    return g_steal_pointer (&response);

  if (stalled)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TIMEOUT,
                 _("%s stopped answering: nothing came back for %u seconds."),
                 service_name (), data->stall_timeout);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));

  return NULL;
}

/* Generating: the answer */

/* "info" is a JSON object serialized into a string; NULL when it is not one. */
static JsonNode *
parse_info (JsonObject *answer)
{
  const char *text = op_json_member_string (answer, "info");
  g_autoptr(GError) error = NULL;
  JsonNode *info;

  if (text == NULL)
    return NULL;

  if (!op_json_text_ok (text, strlen (text)))
    {
      g_debug ("Ignoring the answer's info: too deeply nested, or not one value");
      return NULL;
    }

  info = json_from_string (text, &error);
  if (info == NULL || !JSON_NODE_HOLDS_OBJECT (info))
    {
      g_debug ("Ignoring the answer's info: %s", error != NULL ? error->message : "not an object");
      g_clear_pointer (&info, json_node_unref);
    }

  return info;
}

static gint64
info_seed (JsonNode *info,
           guint     index,
           gint64    fallback)
{
  JsonArray *seeds = info != NULL ? op_json_member_array (json_node_get_object (info), "all_seeds") : NULL;
  JsonNode *node;

  if (seeds == NULL || index >= json_array_get_length (seeds))
    return fallback;

  node = json_array_get_element (seeds, index);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return fallback;

  return json_node_get_int (node);
}

static OpImage *
decode_picture (const GenerateData  *data,
                JsonNode            *node,
                guint                index,
                GError             **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(OpImage) image = NULL;
  int width, height;
  double aspect;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_answer (error, _("%s sent picture %u as something other than text."),
                       service_name (), index + 1);

  if ((bytes = op_http_decode_base64 (json_node_get_string (node), error)) == NULL)
    return NULL;

  if ((image = op_image_new_from_bytes (bytes, &local_error)) == NULL)
    return bad_answer (error, _("%s sent picture %u, which cannot be read: %s"),
                       service_name (), index + 1, local_error->message);

  /* Upscaled answers of the same shape are scaled back; another shape would be
   * stretched over the context. */
  width = op_image_get_width (image);
  height = op_image_get_height (image);
  aspect = ((double) width * data->size.height) / ((double) height * data->size.width);
  if (fabs (aspect - 1.0) > ASPECT_TOLERANCE)
    return bad_answer (error, _("%s answered with a %d × %d picture where %d × %d was asked."),
                       service_name (), width, height, data->size.width, data->size.height);

  return g_steal_pointer (&image);
}

/* {"images": [base64…], "parameters": {…}, "info": "<JSON>"}: the first variants'
 * pictures (extensions may add theirs after them) with the seeds the server used. */
static GPtrArray *
parse_answer (const GenerateData  *data,
              JsonNode            *root,
              GError             **error)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(JsonNode) info = NULL;
  JsonArray *images;
  guint first = 0, n;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    return bad_answer (error, _("%s answered with something other than pictures."),
                       service_name ());

  images = op_json_member_array (json_node_get_object (root), "images");
  info = parse_info (json_node_get_object (root));
  if (info != NULL)
    first = MAX (member_int (json_node_get_object (info), "index_of_first_image", 0), 0);

  if (images == NULL || json_array_get_length (images) <= first)
    return bad_answer (error, _("%s sent back no pictures."), service_name ());

  n = MIN (json_array_get_length (images) - first, (guint) data->n_variants);
  results = g_ptr_array_new_with_free_func ((GDestroyNotify) op_result_free);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(OpImage) image = NULL;
      gint64 fallback = data->seed >= 0 ? data->seed + i : -1;

      image = decode_picture (data, json_array_get_element (images, first + i), i, error);
      if (image == NULL)
        return NULL;

      g_ptr_array_add (results, op_result_new (image, info_seed (info, i, fallback)));
    }

  return g_steal_pointer (&results);
}

static GPtrArray *
results_from_response (const GenerateData  *data,
                       OpHttpResponse      *response,
                       GError             **error)
{
  g_autoptr(JsonNode) root = NULL;

  if (!check_response (&data->server, response, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return NULL;

  return parse_answer (data, root, error);
}

static void
generate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const GenerateData *data = task_data;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  GPtrArray *results;
  GError *error = NULL;

  if ((body = build_body (data, cancellable, &error)) == NULL ||
      (response = send_generation (data, body, cancellable, &error)) == NULL ||
      (results = results_from_response (data, response, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
}

/* Describing: POST /sdapi/v1/interrogate {"image", "model"} → {"caption"}.  It waits
 * for the server's queue like a generation, so it has the same stall limit; the web UI
 * cannot stop an interrogation, so cancelling only drops the transfer. */

typedef struct
{
  Server   server;
  char    *model;
  GBytes  *png;
  guint    stall_timeout;
} DescribeData;

static void
describe_data_free (DescribeData *data)
{
  server_clear (&data->server);
  g_free (data->model);
  g_clear_pointer (&data->png, g_bytes_unref);
  g_free (data);
}

static char *
caption_from_response (const Server    *server,
                       const char      *model,
                       OpHttpResponse  *response,
                       GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  const char *caption;

  /* 404 "Model not found": this server has no such interrogator */
  if (op_http_response_get_status (response) == 404)
    {
      g_autofree char *detail = error_detail (response);

      if (g_strcmp0 (detail, "Model not found") == 0)
        {
          g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED,
                       _("The %s has no “%s” interrogator; choose CLIP or "
                         "DeepDanbooru."), service_name (), model);
          return NULL;
        }
    }

  if (!check_response (server, response, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return NULL;

  caption = op_json_member_string (op_json_node_object (root), "caption");
  if (caption == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("%s answered the description without a caption."), service_name ());
      return NULL;
    }

  return g_strdup (caption);
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
  GError *error = NULL;
  char *caption;

  image = g_base64_encode (g_bytes_get_data (data->png, NULL), g_bytes_get_size (data->png));
  json_builder_begin_object (builder);
  add_string (builder, "image", image);
  add_string (builder, "model", data->model);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  request = server_request (&data->server, "POST", "/sdapi/v1/interrogate");
  op_http_request_set_json (request, body);
  op_http_request_set_stall_timeout (request, data->stall_timeout);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL ||
      (caption = caption_from_response (&data->server, data->model, response, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, caption, g_free);
}

/* Backend interface */

static const char *
op_automatic1111_backend_get_id (OpBackend *backend)
{
  return "automatic1111";
}

static const char *
op_automatic1111_backend_get_name (OpBackend *backend)
{
  return _("AUTOMATIC1111 / Forge");
}

static OpBackendCaps
op_automatic1111_backend_get_capabilities (OpBackend *backend)
{
  return OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_MODELS | OP_BACKEND_CAP_SAMPLERS |
         OP_BACKEND_CAP_PROGRESS | OP_BACKEND_CAP_PREVIEW | OP_BACKEND_CAP_DESCRIBE;
}

static OpParamFlags
op_automatic1111_backend_get_parameters (OpBackend *backend)
{
  return OP_PARAM_PROMPT | OP_PARAM_NEGATIVE_PROMPT | OP_PARAM_SEED | OP_PARAM_VARIANTS |
         OP_PARAM_STEPS | OP_PARAM_CFG | OP_PARAM_STRENGTH | OP_PARAM_SAMPLER |
         OP_PARAM_MODEL;
}

static void
op_automatic1111_backend_get_size_rule (OpBackend  *backend,
                                        OpSizeRule *rule)
{
  rule->multiple = SIZE_MULTIPLE;
  rule->max_side = MAX_SIDE;
  rule->max_pixels = (gint64) MAX_SIDE * MAX_SIDE;
  rule->min_pixels = MIN_PIXELS;
}

/* CLIP reads 75 tokens at a time; the web UI sends a longer prompt as more chunks. */
static void
op_automatic1111_backend_get_prompt_limit (OpBackend     *backend,
                                           const char    *model,
                                           OpPromptLimit *limit)
{
  *limit = (OpPromptLimit) { OP_PROMPT_UNIT_TOKENS, 75, TRUE };
}

static void
op_automatic1111_backend_generate_async (OpBackend             *backend,
                                         const OpGenerateInput *input,
                                         GCancellable          *cancellable,
                                         GAsyncReadyCallback    callback,
                                         gpointer               user_data)
{
  OpAutomatic1111Backend *self = OP_AUTOMATIC1111_BACKEND (backend);
  OpRequest *request = op_prepared_get_request (input->prepared);
  OpImage *source = op_request_get_source (request);
  g_autoptr(GTask) task = NULL;
  GenerateData *data;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_automatic1111_backend_generate_async);

  data = g_new0 (GenerateData, 1);
  server_init (&data->server, self);
  data->input = op_image_ref (op_prepared_get_input (input->prepared));
  data->mask = op_mask_ref ((OpMask *) op_prepared_get_input_mask (input->prepared));
  data->params = op_params_copy (input->params);
  data->margins = *op_request_get_margins (request);
  op_prepared_get_context (input->prepared, &data->context);
  op_prepared_get_input_size (input->prepared, &data->size);
  data->source_width = op_image_get_width (source);
  data->source_height = op_image_get_height (source);
  data->seed = input->seed >= 0 ? input->seed : -1;
  data->n_variants = CLAMP (input->params->n_variants, 1, OP_VARIANTS_MAX);
  data->stall_timeout = self->stall_timeout;
  data->progress = input->progress;
  data->progress_data = input->progress_data;
  g_task_set_task_data (task, data, (GDestroyNotify) generate_data_free);

  g_task_run_in_thread (task, generate_thread);
}

static GPtrArray *
op_automatic1111_backend_generate_finish (OpBackend     *backend,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result,
                                                  op_automatic1111_backend_generate_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_automatic1111_backend_list_models_async (OpBackend           *backend,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  list_async (OP_AUTOMATIC1111_BACKEND (backend), &models_kind,
              op_automatic1111_backend_list_models_async, cancellable, callback, user_data);
}

static GStrv
op_automatic1111_backend_list_models_finish (OpBackend     *backend,
                                             GAsyncResult  *result,
                                             GError       **error)
{
  return list_finish (OP_AUTOMATIC1111_BACKEND (backend), result,
                      op_automatic1111_backend_list_models_async, error);
}

static void
op_automatic1111_backend_describe_async (OpBackend           *backend,
                                         OpImage             *image,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  OpAutomatic1111Backend *self = OP_AUTOMATIC1111_BACKEND (backend);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  DescribeData *data;
  GBytes *png;

  g_task_set_source_tag (task, op_automatic1111_backend_describe_async);

  png = op_image_encode_png (image, &error);
  if (png == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_new0 (DescribeData, 1);
  server_init (&data->server, self);
  data->model = g_strdup (self->describe_model);
  data->png = png;
  data->stall_timeout = self->stall_timeout;
  g_task_set_task_data (task, data, (GDestroyNotify) describe_data_free);
  g_task_run_in_thread (task, describe_thread);
}

static char *
op_automatic1111_backend_describe_finish (OpBackend     *backend,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_automatic1111_backend_describe_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_automatic1111_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = op_automatic1111_backend_get_id;
  iface->get_name = op_automatic1111_backend_get_name;
  iface->get_capabilities = op_automatic1111_backend_get_capabilities;
  iface->get_parameters = op_automatic1111_backend_get_parameters;
  iface->get_size_rule = op_automatic1111_backend_get_size_rule;
  iface->get_prompt_limit = op_automatic1111_backend_get_prompt_limit;
  iface->generate_async = op_automatic1111_backend_generate_async;
  iface->generate_finish = op_automatic1111_backend_generate_finish;
  iface->list_models_async = op_automatic1111_backend_list_models_async;
  iface->list_models_finish = op_automatic1111_backend_list_models_finish;
  iface->describe_async = op_automatic1111_backend_describe_async;
  iface->describe_finish = op_automatic1111_backend_describe_finish;
}

/* GObject */

/* Surrounding blanks and trailing slashes go, so paths can be appended; nothing is the
 * default address. */
static char *
normalize_url (const char *url)
{
  g_autofree char *copy = g_strstrip (g_strdup (url != NULL ? url : ""));
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';

  return len > 0 ? g_steal_pointer (&copy) : g_strdup (DEFAULT_URL);
}

static void
set_url (OpAutomatic1111Backend *self,
         const char             *url)
{
  g_autofree char *normal = normalize_url (url);

  if (g_strcmp0 (self->url, normal) == 0)
    return;

  g_free (self->url);
  self->url = g_steal_pointer (&normal);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}

static void
set_api_auth (OpAutomatic1111Backend *self,
              const char             *api_auth)
{
  if (is_blank (api_auth))
    api_auth = NULL;
  if (g_strcmp0 (self->api_auth, api_auth) == 0)
    return;

  if (self->api_auth != NULL)
    explicit_bzero (self->api_auth, strlen (self->api_auth));
  g_free (self->api_auth);
  self->api_auth = g_strdup (api_auth);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_API_AUTH]);
}

/* The web UI's interrogators: anything else gets its 404 "Model not found". */
static void
set_describe_model (OpAutomatic1111Backend *self,
                    const char             *model)
{
  if (is_blank (model))
    model = DEFAULT_DESCRIBE_MODEL;
  if (g_strcmp0 (self->describe_model, model) == 0)
    return;

  g_free (self->describe_model);
  self->describe_model = g_strdup (model);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIBE_MODEL]);
}

static void
op_automatic1111_backend_finalize (GObject *object)
{
  OpAutomatic1111Backend *self = OP_AUTOMATIC1111_BACKEND (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->describe_model, g_free);
  set_api_auth (self, NULL);

  G_OBJECT_CLASS (op_automatic1111_backend_parent_class)->finalize (object);
}

static void
op_automatic1111_backend_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  OpAutomatic1111Backend *self = OP_AUTOMATIC1111_BACKEND (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_API_AUTH:
      g_value_set_string (value, self->api_auth);
      break;

    case PROP_DESCRIBE_MODEL:
      g_value_set_string (value, self->describe_model);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_automatic1111_backend_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  OpAutomatic1111Backend *self = OP_AUTOMATIC1111_BACKEND (object);

  switch (prop_id)
    {
    case PROP_URL:
      set_url (self, g_value_get_string (value));
      break;

    case PROP_API_AUTH:
      set_api_auth (self, g_value_get_string (value));
      break;

    case PROP_DESCRIBE_MODEL:
      set_describe_model (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_automatic1111_backend_class_init (OpAutomatic1111BackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = op_automatic1111_backend_finalize;
  object_class->get_property = op_automatic1111_backend_get_property;
  object_class->set_property = op_automatic1111_backend_set_property;

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         DEFAULT_URL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_API_AUTH] =
    g_param_spec_string ("api-auth", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* "clip" or "deepdanbooru", what /sdapi/v1/interrogate knows */
  properties[PROP_DESCRIBE_MODEL] =
    g_param_spec_string ("describe-model", NULL, NULL,
                         DEFAULT_DESCRIBE_MODEL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
op_automatic1111_backend_init (OpAutomatic1111Backend *self)
{
  self->url = g_strdup (DEFAULT_URL);
  self->describe_model = g_strdup (DEFAULT_DESCRIBE_MODEL);
  self->stall_timeout = DEFAULT_STALL_S;
}

OpBackend *
op_automatic1111_backend_new (void)
{
  return g_object_new (OP_TYPE_AUTOMATIC1111_BACKEND, NULL);
}

void
op_automatic1111_backend_list_samplers_async (OpAutomatic1111Backend *self,
                                              GCancellable           *cancellable,
                                              GAsyncReadyCallback     callback,
                                              gpointer                user_data)
{
  g_return_if_fail (OP_IS_AUTOMATIC1111_BACKEND (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  list_async (self, &samplers_kind, op_automatic1111_backend_list_samplers_async,
              cancellable, callback, user_data);
}

/**
 * op_automatic1111_backend_list_samplers_finish:
 *
 * Returns: (transfer full): the sampler names, or %NULL with @error set
 */
GStrv
op_automatic1111_backend_list_samplers_finish (OpAutomatic1111Backend  *self,
                                               GAsyncResult            *result,
                                               GError                 **error)
{
  g_return_val_if_fail (OP_IS_AUTOMATIC1111_BACKEND (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return list_finish (self, result, op_automatic1111_backend_list_samplers_async, error);
}

void
op_automatic1111_backend_list_schedulers_async (OpAutomatic1111Backend *self,
                                                GCancellable           *cancellable,
                                                GAsyncReadyCallback     callback,
                                                gpointer                user_data)
{
  g_return_if_fail (OP_IS_AUTOMATIC1111_BACKEND (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  list_async (self, &schedulers_kind, op_automatic1111_backend_list_schedulers_async,
              cancellable, callback, user_data);
}

/**
 * op_automatic1111_backend_list_schedulers_finish:
 *
 * Returns: (transfer full): the schedulers' labels, which the server accepts as names,
 *   or %NULL with @error set
 */
GStrv
op_automatic1111_backend_list_schedulers_finish (OpAutomatic1111Backend  *self,
                                                 GAsyncResult            *result,
                                                 GError                 **error)
{
  g_return_val_if_fail (OP_IS_AUTOMATIC1111_BACKEND (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return list_finish (self, result, op_automatic1111_backend_list_schedulers_async, error);
}

void
_op_automatic1111_backend_set_stall_timeout (OpAutomatic1111Backend *self,
                                             guint                   seconds)
{
  g_return_if_fail (OP_IS_AUTOMATIC1111_BACKEND (self));
  g_return_if_fail (seconds > 0);

  self->stall_timeout = seconds;
}

/* Reading answers without a server, for the fuzz targets: see the private header. */

static void
fuzz_server_init (Server   *server,
                  gboolean  api_auth)
{
  server->url = g_strdup ("http://127.0.0.1:7860");
  server->api_auth = api_auth ? g_strdup ("user:password") : NULL;
}

GStrv
_op_automatic1111_read_list (OpHttpResponse  *response,
                             guint            list,
                             gboolean         api_auth,
                             GError         **error)
{
  static const ListKind * const kinds[] = { &models_kind, &samplers_kind, &schedulers_kind };
  Server server;
  GStrv names;

  g_return_val_if_fail (response != NULL, NULL);
  g_return_val_if_fail (list < G_N_ELEMENTS (kinds), NULL);

  fuzz_server_init (&server, api_auth);
  names = list_from_response (&server, kinds[list], response, error);
  server_clear (&server);

  return names;
}

GPtrArray *
_op_automatic1111_read_generation (OpHttpResponse  *response,
                                   gboolean         api_auth,
                                   int              width,
                                   int              height,
                                   int              n_variants,
                                   gint64           seed,
                                   GError         **error)
{
  GenerateData data = { 0 };
  GPtrArray *results;

  g_return_val_if_fail (response != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0 && n_variants > 0, NULL);

  fuzz_server_init (&data.server, api_auth);
  data.size = (OpSize) { width, height };
  data.source_width = width;
  data.source_height = height;
  data.n_variants = n_variants;
  data.seed = seed;
  results = results_from_response (&data, response, error);
  server_clear (&data.server);

  return results;
}

char *
_op_automatic1111_read_progress (OpHttpResponse  *response,
                                 gboolean         seen_steps,
                                 double          *fraction,
                                 OpImage        **preview)
{
  Watch watch = { 0 };
  Report report = { 0, NULL, NULL };

  g_return_val_if_fail (response != NULL, NULL);

  watch.seen_steps = seen_steps;
  progress_from_response (&watch, response, &report);
  g_free (watch.last_preview);

  if (fraction != NULL)
    *fraction = report.fraction;
  if (preview != NULL)
    *preview = g_steal_pointer (&report.preview);
  g_clear_pointer (&report.preview, op_image_unref);

  return report.text;
}

char *
_op_automatic1111_read_caption (OpHttpResponse  *response,
                                gboolean         api_auth,
                                const char      *model,
                                GError         **error)
{
  Server server;
  char *caption;

  g_return_val_if_fail (response != NULL, NULL);
  g_return_val_if_fail (model != NULL, NULL);

  fuzz_server_init (&server, api_auth);
  caption = caption_from_response (&server, model, response, error);
  server_clear (&server);

  return caption;
}
