/* op-document.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-document"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "op-document.h"

struct _OpDocument
{
  GObject parent_instance;

  /* Owned references */
  OpImage *image;
  OpMask *mask;
  OpMaskHistory *history;
  OpMaskStroke *stroke;
  GFile *file;

  OpRect stroke_changed;
};

enum {
  PROP_0,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_FILE,
  PROP_HAS_IMAGE,
  N_PROPS
};

enum {
  IMAGE_CHANGED,
  MASK_CHANGED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (OpDocument, op_document, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
notify_undo_state (OpDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

static void
emit_mask_changed (OpDocument   *self,
                   const OpRect *rect)
{
  if (op_rect_is_empty (rect))
    return;

  g_signal_emit (self, signals[MASK_CHANGED], 0, rect->x, rect->y, rect->width, rect->height);
}

typedef void (*MaskEditFunc) (OpDocument    *self,
                              OpMaskHistory *history,
                              gconstpointer  data,
                              OpRect        *changed);

/* Every whole edit goes through here: one undo step, one ::mask-changed. */
static void
run_mask_edit (OpDocument    *self,
               MaskEditFunc   func,
               gconstpointer  data)
{
  OpRect changed = { 0, };

  if (self->mask == NULL || self->stroke != NULL)
    return;

  op_mask_history_begin (self->history);
  func (self, self->history, data, &changed);
  op_mask_history_end (self->history);

  emit_mask_changed (self, &changed);
  notify_undo_state (self);
}

static void
edit_invert (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_invert (self->mask, h, changed);
}

static void
edit_clear (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_clear (self->mask, h, changed);
}

static void
edit_select_all (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_select_all (self->mask, h, changed);
}

static void
edit_grow (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_grow (self->mask, h, *(const int *) data, changed);
}

static void
edit_feather (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_feather (self->mask, h, *(const double *) data, changed);
}

typedef struct
{
  const OpRect *rect;
  const double *xy;
  guint n_points;
  OpMaskMode mode;
} ShapeEdit;

static void
edit_rect (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  const ShapeEdit *e = data;

  op_mask_fill_rect (self->mask, h, e->rect, e->mode, changed);
}

static void
edit_polygon (OpDocument *self, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  const ShapeEdit *e = data;

  op_mask_fill_polygon (self->mask, h, e->xy, e->n_points, e->mode, changed);
}

static void
op_document_dispose (GObject *object)
{
  OpDocument *self = (OpDocument *) object;

  if (self->stroke != NULL)
    op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);
  g_clear_pointer (&self->history, op_mask_history_free);
  g_clear_pointer (&self->mask, op_mask_unref);
  g_clear_pointer (&self->image, op_image_unref);
  g_clear_object (&self->file);

  G_OBJECT_CLASS (op_document_parent_class)->dispose (object);
}

static void
op_document_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  OpDocument *self = OP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, op_document_can_undo (self));
      break;

    case PROP_CAN_REDO:
      g_value_set_boolean (value, op_document_can_redo (self));
      break;

    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;

    case PROP_HAS_IMAGE:
      g_value_set_boolean (value, self->image != NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_document_class_init (OpDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = op_document_dispose;
  object_class->get_property = op_document_get_property;

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_IMAGE] =
    g_param_spec_boolean ("has-image", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * OpDocument::image-changed:
   *
   * A new picture replaced the old one (and with it a new empty mask).
   */
  signals[IMAGE_CHANGED] =
    g_signal_new ("image-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * OpDocument::mask-changed:
   *
   * Mask pixels changed inside the rectangle (picture coordinates).
   */
  signals[MASK_CHANGED] =
    g_signal_new ("mask-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_INT, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
}

static void
op_document_init (OpDocument *self)
{
}

OpDocument *
op_document_new (void)
{
  return g_object_new (OP_TYPE_DOCUMENT, NULL);
}

OpImage *
op_document_get_image (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->image;
}

OpMask *
op_document_get_mask (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->mask;
}

GFile *
op_document_get_file (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->file;
}

/**
 * op_document_dup_title:
 *
 * Returns: (transfer full): the file's display name, or "Untitled" for a pasted picture.
 */
char *
op_document_dup_title (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);

  if (self->file == NULL)
    return g_strdup (_("Untitled"));

  return g_file_get_basename (self->file);
}

/**
 * op_document_set_image:
 * @image: (transfer none): the new picture
 * @file: (nullable): where it came from
 *
 * Replaces the picture; the mask and its history start afresh.
 */
void
op_document_set_image (OpDocument *self,
                       OpImage    *image,
                       GFile      *file)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (image != NULL);

  if (self->stroke != NULL)
    op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);

  g_clear_pointer (&self->history, op_mask_history_free);
  g_clear_pointer (&self->mask, op_mask_unref);
  g_clear_pointer (&self->image, op_image_unref);

  self->image = op_image_ref (image);
  self->mask = op_mask_new (op_image_get_width (image), op_image_get_height (image));
  self->history = op_mask_history_new (self->mask, OP_DOCUMENT_UNDO_BYTES);
  g_set_object (&self->file, file);

  g_signal_emit (self, signals[IMAGE_CHANGED], 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_IMAGE]);
  notify_undo_state (self);
}

static void
load_file_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  OpImage *image;

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be opened."));
      return;
    }

  image = op_image_new_from_file (path, &error);
  if (image == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, image, (GDestroyNotify) op_image_unref);
}

static void
load_bytes_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;
  OpImage *image;

  image = op_image_new_from_bytes (task_data, &error);
  if (image == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, image, (GDestroyNotify) op_image_unref);
}

/**
 * op_document_load_async:
 *
 * Decodes @file off the main thread.  The document changes only when the picture
 * decoded: a failed open leaves it exactly as it was.
 */
void
op_document_load_async (OpDocument         *self,
                        GFile              *file,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_document_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_file_thread);
}

static gboolean
finish_load (OpDocument    *self,
             GAsyncResult  *result,
             GFile         *file,
             GError       **error)
{
  g_autoptr(OpImage) image = NULL;

  image = g_task_propagate_pointer (G_TASK (result), error);
  if (image == NULL)
    return FALSE;

  op_document_set_image (self, image, file);
  return TRUE;
}

gboolean
op_document_load_finish (OpDocument    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return finish_load (self, result, g_task_get_task_data (G_TASK (result)), error);
}

void
op_document_load_bytes_async (OpDocument         *self,
                              GBytes             *bytes,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (bytes != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_document_load_bytes_async);
  g_task_set_task_data (task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, load_bytes_thread);
}

gboolean
op_document_load_bytes_finish (OpDocument    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return finish_load (self, result, NULL, error);
}

typedef struct
{
  OpImage *image;
  char *path;
} ExportData;

static void
export_data_free (ExportData *data)
{
  g_clear_pointer (&data->image, op_image_unref);
  g_free (data->path);
  g_free (data);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *data = task_data;
  GError *error = NULL;

  if (op_image_save_png (data->image, data->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * op_document_export_async:
 *
 * Encodes the current picture as PNG off the main thread and replaces @file atomically.
 */
void
op_document_export_async (OpDocument         *self,
                          GFile              *file,
                          GCancellable       *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportData *data;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, op_document_export_async);

  if (self->image == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("There is no picture to export."));
      return;
    }

  data = g_new0 (ExportData, 1);
  data->image = op_image_ref (self->image);
  data->path = g_file_get_path (file);
  g_task_set_task_data (task, data, (GDestroyNotify) export_data_free);

  if (data->path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Pictures can only be exported to local folders."));
      return;
    }

  g_task_run_in_thread (task, export_thread);
}

gboolean
op_document_export_finish (OpDocument    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
op_document_stroke_begin (OpDocument    *self,
                          const OpBrush *brush,
                          double         x,
                          double         y,
                          double         pressure)
{
  OpRect changed = { 0, };

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (brush != NULL);

  if (self->mask == NULL || self->stroke != NULL)
    return;

  op_mask_history_begin (self->history);
  self->stroke = op_mask_stroke_begin (self->mask, self->history, brush, x, y, pressure,
                                       &changed);
  emit_mask_changed (self, &changed);
}

void
op_document_stroke_to (OpDocument *self,
                       double      x,
                       double      y,
                       double      pressure)
{
  OpRect changed = { 0, };

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (self->stroke == NULL)
    return;

  op_mask_stroke_to (self->stroke, x, y, pressure, &changed);
  emit_mask_changed (self, &changed);
}

void
op_document_stroke_end (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (self->stroke == NULL)
    return;

  op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);
  op_mask_history_end (self->history);
  notify_undo_state (self);
}

gboolean
op_document_is_stroking (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->stroke != NULL;
}

void
op_document_fill_rect (OpDocument   *self,
                       const OpRect *rect,
                       OpMaskMode    mode)
{
  ShapeEdit e = { rect, NULL, 0, mode };

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (rect != NULL);

  run_mask_edit (self, edit_rect, &e);
}

void
op_document_fill_polygon (OpDocument   *self,
                          const double *xy,
                          guint         n_points,
                          OpMaskMode    mode)
{
  ShapeEdit e = { NULL, xy, n_points, mode };

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (xy != NULL || n_points == 0);

  run_mask_edit (self, edit_polygon, &e);
}

void
op_document_invert_mask (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  run_mask_edit (self, edit_invert, NULL);
}

void
op_document_clear_mask (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  run_mask_edit (self, edit_clear, NULL);
}

void
op_document_select_all (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  run_mask_edit (self, edit_select_all, NULL);
}

void
op_document_grow_mask (OpDocument *self,
                       int         radius)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  run_mask_edit (self, edit_grow, &radius);
}

void
op_document_feather_mask (OpDocument *self,
                          double      radius)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  run_mask_edit (self, edit_feather, &radius);
}

gboolean
op_document_can_undo (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->history != NULL && self->stroke == NULL &&
         op_mask_history_can_undo (self->history);
}

gboolean
op_document_can_redo (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->history != NULL && self->stroke == NULL &&
         op_mask_history_can_redo (self->history);
}

void
op_document_undo (OpDocument *self)
{
  OpRect changed = { 0, };

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (!op_document_can_undo (self))
    return;

  op_mask_history_undo (self->history, &changed);
  emit_mask_changed (self, &changed);
  notify_undo_state (self);
}

void
op_document_redo (OpDocument *self)
{
  OpRect changed = { 0, };

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (!op_document_can_redo (self))
    return;

  op_mask_history_redo (self->history, &changed);
  emit_mask_changed (self, &changed);
  notify_undo_state (self);
}

gsize
op_document_get_undo_bytes (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), 0);
  return self->history != NULL ? op_mask_history_get_bytes (self->history) : 0;
}
