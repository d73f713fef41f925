/* op-window.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-window"

#include "config.h"

#include <glib/gi18n.h>

#include "op-export.h"
#include "op-window-private.h"

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (OpWindow, op_window, ADW_TYPE_APPLICATION_WINDOW)

static GParamSpec *properties[N_PROPS];

static const char * const document_actions[] = {
  "export", "save", "save-as", "invert-mask", "clear-mask", "select-all", "grow-mask", "feather-mask",
  "zoom-in", "zoom-out", "zoom-fit", "zoom-100",
};

void
_op_window_set_action_enabled (OpWindow   *self,
                               const char *name,
                               gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  /* the generation actions arrive in constructed, after the first update */
  if (action == NULL)
    return;

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
update_actions (OpWindow *self)
{
  gboolean has_image = op_document_get_image (self->document) != NULL;

  for (guint i = 0; i < G_N_ELEMENTS (document_actions); i++)
    _op_window_set_action_enabled (self, document_actions[i], has_image);

  _op_window_set_action_enabled (self, "undo", op_document_can_undo (self->document));
  _op_window_set_action_enabled (self, "redo", op_document_can_redo (self->document));
}

void
op_window_show_error (OpWindow   *self,
                      const char *message)
{
  AdwToast *toast;

  g_return_if_fail (OP_IS_WINDOW (self));

  g_warning ("%s", message);
  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
_op_window_show_message (OpWindow   *self,
                         const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

void
_op_window_remember_folder (OpWindow *self,
                            GFile    *file)
{
  g_autoptr(GFile) parent = NULL;
  g_autofree char *uri = NULL;

  if (file == NULL || (parent = g_file_get_parent (file)) == NULL)
    return;

  uri = g_file_get_uri (parent);
  g_settings_set_string (self->settings, "last-folder", uri);
}

static void
set_chooser_folder (OpWindow             *self,
                    GtkFileChooserNative *chooser)
{
  g_autofree char *uri = g_settings_get_string (self->settings, "last-folder");
  g_autoptr(GFile) folder = NULL;

  if (uri[0] == '\0')
    return;

  folder = g_file_new_for_uri (uri);
  if (g_file_query_file_type (folder, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
}

/* Callbacks */

static void
on_document_image_changed_cb (OpWindow   *self,
                              OpDocument *document)
{
  _op_window_update_title (self);
  gtk_stack_set_visible_child_name (self->view_stack, "canvas");
  gtk_widget_grab_focus (GTK_WIDGET (self->canvas));
  update_actions (self);
}

static void
on_document_undo_state_cb (OpWindow   *self,
                           GParamSpec *pspec,
                           OpDocument *document)
{
  update_actions (self);
}

static void
on_canvas_zoom_cb (OpWindow   *self,
                   GParamSpec *pspec,
                   OpCanvas   *canvas)
{
  g_autofree char *text = NULL;
  double zoom = op_canvas_get_zoom (canvas);

  text = g_strdup_printf ("%.*f%%", zoom < 0.1 ? 1 : 0, zoom * 100.0);
  gtk_label_set_label (self->zoom_label, text);
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!op_document_load_finish (OP_DOCUMENT (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (self, error->message);
      return;
    }

  _op_window_remember_folder (self, op_document_get_file (OP_DOCUMENT (object)));
}

static void
load_bytes_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!op_document_load_bytes_finish (OP_DOCUMENT (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *message = g_strdup_printf (_("Could not paste the picture: %s"),
                                                  error->message);
      op_window_show_error (self, message);
    }
}

typedef struct
{
  OpWindow *self;
  GFile *file;
} ExportOp;

static void
export_op_free (ExportOp *op)
{
  g_clear_object (&op->self);
  g_clear_object (&op->file);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportOp, export_op_free)

static void
export_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ExportOp) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (op->file);
  g_autofree char *message = NULL;

  if (!op_document_export_finish (OP_DOCUMENT (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_window_show_error (op->self, error->message);
      return;
    }

  message = g_strdup_printf (_("Exported “%s”"), name);
  _op_window_show_message (op->self, message);
  _op_window_remember_folder (op->self, op->file);
}

static void
on_open_response_cb (OpWindow             *self,
                     int                   response,
                     GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      _op_window_open_file_confirmed (self, file);
    }

  g_clear_object (&self->chooser);
}

static void
on_export_response_cb (OpWindow             *self,
                       int                   response,
                       GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      op_window_export_file (self, file);
    }

  g_clear_object (&self->chooser);
}

static gboolean
on_drop_cb (OpWindow      *self,
            const GValue  *value,
            double         x,
            double         y,
            GtkDropTarget *target)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;

  _op_window_open_file_confirmed (self, files->data);
  return TRUE;
}

static void
on_clipboard_texture_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(OpWindow) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  if (texture == NULL)
    {
      op_window_show_error (self, _("The clipboard holds no picture."));
      return;
    }

  /* Through PNG so a pasted picture takes the same checked path as a file. */
  png = gdk_texture_save_to_png_bytes (texture);
  op_document_load_bytes_async (self->document, png, self->cancellable, load_bytes_cb,
                                g_object_ref (self));
}

/* Actions */

static void
open_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Open a Picture or Project"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Pictures and projects"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_filter_add_mime_type (filter, OP_PROJECT_MIME_TYPE);
  gtk_file_filter_add_suffix (filter, "ora");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  set_chooser_folder (self, self->chooser);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_open_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
export_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  OpWindow *self = user_data;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *title = NULL;
  g_autofree char *name = NULL;
  char *dot;

  if (self->chooser != NULL || op_document_get_image (self->document) == NULL)
    return;

  self->chooser = gtk_file_chooser_native_new (_("Export as PNG"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Export"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("PNG pictures"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  set_chooser_folder (self, self->chooser);

  title = op_document_dup_title (self->document);
  if ((dot = strrchr (title, '.')) != NULL)
    *dot = '\0';
  name = g_strdup_printf (_("%s (edited).png"), title);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);

  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_export_response_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
paste_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  OpWindow *self = user_data;
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));

  gdk_clipboard_read_texture_async (clipboard, self->cancellable, on_clipboard_texture_cb,
                                    g_object_ref (self));
}

#define DOCUMENT_ACTION(name, call)                                   \
  static void                                                         \
  name##_action (GSimpleAction *action,                               \
                 GVariant      *param,                                \
                 gpointer       user_data)                            \
  {                                                                   \
    OpWindow *self = user_data;                                       \
    call;                                                             \
  }

DOCUMENT_ACTION (undo, op_document_undo (self->document))
DOCUMENT_ACTION (redo, op_document_redo (self->document))
DOCUMENT_ACTION (invert_mask, op_document_invert_mask (self->document))
DOCUMENT_ACTION (clear_mask, op_document_clear_mask (self->document))
DOCUMENT_ACTION (select_all, op_document_select_all (self->document))
DOCUMENT_ACTION (grow_mask, op_document_grow_mask (self->document,
                                                   gtk_spin_button_get_value_as_int (self->grow_spin)))
DOCUMENT_ACTION (feather_mask, op_document_feather_mask (self->document,
                                                         gtk_spin_button_get_value (self->feather_spin)))
DOCUMENT_ACTION (zoom_in, op_canvas_zoom_in (self->canvas))
DOCUMENT_ACTION (zoom_out, op_canvas_zoom_out (self->canvas))
DOCUMENT_ACTION (zoom_fit, op_canvas_zoom_to_fit (self->canvas))
DOCUMENT_ACTION (zoom_100, op_canvas_set_zoom (self->canvas, 1.0))

static const GActionEntry win_entries[] = {
  { "open", open_action },
  { "export", export_action },
  { "paste", paste_action },
  { "undo", undo_action },
  { "redo", redo_action },
  { "invert-mask", invert_mask_action },
  { "clear-mask", clear_mask_action },
  { "select-all", select_all_action },
  { "grow-mask", grow_mask_action },
  { "feather-mask", feather_mask_action },
  { "zoom-in", zoom_in_action },
  { "zoom-out", zoom_out_action },
  { "zoom-fit", zoom_fit_action },
  { "zoom-100", zoom_100_action },
};

/* GObject */

static const char * const setting_actions[] = { "tool", "selection-mode", "mask-visible" };

static void
bind_settings (OpWindow *self)
{
  GSettings *s = self->settings;

  for (guint i = 0; i < G_N_ELEMENTS (setting_actions); i++)
    {
      g_autoptr(GAction) action = g_settings_create_action (s, setting_actions[i]);

      g_action_map_add_action (G_ACTION_MAP (self), action);
    }

  g_settings_bind (s, "tool", self->canvas, "tool", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "selection-mode", self->canvas, "selection-mode", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-size", self->canvas, "brush-size", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-hardness", self->canvas, "brush-hardness", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-opacity", self->canvas, "brush-opacity", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-spacing", self->canvas, "brush-spacing", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "mask-color", self->canvas, "mask-color", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "mask-opacity", self->canvas, "mask-opacity", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "mask-visible", self->canvas, "mask-visible", G_SETTINGS_BIND_DEFAULT);

  g_settings_bind (s, "brush-size", self->brush_size_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-hardness", self->brush_hardness_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "brush-opacity", self->brush_opacity_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (s, "window-width"),
                               g_settings_get_int (s, "window-height"));
  if (g_settings_get_boolean (s, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static gboolean
op_window_close_request (GtkWindow *window)
{
  OpWindow *self = (OpWindow *) window;
  int width, height;

  if (_op_window_project_close_request (self))
    return TRUE;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  return GTK_WINDOW_CLASS (op_window_parent_class)->close_request (window);
}

static void
op_window_constructed (GObject *object)
{
  OpWindow *self = (OpWindow *) object;

  G_OBJECT_CLASS (op_window_parent_class)->constructed (object);

  g_assert (self->settings != NULL);
  bind_settings (self);
  _op_window_generate_init (self);
  _op_window_describe_init (self);
  _op_window_project_init (self);
  update_actions (self);
}

static void
op_window_dispose (GObject *object)
{
  OpWindow *self = (OpWindow *) object;

  _op_window_project_dispose (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  _op_window_describe_dispose (self);
  _op_window_generate_dispose (self);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);

  /* Settings actions hold the settings; something in GTK keeps the window's action
   * group alive past dispose, so take them out explicitly. */
  for (guint i = 0; i < G_N_ELEMENTS (setting_actions); i++)
    g_action_map_remove_action (G_ACTION_MAP (self), setting_actions[i]);

  gtk_widget_dispose_template (GTK_WIDGET (self), OP_TYPE_WINDOW);

  g_clear_object (&self->document);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (op_window_parent_class)->dispose (object);
}

static void
op_window_finalize (GObject *object)
{
  _op_window_project_finalize (OP_WINDOW (object));

  G_OBJECT_CLASS (op_window_parent_class)->finalize (object);
}

static void
op_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  OpWindow *self = OP_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_window_class_init (OpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = op_window_constructed;
  object_class->dispose = op_window_dispose;
  object_class->finalize = op_window_finalize;
  object_class->set_property = op_window_set_property;
  window_class->close_request = op_window_close_request;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (OP_TYPE_CANVAS);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_BASE "/op-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, canvas);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, brush_size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, brush_hardness_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, brush_opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, grow_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, feather_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, margin_left_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, margin_right_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, margin_top_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, margin_bottom_spin);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, strip_revealer);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, strip_box);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, sidebar_box);
  gtk_widget_class_bind_template_child (widget_class, OpWindow, recent_section);
}

static void
op_window_init (OpWindow *self)
{
  GtkDropTarget *target;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->document = op_document_new ();
  op_canvas_set_document (self->canvas, self->document);

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries,
                                   G_N_ELEMENTS (win_entries), self);

  g_signal_connect_object (self->document, "image-changed",
                           G_CALLBACK (on_document_image_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::can-undo",
                           G_CALLBACK (on_document_undo_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::can-redo",
                           G_CALLBACK (on_document_undo_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->canvas, "notify::zoom",
                           G_CALLBACK (on_canvas_zoom_cb), self, G_CONNECT_SWAPPED);

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (target, "drop", G_CALLBACK (on_drop_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->view_stack), GTK_EVENT_CONTROLLER (target));

  update_actions (self);
}

OpWindow *
op_window_new (AdwApplication *application,
               GSettings      *settings)
{
  return g_object_new (OP_TYPE_WINDOW,
                       "application", application,
                       "settings", settings,
                       NULL);
}

OpDocument *
op_window_get_document (OpWindow *self)
{
  g_return_val_if_fail (OP_IS_WINDOW (self), NULL);
  return self->document;
}

OpCanvas *
op_window_get_canvas (OpWindow *self)
{
  g_return_val_if_fail (OP_IS_WINDOW (self), NULL);
  return self->canvas;
}

/**
 * op_window_open_file:
 *
 * Opens a picture or a project (.ora) off the main thread; a failure shows a toast and
 * changes nothing.  It replaces the document without asking: the actions ask first.
 */
void
op_window_open_file (OpWindow *self,
                     GFile    *file)
{
  g_return_if_fail (OP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  if (op_project_is_project_path (g_file_peek_path (file)))
    {
      _op_window_open_project (self, file);
      return;
    }

  op_document_load_async (self->document, file, self->cancellable, load_cb, g_object_ref (self));
}

void
op_window_export_file (OpWindow *self,
                       GFile    *file)
{
  g_auto(GStrv) texts = NULL;
  ExportOp *op;

  g_return_if_fail (OP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  op = g_new0 (ExportOp, 1);
  op->self = g_object_ref (self);
  op->file = g_object_ref (file);
  if (op_document_get_current (self->document) != NULL)
    texts = op_export_dup_texts (op_document_get_current (self->document));
  op_document_export_async (self->document, file, (const char * const *) texts,
                            self->cancellable, export_cb, op);
}
