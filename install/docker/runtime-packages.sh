#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries BINARY loads, one per line, so
# the runtime image installs exactly those (the build image's -dev packages stay behind).
# Usage: install/docker/runtime-packages.sh BINARY...
set -euo pipefail
for binary in "$@"; do
  ldd "$binary" | awk '$3 ~ /^\// { print $3 }' | while read -r lib; do
    # Debian 12 is usr-merged: dpkg may know the file under /lib or /usr/lib, or by its target.
    dpkg -S "$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
      { echo "runtime-packages: no package provides $lib" >&2; exit 1; }
  done
done | cut -d: -f1 | sort -u
