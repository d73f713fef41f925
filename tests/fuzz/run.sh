#!/bin/bash
# tests/fuzz/run.sh — build Overpaint's libFuzzer targets and run each for a bounded time.
#
# Usage (from anywhere in the tree):
#   tests/fuzz/run.sh                      every target, FUZZ_SECONDS (60) each
#   tests/fuzz/run.sh image http           only those targets
#   FUZZ_SECONDS=600 tests/fuzz/run.sh     longer runs
#   tests/fuzz/run.sh --merge [TARGET…]    afterwards, merge what was found into the repo
#                                          corpus (libFuzzer -merge=1: only inputs that add
#                                          coverage are kept)
#   tests/fuzz/run.sh --list               the targets
#   tests/fuzz/run.sh TARGET -- -only_ascii=1   extra libFuzzer flags after "--"
#
# Targets: tests/fuzz/fuzz-NAME.c (the list is fuzz_targets in tests/fuzz/meson.build);
# seeds: tests/fuzz/corpus/NAME/; dictionary: tests/fuzz/NAME.dict (optional).
#
# The build dir (FUZZ_BUILD_DIR, default _build-fuzz) is set up when missing, with clang
# (CC, default clang-14), -Dfuzzing=true and the libraries instrumented
# (-fsanitize=fuzzer-no-link,address,undefined); only the fuzz targets are built.  Each run
# reads the repo corpus but writes new inputs to a temporary folder (kept with
# FUZZ_KEEP_TMP=1), so the repo changes only with --merge.  Crashes, leaks, timeouts
# (-timeout=10) and running out of memory (-rss_limit_mb=2048, one malloc over 1 GiB) go to
# FUZZ_BUILD_DIR/artifacts/NAME-*, and their paths printed.
#
# Prints, per target: executions, executions per second, the corpus libFuzzer ended with
# (files/bytes), the new inputs found, the time.  Exits 1 when any target failed.
#
# Reproduce a crash:  _build-fuzz/tests/fuzz/fuzz-NAME PATH-TO-CRASH-FILE

set -u -o pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${FUZZ_BUILD_DIR:-_build-fuzz}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
seconds="${FUZZ_SECONDS:-60}"
cc="${CC:-clang-14}"

# -max_len per target: pictures in base64 make the backends' answers the longest.
declare -A max_len=(
  [image]=65536
  [http]=65536
  [automatic1111]=65536
  [stability]=65536
  [openai]=65536
  [ollama]=16384
)
default_max_len=65536

all_targets() {
  # the fuzz_targets dictionary in meson.build, without the commented-out entries
  sed -n "/^fuzz_targets = {/,/^}/p" "$here/meson.build" |
    sed -n "s/^  '\([a-z0-9_-]*\)':.*/\1/p"
}

merge=0
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --merge) merge=1 ;;
    --list) all_targets; exit 0 ;;
    -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done

known="$(all_targets)"
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets <<< "$known"
fi
for t in "${targets[@]}"; do
  if ! grep -qx "$t" <<< "$known"; then
    echo "run.sh: no fuzz target '$t'; there are: $(echo $known)" >&2
    exit 2
  fi
done

if [ ! -f "$build/build.ninja" ]; then
  echo "== setting up $build"
  CC="$cc" meson setup "$build" "$root" \
    -Dfuzzing=true -Db_lundef=false -Db_sanitize=none -Dbuildtype=debugoptimized \
    -Dc_args=-fsanitize=fuzzer-no-link,address,undefined \
    -Dc_link_args=-fsanitize=address,undefined || exit 1
fi

echo "== building ${targets[*]}"
meson compile -C "$build" "${targets[@]/#/fuzz-}" || exit 1

artifacts="$build/artifacts"
mkdir -p "$artifacts"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/overpaint-fuzz.XXXXXX")"
if [ "${FUZZ_KEEP_TMP:-0}" = 1 ]; then
  echo "== new inputs are kept in $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi

# A leak is a failure; GLib's own allocator would hide use-after-free from ASan.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
if [ -f "$here/lsan.supp" ]; then
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}"
fi
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export GIO_USE_VFS=local
unset G_MESSAGES_DEBUG

summary=()
failed=0
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz-$t"
  corpus="$here/corpus/$t"
  new="$tmp/$t"
  log="$tmp/$t.log"
  mkdir -p "$corpus" "$new"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10
        -max_len="${max_len[$t]:-$default_max_len}" -print_final_stats=1
        -artifact_prefix="$artifacts/$t-")
  [ -f "$here/$t.dict" ] && args+=(-dict="$here/$t.dict")

  echo "== fuzz-$t for ${seconds} s"
  start=$(date +%s)
  # new inputs go to the first folder; the repo's corpus is only read
  "$exe" "${args[@]}" "${extra[@]}" "$new" "$corpus" > "$log" 2>&1
  status=$?
  elapsed=$(( $(date +%s) - start ))

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | sed 's/corp: //')
  found=$(find "$new" -type f | wc -l)
  line="$(printf '%-14s %10s runs %7s exec/s  corpus %-10s +%s new  %4ss' \
          "$t" "${runs:-?}" "${speed:-?}" "${corp:-?}" "$found" "$elapsed")"

  if [ $status -ne 0 ]; then
    failed=1
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|ERROR: libFuzzer|GLib.*(CRITICAL|WARNING|ERROR)|\*\*' "$log" | head -20
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    cp "$log" "$artifacts/$t.log"
    echo "!! fuzz-$t failed (exit $status): ${crash:-no test unit written}; log: $artifacts/$t.log"
    line="$line  FAILED ${crash:-exit $status}"
  fi
  echo "$line"
  summary+=("$line")

  if [ $merge = 1 ] && [ "$found" -gt 0 ]; then
    before=$(find "$corpus" -type f | wc -l)
    if "$exe" -merge=1 -rss_limit_mb=2048 -timeout=10 \
         -max_len="${max_len[$t]:-$default_max_len}" -artifact_prefix="$artifacts/$t-" \
         "$corpus" "$new" > "$tmp/$t.merge.log" 2>&1; then
      echo "   merged into corpus/$t: $before → $(find "$corpus" -type f | wc -l) files"
    else
      failed=1
      cp "$tmp/$t.merge.log" "$artifacts/$t.merge.log"
      echo "!! merging fuzz-$t failed; log: $artifacts/$t.merge.log"
    fi
  fi
done

echo
echo "== summary (corpus: what libFuzzer held at the end, files/bytes)"
printf '%s\n' "${summary[@]}"
for t in "${targets[@]}"; do
  printf '   corpus/%-14s %4d files %8d bytes\n' "$t" \
    "$(find "$here/corpus/$t" -type f | wc -l)" \
    "$(find "$here/corpus/$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
done
exit $failed
