/* op-version-thumbnail.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-version-thumbnail"

#include "config.h"

#include <math.h>

#include "op-version-thumbnail.h"
#include "op-view-util.h"

#define CORNER_RADIUS 6.0
#define CHECKER_SIZE 6.0
#define RING_WIDTH 3.0
#define RING_GAP 1.0
#define BADGE_INSET 4.0
#define MAX_ASPECT 3

struct _OpVersionThumbnail
{
  GtkWidget parent_instance;

  /* Owned references */
  GdkTexture *texture;
  PangoLayout *badge;

  int width;
  int height;
  guint number;
  gboolean selected;
};

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_NUMBER,
  PROP_SELECTED,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (OpVersionThumbnail, op_version_thumbnail, GTK_TYPE_WIDGET)

static GParamSpec *properties[N_PROPS];

static void
lookup_accent (GtkWidget *widget,
               GdkRGBA   *color)
{
  GtkStyleContext *context = gtk_widget_get_style_context (widget);

  if (!gtk_style_context_lookup_color (context, "accent_bg_color", color))
    gdk_rgba_parse (color, "#3584e4");
}

static void
append_ring (GtkSnapshot   *snapshot,
             const graphene_rect_t *rect,
             double         radius,
             double         width,
             const GdkRGBA *color)
{
  GskRoundedRect outline;
  float widths[4] = { width, width, width, width };
  GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline, rect, radius);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
ensure_badge (OpVersionThumbnail *self)
{
  g_autofree char *text = NULL;
  PangoAttrList *attrs;

  if (self->badge != NULL || self->number == 0)
    return;

  text = g_strdup_printf ("%u", self->number);
  self->badge = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
  pango_layout_set_attributes (self->badge, attrs);
  pango_attr_list_unref (attrs);
}

static void
snapshot_badge (OpVersionThumbnail *self,
                GtkSnapshot        *snapshot,
                const GdkRGBA      *accent)
{
  static const GdkRGBA shade = { 0, 0, 0, 0.65 };
  static const GdkRGBA white = { 1, 1, 1, 1 };
  PangoRectangle ink, logical;
  GskRoundedRect pill;
  float height, width;

  ensure_badge (self);
  if (self->badge == NULL)
    return;

  pango_layout_get_pixel_extents (self->badge, &ink, &logical);
  height = logical.height + 2;
  width = MAX (height, logical.width + 10);

  gsk_rounded_rect_init_from_rect (&pill,
                                   &GRAPHENE_RECT_INIT (BADGE_INSET, BADGE_INSET, width, height),
                                   height / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &pill);
  gtk_snapshot_append_color (snapshot, self->selected ? accent : &shade, &pill.bounds);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot,
                          &GRAPHENE_POINT_INIT (BADGE_INSET + roundf ((width - logical.width) / 2),
                                                BADGE_INSET + 1));
  gtk_snapshot_append_layout (snapshot, self->badge, &white);
  gtk_snapshot_restore (snapshot);
}

/* Vfuncs */

static void
op_version_thumbnail_snapshot (GtkWidget   *widget,
                               GtkSnapshot *snapshot)
{
  OpVersionThumbnail *self = (OpVersionThumbnail *) widget;
  static const GdkRGBA hairline = { 0, 0, 0, 0.18 };
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, width, height);
  GskRoundedRect clip;
  GdkRGBA accent;

  lookup_accent (widget, &accent);

  gsk_rounded_rect_init_from_rect (&clip, &bounds, CORNER_RADIUS);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  if (self->texture != NULL)
    {
      op_view_append_checkerboard (snapshot, &bounds, CHECKER_SIZE, 0.86, 0.70);
      gtk_snapshot_append_texture (snapshot, self->texture, &bounds);
    }
  else
    {
      GdkRGBA placeholder;

      /* still scaling: a quiet tile rather than a checkerboard that reads as "empty" */
      gtk_style_context_get_color (gtk_widget_get_style_context (widget), &placeholder);
      placeholder.alpha *= 0.1f;
      gtk_snapshot_append_color (snapshot, &placeholder, &bounds);
    }
  gtk_snapshot_pop (snapshot);

  /* a hairline so a white picture still has an edge on a light window */
  append_ring (snapshot, &bounds, CORNER_RADIUS, 1, &hairline);

  if (self->selected)
    {
      double grow = RING_GAP + RING_WIDTH;

      append_ring (snapshot, &GRAPHENE_RECT_INIT (-grow, -grow, width + 2 * grow,
                                                  height + 2 * grow),
                   CORNER_RADIUS + grow, RING_WIDTH, &accent);
    }

  snapshot_badge (self, snapshot, &accent);
}

static void
op_version_thumbnail_measure (GtkWidget      *widget,
                              GtkOrientation  orientation,
                              int             for_size,
                              int            *minimum,
                              int            *natural,
                              int            *minimum_baseline,
                              int            *natural_baseline)
{
  OpVersionThumbnail *self = (OpVersionThumbnail *) widget;
  int width, height;

  op_version_thumbnail_compute_size (self->width, self->height, &width, &height);
  *minimum = *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? width : height;
}

static void
op_version_thumbnail_css_changed (GtkWidget         *widget,
                                  GtkCssStyleChange *change)
{
  OpVersionThumbnail *self = (OpVersionThumbnail *) widget;

  GTK_WIDGET_CLASS (op_version_thumbnail_parent_class)->css_changed (widget, change);

  /* the accent colour and the font come from the style */
  g_clear_object (&self->badge);
  gtk_widget_queue_draw (widget);
}

static void
op_version_thumbnail_dispose (GObject *object)
{
  OpVersionThumbnail *self = (OpVersionThumbnail *) object;

  g_clear_object (&self->texture);
  g_clear_object (&self->badge);

  G_OBJECT_CLASS (op_version_thumbnail_parent_class)->dispose (object);
}

static void
op_version_thumbnail_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  OpVersionThumbnail *self = OP_VERSION_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;

    case PROP_NUMBER:
      g_value_set_uint (value, self->number);
      break;

    case PROP_SELECTED:
      g_value_set_boolean (value, self->selected);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_version_thumbnail_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  OpVersionThumbnail *self = OP_VERSION_THUMBNAIL (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      op_version_thumbnail_set_texture (self, g_value_get_object (value));
      break;

    case PROP_NUMBER:
      op_version_thumbnail_set_number (self, g_value_get_uint (value));
      break;

    case PROP_SELECTED:
      op_version_thumbnail_set_selected (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_version_thumbnail_class_init (OpVersionThumbnailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = op_version_thumbnail_dispose;
  object_class->get_property = op_version_thumbnail_get_property;
  object_class->set_property = op_version_thumbnail_set_property;

  widget_class->snapshot = op_version_thumbnail_snapshot;
  widget_class->measure = op_version_thumbnail_measure;
  widget_class->css_changed = op_version_thumbnail_css_changed;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE, flags);
  properties[PROP_NUMBER] =
    g_param_spec_uint ("number", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_SELECTED] =
    g_param_spec_boolean ("selected", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "op-version-thumbnail");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
op_version_thumbnail_init (OpVersionThumbnail *self)
{
  gtk_widget_set_halign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
}

/* Public API */

GtkWidget *
op_version_thumbnail_new (void)
{
  return g_object_new (OP_TYPE_VERSION_THUMBNAIL, NULL);
}

void
op_version_thumbnail_compute_size (int  width,
                                   int  height,
                                   int *thumb_width,
                                   int *thumb_height)
{
  const int h = OP_VERSION_THUMBNAIL_HEIGHT;

  g_return_if_fail (thumb_width != NULL && thumb_height != NULL);

  *thumb_width = *thumb_height = h;
  if (width <= 0 || height <= 0)
    return;

  /* keep the aspect; a panorama gets lower rather than wider than three heights */
  *thumb_width = MAX (1, (int) round ((double) h * width / height));
  if (*thumb_width > MAX_ASPECT * h)
    {
      *thumb_width = MAX_ASPECT * h;
      *thumb_height = MAX (1, (int) round ((double) *thumb_width * height / width));
    }
}

void
op_version_thumbnail_set_picture_size (OpVersionThumbnail *self,
                                       int                 width,
                                       int                 height)
{
  g_return_if_fail (OP_IS_VERSION_THUMBNAIL (self));

  if (self->width == width && self->height == height)
    return;

  self->width = width;
  self->height = height;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

GdkTexture *
op_version_thumbnail_get_texture (OpVersionThumbnail *self)
{
  g_return_val_if_fail (OP_IS_VERSION_THUMBNAIL (self), NULL);
  return self->texture;
}

void
op_version_thumbnail_set_texture (OpVersionThumbnail *self,
                                  GdkTexture         *texture)
{
  g_return_if_fail (OP_IS_VERSION_THUMBNAIL (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (!g_set_object (&self->texture, texture))
    return;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
op_version_thumbnail_get_number (OpVersionThumbnail *self)
{
  g_return_val_if_fail (OP_IS_VERSION_THUMBNAIL (self), 0);
  return self->number;
}

/**
 * op_version_thumbnail_set_number:
 * @number: the badge, or 0 for none
 */
void
op_version_thumbnail_set_number (OpVersionThumbnail *self,
                                 guint               number)
{
  g_return_if_fail (OP_IS_VERSION_THUMBNAIL (self));

  if (self->number == number)
    return;

  self->number = number;
  g_clear_object (&self->badge);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NUMBER]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
op_version_thumbnail_get_selected (OpVersionThumbnail *self)
{
  g_return_val_if_fail (OP_IS_VERSION_THUMBNAIL (self), FALSE);
  return self->selected;
}

void
op_version_thumbnail_set_selected (OpVersionThumbnail *self,
                                   gboolean            selected)
{
  g_return_if_fail (OP_IS_VERSION_THUMBNAIL (self));

  selected = !!selected;
  if (self->selected == selected)
    return;

  self->selected = selected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
