#!/usr/bin/env bash
# Rebuilds wqy-microhei-gb2312.ttf from Debian's fonts-wqy-microhei
# (apt-get install -y fonts-wqy-microhei fonttools): face 0 of the TTC,
# TrueType outlines, subset to the code points of subset.py, no hinting.
set -euo pipefail
cd "$(dirname "$0")"
src=${1:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
/usr/bin/python3 subset.py > /tmp/vp-font-unicodes.txt
pyftsubset "$src" --font-number=0 --unicodes-file=/tmp/vp-font-unicodes.txt \
  --no-hinting --desubroutinize --layout-features='' --name-IDs='*' --name-languages='*' \
  --drop-tables+=GSUB,GPOS,GDEF,BASE,JSTF,DSIG \
  --output-file=wqy-microhei-gb2312.ttf
ls -l wqy-microhei-gb2312.ttf
