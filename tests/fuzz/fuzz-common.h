/* fuzz-common.h — what every fuzz target shares: its LLVMFuzzerInitialize, which sets
 * GLib up so that a critical or a warning is a crash the fuzzer keeps, and the mode byte
 * some targets start with.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later */

#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

/* A critical is a broken precondition, a warning what the project's tests treat as fatal
 * too (G_DEBUG=fatal-warnings): both abort () — GLib's own fatal path raises SIGTRAP,
 * which libFuzzer does not catch — so the input is written out.  Debug, info and
 * messages are dropped: they would only slow the fuzzer down. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
      domain = fields[i].value;

  /* GdkPixbuf's own loaders complain of some damaged files (a GIF frame of height 0:
   * tests/fuzz/upstream/); that is their bug, not ours, and must not stop the run. */
  if (g_strcmp0 (domain, "GdkPixbuf") == 0 && !(level & G_LOG_LEVEL_ERROR))
    return G_LOG_WRITER_HANDLED;

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

/* Every target's set-up, defined here: each target is a program of its own and includes
 * this header once, so this is its only definition. */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  return 0;
}

/* The mode byte: a digit is its value, anything else its code; modulo @n_modes. */
static inline guint
fuzz_take_mode (const uint8_t **data,
                size_t         *size,
                guint           n_modes)
{
  guint c;

  if (*size == 0)
    return 0;

  c = (*data)[0];
  (*data)++;
  (*size)--;

  return (g_ascii_isdigit (c) ? c - '0' : c) % n_modes;
}
