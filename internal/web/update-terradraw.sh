#!/usr/bin/env bash
# Refreshes the terra-draw drawing library and its MapLibre adapter that
# the web map's editing mode uses (internal/web/static/vendor/terra-draw)
# from the npm packages at pinned versions, so that editing works offline.
# Usage: internal/web/update-terradraw.sh [TERRA_DRAW_VERSION [ADAPTER_VERSION]]
#
# Takes the ES-module builds (dist/*.modern.js). The adapter imports the
# bare specifier "terra-draw", which a browser cannot resolve without a
# bundler or an import map: it is rewritten to the relative file
# "./terra-draw.mjs". The sourceMappingURL comments are removed (no source
# maps are shipped). Neither package ships a licence file; both declare
# "license": "MIT" in package.json (author James Milner), so LICENSE.txt
# is the MIT text with that holder. Needs npm (no node_modules written).
set -euo pipefail
version="${1:-1.35.0}"
adapter="${2:-1.4.1}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/static/vendor/terra-draw"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "terra-draw@$version" "terra-draw-maplibre-gl-adapter@$adapter" >/dev/null)
mkdir -p "$tmp/td" "$tmp/ad"
tar xzf "$tmp/terra-draw-$version.tgz" -C "$tmp/td"
tar xzf "$tmp/terra-draw-maplibre-gl-adapter-$adapter.tgz" -C "$tmp/ad"
for p in "td:$version" "ad:$adapter"; do
  got="$(node -p "require('$tmp/${p%%:*}/package/package.json').version")"
  [ "$got" = "${p#*:}" ] || { echo "update-terradraw: npm gave $got, wanted ${p#*:}" >&2; exit 1; }
  lic="$(node -p "require('$tmp/${p%%:*}/package/package.json').license")"
  [ "$lic" = "MIT" ] || { echo "update-terradraw: licence is now $lic, not MIT: review it" >&2; exit 1; }
done
mkdir -p "$dest"
rm -f "$dest"/*
sed '/^\/\/# sourceMappingURL=/d' "$tmp/td/package/dist/terra-draw.modern.js" >"$dest/terra-draw.mjs"
sed -e '/^\/\/# sourceMappingURL=/d' -e 's#from"terra-draw"#from"./terra-draw.mjs"#g' \
  "$tmp/ad/package/dist/terra-draw-maplibre-gl-adapter.modern.js" >"$dest/terra-draw-maplibre-gl-adapter.mjs"
if grep -q 'from"terra-draw"' "$dest/terra-draw-maplibre-gl-adapter.mjs"; then
  echo "update-terradraw: the adapter still imports the bare name terra-draw" >&2; exit 1
fi
cat >"$dest/LICENSE.txt" <<'LIC'
terra-draw and terra-draw-maplibre-gl-adapter (https://github.com/JamesLMilner/terra-draw)
are published under the MIT License (package.json "license": "MIT"):

MIT License

Copyright (c) James Milner and the terra-draw contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LIC
printf 'terra-draw %s, terra-draw-maplibre-gl-adapter %s (npm), licence MIT: see LICENSE.txt\n' "$version" "$adapter" >"$dest/VERSION"
echo "update-terradraw: terra-draw $version + adapter $adapter in $dest" >&2
ls -l "$dest" >&2
