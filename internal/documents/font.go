package documents

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// fontTTF is WenQuanYi Micro Hei subset to ASCII + GB 2312 (font/SOURCES,
// licence font/LICENSE, rebuilt by font/subset.sh). TrueType outlines, so
// fpdf can embed it; fpdf subsets it again to the glyphs a PDF uses.
//
//go:embed font/wqy-microhei-gb2312.ttf
var fontTTF []byte

const fontFamily = "wqy"

var (
	coverageOnce sync.Once
	coverage     map[rune]bool
	coverageErr  error
)

// covered reports whether the embedded font has a glyph for r.
func covered(r rune) bool {
	coverageOnce.Do(func() { coverage, coverageErr = parseCmap(fontTTF) })
	if coverageErr != nil {
		panic("documents: embedded font: " + coverageErr.Error())
	}
	return coverage[r]
}

// Covered reports whether every character of s can be printed by the
// documents' font (ASCII, GB 2312 and a few symbols). Callers may use it to
// warn at data entry, e.g. for a rare character in a name.
func Covered(s string) bool {
	for _, r := range s {
		if !covered(r) && !isSpace(r) {
			return false
		}
	}
	return true
}

func isSpace(r rune) bool { return r == '\n' || r == '\t' || r == '\r' }

// MissingChar is a character the font cannot draw, where it was found. The
// PDF shows it as 〔U+XXXX〕 so that it is never silently lost; the clerk
// completes it by hand.
type MissingChar struct {
	Rune rune
	// Text is the whole text the character was in (e.g. the applicant's
	// name), so the caller can say which field needs a hand-written fix.
	Text string
}

func (m MissingChar) String() string {
	return fmt.Sprintf("U+%04X %q（%s）", m.Rune, string(m.Rune), m.Text)
}

// missingSet collects the uncovered characters of one rendering.
type missingSet struct {
	seen map[string]bool
	list []MissingChar
}

// clean returns s with every character the font lacks replaced by a
// visible 〔U+XXXX〕 and records it; tabs and CR become spaces.
func (m *missingSet) clean(s string) string {
	ok := true
	for _, r := range s {
		if !covered(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || !covered(r):
			fmt.Fprintf(&b, "〔U+%04X〕", r)
			k := fmt.Sprintf("%d\x00%s", r, s)
			if m.seen == nil {
				m.seen = map[string]bool{}
			}
			if !m.seen[k] {
				m.seen[k] = true
				m.list = append(m.list, MissingChar{Rune: r, Text: s})
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseCmap reads the Unicode cmap (format 4 or 12) of a TrueType font.
func parseCmap(f []byte) (map[rune]bool, error) {
	if len(f) < 12 {
		return nil, fmt.Errorf("too short")
	}
	n := int(binary.BigEndian.Uint16(f[4:]))
	var cmap []byte
	for i := 0; i < n; i++ {
		rec := f[12+16*i:]
		if string(rec[:4]) == "cmap" {
			off, ln := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
			if int(off+ln) > len(f) {
				return nil, fmt.Errorf("cmap out of range")
			}
			cmap = f[off : off+ln]
		}
	}
	if cmap == nil {
		return nil, fmt.Errorf("no cmap table")
	}
	type sub struct {
		format uint16
		data   []byte
	}
	var best *sub
	nt := int(binary.BigEndian.Uint16(cmap[2:]))
	for i := 0; i < nt; i++ {
		rec := cmap[4+8*i:]
		pid, eid, off := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:]), binary.BigEndian.Uint32(rec[4:])
		if !(pid == 0 || (pid == 3 && (eid == 1 || eid == 10))) {
			continue
		}
		d := cmap[off:]
		s := &sub{binary.BigEndian.Uint16(d), d}
		if best == nil || (s.format == 12 && best.format != 12) {
			best = s
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no Unicode cmap subtable")
	}
	out := map[rune]bool{}
	d := best.data
	switch best.format {
	case 4:
		segX2 := int(binary.BigEndian.Uint16(d[6:]))
		ends, starts := d[14:], d[16+segX2:]
		deltas, ranges := d[16+2*segX2:], d[16+3*segX2:]
		for i := 0; i < segX2/2; i++ {
			end, start := binary.BigEndian.Uint16(ends[2*i:]), binary.BigEndian.Uint16(starts[2*i:])
			delta, ro := binary.BigEndian.Uint16(deltas[2*i:]), int(binary.BigEndian.Uint16(ranges[2*i:]))
			for c := uint32(start); c <= uint32(end) && c != 0xFFFF; c++ {
				g := uint16(c) + delta
				if ro != 0 {
					p := 16 + 3*segX2 + 2*i + ro + 2*int(c-uint32(start))
					if p+2 > len(d) {
						continue
					}
					g = binary.BigEndian.Uint16(d[p:])
					if g != 0 {
						g += delta
					}
				}
				if g != 0 {
					out[rune(c)] = true
				}
			}
		}
	case 12:
		ng := int(binary.BigEndian.Uint32(d[12:]))
		for i := 0; i < ng; i++ {
			g := d[16+12*i:]
			s, e := binary.BigEndian.Uint32(g), binary.BigEndian.Uint32(g[4:])
			for c := s; c <= e; c++ {
				out[rune(c)] = true
			}
		}
	default:
		return nil, fmt.Errorf("cmap format %d not supported", best.format)
	}
	return out, nil
}

// coveredCount is the number of characters of the embedded font (tests).
func coveredCount() int {
	covered(' ')
	return len(coverage)
}
