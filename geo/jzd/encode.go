package jzd

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Encode writes f in the standard layout (DOMAIN.md §6):
//
//	[属性描述]
//	格式版本号=… 数据产生单位=… 数据产生日期=… 坐标系=… 几度分带=… 投影类型=…
//	计量单位=… 带号=… 精度=… 转换参数=…        (one per line, this order)
//	[地块坐标]
//	界址点数,地块面积,地块编号,地块名称,面,图幅号,地块用途,地类编码,@
//	J1,1,X,Y
//	…
//
// Header values come from f.Header; a missing key is written empty, except
// 转换参数, which is written ",,,,,," (7 empty slots) when empty. Other header
// keys, File.Sections and Parcel.Extra are not written, because receiving
// systems expect the standard fields only. 地块面积 is written in hectares
// with 4 decimals (empty when NaN); 记录图形属性 is Parcel.Shape or 面 when
// empty. Points are written with 3 decimals, X = northing first, with their
// names (J<n>, counting the points of the parcel, when a name is empty);
// each ring is closed, the closing line repeating the first point's name
// and coordinates; 界址点数 is the number of point lines written.
//
// enc is "UTF-8" (no BOM) or "GBK" (also "GB18030"); crlf selects CR LF line
// ends, as Windows tools expect. Errors: an unknown encoding, a character
// that GBK cannot represent, a field containing a comma, "@" or a line
// break, a header value with a line break, a parcel without rings, a ring
// with fewer than 3 points, a non-finite coordinate, and write errors.
func Encode(w io.Writer, f *File, enc string, crlf bool) error {
	if f == nil {
		return errors.New("jzd: Encode: nil file")
	}
	var toBytes func(string) ([]byte, error)
	switch strings.ToUpper(strings.ReplaceAll(enc, "-", "")) {
	case "UTF8":
		toBytes = func(s string) ([]byte, error) { return []byte(s), nil }
	case "GBK", "CP936":
		toBytes = func(s string) ([]byte, error) { return simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s)) }
	case "GB18030":
		toBytes = func(s string) ([]byte, error) { return simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s)) }
	default:
		return fmt.Errorf("jzd: Encode: encoding %q: use UTF-8 or GBK", enc)
	}
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}

	var b strings.Builder
	b.WriteString("[属性描述]" + eol)
	for _, k := range standardKeys {
		v := f.Header[k]
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("jzd: Encode: header %s contains a line break", k)
		}
		if k == "转换参数" && strings.TrimSpace(v) == "" {
			v = ",,,,,,"
		}
		b.WriteString(k + "=" + v + eol)
	}
	b.WriteString("[地块坐标]" + eol)

	for i, p := range f.Parcels {
		if len(p.Rings) == 0 {
			return fmt.Errorf("jzd: Encode: parcel %d (%q) has no rings", i+1, p.Name)
		}
		var pts strings.Builder
		lines, n := 0, 0
		for _, r := range p.Rings {
			if len(r.Points) < 3 {
				return fmt.Errorf("jzd: Encode: parcel %d (%q) ring %d has %d points, needs at least 3", i+1, p.Name, r.Number, len(r.Points))
			}
			ring := r.Number
			if ring < 1 {
				ring = 1
			}
			first := r.Points[0]
			firstName := first.Name
			last := len(r.Points) - 1
			closed := first.North == r.Points[last].North && first.East == r.Points[last].East
			for j, pt := range r.Points {
				n++
				name := pt.Name
				if name == "" {
					name = "J" + strconv.Itoa(n)
				}
				if j == 0 {
					firstName = name
				}
				if closed && j == last {
					name = firstName
				}
				if err := writePoint(&pts, name, ring, pt, eol); err != nil {
					return fmt.Errorf("jzd: Encode: parcel %d (%q): %w", i+1, p.Name, err)
				}
				lines++
			}
			if !closed {
				if err := writePoint(&pts, firstName, ring, first, eol); err != nil {
					return fmt.Errorf("jzd: Encode: parcel %d (%q): %w", i+1, p.Name, err)
				}
				lines++
			}
		}

		area := ""
		if !math.IsNaN(p.AreaHa) && !math.IsInf(p.AreaHa, 0) {
			area = strconv.FormatFloat(p.AreaHa, 'f', 4, 64)
		}
		shape := p.Shape
		if shape == "" {
			shape = "面"
		}
		fields := []string{strconv.Itoa(lines), area, p.Number, p.Name, shape, p.MapSheet, p.Use, p.DLBM}
		for _, v := range fields[2:] {
			if strings.ContainsAny(v, ",@\r\n") {
				return fmt.Errorf("jzd: Encode: parcel %d: field %q contains a comma, @ or line break", i+1, v)
			}
		}
		b.WriteString(strings.Join(fields, ",") + ",@" + eol)
		b.WriteString(pts.String())
	}

	text := b.String()
	out, err := toBytes(text)
	if err != nil {
		for _, r := range text {
			if _, e := toBytes(string(r)); e != nil {
				return fmt.Errorf("jzd: Encode: character %q (U+%04X) cannot be written in %s; use UTF-8", r, r, enc)
			}
		}
		return fmt.Errorf("jzd: Encode: text cannot be written as %s: %w", enc, err)
	}
	_, err = w.Write(out)
	return err
}

func writePoint(b *strings.Builder, name string, ring int, pt Point, eol string) error {
	if strings.ContainsAny(name, ",@\r\n") {
		return fmt.Errorf("point name %q contains a comma, @ or line break", name)
	}
	for _, v := range []float64{pt.North, pt.East} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("point %s: coordinate %v is not a finite number", name, v)
		}
	}
	fmt.Fprintf(b, "%s,%d,%s,%s%s", name, ring, strconv.FormatFloat(pt.North, 'f', 3, 64),
		strconv.FormatFloat(pt.East, 'f', 3, 64), eol)
	return nil
}
