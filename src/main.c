/* main.c
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "op-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(OpApplication) app = NULL;
  const char *localedir = g_getenv ("OVERPAINT_LOCALEDIR");

  /* run.sh starts the editor from the build tree, where the catalogues are not installed */
  if (localedir == NULL || localedir[0] == '\0')
    localedir = LOCALEDIR;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = op_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
