/* op-describe.c — what a describer is shown of the picture
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "op-backend.h"
#include "op-describe.h"
#include "op-fill.h"
#include "op-http.h"

/* Around the mask: as much again as the hole on each side, and never less than this,
 * so that a small hole still shows what it sits in. */
#define CONTEXT_MIN_PAD 96
/* Along an extended edge: twice the extension deep, within these bounds. */
#define EDGE_MIN_DEPTH  64

void
op_describe_part_free (OpDescribePart *part)
{
  if (part == NULL)
    return;

  g_free (part->name);
  g_clear_pointer (&part->image, op_image_unref);
  g_clear_pointer (&part->analysed, op_image_unref);
  g_clear_pointer (&part->exclude, op_mask_unref);
  g_free (part);
}

static const char * const region_names[] = { "whole", "context", "edges" };

const char *
op_describe_region_to_string (OpDescribeRegion region)
{
  g_return_val_if_fail (region <= OP_DESCRIBE_EDGES, NULL);

  return region_names[region];
}

gboolean
op_describe_region_from_string (const char       *text,
                                OpDescribeRegion *region)
{
  guint i;

  for (i = 0; text != NULL && i < G_N_ELEMENTS (region_names); i++)
    if (g_str_equal (text, region_names[i]))
      {
        *region = i;
        return TRUE;
      }

  return FALSE;
}

static void
fit (int  width,
     int  height,
     int *out_width,
     int *out_height)
{
  double scale = MIN (1.0, (double) OP_DESCRIBE_MAX_SIDE / MAX (width, height));

  *out_width = MAX (1, (int) (width * scale + 0.5));
  *out_height = MAX (1, (int) (height * scale + 0.5));
}

/* @for_describer: also the scaled picture the describer is sent. */
static OpDescribePart *
part_new (const char    *name,
          const OpImage *picture,
          const OpRect  *rect,
          gboolean       for_describer)
{
  OpDescribePart *part = g_new0 (OpDescribePart, 1);
  int width, height;

  fit (rect->width, rect->height, &width, &height);
  part->name = g_strdup (name);
  if (for_describer)
    part->image = op_image_scale (picture, rect, width, height);
  part->analysed = op_image_crop (picture, rect->x, rect->y, rect->width, rect->height);

  return part;
}

/* The context crop, its hole filled from its own surroundings by the built-in fill: a
 * describer shown a blank would describe the blank.  The fill runs on the scaled crop,
 * which is all the describer sees. */
static OpDescribePart *
prepare_context (const OpImage  *picture,
                 const OpMask   *mask,
                 gboolean        for_describer,
                 GCancellable   *cancellable,
                 GError        **error)
{
  g_autoptr(OpDescribePart) part = NULL;
  g_autoptr(OpMask) small_mask = NULL;
  g_autoptr(OpImage) filled = NULL;
  OpFillParams params;
  OpRect bounds, rect, picture_rect = { 0, 0, op_image_get_width (picture), op_image_get_height (picture) };
  int pad_x, pad_y;

  if (mask == NULL || !op_mask_get_bounds (mask, &bounds))
    {
      g_set_error_literal (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO,
                           _("Paint over the area to fill first, or describe the whole picture."));
      return NULL;
    }

  pad_x = MAX (CONTEXT_MIN_PAD, bounds.width);
  pad_y = MAX (CONTEXT_MIN_PAD, bounds.height);
  rect = (OpRect) { bounds.x - pad_x, bounds.y - pad_y, bounds.width + 2 * pad_x, bounds.height + 2 * pad_y };
  op_rect_intersect (&rect, &picture_rect, &rect);

  part = part_new (_("the area around the mask"), picture, &rect, for_describer);
  part->exclude = op_mask_scale (mask, &rect, rect.width, rect.height);
  if (!for_describer)
    return g_steal_pointer (&part);

  small_mask = op_mask_scale (mask, &rect, op_image_get_width (part->image),
                              op_image_get_height (part->image));

  /* a hole that covers everything has nothing to be filled from: describe it as is */
  if (op_mask_is_empty (small_mask))
    return g_steal_pointer (&part);

  op_fill_params_init (&params);
  filled = op_fill_run (part->image, small_mask, &params, NULL, NULL, cancellable, error);
  if (filled == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->domain == OP_FILL_ERROR)
        {
          g_clear_error (error);
          return g_steal_pointer (&part);
        }
      return NULL;
    }

  g_clear_pointer (&part->image, op_image_unref);
  part->image = g_steal_pointer (&filled);
  return g_steal_pointer (&part);
}

static GPtrArray *
prepare_edges (const OpImage    *picture,
               const OpMargins  *margins,
               gboolean          for_describer,
               GError          **error)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) op_describe_part_free);
  int width = op_image_get_width (picture), height = op_image_get_height (picture);
  struct
  {
    int         margin;
    const char *name;
    gboolean    vertical;   /* a strip along a left or right side */
    gboolean    far;        /* at the right or bottom */
  } sides[] = {
    { margins != NULL ? margins->left : 0, _("the left edge"), TRUE, FALSE },
    { margins != NULL ? margins->top : 0, _("the top edge"), FALSE, FALSE },
    { margins != NULL ? margins->right : 0, _("the right edge"), TRUE, TRUE },
    { margins != NULL ? margins->bottom : 0, _("the bottom edge"), FALSE, TRUE },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sides); i++)
    {
      int side = sides[i].vertical ? width : height;
      int depth;
      OpRect rect;

      if (sides[i].margin <= 0)
        continue;

      depth = CLAMP (2 * sides[i].margin, MIN (EDGE_MIN_DEPTH, side), MAX (1, side / 2));
      if (sides[i].vertical)
        rect = (OpRect) { sides[i].far ? width - depth : 0, 0, depth, height };
      else
        rect = (OpRect) { 0, sides[i].far ? height - depth : 0, width, depth };

      g_ptr_array_add (parts, part_new (sides[i].name, picture, &rect, for_describer));
    }

  if (parts->len == 0)
    {
      g_set_error_literal (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_NOTHING_TO_DO,
                           _("Drag a border of the canvas outward first, or describe the whole picture."));
      return NULL;
    }

  return g_steal_pointer (&parts);
}

static GPtrArray *
prepare (const OpImage     *picture,
         const OpMask      *mask,
         const OpMargins   *margins,
         OpDescribeRegion   region,
         gboolean           for_describer,
         GCancellable      *cancellable,
         GError           **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  OpDescribePart *part;
  OpRect whole;

  g_return_val_if_fail (picture != NULL, NULL);
  g_return_val_if_fail (region <= OP_DESCRIBE_EDGES, NULL);

  if (mask != NULL &&
      (op_mask_get_width (mask) != op_image_get_width (picture) ||
       op_mask_get_height (mask) != op_image_get_height (picture)))
    {
      g_set_error (error, OP_REQUEST_ERROR, OP_REQUEST_ERROR_INVALID,
                   _("The mask is %d × %d pixels but the picture is %d × %d"),
                   op_mask_get_width (mask), op_mask_get_height (mask),
                   op_image_get_width (picture), op_image_get_height (picture));
      return NULL;
    }

  switch (region)
    {
    case OP_DESCRIBE_WHOLE:
      whole = (OpRect) { 0, 0, op_image_get_width (picture), op_image_get_height (picture) };
      parts = g_ptr_array_new_with_free_func ((GDestroyNotify) op_describe_part_free);
      g_ptr_array_add (parts, part_new (_("the picture"), picture, &whole, for_describer));
      return g_steal_pointer (&parts);

    case OP_DESCRIBE_CONTEXT:
      part = prepare_context (picture, mask, for_describer, cancellable, error);
      if (part == NULL)
        return NULL;
      parts = g_ptr_array_new_with_free_func ((GDestroyNotify) op_describe_part_free);
      g_ptr_array_add (parts, part);
      return g_steal_pointer (&parts);

    case OP_DESCRIBE_EDGES:
    default:
      return prepare_edges (picture, margins, for_describer, error);
    }
}

GPtrArray *
op_describe_prepare (const OpImage     *picture,
                     const OpMask      *mask,
                     const OpMargins   *margins,
                     OpDescribeRegion   region,
                     GCancellable      *cancellable,
                     GError           **error)
{
  return prepare (picture, mask, margins, region, TRUE, cancellable, error);
}

GPtrArray *
op_describe_prepare_analysis (const OpImage     *picture,
                              const OpMask      *mask,
                              const OpMargins   *margins,
                              OpDescribeRegion   region,
                              GError           **error)
{
  return prepare (picture, mask, margins, region, FALSE, NULL, error);
}

char *
op_describe_take_caption (const char  *caption,
                          const char  *service,
                          GError     **error)
{
  g_autofree char *valid = NULL;
  char *p;

  valid = g_utf8_make_valid (caption != NULL ? caption : "", -1);
  for (p = valid; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  g_strstrip (valid);

  if (*valid == '\0')
    {
      g_set_error (error, OP_BACKEND_ERROR, OP_BACKEND_ERROR_BAD_ANSWER,
                   _("%s described the picture with an empty caption."), service);
      return NULL;
    }

  if (g_utf8_strlen (valid, -1) > OP_DESCRIBE_MAX_CAPTION)
    {
      char *cut = g_utf8_substring (valid, 0, OP_DESCRIBE_MAX_CAPTION);

      g_free (valid);
      valid = cut;
    }

  return g_steal_pointer (&valid);
}
