package indicators

import (
	"context"
	"fmt"
)

// road_lit_share — 村内主干道路灯覆盖率:
//
//	lit share (%) = 100 × Σ length of main-road parts within RadiusM of a
//	working streetlight ÷ Σ length of main-road parts
//
// Main-road parts are the parts of roads inside the village construction
// boundary not flagged main_road = false (Lighting, shared with the
// streetlight-coverage map view: the same SQL, MainRoadPartsSQL); lengths
// are geodesic (m). A part is counted in the village (and 自然屯) whose
// polygon it lies in (split at the boundaries). The listed features are
// the unlit parts.
func init() {
	register(&indicator{
		Definition: Definition{
			Key: "road_lit_share", TitleZH: "村内主干道路灯覆盖率", TitleEN: "Main village roads lit",
			Unit:           "%",
			FormulaZH:      "正常运行路灯照明半径内的主干道长度 ÷ 村庄建设边界内主干道总长度 × 100%",
			FormulaEN:      "length of main road within the lighting radius of a working streetlight ÷ main-road length inside the village construction boundary × 100 %",
			NumeratorLabel: "已照明主干道长度 lit length (m)", DenominatorLabel: "主干道长度 main-road length (m)",
			HigherIsBetter: true, PerHamlet: true, Features: true,
		},
		kind:   share,
		layers: []string{"roads", "streetlights", "control_zones", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			c := e.s.cfg.Lighting
			sql := "WITH " + c.MainRoadPartsSQL(e.src) + `
SELECT v.xzqdm::text, NULL::text, coalesce(sum(ST_Length(ST_Intersection(m.g, v.geom)::geography)) FILTER (WHERE m.class = 'lit'), 0),
       sum(ST_Length(ST_Intersection(m.g, v.geom)::geography))
FROM measured m JOIN ` + e.tbl("villages") + ` v ON ST_Intersects(m.g, v.geom)
GROUP BY 1` + e.hamletUnion(`
SELECT h.xzqdm::text, h.name::text, coalesce(sum(ST_Length(ST_Intersection(m.g, h.geom)::geography)) FILTER (WHERE m.class = 'lit'), 0),
       sum(ST_Length(ST_Intersection(m.g, h.geom)::geography))
FROM measured m JOIN %s h ON ST_Intersects(m.g, h.geom)
GROUP BY 1, 2`)
			return e.values(ctx, sql, c.Args()...)
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			c := e.s.cfg.Lighting
			sql := "WITH " + c.MainRoadPartsSQL(e.src) + `, clipped AS (
  SELECT m.id, m.route, m.grade, v.xzqdm, ST_CollectionExtract(ST_Intersection(m.g, v.geom), 2) AS g
  FROM measured m JOIN ` + e.tbl("villages") + ` v ON ST_Intersects(m.g, v.geom)
  WHERE m.class = 'unlit' AND ($4 = '' OR v.xzqdm = $4)
)
SELECT ` + featureCollection(`json_build_object('road_id', id, 'route', route, 'grade', grade, 'village', xzqdm,
      'length_m', round(ST_Length(g::geography)::numeric, 1))`, "g", "id, xzqdm") + `
FROM clipped WHERE NOT ST_IsEmpty(g)`
			args := append(c.Args(), village)
			var b []byte
			if err := e.tx.QueryRow(ctx, sql, args...).Scan(&b); err != nil {
				return nil, fmt.Errorf("unlit segments: %w", err)
			}
			return b, nil
		},
	})
}

// hamletUnion returns " UNION ALL " + the query q with %s replaced by the
// 自然屯 layer's FROM item, or "" when the catalog has no natural_hamlets
// layer (no per-hamlet values).
func (e *env) hamletUnion(q string) string {
	if _, ok := e.s.cat.Layer("natural_hamlets"); !ok {
		return ""
	}
	return "\nUNION ALL" + fmt.Sprintf(q, e.tbl("natural_hamlets"))
}

// featureCollection returns the SQL expression of a GeoJSON
// FeatureCollection (CRS84, 7 decimals) aggregating rows with the
// properties expression props and the EPSG:4490 geometry column geom, in
// the order orderBy.
func featureCollection(props, geom, orderBy string) string {
	return `json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'properties', ` + props + `,
    'geometry', ST_AsGeoJSON(` + geom + `, 7, 0)::json) ORDER BY ` + orderBy + `), '[]'::json))`
}
