package coverage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"villageplan/layers"
)

// Querier is what this package needs of a pgx connection, pool or
// transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	// Begin starts a transaction (a savepoint inside one).
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ErrNone is returned by Get for a layer without coverage.
var ErrNone = errors.New("the layer has no coverage")

// ExactLimit is the largest number of features whose union is computed to
// give the exact area and village shares of a coverage that includes the
// layer's features; above it the area is not computed (the union of
// 500 000 parcels takes seconds to minutes) and villages are listed
// without shares.
const ExactLimit = 20000

// Village is a village (of layer villages) that a coverage spans.
type Village struct {
	Code string `json:"xzqdm"`
	Name string `json:"xzqmc"`
	// SharePct is the share of the village's area inside the coverage
	// (%, 0.1 precision); nil when not computed (see ExactLimit).
	SharePct *float64 `json:"share_pct,omitempty"`
}

// Info describes a layer's coverage.
type Info struct {
	Layer  string `json:"layer"`
	Kind   Kind   `json:"kind"`
	Source string `json:"source"`
	// WithFeatures: the layer's own features are part of the coverage.
	WithFeatures bool      `json:"with_features"`
	RecordedAt   time.Time `json:"recorded_at"`
	RecordedBy   string    `json:"recorded_by"`
	// AreaKM2 is the geodesic area (km², CGCS2000 ellipsoid) of the
	// coverage; nil when not computed (AreaNote says why).
	AreaKM2  *float64 `json:"area_km2"`
	AreaNote string   `json:"area_note,omitempty"`
	// Villages are the villages with at least 0.1 % of their area inside
	// the coverage, by code.
	Villages []Village      `json:"villages"`
	Details  map[string]any `json:"details,omitempty"`
}

// VillageList renders the villages as "双营子村 220112203200 (100 %), …".
func (i *Info) VillageList() string {
	if len(i.Villages) == 0 {
		return "无 / none"
	}
	var parts []string
	for _, v := range i.Villages {
		s := v.Name + " " + v.Code
		if v.SharePct != nil {
			s += fmt.Sprintf(" (%.1f %%)", *v.SharePct)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// AreaText renders the area for people.
func (i *Info) AreaText() string {
	if i.AreaKM2 == nil {
		return "面积未计算 / area not computed: " + i.AreaNote
	}
	return fmt.Sprintf("%.3f km²", *i.AreaKM2)
}

// Get describes layer l's coverage now (area and villages computed from
// the current data); ErrNone when it has none.
func Get(ctx context.Context, q Querier, l *layers.Layer) (*Info, error) {
	info, _, err := load(ctx, q, l, false)
	return info, err
}

// load reads layer l's coverage and computes its area and villages in a
// (sub)transaction with JIT off: the planner's cost estimate of a union
// query crosses jit_above_cost, and compiling costs more than the query.
// With geom it also returns the coverage as GeoJSON (CRS84, 8 decimals;
// collected without union above ExactLimit features).
func load(ctx context.Context, q Querier, l *layers.Layer, geojson bool) (*Info, []byte, error) {
	tx, err := q.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	if _, err := tx.Exec(ctx, `SELECT set_config('jit', 'off', true)`); err != nil {
		return nil, nil, err
	}
	var (
		info    = &Info{Layer: l.ID}
		details []byte
		hasGeom bool
		count   int64
	)
	err = tx.QueryRow(ctx, `SELECT kind, source, with_features, recorded_at, recorded_by, details, geom IS NOT NULL,
			CASE WHEN with_features THEN (SELECT count(*) FROM `+l.QualifiedTable()+`) ELSE 0 END
		FROM villageplan.layer_coverage WHERE layer = $1`, l.ID).
		Scan(&info.Kind, &info.Source, &info.WithFeatures, &info.RecordedAt, &info.RecordedBy, &details, &hasGeom, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, ErrNone
	}
	if err != nil {
		return nil, nil, fmt.Errorf("coverage of %s: %w", l.ID, err)
	}
	_ = json.Unmarshal(details, &info.Details)
	if info.WithFeatures && count > ExactLimit {
		info.AreaNote = fmt.Sprintf("覆盖范围含本图层 %d 个要素，超过 %d 个不计算并集 / the coverage includes the layer's %d features; their union is not computed above %d",
			count, ExactLimit, count, ExactLimit)
		if info.Villages, err = villagesTouched(ctx, tx, l); err != nil {
			return nil, nil, fmt.Errorf("coverage of %s: villages: %w", l.ID, err)
		}
		var gj []byte
		if geojson {
			if err := tx.QueryRow(ctx, `SELECT ST_AsGeoJSON(g, 8, 0)::text FROM (`+collectSQL(l)+`) x`, l.ID).Scan(&gj); err != nil {
				return nil, nil, fmt.Errorf("coverage of %s: %w", l.ID, err)
			}
		}
		return info, gj, nil
	}
	var geom []byte
	if err := tx.QueryRow(ctx, `SELECT ST_AsEWKB(g) FROM (`+unionSQL(l, info.WithFeatures, hasGeom)+`) x`, l.ID).Scan(&geom); err != nil {
		return nil, nil, fmt.Errorf("coverage of %s: %w", l.ID, err)
	}
	var area float64
	var gj []byte
	if err := tx.QueryRow(ctx, `SELECT coalesce(round((ST_Area(g::geography) / 1e6)::numeric, 4)::float8, 0),
			CASE WHEN $2 THEN ST_AsGeoJSON(g, 8, 0)::text END FROM (SELECT ST_GeomFromEWKB($1) AS g) x`, geom, geojson).Scan(&area, &gj); err != nil {
		return nil, nil, fmt.Errorf("coverage of %s: area: %w", l.ID, err)
	}
	info.AreaKM2 = &area
	if info.Villages, err = villagesSpanned(ctx, tx, geom); err != nil {
		return nil, nil, fmt.Errorf("coverage of %s: villages: %w", l.ID, err)
	}
	return info, gj, nil
}

// unionSQL selects the coverage of the layer with id $1 as one geometry g
// (EPSG:4490, NULL when there is none): the stated area, unioned with the
// layer's features when withFeatures.
func unionSQL(l *layers.Layer, withFeatures, hasGeom bool) string {
	feats := clusterUnion(`SELECT geom AS g FROM ` + l.QualifiedTable())
	g := `c.geom`
	switch {
	case withFeatures && !hasGeom:
		g = feats
	case withFeatures:
		g = `ST_Multi(ST_CollectionExtract(ST_Union(c.geom, coalesce(` + feats + `, c.geom)), 3))`
	}
	return `SELECT ` + g + ` AS g FROM villageplan.layer_coverage c WHERE c.layer = $1`
}

// clusterUnion is an SQL expression for the union (a MultiPolygon in
// EPSG:4490, NULL for no rows) of the polygons g selected by rel: groups
// of touching polygons (ST_ClusterDBSCAN, distance 0) are unioned apart
// and their polygons collected (ST_Collect of MultiPolygons would make a
// GeometryCollection), which is valid because the groups are disjoint. It is
// what makes the union of many disjoint parcels affordable (50 000: 0.7 s
// instead of 47 s for one ST_Union).
func clusterUnion(rel string) string {
	return `(SELECT ST_Multi(ST_Collect(u.g)) FROM (SELECT (ST_Dump(ST_Union(a.g))).geom AS g FROM (
	            SELECT r.g, ST_ClusterDBSCAN(r.g, 0, 1) OVER () AS cid FROM (` + rel + `) r WHERE r.g IS NOT NULL) a GROUP BY a.cid) u
	          WHERE GeometryType(u.g) = 'POLYGON')`
}

// collectSQL selects the coverage as one MultiPolygon without unioning
// the features (for layers above ExactLimit); parts may overlap.
func collectSQL(l *layers.Layer) string {
	return `SELECT CASE WHEN NOT c.with_features THEN c.geom
	            ELSE ST_Multi(ST_Collect(ARRAY(SELECT (ST_Dump(x.geom)).geom FROM (SELECT c.geom WHERE c.geom IS NOT NULL
	                 UNION ALL SELECT f.geom FROM ` + l.QualifiedTable() + ` f) x))) END AS g
	  FROM villageplan.layer_coverage c WHERE c.layer = $1`
}

func villagesSpanned(ctx context.Context, q Querier, geom []byte) ([]Village, error) {
	rows, err := q.Query(ctx, `SELECT v.xzqdm, v.xzqmc, CASE WHEN ST_Covers(x.g, v.geom) THEN 100
		       ELSE round((100 * ST_Area(ST_Intersection(v.geom, x.g)) / ST_Area(v.geom))::numeric, 1)::float8 END AS share
		FROM (SELECT ST_GeomFromEWKB($1) AS g) x JOIN `+layers.Villages.QualifiedTable()+` v ON v.geom && x.g AND ST_Intersects(v.geom, x.g)
		WHERE ST_Area(v.geom) > 0 ORDER BY v.xzqdm, v.id`, geom)
	if err != nil {
		return nil, err
	}
	out := []Village{}
	for rows.Next() {
		var v Village
		var share float64
		if err := rows.Scan(&v.Code, &v.Name, &share); err != nil {
			rows.Close()
			return nil, err
		}
		if share < 0.1 {
			continue // touches along a shared boundary or a digitising sliver
		}
		v.SharePct = &share
		out = append(out, v)
	}
	rows.Close()
	return out, rows.Err()
}

func villagesTouched(ctx context.Context, q Querier, l *layers.Layer) ([]Village, error) {
	rows, err := q.Query(ctx, `SELECT v.xzqdm, v.xzqmc FROM `+layers.Villages.QualifiedTable()+` v, villageplan.layer_coverage c
		WHERE c.layer = $1 AND ((c.geom && v.geom AND ST_Intersects(c.geom, v.geom))
		   OR (c.with_features AND EXISTS (SELECT 1 FROM `+l.QualifiedTable()+` f WHERE f.geom && v.geom AND ST_Intersects(v.geom, ST_PointOnSurface(f.geom)))))
		ORDER BY v.xzqdm, v.id`, l.ID)
	if err != nil {
		return nil, err
	}
	out := []Village{}
	for rows.Next() {
		var v Village
		if err := rows.Scan(&v.Code, &v.Name); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, v)
	}
	rows.Close()
	return out, rows.Err()
}

// GeoJSON returns layer l's coverage as a GeoJSON Feature: the polygon in
// CRS84 (CGCS2000 longitude/latitude, 8 decimals; a MultiPolygon, or null
// for a coverage of features in a layer with none) and the properties of
// Info. ErrNone when the layer has none.
func GeoJSON(ctx context.Context, q Querier, l *layers.Layer) ([]byte, error) {
	info, geom, err := load(ctx, q, l, true)
	if err != nil {
		return nil, err
	}
	if geom == nil {
		geom = []byte("null")
	}
	return json.Marshal(map[string]any{
		"type":       "Feature",
		"id":         l.ID,
		"geometry":   json.RawMessage(geom),
		"properties": info,
	})
}

// Brief is the summary of a coverage as recorded (no computation): what
// the collection documents show.
type Brief struct {
	Kind         Kind      `json:"kind"`
	Source       string    `json:"source"`
	WithFeatures bool      `json:"with_features"`
	RecordedAt   time.Time `json:"recorded_at"`
	// AreaKM2 is the area when it was recorded (nil when not computed).
	AreaKM2 *float64 `json:"area_km2"`
}

// Briefs returns the recorded coverage of every layer that has one, by
// layer id, in one query.
func Briefs(ctx context.Context, q Querier) (map[string]Brief, error) {
	rows, err := q.Query(ctx, `SELECT layer, kind, source, with_features, recorded_at, (details ->> 'area_km2')::float8 FROM villageplan.layer_coverage`)
	if err != nil {
		return nil, fmt.Errorf("layer coverage: %w", err)
	}
	defer rows.Close()
	out := map[string]Brief{}
	for rows.Next() {
		var id string
		var b Brief
		if err := rows.Scan(&id, &b.Kind, &b.Source, &b.WithFeatures, &b.RecordedAt, &b.AreaKM2); err != nil {
			return nil, err
		}
		out[id] = b
	}
	return out, rows.Err()
}

// List describes the coverage of every catalog layer, in catalog order
// (nil Info for a layer without coverage).
func List(ctx context.Context, q Querier, cat *layers.Catalog) ([]*layers.Layer, []*Info, error) {
	var ls []*layers.Layer
	var infos []*Info
	for _, l := range cat.Layers() {
		i, err := Get(ctx, q, l)
		if errors.Is(err, ErrNone) {
			i, err = nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		ls = append(ls, l)
		infos = append(infos, i)
	}
	return ls, infos, nil
}

// Clear removes layer l's coverage; it reports whether there was one.
func Clear(ctx context.Context, q Querier, l *layers.Layer) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM villageplan.layer_coverage WHERE layer = $1`, l.ID)
	if err != nil {
		return false, fmt.Errorf("clear coverage of %s: %w", l.ID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// snapshot stores the area and villages at recording time in details, so
// that collection documents can show them without computing.
func snapshot(ctx context.Context, q Querier, l *layers.Layer, info *Info) error {
	type vil struct {
		Code  string   `json:"xzqdm"`
		Name  string   `json:"xzqmc"`
		Share *float64 `json:"share_pct,omitempty"`
	}
	var vs []vil
	for _, v := range info.Villages {
		vs = append(vs, vil{v.Code, v.Name, v.SharePct})
	}
	b, err := json.Marshal(map[string]any{"area_km2": info.AreaKM2, "villages": vs})
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE villageplan.layer_coverage SET details = details || $2::jsonb WHERE layer = $1`, l.ID, b)
	if err != nil {
		return fmt.Errorf("coverage of %s: %w", l.ID, err)
	}
	if info.Details == nil {
		info.Details = map[string]any{}
	}
	info.Details["area_km2"] = info.AreaKM2
	return nil
}
