package siting

import (
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"villageplan/layers"
)

//go:embed report.html
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"outcomeZH": Outcome.ZH,
	"lower":     func(o Outcome) string { return strings.ToLower(string(o)) },
	"num": func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.2f", *p)
	},
	"date": func(t time.Time) string { return t.In(time.FixedZone("CST", 8*3600)).Format("2006年01月02日 15:04") },
	"dir": func(k string) string {
		return map[string]string{"east": "东", "south": "南", "west": "西", "north": "北"}[k]
	},
}).Parse(reportHTML))

// reportMap is the server-drawn map of a check: paths in the Gauss-Krüger
// plane of the check (ST_AsSVG, y pointing down), translated so that the
// window's lower-left corner is the origin: browsers draw SVG in float32,
// whose 0.5 m steps at a northing of 4.8e6 would blur a 20 m parcel.
type reportMap struct {
	ViewBox      string
	Context      []svgPath // homesteads, roads, power lines, water pipes around the site
	Conflicts    []svgPath // features that made a rule fail, clipped to the window
	Site         string
	ScaleM       float64 // scale-bar length in metres
	ScaleX       float64
	ScaleY       float64
	ScaleW       float64
	StrokeWidth  float64
	FontSize     float64
	WindowWidthM float64
}

type svgPath struct {
	Layer string
	ID    int64
	D     string
	Line  bool
}

// Report writes the printable A4 report (Chinese) of a stored check: site
// facts, a map drawn by the server, the rule table, the verdict, the data
// and rule-set versions and the date.
func (s *Service) Report(ctx context.Context, w io.Writer, res *Result) error {
	m, err := s.drawMap(ctx, res)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(res.DataVersions))
	for k := range res.DataVersions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var versions []string
	for _, k := range keys {
		versions = append(versions, fmt.Sprintf("%s v%d", k, res.DataVersions[k]))
	}
	covKeys := make([]string, 0, len(res.CoverageSources))
	for k := range res.CoverageSources {
		covKeys = append(covKeys, k)
	}
	sort.Strings(covKeys)
	var cov []string
	for _, k := range covKeys {
		c := res.CoverageSources[k]
		cov = append(cov, fmt.Sprintf("%s：%s（%s 记录）", k, c.Source, c.RecordedAt.Format("2006-01-02")))
	}
	return reportTmpl.Execute(w, map[string]any{
		"R": res, "Map": m, "Versions": strings.Join(versions, "，"), "Coverage": strings.Join(cov, "；"),
		"Neighbors": []string{"east", "south", "west", "north"},
	})
}

// drawable is the SQL of a feature's geometry (alias f) that GEOS accepts:
// the stored one when valid, else its ST_MakeValid repair of the layer's
// dimension (a stored invalid polygon would make ST_Intersection throw).
func drawable(l *layers.Layer) string {
	dim := "3"
	switch l.Geometry {
	case layers.MultiLineString:
		dim = "2"
	case layers.Point:
		dim = "1"
	}
	return "CASE WHEN ST_IsValid(f.geom) THEN f.geom ELSE ST_CollectionExtract(ST_MakeValid(f.geom), " + dim + ") END"
}

// drawMap draws the site, the conflicting features and the context within
// 40 m of the site, all on the check's Gauss-Krüger plane.
func (s *Service) drawMap(ctx context.Context, res *Result) (*reportMap, error) {
	conflicts := map[string][]int64{}
	for _, r := range res.Rules {
		if r.Outcome == Pass {
			continue
		}
		for _, f := range r.Features {
			conflicts[f.Layer] = append(conflicts[f.Layer], f.ID)
		}
	}
	var b strings.Builder
	b.WriteString(`WITH site AS (SELECT ST_Transform(site, $2::int) AS p, site AS g FROM villageplan.siting_checks WHERE id = $1),
win AS (SELECT w, ST_Transform(w, 4490) AS w4490, -ST_XMin(w) AS dx, -ST_YMin(w) AS dy
	FROM (SELECT ST_Expand(ST_Envelope(p), 40) AS w FROM site) e)
SELECT 'site' AS kind, '' AS layer, 0::bigint AS id, ST_AsSVG(ST_Translate(p, dx, dy), 0, 2) AS d, false AS line,
       0::float8, 0::float8, ST_XMax(w) + dx, ST_YMax(w) + dy FROM site, win`)
	args := []any{res.ID, res.Site.MeasureEPSG}
	for _, l := range []*layers.Layer{layers.Homesteads, layers.Roads, layers.PowerLines, layers.WaterPipelines} {
		fmt.Fprintf(&b, `
UNION ALL SELECT 'context', '%s', f.id, ST_AsSVG(ST_Translate(ST_Intersection(ST_Transform(%s, $2::int), win.w), dx, dy), 0, 2), %v, 0, 0, 0, 0
FROM %s f, win WHERE f.geom && win.w4490`, l.ID, drawable(l), l.Geometry == layers.MultiLineString, l.QualifiedTable())
	}
	cat := layers.Default()
	ids := make([]string, 0, len(conflicts))
	for id := range conflicts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l, ok := cat.Layer(id)
		if !ok {
			continue
		}
		args = append(args, conflicts[id])
		fmt.Fprintf(&b, `
UNION ALL SELECT 'conflict', '%s', f.id, ST_AsSVG(ST_Translate(ST_Intersection(ST_Transform(%s, $2::int), win.w), dx, dy), 0, 2), %v, 0, 0, 0, 0
FROM %s f, win WHERE f.id = ANY($%d::bigint[]) AND NOT ST_IsEmpty(f.geom)`, l.ID, drawable(l), l.Geometry == layers.MultiLineString, l.QualifiedTable(), len(args))
	}
	rows, err := s.pool.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("report map: %w", err)
	}
	defer rows.Close()
	m := &reportMap{}
	for rows.Next() {
		var kind, layer, d string
		var id int64
		var line bool
		var minx, miny, maxx, maxy float64
		if err := rows.Scan(&kind, &layer, &id, &d, &line, &minx, &miny, &maxx, &maxy); err != nil {
			return nil, err
		}
		switch kind {
		case "site":
			m.Site = d
			w, h := maxx-minx, maxy-miny
			m.ViewBox = fmt.Sprintf("%.2f %.2f %.2f %.2f", minx, -maxy, w, h)
			m.WindowWidthM = w
			m.StrokeWidth = w / 300
			m.FontSize = w / 28
			m.ScaleM = niceLength(w / 4)
			m.ScaleX, m.ScaleY, m.ScaleW = minx+w*0.05, -miny-h*0.05, m.ScaleM
		case "context":
			if d != "" {
				m.Context = append(m.Context, svgPath{Layer: layer, ID: id, D: d, Line: line})
			}
		case "conflict":
			if d != "" {
				m.Conflicts = append(m.Conflicts, svgPath{Layer: layer, ID: id, D: d, Line: line})
			}
		}
	}
	return m, rows.Err()
}

// niceLength rounds a length down to 1, 2 or 5 × 10ⁿ metres.
func niceLength(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{5, 2, 1} {
		if f*p <= x {
			return f * p
		}
	}
	return p
}
