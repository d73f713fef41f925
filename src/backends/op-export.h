/* op-export.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-version.h"

G_BEGIN_DECLS

/* The IPTC digital source type for a picture edited with generative AI. */
#define OP_EXPORT_DIGITAL_SOURCE_TYPE \
  "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"

char  *op_export_dup_parameters (OpVersion *version);
char  *op_export_dup_xmp        (void);
GStrv  op_export_dup_texts      (OpVersion *version);

G_END_DECLS
