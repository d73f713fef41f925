/* op-application.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-application"

#include "config.h"

#include <glib/gi18n.h>

#include "op-application.h"
#include "op-preferences-window.h"
#include "op-window.h"

struct _OpApplication
{
  AdwApplication parent_instance;

  /* Owned references */
  GSettings *settings;

  gboolean recovery_offered;
};

G_DEFINE_FINAL_TYPE (OpApplication, op_application, ADW_TYPE_APPLICATION)

static OpWindow *
get_or_create_window (OpApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (op_window_new (ADW_APPLICATION (self), self->settings));

  return OP_WINDOW (window);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  OpApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Close rather than quit so every window saves its state. */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  OpApplication *self = user_data;
  static const char *developers[] = { "The Overpaint developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "application-name", _("Overpaint"),
                         "application-icon", APP_ID,
                         "developer-name", _("The Overpaint developers"),
                         "version", PACKAGE_VERSION,
                         "website", "https://github.com/overpaint/overpaint",
                         "issue-url", "https://github.com/overpaint/overpaint/issues",
                         "copyright", "© 2026 The Overpaint developers",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         /* Translators: your names, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  OpApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWindow *preferences = op_preferences_window_new (parent, self->settings);

  gtk_window_present (preferences);
}

static const GActionEntry app_entries[] = {
  { "quit", quit_action },
  { "about", about_action },
  { "preferences", preferences_action },
};

static const struct {
  const char *action;
  const char *accels[3];
} app_accels[] = {
  { "app.quit", { "<Control>q", NULL } },
  { "app.preferences", { "<Control>comma", NULL } },
  { "win.open", { "<Control>o", NULL } },
  { "win.save", { "<Control>s", NULL } },
  { "win.save-as", { "<Control><Shift>s", NULL } },
  { "win.export", { "<Control><Shift>e", NULL } },
  { "win.paste", { "<Control>v", NULL } },
  { "win.undo", { "<Control>z", NULL } },
  { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
  { "win.invert-mask", { "<Control>i", NULL } },
  { "win.select-all", { "<Control>a", NULL } },
  { "win.clear-mask", { "<Control><Shift>a", NULL } },
  { "win.zoom-in", { "<Control>plus", "<Control>equal", NULL } },
  { "win.zoom-out", { "<Control>minus", NULL } },
  { "win.zoom-fit", { "<Control>0", NULL } },
  { "win.generate", { "<Control>Return", "<Control>KP_Enter", NULL } },
  /* enabled only while a job runs, so Escape reaches popovers and dialogs otherwise */
  { "win.cancel-generation", { "Escape", NULL } },
};

static void
op_application_startup (GApplication *application)
{
  OpApplication *self = (OpApplication *) application;

  G_APPLICATION_CLASS (op_application_parent_class)->startup (application);

  self->settings = g_settings_new (APP_ID);
  gtk_window_set_default_icon_name (APP_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries,
                                   G_N_ELEMENTS (app_entries), self);
  for (guint i = 0; i < G_N_ELEMENTS (app_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), app_accels[i].action,
                                           app_accels[i].accels);
}

/* The first window offers what a crash left unsaved. */
static void
offer_recovery_once (OpApplication *self,
                     OpWindow      *window)
{
  if (self->recovery_offered)
    return;

  self->recovery_offered = TRUE;
  op_window_offer_recovery (window);
}

static void
op_application_activate (GApplication *application)
{
  OpApplication *self = OP_APPLICATION (application);
  OpWindow *window = get_or_create_window (self);

  gtk_window_present (GTK_WINDOW (window));
  offer_recovery_once (self, window);
}

static void
op_application_open (GApplication  *application,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  OpWindow *window = get_or_create_window (OP_APPLICATION (application));

  /* One picture per window for now: the first file wins. */
  if (n_files > 0)
    op_window_open_file (window, files[0]);

  gtk_window_present (GTK_WINDOW (window));
  offer_recovery_once (OP_APPLICATION (application), window);
}

static void
op_application_shutdown (GApplication *application)
{
  OpApplication *self = (OpApplication *) application;

  G_APPLICATION_CLASS (op_application_parent_class)->shutdown (application);
  g_clear_object (&self->settings);
}

static void
op_application_class_init (OpApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = op_application_startup;
  app_class->activate = op_application_activate;
  app_class->open = op_application_open;
  app_class->shutdown = op_application_shutdown;
}

static void
op_application_init (OpApplication *self)
{
}

OpApplication *
op_application_new (void)
{
  return g_object_new (OP_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", RESOURCE_BASE,
                       NULL);
}
