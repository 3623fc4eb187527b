#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests and the ui benchmark,
# which drive it through playwright-core (which never downloads a browser
# of its own). Pinned; a machine whose mirror no longer serves that exact
# build (Debian security updates replace it) gets the mirror's current
# build, with a warning, rather than no browser at all. Prints the path.
set -euo pipefail

pinned="156.0.8078.108-1~deb12u1"
binary=/usr/bin/chromium

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "install-chromium: $binary is missing and installing it needs root: run 'apt-get install chromium=$pinned' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: installing Debian's chromium $pinned (once per machine)" >&2
if ! apt-get install -y -q --no-install-recommends "chromium=$pinned" >&2; then
  echo "install-chromium: chromium $pinned is not offered here; refreshing the package lists" >&2
  apt-get update -q >&2 || true
  if ! apt-get install -y -q --no-install-recommends "chromium=$pinned" >&2; then
    echo "install-chromium: WARNING: installing the mirror's current chromium instead of $pinned" >&2
    apt-get install -y -q --no-install-recommends chromium >&2
  fi
fi
"$binary" --version >&2
echo "$binary"
