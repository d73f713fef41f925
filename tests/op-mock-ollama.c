/* op-mock-ollama.c — Ollama's API as shared/contracts/backends.md, section 5, says
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "op-mock-ollama.h"

static const char * const pulled[] = { "llava:latest", "llama3.2-vision:latest", NULL };

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
reply_error (SoupServerMessage *msg,
             guint              status,
             const char        *message)
{
  g_autofree char *escaped = g_strescape (message, NULL);
  g_autofree char *body = g_strdup_printf ("{\"error\":\"%s\"}", escaped);

  reply (msg, status, "application/json; charset=utf-8", body);
}

/* "llava" is "llava:latest". */
static gboolean
is_pulled (const char *model)
{
  g_autofree char *full = strchr (model, ':') != NULL ? g_strdup (model) : g_strconcat (model, ":latest", NULL);

  return g_strv_contains (pulled, full);
}

static void
generate_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  OpMockOllama *mock = user_data;
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(OpImage) image = NULL;
  JsonObject *body;
  JsonArray *images = NULL;
  const char *model;
  gboolean stream = TRUE;

  if (!g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      reply (msg, 405, "text/plain", "405 method not allowed");
      return;
    }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL) ||
      json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      reply_error (msg, 400, "invalid character 'x' looking for beginning of value");
      return;
    }
  body = json_node_get_object (json_parser_get_root (parser));

  model = json_object_has_member (body, "model") ? json_object_get_string_member_with_default (body, "model", "") : "";
  if (*model == '\0')
    {
      reply_error (msg, 400, "model is required");
      return;
    }
  if (json_object_has_member (body, "stream"))
    stream = json_object_get_boolean_member_with_default (body, "stream", TRUE);
  if (json_object_has_member (body, "images"))
    images = json_object_get_array_member (body, "images");

  /* Go's []byte: raw standard base64, nothing before it */
  for (guint i = 0; images != NULL && i < json_array_get_length (images); i++)
    {
      const char *text = json_array_get_string_element (images, i);
      g_autofree guchar *data = NULL;
      g_autoptr(GBytes) png = NULL;
      gsize length = 0, n = strlen (text != NULL ? text : "");

      if (text == NULL || strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n ||
          n % 4 != 0)
        {
          const char *bad = text != NULL ? text + strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") : "";
          g_autofree char *message = g_strdup_printf ("illegal base64 data at input byte %d",
                                                      (int) (bad - (text != NULL ? text : "")));

          reply_error (msg, 400, message);
          return;
        }
      data = g_base64_decode (text, &length);
      png = g_bytes_new_take (g_steal_pointer (&data), length);
      g_clear_pointer (&image, op_image_unref);
      image = op_image_new_from_bytes (png, NULL);
      if (image == NULL)
        {
          reply_error (msg, 400, "image: unknown format");
          return;
        }
    }

  if (!is_pulled (model))
    {
      g_autofree char *message = g_strdup_printf ("model '%s' not found", model);

      reply_error (msg, 404, message);
      return;
    }

  stream = stream || mock->always_stream;

  g_mutex_lock (&mock->lock);
  mock->n_generate++;
  g_free (mock->model);
  mock->model = g_strdup (model);
  mock->streamed = stream;
  g_clear_pointer (&mock->image, op_image_unref);
  mock->image = g_steal_pointer (&image);
  g_mutex_unlock (&mock->lock);

  if (stream)
    {
      g_auto(GStrv) words = g_strsplit (OP_MOCK_OLLAMA_CAPTION, " ", -1);
      GString *lines = g_string_new (NULL);
      g_autofree char *text = NULL;

      for (guint i = 0; words[i] != NULL; i++)
        g_string_append_printf (lines, "{\"model\":\"%s\",\"created_at\":\"2026-12-03T09:00:00Z\","
                                "\"response\":\"%s%s\",\"done\":false}\n",
                                model, i > 0 ? " " : "", words[i]);
      if (mock->fail_mid_stream)
        g_string_append (lines, "{\"error\":\"an error was encountered while running the model: unexpected EOF\"}\n");
      else
        g_string_append_printf (lines, "{\"model\":\"%s\",\"created_at\":\"2026-12-03T09:00:01Z\","
                                "\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
                                "\"total_duration\":1200000000,\"eval_count\":20}\n", model);
      text = g_string_free (lines, FALSE);
      reply (msg, 200, "application/x-ndjson", text);
      return;
    }

  {
    g_autofree char *answer = g_strdup_printf ("{\"model\":\"%s\",\"created_at\":\"2026-12-03T09:00:01Z\","
                                               "\"response\":\"%s\",\"done\":true,\"done_reason\":\"stop\","
                                               "\"context\":[1,2,3],\"total_duration\":1200000000,"
                                               "\"load_duration\":900000000,\"eval_count\":20}",
                                               model, OP_MOCK_OLLAMA_CAPTION);

    reply (msg, 200, "application/json; charset=utf-8", answer);
  }
}

static void
tags_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  GString *body = g_string_new ("{\"models\":[");
  g_autofree char *text = NULL;

  for (guint i = 0; pulled[i] != NULL; i++)
    g_string_append_printf (body, "%s{\"name\":\"%s\",\"model\":\"%s\",\"modified_at\":\"2026-11-30T10:00:00Z\","
                            "\"size\":4683075271,\"digest\":\"8dd30f6b0cb1\",\"details\":{\"format\":\"gguf\","
                            "\"family\":\"llama\",\"families\":[\"llama\",\"clip\"],\"parameter_size\":\"7B\","
                            "\"quantization_level\":\"Q4_0\"}}", i > 0 ? "," : "", pulled[i], pulled[i]);
  g_string_append (body, "]}");
  text = g_string_free (body, FALSE);
  reply (msg, 200, "application/json; charset=utf-8", text);
}

OpMockOllama *
op_mock_ollama_new (void)
{
  OpMockOllama *mock = g_new0 (OpMockOllama, 1);

  g_mutex_init (&mock->lock);
  mock->server = op_mock_server_new ();
  op_mock_server_add_handler (mock->server, "/api/generate", generate_cb, mock);
  op_mock_server_add_handler (mock->server, "/api/tags", tags_cb, mock);

  return mock;
}

void
op_mock_ollama_free (OpMockOllama *mock)
{
  op_mock_server_free (mock->server);
  g_free (mock->model);
  g_clear_pointer (&mock->image, op_image_unref);
  g_mutex_clear (&mock->lock);
  g_free (mock);
}

const char *
op_mock_ollama_get_url (OpMockOllama *mock)
{
  return op_mock_server_get_url (mock->server);
}
