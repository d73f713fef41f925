/* op-preferences-window.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-preferences-window"

#include "config.h"

#include <glib/gi18n.h>

#include "op-backend.h"
#include "op-backend-preferences.h"
#include "op-preferences-window.h"

struct _OpPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  /* Template widgets */
  GtkColorButton *mask_color_button;
  GtkAdjustment *mask_opacity_adjustment;
  GtkAdjustment *brush_spacing_adjustment;
};

G_DEFINE_FINAL_TYPE (OpPreferencesWindow, op_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
color_from_setting (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  GdkRGBA rgba;

  if (!gdk_rgba_parse (&rgba, g_variant_get_string (variant, NULL)))
    return FALSE;

  g_value_set_boxed (value, &rgba);
  return TRUE;
}

static GVariant *
color_to_setting (const GValue       *value,
                  const GVariantType *expected_type,
                  gpointer            user_data)
{
  const GdkRGBA *rgba = g_value_get_boxed (value);
  g_autofree char *text = gdk_rgba_to_string (rgba);

  return g_variant_new_string (text);
}

static void
op_preferences_window_class_init (OpPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/op-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OpPreferencesWindow, mask_color_button);
  gtk_widget_class_bind_template_child (widget_class, OpPreferencesWindow,
                                        mask_opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpPreferencesWindow,
                                        brush_spacing_adjustment);
}

static void
op_preferences_window_init (OpPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* One group per backend that talks to a service: its address, its key, a test. */
static void
add_backends_page (OpPreferencesWindow *self)
{
  const char * const *ids = op_backend_list_ids ();
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  guint n = 0;

  adw_preferences_page_set_title (page, _("Backends"));
  adw_preferences_page_set_icon_name (page, "network-server-symbolic");

  for (guint i = 0; ids[i] != NULL; i++)
    {
      GtkWidget *group;

      if (g_str_equal (ids[i], "local") || (group = op_backend_preferences_new (ids[i])) == NULL)
        continue;
      adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
      n++;
    }

  if (n == 0)
    {
      AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());

      adw_preferences_group_set_description (group,
                                             _("This build has only the built-in fill, "
                                               "which needs no address and no key."));
      adw_preferences_page_add (page, group);
    }

  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
}

GtkWindow *
op_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  OpPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (OP_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", TRUE,
                       NULL);

  g_settings_bind_with_mapping (settings, "mask-color", self->mask_color_button, "rgba",
                                G_SETTINGS_BIND_DEFAULT, color_from_setting, color_to_setting,
                                NULL, NULL);
  g_settings_bind (settings, "mask-opacity", self->mask_opacity_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "brush-spacing", self->brush_spacing_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  add_backends_page (self);

  return GTK_WINDOW (self);
}
