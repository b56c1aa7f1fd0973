package sample

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"villageplan/data/testdata"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// boundaryFile is the 双阳区 boundary (DataV, GCJ-02) relative to this
// package directory.
const boundaryFile = "shuangyang_220112_datav.json" // in data/testdata/real

// in4551 is the SQL expression of a feature's geometry on the EPSG:4551
// plane, where the tests measure areas and distances in metres.
const in4551 = "ST_Transform(geom, 4551)"

func scalar[T any](t *testing.T, pool *pgxpool.Pool, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	return v
}

// zero fails the test when the query, a count, is not 0.
func zero(t *testing.T, pool *pgxpool.Pool, what, sql string, args ...any) {
	t.Helper()
	if n := scalar[int64](t, pool, sql, args...); n != 0 {
		t.Errorf("%s: %d rows, want 0", what, n)
	}
}

func between(t *testing.T, what string, v, lo, hi float64) {
	t.Helper()
	if v < lo || v > hi {
		t.Errorf("%s = %v, want %v…%v", what, v, lo, hi)
	}
}

func loadFresh(t *testing.T, opts Options) (*pgxpool.Pool, map[string]int64, time.Duration) {
	t.Helper()
	pool := testpg.New(t)
	t0 := time.Now()
	counts, err := Load(context.Background(), pool, opts, nil)
	if err != nil {
		t.Fatalf("Load(%+v): %v", opts, err)
	}
	return pool, counts, time.Since(t0)
}

// fingerprint returns, per layer, an md5 over every feature's EWKB and
// attributes in id order.
func fingerprint(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range layers.Default().Layers() {
		out[l.ID] = scalar[string](t, pool, `SELECT coalesce(md5(string_agg(encode(ST_AsEWKB(geom), 'hex') || '|'
			|| (to_jsonb(t) - 'id' - 'geom' - 'geom_3857')::text, E'\n' ORDER BY id)), '') FROM `+l.QualifiedTable()+` t`)
	}
	return out
}

func layerIDs(c *layers.Catalog) []string {
	var ids []string
	for _, l := range c.Layers() {
		ids = append(ids, l.ID)
	}
	return ids
}

// idCheck computes the ISO 7064 MOD 11-2 check character of the first 17
// digits of a resident identity number (GB 11643-1999).
func idCheck(body string) byte {
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * w[i]
	}
	return "10X98765432"[sum%11]
}

func TestIDCheck(t *testing.T) {
	// the example number of GB 11643-1999
	if c := idCheck("11010519491231002X"); c != 'X' {
		t.Fatalf("idCheck = %c, want X", c)
	}
}

func TestOptions(t *testing.T) {
	o, err := Options{}.normalised()
	if err != nil || o.Seed != 1 || o.Scale != ScaleTownship {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
	if _, err := (Options{Scale: "region"}).normalised(); err == nil {
		t.Fatal("unknown scale accepted")
	}
	if got, want := (Options{}).Source(), "示例数据 (villageplan sample generator, seed 1, scale township)"; got != want {
		t.Fatalf("Source = %q, want %q", got, want)
	}
	if _, err := Load(context.Background(), nil, Options{Scale: "region"}, nil); err == nil {
		t.Fatal("Load accepted an unknown scale")
	}
}

// TestSteps checks generate.sql: unique step names and one insert step per
// catalog layer, so a layer added to the catalog is noticed here.
func TestSteps(t *testing.T) {
	seen := map[string]bool{}
	inserts := map[string]bool{}
	for _, s := range steps() {
		if seen[s.name] {
			t.Errorf("step %q twice", s.name)
		}
		seen[s.name] = true
		if l, ok := strings.CutPrefix(s.name, "insert "); ok {
			inserts[l] = true
		}
	}
	for _, l := range layers.Default().Layers() {
		if !inserts[l.ID] {
			t.Errorf("layer %s has no insert step in generate.sql", l.ID)
		}
	}
	if len(inserts) != len(layers.Default().Layers()) {
		t.Errorf("%d insert steps for %d catalog layers", len(inserts), len(layers.Default().Layers()))
	}
}

func TestCountyVillages(t *testing.T) {
	vs := countyVillages(grids[ScaleCounty], 901)
	if len(vs) != 156 {
		t.Fatalf("%d county villages, want 156", len(vs))
	}
	codes := map[string]bool{}
	seats := map[int]int{}
	for _, v := range vs {
		if len(v.code) != 12 || codes[v.code] {
			t.Errorf("bad or duplicate code %q", v.code)
		}
		codes[v.code] = true
		if v.seat {
			seats[v.block]++
		}
	}
	for b := 0; b < 30; b++ {
		if seats[b] != 1 {
			t.Errorf("block %d has %d seats", b, seats[b])
		}
	}
}

// TestTownship loads the township with seed 1 (and the seeds listed in
// VILLAGEPLAN_SAMPLE_SEEDS, comma-separated) and checks the invariants.
func TestTownship(t *testing.T) {
	seeds := []int64{1}
	for _, f := range strings.Split(os.Getenv("VILLAGEPLAN_SAMPLE_SEEDS"), ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err == nil && n != 1 {
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { checkTownship(t, seed) })
	}
}

func checkTownship(t *testing.T, seed int64) {
	ctx := context.Background()
	pool, counts, took := loadFresh(t, Options{Seed: seed})
	t.Logf("township load (seed %d): %v, counts %v", seed, took.Round(time.Millisecond), counts)
	if took > 20*time.Second {
		t.Errorf("township load took %v, want < 20 s", took)
	}
	cat := layers.Default()

	t.Run("counts", func(t *testing.T) {
		want := map[string][2]int64{
			"villages": {6, 6}, "homesteads": {2000, 5000}, "land_use": {2500, 6000}, "permanent_farmland": {1000, 4000},
			"control_zones": {17, 17}, "hazard_zones": {5, 5}, "roads": {20, 60}, "streetlights": {150, 1000},
			"water_facilities": {8, 8}, "water_pipelines": {30, 120}, "power_lines": {7, 7},
			"natural_hamlets": {12, 18}, "public_facilities": {100, 250},
		}
		for _, l := range cat.Layers() {
			n := scalar[int64](t, pool, `SELECT count(*) FROM `+l.QualifiedTable())
			if n != counts[l.ID] {
				t.Errorf("%s: Load reported %d, table has %d", l.ID, counts[l.ID], n)
			}
			w, ok := want[l.ID]
			if !ok {
				t.Errorf("no expected count for layer %s", l.ID)
				continue
			}
			if n < w[0] || n > w[1] {
				t.Errorf("%s: %d features, want %d…%d", l.ID, n, w[0], w[1])
			}
		}
	})

	t.Run("villages", func(t *testing.T) {
		want := map[string]string{
			"220112203300": "大营村", "220112203301": "鲁家村", "220112203302": "庞家村",
			"220112203303": "新胜村", "220112203304": "尹家村", "220112203305": "黄金村",
		}
		rows, err := pool.Query(ctx, `SELECT xzqdm, xzqmc, czlx, coalesce(designation, ''), households, population, township_code
			FROM villageplan.villages ORDER BY xzqdm`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		classes := map[string]int{}
		ethnic := false
		for rows.Next() {
			var code, name, czlx, des, town string
			var hh, pop int
			if err := rows.Scan(&code, &name, &czlx, &des, &hh, &pop, &town); err != nil {
				t.Fatal(err)
			}
			if want[code] != name {
				t.Errorf("village %s named %q, want %q", code, name, want[code])
			}
			delete(want, code)
			classes[czlx]++
			if czlx == "特色保护类" && des == "民族特色村" {
				ethnic = true
			}
			if code == "220112203300" && czlx != "集聚提升类" {
				t.Errorf("大营村 (township seat) is %s, want 集聚提升类", czlx)
			}
			between(t, name+" households", float64(hh), 300, 700)
			between(t, name+" persons per household", float64(pop)/float64(hh), 2.4, 2.8)
			if town != TownshipCode {
				t.Errorf("%s township_code %q", name, town)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(want) != 0 {
			t.Errorf("missing villages %v", want)
		}
		if !ethnic {
			t.Error("no 特色保护类 village with designation 民族特色村")
		}
		if classes["城郊融合类"] == 0 || len(classes) < 3 {
			t.Errorf("village classes %v: want 城郊融合类 and a mix", classes)
		}
		// households are at least the households that hold a homestead
		zero(t, pool, "villages with fewer households than homestead holders", `SELECT count(*) FROM villageplan.villages v
			WHERE v.households < (SELECT count(DISTINCT household_id) FROM villageplan.homesteads h WHERE h.xzqdm = v.xzqdm)`)
	})

	t.Run("tiling", func(t *testing.T) {
		var sum, union, env float64
		if err := pool.QueryRow(ctx, `SELECT sum(ST_Area(g)), ST_Area(ST_Union(g)), ST_Area(ST_Envelope(ST_Union(g)))
			FROM (SELECT `+in4551+` AS g FROM villageplan.villages) x`).Scan(&sum, &union, &env); err != nil {
			t.Fatal(err)
		}
		between(t, "village union area − township rectangle (8 km × 6 km) m²", union-8000*6000, -1, 1)
		between(t, "village union area − its envelope m²", union-env, -1, 1)
		between(t, "sum of village areas − union m²", sum-union, -1, 1)
		zero(t, pool, "overlapping village pairs", `SELECT count(*) FROM villageplan.villages a JOIN villageplan.villages b
			ON a.id < b.id AND a.geom && b.geom
			WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
	})

	t.Run("geometry", func(t *testing.T) {
		// every feature valid, non-empty, of the layer's type, SRID 4490,
		// and inside the township extent
		for _, l := range cat.Layers() {
			zero(t, pool, l.ID+" bad geometries", `SELECT count(*) FROM `+l.QualifiedTable()+` WHERE geom IS NULL OR NOT ST_IsValid(geom)
				OR ST_IsEmpty(geom) OR GeometryType(geom) <> $1 OR ST_SRID(geom) <> 4490`, strings.ToUpper(string(l.Geometry)))
			zero(t, pool, l.ID+" features outside the township", `WITH e AS (SELECT ST_Buffer(ST_Envelope(ST_Union(`+in4551+`)), 0.01) AS g
				FROM villageplan.villages) SELECT count(*) FROM `+l.QualifiedTable()+` t, e WHERE NOT ST_Within(ST_Transform(t.geom, 4551), e.g)`)
		}
	})

	t.Run("code lists", func(t *testing.T) {
		for _, l := range cat.Layers() {
			for _, f := range l.Fields {
				col := layers.QuoteIdent(f.Name)
				if f.Required {
					zero(t, pool, l.ID+"."+f.Name+" NULL", `SELECT count(*) FROM `+l.QualifiedTable()+` WHERE `+col+` IS NULL`)
				}
				if f.CodeList == "" {
					continue
				}
				cl, ok := layers.CodeListByID(f.CodeList)
				if !ok {
					t.Fatalf("unknown code list %s", f.CodeList)
				}
				rows, err := pool.Query(ctx, `SELECT DISTINCT `+col+`::text FROM `+l.QualifiedTable()+` WHERE `+col+` IS NOT NULL`)
				if err != nil {
					t.Fatal(err)
				}
				var vals []string
				for rows.Next() {
					var v string
					if err := rows.Scan(&v); err != nil {
						t.Fatal(err)
					}
					vals = append(vals, v)
				}
				rows.Close()
				if len(vals) == 0 && f.Required {
					t.Errorf("%s.%s: no values", l.ID, f.Name)
				}
				for _, v := range vals {
					if cv, ok := cl.Lookup(v); !ok || cv.Value != v {
						t.Errorf("%s.%s = %q is not a value of code list %s", l.ID, f.Name, v, cl.ID)
					}
				}
			}
		}
		// dlmc is the 三调 name of dlbm
		dl, _ := layers.CodeListByID(layers.CLDLBM)
		for _, table := range []string{"land_use", "permanent_farmland"} {
			rows, err := pool.Query(ctx, `SELECT DISTINCT dlbm, coalesce(dlmc, '') FROM villageplan.`+table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var code, name string
				if err := rows.Scan(&code, &name); err != nil {
					t.Fatal(err)
				}
				if dl.Name(code) != name {
					t.Errorf("%s: dlbm %s has dlmc %q, want %q", table, code, name, dl.Name(code))
				}
			}
			rows.Close()
		}
	})

	t.Run("homesteads", func(t *testing.T) {
		zero(t, pool, "overlapping homestead pairs", `SELECT count(*) FROM villageplan.homesteads a JOIN villageplan.homesteads b
			ON a.id < b.id AND a.geom && b.geom
			WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
		zero(t, pool, "homesteads outside their village core", `SELECT count(*) FROM villageplan.homesteads h
			JOIN villageplan.control_zones c ON c.xzqdm = h.xzqdm AND c.gkbjlxmc = '村庄集中建设区'
			WHERE NOT ST_Within(ST_Transform(h.geom, 4551), ST_Buffer(ST_Transform(c.geom, 4551), 0.01))`)
		zero(t, pool, "duplicate zddm", `SELECT count(*) - count(DISTINCT zddm) FROM villageplan.homesteads`)
		zero(t, pool, "bad zddm/bdcdyh", `SELECT count(*) FROM villageplan.homesteads WHERE zddm !~ '^220112203(30[0-5])JC[0-9]{5}$'
			OR substr(zddm, 10, 3) <> right(xzqdm, 3) OR bdcdyh <> zddm || 'F00010001' OR bdcdyh !~ '^[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}$'`)
		zero(t, pool, "zdmj differs from the EPSG:4551 area", `SELECT count(*) FROM villageplan.homesteads WHERE abs(zdmj - ST_Area(`+in4551+`)) > 0.01`)
		between(t, "mean zdmj m²", scalar[float64](t, pool, `SELECT avg(zdmj) FROM villageplan.homesteads`), 500, 620)
		zero(t, pool, "bad zl", `SELECT count(*) FROM villageplan.homesteads h JOIN villageplan.villages v USING (xzqdm)
			WHERE h.zl !~ ('^双营子回族乡' || v.xzqmc || '[0-9]+号$')`)
		zero(t, pool, "bad approval numbers", `SELECT count(*) FROM villageplan.homesteads
			WHERE approval_number !~ '^双营子宅批〔[0-9]{4}〕[0-9]{3,}号$' OR substr(approval_number, 7, 4)::int <> extract(year FROM approved_on)`)
		zero(t, pool, "duplicate approval numbers", `SELECT count(*) - count(DISTINCT approval_number) FROM villageplan.homesteads`)
		between(t, "share of 已登记", scalar[float64](t, pool, `SELECT avg((status = '已登记')::int)::float8 FROM villageplan.homesteads`), 0.75, 0.97)
		// households: one holder each; ≈2 % hold two parcels, none more
		zero(t, pool, "households with several holders", `SELECT count(*) FROM (SELECT household_id FROM villageplan.homesteads
			GROUP BY household_id HAVING count(DISTINCT holder_id_number) > 1 OR count(DISTINCT holder_name) > 1) x`)
		zero(t, pool, "holders of several households", `SELECT count(*) FROM (SELECT holder_id_number FROM villageplan.homesteads
			GROUP BY holder_id_number HAVING count(DISTINCT household_id) > 1) x`)
		zero(t, pool, "households with more than two parcels", `SELECT count(*) FROM (SELECT household_id FROM villageplan.homesteads
			GROUP BY household_id HAVING count(*) > 2) x`)
		between(t, "share of households with two parcels", scalar[float64](t, pool, `SELECT avg((n = 2)::int)::float8
			FROM (SELECT household_id, count(*) AS n FROM villageplan.homesteads GROUP BY household_id) x`), 0.005, 0.05)
		rows, err := pool.Query(ctx, `SELECT DISTINCT holder_id_number FROM villageplan.homesteads`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		re := regexp.MustCompile(`^220112(19[4-9][0-9])(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$`)
		bad := 0
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse("20060102", id[6:14]); err != nil || !re.MatchString(id) || idCheck(id) != id[17] {
				if bad++; bad <= 5 {
					t.Errorf("bad holder_id_number %q", id)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("land use", func(t *testing.T) {
		zero(t, pool, "overlapping land-use pairs within a village", `SELECT count(*) FROM villageplan.land_use a JOIN villageplan.land_use b
			ON a.id < b.id AND a.xzqdm = b.xzqdm AND a.geom && b.geom
			WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
		zero(t, pool, "villages whose land use does not add up to the village", `SELECT count(*) FROM villageplan.villages v
			WHERE abs(ST_Area(ST_Transform(v.geom, 4551)) - (SELECT sum(ST_Area(ST_Transform(l.geom, 4551))) FROM villageplan.land_use l
			WHERE l.xzqdm = v.xzqdm)) > 1`)
		zero(t, pool, "land use outside its village", `SELECT count(*) FROM villageplan.land_use l JOIN villageplan.villages v USING (xzqdm)
			WHERE NOT ST_Within(ST_Transform(l.geom, 4551), ST_Buffer(ST_Transform(v.geom, 4551), 0.01))`)
		zero(t, pool, "bad attributes", `SELECT count(*) FROM villageplan.land_use l JOIN villageplan.villages v USING (xzqdm)
			WHERE l.zldwdm <> l.xzqdm || '0000000' OR l.zldwmc <> v.xzqmc OR l.sjnf <> 2023 OR l.tbbh !~ '^30[0-5][0-9]{5}$'
			OR abs(l.tbmj - ST_Area(ST_Transform(l.geom, 4551))) > 0.01`)
		zero(t, pool, "duplicate tbbh", `SELECT count(*) - count(DISTINCT tbbh) FROM villageplan.land_use`)
		// the core of each village is one 0702 polygon with czcsxm 203
		zero(t, pool, "cores without their 0702 polygon", `SELECT count(*) FROM villageplan.control_zones c WHERE c.gkbjlxmc = '村庄集中建设区'
			AND NOT EXISTS (SELECT 1 FROM villageplan.land_use l WHERE l.xzqdm = c.xzqdm AND l.dlbm = '0702' AND l.czcsxm = '203'
			AND ST_Equals(l.geom, c.geom))`)
		if n := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.land_use WHERE czcsxm = '203'`); n != 6 {
			t.Errorf("%d polygons with czcsxm 203, want 6", n)
		}
		between(t, "share of 0103 (count)", scalar[float64](t, pool, `SELECT avg((dlbm = '0103')::int)::float8 FROM villageplan.land_use`), 0.4, 0.75)
		for _, code := range []string{"0101", "0301", "0404", "1006", "1101", "1104", "1202"} {
			if scalar[int64](t, pool, `SELECT count(*) FROM villageplan.land_use WHERE dlbm = $1`, code) == 0 {
				t.Errorf("no land use %s", code)
			}
		}
	})

	t.Run("farmland", func(t *testing.T) {
		zero(t, pool, "farmland that is not a cultivated land-use polygon", `SELECT count(*) FROM villageplan.permanent_farmland f
			WHERE NOT EXISTS (SELECT 1 FROM villageplan.land_use l WHERE l.tbbh = f.tbbh AND l.xzqdm = f.xzqdm AND l.dlbm = f.dlbm
			AND l.dlbm IN ('0101', '0102', '0103') AND ST_AsEWKB(l.geom) = ST_AsEWKB(f.geom))`)
		between(t, "share of cultivated land-use polygons that are farmland", scalar[float64](t, pool,
			`SELECT (SELECT count(*) FROM villageplan.permanent_farmland)::float8 / count(*) FROM villageplan.land_use
			 WHERE dlbm IN ('0101', '0102', '0103')`), 0.78, 0.92)
		zero(t, pool, "farmland overlapping homesteads", `SELECT count(*) FROM villageplan.permanent_farmland f
			JOIN villageplan.homesteads h ON f.geom && h.geom AND ST_Intersects(f.geom, h.geom)
			WHERE ST_Area(ST_Intersection(ST_Transform(f.geom, 4551), ST_Transform(h.geom, 4551))) > 0`)
		zero(t, pool, "farmland overlapping the red line", `SELECT count(*) FROM villageplan.permanent_farmland f
			JOIN villageplan.control_zones c ON c.gkbjlxmc = '生态保护红线' AND f.geom && c.geom
			WHERE ST_Area(ST_Intersection(ST_Transform(f.geom, 4551), ST_Transform(c.geom, 4551))) > 0.01`)
		zero(t, pool, "bad farmland attributes", `SELECT count(*) FROM villageplan.permanent_farmland
			WHERE yjjbnttbbh !~ ('^' || xzqdm || '[0-9]{8}$') OR bhkssj <> date '2020-01-01' OR bhjssj <> date '2050-12-31'
			OR zldwdm <> xzqdm || '0000000' OR abs(yjjbntmj - ST_Area(`+in4551+`)) > 0.01`)
		zero(t, pool, "duplicate yjjbnttbbh", `SELECT count(*) - count(DISTINCT yjjbnttbbh) FROM villageplan.permanent_farmland`)
	})

	t.Run("control zones", func(t *testing.T) {
		want := map[string]int64{"村庄集中建设区": 6, "村庄弹性发展区": 6, "生态保护红线": 1, "河道管理范围": 1,
			"饮用水水源一级保护区": 1, "饮用水水源二级保护区": 1, "城镇开发边界": 1}
		for kind, n := range want {
			if got := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.control_zones WHERE gkbjlxmc = $1`, kind); got != n {
				t.Errorf("%d %s, want %d", got, kind, n)
			}
		}
		zero(t, pool, "zones without legal basis", `SELECT count(*) FROM villageplan.control_zones WHERE coalesce(legal_basis, '') = ''`)
		zero(t, pool, "rings overlapping cores", `SELECT count(*) FROM villageplan.control_zones r JOIN villageplan.control_zones c
			ON r.gkbjlxmc = '村庄弹性发展区' AND c.gkbjlxmc = '村庄集中建设区' AND r.geom && c.geom
			WHERE ST_Area(ST_Intersection(ST_Transform(r.geom, 4551), ST_Transform(c.geom, 4551))) > 0.01`)
		zero(t, pool, "cores touched by the red line", `SELECT count(*) FROM villageplan.control_zones r JOIN villageplan.control_zones c
			ON r.gkbjlxmc = '生态保护红线' AND c.gkbjlxmc = '村庄集中建设区' WHERE ST_Intersects(r.geom, c.geom)`)
		// the river band is 40 m wide each side, so the river keeps ≥ 150 m
		zero(t, pool, "cores within 150 m of the river", `SELECT count(*) FROM villageplan.control_zones r JOIN villageplan.control_zones c
			ON r.gkbjlxmc = '河道管理范围' AND c.gkbjlxmc = '村庄集中建设区'
			WHERE ST_DWithin(ST_Transform(r.geom, 4551), ST_Transform(c.geom, 4551), 110)`)
		zero(t, pool, "homesteads in red line, river or water-source zones", `SELECT count(*) FROM villageplan.control_zones c
			JOIN villageplan.homesteads h ON c.geom && h.geom AND ST_Intersects(c.geom, h.geom)
			WHERE c.gkbjlxmc IN ('生态保护红线', '河道管理范围', '饮用水水源一级保护区', '饮用水水源二级保护区', '城镇开发边界')`)
		zero(t, pool, "water-source zones overlapping", `SELECT count(*) FROM villageplan.control_zones a JOIN villageplan.control_zones b
			ON a.gkbjlxmc = '饮用水水源一级保护区' AND b.gkbjlxmc = '饮用水水源二级保护区'
			WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
		if scalar[float64](t, pool, `SELECT ST_Area(ST_Intersection(ST_Transform(b.geom, 4551), ST_Transform(r.geom, 4551)))
			FROM villageplan.control_zones b, villageplan.control_zones r
			WHERE b.gkbjlxmc = '城镇开发边界' AND r.gkbjlxmc = '村庄弹性发展区' AND r.xzqdm = '220112203300'`) <= 0 {
			t.Error("城镇开发边界 does not overlap the 弹性发展区 of 大营村")
		}
		zero(t, pool, "城镇开发边界 overlapping a core", `SELECT count(*) FROM villageplan.control_zones b JOIN villageplan.control_zones c
			ON b.gkbjlxmc = '城镇开发边界' AND c.gkbjlxmc = '村庄集中建设区'
			WHERE ST_Area(ST_Intersection(ST_Transform(b.geom, 4551), ST_Transform(c.geom, 4551))) > 0.01`)
	})

	t.Run("hazards", func(t *testing.T) {
		want := map[[2]string]int64{{"地质灾害易发区", "中"}: 1, {"地质灾害易发区", "低"}: 1, {"地质灾害危险区", "高"}: 1,
			{"山洪灾害危险区", "高"}: 1, {"山洪灾害危险区", "一般"}: 1}
		for k, n := range want {
			if got := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.hazard_zones WHERE kind = $1 AND grade = $2`, k[0], k[1]); got != n {
				t.Errorf("%d %s %s, want %d", got, k[0], k[1], n)
			}
		}
		zero(t, pool, "hazards not from 示例数据", `SELECT count(*) FROM villageplan.hazard_zones WHERE source IS DISTINCT FROM '示例数据'`)
		if n := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.hazard_zones h JOIN villageplan.control_zones c
			ON c.gkbjlxmc = '村庄集中建设区' AND h.kind = '地质灾害易发区' AND h.grade = '中'
			WHERE ST_Area(ST_Intersection(ST_Transform(h.geom, 4551), ST_Transform(c.geom, 4551))) > 1000`); n != 1 {
			t.Errorf("地质灾害易发区 中 overlaps %d cores, want 1", n)
		}
		zero(t, pool, "homesteads in 地质灾害危险区 or 山洪灾害危险区", `SELECT count(*) FROM villageplan.hazard_zones z
			JOIN villageplan.homesteads h ON z.geom && h.geom AND ST_Intersects(z.geom, h.geom)
			WHERE z.kind IN ('地质灾害危险区', '山洪灾害危险区')`)
	})

	t.Run("networks", func(t *testing.T) {
		for _, table := range []string{"roads", "power_lines", "water_pipelines"} {
			zero(t, pool, table+" crossing homesteads", `SELECT count(*) FROM villageplan.`+table+` r
				JOIN villageplan.homesteads h ON r.geom && h.geom AND ST_Intersects(r.geom, h.geom)`)
		}
		for _, table := range []string{"streetlights", "water_facilities", "public_facilities"} {
			zero(t, pool, table+" on homesteads", `SELECT count(*) FROM villageplan.`+table+` r
				JOIN villageplan.homesteads h ON r.geom && h.geom AND ST_Intersects(r.geom, h.geom)`)
		}
		zero(t, pool, "homesteads within 10 m of the 66 kV line", `SELECT count(*) FROM villageplan.power_lines p
			JOIN villageplan.homesteads h ON p.voltage_kv = 66 AND ST_DWithin(ST_Transform(p.geom, 4551), ST_Transform(h.geom, 4551), 10)`)
		grades := map[string]int64{}
		rows, err := pool.Query(ctx, `SELECT admin_grade, count(*) FROM villageplan.roads GROUP BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var g string
			var n int64
			if err := rows.Scan(&g, &n); err != nil {
				t.Fatal(err)
			}
			grades[g] = n
		}
		rows.Close()
		if grades["县道"] != 1 || grades["乡道"] != 3 || grades["村道"] < 12 {
			t.Errorf("roads by grade %v, want 1 县道, 3 乡道, ≥ 12 村道", grades)
		}
		between(t, "cores on the 县道", float64(scalar[int64](t, pool, `SELECT count(*) FROM villageplan.roads r
			JOIN villageplan.control_zones c ON c.gkbjlxmc = '村庄集中建设区' AND ST_Intersects(r.geom, c.geom) WHERE r.admin_grade = '县道'`)), 3, 4)
		zero(t, pool, "bad road attributes", `SELECT count(*) FROM villageplan.roads WHERE abs(length_km - ST_Length(`+in4551+`) / 1000) > 0.0006
			OR lxbm !~ '^[XYC][0-9]{3}$' OR left(lxbm, 1) <> CASE admin_grade WHEN '县道' THEN 'X' WHEN '乡道' THEN 'Y' ELSE 'C' END
			OR (admin_grade = '县道') <> (xzqdm IS NULL) OR maintainer IS NULL OR road_chief IS NULL`)
		zero(t, pool, "duplicate lxbm", `SELECT count(*) - count(DISTINCT lxbm) FROM villageplan.roads`)
		zero(t, pool, "duplicate pole_id", `SELECT count(*) - count(DISTINCT pole_id) FROM villageplan.streetlights`)
		zero(t, pool, "lights away from their road or outside cores", `SELECT count(*) FROM villageplan.streetlights s
			JOIN villageplan.roads r USING (lxbm) JOIN villageplan.control_zones c ON c.gkbjlxmc = '村庄集中建设区' AND c.xzqdm = s.xzqdm
			WHERE NOT ST_DWithin(ST_Transform(s.geom, 4551), ST_Transform(r.geom, 4551), 3)
			OR NOT ST_Within(ST_Transform(s.geom, 4551), ST_Buffer(ST_Transform(c.geom, 4551), 0.01))`)
		zero(t, pool, "lights on 县道", `SELECT count(*) FROM villageplan.streetlights s JOIN villageplan.roads r USING (lxbm) WHERE r.admin_grade = '县道'`)
		between(t, "share of unlit 村道", scalar[float64](t, pool, `SELECT avg((NOT EXISTS (SELECT 1 FROM villageplan.streetlights s
			WHERE s.lxbm = r.lxbm))::int)::float8 FROM villageplan.roads r WHERE r.admin_grade = '村道'`), 0.2, 0.45)
		between(t, "share of working lights", scalar[float64](t, pool, `SELECT avg((status = '正常')::int)::float8 FROM villageplan.streetlights`), 0.8, 0.97)
		kinds := scalar[string](t, pool, `SELECT string_agg(kind || ':' || n, ',' ORDER BY kind) FROM (SELECT kind, count(*) n FROM villageplan.water_facilities GROUP BY kind) x`)
		if kinds != "加压泵站:1,水厂:1,水源井:6" {
			t.Errorf("water facilities %s", kinds)
		}
		if got := scalar[string](t, pool, `SELECT villages_served FROM villageplan.water_facilities WHERE kind = '水厂'`); got != "220112203300,220112203301,220112203302,220112203303,220112203304,220112203305" {
			t.Errorf("water plant serves %q", got)
		}
		zero(t, pool, "bad power lines", `SELECT count(*) FROM villageplan.power_lines WHERE operator <> '国网长春供电公司双阳分公司'
			OR laying <> '架空' OR voltage_kv NOT IN (10, 66)`)
	})

	t.Run("rural construction", func(t *testing.T) {
		// 自然屯: inside their village's core, not overlapping, every
		// homestead in exactly one hamlet of its own village, households
		// counted from the parcels.
		zero(t, pool, "hamlets outside their village core", `SELECT count(*) FROM villageplan.natural_hamlets h
			JOIN villageplan.control_zones c ON c.xzqdm = h.xzqdm AND c.gkbjlxmc = '村庄集中建设区'
			WHERE NOT ST_Within(ST_Transform(h.geom, 4551), ST_Buffer(ST_Transform(c.geom, 4551), 0.01))`)
		zero(t, pool, "overlapping hamlets", `SELECT count(*) FROM villageplan.natural_hamlets a JOIN villageplan.natural_hamlets b
			ON a.id < b.id AND a.geom && b.geom WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
		zero(t, pool, "homesteads not in exactly one hamlet of their village", `SELECT count(*) FROM villageplan.homesteads p
			WHERE (SELECT count(*) FROM villageplan.natural_hamlets h WHERE h.xzqdm = p.xzqdm AND ST_Intersects(h.geom, ST_PointOnSurface(p.geom))) <> 1`)
		zero(t, pool, "hamlets whose households differ from their parcels' households", `SELECT count(*) FROM villageplan.natural_hamlets h
			WHERE h.households <> (SELECT count(DISTINCT p.household_id) FROM villageplan.homesteads p
			                        WHERE p.xzqdm = h.xzqdm AND ST_Intersects(h.geom, ST_PointOnSurface(p.geom)))
			OR h.population < 2 * h.households OR h.population > 3 * h.households`)
		zero(t, pool, "villages without two hamlets", `SELECT count(*) FROM villageplan.villages v
			WHERE (SELECT count(*) FROM villageplan.natural_hamlets h WHERE h.xzqdm = v.xzqdm) < 2`)
		// Facilities: in their village and hamlet; every village has a
		// working 便民服务中心 and 卫生室; shelters are not everywhere.
		zero(t, pool, "facilities outside their village", `SELECT count(*) FROM villageplan.public_facilities f
			JOIN villageplan.villages v USING (xzqdm) WHERE NOT ST_Intersects(v.geom, f.geom)`)
		zero(t, pool, "facilities whose hamlet is not the hamlet they lie in", `SELECT count(*) FROM villageplan.public_facilities f
			WHERE f.hamlet IS DISTINCT FROM (SELECT h.name FROM villageplan.natural_hamlets h WHERE h.xzqdm = f.xzqdm AND ST_Intersects(h.geom, f.geom) LIMIT 1)`)
		for _, kind := range []string{"便民服务中心", "卫生室"} {
			zero(t, pool, "villages without a working "+kind, `SELECT count(*) FROM villageplan.villages v WHERE NOT EXISTS (
				SELECT 1 FROM villageplan.public_facilities f WHERE f.xzqdm = v.xzqdm AND f.kind = $1 AND f.state = '运行')`, kind)
		}
		sheltered := scalar[int64](t, pool, `SELECT count(DISTINCT xzqdm) FROM villageplan.public_facilities WHERE kind = '应急避难场所' AND state = '运行'`)
		if sheltered < 2 || sheltered > 4 {
			t.Errorf("%d villages with a working shelter, want 2…4 of 6", sheltered)
		}
		zero(t, pool, "shelters without capacity", `SELECT count(*) FROM villageplan.public_facilities WHERE kind = '应急避难场所' AND coalesce(capacity_persons, 0) <= 0`)
		if n := scalar[int64](t, pool, `SELECT count(DISTINCT kind) FROM villageplan.public_facilities`); n < 13 {
			t.Errorf("%d facility kinds in the sample, want ≥ 13 of 14", n)
		}
		// Roads: the flags follow surface and width; some hamlets are
		// reached only through lanes narrower than 4 m, not all.
		zero(t, pool, "roads whose hardened flag differs from the surface", `SELECT count(*) FROM villageplan.roads
			WHERE hardened IS DISTINCT FROM (surface IN ('沥青混凝土', '水泥混凝土'))`)
		zero(t, pool, "fire lanes narrower than 4 m", `SELECT count(*) FROM villageplan.roads WHERE fire_lane AND pavement_width < 4`)
		zero(t, pool, "roads without the survey flags", `SELECT count(*) FROM villageplan.roads WHERE hardened IS NULL OR main_road IS NULL OR fire_lane IS NULL OR lit IS NULL`)
		if n := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.roads WHERE NOT hardened`); n == 0 {
			t.Error("every road is hardened")
		}
		narrow := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.natural_hamlets h
			WHERE NOT EXISTS (SELECT 1 FROM villageplan.roads r WHERE r.fire_lane AND ST_Intersects(r.geom, h.geom))`)
		if narrow == 0 || narrow > 6 {
			t.Errorf("%d hamlets reached only through lanes < 4 m, want 1…6 of 18", narrow)
		}
		// Homesteads: house flags only where a house stands.
		zero(t, pool, "house flags on parcels without a house", `SELECT count(*) FROM villageplan.homesteads
			WHERE status = '已批准' AND (danger_grade IS NOT NULL OR toilet_done IS NOT NULL OR water_connected IS NOT NULL)`)
		zero(t, pool, "houses without a danger grade", `SELECT count(*) FROM villageplan.homesteads WHERE status IN ('已登记', '闲置') AND danger_grade IS NULL`)
		between(t, "share of C/D houses", scalar[float64](t, pool, `SELECT avg((danger_grade IN ('C', 'D'))::int)::float8 FROM villageplan.homesteads WHERE danger_grade IS NOT NULL`), 0.04, 0.16)
		between(t, "share of toilets done", scalar[float64](t, pool, `SELECT avg(toilet_done::int)::float8 FROM villageplan.homesteads`), 0.55, 0.98)
		between(t, "share of water connected", scalar[float64](t, pool, `SELECT avg(water_connected::int)::float8 FROM villageplan.homesteads`), 0.8, 0.99)
	})

	t.Run("boundary", func(t *testing.T) {
		raw, err := os.ReadFile(testdata.Real(t, boundaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var feats []struct {
			Geometry json.RawMessage `json:"geometry"`
		}
		if err := json.Unmarshal(raw, &feats); err != nil || len(feats) != 1 {
			t.Fatalf("%s: %v (%d features)", boundaryFile, err, len(feats))
		}
		// The DataV boundary is GCJ-02, offset by up to ~500 m: the
		// township extent buffered by 1 km must lie inside it.
		inside := scalar[bool](t, pool, `SELECT ST_Within(ST_Transform(ST_Buffer(ST_Envelope(ST_Union(`+in4551+`)), 1000), 4490),
			ST_SetSRID(ST_GeomFromGeoJSON($1), 4490)) FROM villageplan.villages`, string(feats[0].Geometry))
		if !inside {
			t.Error("the township extent buffered by 1 km is not inside the 双阳区 boundary")
		}
	})

	t.Run("metadata and history", func(t *testing.T) {
		var total int64
		for _, l := range cat.Layers() {
			total += counts[l.ID]
			var source, attribution string
			var isSample bool
			var features int64
			if err := pool.QueryRow(ctx, `SELECT source, is_sample, coalesce(attribution, ''), (details->>'features')::bigint
				FROM villageplan.layer_metadata WHERE layer = $1`, l.ID).Scan(&source, &isSample, &attribution, &features); err != nil {
				t.Fatalf("layer_metadata %s: %v", l.ID, err)
			}
			if !isSample || source != (Options{Seed: seed}).Source() || !strings.Contains(attribution, "示例数据") || features != counts[l.ID] {
				t.Errorf("layer_metadata %s: %q %v %q %d", l.ID, source, isSample, attribution, features)
			}
		}
		zero(t, pool, "layers without coverage", `SELECT count(*) FROM unnest($1::text[]) l
			WHERE NOT EXISTS (SELECT 1 FROM villageplan.layer_coverage c WHERE c.layer = l AND c.source = $2 AND c.kind = 'sample' AND c.details ? 'batch_id')`, layerIDs(cat), (Options{Seed: seed}).Source())
		between(t, "coverage area − township rectangle m²", scalar[float64](t, pool, `SELECT max(ST_Area(ST_Transform(geom, 4551)))
			FROM villageplan.layer_coverage`)-8000*6000, -1, 1)
		var n, batches int64
		if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT batch_id) FROM villageplan.edit_history_all
			WHERE actor = $1 AND action = 'insert'`, Actor).Scan(&n, &batches); err != nil {
			t.Fatal(err)
		}
		if n != total || batches != 1 {
			t.Errorf("edit_history_all: %d inserts in %d batches, want %d in 1", n, batches, total)
		}
		// The load is recorded compactly: one edit_batch row per layer with
		// data, holding exactly the layer's ids, and no per-row history.
		zero(t, pool, "per-row history of the sample load", `SELECT count(*) FROM villageplan.edit_history`)
		var layersWithData int64
		for _, l := range cat.Layers() {
			if counts[l.ID] > 0 {
				layersWithData++
			}
			zero(t, pool, l.ID+" ids not matching its edit_batch record", `SELECT count(*) FROM (
				SELECT id FROM `+l.QualifiedTable()+`
				EXCEPT SELECT generate_series(lower(r), upper(r) - 1) FROM villageplan.edit_batch b, unnest(b.inserted_ids) r
				WHERE b.layer = $1 AND b.actor = $2 AND b.inserted = $3) x`, l.ID, Actor, counts[l.ID])
		}
		if got := scalar[int64](t, pool, `SELECT count(*) FROM villageplan.edit_batch WHERE actor = $1`, Actor); got != layersWithData {
			t.Errorf("edit_batch: %d rows for the sample load, want one per layer with data (%d)", got, layersWithData)
		}
	})

	t.Run("load once", func(t *testing.T) {
		loaded, _, err := LoadIfEmpty(ctx, pool, Options{}, nil)
		if err != nil || loaded {
			t.Errorf("LoadIfEmpty on a loaded database = %v, %v", loaded, err)
		}
		if _, err := Load(ctx, pool, Options{}, nil); !errors.Is(err, ErrNotEmpty) {
			t.Errorf("Load on a loaded database: %v, want ErrNotEmpty", err)
		}
	})

	t.Run("determinism", func(t *testing.T) {
		if seed != 1 {
			t.Skip("checked for seed 1")
		}
		first := fingerprint(t, pool)
		again := testpg.New(t)
		loaded, _, err := LoadIfEmpty(ctx, again, Options{Seed: 1, Scale: ScaleTownship}, nil)
		if err != nil || !loaded {
			t.Fatalf("LoadIfEmpty on an empty database = %v, %v", loaded, err)
		}
		second := fingerprint(t, again)
		other, _, _ := loadFresh(t, Options{Seed: 2})
		third := fingerprint(t, other)
		for id, h := range first {
			if second[id] != h {
				t.Errorf("%s: seed 1 loaded twice differs", id)
			}
			if third[id] == h {
				t.Errorf("%s: seed 2 gives the same content as seed 1", id)
			}
		}
	})
}

// TestCounty loads the county scale (≈ 4 min on 2 cores). It runs only with
// VILLAGEPLAN_COUNTY_TEST=1 and not with -short.
func TestCounty(t *testing.T) {
	if testing.Short() || os.Getenv("VILLAGEPLAN_COUNTY_TEST") != "1" {
		t.Skip("slow: set VILLAGEPLAN_COUNTY_TEST=1 (and do not pass -short)")
	}
	pool, counts, took := loadFresh(t, Options{Seed: 1, Scale: ScaleCounty})
	size := scalar[int64](t, pool, `SELECT pg_database_size(current_database())`)
	history := scalar[int64](t, pool, `SELECT pg_total_relation_size('villageplan.edit_history') + pg_total_relation_size('villageplan.edit_batch')
		+ pg_total_relation_size('villageplan.edit_batch_prior')`)
	t.Logf("county load: %v, database %d MB (edit history %d MB), counts %v", took.Round(time.Second), size>>20, history>>20, counts)
	if history*100 > size*15 {
		t.Errorf("edit history %d MB is more than 15 %% of the database (%d MB)", history>>20, size>>20)
	}
	if counts["villages"] < 150 || counts["homesteads"] < 200000 || counts["land_use"] < 500000 {
		t.Errorf("county counts %v: want ≥ 150 villages, ≥ 200 000 homesteads, ≥ 500 000 land-use polygons", counts)
	}
	if took > 10*time.Minute {
		t.Errorf("county load took %v, want < 10 min", took)
	}
	for _, l := range layers.Default().Layers() {
		zero(t, pool, l.ID+" bad geometries", `SELECT count(*) FROM `+l.QualifiedTable()+` WHERE NOT ST_IsValid(geom)
			OR ST_IsEmpty(geom) OR GeometryType(geom) <> $1`, strings.ToUpper(string(l.Geometry)))
	}
	zero(t, pool, "overlapping village pairs", `SELECT count(*) FROM villageplan.villages a JOIN villageplan.villages b
		ON a.id < b.id AND a.geom && b.geom
		WHERE ST_Area(ST_Intersection(ST_Transform(a.geom, 4551), ST_Transform(b.geom, 4551))) > 0.01`)
	zero(t, pool, "duplicate zddm", `SELECT count(*) - count(DISTINCT zddm) FROM villageplan.homesteads`)
	zero(t, pool, "duplicate village codes", `SELECT count(*) - count(DISTINCT xzqdm) FROM villageplan.villages`)
	zero(t, pool, "homesteads outside their village core", `SELECT count(*) FROM villageplan.homesteads h
		JOIN villageplan.control_zones c ON c.xzqdm = h.xzqdm AND c.gkbjlxmc = '村庄集中建设区'
		WHERE NOT ST_Within(h.geom, c.geom) AND NOT ST_Within(ST_Transform(h.geom, 4551), ST_Buffer(ST_Transform(c.geom, 4551), 0.01))`)
	zero(t, pool, "roads crossing homesteads", `SELECT count(*) FROM villageplan.roads r
		JOIN villageplan.homesteads h ON r.geom && h.geom AND ST_Intersects(r.geom, h.geom)`)
	zero(t, pool, "farmland overlapping homesteads", `SELECT count(*) FROM villageplan.permanent_farmland f
		JOIN villageplan.homesteads h ON f.geom && h.geom AND ST_Intersects(f.geom, h.geom)`)
}

// BenchmarkLoadTownship measures Load at township scale into fresh
// databases.
func BenchmarkLoadTownship(b *testing.B) { benchmarkLoad(b, Options{Seed: 1}) }

// BenchmarkLoadCounty measures Load at county scale (minutes per run); it
// runs only with VILLAGEPLAN_COUNTY_TEST=1.
func BenchmarkLoadCounty(b *testing.B) {
	if os.Getenv("VILLAGEPLAN_COUNTY_TEST") != "1" {
		b.Skip("slow: set VILLAGEPLAN_COUNTY_TEST=1")
	}
	benchmarkLoad(b, Options{Seed: 1, Scale: ScaleCounty})
}

func benchmarkLoad(b *testing.B, opts Options) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pool := testpg.New(b)
		b.StartTimer()
		counts, err := Load(context.Background(), pool, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var size int64
		if err := pool.QueryRow(context.Background(), `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size>>20), "MB")
		b.ReportMetric(float64(counts["homesteads"]+counts["land_use"]), "parcels")
		b.StartTimer()
	}
}

// county5 is five times the county's villages (issue 16's growth table),
// with 12-digit unique codes and one seat per pseudo-township.
func TestCounty5Villages(t *testing.T) {
	vs := countyVillages(grids[ScaleCounty5], 500)
	if len(vs) != 783 || len(vs) < 5*156 {
		t.Fatalf("%d county5 villages, want 783 (>= 5 × 156)", len(vs))
	}
	codes := map[string]bool{}
	seats := map[int]int{}
	blocks := map[int]bool{}
	for _, v := range vs {
		if len(v.code) != 12 || codes[v.code] || !strings.HasPrefix(v.code, "220112") {
			t.Errorf("bad or duplicate code %q", v.code)
		}
		codes[v.code] = true
		blocks[v.block] = true
		if v.seat {
			seats[v.block]++
		}
	}
	for b := range blocks {
		if seats[b] != 1 {
			t.Errorf("block %d has %d seats", b, seats[b])
		}
	}
	if _, err := (Options{Scale: "county5"}).normalised(); err != nil {
		t.Errorf("county5 refused: %v", err)
	}
	if _, err := (Options{Scale: "county7"}).normalised(); err == nil {
		t.Error("county7 accepted")
	}
}
