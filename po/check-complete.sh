#!/bin/sh
# check-complete.sh PO POT — fails unless PO is valid and translates every message of POT.
set -eu
po="$1"
pot="$2"
merged="$(mktemp)"
trap 'rm -f "$merged"' EXIT
# merge against the current template, so a new untranslated string counts as missing
msgmerge --quiet --no-fuzzy-matching -o "$merged" "$po" "$pot"
stats="$(msgfmt --check --statistics -o /dev/null "$merged" 2>&1)"
echo "$(basename "$po"): $stats"
case "$stats" in
  *untranslated*|*fuzzy*) exit 1 ;;
esac
