/* op-version.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-version"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "op-version.h"

struct _OpVersion
{
  GObject parent_instance;

  /* Borrowed references */
  OpVersion *parent;     /* a parent owns its children */

  /* Owned references */
  GPtrArray *children;
  OpImage *patch;        /* NULL for the root */
  OpMask *blend;
  OpParams *params;
  OpImage *composite;    /* the root's picture, or a cache */

  int width;
  int height;
  OpMargins margins;
  OpRect rect;
  gint64 seed;
  guint generation;
  guint serial;          /* changes whenever the picture changes */
  guint64 uid;           /* unique in the process, never reused */
};

G_DEFINE_FINAL_TYPE (OpVersion, op_version, G_TYPE_OBJECT)

static void
op_version_dispose (GObject *object)
{
  OpVersion *self = (OpVersion *) object;

  if (self->children != NULL)
    for (guint i = 0; i < self->children->len; i++)
      ((OpVersion *) self->children->pdata[i])->parent = NULL;
  g_clear_pointer (&self->children, g_ptr_array_unref);
  g_clear_pointer (&self->patch, op_image_unref);
  g_clear_pointer (&self->blend, op_mask_unref);
  g_clear_pointer (&self->params, op_params_free);
  g_clear_pointer (&self->composite, op_image_unref);

  G_OBJECT_CLASS (op_version_parent_class)->dispose (object);
}

static void
op_version_class_init (OpVersionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = op_version_dispose;
}

static void
op_version_init (OpVersion *self)
{
  static gint64 last_uid;
  static GMutex uid_lock;

  g_mutex_lock (&uid_lock);
  self->uid = (guint64) ++last_uid;
  g_mutex_unlock (&uid_lock);

  self->children = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * op_version_new_root:
 * @picture: the opened picture; it becomes this version's composite
 */
OpVersion *
op_version_new_root (OpImage *picture)
{
  OpVersion *self;

  g_return_val_if_fail (picture != NULL, NULL);

  self = g_object_new (OP_TYPE_VERSION, NULL);
  self->composite = op_image_ref (picture);
  self->width = op_image_get_width (picture);
  self->height = op_image_get_height (picture);
  self->seed = -1;

  return self;
}

/**
 * op_version_new_root_from:
 * @picture: the flattened picture of @from
 *
 * A root made by "use as base": it keeps the parameters of the variant it flattens, so
 * an export still says how the picture was made.
 */
OpVersion *
op_version_new_root_from (OpImage   *picture,
                          OpVersion *from)
{
  OpVersion *self = op_version_new_root (picture);

  g_return_val_if_fail (OP_IS_VERSION (from), self);

  if (from->params != NULL)
    self->params = op_params_copy (from->params);
  self->seed = from->seed;
  self->generation = from->generation;

  return self;
}

/**
 * op_version_new_root_with:
 * @params: (nullable): how the picture was made, for a root made by "use as base"
 *
 * A root read back from a project.
 */
OpVersion *
op_version_new_root_with (OpImage        *picture,
                          const OpParams *params,
                          gint64          seed,
                          guint           generation)
{
  OpVersion *self = op_version_new_root (picture);

  if (params != NULL)
    self->params = op_params_copy (params);
  self->seed = seed;
  self->generation = generation;

  return self;
}

/**
 * op_version_new_variant:
 * @parent: the version the generation was asked from (not yet linked: the document
 *   inserts the variant, so that adding it is one undo step)
 * @patch: the generated pixels over @rect, in the variant's (extended) coordinates
 * @blend: (transfer none): the blend mask over @rect; the variant keeps a copy it owns
 */
OpVersion *
op_version_new_variant (OpVersion       *parent,
                        const OpMargins *margins,
                        OpImage         *patch,
                        const OpRect    *rect,
                        OpMask          *blend,
                        const OpParams  *params,
                        gint64           seed,
                        guint            generation)
{
  OpVersion *self;

  g_return_val_if_fail (OP_IS_VERSION (parent), NULL);
  g_return_val_if_fail (margins != NULL && patch != NULL && rect != NULL, NULL);
  g_return_val_if_fail (blend != NULL && params != NULL, NULL);
  g_return_val_if_fail (op_image_get_width (patch) == rect->width &&
                        op_image_get_height (patch) == rect->height, NULL);
  g_return_val_if_fail (op_mask_get_width (blend) == rect->width &&
                        op_mask_get_height (blend) == rect->height, NULL);

  self = g_object_new (OP_TYPE_VERSION, NULL);
  self->parent = parent;
  self->margins = *margins;
  self->width = parent->width + margins->left + margins->right;
  self->height = parent->height + margins->top + margins->bottom;
  self->patch = op_image_ref (patch);
  self->rect = *rect;
  self->blend = op_mask_copy (blend);
  self->params = op_params_copy (params);
  self->seed = seed;
  self->generation = generation;

  g_return_val_if_fail (rect->x >= 0 && rect->y >= 0 &&
                        rect->x + rect->width <= self->width &&
                        rect->y + rect->height <= self->height, self);

  return self;
}

OpVersion *
op_version_get_parent (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  return self->parent;
}

gboolean
op_version_is_root (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), FALSE);
  return self->patch == NULL;
}

guint
op_version_get_n_children (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->children->len;
}

OpVersion *
op_version_get_child (OpVersion *self,
                      guint      index)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  g_return_val_if_fail (index < self->children->len, NULL);
  return self->children->pdata[index];
}

void
op_version_insert_child (OpVersion *self,
                         OpVersion *child,
                         int        position)
{
  g_return_if_fail (OP_IS_VERSION (self));
  g_return_if_fail (OP_IS_VERSION (child));
  g_return_if_fail (child->width == self->width + child->margins.left + child->margins.right);

  if (position < 0 || (guint) position > self->children->len)
    position = self->children->len;

  child->parent = self;
  g_ptr_array_insert (self->children, position, g_object_ref (child));
}

void
op_version_remove_child (OpVersion *self,
                         OpVersion *child)
{
  g_return_if_fail (OP_IS_VERSION (self));
  g_return_if_fail (OP_IS_VERSION (child));

  /* the variant keeps its parent pointer: an undone discard puts it back, and until then
   * its composite must still be computable (the undo history holds a reference) */
  g_ptr_array_remove (self->children, child);
}

int
op_version_index_of (OpVersion *self,
                     OpVersion *child)
{
  guint index;

  g_return_val_if_fail (OP_IS_VERSION (self), -1);

  if (!g_ptr_array_find (self->children, child, &index))
    return -1;

  return (int) index;
}

int
op_version_get_width (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->width;
}

int
op_version_get_height (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->height;
}

const OpMargins *
op_version_get_margins (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  return &self->margins;
}

OpImage *
op_version_get_patch (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  return self->patch;
}

void
op_version_get_rect (OpVersion *self,
                     OpRect    *rect)
{
  g_return_if_fail (OP_IS_VERSION (self));
  *rect = self->rect;
}

OpMask *
op_version_get_blend (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  return self->blend;
}

const OpParams *
op_version_get_params (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);
  return self->params;
}

gint64
op_version_get_seed (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), -1);
  return self->seed;
}

guint
op_version_get_generation (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->generation;
}

char *
op_version_dup_summary (OpVersion *self)
{
  const char *prompt;

  g_return_val_if_fail (OP_IS_VERSION (self), NULL);

  if (self->params == NULL)
    return g_strdup (_("Original picture"));

  prompt = self->params->prompt;
  if (prompt == NULL || prompt[0] == '\0')
    prompt = _("no prompt");

  /* Translators: prompt, seed and backend of a generated variant */
  return g_strdup_printf (_("%s — seed %lld — %s"), prompt, (long long) self->seed,
                          self->params->backend);
}

OpImage *
op_version_get_composite (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), NULL);

  if (self->composite == NULL)
    {
      g_return_val_if_fail (self->parent != NULL, NULL);
      self->composite = op_composite (op_version_get_composite (self->parent), &self->margins,
                                      self->patch, &self->rect, self->blend);
    }

  return self->composite;
}

static void
drop_descendants (OpVersion *self)
{
  for (guint i = 0; i < self->children->len; i++)
    op_version_drop_composite (self->children->pdata[i]);
}

/**
 * op_version_update_composite:
 * @rect: what changed, in this version's coordinates
 *
 * The blend mask changed: recompute the cached picture over @rect, in place (the canvas
 * is told to upload those tiles again).  Pictures of later versions are dropped.
 */
void
op_version_update_composite (OpVersion    *self,
                             const OpRect *rect)
{
  g_return_if_fail (OP_IS_VERSION (self));
  g_return_if_fail (!op_version_is_root (self));

  drop_descendants (self);
  self->serial++;

  if (self->composite == NULL)
    return;

  op_composite_region (self->composite, op_version_get_composite (self->parent),
                       &self->margins, self->patch, &self->rect, self->blend, rect);
}

/**
 * op_version_set_composite:
 * @composite: what op_composite gives for this version, computed elsewhere (the worker
 *   does it off the main loop)
 */
void
op_version_set_composite (OpVersion *self,
                          OpImage   *composite)
{
  g_return_if_fail (OP_IS_VERSION (self));
  g_return_if_fail (!op_version_is_root (self));
  g_return_if_fail (composite != NULL);
  g_return_if_fail (op_image_get_width (composite) == self->width &&
                    op_image_get_height (composite) == self->height);

  drop_descendants (self);
  g_clear_pointer (&self->composite, op_image_unref);
  self->composite = op_image_ref (composite);
  self->serial++;
}

/* A number that changes whenever this version's picture changes (a blend mask edit):
 * what was computed from the picture before is stale once it differs. */
guint
op_version_get_serial (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->serial;
}

void
op_version_drop_composite (OpVersion *self)
{
  g_return_if_fail (OP_IS_VERSION (self));

  if (op_version_is_root (self))
    return;

  g_clear_pointer (&self->composite, op_image_unref);
  self->serial++;
  drop_descendants (self);
}

/* A number no other version of this process has: what caches of encoded pictures key on,
 * since an address can be reused once a version is freed. */
guint64
op_version_get_uid (OpVersion *self)
{
  g_return_val_if_fail (OP_IS_VERSION (self), 0);
  return self->uid;
}
