/* op-window.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "op-canvas.h"
#include "op-document.h"

G_BEGIN_DECLS

#define OP_TYPE_WINDOW (op_window_get_type ())

G_DECLARE_FINAL_TYPE (OpWindow, op_window, OP, WINDOW, AdwApplicationWindow)

OpWindow   *op_window_new          (AdwApplication *application,
                                    GSettings      *settings);
OpDocument *op_window_get_document (OpWindow       *self);
OpCanvas   *op_window_get_canvas   (OpWindow       *self);
void        op_window_open_file    (OpWindow       *self,
                                    GFile          *file);
void        op_window_export_file  (OpWindow       *self,
                                    GFile          *file);
void        op_window_export_variants (OpWindow       *self,
                                       GFile          *folder);
void        op_window_show_error   (OpWindow       *self,
                                    const char     *message);

/* Saves the document as a project (.ora); @file NULL: its own project, or ask. */
void        op_window_save_async   (OpWindow           *self,
                                    GFile              *file,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data);
gboolean    op_window_save_finish  (OpWindow           *self,
                                    GAsyncResult       *result,
                                    GError            **error);
guint       op_window_offer_recovery (OpWindow         *self);

G_END_DECLS
