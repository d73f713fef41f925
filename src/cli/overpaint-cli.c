/* overpaint-cli.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "overpaint-cli"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "op-fill.h"
#include "op-image.h"
#include "op-mask.h"

/* overpaint-cli: the generation pipeline without the editor.
 *
 *   overpaint-cli inpaint  --image IN --mask MASK --output OUT [--seed N] [--variants N]
 *   overpaint-cli outpaint --image IN --left N --right N --top N --bottom N --output OUT
 *
 * Exit status: 0 done, 1 the generation failed, 2 bad usage or unreadable input. */

#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define MAX_VARIANTS 8

typedef enum
{
  COMMAND_INPAINT,
  COMMAND_OUTPAINT,
} Command;

typedef struct
{
  Command   command;
  char     *image;
  char     *mask;
  char     *output;
  char     *backend;
  guint64   seed;
  gboolean  seed_set;
  int       variants;
  int       threads;
  int       left, right, top, bottom;
  gboolean  quiet;
} Options;

typedef struct
{
  int      variant;
  int      n_variants;
  gboolean active;
} Progress;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->image, g_free);
  g_clear_pointer (&options->mask, g_free);
  g_clear_pointer (&options->output, g_free);
  g_clear_pointer (&options->backend, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static gboolean
parse_seed_cb (const char  *option_name,
               const char  *value,
               gpointer     data,
               GError     **error)
{
  Options *options = data;
  guint64 seed;

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &seed, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The seed must be a whole number from 0 (got “%s”)."), value);
      return FALSE;
    }
  options->seed = seed;
  options->seed_set = TRUE;
  return TRUE;
}

static void
usage (FILE *stream)
{
  fprintf (stream, "%s\n  %s\n  %s\n\n%s\n",
           _("Usage:"),
           _("overpaint-cli inpaint --image IN --mask MASK --output OUT "
             "[--seed N] [--variants N]"),
           _("overpaint-cli outpaint --image IN --left N --right N --top N --bottom N "
             "--output OUT"),
           _("Run “overpaint-cli COMMAND --help” for the options of a command."));
}

static GOptionContext *
make_context (Options *options)
{
  GOptionEntry common[] = {
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &options->image,
      N_("The picture to edit"), N_("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &options->output,
      N_("Where to write the result; {n} is replaced by the variant number"), N_("FILE") },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &options->backend,
      N_("The generation backend (only “local” for now)"), N_("NAME") },
    { "seed", 's', 0, G_OPTION_ARG_CALLBACK, parse_seed_cb,
      N_("The random seed (random when not given)"), N_("N") },
    { "variants", 'n', 0, G_OPTION_ARG_INT, &options->variants,
      N_("How many variants to make, 1 to 8; variant k uses seed + k − 1"), N_("N") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &options->threads,
      N_("Threads to use (0 = one per core)"), N_("N") },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet,
      N_("Print nothing but errors"), NULL },
    { NULL }
  };
  GOptionEntry inpaint[] = {
    { "mask", 'm', 0, G_OPTION_ARG_FILENAME, &options->mask,
      N_("The mask, a picture of the same size: white = regenerate"), N_("FILE") },
    { NULL }
  };
  GOptionEntry outpaint[] = {
    { "left", 0, 0, G_OPTION_ARG_INT, &options->left, N_("Pixels to add on the left"), N_("N") },
    { "right", 0, 0, G_OPTION_ARG_INT, &options->right, N_("Pixels to add on the right"),
      N_("N") },
    { "top", 0, 0, G_OPTION_ARG_INT, &options->top, N_("Pixels to add at the top"), N_("N") },
    { "bottom", 0, 0, G_OPTION_ARG_INT, &options->bottom, N_("Pixels to add at the bottom"),
      N_("N") },
    { NULL }
  };
  GOptionContext *context;
  GOptionGroup *group;

  if (options->command == COMMAND_INPAINT)
    context = g_option_context_new (_("inpaint — fill the masked part of a picture"));
  else
    context = g_option_context_new (_("outpaint — extend a picture beyond its borders"));

  /* A callback option needs a group to receive the options struct. */
  group = g_option_group_new ("overpaint", "", "", options, NULL);
  g_option_group_add_entries (group, common);
  g_option_group_add_entries (group, options->command == COMMAND_INPAINT ? inpaint : outpaint);
  g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
  g_option_context_set_main_group (context, group);

  return context;
}

static gboolean
fail_usage (const char *format,
            ...) G_GNUC_PRINTF (1, 2);

static gboolean
fail_usage (const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("overpaint-cli: %s\n", message);
  return FALSE;
}

static gboolean
check_options (const Options *options)
{
  if (options->backend != NULL && strcmp (options->backend, "local") != 0)
    return fail_usage (_("Unknown backend “%s”: the only backend available is “local”."),
                       options->backend);
  if (options->image == NULL)
    return fail_usage (_("Give the picture with --image."));
  if (options->output == NULL)
    return fail_usage (_("Give the output file with --output."));
  if (options->command == COMMAND_INPAINT && options->mask == NULL)
    return fail_usage (_("Give the mask with --mask."));
  if (options->variants < 1 || options->variants > MAX_VARIANTS)
    return fail_usage (_("The number of variants must be from 1 to %d (got %d)."),
                       MAX_VARIANTS, options->variants);
  if (options->threads < 0)
    return fail_usage (_("The number of threads cannot be negative."));
  if (options->left < 0 || options->right < 0 || options->top < 0 || options->bottom < 0)
    return fail_usage (_("The margins cannot be negative."));

  return TRUE;
}

/* “out-{n}.png” → “out-2.png”; without {n}, “out.png” → “out-2.png”. */
static char *
variant_path (const char *output,
              int         variant,
              int         n_variants)
{
  g_autofree char *number = g_strdup_printf ("%d", variant);
  const char *slash, *dot;

  if (strstr (output, "{n}") != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (output, "{n}", -1);

      return g_strjoinv (number, parts);
    }
  if (n_variants == 1)
    return g_strdup (output);

  slash = strrchr (output, G_DIR_SEPARATOR);
  dot = strrchr (output, '.');
  if (dot == NULL || (slash != NULL && dot < slash) || dot == output ||
      (slash != NULL && dot == slash + 1))
    return g_strdup_printf ("%s-%s", output, number);

  return g_strdup_printf ("%.*s-%s%s", (int) (dot - output), output, number, dot);
}

static void
on_fill_progress_cb (double      fraction,
                     const char *stage,
                     gpointer    user_data)
{
  Progress *progress = user_data;

  if (progress->n_variants > 1)
    g_printerr ("\r\033[K%s %d/%d: %s, %3d %%", _("Variant"), progress->variant,
                progress->n_variants, stage, (int) (fraction * 100 + 0.5));
  else
    g_printerr ("\r\033[K%s, %3d %%", stage, (int) (fraction * 100 + 0.5));
  progress->active = TRUE;
}

static OpMask *
load_mask (const char     *path,
           const OpImage  *picture,
           GError        **error)
{
  g_autoptr(OpImage) image = NULL;
  g_autofree char *display = g_filename_display_basename (path);

  image = op_image_new_from_file (path, error);
  if (image == NULL)
    return NULL;

  if (op_image_get_width (image) != op_image_get_width (picture) ||
      op_image_get_height (image) != op_image_get_height (picture))
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The mask “%s” is %d × %d pixels but the picture is %d × %d."),
                   display, op_image_get_width (image), op_image_get_height (image),
                   op_image_get_width (picture), op_image_get_height (picture));
      return NULL;
    }

  return op_mask_new_from_image (image, error);
}

static int
generate (const Options *options,
          const OpImage *picture,
          const OpMask  *mask)
{
  gboolean show_progress = !options->quiet && isatty (STDERR_FILENO);
  guint64 seed = options->seed;

  if (!options->seed_set)
    seed = ((guint64) g_random_int () << 32) | g_random_int ();
  if (!options->quiet)
    g_printerr ("%s %" G_GUINT64_FORMAT "\n", _("Seed:"), seed);

  for (int k = 1; k <= options->variants; k++)
    {
      g_autoptr(OpImage) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *path = variant_path (options->output, k, options->variants);
      Progress progress = { k, options->variants, FALSE };
      OpFillParams params;
      gint64 start = g_get_monotonic_time ();
      double seconds;

      op_fill_params_init (&params);
      params.seed = seed + (guint64) (k - 1);
      params.n_threads = options->threads;

      if (options->command == COMMAND_INPAINT)
        result = op_fill_run (picture, mask, &params,
                              show_progress ? on_fill_progress_cb : NULL, &progress,
                              NULL, &error);
      else
        result = op_fill_outpaint (picture, options->left, options->right, options->top,
                                   options->bottom, &params,
                                   show_progress ? on_fill_progress_cb : NULL, &progress,
                                   NULL, &error);
      seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
      if (progress.active)
        g_printerr ("\r\033[K");

      if (result == NULL)
        {
          g_printerr (_("overpaint-cli: the fill failed: %s\n"), error->message);
          return EXIT_FAILED;
        }
      if (!op_image_save_png (result, path, &error))
        {
          g_printerr ("overpaint-cli: %s\n", error->message);
          return EXIT_FAILED;
        }
      if (!options->quiet)
        {
          g_autofree char *display = g_filename_display_name (path);

          /* TRANSLATORS: a file name, then the time the fill took */
          g_printerr (_("Wrote %s (filled in %.2f s)\n"), display, seconds);
        }
    }

  return EXIT_SUCCESS;
}

static int
run_command (Command   command,
             int       argc,
             char    **argv)
{
  g_auto(Options) options = { command, };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OpImage) picture = NULL;
  g_autoptr(OpMask) mask = NULL;

  options.variants = 1;
  context = make_context (&options);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      fail_usage (_("Unexpected argument “%s”."), argv[1]);
      return EXIT_USAGE;
    }
  if (!check_options (&options))
    return EXIT_USAGE;

  picture = op_image_new_from_file (options.image, &error);
  if (picture == NULL)
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (command == COMMAND_INPAINT)
    {
      mask = load_mask (options.mask, picture, &error);
      if (mask == NULL)
        {
          g_printerr ("overpaint-cli: %s\n", error->message);
          return EXIT_USAGE;
        }
    }

  return generate (&options, picture, mask);
}

int
main (int    argc,
      char **argv)
{
  const char *name;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("overpaint-cli");

  name = argc > 1 ? argv[1] : NULL;
  if (name == NULL)
    {
      usage (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0)
    {
      usage (stdout);
      return EXIT_SUCCESS;
    }
  if (strcmp (name, "--version") == 0)
    {
      g_print ("overpaint-cli %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  /* The command takes argv[0]'s place, so the option parser sees only its options. */
  if (strcmp (name, "inpaint") == 0)
    return run_command (COMMAND_INPAINT, argc - 1, argv + 1);
  if (strcmp (name, "outpaint") == 0)
    return run_command (COMMAND_OUTPAINT, argc - 1, argv + 1);

  g_printerr (_("overpaint-cli: unknown command “%s”.\n"), name);
  usage (stderr);
  return EXIT_USAGE;
}
