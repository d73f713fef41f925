#!/usr/bin/env bash
# run.sh — set up everything on a fresh Debian bookworm machine, build, and open Overpaint
# on a sample photo.  Extra arguments are passed to the editor (e.g. a picture to open).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

./build-aux/deps.sh
[ -f _build/build.ninja ] || meson setup _build
ninja -C _build

# Run from the build tree: compiled schema, icons and translations without installing.
export GSETTINGS_SCHEMA_DIR="$root/_build/data"
export XDG_DATA_DIRS="$root/data:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
export OVERPAINT_LOCALEDIR="$root/_build/po"

if [ $# -eq 0 ]; then
  set -- "$root/data/samples/coffee.png"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run.sh: no display; starting Overpaint under xvfb-run" >&2
  exec xvfb-run -a -s '-screen 0 1600x1000x24' "$root/_build/src/overpaint" "$@"
fi

exec "$root/_build/src/overpaint" "$@"
