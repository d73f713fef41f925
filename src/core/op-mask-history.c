/* op-mask-history.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mask"

#include "config.h"

#include <string.h>

#include "op-mask-private.h"

/* One tile of a step.  While the step is open, data holds the bytes from before the
 * edit.  Once the step is closed, data holds the state the mask is not in: the
 * before-bytes while the step is applied, the after-bytes once it is undone.  Undo and
 * redo are then the same swap, and a step keeps a single copy of each tile. */
typedef struct
{
  guint   index;
  guint8 *data;
} HistoryTile;

typedef struct
{
  GArray *tiles;   /* HistoryTile */
  gsize   bytes;
  OpRect  rect;    /* the pixels the step changes */
} HistoryStep;

struct _OpMaskHistory
{
  /* Owned references */
  OpMask      *mask;
  GQueue       undo;     /* HistoryStep, oldest at the head */
  GQueue       redo;     /* HistoryStep, next to redo at the tail */
  HistoryStep *open;
  guint8      *saved;    /* one flag per tile: already saved in the open step */

  gsize        max_bytes;
  gsize        bytes;
  int          n_tiles_x;
  int          n_tiles_y;
};

static void
tile_get_rect (OpMaskHistory *self,
               guint          index,
               OpRect        *rect)
{
  int tx = index % self->n_tiles_x;
  int ty = index / self->n_tiles_x;

  rect->x = tx * OP_MASK_TILE;
  rect->y = ty * OP_MASK_TILE;
  rect->width = MIN (OP_MASK_TILE, self->mask->width - rect->x);
  rect->height = MIN (OP_MASK_TILE, self->mask->height - rect->y);
}

static guint8 *
tile_row (OpMaskHistory *self,
          const OpRect  *rect,
          int            row)
{
  return self->mask->data + (gsize) (rect->y + row) * self->mask->width + rect->x;
}

static void
tile_copy_from_mask (OpMaskHistory *self,
                     const OpRect  *rect,
                     guint8        *data)
{
  for (int row = 0; row < rect->height; row++)
    memcpy (data + row * rect->width, tile_row (self, rect, row), rect->width);
}

static void
tile_swap_with_mask (OpMaskHistory *self,
                     const OpRect  *rect,
                     guint8        *data)
{
  guint8 tmp[OP_MASK_TILE];

  for (int row = 0; row < rect->height; row++)
    {
      guint8 *m = tile_row (self, rect, row);
      guint8 *d = data + row * rect->width;

      memcpy (tmp, m, rect->width);
      memcpy (m, d, rect->width);
      memcpy (d, tmp, rect->width);
    }
}

/* Returns whether the tile differs from @data, with the bounding box of the bytes that
 * do in @diff. */
static gboolean
tile_diff_with_mask (OpMaskHistory *self,
                     const OpRect  *rect,
                     const guint8  *data,
                     OpRect        *diff)
{
  int x1 = G_MAXINT, x2 = -1, y1 = -1, y2 = -1;

  for (int row = 0; row < rect->height; row++)
    {
      const guint8 *m = tile_row (self, rect, row);
      const guint8 *d = data + row * rect->width;
      int first = 0, last = rect->width - 1;

      if (memcmp (m, d, rect->width) == 0)
        continue;
      while (m[first] == d[first])
        first++;
      while (m[last] == d[last])
        last--;
      x1 = MIN (x1, first);
      x2 = MAX (x2, last);
      if (y1 < 0)
        y1 = row;
      y2 = row;
    }

  if (y1 < 0)
    return FALSE;

  *diff = (OpRect) { rect->x + x1, rect->y + y1, x2 - x1 + 1, y2 - y1 + 1 };
  return TRUE;
}

static HistoryStep *
history_step_new (void)
{
  HistoryStep *step = g_new0 (HistoryStep, 1);

  step->tiles = g_array_new (FALSE, FALSE, sizeof (HistoryTile));
  return step;
}

static void
history_step_free (gpointer data)
{
  HistoryStep *step = data;

  for (guint i = 0; i < step->tiles->len; i++)
    g_free (g_array_index (step->tiles, HistoryTile, i).data);
  g_array_unref (step->tiles);
  g_free (step);
}

static void
history_drop_step (OpMaskHistory *self,
                   HistoryStep   *step)
{
  self->bytes -= step->bytes;
  history_step_free (step);
}

static void
history_clear_queue (OpMaskHistory *self,
                     GQueue        *queue)
{
  HistoryStep *step;

  while ((step = g_queue_pop_head (queue)) != NULL)
    history_drop_step (self, step);
}

static void
history_save_tile (OpMaskHistory *self,
                   guint          index)
{
  HistoryTile tile = { index, NULL };
  OpRect rect;
  gsize size;

  tile_get_rect (self, index, &rect);
  size = (gsize) rect.width * rect.height;
  tile.data = g_malloc (size);
  tile_copy_from_mask (self, &rect, tile.data);

  g_array_append_val (self->open->tiles, tile);
  self->open->bytes += size;
  self->bytes += size;
  self->saved[index] = TRUE;
}

/* Keeps the tiles whose bytes the step changed and frees the others. */
static void
history_step_compact (OpMaskHistory *self,
                      HistoryStep   *step)
{
  guint kept = 0;

  for (guint i = 0; i < step->tiles->len; i++)
    {
      HistoryTile *tile = &g_array_index (step->tiles, HistoryTile, i);
      OpRect rect, diff;

      self->saved[tile->index] = FALSE;
      tile_get_rect (self, tile->index, &rect);
      if (tile_diff_with_mask (self, &rect, tile->data, &diff))
        {
          op_rect_union (&step->rect, &diff, &step->rect);
          g_array_index (step->tiles, HistoryTile, kept++) = *tile;
          continue;
        }

      step->bytes -= (gsize) rect.width * rect.height;
      self->bytes -= (gsize) rect.width * rect.height;
      g_free (tile->data);
    }

  g_array_set_size (step->tiles, kept);
}

static void
history_trim (OpMaskHistory *self)
{
  while (self->bytes > self->max_bytes && self->undo.length > 1)
    history_drop_step (self, g_queue_pop_head (&self->undo));
}

/* Swaps the step's tiles with the mask and moves it from @from to @to. */
static gboolean
history_apply (OpMaskHistory *self,
               GQueue        *from,
               GQueue        *to,
               OpRect        *changed)
{
  HistoryStep *step = g_queue_pop_tail (from);

  if (step == NULL)
    {
      if (changed != NULL)
        *changed = (OpRect) { 0, 0, 0, 0 };
      return FALSE;
    }

  for (guint i = 0; i < step->tiles->len; i++)
    {
      HistoryTile *tile = &g_array_index (step->tiles, HistoryTile, i);
      OpRect rect;

      tile_get_rect (self, tile->index, &rect);
      tile_swap_with_mask (self, &rect, tile->data);
    }

  g_queue_push_tail (to, step);
  if (changed != NULL)
    *changed = step->rect;
  return TRUE;
}

OpMask *
_op_mask_history_get_mask (OpMaskHistory *self)
{
  return self->mask;
}

gboolean
_op_mask_history_is_open (OpMaskHistory *self)
{
  return self->open != NULL;
}

/**
 * op_mask_history_new:
 * @mask: the mask whose edits the history records
 * @max_bytes: how many tile bytes to keep; the most recent step is kept even when it
 *   alone is larger
 *
 * The history keeps a reference on @mask.  Edits that bypass the history (passing
 * %NULL) must not happen between steps that are to be undone.
 */
OpMaskHistory *
op_mask_history_new (OpMask *mask,
                     gsize   max_bytes)
{
  OpMaskHistory *self;

  g_return_val_if_fail (mask != NULL, NULL);

  self = g_new0 (OpMaskHistory, 1);
  self->mask = op_mask_ref (mask);
  self->max_bytes = max_bytes;
  self->n_tiles_x = (mask->width + OP_MASK_TILE - 1) / OP_MASK_TILE;
  self->n_tiles_y = (mask->height + OP_MASK_TILE - 1) / OP_MASK_TILE;
  self->saved = g_malloc0 ((gsize) self->n_tiles_x * self->n_tiles_y);
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);

  return self;
}

void
op_mask_history_free (OpMaskHistory *self)
{
  g_return_if_fail (self != NULL);

  history_clear_queue (self, &self->undo);
  history_clear_queue (self, &self->redo);
  g_clear_pointer (&self->open, history_step_free);
  g_clear_pointer (&self->saved, g_free);
  g_clear_pointer (&self->mask, op_mask_unref);
  g_free (self);
}

/**
 * op_mask_history_begin:
 *
 * Opens a step.  Every edit given this history until op_mask_history_end() joins it.
 * An edit given a history with no open step makes a step of its own.
 */
void
op_mask_history_begin (OpMaskHistory *self)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (self->open == NULL);

  self->open = history_step_new ();
}

/**
 * op_mask_history_save_rect:
 *
 * Saves the bytes of every tile that @rect touches and the open step has not saved
 * yet.  Call it before changing the pixels of @rect.
 */
void
op_mask_history_save_rect (OpMaskHistory *self,
                           const OpRect  *rect)
{
  OpRect full, clip;

  g_return_if_fail (self != NULL);
  g_return_if_fail (rect != NULL);
  g_return_if_fail (self->open != NULL);

  full = (OpRect) { 0, 0, self->mask->width, self->mask->height };
  if (!op_rect_intersect (rect, &full, &clip))
    return;

  for (int ty = clip.y / OP_MASK_TILE; ty <= (clip.y + clip.height - 1) / OP_MASK_TILE; ty++)
    for (int tx = clip.x / OP_MASK_TILE; tx <= (clip.x + clip.width - 1) / OP_MASK_TILE; tx++)
      {
        guint index = (guint) ty * self->n_tiles_x + tx;

        if (!self->saved[index])
          history_save_tile (self, index);
      }
}

/**
 * op_mask_history_end:
 *
 * Closes the open step.  A step that changed no byte is discarded and leaves the redo
 * steps alone; a step that did is kept, clears the redo steps, and drops the oldest
 * steps while the history holds more than its max_bytes.
 *
 * Returns: whether the step was kept
 */
gboolean
op_mask_history_end (OpMaskHistory *self)
{
  HistoryStep *step;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->open != NULL, FALSE);

  step = g_steal_pointer (&self->open);
  history_step_compact (self, step);
  if (step->tiles->len == 0)
    {
      history_drop_step (self, step);
      return FALSE;
    }

  history_clear_queue (self, &self->redo);
  g_queue_push_tail (&self->undo, step);
  history_trim (self);
  return TRUE;
}

gboolean
op_mask_history_can_undo (OpMaskHistory *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->open == NULL && self->undo.length > 0;
}

gboolean
op_mask_history_can_redo (OpMaskHistory *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->open == NULL && self->redo.length > 0;
}

gboolean
op_mask_history_undo (OpMaskHistory *self,
                      OpRect        *changed)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->open == NULL, FALSE);

  return history_apply (self, &self->undo, &self->redo, changed);
}

gboolean
op_mask_history_redo (OpMaskHistory *self,
                      OpRect        *changed)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->open == NULL, FALSE);

  return history_apply (self, &self->redo, &self->undo, changed);
}

/**
 * op_mask_history_get_bytes:
 *
 * Returns: the bytes of the tiles held by all steps, the open one included
 */
gsize
op_mask_history_get_bytes (OpMaskHistory *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->bytes;
}

/**
 * op_mask_history_get_n_steps:
 *
 * Returns: the closed steps held, undoable and redoable
 */
guint
op_mask_history_get_n_steps (OpMaskHistory *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->undo.length + self->redo.length;
}
