package jzd

import (
	"bytes"
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
	"villageplan/data/testdata"

	"github.com/paulmach/orb"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// The real files (data/testdata/real/SOURCES.md §3): one parcel, 66 point
// lines J01…J65,J01.

var realFiles = []struct {
	name     string
	encoding string
	crlf     bool
}{
	{"hangzhou_pengbu_BR14_zone40.txt", UTF8, false},
	{"hangzhou_pengbu_BR14_zone40.gbk_crlf.txt", GBK, true},
}

func readReal(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata.Real(t, "jzd-txt/"+name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeString(t *testing.T, s string) *File {
	t.Helper()
	f, err := Decode(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return f
}

// realLine returns line n (1-based) of the UTF-8 real file, for checking
// coordinates against the file itself.
func realLine(t *testing.T, n int) []string {
	t.Helper()
	lines := strings.Split(string(readReal(t, realFiles[0].name)), "\n")
	return strings.Split(lines[n-1], ",")
}

func TestDecodeRealFiles(t *testing.T) {
	var first *File
	for _, rf := range realFiles {
		f, err := Decode(bytes.NewReader(readReal(t, rf.name)))
		if err != nil {
			t.Fatalf("%s: %v", rf.name, err)
		}
		if f.Encoding != rf.encoding || f.CRLF != rf.crlf || f.BOM {
			t.Errorf("%s: encoding %s CRLF %v BOM %v; want %s %v false", rf.name, f.Encoding, f.CRLF, f.BOM, rf.encoding, rf.crlf)
		}
		wantHeader := map[string]string{
			"格式版本号": "1.01版本", "数据产生单位": "浙江华东建设工程有限公司", "数据产生日期": "2019-4-19",
			"坐标系": "2000国家大地坐标系", "几度分带": "3", "投影类型": "高斯克吕格", "计量单位": "米",
			"带号": "40", "精度": "3", "转换参数": "0,0,0,0,0,0,0",
		}
		if !reflect.DeepEqual(f.Header, wantHeader) {
			t.Errorf("%s: header = %v", rf.name, f.Header)
		}
		if !reflect.DeepEqual(f.HeaderKeys, StandardKeys()) {
			t.Errorf("%s: header keys = %v", rf.name, f.HeaderKeys)
		}
		if len(f.Parcels) != 1 {
			t.Fatalf("%s: %d parcels", rf.name, len(f.Parcels))
		}
		p := f.Parcels[0]
		if p.Line != 13 || p.PointCount != 66 || p.AreaHa != 5.7089 || p.Number != "1" || p.Name != "彭埠单元B/R-14地块" ||
			p.Shape != "面" || p.MapSheet != "" || p.Use != "" || p.DLBM != "" || p.Extra != nil {
			t.Errorf("%s: parcel = %+v", rf.name, p)
		}
		if p.DeclaredAreaM2() != 57089 {
			t.Errorf("DeclaredAreaM2 = %v", p.DeclaredAreaM2())
		}
		if len(p.Rings) != 1 || p.Rings[0].Number != 1 {
			t.Fatalf("%s: rings = %d", rf.name, len(p.Rings))
		}
		pts := p.Rings[0].Points
		// 66 point lines, the last repeating J01: nothing appended on read.
		if len(pts) != 66 || pts[65].Line != 79 || pts[65].Name != "J01" {
			t.Fatalf("%s: %d points, last %+v", rf.name, len(pts), pts[len(pts)-1])
		}
		for _, c := range []struct {
			i, line    int
			name       string
			north, eas float64
		}{
			{0, 14, "J01", 3353189.181, 40520986.477},
			{1, 15, "J02", 3353176.426, 40520960.456},
			{26, 40, "J27", 3353246.677, 40520676.274},
			{64, 78, "J65", 3353190.790, 40520989.058},
			{65, 79, "J01", 3353189.181, 40520986.477},
		} {
			if got := pts[c.i]; got != (Point{Name: c.name, Line: c.line, North: c.north, East: c.eas}) {
				t.Errorf("%s: point %d = %+v", rf.name, c.i, got)
			}
			// And the same values read straight from the file's line.
			fields := realLine(t, c.line)
			if fields[0] != c.name || fields[2] != strconv.FormatFloat(c.north, 'f', 3, 64) || fields[3] != strconv.FormatFloat(c.eas, 'f', 3, 64) {
				t.Errorf("line %d of the file is %v, test expects %s %v %v", c.line, fields, c.name, c.north, c.eas)
			}
		}
		epsg, err := f.EPSG()
		if err != nil || epsg != 4528 {
			t.Errorf("%s: EPSG() = %d, %v; want 4528", rf.name, epsg, err)
		}
		poly := p.Polygon()
		if len(poly) != 1 || len(poly[0]) != 66 || poly[0][0] != (orb.Point{40520986.477, 3353189.181}) || !poly[0].Closed() {
			t.Errorf("%s: Polygon() = %d rings, first %v", rf.name, len(poly), poly[0][0])
		}
		if first == nil {
			first = f
		} else if !reflect.DeepEqual(first.Parcels, f.Parcels) {
			t.Errorf("UTF-8 and GBK files decode to different parcels")
		}
	}
}

// Encoding the decoded real files in their own encoding and line ends gives
// the original bytes back: the writer's layout is the standard one.
func TestEncodeRealFilesByteIdentical(t *testing.T) {
	for _, rf := range realFiles {
		orig := readReal(t, rf.name)
		f, err := Decode(bytes.NewReader(orig))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, f, rf.encoding, rf.crlf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("%s: Encode output differs from the file:\n%s", rf.name, buf.String())
		}
	}
}

func TestRoundTrip(t *testing.T) {
	inputs := map[string][]byte{
		"real UTF-8": readReal(t, realFiles[0].name),
		"real GBK":   readReal(t, realFiles[1].name),
		"synthetic":  []byte(syntheticFile),
	}
	for name, in := range inputs {
		f1, err := Decode(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, out := range []struct {
			enc  string
			crlf bool
		}{{GBK, true}, {UTF8, false}, {UTF8, true}, {GB18030, false}} {
			var buf bytes.Buffer
			if err := Encode(&buf, f1, out.enc, out.crlf); err != nil {
				t.Fatalf("%s → %s: %v", name, out.enc, err)
			}
			if got := bytes.Contains(buf.Bytes(), []byte("\r\n")); got != out.crlf {
				t.Errorf("%s → %s: CRLF present = %v", name, out.enc, got)
			}
			if out.enc == GBK && utf8.Valid(buf.Bytes()) {
				t.Errorf("%s → GBK: output is valid UTF-8, so it was not GBK-encoded", name)
			}
			f2, err := Decode(&buf)
			if err != nil {
				t.Fatalf("%s → %s → Decode: %v", name, out.enc, err)
			}
			wantEnc := out.enc
			if wantEnc == GB18030 {
				wantEnc = GBK // no four-byte sequences in these files
			}
			if f2.Encoding != wantEnc || f2.CRLF != out.crlf {
				t.Errorf("%s → %s: decoded as %s CRLF %v", name, out.enc, f2.Encoding, f2.CRLF)
			}
			for _, k := range StandardKeys() {
				want := f1.Header[k]
				if k == "转换参数" && want == "" {
					want = ",,,,,,"
				}
				if f2.Header[k] != want {
					t.Errorf("%s → %s: header %s = %q, want %q", name, out.enc, k, f2.Header[k], want)
				}
			}
			compareParcels(t, name+" → "+out.enc, f1.Parcels, f2.Parcels)
		}
	}
}

// compareParcels checks attributes and coordinates (to 3 decimals) but not
// line numbers or the extra fields, which Encode does not write.
func compareParcels(t *testing.T, label string, a, b []Parcel) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d parcels, want %d", label, len(b), len(a))
	}
	r3 := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	for i := range a {
		pa, pb := a[i], b[i]
		areaOK := (math.IsNaN(pa.AreaHa) && math.IsNaN(pb.AreaHa)) || math.Round(pa.AreaHa*1e4) == math.Round(pb.AreaHa*1e4)
		if !areaOK || pa.Number != pb.Number || pa.Name != pb.Name || pa.Shape != pb.Shape ||
			pa.MapSheet != pb.MapSheet || pa.Use != pb.Use || pa.DLBM != pb.DLBM {
			t.Errorf("%s: parcel %d attributes %+v, want %+v", label, i, pb, pa)
		}
		if len(pa.Rings) != len(pb.Rings) {
			t.Fatalf("%s: parcel %d has %d rings, want %d", label, i, len(pb.Rings), len(pa.Rings))
		}
		lines := 0
		for j := range pa.Rings {
			ra, rb := pa.Rings[j], pb.Rings[j]
			lines += len(rb.Points)
			if ra.Number != rb.Number || len(ra.Points) != len(rb.Points) {
				t.Errorf("%s: parcel %d ring %d: number %d/%d, %d/%d points", label, i, j, rb.Number, ra.Number, len(rb.Points), len(ra.Points))
				continue
			}
			for k := range ra.Points {
				qa, qb := ra.Points[k], rb.Points[k]
				if r3(qa.North) != qb.North || r3(qa.East) != qb.East {
					t.Errorf("%s: parcel %d ring %d point %d = %v,%v want %v,%v", label, i, j, k, qb.North, qb.East, qa.North, qa.East)
				}
				wantName := qa.Name
				if k == len(ra.Points)-1 {
					wantName = ra.Points[0].Name // the closing point carries the first name
				}
				if qb.Name != wantName {
					t.Errorf("%s: parcel %d ring %d point %d name %q, want %q", label, i, j, k, qb.Name, wantName)
				}
			}
		}
		if pb.PointCount != lines {
			t.Errorf("%s: parcel %d 界址点数 %d, want %d point lines", label, i, pb.PointCount, lines)
		}
	}
}

// syntheticFile: 【】 section headers, an extra section, two parcels, the
// first with a hole (圈号 2) and a header of 13 fields, the second without
// 地类编码 and with bare point numbers; no ring is closed; blank lines and a
// stray space or two.
const syntheticFile = "【项目信息】\n" +
	"项目名称=测试项目\n" +
	"\n" +
	"【属性描述】\n" +
	"格式版本号=1.00版本\n" +
	"数据产生单位=双阳区自然资源局\n" +
	"坐标系=2000国家大地坐标系\n" +
	"几度分带=3\n" +
	"投影类型=高斯克吕格\n" +
	"计量单位=米\n" +
	"带号=42\n" +
	"精度=0.001\n" +
	"转换参数=,,,,,,\n" +
	"自定义=a=b\n" +
	"【地块坐标】\n" +
	"9,0.7500,A-01,大营村宅基地,面,K51G001001,宅基地,0702,x1,x2,x3,x4,@\n" + // line 16, 13 fields
	"J1,1,4822000.000,42510000.000\n" +
	"J2,1,4822000.000,42510100.000\n" +
	"J3,1,4822100.000,42510100.000\n" +
	"J4,1,4822100.000,42510000.000\n" +
	"J5,2,4822040.000,42510040.000\n" + // line 21
	"J6,2,4822040.000,42510060.000\n" +
	" J7 , 2 , 4822060.000 , 42510060.000 \n" +
	"J8,2,4822060.000,42510040.000\n" +
	"\n" +
	"4,,B-02,鲁家村道路,面,,道路,@\n" + // line 26, no 地类编码, no area
	"1,1,4823000.5,42511000.25\n" +
	"2,1,4823000.5,42511010.25\n" +
	"3,1,4823010.5,42511005.25\n"

func TestDecodeSynthetic(t *testing.T) {
	for _, variant := range []struct {
		name string
		in   []byte
		enc  string
		bom  bool
		crlf bool
	}{
		{"UTF-8 LF", []byte(syntheticFile), UTF8, false, false},
		{"UTF-8 BOM CRLF", append([]byte("\ufeff"), strings.ReplaceAll(syntheticFile, "\n", "\r\n")...), UTF8, true, true},
		{"ASCII brackets, CR only", []byte(strings.NewReplacer("【", "[", "】", "]", "\n", "\r").Replace(syntheticFile)), UTF8, false, false},
		{"GBK CRLF", mustGBK(t, strings.ReplaceAll(syntheticFile, "\n", "\r\n")), GBK, false, true},
	} {
		f, err := Decode(bytes.NewReader(variant.in))
		if err != nil {
			t.Fatalf("%s: %v", variant.name, err)
		}
		if f.Encoding != variant.enc || f.BOM != variant.bom || f.CRLF != variant.crlf {
			t.Errorf("%s: encoding %s BOM %v CRLF %v", variant.name, f.Encoding, f.BOM, f.CRLF)
		}
		if len(f.Sections) != 1 || f.Sections[0].Name != "项目信息" || f.Sections[0].Line != 1 ||
			!reflect.DeepEqual(f.Sections[0].Lines, []string{"项目名称=测试项目"}) {
			t.Errorf("%s: sections = %+v", variant.name, f.Sections)
		}
		if f.Header["带号"] != "42" || f.Header["自定义"] != "a=b" || f.Header["转换参数"] != ",,,,,," || f.HeaderKeys[len(f.HeaderKeys)-1] != "自定义" {
			t.Errorf("%s: header = %v", variant.name, f.Header)
		}
		if _, ok := f.Header["项目名称"]; ok {
			t.Errorf("%s: a key of [项目信息] leaked into the header", variant.name)
		}
		if len(f.Parcels) != 2 {
			t.Fatalf("%s: %d parcels", variant.name, len(f.Parcels))
		}
		a, b := f.Parcels[0], f.Parcels[1]
		if a.Line != 16 || a.PointCount != 9 || a.AreaHa != 0.75 || a.Number != "A-01" || a.Name != "大营村宅基地" || a.Shape != "面" ||
			a.MapSheet != "K51G001001" || a.Use != "宅基地" || a.DLBM != "0702" || !reflect.DeepEqual(a.Extra, []string{"x1", "x2", "x3", "x4"}) {
			t.Errorf("%s: parcel A = %+v", variant.name, a)
		}
		if b.Line != 26 || b.PointCount != 4 || !math.IsNaN(b.AreaHa) || b.Number != "B-02" || b.Use != "道路" || b.DLBM != "" || b.Extra != nil {
			t.Errorf("%s: parcel B = %+v", variant.name, b)
		}
		if len(a.Rings) != 2 || a.Rings[0].Number != 1 || a.Rings[1].Number != 2 || len(a.Rings[0].Points) != 5 || len(a.Rings[1].Points) != 5 {
			t.Fatalf("%s: parcel A rings = %+v", variant.name, a.Rings)
		}
		hole := a.Rings[1].Points
		if hole[0] != (Point{"J5", 21, 4822040, 42510040}) || hole[2] != (Point{"J7", 23, 4822060, 42510060}) ||
			hole[4] != (Point{"J5", 0, 4822040, 42510040}) {
			t.Errorf("%s: hole = %+v", variant.name, hole)
		}
		if len(b.Rings) != 1 || len(b.Rings[0].Points) != 4 || b.Rings[0].Points[0] != (Point{"1", 27, 4823000.5, 42511000.25}) {
			t.Errorf("%s: parcel B rings = %+v", variant.name, b.Rings)
		}

		// Geometry accessors: (easting, northing), prefix kept, rings in order.
		poly := a.Polygon()
		if len(poly) != 2 || poly[1][0] != (orb.Point{42510040, 4822040}) || !poly[0].Closed() || !poly[1].Closed() {
			t.Errorf("%s: Polygon() = %v", variant.name, poly)
		}
		mp := a.MultiPolygon()
		if len(mp) != 2 || len(mp[0]) != 1 || len(mp[1]) != 1 || !orb.Equal(mp[1][0], poly[1]) {
			t.Errorf("%s: MultiPolygon() = %v", variant.name, mp)
		}
		en := a.RingsEN()
		if len(en) != 2 || en[0][1] != (orb.Point{42510100, 4822000}) {
			t.Errorf("%s: RingsEN() = %v", variant.name, en)
		}
		if epsg, err := f.EPSG(); err != nil || epsg != 4530 {
			t.Errorf("%s: EPSG() = %d, %v", variant.name, epsg, err)
		}
	}
}

func mustGBK(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustGB18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeGB18030(t *testing.T) {
	// 𠮷 (U+20BB7) exists in GB18030 (four bytes) but not in GBK.
	f, err := Decode(bytes.NewReader(mustGB18030(t, strings.Replace(syntheticFile, "鲁家村道路", "𠮷家村道路", 1))))
	if err != nil {
		t.Fatal(err)
	}
	if f.Encoding != GB18030 || f.Parcels[1].Name != "𠮷家村道路" {
		t.Errorf("encoding %s, name %q", f.Encoding, f.Parcels[1].Name)
	}
	var buf bytes.Buffer
	err = Encode(&buf, f, GBK, true)
	if err == nil || !strings.Contains(err.Error(), "U+20BB7") {
		t.Errorf("Encode GBK of 𠮷: %v", err)
	}
	if err := Encode(&buf, f, GB18030, true); err != nil {
		t.Errorf("Encode GB18030: %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	const hdr = "[属性描述]\n坐标系=2000国家大地坐标系\n带号=40\n" // lines 1–3
	const sec = "[地块坐标]\n"                         // line 4
	const ph = "4,0.1,1,地块,面,,,,@\n"               // line 5
	tests := []struct {
		name string
		in   string
		line int
		want string // part of the English message
		zh   string // part of the Chinese message
	}{
		{"empty", "", 0, "file is empty", "文件为空"},
		{"blank lines only", " \r\n\r\n\t\n", 0, "file is empty", "文件为空"},
		{"BOM only", "\ufeff", 0, "file is empty", "文件为空"},
		{"no coordinate section", hdr, 0, "no [地块坐标] section", "缺少[地块坐标]节"},
		{"parcel before the section", hdr + ph + "J1,1,1,2\n", 4, "before the [地块坐标] section", "之前出现地块数据"},
		{"point before the section", hdr + "J1,1,3353189.181,40520986.477\n", 4, "before the [地块坐标] section", "之前"},
		{"empty coordinate section", hdr + sec, 4, "has no parcel", "没有地块"},
		{"point before any parcel header", hdr + sec + "J1,1,3353189.181,40520986.477\n", 5, "point line before any parcel header", "之前"},
		{"non-numeric X", hdr + sec + ph + "J1,1,3353189.181,40520986.477\nJ2,1,33531x6.426,40520960.456\n", 7, `coordinate "33531x6.426" is not a number`, "坐标\"33531x6.426\"不是数字"},
		{"NaN coordinate", hdr + sec + ph + "J1,1,NaN,40520986.477\n", 6, "is not a number", "不是数字"},
		{"infinite coordinate", hdr + sec + ph + "J1,1,1e999,40520986.477\n", 6, "is not a number", "不是数字"},
		{"empty coordinate", hdr + sec + ph + "J1,1,,40520986.477\n", 6, "is not a number", "不是数字"},
		{"3 fields", hdr + sec + ph + "J1,1,3353189.181\n", 6, "has 3 fields, needs 4", "有3个字段"},
		{"5 fields", hdr + sec + ph + "J1,1,1,2,3\n", 6, "has 5 fields, needs 4", "有5个字段"},
		{"full-width commas", hdr + sec + ph + "J1，1，3353189.181，40520986.477\n", 6, "full-width commas", "全角逗号"},
		{"ring number 0", hdr + sec + ph + "J1,0,1,2\n", 6, "ring number (圈号) \"0\"", "圈号\"0\""},
		{"ring number text", hdr + sec + ph + "J1,a,1,2\n", 6, "ring number", "圈号"},
		{"ring of 2 distinct points", hdr + sec + ph + "J1,1,1,1\nJ2,1,2,2\nJ1,1,1,1\n", 6, "ring 1 of parcel \"地块\" has 2 distinct points", "第1圈只有2个不同的点"},
		{"hole of 2 points", hdr + sec + ph + "J1,1,0,0\nJ2,1,0,10\nJ3,1,10,10\nJ4,2,1,1\nJ5,2,2,2\n", 9, "ring 2 of parcel", "第2圈"},
		{"bad ring in first parcel found at next header", hdr + sec + ph + "J1,1,1,1\nJ2,1,2,2\n" + ph + "J1,1,0,0\nJ2,1,0,1\nJ3,1,1,1\n", 6, "has 2 distinct points", "2个不同的点"},
		{"parcel without points", hdr + sec + ph + ph + "J1,1,0,0\nJ2,1,0,10\nJ3,1,10,10\n", 5, "has no points", "没有界址点"},
		{"last parcel without points", hdr + sec + ph + "J1,1,0,0\nJ2,1,0,10\nJ3,1,10,10\n" + ph, 9, "has no points", "没有界址点"},
		{"header too short", hdr + sec + "4,0.1,1,地块,@\n", 5, "4 fields before @, needs at least 7", "只有4个字段"},
		{"point count not a number", hdr + sec + "四,0.1,1,地块,面,,,,@\n", 5, "point count (界址点数) \"四\"", "界址点数\"四\""},
		{"area not a number", hdr + sec + "4,0.1ha,1,地块,面,,,,@\n", 5, "parcel area (地块面积) \"0.1ha\"", "地块面积\"0.1ha\""},
		{"CRLF line numbers", strings.ReplaceAll(hdr+sec+ph+"J1,1,1,x\n", "\n", "\r\n"), 6, "not a number", "不是数字"},
	}
	for _, tt := range tests {
		_, err := Decode(strings.NewReader(tt.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v is not a *ParseError", tt.name, err)
			continue
		}
		if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.want) || !strings.Contains(pe.MsgZH, tt.zh) {
			t.Errorf("%s: got line %d %q / %q; want line %d containing %q / %q", tt.name, pe.Line, pe.MsgZH, pe.Msg, tt.line, tt.zh, tt.want)
		}
		msg := err.Error()
		if tt.line > 0 && (!strings.HasPrefix(msg, "第"+strconv.Itoa(tt.line)+"行：") || !strings.Contains(msg, " / line "+strconv.Itoa(tt.line)+": ")) {
			t.Errorf("%s: Error() = %q", tt.name, msg)
		}
	}
}

func TestDecodeTolerance(t *testing.T) {
	tests := []struct {
		name   string
		header string
		check  func(*testing.T, Parcel)
	}{
		{"@ first", "@4,0.1,1,地块,面,,,0702", func(t *testing.T, p Parcel) {
			if p.PointCount != 4 || p.DLBM != "0702" || p.Extra != nil {
				t.Errorf("%+v", p)
			}
		}},
		{"@ glued to last field", "4,0.1,1,地块,面,,,0702@", func(t *testing.T, p Parcel) {
			if p.DLBM != "0702" || p.Extra != nil {
				t.Errorf("%+v", p)
			}
		}},
		{"trailing comma after @", "4,0.1,1,地块,面,,,0702,@,", func(t *testing.T, p Parcel) {
			if p.DLBM != "0702" || p.Extra != nil {
				t.Errorf("%+v", p)
			}
		}},
		{"spaces around fields", " 4 , 0.1 , 1 , 地块 , 面 , , , 0702 , @ ", func(t *testing.T, p Parcel) {
			if p.PointCount != 4 || p.AreaHa != 0.1 || p.Name != "地块" || p.DLBM != "0702" {
				t.Errorf("%+v", p)
			}
		}},
		{"empty point count", ",0.1,1,地块,面,,,,@", func(t *testing.T, p Parcel) {
			if p.PointCount != 0 {
				t.Errorf("%+v", p)
			}
		}},
	}
	for _, tt := range tests {
		in := "[属性描述]\n[地块坐标]\n" + tt.header + "\nJ1,1,0,0\nJ2,1,0,10,\nJ3,1,10,10\n"
		f, err := Decode(strings.NewReader(in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		t.Run(tt.name, func(t *testing.T) { tt.check(t, f.Parcels[0]) })
	}
}

func TestEPSG(t *testing.T) {
	file := func(h map[string]string, pts ...[2]float64) *File {
		f := &File{Header: map[string]string{"坐标系": "2000国家大地坐标系", "几度分带": "3", "投影类型": "高斯克吕格"}}
		for k, v := range h {
			f.Header[k] = v
		}
		var ring Ring
		for i, p := range pts {
			ring.Points = append(ring.Points, Point{Name: "J" + strconv.Itoa(i+1), Line: 10 + i, North: p[0], East: p[1]})
		}
		if len(pts) > 0 {
			f.Parcels = []Parcel{{Rings: []Ring{ring}}}
		}
		return f
	}
	pre40 := [2]float64{3353189.181, 40520986.477}
	pre42 := [2]float64{4822000, 42510000}
	plain := [2]float64{4822000, 510000}
	tests := []struct {
		name    string
		f       *File
		want    int
		wantErr []string
	}{
		{"prefix 40, 带号 40", file(map[string]string{"带号": "40"}, pre40), 4528, nil},
		{"prefix 42, 带号 42", file(map[string]string{"带号": "42"}, pre42), 4530, nil},
		{"prefix 42, no 带号", file(nil, pre42), 4530, nil},
		{"plain, 带号 42", file(map[string]string{"带号": "42"}, plain), 4551, nil},
		{"plain, 带号 40", file(map[string]string{"带号": " 40 "}, plain), 4549, nil},
		{"CGCS2000 spelled in Latin", file(map[string]string{"坐标系": "CGCS2000", "带号": "42"}, pre42), 4530, nil},
		{"几度分带 3度", file(map[string]string{"几度分带": "3度", "带号": "42"}, pre42), 4530, nil},
		{"几度分带 empty, prefix decides", file(map[string]string{"几度分带": ""}, pre40), 4528, nil},
		{"几度分带 empty, 带号 decides 6°", file(map[string]string{"几度分带": "", "带号": "21"}, plain), 4510, nil},
		{"6°, prefix 21", file(map[string]string{"几度分带": "6", "带号": "21"}, [2]float64{4822000, 21700000}), 4499, nil},
		{"6°, plain, 带号 21", file(map[string]string{"几度分带": "6", "带号": "21"}, plain), 4510, nil},
		{"no points, 带号 42", file(map[string]string{"带号": "42"}), 4551, nil},
		{"投影类型 empty", file(map[string]string{"投影类型": "", "带号": "42"}, pre42), 4530, nil},
		{"投影类型 高斯-克吕格投影", file(map[string]string{"投影类型": "高斯-克吕格投影"}, pre42), 4530, nil},
		{"prefix disagrees with 带号", file(map[string]string{"带号": "42"}, pre40), 0, []string{"line 10", "zone 40", "(带号) 42"}},
		{"plain, no 带号", file(nil, plain), 0, []string{"line 10", "no zone number"}},
		{"mixed prefixed and plain", file(map[string]string{"带号": "42"}, pre42, plain), 0, []string{"line 11", "EPSG:4551", "line 10", "EPSG:4530", "mixed"}},
		{"X and Y swapped", file(map[string]string{"带号": "40"}, [2]float64{40520986.477, 3353189.181}), 0, []string{"line 10", "swapped"}},
		{"Xian 1980", file(map[string]string{"坐标系": "1980西安坐标系"}, pre42), 0, []string{"Xian 1980", "official"}},
		{"Beijing 1954", file(map[string]string{"坐标系": "1954北京坐标系"}, pre42), 0, []string{"Beijing 1954", "official"}},
		{"WGS 84", file(map[string]string{"坐标系": "WGS84"}, pre42), 0, []string{"not supported"}},
		{"坐标系 empty", file(map[string]string{"坐标系": ""}, pre42), 0, []string{"坐标系 is empty"}},
		{"UTM", file(map[string]string{"投影类型": "UTM"}, pre42), 0, []string{"not Gauss-Krüger"}},
		{"几度分带 1.5", file(map[string]string{"几度分带": "1.5"}, pre42), 0, []string{"3 or 6"}},
		{"几度分带 text", file(map[string]string{"几度分带": "三度"}, pre42), 0, []string{"not 3 or 6"}},
		{"带号 text", file(map[string]string{"带号": "四十"}, pre40), 0, []string{"带号=四十"}},
		{"zone 30 prefix but 6°", file(map[string]string{"几度分带": "6"}, [2]float64{4822000, 30500000}), 0, []string{"6-degree zone 30"}},
		{"no points, no 带号", file(nil), 0, []string{"no points and no 带号"}},
		{"几度分带 empty and zone 99", file(map[string]string{"几度分带": "", "带号": "99"}, plain), 0, []string{"neither"}},
	}
	for _, tt := range tests {
		got, err := tt.f.EPSG()
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("%s: EPSG() = %d, want an error", tt.name, got)
				continue
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not contain %q", tt.name, err, w)
				}
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: EPSG() = %d, %v; want %d", tt.name, got, err, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	f := &File{
		Header: map[string]string{"坐标系": "2000国家大地坐标系", "带号": "42", "其他": "not written"},
		Parcels: []Parcel{{
			AreaHa: math.NaN(), Number: "1", Name: "地块", Extra: []string{"dropped"},
			Rings: []Ring{
				{Number: 1, Points: []Point{{"", 0, 4822000, 42510000}, {"", 0, 4822000, 42510100.0004}, {"", 0, 4822100, 42510100}}},
				{Number: 2, Points: []Point{{"K1", 0, 4822040, 42510040}, {"K2", 0, 4822040, 42510060}, {"K3", 0, 4822060, 42510060}, {"X", 0, 4822040, 42510040}}},
			},
		}},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f, "utf-8", false); err != nil {
		t.Fatal(err)
	}
	want := "[属性描述]\n格式版本号=\n数据产生单位=\n数据产生日期=\n坐标系=2000国家大地坐标系\n几度分带=\n投影类型=\n计量单位=\n带号=42\n精度=\n转换参数=,,,,,,\n" +
		"[地块坐标]\n" +
		"8,,1,地块,面,,,,@\n" +
		"J1,1,4822000.000,42510000.000\n" +
		"J2,1,4822000.000,42510100.000\n" +
		"J3,1,4822100.000,42510100.000\n" +
		"J1,1,4822000.000,42510000.000\n" +
		"K1,2,4822040.000,42510040.000\n" +
		"K2,2,4822040.000,42510060.000\n" +
		"K3,2,4822060.000,42510060.000\n" +
		"K1,2,4822040.000,42510040.000\n"
	if buf.String() != want {
		t.Errorf("Encode =\n%s\nwant\n%s", buf.String(), want)
	}

	bad := []struct {
		name string
		f    *File
		enc  string
		want string
	}{
		{"nil file", nil, UTF8, "nil file"},
		{"unknown encoding", f, "Big5", "use UTF-8 or GBK"},
		{"comma in name", &File{Parcels: []Parcel{{Name: "a,b", Rings: f.Parcels[0].Rings}}}, UTF8, "contains a comma"},
		{"@ in point name", &File{Parcels: []Parcel{{Rings: []Ring{{Number: 1, Points: []Point{{"@", 0, 0, 0}, {"b", 0, 0, 1}, {"c", 0, 1, 1}}}}}}}, UTF8, "contains a comma, @"},
		{"no rings", &File{Parcels: []Parcel{{Name: "x"}}}, UTF8, "no rings"},
		{"short ring", &File{Parcels: []Parcel{{Rings: []Ring{{Number: 1, Points: []Point{{"a", 0, 0, 0}, {"b", 0, 0, 1}}}}}}}, UTF8, "needs at least 3"},
		{"NaN coordinate", &File{Parcels: []Parcel{{Rings: []Ring{{Number: 1, Points: []Point{{"a", 0, math.NaN(), 0}, {"b", 0, 0, 1}, {"c", 0, 1, 1}}}}}}}, UTF8, "not a finite number"},
		{"header line break", &File{Header: map[string]string{"带号": "4\n2"}}, UTF8, "line break"},
		{"character outside GBK", &File{Header: map[string]string{"数据产生单位": "𠮷"}}, GBK, "U+20BB7"},
	}
	for _, tt := range bad {
		err := Encode(&bytes.Buffer{}, tt.f, tt.enc, false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Encode error = %v, want containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParseErrorWithoutLine(t *testing.T) {
	e := &ParseError{Msg: "file is empty", MsgZH: "文件为空"}
	if e.Error() != "文件为空 / file is empty" {
		t.Errorf("Error() = %q", e.Error())
	}
}

func FuzzDecode(f *testing.F) {
	for _, rf := range realFiles {
		f.Add(readReal(f, rf.name))
	}
	f.Add([]byte(syntheticFile))
	f.Add([]byte("[属性描述]\n[地块坐标]\n@\n1,1,1,1\n"))
	f.Add([]byte("【地块坐标】\r\n3,,,,,,,@\r\nJ1,2,0,0\r\nJ2,2,0,1\r\nJ3,2,1,1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Decode error %v is not a *ParseError", err)
			}
			return
		}
		if len(file.Parcels) == 0 {
			t.Fatal("Decode succeeded without parcels")
		}
		for _, p := range file.Parcels {
			for _, r := range p.Rings {
				if len(r.Points) < 4 {
					t.Fatalf("ring with %d points after closing", len(r.Points))
				}
				first, last := r.Points[0], r.Points[len(r.Points)-1]
				if first.North != last.North || first.East != last.East {
					t.Fatal("ring not closed")
				}
			}
			_ = p.Polygon()
			_ = p.MultiPolygon()
		}
		_, _ = file.EPSG()
		_ = Encode(&bytes.Buffer{}, file, UTF8, false)
		_ = Encode(&bytes.Buffer{}, file, GBK, true)
	})
}
