// Package indicatorstest is the hand-built fixture of the indicator tests
// (package indicators and the HTTP routes): two villages with roads,
// lights, homesteads, hazard and control zones, land use, pipes and
// applications whose indicator values are worked out by hand in the
// comment of Load.
package indicatorstest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	VillageA = "220112203301"
	VillageB = "220112203302"
)

// Fixture coordinates are metres on EPSG:4551 (CGCS2000 3-degree
// Gauss-Krüger CM 126°E, the plane the service measures on for villages
// centred at 126°E) relative to (500000, 4829000), on the central meridian
// so that geodesic and plane lengths agree to well under a millimetre.
func pt(x, y float64) string {
	return fmt.Sprintf("ST_Transform(ST_SetSRID(ST_MakePoint(%f, %f), 4551), 4490)", 500000+x, 4829000+y)
}

func box(x0, y0, x1, y1 float64) string {
	return fmt.Sprintf("ST_Multi(ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 4551), 4490))", 500000+x0, 4829000+y0, 500000+x1, 4829000+y1)
}

// sq is a square parcel of side s centred on (x, y).
func sq(x, y, s float64) string { return box(x-s/2, y-s/2, x+s/2, y+s/2) }

func rect(x, y, w, h float64) string { return box(x-w/2, y-h/2, x+w/2, y+h/2) }

func line(xy ...float64) string {
	s := "ST_Multi(ST_Transform(ST_SetSRID(ST_MakeLine(ARRAY["
	for i := 0; i < len(xy); i += 2 {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("ST_MakePoint(%f, %f)", 500000+xy[i], 4829000+xy[i+1])
	}
	return s + "]), 4551), 4490))"
}

// Load inserts into pool (a fresh migrated database, testpg.New) two villages side by side, A [-1000, 1000]² and B
// [1000, 3000] × [-1000, 1000]:
//
// Roads: 县道 X101 along y = 0 from x = −1000 to 3000 (asphalt, 7 m);
// lane C1 (90,0)→(90,290)→(0,290) (cement, 5 m) ending at a shelter;
// lane C2 (−600,0)→(−600,400) (cement, 3.5 m); earth road C3
// (−200,0)→(−200,700) (5 m). In B, inside a 村庄集中建设区
// [1200,2800]×[300,700], three main-road segments of 40 m at y = 500, the
// first two with a working light at their middle, the third with a faulty
// one: 80 of 120 m lit, 66.67 %; a fourth, unlit, is flagged main_road =
// false and does not count.
//
// 自然屯 of A: 东屯 [0,150]×[250,350] (crossed by C1: hardened, 5 m), 西屯
// [−700,−500]×[300,500] (reached only through C2, 3.5 m: no fire lane),
// 北屯 [−300,−100]×[600,800] (only the earth road C3: not hardened).
// Facilities: an operating shelter at the end of C1 (0,290) — from H1 480 m
// by road (10 + 90 + 290 + 90) and 300 m straight; an operating clinic at
// (0,0) on X101 and a closed one at (45,290); no service centre.
// Households' flags (water_connected, toilet_done, danger_grade): H1 yes,
// yes, B; H2 yes, no, C; H3 no, yes, D; H8 yes.
//
// Homesteads (已登记 = household): H1 10×10 at (0,−10); H2 at (45,300);
// H3 at (−620,350); H6 at (600,−400) in a 山洪灾害危险区; H7 at (−800,−800)
// in a 地质灾害易发区 (not a danger zone); H8 18×20 (360 m²) at (2000,−500)
// in B inside a 饮用水水源一级保护区; H4 20×20 闲置 at (−230,650); H5 30×30
// 退出 at (700,700). A water pipe along y = −30 from x = −100 to 700.
//
// Land use: A 0101 200×200 and 0103 200×200 (80,000 m² of 耕地) and a
// 0301 wood; B 0102 200×100 (20,000 m²). 永久基本农田 A 100×200.
func Load(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	stmts := []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('` + VillageA + `', '鲁家村', '集聚提升类', ` + box(-1000, -1000, 1000, 1000) + `)`,
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('` + VillageB + `', '庞家村', '集聚提升类', ` + box(1000, -1000, 3000, 1000) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('村庄集中建设区', ` + box(1200, 300, 2800, 700) + `)`,
		`INSERT INTO villageplan.control_zones (gkbjlxmc, geom) VALUES ('饮用水水源一级保护区', ` + box(1900, -600, 2100, -400) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, surface, pavement_width, geom) VALUES ('X101', '县道', '沥青混凝土', 7, ` + line(-1000, 0, 3000, 0) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, surface, pavement_width, hardened, geom) VALUES ('C101', '村道', '水泥混凝土', 5, true, ` + line(90, 0, 90, 290, 0, 290) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, surface, pavement_width, geom) VALUES ('C102', '村道', '水泥混凝土', 3.5, ` + line(-600, 0, -600, 400) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, surface, pavement_width, hardened, geom) VALUES ('C103', '村道', '土路', 5, false, ` + line(-200, 0, -200, 700) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, geom) VALUES ('C201', '村道', ` + line(1300, 500, 1340, 500) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, geom) VALUES ('C202', '村道', ` + line(1600, 500, 1640, 500) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, geom) VALUES ('C203', '村道', ` + line(1900, 500, 1940, 500) + `)`,
		`INSERT INTO villageplan.roads (lxbm, admin_grade, main_road, geom) VALUES ('C204', '村道', false, ` + line(1300, 600, 1340, 600) + `)`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L1', '正常', ` + pt(1320, 500) + `)`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L2', '正常', ` + pt(1620, 500) + `)`,
		`INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('L3', '故障', ` + pt(1920, 500) + `)`,
		`INSERT INTO villageplan.hazard_zones (kind, grade, name, geom) VALUES ('山洪灾害危险区', '高', '小河山洪危险区', ` + box(500, -500, 700, -300) + `)`,
		`INSERT INTO villageplan.hazard_zones (kind, grade, name, geom) VALUES ('地质灾害易发区', '低', '东南易发区', ` + box(-900, -900, -700, -700) + `)`,
		`INSERT INTO villageplan.water_pipelines (kind, geom) VALUES ('配水管', ` + line(-100, -30, 700, -30) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0101', '` + VillageA + `', ` + box(-900, -300, -700, -100) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0103', '` + VillageA + `', ` + box(-600, -900, -400, -700) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0301', '` + VillageA + `', ` + box(300, -900, 500, -700) + `)`,
		`INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0102', '` + VillageB + `', ` + box(2500, -900, 2700, -800) + `)`,
		`INSERT INTO villageplan.permanent_farmland (yjjbnttbbh, dlbm, xzqdm, geom) VALUES ('22011220330100000001', '0101', '` + VillageA + `', ` + box(-900, -300, -800, -100) + `)`,
	}
	hs := []struct {
		zddm, village, status string
		geom                  string
		water, toilet, grade  string
	}{
		{"220112203301JC00001", VillageA, "已登记", sq(0, -10, 10), "true", "true", "'B'"},
		{"220112203301JC00002", VillageA, "已登记", sq(45, 300, 10), "true", "false", "'C'"},
		{"220112203301JC00003", VillageA, "已登记", sq(-620, 350, 10), "false", "true", "'D'"},
		{"220112203301JC00004", VillageA, "闲置", sq(-230, 650, 20), "NULL", "NULL", "'D'"},
		{"220112203301JC00005", VillageA, "退出", sq(700, 700, 30), "NULL", "NULL", "NULL"},
		{"220112203301JC00006", VillageA, "已登记", sq(600, -400, 10), "NULL", "NULL", "'A'"},
		{"220112203301JC00007", VillageA, "已登记", sq(-800, -800, 10), "NULL", "NULL", "NULL"},
		{"220112203302JC00008", VillageB, "已登记", rect(2000, -500, 18, 20), "true", "NULL", "NULL"},
	}
	for _, h := range hs {
		stmts = append(stmts, `INSERT INTO villageplan.homesteads (zddm, xzqdm, status, holder_name, water_connected, toilet_done, danger_grade, geom)
VALUES ('`+h.zddm+`', '`+h.village+`', '`+h.status+`', '张三', `+h.water+`, `+h.toilet+`, `+h.grade+`, `+h.geom+`)`)
	}
	// 自然屯 of A and the public facilities.
	stmts = append(stmts,
		`INSERT INTO villageplan.natural_hamlets (name, xzqdm, households, geom) VALUES ('东屯', '`+VillageA+`', 1, `+box(0, 250, 150, 350)+`)`,
		`INSERT INTO villageplan.natural_hamlets (name, xzqdm, households, geom) VALUES ('西屯', '`+VillageA+`', 1, `+box(-700, 300, -500, 500)+`)`,
		`INSERT INTO villageplan.natural_hamlets (name, xzqdm, households, geom) VALUES ('北屯', '`+VillageA+`', 0, `+box(-300, 600, -100, 800)+`)`,
		`INSERT INTO villageplan.public_facilities (name, kind, state, xzqdm, geom) VALUES ('东屯避难场所', '应急避难场所', '运行', '`+VillageA+`', `+pt(0, 290)+`)`,
		`INSERT INTO villageplan.public_facilities (name, kind, state, xzqdm, geom) VALUES ('鲁家村卫生室', '卫生室', '运行', '`+VillageA+`', `+pt(0, 0)+`)`,
		`INSERT INTO villageplan.public_facilities (name, kind, state, xzqdm, geom) VALUES ('旧卫生室', '卫生室', '停用', '`+VillageA+`', `+pt(45, 290)+`)`,
	)
	// Applications: two approved this year in A (1 January and today),
	// one on 31 December of last year.
	for i, d := range []string{"date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai')::date", "(now() AT TIME ZONE 'Asia/Shanghai')::date", "date_trunc('year', now() AT TIME ZONE 'Asia/Shanghai')::date - 1"} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO villageplan.applications (village_code, township_code, state, form, applicant_name, household_ids, created_by, approved_on, approval_number)
VALUES ('%s', '220112203', 'approved', '{}', '李四', ARRAY['2201'], 'test', %s, 'N%d')`, VillageA, d, i))
	}
	for _, s := range stmts {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}
