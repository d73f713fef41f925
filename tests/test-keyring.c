/* test-keyring.c — keys in a real keyring (gnome-keyring, started by test.sh)
 *
 * Copyright 2026 The Overpaint developers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "op-keyring.h"

#define PLANTED "sk-test-PLANTED-KEY-0123456789abcdef"

static void
on_ready_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
have_keyring (void)
{
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("no D-Bus session: run the suite through build-aux/test.sh");
      return FALSE;
    }
  return TRUE;
}

static void
test_store_lookup_clear (void)
{
  g_autoptr(GAsyncResult) stored = NULL, found = NULL, cleared = NULL, gone = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *after = NULL;

  if (!have_keyring ())
    return;

  op_keyring_store_async ("stability", PLANTED, NULL, on_ready_cb, &stored);
  g_assert_true (op_keyring_store_finish (wait_for (&stored), &error));
  g_assert_no_error (error);

  op_keyring_lookup_async ("stability", NULL, on_ready_cb, &found);
  secret = op_keyring_lookup_finish (wait_for (&found), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, PLANTED);

  /* the blocking lookup of the command line finds it too, before the environment */
  g_setenv ("STABILITY_API_KEY", "from-the-environment", TRUE);
  g_free (secret);
  secret = op_keyring_lookup_sync ("stability");
  g_assert_cmpstr (secret, ==, PLANTED);

  op_keyring_clear_async ("stability", NULL, on_ready_cb, &cleared);
  g_assert_true (op_keyring_clear_finish (wait_for (&cleared), &error));
  op_keyring_lookup_async ("stability", NULL, on_ready_cb, &gone);
  after = op_keyring_lookup_finish (wait_for (&gone), &error);
  g_assert_no_error (error);
  g_assert_null (after);
}

static void
test_environment_fallback (void)
{
  g_autofree char *stability = NULL;
  g_autofree char *openai = NULL;
  g_autofree char *a1111 = NULL;

  if (!have_keyring ())
    return;

  g_setenv ("STABILITY_API_KEY", "stab-env", TRUE);
  g_setenv ("OPENAI_API_KEY", "", TRUE);
  stability = op_keyring_lookup_sync ("stability");
  openai = op_keyring_lookup_sync ("openai");
  a1111 = op_keyring_lookup_sync ("automatic1111");

  g_assert_cmpstr (stability, ==, "stab-env");
  g_assert_null (openai);   /* an empty variable is no key */
  g_assert_null (a1111);    /* no variable for a self-hosted server */
  g_assert_cmpstr (op_keyring_env_name ("openai"), ==, "OPENAI_API_KEY");
  g_assert_null (op_keyring_env_name ("local"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/keyring/store-lookup-clear", test_store_lookup_clear);
  g_test_add_func ("/keyring/environment", test_environment_fallback);

  return g_test_run ();
}
