#!/usr/bin/env bash
# Refreshes the Apache ECharts build that the binary embeds
# (internal/web/static/vendor/echarts) from the npm package at the pinned
# version, so that the assessment dashboard (/assessment) draws its charts
# offline. Usage: internal/web/update-echarts.sh [VERSION]
#
# Takes from the package the minified browser build (dist/echarts.min.js,
# which defines window.echarts), its licence and NOTICE. The
# sourceMappingURL comment is removed because the source map is not
# shipped. Needs npm (no node_modules are written: the package tarball is
# unpacked in a temporary folder).
set -euo pipefail
version="${1:-6.1.0}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/static/vendor/echarts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "echarts@$version" >/dev/null && tar xzf "echarts-$version.tgz")
pkg="$tmp/package"
got="$(node -p "require('$pkg/package.json').version")"
[ "$got" = "$version" ] || { echo "update-echarts: npm gave $got, wanted $version" >&2; exit 1; }
mkdir -p "$dest"
rm -f "$dest"/*
sed '/^\/\/# sourceMappingURL=/d' "$pkg/dist/echarts.min.js" >"$dest/echarts.min.js"
cp "$pkg/LICENSE" "$dest/LICENSE"
[ -f "$pkg/NOTICE" ] && cp "$pkg/NOTICE" "$dest/NOTICE"
printf 'echarts %s (npm), licence Apache-2.0: see LICENSE\n' "$version" >"$dest/VERSION"
echo "update-echarts: echarts $version in $dest" >&2
ls -l "$dest" >&2
