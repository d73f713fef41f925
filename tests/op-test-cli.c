/* op-test-cli.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-test-cli"

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "op-test-cli.h"

/* Pixels this far from a side that grew may change: the overlap band the backend
 * regenerates (16), the grow (4) and the feather (8) of the seam, with room to spare. */
#define SEAM_PX 48

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

/* Opaque black, white in @hole: what a user would paint in another program. */
static OpImage *
make_mask_picture (int           width,
                   int           height,
                   const OpRect *hole)
{
  OpImage *image = op_image_new (width, height);

  for (int y = 0; y < height; y++)
    {
      guint8 *row = op_image_get_data (image) + (gsize) y * op_image_get_stride (image);

      for (int x = 0; x < width; x++)
        {
          gboolean inside = x >= hole->x && x < hole->x + hole->width &&
                            y >= hole->y && y < hole->y + hole->height;

          memset (row + 4 * x, inside ? 255 : 0, 3);
          row[4 * x + 3] = 255;
        }
    }

  return image;
}

/* Nothing of the test's own environment: no D-Bus session (so no keyring), no proxy, no
 * key but the one a test sets, and everything the program logs printed, so that what
 * it prints can be searched for the key. */
static GStrv
make_environment (const char *home)
{
  static const char * const homes[] = {
    "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
  };
  GStrv env = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (homes); i++)
    env = g_environ_setenv (env, homes[i], home, TRUE);
  env = g_environ_setenv (env, "PATH", "/usr/bin:/bin", TRUE);
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "G_MESSAGES_DEBUG", "all", TRUE);
  env = g_environ_setenv (env, "G_DEBUG", "fatal-criticals", TRUE);

  return env;
}

OpTestCli *
op_test_cli_new (const OpRect *hole)
{
  const char *program = g_getenv ("OVERPAINT_CLI");
  g_autoptr(OpTestCli) self = NULL;
  g_autoptr(OpImage) mask = NULL;
  g_autoptr(GError) error = NULL;

  if (program == NULL || !g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("OVERPAINT_CLI does not name overpaint-cli: run the tests with meson test");
      return NULL;
    }

  self = g_new0 (OpTestCli, 1);
  self->dir = g_dir_make_tmp ("op-test-cli-XXXXXX", &error);
  g_assert_no_error (error);
  self->hole = *hole;
  self->source = load_sample ("chelsea.png");
  self->env = make_environment (self->dir);

  self->picture = g_build_filename (self->dir, "picture.png", NULL);
  op_image_save_png (self->source, self->picture, &error);
  g_assert_no_error (error);

  self->mask = g_build_filename (self->dir, "mask.png", NULL);
  mask = make_mask_picture (op_image_get_width (self->source),
                            op_image_get_height (self->source), hole);
  op_image_save_png (mask, self->mask, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&self);
}

void
op_test_cli_free (OpTestCli *self)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (self->dir != NULL && (dir = g_dir_open (self->dir, 0, NULL)) != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (self->dir, name, NULL);

          g_unlink (path);
        }
      g_rmdir (self->dir);
    }

  g_free (self->dir);
  g_free (self->picture);
  g_free (self->mask);
  g_clear_pointer (&self->source, op_image_unref);
  g_strfreev (self->env);
  g_free (self);
}

void
op_test_cli_setenv (OpTestCli  *self,
                    const char *name,
                    const char *value)
{
  if (value != NULL)
    self->env = g_environ_setenv (self->env, name, value, TRUE);
  else
    self->env = g_environ_unsetenv (self->env, name);
}

char *
op_test_cli_path (OpTestCli  *self,
                  const char *name)
{
  return g_build_filename (self->dir, name, NULL);
}

/* The test's own log holds no key either. */
static char *
mask_key (char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, OP_TEST_PLANTED_KEY, -1);

  g_free (text);
  return g_strjoinv ("(the planted key)", parts);
}

static void
assert_no_key (const char *text,
               const char *where)
{
  if (text != NULL && strstr (text, OP_TEST_PLANTED_KEY) != NULL)
    {
      g_autofree char *masked = mask_key (g_strdup (text));

      g_error ("overpaint-cli printed the key on %s:\n%s", where, masked);
    }
}

/* The lines the program wrote for the user, not its debug log. */
static void
show_messages (const char *err)
{
  g_auto(GStrv) lines = g_strsplit (err, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && strstr (lines[i], "-DEBUG:") == NULL)
      g_test_message ("  %s", lines[i]);
}

OpTestCliRun *
op_test_cli_run (OpTestCli  *self,
                 const char *first_arg,
                 ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  OpTestCliRun *run = g_new0 (OpTestCliRun, 1);
  int wait_status = 0;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("OVERPAINT_CLI"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (self->dir, (char **) argv->pdata, self->env, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);

  command = mask_key (g_strjoinv (" ", (char **) argv->pdata + 1));
  g_test_message ("overpaint-cli %s: exit %d", command, run->status);
  assert_no_key (run->out, "stdout");
  assert_no_key (run->err, "stderr");
  show_messages (run->err);

  return run;
}

void
op_test_cli_run_free (OpTestCliRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

static void
assert_says (const char *text,
             const char *word)
{
  g_autofree char *haystack = g_utf8_casefold (text, -1);
  g_autofree char *needle = g_utf8_casefold (word, -1);

  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not say “%s”", text, word);
}

void
op_test_cli_assert_failed (OpTestCliRun *run,
                           const char   *first_word,
                           ...)
{
  static const char * const markup[] = { "<html", "<head", "<body", "<center", "</", NULL };
  const char *start = strstr (run->err, "the generation failed: ");
  g_autofree char *reason = NULL;
  va_list args;

  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (start);
  start += strlen ("the generation failed: ");
  reason = g_strndup (start, strcspn (start, "\n"));

  g_assert_true (g_utf8_validate (reason, -1, NULL));
  g_assert_cmpuint (strlen (reason), <, 500);
  for (guint i = 0; markup[i] != NULL; i++)
    if (strstr (reason, markup[i]) != NULL)
      g_error ("the reason is markup, not words: %s", reason);

  va_start (args, first_word);
  for (const char *word = first_word; word != NULL; word = va_arg (args, const char *))
    assert_says (reason, word);
  va_end (args);
}

static OpImage *
load_output (const char *path,
             GBytes    **bytes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length = 0;
  OpImage *image;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  g_assert_null (g_strstr_len (data, length, OP_TEST_PLANTED_KEY));
  *bytes = g_bytes_new_take (g_steal_pointer (&data), length);

  image = op_image_new_from_bytes (*bytes, &error);
  g_assert_no_error (error);

  return image;
}

static const guint8 *
pixel_at (const OpImage *image,
          int            x,
          int            y)
{
  return op_image_peek_data (image) + (gsize) y * op_image_get_stride (image) + 4 * (gsize) x;
}

void
op_test_cli_assert_inpainted (OpTestCli  *self,
                              const char *path)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpImage) out = load_output (path, &bytes);
  g_autoptr(GHashTable) texts = NULL;
  g_autoptr(GError) error = NULL;
  int width = op_image_get_width (self->source), height = op_image_get_height (self->source);
  g_autofree char *size = g_strdup_printf ("Size: %dx%d", width, height);
  const OpRect *hole = &self->hole;
  const char *parameters;
  guint changed = 0;

  g_assert_cmpint (op_image_get_width (out), ==, width);
  g_assert_cmpint (op_image_get_height (out), ==, height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        gboolean inside = x >= hole->x && x < hole->x + hole->width &&
                          y >= hole->y && y < hole->y + hole->height;
        gboolean same = memcmp (pixel_at (out, x, y), pixel_at (self->source, x, y), 4) == 0;

        if (inside)
          changed += !same;
        else if (!same)
          g_error ("%s: the pixel at %d,%d, outside the mask, changed", path, x, y);
      }
  /* the mock tints the area to regenerate */
  g_assert_cmpuint (changed, >, (guint) (hole->width * hole->height) / 2);

  texts = op_png_read_text (bytes, &error);
  g_assert_no_error (error);
  parameters = g_hash_table_lookup (texts, "parameters");
  g_assert_nonnull (parameters);
  g_assert_nonnull (strstr (parameters, "Seed: "));
  g_assert_nonnull (strstr (parameters, size));
}

void
op_test_cli_assert_differ (OpTestCli  *self,
                           const char *path_a,
                           const char *path_b)
{
  g_autoptr(GBytes) bytes_a = NULL;
  g_autoptr(GBytes) bytes_b = NULL;
  g_autoptr(OpImage) a = load_output (path_a, &bytes_a);
  g_autoptr(OpImage) b = load_output (path_b, &bytes_b);
  int x = self->hole.x + self->hole.width / 2, y = self->hole.y + self->hole.height / 2;

  g_assert_true (memcmp (pixel_at (a, x, y), pixel_at (b, x, y), 3) != 0);
}

void
op_test_cli_assert_outpainted (OpTestCli       *self,
                               const char      *path,
                               const OpMargins *m)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(OpImage) out = load_output (path, &bytes);
  int width = op_image_get_width (self->source), height = op_image_get_height (self->source);
  int x0 = m->left > 0 ? SEAM_PX : 0, x1 = m->right > 0 ? width - SEAM_PX : width;
  int y0 = m->top > 0 ? SEAM_PX : 0, y1 = m->bottom > 0 ? height - SEAM_PX : height;

  g_assert_cmpint (op_image_get_width (out), ==, width + m->left + m->right);
  g_assert_cmpint (op_image_get_height (out), ==, height + m->top + m->bottom);

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      if (memcmp (pixel_at (out, x + m->left, y + m->top), pixel_at (self->source, x, y), 4) != 0)
        g_error ("%s: the picture's pixel at %d,%d changed", path, x, y);

  /* the new area was filled, not left transparent */
  g_assert_cmpint (pixel_at (out, 0, 0)[3], ==, 255);
  g_assert_cmpint (pixel_at (out, op_image_get_width (out) - 1,
                             op_image_get_height (out) - 1)[3], ==, 255);
}

char *
op_test_cli_dead_url (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) error = NULL;

  /* a port that was free a moment ago */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  g_socket_close (socket, NULL);

  return g_strdup_printf ("http://127.0.0.1:%u",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}
