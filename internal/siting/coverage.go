package siting

import (
	"time"

	"villageplan/layers"
)

// CoverageAt is a layer's recorded coverage at the site: OutsideM2 is the
// site area (m², on the measuring plane) outside it — the layer covers
// the site when OutsideM2 is within the rule set's overlap tolerance —
// and where the coverage came from. A layer without coverage has no entry.
type CoverageAt struct {
	OutsideM2  float64   `json:"outside_m2"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recorded_at"`
}

// coverageSQL measures, for every row of villageplan.layer_coverage, the
// site area outside the coverage on the plane $3: the site minus the
// stated area (clipped to the site's box first) and, for a coverage that
// includes the layer's features (with_features), the features at the site.
func coverageSQL() string {
	feats := ""
	for _, l := range layers.Default().Layers() {
		if l.Geometry != layers.MultiPolygon {
			continue
		}
		feats += `
			UNION ALL SELECT f.geom FROM ` + l.QualifiedTable() + ` f WHERE c.with_features AND c.layer = ` + layers.QuoteLiteral(l.ID) +
			` AND f.geom && s.g AND ST_Intersects(f.geom, s.g)`
	}
	return `coalesce((SELECT jsonb_object_agg(c.layer, jsonb_build_object(
		'kind', c.kind, 'source', c.source, 'recorded_at', c.recorded_at,
		'outside_m2', CASE WHEN c.geom IS NOT NULL AND c.geom && s.g AND ST_Covers(c.geom, s.g) THEN 0
			ELSE coalesce((SELECT round(ST_Area(ST_Difference(s.p, ST_Transform(ST_Union(x.g), $3::int)))::numeric, 4) FROM (
				SELECT ST_Intersection(c.geom, ST_Expand(ST_Envelope(s.g), 0.0001)) AS g WHERE c.geom IS NOT NULL AND c.geom && s.g` + feats + `
			) x WHERE NOT ST_IsEmpty(x.g)), round(ST_Area(s.p)::numeric, 4)) END))
		FROM villageplan.layer_coverage c, site s), '{}'::jsonb)`
}
