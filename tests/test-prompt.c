/* test-prompt.c — the prompt's syntax and length, captions split into phrases, the
 * offline suggestions and the prompt history
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "op-prompt-text.h"

static OpPromptSpan *
span_at (GArray *spans,
         guint   i)
{
  g_assert_cmpuint (i, <, spans->len);
  return &g_array_index (spans, OpPromptSpan, i);
}

static void
test_weights_explicit (void)
{
  const char *text = "a cat, (red scarf:1.3), [blurry]";
  g_autoptr(GArray) spans = op_prompt_parse_weights (text);

  g_assert_cmpuint (spans->len, ==, 2);
  g_assert_cmpint (span_at (spans, 0)->kind, ==, OP_PROMPT_SPAN_STRONGER);
  g_assert_cmpuint (span_at (spans, 0)->start, ==, strchr (text, '(') - text);
  g_assert_cmpuint (span_at (spans, 0)->end, ==, strchr (text, ')') - text + 1);
  g_assert_cmpint (span_at (spans, 0)->weight_start, ==, strchr (text, ':') - text);
  g_assert_cmpfloat_with_epsilon (span_at (spans, 0)->weight, 1.3, 1e-9);
  g_assert_cmpint (span_at (spans, 1)->kind, ==, OP_PROMPT_SPAN_WEAKER);
  g_assert_cmpfloat_with_epsilon (span_at (spans, 1)->weight, 1 / 1.1, 1e-9);
}

static void
test_weights_nested (void)
{
  g_autoptr(GArray) spans = op_prompt_parse_weights ("((sharp focus)), (soft:0.5)");

  /* inner groups close first */
  g_assert_cmpuint (spans->len, ==, 3);
  g_assert_cmpfloat_with_epsilon (span_at (spans, 0)->weight, 1.21, 1e-9);
  g_assert_cmpfloat_with_epsilon (span_at (spans, 1)->weight, 1.1, 1e-9);
  g_assert_cmpint (span_at (spans, 2)->kind, ==, OP_PROMPT_SPAN_WEAKER);
  g_assert_cmpfloat_with_epsilon (span_at (spans, 2)->weight, 0.5, 1e-9);
}

static void
test_weights_bad (void)
{
  g_autoptr(GArray) unclosed = op_prompt_parse_weights ("a (cat:1.2, dog");
  g_autoptr(GArray) stray = op_prompt_parse_weights ("cat) and ]");
  g_autoptr(GArray) escaped = op_prompt_parse_weights ("logo \\(tm\\)");
  g_autoptr(GArray) not_a_number = op_prompt_parse_weights ("(time: noon)");
  g_autoptr(GArray) empty = op_prompt_parse_weights ("");

  g_assert_cmpuint (unclosed->len, ==, 1);
  g_assert_cmpint (span_at (unclosed, 0)->kind, ==, OP_PROMPT_SPAN_UNCLOSED);
  g_assert_cmpuint (span_at (unclosed, 0)->start, ==, 2);
  g_assert_cmpuint (stray->len, ==, 2);
  g_assert_cmpint (span_at (stray, 0)->kind, ==, OP_PROMPT_SPAN_STRAY);
  g_assert_cmpint (span_at (stray, 1)->kind, ==, OP_PROMPT_SPAN_STRAY);
  g_assert_cmpuint (escaped->len, ==, 0);
  /* a colon that is not a weight: the group is plain emphasis */
  g_assert_cmpuint (not_a_number->len, ==, 1);
  g_assert_cmpint (span_at (not_a_number, 0)->weight_start, ==, -1);
  g_assert_cmpfloat_with_epsilon (span_at (not_a_number, 0)->weight, 1.1, 1e-9);
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_strip_and_count (void)
{
  g_autofree char *plain = op_prompt_strip_weights ("a (red scarf:1.3), [blurry], \\(tm\\)");
  g_autofree char *long_prompt = NULL;
  GString *words = g_string_new (NULL);
  int i;

  g_assert_cmpstr (plain, ==, "a red scarf, blurry, (tm)");

  /* common words are a token each, commas too; weights cost nothing */
  g_assert_cmpuint (op_prompt_count_tokens ("a cat on a sofa"), ==, 5);
  g_assert_cmpuint (op_prompt_count_tokens ("a cat, a sofa"), ==, 5);
  g_assert_cmpuint (op_prompt_count_tokens ("(cat:1.4)"), ==, 1);
  g_assert_cmpuint (op_prompt_count_tokens ("8k"), ==, 2);
  g_assert_cmpuint (op_prompt_count_tokens (""), ==, 0);
  g_assert_cmpuint (op_prompt_count_tokens ("   "), ==, 0);
  /* a long rare word is several tokens */
  g_assert_cmpuint (op_prompt_count_tokens ("photorealistically"), >, 1);

  for (i = 0; i < 40; i++)
    g_string_append (words, "cat, ");
  long_prompt = g_string_free (words, FALSE);
  g_assert_cmpuint (op_prompt_count_tokens (long_prompt), ==, 80);
  g_assert_cmpuint (op_prompt_count_tokens (long_prompt), >, OP_PROMPT_CLIP_TOKENS);

  /* characters, not bytes; invalid UTF-8 does not crash */
  g_assert_cmpuint (op_prompt_count_chars ("café"), ==, 4);
  g_assert_cmpuint (op_prompt_count_chars ("\xff\xfe"), ==, 2);
  g_assert_cmpuint (op_prompt_count_tokens ("\xff\xfe cat"), ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/prompt/weights/explicit", test_weights_explicit);
  g_test_add_func ("/prompt/weights/nested", test_weights_nested);
  g_test_add_func ("/prompt/weights/bad", test_weights_bad);
  g_test_add_func ("/prompt/strip-and-count", test_strip_and_count);

  return g_test_run ();
}
