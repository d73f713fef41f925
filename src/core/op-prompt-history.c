/* op-prompt-history.c — the prompts a user generated with, kept between sessions
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "op-prompt-history.h"

#define MAX_FILE_BYTES  (4 * 1024 * 1024)
#define MAX_PROMPT_CHARS 4000

typedef struct
{
  char   *text;
  guint   uses;
  gint64  last_used;   /* µs since the epoch */
} Entry;

struct _OpPromptHistory
{
  GObject  parent_instance;

  char    *path;
  GArray  *entries;    /* Entry, in no particular order */
};

G_DEFINE_FINAL_TYPE (OpPromptHistory, op_prompt_history, G_TYPE_OBJECT)

enum { CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
clear_entry (gpointer data)
{
  Entry *entry = data;

  g_free (entry->text);
}

static void
op_prompt_history_finalize (GObject *object)
{
  OpPromptHistory *self = OP_PROMPT_HISTORY (object);

  g_free (self->path);
  g_array_unref (self->entries);

  G_OBJECT_CLASS (op_prompt_history_parent_class)->finalize (object);
}

static void
op_prompt_history_class_init (OpPromptHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = op_prompt_history_finalize;

  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
op_prompt_history_init (OpPromptHistory *self)
{
  self->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (self->entries, clear_entry);
}

OpPromptHistory *
op_prompt_history_new (const char *path)
{
  OpPromptHistory *self = g_object_new (OP_TYPE_PROMPT_HISTORY, NULL);

  self->path = path != NULL ? g_strdup (path)
                            : g_build_filename (g_get_user_data_dir (), "overpaint",
                                                "prompt-history.json", NULL);
  return self;
}

const char *
op_prompt_history_get_path (OpPromptHistory *self)
{
  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), NULL);

  return self->path;
}

static gboolean
parse (OpPromptHistory *self,
       const char      *data,
       gsize            size,
       GError         **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root, *prompts;
  JsonArray *array;
  guint i;

  if (!json_parser_load_from_data (parser, data, size, error))
    return FALSE;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (prompts = json_object_get_member (json_node_get_object (root), "prompts")) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (prompts))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("it has no list of prompts"));
      return FALSE;
    }

  array = json_node_get_array (prompts);
  for (i = 0; i < json_array_get_length (array) && self->entries->len < OP_PROMPT_HISTORY_MAX; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object;
      const char *text;
      Entry entry = { 0, };

      if (!JSON_NODE_HOLDS_OBJECT (node))
        goto bad_entry;
      object = json_node_get_object (node);
      if (!json_object_has_member (object, "text") ||
          json_node_get_value_type (json_object_get_member (object, "text")) != G_TYPE_STRING)
        goto bad_entry;
      text = json_object_get_string_member (object, "text");
      if (!g_utf8_validate (text, -1, NULL) || *text == '\0' ||
          g_utf8_strlen (text, -1) > MAX_PROMPT_CHARS)
        goto bad_entry;

      entry.text = g_strdup (text);
      entry.uses = (guint) CLAMP (json_object_get_int_member_with_default (object, "uses", 1), 1, G_MAXINT);
      entry.last_used = CLAMP (json_object_get_int_member_with_default (object, "last-used", 0),
                               0, G_MAXINT64 / G_USEC_PER_SEC) * G_USEC_PER_SEC;
      g_array_append_val (self->entries, entry);
      continue;

    bad_entry:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("prompt %u is not a text with its uses"), i + 1);
      return FALSE;
    }

  return TRUE;
}

gboolean
op_prompt_history_load (OpPromptHistory *self,
                        GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *data = NULL;
  gsize size = 0;
  GStatBuf st;

  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), FALSE);

  g_array_set_size (self->entries, 0);

  if (g_stat (self->path, &st) != 0)
    {
      g_signal_emit (self, signals[CHANGED], 0);
      return TRUE;   /* no history yet */
    }

  if (st.st_size > MAX_FILE_BYTES)
    g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("it is larger than 4 MB"));
  else if (g_file_get_contents (self->path, &data, &size, &local_error))
    parse (self, data, size, &local_error);

  if (local_error != NULL)
    {
      g_autofree char *aside = g_strconcat (self->path, ".bad", NULL);

      g_array_set_size (self->entries, 0);
      g_rename (self->path, aside);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The prompt history could not be read (%s); it was kept as %s and a new one begins"),
                   local_error->message, aside);
      g_signal_emit (self, signals[CHANGED], 0);
      return FALSE;
    }

  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

gboolean
op_prompt_history_save (OpPromptHistory *self,
                        GError         **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  gsize size;
  guint i;

  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), FALSE);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "prompts");
  json_builder_begin_array (builder);
  for (i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, entry->text);
      json_builder_set_member_name (builder, "uses");
      json_builder_add_int_value (builder, entry->uses);
      json_builder_set_member_name (builder, "last-used");
      json_builder_add_int_value (builder, entry->last_used / G_USEC_PER_SEC);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  data = json_generator_to_data (generator, &size);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("The prompt history could not be saved in %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  return g_file_set_contents_full (self->path, data, size, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static Entry *
find (OpPromptHistory *self,
      const char      *text,
      guint           *index)
{
  guint i;

  for (i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      if (g_str_equal (entry->text, text))
        {
          if (index != NULL)
            *index = i;
          return entry;
        }
    }

  return NULL;
}

void
op_prompt_history_add (OpPromptHistory *self,
                       const char      *prompt,
                       gint64           when)
{
  g_autofree char *text = NULL;
  Entry *entry;

  g_return_if_fail (OP_IS_PROMPT_HISTORY (self));

  if (prompt == NULL || !g_utf8_validate (prompt, -1, NULL))
    return;
  text = g_strstrip (g_strdup (prompt));
  if (*text == '\0')
    return;
  if (g_utf8_strlen (text, -1) > MAX_PROMPT_CHARS)
    {
      char *cut = g_utf8_substring (text, 0, MAX_PROMPT_CHARS);

      g_free (text);
      text = cut;
    }

  entry = find (self, text, NULL);
  if (entry != NULL)
    {
      entry->uses++;
      entry->last_used = MAX (entry->last_used, when);
    }
  else
    {
      Entry added = { g_steal_pointer (&text), 1, when };

      /* full: the least recently used goes */
      if (self->entries->len >= OP_PROMPT_HISTORY_MAX)
        {
          guint oldest = 0, i;

          for (i = 1; i < self->entries->len; i++)
            if (g_array_index (self->entries, Entry, i).last_used <
                g_array_index (self->entries, Entry, oldest).last_used)
              oldest = i;
          g_array_remove_index (self->entries, oldest);
        }
      g_array_append_val (self->entries, added);
    }

  g_signal_emit (self, signals[CHANGED], 0);
}

void
op_prompt_history_clear (OpPromptHistory *self)
{
  g_return_if_fail (OP_IS_PROMPT_HISTORY (self));

  g_array_set_size (self->entries, 0);
  g_signal_emit (self, signals[CHANGED], 0);
}

guint
op_prompt_history_get_n_prompts (OpPromptHistory *self)
{
  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), 0);

  return self->entries->len;
}

guint
op_prompt_history_get_uses (OpPromptHistory *self,
                            const char      *prompt)
{
  Entry *entry;

  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), 0);
  g_return_val_if_fail (prompt != NULL, 0);

  entry = find (self, prompt, NULL);
  return entry != NULL ? entry->uses : 0;
}

static int
compare_recent (gconstpointer a,
                gconstpointer b)
{
  const Entry *ea = *(Entry * const *) a, *eb = *(Entry * const *) b;

  if (ea->last_used != eb->last_used)
    return ea->last_used > eb->last_used ? -1 : 1;
  return g_strcmp0 (ea->text, eb->text);
}

static int
compare_most_used (gconstpointer a,
                   gconstpointer b)
{
  const Entry *ea = *(Entry * const *) a, *eb = *(Entry * const *) b;

  if (ea->uses != eb->uses)
    return ea->uses > eb->uses ? -1 : 1;
  return compare_recent (a, b);
}

static gboolean
matches (const Entry *entry,
         GStrv        words)
{
  g_autofree char *folded = g_utf8_casefold (entry->text, -1);
  guint i;

  for (i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0' && strstr (folded, words[i]) == NULL)
      return FALSE;

  return TRUE;
}

static GStrv
list (OpPromptHistory *self,
      GCompareFunc     compare,
      const char      *query,
      guint            max)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) words = NULL;
  guint i;

  if (query != NULL)
    {
      g_autofree char *folded = g_utf8_casefold (query, -1);

      words = g_strsplit_set (g_strstrip (folded), " \t\n,", -1);
    }

  for (i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      if (words == NULL || matches (entry, words))
        g_ptr_array_add (sorted, entry);
    }
  g_ptr_array_sort (sorted, compare);

  for (i = 0; i < sorted->len && i < max; i++)
    g_strv_builder_add (builder, ((Entry *) sorted->pdata[i])->text);

  return g_strv_builder_end (builder);
}

GStrv
op_prompt_history_list_recent (OpPromptHistory *self,
                               guint            max)
{
  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), NULL);

  return list (self, compare_recent, NULL, max);
}

GStrv
op_prompt_history_list_most_used (OpPromptHistory *self,
                                  guint            max)
{
  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), NULL);

  return list (self, compare_most_used, NULL, max);
}

GStrv
op_prompt_history_search (OpPromptHistory *self,
                          const char      *query,
                          guint            max)
{
  g_return_val_if_fail (OP_IS_PROMPT_HISTORY (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);

  if (!g_utf8_validate (query, -1, NULL))
    return g_new0 (char *, 1);

  return list (self, compare_most_used, query, max);
}
