package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// sampleValue returns an SQL literal that satisfies every rule of f.
func sampleValue(f layers.Field) string {
	switch f.Pattern {
	case layers.PatternXZQDM:
		return "'220112203300'"
	case layers.PatternTownship:
		return "'220112203'"
	case layers.PatternBDCDYH:
		return "'220112203300JC00001F00010001'"
	case "":
	default:
		panic("no sample value for pattern " + f.Pattern + ": add one here")
	}
	if f.CodeList != "" {
		cl, _ := layers.CodeListByID(f.CodeList)
		return layers.QuoteLiteral(cl.Values[0].Value)
	}
	switch f.Type {
	case layers.Integer:
		return "7"
	case layers.Real:
		return "7.5"
	case layers.Date:
		return "'2024-05-31'"
	case layers.Bool:
		return "true"
	}
	return "'a'"
}

// otherValue returns a second value that satisfies every rule of f and
// differs from sampleValue's.
func otherValue(f layers.Field) string {
	switch f.Pattern {
	case layers.PatternXZQDM:
		return "'220112203301'"
	case layers.PatternBDCDYH:
		return "'220112203300JC00002F00010001'"
	}
	return "'b'"
}

// sampleGeom returns a valid geometry of the layer's type in 双阳 and
// invalid, empty and out-of-domain ones.
func sampleGeom(l *layers.Layer) (ok, invalid, empty, outside string) {
	g := func(wkt string) string { return "ST_GeomFromText('" + wkt + "', 4490)" }
	switch l.Geometry {
	case layers.Point:
		return g("POINT(125.7 43.6)"), "ST_SetSRID(ST_MakePoint('NaN', 43.6), 4490)", g("POINT EMPTY"), g("POINT(181 43.6)")
	case layers.MultiLineString:
		return g("MULTILINESTRING((125.7 43.6, 125.71 43.61))"), g("MULTILINESTRING((125.7 43.6, 125.7 43.6))"),
			g("MULTILINESTRING EMPTY"), g("MULTILINESTRING((179.5 43.6, 180.5 43.6))")
	}
	return g("MULTIPOLYGON(((125.7 43.6, 125.701 43.6, 125.701 43.601, 125.7 43.601, 125.7 43.6)))"),
		g("MULTIPOLYGON(((125.7 43.6, 125.701 43.601, 125.701 43.6, 125.7 43.601, 125.7 43.6)))"),
		g("MULTIPOLYGON EMPTY"),
		g("MULTIPOLYGON(((179 43.6, 181 43.6, 181 43.7, 179 43.7, 179 43.6)))")
}

// TestRulesRefuseBadInserts is generated from the catalog: for every rule
// of every layer, an INSERT through plain SQL (as psql or QGIS would send
// it) that breaks exactly that rule is refused, and the error names the
// rule's constraint (or, for NOT NULL, the column). The same row with the
// rule respected is accepted, so each case can fail.
func TestRulesRefuseBadInserts(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	cat := layers.Default()
	kinds := map[layers.RuleKind]int{}
	for _, l := range cat.Layers() {
		okGeom, invalid, empty, outside := sampleGeom(l)
		row := func(override map[string]string) string {
			var cols, vals []string
			for _, f := range l.Fields {
				v, set := override[f.Name]
				if !set {
					v = sampleValue(f)
				}
				cols = append(cols, layers.QuoteIdent(f.Name))
				vals = append(vals, v)
			}
			g := okGeom
			if v, set := override["geom"]; set {
				g = v
			}
			return `INSERT INTO ` + l.QualifiedTable() + ` (` + strings.Join(cols, ", ") + `, geom) VALUES (` + strings.Join(vals, ", ") + `, ` + g + `)`
		}
		exec := func(sqls ...string) error {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			for _, s := range sqls {
				if _, err := tx.Exec(ctx, s); err != nil {
					return err
				}
			}
			return nil
		}
		if err := exec(row(nil)); err != nil {
			t.Fatalf("layer %s: the valid sample row is refused: %v", l.ID, err)
		}
		for _, r := range l.Rules() {
			kinds[r.Kind]++
			t.Run(r.Name, func(t *testing.T) {
				f, _ := l.Field(r.Column)
				var bad []string
				switch r.Kind {
				case layers.RuleNotNull:
					bad = []string{row(map[string]string{r.Column: "NULL"})}
				case layers.RuleCodeList:
					bad = []string{row(map[string]string{r.Column: "'?'"})}
				case layers.RulePattern:
					v := "'220112'" // a 6-digit county code where 12 digits belong
					if f.Pattern == layers.PatternBDCDYH {
						v = "'220112203300JC00001F0001000'"
					}
					bad = []string{row(map[string]string{r.Column: v})}
				case layers.RuleMin:
					bad = []string{row(map[string]string{r.Column: "-1"})}
				case layers.RuleUnique:
					// The second row differs from the first in every other
					// unique field, so only this rule can refuse it.
					other := map[string]string{}
					for _, o := range l.Fields {
						if o.Unique && o.Name != r.Column {
							other[o.Name] = otherValue(o)
						}
					}
					bad = []string{row(nil), row(other)}
				case layers.RuleGeomValid:
					bad = []string{row(map[string]string{"geom": invalid})}
				case layers.RuleGeomNonEmpty:
					bad = []string{row(map[string]string{"geom": empty})}
				case layers.RuleGeomDomain:
					bad = []string{row(map[string]string{"geom": outside})}
				default:
					t.Fatalf("no breaking insert for rule kind %s: add one", r.Kind)
				}
				err := exec(bad...)
				var pg *pgconn.PgError
				if !errors.As(err, &pg) {
					t.Fatalf("breaking insert accepted or failed oddly: %v", err)
				}
				if r.Kind == layers.RuleNotNull {
					if pg.Code != "23502" || pg.ColumnName != r.Column {
						t.Fatalf("error %s %q (column %q), want 23502 naming column %s", pg.Code, pg.Message, pg.ColumnName, r.Column)
					}
					return
				}
				want := r.Name
				if !strings.HasPrefix(pg.Code, "23") || pg.ConstraintName != want || !strings.Contains(pg.Message, want) {
					t.Fatalf("error %s %q (constraint %q), want a class-23 error naming %s", pg.Code, pg.Message, pg.ConstraintName, want)
				}
				if got, ok := cat.RuleByName(pg.ConstraintName); !ok || got.Column != r.Column || got.Message() == "" {
					t.Errorf("RuleByName(%s) = %+v, %v", pg.ConstraintName, got, ok)
				}
			})
		}
	}
	for _, k := range []layers.RuleKind{layers.RuleNotNull, layers.RuleCodeList, layers.RulePattern, layers.RuleMin, layers.RuleUnique,
		layers.RuleGeomValid, layers.RuleGeomNonEmpty, layers.RuleGeomDomain} {
		if kinds[k] == 0 {
			t.Errorf("no rule of kind %s in the catalog", k)
		}
	}
	// Each of the three keys the standards make unique is enforced.
	for _, name := range []string{"vp_homesteads_zddm_unique", "vp_homesteads_bdcdyh_unique", "vp_permanent_farmland_yjjbnttbbh_unique", "vp_villages_xzqdm_unique"} {
		if _, ok := cat.RuleByName(name); !ok {
			t.Errorf("rule %s missing", name)
		}
	}
	// The domain is the whole ellipsoid and its edge is exact (the rule
	// tests the stored float4 box, rounded outward): 180° itself is fine,
	// a hair beyond is not.
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.streetlights (pole_id, status, geom) VALUES ('edge', '正常', ST_GeomFromText('POINT(180 -90)', 4490))`); err != nil {
		t.Errorf("a point on the domain's edge is refused: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0103', ST_GeomFromText('MULTIPOLYGON(((179.9 43.6, 180 43.6, 180 43.7, 179.9 43.6)))', 4490))`); err != nil {
		t.Errorf("a polygon reaching 180° is refused: %v", err)
	}
	for _, wkt := range []string{"MULTIPOLYGON(((179.9 43.6, 180.0000001 43.6, 180 43.7, 179.9 43.6)))", "MULTIPOLYGON(((-179.9 -90, -180.00000000001 -90, -180 -89.9, -179.9 -90)))"} {
		_, err := pool.Exec(ctx, `INSERT INTO villageplan.land_use (dlbm, geom) VALUES ('0103', ST_GeomFromText($1, 4490))`, wkt)
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.ConstraintName != "vp_land_use_geom_domain" {
			t.Errorf("%s: %v, want the domain rule", wkt, err)
		}
	}
}

// constraintState reads every generated constraint: name → definition as
// PostgreSQL prints it, validated, oid.
type conState struct {
	table, def string
	validated  bool
	oid        uint32
}

func constraints(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) map[string]conState {
	t.Helper()
	rows, err := q.Query(context.Background(), `SELECT c.conname, t.relname, pg_get_constraintdef(c.oid), c.convalidated, c.oid
		FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = 'villageplan' AND c.conname LIKE 'vp\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]conState{}
	for rows.Next() {
		var name string
		var s conState
		if err := rows.Scan(&name, &s.table, &s.def, &s.validated, &s.oid); err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// TestRulesMatchCatalog is the drift test: the constraints in a migrated
// database are exactly those the catalog renders — same names, same
// definitions (PostgreSQL's own rendering of the catalog's DDL, added to a
// scratch copy of each table), all validated — and every Required field is
// NOT NULL.
func TestRulesMatchCatalog(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	have := constraints(t, pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, l := range layers.Default().Layers() {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+layers.QuoteIdent("drift_"+l.Table)+` (LIKE `+l.QualifiedTable()+`)`); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range layers.Default().Rules() {
		if r.Kind == layers.RuleNotNull {
			var nn bool
			if err := tx.QueryRow(ctx, `SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
				layers.Schema+"."+r.Table, r.Column).Scan(&nn); err != nil || !nn {
				t.Errorf("%s.%s: NOT NULL = %v (%v), the catalog says required", r.Table, r.Column, nn, err)
			}
			continue
		}
		got, ok := have[r.Name]
		delete(have, r.Name)
		if !ok {
			t.Errorf("rule %s: no constraint in the database", r.Name)
			continue
		}
		if _, err := tx.Exec(ctx, `ALTER TABLE `+layers.QuoteIdent("drift_"+r.Table)+` ADD CONSTRAINT `+layers.QuoteIdent(r.Name)+` `+r.Definition()); err != nil {
			t.Fatalf("rule %s: %v", r.Name, err)
		}
		var want string
		if err := tx.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass`,
			r.Name, "drift_"+r.Table).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got.table != r.Table || got.def != want || !got.validated {
			t.Errorf("rule %s: database has %s %q (validated %v), catalog renders %s %q", r.Name, got.table, got.def, got.validated, r.Table, want)
		}
	}
	for name, s := range have {
		t.Errorf("constraint %s on %s (%s) is in the database but no catalog rule renders it", name, s.table, s.def)
	}
	for _, l := range layers.Default().Layers() {
		for _, f := range l.Fields {
			var nn bool
			if err := pool.QueryRow(ctx, `SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
				layers.Schema+"."+l.Table, f.Name).Scan(&nn); err != nil {
				t.Fatal(err)
			}
			if nn != f.Required {
				t.Errorf("%s.%s NOT NULL = %v, Required = %v", l.Table, f.Name, nn, f.Required)
			}
		}
	}
}

// TestApplyRulesIdempotentAndRepairsDrift: a second run touches nothing;
// a constraint edited by hand (another definition, a stale comment) or
// dropped is put back; a stray vp_ constraint is removed.
func TestApplyRulesIdempotentAndRepairsDrift(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	before := constraints(t, pool)
	if _, err := db.ApplyRules(ctx, pool, layers.Default(), nil); err != nil {
		t.Fatal(err)
	}
	after := constraints(t, pool)
	for name, s := range before {
		if after[name].oid != s.oid {
			t.Errorf("%s recreated by a run with nothing changed", name)
		}
	}
	if _, err := pool.Exec(ctx, `
		ALTER TABLE villageplan.land_use DROP CONSTRAINT vp_land_use_dlbm_codelist;
		ALTER TABLE villageplan.land_use ADD CONSTRAINT vp_land_use_dlbm_codelist CHECK (dlbm IS NOT NULL);
		ALTER TABLE villageplan.roads DROP CONSTRAINT vp_roads_geom_domain;
		ALTER TABLE villageplan.roads ADD CONSTRAINT vp_roads_stray CHECK (true);
		ALTER TABLE villageplan.roads ALTER COLUMN admin_grade DROP NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyRules(ctx, pool, layers.Default(), nil); err != nil {
		t.Fatal(err)
	}
	again := constraints(t, pool)
	if _, ok := again["vp_roads_stray"]; ok {
		t.Error("stray constraint kept")
	}
	if _, ok := again["vp_roads_geom_domain"]; !ok {
		t.Error("dropped rule not restored")
	}
	if !strings.Contains(again["vp_land_use_dlbm_codelist"].def, "0101") {
		t.Errorf("hand-edited rule not restored: %s", again["vp_land_use_dlbm_codelist"].def)
	}
	if again["vp_homesteads_zddm_unique"].oid != before["vp_homesteads_zddm_unique"].oid {
		t.Error("an unchanged rule was recreated")
	}
	_, err := pool.Exec(ctx, `INSERT INTO villageplan.roads (admin_grade, geom) VALUES (NULL, ST_GeomFromText('MULTILINESTRING((125.7 43.6, 125.71 43.61))', 4490))`)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "23502" {
		t.Errorf("NOT NULL of a required field not restored: %v", err)
	}
}

// TestApplyRulesOnExistingBadRows: a database whose rows already break a
// rule still starts; the CHECK is added NOT VALID (new writes are refused)
// and the rows are reported; a UNIQUE rule with duplicates is reported as
// not in place; once the rows are fixed the next run validates both.
func TestApplyRulesOnExistingBadRows(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	sq := `ST_GeomFromText('MULTIPOLYGON(((125.7 43.6, 125.701 43.6, 125.701 43.601, 125.7 43.601, 125.7 43.6)))', 4490)`
	if _, err := pool.Exec(ctx, `
		ALTER TABLE villageplan.land_use DROP CONSTRAINT vp_land_use_xzqdm_pattern;
		ALTER TABLE villageplan.homesteads DROP CONSTRAINT vp_homesteads_zddm_unique;
		ALTER TABLE villageplan.homesteads ALTER COLUMN status DROP NOT NULL;
		INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0103', '220112', `+sq+`), ('0103', '220112203300', `+sq+`);
		INSERT INTO villageplan.homesteads (zddm, xzqdm, status, geom) VALUES
			('D1', '220112203300', '已登记', `+sq+`), ('D1', '220112203300', '已登记', `+sq+`), ('D2', '220112203300', NULL, `+sq+`)`); err != nil {
		t.Fatal(err)
	}
	issues, err := db.ApplyRules(ctx, pool, layers.Default(), nil)
	if err != nil {
		t.Fatalf("ApplyRules with bad rows: %v", err)
	}
	got := map[string]db.RuleIssue{}
	for _, i := range issues {
		got[i.Rule.Name] = i
	}
	if i := got["vp_land_use_xzqdm_pattern"]; i.Rows != 1 || !i.Enforced || len(i.IDs) != 1 || !strings.Contains(i.String(), "NOT VALID") {
		t.Errorf("pattern issue = %+v", i)
	}
	if i := got["vp_homesteads_zddm_unique"]; i.Rows != 2 || i.Enforced || fmt.Sprint(i.Values) != "[D1]" {
		t.Errorf("unique issue = %+v", i)
	}
	if i := got["vp_homesteads_status_notnull"]; i.Rows != 1 || !i.Enforced {
		t.Errorf("not-null issue = %+v", i)
	}
	if len(issues) != 3 {
		t.Errorf("%d issues, want 3: %v", len(issues), issues)
	}
	// New writes are still checked.
	_, err = pool.Exec(ctx, `INSERT INTO villageplan.land_use (dlbm, xzqdm, geom) VALUES ('0103', '220113', `+sq+`)`)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.ConstraintName != "vp_land_use_xzqdm_pattern" {
		t.Errorf("new bad row under a NOT VALID rule: %v", err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO villageplan.homesteads (zddm, xzqdm, status, geom) VALUES ('D3', '220112203300', NULL, `+sq+`)`)
	if !errors.As(err, &pg) || pg.ConstraintName != "vp_homesteads_status_notnull" {
		t.Errorf("new NULL under the stand-in rule: %v", err)
	}
	// Fix the rows: the next start validates everything.
	if _, err := pool.Exec(ctx, `UPDATE villageplan.land_use SET xzqdm = '220112000000' WHERE xzqdm = '220112';
		UPDATE villageplan.homesteads SET zddm = 'D1b' WHERE id = (SELECT max(id) FROM villageplan.homesteads WHERE zddm = 'D1');
		UPDATE villageplan.homesteads SET status = '闲置' WHERE status IS NULL`); err != nil {
		t.Fatal(err)
	}
	issues, err = db.ApplyRules(ctx, pool, layers.Default(), nil)
	if err != nil || len(issues) != 0 {
		t.Fatalf("after the fix: %v, %v", issues, err)
	}
	cs := constraints(t, pool)
	if !cs["vp_land_use_xzqdm_pattern"].validated || !cs["vp_homesteads_zddm_unique"].validated {
		t.Errorf("rules not validated after the fix: %+v", cs)
	}
	if _, ok := cs["vp_homesteads_status_notnull"]; ok {
		t.Error("stand-in NOT NULL check kept after the column became NOT NULL")
	}
}
