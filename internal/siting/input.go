package siting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"villageplan/geo/crs"
	"villageplan/geo/jzd"
	"villageplan/internal/exchange"
)

// Input is what the applicant declares besides the site (宅基地和建房申请表).
type Input struct {
	// HouseholdID is the applicant household (户编号); empty leaves 一户一宅
	// to a person (REVIEW).
	HouseholdID string `json:"household_id,omitempty"`
	// VillageCode is the 12-digit code of the village applied in.
	VillageCode string `json:"village_code,omitempty"`
	// ReturnsOldHomestead / RebuildInPlace: the application gives back the
	// old homestead or rebuilds on it (一户一宅 exceptions).
	ReturnsOldHomestead bool `json:"returns_old_homestead,omitempty"`
	RebuildInPlace      bool `json:"rebuild_in_place,omitempty"`
	// Storeys and FloorAreaM2 are the declared building (m²).
	Storeys     int     `json:"storeys,omitempty"`
	FloorAreaM2 float64 `json:"floor_area_m2,omitempty"`
}

// Limits on the applicant's fields and a parcel's label, checked by
// Input.Validate and ParseJZDSites before anything reaches the database.
// The text limits are in bytes of UTF-8. The bounds of storeys and floor
// area are rule-set values (RuleSet.MaxStoreys, MaxFloorAreaM2).
const (
	MaxHouseholdIDBytes = 64
	MaxLabelBytes       = 256
	MaxCRSBytes         = 256
)

// villageCodeRE is the form of a 12-digit village code (GB/T 2260 county
// code + 3-digit township + 3-digit village, 统计用区划代码).
var villageCodeRE = regexp.MustCompile(`^[0-9]{12}$`)

// FieldError is an InputError about one named field of the request
// (household_id, storeys, site.properties.name …).
func FieldError(field, zh, en string) *InputError {
	return &InputError{ZH: fmt.Sprintf("字段 %s：%s", field, zh), EN: fmt.Sprintf("field %s: %s", field, en), Field: field}
}

// TextProblem checks one text value for NUL bytes, invalid UTF-8 and a
// length over limit bytes (limit ≤ 0: no length limit), which PostgreSQL
// would refuse or a report could not show; it returns nil when the value
// is fine.
func TextProblem(field, v string, limit int) *InputError {
	if limit > 0 && len(v) > limit {
		return FieldError(field, fmt.Sprintf("长 %d 字节，超过上限 %d 字节", len(v), limit),
			fmt.Sprintf("is %d bytes long, more than the limit of %d bytes", len(v), limit))
	}
	if i := strings.IndexByte(v, 0); i >= 0 {
		return FieldError(field, fmt.Sprintf("第 %d 个字节是 NUL 字符（\\u0000），文本中不允许", i+1),
			fmt.Sprintf("contains a NUL character (\\u0000) at byte %d, which text may not hold", i+1))
	}
	if i := exchange.InvalidUTF8At(v); i >= 0 {
		return FieldError(field, fmt.Sprintf("从第 %d 个字节起不是有效的 UTF-8 文本", i+1),
			fmt.Sprintf("is not valid UTF-8 from byte %d on", i+1))
	}
	return nil
}

// Validate checks the applicant's fields: household_id text (at most
// MaxHouseholdIDBytes, no NUL, valid UTF-8), village_code empty or 12
// digits, storeys 0 (not declared) to rs.MaxStoreys, floor_area_m2 0 (not
// declared) to rs.MaxFloorAreaM2 and finite. It returns an *InputError naming
// the field, or nil.
func (in Input) Validate(rs *RuleSet) error {
	if e := TextProblem("household_id", in.HouseholdID, MaxHouseholdIDBytes); e != nil {
		return e
	}
	if e := TextProblem("village_code", in.VillageCode, 12); e != nil {
		return e
	}
	if in.VillageCode != "" && !villageCodeRE.MatchString(in.VillageCode) {
		return FieldError("village_code", fmt.Sprintf("%q 不是 12 位村级区划代码（如 220112203301）", in.VillageCode),
			fmt.Sprintf("%q is not a 12-digit village code (e.g. 220112203301)", in.VillageCode))
	}
	if in.Storeys < 0 || in.Storeys > rs.MaxStoreys {
		return FieldError("storeys", fmt.Sprintf("%d 不在 0（未申报）到 %d 层之间", in.Storeys, rs.MaxStoreys),
			fmt.Sprintf("%d is not between 0 (not declared) and %d storeys", in.Storeys, rs.MaxStoreys))
	}
	if math.IsNaN(in.FloorAreaM2) || in.FloorAreaM2 < 0 || in.FloorAreaM2 > rs.MaxFloorAreaM2 {
		return FieldError("floor_area_m2", fmt.Sprintf("%g 不在 0（未申报）到 %g 平方米之间", in.FloorAreaM2, rs.MaxFloorAreaM2),
			fmt.Sprintf("%g is not between 0 (not declared) and %g m²", in.FloorAreaM2, rs.MaxFloorAreaM2))
	}
	return nil
}

// Site is a proposed building site: a (Multi)Polygon whose x is the
// easting or longitude and y the northing or latitude, in the CRS of SRID.
type Site struct {
	Geometry orb.MultiPolygon
	SRID     int
	// Format is "geojson" or "jzd"; Label names the parcel (jzd 地块编号
	// and 名称).
	Format string
	Label  string
}

// InputError is a site that cannot be checked, with a message a desk clerk
// understands in Chinese and English and, where known, which part, ring
// and point (1-based) is wrong.
type InputError struct {
	// ZH and EN are the message; in JSON bodies they are description_zh
	// and description, as in every error of the API.
	ZH string `json:"description_zh"`
	EN string `json:"description"`
	// Field names the request field at fault (household_id, storeys,
	// site.properties.name …), when the error is about one.
	Field string  `json:"field,omitempty"`
	Part  int     `json:"part,omitempty"`
	Ring  int     `json:"ring,omitempty"`
	Point int     `json:"point,omitempty"`
	Line  int     `json:"line,omitempty"`
	Lon   float64 `json:"lon,omitempty"`
	Lat   float64 `json:"lat,omitempty"`
}

func (e *InputError) Error() string { return e.ZH + " / " + e.EN }

func inputErr(zh, en string, a ...any) *InputError {
	return &InputError{ZH: fmt.Sprintf(zh, a...), EN: fmt.Sprintf(en, a...)}
}

// ErrOutsideData is returned for a site that touches no village of the
// township's data.
var ErrOutsideData = &InputError{
	ZH: "选址不在本乡（双营子回族乡）数据范围内，无法审查；请核对坐标系和带号",
	EN: "the site lies outside the township's data extent; check the coordinate system and zone",
}

// Request is the JSON body of POST /siting/checks.
type Request struct {
	Input
	// Site is a GeoJSON Polygon or MultiPolygon geometry, or a Feature with
	// one.
	Site json.RawMessage `json:"site"`
	// CRS of the site coordinates: an OGC URI or EPSG:N; default CRS84.
	// Coordinates are always x = easting/longitude, y = northing/latitude
	// (GeoJSON order), whatever the CRS's axis order.
	CRS string `json:"crs,omitempty"`
}

// ParseGeoJSONSite reads a GeoJSON geometry or Feature in the CRS named by
// crsName ("" = CRS84).
func ParseGeoJSONSite(raw []byte, crsName string) (Site, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Site{}, inputErr("未提交选址图形", "no site geometry was sent")
	}
	if e := TextProblem("crs", crsName, MaxCRSBytes); e != nil {
		return Site{}, e
	}
	srid := 4326
	c := crs.CRS84()
	if crsName != "" {
		var err error
		c, err = crs.ParseURI(crsName)
		if err != nil {
			return Site{}, inputErr("不支持的坐标系 %q", "unsupported CRS %q", crsName)
		}
		srid = c.EPSG
	}
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Site{}, inputErr("选址不是有效的 GeoJSON：%v", "the site is not valid GeoJSON: %v", err)
	}
	var g orb.Geometry
	switch probe.Type {
	case "Feature":
		f, err := geojson.UnmarshalFeature(raw)
		if err != nil {
			return Site{}, inputErr("选址要素无法读取：%v", "cannot read the site feature: %v", err)
		}
		g = f.Geometry
	case "Polygon", "MultiPolygon", "Point", "LineString", "MultiPoint", "MultiLineString", "GeometryCollection":
		gg, err := geojson.UnmarshalGeometry(raw)
		if err != nil {
			return Site{}, inputErr("选址图形无法读取：%v", "cannot read the site geometry: %v", err)
		}
		g = gg.Geometry()
	default:
		return Site{}, inputErr("选址须为 GeoJSON 面（Polygon/MultiPolygon），收到 %q", "the site must be a GeoJSON Polygon or MultiPolygon, got %q", probe.Type)
	}
	var mp orb.MultiPolygon
	switch t := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{t}
	case orb.MultiPolygon:
		mp = t
	case nil:
		return Site{}, inputErr("选址图形为空", "the site geometry is empty")
	default:
		return Site{}, inputErr("选址须为面（Polygon/MultiPolygon），收到 %s；点或线不能作为宅基地选址", "the site must be a Polygon or MultiPolygon, got %s", g.GeoJSONType())
	}
	site := Site{Geometry: mp, SRID: srid, Format: "geojson"}
	return site, checkStructure(site, c, true)
}

// ParseJZDSites reads a 界址点坐标 txt file: one site per parcel.
func ParseJZDSites(raw []byte) ([]Site, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, inputErr("文件为空", "the file is empty")
	}
	f, err := jzd.Decode(bytes.NewReader(raw))
	if err != nil {
		var pe *jzd.ParseError
		if errors.As(err, &pe) {
			return nil, &InputError{ZH: fmt.Sprintf("第%d行：%s", pe.Line, pe.MsgZH), EN: fmt.Sprintf("line %d: %s", pe.Line, pe.Msg), Line: pe.Line}
		}
		return nil, inputErr("界址点文件无法读取：%v", "cannot read the 界址点 file: %v", err)
	}
	epsg, err := f.EPSG()
	if err != nil {
		return nil, inputErr("界址点文件坐标系错误：%v", "the 界址点 file's CRS is wrong: %v", err)
	}
	c, ok := crs.Lookup(epsg)
	if !ok {
		return nil, inputErr("不支持的坐标系 EPSG:%d", "unsupported CRS EPSG:%d", epsg)
	}
	var sites []Site
	for _, p := range f.Parcels {
		s := Site{Geometry: p.MultiPolygon(), SRID: epsg, Format: "jzd", Label: strings.TrimSpace(p.Number + " " + p.Name)}
		if e := TextProblem("label", s.Label, MaxLabelBytes); e != nil {
			e.Line = p.Line
			e.ZH = fmt.Sprintf("第%d行地块编号和名称（%s）", p.Line, e.ZH)
			e.EN = fmt.Sprintf("line %d, the parcel's number and name (%s)", p.Line, e.EN)
			return nil, e
		}
		if err := checkStructure(s, c, false); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Line = p.Line
				ie.ZH = fmt.Sprintf("地块“%s”（第%d行）：%s", s.Label, p.Line, ie.ZH)
				ie.EN = fmt.Sprintf("parcel %q (line %d): %s", s.Label, p.Line, ie.EN)
			}
			return nil, err
		}
		sites = append(sites, s)
	}
	if len(sites) == 0 {
		return nil, inputErr("文件中没有地块", "the file holds no parcel")
	}
	return sites, nil
}

// maxVertices is checked by the service with the rule set's limit; this
// is the hard cap of the parser.
const maxVertices = 100000

// checkStructure checks rings (closed when strict, at least 4 positions),
// finite coordinates, and that the coordinates fit the CRS: degrees for
// geographic CRSs, eastings with the right zone number for Gauss-Krüger.
func checkStructure(s Site, c crs.CRS, strictClosure bool) error {
	n := 0
	for pi, poly := range s.Geometry {
		if len(poly) == 0 {
			return &InputError{ZH: fmt.Sprintf("第%d个面没有边界环", pi+1), EN: fmt.Sprintf("polygon %d has no ring", pi+1), Part: pi + 1}
		}
		for ri, ring := range poly {
			at := func(zh, en string, pt int) *InputError {
				return &InputError{ZH: fmt.Sprintf("第%d个面第%d环：%s", pi+1, ri+1, zh), EN: fmt.Sprintf("polygon %d ring %d: %s", pi+1, ri+1, en), Part: pi + 1, Ring: ri + 1, Point: pt}
			}
			if len(ring) < 4 {
				return at(fmt.Sprintf("只有 %d 个点，面至少需要 4 个点（首尾相同）", len(ring)), fmt.Sprintf("only %d points; a ring needs at least 4 (first = last)", len(ring)), 0)
			}
			if strictClosure && ring[0] != ring[len(ring)-1] {
				return at("未闭合：最后一个点须与第一个点相同", "not closed: the last point must repeat the first", len(ring))
			}
			for i, p := range ring {
				n++
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
					return at(fmt.Sprintf("第%d个点坐标不是有限数值", i+1), fmt.Sprintf("point %d is not a finite coordinate", i+1), i+1)
				}
				if err := fitsCRS(p, c); err != nil {
					e := at(fmt.Sprintf("第%d个点 %s", i+1, err.ZH), fmt.Sprintf("point %d %s", i+1, err.EN), i+1)
					return e
				}
			}
		}
	}
	if n > maxVertices {
		return inputErr("选址有 %d 个点，超过上限", "the site has %d points, more than allowed", n)
	}
	return nil
}

func fitsCRS(p orb.Point, c crs.CRS) *InputError {
	x, y := p[0], p[1]
	switch c.Kind {
	case crs.GaussKruger:
		if c.ZonePrefix {
			if x < crs.PrefixedEastingMin {
				return inputErr("东坐标 %.3f 不带带号，但坐标系 %s 要求带号；请改用不带带号的坐标系", "easting %.3f has no zone number but %s expects one", x, c.Name)
			}
			if z := int(x / 1e6); z != c.Zone {
				return inputErr("东坐标 %.3f 的带号是 %d，与坐标系 %s（%d 带）不符", "easting %.3f carries zone %d, but %s is zone %d", x, z, c.Name, c.Zone)
			}
			x -= float64(c.Zone) * 1e6
		} else if x >= crs.PrefixedEastingMin {
			return inputErr("东坐标 %.3f 带有带号 %d，但坐标系 %s 不带带号", "easting %.3f carries zone number %d but %s has none", x, int(x/1e6), c.Name)
		}
		if x < 100000 || x > 900000 || y < 0 || y > 7000000 {
			return inputErr("坐标 (%.3f, %.3f) 不在 %s 的范围内（X 为北坐标，Y 为东坐标，是否颠倒？）", "(%.3f, %.3f) is outside %s (are northing and easting swapped?)", p[0], p[1], c.Name)
		}
	case crs.Geographic:
		if math.Abs(x) > 180 || math.Abs(y) > 90 {
			return inputErr("坐标 (%.3f, %.3f) 不是经纬度；高斯-克吕格坐标请注明坐标系，如 EPSG:4530", "(%.3f, %.3f) is not longitude/latitude; send Gauss-Krüger metres with their CRS, e.g. EPSG:4530", x, y)
		}
		if !c.Area.Contains(x, y) && !(c.Area == crs.BBox{}) {
			return inputErr("坐标 (%.6f, %.6f) 不在中国范围内（经度在前、纬度在后？）", "(%.6f, %.6f) is outside China (longitude first, then latitude?)", x, y)
		}
	case crs.WebMercator:
		if math.Abs(x) > 20037508.35 || math.Abs(y) > 20048966.11 {
			return inputErr("坐标 (%.3f, %.3f) 超出 Web 墨卡托范围", "(%.3f, %.3f) is outside Web Mercator", x, y)
		}
	}
	return nil
}
