#!/usr/bin/env bash
# test-session.sh — runs inside dbus-run-session (see test.sh): starts a real keyring for
# the tests, then the suite.  The keyring lives in the throwaway HOME; a non-empty
# password creates the login collection.
set -euo pipefail

eval "$(echo -n test | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

exec "$@"
