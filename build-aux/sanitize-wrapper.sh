#!/usr/bin/env bash
# sanitize-wrapper.sh — `meson test --wrapper` for ./build-aux/test.sh --sanitize: runs one
# test program, with LeakSanitizer off for a program that links GTK (GTK, fontconfig and
# the GLib type system keep allocations until exit by design, so every such program
# "leaks"), and so without the slow whole-stack unwinding that only leak suppressions
# need.  Everything else keeps ASAN_OPTIONS as test.sh set it.
set -euo pipefail

if readelf -d "$1" 2>/dev/null | grep -q 'NEEDED.*libgtk-4'; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:fast_unwind_on_malloc=1"
fi

exec "$@"
