package siting

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/layers"
)

// Measurements is everything one check measured, in one SQL round trip.
// Areas are m² and distances m on the Gauss-Krüger plane of MeasureSRID.
type Measurements struct {
	Valid        bool    `json:"valid"`
	InvalidWhy   string  `json:"invalid_reason"`
	InvalidAtLon float64 `json:"invalid_lon"`
	InvalidAtLat float64 `json:"invalid_lat"`

	AreaM2 float64 `json:"area_m2"`
	// Geometry is the site in EPSG:4490 (lon, lat) as GeoJSON.
	Geometry    json.RawMessage `json:"geometry"`
	CentroidLon float64         `json:"centroid_lon"`
	CentroidLat float64         `json:"centroid_lat"`
	// InsideBoundaryM2 is the part of the site inside the 村庄建设边界 (the
	// union of the zone kinds of rule village_construction_boundary).
	InsideBoundaryM2 float64 `json:"inside_boundary_m2"`

	// Village is nil when the site touches no village of the data
	// (outside the township's data extent).
	Village   *VillageHit        `json:"village"`
	Versions  map[string]int64   `json:"versions"`
	Farmland  []Hit              `json:"farmland"`
	LandUse   []Hit              `json:"land_use"`
	Zones     []Hit              `json:"zones"`
	Hazards   []Hit              `json:"hazards"`
	Homestead []Hit              `json:"homesteads"`
	Household []Hit              `json:"household_homesteads"`
	Roads     []Hit              `json:"roads"`
	Power     []Hit              `json:"power_lines"`
	Neighbors map[string]*string `json:"neighbors"`

	// Pipes are the water-supply pipes within the search radius, with the
	// distance (m) from the site to the stored centreline.
	Pipes []Hit `json:"water_pipelines"`

	// Coverage is each layer's recorded coverage at the site, by layer id.
	Coverage map[string]CoverageAt `json:"coverage"`
}

// VillageHit is the village that holds most of the site.
type VillageHit struct {
	Code string `json:"xzqdm"`
	Name string `json:"xzqmc"`
}

// Hit is one feature a measurement found: its layer, id, key attributes,
// the overlap area (m²) or distance (m), and the overlap as GeoJSON in
// EPSG:4490 (lon, lat).
type Hit struct {
	Layer     string         `json:"layer"`
	ID        int64          `json:"id"`
	Attrs     map[string]any `json:"attrs"`
	OverlapM2 float64        `json:"overlap_m2"`
	DistanceM float64        `json:"distance_m"`
	Overlap   map[string]any `json:"overlap,omitempty"`
	// InvalidReason is set when the stored geometry is invalid
	// (ST_IsValidReason; possible only where the layer's CHECK constraint
	// was dropped or predates the row): the overlap was then measured on
	// its ST_MakeValid repair, and every rule reading the layer answers at
	// least REVIEW naming the feature.
	InvalidReason string `json:"invalid_reason,omitempty"`
}

// Str returns a text attribute, "" when absent.
func (h Hit) Str(name string) string {
	if v, ok := h.Attrs[name].(string); ok {
		return v
	}
	return ""
}

// Num returns a numeric attribute and whether it was present.
func (h Hit) Num(name string) (float64, bool) {
	v, ok := h.Attrs[name].(float64)
	return v, ok
}

// measureSQL is built once from the catalog. Parameters:
//
//	$1 site as WKB in $2 (EPSG code of the input coordinates, x = easting or
//	   longitude), $3 the Gauss-Krüger EPSG code to measure on, $4 the
//	   applicant household id (text, may be NULL), $5 search radius (m),
//	$6 the control-zone kinds forming the 村庄建设边界 (text[]), $7 the
//	   四至 radius (m).
//
// The site is reprojected to EPSG:4490 for index searches; measurements run
// on ST_Transform(feature, $3) against the site in $3 (the input
// coordinates themselves when the input was on that plane, so the site
// area equals the surveyor's shoelace area).
func measureSQL() string {
	t := func(l *layers.Layer) string { return l.QualifiedTable() }
	hit := func(layer, attrs, measure string) string {
		return `jsonb_build_object('layer', '` + layer + `', 'id', f.id, 'attrs', jsonb_build_object(` + attrs + `), ` + measure + `)`
	}
	// Stored geometries that break the layer's rules (invalid or EMPTY;
	// the database refuses them, but rows older than a rule or written
	// while an administrator dropped it remain) must neither fail the
	// check (GEOS refuses invalid input to ST_Intersection and ST_Union)
	// nor crash the server (ST_UnaryUnion of a collection with an EMPTY
	// member). EMPTY geometries have no box, so "f.geom && s.g" never
	// selects them. A selected feature's validity is tested once
	// (ST_IsValid, in a LATERAL subquery that OFFSET 0 keeps from being
	// inlined); a valid one is measured as stored, an invalid one on its
	// ST_MakeValid repair (the polygonal part, which may be EMPTY for a
	// zero-area sliver), and its hit carries invalid_reason.
	repaired := ` CROSS JOIN LATERAL (SELECT v.ok, CASE WHEN v.ok THEN f.geom ELSE ST_Multi(ST_CollectionExtract(ST_MakeValid(f.geom), 3)) END AS g
		FROM (SELECT ST_IsValid(f.geom) AS ok OFFSET 0) v) r`
	overlap := `'overlap_m2', round(ST_Area(ST_Intersection(ST_Transform(r.g, $3::int), s.p))::numeric, 4),
		'overlap', ST_AsGeoJSON(ST_CollectionExtract(ST_Intersection(r.g, s.g), 3), 8, 0)::jsonb,
		'invalid_reason', CASE WHEN r.ok THEN NULL ELSE ST_IsValidReason(f.geom) END`
	distance := `'distance_m', round(ST_Distance(ST_Transform(f.geom, $3::int), s.p)::numeric, 4)`
	agg := func(sql string) string { return `coalesce((` + sql + `), '[]'::jsonb)` }
	overlapping := func(l *layers.Layer, attrs string, extra string) string {
		return agg(`SELECT jsonb_agg(` + hit(l.ID, attrs, overlap) + ` ORDER BY f.id) FROM ` + t(l) +
			` f CROSS JOIN site s` + repaired + ` WHERE f.geom && s.g AND ST_Intersects(f.geom, s.g)` + extra)
	}
	near := func(l *layers.Layer, attrs string) string {
		return agg(`SELECT jsonb_agg(` + hit(l.ID, attrs, distance) + ` ORDER BY f.id) FROM ` + t(l) +
			` f, site s WHERE f.geom_3857 && ST_Expand(s.m, s.r3857) AND ST_DWithin(ST_Transform(f.geom, $3::int), s.p, $5)`)
	}
	// 四至: the nearest feature in each quadrant within $7 m, by the azimuth
	// from the site centroid to the feature's closest point.
	neighbors := `SELECT jsonb_object_agg(q, label) FROM (
		SELECT DISTINCT ON (q) q, label FROM (
			SELECT CASE WHEN az >= 315 OR az < 45 THEN 'north' WHEN az < 135 THEN 'east' WHEN az < 225 THEN 'south' ELSE 'west' END AS q, label, d FROM (
				SELECT degrees(ST_Azimuth(s.cp, ST_ClosestPoint(ST_Transform(n.geom, $3::int), s.cp))) AS az,
				       ST_Distance(ST_Transform(n.geom, $3::int), s.p) AS d, n.label
				FROM site s, (
					SELECT geom, '宅基地 ' || zddm AS label FROM ` + t(layers.Homesteads) + ` WHERE geom_3857 && (SELECT ST_Expand(m, n3857) FROM site)
					UNION ALL SELECT geom, coalesce(lxbm || ' ', '') || admin_grade FROM ` + t(layers.Roads) + ` WHERE geom_3857 && (SELECT ST_Expand(m, n3857) FROM site)
					UNION ALL SELECT geom, coalesce(dlmc, dlbm) FROM ` + t(layers.LandUse) + ` WHERE geom_3857 && (SELECT ST_Expand(m, n3857) FROM site)
				) n
				WHERE NOT ST_Relate(n.geom, s.g, 'T********')
			) a WHERE d <= $7
		) b ORDER BY q, d
	) c`
	return `WITH input AS (SELECT ST_GeomFromWKB($1, $2::int) AS g0),
check_valid AS (SELECT ST_IsValid(g0) AS ok, ST_IsValidReason(g0) AS why,
	(SELECT ST_Transform(ST_SetSRID(location, $2::int), 4490) FROM ST_IsValidDetail(g0)) AS loc FROM input),
site AS (
	SELECT g, p, ST_Transform(g, 3857) AS m, ST_Centroid(p) AS cp,
	       $5 / cos(radians(ST_Y(ST_Centroid(g)))) AS r3857,
	       $7 / cos(radians(ST_Y(ST_Centroid(g)))) AS n3857
	FROM (SELECT ST_Multi(ST_Transform(g0, 4490)) AS g,
	             CASE WHEN $2::int = $3::int THEN g0 ELSE ST_Transform(g0, $3::int) END AS p
	      FROM input, check_valid WHERE check_valid.ok) x
)
SELECT jsonb_build_object(
	'valid', (SELECT ok FROM check_valid),
	'invalid_reason', (SELECT CASE WHEN ok THEN '' ELSE why END FROM check_valid),
	'invalid_lon', (SELECT ST_X(loc) FROM check_valid),
	'invalid_lat', (SELECT ST_Y(loc) FROM check_valid),
	'area_m2', (SELECT round(ST_Area(p)::numeric, 4) FROM site),
	'geometry', (SELECT ST_AsGeoJSON(g, 8, 0)::jsonb FROM site),
	'centroid_lon', (SELECT ST_X(ST_Centroid(g)) FROM site),
	'centroid_lat', (SELECT ST_Y(ST_Centroid(g)) FROM site),
	'village', (SELECT jsonb_build_object('xzqdm', f.xzqdm, 'xzqmc', f.xzqmc) FROM ` + t(layers.Villages) + ` f CROSS JOIN site s` + repaired + `
		WHERE f.geom && s.g AND ST_Intersects(f.geom, s.g) ORDER BY ST_Area(ST_Intersection(r.g, s.g)) DESC LIMIT 1),
	'coverage', ` + coverageSQL() + `,
	'versions', coalesce((SELECT jsonb_object_agg(layer, version) FROM villageplan.layer_version), '{}'::jsonb),
	'inside_boundary_m2', coalesce((SELECT round(ST_Area(ST_Intersection(s.p, ST_Transform(ST_Union(r.g), $3::int)))::numeric, 4)
		FROM ` + t(layers.ControlZones) + ` f CROSS JOIN site s` + repaired + ` WHERE f.geom && s.g AND f.gkbjlxmc = ANY($6::text[]) AND ST_Intersects(f.geom, s.g)
		AND NOT ST_IsEmpty(r.g) GROUP BY s.p), 0),
	'farmland', ` + overlapping(layers.PermanentFarmland, `'yjjbnttbbh', f.yjjbnttbbh, 'dlbm', f.dlbm, 'dlmc', f.dlmc`, "") + `,
	'land_use', ` + overlapping(layers.LandUse, `'tbbh', f.tbbh, 'dlbm', f.dlbm, 'dlmc', f.dlmc`, "") + `,
	'zones', ` + overlapping(layers.ControlZones, `'gkbjlxmc', f.gkbjlxmc, 'name', f.name, 'legal_basis', f.legal_basis`, "") + `,
	'hazards', ` + overlapping(layers.HazardZones, `'kind', f.kind, 'grade', f.grade, 'name', f.name`, "") + `,
	'homesteads', ` + overlapping(layers.Homesteads, `'zddm', f.zddm, 'xzqdm', f.xzqdm, 'status', f.status, 'same_household', coalesce(f.household_id = $4::text, false)`, "") + `,
	'household_homesteads', ` + agg(`SELECT jsonb_agg(jsonb_build_object('layer', '`+layers.Homesteads.ID+`', 'id', f.id, 'attrs',
		jsonb_build_object('zddm', f.zddm, 'xzqdm', f.xzqdm, 'status', f.status, 'zdmj', f.zdmj)) ORDER BY f.id)
		FROM `+t(layers.Homesteads)+` f WHERE $4::text IS NOT NULL AND f.household_id = $4::text AND f.status <> '退出'`) + `,
	'roads', ` + near(layers.Roads, `'lxbm', f.lxbm, 'lxmc', f.lxmc, 'admin_grade', f.admin_grade, 'subgrade_width', f.subgrade_width, 'pavement_width', f.pavement_width`) + `,
	'power_lines', ` + near(layers.PowerLines, `'name', f.name, 'voltage_kv', f.voltage_kv, 'laying', f.laying`) + `,
	'water_pipelines', ` + near(layers.WaterPipelines, `'name', f.name, 'kind', f.kind, 'diameter_mm', f.diameter_mm, 'facility', f.facility`) + `,
	'neighbors', coalesce((` + neighbors + `), '{}'::jsonb)
)`
}

// measure runs the measurement statement.
func measure(ctx context.Context, pool *pgxpool.Pool, sql string, wkb []byte, inputSRID, measureSRID int, household *string, rs *RuleSet) (*Measurements, error) {
	var raw []byte
	err := pool.QueryRow(ctx, sql, wkb, inputSRID, measureSRID, household, rs.SearchRadiusM,
		rs.Rules["village_construction_boundary"].ZoneKinds, rs.NeighborRadiusM).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("measure site: %w", err)
	}
	var m Measurements
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("measure site: decode: %w", err)
	}
	return &m, nil
}

// MeasureSQL returns the text of the measuring statement (parameters $1–$7
// as documented at measureSQL), for benchmarks that run it with pgbench as
// the ceiling of POST /siting/checks (internal/devtools/bench-siting.sh).
func MeasureSQL() string { return measureSQL() }
