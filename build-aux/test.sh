#!/usr/bin/env bash
# test.sh — set up everything on a fresh Debian bookworm machine, build, and run the whole
# suite (display tests under Xvfb, in their own D-Bus session).  Exits non-zero on failure.
#   ./build-aux/test.sh                 the suite
#   ./build-aux/test.sh --suite NAME    one suite (displayless, display, data)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./build-aux/deps.sh
[ -f _build/build.ninja ] || meson setup _build
ninja -C _build

# A throwaway HOME so tests never read or write the user's settings and files.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export HOME="$home"
export XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share"
export XDG_CACHE_HOME="$home/.cache" XDG_STATE_HOME="$home/.local/state"

xvfb-run -a -s '-screen 0 1600x1000x24' \
  dbus-run-session -- \
  ./build-aux/test-session.sh \
  meson test -C _build --print-errorlogs --num-processes 2 "$@"
