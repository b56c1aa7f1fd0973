package projects

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/layers"
)

// The sample projects are filed by a sample village clerk and checked by
// a sample township approver (two principals, since a filer never reviews
// their own project); their names are in every event and audit row.
var (
	sampleClerk = &auth.Principal{Username: "示例数据·村级经办", DisplayName: "示例数据（自动生成）", Via: "sample",
		Grants: []auth.Grant{{Role: auth.VillageClerk}}}
	sampleApprover = &auth.Principal{Username: "示例数据·乡镇审批", DisplayName: "示例数据（自动生成）", Via: "sample",
		Grants: []auth.Grant{{Role: auth.TownshipApprover}}}
)

// sampleProject is one project of every sample village: geometry kind
// ("point" 70 m west and 50 m south of the village's point on surface,
// where the map labels the village; "line" along its longest road inside
// it; "polygon" a 60 m × 40 m lot), and the phase by the village's
// position (so the map shows every phase).
type sampleProject struct {
	name, task, item, geom, office string
	budget                         float64
	funding                        map[string]float64
	yearsAgo                       int
}

var sampleProjects = []sampleProject{
	{"进村道路硬化（示例）", "roads", "进村入户", "line", "交通运输办", 860000, map[string]float64{"财政": 660000, "以工代赈": 200000}, 0},
	{"主干道路灯安装（示例）", "facilities", "村内主干道路灯", "line", "乡村建设办", 180000, map[string]float64{"财政": 150000, "村集体": 30000}, 0},
	{"应急避难场所建设（示例）", "facilities", "应急避难场所", "polygon", "应急管理办", 260000, map[string]float64{"财政": 260000}, 0},
	{"户厕改造（示例）", "environment", "改厕", "point", "农业农村办", 96000, map[string]float64{"财政": 72000, "农户投工投劳": 24000}, 0},
	{"村卫生室标准化改造（示例）", "services", "卫生室", "point", "卫生健康办", 150000, map[string]float64{"财政": 120000, "社会资本": 30000}, 0},
	{"供水管网入户（示例）", "water", "供水入户", "line", "水利站", 420000, map[string]float64{"财政": 400000, "村集体": 20000}, 1},
}

// LoadSamples files the sample projects of the sample township (only when
// the villages layer holds sample data and no sample project exists):
// for each sample village the projects of sampleProjects through the
// Service itself (drafted, filed, approved, then moved to their phase with
// a progress report and a generated photo), plus in the first village one
// draft and one filed project awaiting review, so the page shows every
// status. Every row has is_sample. It returns how many projects it filed.
func LoadSamples(ctx context.Context, pool *pgxpool.Pool, now time.Time) (int, error) {
	var exists, sampleData bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM villageplan.construction_projects WHERE is_sample),
		EXISTS (SELECT 1 FROM villageplan.layer_metadata WHERE layer = $1 AND is_sample)`, layers.Villages.ID).Scan(&exists, &sampleData); err != nil {
		return 0, err
	}
	if exists || !sampleData {
		return 0, nil
	}
	type village struct{ code, point, line, lot string }
	rows, err := pool.Query(ctx, fmt.Sprintf(`
		WITH v AS (SELECT xzqdm, geom, ST_Transform(ST_PointOnSurface(geom), 4551) AS pt FROM %[1]s
			WHERE xzqdm LIKE '220112203%%' AND NOT ST_IsEmpty(geom) AND ST_IsValid(geom))
		SELECT v.xzqdm, ST_AsGeoJSON(ST_Transform(ST_Translate(v.pt, -70, -50), 4490), 7, 0),
			ST_AsGeoJSON(coalesce(r.line, ST_Transform(ST_MakeLine(ST_Translate(v.pt, -200, 0), ST_Translate(v.pt, 200, 0)), 4490)), 7, 0),
			ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(ST_X(v.pt) + 40, ST_Y(v.pt) + 40, ST_X(v.pt) + 100, ST_Y(v.pt) + 80, 4551), 4490), 7, 0)
		FROM v LEFT JOIN LATERAL (
			SELECT ST_Transform(ST_LineSubstring(l, 0, least(1, 600 / greatest(ST_Length(l), 1))), 4490) AS line
			FROM (SELECT (ST_Dump(ST_Intersection(ST_Transform(r.geom, 4551), ST_Transform(v.geom, 4551)))).geom AS l
				FROM %[2]s r WHERE ST_Intersects(r.geom, v.geom)) d
			WHERE GeometryType(l) = 'LINESTRING' AND ST_Length(l) > 50
			ORDER BY ST_Length(l) DESC LIMIT 1) r ON true
		ORDER BY v.xzqdm LIMIT 12`, layers.Villages.QualifiedTable(), layers.Roads.QualifiedTable()))
	if err != nil {
		return 0, fmt.Errorf("sample project sites: %w", err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (village, error) {
		var v village
		return v, r.Scan(&v.code, &v.point, &v.line, &v.lot)
	})
	if err != nil {
		return 0, err
	}
	svc := NewService(pool, Config{Now: func() time.Time { return now }})
	clerk, approver := auth.WithPrincipal(ctx, sampleClerk), auth.WithPrincipal(ctx, sampleApprover)
	photo := samplePhoto()
	year := now.In(China).Year()
	n := 0
	for vi, v := range vs {
		for pi, sp := range sampleProjects {
			geom := map[string]string{"point": v.point, "line": v.line, "polygon": v.lot}[sp.geom]
			phase := Phases[(vi+pi)%len(Phases)]
			y := year - sp.yearsAgo
			if sp.yearsAgo > 0 {
				phase = Completed
			}
			in := Input{Village: &v.code, Year: &y, Task: &sp.task, Item: &sp.item, Name: &sp.name, Phase: ptr(Planned),
				BudgetYuan: &sp.budget, Funding: sp.funding, LeadOffice: &sp.office, Geometry: json.RawMessage(geom),
				Description: ptr("示例数据：生成的项目，非真实计划。")}
			p, err := svc.Create(clerk, in)
			if err != nil {
				return n, fmt.Errorf("sample project %s %s: %w", v.code, sp.name, err)
			}
			n++
			if _, err := pool.Exec(ctx, `UPDATE villageplan.construction_projects SET is_sample = true WHERE id = $1`, p.ID); err != nil {
				return n, err
			}
			if p, err = svc.Transition(clerk, p.ID, p.Version, "file", ""); err != nil {
				return n, err
			}
			if p, err = svc.Transition(approver, p.ID, p.Version, "approve", ""); err != nil {
				return n, err
			}
			if phase == Planned {
				continue
			}
			spent := map[Phase]float64{Started: 0.4, Operating: 0.95, Completed: 1}[phase] * sp.budget
			spent = round2(spent)
			if p, err = svc.Update(clerk, p.ID, p.Version, Input{Phase: &phase, SpentYuan: &spent}); err != nil {
				return n, err
			}
			day := now.In(China).AddDate(0, 0, -7*(pi+1)).Format(time.DateOnly)
			rep, err := svc.AddReport(clerk, p.ID, day, fmt.Sprintf("%s：%s，已完成投资 %.0f 元（示例数据）", sp.name, phase, spent))
			if err != nil {
				return n, err
			}
			if _, err := svc.AddPhoto(clerk, p.ID, rep.ID, "现场照片（示例）.png", photo); err != nil {
				return n, err
			}
		}
	}
	if len(vs) > 0 {
		// One draft and one project awaiting the township's review.
		for i, name := range []string{"村内道路路面加宽（示例，草稿）", "垃圾收集点建设（示例，待审核）"} {
			task, item := "roads", "路面加宽"
			if i == 1 {
				task, item = "environment", "垃圾收运"
			}
			budget := 120000.0 * float64(i+1)
			in := Input{Village: &vs[0].code, Year: &year, Task: &task, Item: &item, Name: &name, Phase: ptr(Planned),
				BudgetYuan: &budget, Funding: map[string]float64{"财政": budget}, LeadOffice: ptr("乡村建设办"),
				Geometry: json.RawMessage(vs[0].point)}
			p, err := svc.Create(clerk, in)
			if err != nil {
				return n, err
			}
			n++
			if _, err := pool.Exec(ctx, `UPDATE villageplan.construction_projects SET is_sample = true WHERE id = $1`, p.ID); err != nil {
				return n, err
			}
			if i == 1 {
				if _, err := svc.Transition(clerk, p.ID, p.Version, "file", ""); err != nil {
					return n, err
				}
			}
		}
	}
	return n, nil
}

func ptr[T any](v T) *T { return &v }

// samplePhoto is a small PNG that says nothing but "sample": a grey
// field with a green band (a generated picture, not a photograph).
func samplePhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 160; x++ {
			c := color.RGBA{200, 205, 210, 255}
			if y > 60 {
				c = color.RGBA{90, 150, 90, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
