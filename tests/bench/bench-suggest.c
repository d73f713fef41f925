/* bench-suggest.c — what the prompt suggestions cost on a large picture: the offline
 * analysis and ranking, and preparing the region with and without the describer's fill.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run: _build/tests/bench/bench-suggest [WIDTH HEIGHT]   (default 7680 × 4320)
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "op-describe.h"
#include "op-suggest.h"

#include "bench-util.h"

#define RUNS 5

int
main (int   argc,
      char *argv[])
{
  int width = argc > 2 ? atoi (argv[1]) : 7680;
  int height = argc > 2 ? atoi (argv[2]) : 4320;
  g_autoptr(OpImage) picture = NULL;
  g_autoptr(OpMask) mask = NULL;
  double analyse[RUNS], rank[RUNS], analysis_only[RUNS], with_fill[RUNS];
  OpMargins margins = { 0, };

  if (width < 64 || height < 64)
    {
      g_printerr ("bench-suggest: WIDTH and HEIGHT are at least 64\n");
      return 2;
    }

  picture = make_picture (width, height);
  /* a hole of a tenth of each side in the middle, as a typical retouch */
  mask = op_mask_new (width, height);
  for (int y = height * 9 / 20; y < height * 11 / 20; y++)
    memset (op_mask_get_data (mask) + (gsize) y * width + width * 9 / 20, 255, width / 10);

  g_print ("bench-suggest: %d × %d, hole %d × %d, %d runs each, interleaved\n",
           width, height, width / 10, height / 10, RUNS);

  for (int i = 0; i < RUNS; i++)
    {
      g_autoptr(GPtrArray) ranked = NULL;
      g_autoptr(GPtrArray) parts = NULL;
      g_autoptr(GPtrArray) filled = NULL;
      OpPictureTraits traits;
      gint64 t;

      t = g_get_monotonic_time ();
      op_picture_traits_analyse (picture, NULL, &traits, NULL);
      analyse[i] = seconds_since (t);

      t = g_get_monotonic_time ();
      ranked = op_vocabulary_rank (op_vocabulary_get_default (), &traits);
      rank[i] = seconds_since (t);

      t = g_get_monotonic_time ();
      parts = op_describe_prepare_analysis (picture, mask, &margins, OP_DESCRIBE_CONTEXT, NULL);
      analysis_only[i] = seconds_since (t);

      t = g_get_monotonic_time ();
      filled = op_describe_prepare (picture, mask, &margins, OP_DESCRIBE_CONTEXT, NULL, NULL);
      with_fill[i] = seconds_since (t);
    }

  report ("analyse the whole picture (traits + palette)", analyse, RUNS);
  report ("rank the vocabulary", rank, RUNS);
  report ("context region for the analysis (no fill)", analysis_only, RUNS);
  report ("context region for a describer (scale + fill)", with_fill, RUNS);

  return 0;
}
