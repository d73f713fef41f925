#!/usr/bin/env bash
# test-krita.sh — a project saved by Overpaint opens in Krita, which renders exactly the
# current picture: test-project writes the project and the expected picture, Krita
# exports what it sees (`krita project.ora --export`), ImageMagick counts the pixels
# that differ.  Krita comes from build-aux/deps.sh; the suite runs under Xvfb.
#   test-krita.sh TEST-PROJECT
set -euo pipefail

test_project="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

OVERPAINT_ORA_OUT="$dir" "$test_project" -p /project/write-for-others > "$dir/test.log"

# Krita keeps its settings in HOME: a throwaway one, so nothing of the user's is touched.
HOME="$dir/home" QT_QPA_PLATFORM=xcb krita "$dir/project.ora" --export \
  --export-filename "$dir/out.png" > "$dir/krita.log" 2>&1 || true

if [ ! -s "$dir/out.png" ]; then
  echo "Krita exported nothing; its log:" >&2
  cat "$dir/krita.log" >&2
  exit 1
fi

echo "Krita: $(identify -format '%w×%h' "$dir/out.png"), Overpaint: $(identify -format '%w×%h' "$dir/expected.png")"
differ="$(compare -metric AE "$dir/out.png" "$dir/expected.png" "$dir/diff.png" 2>&1 || true)"
echo "pixels that differ: $differ"
[ "$differ" = "0" ]
