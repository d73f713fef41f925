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

#include "op-prompt-history.h"
#include "op-prompt-text.h"
#include "op-suggest.h"

static char *
sample_path (const char *name)
{
  const char *dir = g_getenv ("OVERPAINT_SAMPLES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static OpImage *
load_sample (const char *name)
{
  g_autofree char *path = sample_path (name);
  g_autoptr(GError) error = NULL;
  OpImage *image = op_image_new_from_file (path, &error);

  g_assert_no_error (error);
  return image;
}

/* A sunset, drawn: a sky from violet down to orange and yellow at the horizon, a pale
 * sun low on it, and the dark silhouette of the land below. */
static OpImage *
draw_sunset (int width,
             int height)
{
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);
  static const double top[3] = { 120, 50, 90 }, mid[3] = { 235, 110, 45 }, horizon[3] = { 255, 195, 90 };
  int x, y, c;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * op_image_get_stride (image) + x * 4;
        double t = (double) y / height;
        double dx = x - width / 2.0, dy = y - height * 0.7;

        for (c = 0; c < 3; c++)
          {
            double v;

            if (t < 0.5)
              v = top[c] + (mid[c] - top[c]) * t / 0.5;
            else if (t < 0.75)
              v = mid[c] + (horizon[c] - mid[c]) * (t - 0.5) / 0.25;
            else
              v = (double[]) { 35, 22, 25 }[c];
            if (t < 0.75 && dx * dx + dy * dy < (height * 0.1) * (height * 0.1))
              v = (double[]) { 255, 240, 200 }[c];
            p[c] = (guint8) v;
          }
        p[3] = 255;
      }

  return image;
}

/* A dusk sky: navy at the top to a pale cold blue. */
static OpImage *
draw_blue_hour (int width,
                int height)
{
  OpImage *image = op_image_new (width, height);
  guint8 *data = op_image_get_data (image);
  int x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      {
        guint8 *p = data + (gsize) y * op_image_get_stride (image) + x * 4;
        double t = (double) y / height;

        p[0] = (guint8) (20 + 60 * t);
        p[1] = (guint8) (30 + 100 * t);
        p[2] = (guint8) (90 + 110 * t);
        p[3] = 255;
      }

  return image;
}

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


static void
test_caption_split (void)
{
  g_auto(GStrv) clip = op_caption_split ("a photo of a cat sitting on a sofa, orange fur, "
                                         "indoor lighting, Orange Fur", 20);
  g_auto(GStrv) booru = op_caption_split ("1girl, long_hair, solo, outdoors", 20);
  g_auto(GStrv) chat = op_caption_split ("\"A misty forest at dawn. Tall pine trees; soft light\"\n- moss", 20);
  g_auto(GStrv) limited = op_caption_split ("a, b, c, d, e", 3);
  g_auto(GStrv) empty = op_caption_split (" , ,, . ", 20);
  g_auto(GStrv) invalid = op_caption_split ("cat\xff, dog", 20);

  g_assert_cmpstrv (clip, ((const char *[]) { "a cat sitting on a sofa", "orange fur", "indoor lighting", NULL }));
  g_assert_cmpstrv (booru, ((const char *[]) { "1girl", "long hair", "solo", "outdoors", NULL }));
  g_assert_cmpstrv (chat, ((const char *[]) { "A misty forest at dawn", "Tall pine trees", "soft light", "moss", NULL }));
  g_assert_cmpuint (g_strv_length (limited), ==, 3);
  g_assert_cmpuint (g_strv_length (empty), ==, 0);
  g_assert_cmpuint (g_strv_length (invalid), ==, 2);
  g_assert_true (g_utf8_validate (invalid[0], -1, NULL));
}

static int
rank_of (GPtrArray  *ranked,
         const char *category,
         const char *text)
{
  int rank = 0;
  guint i;

  for (i = 0; i < ranked->len; i++)
    {
      OpSuggestion *suggestion = ranked->pdata[i];

      if (!g_str_equal (suggestion->category, category))
        continue;
      if (g_str_equal (suggestion->text, text))
        return rank;
      rank++;
    }

  g_assert_not_reached ();
}

static GPtrArray *
rank_picture (OpImage      *image,
              const OpMask *exclude)
{
  g_autoptr(GError) error = NULL;
  OpPictureTraits traits;

  g_assert_true (op_picture_traits_analyse (image, exclude, &traits, &error));
  g_assert_no_error (error);
  return op_vocabulary_rank (op_vocabulary_get_default (), &traits);
}

static void
test_suggest_sunset (void)
{
  g_autoptr(OpImage) sunset = draw_sunset (600, 400);
  g_autoptr(OpImage) dusk = draw_blue_hour (600, 400);
  g_autoptr(GPtrArray) warm = rank_picture (sunset, NULL);
  g_autoptr(GPtrArray) cold = rank_picture (dusk, NULL);
  OpPictureTraits traits;

  g_assert_true (op_picture_traits_analyse (sunset, NULL, &traits, NULL));
  g_assert_cmpfloat (traits.traits[OP_TRAIT_WARM], >, 0.8);
  g_assert_cmpfloat (traits.traits[OP_TRAIT_COOL], <, 0.1);

  /* warm palette and golden-hour light above the cold ones, and the reverse at dusk */
  g_assert_cmpint (rank_of (warm, "lighting", "golden hour lighting"), <, 2);
  g_assert_cmpint (rank_of (warm, "lighting", "warm sunset glow"), <, 2);
  g_assert_cmpint (rank_of (warm, "lighting", "golden hour lighting"), <,
                   rank_of (warm, "lighting", "blue hour twilight"));
  g_assert_cmpint (rank_of (warm, "lighting", "warm sunset glow"), <,
                   rank_of (warm, "lighting", "cold moonlight"));
  g_assert_cmpint (rank_of (warm, "palette", "warm colour palette"), <,
                   rank_of (warm, "palette", "cool colour palette"));
  g_assert_cmpint (rank_of (cold, "lighting", "blue hour twilight"), <,
                   rank_of (cold, "lighting", "golden hour lighting"));
  g_assert_cmpint (rank_of (cold, "palette", "cool colour palette"), <,
                   rank_of (cold, "palette", "warm colour palette"));
  /* 3:2 landscape frames wide */
  g_assert_cmpint (rank_of (warm, "framing", "wide-angle shot"), <,
                   rank_of (warm, "framing", "vertical composition"));
}

static void
test_suggest_samples (void)
{
  g_autoptr(OpImage) brick = load_sample ("brick.png");
  g_autoptr(OpImage) coffee = load_sample ("coffee.png");
  g_autoptr(GPtrArray) grey = rank_picture (brick, NULL);
  g_autoptr(GPtrArray) cup = rank_picture (coffee, NULL);
  OpSuggestion *first;

  /* a greyscale brick wall: monochrome, texture, no warm light */
  g_assert_cmpint (rank_of (grey, "style", "black and white photography"), ==, 0);
  g_assert_cmpint (rank_of (grey, "palette", "monochrome"), <,
                   rank_of (grey, "palette", "vibrant saturated colours"));
  g_assert_cmpint (rank_of (grey, "subject", "fine surface texture"), <,
                   rank_of (grey, "subject", "smooth clean surfaces"));
  g_assert_cmpint (rank_of (grey, "lighting", "overcast light"), <,
                   rank_of (grey, "lighting", "golden hour lighting"));

  /* the coffee cup: its browns named first in the palette, warm over cool */
  first = NULL;
  for (guint i = 0; i < cup->len && first == NULL; i++)
    if (g_str_equal (((OpSuggestion *) cup->pdata[i])->category, "palette"))
      first = cup->pdata[i];
  g_assert_nonnull (first);
  g_assert_true (g_str_has_suffix (first->text, " tones"));
  g_assert_nonnull (strstr (first->text, "brown"));
  g_assert_cmpint (rank_of (cup, "palette", "warm colour palette"), <,
                   rank_of (cup, "palette", "cool colour palette"));
  g_assert_cmpint (rank_of (cup, "mood", "warm and cosy"), <,
                   rank_of (cup, "mood", "melancholic"));
}

static void
test_suggest_deterministic (void)
{
  g_autoptr(OpImage) chelsea = load_sample ("chelsea.png");
  g_autoptr(GPtrArray) a = rank_picture (chelsea, NULL);
  g_autoptr(GPtrArray) b = rank_picture (chelsea, NULL);
  g_autoptr(GPtrArray) prior = op_vocabulary_rank (op_vocabulary_get_default (), NULL);
  guint i;

  g_assert_cmpuint (a->len, ==, b->len);
  g_assert_cmpuint (a->len, >, 40);
  for (i = 0; i < a->len; i++)
    {
      OpSuggestion *sa = a->pdata[i], *sb = b->pdata[i];

      g_assert_cmpstr (sa->category, ==, sb->category);
      g_assert_cmpstr (sa->text, ==, sb->text);
      g_assert_cmpfloat (sa->score, ==, sb->score);
    }

  /* with no picture, the vocabulary's own priors: quality first says "seamless blend" */
  g_assert_cmpint (rank_of (prior, "quality", "seamless blend"), ==, 0);
}

/* Pixels under the mask are about to be replaced: they do not count. */
static void
test_suggest_exclude (void)
{
  g_autoptr(OpImage) image = op_image_new (200, 100);
  g_autoptr(OpMask) mask = op_mask_new (200, 100);
  g_autoptr(OpMask) all = op_mask_new (200, 100);
  g_autoptr(OpMask) wrong = op_mask_new (10, 10);
  g_autoptr(GError) error = NULL;
  guint8 *px = op_image_get_data (image);
  OpPictureTraits traits;
  int x, y;

  for (y = 0; y < 100; y++)
    for (x = 0; x < 200; x++)
      {
        guint8 *p = px + (gsize) y * op_image_get_stride (image) + x * 4;
        gboolean left = x < 100;

        p[0] = left ? 230 : 30;
        p[1] = left ? 120 : 60;
        p[2] = left ? 30 : 220;
        p[3] = 255;
        op_mask_get_data (mask)[y * 200 + x] = left ? 0 : 255;
        op_mask_get_data (all)[y * 200 + x] = 255;
      }

  g_assert_true (op_picture_traits_analyse (image, mask, &traits, &error));
  g_assert_cmpfloat (traits.traits[OP_TRAIT_WARM], >, 0.5);
  g_assert_cmpfloat (traits.traits[OP_TRAIT_COOL], ==, 0.0);
  g_assert_cmpuint (traits.n_palette, >=, 1);
  g_assert_cmpstr (traits.palette[0].name, ==, "orange");

  g_assert_false (op_picture_traits_analyse (image, all, &traits, &error));
  g_assert_error (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_NO_PIXELS);
  g_clear_error (&error);
  g_assert_false (op_picture_traits_analyse (image, wrong, &traits, &error));
  g_assert_error (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_INVALID);
}

static void
test_vocabulary_bad (void)
{
  static const char * const bad[] = {
    "",
    "not json",
    "[1, 2]",
    "{}",
    "{\"categories\": []}",
    "{\"categories\": [5]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\"}]}",
    "{\"categories\": [{\"id\": \"Bad Id\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\"}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"\"}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": 3}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\", \"traits\": {\"shiny\": 1}}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\", \"traits\": {\"warm\": \"hot\"}}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\", \"base\": 1e300}]}]}",
    "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\"}]}], \"hints\": [{\"label\": \"L\", \"words\": [1]}]}",
  };
  const char *good = "{\"categories\": [{\"id\": \"x\", \"label\": \"X\", \"phrases\": [{\"text\": \"a\"}]}]}";
  g_autoptr(GBytes) good_bytes = g_bytes_new_static (good, strlen (good));
  g_autoptr(OpVocabulary) vocabulary = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (bad[i], strlen (bad[i]));
      g_autoptr(GError) error = NULL;
      g_autoptr(OpVocabulary) none = op_vocabulary_new_from_bytes (bytes, &error);

      g_test_message ("%s: %s", bad[i], error != NULL ? error->message : "(loaded)");
      g_assert_null (none);
      g_assert_error (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_INVALID);
    }

  vocabulary = op_vocabulary_new_from_bytes (good_bytes, NULL);
  g_assert_nonnull (vocabulary);
  g_assert_cmpuint (op_vocabulary_get_n_categories (vocabulary), ==, 1);
}

/* What the panel shows is translatable: every label of the shipped vocabulary is one
 * the catalogue has (listed for xgettext in op-suggest.c). */
static void
test_vocabulary_labels (void)
{
  OpVocabulary *vocabulary = op_vocabulary_get_default ();
  const char * const *msgids = op_vocabulary_list_msgids ();
  g_autoptr(GPtrArray) hints = NULL;
  guint i;

  g_assert_cmpuint (op_vocabulary_get_n_categories (vocabulary), ==, 8);
  for (i = 0; i < op_vocabulary_get_n_categories (vocabulary); i++)
    g_assert_true (g_strv_contains (msgids, op_vocabulary_get_category_label (vocabulary, i)));
  g_assert_true (op_vocabulary_category_is_negative (vocabulary, 7));

  hints = op_vocabulary_get_hints (vocabulary, "a shop SIGN with a logo, three people, her hands");
  g_assert_cmpuint (hints->len, ==, 3);
  for (i = 0; i < hints->len; i++)
    g_assert_true (g_strv_contains (msgids, hints->pdata[i]));
  g_clear_pointer (&hints, g_ptr_array_unref);

  hints = op_vocabulary_get_hints (vocabulary, "a quiet lake, signature style");
  g_assert_cmpuint (hints->len, ==, 0);
  g_clear_pointer (&hints, g_ptr_array_unref);
  hints = op_vocabulary_get_hints (vocabulary, "\xff\xfe");
  g_assert_cmpuint (hints->len, ==, 0);
}

static char *
temp_history_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("overpaint-history-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "sub", "prompt-history.json", NULL);
}

static void
test_history_persistence (void)
{
  g_autofree char *path = temp_history_path ();
  g_autoptr(OpPromptHistory) history = op_prompt_history_new (path);
  g_autoptr(OpPromptHistory) reopened = op_prompt_history_new (path);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) recent = NULL;
  g_auto(GStrv) used = NULL;
  g_auto(GStrv) found = NULL;
  g_auto(GStrv) nothing = NULL;

  g_assert_true (op_prompt_history_load (history, &error));   /* no file yet */
  g_assert_no_error (error);
  g_assert_cmpuint (op_prompt_history_get_n_prompts (history), ==, 0);

  op_prompt_history_add (history, "a red barn", (gint64) 1000 * G_USEC_PER_SEC);
  op_prompt_history_add (history, "  a wooden fence  ", (gint64) 2000 * G_USEC_PER_SEC);
  op_prompt_history_add (history, "a red barn", (gint64) 3000 * G_USEC_PER_SEC);
  op_prompt_history_add (history, "Green Hills at dawn", (gint64) 4000 * G_USEC_PER_SEC);
  op_prompt_history_add (history, "   ", (gint64) 5000 * G_USEC_PER_SEC);
  op_prompt_history_add (history, "\xff", (gint64) 5000 * G_USEC_PER_SEC);
  g_assert_true (op_prompt_history_save (history, &error));
  g_assert_no_error (error);

  g_assert_true (op_prompt_history_load (reopened, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (op_prompt_history_get_n_prompts (reopened), ==, 3);
  g_assert_cmpuint (op_prompt_history_get_uses (reopened, "a red barn"), ==, 2);

  recent = op_prompt_history_list_recent (reopened, 10);
  g_assert_cmpstrv (recent, ((const char *[]) { "Green Hills at dawn", "a red barn", "a wooden fence", NULL }));
  used = op_prompt_history_list_most_used (reopened, 1);
  g_assert_cmpstrv (used, ((const char *[]) { "a red barn", NULL }));
  found = op_prompt_history_search (reopened, "HILLS dawn", 10);
  g_assert_cmpstrv (found, ((const char *[]) { "Green Hills at dawn", NULL }));
  nothing = op_prompt_history_search (reopened, "hills barn", 10);
  g_assert_cmpuint (g_strv_length (nothing), ==, 0);

  /* clearing empties the list and, saved, the file */
  op_prompt_history_clear (reopened);
  g_assert_true (op_prompt_history_save (reopened, &error));
  g_assert_true (op_prompt_history_load (history, &error));
  g_assert_cmpuint (op_prompt_history_get_n_prompts (history), ==, 0);
}

static void
test_history_bad_file (void)
{
  static const char * const bad[] = {
    "not json at all",
    "[]",
    "{\"prompts\": 3}",
    "{\"prompts\": [{\"uses\": 2}]}",
    "{\"prompts\": [{\"text\": 7}]}",
    "{\"prompts\": [{\"text\": \"\"}]}",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = temp_history_path ();
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *aside = g_strconcat (path, ".bad", NULL);
      g_autofree char *kept = NULL;
      g_autoptr(OpPromptHistory) history = op_prompt_history_new (path);
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));

      g_assert_false (op_prompt_history_load (history, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_test_message ("%s", error->message);
      g_assert_cmpuint (op_prompt_history_get_n_prompts (history), ==, 0);
      /* the unreadable file is kept, not overwritten by the next save */
      g_assert_true (g_file_get_contents (aside, &kept, NULL, NULL));
      g_assert_cmpstr (kept, ==, bad[i]);
      op_prompt_history_add (history, "after", 1);
      g_assert_true (op_prompt_history_save (history, NULL));
    }
}

static void
test_history_limits (void)
{
  g_autofree char *path = temp_history_path ();
  g_autoptr(OpPromptHistory) history = op_prompt_history_new (path);
  g_autoptr(GError) error = NULL;
  g_autofree char *huge = g_strnfill (10000, 'a');
  g_auto(GStrv) recent = NULL;
  guint i;

  for (i = 0; i < OP_PROMPT_HISTORY_MAX + 20; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("prompt %u", i);

      op_prompt_history_add (history, prompt, (gint64) (i + 1) * G_USEC_PER_SEC);
    }
  g_assert_cmpuint (op_prompt_history_get_n_prompts (history), ==, OP_PROMPT_HISTORY_MAX);
  /* the oldest went */
  g_assert_cmpuint (op_prompt_history_get_uses (history, "prompt 0"), ==, 0);
  g_assert_cmpuint (op_prompt_history_get_uses (history, "prompt 519"), ==, 1);

  op_prompt_history_add (history, huge, G_MAXINT64 / 2);
  recent = op_prompt_history_list_recent (history, 1);
  g_assert_cmpuint (strlen (recent[0]), ==, 4000);

  /* a place that cannot be written gives an error and changes nothing in memory */
  g_clear_object (&history);
  history = op_prompt_history_new ("/proc/overpaint/prompt-history.json");
  op_prompt_history_add (history, "kept", 1);
  g_assert_false (op_prompt_history_save (history, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (op_prompt_history_get_n_prompts (history), ==, 1);
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
  g_test_add_func ("/prompt/caption-split", test_caption_split);
  g_test_add_func ("/prompt/suggest/sunset", test_suggest_sunset);
  g_test_add_func ("/prompt/suggest/samples", test_suggest_samples);
  g_test_add_func ("/prompt/suggest/deterministic", test_suggest_deterministic);
  g_test_add_func ("/prompt/suggest/exclude-mask", test_suggest_exclude);
  g_test_add_func ("/prompt/vocabulary/bad", test_vocabulary_bad);
  g_test_add_func ("/prompt/vocabulary/labels", test_vocabulary_labels);
  g_test_add_func ("/prompt/history/persistence", test_history_persistence);
  g_test_add_func ("/prompt/history/bad-file", test_history_bad_file);
  g_test_add_func ("/prompt/history/limits", test_history_limits);

  return g_test_run ();
}
