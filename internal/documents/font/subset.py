#!/usr/bin/env python3
"""Writes the code-point list of the embedded font subset (one U+XXXX per
line) to stdout: ASCII, all of GB 2312 (its 682 symbols and both levels of
hanzi, 6763 characters) and the few extra symbols the documents print.
subset.sh feeds it to pyftsubset."""
cps = set(range(0x20, 0x7F))
for row in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
    for col in range(0xA1, 0xFF):
        try:
            ch = bytes([row, col]).decode("gb2312")
        except UnicodeDecodeError:
            continue
        cps.update(ord(c) for c in ch)
# Extras used by the documents: superscript two (m²), middle dot, dashes,
# quotes, the replacement mark, ㎡, №.
cps.update([0xA0, 0xB2, 0xB3, 0xB7, 0xB0, 0xD7, 0x2013, 0x2014, 0x2018, 0x2019,
            0x201C, 0x201D, 0x2026, 0x2116, 0x2190, 0x2191, 0x2192, 0x2193,
            0x25A1, 0x25A0, 0x25B2, 0x25CF, 0x25CB,
            0x3000, 0x3001, 0x3002, 0x3008, 0x3009, 0x300A, 0x300B, 0x300C,
            0x300D, 0x3010, 0x3011, 0x3014, 0x3015, 0x338E, 0x338F, 0x33A1,
            0xFF08, 0xFF09, 0xFF0C, 0xFF1A, 0xFF1B, 0xFFFD])
for cp in sorted(cps):
    print("U+%04X" % cp)
