/* fuzz-http.c — the HTTP layer's reading of an answer: JSON with its bounds, the error
 * words for every status (the body summarised, HTML pages included, secrets scrubbed),
 * Retry-After, and pictures in base64 or as raw bytes.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: an answer as fuzz-response.h describes, without a mode byte.  Its length's lowest
 * bit says whether the request sent a user name and password. */

#include "config.h"

#include "fuzz-response.h"

static void
walk_json (JsonNode *root)
{
  JsonObject *object = op_json_node_object (root);
  double number;

  /* the typed getters must take any member of any type without complaint */
  if (object != NULL)
    {
      GList *names = json_object_get_members (object);

      for (GList *l = names; l != NULL; l = l->next)
        {
          (void) op_json_member_string (object, l->data);
          (void) op_json_member_number (object, l->data, &number);
          (void) op_json_member_object (object, l->data);
          (void) op_json_member_array (object, l->data);
        }
      g_list_free (names);
    }
}

static void
try_base64 (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = op_http_decode_base64 (text, &error);

  g_assert ((bytes == NULL) == (error != NULL));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(OpHttpResponse) response = fuzz_response_new (data, size, size & 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  GBytes *body = op_http_response_get_body (response);
  gsize length = 0;
  const char *bytes = g_bytes_get_data (body, &length);

  (void) op_http_response_get_header (response, "Content-Type");
  (void) op_http_response_get_header (response, "Retry-After");
  for (guint attempt = 1; attempt <= 8; attempt++)
    g_assert (_op_http_retry_delay (response, attempt) >= 1.0);

  root = op_http_response_parse_json (response, &error);
  g_assert ((root == NULL) == (error != NULL));
  if (root != NULL)
    walk_json (root);
  g_clear_error (&error);

  /* the status as the user reads it, from the body's words or from a detail */
  if (op_http_response_check_status (response, NULL, NULL, &error))
    g_assert (error == NULL);
  else
    g_assert (error != NULL && g_utf8_validate (error->message, -1, NULL) &&
              strstr (error->message, fuzz_secrets[0]) == NULL);
  g_clear_error (&error);

  text = g_strndup (length > 0 ? bytes : "", length);
  g_assert (!op_http_response_set_error (response, (OpHttpError) (length % 11), "Fuzz",
                                         text, &error));
  g_assert (error != NULL && g_utf8_validate (error->message, -1, NULL) &&
            strstr (error->message, fuzz_secrets[0]) == NULL);
  g_clear_error (&error);

  /* the body as a picture: base64 text (with or without a data: prefix) or raw bytes */
  try_base64 (text);
  if (op_http_check_image (body, &error))
    g_assert (error == NULL);
  g_clear_error (&error);

  return 0;
}
