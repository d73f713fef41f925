/* op-fill-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-fill.h"

G_BEGIN_DECLS

/* The engine works on one crop of the picture (a hole's bounding box plus a context
 * margin) at every level of a pyramid.  Per pixel of that crop a level holds a few
 * bytes of dense arrays; nothing is allocated for the rest of the picture. */

#define OP_FILL_MAX_LEVELS         16
#define OP_FILL_DEFAULT_PATCH_SIZE 7

/* Work is split into this many stripes of rows whatever the number of threads, so the
 * result does not depend on it; shifted stripes (odd parity) can make one more. */
#define OP_FILL_N_STRIPES          16
#define OP_FILL_MAX_STRIPES        (OP_FILL_N_STRIPES + 1)

/* Level flags, one byte per pixel */
enum
{
  OP_FILL_HOLE   = 1 << 0,  /* to be filled */
  OP_FILL_KNOWN  = 1 << 1,  /* known and inside the source region */
  OP_FILL_SOURCE = 1 << 2,  /* the whole patch around it is KNOWN: may be copied from */
  OP_FILL_TARGET = 1 << 3,  /* its patch overlaps the hole */
  OP_FILL_DONE   = 1 << 4,  /* scratch: the coarsest level's first guess reached it */
};

typedef struct
{
  int      width;
  int      height;

  /* RGBA8; at level 0 this points into the output picture */
  guint8  *color;
  int      color_stride;
  guint8  *color_owned;

  guint8  *flags;
  guint8  *dmap;      /* chessboard distance to the nearest known pixel, clamped to 255 */

  /* Only while the level is being filled */
  guint8  *feat;      /* 4 bytes per pixel: L, a, b and texture or alpha, see below */
  guint32 *nnf;       /* per target: source patch centre, (y << 16) | x */
  float   *weight;    /* per target: vote weight, during the coarsest level's first guess
                       * only (elsewhere it follows from dmap, see conf_lut) */

  /* Channel 3 of the features: a texture measure when the crop is opaque (Newson et
   * al. 2014, voted into the hole like a colour), else the alpha */
  gboolean texture;

  OpRect   src_box;   /* bounding box of the OP_FILL_SOURCE pixels */
  gsize    n_targets;
  gsize    n_holes;
  gsize    n_sources;
  int      max_dist;
} OpFillLevel;

typedef struct _OpFillEngine OpFillEngine;

/* A stripe of rows [y0, y1) of @level.  @rng_seed is fixed by the caller's salt and the
 * stripe index, never by the thread that runs it. */
typedef void (*OpFillStripeFunc) (OpFillEngine *engine,
                                  OpFillLevel  *level,
                                  int           stripe,
                                  int           y0,
                                  int           y1,
                                  guint64       rng_seed,
                                  gpointer      data);

struct _OpFillEngine
{
  OpFillLevel         levels[OP_FILL_MAX_LEVELS];
  int                 n_levels;

  int                 patch_size;
  int                 radius;
  guint64             seed;
  int                 n_threads;
  GThreadPool        *pool;
  GMutex              mutex;
  GCond               cond;

  /* Borrowed references */
  GCancellable       *cancellable;
  OpFillProgressFunc  progress;
  gpointer            progress_data;

  /* Bytes held in level buffers, for the memory bound (reported with g_debug) */
  gsize               peak_bytes;

  /* Progress, in units of work estimated by plan_work () in op-fill-engine.c */
  GThread            *caller;
  double              work_total;
  double              work_done;
  double              phase_units;  /* of the next _op_fill_engine_run_stripes () */
  double              last_fraction;
  double              guess_counted; /* work_done when the first guess began */
  gpointer            job;          /* the stripe run under way */
  gint64              last_report;
  int                 current_level;

  gboolean            texture;       /* see OpFillLevel */
  float               conf_lut[256]; /* vote weight by distance to the known part */
  int                 search_radius; /* of the random search at the current level */
};

/* One entry of the finest nearest-neighbour field, in picture coordinates. */
typedef struct
{
  int tx, ty;  /* target patch centre */
  int sx, sy;  /* source patch centre */
} OpFillMatch;

/* A small deterministic generator (splitmix64); one per stripe. */
typedef struct
{
  guint64 state;
} OpFillRng;

static inline guint64
_op_fill_mix (guint64 z)
{
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline guint32
_op_fill_rng_next (OpFillRng *rng)
{
  rng->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  return (guint32) (_op_fill_mix (rng->state) >> 32);
}

/* Uniform in [0, n), n > 0 */
static inline int
_op_fill_rng_below (OpFillRng *rng,
                    int        n)
{
  return (int) (((guint64) _op_fill_rng_next (rng) * (guint64) n) >> 32);
}

static inline guint32
_op_fill_pack (int x,
               int y)
{
  return ((guint32) y << 16) | (guint32) x;
}

#define OP_FILL_X(p) ((int) ((p) & 0xffff))
#define OP_FILL_Y(p) ((int) ((p) >> 16))

/* op-fill.c */

/* op_fill_run () that also returns the finest nearest-neighbour field as an array of
 * OpFillMatch (for tests); @matches may be NULL. */
OpImage      *_op_fill_run_full            (const OpImage      *picture,
                                            const OpMask       *mask,
                                            const OpFillParams *params,
                                            OpFillProgressFunc  progress,
                                            gpointer            progress_data,
                                            GCancellable       *cancellable,
                                            GArray            **matches,
                                            GError            **error);

/* op-fill-engine.c */
OpFillEngine *_op_fill_engine_new          (const OpFillParams *params,
                                            OpFillProgressFunc  progress,
                                            gpointer            progress_data,
                                            GCancellable       *cancellable);
void          _op_fill_engine_free         (OpFillEngine       *engine);
/* Fills the hole of @region (picture coordinates) in @pixels in place.  @source is in
 * region coordinates; @matches (may be NULL) receives the finest field. */
gboolean      _op_fill_engine_fill         (OpFillEngine       *engine,
                                            guint8             *pixels,
                                            int                 stride,
                                            const guint8       *mask,
                                            int                 mask_stride,
                                            const OpRect       *region,
                                            const OpRect       *source,
                                            GArray             *matches,
                                            GError            **error);
gboolean      _op_fill_engine_run_stripes  (OpFillEngine       *engine,
                                            OpFillLevel        *level,
                                            int                 parity,
                                            guint64             salt,
                                            OpFillStripeFunc    func,
                                            gpointer            data);
gboolean      _op_fill_engine_is_cancelled (OpFillEngine       *engine);
void          _op_fill_engine_tick         (OpFillEngine       *engine);
void          _op_fill_engine_heartbeat    (OpFillEngine       *engine);
void          _op_fill_engine_account      (OpFillEngine       *engine,
                                            gsize               transient);

/* op-fill-level.c */
gboolean _op_fill_level_init_base       (OpFillLevel       *level,
                                         guint8            *color,
                                         int                color_stride,
                                         int                width,
                                         int                height,
                                         const guint8      *mask,
                                         int                mask_stride,
                                         const OpRect      *source,
                                         GCancellable      *cancellable);
gboolean _op_fill_level_downsample      (const OpFillLevel *fine,
                                         OpFillLevel       *coarse,
                                         GCancellable      *cancellable);
gboolean _op_fill_level_analyse         (OpFillLevel       *level,
                                         int                radius,
                                         OpFillEngine      *engine);
void     _op_fill_level_alloc_features  (OpFillLevel       *level);
void     _op_fill_level_features        (OpFillLevel       *level,
                                         int                y0,
                                         int                y1,
                                         gboolean           holes_only);
int      _op_fill_level_texture_radius  (void);
void     _op_fill_level_texture_rows    (OpFillLevel       *level,
                                         guint16           *hsum,
                                         guint8            *hcount,
                                         int                base,
                                         int                y0,
                                         int                y1);
void     _op_fill_level_texture_columns (OpFillLevel       *level,
                                         const guint16     *hsum,
                                         const guint8      *hcount,
                                         int                base,
                                         int                y0,
                                         int                y1);
void     _op_fill_level_mark_done       (OpFillLevel       *level,
                                         int                layer);
void     _op_fill_level_clear_done      (OpFillLevel       *level);
void     _op_fill_level_peel            (OpFillLevel       *level);
void     _op_fill_level_clear           (OpFillLevel       *level);

/* op-fill-nnf.c */
gboolean _op_fill_nnf_init_random       (OpFillEngine      *engine,
                                         OpFillLevel       *level,
                                         guint64            salt);
gboolean _op_fill_nnf_upsample          (OpFillEngine      *engine,
                                         const OpFillLevel *coarse,
                                         OpFillLevel       *fine,
                                         guint64            salt);
gboolean _op_fill_nnf_search            (OpFillEngine      *engine,
                                         OpFillLevel       *level,
                                         int                pass,
                                         guint64            salt);
gboolean _op_fill_nnf_search_layer      (OpFillEngine      *engine,
                                         OpFillLevel       *level,
                                         int                layer,
                                         int                pass,
                                         guint64            salt);
gboolean _op_fill_nnf_layer_weights     (OpFillEngine      *engine,
                                         OpFillLevel       *level,
                                         int                layer);

/* op-fill-vote.c */
gboolean _op_fill_vote                  (OpFillEngine      *engine,
                                         OpFillLevel       *level);
gboolean _op_fill_vote_layer            (OpFillEngine      *engine,
                                         OpFillLevel       *level,
                                         int                layer);

/* op-fill-blend.c */
gboolean _op_fill_blend_border          (OpFillEngine      *engine,
                                         OpFillLevel       *level);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpFillEngine, _op_fill_engine_free)

G_END_DECLS
