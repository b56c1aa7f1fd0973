package indicators

import (
	"context"
	"fmt"
	"strings"
	"time"

	"villageplan/layers"
)

// Homestead, house-safety, hazard and water indicators: counts of
// households (homestead parcels whose status is a household status,
// Config.HouseholdStatuses) per village (the parcel's XZQDM) and per 自然屯
// (the hamlet whose extent holds the parcel's ST_PointOnSurface).

// lits renders a list of strings as a text[] SQL literal.
func lits(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = layers.QuoteLiteral(x)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
}

// parcels builds ig_parcel once per computation: every homestead parcel
// other than 退出 with id, zddm, xzqdm, status, hh (a household: status in
// Config.HouseholdStatuses), geom (EPSG:4490), p (its ST_PointOnSurface),
// pp and gp (point and parcel on the plane), area (m², plane), hamlet and
// hamlet_xzqdm (the 自然屯 holding p, NULL outside every one), and the
// flags water_connected, toilet_done, danger_grade where the catalog has
// them (NULL otherwise).
func (e *env) parcels(ctx context.Context) error {
	if e.built["parcels"] {
		return nil
	}
	flag := func(name, typ string) string {
		if e.s.hasField("homesteads", name) {
			return "h." + layers.QuoteIdent(name)
		}
		return "NULL::" + typ
	}
	// The hamlet of each parcel's point first (driven by the hamlets: few,
	// with many vertices, so that each hamlet's prepared geometry serves
	// all its points, through the layer's own index), then the table in
	// one write (an UPDATE of 200,000 rows with their geometries and
	// indexes costs seconds).
	var stmts []string
	hamletJoin := "LEFT JOIN (SELECT NULL::bigint AS id, NULL::text AS name, NULL::text AS xzqdm) hm ON false"
	if _, ok := e.s.cat.Layer("natural_hamlets"); ok {
		stmts = append(stmts, `CREATE TEMP TABLE ig_pt_hamlet ON COMMIT DROP AS
SELECT DISTINCT ON (h.id) h.id, hm.name::text AS name, hm.xzqdm::text AS xzqdm
FROM `+e.tbl("natural_hamlets")+` hm JOIN `+e.tbl("homesteads")+` h ON h.geom && hm.geom AND ST_Intersects(hm.geom, ST_PointOnSurface(h.geom))
WHERE h.status <> '退出' AND NOT ST_IsEmpty(h.geom)
ORDER BY h.id, hm.id`, `CREATE UNIQUE INDEX ON ig_pt_hamlet (id)`)
		hamletJoin = "LEFT JOIN ig_pt_hamlet hm ON hm.id = h.id"
	}
	stmts = append(stmts, fmt.Sprintf(`CREATE TEMP TABLE ig_parcel ON COMMIT DROP AS
SELECT h.id, h.zddm::text AS zddm, h.xzqdm::text AS xzqdm, h.status::text AS status, h.status = ANY(%[1]s) AS hh, h.geom, h.p,
  ST_Transform(h.p, %[2]d) AS pp, h.gp, ST_Area(h.gp) AS area, hm.name AS hamlet, hm.xzqdm AS hamlet_xzqdm,
  %[4]s AS water_connected, %[5]s AS toilet_done, %[6]s AS danger_grade
FROM (SELECT h.*, ST_PointOnSurface(h.geom) AS p, ST_Transform(h.geom, %[2]d) AS gp FROM %[3]s h
      WHERE h.status <> '退出' AND NOT ST_IsEmpty(h.geom)) h
%[7]s`, lits(e.s.cfg.HouseholdStatuses), e.plane, e.tbl("homesteads"),
		flag("water_connected", "boolean"), flag("toilet_done", "boolean"), flag("danger_grade", "text"), hamletJoin),
		// CREATE INDEX records the row count for the planner; no ANALYZE.
		`CREATE INDEX ON ig_parcel USING gist (gp)`,
		`CREATE INDEX ON ig_parcel USING gist (pp)`,
	)
	for _, q := range stmts {
		if _, err := e.exec(ctx, q); err != nil {
			return fmt.Errorf("homestead parcels: %w", err)
		}
	}
	e.built["parcels"] = true
	return nil
}

// households is the FROM item (alias-less) of the household parcels of
// ig_parcel (parcels must have run).
func (e *env) households() string {
	return e.homesteads("h.hh")
}

// homesteads is the parcels of ig_parcel where cond (over alias h) holds.
func (e *env) homesteads(cond string) string {
	return `(SELECT * FROM ig_parcel h WHERE ` + cond + `)`
}

// countSQL returns the query of a household count indicator: numerator
// Σ num (a boolean SQL expression over alias x), denominator the number
// of rows, per village and per 自然屯, over the FROM item from.
func (e *env) countSQL(from, num string) string {
	return e.aggSQL(from, "sum(("+num+")::int)::float8", "count(*)::float8")
}

// aggSQL returns the query of numerator and denominator aggregates (SQL
// over alias x) of the rows of from, per village (x.xzqdm) and per 自然屯
// (x.hamlet_xzqdm, x.hamlet).
func (e *env) aggSQL(from, num, den string) string {
	return `WITH x AS MATERIALIZED (SELECT * FROM ` + from + ` s)
SELECT x.xzqdm::text, NULL::text, ` + num + `, ` + den + ` FROM x GROUP BY 1
UNION ALL
SELECT x.hamlet_xzqdm, x.hamlet, ` + num + `, ` + den + ` FROM x WHERE x.hamlet IS NOT NULL GROUP BY 1, 2`
}

// pipes builds ig_pipe(g): the segments of the water pipes on the plane,
// indexed (a whole pipe's box covers a village: segments keep the index
// selective).
func (e *env) pipes(ctx context.Context) error {
	if e.built["pipes"] {
		return nil
	}
	for _, q := range []string{
		fmt.Sprintf(`CREATE TEMP TABLE ig_pipe ON COMMIT DROP AS
SELECT d.geom AS g FROM %s w CROSS JOIN LATERAL ST_DumpSegments(ST_Transform(w.geom, %d)) d WHERE NOT ST_IsEmpty(w.geom)`, e.tbl("water_pipelines"), e.plane),
		`CREATE INDEX ON ig_pipe USING gist (g)`,
		`ANALYZE ig_pipe`,
		// Driven by the pipe segments through the parcels' plane index.
		fmt.Sprintf(`CREATE TEMP TABLE ig_near_pipe ON COMMIT DROP AS SELECT DISTINCT p.id FROM ig_pipe w JOIN ig_parcel p ON ST_DWithin(w.g, p.gp, %g)`, e.s.cfg.PipeReachM),
		`CREATE UNIQUE INDEX ON ig_near_pipe (id)`,
		`ANALYZE ig_near_pipe`,
	} {
		if _, err := e.exec(ctx, q); err != nil {
			return fmt.Errorf("water pipes: %w", err)
		}
	}
	e.built["pipes"] = true
	return nil
}

// idSet builds the temporary table name(id) of the distinct ids that
// query returns, indexed, once per computation.
func (e *env) idSet(ctx context.Context, name, query string) error {
	if e.built[name] {
		return nil
	}
	for _, q := range []string{
		`CREATE TEMP TABLE ` + name + ` ON COMMIT DROP AS SELECT DISTINCT id FROM (` + query + `) s`,
		`CREATE UNIQUE INDEX ON ` + name + ` (id)`,
		`ANALYZE ` + name,
	} {
		if _, err := e.exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	e.built[name] = true
	return nil
}

// parcelFeatures returns the FeatureCollection of the parcels of the
// FROM item from (alias x) where cond holds, in village, with
// properties id, zddm, village and the SQL expressions of extra (name →
// expression). Never a personal field.
func (e *env) parcelFeatures(ctx context.Context, from, cond, village string, extra map[string]string) ([]byte, error) {
	props := `'id', x.id, 'zddm', x.zddm, 'village', x.xzqdm`
	for k, v := range extra {
		props += ", " + layers.QuoteLiteral(k) + ", " + v
	}
	sql := `SELECT ` + featureCollection("json_build_object("+props+")", "x.geom", "x.xzqdm, x.id") + `
FROM ` + from + ` x WHERE (` + cond + `) AND ($1 = '' OR x.xzqdm = $1)`
	var b []byte
	if err := e.tx.QueryRow(ctx, sql, village).Scan(&b); err != nil {
		return nil, err
	}
	return b, nil
}

func init() {
	dangerKinds := []string{"地质灾害危险区", "山洪灾害危险区"}
	exposed := func(e *env) string { return `EXISTS (SELECT 1 FROM ig_exposed s WHERE s.id = x.id)` }
	exposedSet := func(ctx context.Context, e *env) error {
		// Driven by the (few) danger zones through the parcels' index.
		return e.idSet(ctx, "ig_exposed", fmt.Sprintf(`SELECT p.id FROM (SELECT ST_Transform(z.geom, %d) AS g FROM %s z WHERE z.kind = ANY(%s)) z
  JOIN ig_parcel p ON p.gp && z.g AND ST_Intersects(z.g, p.gp)`, e.plane, e.tbl("hazard_zones"), lits(dangerKinds)))
	}
	register(&indicator{
		Definition: Definition{
			Key: "hazard_exposed_households", TitleZH: "灾害危险区内户数", TitleEN: "Households in hazard danger zones",
			Unit:           "户",
			FormulaZH:      "宅基地宗地与地质灾害危险区或山洪灾害危险区相交的户数（搬迁避让名单）",
			FormulaEN:      "households whose homestead parcel intersects a geological-hazard or flash-flood danger zone (the relocation list)",
			NumeratorLabel: "危险区内户数 households exposed", DenominatorLabel: "总户数 households",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "hazard_zones", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := exposedSet(ctx, e); err != nil {
				return nil, err
			}
			return e.values(ctx, e.countSQL(e.households(), exposed(e)))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := exposedSet(ctx, e); err != nil {
				return nil, err
			}
			return e.parcelFeatures(ctx, e.households(), exposed(e), village, map[string]string{
				"zones": `(SELECT json_agg(json_build_object('id', z.id, 'kind', z.kind, 'grade', z.grade, 'name', z.name) ORDER BY z.id)
  FROM ` + e.tbl("hazard_zones") + ` z WHERE z.kind = ANY(` + lits(dangerKinds) + `) AND ST_Intersects(z.geom, x.geom))`,
			})
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "homestead_idle", TitleZH: "闲置宅基地", TitleEN: "Idle homestead parcels",
			Unit:           "个",
			FormulaZH:      "状态为“闲置”的宅基地宗数（分母：除“退出”外的宗地数）",
			FormulaEN:      "homestead parcels with status 闲置 (denominator: parcels other than 退出)",
			NumeratorLabel: "闲置宗数 idle parcels", DenominatorLabel: "宗地数 parcels",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.countSQL(e.homesteads(`h.status <> '退出'`), `x.status = '闲置'`))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			return e.parcelFeatures(ctx, e.homesteads(`h.status = '闲置'`), "true", village, nil)
		},
	})

	area := func(e *env) string { return "x.area" }
	register(&indicator{
		Definition: Definition{
			Key: "homestead_avg_area", TitleZH: "宅基地平均面积", TitleEN: "Average homestead area",
			Unit:           "m²",
			FormulaZH:      "除“退出”外宅基地宗地面积之和 ÷ 宗数（高斯-克吕格平面面积；与宅基地面积标准比较，见 homestead_over_limit）",
			FormulaEN:      "sum of the areas of the homestead parcels other than 退出 ÷ their number (Gauss-Krüger plane; compare with the area limit, see homestead_over_limit)",
			NumeratorLabel: "面积之和 total area (m²)", DenominatorLabel: "宗数 parcels",
			PerHamlet: true,
		},
		kind:   ratio,
		layers: []string{"homesteads", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.aggSQL(e.homesteads(`h.status <> '退出'`), "sum("+area(e)+")", "count(*)::float8"))
		},
	})
	register(&indicator{
		Definition: Definition{
			Key: "homestead_over_limit", TitleZH: "超面积标准宅基地", TitleEN: "Homesteads over the area limit",
			Unit:           "个",
			FormulaZH:      "面积超过宅基地面积标准（选址规则 area_limit 的 max_area_m2）的宗数（除“退出”外）",
			FormulaEN:      "homestead parcels (other than 退出) larger than the area limit (siting rule area_limit, max_area_m2)",
			NumeratorLabel: "超标宗数 parcels over the limit", DenominatorLabel: "宗数 parcels",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.countSQL(e.homesteads(`h.status <> '退出'`), fmt.Sprintf("%s > %g", area(e), e.s.cfg.MaxHomesteadAreaM2)))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			return e.parcelFeatures(ctx, e.homesteads(`h.status <> '退出'`), fmt.Sprintf("%s > %g", area(e), e.s.cfg.MaxHomesteadAreaM2), village,
				map[string]string{"area_m2": "round(" + area(e) + "::numeric, 2)", "limit_m2": fmt.Sprint(e.s.cfg.MaxHomesteadAreaM2)})
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "homestead_approvals", TitleZH: "本年宅基地审批", TitleEN: "Homestead approvals this year",
			Unit:           "个",
			FormulaZH:      "批准日期在所选日期当年 1 月 1 日至所选日期之间的宅基地申请数（按申请所在村）",
			FormulaEN:      "homestead applications approved (approved_on) from 1 January of the chosen date's year to the date, by the application's village",
			NumeratorLabel: "批准件数 approvals",
		},
		kind:   count,
		layers: []string{"villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			day := e.at.Add(-time.Hour).In(China)
			from := time.Date(day.Year(), 1, 1, 0, 0, 0, 0, China)
			return e.values(ctx, `SELECT village_code::text, NULL::text, count(*)::float8, 0::float8
FROM villageplan.applications WHERE approved_on BETWEEN $1::date AND $2::date GROUP BY 1`,
				from.Format(time.DateOnly), day.Format(time.DateOnly))
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "toilet_done_share", TitleZH: "改厕完成率", TitleEN: "Sanitary toilets (改厕) done",
			Unit:           "%",
			FormulaZH:      "已改厕户数（toilet_done = 是）÷ 总户数 × 100%",
			FormulaEN:      "households with toilet_done = true ÷ households × 100 %",
			NumeratorLabel: "已改厕户数 households done", DenominatorLabel: "总户数 households",
			HigherIsBetter: true, PerHamlet: true, Features: true,
		},
		kind:   share,
		layers: []string{"homesteads", "villages"},
		fields: []string{"homesteads.toilet_done"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.countSQL(e.households(), `x.toilet_done IS TRUE`))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			return e.parcelFeatures(ctx, e.households(), `x.toilet_done IS NOT TRUE`, village, nil)
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "dangerous_houses", TitleZH: "待改造危房", TitleEN: "Dangerous houses to renovate",
			Unit:           "户",
			FormulaZH:      "危房等级为 C 级或 D 级（危险房屋鉴定标准 JGJ 125）的户数（危房改造进度：越少越好）",
			FormulaEN:      "households whose house is graded C or D (JGJ 125) — the 危房改造 still to do",
			NumeratorLabel: "C/D 级户数 households C or D", DenominatorLabel: "总户数 households",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "villages"},
		fields: []string{"homesteads.danger_grade"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.countSQL(e.households(), `x.danger_grade IN ('C', 'D')`))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			return e.parcelFeatures(ctx, e.households(), `x.danger_grade IN ('C', 'D')`, village,
				map[string]string{"danger_grade": "x.danger_grade"})
		},
	})

	register(&indicator{
		Definition: Definition{
			Key: "water_connected_share", TitleZH: "供水入户率", TitleEN: "Households with piped water",
			Unit:           "%",
			FormulaZH:      "供水入户户数（water_connected = 是）÷ 总户数 × 100%",
			FormulaEN:      "households with water_connected = true ÷ households × 100 %",
			NumeratorLabel: "入户户数 households connected", DenominatorLabel: "总户数 households",
			HigherIsBetter: true, PerHamlet: true, Features: true,
		},
		kind:   share,
		layers: []string{"homesteads", "villages"},
		fields: []string{"homesteads.water_connected"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			return e.values(ctx, e.countSQL(e.households(), `x.water_connected IS TRUE`))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			return e.parcelFeatures(ctx, e.households(), `x.water_connected IS NOT TRUE`, village, nil)
		},
	})

	beyond := func(e *env) string {
		return `NOT EXISTS (SELECT 1 FROM ig_near_pipe s WHERE s.id = x.id)`
	}
	register(&indicator{
		Definition: Definition{
			Key: "water_beyond_pipe", TitleZH: "供水管网覆盖范围外户数", TitleEN: "Households beyond the water pipes",
			Unit:           "户",
			FormulaZH:      "宅基地宗地距任何供水管线都超过 50 米（入户支管的通常长度，经验值）的户数",
			FormulaEN:      "households whose parcel is more than 50 m (a service connection's usual length, rule of thumb) from every water pipe",
			NumeratorLabel: "管网外户数 households beyond", DenominatorLabel: "总户数 households",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "water_pipelines", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := e.pipes(ctx); err != nil {
				return nil, err
			}
			return e.values(ctx, e.countSQL(e.households(), beyond(e)))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := e.pipes(ctx); err != nil {
				return nil, err
			}
			return e.parcelFeatures(ctx, e.households(), beyond(e), village, nil)
		},
	})

	inZone := func(e *env) string { return `EXISTS (SELECT 1 FROM ig_in_zone s WHERE s.id = x.id)` }
	zoneSet := func(ctx context.Context, e *env) error {
		return e.idSet(ctx, "ig_in_zone", fmt.Sprintf(`SELECT p.id FROM (SELECT ST_Transform(z.geom, %d) AS g FROM %s z WHERE z.gkbjlxmc = '饮用水水源一级保护区') z
  JOIN ig_parcel p ON p.gp && z.g AND ST_Intersects(z.g, p.gp)`, e.plane, e.tbl("control_zones")))
	}
	register(&indicator{
		Definition: Definition{
			Key: "water_source_zone_households", TitleZH: "饮用水水源一级保护区内户数", TitleEN: "Households in a first-grade water-source protection zone",
			Unit:           "户",
			FormulaZH:      "宅基地宗地与饮用水水源一级保护区相交的户数（水污染防治法 第六十五条：一级保护区内禁止与供水设施和保护水源无关的建设项目）",
			FormulaEN:      "households whose parcel intersects a first-grade drinking-water source protection zone (Water Pollution Prevention Law art. 65 forbids buildings unrelated to the water supply there)",
			NumeratorLabel: "保护区内户数 households inside", DenominatorLabel: "总户数 households",
			PerHamlet: true, Features: true,
		},
		kind:   count,
		layers: []string{"homesteads", "control_zones", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			if err := zoneSet(ctx, e); err != nil {
				return nil, err
			}
			return e.values(ctx, e.countSQL(e.households(), inZone(e)))
		},
		features: func(ctx context.Context, e *env, village string) ([]byte, error) {
			if err := zoneSet(ctx, e); err != nil {
				return nil, err
			}
			return e.parcelFeatures(ctx, e.households(), inZone(e), village, nil)
		},
	})
}
