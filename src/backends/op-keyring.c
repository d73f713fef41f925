/* op-keyring.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-keyring"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "op-keyring.h"

static const SecretSchema *
keyring_schema (void)
{
  static const SecretSchema schema = {
    APP_ID ".ApiKey", SECRET_SCHEMA_NONE,
    {
      { "backend", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

const char *
op_keyring_env_name (const char *backend_id)
{
  g_return_val_if_fail (backend_id != NULL, NULL);

  if (g_str_equal (backend_id, "stability"))
    return "STABILITY_API_KEY";
  if (g_str_equal (backend_id, "openai"))
    return "OPENAI_API_KEY";

  return NULL;
}

static char *
label_for (const char *backend_id)
{
  /* Translators: the label of the keyring item; %s is a backend id */
  return g_strdup_printf (_("Overpaint: key for %s"), backend_id);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (secret_password_store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
op_keyring_store_async (const char          *backend_id,
                        const char          *secret,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autofree char *label = NULL;
  GTask *task;

  g_return_if_fail (backend_id != NULL && secret != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_keyring_store_async);
  label = label_for (backend_id);
  secret_password_store (keyring_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                         cancellable, stored_cb, task, "backend", backend_id, NULL);
}

gboolean
op_keyring_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
looked_up_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *secret = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, secret, (GDestroyNotify) secret_password_free);
}

void
op_keyring_lookup_async (const char          *backend_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (backend_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_keyring_lookup_async);
  secret_password_lookup (keyring_schema (), cancellable, looked_up_cb, task,
                          "backend", backend_id, NULL);
}

/* libsecret wipes its copies; ours is a plain string from here on. */
static char *
take_secret (char *secret)
{
  char *copy = NULL;

  if (secret != NULL && secret[0] != '\0')
    copy = g_strdup (secret);
  g_clear_pointer (&secret, secret_password_free);

  return copy;
}

/**
 * op_keyring_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the secret, or NULL when none is stored
 */
char *
op_keyring_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  return take_secret (g_task_propagate_pointer (G_TASK (result), error));
}

static void
cleared_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* "nothing to clear" is not an error */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
op_keyring_clear_async (const char          *backend_id,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (backend_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_keyring_clear_async);
  secret_password_clear (keyring_schema (), cancellable, cleared_cb, task,
                         "backend", backend_id, NULL);
}

gboolean
op_keyring_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

char *
op_keyring_lookup_sync (const char *backend_id)
{
  g_autoptr(GError) error = NULL;
  char *secret;

  g_return_val_if_fail (backend_id != NULL, NULL);

  secret = take_secret (secret_password_lookup_sync (keyring_schema (), NULL, &error,
                                                    "backend", backend_id, NULL));
  if (secret != NULL)
    return secret;
  if (error != NULL)
    g_debug ("The keyring could not be read (%s); using the environment", error->message);

  return op_keyring_secret_or_environment (backend_id, NULL);
}

/**
 * op_keyring_secret_or_environment:
 * @secret: (transfer full) (nullable): what the keyring had
 *
 * Returns: (transfer full) (nullable): @secret, or else the key in the backend's
 *   environment variable (an empty variable is no key)
 */
char *
op_keyring_secret_or_environment (const char *backend_id,
                                  char       *secret)
{
  const char *env_name;
  const char *value;

  g_return_val_if_fail (backend_id != NULL, secret);

  if (secret != NULL)
    return secret;

  env_name = op_keyring_env_name (backend_id);
  value = env_name != NULL ? g_getenv (env_name) : NULL;

  return value != NULL && value[0] != '\0' ? g_strdup (value) : NULL;
}
