/* op-preferences-window.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define OP_TYPE_PREFERENCES_WINDOW (op_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (OpPreferencesWindow, op_preferences_window, OP, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWindow *op_preferences_window_new (GtkWindow *parent,
                                      GSettings *settings);

G_END_DECLS
