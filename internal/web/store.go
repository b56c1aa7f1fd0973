package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/indicators"
	"villageplan/layers"
)

// CoveragePath is the URL path (relative to the service root) of the
// streetlight-coverage overlay.
const CoveragePath = "map/views/streetlight-coverage.geojson"

// DefaultLightRadiusM is indicators.DefaultLightRadiusM: the distance in
// metres from a working streetlight within which a road counts as lit.
const DefaultLightRadiusM = indicators.DefaultLightRadiusM

// Coverage defines the streetlight-coverage view: which parts of the
// villages' main roads are lit. It is the definition of the indicator
// road_lit_share (indicators.Lighting), so the view and the indicator
// agree by construction.
type Coverage = indicators.Lighting

// NewCoverage is indicators.NewLighting: it returns nil when the catalog
// lacks a layer the view needs or builtUpKinds is empty.
func NewCoverage(cat *layers.Catalog, builtUpKinds []string) *Coverage {
	return indicators.NewLighting(cat, builtUpKinds)
}

// Store runs the pages' queries in PostGIS.
type Store struct {
	pool     *pgxpool.Pool
	cat      *layers.Catalog
	coverage *Coverage

	mu        sync.Mutex
	covKey    string
	covResult []byte
}

// NewStore returns a Store over pool; coverage may be nil (no coverage
// view).
func NewStore(pool *pgxpool.Pool, cat *layers.Catalog, coverage *Coverage) *Store {
	return &Store{pool: pool, cat: cat, coverage: coverage}
}

// ErrNoVillageLayer is returned by SearchVillages when the catalog has no
// layer coloured by the village classification.
var ErrNoVillageLayer = errors.New("the catalog has no village layer")

// Village is one search hit: the village's 12-digit code, name,
// classification and extent (CGCS2000 lon/lat, degrees).
type Village struct {
	Code  string     `json:"code"`
	Name  string     `json:"name"`
	Class string     `json:"class,omitempty"`
	BBox  [4]float64 `json:"bbox"`
	// Center is a point inside the village (ST_PointOnSurface).
	Center [2]float64 `json:"center"`
}

// villageColumns returns the village layer and its code, name and class
// columns from the catalog: the layer coloured by the village
// classification, its XZQDM field, its label field.
func (s *Store) villageColumns() (l *layers.Layer, code, name, class string, err error) {
	l = colouredBy(s.cat, layers.CLVillageClass)
	if l == nil {
		return nil, "", "", "", ErrNoVillageLayer
	}
	for _, f := range l.Fields {
		if f.Code == "XZQDM" && code == "" {
			code = f.Name
		}
	}
	name, class = l.Style.LabelField, l.Style.ColorBy
	if code == "" || name == "" {
		return nil, "", "", "", ErrNoVillageLayer
	}
	return l, code, name, class, nil
}

// SearchVillages finds villages whose name contains q or whose code starts
// with q (white space ignored), at most limit, by code; an empty q lists
// every village.
func (s *Store) SearchVillages(ctx context.Context, q string, limit int) ([]Village, error) {
	l, code, name, class, err := s.villageColumns()
	if err != nil {
		return nil, err
	}
	q = strings.Join(strings.Fields(q), "")
	// The pattern is a bind parameter; LIKE's wildcards in q are escaped.
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	sql := fmt.Sprintf(`SELECT %[1]s, %[2]s, coalesce(%[3]s, ''),
	ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), ST_X(p), ST_Y(p)
FROM (SELECT %[1]s, %[2]s, %[3]s, ST_Envelope(geom)::box2d AS e, ST_PointOnSurface(geom) AS p
      FROM %[4]s
      WHERE $1 = '' OR %[2]s LIKE '%%' || $1 || '%%' OR %[1]s LIKE $1 || '%%'
      ORDER BY %[1]s LIMIT $2) v`,
		layers.QuoteIdent(code), layers.QuoteIdent(name), layers.QuoteIdent(class), l.QualifiedTable())
	rows, err := s.pool.Query(ctx, sql, esc, limit)
	if err != nil {
		return nil, fmt.Errorf("search villages: %w", err)
	}
	defer rows.Close()
	out := []Village{}
	for rows.Next() {
		var v Village
		if err := rows.Scan(&v.Code, &v.Name, &v.Class, &v.BBox[0], &v.BBox[1], &v.BBox[2], &v.BBox[3], &v.Center[0], &v.Center[1]); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// IsSample reports whether any served layer is the generated sample data
// (layer_metadata.is_sample).
func (s *Store) IsSample(ctx context.Context) (bool, error) {
	var b bool
	err := s.pool.QueryRow(ctx, `SELECT coalesce(bool_or(is_sample), false) FROM `+layers.QuoteIdent(layers.Schema)+`.layer_metadata`).Scan(&b)
	return b, err
}

// Extent returns the extent of every village [west, south, east, north]
// in CGCS2000 degrees, or nil when there is no village.
func (s *Store) Extent(ctx context.Context) (*[4]float64, error) {
	l, _, _, _, err := s.villageColumns()
	if errors.Is(err, ErrNoVillageLayer) {
		return nil, nil
	}
	var e [4]*float64
	if err := s.pool.QueryRow(ctx, `SELECT ST_XMin(x), ST_YMin(x), ST_XMax(x), ST_YMax(x) FROM (SELECT ST_Extent(geom) x FROM `+l.QualifiedTable()+`) s`).
		Scan(&e[0], &e[1], &e[2], &e[3]); err != nil {
		return nil, fmt.Errorf("village extent: %w", err)
	}
	if e[0] == nil {
		return nil, nil
	}
	return &[4]float64{*e[0], *e[1], *e[2], *e[3]}, nil
}

// CoverageVersion is the data version the coverage overlay depends on: the
// layer_version of roads, lights and zones, as "layer:version,…".
func (s *Store) CoverageVersion(ctx context.Context) (string, error) {
	c := s.coverage
	if c == nil {
		return "", errors.New("no coverage view")
	}
	var key string
	err := s.pool.QueryRow(ctx, `SELECT coalesce(string_agg(layer || ':' || version, ',' ORDER BY layer), '')
FROM `+layers.QuoteIdent(layers.Schema)+`.layer_version WHERE layer = ANY($1)`,
		c.Versions()).Scan(&key)
	return key, err
}

// CoverageGeoJSON returns the streetlight-coverage overlay as a GeoJSON
// FeatureCollection (RFC 7946, lon/lat): per road, its lit and its unlit
// main-road parts (property class "lit" or "unlit", route code, grade and
// length_m, the geodesic length in metres), and in the collection's
// "summary" member the total, lit and unlit lengths (m) and the lit share
// (0–1). It is computed in PostGIS on the tile-serving Web-Mercator copy
// (the radius scaled by 1/cos φ at each light; circles drawn as 32-gons,
// so lit lengths may be up to 0.5 % short) and kept until the data
// version of one of the three layers changes; version is that key.
// Stored geometries that break the layers' rules (possible only where an
// administrator dropped the CHECK constraints) never make it fail:
// invalid built-up zones count with their ST_MakeValid repair, invalid
// (collapsed) roads and EMPTY geometries are left out (an EMPTY member can
// crash ST_UnaryUnion).
func (s *Store) CoverageGeoJSON(ctx context.Context) (body []byte, version string, err error) {
	c := s.coverage
	if c == nil {
		return nil, "", errors.New("no coverage view")
	}
	version, err = s.CoverageVersion(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("coverage version: %w", err)
	}
	s.mu.Lock()
	if s.covKey == version && s.covResult != nil {
		body = s.covResult
	}
	s.mu.Unlock()
	if body != nil {
		return body, version, nil
	}
	sql := "WITH " + c.MainRoadPartsSQL(func(l *layers.Layer) string { return l.QualifiedTable() }) + `
SELECT json_build_object(
  'type', 'FeatureCollection',
  'features', coalesce(json_agg(json_build_object(
      'type', 'Feature', 'id', id * 2 + CASE class WHEN 'lit' THEN 1 ELSE 0 END,
      'properties', json_build_object('road_id', id, 'route', route, 'grade', grade, 'class', class, 'length_m', round(len::numeric, 1)),
      'geometry', ST_AsGeoJSON(g, 7, 0)::json) ORDER BY id, class), '[]'::json),
  'summary', json_build_object(
      'total_m', round(coalesce(sum(len), 0)::numeric, 1),
      'lit_m', round(coalesce(sum(len) FILTER (WHERE class = 'lit'), 0)::numeric, 1),
      'unlit_m', round(coalesce(sum(len) FILTER (WHERE class = 'unlit'), 0)::numeric, 1),
      'lit_share', CASE WHEN coalesce(sum(len), 0) > 0 THEN round((sum(len) FILTER (WHERE class = 'lit') / sum(len))::numeric, 4) ELSE 0 END,
      'radius_m', $3::float8,
      'built_up_kinds', $1::text[]))
FROM measured`
	var raw []byte
	if err := s.pool.QueryRow(ctx, sql, c.Args()...).Scan(&raw); err != nil {
		return nil, "", fmt.Errorf("streetlight coverage: %w", err)
	}
	if !json.Valid(raw) {
		return nil, "", errors.New("streetlight coverage: PostGIS returned invalid JSON")
	}
	s.mu.Lock()
	s.covKey, s.covResult = version, raw
	s.mu.Unlock()
	return raw, version, nil
}
