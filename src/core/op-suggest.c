/* op-suggest.c — prompt phrases ranked for a picture, with no service at all
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op-core-resources.h"
#include "op-suggest.h"

#define VOCABULARY_RESOURCE "/io/github/overpaint/Overpaint/core/prompt-vocabulary.json"
#define MAX_CATEGORIES      64
#define MAX_PHRASES         256
#define MAX_PHRASE_CHARS    200
#define MAX_WORDS           256
#define SAMPLES_TARGET      16384
#define KMEANS_ROUNDS       16

/* The vocabulary's labels, so that xgettext finds them: the JSON holds the same English
 * text, which is looked up in the catalogue when shown (a test keeps the two equal). */
static const char * const vocabulary_msgids[] = {
  N_("Subject detail"),
  N_("Medium and art style"),
  N_("Mood and energy"),
  N_("Lighting"),
  N_("Camera angle and framing"),
  N_("Colour palette"),
  N_("Quality"),
  N_("Negative prompt"),
  N_("Text and logos render poorly: fill the space, then set the lettering in a graphics editor."),
  N_("Many characters in one fill confuse models: fill one figure at a time, each with its own mask."),
  N_("Hands and faces often need another pass: mask just the hand or face and generate again."),
  NULL
};

static const char * const trait_names[OP_N_TRAITS] = {
  "warm", "cool", "bright", "dark", "contrast", "flat", "vivid", "muted", "mono",
  "detailed", "smooth", "wide", "tall", "square",
};

/* Colour words a prompt can use, by their sRGB value. */
static const struct
{
  const char *name;
  guint8      rgb[3];
} colour_names[] = {
  { "black", { 18, 18, 20 } },
  { "charcoal grey", { 62, 62, 66 } },
  { "grey", { 128, 128, 128 } },
  { "silver grey", { 192, 192, 196 } },
  { "white", { 245, 245, 245 } },
  { "cream", { 240, 228, 200 } },
  { "beige", { 214, 196, 160 } },
  { "tan", { 196, 160, 110 } },
  { "brown", { 125, 82, 50 } },
  { "dark brown", { 68, 44, 30 } },
  { "rust", { 170, 75, 40 } },
  { "terracotta", { 200, 105, 75 } },
  { "red", { 205, 35, 35 } },
  { "crimson", { 140, 20, 40 } },
  { "pink", { 240, 155, 175 } },
  { "coral", { 250, 125, 100 } },
  { "orange", { 240, 140, 30 } },
  { "amber", { 245, 180, 45 } },
  { "golden yellow", { 235, 200, 70 } },
  { "yellow", { 245, 230, 60 } },
  { "olive green", { 115, 115, 50 } },
  { "green", { 60, 150, 60 } },
  { "forest green", { 30, 78, 40 } },
  { "sage green", { 150, 170, 130 } },
  { "teal", { 30, 125, 128 } },
  { "turquoise", { 60, 200, 200 } },
  { "sky blue", { 130, 190, 235 } },
  { "blue", { 40, 85, 200 } },
  { "navy blue", { 22, 32, 82 } },
  { "slate blue", { 95, 110, 135 } },
  { "purple", { 110, 50, 150 } },
  { "lavender", { 180, 160, 220 } },
  { "magenta", { 200, 40, 160 } },
};

typedef struct
{
  char   *text;
  double  base;
  double  weights[OP_N_TRAITS];
} Phrase;

typedef struct
{
  char     *id;
  char     *label;
  gboolean  negative;
  GArray   *phrases;   /* Phrase */
} Category;

typedef struct
{
  char  *label;
  GStrv  words;
} Hint;

struct _OpVocabulary
{
  GArray *categories;  /* Category */
  GArray *hints;       /* Hint */
};

G_DEFINE_QUARK (op-suggest-error-quark, op_suggest_error)

const char *
op_trait_get_name (OpTrait trait)
{
  g_return_val_if_fail (trait < OP_N_TRAITS, NULL);

  return trait_names[trait];
}

const char * const *
op_vocabulary_list_msgids (void)
{
  return vocabulary_msgids;
}

/* ---------------------------------------------------------------------------------- */
/* The analysis                                                                       */

static double
srgb_to_linear (double v)
{
  return v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
}

static double
lab_f (double t)
{
  return t > 216.0 / 24389.0 ? cbrt (t) : (24389.0 / 27.0 * t + 16.0) / 116.0;
}

/* sRGB 0…255 (already linear if @linear) to CIE L*a*b* under D65. */
static void
rgb_to_lab (const double  rgb[3],
            gboolean      linear,
            double        lab[3])
{
  double r = linear ? rgb[0] : srgb_to_linear (rgb[0] / 255.0);
  double g = linear ? rgb[1] : srgb_to_linear (rgb[1] / 255.0);
  double b = linear ? rgb[2] : srgb_to_linear (rgb[2] / 255.0);
  double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
  double fx = lab_f (x), fy = lab_f (y), fz = lab_f (z);

  lab[0] = 116.0 * fy - 16.0;
  lab[1] = 500.0 * (fx - fy);
  lab[2] = 200.0 * (fy - fz);
}

static double
lab_distance2 (const double a[3],
               const double b[3])
{
  double dl = a[0] - b[0], da = a[1] - b[1], db = a[2] - b[2];

  return dl * dl + da * da + db * db;
}

static double
smoothstep (double edge0,
            double edge1,
            double x)
{
  double t = CLAMP ((x - edge0) / (edge1 - edge0), 0.0, 1.0);

  return t * t * (3.0 - 2.0 * t);
}

static const char *
name_colour (const double lab[3])
{
  static gsize once = 0;
  static double name_lab[G_N_ELEMENTS (colour_names)][3];
  double best = G_MAXDOUBLE;
  const char *name = NULL;
  guint i;

  if (g_once_init_enter (&once))
    {
      for (i = 0; i < G_N_ELEMENTS (colour_names); i++)
        {
          double rgb[3] = { colour_names[i].rgb[0], colour_names[i].rgb[1], colour_names[i].rgb[2] };

          rgb_to_lab (rgb, FALSE, name_lab[i]);
        }
      g_once_init_leave (&once, 1);
    }

  for (i = 0; i < G_N_ELEMENTS (colour_names); i++)
    {
      double d = lab_distance2 (lab, name_lab[i]);

      if (d < best)
        {
          best = d;
          name = colour_names[i].name;
        }
    }

  return name;
}

typedef struct
{
  double lab[3];
  guint  index;
} Sample;

static int
compare_lightness (gconstpointer a,
                   gconstpointer b)
{
  const Sample *sa = a, *sb = b;

  if (sa->lab[0] != sb->lab[0])
    return sa->lab[0] < sb->lab[0] ? -1 : 1;
  return sa->index < sb->index ? -1 : sa->index > sb->index;
}

static int
compare_palette (gconstpointer a,
                 gconstpointer b)
{
  const OpPaletteColour *ca = a, *cb = b;

  if (ca->share != cb->share)
    return ca->share > cb->share ? -1 : 1;
  return ca->lab[0] < cb->lab[0] ? -1 : ca->lab[0] > cb->lab[0];
}

/* A small k-means in Lab, started from lightness quantiles so that it is deterministic
 * and spreads over the picture's range from the first round. */
static void
find_palette (const Sample    *samples,
              guint            n,
              OpPictureTraits *traits)
{
  g_autofree Sample *sorted = g_memdup2 (samples, sizeof (Sample) * n);
  g_autofree guint *assignment = g_new0 (guint, n);
  double centres[OP_PALETTE_MAX][3];
  guint counts[OP_PALETTE_MAX];
  guint k = MIN (OP_PALETTE_MAX, n);
  guint round, i, c;

  qsort (sorted, n, sizeof (Sample), compare_lightness);
  for (c = 0; c < k; c++)
    memcpy (centres[c], sorted[(guint) ((c + 0.5) * n / k)].lab, sizeof centres[c]);

  for (round = 0; round < KMEANS_ROUNDS; round++)
    {
      double sums[OP_PALETTE_MAX][3] = { { 0, } };
      gboolean moved = FALSE;

      memset (counts, 0, sizeof counts);
      for (i = 0; i < n; i++)
        {
          double best = G_MAXDOUBLE;
          guint best_c = 0;

          for (c = 0; c < k; c++)
            {
              double d = lab_distance2 (samples[i].lab, centres[c]);

              if (d < best)
                {
                  best = d;
                  best_c = c;
                }
            }
          if (assignment[i] != best_c)
            moved = TRUE;
          assignment[i] = best_c;
          counts[best_c]++;
          sums[best_c][0] += samples[i].lab[0];
          sums[best_c][1] += samples[i].lab[1];
          sums[best_c][2] += samples[i].lab[2];
        }

      for (c = 0; c < k; c++)
        if (counts[c] > 0)
          {
            centres[c][0] = sums[c][0] / counts[c];
            centres[c][1] = sums[c][1] / counts[c];
            centres[c][2] = sums[c][2] / counts[c];
          }

      if (!moved && round > 0)
        break;
    }

  traits->n_palette = 0;
  for (c = 0; c < k; c++)
    {
      OpPaletteColour *colour;

      if (counts[c] == 0)
        continue;
      colour = &traits->palette[traits->n_palette++];
      memcpy (colour->lab, centres[c], sizeof colour->lab);
      colour->share = (double) counts[c] / n;
      colour->name = name_colour (colour->lab);
    }

  /* two clusters with the same name are one colour to a prompt */
  for (c = 0; c < traits->n_palette; c++)
    for (i = c + 1; i < traits->n_palette;)
      {
        if (traits->palette[i].name == traits->palette[c].name)
          {
            OpPaletteColour *a = &traits->palette[c], *b = &traits->palette[i];
            double total = a->share + b->share;
            guint j;

            for (j = 0; j < 3; j++)
              a->lab[j] = (a->lab[j] * a->share + b->lab[j] * b->share) / total;
            a->share = total;
            memmove (b, b + 1, sizeof (OpPaletteColour) * (traits->n_palette - i - 1));
            traits->n_palette--;
          }
        else
          i++;
      }
  qsort (traits->palette, traits->n_palette, sizeof (OpPaletteColour), compare_palette);
}

gboolean
op_picture_traits_analyse (const OpImage   *image,
                           const OpMask    *exclude,
                           OpPictureTraits *traits,
                           GError         **error)
{
  int width, height, stride, step, grid_w, grid_h, gx, gy;
  const guint8 *pixels, *mask = NULL;
  g_autofree Sample *samples = NULL;
  g_autofree double *lightness = NULL;
  double linear[256];
  double sum_l = 0, sum_l2 = 0, sum_c = 0, warmth = 0, aspect;
  guint n = 0, edges = 0, pairs = 0, i;

  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (traits != NULL, FALSE);

  width = op_image_get_width (image);
  height = op_image_get_height (image);
  stride = op_image_get_stride (image);
  pixels = op_image_peek_data (image);

  if (exclude != NULL)
    {
      if (op_mask_get_width (exclude) != width || op_mask_get_height (exclude) != height)
        {
          g_set_error (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_INVALID,
                       _("The mask is %d × %d pixels but the picture is %d × %d"),
                       op_mask_get_width (exclude), op_mask_get_height (exclude), width, height);
          return FALSE;
        }
      mask = op_mask_peek_data (exclude);
    }

  for (i = 0; i < 256; i++)
    linear[i] = srgb_to_linear (i / 255.0);

  /* Cells of step × step pixels, averaged in linear light: about SAMPLES_TARGET of
   * them whatever the picture's size, so an 8K photo costs one pass over its pixels. */
  step = MAX (1, (int) ceil (sqrt ((double) width * height / SAMPLES_TARGET)));
  grid_w = (width + step - 1) / step;
  grid_h = (height + step - 1) / step;
  samples = g_new (Sample, (gsize) grid_w * grid_h);
  lightness = g_new (double, (gsize) grid_w * grid_h);

  for (gy = 0; gy < grid_h; gy++)
    for (gx = 0; gx < grid_w; gx++)
      {
        double rgb[3] = { 0, 0, 0 };
        guint used = 0, total = 0;
        int x, y;

        for (y = gy * step; y < MIN (height, (gy + 1) * step); y++)
          for (x = gx * step; x < MIN (width, (gx + 1) * step); x++)
            {
              const guint8 *p = pixels + (gsize) y * stride + (gsize) x * 4;

              total++;
              if (p[3] < 128 || (mask != NULL && mask[(gsize) y * width + x] >= 128))
                continue;
              rgb[0] += linear[p[0]];
              rgb[1] += linear[p[1]];
              rgb[2] += linear[p[2]];
              used++;
            }

        lightness[(gsize) gy * grid_w + gx] = NAN;
        if (used * 2 < total || used == 0)
          continue;

        rgb[0] /= used;
        rgb[1] /= used;
        rgb[2] /= used;
        rgb_to_lab (rgb, TRUE, samples[n].lab);
        samples[n].index = n;
        lightness[(gsize) gy * grid_w + gx] = samples[n].lab[0];
        n++;
      }

  if (n == 0)
    {
      g_set_error_literal (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_NO_PIXELS,
                           _("There is nothing left of the picture to analyse"));
      return FALSE;
    }

  memset (traits, 0, sizeof *traits);

  for (i = 0; i < n; i++)
    {
      const double *lab = samples[i].lab;
      double chroma = hypot (lab[1], lab[2]);
      double hue = atan2 (lab[2], lab[1]);

      sum_l += lab[0];
      sum_l2 += lab[0] * lab[0];
      sum_c += chroma;
      /* warmth: +1 for orange (Lab hue 55°), -1 for the cyan-blues opposite */
      warmth += chroma * cos (hue - 55.0 * G_PI / 180.0);
    }

  /* Texture: neighbouring cells whose lightness differs by more than a visible step.
   * Cells are about a 128th of the picture, so this is detail at the scale a fill works. */
  for (gy = 0; gy < grid_h; gy++)
    for (gx = 0; gx < grid_w; gx++)
      {
        double l = lightness[(gsize) gy * grid_w + gx];
        double right = gx + 1 < grid_w ? lightness[(gsize) gy * grid_w + gx + 1] : NAN;
        double below = gy + 1 < grid_h ? lightness[(gsize) (gy + 1) * grid_w + gx] : NAN;

        if (isnan (l) || (isnan (right) && isnan (below)))
          continue;
        pairs++;
        if ((!isnan (right) && fabs (right - l) > 6.0) || (!isnan (below) && fabs (below - l) > 6.0))
          edges++;
      }

  traits->mean_lightness = sum_l / n;
  traits->lightness_spread = sqrt (MAX (0.0, sum_l2 / n - traits->mean_lightness * traits->mean_lightness));
  traits->mean_chroma = sum_c / n;
  traits->edge_density = pairs > 0 ? (double) edges / pairs : 0.0;
  warmth = sum_c > 0 ? warmth / sum_c : 0.0;
  aspect = (double) width / height;

  /* a hue leaning warm counts for as much as there is colour to carry it */
  traits->traits[OP_TRAIT_WARM] = smoothstep (0.1, 0.55, warmth) * smoothstep (6, 32, traits->mean_chroma);
  traits->traits[OP_TRAIT_COOL] = smoothstep (0.1, 0.55, -warmth) * smoothstep (6, 32, traits->mean_chroma);
  traits->traits[OP_TRAIT_BRIGHT] = smoothstep (45, 75, traits->mean_lightness);
  traits->traits[OP_TRAIT_DARK] = smoothstep (55, 25, traits->mean_lightness);
  traits->traits[OP_TRAIT_CONTRAST] = smoothstep (12, 28, traits->lightness_spread);
  traits->traits[OP_TRAIT_FLAT] = smoothstep (20, 8, traits->lightness_spread);
  traits->traits[OP_TRAIT_VIVID] = smoothstep (15, 40, traits->mean_chroma);
  traits->traits[OP_TRAIT_MUTED] = smoothstep (25, 8, traits->mean_chroma);
  traits->traits[OP_TRAIT_MONO] = smoothstep (10, 3, traits->mean_chroma);
  traits->traits[OP_TRAIT_DETAILED] = smoothstep (0.08, 0.35, traits->edge_density);
  traits->traits[OP_TRAIT_SMOOTH] = smoothstep (0.15, 0.03, traits->edge_density);
  traits->traits[OP_TRAIT_WIDE] = smoothstep (1.15, 1.6, aspect);
  traits->traits[OP_TRAIT_TALL] = smoothstep (1.15, 1.6, 1.0 / aspect);
  traits->traits[OP_TRAIT_SQUARE] = 1.0 - MAX (traits->traits[OP_TRAIT_WIDE], traits->traits[OP_TRAIT_TALL]);

  find_palette (samples, n, traits);

  return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* The vocabulary                                                                     */

static void
clear_phrase (gpointer data)
{
  Phrase *phrase = data;

  g_free (phrase->text);
}

static void
clear_category (gpointer data)
{
  Category *category = data;

  g_free (category->id);
  g_free (category->label);
  g_clear_pointer (&category->phrases, g_array_unref);
}

static void
clear_hint (gpointer data)
{
  Hint *hint = data;

  g_free (hint->label);
  g_strfreev (hint->words);
}

void
op_vocabulary_free (OpVocabulary *self)
{
  if (self == NULL)
    return;

  g_array_unref (self->categories);
  g_array_unref (self->hints);
  g_free (self);
}

static gboolean
invalid (GError    **error,
         const char *where,
         const char *what)
{
  g_set_error (error, OP_SUGGEST_ERROR, OP_SUGGEST_ERROR_INVALID,
               _("The prompt vocabulary is not valid: %s: %s"), where, what);
  return FALSE;
}

/* A member that is a string of 1…max_chars characters. */
static const char *
get_text (JsonObject *object,
          const char *name,
          guint       max_chars)
{
  JsonNode *node = json_object_get_member (object, name);
  const char *text;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  text = json_node_get_string (node);
  if (text == NULL || *text == '\0' || g_utf8_strlen (text, -1) > max_chars)
    return NULL;

  return text;
}

static gboolean
get_number (JsonObject *object,
            const char *name,
            double     *value)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return FALSE;

  *value = json_node_get_double (node);
  return isfinite (*value) && *value >= -5.0 && *value <= 5.0;
}

static gboolean
parse_phrase (JsonNode    *node,
              const char  *where,
              Phrase      *phrase,
              GError     **error)
{
  JsonObject *object;
  JsonNode *weights;
  const char *text;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, where, _("a phrase is not an object"));
  object = json_node_get_object (node);

  if ((text = get_text (object, "text", MAX_PHRASE_CHARS)) == NULL)
    return invalid (error, where, _("“text” is missing, empty or too long"));
  if (!get_number (object, "base", &phrase->base))
    return invalid (error, where, _("“base” is not a number from -5 to 5"));

  weights = json_object_get_member (object, "traits");
  if (weights != NULL)
    {
      g_autoptr(GList) names = NULL;
      JsonObject *traits;

      if (!JSON_NODE_HOLDS_OBJECT (weights))
        return invalid (error, where, _("“traits” is not an object"));
      traits = json_node_get_object (weights);
      names = json_object_get_members (traits);

      for (GList *l = names; l != NULL; l = l->next)
        {
          guint t;

          for (t = 0; t < OP_N_TRAITS; t++)
            if (g_str_equal (l->data, trait_names[t]))
              break;
          if (t == OP_N_TRAITS)
            {
              g_autofree char *what = g_strdup_printf (_("unknown trait “%s”"), (char *) l->data);
              return invalid (error, where, what);
            }
          if (!get_number (traits, l->data, &phrase->weights[t]))
            return invalid (error, where, _("a trait's weight is not a number from -5 to 5"));
        }
    }

  phrase->text = g_strdup (text);
  return TRUE;
}

static gboolean
parse_category (JsonNode  *node,
                guint      index,
                Category  *category,
                GError   **error)
{
  g_autofree char *where = g_strdup_printf (_("category %u"), index + 1);
  JsonObject *object;
  JsonNode *phrases;
  JsonArray *array;
  const char *id, *label;
  guint i;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, where, _("not an object"));
  object = json_node_get_object (node);

  if ((id = get_text (object, "id", 32)) == NULL || strspn (id, "abcdefghijklmnopqrstuvwxyz-") != strlen (id))
    return invalid (error, where, _("“id” is missing or not lower-case letters"));
  if ((label = get_text (object, "label", 80)) == NULL)
    return invalid (error, where, _("“label” is missing, empty or too long"));

  phrases = json_object_get_member (object, "phrases");
  if (phrases == NULL || !JSON_NODE_HOLDS_ARRAY (phrases))
    return invalid (error, where, _("“phrases” is not a list"));
  array = json_node_get_array (phrases);
  if (json_array_get_length (array) == 0 || json_array_get_length (array) > MAX_PHRASES)
    return invalid (error, where, _("“phrases” is empty or too long"));

  category->id = g_strdup (id);
  category->label = g_strdup (label);
  category->negative = json_object_get_boolean_member_with_default (object, "negative", FALSE);
  category->phrases = g_array_new (FALSE, TRUE, sizeof (Phrase));
  g_array_set_clear_func (category->phrases, clear_phrase);

  for (i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *phrase_where = g_strdup_printf (_("category “%s”, phrase %u"), id, i + 1);
      Phrase phrase = { 0, };

      if (!parse_phrase (json_array_get_element (array, i), phrase_where, &phrase, error))
        return FALSE;
      g_array_append_val (category->phrases, phrase);
    }

  return TRUE;
}

static gboolean
parse_hint (JsonNode  *node,
            guint      index,
            Hint      *hint,
            GError   **error)
{
  g_autofree char *where = g_strdup_printf (_("hint %u"), index + 1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonObject *object;
  JsonNode *words;
  JsonArray *array;
  const char *label;
  guint i;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, where, _("not an object"));
  object = json_node_get_object (node);

  if ((label = get_text (object, "label", 300)) == NULL)
    return invalid (error, where, _("“label” is missing, empty or too long"));
  words = json_object_get_member (object, "words");
  if (words == NULL || !JSON_NODE_HOLDS_ARRAY (words))
    return invalid (error, where, _("“words” is not a list"));
  array = json_node_get_array (words);
  if (json_array_get_length (array) == 0 || json_array_get_length (array) > MAX_WORDS)
    return invalid (error, where, _("“words” is empty or too long"));

  for (i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *word = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (word) || json_node_get_value_type (word) != G_TYPE_STRING ||
          *json_node_get_string (word) == '\0')
        return invalid (error, where, _("a word is not a string"));
      g_autofree char *lower = g_utf8_strdown (json_node_get_string (word), -1);

      g_strv_builder_add (builder, lower);
    }

  hint->label = g_strdup (label);
  hint->words = g_strv_builder_end (builder);
  return TRUE;
}

OpVocabulary *
op_vocabulary_new_from_bytes (GBytes  *json,
                              GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(OpVocabulary) self = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonNode *categories, *hints;
  JsonArray *array;
  gsize size;
  const char *data;
  guint i;

  g_return_val_if_fail (json != NULL, NULL);

  data = g_bytes_get_data (json, &size);
  if (size > 1024 * 1024)
    {
      invalid (error, _("file"), _("larger than 1 MB"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, size, &local_error))
    {
      invalid (error, _("file"), local_error->message);
      return NULL;
    }

  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      invalid (error, _("file"), _("not a JSON object"));
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  self = g_new0 (OpVocabulary, 1);
  self->categories = g_array_new (FALSE, TRUE, sizeof (Category));
  g_array_set_clear_func (self->categories, clear_category);
  self->hints = g_array_new (FALSE, TRUE, sizeof (Hint));
  g_array_set_clear_func (self->hints, clear_hint);

  categories = json_object_get_member (root, "categories");
  if (categories == NULL || !JSON_NODE_HOLDS_ARRAY (categories))
    {
      invalid (error, _("file"), _("“categories” is not a list"));
      return NULL;
    }
  array = json_node_get_array (categories);
  if (json_array_get_length (array) == 0 || json_array_get_length (array) > MAX_CATEGORIES)
    {
      invalid (error, _("file"), _("“categories” is empty or too long"));
      return NULL;
    }

  for (i = 0; i < json_array_get_length (array); i++)
    {
      Category category = { 0, };
      gboolean ok = parse_category (json_array_get_element (array, i), i, &category, error);

      g_array_append_val (self->categories, category);
      if (!ok)
        return NULL;
    }

  hints = json_object_get_member (root, "hints");
  if (hints != NULL)
    {
      if (!JSON_NODE_HOLDS_ARRAY (hints) || json_array_get_length (json_node_get_array (hints)) > MAX_CATEGORIES)
        {
          invalid (error, _("file"), _("“hints” is not a list"));
          return NULL;
        }
      array = json_node_get_array (hints);
      for (i = 0; i < json_array_get_length (array); i++)
        {
          Hint hint = { 0, };
          gboolean ok = parse_hint (json_array_get_element (array, i), i, &hint, error);

          g_array_append_val (self->hints, hint);
          if (!ok)
            return NULL;
        }
    }

  return g_steal_pointer (&self);
}

OpVocabulary *
op_vocabulary_get_default (void)
{
  static gsize once = 0;
  static OpVocabulary *vocabulary;

  if (g_once_init_enter (&once))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = g_resource_lookup_data (op_core_get_resource (), VOCABULARY_RESOURCE,
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      OpVocabulary *loaded = bytes != NULL ? op_vocabulary_new_from_bytes (bytes, &error) : NULL;

      if (loaded == NULL)
        {
          /* the build's own file, checked by the tests: only a broken build gets here */
          g_critical ("The built-in prompt vocabulary did not load: %s", error->message);
          loaded = g_new0 (OpVocabulary, 1);
          loaded->categories = g_array_new (FALSE, TRUE, sizeof (Category));
          loaded->hints = g_array_new (FALSE, TRUE, sizeof (Hint));
        }
      vocabulary = loaded;
      g_once_init_leave (&once, 1);
    }

  return vocabulary;
}

guint
op_vocabulary_get_n_categories (OpVocabulary *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->categories->len;
}

static Category *
get_category (OpVocabulary *self,
              guint         i)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (i < self->categories->len, NULL);

  return &g_array_index (self->categories, Category, i);
}

const char *
op_vocabulary_get_category_id (OpVocabulary *self,
                               guint         i)
{
  Category *category = get_category (self, i);

  return category != NULL ? category->id : NULL;
}

const char *
op_vocabulary_get_category_label (OpVocabulary *self,
                                  guint         i)
{
  Category *category = get_category (self, i);

  return category != NULL ? g_dgettext (GETTEXT_PACKAGE, category->label) : NULL;
}

gboolean
op_vocabulary_category_is_negative (OpVocabulary *self,
                                    guint         i)
{
  Category *category = get_category (self, i);

  return category != NULL && category->negative;
}

void
op_suggestion_free (OpSuggestion *self)
{
  if (self == NULL)
    return;

  g_free (self->text);
  g_free (self);
}

static OpSuggestion *
suggestion_new (const char *category,
                char       *text,
                double      score)
{
  OpSuggestion *suggestion = g_new0 (OpSuggestion, 1);

  suggestion->category = category;
  suggestion->text = text;
  suggestion->score = score;
  return suggestion;
}

/* Best first; equal scores keep the vocabulary's order (the sort is not stable, the
 * order is made total here so the same picture always gives the same list). */
typedef struct
{
  double score;
  guint  index;
} Ranked;

static int
compare_ranked (gconstpointer a,
                gconstpointer b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->score != rb->score)
    return ra->score > rb->score ? -1 : 1;
  return ra->index < rb->index ? -1 : ra->index > rb->index;
}

/* "rust, cream and dark brown tones" from the palette's larger colours, and "touches
 * of red" for a small but strong one. */
static void
add_palette_phrases (GPtrArray             *out,
                     const char            *category,
                     const OpPictureTraits *traits)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint i;

  for (i = 0; i < traits->n_palette && names->len < 3; i++)
    {
      const OpPaletteColour *colour = &traits->palette[i];

      if (colour->share >= 0.1 && !g_ptr_array_find_with_equal_func (names, colour->name, g_str_equal, NULL))
        g_ptr_array_add (names, (gpointer) colour->name);
    }

  if (names->len == 1)
    g_ptr_array_add (out, suggestion_new (category, g_strdup_printf ("%s tones", (char *) names->pdata[0]), 3.0));
  else if (names->len == 2)
    g_ptr_array_add (out, suggestion_new (category, g_strdup_printf ("%s and %s tones", (char *) names->pdata[0],
                                                                     (char *) names->pdata[1]), 3.0));
  else if (names->len == 3)
    g_ptr_array_add (out, suggestion_new (category, g_strdup_printf ("%s, %s and %s tones", (char *) names->pdata[0],
                                                                     (char *) names->pdata[1],
                                                                     (char *) names->pdata[2]), 3.0));

  for (i = 0; i < traits->n_palette; i++)
    {
      const OpPaletteColour *colour = &traits->palette[i];
      double chroma = hypot (colour->lab[1], colour->lab[2]);

      if (colour->share < 0.1 && colour->share >= 0.02 && chroma >= 35 &&
          !g_ptr_array_find_with_equal_func (names, colour->name, g_str_equal, NULL))
        {
          g_ptr_array_add (out, suggestion_new (category, g_strdup_printf ("touches of %s", colour->name),
                                                2.0 + chroma / 100.0));
          break;
        }
    }
}

GPtrArray *
op_vocabulary_rank (OpVocabulary          *self,
                    const OpPictureTraits *traits)
{
  GPtrArray *out;
  guint c, i, t;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) op_suggestion_free);

  for (c = 0; c < self->categories->len; c++)
    {
      Category *category = &g_array_index (self->categories, Category, c);
      g_autofree Ranked *ranked = g_new (Ranked, category->phrases->len);

      if (traits != NULL && g_str_equal (category->id, "palette"))
        add_palette_phrases (out, category->id, traits);

      for (i = 0; i < category->phrases->len; i++)
        {
          Phrase *phrase = &g_array_index (category->phrases, Phrase, i);

          ranked[i].index = i;
          ranked[i].score = phrase->base;
          if (traits != NULL)
            for (t = 0; t < OP_N_TRAITS; t++)
              ranked[i].score += phrase->weights[t] * traits->traits[t];
        }
      qsort (ranked, category->phrases->len, sizeof (Ranked), compare_ranked);

      for (i = 0; i < category->phrases->len; i++)
        {
          Phrase *phrase = &g_array_index (category->phrases, Phrase, ranked[i].index);

          g_ptr_array_add (out, suggestion_new (category->id, g_strdup (phrase->text), ranked[i].score));
        }
    }

  return out;
}

GPtrArray *
op_vocabulary_get_hints (OpVocabulary *self,
                         const char   *prompt)
{
  g_autofree char *lower = NULL;
  g_auto(GStrv) words = NULL;
  GPtrArray *out;
  guint i;

  g_return_val_if_fail (self != NULL, NULL);

  out = g_ptr_array_new ();
  if (prompt == NULL || !g_utf8_validate (prompt, -1, NULL))
    return out;

  lower = g_utf8_strdown (prompt, -1);
  for (char *p = lower; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && !((guchar) *p & 0x80))
      *p = ' ';
  words = g_strsplit (lower, " ", -1);

  for (i = 0; i < self->hints->len; i++)
    {
      Hint *hint = &g_array_index (self->hints, Hint, i);

      for (guint w = 0; words[w] != NULL; w++)
        if (*words[w] != '\0' && g_strv_contains ((const char * const *) hint->words, words[w]))
          {
            g_ptr_array_add (out, (gpointer) g_dgettext (GETTEXT_PACKAGE, hint->label));
            break;
          }
    }

  return out;
}
