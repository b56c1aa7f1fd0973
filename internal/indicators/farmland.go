package indicators

import (
	"context"
	"errors"
	"fmt"
	"time"

	"villageplan/internal/features"
)

// Farmland: 耕地 (land_use parcels whose DLBM is 01xx: 0101 水田, 0102 水浇地,
// 0103 旱地, GB/T 21010-2017 as grouped by 三调) and 永久基本农田
// (permanent_farmland), areas on the Gauss-Krüger plane (m²), per village
// by the parcels' XZQDM (parcels without one count in the township total
// only), against the administrator's targets.

// Target keys of villageplan.indicator_targets.
const (
	TargetFarmland = "farmland_target_m2" // 耕地保有量 (m²)
	TargetPBF      = "pbf_target_m2"      // 永久基本农田保护目标 (m²)
	// TargetReachPrefix + a public_facility_kind: reach distance (m).
	TargetReachPrefix = "reach_m:"
)

// errSkip skips one indicator of a report with a reason (a date before
// the history of a layer it compares with).
type errSkip struct{ why string }

func (e *errSkip) Error() string { return e.why }

// villageTargets attaches the target key of each village (the village's
// own row) as the denominator; the township's is its ” row, or the sum.
func (e *env) withTargets(vals []Value, key string) []Value {
	for i := range vals {
		vals[i].Denominator = e.settings[key+"@"+vals[i].Village]
	}
	return vals
}

func init() {
	area := func(e *env) string { return fmt.Sprintf("ST_Area(ST_Transform(x.geom, %d))", e.plane) }
	cultivated := func(src string) string {
		return `SELECT x.xzqdm::text, NULL::text, sum(ST_Area(ST_Transform(x.geom, %d))), 0::float8 FROM ` + src + ` x
WHERE x.dlbm LIKE '01%%' AND NOT ST_IsEmpty(x.geom) GROUP BY 1`
	}
	register(&indicator{
		Definition: Definition{
			Key: "cultivated_land_area", TitleZH: "耕地面积", TitleEN: "Cultivated land",
			Unit:           "m²",
			FormulaZH:      "地类编码 01xx（水田、水浇地、旱地）图斑面积之和，对照耕地保有量目标（分母）",
			FormulaEN:      "sum of the areas of land-use parcels with DLBM 01xx (paddy, irrigated, dry land), against the 耕地保有量 target (denominator)",
			NumeratorLabel: "耕地面积 area (m²)", DenominatorLabel: "耕地保有量 target (m²)",
			HigherIsBetter: true,
		},
		kind:   count,
		layers: []string{"land_use", "villages"},
		township: func(e *env, n, d float64) (float64, float64) {
			if t, ok := e.settings[TargetFarmland]; ok {
				d = t
			}
			return n, d
		},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			v, err := e.values(ctx, fmt.Sprintf(cultivated(e.tbl("land_use")), e.plane))
			return e.withTargets(v, TargetFarmland), err
		},
	})
	register(&indicator{
		Definition: Definition{
			Key: "pbf_area", TitleZH: "永久基本农田面积", TitleEN: "Permanent basic farmland",
			Unit:           "m²",
			FormulaZH:      "永久基本农田保护图斑面积之和，对照永久基本农田保护目标（分母）",
			FormulaEN:      "sum of the areas of the permanent basic farmland parcels, against the protection target (denominator)",
			NumeratorLabel: "永久基本农田面积 area (m²)", DenominatorLabel: "保护目标 target (m²)",
			HigherIsBetter: true,
		},
		kind:   count,
		layers: []string{"permanent_farmland", "villages"},
		township: func(e *env, n, d float64) (float64, float64) {
			if t, ok := e.settings[TargetPBF]; ok {
				d = t
			}
			return n, d
		},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			v, err := e.values(ctx, `SELECT x.xzqdm::text, NULL::text, sum(`+area(e)+`), 0::float8 FROM `+e.tbl("permanent_farmland")+` x
WHERE NOT ST_IsEmpty(x.geom) GROUP BY 1`)
			return e.withTargets(v, TargetPBF), err
		},
	})
	register(&indicator{
		Definition: Definition{
			Key: "cultivated_land_change", TitleZH: "耕地面积年内变化", TitleEN: "Change of cultivated land this year",
			Unit:           "m²",
			FormulaZH:      "所选日期的耕地面积 − 当年 1 月 1 日（北京时间 0 时）的耕地面积（分子：现面积，分母：年初面积）",
			FormulaEN:      "cultivated land area at the chosen date − at 00:00 on 1 January of its year, China time (numerator: now, denominator: then)",
			NumeratorLabel: "现耕地面积 area now (m²)", DenominatorLabel: "年初耕地面积 area on 1 January (m²)",
			HigherIsBetter: true,
		},
		kind:   difference,
		layers: []string{"land_use", "villages"},
		compute: func(ctx context.Context, e *env) ([]Value, error) {
			d := e.at.Add(-time.Hour).In(China)
			jan1 := time.Date(d.Year(), 1, 1, 0, 0, 0, 0, China)
			var start *time.Time
			if err := e.tx.QueryRow(ctx, `SELECT villageplan.history_start('land_use')`).Scan(&start); err != nil {
				return nil, err
			}
			if start == nil || start.After(jan1) {
				return nil, &errSkip{why: (&ErrBeforeHistory{Layer: "land_use", Date: jan1}).Error()}
			}
			then := "(" + features.AsOfRelation(e.layer("land_use"), jan1) + ")"
			rows, err := e.values(ctx, fmt.Sprintf(`SELECT coalesce(a.xzqdm, b.xzqdm), NULL::text, coalesce(a.n, 0), coalesce(b.n, 0)
FROM (`+cultivated(e.tbl("land_use"))+`) a(xzqdm, h, n, d) FULL JOIN (`+cultivated(then)+`) b(xzqdm, h, n, d) ON coalesce(a.xzqdm, '') = coalesce(b.xzqdm, '')`, e.plane, e.plane))
			return rows, err
		},
	})
	_ = errors.New
}
