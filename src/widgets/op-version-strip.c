/* op-version-strip.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-version-strip"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "op-version-strip.h"
#include "op-version-thumbnail.h"

/* A version's thumbnail rides on the version itself, so it lives exactly as long as the
 * version and survives the strip being rebuilt. */
#define THUMBNAIL_KEY "op-version-strip-thumbnail"

/* Painting a blend mask changes the picture many times a second: wait for a pause. */
#define REFRESH_DELAY_MS 300

struct _OpVersionStrip
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkScrolledWindow *scroller;
  GtkBox *box;

  /* Owned references */
  OpDocument *document;
  GPtrArray *versions;       /* shown, in order: index = the select action's target */
  GPtrArray *thumbnails;     /* index-aligned with versions; the box owns the widgets */
  GHashTable *pending;       /* versions whose thumbnail is being scaled */
  GCancellable *cancellable;

  guint refresh_id;
  guint scroll_id;
  gboolean has_variants;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_HAS_VARIANTS,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (OpVersionStrip, op_version_strip, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

typedef struct
{
  OpVersion *version;
  OpImage *picture;
  int width;
  int height;
} ScaleData;

static void
scale_data_free (ScaleData *data)
{
  g_clear_object (&data->version);
  g_clear_pointer (&data->picture, op_image_unref);
  g_free (data);
}

/* Which versions show */

/* The version whose variants the strip shows.  A variant that has variants of its own
 * anchors the strip itself, so clicking "Original" never makes the strip jump away. */
static OpVersion *
find_anchor (OpVersion *current)
{
  OpVersion *parent = op_version_get_parent (current);

  if (parent == NULL || op_version_get_n_children (current) > 0)
    return current;

  return parent;
}

/* The anchor first, then its children with each generation's variants together, in
 * the order the generations first appear. */
static GPtrArray *
collect_versions (OpVersion *anchor)
{
  GPtrArray *versions = g_ptr_array_new_with_free_func (g_object_unref);
  guint n = op_version_get_n_children (anchor);
  g_autofree gboolean *taken = g_new0 (gboolean, n);

  g_ptr_array_add (versions, g_object_ref (anchor));

  for (guint i = 0; i < n; i++)
    {
      guint generation;

      if (taken[i])
        continue;

      generation = op_version_get_generation (op_version_get_child (anchor, i));
      for (guint j = i; j < n; j++)
        {
          OpVersion *child = op_version_get_child (anchor, j);

          if (!taken[j] && op_version_get_generation (child) == generation)
            {
              taken[j] = TRUE;
              g_ptr_array_add (versions, g_object_ref (child));
            }
        }
    }

  return versions;
}

static gboolean
same_versions (GPtrArray *a,
               GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;

  for (guint i = 0; i < a->len; i++)
    if (a->pdata[i] != b->pdata[i])
      return FALSE;

  return TRUE;
}

static void
set_has_variants (OpVersionStrip *self,
                  gboolean        has_variants)
{
  if (self->has_variants == has_variants)
    return;

  self->has_variants = has_variants;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_VARIANTS]);
}

/* Thumbnails */

static void
thumbnail_pixel_size (OpVersionStrip *self,
                      OpVersion      *version,
                      int            *width,
                      int            *height)
{
  int scale = gtk_widget_get_scale_factor (GTK_WIDGET (self));

  op_version_thumbnail_compute_size (op_version_get_width (version),
                                     op_version_get_height (version), width, height);
  *width *= scale;
  *height *= scale;
}

static GdkTexture *
texture_from_image (OpImage *image)
{
  g_autoptr(GBytes) bytes = NULL;

  bytes = g_bytes_new_with_free_func (op_image_peek_data (image), op_image_get_size_bytes (image),
                                      (GDestroyNotify) op_image_unref, op_image_ref (image));
  return gdk_memory_texture_new (op_image_get_width (image), op_image_get_height (image),
                                 GDK_MEMORY_R8G8B8A8, bytes, op_image_get_stride (image));
}

static GdkTexture *
cached_thumbnail (OpVersionStrip *self,
                  OpVersion      *version)
{
  GdkTexture *texture = g_object_get_data (G_OBJECT (version), THUMBNAIL_KEY);
  int width, height;

  thumbnail_pixel_size (self, version, &width, &height);
  if (texture == NULL || gdk_texture_get_width (texture) != width ||
      gdk_texture_get_height (texture) != height)
    return NULL;

  return texture;
}

static OpVersionThumbnail *
thumbnail_for (OpVersionStrip *self,
               OpVersion      *version)
{
  guint index;

  if (!g_ptr_array_find (self->versions, version, &index))
    return NULL;

  return self->thumbnails->pdata[index];
}

static void
scale_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ScaleData *data = task_data;

  if (g_task_return_error_if_cancelled (task))
    return;

  /* op_image_scale averages boxes when shrinking: no moiré on a busy picture */
  g_task_return_pointer (task, op_image_scale (data->picture, NULL, data->width, data->height),
                         (GDestroyNotify) op_image_unref);
}

static void
scale_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  OpVersionStrip *self = OP_VERSION_STRIP (object);
  ScaleData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(OpImage) image = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  OpVersionThumbnail *thumbnail;

  image = g_task_propagate_pointer (G_TASK (result), NULL);
  if (image == NULL)
    return;   /* cancelled: the picture changed or the strip went away */

  g_hash_table_remove (self->pending, data->version);
  texture = texture_from_image (image);
  g_object_set_data_full (G_OBJECT (data->version), THUMBNAIL_KEY,
                          g_object_ref (texture), g_object_unref);

  thumbnail = thumbnail_for (self, data->version);
  if (thumbnail != NULL)
    op_version_thumbnail_set_texture (thumbnail, texture);
}

static void
request_thumbnail (OpVersionStrip *self,
                   OpVersion      *version)
{
  g_autoptr(GTask) task = NULL;
  ScaleData *data;
  OpImage *picture;

  if (g_hash_table_contains (self->pending, version))
    return;

  /* on the main loop: the version caches its composite */
  picture = op_version_get_composite (version);
  if (picture == NULL)
    return;

  data = g_new0 (ScaleData, 1);
  data->version = g_object_ref (version);
  data->picture = op_image_ref (picture);
  thumbnail_pixel_size (self, version, &data->width, &data->height);

  g_hash_table_add (self->pending, version);
  task = g_task_new (self, self->cancellable, scale_cb, NULL);
  g_task_set_source_tag (task, request_thumbnail);
  g_task_set_task_data (task, data, (GDestroyNotify) scale_data_free);
  g_task_run_in_thread (task, scale_thread);
}

static void
load_thumbnails (OpVersionStrip *self)
{
  for (guint i = 0; i < self->versions->len; i++)
    {
      OpVersion *version = self->versions->pdata[i];
      GdkTexture *texture = cached_thumbnail (self, version);

      op_version_thumbnail_set_texture (self->thumbnails->pdata[i], texture);
      if (texture == NULL)
        request_thumbnail (self, version);
    }
}

static void
cancel_thumbnails (OpVersionStrip *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_hash_table_remove_all (self->pending);
}

/* Widgets */

static gboolean
scroll_to_current_cb (GtkWidget     *widget,
                      GdkFrameClock *frame_clock,
                      gpointer       user_data)
{
  OpVersionStrip *self = OP_VERSION_STRIP (widget);
  OpVersion *current = op_document_get_current (self->document);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_hadjustment (self->scroller);
  OpVersionThumbnail *thumbnail = current != NULL ? thumbnail_for (self, current) : NULL;
  graphene_rect_t bounds;
  double value, page;

  self->scroll_id = 0;
  if (thumbnail == NULL ||
      !gtk_widget_compute_bounds (GTK_WIDGET (thumbnail), GTK_WIDGET (self->box), &bounds))
    return G_SOURCE_REMOVE;

  value = gtk_adjustment_get_value (adjustment);
  page = gtk_adjustment_get_page_size (adjustment);
  if (bounds.origin.x < value)
    gtk_adjustment_set_value (adjustment, bounds.origin.x - 12);
  else if (bounds.origin.x + bounds.size.width > value + page)
    gtk_adjustment_set_value (adjustment, bounds.origin.x + bounds.size.width + 12 - page);

  return G_SOURCE_REMOVE;
}

static void
queue_scroll_to_current (OpVersionStrip *self)
{
  /* a frame later, once the new thumbnails have their place */
  if (self->scroll_id == 0)
    self->scroll_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_to_current_cb,
                                                    NULL, NULL);
}

static void
update_selection (OpVersionStrip *self)
{
  OpVersion *current = op_document_get_current (self->document);

  for (guint i = 0; i < self->versions->len; i++)
    op_version_thumbnail_set_selected (self->thumbnails->pdata[i],
                                       self->versions->pdata[i] == current);
  queue_scroll_to_current (self);
}

static void
clear_box (OpVersionStrip *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->box))) != NULL)
    gtk_box_remove (self->box, child);
  g_ptr_array_set_size (self->thumbnails, 0);
}

static GtkWidget *
create_button (OpVersionStrip *self,
               OpVersion      *version,
               guint           index,
               guint           number)
{
  g_autofree char *summary = op_version_dup_summary (version);
  g_autofree char *label = NULL;
  GtkWidget *button, *thumbnail;

  thumbnail = op_version_thumbnail_new ();
  op_version_thumbnail_set_picture_size (OP_VERSION_THUMBNAIL (thumbnail),
                                         op_version_get_width (version),
                                         op_version_get_height (version));
  op_version_thumbnail_set_number (OP_VERSION_THUMBNAIL (thumbnail), number);
  g_ptr_array_add (self->thumbnails, thumbnail);

  button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (button), thumbnail);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "image-button");
  gtk_widget_set_valign (button, GTK_ALIGN_END);
  gtk_widget_set_tooltip_text (button, summary);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "version-strip.select");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "u", index);

  if (number > 0)
    /* Translators: the accessible name of a variant's thumbnail */
    label = g_strdup_printf (_("Variant %u"), number);
  else
    label = g_strdup (_("Original"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, summary,
                                  -1);

  return button;
}

static GtkWidget *
create_group (const char *caption,
              GtkWidget **row)
{
  GtkWidget *group, *label;

  group = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  label = gtk_label_new (caption);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_start (label, 5);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_add_css_class (label, "dim-label");
  gtk_box_append (GTK_BOX (group), label);

  *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
  gtk_box_append (GTK_BOX (group), *row);

  return group;
}

static void
append_group (OpVersionStrip *self,
              GtkWidget      *group)
{
  if (gtk_widget_get_first_child (GTK_WIDGET (self->box)) != NULL)
    gtk_box_append (self->box, gtk_separator_new (GTK_ORIENTATION_VERTICAL));
  gtk_box_append (self->box, group);
}

static guint
count_generation (GPtrArray *versions,
                  guint      start)
{
  guint generation = op_version_get_generation (versions->pdata[start]);
  guint n = 0;

  while (start + n < versions->len &&
         op_version_get_generation (versions->pdata[start + n]) == generation)
    n++;

  return n;
}

static void
rebuild (OpVersionStrip *self)
{
  GtkWidget *group, *row;
  guint index = 1, ordinal = 1;

  clear_box (self);
  if (self->versions->len == 0)
    return;

  group = create_group (_("Original"), &row);
  gtk_box_append (GTK_BOX (row), create_button (self, self->versions->pdata[0], 0, 0));
  append_group (self, group);

  while (index < self->versions->len)
    {
      guint n = count_generation (self->versions, index);
      g_autofree char *caption = NULL;

      /* Translators: a group of thumbnails in the version strip, "Generation 2 · 4 variants" */
      caption = g_strdup_printf (ngettext ("Generation %u · %u variant",
                                           "Generation %u · %u variants", n),
                                 ordinal++, n);
      group = create_group (caption, &row);
      for (guint i = 0; i < n; i++, index++)
        gtk_box_append (GTK_BOX (row),
                        create_button (self, self->versions->pdata[index], index, i + 1));
      append_group (self, group);
    }
}

static void
update (OpVersionStrip *self)
{
  g_autoptr(GPtrArray) versions = NULL;
  OpVersion *current = NULL;

  if (self->document != NULL)
    current = op_document_get_current (self->document);

  if (current != NULL)
    versions = collect_versions (find_anchor (current));
  else
    versions = g_ptr_array_new_with_free_func (g_object_unref);

  if (!same_versions (versions, self->versions))
    {
      g_ptr_array_unref (self->versions);
      self->versions = g_steal_pointer (&versions);
      rebuild (self);
      load_thumbnails (self);
    }

  if (self->versions->len > 0)
    update_selection (self);
  set_has_variants (self, self->versions->len > 1);
}

/* Callbacks */

static void
on_document_versions_changed_cb (OpVersionStrip *self,
                                 OpDocument     *document)
{
  update (self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  OpVersionStrip *self = user_data;
  OpVersion *current = op_document_get_current (self->document);

  self->refresh_id = 0;
  if (current == NULL)
    return G_SOURCE_REMOVE;

  /* a blend edit changes the current picture and every picture made from it */
  g_object_set_data (G_OBJECT (current), THUMBNAIL_KEY, NULL);
  for (guint i = 0; i < op_version_get_n_children (current); i++)
    g_object_set_data (G_OBJECT (op_version_get_child (current, i)), THUMBNAIL_KEY, NULL);

  cancel_thumbnails (self);
  load_thumbnails (self);

  return G_SOURCE_REMOVE;
}

static void
on_document_picture_changed_cb (OpVersionStrip *self,
                                int             x,
                                int             y,
                                int             width,
                                int             height,
                                OpDocument     *document)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

static void
on_scale_factor_changed_cb (OpVersionStrip *self,
                            GParamSpec     *pspec,
                            gpointer        user_data)
{
  /* sharp on the new monitor: thumbnails of the new pixel size */
  cancel_thumbnails (self);
  load_thumbnails (self);
}

static gboolean
on_scroll_cb (OpVersionStrip           *self,
              double                    dx,
              double                    dy,
              GtkEventControllerScroll *controller)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_hadjustment (self->scroller);
  double step = 1.0;

  /* a plain mouse wheel scrolls the only way the strip goes */
  if (dx != 0.0 || dy == 0.0)
    return FALSE;

  if (gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_WHEEL)
    step = pow (gtk_adjustment_get_page_size (adjustment), 2.0 / 3.0);

  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_value (adjustment) + dy * step);
  return TRUE;
}

/* Actions */

static void
version_strip_select_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  OpVersionStrip *self = OP_VERSION_STRIP (widget);
  guint index = g_variant_get_uint32 (param);

  if (self->document == NULL || index >= self->versions->len)
    return;

  if (op_document_get_current (self->document) != self->versions->pdata[index])
    op_document_set_current (self->document, self->versions->pdata[index]);
}

/* GObject */

static void
op_version_strip_dispose (GObject *object)
{
  OpVersionStrip *self = (OpVersionStrip *) object;

  op_version_strip_set_document (self, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->scroll_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_id);
      self->scroll_id = 0;
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), OP_TYPE_VERSION_STRIP);

  G_OBJECT_CLASS (op_version_strip_parent_class)->dispose (object);
}

static void
op_version_strip_finalize (GObject *object)
{
  OpVersionStrip *self = (OpVersionStrip *) object;

  g_clear_pointer (&self->versions, g_ptr_array_unref);
  g_clear_pointer (&self->thumbnails, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);

  G_OBJECT_CLASS (op_version_strip_parent_class)->finalize (object);
}

static void
op_version_strip_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  OpVersionStrip *self = OP_VERSION_STRIP (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;

    case PROP_HAS_VARIANTS:
      g_value_set_boolean (value, self->has_variants);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_version_strip_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  OpVersionStrip *self = OP_VERSION_STRIP (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      op_version_strip_set_document (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_version_strip_class_init (OpVersionStripClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = op_version_strip_dispose;
  object_class->finalize = op_version_strip_finalize;
  object_class->get_property = op_version_strip_get_property;
  object_class->set_property = op_version_strip_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, OP_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_VARIANTS] =
    g_param_spec_boolean ("has-variants", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "version-strip.select", "u",
                                   version_strip_select_action);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE "/op-version-strip.ui");
  gtk_widget_class_bind_template_child (widget_class, OpVersionStrip, scroller);
  gtk_widget_class_bind_template_child (widget_class, OpVersionStrip, box);
  gtk_widget_class_bind_template_callback (widget_class, on_scroll_cb);

  gtk_widget_class_set_css_name (widget_class, "op-version-strip");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  g_type_ensure (OP_TYPE_VERSION_THUMBNAIL);
}

static void
op_version_strip_init (OpVersionStrip *self)
{
  self->versions = g_ptr_array_new_with_free_func (g_object_unref);
  self->thumbnails = g_ptr_array_new ();
  self->pending = g_hash_table_new (NULL, NULL);
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (self, "notify::scale-factor", G_CALLBACK (on_scale_factor_changed_cb), NULL);
}

/* Public API */

GtkWidget *
op_version_strip_new (void)
{
  return g_object_new (OP_TYPE_VERSION_STRIP, NULL);
}

OpDocument *
op_version_strip_get_document (OpVersionStrip *self)
{
  g_return_val_if_fail (OP_IS_VERSION_STRIP (self), NULL);
  return self->document;
}

void
op_version_strip_set_document (OpVersionStrip *self,
                               OpDocument     *document)
{
  g_return_if_fail (OP_IS_VERSION_STRIP (self));
  g_return_if_fail (document == NULL || OP_IS_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_handle_id (&self->refresh_id, g_source_remove);

  g_set_object (&self->document, document);

  if (document != NULL)
    {
      /* image-changed covers a newly opened picture, whose tree is new */
      g_signal_connect_object (document, "versions-changed",
                               G_CALLBACK (on_document_versions_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "image-changed",
                               G_CALLBACK (on_document_versions_changed_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "picture-changed",
                               G_CALLBACK (on_document_picture_changed_cb), self,
                               G_CONNECT_SWAPPED);
    }

  cancel_thumbnails (self);
  update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

gboolean
op_version_strip_get_has_variants (OpVersionStrip *self)
{
  g_return_val_if_fail (OP_IS_VERSION_STRIP (self), FALSE);
  return self->has_variants;
}
