/* op-backend-preferences.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define OP_TYPE_BACKEND_PREFERENCES (op_backend_preferences_get_type ())

G_DECLARE_FINAL_TYPE (OpBackendPreferences, op_backend_preferences, OP, BACKEND_PREFERENCES,
                      AdwPreferencesGroup)

/* The address, the key (in the keyring) and a connection test of one remote backend. */
GtkWidget *op_backend_preferences_new (const char *backend_id);

G_END_DECLS
