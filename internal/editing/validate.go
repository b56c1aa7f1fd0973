package editing

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"villageplan/geo/crs"
	"villageplan/layers"
)

// MaxVertices bounds the positions of one geometry of an edit.
const MaxVertices = 100000

// featureDoc is a GeoJSON Feature as sent by a client.
type featureDoc struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// decodeObject reads a JSON object keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

var patternCache sync.Map // pattern → *regexp.Regexp

func pattern(p string) *regexp.Regexp {
	if re, ok := patternCache.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(p) // validated by the catalog
	patternCache.Store(p, re)
	return re
}

func fieldNames(l *layers.Layer) string {
	var ns []string
	for _, f := range l.Fields {
		ns = append(ns, f.Name)
	}
	return strings.Join(ns, ", ")
}

// checkValue validates and normalises one property value for field f
// (nil stays nil: required fields are checked on the whole feature). The
// result is what jsonb_populate_record reads into the column: a string
// (text, date as YYYY-MM-DD, code-list value), an int64, a float64 or a bool.
func checkValue(l *layers.Layer, f layers.Field, v any) (any, *Error) {
	if v == nil {
		return nil, nil
	}
	name := fmt.Sprintf("%s（%s）", f.Name, f.TitleZH)
	bad := func(zh, en string, a ...any) *Error {
		e := errf(http.StatusUnprocessableEntity, CodeInvalid, "属性 "+name+"："+zh, "property "+f.Name+" ("+f.TitleEN+"): "+en, a...)
		return e.field(f.Name)
	}
	switch f.Type {
	case layers.Text:
		s, ok := v.(string)
		if !ok {
			return nil, bad("须为文本（字符串），收到 %s", "must be text (a JSON string), got %s", jsonKind(v))
		}
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, bad("含有 NUL 字符或无效的 UTF-8", "holds a NUL character or invalid UTF-8")
		}
		if f.MaxLength > 0 && utf8.RuneCountInString(s) > f.MaxLength {
			return nil, bad("“%s”有 %d 个字符，最多 %d 个", "%q has %d characters, at most %d are allowed", s, utf8.RuneCountInString(s), f.MaxLength)
		}
		if f.CodeList != "" {
			cl, _ := layers.CodeListByID(f.CodeList)
			cv, ok := cl.Lookup(s)
			if !ok {
				var vals []string
				for _, c := range cl.Values {
					vals = append(vals, c.Value)
				}
				list := strings.Join(vals, "、")
				if len(vals) > 25 {
					list = strings.Join(vals[:25], "、") + " …"
				}
				e := bad("“%s”不在代码表 %s（%s）中；可用值：%s", "%q is not in code list %s (%s); use one of: %s",
					s, cl.ID, cl.TitleZH, list)
				e.EN = fmt.Sprintf("property %s (%s): %q is not in code list %s (%s); use one of: %s", f.Name, f.TitleEN, s, cl.ID, cl.TitleEN, list)
				return nil, e
			}
			s = cv.Value
		}
		if f.Pattern != "" && !pattern(f.Pattern).MatchString(s) {
			e := bad("“%s”须为%s", "%q must be %s", s, f.PatternZH)
			e.EN = fmt.Sprintf("property %s (%s): %q must be %s", f.Name, f.TitleEN, s, f.PatternEN)
			return nil, e
		}
		return s, nil
	case layers.Integer:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("须为整数，收到 %s", "must be a whole number, got %s", jsonKind(v))
		}
		i, err := n.Int64()
		if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			return nil, bad("%s 不是 32 位整数", "%s is not a 32-bit whole number", n.String())
		}
		if f.Min != nil && float64(i) < *f.Min {
			return nil, bad("%d 小于下限 %g%s", "%d is below the minimum %g%s", i, *f.Min, unit(f))
		}
		return i, nil
	case layers.Real:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("须为数值，收到 %s", "must be a number, got %s", jsonKind(v))
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, bad("%s 不是有限数值", "%s is not a finite number", n.String())
		}
		if f.Min != nil && x < *f.Min {
			return nil, bad("%g 小于下限 %g%s", "%g is below the minimum %g%s", x, *f.Min, unit(f))
		}
		return x, nil
	case layers.Date:
		s, ok := v.(string)
		if !ok {
			return nil, bad("须为日期文本 YYYY-MM-DD，收到 %s", "must be a date string YYYY-MM-DD, got %s", jsonKind(v))
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, bad("“%s”不是 YYYY-MM-DD 格式的日期", "%q is not a date in the form YYYY-MM-DD", s)
		}
		return t.Format("2006-01-02"), nil
	case layers.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, bad("须为 true 或 false，收到 %s", "must be true or false, got %s", jsonKind(v))
		}
		return b, nil
	}
	return nil, bad("类型 %s 不支持编辑", "type %s cannot be edited", f.Type)
}

func unit(f layers.Field) string {
	if f.Unit == "" {
		return ""
	}
	return " " + f.Unit
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case json.Number:
		return "a number"
	case bool:
		return "true/false"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "null"
}

// checkProperties validates props against the layer's fields: every key is
// a field, every value fits its field. It returns the normalised values.
func checkProperties(l *layers.Layer, props map[string]any) (map[string]any, *Error) {
	out := map[string]any{}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := l.Field(k)
		if !ok {
			return nil, errf(http.StatusUnprocessableEntity, CodeInvalid,
				"图层 %s 没有属性 %q；可用属性：%s", "layer %s has no property %q; its properties are: %s", l.ID, k, fieldNames(l)).field(k)
		}
		v, e := checkValue(l, f, props[k])
		if e != nil {
			return nil, e
		}
		out[k] = v
	}
	return out, nil
}

// checkRequired reports the first required field without a value.
func checkRequired(l *layers.Layer, props map[string]any) *Error {
	for _, f := range l.Fields {
		if f.Required && props[f.Name] == nil {
			return errf(http.StatusUnprocessableEntity, CodeInvalid,
				"缺少必填属性 %s（%s）；请填写后重新提交", "the required property %s (%s) has no value; give it and send again",
				f.Name, f.TitleZH).field(f.Name)
		}
	}
	return nil
}

// inputGeometry is a geometry of a request as WKB in its CRS, with x =
// easting/longitude.
type inputGeometry struct {
	wkb  []byte
	srid int
	// sameDatum: WGS 84 and CGCS2000 longitude/latitude are taken as equal
	// (as by the features API and imports): ST_SetSRID, not ST_Transform.
	sameDatum bool
	crs       crs.CRS
}

// parseCRS reads a Content-Crs value ("" = CRS84; the header's angle
// brackets are allowed).
func parseCRS(s string) (crs.CRS, *Error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if s == "" {
		return crs.CRS84(), nil
	}
	c, err := crs.ParseURI(s)
	if err != nil {
		return crs.CRS{}, errf(http.StatusBadRequest, CodeBadRequest,
			"不支持的坐标系 %q（Content-Crs）；可用 CRS84、EPSG:4490、EPSG:4326、EPSG:3857 和 CGCS2000 高斯-克吕格 EPSG:4491–4554",
			"unsupported CRS %q (Content-Crs); use CRS84, EPSG:4490, EPSG:4326, EPSG:3857 or CGCS2000 Gauss-Krüger EPSG:4491–4554", s)
	}
	return c, nil
}

// parseGeometry reads a GeoJSON geometry for layer l in CRS c: the type
// must fit the layer (Polygon or MultiPolygon for a polygon layer …),
// rings closed with at least 4 positions, lines with at least 2, and every
// position must fit c (degrees for a geographic CRS, the zone's eastings
// for Gauss-Krüger). Positions are in the CRS's axis order (OGC API –
// Features Part 2: latitude first for EPSG:4490/4326, northing first for
// Gauss-Krüger; longitude first for CRS84), as the features API writes
// them.
func parseGeometry(l *layers.Layer, raw json.RawMessage, c crs.CRS) (*inputGeometry, *Error) {
	bad := func(zh, en string, a ...any) *Error {
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "几何图形："+zh, "geometry: "+en, a...).field("geometry")
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, bad("缺少几何图形；图层 %s 的要素须有 %s 几何", "missing; a feature of layer %s needs a %s geometry", l.ID, l.Geometry)
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil || g == nil || g.Geometry() == nil {
		msg := "not GeoJSON"
		if err != nil {
			msg = err.Error()
		}
		return nil, bad("不是有效的 GeoJSON 几何：%s", "not a valid GeoJSON geometry: %s", msg)
	}
	geom := g.Geometry()
	want := map[layers.GeometryType][]string{
		layers.Point:           {"Point"},
		layers.MultiLineString: {"LineString", "MultiLineString"},
		layers.MultiPolygon:    {"Polygon", "MultiPolygon"},
	}[l.Geometry]
	ok := false
	for _, t := range want {
		ok = ok || geom.GeoJSONType() == t
	}
	if !ok {
		return nil, bad("图层 %s（%s）须为 %s，收到 %s", "layer %s (%s) takes %s, got %s",
			l.ID, l.TitleZH, strings.Join(want, "/"), geom.GeoJSONType())
	}
	swap := c.Axis == crs.NorthEast && !c.CRS84
	n := 0
	var perr *Error
	check := func(p *orb.Point, where, whereEN string) {
		if perr != nil {
			return
		}
		n++
		if swap {
			p[0], p[1] = p[1], p[0]
		}
		if msgZH, msgEN := fits(*p, c); msgZH != "" {
			perr = bad("%s：%s", "%s: %s", where, msgZH)
			perr.EN = "geometry: " + whereEN + ": " + msgEN
		}
	}
	ring := func(r orb.Ring, where, whereEN string) {
		if perr != nil {
			return
		}
		if len(r) < 4 {
			perr = bad("%s只有 %d 个点；面的环至少 4 个点（首尾相同）", "%s has %d positions; a ring needs at least 4 (first = last)", where, len(r))
			perr.EN = fmt.Sprintf("geometry: %s has %d positions; a ring needs at least 4 (first = last)", whereEN, len(r))
			return
		}
		if r[0] != r[len(r)-1] {
			perr = bad("%s未闭合：最后一个点须与第一个点相同", "%s is not closed: the last position must repeat the first", where)
			perr.EN = "geometry: " + whereEN + " is not closed: the last position must repeat the first"
			return
		}
		for i := range r {
			check(&r[i], fmt.Sprintf("%s第 %d 个点", where, i+1), fmt.Sprintf("%s position %d", whereEN, i+1))
		}
	}
	line := func(ls orb.LineString, where, whereEN string) {
		if perr != nil {
			return
		}
		if len(ls) < 2 {
			perr = bad("%s只有 %d 个点；线至少 2 个点", "%s has %d positions; a line needs at least 2", where, len(ls))
			perr.EN = fmt.Sprintf("geometry: %s has %d positions; a line needs at least 2", whereEN, len(ls))
			return
		}
		for i := range ls {
			check(&ls[i], fmt.Sprintf("%s第 %d 个点", where, i+1), fmt.Sprintf("%s position %d", whereEN, i+1))
		}
	}
	switch t := geom.(type) {
	case orb.Point:
		check(&t, "点", "the point")
		geom = t
	case orb.LineString:
		line(t, "线", "the line")
	case orb.MultiLineString:
		if len(t) == 0 {
			return nil, bad("多线为空", "the MultiLineString is empty")
		}
		for i := range t {
			line(t[i], fmt.Sprintf("第 %d 条线", i+1), fmt.Sprintf("line %d", i+1))
		}
	case orb.Polygon:
		if len(t) == 0 {
			return nil, bad("面没有环", "the Polygon has no ring")
		}
		for j := range t {
			ring(t[j], fmt.Sprintf("第 %d 环", j+1), fmt.Sprintf("ring %d", j+1))
		}
	case orb.MultiPolygon:
		if len(t) == 0 {
			return nil, bad("多面为空", "the MultiPolygon is empty")
		}
		for i := range t {
			if len(t[i]) == 0 {
				return nil, bad("第 %d 个面没有环", "polygon %d has no ring", i+1)
			}
			for j := range t[i] {
				ring(t[i][j], fmt.Sprintf("第 %d 个面第 %d 环", i+1, j+1), fmt.Sprintf("polygon %d ring %d", i+1, j+1))
			}
		}
	}
	if perr != nil {
		return nil, perr
	}
	if n > MaxVertices {
		return nil, bad("有 %d 个点，超过上限 %d", "has %d positions, more than the limit of %d", n, MaxVertices)
	}
	b, err := orbwkb.Marshal(geom)
	if err != nil {
		return nil, bad("无法编码：%v", "cannot be encoded: %v", err)
	}
	srid := c.EPSG
	same := c.Kind == crs.Geographic
	return &inputGeometry{wkb: b, srid: srid, sameDatum: same, crs: c}, nil
}

// fits says (Chinese, English) why position p (x = easting/longitude)
// cannot be in CRS c; "" when it can.
func fits(p orb.Point, c crs.CRS) (string, string) {
	x, y := p[0], p[1]
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return "坐标不是有限数值", "the coordinate is not a finite number"
	}
	switch c.Kind {
	case crs.GaussKruger:
		e := x
		if c.ZonePrefix {
			if e < crs.PrefixedEastingMin {
				return fmt.Sprintf("东坐标 %.3f 不带带号，但 %s 要求带号（如 %d%06.0f）；或改用不带带号的坐标系", x, c, c.Zone, x),
					fmt.Sprintf("easting %.3f has no zone number but %s expects one (e.g. %d%06.0f); or send the CRS without zone number", x, c, c.Zone, x)
			}
			if z := int(e / 1e6); z != c.Zone {
				return fmt.Sprintf("东坐标 %.3f 的带号是 %d，与 %s（%d 带）不符", x, z, c, c.Zone),
					fmt.Sprintf("easting %.3f carries zone %d, but %s is zone %d", x, z, c, c.Zone)
			}
			e -= float64(c.Zone) * 1e6
		} else if e >= crs.PrefixedEastingMin {
			return fmt.Sprintf("东坐标 %.3f 带有带号 %d，但 %s 不带带号", x, int(e/1e6), c),
				fmt.Sprintf("easting %.3f carries zone number %d but %s has none", x, int(e/1e6), c)
		}
		if e < 100000 || e > 900000 || y < 0 || y > 7000000 {
			if zh, _ := fits(orb.Point{y, x}, c); zh == "" {
				return fmt.Sprintf("(%.3f, %.3f) 似乎是东坐标在前；%s 的坐标顺序是北坐标在前、东坐标在后（与本服务输出的 GeoJSON 相同），请交换", y, x, c),
					fmt.Sprintf("(%.3f, %.3f) looks like easting first; %s takes northing first, then easting (as this service writes it), swap them", y, x, c)
			}
			return fmt.Sprintf("(%.3f, %.3f) 不在 %s 的范围内；%s 的坐标顺序是北坐标在前、东坐标在后", y, x, c, c),
				fmt.Sprintf("(%.3f, %.3f) is outside %s; %s takes northing first, then easting", y, x, c, c)
		}
	case crs.Geographic:
		if math.Abs(x) > 180 || math.Abs(y) > 90 {
			order := "经度在前、纬度在后"
			orderEN := "longitude first"
			if !c.CRS84 {
				order, orderEN = "纬度在前、经度在后", "latitude first"
			}
			return fmt.Sprintf("不是经纬度（%s 的坐标顺序：%s）；高斯-克吕格坐标请用 Content-Crs 注明坐标系，如 EPSG:4551", c, order),
				fmt.Sprintf("is not longitude/latitude (%s takes %s); send Gauss-Krüger metres with their Content-Crs, e.g. EPSG:4551", c, orderEN)
		}
	case crs.WebMercator:
		if math.Abs(x) > 20037508.35 || math.Abs(y) > 20048966.11 {
			return "超出 Web 墨卡托范围", "is outside Web Mercator"
		}
	}
	return "", ""
}
