/* op-test-files.h — places a write must fail in, for the tests of atomic replacing.
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The suite usually runs as root, for whom a folder without write permission is still
 * writable.  An immutable file (chattr +i) cannot be replaced even by root, so it stands
 * in for a file in a read-only place: a save over it must fail, say so, and leave it. */

#pragma once

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

G_BEGIN_DECLS

static inline gboolean
op_test_set_immutable (const char *path,
                       gboolean    immutable)
{
  int fd = open (path, O_RDONLY);
  int flags = 0;
  gboolean ok;

  if (fd < 0)
    return FALSE;

  ok = ioctl (fd, FS_IOC_GETFLAGS, &flags) == 0;
  if (ok)
    {
      flags = immutable ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
      ok = ioctl (fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
  close (fd);

  return ok;
}

/* Makes @path immutable, or says why it can't (the file system or the missing
 * CAP_LINUX_IMMUTABLE) and returns FALSE: the caller skips that part. */
static inline gboolean
op_test_make_immutable (const char *path)
{
  if (op_test_set_immutable (path, TRUE))
    return TRUE;

  g_test_message ("cannot make %s immutable (%s): skipped that part", path, g_strerror (errno));
  return FALSE;
}

static inline int
op_test_compare_names (gconstpointer a,
                       gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The names in @dir, sorted, joined by spaces: what a failed save left behind. */
static inline char *
op_test_list_dir (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, op_test_compare_names);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (" ", (char **) names->pdata);
}

G_END_DECLS
