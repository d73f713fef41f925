/* op-prompt-suggestions.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "op-backend.h"
#include "op-describe.h"
#include "op-prompt-history.h"

G_BEGIN_DECLS

#define OP_TYPE_PROMPT_SUGGESTIONS (op_prompt_suggestions_get_type ())

G_DECLARE_FINAL_TYPE (OpPromptSuggestions, op_prompt_suggestions, OP, PROMPT_SUGGESTIONS, GtkBox)

/* The prompt suggestion panel: "Describe" through the chosen backend (when it can),
 * the caption as chips, offline phrases ranked for the picture, and hints for the
 * prompt.  Signals: insert-phrase (phrase, negative) when a chip is clicked,
 * use-all (caption) for "Use all", describe-requested when Describe is clicked and a
 * handler is connected (it configures the backend, then calls describe). */
GtkWidget *op_prompt_suggestions_new          (void);

/* The picture, its brush mask and margins the panel describes and analyses (all
 * nullable); the analysis runs again at once. */
void       op_prompt_suggestions_set_picture  (OpPromptSuggestions *self,
                                               OpImage             *picture,
                                               OpMask              *mask,
                                               const OpMargins     *margins);
void       op_prompt_suggestions_set_backend  (OpPromptSuggestions *self,
                                               OpBackend           *backend);
/* The prompts shown under "Your prompts", searchable, with Clear History. */
void       op_prompt_suggestions_set_history  (OpPromptSuggestions *self,
                                               OpPromptHistory     *history);
void       op_prompt_suggestions_set_prompt   (OpPromptSuggestions *self,
                                               const char          *prompt);
/* Starts describing, as the button does; FALSE when it cannot (no picture, a backend
 * that cannot describe, already running). */
/* The backend Describe uses: the sidebar's (with the chosen interrogator) or Ollama. */
OpBackend *op_prompt_suggestions_get_describer (OpPromptSuggestions *self);
gboolean   op_prompt_suggestions_describe     (OpPromptSuggestions *self);
gboolean   op_prompt_suggestions_is_describing (OpPromptSuggestions *self);
/* The caption's phrases shown as chips (NULL when none). */
GStrv      op_prompt_suggestions_dup_caption_phrases (OpPromptSuggestions *self);
/* The offline phrases shown, "category: phrase", in order. */
GStrv      op_prompt_suggestions_dup_offline  (OpPromptSuggestions *self);
const char *op_prompt_suggestions_get_status  (OpPromptSuggestions *self);

G_END_DECLS
