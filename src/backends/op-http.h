/* op-http.h — the HTTP layer every remote backend uses (libcurl + json-glib, no GTK).
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define OP_HTTP_ERROR (op_http_error_quark ())

/* What went wrong, in the terms a designer needs; the message says it in words. */
typedef enum
{
  OP_HTTP_ERROR_UNREACHABLE,      /* "could not reach http://…: connection refused" */
  OP_HTTP_ERROR_TIMEOUT,          /* connect timeout, or no byte moved for the stall time */
  OP_HTTP_ERROR_AUTH,             /* 401/403: "the API key was rejected" */
  OP_HTTP_ERROR_CREDITS,          /* 402 or the backend's own "out of credits" */
  OP_HTTP_ERROR_TOO_LARGE,        /* 413 or the backend's size message */
  OP_HTTP_ERROR_FILTERED,         /* content moderation */
  OP_HTTP_ERROR_INVALID,          /* 400/422: the request was refused, with the details */
  OP_HTTP_ERROR_BUSY,             /* 429/502/503/504 after the retries ran out */
  OP_HTTP_ERROR_SERVER,           /* other 5xx */
  OP_HTTP_ERROR_BAD_ANSWER,       /* not JSON, truncated, not an image, wrong size */
  OP_HTTP_ERROR_TLS,              /* certificate problems: verification is always on */
} OpHttpError;

GQuark op_http_error_quark (void);

typedef struct _OpHttpRequest OpHttpRequest;
typedef struct _OpHttpResponse OpHttpResponse;

/* Called from the transfer's thread before a retry: "the server is busy, retrying in N s". */
typedef void (*OpHttpRetryFunc) (int         attempt,
                                 double      delay_seconds,
                                 const char *message,
                                 gpointer    user_data);

OpHttpRequest  *op_http_request_new            (const char     *method,
                                                const char     *url);
void            op_http_request_free           (OpHttpRequest  *self);
void            op_http_request_add_header     (OpHttpRequest  *self,
                                                const char     *name,
                                                const char     *value);
/* Authorization: Bearer KEY — never logged, never part of an error message. */
void            op_http_request_set_bearer     (OpHttpRequest  *self,
                                                const char     *key);
/* HTTP Basic ("user:pass"), as AUTOMATIC1111's --api-auth expects. */
void            op_http_request_set_basic_auth (OpHttpRequest  *self,
                                                const char     *user_colon_pass);
void            op_http_request_set_json       (OpHttpRequest  *self,
                                                JsonNode       *body);
/* multipart/form-data parts (curl_mime): text fields and files. */
void            op_http_request_add_field      (OpHttpRequest  *self,
                                                const char     *name,
                                                const char     *value);
void            op_http_request_add_file       (OpHttpRequest  *self,
                                                const char     *name,
                                                const char     *filename,
                                                const char     *content_type,
                                                GBytes         *data);
/* Generation calls have no total timeout; a transfer where no byte moves for this long
 * fails (default 120 s; 0 never).  The connect timeout is always 10 s. */
void            op_http_request_set_stall_timeout (OpHttpRequest *self,
                                                guint           seconds);
/* Retries for 429/502/503/504 honouring Retry-After: at most @max_attempts in all and
 * @max_total_seconds of waiting (defaults 4 and 60). */
void            op_http_request_set_retries    (OpHttpRequest  *self,
                                                guint           max_attempts,
                                                guint           max_total_seconds,
                                                OpHttpRetryFunc retry,
                                                gpointer        user_data);

/* Called with a 429/502/503/504 answer before it is retried: TRUE when retrying is
 * pointless (an account out of credits answers 429 too). */
typedef gboolean (*OpHttpFinalFunc) (OpHttpResponse *response,
                                     gpointer        user_data);

void            op_http_request_set_final_func (OpHttpRequest  *self,
                                                OpHttpFinalFunc is_final,
                                                gpointer        user_data);

/* Blocking: call from a worker thread.  A cancelled transfer stops within ~100 ms and
 * returns G_IO_ERROR_CANCELLED.  Any status is a response; only transport failures
 * return NULL. */
OpHttpResponse *op_http_request_send           (OpHttpRequest  *self,
                                                GCancellable   *cancellable,
                                                GError        **error);

guint           op_http_response_get_status    (OpHttpResponse *self);
const char     *op_http_response_get_header    (OpHttpResponse *self,
                                                const char     *name);
GBytes         *op_http_response_get_body      (OpHttpResponse *self);
/* The body as JSON, with bounded nesting and size; a clear BAD_ANSWER error otherwise. */
JsonNode       *op_http_response_parse_json    (OpHttpResponse *self,
                                                GError        **error);
/* Turns a non-2xx status into the OpHttpError for it, with @detail (the backend's own
 * message, parsed by the backend from its error body; nullable) in plain words. */
gboolean        op_http_response_check_status  (OpHttpResponse *self,
                                                const char     *service,
                                                const char     *detail,
                                                GError        **error);
/* For a backend whose service says more than its status: Stability's 403 is moderation,
 * OpenAI's 429 "insufficient_quota" is credits.  The same words as check_status; always
 * returns FALSE. */
gboolean        op_http_response_set_error     (OpHttpResponse *self,
                                                OpHttpError     code,
                                                const char     *service,
                                                const char     *detail,
                                                GError        **error);
void            op_http_response_free          (OpHttpResponse *self);

/* Decodes base64 into a picture, checking it is one (and optionally its size). */
GBytes         *op_http_decode_base64          (const char     *text,
                                                GError        **error);
/* Checks raw bytes (a body sent as an image) start like a PNG, JPEG or WebP picture. */
gboolean        op_http_check_image            (GBytes         *bytes,
                                                GError        **error);

/* Members of what a server sent, of the type asked for or nothing: json-glib's own
 * getters complain about a member of another type, and a server's answer is not ours
 * to trust.  @object may be NULL. */
const char     *op_json_member_string          (JsonObject     *object,
                                                const char     *name);
gboolean        op_json_member_number          (JsonObject     *object,
                                                const char     *name,
                                                double         *value);
JsonObject     *op_json_member_object          (JsonObject     *object,
                                                const char     *name);
JsonArray      *op_json_member_array           (JsonObject     *object,
                                                const char     *name);
/* Whether a server's JSON text is safe to give json-glib: bounded in size and nesting
 * (json-glib recurses), one value (json-glib leaks all but the last of several). */
gboolean        op_json_text_ok                (const char     *data,
                                                gsize           length);
/* The root's object, or NULL when the root is not one. */
JsonObject     *op_json_node_object            (JsonNode       *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpHttpRequest, op_http_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpHttpResponse, op_http_response_free)

G_END_DECLS
