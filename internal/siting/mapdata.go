package siting

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"villageplan/layers"
)

// MapData is what a printed map of a stored check shows, as geometries on
// the check's Gauss-Krüger plane (EPSG, metres; orb X = easting, Y =
// northing), for package documents to draw into its PDFs.
type MapData struct {
	EPSG int
	// Site is the checked site (MultiPolygon).
	Site orb.Geometry
	// Overlaps are, for every feature that made a rule fail (any outcome
	// but PASS), its intersection with the site when the layer is a polygon
	// layer, else the feature (line, point) cut to the window.
	Overlaps []MapPart
	// Context are homesteads, roads, power lines and water pipes cut to the
	// window (the site's bounding box grown by 40 m), as the HTML report.
	Context []MapPart
}

// MapPart is one geometry of MapData with its layer's Chinese title.
type MapPart struct {
	TitleZH string
	Geom    orb.Geometry
}

// MapData reads the geometries of the map of a stored check (res.ID ≠ 0).
func (s *Service) MapData(ctx context.Context, res *Result) (*MapData, error) {
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
	b.WriteString(`WITH site AS (SELECT ST_Transform(site, $2::int) AS p FROM villageplan.siting_checks WHERE id = $1),
win AS (SELECT w, ST_Transform(w, 4490) AS w4490 FROM (SELECT ST_Expand(ST_Envelope(p), 40) AS w FROM site) e)
SELECT 'site' AS kind, '' AS layer, ST_AsBinary(p) FROM site`)
	args := []any{res.ID, res.Site.MeasureEPSG}
	for _, l := range []*layers.Layer{layers.Homesteads, layers.Roads, layers.PowerLines, layers.WaterPipelines} {
		fmt.Fprintf(&b, `
UNION ALL SELECT 'context', '%s', ST_AsBinary(ST_Intersection(ST_Transform(%s, $2::int), win.w))
FROM %s f, win WHERE f.geom && win.w4490`, l.ID, drawable(l), l.QualifiedTable())
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
		part := "ST_Intersection(ST_Transform(%s, $2::int), win.w)"
		if l.Geometry != layers.MultiLineString && l.Geometry != layers.Point {
			// the overlap only, without the lines and points where it touches
			part = "ST_CollectionExtract(ST_Intersection(ST_Transform(%s, $2::int), site.p), 3)"
		}
		fmt.Fprintf(&b, `
UNION ALL SELECT 'conflict', '%s', ST_AsBinary(`+fmt.Sprintf(part, drawable(l))+`)
FROM %s f, site, win WHERE f.id = ANY($%d::bigint[]) AND NOT ST_IsEmpty(f.geom)`, l.ID, l.QualifiedTable(), len(args))
	}
	rows, err := s.pool.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("map data: %w", err)
	}
	defer rows.Close()
	m := &MapData{EPSG: res.Site.MeasureEPSG}
	for rows.Next() {
		var kind, layer string
		var raw []byte
		if err := rows.Scan(&kind, &layer, &raw); err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			continue
		}
		g, err := wkb.Unmarshal(raw)
		if err != nil {
			return nil, fmt.Errorf("map data: %s: %w", layer, err)
		}
		if isEmpty(g) {
			continue
		}
		title := layer
		if l, ok := cat.Layer(layer); ok {
			title = l.TitleZH
		}
		switch kind {
		case "site":
			m.Site = g
		case "context":
			m.Context = append(m.Context, MapPart{TitleZH: title, Geom: g})
		case "conflict":
			m.Overlaps = append(m.Overlaps, MapPart{TitleZH: title, Geom: g})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if m.Site == nil {
		return nil, fmt.Errorf("map data: check %d: %w", res.ID, ErrNotFound)
	}
	return m, nil
}

func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return len(g) == 0
	case orb.MultiPolygon:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		return len(g) == 0
	case orb.MultiPoint:
		return len(g) == 0
	case orb.Collection:
		return len(g) == 0
	}
	return g == nil
}
