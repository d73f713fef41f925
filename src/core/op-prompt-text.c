/* op-prompt-text.c — the prompt's attention syntax and its length
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "op-prompt-text.h"

/* AUTOMATIC1111's prompt_parser: "(" multiplies by 1.1, "[" divides by 1.1, "(a:w)" sets
 * w for the group, "\(" is a literal bracket.  The same syntax is read by Forge and,
 * for its weights, by Stability's v2beta endpoints. */
#define EMPHASIS 1.1

typedef struct
{
  char   bracket;
  gsize  start;
  double weight;
} Open;

/* "(a:1.2)": a ':' followed by a number and then the closing bracket. */
static gboolean
read_explicit_weight (const char *text,
                      gsize       colon,
                      gsize       close,
                      double     *weight)
{
  g_autofree char *number = NULL;
  char *end = NULL;
  double value;

  if (close <= colon + 1)
    return FALSE;

  number = g_strndup (text + colon + 1, close - colon - 1);
  g_strstrip (number);
  if (*number == '\0')
    return FALSE;

  value = g_ascii_strtod (number, &end);
  if (end == NULL || *end != '\0' || !(value >= 0 && value <= 100))
    return FALSE;

  *weight = value;
  return TRUE;
}

GArray *
op_prompt_parse_weights (const char *text)
{
  g_autoptr(GArray) spans = g_array_new (FALSE, TRUE, sizeof (OpPromptSpan));
  g_autoptr(GArray) stack = g_array_new (FALSE, TRUE, sizeof (Open));
  gssize last_colon = -1;
  gsize i;

  g_return_val_if_fail (text != NULL, NULL);

  for (i = 0; text[i] != '\0'; i++)
    {
      char c = text[i];
      double outer = stack->len > 0 ? g_array_index (stack, Open, stack->len - 1).weight : 1.0;

      if (c == '\\' && text[i + 1] != '\0')
        {
          i++;
          continue;
        }

      if (c == '(' || c == '[')
        {
          Open open = { c, i, c == '(' ? outer * EMPHASIS : outer / EMPHASIS };

          g_array_append_val (stack, open);
          last_colon = -1;
        }
      else if (c == ':' && stack->len > 0)
        {
          last_colon = i;
        }
      else if (c == ')' || c == ']')
        {
          OpPromptSpan span = { 0, };
          Open open;

          if (stack->len == 0 ||
              g_array_index (stack, Open, stack->len - 1).bracket != (c == ')' ? '(' : '['))
            {
              span.kind = OP_PROMPT_SPAN_STRAY;
              span.start = i;
              span.end = i + 1;
              span.weight_start = -1;
              span.weight = outer;
              g_array_append_val (spans, span);
              continue;
            }

          open = g_array_index (stack, Open, stack->len - 1);
          g_array_remove_index (stack, stack->len - 1);

          span.start = open.start;
          span.end = i + 1;
          span.weight_start = -1;
          span.weight = open.weight;

          if (c == ')' && last_colon > (gssize) open.start)
            {
              double explicit_weight;
              double parent = stack->len > 0 ? g_array_index (stack, Open, stack->len - 1).weight : 1.0;

              if (read_explicit_weight (text, last_colon, i, &explicit_weight))
                {
                  span.weight = parent * explicit_weight;
                  span.weight_start = last_colon;
                }
            }

          span.kind = span.weight >= 1.0 ? OP_PROMPT_SPAN_STRONGER : OP_PROMPT_SPAN_WEAKER;
          g_array_append_val (spans, span);
          last_colon = -1;
        }
    }

  /* Brackets left open: A1111 applies their weight to the end of the prompt, but what
   * the user almost always wants to see is the missing bracket. */
  for (i = 0; i < stack->len; i++)
    {
      Open *open = &g_array_index (stack, Open, i);
      OpPromptSpan span = { OP_PROMPT_SPAN_UNCLOSED, open->start, open->start + 1, -1, open->weight };

      g_array_append_val (spans, span);
    }

  return g_steal_pointer (&spans);
}

/* The text without brackets, escapes or explicit weights: the words CLIP reads. */
char *
op_prompt_strip_weights (const char *text)
{
  g_autoptr(GArray) spans = NULL;
  g_autofree gboolean *drop = NULL;
  GString *out;
  gsize len, i;

  g_return_val_if_fail (text != NULL, NULL);

  len = strlen (text);
  drop = g_new0 (gboolean, len + 1);
  spans = op_prompt_parse_weights (text);

  for (i = 0; i < spans->len; i++)
    {
      OpPromptSpan *span = &g_array_index (spans, OpPromptSpan, i);

      if (span->kind == OP_PROMPT_SPAN_UNCLOSED || span->kind == OP_PROMPT_SPAN_STRAY)
        {
          drop[span->start] = TRUE;
          continue;
        }

      drop[span->start] = TRUE;
      drop[span->end - 1] = TRUE;
      if (span->weight_start >= 0)
        {
          gsize k;

          for (k = span->weight_start; k < span->end; k++)
            drop[k] = TRUE;
        }
    }

  out = g_string_sized_new (len);
  for (i = 0; i < len; i++)
    {
      if (text[i] == '\\' && text[i + 1] != '\0' && strchr ("()[]\\", text[i + 1]) != NULL)
        {
          g_string_append_c (out, text[++i]);
          continue;
        }
      if (!drop[i])
        g_string_append_c (out, text[i]);
    }

  return g_string_free (out, FALSE);
}

/* An estimate of CLIP's byte-pair tokens, as AUTOMATIC1111's counter shows them: the
 * pre-tokenizer's pieces (letter runs, single digits, punctuation runs), with a long
 * word counted as several pieces since BPE splits rare words into parts.  Common prompt
 * words are one token each, so the estimate is close for what people write. */
guint
op_prompt_count_tokens (const char *text)
{
  g_autofree char *words = NULL;
  const char *p;
  guint tokens = 0;

  g_return_val_if_fail (text != NULL, 0);

  words = op_prompt_strip_weights (text);

  for (p = words; *p != '\0';)
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          tokens++;
          p++;
          continue;
        }

      if (g_unichar_isspace (c))
        {
          p = g_utf8_next_char (p);
        }
      else if (g_unichar_isalpha (c))
        {
          guint letters = 0;

          while (*p != '\0' && g_unichar_isalpha (g_utf8_get_char (p)))
            {
              letters++;
              p = g_utf8_next_char (p);
            }
          /* a word of up to 8 letters is usually one token; longer ones split */
          tokens += 1 + (letters > 8 ? (letters - 1) / 8 : 0);
        }
      else if (g_unichar_isdigit (c))
        {
          tokens++;
          p = g_utf8_next_char (p);
        }
      else
        {
          while (*p != '\0')
            {
              gunichar d = g_utf8_get_char (p);

              if (g_unichar_isspace (d) || g_unichar_isalnum (d))
                break;
              p = g_utf8_next_char (p);
            }
          tokens++;
        }
    }

  return tokens;
}

/* The length the hosted services count: characters (code points), not bytes. */
guint
op_prompt_count_chars (const char *text)
{
  g_return_val_if_fail (text != NULL, 0);

  if (!g_utf8_validate (text, -1, NULL))
    return strlen (text);

  return g_utf8_strlen (text, -1);
}

static const char * const caption_openings[] = {
  "a photo of ", "a photograph of ", "a picture of ", "an image of ", "a close up of ",
  "this image shows ", "the image shows ", "the picture shows ", "there is ", "there are ",
};

GStrv
op_caption_split (const char *caption,
                  guint       max_phrases)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  g_auto(GStrv) pieces = NULL;
  guint i, j;

  g_return_val_if_fail (caption != NULL, NULL);

  text = g_utf8_make_valid (caption, -1);
  /* sentence ends: ". " and a final "." */
  for (char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n' || *p == '\r' || *p == ';' || *p == '|')
        *p = ',';
      else if (*p == '.' && (p[1] == ' ' || p[1] == '\0'))
        *p = ',';
      else if (*p == '_')
        *p = ' ';
    }

  pieces = g_strsplit (text, ",", -1);
  for (i = 0; pieces[i] != NULL && seen->len < max_phrases; i++)
    {
      char *phrase = g_strstrip (pieces[i]);
      g_autofree char *folded = NULL;
      gsize len;

      /* quotes and list markers a chat model adds around its answer */
      while (*phrase != '\0' && strchr ("\"'*-•", *phrase) != NULL)
        phrase = g_strchug (phrase + 1);
      len = strlen (phrase);
      while (len > 0 && strchr ("\"'*", phrase[len - 1]) != NULL)
        phrase[--len] = '\0';
      g_strchomp (phrase);

      for (j = 0; j < G_N_ELEMENTS (caption_openings); j++)
        if (g_ascii_strncasecmp (phrase, caption_openings[j], strlen (caption_openings[j])) == 0)
          {
            phrase += strlen (caption_openings[j]);
            break;
          }

      if (*phrase == '\0' || g_utf8_strlen (phrase, -1) > 200)
        continue;

      folded = g_utf8_casefold (phrase, -1);
      if (g_ptr_array_find_with_equal_func (seen, folded, g_str_equal, NULL))
        continue;

      g_strv_builder_add (builder, phrase);
      g_ptr_array_add (seen, g_steal_pointer (&folded));
    }

  return g_strv_builder_end (builder);
}
