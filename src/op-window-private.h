/* op-window-private.h
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-backend.h"
#include "op-compare-view.h"
#include "op-parameter-sidebar.h"
#include "op-project.h"
#include "op-prompt-suggestions.h"
#include "op-version-strip.h"
#include "op-window.h"
#include "op-worker.h"

G_BEGIN_DECLS

struct _OpWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkStack *view_stack;
  OpCanvas *canvas;
  GtkLabel *zoom_label;
  GtkAdjustment *brush_size_adjustment;
  GtkAdjustment *brush_hardness_adjustment;
  GtkAdjustment *brush_opacity_adjustment;
  GtkSpinButton *grow_spin;
  GtkSpinButton *feather_spin;
  GtkSpinButton *margin_left_spin;
  GtkSpinButton *margin_right_spin;
  GtkSpinButton *margin_top_spin;
  GtkSpinButton *margin_bottom_spin;
  GtkRevealer *strip_revealer;
  GtkBox *strip_box;
  GtkBox *sidebar_box;

  /* Made in code: they need the settings, or are filled later */
  OpParameterSidebar *sidebar;
  OpVersionStrip *strip;
  OpCompareView *compare;
  OpPromptSuggestions *suggestions;

  /* Owned references */
  OpDocument *document;
  GSettings *settings;
  GCancellable *cancellable;
  GtkFileChooserNative *chooser;
  OpWorker *worker;
  OpPromptHistory *history;
  OpRequest *last_request;       /* for "Retry" */
  OpBackend *last_backend;
  OpVersion *last_parent;
  guint last_serial;
  GCancellable *preview_cancellable;

  guint preview_source;
  guint suggestions_source;
  gboolean updating_margins;

  /* op-window-project.c */
  GMenu *recent_section;         /* template */
  AdwMessageDialog *ask_dialog;  /* unsaved changes, or a recovery offer */
  OpProjectCache *save_cache;
  OpProjectCache *recovery_cache;
  char *recovery_id;             /* this window's recovery copy, in the user state dir */
  GQueue recovery_queue;         /* PendingVariants waiting for the copy to be written */
  GPtrArray *recoveries;         /* copies left by a crash, still to offer */
  guint autosave_source;
  gint64 first_unsaved_change;   /* monotonic time; 0: none waiting */
  guint64 changes;               /* ::changed seen, to tell a save what it missed */
  gboolean recovery_running;
  gboolean recovery_again;
  gboolean recovery_warned;
  gboolean saving;
  int save_percent;              /* atomic: written by the saving thread */
  int save_percent_shown;
  guint save_progress_source;
  gboolean close_confirmed;
  gboolean disposed;
};

/* op-window-generate.c: generation, versions, the context preview */
void _op_window_generate_init     (OpWindow *self);
void _op_window_generate_dispose  (OpWindow *self);
void _op_window_update_version_actions (OpWindow *self);

/* op-window-describe.c: the prompt suggestion panel */
void _op_window_describe_init     (OpWindow *self);
void _op_window_describe_dispose  (OpWindow *self);
/* Records a prompt the user generated with in the history, and saves it. */
void _op_window_remember_prompt   (OpWindow   *self,
                                   const char *prompt);
void _op_window_queue_preview     (OpWindow *self);

/* op-window-project.c: Save, Open, recent projects, autosave and recovery */
void     _op_window_project_init       (OpWindow  *self);
void     _op_window_project_dispose    (OpWindow  *self);
void     _op_window_project_finalize   (OpWindow  *self);
gboolean _op_window_project_close_request (OpWindow *self);
void     _op_window_update_title       (OpWindow  *self);
void     _op_window_open_project       (OpWindow  *self,
                                        GFile     *file);
void     _op_window_open_file_confirmed (OpWindow *self,
                                        GFile     *file);
void     _op_window_save_as            (OpWindow  *self,
                                        GTask     *task);
void     _op_window_add_variants_safely (OpWindow *self,
                                        OpVersion *parent,
                                        GPtrArray *versions);
void     _op_window_remember_folder    (OpWindow  *self,
                                        GFile     *file);

void _op_window_set_action_enabled (OpWindow   *self,
                                    const char *name,
                                    gboolean    enabled);
void _op_window_show_message      (OpWindow   *self,
                                   const char *message);

G_END_DECLS
