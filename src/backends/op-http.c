/* op-http.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-http"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <curl/curl.h>
#include <glib/gi18n-lib.h>

#include "op-http.h"
#include "op-json.h"
#include "op-http-private.h"

/* One blocking send runs one curl easy handle inside its own multi handle.  The multi
 * interface is there for cancellation: a cancelled GCancellable wakes curl_multi_poll ()
 * at once, and the transfer-info callback, called on every round of the loop, aborts
 * the transfer.  curl_easy_perform () would only look at the callback about once a
 * second while the server is silent.
 *
 * Secrets (the bearer key, the Basic password) live in the request, travel to curl in
 * headers built per send, are wiped when freed, and are scrubbed from every message
 * built from what the server sent back: some servers echo what they were given. */

#define CONNECT_TIMEOUT_SECONDS   10
#define DEFAULT_STALL_SECONDS     120
#define DEFAULT_MAX_ATTEMPTS      4
#define DEFAULT_MAX_WAIT_SECONDS  60
#define MAX_BACKOFF_SECONDS       30
#define POLL_INTERVAL_MS          100
#define MAX_BODY_BYTES            ((curl_off_t) 512 * 1024 * 1024)
#define MAX_JSON_BYTES            ((gsize) 256 * 1024 * 1024)
#define MAX_JSON_DEPTH            64
#define MAX_DETAIL_CHARS          200
#define MIN_SCRUBBED_CHARS        4
/* Error pages are read this far for their words; the rest is boilerplate. */
#define MAX_SUMMARY_BYTES         ((gsize) 64 * 1024)

typedef struct
{
  char *name;
  char *value;               /* a text field, or NULL for a file */
  char *filename;
  char *content_type;
  GBytes *data;
} OpHttpPart;

struct _OpHttpRequest
{
  char *method;
  char *url;
  GPtrArray *headers;        /* "Name: value" */
  char *bearer;              /* secret */
  char *basic_auth;          /* secret, "user:pass" */
  GBytes *json;
  GPtrArray *parts;          /* OpHttpPart */
  guint stall_timeout;
  guint max_attempts;
  guint max_wait_seconds;
  OpHttpRetryFunc retry;
  gpointer retry_data;
  OpHttpFinalFunc is_final;
  gpointer is_final_data;
};

struct _OpHttpResponse
{
  guint status;
  char *url;                 /* without credentials or query, for messages */
  GHashTable *headers;       /* lower-case name → value */
  GBytes *body;
  GStrv secrets;             /* scrubbed from every message */
  gboolean basic_auth;
};

/* The state of one attempt, shared with curl's callbacks. */
typedef struct
{
  const OpHttpRequest *request;
  GCancellable *cancellable;
  CURLM *multi;
  GByteArray *body;
  GHashTable *headers;
  gint64 last_activity;
  curl_off_t last_bytes;
  gboolean cancelled;
  gboolean stalled;
  gboolean too_large;
  char errbuf[CURL_ERROR_SIZE];
} OpHttpTransfer;

/* A retry wait, woken early by the cancellable. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean cancelled;
} OpHttpWait;

G_DEFINE_QUARK (op-http-error-quark, op_http_error)

static void
secret_free (char *secret)
{
  if (secret == NULL)
    return;

  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static void
secrets_free (GStrv secrets)
{
  if (secrets == NULL)
    return;

  for (guint i = 0; secrets[i] != NULL; i++)
    explicit_bzero (secrets[i], strlen (secrets[i]));
  g_strfreev (secrets);
}

static void
headers_free_wiped (struct curl_slist *list)
{
  for (struct curl_slist *l = list; l != NULL; l = l->next)
    explicit_bzero (l->data, strlen (l->data));
  curl_slist_free_all (list);
}

static void
part_free (OpHttpPart *part)
{
  g_free (part->name);
  g_free (part->value);
  g_free (part->filename);
  g_free (part->content_type);
  g_clear_pointer (&part->data, g_bytes_unref);
  g_free (part);
}

static void
ensure_curl (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      CURLcode code = curl_global_init (CURL_GLOBAL_DEFAULT);

      if (code != CURLE_OK)
        g_critical ("libcurl could not start: %s", curl_easy_strerror (code));
      g_once_init_leave (&initialized, 1);
    }
}

/* For an address curl cannot parse: whatever stands before an "@" may be a password. */
static char *
strip_userinfo (const char *url)
{
  g_autofree char *head = g_strndup (url, strcspn (url, "?#"));
  const char *at = strrchr (head, '@');
  const char *scheme_end = strstr (head, "://");

  if (at == NULL)
    return g_steal_pointer (&head);

  if (scheme_end == NULL || scheme_end > at)
    return g_strdup (at + 1);

  return g_strdup_printf ("%.*s%s", (int) (scheme_end + 3 - head), head, at + 1);
}

/* Credentials and query strings (some services take ?key=) stay out of messages. */
static char *
redact_url (const char *url)
{
  CURLU *handle = curl_url ();
  char *clean = NULL;
  char *result;

  if (curl_url_set (handle, CURLUPART_URL, url,
                    CURLU_NON_SUPPORT_SCHEME | CURLU_GUESS_SCHEME) == CURLUE_OK)
    {
      curl_url_set (handle, CURLUPART_USER, NULL, 0);
      curl_url_set (handle, CURLUPART_PASSWORD, NULL, 0);
      curl_url_set (handle, CURLUPART_QUERY, NULL, 0);
      curl_url_set (handle, CURLUPART_FRAGMENT, NULL, 0);
      curl_url_get (handle, CURLUPART_URL, &clean, 0);
    }
  curl_url_cleanup (handle);

  if (clean == NULL)
    return strip_userinfo (url);

  result = g_strdup (clean);
  curl_free (clean);
  return result;
}

/* Secrets shorter than MIN_SCRUBBED_CHARS are left alone: scrubbing a two-letter
 * password would replace those letters everywhere and leave no message to read. */
static char *
scrub_secrets (char        *text,
               const GStrv  secrets)
{
  GString *string;

  if (text == NULL || secrets == NULL)
    return text;

  string = g_string_new (text);
  g_free (text);
  for (guint i = 0; secrets[i] != NULL; i++)
    if (strlen (secrets[i]) >= MIN_SCRUBBED_CHARS)
      g_string_replace (string, secrets[i], "…", 0);

  return g_string_free (string, FALSE);
}

static const char *
find_ascii_case (const char *haystack,
                 const char *end,
                 const char *needle)
{
  gsize length = strlen (needle);

  for (const char *p = haystack; p + length <= end; p++)
    if (g_ascii_strncasecmp (p, needle, length) == 0)
      return p;

  return NULL;
}

static gboolean
looks_like_html (const char *text,
                 gsize       length)
{
  const char *end = text + MIN (length, 1024);

  while (text < end && g_ascii_isspace (*text))
    text++;

  return find_ascii_case (text, end, "<!doctype html") == text
         || find_ascii_case (text, end, "<html") != NULL;
}

/* The few entities error pages use; anything else stays as written. */
static const char *
decode_entity (const char *p,
               const char *end,
               GString    *out)
{
  static const struct { const char *name; const char *text; } entities[] = {
    { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
    { "&#39;", "'" }, { "&apos;", "'" }, { "&nbsp;", " " },
  };

  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    {
      gsize length = strlen (entities[i].name);

      if (p + length <= end && strncmp (p, entities[i].name, length) == 0)
        {
          g_string_append (out, entities[i].text);
          return p + length;
        }
    }

  g_string_append_c (out, *p);
  return p + 1;
}

/* Returns what follows the tag at @p; scripts and styles are skipped whole. */
static const char *
skip_tag (const char *p,
          const char *end)
{
  static const struct { const char *open; const char *close; } hidden[] = {
    { "<script", "</script" }, { "<style", "</style" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (hidden); i++)
    {
      gsize length = strlen (hidden[i].open);

      if ((gsize) (end - p) >= length && g_ascii_strncasecmp (p, hidden[i].open, length) == 0)
        {
          const char *closing = find_ascii_case (p, end, hidden[i].close);

          p = closing != NULL ? closing : end;
          break;
        }
    }

  while (p < end && *p != '>')
    p++;

  return p < end ? p + 1 : end;
}

static char *
html_to_text (const char *html,
              const char *end)
{
  GString *out = g_string_new (NULL);

  for (const char *p = html; p < end;)
    {
      if (*p == '<')
        {
          p = skip_tag (p, end);
          g_string_append_c (out, ' ');
        }
      else if (*p == '&')
        p = decode_entity (p, end, out);
      else
        g_string_append_c (out, *p++);
    }

  return g_string_free (out, FALSE);
}

/* A proxy's error page says what happened in its title ("502 Bad Gateway"); the body
 * usually repeats it with boilerplate. */
static char *
html_summary (const char *html,
              gsize       length)
{
  const char *end = html + length;
  const char *title = find_ascii_case (html, end, "<title");

  if (title != NULL)
    {
      const char *start = memchr (title, '>', end - title);
      const char *stop = start != NULL ? find_ascii_case (start, end, "</title") : NULL;

      if (stop != NULL)
        {
          g_autofree char *text = html_to_text (start + 1, stop);

          if (*g_strstrip (text) != '\0')
            return g_steal_pointer (&text);
        }
    }

  return html_to_text (html, end);
}

/* One line of at most MAX_DETAIL_CHARS characters of valid UTF-8. */
static char *
tidy_text (const char *text,
           gsize       length)
{
  g_autofree char *valid = g_utf8_make_valid (text, length);
  GString *out = g_string_new (NULL);
  guint chars = 0;

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
          continue;
        }
      if (chars++ == MAX_DETAIL_CHARS)
        {
          g_string_append (out, "…");
          break;
        }
      g_string_append_unichar (out, c);
    }

  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, out->len == 0);
}

static char *
readable_text (const char *text,
               gsize       length)
{
  g_autofree char *html = NULL;

  length = MIN (length, MAX_SUMMARY_BYTES);
  if (!looks_like_html (text, length))
    return tidy_text (text, length);

  html = html_summary (text, length);
  return tidy_text (html, strlen (html));
}

/* The value of the four hex digits at @p, or -1. */
static int
hex4 (const char *p,
      const char *end)
{
  int value = 0;

  if (end - p < 4)
    return -1;

  for (int i = 0; i < 4; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }

  return value;
}

/* The length of the \\u escape at @p (6, or 12 for a surrogate pair), or 0 when it is
 * not four hex digits or not a whole pair: json-glib (1.6) reads such escapes leniently
 * and, when it then finds a "malformed surrogate pair", leaks the string. */
static gsize
unicode_escape_length (const char *p,
                       const char *end)
{
  int unit = hex4 (p + 2, end), low;

  if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
    return 0;
  if (unit < 0xd800 || unit > 0xdbff)
    return 6;

  if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
    return 0;
  low = hex4 (p + 8, end);

  return low >= 0xdc00 && low <= 0xdfff ? 12 : 0;
}

/* json-glib (1.6) reads "{…}{…}" as two documents, keeps the last and leaks the
 * first: a second value after the first is refused before it gets there, and so is a
 * \\u escape json-glib could leak (see unicode_escape_length). */
static gboolean
json_one_value (const char *data,
                gsize       length)
{
  gboolean in_string = FALSE, in_scalar = FALSE, done = FALSE;
  guint depth = 0;

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\' && i + 1 < length && data[i + 1] == 'u')
            {
              gsize escape = unicode_escape_length (data + i, data + length);

              if (escape == 0)
                return FALSE;
              i += escape - 1;
            }
          else if (c == '\\')
            i++;
          else if (c == '"')
            {
              in_string = FALSE;
              done = depth == 0;
            }
          continue;
        }

      if (g_ascii_isspace (c))
        {
          if (in_scalar)
            {
              in_scalar = FALSE;
              done = TRUE;
            }
          continue;
        }

      if (done)
        return FALSE;

      if (c == '"' || c == '[' || c == '{')
        {
          if (in_scalar)
            return FALSE;
          if (c == '"')
            in_string = TRUE;
          else
            depth++;
        }
      else if ((c == ']' || c == '}') && depth > 0)
        done = --depth == 0;
      else if (depth == 0)
        in_scalar = TRUE;
    }

  return TRUE;
}

gboolean
op_json_text_ok (const char *data,
                 gsize       length)
{
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  return length <= MAX_JSON_BYTES && op_json_depth_ok (data, length, MAX_JSON_DEPTH) &&
         json_one_value (data, length);
}

static const char *
json_message_member (JsonObject *object)
{
  static const char * const names[] = { "message", "detail", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonNode *node = json_object_get_member (object, names[i]);

      if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_STRING)
        return json_node_get_string (node);
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        return json_message_member (json_node_get_object (node));
    }

  return NULL;
}

/* The backends parse their own error bodies; this is the fallback for everything else
 * in between (proxies, gateways, a different server on the port). */
static char *
body_summary (OpHttpResponse *self)
{
  gsize length = 0;
  const char *data = self->body != NULL ? g_bytes_get_data (self->body, &length) : NULL;
  g_autoptr(JsonParser) parser = NULL;
  JsonNode *root;
  const char *message;

  if (length == 0)
    return NULL;

  while (length > 0 && g_ascii_isspace (*data))
    {
      data++;
      length--;
    }

  if (length == 0 || *data != '{')
    return readable_text (data, length);

  parser = json_parser_new ();
  if (length > MAX_SUMMARY_BYTES || !op_json_text_ok (data, length)
      || !json_parser_load_from_data (parser, data, length, NULL))
    return NULL;

  root = json_parser_get_root (parser);
  message = JSON_NODE_HOLDS_OBJECT (root) ? json_message_member (json_node_get_object (root))
                                          : NULL;
  return message != NULL ? tidy_text (message, strlen (message)) : NULL;
}

static gboolean
is_image (const guint8 *data,
          gsize         length)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };

  if (length >= sizeof png && memcmp (data, png, sizeof png) == 0)
    return TRUE;
  if (length >= sizeof jpeg && memcmp (data, jpeg, sizeof jpeg) == 0)
    return TRUE;

  return length >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0;
}

static gboolean
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* g_base64_decode () skips what it does not understand, so a damaged answer would decode
 * to a damaged picture: check first, and return the text without white space and with
 * its padding. */
static char *
base64_compact (const char *text)
{
  g_autoptr(GString) out = g_string_sized_new (strlen (text));
  guint padding = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        continue;
      if (*p == '=' && ++padding <= 2)
        continue;
      if (padding > 0 || !is_base64_char (*p))
        return NULL;
      g_string_append_c (out, *p);
    }

  if (out->len % 4 == 1 || (padding > 0 && (out->len + padding) % 4 != 0))
    return NULL;

  while (out->len % 4 != 0)
    g_string_append_c (out, '=');

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "data:image/png;base64,…" → "…"; NULL when it is a data URL but not base64. */
static const char *
skip_data_prefix (const char *text)
{
  const char *comma;

  while (g_ascii_isspace (*text))
    text++;

  if (g_ascii_strncasecmp (text, "data:", 5) != 0)
    return text;

  comma = strchr (text, ',');
  if (comma == NULL || comma - text < 12
      || g_ascii_strncasecmp (comma - 7, ";base64", 7) != 0)
    return NULL;

  return comma + 1;
}

static gboolean
is_retryable (guint status)
{
  return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Retry-After is either seconds or an HTTP date; -1 when absent or unreadable. */
static double
parse_retry_after (OpHttpResponse *response)
{
  const char *value = op_http_response_get_header (response, "Retry-After");
  char *end = NULL;
  gint64 seconds;
  time_t date;

  if (value == NULL)
    return -1;

  seconds = g_ascii_strtoll (value, &end, 10);
  if (end != value && *end == '\0')
    return seconds >= 0 ? (double) seconds : -1;

  date = curl_getdate (value, NULL);
  if (date == -1)
    return -1;

  return MAX (0.0, (double) (date - time (NULL)));
}

static double
retry_delay (OpHttpResponse *response,
             guint           attempt)
{
  double asked = parse_retry_after (response);

  /* Without a word from the server: 1, 2, 4… s.  A server asking for 0 still gets a
   * second: hammering a busy server makes it busier. */
  if (asked < 0)
    asked = MIN (MAX_BACKOFF_SECONDS, 1 << MIN (attempt - 1, 5));

  return MAX (1.0, asked);
}

static void
on_wait_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  OpHttpWait *wait = user_data;

  g_mutex_lock (&wait->lock);
  wait->cancelled = TRUE;
  g_cond_signal (&wait->cond);
  g_mutex_unlock (&wait->lock);
}

static gboolean
wait_cancellable (double         seconds,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  OpHttpWait wait = { 0 };
  gulong handler = 0;

  g_mutex_init (&wait.lock);
  g_cond_init (&wait.cond);

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_wait_cancelled_cb),
                                     &wait, NULL);

  g_mutex_lock (&wait.lock);
  while (!wait.cancelled && g_cond_wait_until (&wait.cond, &wait.lock, end))
    ;
  g_mutex_unlock (&wait.lock);

  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, handler);
  g_mutex_clear (&wait.lock);
  g_cond_clear (&wait.cond);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static size_t
on_body_cb (char   *data,
            size_t  size,
            size_t  count,
            void   *user_data)
{
  OpHttpTransfer *transfer = user_data;
  gsize length = size * count;

  /* Chunked answers carry no Content-Length for CURLOPT_MAXFILESIZE to check. */
  if (transfer->body->len + length > MAX_BODY_BYTES)
    {
      transfer->too_large = TRUE;
      return 0;
    }

  g_byte_array_append (transfer->body, (const guint8 *) data, length);
  return length;
}

void
_op_http_parse_header_line (GHashTable *headers,
                            const char *data,
                            gsize       length)
{
  g_autofree char *line = g_strndup (data, length);
  char *colon;

  /* A new status line starts a new set: 100 Continue, or a redirect's target. */
  if (g_str_has_prefix (line, "HTTP/"))
    {
      g_hash_table_remove_all (headers);
      return;
    }

  colon = strchr (line, ':');
  if (colon != NULL && colon != line && !g_ascii_isspace (*line))
    {
      *colon = '\0';
      g_hash_table_replace (headers, g_ascii_strdown (line, -1),
                            g_strdup (g_strstrip (colon + 1)));
    }
}

static size_t
on_header_cb (char   *data,
              size_t  size,
              size_t  count,
              void   *user_data)
{
  OpHttpTransfer *transfer = user_data;
  gsize length = size * count;

  _op_http_parse_header_line (transfer->headers, data, length);
  return length;
}

/* Called on every round of the transfer loop, so both checks react within one poll
 * interval. */
static int
on_xferinfo_cb (void       *user_data,
                curl_off_t  dltotal,
                curl_off_t  dlnow,
                curl_off_t  ultotal,
                curl_off_t  ulnow)
{
  OpHttpTransfer *transfer = user_data;
  gint64 now = g_get_monotonic_time ();
  guint stall = transfer->request->stall_timeout;

  if (g_cancellable_is_cancelled (transfer->cancellable))
    {
      transfer->cancelled = TRUE;
      return 1;
    }

  if (dlnow + ulnow != transfer->last_bytes)
    {
      transfer->last_bytes = dlnow + ulnow;
      transfer->last_activity = now;
    }
  else if (stall > 0 && now - transfer->last_activity > (gint64) stall * G_USEC_PER_SEC)
    {
      transfer->stalled = TRUE;
      return 1;
    }

  return 0;
}

static void
on_transfer_cancelled_cb (GCancellable *cancellable,
                          gpointer      user_data)
{
  OpHttpTransfer *transfer = user_data;

  curl_multi_wakeup (transfer->multi);
}

static struct curl_slist *
build_headers (const OpHttpRequest *self)
{
  struct curl_slist *list = NULL;

  for (guint i = 0; i < self->headers->len; i++)
    list = curl_slist_append (list, g_ptr_array_index (self->headers, i));

  if (self->json != NULL)
    list = curl_slist_append (list, "Content-Type: application/json");

  /* curl waits up to a second for "100 Continue" before sending a big body. */
  list = curl_slist_append (list, "Expect:");

  if (self->bearer != NULL)
    {
      char *line = g_strconcat ("Authorization: Bearer ", self->bearer, NULL);

      list = curl_slist_append (list, line);
      secret_free (line);
    }

  return list;
}

static curl_mime *
build_mime (const OpHttpRequest *self,
            CURL                *easy)
{
  curl_mime *mime = curl_mime_init (easy);

  for (guint i = 0; i < self->parts->len; i++)
    {
      OpHttpPart *part = g_ptr_array_index (self->parts, i);
      curl_mimepart *mimepart = curl_mime_addpart (mime);

      curl_mime_name (mimepart, part->name);
      if (part->value != NULL)
        {
          curl_mime_data (mimepart, part->value, CURL_ZERO_TERMINATED);
          continue;
        }

      curl_mime_data (mimepart, g_bytes_get_data (part->data, NULL),
                      g_bytes_get_size (part->data));
      curl_mime_filename (mimepart, part->filename);
      curl_mime_type (mimepart, part->content_type);
    }

  return mime;
}

/* A body makes curl POST; any other method with it is named explicitly. */
static void
setup_method (const OpHttpRequest *self,
              CURL                *easy,
              curl_mime           *mime)
{
  gboolean has_body = mime != NULL || self->json != NULL;

  if (mime != NULL)
    curl_easy_setopt (easy, CURLOPT_MIMEPOST, mime);
  else if (self->json != NULL)
    {
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE_LARGE,
                        (curl_off_t) g_bytes_get_size (self->json));
      curl_easy_setopt (easy, CURLOPT_POSTFIELDS, g_bytes_get_data (self->json, NULL));
    }
  else if (g_str_equal (self->method, "POST"))
    curl_easy_setopt (easy, CURLOPT_POSTFIELDS, "");

  if (g_str_equal (self->method, "HEAD"))
    curl_easy_setopt (easy, CURLOPT_NOBODY, 1L);
  else if (!g_str_equal (self->method, "POST")
           && (has_body || !g_str_equal (self->method, "GET")))
    curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, self->method);
}

/* TLS verification is libcurl's default and is never turned off; neither is the proxy
 * taken from the environment (http_proxy, https_proxy, no_proxy). */
static void
setup_transport (CURL           *easy,
                 OpHttpTransfer *transfer)
{
  curl_easy_setopt (easy, CURLOPT_URL, transfer->request->url);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "Overpaint/" PACKAGE_VERSION);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  /* Basic only, so the password goes with the first request rather than after a 401. */
  curl_easy_setopt (easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt (easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT, (long) CONNECT_TIMEOUT_SECONDS);
  curl_easy_setopt (easy, CURLOPT_TIMEOUT, 0L);
  /* A generation keeps the connection silent for minutes: keep-alive probes notice a
   * peer that went away meanwhile. */
  curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (easy, CURLOPT_TCP_KEEPIDLE, 60L);
  curl_easy_setopt (easy, CURLOPT_TCP_KEEPINTVL, 30L);
  curl_easy_setopt (easy, CURLOPT_MAXFILESIZE_LARGE, MAX_BODY_BYTES);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, transfer->errbuf);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body_cb);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, on_header_cb);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, transfer);
  curl_easy_setopt (easy, CURLOPT_XFERINFOFUNCTION, on_xferinfo_cb);
  curl_easy_setopt (easy, CURLOPT_XFERINFODATA, transfer);
  curl_easy_setopt (easy, CURLOPT_NOPROGRESS, 0L);
}

static CURLcode
run_transfer (CURL           *easy,
              OpHttpTransfer *transfer)
{
  CURLcode result = CURLE_OK;
  gulong handler = 0;
  int running = 1;
  CURLMsg *message;
  int queued;

  transfer->multi = curl_multi_init ();
  curl_multi_add_handle (transfer->multi, easy);
  if (transfer->cancellable != NULL)
    handler = g_cancellable_connect (transfer->cancellable,
                                     G_CALLBACK (on_transfer_cancelled_cb), transfer, NULL);

  for (;;)
    {
      if (curl_multi_perform (transfer->multi, &running) != CURLM_OK)
        {
          result = CURLE_OUT_OF_MEMORY;
          break;
        }
      if (running == 0)
        break;

      /* The transfer-info callback normally saw it in curl_multi_perform (); this is
       * for the states where curl does not call it. */
      if (g_cancellable_is_cancelled (transfer->cancellable))
        {
          transfer->cancelled = TRUE;
          break;
        }
      curl_multi_poll (transfer->multi, NULL, 0, POLL_INTERVAL_MS, NULL);
    }

  while ((message = curl_multi_info_read (transfer->multi, &queued)) != NULL)
    if (message->msg == CURLMSG_DONE)
      result = message->data.result;

  if (transfer->cancellable != NULL)
    g_cancellable_disconnect (transfer->cancellable, handler);
  curl_multi_remove_handle (transfer->multi, easy);
  g_clear_pointer (&transfer->multi, curl_multi_cleanup);

  return result;
}

static const struct
{
  CURLcode curl;
  OpHttpError code;
  const char *format;        /* takes the address */
} transfer_errors[] = {
  { CURLE_COULDNT_RESOLVE_HOST, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the host name was not found") },
  { CURLE_COULDNT_RESOLVE_PROXY, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the proxy’s host name was not found") },
  { CURLE_RECV_ERROR, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the connection was reset") },
  { CURLE_SEND_ERROR, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the connection was reset") },
  { CURLE_GOT_NOTHING, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the server closed the connection without answering") },
  { CURLE_URL_MALFORMAT, OP_HTTP_ERROR_UNREACHABLE,
    N_("could not reach %s: the address is not valid") },
  { CURLE_PARTIAL_FILE, OP_HTTP_ERROR_BAD_ANSWER,
    N_("the answer from %s was cut off") },
  { CURLE_WRITE_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
    N_("the answer from %s is larger than 512 MiB") },
  { CURLE_FILESIZE_EXCEEDED, OP_HTTP_ERROR_BAD_ANSWER,
    N_("the answer from %s is larger than 512 MiB") },
  { CURLE_TOO_MANY_REDIRECTS, OP_HTTP_ERROR_BAD_ANSWER,
    N_("%s redirects too many times") },
  { CURLE_BAD_CONTENT_ENCODING, OP_HTTP_ERROR_BAD_ANSWER,
    N_("the answer from %s is damaged") },
  { CURLE_WEIRD_SERVER_REPLY, OP_HTTP_ERROR_BAD_ANSWER,
    N_("%s answered with something that is not HTTP") },
};

static const CURLcode tls_errors[] = {
  CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM,
  CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
  CURLE_SSL_INVALIDCERTSTATUS,
};

static gboolean
is_tls_error (CURLcode code)
{
  for (guint i = 0; i < G_N_ELEMENTS (tls_errors); i++)
    if (tls_errors[i] == code)
      return TRUE;

  return FALSE;
}

static gboolean
has_http_scheme (const char *url)
{
  return g_ascii_strncasecmp (url, "http://", 7) == 0
         || g_ascii_strncasecmp (url, "https://", 8) == 0
         || strstr (url, "://") == NULL;
}

static const char *
connect_failure (CURL *easy)
{
  long os_error = 0;

  curl_easy_getinfo (easy, CURLINFO_OS_ERRNO, &os_error);
  switch (os_error)
    {
    case ECONNREFUSED:
      return _("connection refused");
    case EHOSTUNREACH:
    case ENETUNREACH:
      return _("no route to the host");
    default:
      return _("the connection failed");
    }
}

/* Failures with more to say than the address. */
static gboolean
set_special_transfer_error (OpHttpTransfer  *transfer,
                            CURL            *easy,
                            CURLcode         code,
                            const char      *url,
                            GError         **error)
{
  const char *reason = *transfer->errbuf != '\0' ? transfer->errbuf : curl_easy_strerror (code);

  if (code == CURLE_ABORTED_BY_CALLBACK && transfer->stalled)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TIMEOUT,
                 _("%s stopped answering: nothing arrived for %u s"), url,
                 transfer->request->stall_timeout);
  else if (code == CURLE_OPERATION_TIMEDOUT)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TIMEOUT,
                 _("could not reach %s: no answer within %u s"), url, CONNECT_TIMEOUT_SECONDS);
  else if (code == CURLE_COULDNT_CONNECT)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE,
                 _("could not reach %s: %s"), url, connect_failure (easy));
  else if (code == CURLE_UNSUPPORTED_PROTOCOL && !has_http_scheme (transfer->request->url))
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE,
                 _("could not reach %s: it is not an http:// or https:// address"), url);
  else if (code == CURLE_UNSUPPORTED_PROTOCOL)
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                 _("%s answered with something that is not HTTP"), url);
  else if (is_tls_error (code))
    g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_TLS,
                 _("the secure connection to %s could not be trusted: %s"), url, reason);
  else
    return FALSE;

  return TRUE;
}

/* Transport failures: no answer, or an answer we could not take. */
static void
set_transfer_error (OpHttpTransfer  *transfer,
                    CURL            *easy,
                    CURLcode         code,
                    const char      *url,
                    GError         **error)
{
  if (transfer->cancelled || g_cancellable_is_cancelled (transfer->cancellable))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The request was cancelled"));
      return;
    }

  if (set_special_transfer_error (transfer, easy, code, url, error))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (transfer_errors); i++)
    if (transfer_errors[i].curl == code)
      {
        g_set_error (error, OP_HTTP_ERROR, transfer_errors[i].code,
                     _(transfer_errors[i].format), url);
        return;
      }

  g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_UNREACHABLE, _("could not reach %s: %s"), url,
               *transfer->errbuf != '\0' ? transfer->errbuf : curl_easy_strerror (code));
}

static GStrv
collect_secrets (const OpHttpRequest *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *password;

  if (self->bearer != NULL)
    g_strv_builder_add (builder, self->bearer);

  if (self->basic_auth != NULL)
    {
      g_strv_builder_add (builder, self->basic_auth);
      password = strchr (self->basic_auth, ':');
      if (password != NULL && password[1] != '\0')
        g_strv_builder_add (builder, password + 1);
    }

  return g_strv_builder_end (builder);
}

static OpHttpResponse *
response_new (const OpHttpRequest *request,
              OpHttpTransfer      *transfer,
              CURL                *easy,
              char                *url)
{
  OpHttpResponse *self = g_new0 (OpHttpResponse, 1);
  long status = 0;

  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
  self->status = (guint) status;
  self->url = url;
  self->headers = g_steal_pointer (&transfer->headers);
  self->body = g_byte_array_free_to_bytes (g_steal_pointer (&transfer->body));
  self->secrets = collect_secrets (request);
  self->basic_auth = request->basic_auth != NULL;

  return self;
}

static void
transfer_clear (OpHttpTransfer *transfer)
{
  g_clear_pointer (&transfer->body, g_byte_array_unref);
  g_clear_pointer (&transfer->headers, g_hash_table_unref);
}

static OpHttpResponse *
send_once (OpHttpRequest  *self,
           GCancellable   *cancellable,
           GError        **error)
{
  OpHttpTransfer transfer = { 0 };
  g_autofree char *url = redact_url (self->url);
  CURL *easy = curl_easy_init ();
  struct curl_slist *headers = build_headers (self);
  curl_mime *mime = self->parts->len > 0 ? build_mime (self, easy) : NULL;
  OpHttpResponse *response = NULL;
  gint64 start = g_get_monotonic_time ();
  CURLcode code;

  transfer.request = self;
  transfer.cancellable = cancellable;
  transfer.body = g_byte_array_new ();
  transfer.headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  transfer.last_activity = start;

  setup_transport (easy, &transfer);
  setup_method (self, easy, mime);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  if (self->basic_auth != NULL)
    curl_easy_setopt (easy, CURLOPT_USERPWD, self->basic_auth);

  code = run_transfer (easy, &transfer);
  if (code == CURLE_OK && !transfer.cancelled)
    response = response_new (self, &transfer, easy, g_steal_pointer (&url));
  else
    set_transfer_error (&transfer, easy, code, url, error);

  /* Never the headers: they hold the key. */
  g_debug ("%s %s: status %u, %s, %.1f s", self->method, response ? response->url : url,
           response ? response->status : 0, curl_easy_strerror (code),
           (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC);

  transfer_clear (&transfer);
  curl_easy_cleanup (easy);
  curl_mime_free (mime);
  headers_free_wiped (headers);

  return response;
}

static void
report_retry (OpHttpRequest *self,
              guint          attempt,
              double         delay)
{
  g_autofree char *message = NULL;

  if (self->retry == NULL)
    return;

  message = g_strdup_printf (_("the server is busy, retrying in %u s"), (guint) (delay + 0.5));
  self->retry ((int) attempt, delay, message, self->retry_data);
}

/* ------------------------------------------------------------------------------------ */
/* Status → error */

static char *
clean_detail (OpHttpResponse *self,
              const char     *detail)
{
  char *text;

  if (detail != NULL && *detail != '\0')
    text = readable_text (detail, strlen (detail));
  else
    text = body_summary (self);

  return scrub_secrets (text, self->secrets);
}

static OpHttpError
code_for_status (guint status)
{
  switch (status)
    {
    case 401:
    case 403:
      return OP_HTTP_ERROR_AUTH;
    case 402:
      return OP_HTTP_ERROR_CREDITS;
    case 408:
    case 524:
      return OP_HTTP_ERROR_TIMEOUT;
    case 413:
      return OP_HTTP_ERROR_TOO_LARGE;
    default:
      break;
    }

  if (is_retryable (status))
    return OP_HTTP_ERROR_BUSY;
  if (status >= 500)
    return OP_HTTP_ERROR_SERVER;
  if (status >= 300 && status < 400)
    return OP_HTTP_ERROR_BAD_ANSWER;

  return OP_HTTP_ERROR_INVALID;
}

static char *
busy_message (OpHttpResponse *self,
              const char     *service)
{
  double wait = parse_retry_after (self);

  if (wait > 0)
    return g_strdup_printf (_("%s is busy (HTTP %u), try again in %u s"),
                            service, self->status, (guint) MIN (wait + 0.5, G_MAXUINT));

  return g_strdup_printf (_("%s is busy (HTTP %u), try again in a moment"),
                          service, self->status);
}

static char *
invalid_message (OpHttpResponse *self,
                 const char     *service,
                 gboolean        has_detail)
{
  if (!has_detail && (self->status == 404 || self->status == 405))
    return g_strdup_printf (_("%s has nothing at %s (HTTP %u): check the address"),
                            service, self->url, self->status);

  return g_strdup_printf (_("%s refused the request (HTTP %u)"), service, self->status);
}

static char *
headline_for (OpHttpResponse *self,
              OpHttpError     code,
              const char     *service,
              gboolean        has_detail)
{
  switch (code)
    {
    case OP_HTTP_ERROR_AUTH:
      if (self->basic_auth)
        return g_strdup_printf (_("the user name or password was rejected by %s"), service);
      return g_strdup_printf (_("the API key was rejected by %s"), service);
    case OP_HTTP_ERROR_CREDITS:
      return g_strdup_printf (_("the %s account is out of credits"), service);
    case OP_HTTP_ERROR_TOO_LARGE:
      return g_strdup_printf (_("the picture is too large for %s"), service);
    case OP_HTTP_ERROR_FILTERED:
      return g_strdup_printf (_("content was filtered by %s"), service);
    case OP_HTTP_ERROR_BUSY:
      return busy_message (self, service);
    case OP_HTTP_ERROR_TIMEOUT:
      return g_strdup_printf (_("%s gave up waiting (HTTP %u)"), service, self->status);
    case OP_HTTP_ERROR_SERVER:
      return g_strdup_printf (_("%s failed (HTTP %u)"), service, self->status);
    case OP_HTTP_ERROR_BAD_ANSWER:
      return g_strdup_printf (_("%s answered with something unexpected (HTTP %u)"),
                              service, self->status);
    case OP_HTTP_ERROR_INVALID:
    case OP_HTTP_ERROR_UNREACHABLE:
    case OP_HTTP_ERROR_TLS:
    default:
      return invalid_message (self, service, has_detail);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Public API */

OpHttpRequest *
op_http_request_new (const char *method,
                     const char *url)
{
  OpHttpRequest *self;

  g_return_val_if_fail (method != NULL && *method != '\0', NULL);
  g_return_val_if_fail (url != NULL, NULL);

  ensure_curl ();

  self = g_new0 (OpHttpRequest, 1);
  self->method = g_ascii_strup (method, -1);
  self->url = g_strdup (url);
  self->headers = g_ptr_array_new_with_free_func (g_free);
  self->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) part_free);
  self->stall_timeout = DEFAULT_STALL_SECONDS;
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
  self->max_wait_seconds = DEFAULT_MAX_WAIT_SECONDS;

  return self;
}

void
op_http_request_free (OpHttpRequest *self)
{
  if (self == NULL)
    return;

  g_free (self->method);
  g_free (self->url);
  g_ptr_array_unref (self->headers);
  g_ptr_array_unref (self->parts);
  secret_free (self->bearer);
  secret_free (self->basic_auth);
  g_clear_pointer (&self->json, g_bytes_unref);
  g_free (self);
}

void
op_http_request_add_header (OpHttpRequest *self,
                            const char    *name,
                            const char    *value)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (name != NULL && *name != '\0' && strchr (name, ':') == NULL);
  g_return_if_fail (value != NULL && strpbrk (value, "\r\n") == NULL);

  g_ptr_array_add (self->headers, g_strdup_printf ("%s: %s", name, value));
}

void
op_http_request_set_bearer (OpHttpRequest *self,
                            const char    *key)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (key == NULL || strpbrk (key, "\r\n") == NULL);

  secret_free (self->bearer);
  self->bearer = key != NULL && *key != '\0' ? g_strdup (key) : NULL;
}

void
op_http_request_set_basic_auth (OpHttpRequest *self,
                                const char    *user_colon_pass)
{
  g_return_if_fail (self != NULL);

  secret_free (self->basic_auth);
  self->basic_auth = user_colon_pass != NULL && *user_colon_pass != '\0'
                     ? g_strdup (user_colon_pass) : NULL;
}

void
op_http_request_set_json (OpHttpRequest *self,
                          JsonNode      *body)
{
  g_autoptr(JsonGenerator) generator = NULL;
  gsize length = 0;
  char *text;

  g_return_if_fail (self != NULL);
  g_return_if_fail (body != NULL);
  g_return_if_fail (self->parts->len == 0);

  generator = json_generator_new ();
  json_generator_set_root (generator, body);
  text = json_generator_to_data (generator, &length);

  g_clear_pointer (&self->json, g_bytes_unref);
  self->json = g_bytes_new_take (text, length);
}

void
op_http_request_add_field (OpHttpRequest *self,
                           const char    *name,
                           const char    *value)
{
  OpHttpPart *part;

  g_return_if_fail (self != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (value != NULL);
  g_return_if_fail (self->json == NULL);

  part = g_new0 (OpHttpPart, 1);
  part->name = g_strdup (name);
  part->value = g_strdup (value);
  g_ptr_array_add (self->parts, part);
}

void
op_http_request_add_file (OpHttpRequest *self,
                          const char    *name,
                          const char    *filename,
                          const char    *content_type,
                          GBytes        *data)
{
  OpHttpPart *part;

  g_return_if_fail (self != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (filename != NULL);
  g_return_if_fail (data != NULL);
  g_return_if_fail (self->json == NULL);

  part = g_new0 (OpHttpPart, 1);
  part->name = g_strdup (name);
  part->filename = g_strdup (filename);
  part->content_type = g_strdup (content_type != NULL ? content_type
                                                       : "application/octet-stream");
  part->data = g_bytes_ref (data);
  g_ptr_array_add (self->parts, part);
}

void
op_http_request_set_stall_timeout (OpHttpRequest *self,
                                   guint          seconds)
{
  g_return_if_fail (self != NULL);

  self->stall_timeout = seconds;
}

void
op_http_request_set_retries (OpHttpRequest   *self,
                             guint            max_attempts,
                             guint            max_total_seconds,
                             OpHttpRetryFunc  retry,
                             gpointer         user_data)
{
  g_return_if_fail (self != NULL);

  self->max_attempts = MAX (1, max_attempts);
  self->max_wait_seconds = max_total_seconds;
  self->retry = retry;
  self->retry_data = user_data;
}

/**
 * op_http_request_set_final_func:
 * @is_final: says whether a busy-looking answer is final (OpenAI and Stability answer
 *   429 both for "slow down" and for "out of credits"; only the first is worth a retry)
 */
void
op_http_request_set_final_func (OpHttpRequest   *self,
                                OpHttpFinalFunc  is_final,
                                gpointer         user_data)
{
  g_return_if_fail (self != NULL);

  self->is_final = is_final;
  self->is_final_data = user_data;
}

/**
 * op_http_request_send:
 *
 * A busy answer (429, 502, 503, 504) is tried again after the wait the server asks for,
 * or 1, 2, 4… s, while attempts and waiting time remain; after that the busy answer is
 * returned like any other, and op_http_response_check_status() turns it into BUSY.
 */
OpHttpResponse *
op_http_request_send (OpHttpRequest  *self,
                      GCancellable   *cancellable,
                      GError        **error)
{
  double waited = 0;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(OpHttpResponse) response = send_once (self, cancellable, error);
      double delay;

      if (response == NULL)
        return NULL;
      if (!is_retryable (response->status) || attempt >= self->max_attempts ||
          (self->is_final != NULL && self->is_final (response, self->is_final_data)))
        return g_steal_pointer (&response);

      delay = retry_delay (response, attempt);
      if (waited + delay > self->max_wait_seconds)
        return g_steal_pointer (&response);

      report_retry (self, attempt, delay);
      if (!wait_cancellable (delay, cancellable, error))
        return NULL;
      waited += delay;
    }
}

guint
op_http_response_get_status (OpHttpResponse *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->status;
}

const char *
op_http_response_get_header (OpHttpResponse *self,
                             const char     *name)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  key = g_ascii_strdown (name, -1);
  return g_hash_table_lookup (self->headers, key);
}

GBytes *
op_http_response_get_body (OpHttpResponse *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->body;
}

JsonNode *
op_http_response_parse_json (OpHttpResponse  *self,
                             GError         **error)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize length = 0;
  const char *data;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (self->body, &length);
  if (length == 0)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("%s sent an empty answer"), self->url);
      return NULL;
    }

  if (looks_like_html (data, length))
    {
      g_autofree char *summary = scrub_secrets (readable_text (data, length), self->secrets);

      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("%s answered with a web page instead of data: %s"), self->url,
                   summary != NULL ? summary : "");
      return NULL;
    }

  /* json-glib has no depth limit and recurses: a hostile answer could exhaust the
   * stack. */
  if (length > MAX_JSON_BYTES || !op_json_depth_ok (data, length, MAX_JSON_DEPTH))
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("the answer from %s is too large or too deeply nested"), self->url);
      return NULL;
    }

  parser = json_parser_new ();
  if (!json_one_value (data, length)
      || !json_parser_load_from_data (parser, data, length, NULL)
      || json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                   _("the answer from %s is not valid JSON"), self->url);
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}

gboolean
op_http_response_set_error (OpHttpResponse  *self,
                            OpHttpError      code,
                            const char      *service,
                            const char      *detail,
                            GError         **error)
{
  g_autofree char *text = NULL;
  g_autofree char *headline = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (service == NULL)
    service = _("the server");

  text = clean_detail (self, detail);
  headline = headline_for (self, code, service, text != NULL);

  if (text != NULL)
    g_set_error (error, OP_HTTP_ERROR, code, "%s: %s", headline, text);
  else
    g_set_error_literal (error, OP_HTTP_ERROR, code, headline);

  return FALSE;
}

gboolean
op_http_response_check_status (OpHttpResponse  *self,
                               const char      *service,
                               const char      *detail,
                               GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->status >= 200 && self->status < 300)
    return TRUE;

  return op_http_response_set_error (self, code_for_status (self->status), service, detail,
                                     error);
}

void
op_http_response_free (OpHttpResponse *self)
{
  if (self == NULL)
    return;

  g_free (self->url);
  g_clear_pointer (&self->headers, g_hash_table_unref);
  g_clear_pointer (&self->body, g_bytes_unref);
  secrets_free (self->secrets);
  g_free (self);
}

gboolean
op_http_check_image (GBytes  *bytes,
                     GError **error)
{
  gsize length = 0;
  const guint8 *data;

  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = g_bytes_get_data (bytes, &length);
  if (length == 0)
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("the server answered with an empty picture"));
      return FALSE;
    }

  if (!is_image (data, length))
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("the server answered with something that is not an image"));
      return FALSE;
    }

  return TRUE;
}

GBytes *
op_http_decode_base64 (const char  *text,
                       GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *compact = NULL;
  const char *payload;
  gsize length = 0;
  guchar *data;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  payload = skip_data_prefix (text);
  compact = payload != NULL ? base64_compact (payload) : NULL;
  if (compact == NULL)
    {
      g_set_error_literal (error, OP_HTTP_ERROR, OP_HTTP_ERROR_BAD_ANSWER,
                           _("the picture in the answer is damaged (not valid base64)"));
      return NULL;
    }

  data = *compact != '\0' ? g_base64_decode (compact, &length) : NULL;
  bytes = g_bytes_new_take (data, length);
  if (!op_http_check_image (bytes, error))
    return NULL;

  return g_steal_pointer (&bytes);
}

/* JSON from servers */

static JsonNode *
member (JsonObject *object,
        const char *name)
{
  return object != NULL ? json_object_get_member (object, name) : NULL;
}

const char *
op_json_member_string (JsonObject *object,
                       const char *name)
{
  JsonNode *node = member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

gboolean
op_json_member_number (JsonObject *object,
                       const char *name,
                       double     *value)
{
  JsonNode *node = member (object, name);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;

  *value = json_node_get_double (node);
  return TRUE;
}

JsonObject *
op_json_member_object (JsonObject *object,
                       const char *name)
{
  return op_json_node_object (member (object, name));
}

JsonArray *
op_json_member_array (JsonObject *object,
                      const char *name)
{
  JsonNode *node = member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
op_json_node_object (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* For the fuzz targets: op-http-private.h */

OpHttpResponse *
_op_http_response_new (guint               status,
                       const char         *url,
                       GHashTable         *headers,
                       GBytes             *body,
                       const char * const *secrets,
                       gboolean            basic_auth)
{
  static const char * const none[] = { NULL };
  OpHttpResponse *self;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (headers != NULL, NULL);
  g_return_val_if_fail (body != NULL, NULL);

  self = g_new0 (OpHttpResponse, 1);
  self->status = status;
  self->url = g_strdup (url);
  self->headers = headers;
  self->body = g_bytes_ref (body);
  self->secrets = g_strdupv ((GStrv) (secrets != NULL ? secrets : none));
  self->basic_auth = basic_auth;

  return self;
}

double
_op_http_retry_delay (OpHttpResponse *response,
                      guint           attempt)
{
  g_return_val_if_fail (response != NULL, 0);
  g_return_val_if_fail (attempt >= 1, 0);

  return retry_delay (response, attempt);
}
