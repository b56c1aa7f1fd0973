package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/testpg"
)

// feature writes one GeoJSON feature: a square of side d degrees at lon,
// lat (bowtie: a self-intersecting one) with the given properties.
func feature(props map[string]any, lon, lat, d float64, bowtie bool) string {
	p, _ := json.Marshal(props)
	ring := fmt.Sprintf("[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]", lon, lat, lon+d, lat, lon+d, lat+d, lon, lat+d, lon, lat)
	if bowtie {
		ring = fmt.Sprintf("[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]", lon, lat, lon+d, lat+d, lon+d, lat, lon, lat+d, lon, lat)
	}
	return `{"type":"Feature","properties":` + string(p) + `,"geometry":{"type":"Polygon","coordinates":[` + ring + `]}}`
}

func writeFC(t *testing.T, name string, feats ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(feats, ",\n")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func problemsOf(t *testing.T, err error) *Error {
	t.Helper()
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("want an *imports.Error, got %v", err)
	}
	if strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("raw SQLSTATE in the message: %v", err)
	}
	return ie
}

// TestOnePassReporting: every problem of a file comes back from one
// import, attribute problems and invalid geometry of the same feature
// together; Rejected counts features, not problems; the layer is unchanged.
func TestOnePassReporting(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "land_use")
	path := writeFC(t, "dltb.geojson",
		feature(map[string]any{"DLBM": "0103", "XZQDM": "220112203300"}, 125.60, 43.50, 0.001, false),            // #1 fine
		feature(map[string]any{"DLBM": "9999", "XZQDM": "220112203300"}, 125.61, 43.50, 0.001, true),             // #2 code list + bowtie
		feature(map[string]any{"DLBM": "0103", "XZQDM": "2201122033"}, 125.62, 43.50, 0.001, false),              // #3 10-digit XZQDM
		feature(map[string]any{"DLBM": "0103", "TBMJ": -5}, 125.63, 43.50, 0.001, false),                         // #4 negative area
		feature(map[string]any{"XZQDM": "220112203300"}, 125.64, 43.50, 0.001, false),                            // #5 no DLBM
		feature(map[string]any{"DLBM": "0103", "XZQDM": "220112"}, 125.65, 43.50, 0.001, false),                  // #6 6 digits: completed
		feature(map[string]any{"DLBM": "0103"}, 179.9995, 43.50, 0.001, false),                                   // #7 across 180°
		feature(map[string]any{"DLBM": "0101", "XZQDM": "22011220330X", "TBMJ": "x"}, 125.66, 43.5, 0.001, true), // #8 three problems
	)
	sum, err := Import(ctx, pool, l, []string{path}, Options{})
	ie := problemsOf(t, err)
	byFeature := map[int][]string{}
	for _, p := range ie.Problems {
		byFeature[p.Index] = append(byFeature[p.Index], p.Reason)
	}
	want := map[int][]string{
		2: {`"9999" 不在代码表 dlbm`, `is not in the code list dlbm`, "几何图形无效", "invalid geometry: Self-intersection"},
		3: {"须为12 位数字", `"2201122033" breaks the rule: it must be exactly 12 digits`},
		4: {"小于下限 0", "-5 is below the minimum 0 m²"},
		5: {"必填字段 dlbm", "required field dlbm"},
		7: {"超出所声明坐标系的有效范围", "outside the valid area of EPSG:4326 (-180–180°E, -90–90°N)"},
		8: {"must be exactly 12 digits", `"x" is not a number`, "invalid geometry"},
	}
	for idx, subs := range want {
		all := strings.Join(byFeature[idx], "\n")
		for _, s := range subs {
			if !strings.Contains(all, s) {
				t.Errorf("feature #%d: no %q in\n%s", idx, s, all)
			}
		}
	}
	if len(byFeature[1]) != 0 || len(byFeature[6]) != 0 {
		t.Errorf("good features reported: #1 %v, #6 %v", byFeature[1], byFeature[6])
	}
	if ie.Total != 9 || sum.Rejected != 6 {
		t.Errorf("total %d problems (want 9), rejected %d features (want 6)\n%v", ie.Total, sum.Rejected, err)
	}
	if n := count(t, pool, l); n != 0 {
		t.Errorf("%d features stored by a failed import", n)
	}
	for _, p := range ie.Problems {
		if p.Index == 2 && strings.Contains(p.Reason, "invalid geometry") && p.Rule != "vp_land_use_geom_valid" {
			t.Errorf("feature #%d: rule %q", p.Index, p.Rule)
		}
	}

	// Only invalid geometries: validity is left to the database's CHECK
	// during the INSERT (ST_IsValid once per feature, not twice); when it
	// refuses, every invalid feature is listed all the same, in replace
	// mode too, and the old content stays.
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0101', ST_Multi(ST_MakeEnvelope(125.5, 43.5, 125.501, 43.501, 4490)))`); err != nil {
		t.Fatal(err)
	}
	path = writeFC(t, "bowties.geojson",
		feature(map[string]any{"DLBM": "0103"}, 125.60, 43.50, 0.001, true),
		feature(map[string]any{"DLBM": "0103"}, 125.61, 43.50, 0.001, false),
		feature(map[string]any{"DLBM": "0103"}, 125.62, 43.50, 0.001, true))
	sum, err = Import(ctx, pool, l, []string{path}, Options{Mode: Replace})
	ie = problemsOf(t, err)
	if ie.Total != 2 || sum.Rejected != 2 || ie.Problems[0].Index != 1 || ie.Problems[1].Index != 3 ||
		ie.Problems[1].Rule != "vp_land_use_geom_valid" || !strings.Contains(ie.Problems[1].Reason, "几何图形无效 / invalid geometry: Self-intersection") ||
		math.IsNaN(ie.Problems[1].Lon) || !strings.Contains(err.Error(), "--repair") {
		t.Errorf("invalid geometries only: %v (rejected %d)", err, sum.Rejected)
	}
	if n := count(t, pool, l); n != 1 {
		t.Errorf("%d features after the failed replace, want the 1 from before", n)
	}
	if sum, err = Import(ctx, pool, l, []string{path}, Options{Mode: Replace, Repair: true}); err != nil || sum.Loaded != 3 || sum.Repaired != 2 {
		t.Errorf("with --repair: %v, loaded %d repaired %d", err, sum.Loaded, sum.Repaired)
	}
}

func insertVillage(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	// 双营子's 大营村 stand-in: a 4 km square at 125.6°E 43.5°N.
	if _, err := pool.Exec(context.Background(), `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom)
		VALUES ('220112203300', '大营村', '集聚提升类', ST_Multi(ST_MakeEnvelope(125.58, 43.48, 125.63, 43.52, 4490)))`); err != nil {
		t.Fatal(err)
	}
}

func homestead(zddm string, extra map[string]any, lon, lat float64) string {
	p := map[string]any{"ZDDM": zddm, "XZQDM": "220112203300", "status": "已登记"}
	for k, v := range extra {
		p[k] = v
	}
	return feature(p, lon, lat, 0.0002, false)
}

// TestDuplicateKeysAndUpsert: appending features whose 宗地代码 exists, or
// repeats inside the file, is refused with the keys listed; --mode upsert
// merges by the key and the edit history records the update; a
// non-key unique field (不动产单元号) is checked too; a layer without a
// key refuses upsert.
func TestDuplicateKeysAndUpsert(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	insertVillage(t, pool)
	l := layer(t, "homesteads")
	first := writeFC(t, "a.geojson",
		homestead("220112203300JC00001", map[string]any{"BDCDYH": "220112203300JC00001F00010001"}, 125.600, 43.50),
		homestead("220112203300JC00002", nil, 125.601, 43.50),
		homestead("220112203300JC00003", nil, 125.602, 43.50))
	if _, err := Import(ctx, pool, l, []string{first}, Options{}); err != nil {
		t.Fatal(err)
	}
	again := writeFC(t, "b.geojson",
		homestead("220112203300JC00002", nil, 125.603, 43.50),
		homestead("220112203300JC00004", nil, 125.604, 43.50),
		homestead("220112203300JC00004", nil, 125.605, 43.50),
		homestead("220112203300JC00005", map[string]any{"BDCDYH": "220112203300JC00001F00010001"}, 125.606, 43.50))
	sum, err := Import(ctx, pool, l, []string{again}, Options{})
	ie := problemsOf(t, err)
	msg := err.Error()
	for _, s := range []string{
		`[zddm=220112203300JC00002]: 字段 zddm（宗地代码）的值 "220112203300JC00002" 在图层中已存在`,
		"already exists in the layer", "--mode upsert",
		`feature #3 [zddm=220112203300JC00004]`, "repeats feature #2 of",
		`field bdcdyh (real-estate unit number) value "220112203300JC00001F00010001" already exists`,
		"Keys that already exist in the layer: zddm=220112203300JC00002, bdcdyh=220112203300JC00001F00010001",
	} {
		if !strings.Contains(msg, s) {
			t.Errorf("no %q in\n%s", s, msg)
		}
	}
	if ie.Total != 3 || sum.Rejected != 3 || count(t, pool, l) != 3 {
		t.Errorf("total %d rejected %d stored %d, want 3, 3, 3", ie.Total, sum.Rejected, count(t, pool, l))
	}

	// Upsert: JC00002 changes status and place, JC00006 is new.
	up := writeFC(t, "c.geojson",
		homestead("220112203300JC00002", map[string]any{"status": "闲置"}, 125.610, 43.50),
		homestead("220112203300JC00006", nil, 125.611, 43.50))
	sum, err = Import(ctx, pool, l, []string{up}, Options{Mode: Upsert})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 2 || sum.Updated != 1 || count(t, pool, l) != 4 || !strings.Contains(sum.Text(), "1 updated by key, 1 inserted") {
		t.Errorf("upsert: loaded %d updated %d stored %d\n%s", sum.Loaded, sum.Updated, count(t, pool, l), sum.Text())
	}
	var status string
	var lon float64
	var bdcdyh *string
	if err := pool.QueryRow(ctx, `SELECT status, ST_XMin(geom), bdcdyh FROM villageplan.homesteads WHERE zddm = '220112203300JC00002'`).Scan(&status, &lon, &bdcdyh); err != nil {
		t.Fatal(err)
	}
	if status != "闲置" || math.Abs(lon-125.610) > 1e-9 {
		t.Errorf("after upsert: status %s lon %f", status, lon)
	}
	// An import is a bulk load: its history is the compact batch record,
	// read through edit_history_all (before = the prior state; after = the
	// current row, checked above).
	var before, recorded string
	if err := pool.QueryRow(ctx, `SELECT before ->> 'status', recorded FROM villageplan.edit_history_all
		WHERE batch_id = $1 AND action = 'update'`, sum.BatchID).Scan(&before, &recorded); err != nil || before != "已登记" || recorded != "batch" {
		t.Errorf("edit history of the upsert: before %q, recorded %q (%v)", before, recorded, err)
	}
	// The first file's 不动产单元号 stays: upsert touches only fields the file fills.
	var keep string
	if err := pool.QueryRow(ctx, `SELECT bdcdyh FROM villageplan.homesteads WHERE zddm = '220112203300JC00001'`).Scan(&keep); err != nil || keep != "220112203300JC00001F00010001" {
		t.Errorf("bdcdyh of JC00001 = %q (%v)", keep, err)
	}
	// Upsert with the key repeated inside the file is refused before the INSERT.
	twice := writeFC(t, "d.geojson", homestead("220112203300JC00007", nil, 125.612, 43.5), homestead("220112203300JC00007", nil, 125.613, 43.5))
	_, err = Import(ctx, pool, l, []string{twice}, Options{Mode: Upsert})
	if ie := problemsOf(t, err); ie.Total != 1 || !strings.Contains(err.Error(), "repeats feature #1") {
		t.Errorf("upsert with a repeated key: %v", err)
	}
	// A layer without a key.
	_, err = Import(ctx, pool, layer(t, "roads"), []string{up}, Options{Mode: Upsert})
	if err == nil || !strings.Contains(err.Error(), "has no key field") || !strings.Contains(err.Error(), "没有要素键") || !strings.Contains(err.Error(), "homesteads (zddm)") {
		t.Errorf("upsert into roads: %v", err)
	}
}

// TestOutsideTownship: a parcel at 杭州 loaded into 双营子's homesteads is
// refused with its distance; one 500 m outside the village is within the
// 1 km tolerance; --allow-outside loads both and says so; with an empty
// villages layer the check cannot run and the summary warns.
func TestOutsideTownship(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "homesteads")
	file := writeFC(t, "mixed.geojson",
		homestead("220112203300JC00001", nil, 125.600, 43.50),
		homestead("330104001001JC00001", map[string]any{"XZQDM": "330104001001"}, 120.20, 30.27), // 杭州
		homestead("220112203300JC00002", nil, 125.636, 43.50))                                    // ≈ 500 m east of the village
	// Empty villages layer: loads, with a warning.
	sum, err := Import(ctx, pool, l, []string{file}, Options{DryRun: true})
	if err != nil || !strings.Contains(strings.Join(sum.Warnings, "\n"), "the villages layer is empty") {
		t.Fatalf("empty villages: %v %v", err, sum.Warnings)
	}
	insertVillage(t, pool)
	sum, err = Import(ctx, pool, l, []string{file}, Options{})
	ie := problemsOf(t, err)
	if ie.Total != 1 || sum.Rejected != 1 || ie.Problems[0].Index != 2 || ie.Problems[0].Rule != "outside_township" {
		t.Fatalf("want only feature #2 refused: %v", err)
	}
	var km float64
	if _, err := fmt.Sscanf(ie.Problems[0].Reason[strings.Index(ie.Problems[0].Reason, "/ lies ")+len("/ lies "):], "%f km", &km); err != nil || km < 1500 || km > 1600 {
		t.Errorf("distance %.1f km (%v) in %q, want about 1,540 km", km, err, ie.Problems[0].Reason)
	}
	if !strings.Contains(err.Error(), "--allow-outside") || !strings.Contains(err.Error(), "千米") {
		t.Errorf("message: %v", err)
	}
	sum, err = Import(ctx, pool, l, []string{file}, Options{AllowOutside: true})
	if err != nil || sum.Loaded != 3 || !strings.Contains(strings.Join(sum.Warnings, "\n"), "1 feature(s) lie more than 1 km outside the township") {
		t.Errorf("--allow-outside: %v loaded %d warnings %v", err, sum.Loaded, sum.Warnings)
	}
}

// TestInsertBackstop: a constraint error that still reaches the INSERT (a
// row the checks did not see, e.g. written by another session between the
// check and the INSERT) comes back as the rule and the feature, not as a
// raw SQLSTATE.
func TestInsertBackstop(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "homesteads")
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.homesteads (zddm, xzqdm, status, geom)
		VALUES ('220112203300JC00009', '220112203300', '已登记', ST_Multi(ST_MakeEnvelope(125.6, 43.5, 125.601, 43.501, 4490)))`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		zddm, status, rule, text string
	}{
		{"220112203300JC00009", "已登记", "vp_homesteads_zddm_unique", "must be unique in layer homesteads"},
		{"220112203300JC00010", "拆除", "vp_homesteads_status_codelist", "must hold a value of code list homestead_status"},
	} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+filesTable+` ON COMMIT DROP AS
			SELECT 1 AS file_no, 4490 AS srid, true AS same_datum, NULL::float8 AS minlon, NULL::float8 AS minlat, NULL::float8 AS maxlon, NULL::float8 AS maxlat`); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+featTable+` ON COMMIT DROP AS
			SELECT 1 AS idx, 1 AS file_no, 4 AS rec, '#4 test' AS label, s.*, NULL::geometry AS raw, true AS rings_ok,
			       ST_Multi(ST_MakeEnvelope(125.61, 43.5, 125.611, 43.501, 4490)) AS g
			FROM (SELECT $1::varchar AS zddm, NULL::varchar AS bdcdyh, '220112203300'::varchar AS xzqdm, NULL::text AS zl, NULL::float8 AS zdmj,
			             NULL::text AS approval_number, NULL::date AS approved_on, $2::text AS status, NULL::text AS household_id,
			             NULL::text AS holder_name, NULL::varchar AS holder_id_number,
			             NULL::text AS danger_grade, NULL::boolean AS toilet_done, NULL::boolean AS water_connected) s`, c.zddm, c.status); err != nil {
			t.Fatal(err)
		}
		m, _ := newMapper(l, nil, nil)
		ld := &loader{pool: pool, layer: l, mapper: m, opts: Options{Mode: Append, MaxProblems: 50}, sum: &Summary{},
			files: []fileCRS{{no: 1, path: "parcels.geojson"}}}
		_, _, err = ld.insert(ctx, tx)
		_ = tx.Rollback(ctx)
		ie := problemsOf(t, err)
		p := ie.Problems[0]
		if ie.Total != 1 || p.File != "parcels.geojson" || p.Index != 4 || p.Key != "zddm="+c.zddm || p.Rule != c.rule ||
			!strings.Contains(p.Reason, c.text) || !strings.Contains(p.Reason, "违反数据库规则") || ld.sum.Rejected != 1 {
			t.Errorf("%s: %+v (rejected %d)", c.rule, ie.Problems, ld.sum.Rejected)
		}
	}
}
