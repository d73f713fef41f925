/* op-prompt-history.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OP_PROMPT_HISTORY_MAX 500

#define OP_TYPE_PROMPT_HISTORY (op_prompt_history_get_type ())

G_DECLARE_FINAL_TYPE (OpPromptHistory, op_prompt_history, OP, PROMPT_HISTORY, GObject)

/* The prompts the user generated with, kept in @path (NULL: prompt-history.json in the
 * user data dir).  "changed" is emitted when the list changes. */
OpPromptHistory *op_prompt_history_new            (const char      *path);
const char      *op_prompt_history_get_path       (OpPromptHistory *self);

/* A missing file is an empty history.  A file that cannot be read is moved aside (to
 * the same name with ".bad") so that nothing is lost, and the history starts empty. */
gboolean         op_prompt_history_load           (OpPromptHistory *self,
                                                   GError         **error);
/* Atomic: a temporary file, synced, renamed over the old one. */
gboolean         op_prompt_history_save           (OpPromptHistory *self,
                                                   GError         **error);

/* Records a use of @prompt at @when (µs since the epoch); blank prompts are ignored. */
void             op_prompt_history_add            (OpPromptHistory *self,
                                                   const char      *prompt,
                                                   gint64           when);
void             op_prompt_history_clear          (OpPromptHistory *self);
guint            op_prompt_history_get_n_prompts  (OpPromptHistory *self);
guint            op_prompt_history_get_uses       (OpPromptHistory *self,
                                                   const char      *prompt);

/* Newest first. */
GStrv            op_prompt_history_list_recent    (OpPromptHistory *self,
                                                   guint            max);
/* Most uses first, then newest. */
GStrv            op_prompt_history_list_most_used (OpPromptHistory *self,
                                                   guint            max);
/* Prompts holding every word of @query (ignoring case), most used first. */
GStrv            op_prompt_history_search         (OpPromptHistory *self,
                                                   const char      *query,
                                                   guint            max);

G_END_DECLS
