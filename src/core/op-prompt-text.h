/* op-prompt-text.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CLIP reads 77 tokens, two of which are the start and end markers. */
#define OP_PROMPT_CLIP_TOKENS 75

typedef enum
{
  OP_PROMPT_SPAN_STRONGER,  /* (phrase) or (phrase:1.3) with a weight above 1 */
  OP_PROMPT_SPAN_WEAKER,    /* [phrase] or (phrase:0.8) */
  OP_PROMPT_SPAN_UNCLOSED,  /* an opening bracket without its closing one */
  OP_PROMPT_SPAN_STRAY,     /* a closing bracket without its opening one */
} OpPromptSpanKind;

/* One bracketed group of the AUTOMATIC1111 attention syntax, in byte offsets of the
 * text: [start, end) covers the brackets; weight is what the group's words get, nesting
 * included ("((a))" is 1.21).  weight_start is the offset of ':' of an explicit weight,
 * or -1. */
typedef struct
{
  OpPromptSpanKind kind;
  gsize            start;
  gsize            end;
  gssize           weight_start;
  double           weight;
} OpPromptSpan;

GArray *op_prompt_parse_weights (const char *text);
char   *op_prompt_strip_weights (const char *text);
guint   op_prompt_count_tokens  (const char *text);
guint   op_prompt_count_chars   (const char *text);

/* A describer's caption as prompt phrases: split at commas, semicolons, line and
 * sentence ends; trimmed, without a leading "a photo of", underscores of tags turned
 * into spaces, duplicates (ignoring case) dropped.  At most @max_phrases. */
GStrv   op_caption_split        (const char *caption,
                                 guint       max_phrases);

G_END_DECLS
