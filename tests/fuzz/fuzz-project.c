/* fuzz-project.c — the .ora project reader: whatever a user opens as a project goes
 * through op_project_decode (libzip, stack.xml, project.json, every PNG), and a project
 * it accepts becomes a document and is saved and read back the same.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Input: a zip file. */

#include "config.h"

#include "fuzz-common.h"
#include "op-project.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(OpProject) project = NULL;
  g_autoptr(OpDocument) doc = NULL;
  g_autoptr(OpProjectSnapshot) snapshot = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(OpProject) back = NULL;

  project = op_project_decode (bytes, &error);
  g_assert ((project == NULL) == (error != NULL));
  if (project == NULL)
    return 0;

  /* accepted: it must make a document, save, and read back */
  doc = op_document_new ();
  op_project_apply (project, doc, NULL);
  g_assert (op_document_get_image (doc) != NULL);

  snapshot = op_project_snapshot_new (doc, op_project_get_sidebar (project));
  again = op_project_snapshot_encode (snapshot, NULL, &error);
  g_assert_no_error (error);
  back = op_project_decode (again, &error);
  g_assert_no_error (error);
  g_assert (op_image_equal (op_version_get_composite (op_project_get_current (back)),
                            op_document_get_image (doc)));
  return 0;
}
