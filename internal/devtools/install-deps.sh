#!/usr/bin/env bash
# Installs what villageplan needs from the distribution's packages
# (Debian/Ubuntu): the PostgreSQL server, PostGIS 3 and pgRouting for it
# (pgRouting: network reach and road-graph indicators of issue 14, the
# extension created by migration 00018), and — with
# --with-test-tools — GDAL's command-line tools used by the tests.
# As root (or with sudo) it installs; otherwise it prints the exact packages
# and exits 1. It is idempotent: nothing is installed twice.
# --with-test-tools adds what the tests drive as real clients: GDAL's
# ogrinfo/ogr2ogr, Debian's Chromium (headless browser tests) and CJK fonts
# so that screenshots show Chinese text, and poppler-utils (pdftotext,
# pdftoppm) that read back the PDF documents of internal/documents, and
# QGIS's Python bindings (python3-qgis with its data providers, Debian's
# QGIS 3.22 on bookworm) that internal/qgistest drives headless
# (QT_QPA_PLATFORM=offscreen) as an analyst's desktop client. QGIS is
# installed without recommends (no desktop app, no GRASS, no docs): the
# library, the OAPIF/WFS and vector-tile providers and PyQGIS are all the
# test needs.
set -euo pipefail

with_test_tools=0
for a in "$@"; do
  case "$a" in
    --with-test-tools) with_test_tools=1 ;;
    *) echo "install-deps: unknown option $a" >&2; exit 2 ;;
  esac
done

pg_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

need=()
need_norec=()
bindir=$(pg_bindir || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  need+=(postgresql)
  major=""
else
  major=$(basename "$(dirname "$bindir")")
  sharedir="/usr/share/postgresql/$major"
  [ -f "$sharedir/extension/postgis.control" ] || need+=("postgresql-$major-postgis-3")
  [ -f "$sharedir/extension/pgrouting.control" ] || need+=("postgresql-$major-pgrouting")
fi
if [ "$with_test_tools" = 1 ]; then
  command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v wrk >/dev/null 2>&1 || need+=(wrk) # HTTP load of the benchmarks (bench-tiles-ceiling.sh, tiles/tilebench)
  [ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  [ -f /usr/lib/python3/dist-packages/qgis/core/__init__.py ] || need_norec+=(python3-qgis qgis-providers)
fi

if [ ${#need[@]} -eq 0 ] && [ ${#need_norec[@]} -eq 0 ] && [ -n "${major:-}" ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "villageplan needs these packages: ${need[*]} ${need_norec[*]} (and postgresql-<version>-postgis-3 and postgresql-<version>-pgrouting for the installed server)." >&2
    echo "Install them as root:  apt-get install -y ${need[*]}${need_norec[*]:+ && apt-get install -y --no-install-recommends ${need_norec[*]}}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${need[*]} ${need_norec[*]}" >&2
$sudo apt-get update -qq
if [ ${#need[@]} -gt 0 ]; then
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ${#need_norec[@]} -gt 0 ]; then
  # QGIS: about 170 packages, 3–4 minutes on a fresh machine.
  $sudo apt-get install -y -qq --no-install-recommends "${need_norec[@]}" >/dev/null
fi
# A freshly installed server: add PostGIS and pgRouting for its version.
bindir=$(pg_bindir)
major=$(basename "$(dirname "$bindir")")
if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  echo "install-deps: installing postgresql-$major-postgis-3" >&2
  $sudo apt-get install -y -qq "postgresql-$major-postgis-3" >/dev/null
fi
if [ ! -f "/usr/share/postgresql/$major/extension/pgrouting.control" ]; then
  echo "install-deps: installing postgresql-$major-pgrouting" >&2
  $sudo apt-get install -y -qq "postgresql-$major-pgrouting" >/dev/null
fi
# The Debian package starts a system cluster on port 5432; villageplan does
# not use it (it runs its own private cluster), so leave it as the
# distribution set it up.
echo "install-deps: PostgreSQL $major with PostGIS and pgRouting ready ($bindir)" >&2
