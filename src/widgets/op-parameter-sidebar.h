/* op-parameter-sidebar.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "op-backend.h"
#include "op-prompt-history.h"
#include "op-request.h"

G_BEGIN_DECLS

#define OP_TYPE_PARAMETER_SIDEBAR (op_parameter_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (OpParameterSidebar, op_parameter_sidebar, OP, PARAMETER_SIDEBAR, GtkBox)

/* The schema of the per-backend settings and where each backend's copy lives. */
#define OP_BACKEND_SETTINGS_SCHEMA "io.github.overpaint.Overpaint.Backend"
#define OP_BACKEND_SETTINGS_PATH   "/io/github/overpaint/Overpaint/backends/"

GtkWidget  *op_parameter_sidebar_new          (GSettings          *settings);
GSettings  *op_parameter_sidebar_get_settings (OpParameterSidebar *self);
OpBackend  *op_parameter_sidebar_get_backend  (OpParameterSidebar *self);
OpParams   *op_parameter_sidebar_dup_params   (OpParameterSidebar *self);
void        op_parameter_sidebar_set_params   (OpParameterSidebar *self,
                                               const OpParams     *params);
const char *op_parameter_sidebar_get_prompt   (OpParameterSidebar *self);
/* Adds @phrase to the prompt (or the negative prompt) at the cursor, with the commas
 * that separate it from its neighbours. */
void        op_parameter_sidebar_insert_phrase (OpParameterSidebar *self,
                                               const char         *phrase,
                                               gboolean            negative);
/* What the length indicator under the prompt says, NULL when the backend has no limit. */
const char *op_parameter_sidebar_get_prompt_length (OpParameterSidebar *self);
/* The prompts Alt+Up/Down walk through. */
void        op_parameter_sidebar_set_history  (OpParameterSidebar *self,
                                               OpPromptHistory    *history);
/* Packs @widget (the suggestion panel) below the prompt. */
void        op_parameter_sidebar_add_below_prompt (OpParameterSidebar *self,
                                               GtkWidget          *widget);
void        op_parameter_sidebar_set_prompt   (OpParameterSidebar *self,
                                               const char         *prompt);
void        op_parameter_sidebar_set_progress (OpParameterSidebar *self,
                                               gboolean            running,
                                               double              fraction,
                                               const char         *text);

GSettings  *op_backend_settings_new (const char *backend_id);

G_END_DECLS
