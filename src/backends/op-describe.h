/* op-describe.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "op-request.h"

G_BEGIN_DECLS

/* What a describer is shown of the picture. */
typedef enum
{
  OP_DESCRIBE_WHOLE,    /* the whole picture */
  OP_DESCRIBE_CONTEXT,  /* around the mask, the hole filled so it is not described */
  OP_DESCRIBE_EDGES,    /* for outpainting: a strip along each extended edge */
} OpDescribeRegion;

/* Describers scale pictures down to about this anyway; sending more only costs time. */
#define OP_DESCRIBE_MAX_SIDE 1024

/* What the chat describers (Ollama, OpenAI) are asked. */
#define OP_DESCRIBE_INSTRUCTION \
  "Describe this image as a short prompt for an image generator: one line of " \
  "comma-separated phrases naming the subject, setting, materials, lighting, colours " \
  "and photographic style. Answer with the phrases only, no sentences, no introduction."

/* A caption longer than this is not a prompt. */
#define OP_DESCRIBE_MAX_CAPTION 4000

/* One picture to describe: @image goes to the describer (at most OP_DESCRIBE_MAX_SIDE,
 * the hole filled); @analysed and @exclude (nullable, the hole) feed the local analysis
 * of the same area, at full resolution. */
typedef struct
{
  char    *name;       /* translated: "the picture", "the left edge", … */
  OpImage *image;
  OpImage *analysed;
  OpMask  *exclude;
} OpDescribePart;

void        op_describe_part_free         (OpDescribePart    *part);

const char *op_describe_region_to_string  (OpDescribeRegion   region);
gboolean    op_describe_region_from_string (const char       *text,
                                            OpDescribeRegion *region);

/* The parts for @region of @picture, its brush @mask (nullable) and the canvas
 * @margins (nullable).  CONTEXT without a mask and EDGES without an extended border
 * fail with OP_REQUEST_ERROR_NOTHING_TO_DO.  Slow (the fill): call from a thread. */
GPtrArray  *op_describe_prepare           (const OpImage     *picture,
                                           const OpMask      *mask,
                                           const OpMargins   *margins,
                                           OpDescribeRegion   region,
                                           GCancellable      *cancellable,
                                           GError           **error);

/* The same parts for the local analysis alone (@image NULL): no scaling and no fill,
 * so it is cheap enough for the main loop. */
GPtrArray  *op_describe_prepare_analysis  (const OpImage     *picture,
                                           const OpMask      *mask,
                                           const OpMargins   *margins,
                                           OpDescribeRegion   region,
                                           GError           **error);

/* A describer's answer checked and tidied: trimmed, one line, valid UTF-8, at most
 * OP_DESCRIBE_MAX_CAPTION characters; an empty one is a BAD_ANSWER error naming
 * @service. */
char       *op_describe_take_caption      (const char        *caption,
                                           const char        *service,
                                           GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpDescribePart, op_describe_part_free)

G_END_DECLS
