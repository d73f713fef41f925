/* op-request.h
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

#define OP_REQUEST_ERROR (op_request_error_quark ())

typedef enum
{
  OP_REQUEST_ERROR_NOTHING_TO_DO,  /* no mask painted and no border extended */
  OP_REQUEST_ERROR_INVALID,        /* a parameter out of range, sizes that disagree */
  OP_REQUEST_ERROR_TOO_LARGE,      /* the extended picture would exceed the limits */
} OpRequestError;

typedef enum
{
  OP_CONTEXT_WHOLE,    /* the backend sees the whole (extended) picture */
  OP_CONTEXT_MASKED,   /* the backend sees the mask's bounding box plus padding */
} OpContextMode;

/* How far the canvas is extended on each side, in picture pixels (outpainting). */
typedef struct
{
  int left;
  int right;
  int top;
  int bottom;
} OpMargins;

#define OP_VARIANTS_MAX 8

/* Everything the user chose for a generation.  Plain data, copied by value into a
 * request, so nothing the user changes afterwards reaches a running job. */
typedef struct
{
  char          *backend;          /* "local", "automatic1111", … */
  char          *model;            /* NULL: the backend's default */
  char          *sampler;          /* NULL: the backend's default */
  char          *scheduler;        /* NULL: the backend's default (noise schedule) */
  char          *prompt;
  char          *negative_prompt;
  gint64         seed;             /* < 0: a random seed per job */
  int            n_variants;       /* 1 … OP_VARIANTS_MAX */
  int            steps;            /* 1 … 150 */
  double         cfg;              /* 1 … 30 */
  double         strength;         /* denoising strength 0 … 1 */
  int            mask_grow;        /* px, may be negative */
  int            mask_feather;     /* px, >= 0 */
  OpContextMode  context;
  int            padding;          /* px around the mask in OP_CONTEXT_MASKED */
  gboolean       color_match;      /* match the result's colours to the surroundings */
} OpParams;

#define OP_TYPE_PARAMS (op_params_get_type ())
GType     op_params_get_type (void) G_GNUC_CONST;
OpParams *op_params_new      (void);   /* the defaults */
OpParams *op_params_copy     (const OpParams *self);
void      op_params_free     (OpParams       *self);
gboolean  op_params_validate (const OpParams *self,
                              GError        **error);
gboolean  op_params_equal    (const OpParams *a,
                              const OpParams *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpParams, op_params_free)

/* A backend's size rules: what picture sizes it accepts. */
typedef struct
{
  int width;
  int height;
} OpSize;

typedef struct
{
  int           multiple;     /* width and height multiples of this (1, 8, 64) */
  gint64        max_pixels;   /* 0: no limit */
  gint64        min_pixels;   /* 0: no limit */
  int           max_side;     /* 0: no limit */
  const OpSize *sizes;        /* if set, only these exact sizes … */
  guint         n_sizes;      /* … this many of them */
} OpSizeRule;

/* Picks the size the backend receives for a context rectangle.  With a list of sizes,
 * @context may grow (within @bounds) to the chosen size's aspect ratio so nothing is
 * distorted.  FALSE with @error when no size fits. */
gboolean  op_size_rule_fit   (const OpSizeRule *rule,
                              const OpRect     *bounds,
                              OpRect           *context,
                              OpSize           *size,
                              GError          **error);

#define OP_TYPE_REQUEST (op_request_get_type ())

/* An immutable snapshot of everything a job needs: the picture it was asked from, the
 * mask, the margins and the parameters. */
typedef struct _OpRequest OpRequest;

GQuark           op_request_error_quark   (void);
GType            op_request_get_type      (void) G_GNUC_CONST;

OpRequest       *op_request_new           (OpImage         *source,
                                           const OpMask    *mask,
                                           const OpMargins *margins,
                                           const OpParams  *params,
                                           GError         **error);
OpRequest       *op_request_ref           (OpRequest       *self);
void             op_request_unref         (OpRequest       *self);

OpImage         *op_request_get_source    (OpRequest       *self);
const OpMask    *op_request_get_mask      (OpRequest       *self);
const OpMargins *op_request_get_margins   (OpRequest       *self);
const OpParams  *op_request_get_params    (OpRequest       *self);
/* The size of the extended picture: source plus margins. */
void             op_request_get_canvas_size (OpRequest     *self,
                                           int             *width,
                                           int             *height);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpRequest, op_request_unref)

/* What a backend receives once a request is prepared for its size rule, and what turns
 * its answers into patches.  Built off the main thread: it grows, feathers and scales. */
typedef struct _OpPrepared OpPrepared;

/* Pixels of the original picture the request's mask covers on the extended edges, so
 * the seam between old and new is regenerated and blended. */
#define OP_OUTPAINT_OVERLAP 16

OpPrepared      *op_prepared_new          (OpRequest        *request,
                                           const OpSizeRule *rule,
                                           GCancellable     *cancellable,
                                           GError          **error);
void             op_prepared_free         (OpPrepared       *self);

/* The request it was prepared from (margins, source, parameters). */
OpRequest       *op_prepared_get_request  (OpPrepared       *self);

/* The extended picture (margins transparent), canvas sized. */
OpImage         *op_prepared_get_canvas   (OpPrepared       *self);
/* The context rectangle, in canvas pixels: what the backend sees. */
void             op_prepared_get_context  (OpPrepared       *self,
                                           OpRect           *context);
/* The feathered blend mask over the context rectangle (context sized): 0 keeps the
 * parent bit for bit. */
const OpMask    *op_prepared_get_blend    (OpPrepared       *self);
/* The backend's input: the context crop scaled to the fitted size, and its mask
 * (255 = regenerate, 0 = keep; binary). */
OpImage         *op_prepared_get_input    (OpPrepared       *self);
const OpMask    *op_prepared_get_input_mask (OpPrepared     *self);
void             op_prepared_get_input_size (OpPrepared     *self,
                                           OpSize           *size);

/* A backend answer (input sized, or any size: it is scaled to the context) made into a
 * patch over the context rectangle, colour matched when the request asks for it. */
OpImage         *op_prepared_make_patch   (OpPrepared       *self,
                                           OpImage          *result,
                                           GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpPrepared, op_prepared_free)

/* Compositing.  The parent is placed at (margins->left, margins->top) on a canvas of
 * the given size (transparent elsewhere); the patch is blended in over @rect through
 * @blend (rect sized).  Wherever blend is 0 the result equals the placed parent bit for
 * bit. */
OpImage         *op_composite             (OpImage          *parent,
                                           const OpMargins  *margins,
                                           OpImage          *patch,
                                           const OpRect     *rect,
                                           const OpMask     *blend);

/* Recomputes @out (a composite made by op_composite with the same arguments) over
 * @region only, in place: after the blend mask changed there. */
void             op_composite_region      (OpImage          *out,
                                           OpImage          *parent,
                                           const OpMargins  *margins,
                                           OpImage          *patch,
                                           const OpRect     *rect,
                                           const OpMask     *blend,
                                           const OpRect     *region);

/* Resampling: area average when shrinking, bilinear when enlarging. */
OpImage         *op_image_scale           (const OpImage    *self,
                                           const OpRect     *src_rect,
                                           int               width,
                                           int               height);
OpMask          *op_mask_scale            (const OpMask     *self,
                                           const OpRect     *src_rect,
                                           int               width,
                                           int               height);

G_END_DECLS
