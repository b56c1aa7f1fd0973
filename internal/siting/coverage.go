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
// site area outside the coverage on the plane $3, with the SQL function
// villageplan.coverage_outside_m2 (migration 00004): the site minus the
// stated area and, for a coverage that includes the layer's features
// (with_features), the features at the site.
func coverageSQL() string {
	tables := `CASE c.layer`
	for _, l := range layers.Default().Layers() {
		if l.Geometry == layers.MultiPolygon {
			tables += ` WHEN ` + layers.QuoteLiteral(l.ID) + ` THEN ` + layers.QuoteLiteral(l.QualifiedTable()) + `::regclass`
		}
	}
	tables += ` END`
	return `coalesce((SELECT jsonb_object_agg(c.layer, jsonb_build_object(
		'kind', c.kind, 'source', c.source, 'recorded_at', c.recorded_at,
		'outside_m2', round(villageplan.coverage_outside_m2(c.geom, c.with_features, ` + tables + `, s.g, s.p)::numeric, 4)))
		FROM villageplan.layer_coverage c, site s), '{}'::jsonb)`
}
