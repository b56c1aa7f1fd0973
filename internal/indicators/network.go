package indicators

import (
	"context"
	"fmt"

	"villageplan/layers"
)

// The road graph (pgRouting). Built once per computation, in temporary
// tables of its transaction, on the Gauss-Krüger plane (m):
//
//   - ig_edge: the roads layer's lines, snapped to a 1 cm grid and noded
//     (ST_Node: split at every crossing and at every point where a line
//     ends on another), one row per piece with the attributes of the road
//     it comes from (where roads overlap, the widest, hardened one):
//     id, road_id, admin_grade, hardened, wide, g, cost (= length, m).
//     hardened = roads.hardened, or where unset a surface of 沥青混凝土 /
//     水泥混凝土; wide (消防车道) = roads.fire_lane, or where unset
//     pavement_width ≥ Config.FireLaneWidthM (4 m, GB 50016).
//   - ig_vertex: the pieces' end points (id, x, y, g, degree).
//
// The graph is undirected (cost = reverse_cost = length). Roads that do not
// meet (a lane ending 30 cm short of a street) are not connected: the
// survey draws junctions as shared points.

// trunkGrades are the road grades of the network a hamlet must connect to
// (国道, 省道, 县道, 乡道: the roads outside the villages).
var trunkGrades = []string{"国道", "省道", "县道", "乡道"}

// graph builds ig_edge and ig_vertex once per transaction.
func (e *env) graph(ctx context.Context) error {
	if e.built["graph"] {
		return nil
	}
	roads := e.layer("roads")
	hardened := `r.surface IN ('沥青混凝土', '水泥混凝土')`
	if _, ok := roads.Field("hardened"); ok {
		hardened = `coalesce(r.hardened, ` + hardened + `)`
	}
	wide := fmt.Sprintf(`r.pavement_width >= %g`, e.s.cfg.FireLaneWidthM)
	if _, ok := roads.Field("fire_lane"); ok {
		wide = `coalesce(r.fire_lane, ` + wide + `)`
	}
	stmts := []string{
		fmt.Sprintf(`CREATE TEMP TABLE ig_seg ON COMMIT DROP AS
SELECT r.id AS road_id, r.admin_grade::text AS admin_grade, coalesce(%s, false) AS hardened, coalesce(%s, false) AS wide,
       ST_SnapToGrid(ST_Transform(d.geom, %d), 0.01) AS g
FROM %s r CROSS JOIN LATERAL ST_Dump(r.geom) d
WHERE NOT ST_IsEmpty(r.geom) AND ST_IsValid(r.geom)`, hardened, wide, e.plane, e.tbl("roads")),
		`CREATE INDEX ON ig_seg USING gist (g)`,
		`CREATE TEMP TABLE ig_edge ON COMMIT DROP AS
WITH noded AS (SELECT (ST_Dump(ST_Node(ST_Collect(g)))).geom AS g FROM ig_seg WHERE ST_Length(g) > 0)
SELECT row_number() OVER ()::bigint AS id, s.road_id, s.admin_grade, s.hardened, s.wide, n.g, ST_Length(n.g) AS cost,
       NULL::bigint AS source, NULL::bigint AS target
FROM noded n CROSS JOIN LATERAL (
  SELECT s.* FROM ig_seg s WHERE s.g && ST_Expand(n.g, 0.05) AND ST_DWithin(s.g, ST_LineInterpolatePoint(n.g, 0.5), 0.05)
  ORDER BY s.wide DESC, s.hardened DESC, s.road_id LIMIT 1) s
WHERE ST_Length(n.g) > 0`,
		`CREATE TEMP TABLE ig_vertex ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY x, y)::bigint AS id, x, y, 0 AS degree FROM (
  SELECT ST_X(ST_StartPoint(g)) AS x, ST_Y(ST_StartPoint(g)) AS y FROM ig_edge
  UNION SELECT ST_X(ST_EndPoint(g)), ST_Y(ST_EndPoint(g)) FROM ig_edge) p`,
		`CREATE INDEX ON ig_vertex (x, y)`,
		`UPDATE ig_edge e SET source = v.id FROM ig_vertex v WHERE v.x = ST_X(ST_StartPoint(e.g)) AND v.y = ST_Y(ST_StartPoint(e.g))`,
		`UPDATE ig_edge e SET target = v.id FROM ig_vertex v WHERE v.x = ST_X(ST_EndPoint(e.g)) AND v.y = ST_Y(ST_EndPoint(e.g))`,
		`UPDATE ig_vertex v SET degree = d.n FROM (SELECT vid, count(*) AS n FROM (SELECT source AS vid FROM ig_edge UNION ALL SELECT target FROM ig_edge) a GROUP BY vid) d WHERE d.vid = v.id`,
		fmt.Sprintf(`ALTER TABLE ig_vertex ADD COLUMN g geometry(Point, %d)`, e.plane),
		fmt.Sprintf(`UPDATE ig_vertex SET g = ST_SetSRID(ST_Point(x, y), %d)`, e.plane),
		`CREATE INDEX ON ig_edge USING gist (g)`,
		`CREATE INDEX ON ig_edge (id)`,
		`ANALYZE ig_edge`,
		`ANALYZE ig_vertex`,
	}
	for _, s := range stmts {
		if _, err := e.exec(ctx, s); err != nil {
			return fmt.Errorf("road graph: %w", err)
		}
	}
	e.built["graph"] = true
	return nil
}

// components labels the edges of the subgraph cond (SQL over ig_edge) by
// connected component (pgr_connectedComponents) and marks the components
// holding a trunk-grade edge: temp table name(edge_id, component, trunk).
func (e *env) components(ctx context.Context, name, cond string) error {
	if e.built[name] {
		return nil
	}
	if err := e.graph(ctx); err != nil {
		return err
	}
	edges := `SELECT id, source, target, cost, cost AS reverse_cost FROM ig_edge WHERE ` + cond
	sql := `CREATE TEMP TABLE ` + name + ` ON COMMIT DROP AS
WITH c AS (SELECT node, component FROM pgr_connectedComponents(` + layers.QuoteLiteral(edges) + `)),
ec AS (SELECT e.id AS edge_id, c.component, e.admin_grade FROM ig_edge e JOIN c ON c.node = e.source WHERE ` + cond + `)
SELECT edge_id, component, bool_or(admin_grade = ANY(` + lits(trunkGrades) + `)) OVER (PARTITION BY component) AS trunk FROM ec`
	if _, err := e.exec(ctx, sql); err != nil {
		return fmt.Errorf("road components (%s): %w", name, err)
	}
	e.built[name] = true
	return nil
}

// hamletAccess is the query of the hamlets (alias-less FROM item) with
// ok = some edge of a trunk-connected component of table comp crosses the
// hamlet's extent: columns id, name, xzqdm, households, geom, ok.
func (e *env) hamletAccess(comp string) string {
	return fmt.Sprintf(`(SELECT hm.id, hm.name, hm.xzqdm, hm.households, hm.geom,
  EXISTS (SELECT 1 FROM ig_edge ge JOIN %[1]s c ON c.edge_id = ge.id AND c.trunk
          WHERE ge.g && ST_Transform(hm.geom, %[2]d) AND ST_Intersects(ge.g, ST_Transform(hm.geom, %[2]d))) AS ok
  FROM %[3]s hm WHERE NOT ST_IsEmpty(hm.geom))`, comp, e.plane, e.tbl("natural_hamlets"))
}

func init() {
	register(&indicator{
		Definition: Definition{
			Key: "hamlet_hardened_road", TitleZH: "自然屯通硬化路率", TitleEN: "自然屯 connected by hardened road",
			Unit:           "%",
			FormulaZH:      "有硬化路（hardened，未填时按沥青/水泥混凝土路面）经连通的硬化路网通达县道、乡道（或国道、省道）的自然屯数 ÷ 自然屯数 × 100%；硬化路须穿过自然屯范围",
			FormulaEN:      "自然屯 whose extent is crossed by a hardened road (hardened, or asphalt/cement surface where unset) connected through hardened roads to a county or township road (or national, provincial) ÷ 自然屯 × 100 %",
			NumeratorLabel: "通硬化路自然屯 hamlets connected", DenominatorLabel: "自然屯数 hamlets",
			HigherIsBetter: true, PerHamlet: true, Features: true,
		},
		kind:   share,
		layers: []string{"roads", "natural_hamlets", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := e.components(ctx, "ig_comp_hard", "hardened"); err != nil {
				return nil, err
			}
			a := e.hamletAccess("ig_comp_hard")
			return e.values(ctx, `WITH a AS MATERIALIZED (SELECT * FROM `+a+` s)
SELECT xzqdm::text, NULL::text, sum(ok::int)::float8, count(*)::float8 FROM a GROUP BY 1
UNION ALL SELECT xzqdm::text, name::text, sum(ok::int)::float8, count(*)::float8 FROM a GROUP BY 1, 2`)
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := e.components(ctx, "ig_comp_hard", "hardened"); err != nil {
				return nil, err
			}
			return e.hamletFeatures(ctx, e.hamletAccess("ig_comp_hard"), village)
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "fire_lane_hamlets", TitleZH: "无消防车道通达的自然屯", TitleEN: "自然屯 without a fire-engine access",
			Unit:           "个",
			FormulaZH:      "只能经宽度小于 4 米的道路到达的自然屯数：宽度 ≥ 4 米（fire_lane，未填时按路面宽度，GB 50016 第 7.1.8 条）的道路连通县道、乡道且穿过自然屯范围的，为有消防车道",
			FormulaEN:      "自然屯 reached only through roads narrower than 4 m: a hamlet has a fire-engine access when a road ≥ 4 m wide (fire_lane, or the pavement width where unset; GB 50016 art. 7.1.8) crosses its extent and connects through such roads to a county or township road",
			NumeratorLabel: "无消防车道自然屯 hamlets without", DenominatorLabel: "自然屯数 hamlets",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"roads", "natural_hamlets", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := e.components(ctx, "ig_comp_wide", "wide"); err != nil {
				return nil, err
			}
			a := e.hamletAccess("ig_comp_wide")
			return e.values(ctx, `WITH a AS MATERIALIZED (SELECT * FROM `+a+` s)
SELECT xzqdm::text, NULL::text, sum((NOT ok)::int)::float8, count(*)::float8 FROM a GROUP BY 1
UNION ALL SELECT xzqdm::text, name::text, sum((NOT ok)::int)::float8, count(*)::float8 FROM a GROUP BY 1, 2`)
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := e.components(ctx, "ig_comp_wide", "wide"); err != nil {
				return nil, err
			}
			return e.hamletFeatures(ctx, e.hamletAccess("ig_comp_wide"), village)
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "dead_ends", TitleZH: "断头路", TitleEN: "Dead ends",
			Unit:           "个",
			FormulaZH:      "道路网（按交叉点打断后）中只连一段路的端点数，不计距各村范围外边界 20 米以内的（通往图外的道路）；按端点所在村统计",
			FormulaEN:      "road ends that meet no other road (vertices of degree 1 of the noded road graph), except those within 20 m of the outer boundary of the villages (roads leaving the map); counted in the village holding the point",
			NumeratorLabel: "断头路端点 dead ends",
			Features:       true,
		},
		kind:   count,
		layers: []string{"roads", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := e.deadEnds(ctx); err != nil {
				return nil, err
			}
			return e.values(ctx, `SELECT xzqdm::text, NULL::text, count(*)::float8, 0::float8 FROM ig_dead GROUP BY 1`)
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := e.deadEnds(ctx); err != nil {
				return nil, err
			}
			var b []byte
			err := e.tx.QueryRow(ctx, `SELECT `+featureCollection(`json_build_object('vertex', d.id, 'village', d.xzqdm, 'road_id', d.road_id)`,
				fmt.Sprintf("ST_Transform(d.g, %d)", layers.StorageSRID), "d.xzqdm, d.id")+`
FROM ig_dead d WHERE $1 = '' OR d.xzqdm = $1`, village).Scan(&b)
			return b, err
		},
	})
}

// deadEnds builds ig_dead(id, g, xzqdm, road_id): the degree-1 vertices
// inside the villages and farther than DeadEndBorderM from their outer
// boundary.
func (e *env) deadEnds(ctx context.Context) error {
	if e.built["dead"] {
		return nil
	}
	if err := e.graph(ctx); err != nil {
		return err
	}
	sql := fmt.Sprintf(`CREATE TEMP TABLE ig_dead ON COMMIT DROP AS
WITH d AS MATERIALIZED (SELECT id, g FROM ig_vertex WHERE degree = 1),
vil AS MATERIALIZED (SELECT xzqdm, ST_Transform(geom, %[1]d) AS g FROM %[2]s v WHERE NOT ST_IsEmpty(geom))
SELECT d.id, d.g, vil.xzqdm::text AS xzqdm,
       (SELECT ge.road_id FROM ig_edge ge WHERE ge.source = d.id OR ge.target = d.id LIMIT 1) AS road_id
FROM d JOIN vil ON ST_Intersects(vil.g, d.g)
-- near the outer boundary: near the village's own boundary with no other
-- village as near (an inner boundary has a neighbour across it)
WHERE NOT (ST_DWithin(d.g, ST_Boundary(vil.g), %[3]g)
           AND NOT EXISTS (SELECT 1 FROM vil o WHERE o.xzqdm <> vil.xzqdm AND ST_DWithin(o.g, d.g, %[3]g)))`, e.plane, e.tbl("villages"), e.s.cfg.DeadEndBorderM)
	if _, err := e.exec(ctx, sql); err != nil {
		return fmt.Errorf("dead ends: %w", err)
	}
	e.built["dead"] = true
	return nil
}

// hamletFeatures lists the hamlets of access query a (hamletAccess)
// without access (ok false) in village: id, name, village, households.
func (e *env) hamletFeatures(ctx context.Context, a, village string) ([]byte, error) {
	var b []byte
	err := e.tx.QueryRow(ctx, `SELECT `+featureCollection(`json_build_object('id', a.id, 'name', a.name, 'village', a.xzqdm, 'households', a.households)`, "a.geom", "a.xzqdm, a.id")+`
FROM `+a+` a WHERE NOT a.ok AND ($1 = '' OR a.xzqdm = $1)`, village).Scan(&b)
	return b, err
}
