/* op-mask.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-mask"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "op-mask-private.h"

G_DEFINE_BOXED_TYPE (OpMask, op_mask, op_mask_ref, op_mask_unref)

gboolean
op_rect_is_empty (const OpRect *r)
{
  return r == NULL || r->width <= 0 || r->height <= 0;
}

void
op_rect_union (const OpRect *a,
               const OpRect *b,
               OpRect       *out)
{
  int x1, y1, x2, y2;

  if (op_rect_is_empty (a))
    {
      *out = op_rect_is_empty (b) ? (OpRect) { 0, 0, 0, 0 } : *b;
      return;
    }
  if (op_rect_is_empty (b))
    {
      *out = *a;
      return;
    }

  x1 = MIN (a->x, b->x);
  y1 = MIN (a->y, b->y);
  x2 = MAX (a->x + a->width, b->x + b->width);
  y2 = MAX (a->y + a->height, b->y + b->height);
  *out = (OpRect) { x1, y1, x2 - x1, y2 - y1 };
}

gboolean
op_rect_intersect (const OpRect *a,
                   const OpRect *b,
                   OpRect       *out)
{
  int x1, y1, x2, y2;

  x1 = MAX (a->x, b->x);
  y1 = MAX (a->y, b->y);
  x2 = MIN (a->x + a->width, b->x + b->width);
  y2 = MIN (a->y + a->height, b->y + b->height);

  if (x2 <= x1 || y2 <= y1)
    {
      if (out != NULL)
        *out = (OpRect) { 0, 0, 0, 0 };
      return FALSE;
    }

  if (out != NULL)
    *out = (OpRect) { x1, y1, x2 - x1, y2 - y1 };
  return TRUE;
}

OpMask *
op_mask_new (int width,
             int height)
{
  OpMask *self;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  self = g_new0 (OpMask, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->width = width;
  self->height = height;
  self->data = g_malloc0 ((gsize) width * height);

  return self;
}

/**
 * op_mask_new_from_image:
 *
 * Reads a mask painted as a picture: white = regenerate, black = keep.  Coverage is
 * the luminance times the alpha, so a transparent pixel never regenerates.
 */
OpMask *
op_mask_new_from_image (const OpImage  *image,
                        GError        **error)
{
  const guint8 *src;
  OpMask *self;
  int width, height, stride;

  g_return_val_if_fail (image != NULL, NULL);

  width = op_image_get_width (image);
  height = op_image_get_height (image);
  stride = op_image_get_stride (image);
  src = op_image_peek_data (image);

  self = op_mask_new (width, height);
  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * stride;
      guint8 *d = self->data + (gsize) y * width;

      for (int x = 0; x < width; x++)
        {
          guint lum = (299 * s[4 * x] + 587 * s[4 * x + 1] + 114 * s[4 * x + 2] + 500) / 1000;
          d[x] = (guint8) ((lum * s[4 * x + 3] + 127) / 255);
        }
    }

  return self;
}

OpImage *
op_mask_to_image (const OpMask *self)
{
  OpImage *image;
  guint8 *dst;
  int stride;

  g_return_val_if_fail (self != NULL, NULL);

  image = op_image_new (self->width, self->height);
  dst = op_image_get_data (image);
  stride = op_image_get_stride (image);

  for (int y = 0; y < self->height; y++)
    {
      const guint8 *s = self->data + (gsize) y * self->width;
      guint8 *d = dst + (gsize) y * stride;

      for (int x = 0; x < self->width; x++)
        {
          d[4 * x + 0] = d[4 * x + 1] = d[4 * x + 2] = s[x];
          d[4 * x + 3] = 255;
        }
    }

  return image;
}

OpMask *
op_mask_copy (const OpMask *self)
{
  OpMask *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = op_mask_new (self->width, self->height);
  memcpy (copy->data, self->data, (gsize) self->width * self->height);

  return copy;
}

OpMask *
op_mask_ref (OpMask *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
op_mask_unref (OpMask *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->data);
      g_free (self);
    }
}

int
op_mask_get_width (const OpMask *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->width;
}

int
op_mask_get_height (const OpMask *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->height;
}

guint8 *
op_mask_get_data (OpMask *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

const guint8 *
op_mask_peek_data (const OpMask *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->data;
}

/* The index of the first byte that is not 0, or -1: eight bytes at a time, as most of a
 * mask is empty. */
static int
first_nonzero (const guint8 *data,
               int           n)
{
  int i = 0;

  for (; i + 8 <= n; i += 8)
    {
      guint64 word;

      memcpy (&word, data + i, sizeof word);
      if (word != 0)
        break;
    }
  for (; i < n; i++)
    if (data[i] != 0)
      return i;

  return -1;
}

gboolean
op_mask_get_bounds (const OpMask *self,
                    OpRect       *bounds)
{
  int x1 = G_MAXINT, y1 = G_MAXINT, x2 = -1, y2 = -1;

  g_return_val_if_fail (self != NULL, FALSE);

  for (int y = 0; y < self->height; y++)
    {
      const guint8 *row = self->data + (gsize) y * self->width;
      int first = first_nonzero (row, self->width);
      int last = -1;

      if (first < 0)
        continue;
      for (int x = self->width - 1; x >= first; x--)
        if (row[x] != 0)
          {
            last = x;
            break;
          }

      x1 = MIN (x1, first);
      x2 = MAX (x2, last);
      y1 = MIN (y1, y);
      y2 = y;
    }

  if (x2 < 0)
    {
      if (bounds != NULL)
        *bounds = (OpRect) { 0, 0, 0, 0 };
      return FALSE;
    }

  if (bounds != NULL)
    *bounds = (OpRect) { x1, y1, x2 - x1 + 1, y2 - y1 + 1 };
  return TRUE;
}

gboolean
op_mask_is_empty (const OpMask *self)
{
  gsize n;

  g_return_val_if_fail (self != NULL, TRUE);

  /* stops at the first painted pixel; an empty 8K mask is 33 MB to look through */
  n = (gsize) self->width * self->height;
  return n > G_MAXINT ? !op_mask_get_bounds (self, NULL) : first_nonzero (self->data, (int) n) < 0;
}

gboolean
op_mask_equal (const OpMask *a,
               const OpMask *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->width == b->width && a->height == b->height &&
         memcmp (a->data, b->data, (gsize) a->width * a->height) == 0;
}
