package jzd

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Decode reads a 界址点坐标 TXT file.
//
// Accepted variations (DOMAIN.md §6): UTF-8 with or without BOM, or
// GBK/GB18030 (bytes that are valid UTF-8 are read as UTF-8, anything else
// as GB18030, of which GBK is a subset); CRLF, LF or CR line ends; section
// headers in [] or 【】 (also full-width ［］); optional extra sections
// ([项目信息], [扩展信息], …) kept in File.Sections; header lines key=value
// split on the first "="; parcel header = any line in [地块坐标] containing
// "@" (a stray "@" at the start or glued to a field is tolerated), with at
// least the 7 standard fields before "@" (地类编码 may be left out) and
// any extra fields after 地类编码 kept in Parcel.Extra; point lines
// 点号,圈号,X,Y (X = northing, Y = easting, metres); rings grouped by 圈号
// and closed if left open; blank lines anywhere.
//
// Errors: a read error from r as is; otherwise a *ParseError naming the
// line, for an empty file, no [地块坐标] section (or parcel data before it),
// a [地块坐标] section without parcels, a point line before any parcel
// header, a parcel header with fewer than 8 fields or a non-numeric
// 界址点数/地块面积, a point line without exactly 4 fields (full-width
// commas are named), a 圈号 that is not a positive integer, a coordinate
// that is not a finite number, a parcel without points and a ring with
// fewer than 3 distinct points (reported at its first point).
//
// 界址点数 is not checked against the points (writers differ on whether
// the closing point counts), and no geometry is validated: do that in
// PostGIS.
//
// r is read to the end into memory; limit it for uploads (e.g. with
// http.MaxBytesReader). Encoding detection can misread a very short GBK file
// whose bytes happen to form valid UTF-8; with Chinese text this is rare.
func Decode(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f := &File{Header: map[string]string{}}
	var text string
	text, f.Encoding, f.BOM = decodeText(data)
	if strings.TrimSpace(strings.ReplaceAll(text, "\x1a", "")) == "" {
		return nil, &ParseError{Msg: "file is empty", MsgZH: "文件为空"}
	}
	lines, crlf := splitLines(text)
	f.CRLF = crlf

	d := decoder{f: f}
	for i, raw := range lines {
		if err := d.line(i+1, raw); err != nil {
			return nil, err
		}
	}
	if err := d.finishParcel(); err != nil {
		return nil, err
	}
	if d.coordLine == 0 {
		return nil, &ParseError{Msg: "no [地块坐标] section", MsgZH: "缺少[地块坐标]节"}
	}
	if len(f.Parcels) == 0 {
		return nil, &ParseError{Line: d.coordLine, Msg: "the [地块坐标] section has no parcel (no line ending in @)",
			MsgZH: "[地块坐标]节中没有地块（没有以@结尾的行）"}
	}
	return f, nil
}

// decodeText converts the file bytes to a string and names the encoding.
func decodeText(b []byte) (text, enc string, bom bool) {
	if rest, ok := bytes.CutPrefix(b, []byte{0xEF, 0xBB, 0xBF}); ok {
		b, bom = rest, true
	}
	if utf8.Valid(b) {
		return string(b), UTF8, bom
	}
	// The GBK decoder maps every GBK byte pair; a replacement character
	// means the file uses GB18030 four-byte sequences (or is not GBK at all).
	if s, err := simplifiedchinese.GBK.NewDecoder().Bytes(b); err == nil && !bytes.ContainsRune(s, utf8.RuneError) {
		return string(s), GBK, bom
	}
	s, _ := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	return string(s), GB18030, bom
}

// splitLines splits on CR LF, LF or a lone CR and reports whether the first
// line ended in CR LF.
func splitLines(s string) (lines []string, crlf bool) {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		crlf = strings.HasPrefix(s[i:], "\r\n")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n"), crlf
}

var bracketReplacer = strings.NewReplacer("【", "[", "】", "]", "［", "[", "］", "]")

// sectionName returns the name inside [name], if s is a section line.
func sectionName(s string) (string, bool) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") && len(s) >= 2 {
		return strings.TrimSpace(s[1 : len(s)-1]), true
	}
	return "", false
}

const (
	secNone   = ""
	secHeader = "属性描述"
	secCoords = "地块坐标"
)

type decoder struct {
	f         *File
	section   string
	coordLine int // line of [地块坐标], 0 if not seen

	cur     *Parcel // parcel being read, nil before the first header
	ringIdx map[int]int
}

func parseErr(line int, en, zh string, args ...any) *ParseError {
	return &ParseError{Line: line, Msg: fmt.Sprintf(en, args...), MsgZH: fmt.Sprintf(zh, args...)}
}

func (d *decoder) line(ln int, raw string) error {
	s := strings.TrimSpace(strings.Trim(raw, "\ufeff\x1a\x00"))
	if s == "" {
		return nil
	}
	if name, ok := sectionName(bracketReplacer.Replace(s)); ok {
		if err := d.finishParcel(); err != nil {
			return err
		}
		d.section = name
		switch name {
		case secHeader:
		case secCoords:
			if d.coordLine == 0 {
				d.coordLine = ln
			}
		default:
			d.f.Sections = append(d.f.Sections, Section{Name: name, Line: ln})
		}
		return nil
	}

	switch d.section {
	case secCoords:
		if strings.Contains(s, "@") {
			if err := d.finishParcel(); err != nil {
				return err
			}
			return d.parcelHeader(ln, s)
		}
		return d.point(ln, s)
	case secNone, secHeader:
		if strings.Contains(s, "@") || (!strings.Contains(s, "=") && looksLikePoint(s)) {
			return parseErr(ln, "parcel data before the [地块坐标] section (the section line is missing)",
				"[地块坐标]节之前出现地块数据（缺少节标题行）")
		}
		if k, v, ok := strings.Cut(s, "="); ok {
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if k == "" {
				return nil
			}
			if _, seen := d.f.Header[k]; !seen {
				d.f.HeaderKeys = append(d.f.HeaderKeys, k)
			}
			d.f.Header[k] = v
		}
		// Other lines in the header are ignored.
		return nil
	default:
		sec := &d.f.Sections[len(d.f.Sections)-1]
		sec.Lines = append(sec.Lines, s)
		return nil
	}
}

// looksLikePoint reports a line of 4 comma fields whose last two are numbers.
func looksLikePoint(s string) bool {
	f := splitFields(s)
	if len(f) != 4 {
		return false
	}
	_, e1 := strconv.ParseFloat(f[2], 64)
	_, e2 := strconv.ParseFloat(f[3], 64)
	return e1 == nil && e2 == nil
}

// splitFields splits on ASCII commas and trims each field.
func splitFields(s string) []string {
	fields := strings.Split(s, ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return fields
}

// headerFieldsMin is the number of fields before "@" a parcel header must
// have: 界址点数 … 地块用途 (地类编码 may be left out).
const headerFieldsMin = 7

func (d *decoder) parcelHeader(ln int, s string) error {
	raw := splitFields(s)
	// Drop the "@" field (normally last; sometimes first) and empty fields
	// after a final "@"; strip an "@" glued to a field.
	at := -1
	for i, v := range raw {
		if v == "@" {
			at = i
		}
	}
	var fields []string
	for i, v := range raw {
		if i == at {
			continue
		}
		if at >= 0 && i > at && v == "" {
			allEmpty := true
			for _, w := range raw[i:] {
				allEmpty = allEmpty && w == ""
			}
			if allEmpty {
				break
			}
		}
		fields = append(fields, strings.TrimSpace(strings.Trim(v, "@")))
	}
	if len(fields) < headerFieldsMin {
		return parseErr(ln, "parcel header has %d fields before @, needs at least %d (界址点数,地块面积,地块编号,地块名称,记录图形属性,图幅号,地块用途[,地类编码],@)",
			"地块信息行在@之前只有%d个字段，至少需要%d个（界址点数,地块面积,地块编号,地块名称,记录图形属性,图幅号,地块用途[,地类编码],@）",
			len(fields), headerFieldsMin)
	}
	p := Parcel{Line: ln, AreaHa: math.NaN()}
	if fields[0] != "" {
		n, err := strconv.Atoi(fields[0])
		if err != nil || n < 0 {
			return parseErr(ln, "point count (界址点数) %q is not a whole number", "界址点数%q不是非负整数", fields[0])
		}
		p.PointCount = n
	}
	if fields[1] != "" {
		a, err := strconv.ParseFloat(fields[1], 64)
		if err != nil || math.IsNaN(a) || math.IsInf(a, 0) {
			return parseErr(ln, "parcel area (地块面积) %q is not a number", "地块面积%q不是数字", fields[1])
		}
		p.AreaHa = a
	}
	p.Number, p.Name, p.Shape, p.MapSheet, p.Use = fields[2], fields[3], fields[4], fields[5], fields[6]
	if len(fields) > 7 {
		p.DLBM = fields[7]
	}
	if len(fields) > 8 {
		p.Extra = append([]string(nil), fields[8:]...)
	}
	d.f.Parcels = append(d.f.Parcels, p)
	d.cur = &d.f.Parcels[len(d.f.Parcels)-1]
	d.ringIdx = map[int]int{}
	return nil
}

func (d *decoder) point(ln int, s string) error {
	if d.cur == nil {
		return parseErr(ln, "point line before any parcel header (a line ending in @)",
			"界址点行出现在地块信息行（以@结尾的行）之前")
	}
	fields := splitFields(s)
	for len(fields) > 4 && fields[len(fields)-1] == "" { // tolerate trailing commas
		fields = fields[:len(fields)-1]
	}
	if len(fields) != 4 {
		if strings.ContainsAny(s, "，、") {
			return parseErr(ln, "point line uses full-width commas (，); write ASCII commas",
				"界址点行使用了全角逗号（，），应使用英文逗号")
		}
		return parseErr(ln, "point line has %d fields, needs 4 (点号,圈号,X,Y)",
			"界址点行有%d个字段，应为4个（点号,圈号,X,Y）", len(fields))
	}
	ring, err := strconv.Atoi(fields[1])
	if err != nil || ring < 1 {
		return parseErr(ln, "ring number (圈号) %q is not a positive whole number", "圈号%q不是正整数", fields[1])
	}
	var xy [2]float64
	for i, v := range fields[2:] {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return parseErr(ln, "coordinate %q is not a number", "坐标%q不是数字", v)
		}
		xy[i] = x
	}
	pt := Point{Name: fields[0], Line: ln, North: xy[0], East: xy[1]}
	idx, ok := d.ringIdx[ring]
	if !ok {
		idx = len(d.cur.Rings)
		d.ringIdx[ring] = idx
		d.cur.Rings = append(d.cur.Rings, Ring{Number: ring})
	}
	d.cur.Rings[idx].Points = append(d.cur.Rings[idx].Points, pt)
	return nil
}

// finishParcel checks and closes the rings of the current parcel.
func (d *decoder) finishParcel() error {
	p := d.cur
	d.cur = nil
	if p == nil {
		return nil
	}
	if len(p.Rings) == 0 {
		return parseErr(p.Line, "parcel %q has no points", "地块%q没有界址点", p.Name)
	}
	for i := range p.Rings {
		r := &p.Rings[i]
		distinct := map[[2]float64]struct{}{}
		for _, pt := range r.Points {
			distinct[[2]float64{pt.North, pt.East}] = struct{}{}
		}
		if len(distinct) < 3 {
			return parseErr(r.Points[0].Line, "ring %d of parcel %q has %d distinct points, needs at least 3",
				"地块%[2]q的第%[1]d圈只有%[3]d个不同的点，至少需要3个", r.Number, p.Name, len(distinct))
		}
		first, last := r.Points[0], r.Points[len(r.Points)-1]
		if first.North != last.North || first.East != last.East {
			closing := first
			closing.Line = 0
			r.Points = append(r.Points, closing)
		}
	}
	return nil
}
