/* op-application.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define OP_TYPE_APPLICATION (op_application_get_type ())

G_DECLARE_FINAL_TYPE (OpApplication, op_application, OP, APPLICATION, AdwApplication)

OpApplication *op_application_new (void);

G_END_DECLS
