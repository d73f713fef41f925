/* op-fill.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-fill"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "op-fill-private.h"

/* The built-in local fill: a content-aware fill from the picture's own patches.  This
 * file checks the arguments and chooses the crop the engine works on
 * (op-fill-engine.c); outpainting is the same fill on a larger canvas. */

#define MAX_PATCH_SIZE 31

G_DEFINE_QUARK (op-fill-error-quark, op_fill_error)

void
op_fill_params_init (OpFillParams *params)
{
  g_return_if_fail (params != NULL);

  memset (params, 0, sizeof *params);
}

static gboolean
check_params (const OpFillParams  *params,
              int                  width,
              int                  height,
              OpRect              *source,
              GError             **error)
{
  OpRect whole = { 0, 0, width, height };

  if (params->patch_size < 0 || params->patch_size > MAX_PATCH_SIZE ||
      (params->patch_size > 0 && params->patch_size % 2 == 0))
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The patch size must be an odd number of pixels up to %d (got %d)."),
                   MAX_PATCH_SIZE, params->patch_size);
      return FALSE;
    }

  if (params->n_threads < 0)
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The number of threads cannot be negative."));
      return FALSE;
    }

  *source = whole;
  if (params->source_region != NULL &&
      !op_rect_intersect (params->source_region, &whole, source))
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The source region lies outside the picture."));
      return FALSE;
    }

  return TRUE;
}

/* The hole's bounding box plus a margin of a few patches and half the hole's size:
 * enough surroundings for the coarse levels to see structure, and memory that grows
 * with the hole rather than with the picture. */
static void
context_region (const OpRect *hole,
                int           patch_size,
                int           width,
                int           height,
                OpRect       *region)
{
  OpRect whole = { 0, 0, width, height };
  int margin = 4 * patch_size + MAX (hole->width, hole->height) / 2;
  OpRect grown = { hole->x - margin, hole->y - margin,
                   hole->width + 2 * margin, hole->height + 2 * margin };

  op_rect_intersect (&grown, &whole, region);
}

/* Separate holes are filled one after the other, each in its own crop: two small
 * objects in opposite corners of a large picture cost two small crops, not the
 * picture.  Holes whose crops would overlap are filled together. */

#define CLUSTER_CELL 32
#define MAX_CLUSTERS 256

typedef struct
{
  OpRect hole;
  gsize  n_holes;
  OpRect region;
} Cluster;

static int
find_root (int *parent,
           int  i)
{
  while (parent[i] != i)
    i = parent[i] = parent[parent[i]];
  return i;
}

/* Groups the cells of a CLUSTER_CELL grid that hold hole pixels into 8-connected
 * components. */
static GArray *
connected_holes (const OpMask *mask,
                 const OpRect *bounds)
{
  int gw = (bounds->width + CLUSTER_CELL - 1) / CLUSTER_CELL;
  int gh = (bounds->height + CLUSTER_CELL - 1) / CLUSTER_CELL;
  int width = op_mask_get_width (mask);
  const guint8 *m = op_mask_peek_data (mask);
  g_autofree Cluster *cells = g_new0 (Cluster, (gsize) gw * gh);
  g_autofree int *parent = g_new (int, (gsize) gw * gh);
  g_autofree int *index = g_new (int, (gsize) gw * gh);
  GArray *clusters = g_array_new (FALSE, TRUE, sizeof (Cluster));

  for (int y = bounds->y; y < bounds->y + bounds->height; y++)
    for (int x = bounds->x; x < bounds->x + bounds->width; x++)
      if (m[(gsize) y * width + x] != 0)
        {
          int gx = (x - bounds->x) / CLUSTER_CELL, gy = (y - bounds->y) / CLUSTER_CELL;
          Cluster *c = &cells[gy * gw + gx];
          OpRect one = { x, y, 1, 1 };

          op_rect_union (&c->hole, &one, &c->hole);
          c->n_holes++;
        }

  for (int i = 0; i < gw * gh; i++)
    parent[i] = i;
  for (int gy = 0; gy < gh; gy++)
    for (int gx = 0; gx < gw; gx++)
      {
        int i = gy * gw + gx;

        if (cells[i].n_holes == 0)
          continue;
        for (int dy = -1; dy <= 0; dy++)
          for (int dx = -1; dx <= 1; dx++)
            {
              int nx = gx + dx, ny = gy + dy;

              if ((dy == 0 && dx >= 0) || nx < 0 || ny < 0 || nx >= gw ||
                  cells[ny * gw + nx].n_holes == 0)
                continue;
              parent[find_root (parent, ny * gw + nx)] = find_root (parent, i);
            }
      }

  for (int i = 0; i < gw * gh; i++)
    index[i] = -1;
  for (int i = 0; i < gw * gh; i++)
    {
      int root;
      Cluster *c;

      if (cells[i].n_holes == 0)
        continue;
      root = find_root (parent, i);
      if (index[root] < 0)
        {
          index[root] = clusters->len;
          g_array_set_size (clusters, clusters->len + 1);
        }
      c = &g_array_index (clusters, Cluster, index[root]);
      op_rect_union (&c->hole, &cells[i].hole, &c->hole);
      c->n_holes += cells[i].n_holes;
    }

  return clusters;
}

/* Merges clusters whose crops overlap, until none do. */
static GArray *
find_clusters (const OpMask *mask,
               const OpRect *bounds,
               int           patch_size)
{
  int width = op_mask_get_width (mask), height = op_mask_get_height (mask);
  GArray *clusters = connected_holes (mask, bounds);
  gboolean merged = TRUE;

  if (clusters->len > MAX_CLUSTERS)
    {
      Cluster all = { *bounds, 0, };

      for (guint i = 0; i < clusters->len; i++)
        all.n_holes += g_array_index (clusters, Cluster, i).n_holes;
      g_array_set_size (clusters, 1);
      g_array_index (clusters, Cluster, 0) = all;
    }

  for (guint i = 0; i < clusters->len; i++)
    {
      Cluster *c = &g_array_index (clusters, Cluster, i);

      context_region (&c->hole, patch_size, width, height, &c->region);
    }

  while (merged)
    {
      merged = FALSE;
      for (guint i = 0; i < clusters->len && !merged; i++)
        for (guint j = i + 1; j < clusters->len && !merged; j++)
          {
            Cluster *a = &g_array_index (clusters, Cluster, i);
            Cluster *b = &g_array_index (clusters, Cluster, j);

            if (!op_rect_intersect (&a->region, &b->region, NULL))
              continue;
            op_rect_union (&a->hole, &b->hole, &a->hole);
            a->n_holes += b->n_holes;
            context_region (&a->hole, patch_size, width, height, &a->region);
            g_array_remove_index (clusters, j);
            merged = TRUE;
          }
    }

  return clusters;
}

/* Progress of one cluster as a share of the whole fill */
typedef struct
{
  OpFillProgressFunc  progress;
  gpointer            data;
  double              base;
  double              share;
} ClusterProgress;

static void
on_cluster_progress_cb (double      fraction,
                        const char *stage,
                        gpointer    user_data)
{
  ClusterProgress *cp = user_data;

  cp->progress (MIN (1.0, cp->base + cp->share * fraction), stage, cp->data);
}

static double
cluster_weight (const Cluster *c)
{
  return c->n_holes + (double) c->region.width * c->region.height / 16.0;
}

static gboolean
fill_clusters (OpImage             *output,
               const OpMask        *mask,
               GArray              *clusters,
               const OpRect        *source_region,
               const OpFillParams  *params,
               OpFillProgressFunc   progress,
               gpointer             progress_data,
               GCancellable        *cancellable,
               GArray              *matches,
               GError             **error)
{
  ClusterProgress cp = { progress, progress_data, 0, 0 };
  double total = 0;

  for (guint i = 0; i < clusters->len; i++)
    total += cluster_weight (&g_array_index (clusters, Cluster, i));

  for (guint i = 0; i < clusters->len; i++)
    {
      const Cluster *c = &g_array_index (clusters, Cluster, i);
      g_autoptr(OpFillEngine) engine = NULL;
      OpFillParams local = *params;
      OpRect source = c->region;

      /* each hole its own variations of the seed */
      local.seed = params->seed + i * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
      cp.share = cluster_weight (c) / total;
      engine = _op_fill_engine_new (&local, progress != NULL ? on_cluster_progress_cb : NULL,
                                    &cp, cancellable);

      if (source_region != NULL)
        op_rect_intersect (source_region, &c->region, &source);
      source.x -= c->region.x;
      source.y -= c->region.y;

      if (!_op_fill_engine_fill (engine, op_image_get_data (output),
                                 op_image_get_stride (output), op_mask_peek_data (mask),
                                 op_mask_get_width (mask), &c->region, &source, matches, error))
        return FALSE;
      cp.base += cp.share;
    }

  return TRUE;
}

OpImage *
_op_fill_run_full (const OpImage       *picture,
                   const OpMask        *mask,
                   const OpFillParams  *params,
                   OpFillProgressFunc   progress,
                   gpointer             progress_data,
                   GCancellable        *cancellable,
                   GArray             **matches,
                   GError             **error)
{
  g_autoptr(OpImage) output = NULL;
  g_autoptr(GArray) found = NULL;
  g_autoptr(GArray) clusters = NULL;
  OpFillParams defaults;
  OpRect source, hole;
  int width, height, patch_size;

  g_return_val_if_fail (picture != NULL, NULL);
  g_return_val_if_fail (mask != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  width = op_image_get_width (picture);
  height = op_image_get_height (picture);
  if (op_mask_get_width (mask) != width || op_mask_get_height (mask) != height)
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The mask is %d × %d pixels but the picture is %d × %d."),
                   op_mask_get_width (mask), op_mask_get_height (mask), width, height);
      return NULL;
    }

  if (params == NULL)
    {
      op_fill_params_init (&defaults);
      params = &defaults;
    }
  if (!check_params (params, width, height, &source, error))
    return NULL;

  if (cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  output = op_image_copy (picture);
  if (matches != NULL)
    found = g_array_new (FALSE, FALSE, sizeof (OpFillMatch));

  if (!op_mask_get_bounds (mask, &hole))
    {
      if (progress != NULL)
        progress (1.0, _("Nothing to fill"), progress_data);
    }
  else
    {
      patch_size = params->patch_size > 0 ? params->patch_size : OP_FILL_DEFAULT_PATCH_SIZE;

      /* With a source region the crops all hold it: one crop for everything. */
      if (params->source_region != NULL)
        {
          Cluster all = { hole, 0, };

          context_region (&hole, patch_size, width, height, &all.region);
          op_rect_union (&all.region, &source, &all.region);
          clusters = g_array_new (FALSE, FALSE, sizeof (Cluster));
          g_array_append_val (clusters, all);
        }
      else
        {
          clusters = find_clusters (mask, &hole, patch_size);
        }

      if ((cancellable != NULL && g_cancellable_set_error_if_cancelled (cancellable, error)) ||
          !fill_clusters (output, mask, clusters, params->source_region != NULL ? &source : NULL,
                          params, progress, progress_data, cancellable, found, error))
        return NULL;
    }

  if (matches != NULL)
    *matches = g_steal_pointer (&found);

  return g_steal_pointer (&output);
}

/**
 * op_fill_run:
 * @picture: the picture
 * @mask: a mask of the same size; every pixel with coverage > 0 is filled
 * @params: (nullable): the parameters, %NULL for the defaults
 * @progress: (nullable): called from the calling thread after each step
 * @cancellable: (nullable): stops the fill within a few milliseconds
 *
 * Fills the hole from patches of the known part of the picture (or of
 * @params->source_region), coarse to fine.  Pixels outside the hole come back bit for
 * bit; the same seed gives the same result whatever the number of threads.
 *
 * Returns: (transfer full): the filled picture, or %NULL with @error set
 *   (%OP_FILL_ERROR_INVALID, %OP_FILL_ERROR_NO_SOURCE or %G_IO_ERROR_CANCELLED)
 */
OpImage *
op_fill_run (const OpImage       *picture,
             const OpMask        *mask,
             const OpFillParams  *params,
             OpFillProgressFunc   progress,
             gpointer             progress_data,
             GCancellable        *cancellable,
             GError             **error)
{
  return _op_fill_run_full (picture, mask, params, progress, progress_data, cancellable,
                            NULL, error);
}

/**
 * op_fill_outpaint:
 *
 * Extends @picture by the margins and fills the new area from the original picture
 * (intersected with @params->source_region, in the original's coordinates, if set).
 * The original's pixels come back bit for bit at (@left, @top).
 */
OpImage *
op_fill_outpaint (const OpImage       *picture,
                  int                  left,
                  int                  right,
                  int                  top,
                  int                  bottom,
                  const OpFillParams  *params,
                  OpFillProgressFunc   progress,
                  gpointer             progress_data,
                  GCancellable        *cancellable,
                  GError             **error)
{
  g_autoptr(OpImage) canvas = NULL;
  g_autoptr(OpMask) mask = NULL;
  OpFillParams local;
  OpRect original;
  gint64 width, height;
  guint8 *m;

  g_return_val_if_fail (picture != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (left < 0 || right < 0 || top < 0 || bottom < 0)
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The margins cannot be negative."));
      return NULL;
    }

  width = (gint64) op_image_get_width (picture) + left + right;
  height = (gint64) op_image_get_height (picture) + top + bottom;
  if (width > OP_IMAGE_MAX_SIDE || height > OP_IMAGE_MAX_SIDE ||
      width * height > OP_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                   _("The extended picture would be larger than %d pixels on a side or "
                     "%d megapixels."), OP_IMAGE_MAX_SIDE, OP_IMAGE_MAX_PIXELS / 1000000);
      return NULL;
    }

  if (params != NULL)
    local = *params;
  else
    op_fill_params_init (&local);

  original = (OpRect) { left, top, op_image_get_width (picture), op_image_get_height (picture) };
  if (local.source_region != NULL)
    {
      OpRect shifted = *local.source_region;

      shifted.x += left;
      shifted.y += top;
      if (!op_rect_intersect (&shifted, &original, &original))
        {
          g_set_error (error, OP_FILL_ERROR, OP_FILL_ERROR_INVALID,
                       _("The source region lies outside the picture."));
          return NULL;
        }
    }
  local.source_region = &original;

  canvas = op_image_new ((int) width, (int) height);
  mask = op_mask_new ((int) width, (int) height);
  m = op_mask_get_data (mask);
  memset (m, 255, (gsize) width * height);

  for (int y = 0; y < op_image_get_height (picture); y++)
    {
      memcpy (op_image_get_data (canvas) + (gsize) (y + top) * op_image_get_stride (canvas) +
              4 * (gsize) left,
              op_image_peek_data (picture) + (gsize) y * op_image_get_stride (picture),
              (gsize) op_image_get_width (picture) * 4);
      memset (m + (gsize) (y + top) * width + left, 0, op_image_get_width (picture));
    }
  op_image_set_icc_profile (canvas, op_image_get_icc_profile (picture));

  return _op_fill_run_full (canvas, mask, &local, progress, progress_data, cancellable,
                            NULL, error);
}
