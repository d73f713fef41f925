#!/usr/bin/env bash
# test.sh — set up everything on a fresh Debian bookworm machine, build, and run the whole
# suite (display tests under Xvfb, in their own D-Bus session).  Exits non-zero on failure.
#   ./build-aux/test.sh                 the suite
#   ./build-aux/test.sh --suite NAME    one suite (displayless, display, data)
#   ./build-aux/test.sh --sanitize      the same suite built with AddressSanitizer and
#                                       UndefinedBehaviorSanitizer, in _build-sanitize/
# Any other arguments go to `meson test` (a test's name, --suite NAME, --repeat N …), in
# either mode: `./build-aux/test.sh --sanitize --suite displayless`.
#
# Under --sanitize a memory error or undefined behaviour aborts the test that hit it, with
# its report in the log.  LeakSanitizer checks the programs that do not link GTK (the
# displayless tests and overpaint-cli), with build-aux/lsan.supp silencing leaks inside
# third-party libraries only; programs that link GTK run without it, because GTK,
# fontconfig and the GLib type system keep allocations until exit by design.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sanitize=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--sanitize" ]; then
    sanitize=1
  else
    args+=("$arg")
  fi
done

./build-aux/deps.sh

build=_build
meson_test=(meson test --print-errorlogs --num-processes 2)
if [ "$sanitize" -eq 1 ]; then
  build=_build-sanitize
  # -Db_lundef=false: the sanitizer runtimes are linked into the programs, not the
  # libraries, so the shared libraries have undefined __asan_* symbols until then.
  [ -f "$build/build.ninja" ] ||
    meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false
  # UBSan reports are fatal; ASan's always are.  Leak checking is switched per program by
  # sanitize-wrapper.sh (see above).
  export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1"
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_summary=1:detect_leaks=1"
  export ASAN_OPTIONS="$ASAN_OPTIONS:detect_stack_use_after_return=1"
  # Whole allocation stacks (GLib has no frame pointers), or a suppression cannot match.
  export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
  export LSAN_OPTIONS="suppressions=$root/build-aux/lsan.supp:print_suppressions=0"
  # GLib 2.74 hands out small blocks from its own slab allocator; plain malloc lets ASan
  # see every one of them.
  export G_SLICE=always-malloc
  # The sanitizers make the code about 3 times slower: meson's timeouts, and the tests' own
  # deadlines for work they wait for, are 3 times longer.
  export OVERPAINT_TEST_TIMEOUT_MULTIPLIER=3
  meson_test+=(--timeout-multiplier 3 --wrapper "$root/build-aux/sanitize-wrapper.sh")
else
  [ -f "$build/build.ninja" ] || meson setup "$build"
fi
ninja -C "$build"

# A throwaway HOME so tests never read or write the user's settings and files.
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export HOME="$home"
export XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share"
export XDG_CACHE_HOME="$home/.cache" XDG_STATE_HOME="$home/.local/state"

xvfb-run -a -s '-screen 0 1600x1000x24' \
  dbus-run-session -- \
  ./build-aux/test-session.sh \
  "${meson_test[@]}" -C "$build" ${args[@]+"${args[@]}"}
