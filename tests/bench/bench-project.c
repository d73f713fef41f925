/* bench-project.c — what saving and opening a project cost on a large picture: a full
 * save, a save after one more generation with the cache of encoded pictures, the
 * recovery copy written before new variants are shown, and opening.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run: _build/tests/bench/bench-project [WIDTH HEIGHT]   (default 7680 × 4320)
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "op-project.h"

#include "bench-util.h"

#define RUNS 3

/* One generation of @n variants over a 1024 × 1024 hole: what a backend sends back. */
static GPtrArray *
make_variants (OpDocument *doc,
               OpImage    *picture,
               guint       n)
{
  static const OpMargins none = { 0, 0, 0, 0 };
  OpRect rect = { op_image_get_width (picture) / 3, op_image_get_height (picture) / 3, 1024, 1024 };
  g_autoptr(OpParams) params = op_params_new ();
  g_autoptr(OpMask) blend = op_mask_new (rect.width, rect.height);
  GPtrArray *versions = g_ptr_array_new_with_free_func (g_object_unref);
  guint generation = op_document_new_generation (doc);

  memset (op_mask_get_data (blend), 255, (gsize) rect.width * rect.height);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(OpImage) patch = op_image_crop (picture, (int) i * 97, (int) i * 31, rect.width,
                                                rect.height);

      g_ptr_array_add (versions, op_version_new_variant (op_document_get_root (doc), &none, patch,
                                                         &rect, blend, params, (gint64) i,
                                                         generation));
    }

  return versions;
}

int
main (int   argc,
      char *argv[])
{
  int width = argc > 2 ? atoi (argv[1]) : 7680;
  int height = argc > 2 ? atoi (argv[2]) : 4320;
  double full[RUNS], cached[RUNS], recovery[RUNS], open[RUNS], level6[RUNS], level1[RUNS];
  double snapshot[RUNS];
  gsize size = 0;

  if (width < 2048 || height < 2048)
    {
      g_printerr ("bench-project: WIDTH and HEIGHT are at least 2048\n");
      return 2;
    }

  g_print ("project on a %d × %d picture, 4 variants of 1024 × 1024, then 4 more\n",
           width, height);

  /* one layer, side by side: what the project's faster PNG level buys */
  for (guint run = 0; run < RUNS; run++)
    {
      g_autoptr(OpImage) picture = make_picture (width, height);
      gint64 start = g_get_monotonic_time ();
      g_autoptr(GBytes) slow = op_image_encode_png (picture, NULL);
      g_autoptr(GBytes) fast = NULL;

      level6[run] = seconds_since (start);
      start = g_get_monotonic_time ();
      fast = op_image_encode_png_fast (picture, NULL);
      level1[run] = seconds_since (start);
      if (run == 0)
        g_print ("one layer: %.1f MB at level 6 (export), %.1f MB at level 1 (projects)\n",
                 g_bytes_get_size (slow) / 1e6, g_bytes_get_size (fast) / 1e6);
    }
  report ("encode one layer as PNG, level 6 (export)", level6, RUNS);
  report ("encode one layer as PNG, level 1 (projects)", level1, RUNS);

  for (guint run = 0; run < RUNS; run++)
    {
      g_autoptr(OpImage) picture = make_picture (width, height);
      g_autoptr(OpDocument) doc = op_document_new ();
      g_autoptr(GPtrArray) first = NULL;
      g_autoptr(GPtrArray) second = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GBytes) again = NULL;
      g_autoptr(GBytes) rec = NULL;
      g_autoptr(OpProject) project = NULL;
      OpProjectCache *cache = op_project_cache_new ();
      OpProjectCache *recovery_cache = op_project_cache_new ();
      g_autoptr(GError) error = NULL;
      gint64 start;

      op_document_set_image (doc, picture, NULL);
      first = make_variants (doc, picture, 4);
      op_document_add_variants (doc, op_document_get_root (doc), first);

      /* the first save encodes every layer */
      {
        g_autoptr(OpProjectSnapshot) s = op_project_snapshot_new (doc, NULL);

        start = g_get_monotonic_time ();
        bytes = op_project_snapshot_encode (s, cache, &error);
        full[run] = seconds_since (start);
        g_assert_no_error (error);
        size = g_bytes_get_size (bytes);
      }

      /* what an autosave costs the main loop: taking the snapshot, with a mask painted
       * (the pictures are shared, the masks copied) */
      {
        OpBrush brush = { 200, 0.5, 1, 0.1, OP_MASK_MODE_ADD };

        op_document_stroke_begin (doc, &brush, width / 4.0, height / 4.0, 1);
        op_document_stroke_to (doc, width / 2.0, height / 2.0, 1);
        op_document_stroke_end (doc);
        start = g_get_monotonic_time ();
        op_project_snapshot_free (op_project_snapshot_new (doc, NULL));
        snapshot[run] = seconds_since (start);
      }

      /* the recovery copy before the next four variants are shown */
      second = make_variants (doc, picture, 4);
      {
        g_autoptr(OpProjectSnapshot) s = NULL;

        /* the recovery cache has seen the first generation (an autosave did) */
        s = op_project_snapshot_new (doc, NULL);
        op_project_snapshot_set_recovery (s, TRUE);
        g_bytes_unref (op_project_snapshot_encode (s, recovery_cache, &error));
        g_clear_pointer (&s, op_project_snapshot_free);

        start = g_get_monotonic_time ();
        s = op_project_snapshot_new_with_variants (doc, NULL, op_document_get_root (doc), second);
        op_project_snapshot_set_recovery (s, TRUE);
        rec = op_project_snapshot_encode (s, recovery_cache, &error);
        recovery[run] = seconds_since (start);
        g_assert_no_error (error);
      }
      op_document_add_variants (doc, op_document_get_root (doc), second);

      /* Save again: only the new variants are encoded */
      {
        g_autoptr(OpProjectSnapshot) s = op_project_snapshot_new (doc, NULL);

        start = g_get_monotonic_time ();
        again = op_project_snapshot_encode (s, cache, &error);
        cached[run] = seconds_since (start);
        g_assert_no_error (error);
      }

      start = g_get_monotonic_time ();
      project = op_project_decode (again, &error);
      open[run] = seconds_since (start);
      g_assert_no_error (error);

      op_project_cache_free (cache);
      op_project_cache_free (recovery_cache);
    }

  report ("save, first time (5 layers, patches, masks)", full, RUNS);
  report ("autosave's snapshot on the main loop, one mask painted", snapshot, RUNS);
  report ("recovery copy before 4 new variants are shown", recovery, RUNS);
  report ("save after 4 more variants, with the cache (9 layers)", cached, RUNS);
  report ("open the 9-version project", open, RUNS);
  g_print ("project of 5 versions: %.1f MB\n", size / 1e6);
  return 0;
}
