/* op-backend.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-backend"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "op-automatic1111-backend.h"
#include "op-backend.h"
#include "op-local-backend.h"
#include "op-ollama-backend.h"
#include "op-openai-backend.h"
#include "op-stability-backend.h"

/* The wrappers below are the only way callers reach a backend: they check arguments,
 * fill in defaults for what a backend leaves out, and make sure a generation never
 * "succeeds" with nothing, so the worker and the UI need no per-backend special cases. */

G_DEFINE_QUARK (op-backend-error-quark, op_backend_error)

G_DEFINE_INTERFACE (OpBackend, op_backend, G_TYPE_OBJECT)

static const char * const backend_ids[] = {
  "local",
  "automatic1111",
  "stability",
  "openai",
  NULL
};

static void
op_backend_default_init (OpBackendInterface *iface)
{
}

/* @format takes the backend's name. */
static void
report_not_supported (OpBackend           *self,
                      gpointer             source_tag,
                      const char          *format,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autofree char *message = NULL;

  message = g_strdup_printf (format, op_backend_get_name (self));
  g_task_report_new_error (self, callback, user_data, source_tag,
                           OP_BACKEND_ERROR, OP_BACKEND_ERROR_NOT_SUPPORTED, "%s", message);
}

void
op_result_free (OpResult *result)
{
  if (result == NULL)
    return;

  g_clear_pointer (&result->image, op_image_unref);
  g_free (result);
}

OpResult *
op_result_new (OpImage *image,
               gint64   seed)
{
  OpResult *result;

  g_return_val_if_fail (image != NULL, NULL);

  result = g_new0 (OpResult, 1);
  result->image = op_image_ref (image);
  result->seed = seed;

  return result;
}

const char *
op_backend_get_id (OpBackend *self)
{
  OpBackendInterface *iface;

  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);

  iface = OP_BACKEND_GET_IFACE (self);
  g_return_val_if_fail (iface->get_id != NULL, NULL);

  return iface->get_id (self);
}

const char *
op_backend_get_name (OpBackend *self)
{
  OpBackendInterface *iface;

  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->get_name == NULL)
    return op_backend_get_id (self);

  return iface->get_name (self);
}

OpBackendCaps
op_backend_get_capabilities (OpBackend *self)
{
  OpBackendInterface *iface;

  g_return_val_if_fail (OP_IS_BACKEND (self), 0);

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->get_capabilities == NULL)
    return 0;

  return iface->get_capabilities (self);
}

OpParamFlags
op_backend_get_parameters (OpBackend *self)
{
  OpBackendInterface *iface;

  g_return_val_if_fail (OP_IS_BACKEND (self), 0);

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->get_parameters == NULL)
    return 0;

  return iface->get_parameters (self);
}

void
op_backend_get_prompt_limit (OpBackend     *self,
                             const char    *model,
                             OpPromptLimit *limit)
{
  OpBackendInterface *iface;

  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (limit != NULL);

  *limit = (OpPromptLimit) { OP_PROMPT_UNIT_NONE, 0, FALSE };
  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->get_prompt_limit != NULL && (op_backend_get_parameters (self) & OP_PARAM_PROMPT) != 0)
    iface->get_prompt_limit (self, model, limit);
}

/**
 * op_backend_explain_parameter:
 * @param: exactly one #OpParamFlags value
 *
 * Returns: (nullable) (transfer none): why @self ignores @param, in words for a
 *   tooltip; %NULL when @self uses it
 */
const char *
op_backend_explain_parameter (OpBackend    *self,
                              OpParamFlags  param)
{
  OpBackendInterface *iface;
  const char *reason = NULL;

  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);
  g_return_val_if_fail (param != 0 && (param & (param - 1)) == 0, NULL);

  if ((op_backend_get_parameters (self) & param) != 0)
    return NULL;

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->explain_parameter != NULL)
    reason = iface->explain_parameter (self, param);

  /* A greyed-out control without a reason looks like a bug, so there is always one. */
  if (reason == NULL)
    reason = _("This backend does not use this setting.");

  return reason;
}

/**
 * op_backend_get_size_rule:
 * @rule: (out caller-allocates): receives the rule
 *
 * Without a rule of its own a backend takes any size.  Pointers in @rule belong to
 * @self and stay valid as long as it does.
 */
void
op_backend_get_size_rule (OpBackend  *self,
                          OpSizeRule *rule)
{
  OpBackendInterface *iface;

  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (rule != NULL);

  *rule = (OpSizeRule) { .multiple = 1 };

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->get_size_rule != NULL)
    iface->get_size_rule (self, rule);

  if (rule->multiple < 1)
    rule->multiple = 1;
}

/**
 * op_backend_generate_async:
 * @input: what to generate; the struct is copied, but what it points to (the prepared
 *   input, the parameters, @input->progress_data) must stay alive until @callback runs
 *
 * Generates @input->params->n_variants answers off the main loop.  @input->progress may
 * be called from any thread until @callback runs.
 */
void
op_backend_generate_async (OpBackend             *self,
                           const OpGenerateInput *input,
                           GCancellable          *cancellable,
                           GAsyncReadyCallback    callback,
                           gpointer               user_data)
{
  OpBackendInterface *iface;

  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (input != NULL);
  g_return_if_fail (input->prepared != NULL);
  g_return_if_fail (input->params != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->generate_async == NULL)
    {
      report_not_supported (self, op_backend_generate_async,
                            _("“%s” cannot generate pictures."), callback, user_data);
      return;
    }

  iface->generate_async (self, input, cancellable, callback, user_data);
}

/**
 * op_backend_generate_finish:
 *
 * Returns: (transfer container) (element-type OpResult): at least one result, or
 *   %NULL with @error set; never %NULL without an error, whatever the backend did
 */
GPtrArray *
op_backend_generate_finish (OpBackend     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) results = NULL;

  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_async_result_is_tagged (result, op_backend_generate_async))
    return g_task_propagate_pointer (G_TASK (result), error);

  g_return_val_if_fail (OP_BACKEND_GET_IFACE (self)->generate_finish != NULL, NULL);
  results = OP_BACKEND_GET_IFACE (self)->generate_finish (self, result, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (results == NULL || results->len == 0)
    {
      g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER,
                   _("“%s” returned no picture."), op_backend_get_name (self));
      return NULL;
    }

  for (guint i = 0; i < results->len; i++)
    {
      const OpResult *r = g_ptr_array_index (results, i);

      if (r == NULL || r->image == NULL)
        {
          g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER,
                       _("“%s” returned an empty answer for variant %u."),
                       op_backend_get_name (self), i + 1);
          return NULL;
        }
    }

  return g_steal_pointer (&results);
}

void
op_backend_describe_async (OpBackend           *self,
                           OpImage             *image,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  OpBackendInterface *iface;

  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (image != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->describe_async == NULL)
    {
      report_not_supported (self, op_backend_describe_async,
                            _("“%s” cannot describe pictures."), callback, user_data);
      return;
    }

  iface->describe_async (self, image, cancellable, callback, user_data);
}

/**
 * op_backend_describe_finish:
 *
 * Returns: (transfer full): a prompt describing the picture, or %NULL with @error set
 *   (%OP_BACKEND_ERROR_NOT_SUPPORTED when the backend cannot describe pictures)
 */
char *
op_backend_describe_finish (OpBackend     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_async_result_is_tagged (result, op_backend_describe_async))
    return g_task_propagate_pointer (G_TASK (result), error);

  g_return_val_if_fail (OP_BACKEND_GET_IFACE (self)->describe_finish != NULL, NULL);
  return OP_BACKEND_GET_IFACE (self)->describe_finish (self, result, error);
}

void
op_backend_list_models_async (OpBackend           *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  OpBackendInterface *iface;

  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = OP_BACKEND_GET_IFACE (self);
  if (iface->list_models_async == NULL)
    {
      report_not_supported (self, op_backend_list_models_async,
                            _("“%s” has no models to choose from."), callback, user_data);
      return;
    }

  iface->list_models_async (self, cancellable, callback, user_data);
}

/**
 * op_backend_list_models_finish:
 *
 * Returns: (transfer full): the model names, or %NULL with @error set
 *   (%OP_BACKEND_ERROR_NOT_SUPPORTED when the backend has no choice of models)
 */
GStrv
op_backend_list_models_finish (OpBackend     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (OP_IS_BACKEND (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_async_result_is_tagged (result, op_backend_list_models_async))
    return g_task_propagate_pointer (G_TASK (result), error);

  g_return_val_if_fail (OP_BACKEND_GET_IFACE (self)->list_models_finish != NULL, NULL);
  return OP_BACKEND_GET_IFACE (self)->list_models_finish (self, result, error);
}

/**
 * op_backend_list_ids:
 *
 * Returns: (transfer none): the ids op_backend_new_for_id() accepts, %NULL-terminated
 */
const char * const *
op_backend_list_ids (void)
{
  return backend_ids;
}

/**
 * op_backend_new_for_id:
 * @id: a backend id, as stored in #OpParams.backend and in the settings
 *
 * Returns: (transfer full) (nullable): a new backend, or %NULL with @error set to
 *   %G_IO_ERROR_NOT_FOUND for an id this build does not have
 */
OpBackend *
op_backend_new_for_id (const char  *id,
                       GError     **error)
{
  g_autofree char *available = NULL;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_str_equal (id, "local"))
    return OP_BACKEND (op_local_backend_new ());
  if (g_str_equal (id, "openai"))
    return op_openai_backend_new ();
  if (g_str_equal (id, "automatic1111"))
    return op_automatic1111_backend_new ();
  if (g_str_equal (id, "stability"))
    return op_stability_backend_new ();
  /* a describer only, so not in the list the sidebar offers */
  if (g_str_equal (id, "ollama"))
    return op_ollama_backend_new ();

  /* Settings written by a newer build can name a backend this one lacks; the list
   * tells the user what to pick instead. */
  available = g_strjoinv (", ", (char **) backend_ids);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("Unknown backend “%s”; available: %s"), id, available);

  return NULL;
}

/**
 * op_backend_configure:
 * @url: (nullable): the service's address, for backends that have one
 * @api_key: (nullable): the key, for services that need one
 * @api_auth: (nullable): "user:password" for HTTP Basic, for self-hosted servers
 *
 * Hands a backend what the user configured.  Each value goes only to a backend with a
 * property for it ("url", "api-key", "api-auth"); the local fill has none.
 *
 * Returns: %FALSE with @error when a value was given that this backend cannot use
 */
gboolean
op_backend_configure (OpBackend   *self,
                      const char  *url,
                      const char  *api_key,
                      const char  *api_auth,
                      GError     **error)
{
  const struct { const char *property; const char *value; const char *what; } values[] = {
    { "url", url, N_("an address") },
    { "api-key", api_key, N_("an API key") },
    { "api-auth", api_auth, N_("a user name and password") },
  };
  GObjectClass *klass;

  g_return_val_if_fail (OP_IS_BACKEND (self), FALSE);

  klass = G_OBJECT_GET_CLASS (self);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (values[i].value == NULL)
        continue;
      if (g_object_class_find_property (klass, values[i].property) == NULL)
        {
          /* Translators: the backend's name, then what it was given */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("%s does not take %s."), op_backend_get_name (self),
                       _(values[i].what));
          return FALSE;
        }
      g_object_set (self, values[i].property, values[i].value, NULL);
    }

  return TRUE;
}

/**
 * op_backend_apply_params:
 *
 * Tells a backend what of the parameters it must know before a request is prepared for
 * it: the model, where its size rules depend on it (the "model" property).
 */
void
op_backend_apply_params (OpBackend      *self,
                         const OpParams *params)
{
  g_return_if_fail (OP_IS_BACKEND (self));
  g_return_if_fail (params != NULL);

  if (params->model != NULL && params->model[0] != '\0' &&
      g_object_class_find_property (G_OBJECT_GET_CLASS (self), "model") != NULL)
    g_object_set (self, "model", params->model, NULL);
}

/**
 * op_backend_configure_service:
 * @url: (nullable): the address the user set; empty or NULL for the backend's default
 * @secret: (nullable): from the keyring or the environment
 *
 * The address and the secret as the user stored them: the secret is "user:password"
 * for a backend that takes HTTP Basic auth ("api-auth"), else an API key.
 */
gboolean
op_backend_configure_service (OpBackend   *self,
                              const char  *url,
                              const char  *secret,
                              GError     **error)
{
  gboolean basic;

  g_return_val_if_fail (OP_IS_BACKEND (self), FALSE);

  basic = g_object_class_find_property (G_OBJECT_GET_CLASS (self), "api-auth") != NULL;
  if (url != NULL && url[0] == '\0')
    url = NULL;

  return op_backend_configure (self, url, basic ? NULL : secret, basic ? secret : NULL, error);
}
