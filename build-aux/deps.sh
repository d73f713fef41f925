#!/usr/bin/env bash
# deps.sh — install what Overpaint needs to build, run and test on Debian bookworm.
# Idempotent: installs only the packages that are missing.  Uses sudo only when not root.
#   ./build-aux/deps.sh          build + run + test dependencies
#   ./build-aux/deps.sh --bench  also the benchmark anchors (OpenCV, scikit-image, G'MIC)
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev
  libjson-glib-dev libcurl4-openssl-dev libsecret-1-dev libzip-dev libsoup-3.0-dev
  desktop-file-utils appstream
  xvfb xauth dbus dbus-x11 gnome-keyring
  imagemagick xdotool librsvg2-common webp-pixbuf-loader adwaita-icon-theme
  fonts-cantarell fonts-noto-cjk
  krita   # tests: a saved project must open in Krita
)

if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-opencv python3-skimage python3-numpy gmic hyperfine)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
