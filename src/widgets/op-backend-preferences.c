/* op-backend-preferences.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-backend-preferences"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "op-backend.h"
#include "op-backend-preferences.h"
#include "op-keyring.h"
#include "op-parameter-sidebar.h"
#include "op-stability-backend.h"

struct _OpBackendPreferences
{
  AdwPreferencesGroup parent_instance;

  /* Template widgets */
  AdwEntryRow *url_row;
  AdwEntryRow *secret_row;
  AdwActionRow *test_row;
  GtkButton *test_button;
  GtkButton *forget_button;

  /* Owned references */
  OpBackend *backend;
  GSettings *settings;
  GCancellable *cancellable;
  char *id;
  gboolean has_secret;
};

G_DEFINE_FINAL_TYPE (OpBackendPreferences, op_backend_preferences, ADW_TYPE_PREFERENCES_GROUP)

static gboolean
uses_basic_auth (OpBackendPreferences *self)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (self->backend), "api-auth") != NULL;
}

static void
show_secret_state (OpBackendPreferences *self)
{
  const char *env = op_keyring_env_name (self->id);

  if (self->has_secret)
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->secret_row),
                                 _("Stored in the keyring. Type a new one to replace it."));
  else if (env != NULL)
    {
      g_autofree char *tip = g_strdup_printf (_("None stored: %s from the environment is used "
                                                "when set."), env);

      gtk_widget_set_tooltip_text (GTK_WIDGET (self->secret_row), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->secret_row), _("None stored."));

  gtk_widget_set_sensitive (GTK_WIDGET (self->forget_button), self->has_secret);
}

static void
looked_up_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = op_keyring_lookup_finish (result, &error);

  /* only whether there is one: the secret itself never reaches a widget */
  self->has_secret = secret != NULL;
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    adw_action_row_set_subtitle (self->test_row, _("The keyring could not be read."));
  show_secret_state (self);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!op_keyring_store_finish (result, &error))
    {
      g_warning ("Could not store the key: %s", error->message);
      adw_action_row_set_subtitle (self->test_row,
                                   _("The keyring refused the key; it was not stored."));
      return;
    }

  self->has_secret = TRUE;
  show_secret_state (self);
  adw_action_row_set_subtitle (self->test_row, _("Stored in the keyring. Not tested yet"));
}

static void
on_secret_row_apply_cb (OpBackendPreferences *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->secret_row));

  if (text[0] == '\0')
    return;
  if (uses_basic_auth (self) && strchr (text, ':') == NULL)
    {
      adw_action_row_set_subtitle (self->test_row,
                                   _("Write the user name and password as user:password."));
      return;
    }

  op_keyring_store_async (self->id, text, self->cancellable, stored_cb, g_object_ref (self));
  /* the field never keeps the secret on screen once it is in the keyring */
  gtk_editable_set_text (GTK_EDITABLE (self->secret_row), "");
}

static void
cleared_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autoptr(GError) error = NULL;

  if (op_keyring_clear_finish (result, &error))
    self->has_secret = FALSE;
  show_secret_state (self);
}

static void
on_forget_clicked_cb (OpBackendPreferences *self)
{
  op_keyring_clear_async (self->id, self->cancellable, cleared_cb, g_object_ref (self));
}

static void
on_url_row_apply_cb (OpBackendPreferences *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->url_row));
  g_autoptr(GUri) uri = NULL;

  if (text[0] != '\0' &&
      ((uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL)) == NULL ||
       (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
        g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)))
    {
      adw_action_row_set_subtitle (self->test_row,
                                   _("The address must start with http:// or https://."));
      return;
    }

  g_settings_set_string (self->settings, "url", text);
}

static void
balance_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autofree char *text = NULL;
  double credits;

  if (!op_stability_backend_get_balance_finish (OP_STABILITY_BACKEND (object), result, &credits,
                                                NULL))
    return;

  text = g_strdup_printf (_("%s; %.1f credits left"),
                          adw_action_row_get_subtitle (self->test_row), credits);
  adw_action_row_set_subtitle (self->test_row, text);
}

static void
models_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) models = op_backend_list_models_finish (OP_BACKEND (object), result, &error);
  g_autofree char *text = NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->test_button), TRUE);
  if (models == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      adw_action_row_set_subtitle (self->test_row, error->message);
      return;
    }

  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Connected: %u model available",
                                       "Connected: %u models available",
                                       g_strv_length (models)),
                          g_strv_length (models));
  adw_action_row_set_subtitle (self->test_row, text);

  /* where the service says how much is left, say it too */
  if (OP_IS_STABILITY_BACKEND (self->backend))
    op_stability_backend_get_balance_async (OP_STABILITY_BACKEND (self->backend),
                                            self->cancellable, balance_cb,
                                            g_object_ref (self));
}

static void
test_with_secret_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(OpBackendPreferences) self = user_data;
  g_autofree char *secret = NULL;
  g_autofree char *url = g_settings_get_string (self->settings, "url");
  g_autoptr(GError) error = NULL;

  secret = op_keyring_secret_or_environment (self->id, op_keyring_lookup_finish (result, NULL));
  if (!op_backend_configure_service (self->backend, url, secret, &error))
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->test_button), TRUE);
      adw_action_row_set_subtitle (self->test_row, error->message);
      return;
    }

  op_backend_list_models_async (self->backend, self->cancellable, models_cb,
                                g_object_ref (self));
}

static void
on_test_clicked_cb (OpBackendPreferences *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->test_button), FALSE);
  adw_action_row_set_subtitle (self->test_row, _("Testing…"));
  op_keyring_lookup_async (self->id, self->cancellable, test_with_secret_cb,
                           g_object_ref (self));
}

static void
op_backend_preferences_dispose (GObject *object)
{
  OpBackendPreferences *self = (OpBackendPreferences *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->backend);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->id, g_free);

  G_OBJECT_CLASS (op_backend_preferences_parent_class)->dispose (object);
}

static void
op_backend_preferences_class_init (OpBackendPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = op_backend_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/op-backend-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, OpBackendPreferences, url_row);
  gtk_widget_class_bind_template_child (widget_class, OpBackendPreferences, secret_row);
  gtk_widget_class_bind_template_child (widget_class, OpBackendPreferences, test_row);
  gtk_widget_class_bind_template_child (widget_class, OpBackendPreferences, test_button);
  gtk_widget_class_bind_template_child (widget_class, OpBackendPreferences, forget_button);
  gtk_widget_class_bind_template_callback (widget_class, on_url_row_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_secret_row_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_forget_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_test_clicked_cb);
}

static void
op_backend_preferences_init (OpBackendPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}

/**
 * op_backend_preferences_new:
 *
 * Returns: (transfer floating) (nullable): NULL for an unknown backend
 */
GtkWidget *
op_backend_preferences_new (const char *backend_id)
{
  g_autoptr(OpBackend) backend = NULL;
  g_autofree char *url = NULL;
  GParamSpec *url_spec;
  OpBackendPreferences *self;

  g_return_val_if_fail (backend_id != NULL, NULL);

  backend = op_backend_new_for_id (backend_id, NULL);
  if (backend == NULL)
    return NULL;

  self = g_object_new (OP_TYPE_BACKEND_PREFERENCES, NULL);
  self->id = g_strdup (backend_id);
  self->backend = g_steal_pointer (&backend);
  self->settings = op_backend_settings_new (backend_id);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self),
                                   op_backend_get_name (self->backend));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->secret_row),
                                 uses_basic_auth (self)
                                 ? _("User and Password (user:password)")
                                 : _("API Key"));
  url_spec = g_object_class_find_property (G_OBJECT_GET_CLASS (self->backend), "url");
  if (url_spec != NULL && G_IS_PARAM_SPEC_STRING (url_spec) &&
      G_PARAM_SPEC_STRING (url_spec)->default_value != NULL)
    {
      g_autofree char *description =
        /* Translators: %s is the service's default address */
        g_strdup_printf (_("An empty address means %s."),
                         G_PARAM_SPEC_STRING (url_spec)->default_value);

      adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), description);
    }

  url = g_settings_get_string (self->settings, "url");
  gtk_editable_set_text (GTK_EDITABLE (self->url_row), url);
  gtk_widget_set_visible (GTK_WIDGET (self->url_row),
                          g_object_class_find_property (G_OBJECT_GET_CLASS (self->backend),
                                                        "url") != NULL);

  op_keyring_lookup_async (self->id, self->cancellable, looked_up_cb, g_object_ref (self));

  return GTK_WIDGET (self);
}
