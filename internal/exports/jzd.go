package exports

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"

	"villageplan/geo/crs"
	"villageplan/geo/jzd"
	"villageplan/internal/exchange"
	"villageplan/layers"
)

// jzd writes a 界址点坐标 TXT file (DOMAIN.md §6) with geo/jzd: the header
// block filled in (坐标系=2000国家大地坐标系, 几度分带, 投影类型=高斯克吕格,
// 计量单位=米, 带号, 精度=0.001), one parcel per feature with 地块编号, 地块名称,
// 地块用途 and 地类编码 from the layer's standard fields (exchange.ParcelField;
// the feature id when the layer has no number field), 地块面积 in 公顷 with 4
// decimals measured by PostGIS on the output Gauss-Krüger plane, and the
// points numbered J1… with X = northing, every ring closed. Ring 1 is the
// outer ring of the first part; its holes and further parts follow as rings
// 2, 3… (the reader tells holes from parts by containment). Line ends are
// CR LF, as Windows tools expect.
func (e *exporter) jzd(ctx context.Context, w io.Writer) error {
	l := e.q.Layer
	if l.Geometry != layers.MultiPolygon {
		return fmt.Errorf("export: 界址点 TXT holds land parcels (polygons); layer %s has %s geometry", l.ID, l.Geometry)
	}
	srid := e.q.OutputSRID
	if srid == 0 {
		// The median of the features' box centres, not the centre of
		// their extent: one stray feature (a legacy row across the
		// antimeridian) must not move the whole file to another zone.
		var lon *float64
		if err := e.aggregate(ctx, []string{"percentile_disc(0.5) WITHIN GROUP (ORDER BY (ST_XMin(t.geom) + ST_XMax(t.geom)) / 2)"}, &lon); err != nil {
			return fmt.Errorf("export %s: %w", l.ID, err)
		}
		zone := crs.GKZone3ForLongitude(126) // 双阳区 when the selection is empty
		if lon != nil {
			zone = crs.GKZone3ForLongitude(*lon)
		}
		var err error
		if srid, err = crs.EPSGFor3DegreeZone(zone, true); err != nil {
			return fmt.Errorf("export: the features lie outside the CGCS2000 Gauss-Krüger zones: %w", err)
		}
	}
	c, ok := crs.Lookup(srid)
	if !ok || c.Kind != crs.GaussKruger {
		return fmt.Errorf("export: 界址点 TXT coordinates are on a CGCS2000 Gauss-Krüger plane; EPSG:%d is not one (use e.g. EPSG:4530 or EPSG:4551 for 双阳)", srid)
	}
	e.res.EPSG = srid

	var roleFields []layers.Field
	roleIdx := map[exchange.ParcelRole]int{}
	for _, r := range []exchange.ParcelRole{exchange.RoleNumber, exchange.RoleName, exchange.RoleUse, exchange.RoleDLBM} {
		if f, ok := exchange.ParcelField(l, r); ok {
			roleIdx[r] = len(roleFields)
			roleFields = append(roleFields, f)
		}
	}
	producer := e.opts.Producer
	if producer == "" {
		producer = "villageplan"
	}
	file := &jzd.File{Header: map[string]string{
		"格式版本号": "1.01版本", "数据产生单位": producer, "数据产生日期": time.Now().Format("2006-01-02"),
		"坐标系": "2000国家大地坐标系", "几度分带": strconv.Itoa(c.ZoneWidth), "投影类型": "高斯克吕格", "计量单位": "米",
		"带号": strconv.Itoa(c.Zone), "精度": "0.001", "转换参数": ",,,,,,",
	}}
	cleaned := 0
	clean := func(v any) string {
		s := formatValue(v)
		if strings.ContainsAny(s, ",@\r\n") {
			cleaned++
			s = strings.NewReplacer(",", "，", "@", "＠", "\r", " ", "\n", " ").Replace(s)
		}
		return s
	}
	g := "ST_Transform(t.geom, " + strconv.Itoa(srid) + ")"
	err := e.queryFields(ctx, []string{"ST_AsBinary(" + g + ", 'NDR')", "ST_Area(" + g + ") / 10000"}, roleFields, func(id int64, extra, vals []any) error {
		b, _ := extra[0].([]byte)
		geom, err := orbwkb.Unmarshal(b)
		if err != nil {
			return fmt.Errorf("feature %d: %w", id, err)
		}
		mp, ok := geom.(orb.MultiPolygon)
		if !ok {
			if p, isPoly := geom.(orb.Polygon); isPoly {
				mp = orb.MultiPolygon{p}
			}
		}
		if len(mp) == 0 {
			// Only where the layer's CHECK constraints were dropped.
			return fmt.Errorf("要素 %d 的几何图形为空（EMPTY），界址点文件无法表示；请更正数据或用 filter 排除该要素。 feature %d has an EMPTY geometry, which a 界址点 file cannot hold; correct the data or leave the feature out with a filter", id, id)
		}
		area, _ := extra[1].(float64)
		p := jzd.Parcel{AreaHa: area, Shape: "面", Number: strconv.FormatInt(id, 10)}
		get := func(r exchange.ParcelRole) string {
			if i, ok := roleIdx[r]; ok && vals[i] != nil {
				return clean(vals[i])
			}
			return ""
		}
		if s := get(exchange.RoleNumber); s != "" {
			p.Number = s
		}
		p.Name, p.Use, p.DLBM = get(exchange.RoleName), get(exchange.RoleUse), get(exchange.RoleDLBM)
		if p.Use == "" {
			p.Use = l.TitleZH
		}
		n := 0
		for _, poly := range mp {
			for _, ring := range poly {
				n++
				r := jzd.Ring{Number: n}
				for _, pt := range ring {
					r.Points = append(r.Points, jzd.Point{North: pt[1], East: pt[0]})
				}
				p.Rings = append(p.Rings, r)
			}
		}
		file.Parcels = append(file.Parcels, p)
		return nil
	})
	if err != nil {
		return err
	}
	if len(file.Parcels) == 0 {
		return fmt.Errorf("export: no parcel selected; a 界址点 file needs at least one")
	}
	if cleaned > 0 {
		e.res.Warnings = append(e.res.Warnings, fmt.Sprintf("%d value(s) contained a comma, @ or line break, which the format forbids; written with full-width ，＠ instead", cleaned))
	}
	enc := jzd.GBK
	if e.enc == exchange.UTF8 {
		enc = jzd.UTF8
	}
	return jzd.Encode(w, file, enc, true)
}
