/* op-tile-cache.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-tile-cache"

#include "config.h"

#include <math.h>
#include <string.h>

#include "op-tile-cache.h"

typedef struct
{
  GdkTexture *picture;               /* borrows the level picture's rows */
  cairo_surface_t *picture_surface;  /* level 0, for nearest-neighbour zoom */
  GdkTexture *mask;                  /* NULL while the tile's mask is empty */
  cairo_surface_t *mask_surface;
  guint8 *mask_rgba;                 /* the overlay, texture sized; NULL when empty */
  OpRect dirty;                      /* picture pixels whose overlay is out of date */
} Tile;

typedef struct
{
  int scale;          /* picture pixels per level pixel: 1, 2, 4, … */
  int width;
  int height;
  int n_cols;
  int n_rows;
  guint n_dirty;
  Tile *tiles;
  OpImage *picture;   /* NULL above level 0 until the pyramid is built */
} Level;

struct _OpTileCache
{
  OpImage *image;
  OpMask *mask;        /* nullable: no overlay */
  int mask_x;          /* where the mask's top left lies on the picture */
  int mask_y;
  GCancellable *cancellable;
  GFunc pyramid_ready;
  gpointer user_data;

  int n_levels;
  Level levels[OP_TILE_MAX_LEVEL + 1];

  guint8 color[3];
  guint alpha_scale;   /* opacity in 1/256 */
};

static void
tile_clear (Tile *tile)
{
  g_clear_object (&tile->picture);
  g_clear_pointer (&tile->picture_surface, cairo_surface_destroy);
  g_clear_object (&tile->mask);
  g_clear_pointer (&tile->mask_surface, cairo_surface_destroy);
  g_clear_pointer (&tile->mask_rgba, g_free);
}

/* The tile's area in level pixels and in picture pixels. */
static void
tile_rects (OpTileCache *self,
            const Level *level,
            int          col,
            int          row,
            OpRect      *in_level,
            OpRect      *in_picture)
{
  int width = op_image_get_width (self->image);
  int height = op_image_get_height (self->image);
  OpRect l;

  l.x = col * OP_TILE_SIZE;
  l.y = row * OP_TILE_SIZE;
  l.width = MIN (OP_TILE_SIZE, level->width - l.x);
  l.height = MIN (OP_TILE_SIZE, level->height - l.y);

  if (in_level != NULL)
    *in_level = l;

  if (in_picture != NULL)
    {
      in_picture->x = l.x * level->scale;
      in_picture->y = l.y * level->scale;
      in_picture->width = MIN (l.width * level->scale, width - in_picture->x);
      in_picture->height = MIN (l.height * level->scale, height - in_picture->y);
    }
}

static void
mark_dirty (OpTileCache  *self,
            Level        *level,
            const OpRect *rect)
{
  int span = OP_TILE_SIZE * level->scale;
  int c0 = MAX (0, rect->x / span);
  int r0 = MAX (0, rect->y / span);
  int c1 = MIN (level->n_cols - 1, (rect->x + rect->width - 1) / span);
  int r1 = MIN (level->n_rows - 1, (rect->y + rect->height - 1) / span);

  for (int row = r0; row <= r1; row++)
    for (int col = c0; col <= c1; col++)
      {
        Tile *tile = &level->tiles[row * level->n_cols + col];
        OpRect area, part;

        tile_rects (self, level, col, row, NULL, &area);
        if (!op_rect_intersect (&area, rect, &part))
          continue;
        if (op_rect_is_empty (&tile->dirty))
          level->n_dirty++;
        op_rect_union (&tile->dirty, &part, &tile->dirty);
      }
}

void
op_tile_cache_invalidate_mask (OpTileCache  *self,
                               const OpRect *rect)
{
  OpRect all = { 0, 0, op_image_get_width (self->image), op_image_get_height (self->image) };
  OpRect clipped;

  if (rect == NULL)
    rect = &all;
  if (!op_rect_intersect (rect, &all, &clipped))
    return;

  for (int i = 0; i < self->n_levels; i++)
    mark_dirty (self, &self->levels[i], &clipped);
}

/* Coverage at a picture pixel; 0 outside the mask, which may be smaller than the
 * picture (a version's blend mask covers its patch only). */
static inline guint8
coverage_at (OpTileCache *self,
             int          x,
             int          y)
{
  int mx = x - self->mask_x, my = y - self->mask_y;

  if (mx < 0 || my < 0 || mx >= op_mask_get_width (self->mask) ||
      my >= op_mask_get_height (self->mask))
    return 0;

  return op_mask_peek_data (self->mask)[(gsize) my * op_mask_get_width (self->mask) + mx];
}

static gboolean
mask_area_is_empty (OpTileCache  *self,
                    const OpRect *area)
{
  OpRect mask_rect, part;
  int stride;
  const guint8 *data;

  if (self->mask == NULL)
    return TRUE;

  mask_rect = (OpRect) { self->mask_x, self->mask_y,
                         op_mask_get_width (self->mask), op_mask_get_height (self->mask) };
  if (!op_rect_intersect (area, &mask_rect, &part))
    return TRUE;

  stride = op_mask_get_width (self->mask);
  data = op_mask_peek_data (self->mask);
  for (int y = part.y; y < part.y + part.height; y++)
    {
      const guint8 *row = data + (gsize) (y - self->mask_y) * stride + (part.x - self->mask_x);

      for (int x = 0; x < part.width; x++)
        if (row[x] != 0)
          return FALSE;
    }

  return TRUE;
}

/* Average coverage of the picture pixels under one level pixel, as overlay alpha. */
static guint8
level_alpha (OpTileCache *self,
             int          scale,
             int          u,
             int          v)
{
  int width = op_image_get_width (self->image);
  int height = op_image_get_height (self->image);
  int x0 = u * scale, x1 = MIN (x0 + scale, width);
  int y0 = v * scale, y1 = MIN (y0 + scale, height);
  guint sum = 0;

  if (self->mask == NULL)
    return 0;

  if (scale == 1)
    return (guint8) ((coverage_at (self, x0, y0) * self->alpha_scale) >> 8);

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum += coverage_at (self, x, y);

  sum /= (guint) ((x1 - x0) * (y1 - y0));
  return (guint8) ((sum * self->alpha_scale) >> 8);
}

static gboolean
overlay_has_alpha (const guint8 *rgba,
                   gsize         n_pixels)
{
  for (gsize i = 0; i < n_pixels; i++)
    if (rgba[4 * i + 3] != 0)
      return TRUE;

  return FALSE;
}

/* Rebuilds the out-of-date part of one tile's overlay. */
static void
update_tile (OpTileCache *self,
             Level       *level,
             int          col,
             int          row)
{
  Tile *tile = &level->tiles[row * level->n_cols + col];
  int s = level->scale;
  OpRect l, dirty = tile->dirty;
  int u0, u1, v0, v1;
  gsize n_pixels;

  tile->dirty = (OpRect) { 0, 0, 0, 0 };
  level->n_dirty--;
  tile_rects (self, level, col, row, &l, NULL);
  n_pixels = (gsize) l.width * l.height;

  /* a tile that never had a mask and still has none costs one scan, no memory */
  if (tile->mask_rgba == NULL && mask_area_is_empty (self, &dirty))
    return;

  if (tile->mask_rgba == NULL)
    tile->mask_rgba = g_malloc0 (n_pixels * 4);

  u0 = MAX (l.x, dirty.x / s);
  v0 = MAX (l.y, dirty.y / s);
  u1 = MIN (l.x + l.width, (dirty.x + dirty.width + s - 1) / s);
  v1 = MIN (l.y + l.height, (dirty.y + dirty.height + s - 1) / s);

  for (int v = v0; v < v1; v++)
    {
      guint8 *d = tile->mask_rgba + ((gsize) (v - l.y) * l.width + (u0 - l.x)) * 4;

      for (int u = u0; u < u1; u++, d += 4)
        {
          d[0] = self->color[0];
          d[1] = self->color[1];
          d[2] = self->color[2];
          d[3] = level_alpha (self, s, u, v);
        }
    }

  g_clear_object (&tile->mask);
  g_clear_pointer (&tile->mask_surface, cairo_surface_destroy);

  if (!overlay_has_alpha (tile->mask_rgba, n_pixels))
    {
      g_clear_pointer (&tile->mask_rgba, g_free);
      return;
    }

  {
    g_autoptr(GBytes) bytes = g_bytes_new (tile->mask_rgba, n_pixels * 4);

    tile->mask = gdk_memory_texture_new (l.width, l.height, GDK_MEMORY_R8G8B8A8, bytes,
                                         l.width * 4);
  }
}

static void
tile_range (const Level  *level,
            const OpRect *area,
            int          *c0,
            int          *r0,
            int          *c1,
            int          *r1)
{
  int span = OP_TILE_SIZE * level->scale;

  *c0 = CLAMP (area->x / span, 0, level->n_cols - 1);
  *r0 = CLAMP (area->y / span, 0, level->n_rows - 1);
  *c1 = CLAMP ((area->x + area->width - 1) / span, 0, level->n_cols - 1);
  *r1 = CLAMP ((area->y + area->height - 1) / span, 0, level->n_rows - 1);
}

guint
op_tile_cache_update_mask (OpTileCache  *self,
                           int           level_index,
                           const OpRect *area)
{
  Level *level = &self->levels[CLAMP (level_index, 0, self->n_levels - 1)];
  OpRect all = { 0, 0, op_image_get_width (self->image), op_image_get_height (self->image) };
  int c0, r0, c1, r1;
  guint n = 0;

  if (level->n_dirty == 0)
    return 0;

  tile_range (level, area != NULL ? area : &all, &c0, &r0, &c1, &r1);
  for (int row = r0; row <= r1; row++)
    for (int col = c0; col <= c1; col++)
      if (!op_rect_is_empty (&level->tiles[row * level->n_cols + col].dirty))
        {
          update_tile (self, level, col, row);
          n++;
        }

  return n;
}

guint
op_tile_cache_get_n_dirty (OpTileCache *self,
                           int          level)
{
  return self->levels[CLAMP (level, 0, self->n_levels - 1)].n_dirty;
}

static GdkTexture *
picture_texture (OpTileCache *self,
                 Level       *level,
                 int          col,
                 int          row)
{
  Tile *tile = &level->tiles[row * level->n_cols + col];
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *start;
  int stride;
  OpRect l;

  if (tile->picture != NULL)
    return tile->picture;

  /* Pictures are immutable once shown, so tiles borrow their rows without copying. */
  stride = op_image_get_stride (level->picture);
  tile_rects (self, level, col, row, &l, NULL);
  start = op_image_peek_data (level->picture) + (gsize) l.y * stride + (gsize) l.x * 4;
  bytes = g_bytes_new_with_free_func (start, (gsize) (l.height - 1) * stride + (gsize) l.width * 4,
                                      (GDestroyNotify) op_image_unref,
                                      op_image_ref (level->picture));
  tile->picture = gdk_memory_texture_new (l.width, l.height, GDK_MEMORY_R8G8B8A8, bytes, stride);

  return tile->picture;
}

static cairo_surface_t *
surface_from_rgba (const guint8 *src,
                   int           width,
                   int           height,
                   int           src_stride)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  guint8 *dst = cairo_image_surface_get_data (surface);
  int dst_stride = cairo_image_surface_get_stride (surface);

  for (int y = 0; y < height; y++)
    {
      const guint8 *s = src + (gsize) y * src_stride;
      guint32 *d = (guint32 *) (dst + (gsize) y * dst_stride);

      for (int x = 0; x < width; x++)
        {
          guint a = s[4 * x + 3];
          guint r = (s[4 * x + 0] * a + 127) / 255;
          guint g = (s[4 * x + 1] * a + 127) / 255;
          guint b = (s[4 * x + 2] * a + 127) / 255;

          d[x] = (a << 24) | (r << 16) | (g << 8) | b;
        }
    }
  cairo_surface_mark_dirty (surface);

  return surface;
}

/* The widget rectangle a tile covers, its edges rounded to whole pixels: neighbours
 * share edges exactly, so no seam shows between tiles at any zoom. */
static graphene_rect_t
widget_rect (const OpRect *r,
             double        zoom,
             double        offset_x,
             double        offset_y)
{
  double x0 = round (offset_x + r->x * zoom);
  double y0 = round (offset_y + r->y * zoom);
  double x1 = round (offset_x + (r->x + r->width) * zoom);
  double y1 = round (offset_y + (r->y + r->height) * zoom);

  return GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0);
}

static void
snapshot_textured (OpTileCache  *self,
                   GtkSnapshot  *snapshot,
                   Level        *level,
                   double        zoom,
                   double        offset_x,
                   double        offset_y,
                   const OpRect *visible,
                   gboolean      show_mask)
{
  int c0, r0, c1, r1;

  tile_range (level, visible, &c0, &r0, &c1, &r1);

  for (int row = r0; row <= r1; row++)
    for (int col = c0; col <= c1; col++)
      {
        OpRect area;
        graphene_rect_t bounds;

        tile_rects (self, level, col, row, NULL, &area);
        bounds = widget_rect (&area, zoom, offset_x, offset_y);
        gtk_snapshot_append_texture (snapshot, picture_texture (self, level, col, row), &bounds);
      }

  if (!show_mask)
    return;

  for (int row = r0; row <= r1; row++)
    for (int col = c0; col <= c1; col++)
      {
        Tile *tile = &level->tiles[row * level->n_cols + col];
        OpRect area;
        graphene_rect_t bounds;

        if (tile->mask == NULL)
          continue;
        tile_rects (self, level, col, row, NULL, &area);
        bounds = widget_rect (&area, zoom, offset_x, offset_y);
        gtk_snapshot_append_texture (snapshot, tile->mask, &bounds);
      }
}

static cairo_surface_t *
tile_surface (OpTileCache *self,
              Level       *level,
              int          col,
              int          row,
              gboolean     mask)
{
  Tile *tile = &level->tiles[row * level->n_cols + col];
  OpRect l;

  tile_rects (self, level, col, row, &l, NULL);

  if (mask)
    {
      if (tile->mask_surface == NULL && tile->mask_rgba != NULL)
        tile->mask_surface = surface_from_rgba (tile->mask_rgba, l.width, l.height, l.width * 4);
      return tile->mask_surface;
    }

  if (tile->picture_surface == NULL)
    {
      int stride = op_image_get_stride (level->picture);

      tile->picture_surface = surface_from_rgba (op_image_peek_data (level->picture) +
                                                 (gsize) l.y * stride + (gsize) l.x * 4,
                                                 l.width, l.height, stride);
    }

  return tile->picture_surface;
}

/* Above 100 %, every picture pixel is a sharp square: cairo with nearest filtering
 * (gtk_snapshot_append_scaled_texture only arrives in GTK 4.10). */
static void
snapshot_nearest (OpTileCache  *self,
                  GtkSnapshot  *snapshot,
                  double        zoom,
                  double        offset_x,
                  double        offset_y,
                  const OpRect *visible,
                  gboolean      show_mask)
{
  Level *level = &self->levels[0];
  graphene_rect_t bounds;
  int c0, r0, c1, r1;
  cairo_t *cr;

  bounds = widget_rect (visible, zoom, offset_x, offset_y);
  tile_range (level, visible, &c0, &r0, &c1, &r1);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);

  /* aliased edges land on whole pixels, so neighbouring tiles meet without a seam */
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_NONE);
  cairo_translate (cr, offset_x, offset_y);
  cairo_scale (cr, zoom, zoom);

  for (int pass = 0; pass < (show_mask ? 2 : 1); pass++)
    for (int row = r0; row <= r1; row++)
      for (int col = c0; col <= c1; col++)
        {
          cairo_surface_t *surface = tile_surface (self, level, col, row, pass == 1);
          OpRect area;

          if (surface == NULL)
            continue;

          tile_rects (self, level, col, row, NULL, &area);
          cairo_set_source_surface (cr, surface, area.x, area.y);
          cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
          cairo_rectangle (cr, area.x, area.y, area.width, area.height);
          cairo_fill (cr);
        }

  cairo_destroy (cr);
}

int
op_tile_cache_level_for_zoom (OpTileCache *self,
                              double       zoom)
{
  int level;

  if (zoom >= 0.5 || self->levels[1].picture == NULL)
    return 0;

  /* the largest halving whose pixels are still at least as many as the screen's */
  level = (int) floor (log2 (1.0 / zoom) + 1e-9);
  return CLAMP (level, 0, self->n_levels - 1);
}

gboolean
op_tile_cache_has_pyramid (OpTileCache *self)
{
  return self->n_levels == 1 || self->levels[1].picture != NULL;
}

void
op_tile_cache_snapshot (OpTileCache  *self,
                        GtkSnapshot  *snapshot,
                        double        zoom,
                        double        offset_x,
                        double        offset_y,
                        const OpRect *visible,
                        gboolean      show_mask)
{
  int index = zoom > 1.0 ? 0 : op_tile_cache_level_for_zoom (self, zoom);

  if (show_mask)
    op_tile_cache_update_mask (self, index, visible);

  if (zoom > 1.0)
    snapshot_nearest (self, snapshot, zoom, offset_x, offset_y, visible, show_mask);
  else
    snapshot_textured (self, snapshot, &self->levels[index], zoom, offset_x, offset_y,
                       visible, show_mask);
}

void
op_tile_cache_set_overlay (OpTileCache   *self,
                           const GdkRGBA *color,
                           double         opacity)
{
  self->color[0] = (guint8) CLAMP (color->red * 255.0 + 0.5, 0, 255);
  self->color[1] = (guint8) CLAMP (color->green * 255.0 + 0.5, 0, 255);
  self->color[2] = (guint8) CLAMP (color->blue * 255.0 + 0.5, 0, 255);
  self->alpha_scale = (guint) (CLAMP (opacity, 0.0, 1.0) * 256.0);
  op_tile_cache_invalidate_mask (self, NULL);
}

/* Pyramid */

static void halve_region (const OpImage *src,
                          OpImage       *dst,
                          const OpRect  *dst_rect);

static OpImage *
halve (const OpImage *src)
{
  OpRect all = { 0, 0, (op_image_get_width (src) + 1) / 2, (op_image_get_height (src) + 1) / 2 };
  OpImage *dst = op_image_new (all.width, all.height);

  halve_region (src, dst, &all);
  return dst;
}

static void
build_pyramid_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  OpTileCache *self = task_data;
  g_autoptr(GPtrArray) levels = g_ptr_array_new_with_free_func ((GDestroyNotify) op_image_unref);
  g_autoptr(OpImage) current = op_image_ref (self->image);

  /* self stays alive: free() cancels and the callback checks before touching it */
  for (int i = 1; i < self->n_levels; i++)
    {
      OpImage *next;

      if (g_cancellable_is_cancelled (cancellable))
        break;
      next = halve (current);
      g_ptr_array_add (levels, next);
      g_clear_pointer (&current, op_image_unref);
      current = op_image_ref (next);
    }

  g_task_return_pointer (task, g_steal_pointer (&levels), (GDestroyNotify) g_ptr_array_unref);
}

static void
build_pyramid_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = G_TASK (result);
  g_autoptr(GPtrArray) levels = g_task_propagate_pointer (task, NULL);
  OpTileCache *self = user_data;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)) || levels == NULL)
    return;

  for (guint i = 0; i < levels->len && (int) i + 1 < self->n_levels; i++)
    self->levels[i + 1].picture = op_image_ref (levels->pdata[i]);

  if (self->pyramid_ready != NULL)
    self->pyramid_ready (self, self->user_data);
}

OpTileCache *
op_tile_cache_new (OpImage  *image,
                   OpMask   *mask,
                   GFunc     pyramid_ready,
                   gpointer  user_data)
{
  OpTileCache *self;
  int width, height;

  g_return_val_if_fail (image != NULL, NULL);

  width = op_image_get_width (image);
  height = op_image_get_height (image);

  self = g_new0 (OpTileCache, 1);
  self->image = op_image_ref (image);
  self->mask = mask != NULL ? op_mask_ref (mask) : NULL;
  self->cancellable = g_cancellable_new ();
  self->pyramid_ready = pyramid_ready;
  self->user_data = user_data;
  self->alpha_scale = 128;

  /* halve while the result still fills at least one tile */
  self->n_levels = 1;
  while (self->n_levels <= OP_TILE_MAX_LEVEL &&
         MAX (width, height) >> self->n_levels >= OP_TILE_SIZE)
    self->n_levels++;

  for (int i = 0; i < self->n_levels; i++)
    {
      Level *level = &self->levels[i];

      level->scale = 1 << i;
      level->width = (width + level->scale - 1) / level->scale;
      level->height = (height + level->scale - 1) / level->scale;
      level->n_cols = (level->width + OP_TILE_SIZE - 1) / OP_TILE_SIZE;
      level->n_rows = (level->height + OP_TILE_SIZE - 1) / OP_TILE_SIZE;
      level->tiles = g_new0 (Tile, level->n_cols * level->n_rows);
    }
  self->levels[0].picture = op_image_ref (image);
  op_tile_cache_invalidate_mask (self, NULL);

  if (self->n_levels > 1)
    {
      g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, build_pyramid_cb, self);

      g_task_set_source_tag (task, op_tile_cache_new);
      g_task_set_task_data (task, self, NULL);
      g_task_run_in_thread (task, build_pyramid_thread);
    }

  return self;
}

/**
 * op_tile_cache_set_mask:
 * @mask: (nullable): the mask to show as the overlay
 *
 * Shows another mask (the brush mask, or a version's blend mask placed at its patch).
 */
void
op_tile_cache_set_mask (OpTileCache *self,
                        OpMask      *mask,
                        int          x,
                        int          y)
{
  if (mask != NULL)
    op_mask_ref (mask);
  g_clear_pointer (&self->mask, op_mask_unref);
  self->mask = mask;
  self->mask_x = x;
  self->mask_y = y;
  op_tile_cache_invalidate_mask (self, NULL);
}

/* Recomputes a halved picture over a rectangle from the level below it: a 2×2 box,
 * weighting colour by alpha so transparent edges do not darken. */
static void
halve_region (const OpImage *src,
              OpImage       *dst,
              const OpRect  *dst_rect)
{
  int sw = op_image_get_width (src), sh = op_image_get_height (src);
  int ss = op_image_get_stride (src), ds = op_image_get_stride (dst);
  const guint8 *sp = op_image_peek_data (src);
  guint8 *dp = op_image_get_data (dst);

  for (int y = dst_rect->y; y < dst_rect->y + dst_rect->height; y++)
    for (int x = dst_rect->x; x < dst_rect->x + dst_rect->width; x++)
      {
        guint sum[4] = { 0, 0, 0, 0 }, n = 0;
        guint8 *d = dp + (gsize) y * ds + (gsize) x * 4;

        for (int j = 0; j < 2 && 2 * y + j < sh; j++)
          for (int i = 0; i < 2 && 2 * x + i < sw; i++)
            {
              const guint8 *p = sp + (gsize) (2 * y + j) * ss + (gsize) (2 * x + i) * 4;

              sum[0] += p[0] * p[3];
              sum[1] += p[1] * p[3];
              sum[2] += p[2] * p[3];
              sum[3] += p[3];
              n++;
            }

        d[3] = (guint8) ((sum[3] + n / 2) / n);
        for (int c = 0; c < 3; c++)
          d[c] = sum[3] ? (guint8) ((sum[c] + sum[3] / 2) / sum[3]) : 0;
      }
}

static void
drop_picture_tiles (OpTileCache  *self,
                    Level        *level,
                    const OpRect *rect)
{
  int c0, r0, c1, r1;

  tile_range (level, rect, &c0, &r0, &c1, &r1);
  for (int row = r0; row <= r1; row++)
    for (int col = c0; col <= c1; col++)
      {
        Tile *tile = &level->tiles[row * level->n_cols + col];

        g_clear_object (&tile->picture);
        g_clear_pointer (&tile->picture_surface, cairo_surface_destroy);
      }
}

/**
 * op_tile_cache_invalidate_picture:
 *
 * The picture's pixels changed in place inside @rect: its tiles are made again (so the
 * renderer uploads them anew) and the halved levels recomputed over the rectangle.
 */
void
op_tile_cache_invalidate_picture (OpTileCache  *self,
                                  const OpRect *rect)
{
  OpRect all = { 0, 0, op_image_get_width (self->image), op_image_get_height (self->image) };
  OpRect area;

  if (!op_rect_intersect (rect, &all, &area))
    return;

  drop_picture_tiles (self, &self->levels[0], &area);

  for (int i = 1; i < self->n_levels && self->levels[i].picture != NULL; i++)
    {
      Level *level = &self->levels[i];
      int s = level->scale;
      OpRect in_level;

      in_level.x = area.x / s;
      in_level.y = area.y / s;
      in_level.width = MIN (level->width, (area.x + area.width + s - 1) / s) - in_level.x;
      in_level.height = MIN (level->height, (area.y + area.height + s - 1) / s) - in_level.y;
      halve_region (self->levels[i - 1].picture, level->picture, &in_level);
      drop_picture_tiles (self, level, &area);
    }
}

void
op_tile_cache_free (OpTileCache *self)
{
  if (self == NULL)
    return;

  /* the pyramid thread reads self->image and self->n_levels: keep both alive for it */
  g_cancellable_cancel (self->cancellable);

  for (int i = 0; i < self->n_levels; i++)
    {
      Level *level = &self->levels[i];

      for (int t = 0; t < level->n_cols * level->n_rows; t++)
        tile_clear (&level->tiles[t]);
      g_free (level->tiles);
      g_clear_pointer (&level->picture, op_image_unref);
    }

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->mask, op_mask_unref);
  op_image_unref (self->image);
  g_free (self);
}
