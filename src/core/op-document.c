/* op-document.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-document"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "op-document.h"

/* The brush mask of one version and its undo history, made when first needed. */
typedef struct
{
  OpMask *mask;
  OpMaskHistory *history;
} MaskState;

typedef enum
{
  STEP_MASK,      /* a mask edit: undone by the mask's own history */
  STEP_CURRENT,   /* another version became current */
  STEP_ADD,       /* variants were added under a parent */
  STEP_DISCARD,   /* a variant was removed */
  STEP_BASE,      /* the current picture became the new root */
  STEP_MARGINS,   /* the outpaint margins changed */
} StepKind;

/* One undo step of the document.  The version tree steps keep references to what they
 * took away, so undo can put it back exactly. */
typedef struct
{
  StepKind kind;
  OpVersion *version;      /* MASK: whose mask; ADD, DISCARD: the parent */
  gboolean blend;          /* MASK: the blend mask, not the brush mask */
  GPtrArray *versions;     /* ADD: those added; DISCARD: the one removed */
  int index;               /* DISCARD: where it was */
  OpVersion *root_before;  /* BASE */
  OpVersion *root_after;
  OpVersion *current_before;
  OpVersion *current_after;
  OpMargins margins_before;
  OpMargins margins_after;
} Step;

struct _OpDocument
{
  GObject parent_instance;

  /* Owned references */
  OpVersion *root;
  OpVersion *current;
  GHashTable *brush;          /* OpVersion → MaskState */
  GHashTable *blend;          /* OpVersion → OpMaskHistory of its blend mask */
  GQueue undo;
  GQueue redo;
  OpMaskStroke *stroke;
  GFile *file;

  OpMaskTarget target;
  OpMargins margins;
  gboolean stroke_blend;
  gboolean file_is_project;
  gboolean modified;
  guint last_generation;
};

enum {
  PROP_0,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_FILE,
  PROP_HAS_IMAGE,
  PROP_MASK_TARGET,
  PROP_MODIFIED,
  N_PROPS
};

enum {
  IMAGE_CHANGED,
  PICTURE_CHANGED,
  MASK_CHANGED,
  VERSIONS_CHANGED,
  MARGINS_CHANGED,
  CHANGED,
  N_SIGNALS
};

G_DEFINE_FINAL_TYPE (OpDocument, op_document, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
mask_state_free (MaskState *state)
{
  g_clear_pointer (&state->history, op_mask_history_free);
  g_clear_pointer (&state->mask, op_mask_unref);
  g_free (state);
}

static void
step_free (Step *step)
{
  g_clear_object (&step->version);
  g_clear_pointer (&step->versions, g_ptr_array_unref);
  g_clear_object (&step->root_before);
  g_clear_object (&step->root_after);
  g_clear_object (&step->current_before);
  g_clear_object (&step->current_after);
  g_free (step);
}

static void
clear_queue (GQueue *queue)
{
  g_queue_clear_full (queue, (GDestroyNotify) step_free);
}

static void
notify_undo_state (OpDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

static void
emit_rect (OpDocument   *self,
           guint         signal,
           const OpRect *rect)
{
  if (op_rect_is_empty (rect))
    return;

  g_signal_emit (self, signals[signal], 0, rect->x, rect->y, rect->width, rect->height);
}

static MaskState *
brush_state (OpDocument *self,
             OpVersion  *version)
{
  MaskState *state = g_hash_table_lookup (self->brush, version);

  if (state == NULL)
    {
      state = g_new0 (MaskState, 1);
      state->mask = op_mask_new (op_version_get_width (version), op_version_get_height (version));
      state->history = op_mask_history_new (state->mask, OP_DOCUMENT_UNDO_BYTES);
      g_hash_table_insert (self->brush, g_object_ref (version), state);
    }

  return state;
}

static OpMaskHistory *
blend_history (OpDocument *self,
               OpVersion  *version)
{
  OpMaskHistory *history = g_hash_table_lookup (self->blend, version);

  if (history == NULL)
    {
      history = op_mask_history_new (op_version_get_blend (version), OP_DOCUMENT_UNDO_BYTES / 4);
      g_hash_table_insert (self->blend, g_object_ref (version), history);
    }

  return history;
}

static gboolean
editing_blend (OpDocument *self)
{
  return self->target == OP_MASK_TARGET_BLEND && self->current != NULL &&
         !op_version_is_root (self->current);
}

/* Every change a project keeps (each undo step, undone or redone) goes through here. */
static void
mark_changed (OpDocument *self)
{
  if (!self->modified)
    {
      self->modified = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
    }

  g_signal_emit (self, signals[CHANGED], 0);
}

static void
push_step (OpDocument *self,
           Step       *step)
{
  g_queue_push_tail (&self->undo, step);
  clear_queue (&self->redo);
  notify_undo_state (self);
  mark_changed (self);
}

static Step *
step_new (StepKind kind)
{
  Step *step = g_new0 (Step, 1);

  step->kind = kind;
  return step;
}

/* A blend mask changed over @rect (mask coordinates): the picture changes there. */
static void
blend_changed (OpDocument   *self,
               OpVersion    *version,
               const OpRect *mask_rect)
{
  OpRect patch, rect;

  if (op_rect_is_empty (mask_rect))
    return;

  op_version_get_rect (version, &patch);
  rect = (OpRect) { mask_rect->x + patch.x, mask_rect->y + patch.y,
                    mask_rect->width, mask_rect->height };
  op_version_update_composite (version, &rect);

  if (version == self->current)
    {
      emit_rect (self, PICTURE_CHANGED, &rect);
      if (editing_blend (self))
        emit_rect (self, MASK_CHANGED, &rect);
    }
}

static void
brush_changed (OpDocument   *self,
               OpVersion    *version,
               const OpRect *rect)
{
  if (version == self->current && !editing_blend (self))
    emit_rect (self, MASK_CHANGED, rect);
}

/* The current version, or the tree, changed: everything shown is different. */
static void
set_current_internal (OpDocument      *self,
                      OpVersion       *version,
                      const OpMargins *margins)
{
  gboolean target_changed = FALSE;

  g_set_object (&self->current, version);
  self->margins = *margins;

  if (self->target == OP_MASK_TARGET_BLEND && op_version_is_root (version))
    {
      self->target = OP_MASK_TARGET_BRUSH;
      target_changed = TRUE;
    }

  g_signal_emit (self, signals[IMAGE_CHANGED], 0);
  g_signal_emit (self, signals[VERSIONS_CHANGED], 0);
  g_signal_emit (self, signals[MARGINS_CHANGED], 0);
  if (target_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MASK_TARGET]);
}

typedef void (*MaskEditFunc) (OpMask        *mask,
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
  OpMaskHistory *history;
  OpMask *mask;
  Step *step;
  gboolean blend;

  if (self->current == NULL || self->stroke != NULL)
    return;

  blend = editing_blend (self);
  if (blend)
    {
      mask = op_version_get_blend (self->current);
      history = blend_history (self, self->current);
    }
  else
    {
      MaskState *state = brush_state (self, self->current);

      mask = state->mask;
      history = state->history;
    }

  op_mask_history_begin (history);
  func (mask, history, data, &changed);
  if (!op_mask_history_end (history))
    return;

  step = step_new (STEP_MASK);
  step->version = g_object_ref (self->current);
  step->blend = blend;
  push_step (self, step);

  if (blend)
    blend_changed (self, self->current, &changed);
  else
    brush_changed (self, self->current, &changed);
}

static void
edit_invert (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_invert (mask, h, changed);
}

static void
edit_clear (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_clear (mask, h, changed);
}

static void
edit_select_all (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_select_all (mask, h, changed);
}

static void
edit_grow (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_grow (mask, h, *(const int *) data, changed);
}

static void
edit_feather (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  op_mask_feather (mask, h, *(const double *) data, changed);
}

typedef struct
{
  OpRect rect;
  const double *xy;
  guint n_points;
  OpMaskMode mode;
} ShapeEdit;

static void
edit_rect (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  const ShapeEdit *e = data;

  op_mask_fill_rect (mask, h, &e->rect, e->mode, changed);
}

static void
edit_polygon (OpMask *mask, OpMaskHistory *h, gconstpointer data, OpRect *changed)
{
  const ShapeEdit *e = data;

  op_mask_fill_polygon (mask, h, e->xy, e->n_points, e->mode, changed);
}

static void
op_document_dispose (GObject *object)
{
  OpDocument *self = (OpDocument *) object;

  if (self->stroke != NULL)
    op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);
  clear_queue (&self->undo);
  clear_queue (&self->redo);
  g_clear_pointer (&self->brush, g_hash_table_unref);
  g_clear_pointer (&self->blend, g_hash_table_unref);
  g_clear_object (&self->current);
  g_clear_object (&self->root);
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
      g_value_set_boolean (value, self->root != NULL);
      break;

    case PROP_MASK_TARGET:
      g_value_set_int (value, self->target);
      break;

    case PROP_MODIFIED:
      g_value_set_boolean (value, self->modified);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_document_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  OpDocument *self = OP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_MASK_TARGET:
      op_document_set_mask_target (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
op_document_class_init (OpDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = op_document_dispose;
  object_class->get_property = op_document_get_property;
  object_class->set_property = op_document_set_property;

  properties[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, ro);
  properties[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, ro);
  properties[PROP_FILE] = g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE, ro);
  properties[PROP_HAS_IMAGE] = g_param_spec_boolean ("has-image", NULL, NULL, FALSE, ro);
  properties[PROP_MASK_TARGET] =
    g_param_spec_int ("mask-target", NULL, NULL, OP_MASK_TARGET_BRUSH, OP_MASK_TARGET_BLEND,
                      OP_MASK_TARGET_BRUSH,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODIFIED] = g_param_spec_boolean ("modified", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[IMAGE_CHANGED] =
    g_signal_new ("image-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[PICTURE_CHANGED] =
    g_signal_new ("picture-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_INT, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  signals[MASK_CHANGED] =
    g_signal_new ("mask-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_INT, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  signals[VERSIONS_CHANGED] =
    g_signal_new ("versions-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[MARGINS_CHANGED] =
    g_signal_new ("margins-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
op_document_init (OpDocument *self)
{
  self->brush = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                       (GDestroyNotify) mask_state_free);
  self->blend = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                       (GDestroyNotify) op_mask_history_free);
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);
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

  if (self->current == NULL)
    return NULL;

  return op_version_get_composite (self->current);
}

OpMask *
op_document_get_mask (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);

  if (self->current == NULL)
    return NULL;
  if (editing_blend (self))
    return op_version_get_blend (self->current);

  return brush_state (self, self->current)->mask;
}

void
op_document_get_mask_origin (OpDocument *self,
                             int        *x,
                             int        *y)
{
  OpRect rect = { 0, };

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (editing_blend (self))
    op_version_get_rect (self->current, &rect);

  *x = rect.x;
  *y = rect.y;
}

OpMask *
op_document_get_brush_mask (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);

  if (self->current == NULL)
    return NULL;

  return brush_state (self, self->current)->mask;
}

OpMaskTarget
op_document_get_mask_target (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), OP_MASK_TARGET_BRUSH);
  return self->target;
}

/**
 * op_document_set_mask_target:
 *
 * Chooses what mask edits paint on.  The blend mask exists only on a variant: on the
 * original picture the target stays the brush mask.
 */
void
op_document_set_mask_target (OpDocument   *self,
                             OpMaskTarget  target)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (target == OP_MASK_TARGET_BLEND &&
      (self->current == NULL || op_version_is_root (self->current)))
    target = OP_MASK_TARGET_BRUSH;

  if (target == self->target || self->stroke != NULL)
    return;

  self->target = target;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MASK_TARGET]);
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
 * Replaces the picture: a new version tree, masks and undo history start afresh.
 */
void
op_document_set_image (OpDocument *self,
                       OpImage    *image,
                       GFile      *file)
{
  static const OpMargins none = { 0, 0, 0, 0 };
  g_autoptr(OpVersion) root = NULL;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (image != NULL);

  if (self->stroke != NULL)
    op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);

  clear_queue (&self->undo);
  clear_queue (&self->redo);
  g_hash_table_remove_all (self->brush);
  g_hash_table_remove_all (self->blend);
  self->last_generation = 0;

  root = op_version_new_root (image);
  op_document_restore (self, root, root, &none, NULL, 0, file, FALSE);
}

/**
 * op_document_restore:
 * @root: (transfer none): the version tree
 * @current: a version in it
 * @brush_masks: (nullable) (element-type OpVersion OpMask): brush masks of versions
 *   in the tree, each the size of its version
 * @file: (nullable): where the document came from
 * @is_project: whether @file is a project (Save writes to it) or a picture
 *
 * Replaces everything (an opened picture, a project or a recovered copy): masks and
 * undo history start afresh, and the document is unmodified.
 */
void
op_document_restore (OpDocument      *self,
                     OpVersion       *root,
                     OpVersion       *current,
                     const OpMargins *margins,
                     GHashTable      *brush_masks,
                     guint            last_generation,
                     GFile           *file,
                     gboolean         is_project)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (OP_IS_VERSION (root) && op_version_is_root (root));
  g_return_if_fail (OP_IS_VERSION (current));
  g_return_if_fail (margins != NULL);

  if (self->stroke != NULL)
    op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);

  clear_queue (&self->undo);
  clear_queue (&self->redo);
  g_hash_table_remove_all (self->brush);
  g_hash_table_remove_all (self->blend);
  self->last_generation = last_generation;

  if (brush_masks != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, brush_masks);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          MaskState *state;

          g_return_if_fail (op_mask_get_width (value) == op_version_get_width (key) &&
                            op_mask_get_height (value) == op_version_get_height (key));
          state = g_new0 (MaskState, 1);
          state->mask = op_mask_copy (value);
          state->history = op_mask_history_new (state->mask, OP_DOCUMENT_UNDO_BYTES);
          g_hash_table_insert (self->brush, g_object_ref (key), state);
        }
    }

  g_set_object (&self->root, root);
  g_set_object (&self->file, file);
  self->file_is_project = file != NULL && is_project;
  self->modified = FALSE;
  set_current_internal (self, current, margins);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_IMAGE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
  notify_undo_state (self);
}

/* The brush mask @version has, or NULL when it never had one painted. */
OpMask *
op_document_peek_brush_mask (OpDocument *self,
                             OpVersion  *version)
{
  MaskState *state;

  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);

  state = g_hash_table_lookup (self->brush, version);
  return state != NULL ? state->mask : NULL;
}

gboolean
op_document_is_modified (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->modified;
}

/**
 * op_document_get_project_file:
 *
 * Returns: (nullable) (transfer none): the project the document was opened from or
 *   saved to, or NULL for a picture opened or pasted (Save asks where).
 */
GFile *
op_document_get_project_file (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->file_is_project ? self->file : NULL;
}

/**
 * op_document_saved:
 * @file: the project it was saved to
 *
 * After a save: the document is unmodified and belongs to @file.
 */
void
op_document_saved (OpDocument *self,
                   GFile      *file)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->file == NULL || !g_file_equal (self->file, file) || !self->file_is_project)
    {
      g_set_object (&self->file, file);
      self->file_is_project = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
    }

  if (self->modified)
    {
      self->modified = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODIFIED]);
    }
}

/* For a recovered copy: changes nobody has saved yet. */
void
op_document_set_modified (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  mark_changed (self);
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

/* One picture to write: its pixels (a copy), where, and its text chunks. */
typedef struct
{
  OpImage *image;
  char *path;
  GStrv texts;     /* key, text, key, text, … */
} ExportItem;

static void
export_item_free (ExportItem *item)
{
  g_clear_pointer (&item->image, op_image_unref);
  g_free (item->path);
  g_strfreev (item->texts);
  g_free (item);
}

static gboolean
export_item_write (ExportItem  *item,
                   GError     **error)
{
  guint n = item->texts != NULL ? g_strv_length (item->texts) / 2 : 0;
  g_autofree OpPngText *texts = g_new0 (OpPngText, n + 1);

  for (guint i = 0; i < n; i++)
    {
      texts[i].key = item->texts[2 * i];
      texts[i].text = item->texts[2 * i + 1];
    }

  return op_image_save_png_with_text (item->image, item->path, texts, n, error);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GPtrArray *items = task_data;
  GError *error = NULL;

  for (guint i = 0; i < items->len; i++)
    {
      if (g_task_return_error_if_cancelled (task))
        return;
      if (!export_item_write (items->pdata[i], &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  g_task_return_boolean (task, TRUE);
}

static ExportItem *
export_item_new (OpImage             *image,
                 GFile               *file,
                 const char * const  *texts)
{
  ExportItem *item = g_new0 (ExportItem, 1);

  /* a copy: blend edits change the shown picture in place while the thread encodes */
  item->image = op_image_copy (image);
  item->path = g_file_get_path (file);
  item->texts = g_strdupv ((char **) texts);

  return item;
}

static void
run_export (OpDocument         *self,
            GPtrArray          *items,
            GCancellable       *cancellable,
            GAsyncReadyCallback callback,
            gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, op_document_export_async);
  g_task_set_task_data (task, items, (GDestroyNotify) g_ptr_array_unref);

  for (guint i = 0; i < items->len; i++)
    if (((ExportItem *) items->pdata[i])->path == NULL)
      {
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                 _("Pictures can only be exported to local folders."));
        return;
      }

  g_task_run_in_thread (task, export_thread);
}

/**
 * op_document_export_async:
 * @texts: (nullable) (array zero-terminated=1): PNG text chunks, key and text in turn
 *
 * Encodes the current picture as PNG off the main thread and replaces @file atomically.
 */
void
op_document_export_async (OpDocument          *self,
                          GFile               *file,
                          const char * const  *texts,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GPtrArray *items;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (G_IS_FILE (file));

  if (op_document_get_image (self) == NULL)
    {
      g_task_report_new_error (self, callback, user_data, op_document_export_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("There is no picture to export."));
      return;
    }

  items = g_ptr_array_new_with_free_func ((GDestroyNotify) export_item_free);
  g_ptr_array_add (items, export_item_new (op_document_get_image (self), file, texts));
  run_export (self, items, cancellable, callback, user_data);
}

/**
 * op_document_export_versions_async:
 * @versions: (element-type OpVersion): what to write
 * @files: (element-type GFile): where, one per version
 * @texts: (element-type GStrv) (nullable): text chunks per version
 *
 * "Export all variants": each version's picture to its own file, off the main thread.
 */
void
op_document_export_versions_async (OpDocument          *self,
                                   GPtrArray           *versions,
                                   GPtrArray           *files,
                                   GPtrArray           *texts,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GPtrArray *items;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (versions != NULL && files != NULL && versions->len == files->len);
  g_return_if_fail (texts == NULL || texts->len == versions->len);

  items = g_ptr_array_new_with_free_func ((GDestroyNotify) export_item_free);
  for (guint i = 0; i < versions->len; i++)
    g_ptr_array_add (items, export_item_new (op_version_get_composite (versions->pdata[i]),
                                             files->pdata[i],
                                             texts != NULL ? texts->pdata[i] : NULL));
  run_export (self, items, cancellable, callback, user_data);
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
  OpMaskHistory *history;
  OpMask *mask;
  int ox, oy;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (brush != NULL);

  if (self->current == NULL || self->stroke != NULL)
    return;

  self->stroke_blend = editing_blend (self);
  mask = op_document_get_mask (self);
  op_document_get_mask_origin (self, &ox, &oy);
  history = self->stroke_blend ? blend_history (self, self->current)
                               : brush_state (self, self->current)->history;

  op_mask_history_begin (history);
  self->stroke = op_mask_stroke_begin (mask, history, brush, x - ox, y - oy, pressure, &changed);
  if (self->stroke_blend)
    blend_changed (self, self->current, &changed);
  else
    brush_changed (self, self->current, &changed);
  notify_undo_state (self);
}

void
op_document_stroke_to (OpDocument *self,
                       double      x,
                       double      y,
                       double      pressure)
{
  OpRect changed = { 0, };
  int ox, oy;

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (self->stroke == NULL)
    return;

  op_document_get_mask_origin (self, &ox, &oy);
  op_mask_stroke_to (self->stroke, x - ox, y - oy, pressure, &changed);
  if (self->stroke_blend)
    blend_changed (self, self->current, &changed);
  else
    brush_changed (self, self->current, &changed);
}

void
op_document_stroke_end (OpDocument *self)
{
  OpMaskHistory *history;
  Step *step;

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (self->stroke == NULL)
    return;

  op_mask_stroke_end (g_steal_pointer (&self->stroke), NULL);
  history = self->stroke_blend ? blend_history (self, self->current)
                               : brush_state (self, self->current)->history;

  if (!op_mask_history_end (history))
    {
      notify_undo_state (self);
      return;
    }

  step = step_new (STEP_MASK);
  step->version = g_object_ref (self->current);
  step->blend = self->stroke_blend;
  push_step (self, step);
}

gboolean
op_document_is_stroking (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->stroke != NULL;
}

static void
translate (OpRect *rect,
           int     dx,
           int     dy)
{
  rect->x += dx;
  rect->y += dy;
}

void
op_document_fill_rect (OpDocument   *self,
                       const OpRect *rect,
                       OpMaskMode    mode)
{
  ShapeEdit e = { { 0, }, NULL, 0, mode };
  int ox, oy;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (rect != NULL);

  op_document_get_mask_origin (self, &ox, &oy);
  e.rect = *rect;
  translate (&e.rect, -ox, -oy);
  run_mask_edit (self, edit_rect, &e);
}

void
op_document_fill_polygon (OpDocument   *self,
                          const double *xy,
                          guint         n_points,
                          OpMaskMode    mode)
{
  g_autofree double *local = NULL;
  ShapeEdit e = { { 0, }, NULL, n_points, mode };
  int ox, oy;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (xy != NULL || n_points == 0);

  op_document_get_mask_origin (self, &ox, &oy);
  local = g_new (double, 2 * (gsize) n_points + 1);
  for (guint i = 0; i < n_points; i++)
    {
      local[2 * i] = xy[2 * i] - ox;
      local[2 * i + 1] = xy[2 * i + 1] - oy;
    }
  e.xy = local;
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

/* Versions */

OpVersion *
op_document_get_root (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->root;
}

OpVersion *
op_document_get_current (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  return self->current;
}

static const OpMargins no_margins = { 0, 0, 0, 0 };

void
op_document_set_current (OpDocument *self,
                         OpVersion  *version)
{
  Step *step;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (OP_IS_VERSION (version));

  if (version == self->current || self->stroke != NULL)
    return;

  step = step_new (STEP_CURRENT);
  step->current_before = g_object_ref (self->current);
  step->current_after = g_object_ref (version);
  step->margins_before = self->margins;
  push_step (self, step);

  set_current_internal (self, version, &no_margins);
}

guint
op_document_new_generation (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), 0);
  return ++self->last_generation;
}

void
op_document_add_variants (OpDocument *self,
                          OpVersion  *parent,
                          GPtrArray  *versions)
{
  Step *step;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (OP_IS_VERSION (parent));
  g_return_if_fail (versions != NULL && versions->len > 0);

  if (self->stroke != NULL)
    op_document_stroke_end (self);

  for (guint i = 0; i < versions->len; i++)
    op_version_insert_child (parent, versions->pdata[i], -1);

  step = step_new (STEP_ADD);
  step->version = g_object_ref (parent);
  step->versions = g_ptr_array_ref (versions);
  step->current_before = g_object_ref (self->current);
  step->current_after = g_object_ref (versions->pdata[0]);
  step->margins_before = self->margins;
  push_step (self, step);

  set_current_internal (self, versions->pdata[0], &no_margins);
}

static gboolean
is_ancestor_or_self (OpVersion *ancestor,
                     OpVersion *version)
{
  for (; version != NULL; version = op_version_get_parent (version))
    if (version == ancestor)
      return TRUE;

  return FALSE;
}

void
op_document_discard (OpDocument *self,
                     OpVersion  *version)
{
  OpVersion *parent, *next;
  Step *step;
  int index;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (OP_IS_VERSION (version));

  parent = op_version_get_parent (version);
  if (parent == NULL || self->stroke != NULL ||
      (index = op_version_index_of (parent, version)) < 0)
    return;

  /* what shows next when the discarded variant (or one under it) was on screen: the
   * next variant of the same generation, else the previous one, else the parent */
  next = self->current;
  if (is_ancestor_or_self (version, self->current))
    {
      guint n = op_version_get_n_children (parent);

      if ((guint) index + 1 < n)
        next = op_version_get_child (parent, index + 1);
      else if (index > 0)
        next = op_version_get_child (parent, index - 1);
      else
        next = parent;
    }

  step = step_new (STEP_DISCARD);
  step->version = g_object_ref (parent);
  step->versions = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (step->versions, g_object_ref (version));
  step->index = index;
  step->current_before = g_object_ref (self->current);
  step->current_after = g_object_ref (next);
  step->margins_before = self->margins;
  op_version_remove_child (parent, version);
  push_step (self, step);

  if (next != self->current)
    set_current_internal (self, next, &no_margins);
  else
    g_signal_emit (self, signals[VERSIONS_CHANGED], 0);
}

void
op_document_use_as_base (OpDocument *self)
{
  g_autoptr(OpImage) picture = NULL;
  g_autoptr(OpVersion) root = NULL;
  Step *step;

  g_return_if_fail (OP_IS_DOCUMENT (self));

  if (self->current == NULL || self->stroke != NULL || self->current == self->root)
    return;

  /* the root owns an immutable picture; the composite is a cache edits change in place */
  picture = op_image_copy (op_version_get_composite (self->current));
  root = op_version_new_root_from (picture, self->current);

  step = step_new (STEP_BASE);
  step->root_before = g_object_ref (self->root);
  step->root_after = g_object_ref (root);
  step->current_before = g_object_ref (self->current);
  step->current_after = g_object_ref (root);
  step->margins_before = self->margins;
  push_step (self, step);

  g_set_object (&self->root, root);
  set_current_internal (self, root, &no_margins);
}

void
op_document_get_margins (OpDocument *self,
                         OpMargins  *margins)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  *margins = self->margins;
}

void
op_document_set_margins (OpDocument      *self,
                         const OpMargins *margins)
{
  Step *step;

  g_return_if_fail (OP_IS_DOCUMENT (self));
  g_return_if_fail (margins != NULL);

  if (margins->left < 0 || margins->right < 0 || margins->top < 0 || margins->bottom < 0)
    return;
  if (memcmp (margins, &self->margins, sizeof *margins) == 0 || self->current == NULL)
    return;

  step = step_new (STEP_MARGINS);
  step->margins_before = self->margins;
  step->margins_after = *margins;
  push_step (self, step);

  self->margins = *margins;
  g_signal_emit (self, signals[MARGINS_CHANGED], 0);
}

OpRequest *
op_document_create_request (OpDocument     *self,
                            const OpParams *params,
                            GError        **error)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);

  if (self->current == NULL)
    {
      g_set_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO,
                   _("Open a picture first."));
      return NULL;
    }

  return op_document_create_request_for (self, self->current, &self->margins, params, error);
}

/**
 * op_document_create_request_for:
 *
 * A request from another version than the current one, with its brush mask ("Generate
 * again" asks from the parent of the variant shown).
 */
OpRequest *
op_document_create_request_for (OpDocument      *self,
                                OpVersion       *version,
                                const OpMargins *margins,
                                const OpParams  *params,
                                GError         **error)
{
  g_autoptr(OpImage) source = NULL;
  MaskState *state;

  g_return_val_if_fail (OP_IS_DOCUMENT (self), NULL);
  g_return_val_if_fail (OP_IS_VERSION (version), NULL);
  g_return_val_if_fail (margins != NULL && params != NULL, NULL);

  /* a copy: the shown picture changes in place when a blend mask is painted */
  source = op_image_copy (op_version_get_composite (version));
  state = g_hash_table_lookup (self->brush, version);

  return op_request_new (source, state != NULL ? state->mask : NULL, margins, params, error);
}

/* Undo and redo */

gboolean
op_document_can_undo (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->stroke == NULL && !g_queue_is_empty (&self->undo);
}

gboolean
op_document_can_redo (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), FALSE);
  return self->stroke == NULL && !g_queue_is_empty (&self->redo);
}

static void
replay_mask_step (OpDocument *self,
                  Step       *step,
                  gboolean    undo)
{
  OpMaskHistory *history;
  OpRect changed = { 0, };

  history = step->blend ? blend_history (self, step->version)
                        : brush_state (self, step->version)->history;

  if (undo)
    op_mask_history_undo (history, &changed);
  else
    op_mask_history_redo (history, &changed);

  if (step->blend)
    blend_changed (self, step->version, &changed);
  else
    brush_changed (self, step->version, &changed);
}

static void
replay_tree_step (OpDocument *self,
                  Step       *step,
                  gboolean    undo)
{
  gboolean put_back;

  switch (step->kind)
    {
    case STEP_ADD:
    case STEP_DISCARD:
      /* undoing an add takes the variants away; undoing a discard puts it back */
      put_back = (step->kind == STEP_ADD) != undo;
      for (guint i = 0; i < step->versions->len; i++)
        {
          if (put_back)
            op_version_insert_child (step->version, step->versions->pdata[i],
                                     step->kind == STEP_DISCARD ? step->index : -1);
          else
            op_version_remove_child (step->version, step->versions->pdata[i]);
        }
      break;

    case STEP_BASE:
      {
        OpVersion *root = undo ? step->root_before : step->root_after;

        g_set_object (&self->root, root);
      }
      break;

    case STEP_CURRENT:
    case STEP_MASK:
    case STEP_MARGINS:
    default:
      break;
    }

  set_current_internal (self, undo ? step->current_before : step->current_after,
                        undo ? &step->margins_before : &no_margins);
}

static void
replay (OpDocument *self,
        gboolean    undo)
{
  GQueue *from = undo ? &self->undo : &self->redo;
  GQueue *to = undo ? &self->redo : &self->undo;
  Step *step;

  if (self->stroke != NULL || g_queue_is_empty (from))
    return;

  step = g_queue_pop_tail (from);
  g_queue_push_tail (to, step);

  switch (step->kind)
    {
    case STEP_MASK:
      replay_mask_step (self, step, undo);
      break;

    case STEP_MARGINS:
      self->margins = undo ? step->margins_before : step->margins_after;
      g_signal_emit (self, signals[MARGINS_CHANGED], 0);
      break;

    case STEP_CURRENT:
    case STEP_ADD:
    case STEP_DISCARD:
    case STEP_BASE:
    default:
      replay_tree_step (self, step, undo);
      break;
    }

  notify_undo_state (self);
  mark_changed (self);
}

void
op_document_undo (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  replay (self, TRUE);
}

void
op_document_redo (OpDocument *self)
{
  g_return_if_fail (OP_IS_DOCUMENT (self));
  replay (self, FALSE);
}

gsize
op_document_get_undo_bytes (OpDocument *self)
{
  GHashTableIter iter;
  gpointer value;
  gsize bytes = 0;

  g_return_val_if_fail (OP_IS_DOCUMENT (self), 0);

  g_hash_table_iter_init (&iter, self->brush);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bytes += op_mask_history_get_bytes (((MaskState *) value)->history);

  g_hash_table_iter_init (&iter, self->blend);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bytes += op_mask_history_get_bytes (value);

  return bytes;
}

guint
op_document_get_last_generation (OpDocument *self)
{
  g_return_val_if_fail (OP_IS_DOCUMENT (self), 0);
  return self->last_generation;
}
