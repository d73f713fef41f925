/* test-window-remote.c — the remote backends from the window, against their mocks
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "op-backend-preferences.h"
#include "op-keyring.h"
#include "op-mock-a1111.h"
#include "op-mock-ollama.h"
#include "op-mock-openai.h"
#include "op-mock-stability.h"
#include "op-test-cli.h"
#include "op-window-private.h"

/* What a user does: choose the backend, give its address (and its key, in the
 * environment or the keyring), paint a mask, write a prompt, Generate; then extend the
 * picture.  Each service is the mock its backend's own test holds to the contract.
 * Everything the program logs is kept, and the settings live in a file: the planted key
 * must show up in neither, nor in an exported picture, nor in an error. */

#define TIMEOUT_S   60
#define PROMPT      "a cup of tea on a wooden table"
#define HOLD_MS     2000

typedef struct
{
  const char *id;
  const char *key_env;    /* where the key comes from, if not the keyring; NULL: none */
  gboolean    preview;    /* the service shows its picture in the making */
} Backend;

static const Backend backends[] = {
  { "automatic1111", NULL, TRUE },
  { "stability", "STABILITY_API_KEY", FALSE },
  { "openai", "OPENAI_API_KEY", FALSE },
};

/* Every line logged, whatever its level, from any thread. */
static GMutex log_lock;
static GPtrArray *log_lines;

/* XDG_CONFIG_HOME and the other per-user folders: the settings are a file in there. */
static char *user_dir;

/* Logging */

static void
keep_line (char *line)
{
  g_mutex_lock (&log_lock);
  g_ptr_array_add (log_lines, line);
  g_mutex_unlock (&log_lock);
}

/* What logs through g_log_structured () and friends. */
static GLogWriterOutput
capture_log_cb (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  keep_line (g_log_writer_format_fields (level, fields, n_fields, FALSE));

  /* debug messages are turned on for the capture, not for the test's output */
  if (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return G_LOG_WRITER_HANDLED;

  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* The window says why a generation failed with a warning, as it should. */
static gboolean
is_generation_failed (const char *log_domain,
                      const char *message)
{
  return g_strcmp0 (log_domain, "op-window") == 0 &&
         g_str_has_prefix (message, "Generation failed: ");
}

static GLogFunc test_log_func;

/* What logs through g_log () (g_debug (), g_warning ()…): the test framework's handler
 * takes it otherwise. */
static void
capture_old_log_cb (const char     *log_domain,
                    GLogLevelFlags  log_level,
                    const char     *message,
                    gpointer        user_data)
{
  keep_line (g_strdup_printf ("%s: %s", log_domain != NULL ? log_domain : "", message));

  if (log_level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
    return;
  /* expected, and the test says what it was once it knows it holds no key */
  if (is_generation_failed (log_domain, message))
    return;

  test_log_func (log_domain, log_level, message, NULL);
}

static gboolean
generation_failed_is_not_fatal_cb (const char     *log_domain,
                                   GLogLevelFlags  log_level,
                                   const char     *message,
                                   gpointer        user_data)
{
  return !is_generation_failed (log_domain, message);
}

static guint
count_logged (const char *text)
{
  guint n = 0;

  g_mutex_lock (&log_lock);
  for (guint i = 0; i < log_lines->len; i++)
    if (strstr (g_ptr_array_index (log_lines, i), text) != NULL)
      n++;
  g_mutex_unlock (&log_lock);

  return n;
}

/* The services */

typedef struct
{
  const Backend   *backend;
  OpMockA1111     *a1111;
  OpMockStability *stability;
  OpMockOpenai    *openai;
} Service;

/* The cloud services take the planted key and no other. */
static void
service_start (Service       *service,
               const Backend *backend)
{
  service->backend = backend;

  if (g_str_equal (backend->id, "automatic1111"))
    {
      /* long enough for progress to be asked for, and a preview sent, while it runs */
      OpMockA1111Config config = { .hold_ms = HOLD_MS };

      service->a1111 = op_mock_a1111_new ();
      op_mock_a1111_configure (service->a1111, &config);
    }
  else if (g_str_equal (backend->id, "stability"))
    {
      service->stability = op_mock_stability_new ();
      op_mock_stability_set_api_key (service->stability, OP_TEST_PLANTED_KEY);
    }
  else
    {
      service->openai = op_mock_openai_new ();
      op_mock_openai_set_api_key (service->openai, OP_TEST_PLANTED_KEY);
    }
}

static void
service_stop (Service *service)
{
  g_clear_pointer (&service->a1111, op_mock_a1111_free);
  g_clear_pointer (&service->stability, op_mock_stability_free);
  g_clear_pointer (&service->openai, op_mock_openai_free);
}

static const char *
service_get_url (Service *service)
{
  if (service->a1111 != NULL)
    return op_mock_a1111_get_url (service->a1111);
  if (service->stability != NULL)
    return op_mock_stability_get_url (service->stability);

  return op_mock_openai_get_url (service->openai);
}

static guint
service_get_n_calls (Service *service)
{
  if (service->a1111 != NULL)
    return op_mock_a1111_get_count (service->a1111, &service->a1111->n_img2img);
  if (service->stability != NULL)
    return op_mock_stability_get_n_calls (service->stability);

  return op_mock_openai_get_n_requests (service->openai);
}

/* Calls for one generation of @n variants: the web UI and OpenAI make them in one. */
static guint
service_calls_for (Service *service,
                   guint    n)
{
  return service->stability != NULL ? n : 1;
}

static void
service_assert_no_refusals (Service *service)
{
  if (service->stability != NULL)
    op_mock_stability_assert_no_refusals (service->stability);
  if (service->openai != NULL)
    op_mock_openai_assert_no_violation (service->openai);
}

/* From now on the service turns the planted key down: a 401. */
static void
service_reject_key (Service *service)
{
  if (service->stability != NULL)
    op_mock_stability_set_api_key (service->stability, OP_MOCK_STABILITY_KEY);
  else if (service->openai != NULL)
    op_mock_openai_set_failure (service->openai, OP_MOCK_OPENAI_FAIL_AUTH);
  else
    g_assert_not_reached ();
}

/* The keyring */

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

static void
keyring_store (const char *id,
               const char *secret)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  op_keyring_store_async (id, secret, NULL, on_ready_cb, &result);
  g_assert_true (op_keyring_store_finish (wait_for_result (&result), &error));
  g_assert_no_error (error);
}

static void
keyring_clear (const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  op_keyring_clear_async (id, NULL, on_ready_cb, &result);
  op_keyring_clear_finish (wait_for_result (&result), &error);
  g_assert_no_error (error);
}

/* The fixture: a service, a window showing coffee.png, and what the worker told it */

typedef struct
{
  Service             service;
  gboolean            keyring;         /* the key is in the keyring, not the environment */
  GSettings          *settings;
  GSettings          *backend_settings;
  OpWindow           *window;
  OpDocument         *document;
  OpCanvas           *canvas;
  OpParameterSidebar *sidebar;

  /* Progress */
  GtkProgressBar     *progress_bar;
  guint               n_progress;
  guint               n_shown;         /* reports the sidebar showed, its progress revealed */
  double              max_fraction;
  guint               n_previews;
  guint               preview_change;  /* the most the live preview changed the canvas */

  /* Jobs */
  guint               n_finished;
  OpJobState          last_state;
  char               *last_error;
  OpVersion *before;            /* current before a generation */
} Fixture;

static void
wait_until (gboolean (*ready) (Fixture *),
            Fixture   *f)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!ready (f))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
has_image_and_size (Fixture *f)
{
  return op_document_get_image (f->document) != NULL &&
         gtk_widget_get_width (GTK_WIDGET (f->canvas)) > 0;
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* The canvas as drawn, at a point of the picture. */
static guint32
render_pixel (Fixture *f,
              double   image_x,
              double   image_y)
{
  int width = gtk_widget_get_width (GTK_WIDGET (f->canvas));
  int height = gtk_widget_get_height (GTK_WIDGET (f->canvas));
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;
  double wx, wy;
  guint32 pixel;

  GTK_WIDGET_GET_CLASS (f->canvas)->snapshot (GTK_WIDGET (f->canvas), snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  if (node != NULL)
    gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  op_canvas_image_to_widget (f->canvas, image_x, image_y, &wx, &wy);
  pixel = *(guint32 *) (cairo_image_surface_get_data (surface) +
                        (int) wy * cairo_image_surface_get_stride (surface) + (int) wx * 4);
  cairo_surface_destroy (surface);

  return pixel;
}

static guint
pixel_distance (guint32 a,
                guint32 b)
{
  guint distance = 0;

  for (int shift = 0; shift < 24; shift += 8)
    distance = MAX (distance, (guint) ABS ((int) ((a >> shift) & 0xff) -
                                           (int) ((b >> shift) & 0xff)));

  return distance;
}

/* The hole painted on coffee.png (600 × 400): the saucer, unlike any red of the mocks. */
static const OpRect hole = { 470, 70, 60, 60 };

/* After the window's own handler: what the sidebar and the canvas show now. */
static void
on_job_progress_cb (OpWorker *worker,
                    OpJob    *job,
                    Fixture  *f)
{
  GtkWidget *revealer = gtk_widget_get_ancestor (GTK_WIDGET (f->progress_bar),
                                                 GTK_TYPE_REVEALER);
  OpImage *preview = op_job_get_preview (job);
  double x = hole.x + hole.width / 2, y = hole.y + hole.height / 2;

  f->n_progress++;
  if (gtk_revealer_get_reveal_child (GTK_REVEALER (revealer)))
    f->n_shown++;
  f->max_fraction = MAX (f->max_fraction, gtk_progress_bar_get_fraction (f->progress_bar));

  /* the canvas with the picture in the making, and without */
  if (preview != NULL)
    {
      guint32 with = render_pixel (f, x, y), without;

      op_canvas_set_live_preview (f->canvas, NULL);
      without = render_pixel (f, x, y);
      op_canvas_set_live_preview (f->canvas, preview);

      f->n_previews++;
      f->preview_change = MAX (f->preview_change, pixel_distance (with, without));
    }
}

static void
on_job_finished_cb (OpWorker *worker,
                    OpJob    *job,
                    Fixture  *f)
{
  const GError *error = op_job_get_error (job);

  f->n_finished++;
  f->last_state = op_job_get_state (job);
  g_clear_pointer (&f->last_error, g_free);
  if (error != NULL)
    f->last_error = g_strdup (error->message);
}

static gboolean
have_dbus (void)
{
  return g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const Backend *backend = data;
  g_autofree char *path = g_build_filename (g_getenv ("OVERPAINT_SAMPLES"), "coffee.png", NULL);
  g_autofree char *settings_path = g_strconcat (OP_BACKEND_SETTINGS_PATH, backend->id, "/",
                                                NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  /* the test framework forgets it between tests */
  g_test_log_set_fatal_handler (generation_failed_is_not_fatal_cb, NULL);

  /* (the environment first, while no thread of ours runs that could read it) */
  if (f->keyring)
    g_unsetenv (backend->key_env);
  else if (backend->key_env != NULL)
    g_setenv (backend->key_env, OP_TEST_PLANTED_KEY, TRUE);
  if (f->keyring)
    keyring_store (backend->id, OP_TEST_PLANTED_KEY);
  service_start (&f->service, backend);

  /* the address and the backend as Preferences and the sidebar would store them */
  f->settings = g_settings_new (APP_ID);
  f->backend_settings = g_settings_new_with_path (OP_BACKEND_SETTINGS_SCHEMA, settings_path);
  g_settings_set_string (f->backend_settings, "url", service_get_url (&f->service));
  g_settings_set_int (f->backend_settings, "variants", 2);
  /* the mocks tell variants apart by their tints: keep them */
  g_settings_set_boolean (f->backend_settings, "color-match", FALSE);
  g_settings_set_string (f->settings, "backend", backend->id);

  f->window = op_window_new (NULL, f->settings);
  f->document = op_window_get_document (f->window);
  f->canvas = op_window_get_canvas (f->window);
  f->sidebar = f->window->sidebar;
  f->progress_bar = GTK_PROGRESS_BAR (find_descendant (GTK_WIDGET (f->sidebar),
                                                       GTK_TYPE_PROGRESS_BAR));
  g_assert_nonnull (f->progress_bar);
  g_signal_connect (f->window->worker, "job-progress", G_CALLBACK (on_job_progress_cb), f);
  g_signal_connect (f->window->worker, "job-finished", G_CALLBACK (on_job_finished_cb), f);

  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 700);
  gtk_window_present (GTK_WINDOW (f->window));
  op_window_open_file (f->window, file);
  wait_until (has_image_and_size, f);

  g_assert_cmpstr (op_backend_get_id (op_parameter_sidebar_get_backend (f->sidebar)), ==,
                   backend->id);
}

static void
fixture_set_up_keyring (Fixture       *f,
                        gconstpointer  data)
{
  if (!have_dbus ())
    return;

  f->keyring = TRUE;
  fixture_set_up (f, data);
}

/* Nothing logged so far holds the key: checked after every test. */
static void
assert_key_never_logged (void)
{
  g_autofree char *found = NULL;

  g_mutex_lock (&log_lock);
  for (guint i = 0; i < log_lines->len && found == NULL; i++)
    if (strstr (g_ptr_array_index (log_lines, i), OP_TEST_PLANTED_KEY) != NULL)
      found = g_strdup (g_ptr_array_index (log_lines, i));
  g_mutex_unlock (&log_lock);

  /* (not under the lock: g_error () logs too) */
  if (found != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (found, OP_TEST_PLANTED_KEY, -1);
      g_autofree char *masked = g_strjoinv ("(the planted key)", parts);

      g_error ("the key was logged: %s", masked);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  const Backend *backend = data;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  if (f->window == NULL)
    return;

  g_object_add_weak_pointer (G_OBJECT (f->window), (gpointer *) &f->window);
  g_object_add_weak_pointer (G_OBJECT (f->document), (gpointer *) &f->document);
  gtk_window_destroy (GTK_WINDOW (f->window));
  while ((f->window != NULL || f->document != NULL) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (f->window);
  g_assert_null (f->document);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  service_stop (&f->service);
  if (f->keyring)
    keyring_clear (backend->id);
  if (backend->key_env != NULL)
    g_unsetenv (backend->key_env);
  g_free (f->last_error);

  g_assert_finalize_object (f->backend_settings);
  g_assert_finalize_object (f->settings);
  assert_key_never_logged ();
}

/* Generating */

static void
stroke_image (Fixture *f,
              double   x0,
              double   y0,
              double   x1,
              double   y1)
{
  double wx, wy;

  op_canvas_image_to_widget (f->canvas, x0, y0, &wx, &wy);
  op_canvas_tool_begin (f->canvas, wx, wy, 1.0);
  op_canvas_image_to_widget (f->canvas, x1, y1, &wx, &wy);
  op_canvas_tool_motion (f->canvas, wx, wy, 1.0);
  op_canvas_tool_end (f->canvas);
}

static gboolean
job_finished (Fixture *f)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (f->window), "test-waiting")) <
         f->n_finished;
}

/* Generate, as the button does, and wait for the job to end. */
static gboolean
variants_shown (Fixture *f)
{
  return op_document_get_current (f->document) != f->before;
}

static void
generate (Fixture    *f,
          OpJobState  expected)
{
  OpVersion *before = op_document_get_current (f->document);

  g_object_set_data (G_OBJECT (f->window), "test-waiting", GUINT_TO_POINTER (f->n_finished));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.generate", NULL));
  wait_until (job_finished, f);

  if (f->last_state != expected)
    g_error ("the job ended %d, not %d: %s", f->last_state, expected,
             f->last_error != NULL ? f->last_error : "no error");

  /* the variants are shown once the recovery copy holds them */
  if (expected == OP_JOB_DONE)
    {
      f->before = before;
      wait_until (variants_shown, f);
    }
}

/* Where the blend is 0 the document's picture is @source's, bit for bit. */
static void
assert_kept_outside_blend (Fixture *f,
                           OpImage *source)
{
  OpVersion *current = op_document_get_current (f->document);
  OpImage *image = op_document_get_image (f->document);
  const guint8 *blend = op_mask_peek_data (op_version_get_blend (current));
  int width = op_image_get_width (source), height = op_image_get_height (source);
  guint kept = 0;
  OpRect rect;

  op_version_get_rect (current, &rect);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gboolean in_rect = x >= rect.x && y >= rect.y && x < rect.x + rect.width &&
                           y < rect.y + rect.height;
        gsize offset = (gsize) y * op_image_get_stride (source) + 4 * (gsize) x;

        if (in_rect && blend[(gsize) (y - rect.y) * rect.width + (x - rect.x)] != 0)
          continue;
        g_assert_cmpmem (op_image_peek_data (image) + offset, 4,
                         op_image_peek_data (source) + offset, 4);
        kept++;
      }
  g_assert_cmpuint (kept, >, (guint) (width * height) / 2);
}

/* The painted area regenerated, and each variant in its own way. */
static void
assert_variants (Fixture   *f,
                 OpImage   *source,
                 OpVersion *parent,
                 guint      n)
{
  int x = hole.x + hole.width / 2, y = hole.y + hole.height / 2;
  gsize offset = (gsize) y * op_image_get_stride (source) + 4 * (gsize) x;
  const guint8 *first = NULL;

  g_assert_cmpuint (op_version_get_n_children (parent), ==, n);
  for (guint i = 0; i < n; i++)
    {
      OpImage *image = op_version_get_composite (op_version_get_child (parent, i));
      const guint8 *p = op_image_peek_data (image) + offset;

      g_assert_cmpint (op_image_get_width (image), ==, op_image_get_width (source));
      g_assert_true (memcmp (p, op_image_peek_data (source) + offset, 3) != 0);
      if (first != NULL)
        g_assert_true (memcmp (p, first, 3) != 0);
      first = p;
    }
}

static void
inpaint (Fixture *f)
{
  op_parameter_sidebar_set_prompt (f->sidebar, PROMPT);
  g_settings_set_string (f->settings, "tool", "rectangle");
  stroke_image (f, hole.x, hole.y, hole.x + hole.width, hole.y + hole.height);
  /* the mask's overlay would hide what the live preview does to the canvas */
  g_settings_set_boolean (f->settings, "mask-visible", FALSE);

  generate (f, OP_JOB_DONE);
}

static void
test_inpaint_outpaint (Fixture       *f,
                       gconstpointer  data)
{
  const Backend *backend = data;
  g_autoptr(OpImage) source = op_image_copy (op_document_get_image (f->document));
  OpVersion *current;
  OpImage *image;
  guint n_calls;

  inpaint (f);

  /* two variants under the picture, the first shown */
  current = op_document_get_current (f->document);
  g_assert_false (op_version_is_root (current));
  g_assert_true (op_version_is_root (op_version_get_parent (current)));
  assert_variants (f, source, op_version_get_parent (current), 2);
  assert_kept_outside_blend (f, source);
  service_assert_no_refusals (&f->service);
  n_calls = service_get_n_calls (&f->service);
  g_assert_cmpuint (n_calls, ==, service_calls_for (&f->service, 2));

  /* progress reached the sidebar; the web UI's picture in the making reached the canvas */
  g_test_message ("%u progress reports, %u shown, up to %.2f; %u previews changed the "
                  "canvas by up to %u", f->n_progress, f->n_shown, f->max_fraction,
                  f->n_previews, f->preview_change);
  g_assert_cmpuint (f->n_progress, >, 0);
  g_assert_cmpuint (f->n_shown, ==, f->n_progress);
  if (backend->preview)
    {
      g_assert_cmpfloat (f->max_fraction, >, 0.0);
      g_assert_cmpuint (f->n_previews, >, 0);
      g_assert_cmpuint (f->preview_change, >, 8);
    }

  /* the variant extended by a quarter all around: 600 × 400 becomes 900 × 600 */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.clear-mask", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.margins-preset",
                                             "s", "+25"));
  generate (f, OP_JOB_DONE);

  current = op_document_get_current (f->document);
  image = op_document_get_image (f->document);
  g_assert_cmpuint (op_version_get_n_children (op_version_get_parent (current)), ==, 2);
  g_assert_cmpint (op_image_get_width (image), ==, 900);
  g_assert_cmpint (op_image_get_height (image), ==, 600);
  g_assert_cmpint (op_image_peek_data (image)[3], ==, 255);
  service_assert_no_refusals (&f->service);
  g_assert_cmpuint (service_get_n_calls (&f->service), ==,
                    n_calls + service_calls_for (&f->service, 2));
  if (f->service.stability != NULL)
    g_assert_true (op_mock_stability_saw_path (f->service.stability,
                                               "/v2beta/stable-image/edit/outpaint"));
}

/* No key outside the keyring */

static gboolean
exports_written (Fixture *f)
{
  const char * const *paths = g_object_get_data (G_OBJECT (f->window), "test-exports");

  for (guint i = 0; paths[i] != NULL; i++)
    if (!g_file_test (paths[i], G_FILE_TEST_EXISTS))
      return FALSE;

  return TRUE;
}

static void
assert_file_has_no_key (const char *path)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  if (g_strstr_len (data, length, OP_TEST_PLANTED_KEY) != NULL)
    g_error ("%s holds the key", path);
}

/* Every file under @dir, however deep. */
static guint
assert_folder_has_no_key (const char *dir)
{
  g_autoptr(GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (folder == NULL)
    return 0;

  while ((name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        n += assert_folder_has_no_key (path);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          assert_file_has_no_key (path);
          n++;
        }
    }

  return n;
}

static void
remove_folder (const char *dir)
{
  g_autoptr(GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        remove_folder (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_no_key_leaks (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *keyfile = NULL;
  g_autoptr(GFile) export = NULL;
  g_autoptr(GFile) folder = NULL;
  g_auto(GStrv) paths = g_new0 (char *, 4);
  guint n_warnings;

  if (f->window == NULL)
    {
      g_test_skip ("no D-Bus session, so no keyring: run the suite through build-aux/test.sh");
      return;
    }

  /* the key comes from the keyring alone: the service takes no other */
  inpaint (f);

  /* the picture, and every variant, exported */
  dir = g_dir_make_tmp ("op-window-remote-XXXXXX", &error);
  g_assert_no_error (error);
  paths[0] = g_build_filename (dir, "export.png", NULL);
  paths[1] = g_build_filename (dir, "coffee-variant-1.png", NULL);
  paths[2] = g_build_filename (dir, "coffee-variant-2.png", NULL);
  export = g_file_new_for_path (paths[0]);
  folder = g_file_new_for_path (dir);
  g_object_set_data (G_OBJECT (f->window), "test-exports", paths);
  op_window_export_file (f->window, export);
  op_window_export_variants (f->window, folder);
  wait_until (exports_written, f);
  g_assert_cmpuint (assert_folder_has_no_key (dir), ==, 3);

  /* a failure: the service turns the key down, and says some of it back (OpenAI does) */
  service_reject_key (&f->service);
  stroke_image (f, hole.x, hole.y, hole.x + hole.width, hole.y + hole.height);
  n_warnings = count_logged ("Generation failed: ");
  generate (f, OP_JOB_FAILED);
  g_assert_null (strstr (f->last_error, OP_TEST_PLANTED_KEY));
  g_test_message ("%s", f->last_error);
  g_assert_nonnull (strstr (f->last_error, "API key"));
  g_assert_cmpuint (count_logged ("Generation failed: "), ==, n_warnings + 1);

  /* the settings are a file, and nothing the program keeps on disk holds the key */
  g_settings_sync ();
  keyfile = g_build_filename (user_dir, "config", "glib-2.0", "settings", "keyfile", NULL);
  g_assert_true (g_file_test (keyfile, G_FILE_TEST_IS_REGULAR));
  assert_file_has_no_key (keyfile);
  g_assert_cmpuint (assert_folder_has_no_key (user_dir), >, 0);

  /* and nothing logged, at any level (the fixture checks again at the end) */
  g_assert_cmpuint (count_logged ("op-http"), >, 0);
  assert_key_never_logged ();

  remove_folder (dir);
}

/* Preferences → Backends → Test: the models and, for Stability, the credits left. */
static void
test_connection (void)
{
  g_autofree char *path = g_strdup (OP_BACKEND_SETTINGS_PATH "stability/");
  g_autoptr(GSettings) settings = g_settings_new_with_path (OP_BACKEND_SETTINGS_SCHEMA, path);
  Service service = { NULL, };
  GtkWidget *window, *group;
  GtkButton *button;
  AdwActionRow *row;
  gint64 deadline;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("no D-Bus session: run the suite through build-aux/test.sh");
      return;
    }

  service_start (&service, &backends[1]);
  g_assert_cmpstr (backends[1].id, ==, "stability");
  g_settings_set_string (settings, "url", service_get_url (&service));
  keyring_store ("stability", OP_TEST_PLANTED_KEY);

  group = op_backend_preferences_new ("stability");
  window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (window), group);
  gtk_window_present (GTK_WINDOW (window));
  button = GTK_BUTTON (gtk_widget_get_template_child (group, OP_TYPE_BACKEND_PREFERENCES,
                                                      "test_button"));
  row = ADW_ACTION_ROW (gtk_widget_get_template_child (group, OP_TYPE_BACKEND_PREFERENCES,
                                                       "test_row"));
  g_signal_emit_by_name (button, "clicked");

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (strstr (adw_action_row_get_subtitle (row), "credits") == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_test_message ("connection: %s", adw_action_row_get_subtitle (row));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "2 models"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "42.5"));
  g_assert_null (strstr (adw_action_row_get_subtitle (row), OP_TEST_PLANTED_KEY));

  gtk_window_destroy (GTK_WINDOW (window));
  keyring_clear ("stability");
  g_settings_reset (settings, "url");
  service_stop (&service);
}

static gboolean
has_offline_suggestions (Fixture *f)
{
  g_auto(GStrv) offline = op_prompt_suggestions_dup_offline (f->window->suggestions);

  return offline != NULL && offline[0] != NULL;
}

static gboolean
has_caption (Fixture *f)
{
  g_auto(GStrv) phrases = op_prompt_suggestions_dup_caption_phrases (f->window->suggestions);

  return !op_prompt_suggestions_is_describing (f->window->suggestions) &&
         (phrases != NULL || *op_prompt_suggestions_get_status (f->window->suggestions) != '\0');
}

/* The screen as it looks, for the note's screenshots: only when asked for (and with
 * imagemagick's import). */
static void
save_screenshot (Fixture    *f,
                 const char *name)
{
  const char *dir = g_getenv ("OVERPAINT_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autofree char *command = NULL;
  gint64 until = g_get_monotonic_time () + G_USEC_PER_SEC;

  if (dir == NULL)
    return;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  path = g_build_filename (dir, name, NULL);
  command = g_strdup_printf ("import -window root %s", path);
  g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
}

/* The suggestion panel: offline phrases at once, then "Describe" around the mask
 * through the web UI's interrogator, the caption as chips, a chip into the prompt. */
static void
test_describe (Fixture       *f,
               gconstpointer  data)
{
  OpRect rect = { 200, 120, 160, 140 };
  GtkWidget *chip;
  g_auto(GStrv) phrases = NULL;

  op_document_fill_rect (f->document, &rect, OP_MASK_MODE_ADD);
  wait_until (has_offline_suggestions, f);

  g_signal_emit_by_name (f->window->suggestions, "describe-requested");
  wait_until (has_caption, f);
  g_assert_cmpstr (op_prompt_suggestions_get_status (f->window->suggestions), ==, "");

  phrases = op_prompt_suggestions_dup_caption_phrases (f->window->suggestions);
  g_assert_cmpstr (phrases[0], ==, "a cup of coffee on a wooden table");
  /* the area around the mask was described, at most 1024 pixels */
  g_assert_cmpint (op_image_get_width (f->service.a1111->interrogate_image), <, 600);

  /* a chip goes into the prompt */
  op_parameter_sidebar_set_prompt (f->sidebar, "still life, (espresso:1.3), [steam]");
  chip = find_descendant (GTK_WIDGET (f->window->suggestions), GTK_TYPE_FLOW_BOX);
  chip = find_descendant (chip, GTK_TYPE_BUTTON);
  g_assert_nonnull (chip);
  g_signal_emit_by_name (chip, "clicked");
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==,
                   "still life, (espresso:1.3), [steam], a cup of coffee on a wooden table");
  g_assert_cmpstr (op_parameter_sidebar_get_prompt_length (f->sidebar), ==,
                   "15 / 75 tokens (approximate)");

  save_screenshot (f, "describe-automatic1111.png");
}

static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (out, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, type, out);
}

/* Describing with a local Ollama instead: chosen in the panel, its address from the
 * settings, llava's caption as chips. */
static void
test_describe_ollama (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(OpMockOllama) ollama = op_mock_ollama_new ();
  g_autoptr(GSettings) settings = g_settings_new_with_path (OP_BACKEND_SETTINGS_SCHEMA,
                                                             OP_BACKEND_SETTINGS_PATH "ollama/");
  g_autoptr(GPtrArray) dropdowns = g_ptr_array_new ();
  g_auto(GStrv) phrases = NULL;
  OpRect rect = { 200, 120, 160, 140 };

  g_settings_set_string (settings, "url", op_mock_ollama_get_url (ollama));
  collect (GTK_WIDGET (f->window->suggestions), GTK_TYPE_DROP_DOWN, dropdowns);
  g_assert_cmpuint (dropdowns->len, ==, 2);
  gtk_drop_down_set_selected (dropdowns->pdata[1], 2);
  g_assert_cmpstr (op_backend_get_id (op_prompt_suggestions_get_describer (f->window->suggestions)), ==,
                   "ollama");

  op_document_fill_rect (f->document, &rect, OP_MASK_MODE_ADD);
  g_signal_emit_by_name (f->window->suggestions, "describe-requested");
  wait_until (has_caption, f);
  g_assert_cmpstr (op_prompt_suggestions_get_status (f->window->suggestions), ==, "");
  phrases = op_prompt_suggestions_dup_caption_phrases (f->window->suggestions);
  g_assert_cmpstr (phrases[0], ==, "A cup of coffee on a saucer");
  g_assert_cmpuint (ollama->n_generate, ==, 1);
  g_assert_cmpstr (ollama->model, ==, "llava");
  /* the web UI was not asked */
  g_assert_cmpuint (op_mock_a1111_get_count (f->service.a1111, &f->service.a1111->n_interrogate), ==, 0);

  save_screenshot (f, "describe-ollama.png");
}

/* "Your prompts": the history, most used first, searchable, a click to reuse one, and
 * Clear History that empties the file too. */
static void
test_prompt_history (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autoptr(GPtrArray) buttons = g_ptr_array_new ();
  g_autoptr(OpPromptHistory) reread = NULL;
  GtkWidget *section = NULL, *chip = NULL, *search = NULL;

  op_prompt_history_add (f->window->history, "a misty forest at dawn", 1 * G_USEC_PER_SEC);
  op_prompt_history_add (f->window->history, "a red barn", 2 * G_USEC_PER_SEC);
  op_prompt_history_add (f->window->history, "a red barn", 3 * G_USEC_PER_SEC);

  /* (the dropdowns' popovers have search entries of their own) */
  collect (GTK_WIDGET (f->window->suggestions), GTK_TYPE_SEARCH_ENTRY, entries);
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *placeholder = NULL;

      g_object_get (entries->pdata[i], "placeholder-text", &placeholder, NULL);
      if (g_strcmp0 (placeholder, "Search your prompts") == 0)
        search = entries->pdata[i];
    }
  g_assert_nonnull (search);
  section = gtk_widget_get_parent (search);
  g_assert_true (gtk_widget_get_visible (section));

  gtk_editable_set_text (GTK_EDITABLE (search), "forest");
  g_signal_emit_by_name (search, "search-changed");
  collect (section, GTK_TYPE_BUTTON, buttons);
  /* Clear History, and the one prompt found */
  g_assert_cmpuint (buttons->len, ==, 2);
  for (guint i = 0; i < buttons->len; i++)
    if (g_object_get_data (buttons->pdata[i], "prompt") != NULL)
      chip = buttons->pdata[i];
  g_assert_nonnull (chip);
  g_signal_emit_by_name (chip, "clicked");
  g_assert_cmpstr (op_parameter_sidebar_get_prompt (f->sidebar), ==, "a misty forest at dawn");
  save_screenshot (f, "prompt-history.png");

  for (guint i = 0; i < buttons->len; i++)
    if (buttons->pdata[i] != chip)
      g_signal_emit_by_name (buttons->pdata[i], "clicked");
  g_assert_cmpuint (op_prompt_history_get_n_prompts (f->window->history), ==, 0);
  g_assert_false (gtk_widget_get_visible (section));
  reread = op_prompt_history_new (op_prompt_history_get_path (f->window->history));
  g_assert_true (op_prompt_history_load (reread, NULL));
  g_assert_cmpuint (op_prompt_history_get_n_prompts (reread), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  static const char * const folders[][2] = {
    { "XDG_CONFIG_HOME", "config" }, { "XDG_DATA_HOME", "data" },
    { "XDG_CACHE_HOME", "cache" }, { "XDG_STATE_HOME", "state" },
  };
  g_autoptr(GError) error = NULL;
  int status;

  /* before anything logs, reads a setting or asks where the user's folders are */
  log_lines = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_log_cb, NULL, NULL);
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  user_dir = g_dir_make_tmp ("op-window-remote-home-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      g_autofree char *path = g_build_filename (user_dir, folders[i][1], NULL);

      g_setenv (folders[i][0], path, TRUE);
    }
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  test_log_func = g_log_set_default_handler (capture_old_log_cb, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
    {
      g_autofree char *path = g_strdup_printf ("/window-remote/%s/inpaint-outpaint",
                                               backends[i].id);

      g_test_add (path, Fixture, &backends[i], fixture_set_up, test_inpaint_outpaint,
                  fixture_tear_down);
    }
  /* the cloud services, whose keys are secrets */
  for (guint i = 1; i < G_N_ELEMENTS (backends); i++)
    {
      g_autofree char *path = g_strdup_printf ("/window-remote/%s/no-key-leaks",
                                               backends[i].id);

      g_test_add (path, Fixture, &backends[i], fixture_set_up_keyring, test_no_key_leaks,
                  fixture_tear_down);
    }

  g_test_add ("/window-remote/automatic1111/describe", Fixture, &backends[0], fixture_set_up,
              test_describe, fixture_tear_down);
  g_test_add ("/window-remote/ollama/describe", Fixture, &backends[0], fixture_set_up,
              test_describe_ollama, fixture_tear_down);
  g_test_add ("/window-remote/automatic1111/prompt-history", Fixture, &backends[0], fixture_set_up,
              test_prompt_history, fixture_tear_down);
  g_test_add_func ("/window-remote/stability/test-connection", test_connection);

  status = g_test_run ();

  remove_folder (user_dir);
  g_free (user_dir);
  g_ptr_array_unref (log_lines);

  return status;
}
