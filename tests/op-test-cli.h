/* op-test-cli.h — overpaint-cli run from a test, against a mock of a service.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "op-request.h"

G_BEGIN_DECLS

/* The key the tests hand the command line (and the window): it must never show up in
 * what either prints, logs, stores or exports. */
#define OP_TEST_PLANTED_KEY "sk-test-PLANTED-0123456789abcdef"

/* A temporary folder with a picture (chelsea.png, 451 × 300) and a mask of it, white
 * in @hole; the command line runs in a clean environment of its own: no D-Bus session
 * (so no keyring: keys come from the environment), no proxy, a throwaway HOME. */
typedef struct
{
  char     *dir;
  char     *picture;     /* dir/picture.png */
  char     *mask;        /* dir/mask.png */
  OpImage  *source;
  OpRect    hole;
  GStrv     env;
} OpTestCli;

/* What one run of overpaint-cli did. */
typedef struct
{
  int       status;      /* the exit status */
  char     *out;
  char     *err;
} OpTestCliRun;

/* NULL, with the test skipped, when OVERPAINT_CLI does not name the program. */
OpTestCli    *op_test_cli_new              (const OpRect  *hole);
void          op_test_cli_free             (OpTestCli     *self);
void          op_test_cli_setenv           (OpTestCli     *self,
                                            const char    *name,
                                            const char    *value);
char         *op_test_cli_path             (OpTestCli     *self,
                                            const char    *name);
/* Runs overpaint-cli with the arguments, NULL-terminated, and fails the test if the
 * planted key shows in what it printed. */
OpTestCliRun *op_test_cli_run              (OpTestCli     *self,
                                            const char    *first_arg,
                                            ...) G_GNUC_NULL_TERMINATED;
void          op_test_cli_run_free         (OpTestCliRun  *run);
/* Exit 1, and the reason on stderr says each of the words (case aside), reads as a
 * sentence rather than a web page, and names no secret. */
void          op_test_cli_assert_failed    (OpTestCliRun  *run,
                                            const char    *first_word,
                                            ...) G_GNUC_NULL_TERMINATED;
/* @path has the picture's size, every pixel outside the hole as it was and some inside
 * changed, and the "parameters" text chunk of the web UI's PNG Info. */
void          op_test_cli_assert_inpainted (OpTestCli     *self,
                                            const char    *path);
/* Two variants: they differ in the middle of the hole. */
void          op_test_cli_assert_differ    (OpTestCli     *self,
                                            const char    *path_a,
                                            const char    *path_b);
/* @path is the picture with the margins added, the picture itself unchanged away from
 * the seams. */
void          op_test_cli_assert_outpainted (OpTestCli       *self,
                                             const char      *path,
                                             const OpMargins *margins);
/* "http://127.0.0.1:PORT" where nothing listens. */
char         *op_test_cli_dead_url         (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpTestCli, op_test_cli_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OpTestCliRun, op_test_cli_run_free)

G_END_DECLS
