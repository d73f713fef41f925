/* op-project.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "op-project"

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <zip.h>

#include "op-json.h"
#include "op-project.h"

#define MAX_JSON_DEPTH   16
#define MAX_NAME_LENGTH  200
#define THUMBNAIL_SIDE   256

G_DEFINE_QUARK (op-project-error-quark, op_project_error)

/* Cache */

typedef struct
{
  guint64 uid;
  guint serial;
  char kind;      /* 'l' layer, 'p' patch, 'b' blend, 't' thumbnail, 'm' brush mask */
  guint64 content[2];  /* 'm': the first 128 bits of the mask's SHA-256; painting changes
                        * a brush mask without a serial to tell */
} CacheKey;

struct _OpProjectCache
{
  GMutex lock;
  GHashTable *entries;   /* CacheKey → GBytes */
  GHashTable *used;      /* CacheKey (borrowed from entries) → itself, during a save */
};

static guint
cache_key_hash (gconstpointer key)
{
  const CacheKey *k = key;

  return (guint) (k->uid * 2654435761u) ^ (k->serial * 40503u) ^ (guint) k->kind ^
         (guint) k->content[0];
}

static gboolean
cache_key_equal (gconstpointer a,
                 gconstpointer b)
{
  const CacheKey *x = a, *y = b;

  return x->uid == y->uid && x->serial == y->serial && x->kind == y->kind &&
         x->content[0] == y->content[0] && x->content[1] == y->content[1];
}

OpProjectCache *
op_project_cache_new (void)
{
  OpProjectCache *self = g_new0 (OpProjectCache, 1);

  g_mutex_init (&self->lock);
  self->entries = g_hash_table_new_full (cache_key_hash, cache_key_equal, g_free,
                                         (GDestroyNotify) g_bytes_unref);
  return self;
}

void
op_project_cache_free (OpProjectCache *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->entries);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static GBytes *
cache_lookup (OpProjectCache *self,
              const CacheKey *key)
{
  GBytes *bytes;

  if (self == NULL)
    return NULL;

  g_mutex_lock (&self->lock);
  bytes = g_hash_table_lookup (self->entries, key);
  if (bytes != NULL)
    g_bytes_ref (bytes);
  g_mutex_unlock (&self->lock);

  return bytes;
}

static gboolean
cache_has (OpProjectCache *self,
           const CacheKey *key)
{
  g_autoptr(GBytes) bytes = cache_lookup (self, key);

  return bytes != NULL;
}

static void
cache_store (OpProjectCache *self,
             const CacheKey *key,
             GBytes         *bytes)
{
  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->entries, g_memdup2 (key, sizeof *key), g_bytes_ref (bytes));
  g_mutex_unlock (&self->lock);
}

/* After a save: forget what the saved project no longer has. */
static void
cache_keep_only (OpProjectCache *self,
                 GHashTable     *keep)
{
  GHashTableIter iter;
  gpointer key;

  if (self == NULL)
    return;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (keep, key))
      g_hash_table_iter_remove (&iter);
  g_mutex_unlock (&self->lock);
}

/* Snapshot */

typedef struct
{
  guint64 uid;
  guint serial;
  int parent;          /* index of the parent node, -1 for the root */
  int width, height;
  int x, y;            /* where the version's top left lies, the root's at (0, 0) */
  OpMargins margins;
  OpRect rect;
  OpImage *picture;    /* the root's */
  OpImage *patch;
  OpMask *blend;       /* a copy */
  OpMask *brush;       /* a copy, NULL when nothing is painted */
  OpParams *params;
  gint64 seed;
  guint generation;
} Node;

struct _OpProjectSnapshot
{
  GArray *nodes;       /* Node, in pre-order: a parent before its children */
  OpVersion *pending_parent;  /* while taking it: new variants go under this one */
  GPtrArray *pending;
  gboolean recovery;
  int current;
  OpMargins margins;
  guint last_generation;
  OpParams *sidebar;
  OpProjectProgressFunc progress;
  gpointer progress_data;
};

static void
node_clear (Node *node)
{
  g_clear_pointer (&node->picture, op_image_unref);
  g_clear_pointer (&node->patch, op_image_unref);
  g_clear_pointer (&node->blend, op_mask_unref);
  g_clear_pointer (&node->brush, op_mask_unref);
  g_clear_pointer (&node->params, op_params_free);
}

static void
snapshot_add (OpProjectSnapshot *self,
              OpDocument        *document,
              OpVersion         *version,
              int                parent)
{
  Node node = { 0, };
  OpMask *brush;
  int index;

  node.uid = op_version_get_uid (version);
  node.serial = op_version_get_serial (version);
  node.parent = parent;
  node.width = op_version_get_width (version);
  node.height = op_version_get_height (version);
  node.seed = op_version_get_seed (version);
  node.generation = op_version_get_generation (version);
  if (op_version_get_params (version) != NULL)
    node.params = op_params_copy (op_version_get_params (version));

  if (parent < 0)
    node.picture = op_image_ref (op_version_get_composite (version));
  else
    {
      const Node *p = &g_array_index (self->nodes, Node, parent);

      node.margins = *op_version_get_margins (version);
      op_version_get_rect (version, &node.rect);
      node.patch = op_image_ref (op_version_get_patch (version));
      node.blend = op_mask_copy (op_version_get_blend (version));
      node.x = p->x - node.margins.left;
      node.y = p->y - node.margins.top;
    }

  brush = op_document_peek_brush_mask (document, version);
  if (brush != NULL && !op_mask_is_empty (brush))
    node.brush = op_mask_copy (brush);

  index = (int) self->nodes->len;
  g_array_append_val (self->nodes, node);

  if (version == op_document_get_current (document))
    self->current = index;

  for (guint i = 0; i < op_version_get_n_children (version); i++)
    snapshot_add (self, document, op_version_get_child (version, i), index);

  if (version == self->pending_parent)
    {
      int first = (int) self->nodes->len;

      for (guint i = 0; i < self->pending->len; i++)
        snapshot_add (self, document, self->pending->pdata[i], index);
      self->current = first;
    }
}

/**
 * op_project_snapshot_new:
 * @sidebar: (nullable): the sidebar's parameters, saved with the project
 */
OpProjectSnapshot *
op_project_snapshot_new (OpDocument     *document,
                         const OpParams *sidebar)
{
  return op_project_snapshot_new_with_variants (document, sidebar, NULL, NULL);
}

OpProjectSnapshot *
op_project_snapshot_new_with_variants (OpDocument     *document,
                                       const OpParams *sidebar,
                                       OpVersion      *parent,
                                       GPtrArray      *versions)
{
  OpProjectSnapshot *self;

  g_return_val_if_fail (OP_IS_DOCUMENT (document), NULL);
  g_return_val_if_fail (op_document_get_root (document) != NULL, NULL);
  g_return_val_if_fail ((parent == NULL) == (versions == NULL), NULL);

  self = g_new0 (OpProjectSnapshot, 1);
  self->pending_parent = parent;
  self->pending = versions;
  self->nodes = g_array_new (FALSE, TRUE, sizeof (Node));
  g_array_set_clear_func (self->nodes, (GDestroyNotify) node_clear);
  op_document_get_margins (document, &self->margins);
  self->last_generation = op_document_get_last_generation (document);
  if (sidebar != NULL)
    self->sidebar = op_params_copy (sidebar);

  snapshot_add (self, document, op_document_get_root (document), -1);
  self->pending_parent = NULL;
  self->pending = NULL;

  return self;
}

void
op_project_snapshot_set_recovery (OpProjectSnapshot *self,
                                  gboolean           recovery)
{
  g_return_if_fail (self != NULL);
  self->recovery = recovery;
}

void
op_project_snapshot_set_progress (OpProjectSnapshot    *self,
                                  OpProjectProgressFunc func,
                                  gpointer              user_data)
{
  g_return_if_fail (self != NULL);

  self->progress = func;
  self->progress_data = user_data;
}

static void
report_progress (OpProjectSnapshot *self,
                 double             fraction)
{
  if (self->progress != NULL)
    self->progress (CLAMP (fraction, 0.0, 1.0), self->progress_data);
}

void
op_project_snapshot_free (OpProjectSnapshot *self)
{
  if (self == NULL)
    return;

  g_array_unref (self->nodes);
  g_clear_pointer (&self->sidebar, op_params_free);
  g_free (self);
}

guint
op_project_snapshot_get_n_versions (OpProjectSnapshot *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->nodes->len;
}

/* Writing */

typedef struct
{
  OpProjectSnapshot *snapshot;
  OpProjectCache *cache;
  GHashTable *used;          /* CacheKey → CacheKey: what this save used */
  OpImage **composites;      /* per node, computed when needed */
  guint *children_left;      /* per node: children not yet written */
  GBytes **layers;           /* per node: the composite as PNG */
  GBytes **patches;
  GBytes **blends;
  GBytes **brushes;
  guint64 *brush_digests;    /* per node, two: see CacheKey.content */
  GBytes *thumbnail;
  gint64 work_total;         /* pixels to encode, for the progress */
  gint64 work_done;
} Writer;

static void
writer_clear (Writer *w)
{
  guint n = w->snapshot->nodes->len;

  for (guint i = 0; i < n; i++)
    {
      g_clear_pointer (&w->composites[i], op_image_unref);
      g_clear_pointer (&w->layers[i], g_bytes_unref);
      g_clear_pointer (&w->patches[i], g_bytes_unref);
      g_clear_pointer (&w->blends[i], g_bytes_unref);
      g_clear_pointer (&w->brushes[i], g_bytes_unref);
    }
  g_clear_pointer (&w->thumbnail, g_bytes_unref);
  g_free (w->composites);
  g_free (w->children_left);
  g_free (w->layers);
  g_free (w->patches);
  g_free (w->blends);
  g_free (w->brushes);
  g_free (w->brush_digests);
  g_clear_pointer (&w->used, g_hash_table_unref);
}

static void
writer_mark_used (Writer         *w,
                  const CacheKey *key)
{
  g_hash_table_add (w->used, g_memdup2 (key, sizeof *key));
}

/* The cache's name for a picture of node @index. */
static void
writer_key (Writer   *w,
            int       index,
            char      kind,
            CacheKey *key)
{
  Node *node = &g_array_index (w->snapshot->nodes, Node, index);

  *key = (CacheKey) { node->uid, kind == 'p' || kind == 'm' ? 0 : node->serial, kind, { 0, 0 } };
  if (kind == 'm')
    memcpy (key->content, &w->brush_digests[2 * index], sizeof key->content);
}

static OpImage *
writer_composite (Writer *w,
                  int     index)
{
  Node *node = &g_array_index (w->snapshot->nodes, Node, index);

  if (w->composites[index] == NULL)
    {
      if (node->parent < 0)
        w->composites[index] = op_image_ref (node->picture);
      else
        w->composites[index] = op_composite (writer_composite (w, node->parent),
                                             &node->margins, node->patch, &node->rect,
                                             node->blend);
    }

  return w->composites[index];
}

static void
writer_report (Writer *w,
               gint64  pixels)
{
  report_progress (w->snapshot,
                   w->work_total > 0 ? 0.9 * (w->work_done + pixels) / w->work_total : 0.9);
}

typedef struct
{
  Writer *writer;
  int width;
} RowsData;

static void
writer_rows_cb (int      rows_done,
                gpointer user_data)
{
  RowsData *data = user_data;

  writer_report (data->writer, (gint64) rows_done * data->width);
}

/* One picture as PNG, with the progress; encoding is most of a save, the zip and the
 * write to disk are the last tenth. */
static GBytes *
writer_png (Writer         *w,
            const OpImage  *image,
            GError        **error)
{
  RowsData data = { w, op_image_get_width (image) };
  GBytes *bytes = op_image_encode_png_fast_full (image, writer_rows_cb, &data, error);

  w->work_done += (gint64) op_image_get_width (image) * op_image_get_height (image);
  writer_report (w, 0);

  return bytes;
}

static GBytes *
writer_mask (Writer        *w,
             const OpMask  *mask,
             GError       **error)
{
  g_autoptr(OpImage) image = op_mask_to_image (mask);

  return writer_png (w, image, error);
}

/* One picture, from the cache or encoded now (and cached). */
static GBytes *
writer_encode (Writer   *w,
               int       index,
               char      kind,
               GError  **error)
{
  Node *node = &g_array_index (w->snapshot->nodes, Node, index);
  g_autoptr(OpImage) thumb = NULL;
  CacheKey key;
  GBytes *bytes;

  writer_key (w, index, kind, &key);
  writer_mark_used (w, &key);
  bytes = cache_lookup (w->cache, &key);
  if (bytes != NULL)
    return bytes;

  switch (kind)
    {
    case 'l':
      bytes = writer_png (w, writer_composite (w, index), error);
      break;

    case 'p':
      bytes = writer_png (w, node->patch, error);
      break;

    case 'b':
      bytes = writer_mask (w, node->blend, error);
      break;

    case 'm':
      bytes = writer_mask (w, node->brush, error);
      break;

    case 't':
      {
        OpImage *image = writer_composite (w, index);
        int width = op_image_get_width (image), height = op_image_get_height (image);
        double scale = MIN (1.0, (double) THUMBNAIL_SIDE / MAX (width, height));
        OpRect all = { 0, 0, width, height };

        thumb = op_image_scale (image, &all, MAX (1, (int) (width * scale + 0.5)),
                                MAX (1, (int) (height * scale + 0.5)));
        bytes = op_image_encode_png_fast (thumb, error);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (bytes != NULL)
    cache_store (w->cache, &key, bytes);

  return bytes;
}

/* A composite is kept only while a child still needs it. */
static void
writer_release (Writer *w,
                int     index)
{
  Node *node = &g_array_index (w->snapshot->nodes, Node, index);

  if (w->children_left[index] == 0 && (index != w->snapshot->current || w->snapshot->recovery))
    g_clear_pointer (&w->composites[index], op_image_unref);

  if (node->parent >= 0 && --w->children_left[node->parent] == 0)
    writer_release (w, node->parent);
}

/* What encoding node @index costs, in pixels: what the cache holds costs nothing. */
static gint64
node_work (Writer *w,
           int     index)
{
  Node *node = &g_array_index (w->snapshot->nodes, Node, index);
  gint64 work = 0;
  CacheKey key;

  writer_key (w, index, 'l', &key);
  if ((!w->snapshot->recovery || node->parent < 0) && !cache_has (w->cache, &key))
    work += (gint64) node->width * node->height;
  writer_key (w, index, 'p', &key);
  if (node->parent >= 0 && !cache_has (w->cache, &key))
    work += (gint64) op_image_get_width (node->patch) * op_image_get_height (node->patch);
  writer_key (w, index, 'b', &key);
  if (node->parent >= 0 && !cache_has (w->cache, &key))
    work += (gint64) op_mask_get_width (node->blend) * op_mask_get_height (node->blend);
  writer_key (w, index, 'm', &key);
  if (node->brush != NULL && !cache_has (w->cache, &key))
    work += (gint64) op_mask_get_width (node->brush) * op_mask_get_height (node->brush);

  return work;
}

/* A brush mask's name in the cache: its contents, the SHA-256 of its size, the bounds of
 * what is painted and the pixels within them (outside, every pixel is 0).  That costs far
 * less than encoding the mask. */
static void
brush_digest (const OpMask *mask,
              guint64       digest[2])
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  int width = op_mask_get_width (mask);
  int frame[6] = { width, op_mask_get_height (mask), 0, 0, 0, 0 };
  OpRect bounds;
  guint8 bytes[32];
  gsize length = sizeof bytes;

  op_mask_get_bounds (mask, &bounds);
  frame[2] = bounds.x;
  frame[3] = bounds.y;
  frame[4] = bounds.width;
  frame[5] = bounds.height;
  g_checksum_update (checksum, (const guchar *) frame, sizeof frame);
  for (int y = bounds.y; y < bounds.y + bounds.height; y++)
    g_checksum_update (checksum, op_mask_peek_data (mask) + (gsize) y * width + bounds.x,
                       bounds.width);
  g_checksum_get_digest (checksum, bytes, &length);
  memcpy (digest, bytes, 2 * sizeof (guint64));
}

static gboolean
writer_encode_all (Writer  *w,
                   GError **error)
{
  OpProjectSnapshot *s = w->snapshot;
  guint n = s->nodes->len;

  for (guint i = 0; i < n; i++)
    {
      Node *node = &g_array_index (s->nodes, Node, i);

      if (node->parent >= 0)
        w->children_left[node->parent]++;
      if (node->brush != NULL)
        brush_digest (node->brush, &w->brush_digests[2 * i]);
      w->work_total += node_work (w, i);
    }

  for (guint i = 0; i < n; i++)
    {
      Node *node = &g_array_index (s->nodes, Node, i);

      if ((!s->recovery || node->parent < 0) &&
          (w->layers[i] = writer_encode (w, i, 'l', error)) == NULL)
        return FALSE;
      if (node->parent >= 0 &&
          ((w->patches[i] = writer_encode (w, i, 'p', error)) == NULL ||
           (w->blends[i] = writer_encode (w, i, 'b', error)) == NULL))
        return FALSE;
      if (node->brush != NULL && (w->brushes[i] = writer_encode (w, i, 'm', error)) == NULL)
        return FALSE;
      if ((int) i == (s->recovery ? 0 : s->current) &&
          (w->thumbnail = writer_encode (w, i, 't', error)) == NULL)
        return FALSE;

      writer_report (w, 0);

      /* a leaf is done now; an inner node once its last child is */
      if (w->children_left[i] == 0)
        writer_release (w, i);
    }

  return TRUE;
}

static char *
layer_name (const Node *node,
            int         index)
{
  g_autofree char *prompt = NULL;

  if (node->parent < 0)
    return g_strdup (_("Original"));

  if (node->params != NULL && node->params->prompt != NULL && node->params->prompt[0] != '\0')
    prompt = g_utf8_substring (node->params->prompt, 0,
                               MIN (40, g_utf8_strlen (node->params->prompt, -1)));

  if (prompt != NULL)
    /* Translators: a layer of a saved project: the version's number, then its prompt */
    return g_strdup_printf (_("Version %d: %s"), index, prompt);

  return g_strdup_printf (_("Version %d"), index);
}

static char *
stack_xml (Writer *w)
{
  OpProjectSnapshot *s = w->snapshot;
  int shown = s->recovery ? 0 : s->current;
  const Node *current = &g_array_index (s->nodes, Node, shown);
  GString *xml = g_string_new ("<?xml version='1.0' encoding='UTF-8'?>\n");

  g_string_append_printf (xml,
                          "<image version=\"0.0.5\" w=\"%d\" h=\"%d\" xres=\"72\" yres=\"72\" "
                          "xmlns:overpaint=\"" OP_PROJECT_NAMESPACE "\" "
                          "overpaint:format=\"%d\" overpaint:project=\"overpaint/project.json\">\n"
                          " <stack>\n",
                          current->width, current->height, OP_PROJECT_FORMAT_VERSION);

  /* the last version on top, the original at the bottom */
  for (int i = (int) s->nodes->len - 1; i >= 0; i--)
    {
      const Node *node = &g_array_index (s->nodes, Node, i);
      g_autofree char *name = NULL;
      g_autofree char *escaped = NULL;

      if (w->layers[i] == NULL)
        continue;
      name = layer_name (node, i);
      escaped = g_markup_escape_text (name, -1);

      g_string_append_printf (xml,
                              "  <layer name=\"%s\" src=\"data/version-%d.png\" x=\"%d\" y=\"%d\" "
                              "opacity=\"1.0\" visibility=\"%s\" composite-op=\"svg:src-over\" "
                              "overpaint:version=\"%d\"/>\n",
                              escaped, i, node->x - current->x, node->y - current->y,
                              i == shown ? "visible" : "hidden", i);
    }

  g_string_append (xml, " </stack>\n</image>\n");
  return g_string_free (xml, FALSE);
}

static void
add_params (JsonBuilder    *b,
            const OpParams *params)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, params->backend);
#define OPTIONAL_STRING(field) \
  if (params->field != NULL)                               \
    {                                                      \
      json_builder_set_member_name (b, #field);            \
      json_builder_add_string_value (b, params->field);    \
    }
  OPTIONAL_STRING (model)
  OPTIONAL_STRING (sampler)
  OPTIONAL_STRING (scheduler)
  OPTIONAL_STRING (prompt)
  OPTIONAL_STRING (negative_prompt)
#undef OPTIONAL_STRING
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, params->seed);
  json_builder_set_member_name (b, "n_variants");
  json_builder_add_int_value (b, params->n_variants);
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, params->steps);
  json_builder_set_member_name (b, "cfg");
  json_builder_add_double_value (b, params->cfg);
  json_builder_set_member_name (b, "strength");
  json_builder_add_double_value (b, params->strength);
  json_builder_set_member_name (b, "mask_grow");
  json_builder_add_int_value (b, params->mask_grow);
  json_builder_set_member_name (b, "mask_feather");
  json_builder_add_int_value (b, params->mask_feather);
  json_builder_set_member_name (b, "context");
  json_builder_add_string_value (b, params->context == OP_CONTEXT_WHOLE ? "whole" : "masked");
  json_builder_set_member_name (b, "padding");
  json_builder_add_int_value (b, params->padding);
  json_builder_set_member_name (b, "color_match");
  json_builder_add_boolean_value (b, params->color_match);
  json_builder_end_object (b);
}

static void
add_margins (JsonBuilder     *b,
             const char      *name,
             const OpMargins *m)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "left");
  json_builder_add_int_value (b, m->left);
  json_builder_set_member_name (b, "right");
  json_builder_add_int_value (b, m->right);
  json_builder_set_member_name (b, "top");
  json_builder_add_int_value (b, m->top);
  json_builder_set_member_name (b, "bottom");
  json_builder_add_int_value (b, m->bottom);
  json_builder_end_object (b);
}

static void
add_string_member (JsonBuilder *b,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static char *
project_json (Writer *w)
{
  OpProjectSnapshot *s = w->snapshot;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  add_string_member (b, "format", "overpaint-project");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, OP_PROJECT_FORMAT_VERSION);
  add_string_member (b, "generator", PACKAGE_NAME " " PACKAGE_VERSION);
  json_builder_set_member_name (b, "current");
  json_builder_add_int_value (b, s->current);
  json_builder_set_member_name (b, "last_generation");
  json_builder_add_int_value (b, s->last_generation);
  add_margins (b, "margins", &s->margins);
  if (s->sidebar != NULL)
    {
      json_builder_set_member_name (b, "sidebar");
      add_params (b, s->sidebar);
    }

  json_builder_set_member_name (b, "versions");
  json_builder_begin_array (b);
  for (guint i = 0; i < s->nodes->len; i++)
    {
      const Node *node = &g_array_index (s->nodes, Node, i);
      g_autofree char *layer = g_strdup_printf ("data/version-%u.png", i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "parent");
      if (node->parent < 0)
        json_builder_add_null_value (b);
      else
        json_builder_add_int_value (b, node->parent);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, node->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, node->height);
      json_builder_set_member_name (b, "seed");
      json_builder_add_int_value (b, node->seed);
      json_builder_set_member_name (b, "generation");
      json_builder_add_int_value (b, node->generation);
      if (w->layers[i] != NULL)
        add_string_member (b, "layer", layer);

      if (node->parent < 0)
        add_string_member (b, "picture", layer);
      else
        {
          g_autofree char *patch = g_strdup_printf ("overpaint/patch-%u.png", i);
          g_autofree char *blend = g_strdup_printf ("overpaint/blend-%u.png", i);

          add_margins (b, "margins", &node->margins);
          json_builder_set_member_name (b, "rect");
          json_builder_begin_array (b);
          json_builder_add_int_value (b, node->rect.x);
          json_builder_add_int_value (b, node->rect.y);
          json_builder_add_int_value (b, node->rect.width);
          json_builder_add_int_value (b, node->rect.height);
          json_builder_end_array (b);
          add_string_member (b, "patch", patch);
          add_string_member (b, "blend", blend);
        }

      if (node->brush != NULL)
        {
          g_autofree char *brush = g_strdup_printf ("overpaint/brush-%u.png", i);

          add_string_member (b, "brush", brush);
        }

      if (node->params != NULL)
        {
          json_builder_set_member_name (b, "params");
          add_params (b, node->params);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static gboolean
zip_failed (zip_t   *za,
            GError **error)
{
  g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
               _("Could not write the project: %s"), zip_strerror (za));
  return FALSE;
}

/* @data must live until the archive is closed. */
static gboolean
archive_add (zip_t        *za,
         const char   *name,
         gconstpointer data,
         gsize         length,
         gboolean      compress,
         GError      **error)
{
  zip_source_t *source = zip_source_buffer (za, data, length, 0);
  zip_int64_t index;

  if (source == NULL)
    return zip_failed (za, error);

  index = zip_file_add (za, name, source, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
  if (index < 0)
    {
      zip_source_free (source);
      return zip_failed (za, error);
    }

  /* PNGs are compressed already; deflating them again costs time and saves nothing */
  if (zip_set_file_compression (za, index, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) < 0)
    return zip_failed (za, error);

  return TRUE;
}

static gboolean
archive_add_bytes (zip_t       *za,
               const char  *name,
               GBytes      *bytes,
               GError     **error)
{
  return archive_add (za, name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), FALSE,
                  error);
}

static GBytes *
zip_source_to_bytes (zip_source_t  *source,
                     GError       **error)
{
  zip_stat_t st;
  guint8 *data;
  zip_int64_t n;

  if (zip_source_stat (source, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) ||
      zip_source_open (source) < 0)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                   _("Could not write the project: %s"),
                   zip_error_strerror (zip_source_error (source)));
      return NULL;
    }

  data = g_malloc (MAX (st.size, 1));
  n = zip_source_read (source, data, st.size);
  zip_source_close (source);
  if (n < 0 || (zip_uint64_t) n != st.size)
    {
      g_free (data);
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                   _("Could not write the project: %s"),
                   zip_error_strerror (zip_source_error (source)));
      return NULL;
    }

  return g_bytes_new_take (data, st.size);
}

static GBytes *
writer_zip (Writer  *w,
            GError **error)
{
  OpProjectSnapshot *s = w->snapshot;
  g_autofree char *xml = stack_xml (w);
  g_autofree char *json = project_json (w);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  zip_error_t zerror;
  zip_source_t *source;
  zip_t *za;
  gboolean ok;

  zip_error_init (&zerror);
  source = zip_source_buffer_create (NULL, 0, 0, &zerror);
  if (source == NULL)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                   _("Could not write the project: %s"), zip_error_strerror (&zerror));
      zip_error_fini (&zerror);
      return NULL;
    }

  zip_source_keep (source);
  za = zip_open_from_source (source, ZIP_TRUNCATE, &zerror);
  if (za == NULL)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                   _("Could not write the project: %s"), zip_error_strerror (&zerror));
      zip_error_fini (&zerror);
      zip_source_free (source);
      zip_source_free (source);
      return NULL;
    }
  zip_error_fini (&zerror);

  /* OpenRaster: the mime type first, stored, so `file` and other programs know it */
  ok = archive_add (za, "mimetype", OP_PROJECT_MIME_TYPE, strlen (OP_PROJECT_MIME_TYPE), FALSE,
                error) &&
       archive_add (za, "stack.xml", xml, strlen (xml), TRUE, error);

  for (guint i = 0; ok && i < s->nodes->len; i++)
    {
      const Node *node = &g_array_index (s->nodes, Node, i);
      char *name;

      if (w->layers[i] != NULL)
        {
          g_ptr_array_add (names, name = g_strdup_printf ("data/version-%u.png", i));
          ok = archive_add_bytes (za, name, w->layers[i], error);
        }

      if (ok && node->parent >= 0)
        {
          g_ptr_array_add (names, name = g_strdup_printf ("overpaint/patch-%u.png", i));
          ok = archive_add_bytes (za, name, w->patches[i], error);
          g_ptr_array_add (names, name = g_strdup_printf ("overpaint/blend-%u.png", i));
          ok = ok && archive_add_bytes (za, name, w->blends[i], error);
        }

      if (ok && w->brushes[i] != NULL)
        {
          g_ptr_array_add (names, name = g_strdup_printf ("overpaint/brush-%u.png", i));
          ok = archive_add_bytes (za, name, w->brushes[i], error);
        }
    }

  ok = ok && archive_add_bytes (za, "mergedimage.png", w->layers[s->recovery ? 0 : s->current],
                               error) &&
       archive_add_bytes (za, "Thumbnails/thumbnail.png", w->thumbnail, error) &&
       archive_add (za, "overpaint/project.json", json, strlen (json), TRUE, error);

  if (!ok)
    {
      zip_discard (za);
      zip_source_free (source);
      return NULL;
    }

  if (zip_close (za) < 0)
    {
      zip_failed (za, error);
      zip_discard (za);
      zip_source_free (source);
      return NULL;
    }

  {
    GBytes *bytes = zip_source_to_bytes (source, error);

    zip_source_free (source);
    return bytes;
  }
}

/**
 * op_project_snapshot_encode:
 * @cache: (nullable): encoded pictures from earlier saves; updated
 *
 * Returns: (transfer full): the OpenRaster file
 */
GBytes *
op_project_snapshot_encode (OpProjectSnapshot  *self,
                            OpProjectCache     *cache,
                            GError            **error)
{
  guint n;
  Writer w = { 0, };
  GBytes *bytes = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  n = self->nodes->len;
  w.snapshot = self;
  w.cache = cache;
  w.used = g_hash_table_new_full (cache_key_hash, cache_key_equal, g_free, NULL);
  w.composites = g_new0 (OpImage *, n);
  w.children_left = g_new0 (guint, n);
  w.layers = g_new0 (GBytes *, n);
  w.patches = g_new0 (GBytes *, n);
  w.blends = g_new0 (GBytes *, n);
  w.brushes = g_new0 (GBytes *, n);
  w.brush_digests = g_new0 (guint64, 2 * n);

  if (writer_encode_all (&w, error))
    bytes = writer_zip (&w, error);

  if (bytes != NULL)
    cache_keep_only (cache, w.used);

  writer_clear (&w);
  return bytes;
}

/* "Permission denied" and "No space left" in words a designer acts on. */
static void
set_write_error (GError     **error,
                 const char  *path,
                 GError      *cause)
{
  g_autofree char *display = g_filename_display_basename (path);

  if (g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_ACCES) ||
      g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_PERM) ||
      g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_ROFS))
    g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                 _("Could not save “%s”: the folder is read-only. "
                   "Choose another folder with Save As."), display);
  else if (g_error_matches (cause, G_FILE_ERROR, G_FILE_ERROR_NOSPC))
    g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                 _("Could not save “%s”: the disk is full. "
                   "Free some space or choose another place with Save As."), display);
  else
    g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_WRITE,
                 _("Could not save “%s”: %s"), display, cause->message);
}

gboolean
op_project_snapshot_write (OpProjectSnapshot  *self,
                           const char         *path,
                           OpProjectCache     *cache,
                           GError            **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  bytes = op_project_snapshot_encode (self, cache, error);
  if (bytes == NULL)
    return FALSE;

  report_progress (self, 0.95);
  if (!g_file_set_contents_full (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local_error))
    {
      set_write_error (error, path, local_error);
      return FALSE;
    }

  report_progress (self, 1.0);
  return TRUE;
}

/* Reading */

struct _OpProject
{
  OpVersion *root;
  OpVersion *current;
  OpMargins margins;
  GHashTable *brush;    /* OpVersion → OpMask */
  guint last_generation;
  OpParams *sidebar;
  gboolean foreign;
};

void
op_project_free (OpProject *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->root);
  g_clear_object (&self->current);
  g_clear_pointer (&self->brush, g_hash_table_unref);
  g_clear_pointer (&self->sidebar, op_params_free);
  g_free (self);
}

OpVersion *
op_project_get_root (OpProject *self)
{
  return self->root;
}

OpVersion *
op_project_get_current (OpProject *self)
{
  return self->current;
}

void
op_project_get_margins (OpProject *self,
                        OpMargins *margins)
{
  *margins = self->margins;
}

GHashTable *
op_project_get_brush_masks (OpProject *self)
{
  return self->brush;
}

guint
op_project_get_last_generation (OpProject *self)
{
  return self->last_generation;
}

const OpParams *
op_project_get_sidebar (OpProject *self)
{
  return self->sidebar;
}

gboolean
op_project_is_foreign (OpProject *self)
{
  return self->foreign;
}

void
op_project_apply (OpProject  *self,
                  OpDocument *document,
                  GFile      *file)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (OP_IS_DOCUMENT (document));

  op_document_restore (document, self->root, self->current, &self->margins, self->brush,
                       self->last_generation, file, !self->foreign);
}

typedef struct
{
  zip_t *za;
  guint64 total;
} Reader;

static gboolean
corrupt (GError    **error,
         const char *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
corrupt (GError    **error,
         const char *format,
         ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  /* details quote other messages, which end with a full stop of their own */
  if (g_str_has_suffix (detail, "."))
    detail[strlen (detail) - 1] = '\0';

  g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_CORRUPT,
               _("The project is damaged: %s."), detail);
  return FALSE;
}

/* A name inside the archive we are willing to read: relative, no "..", plain characters.
 * Nothing is ever extracted to disk, but a name that tries is a hostile file. */
static gboolean
name_is_safe (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > MAX_NAME_LENGTH || name[0] == '/' || name[length - 1] == '/')
    return FALSE;

  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-' && *p != '/')
      return FALSE;

  if (strstr (name, "//") != NULL || g_str_has_prefix (name, "../") ||
      strstr (name, "/../") != NULL || g_str_has_suffix (name, "/..") || strcmp (name, "..") == 0)
    return FALSE;

  return TRUE;
}

/* An archive member's name that could write outside a folder it was extracted to. */
static gboolean
name_escapes (const char *name)
{
  g_auto(GStrv) parts = NULL;

  if (name[0] == '/' || name[0] == '\\' || (g_ascii_isalpha (name[0]) && name[1] == ':'))
    return TRUE;

  parts = g_strsplit_set (name, "/\\", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (strcmp (parts[i], "..") == 0)
      return TRUE;

  return FALSE;
}

static GBytes *
read_entry (Reader      *r,
            const char  *name,
            gsize        limit,
            GError     **error)
{
  zip_int64_t index;
  zip_stat_t st;
  zip_file_t *zf;
  guint8 *data;
  guint64 got = 0;

  if (!name_is_safe (name))
    {
      corrupt (error, _("it refers to a file with an unsafe name"));
      return NULL;
    }

  index = zip_name_locate (r->za, name, 0);
  if (index < 0)
    {
      corrupt (error, _("“%s” is missing"), name);
      return NULL;
    }

  zip_stat_init (&st);
  if (zip_stat_index (r->za, (zip_uint64_t) index, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
    {
      corrupt (error, _("“%s” cannot be read"), name);
      return NULL;
    }

  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NOT_A_PROJECT,
                   _("The project is encrypted; Overpaint cannot open encrypted files."));
      return NULL;
    }

  /* the declared size bounds what we read: a zip bomb that lies stops there */
  if (st.size > limit || r->total + st.size > OP_PROJECT_MAX_TOTAL_BYTES)
    {
      g_autofree char *size = g_format_size (st.size);

      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                   _("The project is too large to open: “%s” would take %s."), name, size);
      return NULL;
    }

  data = g_try_malloc (MAX (st.size, 1));
  if (data == NULL)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                   _("There is not enough memory to open the project."));
      return NULL;
    }

  zf = zip_fopen_index (r->za, (zip_uint64_t) index, 0);
  if (zf == NULL)
    {
      g_free (data);
      corrupt (error, _("“%s” cannot be read (%s)"), name, zip_strerror (r->za));
      return NULL;
    }

  while (got < st.size)
    {
      zip_int64_t n = zip_fread (zf, data + got, st.size - got);

      if (n <= 0)
        {
          g_autofree char *why = g_strdup (n < 0 ? zip_file_strerror (zf) : _("it ends early"));

          zip_fclose (zf);
          g_free (data);
          corrupt (error, _("“%s” cannot be read (%s)"), name, why);
          return NULL;
        }
      got += (guint64) n;
    }

  if (zip_fclose (zf) != 0)
    {
      g_free (data);
      corrupt (error, _("“%s” fails its checksum"), name);
      return NULL;
    }

  r->total += got;
  return g_bytes_new_take (data, got);
}

static OpImage *
read_png (Reader      *r,
          const char  *name,
          int          width,
          int          height,
          GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  OpImage *image;

  bytes = read_entry (r, name, OP_PROJECT_MAX_PNG_BYTES, error);
  if (bytes == NULL)
    return NULL;

  image = op_image_new_from_bytes (bytes, &local_error);
  if (image == NULL)
    {
      if (g_error_matches (local_error, OP_IMAGE_ERROR, OP_IMAGE_ERROR_TOO_LARGE))
        g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                     "%s", local_error->message);
      else
        corrupt (error, _("“%s”: %s"), name, local_error->message);
      return NULL;
    }

  if (width >= 0 && (op_image_get_width (image) != width || op_image_get_height (image) != height))
    {
      corrupt (error, _("“%s” is %d × %d pixels where %d × %d were expected"), name,
               op_image_get_width (image), op_image_get_height (image), width, height);
      op_image_unref (image);
      return NULL;
    }

  return image;
}

static OpMask *
read_mask (Reader      *r,
           const char  *name,
           int          width,
           int          height,
           GError     **error)
{
  g_autoptr(OpImage) image = read_png (r, name, width, height, error);

  if (image == NULL)
    return NULL;

  return op_mask_new_from_image (image, error);
}

/* stack.xml */

typedef struct
{
  gboolean seen_image;
  int width, height;
  char *project;      /* our namespaced attribute: where project.json is */
  char *format;
  guint depth;
} Stack;

static void
stack_start_element (GMarkupParseContext  *context,
                     const char           *element,
                     const char          **names,
                     const char          **values,
                     gpointer              user_data,
                     GError              **error)
{
  Stack *stack = user_data;
  const char *prefix = NULL;

  if (++stack->depth > 64)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "nested too deeply");
      return;
    }

  if (stack->depth != 1)
    return;

  if (strcmp (element, "image") != 0)
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ELEMENT,
                   "the root element is <%s>, not <image>", element);
      return;
    }

  stack->seen_image = TRUE;

  /* our attributes are those of the prefix bound to our namespace, whatever it is */
  for (guint i = 0; names[i] != NULL; i++)
    if (g_str_has_prefix (names[i], "xmlns:") && strcmp (values[i], OP_PROJECT_NAMESPACE) == 0)
      prefix = names[i] + strlen ("xmlns:");

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *colon = strchr (names[i], ':');

      if (strcmp (names[i], "w") == 0)
        stack->width = (int) CLAMP (g_ascii_strtoll (values[i], NULL, 10), -1, G_MAXINT);
      else if (strcmp (names[i], "h") == 0)
        stack->height = (int) CLAMP (g_ascii_strtoll (values[i], NULL, 10), -1, G_MAXINT);
      else if (prefix != NULL && colon != NULL &&
               (gsize) (colon - names[i]) == strlen (prefix) &&
               strncmp (names[i], prefix, strlen (prefix)) == 0)
        {
          if (strcmp (colon + 1, "project") == 0)
            {
              g_free (stack->project);
              stack->project = g_strdup (values[i]);
            }
          else if (strcmp (colon + 1, "format") == 0)
            {
              g_free (stack->format);
              stack->format = g_strdup (values[i]);
            }
        }
    }
}

static void
stack_end_element (GMarkupParseContext  *context,
                   const char           *element,
                   gpointer              user_data,
                   GError              **error)
{
  Stack *stack = user_data;

  stack->depth--;
}

static gboolean
parse_stack (GBytes  *bytes,
             Stack   *stack,
             GError **error)
{
  static const GMarkupParser parser = { stack_start_element, stack_end_element, NULL, NULL, NULL };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  context = g_markup_parse_context_new (&parser, G_MARKUP_PREFIX_ERROR_POSITION, stack, NULL);
  if (!g_markup_parse_context_parse (context, data, length, &local_error) ||
      !g_markup_parse_context_end_parse (context, &local_error))
    return corrupt (error, _("stack.xml is not valid (%s)"), local_error->message);

  if (!stack->seen_image)
    return corrupt (error, _("stack.xml has no <image>"));

  return TRUE;
}

/* project.json */

static gboolean
get_int (JsonObject  *object,
         const char  *member,
         gint64       min,
         gint64       max,
         gint64      *out,
         const char  *where,
         GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return corrupt (error, _("%s has no whole number “%s”"), where, member);

  *out = json_node_get_int (node);
  if (*out < min || *out > max)
    {
      /* numbers as text: a G_GINT64_FORMAT inside the message would cut it for xgettext */
      g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, *out);
      g_autofree char *low = g_strdup_printf ("%" G_GINT64_FORMAT, min);
      g_autofree char *high = g_strdup_printf ("%" G_GINT64_FORMAT, max);

      return corrupt (error, _("%s: “%s” is %s, outside %s … %s"), where, member, value, low,
                      high);
    }
  return TRUE;
}

static gboolean
get_int32 (JsonObject  *object,
           const char  *member,
           int          min,
           int          max,
           int         *out,
           const char  *where,
           GError     **error)
{
  gint64 value;

  if (!get_int (object, member, min, max, &value, where, error))
    return FALSE;

  *out = (int) value;
  return TRUE;
}

static gboolean
get_double (JsonObject  *object,
            const char  *member,
            double      *out,
            const char  *where,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return corrupt (error, _("%s has no number “%s”"), where, member);

  *out = json_node_get_double (node);
  return TRUE;
}

/* An absent or null member is NULL, which only a required one refuses. */
static gboolean
get_string (JsonObject  *object,
            const char  *member,
            gboolean     required,
            const char **out,
            const char  *where,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if ((node == NULL || JSON_NODE_HOLDS_NULL (node)) && !required)
    return TRUE;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return corrupt (error, _("%s has no text “%s”"), where, member);

  *out = json_node_get_string (node);
  return TRUE;
}

/* JSON_NODE_HOLDS_* warns on a missing member: this one does not. */
static gboolean
holds (JsonNode     *node,
       JsonNodeType  type)
{
  return node != NULL && json_node_get_node_type (node) == type;
}

static JsonObject *
get_object (JsonObject  *object,
            const char  *member,
            const char  *where,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      corrupt (error, _("%s has no “%s”"), where, member);
      return NULL;
    }

  return json_node_get_object (node);
}

static gboolean
read_margins (JsonObject  *object,
              const char  *where,
              OpMargins   *m,
              GError     **error)
{
  JsonObject *o = get_object (object, "margins", where, error);

  return o != NULL &&
         get_int32 (o, "left", 0, OP_IMAGE_MAX_SIDE, &m->left, where, error) &&
         get_int32 (o, "right", 0, OP_IMAGE_MAX_SIDE, &m->right, where, error) &&
         get_int32 (o, "top", 0, OP_IMAGE_MAX_SIDE, &m->top, where, error) &&
         get_int32 (o, "bottom", 0, OP_IMAGE_MAX_SIDE, &m->bottom, where, error);
}

static OpParams *
read_params (JsonObject  *o,
             const char  *where,
             GError     **error)
{
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(GError) local_error = NULL;
  const char *text;
  JsonNode *node;
  gint64 v;

#define STRING(field, required)                                       \
  if (!get_string (o, #field, required, &text, where, error))         \
    return NULL;                                                      \
  g_free (params->field);                                             \
  params->field = g_strdup (text);
  STRING (backend, TRUE)
  STRING (model, FALSE)
  STRING (sampler, FALSE)
  STRING (scheduler, FALSE)
  STRING (prompt, FALSE)
  STRING (negative_prompt, FALSE)
#undef STRING

  if (!get_int (o, "seed", -1, G_MAXINT64, &params->seed, where, error) ||
      !get_int32 (o, "n_variants", 1, OP_VARIANTS_MAX, &params->n_variants, where, error) ||
      !get_int32 (o, "steps", 1, 1000, &params->steps, where, error) ||
      !get_double (o, "cfg", &params->cfg, where, error) ||
      !get_double (o, "strength", &params->strength, where, error) ||
      !get_int32 (o, "mask_grow", -OP_IMAGE_MAX_SIDE, OP_IMAGE_MAX_SIDE, &params->mask_grow,
                  where, error) ||
      !get_int32 (o, "mask_feather", 0, OP_IMAGE_MAX_SIDE, &params->mask_feather, where, error) ||
      !get_int (o, "padding", 0, OP_IMAGE_MAX_SIDE, &v, where, error))
    return NULL;
  params->padding = (int) v;

  if (!get_string (o, "context", TRUE, &text, where, error))
    return NULL;
  if (strcmp (text, "whole") == 0)
    params->context = OP_CONTEXT_WHOLE;
  else if (strcmp (text, "masked") == 0)
    params->context = OP_CONTEXT_MASKED;
  else
    {
      corrupt (error, _("%s: the context “%s” is unknown"), where, text);
      return NULL;
    }

  node = json_object_get_member (o, "color_match");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      corrupt (error, _("%s has no “%s”"), where, "color_match");
      return NULL;
    }
  params->color_match = json_node_get_boolean (node);

  if (!op_params_validate (params, &local_error))
    {
      corrupt (error, "%s: %s", where, local_error->message);
      return NULL;
    }

  return g_steal_pointer (&params);
}

static OpVersion *
read_version (Reader      *r,
              JsonObject  *o,
              guint        index,
              GPtrArray   *versions,
              GHashTable  *brush,
              GError     **error)
{
  g_autofree char *where = g_strdup_printf (_("version %u"), index);
  g_autoptr(OpParams) params = NULL;
  g_autoptr(OpVersion) version = NULL;
  JsonNode *parent_node = json_object_get_member (o, "parent");
  const char *brush_name;
  gint64 seed, generation;
  int width, height;

  if (!get_int32 (o, "width", 1, OP_IMAGE_MAX_SIDE, &width, where, error) ||
      !get_int32 (o, "height", 1, OP_IMAGE_MAX_SIDE, &height, where, error) ||
      !get_int (o, "seed", -1, G_MAXINT64, &seed, where, error) ||
      !get_int (o, "generation", 0, G_MAXUINT32, &generation, where, error))
    return NULL;

  if ((gint64) width * height > OP_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                   _("The project is too large to open: version %u is %d × %d pixels."),
                   index, width, height);
      return NULL;
    }

  if (json_object_has_member (o, "params"))
    {
      JsonObject *p = get_object (o, "params", where, error);

      if (p == NULL || (params = read_params (p, where, error)) == NULL)
        return NULL;
    }

  if (index == 0)
    {
      g_autoptr(OpImage) picture = NULL;
      const char *name;

      if (parent_node != NULL && !JSON_NODE_HOLDS_NULL (parent_node))
        {
          corrupt (error, _("the first version has a parent"));
          return NULL;
        }

      if (!get_string (o, "picture", TRUE, &name, where, error) ||
          (picture = read_png (r, name, width, height, error)) == NULL)
        return NULL;

      version = op_version_new_root_with (picture, params, seed, (guint) generation);
    }
  else
    {
      g_autoptr(OpImage) patch = NULL;
      g_autoptr(OpMask) blend = NULL;
      OpVersion *parent;
      JsonArray *rect_array;
      const char *name;
      OpMargins margins;
      OpRect rect;
      gint64 p;

      if (!get_int (o, "parent", 0, index - 1, &p, where, error) ||
          !read_margins (o, where, &margins, error))
        return NULL;

      parent = versions->pdata[p];
      if ((gint64) op_version_get_width (parent) + margins.left + margins.right != width ||
          (gint64) op_version_get_height (parent) + margins.top + margins.bottom != height)
        {
          corrupt (error, _("version %u is %d × %d pixels, not its parent’s size plus the margins"),
                   index, width, height);
          return NULL;
        }

      if (params == NULL)
        {
          corrupt (error, _("version %u has no parameters"), index);
          return NULL;
        }

      if (!holds (json_object_get_member (o, "rect"), JSON_NODE_ARRAY) ||
          json_array_get_length (rect_array = json_object_get_array_member (o, "rect")) != 4)
        {
          corrupt (error, _("version %u has no rectangle"), index);
          return NULL;
        }
      for (guint i = 0; i < 4; i++)
        {
          JsonNode *n = json_array_get_element (rect_array, i);

          if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64 ||
              json_node_get_int (n) < 0 || json_node_get_int (n) > OP_IMAGE_MAX_SIDE)
            {
              corrupt (error, _("version %u has no rectangle"), index);
              return NULL;
            }
        }
      rect = (OpRect) { (int) json_array_get_int_element (rect_array, 0),
                        (int) json_array_get_int_element (rect_array, 1),
                        (int) json_array_get_int_element (rect_array, 2),
                        (int) json_array_get_int_element (rect_array, 3) };
      if (rect.width < 1 || rect.height < 1 || rect.x + rect.width > width ||
          rect.y + rect.height > height)
        {
          corrupt (error, _("version %u: its rectangle lies outside the picture"), index);
          return NULL;
        }

      if (!get_string (o, "patch", TRUE, &name, where, error) ||
          (patch = read_png (r, name, rect.width, rect.height, error)) == NULL ||
          !get_string (o, "blend", TRUE, &name, where, error) ||
          (blend = read_mask (r, name, rect.width, rect.height, error)) == NULL)
        return NULL;

      version = op_version_new_variant (parent, &margins, patch, &rect, blend, params, seed,
                                        (guint) generation);
      op_version_insert_child (parent, version, -1);
    }

  if (!get_string (o, "brush", FALSE, &brush_name, where, error))
    return NULL;
  if (brush_name != NULL)
    {
      OpMask *mask = read_mask (r, brush_name, width, height, error);

      if (mask == NULL)
        return NULL;
      g_hash_table_insert (brush, g_object_ref (version), mask);
    }

  return g_steal_pointer (&version);
}

static gboolean
read_project_json (Reader     *r,
                   OpProject  *project,
                   const char *name,
                   GError    **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_object_unref);
  JsonObject *root, *sidebar;
  JsonArray *list;
  const char *format;
  gsize length;
  const char *data;
  gint64 version, current, last_generation;
  guint n;

  bytes = read_entry (r, name, OP_PROJECT_MAX_JSON_BYTES, error);
  if (bytes == NULL)
    return FALSE;

  data = g_bytes_get_data (bytes, &length);
  if (!op_json_depth_ok (data, length, MAX_JSON_DEPTH))
    return corrupt (error, _("%s is nested too deeply"), name);

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local_error))
    return corrupt (error, _("%s is not valid JSON (%s)"), name, local_error->message);

  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return corrupt (error, _("%s is not an object"), name);
  root = json_node_get_object (json_parser_get_root (parser));

  if (!get_string (root, "format", TRUE, &format, name, error))
    return FALSE;
  if (strcmp (format, "overpaint-project") != 0)
    return corrupt (error, _("%s is not an Overpaint project"), name);

  if (!get_int (root, "version", 1, G_MAXINT32, &version, name, error))
    return FALSE;
  if (version > OP_PROJECT_FORMAT_VERSION)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NEWER,
                   _("This project was saved by a newer version of Overpaint (format %d); "
                     "update Overpaint to open it."), (int) version);
      return FALSE;
    }

  if (!holds (json_object_get_member (root, "versions"), JSON_NODE_ARRAY))
    return corrupt (error, _("%s has no versions"), name);
  list = json_object_get_array_member (root, "versions");
  n = json_array_get_length (list);
  if (n == 0)
    return corrupt (error, _("%s has no versions"), name);
  if (n > OP_PROJECT_MAX_VERSIONS)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                   _("The project has %u versions; Overpaint opens at most %d."), n,
                   OP_PROJECT_MAX_VERSIONS);
      return FALSE;
    }

  if (!get_int (root, "current", 0, n - 1, &current, name, error) ||
      !get_int (root, "last_generation", 0, G_MAXUINT32, &last_generation, name, error) ||
      !read_margins (root, name, &project->margins, error))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (list, i);
      OpVersion *v;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return corrupt (error, _("version %u is not an object"), i);

      v = read_version (r, json_node_get_object (node), i, versions, project->brush, error);
      if (v == NULL)
        return FALSE;
      g_ptr_array_add (versions, v);
    }

  if (json_object_has_member (root, "sidebar"))
    {
      /* the sidebar's state is a convenience: a bad one is dropped, the versions kept */
      g_autoptr(GError) sidebar_error = NULL;

      sidebar = get_object (root, "sidebar", name, &sidebar_error);
      if (sidebar != NULL)
        project->sidebar = read_params (sidebar, _("the sidebar"), &sidebar_error);
      if (sidebar_error != NULL)
        g_debug ("Ignoring the sidebar state: %s", sidebar_error->message);
    }

  project->root = g_object_ref (versions->pdata[0]);
  project->current = g_object_ref (versions->pdata[current]);
  project->last_generation = (guint) last_generation;
  return TRUE;
}

static gboolean
check_archive (Reader  *r,
               GError **error)
{
  zip_int64_t n = zip_get_num_entries (r->za, 0);
  g_autoptr(GBytes) mimetype = NULL;
  const char *first;

  if (n <= 0)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NOT_A_PROJECT,
                   _("This file is not an OpenRaster project (the archive is empty)."));
      return FALSE;
    }

  if (n > OP_PROJECT_MAX_ENTRIES)
    {
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) n);

      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_TOO_LARGE,
                   _("The project holds %s files; Overpaint opens at most %d."), count,
                   OP_PROJECT_MAX_ENTRIES);
      return FALSE;
    }

  for (zip_int64_t i = 0; i < n; i++)
    {
      const char *name = zip_get_name (r->za, (zip_uint64_t) i, 0);

      if (name == NULL || name_escapes (name))
        return corrupt (error, _("it holds a file whose name points outside the project"));
    }

  first = zip_get_name (r->za, 0, 0);
  if (first == NULL || strcmp (first, "mimetype") != 0 ||
      (mimetype = read_entry (r, "mimetype", 256, NULL)) == NULL ||
      g_bytes_get_size (mimetype) != strlen (OP_PROJECT_MIME_TYPE) ||
      memcmp (g_bytes_get_data (mimetype, NULL), OP_PROJECT_MIME_TYPE,
              strlen (OP_PROJECT_MIME_TYPE)) != 0)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NOT_A_PROJECT,
                   _("This file is not an OpenRaster project (its “mimetype” is not %s)."),
                   OP_PROJECT_MIME_TYPE);
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_archive (Reader     *r,
              OpProject  *project,
              GError    **error)
{
  g_autoptr(GBytes) xml = NULL;
  Stack stack = { FALSE, -1, -1, NULL, NULL, 0 };
  gboolean ok;

  if (!check_archive (r, error) ||
      (xml = read_entry (r, "stack.xml", OP_PROJECT_MAX_XML_BYTES, error)) == NULL ||
      !parse_stack (xml, &stack, error))
    {
      g_free (stack.project);
      g_free (stack.format);
      return FALSE;
    }

  if (stack.project != NULL)
    ok = read_project_json (r, project, stack.project, error);
  else
    {
      /* GIMP's, Krita's, MyPaint's: open their merged picture as a new picture */
      g_autoptr(OpImage) merged = NULL;

      if (zip_name_locate (r->za, "mergedimage.png", 0) < 0)
        ok = corrupt (error, _("it has no merged picture (mergedimage.png); "
                               "save it again from the program that made it"));
      else if ((merged = read_png (r, "mergedimage.png", -1, -1, error)) == NULL)
        ok = FALSE;
      else
        {
          project->root = op_version_new_root (merged);
          project->current = g_object_ref (project->root);
          project->foreign = TRUE;
          ok = TRUE;
        }
    }

  g_free (stack.project);
  g_free (stack.format);
  return ok;
}

/**
 * op_project_decode:
 *
 * Reads an OpenRaster file.  Every size is checked before memory is spent on it, every
 * part against the others; a file that fails any check is refused as a whole.
 */
OpProject *
op_project_decode (GBytes  *bytes,
                   GError **error)
{
  g_autoptr(OpProject) project = NULL;
  zip_error_t zerror;
  zip_source_t *source;
  Reader r = { NULL, 0 };
  gboolean ok;

  g_return_val_if_fail (bytes != NULL, NULL);

  if (g_bytes_get_size (bytes) == 0)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NOT_A_PROJECT,
                   _("The file is empty."));
      return NULL;
    }

  zip_error_init (&zerror);
  source = zip_source_buffer_create (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                     0, &zerror);
  if (source != NULL)
    r.za = zip_open_from_source (source, ZIP_RDONLY | ZIP_CHECKCONS, &zerror);
  if (r.za == NULL)
    {
      g_set_error (error, OP_PROJECT_ERROR, OP_PROJECT_ERROR_NOT_A_PROJECT,
                   _("This file is not an OpenRaster project (%s)."),
                   zip_error_strerror (&zerror));
      zip_error_fini (&zerror);
      if (source != NULL)
        zip_source_free (source);
      return NULL;
    }
  zip_error_fini (&zerror);

  project = g_new0 (OpProject, 1);
  project->brush = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                          (GDestroyNotify) op_mask_unref);
  ok = read_archive (&r, project, error);
  zip_discard (r.za);

  return ok ? g_steal_pointer (&project) : NULL;
}

OpProject *
op_project_load (const char  *path,
                 GError     **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;
  OpProject *project;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  display = g_filename_display_basename (path);
  bytes = g_file_load_bytes (file, NULL, NULL, &local_error);
  if (bytes == NULL)
    {
      g_set_error (error, G_IO_ERROR, local_error->code,
                   _("Could not read “%s”: %s"), display, local_error->message);
      return NULL;
    }

  project = op_project_decode (bytes, &local_error);
  if (project == NULL)
    {
      g_set_error (error, OP_PROJECT_ERROR, local_error->code,
                   _("Could not open “%s”: %s"), display, local_error->message);
      return NULL;
    }

  return project;
}

gboolean
op_project_is_project_path (const char *path)
{
  g_autofree char *lower = NULL;

  if (path == NULL)
    return FALSE;

  lower = g_ascii_strdown (path, -1);
  return g_str_has_suffix (lower, ".ora");
}

/* Async */

typedef struct
{
  OpProjectSnapshot *snapshot;
  OpProjectCache *cache;
  char *path;
} SaveData;

static void
save_data_free (SaveData *data)
{
  op_project_snapshot_free (data->snapshot);
  g_free (data->path);
  g_free (data);
}

static void
save_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SaveData *data = task_data;
  GError *error = NULL;

  if (!op_project_snapshot_write (data->snapshot, data->path, data->cache, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * op_project_save_async:
 * @snapshot: (transfer full): what to save
 * @cache: (nullable): must outlive the save
 */
void
op_project_save_async (OpProjectSnapshot  *snapshot,
                       GFile              *file,
                       OpProjectCache     *cache,
                       GCancellable       *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  SaveData *data = g_new0 (SaveData, 1);

  g_task_set_source_tag (task, op_project_save_async);
  data->snapshot = snapshot;
  data->cache = cache;
  data->path = g_file_get_path (file);
  g_task_set_task_data (task, data, (GDestroyNotify) save_data_free);

  if (data->path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Projects can only be saved to local folders."));
      return;
    }

  g_task_run_in_thread (task, save_thread);
}

gboolean
op_project_save_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  g_autofree char *path = g_file_get_path (task_data);
  GError *error = NULL;
  OpProject *project;

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be opened."));
      return;
    }

  project = op_project_load (path, &error);
  if (project == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, project, (GDestroyNotify) op_project_free);
}

void
op_project_load_async (GFile              *file,
                       GCancellable       *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, op_project_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

OpProject *
op_project_load_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
