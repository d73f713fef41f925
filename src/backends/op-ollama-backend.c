/* op-ollama-backend.c — describing pictures with a local Ollama vision model
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "op-describe.h"
#include "op-http.h"
#include "op-ollama-backend.h"
#include "op-ollama-backend-private.h"

/* Ollama's API (shared/contracts/backends.md, section 5).
 *
 * POST /api/generate {"model", "prompt", "images": [raw base64], "stream": false,
 * "options": {"temperature"}} → {"response", "done"}.  Images are raw standard base64:
 * a "data:" prefix is refused with 400 "illegal base64 data at input byte 4".  Streaming
 * is asked off, but an answer that streams anyway (application/x-ndjson, a line per
 * piece) is read line by line, and an {"error"} line in it is the error.  The first
 * request loads the model, which can take tens of seconds, so there is no total time
 * limit, only the stall one.  GET /api/tags lists the models pulled. */

#define DEFAULT_URL            "http://127.0.0.1:11434"
#define DEFAULT_DESCRIBE_MODEL "llava"
#define STALL_S                180
#define MAX_LINE_BYTES         4096
#define TEMPERATURE            0.2

struct _OpOllamaBackend
{
  GObject parent_instance;

  char *url;
  char *describe_model;
};

enum {
  PROP_0,
  PROP_URL,
  PROP_DESCRIBE_MODEL,
  N_PROPS
};

static void op_ollama_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OpOllamaBackend, op_ollama_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND, op_ollama_backend_iface_init))

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char   *url;
  char   *model;
  GBytes *png;
} TaskData;

static void
task_data_free (TaskData *data)
{
  g_free (data->url);
  g_free (data->model);
  g_clear_pointer (&data->png, g_bytes_unref);
  g_free (data);
}

static const char *
service_name (void)
{
  return "Ollama";
}

/* {"error": "..."}, Ollama's one error shape. */
static char *
error_detail (OpHttpResponse *response)
{
  g_autoptr(JsonNode) root = op_http_response_parse_json (response, NULL);
  const char *message = op_json_member_string (op_json_node_object (root), "error");

  return g_strdup (message);
}

static gboolean
check_response (OpHttpResponse  *response,
                const char      *model,
                GError         **error)
{
  g_autofree char *detail = NULL;
  guint status = op_http_response_get_status (response);

  if (status >= 200 && status < 300)
    return TRUE;

  detail = error_detail (response);
  if (status == 404 && detail != NULL && strstr (detail, "not found") != NULL && model != NULL)
    {
      g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED,
                   _("Ollama has no model “%s”; pull it first with “ollama pull %s”, or "
                     "choose one it has."), model, model);
      return FALSE;
    }

  return op_http_response_check_status (response, service_name (), detail, error);
}

/* An answer streamed as NDJSON: the pieces of "response" in order, or the first
 * {"error"} line's message. */
static char *
read_stream (GBytes  *body,
             GError **error)
{
  g_autoptr(GString) caption = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  gsize size;
  const char *data = g_bytes_get_data (body, &size);
  /* an empty body has no data at all: g_strndup (NULL) is NULL, and so would be lines */
  g_autofree char *text = g_strndup (size > 0 ? data : "", size);
  guint i;

  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = NULL;
      JsonObject *object;
      const char *piece, *message;

      g_strstrip (lines[i]);
      if (*lines[i] == '\0')
        continue;

      parser = json_parser_new_immutable ();
      if (strlen (lines[i]) > MAX_LINE_BYTES ||
          !op_json_text_ok (lines[i], strlen (lines[i])) ||
          !json_parser_load_from_data (parser, lines[i], -1, NULL) ||
          (object = op_json_node_object (json_parser_get_root (parser))) == NULL)
        {
          g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                       _("%s sent a streamed answer that is not JSON lines."), service_name ());
          return NULL;
        }

      message = op_json_member_string (object, "error");
      if (message != NULL)
        {
          g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_FAILED,
                       _("%s stopped describing: %s"), service_name (), message);
          return NULL;
        }

      piece = op_json_member_string (object, "response");
      if (piece != NULL)
        g_string_append (caption, piece);
    }

  return g_string_free (g_steal_pointer (&caption), FALSE);
}

static char *
caption_from_response (OpHttpResponse  *response,
                       const char      *model,
                       GError         **error)
{
  g_autofree char *raw = NULL;
  const char *content_type;

  if (!check_response (response, model, error))
    return NULL;

  content_type = op_http_response_get_header (response, "Content-Type");
  if (content_type != NULL && g_str_has_prefix (content_type, "application/x-ndjson"))
    raw = read_stream (op_http_response_get_body (response), error);
  else
    {
      g_autoptr(JsonNode) root = op_http_response_parse_json (response, error);

      if (root != NULL)
        {
          const char *text = op_json_member_string (op_json_node_object (root), "response");

          if (text == NULL)
            g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                         _("%s answered the description without a response."), service_name ());
          else
            raw = g_strdup (text);
        }
    }

  if (raw == NULL)
    return NULL;

  return op_describe_take_caption (raw, service_name (), error);
}

static void
describe_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  TaskData *data = task_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(OpHttpRequest) request = NULL;
  g_autoptr(OpHttpResponse) response = NULL;
  g_autofree char *url = g_strconcat (data->url, "/api/generate", NULL);
  g_autofree char *image = NULL;
  GError *error = NULL;
  char *caption;

  /* raw base64: no "data:" prefix */
  image = g_base64_encode (g_bytes_get_data (data->png, NULL), g_bytes_get_size (data->png));
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, data->model);
  json_builder_set_member_name (builder, "prompt");
  json_builder_add_string_value (builder, OP_DESCRIBE_INSTRUCTION);
  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  json_builder_add_string_value (builder, image);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, FALSE);
  json_builder_set_member_name (builder, "options");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "temperature");
  json_builder_add_double_value (builder, TEMPERATURE);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);

  request = op_http_request_new ("POST", url);
  op_http_request_set_json (request, body);
  op_http_request_set_stall_timeout (request, STALL_S);
  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL || (caption = caption_from_response (response, data->model, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, caption, g_free);
}

static GStrv
models_from_response (OpHttpResponse  *response,
                      GError         **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  JsonArray *models;

  if (!check_response (response, NULL, error) ||
      (root = op_http_response_parse_json (response, error)) == NULL)
    return NULL;

  models = op_json_member_array (op_json_node_object (root), "models");
  if (models == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("%s sent no list of models."), service_name ());
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (models); i++)
    {
      const char *name = op_json_member_string (op_json_node_object (json_array_get_element (models, i)),
                                                 "name");

      if (name != NULL && *name != '\0')
        g_strv_builder_add (names, name);
    }

  return g_strv_builder_end (names);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  TaskData *data = task_data;
  g_autofree char *url = g_strconcat (data->url, "/api/tags", NULL);
  g_autoptr(OpHttpRequest) request = op_http_request_new ("GET", url);
  g_autoptr(OpHttpResponse) response = NULL;
  GError *error = NULL;
  GStrv names;

  response = op_http_request_send (request, cancellable, &error);
  if (response == NULL || (names = models_from_response (response, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, names, (GDestroyNotify) g_strfreev);
}

static TaskData *
task_data_new (OpOllamaBackend *self)
{
  TaskData *data = g_new0 (TaskData, 1);

  data->url = g_strdup (self->url);
  data->model = g_strdup (self->describe_model);
  return data;
}

static const char *
op_ollama_backend_get_id (OpBackend *backend)
{
  return "ollama";
}

static const char *
op_ollama_backend_get_name (OpBackend *backend)
{
  return _("Ollama (describes pictures)");
}

static OpBackendCaps
op_ollama_backend_get_capabilities (OpBackend *backend)
{
  return OP_BACKEND_CAP_DESCRIBE | OP_BACKEND_CAP_MODELS;
}

static OpParamFlags
op_ollama_backend_get_parameters (OpBackend *backend)
{
  return 0;
}

static void
op_ollama_backend_get_size_rule (OpBackend  *backend,
                                 OpSizeRule *rule)
{
  rule->multiple = 1;
  rule->max_side = OP_DESCRIBE_MAX_SIDE;
  rule->max_pixels = (gint64) OP_DESCRIBE_MAX_SIDE * OP_DESCRIBE_MAX_SIDE;
  rule->min_pixels = 1;
}

static void
op_ollama_backend_describe_async (OpBackend           *backend,
                                  OpImage             *image,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  OpOllamaBackend *self = OP_OLLAMA_BACKEND (backend);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GError) error = NULL;
  TaskData *data;
  GBytes *png;

  g_task_set_source_tag (task, op_ollama_backend_describe_async);
  png = op_image_encode_png (image, &error);
  if (png == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = task_data_new (self);
  data->png = png;
  g_task_set_task_data (task, data, (GDestroyNotify) task_data_free);
  g_task_run_in_thread (task, describe_thread);
}

static char *
op_ollama_backend_describe_finish (OpBackend     *backend,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_ollama_backend_list_models_async (OpBackend           *backend,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  OpOllamaBackend *self = OP_OLLAMA_BACKEND (backend);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, op_ollama_backend_list_models_async);
  g_task_set_task_data (task, task_data_new (self), (GDestroyNotify) task_data_free);
  g_task_run_in_thread (task, list_thread);
}

static GStrv
op_ollama_backend_list_models_finish (OpBackend     *backend,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_ollama_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = op_ollama_backend_get_id;
  iface->get_name = op_ollama_backend_get_name;
  iface->get_capabilities = op_ollama_backend_get_capabilities;
  iface->get_parameters = op_ollama_backend_get_parameters;
  iface->get_size_rule = op_ollama_backend_get_size_rule;
  iface->describe_async = op_ollama_backend_describe_async;
  iface->describe_finish = op_ollama_backend_describe_finish;
  iface->list_models_async = op_ollama_backend_list_models_async;
  iface->list_models_finish = op_ollama_backend_list_models_finish;
}

static void
set_string (OpOllamaBackend *self,
            char           **field,
            const char      *value,
            const char      *fallback,
            guint            prop)
{
  g_autofree char *copy = g_strstrip (g_strdup (value != NULL ? value : ""));
  gsize len = strlen (copy);

  if (prop == PROP_URL)
    while (len > 0 && copy[len - 1] == '/')
      copy[--len] = '\0';
  if (len == 0)
    {
      g_free (copy);
      copy = g_strdup (fallback);
    }
  if (g_strcmp0 (*field, copy) == 0)
    return;

  g_free (*field);
  *field = g_steal_pointer (&copy);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
op_ollama_backend_finalize (GObject *object)
{
  OpOllamaBackend *self = OP_OLLAMA_BACKEND (object);

  g_free (self->url);
  g_free (self->describe_model);

  G_OBJECT_CLASS (op_ollama_backend_parent_class)->finalize (object);
}

static void
op_ollama_backend_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  OpOllamaBackend *self = OP_OLLAMA_BACKEND (object);

  switch (prop_id)
    {
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
op_ollama_backend_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  OpOllamaBackend *self = OP_OLLAMA_BACKEND (object);

  switch (prop_id)
    {
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
op_ollama_backend_class_init (OpOllamaBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = op_ollama_backend_finalize;
  object_class->get_property = op_ollama_backend_get_property;
  object_class->set_property = op_ollama_backend_set_property;

  properties[PROP_URL] = g_param_spec_string ("url", NULL, NULL, DEFAULT_URL, flags);
  properties[PROP_DESCRIBE_MODEL] =
    g_param_spec_string ("describe-model", NULL, NULL, DEFAULT_DESCRIBE_MODEL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
op_ollama_backend_init (OpOllamaBackend *self)
{
  self->url = g_strdup (DEFAULT_URL);
  self->describe_model = g_strdup (DEFAULT_DESCRIBE_MODEL);
}

OpBackend *
op_ollama_backend_new (void)
{
  return g_object_new (OP_TYPE_OLLAMA_BACKEND, NULL);
}

/* Reading answers without a server, for the fuzz targets: see the private header. */

char *
_op_ollama_read_caption (OpHttpResponse  *response,
                         const char      *model,
                         GError         **error)
{
  g_return_val_if_fail (response != NULL, NULL);

  return caption_from_response (response, model, error);
}

GStrv
_op_ollama_read_models (OpHttpResponse  *response,
                        GError         **error)
{
  g_return_val_if_fail (response != NULL, NULL);

  return models_from_response (response, error);
}
