/* op-suggest.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-image.h"
#include "op-mask.h"

G_BEGIN_DECLS

#define OP_SUGGEST_ERROR (op_suggest_error_quark ())

typedef enum
{
  OP_SUGGEST_ERROR_INVALID,   /* a vocabulary that is not what the format says */
  OP_SUGGEST_ERROR_NO_PIXELS, /* nothing left to analyse (all masked, empty) */
} OpSuggestError;

/* What a local analysis of a region finds, each trait 0…1. */
typedef enum
{
  OP_TRAIT_WARM,
  OP_TRAIT_COOL,
  OP_TRAIT_BRIGHT,
  OP_TRAIT_DARK,
  OP_TRAIT_CONTRAST,
  OP_TRAIT_FLAT,
  OP_TRAIT_VIVID,
  OP_TRAIT_MUTED,
  OP_TRAIT_MONO,
  OP_TRAIT_DETAILED,
  OP_TRAIT_SMOOTH,
  OP_TRAIT_WIDE,
  OP_TRAIT_TALL,
  OP_TRAIT_SQUARE,
  OP_N_TRAITS
} OpTrait;

#define OP_PALETTE_MAX 5

typedef struct
{
  double      lab[3];
  double      share;      /* of the analysed pixels, 0…1 */
  const char *name;       /* an English colour word, e.g. "rust" */
} OpPaletteColour;

typedef struct
{
  double          traits[OP_N_TRAITS];
  OpPaletteColour palette[OP_PALETTE_MAX];  /* largest share first */
  guint           n_palette;
  double          mean_lightness;           /* L*, 0…100 */
  double          lightness_spread;         /* standard deviation of L* */
  double          mean_chroma;
  double          edge_density;             /* share of pixels on an edge */
} OpPictureTraits;

typedef struct
{
  const char *category;   /* the category's id, e.g. "lighting" */
  char       *text;       /* the English phrase */
  double      score;      /* higher first */
} OpSuggestion;

typedef struct _OpVocabulary OpVocabulary;

GQuark        op_suggest_error_quark        (void);

const char   *op_trait_get_name             (OpTrait              trait);

/* Analyses @image's pixels, leaving out those @exclude (same size, may be NULL) covers
 * at half or more: they are about to be replaced.  Deterministic. */
gboolean      op_picture_traits_analyse     (const OpImage        *image,
                                             const OpMask         *exclude,
                                             OpPictureTraits      *traits,
                                             GError              **error);

OpVocabulary *op_vocabulary_new_from_bytes  (GBytes               *json,
                                             GError              **error);
/* The vocabulary this build ships, in the library's resources. */
OpVocabulary *op_vocabulary_get_default     (void);
void          op_vocabulary_free            (OpVocabulary         *self);

guint         op_vocabulary_get_n_categories (OpVocabulary        *self);
const char   *op_vocabulary_get_category_id (OpVocabulary         *self,
                                             guint                 i);
/* Translated. */
const char   *op_vocabulary_get_category_label (OpVocabulary      *self,
                                             guint                 i);
gboolean      op_vocabulary_category_is_negative (OpVocabulary    *self,
                                             guint                 i);

/* Every phrase, best first within each category and categories in the vocabulary's
 * order; with @traits NULL, by the phrases' priors alone.  Phrases naming the
 * picture's palette come first in "palette".  The GPtrArray holds OpSuggestion. */
GPtrArray    *op_vocabulary_rank            (OpVocabulary         *self,
                                             const OpPictureTraits *traits);
/* The hints (translated sentences) that apply to @prompt, in the vocabulary's order. */
GPtrArray    *op_vocabulary_get_hints       (OpVocabulary         *self,
                                             const char           *prompt);

/* The English labels the vocabulary may use, as the translation catalogue has them. */
const char * const *op_vocabulary_list_msgids (void);

void          op_suggestion_free            (OpSuggestion         *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpVocabulary, op_vocabulary_free)

G_END_DECLS
