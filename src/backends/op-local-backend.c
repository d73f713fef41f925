/* op-local-backend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-local-backend"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "op-fill.h"
#include "op-local-backend.h"

/* The fill needs no model and no network, so it is the default and the fallback.  It
 * outpaints through the same path as it inpaints: the prepared input already holds the
 * extended canvas with its new margins masked, so it does not claim native outpainting.
 *
 * Size rule: none.  The fill crops its own work to each hole's bounding box plus a
 * margin, so its time and memory grow with the hole, not with the context; scaling a
 * whole 24 MP context down would only blur the filled area when it is scaled back up.
 * Designers keep full resolution on big photos. */

struct _OpLocalBackend
{
  GObject parent_instance;
};

static void op_local_backend_iface_init (OpBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OpLocalBackend, op_local_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (OP_TYPE_BACKEND,
                                                      op_local_backend_iface_init))

/* Everything the filling thread reads: its own references, so nothing of the caller's
 * is touched but the progress callback's data, which outlives the task by contract. */
typedef struct
{
  OpImage        *input;
  OpMask         *mask;
  gint64          seed;
  int             n_variants;
  OpProgressFunc  progress;
  gpointer        progress_data;
} GenerateData;

/* Progress of one variant, mapped onto the whole generation. */
typedef struct
{
  const GenerateData *data;
  int                 index;
  const char         *text;  /* NULL: pass the fill's own stage text on */
} VariantProgress;

static void
generate_data_free (GenerateData *data)
{
  g_clear_pointer (&data->input, op_image_unref);
  g_clear_pointer (&data->mask, op_mask_unref);
  g_free (data);
}

static void
report_progress (const VariantProgress *vp,
                 double                 fraction,
                 const char            *stage)
{
  const GenerateData *data = vp->data;

  if (data->progress == NULL)
    return;

  data->progress ((vp->index + CLAMP (fraction, 0.0, 1.0)) / data->n_variants,
                  vp->text != NULL ? vp->text : stage, NULL, data->progress_data);
}

static void
fill_progress_cb (double      fraction,
                  const char *stage,
                  gpointer    user_data)
{
  report_progress (user_data, fraction, stage);
}

static OpResult *
fill_variant (const GenerateData  *data,
              int                  index,
              GCancellable        *cancellable,
              GError             **error)
{
  g_autoptr(OpImage) image = NULL;
  g_autofree char *text = NULL;
  VariantProgress vp = { data, index, NULL };
  OpFillParams params;

  /* With one variant the fill's stage ("level 2 of 5") says more than "1 of 1". */
  if (data->n_variants > 1)
    text = g_strdup_printf (_("Filling variant %d of %d"), index + 1, data->n_variants);
  vp.text = text;
  report_progress (&vp, 0.0, _("Filling"));

  op_fill_params_init (&params);
  params.seed = (guint64) data->seed + (guint64) index;

  image = op_fill_run (data->input, data->mask, &params, fill_progress_cb, &vp,
                       cancellable, error);
  if (image == NULL)
    return NULL;

  return op_result_new (image, data->seed + index);
}

static void
generate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const GenerateData *data = task_data;
  g_autoptr(GPtrArray) results = NULL;

  results = g_ptr_array_new_with_free_func ((GDestroyNotify) op_result_free);

  for (int k = 0; k < data->n_variants; k++)
    {
      GError *error = NULL;
      OpResult *result;

      result = fill_variant (data, k, cancellable, &error);
      if (result == NULL)
        {
          g_task_return_error (task, error);
          return;
        }

      g_ptr_array_add (results, result);
    }

  g_task_return_pointer (task, g_steal_pointer (&results), (GDestroyNotify) g_ptr_array_unref);
}

static const char *
op_local_backend_get_id (OpBackend *backend)
{
  return "local";
}

static const char *
op_local_backend_get_name (OpBackend *backend)
{
  return _("Built-in fill (offline)");
}

static OpBackendCaps
op_local_backend_get_capabilities (OpBackend *backend)
{
  return OP_BACKEND_CAP_INPAINT | OP_BACKEND_CAP_PROGRESS;
}

static OpParamFlags
op_local_backend_get_parameters (OpBackend *backend)
{
  return OP_PARAM_SEED | OP_PARAM_VARIANTS;
}

static const char *
op_local_backend_explain_parameter (OpBackend    *backend,
                                    OpParamFlags  param)
{
  switch (param)
    {
    case OP_PARAM_PROMPT:
      return _("The built-in fill copies patches from the picture itself; "
               "it does not read a prompt.");

    case OP_PARAM_NEGATIVE_PROMPT:
      return _("The built-in fill copies patches from the picture itself; "
               "there is no prompt to steer away from.");

    case OP_PARAM_STEPS:
      return _("The built-in fill is not a diffusion model; it has no steps to count.");

    case OP_PARAM_CFG:
      return _("The built-in fill follows no prompt, so there is no guidance to set.");

    case OP_PARAM_STRENGTH:
      return _("The built-in fill always replaces the masked area completely.");

    case OP_PARAM_SAMPLER:
      return _("The built-in fill is not a diffusion model; it has no sampler.");

    case OP_PARAM_MODEL:
      return _("The built-in fill needs no model; it works from the picture alone.");

    case OP_PARAM_SEED:
    case OP_PARAM_VARIANTS:
    default:
      return NULL;
    }
}

static void
op_local_backend_get_size_rule (OpBackend  *backend,
                                OpSizeRule *rule)
{
  rule->multiple = 1;
  rule->max_pixels = 0;
}

static void
op_local_backend_generate_async (OpBackend             *backend,
                                 const OpGenerateInput *input,
                                 GCancellable          *cancellable,
                                 GAsyncReadyCallback    callback,
                                 gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  GenerateData *data;

  task = g_task_new (backend, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_local_backend_generate_async);

  data = g_new0 (GenerateData, 1);
  data->input = op_image_ref (op_prepared_get_input (input->prepared));
  data->mask = op_mask_ref ((OpMask *) op_prepared_get_input_mask (input->prepared));
  data->seed = input->seed;
  data->n_variants = CLAMP (input->params->n_variants, 1, OP_VARIANTS_MAX);
  data->progress = input->progress;
  data->progress_data = input->progress_data;
  g_task_set_task_data (task, data, (GDestroyNotify) generate_data_free);

  g_task_run_in_thread (task, generate_thread);
}

static GPtrArray *
op_local_backend_generate_finish (OpBackend     *backend,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, op_local_backend_generate_async),
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
op_local_backend_iface_init (OpBackendInterface *iface)
{
  iface->get_id = op_local_backend_get_id;
  iface->get_name = op_local_backend_get_name;
  iface->get_capabilities = op_local_backend_get_capabilities;
  iface->get_parameters = op_local_backend_get_parameters;
  iface->explain_parameter = op_local_backend_explain_parameter;
  iface->get_size_rule = op_local_backend_get_size_rule;
  iface->generate_async = op_local_backend_generate_async;
  iface->generate_finish = op_local_backend_generate_finish;
}

static void
op_local_backend_class_init (OpLocalBackendClass *klass)
{
}

static void
op_local_backend_init (OpLocalBackend *self)
{
}

OpLocalBackend *
op_local_backend_new (void)
{
  return g_object_new (OP_TYPE_LOCAL_BACKEND, NULL);
}
