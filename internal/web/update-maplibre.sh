#!/usr/bin/env bash
# Refreshes the MapLibre GL JS build that the binary embeds
# (internal/web/static/vendor/maplibre-gl) from the npm package at the
# pinned version. Usage: internal/web/update-maplibre.sh [VERSION]
#
# Takes from the package: the ES-module build (maplibre-gl.mjs), its worker
# (maplibre-gl-worker.mjs, loaded by the library from the same folder),
# the stylesheet and the licence. The sourceMappingURL comments are removed
# because the source maps are not shipped. Needs npm (no node_modules are
# written: the package tarball is unpacked in a temporary folder).
set -euo pipefail
version="${1:-6.17.0}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/static/vendor/maplibre-gl"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "maplibre-gl@$version" >/dev/null && tar xzf "maplibre-gl-$version.tgz")
pkg="$tmp/package"
got="$(node -p "require('$pkg/package.json').version")"
[ "$got" = "$version" ] || { echo "update-maplibre: npm gave $got, wanted $version" >&2; exit 1; }
mkdir -p "$dest"
rm -f "$dest"/*
for f in maplibre-gl.mjs maplibre-gl-worker.mjs; do
  sed '/^\/\/# sourceMappingURL=/d' "$pkg/dist/$f" >"$dest/$f"
done
cp "$pkg/dist/maplibre-gl.css" "$dest/maplibre-gl.css"
cp "$pkg/LICENSE.txt" "$dest/LICENSE.txt"
printf 'maplibre-gl %s (npm), licence BSD-3-Clause: see LICENSE.txt\n' "$version" >"$dest/VERSION"
echo "update-maplibre: maplibre-gl $version in $dest" >&2
ls -l "$dest" >&2
