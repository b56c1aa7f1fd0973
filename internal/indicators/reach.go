package indicators

import (
	"context"
	"fmt"

	"villageplan/layers"
)

// Reach along the road network (pgRouting) from every household to the
// nearest public facility of a kind, in metres on the Gauss-Krüger plane:
//
//	reach(h) = a(h) + min over facilities f of the kind in state 运行 of
//	           [network distance between the attachment points] + a(f)
//
// where a(x) is the straight distance from x (a parcel's
// ST_PointOnSurface, a facility's point) to the nearest road piece of the
// graph (its attachment point, ST_LineLocatePoint on that piece). The
// network distance is one multi-source Dijkstra per kind
// (pgr_drivingDistance from every facility's virtual vertex at once with
// equicost, bounded by the reach distance), so the cost does not grow with
// the number of facilities; a household and a facility on the same piece
// also get the direct distance along it. Share within (%) = households
// with reach ≤ distance ÷ households × 100; the distance is the
// administrator's target reach_m:<kind> or Config.ReachM.

// reachKinds: indicator key → facility kind.
var reachKinds = []struct{ key, kind, zh, en string }{
	{"reach_shelter", KindShelter, "应急避难场所", "an emergency shelter"},
	{"reach_clinic", KindClinic, "卫生室", "a village clinic"},
	{"reach_service_centre", KindCentre, "便民服务中心", "a service centre"},
}

// homeReachM is the radius of the first pass of the household
// attachment (m).
const homeReachM = 250.0

// homes builds ig_home (household attachments): id, zddm, xzqdm, hamlet,
// hamlet_xzqdm (no geometry: the features join ig_parcel), edge, frac (0–1 along the piece), len (piece length), access
// (m), source, target.
func (e *env) homes(ctx context.Context) error {
	if e.built["homes"] {
		return nil
	}
	if err := e.graph(ctx); err != nil {
		return err
	}
	// The nearest piece of every household: a join driven by the pieces
	// through the points' index within homeReachM (one pass, a few
	// seconds for 200,000 households), then a KNN search for the few
	// farther away (a KNN per household costs 25 s at county scale).
	stmts := []string{
		fmt.Sprintf(`CREATE TEMP TABLE ig_home_edge ON COMMIT DROP AS
SELECT DISTINCT ON (h.id) h.id, ge.id AS edge FROM ig_edge ge JOIN ig_parcel h ON h.hh AND ST_DWithin(ge.g, h.pp, %g)
ORDER BY h.id, ST_Distance(ge.g, h.pp), ge.id`, homeReachM),
		`CREATE UNIQUE INDEX ON ig_home_edge (id)`,
		`INSERT INTO ig_home_edge SELECT h.id, (SELECT ge.id FROM ig_edge ge ORDER BY ge.g <-> h.pp LIMIT 1) FROM ig_parcel h
WHERE h.hh AND NOT EXISTS (SELECT 1 FROM ig_home_edge n WHERE n.id = h.id) AND EXISTS (SELECT 1 FROM ig_edge)`,
		`CREATE TEMP TABLE ig_home ON COMMIT DROP AS
SELECT h.id, h.zddm, h.xzqdm, h.hamlet, h.hamlet_xzqdm, ge.id AS edge, ST_LineLocatePoint(ge.g, h.pp) AS frac, ge.cost AS len,
       ST_Distance(ge.g, h.pp) AS access, ge.source, ge.target
FROM ig_parcel h JOIN ig_home_edge n ON n.id = h.id JOIN ig_edge ge ON ge.id = n.edge`,
	}
	for _, q := range stmts {
		if _, err := e.exec(ctx, q); err != nil {
			return fmt.Errorf("household attachments: %w", err)
		}
	}
	e.built["homes"] = true
	return nil
}

// reach builds ig_reach_<n>(id, xzqdm, zddm, hamlet, hamlet_xzqdm, reach)
// for kind (no geometry: 200,000 rows written three times):
// reach NULL when no facility is within the distance d.
func (e *env) reach(ctx context.Context, n int, kind string, d float64) (string, error) {
	name := fmt.Sprintf("ig_reach_%d", n)
	if e.built[name] {
		return name, nil
	}
	if err := e.homes(ctx); err != nil {
		return "", err
	}
	fac := fmt.Sprintf("ig_fac_%d", n)
	// Virtual vertices: 10^12 + facility id (road vertices are numbered
	// from 1); virtual edges: 10^12 + 2·id (+1).
	stmts := []string{
		fmt.Sprintf(`CREATE TEMP TABLE %[1]s ON COMMIT DROP AS
SELECT f.id, 1000000000000 + f.id AS vid, ge.id AS edge, ST_LineLocatePoint(ge.g, f.pp) AS frac, ge.cost AS len,
       ST_Distance(ge.g, f.pp) AS access, ge.source, ge.target
FROM (SELECT x.id, ST_Transform(x.geom, %[2]d) AS pp FROM %[3]s x WHERE x.kind = %[4]s AND x.state = '运行' AND NOT ST_IsEmpty(x.geom)) f
CROSS JOIN LATERAL (SELECT ge.id, ge.g, ge.cost, ge.source, ge.target FROM ig_edge ge ORDER BY ge.g <-> f.pp LIMIT 1) ge`,
			fac, e.plane, e.tbl("public_facilities"), layers.QuoteLiteral(kind)),
	}
	edges := fmt.Sprintf(`SELECT id, source, target, cost, cost AS reverse_cost FROM ig_edge
UNION ALL SELECT 1000000000000 + 2 * id, vid, source, access + frac * len, access + frac * len FROM %[1]s
UNION ALL SELECT 1000000000001 + 2 * id, vid, target, access + (1 - frac) * len, access + (1 - frac) * len FROM %[1]s`, fac)
	stmts = append(stmts,
		`CREATE INDEX ON `+fac+` (edge)`,
		fmt.Sprintf(`CREATE TEMP TABLE %[1]s_dist ON COMMIT DROP AS
SELECT node, min(agg_cost) AS c FROM pgr_drivingDistance(%[2]s, ARRAY(SELECT vid FROM %[3]s), %[4]g, directed := false, equicost := true)
WHERE EXISTS (SELECT 1 FROM %[3]s) GROUP BY node`, name, layers.QuoteLiteral(edges), fac, d),
		`ANALYZE `+name+`_dist`,
		// The direct distance along a piece shared with a facility: one
		// hash join of the few households on such pieces (a subquery per
		// household, evaluated twice through the CASE, cost 4 s).
		fmt.Sprintf(`CREATE TEMP TABLE %[1]s ON COMMIT DROP AS
WITH same AS MATERIALIZED (
  SELECT h.id, min(h.access + f.access + abs(h.frac - f.frac) * h.len) AS c FROM ig_home h JOIN %[2]s f ON f.edge = h.edge GROUP BY h.id)
SELECT h.id, h.xzqdm, h.zddm, h.hamlet, h.hamlet_xzqdm,
  CASE WHEN r.c <= %[3]g THEN r.c END AS reach
FROM ig_home h
LEFT JOIN %[1]s_dist ds ON ds.node = h.source
LEFT JOIN %[1]s_dist dt ON dt.node = h.target
LEFT JOIN same sm ON sm.id = h.id
CROSS JOIN LATERAL (SELECT least(
    h.access + ds.c + h.frac * h.len,
    h.access + dt.c + (1 - h.frac) * h.len,
    sm.c) AS c) r`, name, fac, d))
	for _, s := range stmts {
		if _, err := e.exec(ctx, s); err != nil {
			return "", fmt.Errorf("reach to %s: %w", kind, err)
		}
	}
	e.built[name] = true
	return name, nil
}

// reachDistance is the reach distance of kind: the administrator's target
// of the village ” or the configured default.
func (e *env) reachDistance(kind string) float64 {
	if d, ok := e.settings[TargetReachPrefix+kind]; ok {
		return d
	}
	return e.s.cfg.ReachM[kind]
}

func init() {
	for i, rk := range reachKinds {
		n, rk := i, rk
		register(&indicator{
			Definition: Definition{
				Key:     rk.key,
				TitleZH: rk.zh + "可达率", TitleEN: "Households within reach of " + rk.en,
				Unit:           "%",
				FormulaZH:      "沿道路网到最近的运行中" + rk.zh + "的距离（宅基地到最近道路 + 路网最短路径 + 设施到最近道路）不超过服务半径（reach_m:" + rk.kind + "）的户数 ÷ 总户数 × 100%",
				FormulaEN:      "households whose distance along the road network to the nearest operating " + rk.en + " (parcel to nearest road + shortest path + facility to nearest road) is within the reach distance (reach_m:" + rk.kind + ") ÷ households × 100 %",
				NumeratorLabel: "服务半径内户数 households within", DenominatorLabel: "总户数 households",
				HigherIsBetter: true, PerHamlet: true, Features: true,
			},
			kind:   share,
			layers: []string{"roads", "homesteads", "public_facilities", "villages"},
			compute: func(ctx context.Context, e *env) ([]Value, error) {
				t, err := e.reach(ctx, n, rk.kind, e.reachDistance(rk.kind))
				if err != nil {
					return nil, err
				}
				return e.values(ctx, e.aggSQL(t,
					"sum((x.reach IS NOT NULL)::int)::float8", "count(*)::float8"))
			},
			features: func(ctx context.Context, e *env, village string) ([]byte, error) {
				t, err := e.reach(ctx, n, rk.kind, e.reachDistance(rk.kind))
				if err != nil {
					return nil, err
				}
				var b []byte
				err = e.tx.QueryRow(ctx, `SELECT `+featureCollection(fmt.Sprintf(`json_build_object('id', x.id, 'zddm', x.zddm, 'village', x.xzqdm, 'reach_limit_m', %g)`, e.reachDistance(rk.kind)), "pc.geom", "x.xzqdm, x.id")+`
FROM `+t+` x JOIN ig_parcel pc ON pc.id = x.id WHERE x.reach IS NULL AND ($1 = '' OR x.xzqdm = $1)`, village).Scan(&b)
				return b, err
			},
		})
	}
}
