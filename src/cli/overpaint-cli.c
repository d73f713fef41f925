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

#include "op-backend.h"
#include "op-describe.h"
#include "op-export.h"
#include "op-image.h"
#include "op-keyring.h"
#include "op-mask.h"
#include "op-suggest.h"
#include "op-worker.h"

/* overpaint-cli: the generation pipeline without the editor.
 *
 *   overpaint-cli inpaint  --image IN --mask MASK --output OUT [options]
 *   overpaint-cli outpaint --image IN [--left N] [--right N] [--top N] [--bottom N]
 *                          --output OUT [options]
 *
 * It goes through what the editor uses: a request, the worker, the backend, and the
 * compositing that leaves every pixel outside the blend mask as it was.
 *
 * Exit status: 0 done, 1 the generation failed, 2 bad usage or unreadable input. */

#define EXIT_FAILED 1
#define EXIT_USAGE  2

typedef enum
{
  COMMAND_INPAINT,
  COMMAND_OUTPAINT,
  COMMAND_DESCRIBE,
} Command;

typedef struct
{
  Command   command;
  char     *image;
  char     *mask;
  char     *output;
  char     *backend;
  char     *url;
  char     *api_auth;
  char     *model;
  char     *prompt;
  char     *negative;
  char     *context;
  char     *region;
  gint64    seed;
  gboolean  seed_set;
  int       variants;
  int       steps;
  double    cfg;
  double    strength;
  int       mask_grow;
  int       mask_blur;
  int       padding;
  gboolean  no_color_match;
  int       left, right, top, bottom;
  gboolean  quiet;
} Options;

/* Where the worker's answers go while the main loop runs. */
typedef struct
{
  GMainLoop *loop;
  gboolean   show_progress;
  gboolean   progress_shown;
  int        status;
  gint64     started;
  double     seconds;   /* how long the job ran: prepare, generate, blend */
} Run;

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->image, g_free);
  g_clear_pointer (&options->mask, g_free);
  g_clear_pointer (&options->output, g_free);
  g_clear_pointer (&options->backend, g_free);
  g_clear_pointer (&options->url, g_free);
  g_clear_pointer (&options->api_auth, g_free);
  g_clear_pointer (&options->model, g_free);
  g_clear_pointer (&options->prompt, g_free);
  g_clear_pointer (&options->negative, g_free);
  g_clear_pointer (&options->context, g_free);
  g_clear_pointer (&options->region, g_free);
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

  if (!g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &seed, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The seed must be a whole number from 0 (got “%s”)."), value);
      return FALSE;
    }
  options->seed = (gint64) seed;
  options->seed_set = TRUE;
  return TRUE;
}

static void
usage (FILE *stream)
{
  fprintf (stream, "%s\n  %s\n  %s\n  %s\n\n%s\n",
           _("Usage:"),
           _("overpaint-cli inpaint --image IN --mask MASK --output OUT [options]"),
           _("overpaint-cli outpaint --image IN [--left N] [--right N] [--top N] [--bottom N] "
             "--output OUT [options]"),
           _("overpaint-cli describe --image IN [--mask MASK] [--region whole|context|edges] "
             "[--backend NAME] [--url URL] [--model NAME]"),
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
      N_("The generation backend (default: local, the built-in fill)"), N_("NAME") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &options->url,
      N_("The address of a self-hosted backend"), N_("URL") },
    { "api-auth", 0, 0, G_OPTION_ARG_STRING, &options->api_auth,
      N_("User and password for a self-hosted server started with --api-auth"),
      N_("USER:PASS") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &options->model,
      N_("The model (default: the backend's)"), N_("NAME") },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &options->prompt,
      N_("What the masked area should show"), N_("TEXT") },
    { "negative", 0, 0, G_OPTION_ARG_STRING, &options->negative,
      N_("What the result should not show"), N_("TEXT") },
    { "seed", 's', 0, G_OPTION_ARG_CALLBACK, parse_seed_cb,
      N_("The random seed (random when not given)"), N_("N") },
    { "steps", 0, 0, G_OPTION_ARG_INT, &options->steps, N_("Sampling steps"), N_("N") },
    { "cfg", 0, 0, G_OPTION_ARG_DOUBLE, &options->cfg, N_("Guidance (CFG scale)"), N_("F") },
    { "strength", 0, 0, G_OPTION_ARG_DOUBLE, &options->strength,
      N_("Denoising strength, 0 to 1"), N_("F") },
    { "variants", 'n', 0, G_OPTION_ARG_INT, &options->variants,
      N_("How many variants to make, 1 to 8; variant k uses seed + k − 1"), N_("N") },
    { "mask-grow", 0, 0, G_OPTION_ARG_INT, &options->mask_grow,
      N_("Grow the mask by this many pixels (negative shrinks)"), N_("PX") },
    { "mask-blur", 0, 0, G_OPTION_ARG_INT, &options->mask_blur,
      N_("Feather the blend over this many pixels"), N_("PX") },
    { "context", 0, 0, G_OPTION_ARG_STRING, &options->context,
      N_("What the backend sees: “whole” picture or the “masked” area"), N_("MODE") },
    { "padding", 0, 0, G_OPTION_ARG_INT, &options->padding,
      N_("Pixels of picture around the mask in the masked context"), N_("PX") },
    { "no-color-match", 0, 0, G_OPTION_ARG_NONE, &options->no_color_match,
      N_("Do not match the result's colours to the surroundings"), NULL },
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
  GOptionEntry describe[] = {
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &options->image,
      N_("The picture to describe"), N_("FILE") },
    { "mask", 'm', 0, G_OPTION_ARG_FILENAME, &options->mask,
      N_("The mask, a picture of the same size: white = the area to fill"), N_("FILE") },
    { "region", 'r', 0, G_OPTION_ARG_STRING, &options->region,
      N_("What is described: the “whole” picture, the “context” around the mask, or the "
         "“edges” to extend (default: context with a mask, edges with margins, else whole)"),
      N_("REGION") },
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &options->backend,
      N_("The describer: automatic1111, ollama or openai (default: none, offline "
         "suggestions only)"),
      N_("NAME") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &options->url,
      N_("The address of a self-hosted backend"), N_("URL") },
    { "api-auth", 0, 0, G_OPTION_ARG_STRING, &options->api_auth,
      N_("User and password for a self-hosted server started with --api-auth"),
      N_("USER:PASS") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &options->model,
      N_("The describing model: clip or deepdanbooru (web UI), a vision model such as "
         "llava (Ollama) or gpt-4o-mini (OpenAI)"), N_("NAME") },
    { NULL }
  };
  GOptionContext *context;
  GOptionGroup *group;

  if (options->command == COMMAND_DESCRIBE)
    {
      context = g_option_context_new (_("describe — suggest a prompt for a picture"));
      group = g_option_group_new ("overpaint", "", "", options, NULL);
      g_option_group_add_entries (group, describe);
      /* the margins, for the edges an extension would continue */
      g_option_group_add_entries (group, outpaint);
      g_option_group_set_translation_domain (group, GETTEXT_PACKAGE);
      g_option_context_set_main_group (context, group);
      return context;
    }

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
  if (options->image == NULL)
    return fail_usage (_("Give the picture with --image."));
  if (options->command == COMMAND_DESCRIBE)
    {
      OpDescribeRegion region;

      if (options->region != NULL && !op_describe_region_from_string (options->region, &region))
        return fail_usage (_("The region is “whole”, “context” or “edges”, not “%s”."),
                           options->region);
      if (options->left < 0 || options->right < 0 || options->top < 0 || options->bottom < 0)
        return fail_usage (_("The margins cannot be negative."));
      return TRUE;
    }
  if (options->output == NULL)
    return fail_usage (_("Give the output file with --output."));
  if (options->command == COMMAND_INPAINT && options->mask == NULL)
    return fail_usage (_("Give the mask with --mask."));
  if (options->context != NULL && strcmp (options->context, "whole") != 0 &&
      strcmp (options->context, "masked") != 0)
    return fail_usage (_("The context is “whole” or “masked”, not “%s”."), options->context);
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
      g_set_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID,
                   _("The mask “%s” is %d × %d pixels but the picture is %d × %d."),
                   display, op_image_get_width (image), op_image_get_height (image),
                   op_image_get_width (picture), op_image_get_height (picture));
      return NULL;
    }

  return op_mask_new_from_image (image, error);
}

/* The parameters from the options; what the user did not give keeps its default. */
static OpParams *
make_params (const Options *options)
{
  OpParams *params = op_params_new ();

  g_free (params->backend);
  params->backend = g_strdup (options->backend != NULL ? options->backend : "local");
  params->model = g_strdup (options->model);
  if (options->prompt != NULL)
    {
      g_free (params->prompt);
      params->prompt = g_strdup (options->prompt);
    }
  if (options->negative != NULL)
    {
      g_free (params->negative_prompt);
      params->negative_prompt = g_strdup (options->negative);
    }
  params->seed = options->seed_set ? options->seed : -1;
  params->n_variants = options->variants;
  if (options->steps != 0)
    params->steps = options->steps;
  if (options->cfg != 0)
    params->cfg = options->cfg;
  if (options->strength >= 0)
    params->strength = options->strength;
  if (options->mask_grow != G_MININT)
    params->mask_grow = options->mask_grow;
  if (options->mask_blur >= 0)
    params->mask_feather = options->mask_blur;
  if (options->context != NULL)
    params->context = strcmp (options->context, "whole") == 0 ? OP_CONTEXT_WHOLE
                                                              : OP_CONTEXT_MASKED;
  if (options->padding >= 0)
    params->padding = options->padding;
  params->color_match = !options->no_color_match;

  return params;
}

/* Nothing the user asked for is dropped silently: say what this backend does not use. */
static void
warn_unused (const Options *options,
             OpBackend     *backend)
{
  const struct { gboolean given; OpParamFlags flag; const char *option; } given[] = {
    { options->prompt != NULL, OP_PARAM_PROMPT, "--prompt" },
    { options->negative != NULL, OP_PARAM_NEGATIVE_PROMPT, "--negative" },
    { options->steps != 0, OP_PARAM_STEPS, "--steps" },
    { options->cfg != 0, OP_PARAM_CFG, "--cfg" },
    { options->strength >= 0, OP_PARAM_STRENGTH, "--strength" },
    { options->model != NULL, OP_PARAM_MODEL, "--model" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (given); i++)
    {
      const char *why;

      if (!given[i].given || (why = op_backend_explain_parameter (backend, given[i].flag)) == NULL)
        continue;
      /* TRANSLATORS: an option, then why the backend does not use it */
      g_printerr (_("overpaint-cli: %s is not used: %s\n"), given[i].option, why);
    }
}

static void
on_job_started_cb (OpWorker *worker,
                   OpJob    *job,
                   Run      *run)
{
  run->started = g_get_monotonic_time ();
}

static void
on_job_progress_cb (OpWorker *worker,
                    OpJob    *job,
                    Run      *run)
{
  double fraction = op_job_get_fraction (job);

  if (!run->show_progress || op_job_get_text (job) == NULL)
    return;

  if (fraction >= 0)
    g_printerr ("\r\033[K%s, %3d %%", op_job_get_text (job), (int) (fraction * 100 + 0.5));
  else
    g_printerr ("\r\033[K%s", op_job_get_text (job));
  run->progress_shown = TRUE;
}

static gboolean
write_variants (const Options *options,
                OpJob         *job,
                OpImage       *picture,
                double         seconds)
{
  OpRequest *request = op_job_get_request (job);
  GPtrArray *variants = op_job_get_variants (job);
  g_autoptr(OpVersion) root = op_version_new_root (picture);

  for (guint k = 0; k < variants->len; k++)
    {
      OpVariant *v = variants->pdata[k];
      g_autofree char *path = variant_path (options->output, k + 1, variants->len);
      g_autoptr(OpVersion) version = NULL;
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) texts = NULL;
      g_autofree OpPngText *chunks = NULL;
      guint n;

      version = op_version_new_variant (root, op_request_get_margins (request), v->patch,
                                        &v->rect, v->blend, op_request_get_params (request),
                                        v->seed, 1);
      texts = op_export_dup_texts (version);
      n = g_strv_length (texts) / 2;
      chunks = g_new0 (OpPngText, n + 1);
      for (guint i = 0; i < n; i++)
        chunks[i] = (OpPngText) { texts[2 * i], texts[2 * i + 1], FALSE };

      if (!op_image_save_png_with_text (op_version_get_composite (version), path, chunks, n,
                                        &error))
        {
          g_printerr ("overpaint-cli: %s\n", error->message);
          return FALSE;
        }
      if (!options->quiet)
        {
          g_autofree char *display = g_filename_display_name (path);

          /* TRANSLATORS: a file name, the seed the variant used, the time all variants took */
          g_printerr (_("Wrote %s (seed %lld, generated in %.2f s)\n"), display,
                      (long long) v->seed, seconds);
        }
    }

  return TRUE;
}

static void
on_job_finished_cb (OpWorker *worker,
                    OpJob    *job,
                    Run      *run)
{
  if (run->progress_shown)
    g_printerr ("\r\033[K");
  run->seconds = (g_get_monotonic_time () - run->started) / (double) G_USEC_PER_SEC;

  if (op_job_get_state (job) == OP_JOB_DONE)
    run->status = EXIT_SUCCESS;
  else
    {
      const GError *error = op_job_get_error (job);

      g_printerr (_("overpaint-cli: the generation failed: %s\n"),
                  error != NULL ? error->message : _("it was cancelled"));
      run->status = EXIT_FAILED;
    }

  g_main_loop_quit (run->loop);
}

/* The address and the secret: --url and --api-auth, else the key in the keyring, else
 * the environment's (STABILITY_API_KEY, OPENAI_API_KEY).  The key is never printed. */
static gboolean
configure_backend (const Options  *options,
                   OpBackend      *backend,
                   GError        **error)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (backend);
  g_autofree char *key = NULL;

  if (g_object_class_find_property (klass, "api-key") != NULL)
    key = op_keyring_lookup_sync (op_backend_get_id (backend));

  return op_backend_configure (backend, options->url, key, options->api_auth, error);
}

static int
generate (const Options *options,
          OpImage       *picture,
          const OpMask  *mask)
{
  const OpMargins margins = { options->left, options->right, options->top, options->bottom };
  g_autoptr(OpParams) params = make_params (options);
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(OpRequest) request = NULL;
  g_autoptr(OpWorker) worker = NULL;
  g_autoptr(OpJob) job = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  Run run = { loop, !options->quiet && isatty (STDERR_FILENO), FALSE, EXIT_FAILED, 0, 0 };

  backend = op_backend_new_for_id (params->backend, &error);
  if (backend == NULL)
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (!configure_backend (options, backend, &error))
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_USAGE;
    }
  warn_unused (options, backend);

  request = op_request_new (picture, mask, &margins, params, &error);
  if (request == NULL)
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return error->domain == OP_REQUEST_ERROR &&
             error->code == OP_REQUEST_ERROR_NOTHING_TO_DO ? EXIT_FAILED : EXIT_USAGE;
    }

  worker = op_worker_new ();
  g_signal_connect (worker, "job-started", G_CALLBACK (on_job_started_cb), &run);
  g_signal_connect (worker, "job-progress", G_CALLBACK (on_job_progress_cb), &run);
  g_signal_connect (worker, "job-finished", G_CALLBACK (on_job_finished_cb), &run);
  job = op_worker_submit (worker, backend, request);
  g_main_loop_run (loop);

  if (run.status != EXIT_SUCCESS)
    return run.status;
  if (!options->quiet)
    g_printerr ("%s %lld\n", _("Seed:"), (long long) op_job_get_seed (job));

  return write_variants (options, job, picture, run.seconds) ? EXIT_SUCCESS : EXIT_FAILED;
}


/* describe */

typedef struct
{
  GMainLoop    *loop;
  GAsyncResult *result;
} Wait;

static void
describe_ready_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
  g_main_loop_quit (wait->loop);
}

/* The describer's captions, one line per part, then the offline suggestions for the
 * same area as "category: phrase", best first, a few per category. */
static int
describe (const Options *options,
          OpImage       *picture,
          const OpMask  *mask)
{
  const OpMargins margins = { options->left, options->right, options->top, options->bottom };
  OpVocabulary *vocabulary = op_vocabulary_get_default ();
  g_autoptr(OpBackend) backend = NULL;
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  OpDescribeRegion region = OP_DESCRIBE_WHOLE;
  OpDescribePart *largest = NULL;
  OpPictureTraits traits;
  const char *category = NULL;
  guint i, shown = 0;

  if (options->region != NULL)
    op_describe_region_from_string (options->region, &region);
  else if (mask != NULL && !op_mask_is_empty (mask))
    region = OP_DESCRIBE_CONTEXT;
  else if (margins.left > 0 || margins.right > 0 || margins.top > 0 || margins.bottom > 0)
    region = OP_DESCRIBE_EDGES;

  if (options->backend != NULL && strcmp (options->backend, "local") != 0)
    {
      backend = op_backend_new_for_id (options->backend, &error);
      if (backend == NULL || !configure_backend (options, backend, &error))
        {
          g_printerr ("overpaint-cli: %s\n", error->message);
          return EXIT_USAGE;
        }
      if (!(op_backend_get_capabilities (backend) & OP_BACKEND_CAP_DESCRIBE))
        {
          g_printerr (_("overpaint-cli: “%s” cannot describe pictures; use automatic1111, "
                        "ollama or openai.\n"),
                      options->backend);
          return EXIT_USAGE;
        }
      if (options->model != NULL)
        {
          if (g_object_class_find_property (G_OBJECT_GET_CLASS (backend), "describe-model") == NULL)
            {
              g_printerr (_("overpaint-cli: “%s” has no choice of describing model.\n"),
                          options->backend);
              return EXIT_USAGE;
            }
          g_object_set (backend, "describe-model", options->model, NULL);
        }
    }

  /* with no describer only the analysis is needed: no fill, no scaling */
  parts = backend != NULL ? op_describe_prepare (picture, mask, &margins, region, NULL, &error)
                          : op_describe_prepare_analysis (picture, mask, &margins, region, &error);
  if (parts == NULL)
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_USAGE;
    }

  for (i = 0; backend != NULL && i < parts->len; i++)
    {
      OpDescribePart *part = g_ptr_array_index (parts, i);
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
      g_autofree char *caption = NULL;
      Wait wait = { loop, NULL };

      op_backend_describe_async (backend, part->image, NULL, describe_ready_cb, &wait);
      g_main_loop_run (loop);
      caption = op_backend_describe_finish (backend, wait.result, &error);
      g_clear_object (&wait.result);
      if (caption == NULL)
        {
          g_printerr (_("overpaint-cli: describing %s failed: %s\n"), part->name, error->message);
          return EXIT_FAILED;
        }
      g_print ("%s\n", caption);
    }

  /* the offline analysis looks at the largest part (the picture, the context, or the
   * longest edge strip), at full resolution */
  for (i = 0; i < parts->len; i++)
    {
      OpDescribePart *part = g_ptr_array_index (parts, i);

      if (largest == NULL ||
          (gint64) op_image_get_width (part->analysed) * op_image_get_height (part->analysed) >
          (gint64) op_image_get_width (largest->analysed) * op_image_get_height (largest->analysed))
        largest = part;
    }
  if (!op_picture_traits_analyse (largest->analysed, largest->exclude, &traits, &error))
    {
      g_printerr ("overpaint-cli: %s\n", error->message);
      return EXIT_FAILED;
    }

  ranked = op_vocabulary_rank (vocabulary, &traits);
  for (i = 0; i < ranked->len; i++)
    {
      OpSuggestion *suggestion = g_ptr_array_index (ranked, i);

      if (g_strcmp0 (category, suggestion->category) != 0)
        {
          category = suggestion->category;
          shown = 0;
        }
      if (shown++ < 3)
        g_print ("%s: %s\n", suggestion->category, suggestion->text);
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

  /* "not given" markers: the backend's defaults apply */
  options.variants = 1;
  options.strength = -1;
  options.mask_grow = G_MININT;
  options.mask_blur = -1;
  options.padding = -1;
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
  if (command == COMMAND_INPAINT || (command == COMMAND_DESCRIBE && options.mask != NULL))
    {
      mask = load_mask (options.mask, picture, &error);
      if (mask == NULL)
        {
          g_printerr ("overpaint-cli: %s\n", error->message);
          return EXIT_USAGE;
        }
    }

  if (command == COMMAND_DESCRIBE)
    return describe (&options, picture, mask);

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
  if (strcmp (name, "describe") == 0)
    return run_command (COMMAND_DESCRIBE, argc - 1, argv + 1);

  g_printerr (_("overpaint-cli: unknown command “%s”.\n"), name);
  usage (stderr);
  return EXIT_USAGE;
}
