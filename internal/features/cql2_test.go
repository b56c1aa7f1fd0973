package features

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"villageplan/layers"
)

func homesteadContext(t testing.TB, srid int) FilterContext {
	t.Helper()
	l, ok := layers.Default().Layer("homesteads")
	if !ok {
		t.Fatal("no homesteads layer in the catalog")
	}
	return FilterContext{Fields: VisibleFields(l, false), FilterSRID: srid}
}

// TestCQL2TypeCheck: each ill-typed filter is refused with a FilterError
// whose span is the offending part; each well-typed one is translated.
func TestCQL2TypeCheck(t *testing.T) {
	cases := []struct {
		filter string
		srid   int
		span   string // "" = must translate
		msg    string // part of the English message
	}{
		{"1 = 1", 0, "", ""},
		{"'a' <> 'b' AND DATE('2020-01-01') < DATE('2021-01-01')", 0, "", ""},
		{"1 = '1'", 0, "'1'", "cannot be compared"},
		{"zddm > DATE('2020-01-01')", 0, "DATE('2020-01-01')", "the text property zddm"},
		{"zdmj LIKE 'a%'", 0, "zdmj", "LIKE needs text"},
		{"zl LIKE zddm", 0, "zddm", "quoted pattern"},
		{`zl LIKE 'abc\'`, 0, `'abc\'`, "lone escape"},
		{`zl LIKE 'abc\\'`, 0, "", ""},
		{"zdmj BETWEEN 1 AND '2'", 0, "'2'", "without quotes"},
		{"zdmj BETWEEN 1 AND 2", 0, "", ""},
		{"zl IN ('a', 1)", 0, "1", "quote it: '1'"},
		{"xzqdm = 220112", 0, "220112", "quote it: '220112'"},
		{"approved_on = DATE('2020-02-30')", 0, "'2020-02-30'", "not a valid date"},
		{"approved_on > TIMESTAMP('2020-01-01T00:00:00Z')", 0, "TIMESTAMP('2020-01-01T00:00:00Z')", "holds days"},
		{"approved_on > '2020-01-01'", 0, "'2020-01-01'", "DATE('YYYY-MM-DD')"},
		{"approved_on >= DATE('2020-01-01')", 0, "", ""},
		{"DATE('2020-01-01') = TIMESTAMP('2020-01-01T00:00:00Z')", 0, "TIMESTAMP('2020-01-01T00:00:00Z')", "cannot be compared"},
		{"zdmj = zl", 0, "zl", "types differ"},
		{"zdmj = 1.5 OR zdmj = 1e3", 0, "", ""},
		{"status = 'abc'", 0, "'abc'", "not a value of code list homestead_status"},
		{"status IN ('闲置', 'x')", 0, "'x'", "code list"},
		{"status = '闲置' AND status LIKE '%x%'", 0, "", ""},
		{"nope = 1", 0, "nope", "the queryable properties are: zddm"},
		{"holder_name = '马1'", 0, "holder_name", "not a queryable property"},
		{"FOO(zl) = 'a'", 0, "FOO", "unknown function FOO; the functions are: CASEI"},
		{"S_FOO(geometry, POINT(1 2))", 0, "S_FOO", "unknown function"},
		{"S_WITHIN(geometry, GEOMETRYCOLLECTION(POINT(1 2), POINT(3 4)))", 0, "GEOMETRYCOLLECTION(POINT(1 2), POINT(3 4))", "MULTIPOINT"},
		{"S_DWITHIN(geometry, POINT(1 2), -5)", 0, "-5", "between 0 and"},
		{"S_DWITHIN(geometry, POINT(1 2), 5, 'mi')", 0, "'mi'", "unit"},
		{"T_AFTER(zdmj, DATE('2020-01-01'))", 0, "zdmj", "date property"},
		{"zl + 1 > 2", 0, "zl", "applies to numbers"},
		{"T_AFTER(INTERVAL('..','..'), INTERVAL('..','..'))", 0, "T_AFTER(INTERVAL('..','..'), INTERVAL('..','..'))", "two intervals"},
		{"CASEI(zl) = CASEI('ABC') AND CASEI(zl) LIKE CASEI('a%')", 0, "", ""},
		{"CASEI(zdmj) = 'a'", 0, "zdmj", "CASEI needs text"},
		{"ACCENTI(zl) = 'a'", 0, "ACCENTI", "no unaccent"},
		{"status = NULL", 0, "NULL", "IS NULL"},
		{"zdmj = geometry", 0, "geometry", "S_INTERSECTS"},
		{"zl = 'a' AND zdmj = 'x'", 0, "'x'", "without quotes"},
		{"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 43)))", 0, "", ""},
		{"S_INTERSECTS(POINT(125 43), geometry)", 0, "", ""},
		{"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 44)))", 0, "(125 43, 126 43, 126 44, 125 44)", "not closed"},
		{"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 125 43)))", 0, "(125 43, 126 43, 125 43)", "at least 4"},
		{"S_INTERSECTS(geometry, LINESTRING(125 43, 126 44 1))", 0, "126 44 1", "inconsistent dimensions"},
		{"S_INTERSECTS(geometry, LINESTRING(125 43))", 0, "(125 43)", "at least 2"},
		{"S_INTERSECTS(geometry, POINT(125 43 1 2))", 0, "125 43 1 2", "2 or 3 numbers"},
		{"S_INTERSECTS(geometry, POINT Z (125 43))", 0, "", ""}, // Z then 2 numbers: see below
		{"S_INTERSECTS(geometry, POINT M (125 43 1))", 0, "M", "not M"},
		{"S_INTERSECTS(geometry, POINT(200 0))", 0, "200 0", "outside the domain of the filter CRS OGC:CRS84"},
		{"S_INTERSECTS(geometry, POINT(1e400 0))", 0, "1e400", "finite"},
		{"S_INTERSECTS(geometry, MULTIPOINT((125 43), 126 44))", 0, "", ""},
		{"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(125 43), POINT EMPTY, LINESTRING(125 43, 126 44)))", 0, "", ""},
		{"S_INTERSECTS(geometry, TRIANGLE((0 0, 1 0, 1 1, 0 0)))", 0, "TRIANGLE", "not a WKT geometry type"},
		{"S_INTERSECTS(geometry, BBOX(126, 43, 125, 44))", 0, "BBOX(126, 43, 125, 44)", "lower corner"},
		{"S_INTERSECTS(geometry, BBOX(125, 43, 126, 95))", 0, "BBOX(125, 43, 126, 95)", "outside the domain"},
		// EPSG:4530 (zone 42 with prefix): northing, easting.
		{"S_INTERSECTS(geometry, POINT(4829000 42480600))", 4530, "", ""},
		{"S_INTERSECTS(geometry, POINT(4829000 480600))", 4530, "4829000 480600", "outside the domain of the filter CRS EPSG:4530"},
		{"S_INTERSECTS(geometry, BBOX(4829000, 42480600, 1e9, 42480700))", 4530, "BBOX(4829000, 42480600, 1e9, 42480700)", "outside the domain"},
		// EPSG:4490: latitude first.
		{"S_INTERSECTS(geometry, POINT(43.6 125.7))", 4490, "", ""},
		{"S_INTERSECTS(geometry, POINT(125.7 43.6))", 4490, "125.7 43.6", "first axis, north: -90…90"},
	}
	for _, c := range cases {
		ctx := homesteadContext(t, c.srid)
		sql, args, err := TranslateCQL2(c.filter, ctx)
		if c.filter == "S_INTERSECTS(geometry, POINT Z (125 43))" {
			// Z needs a third number.
			if err == nil {
				t.Errorf("%q: accepted a Z point with 2 numbers", c.filter)
			}
			continue
		}
		if c.span == "" {
			if err != nil {
				t.Errorf("%q: %v", c.filter, err)
			} else {
				checkSQL(t, c.filter, sql, args)
			}
			continue
		}
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%q: translated to %s %v, want a FilterError at %q", c.filter, sql, args, c.span)
			continue
		}
		if fe.Span != c.span || !strings.Contains(fe.EN, c.msg) || fe.ZH == "" {
			t.Errorf("%q: error span %q %q, want span %q and %q", c.filter, fe.Span, fe.EN, c.span, c.msg)
		}
		if fe.Char != utf8.RuneCountInString(c.filter[:strings.Index(c.filter, c.span)])+1 {
			t.Errorf("%q: character %d for span %q", c.filter, fe.Char, c.span)
		}
		if !strings.Contains(err.Error(), "第 ") || !strings.Contains(err.Error(), "at character") {
			t.Errorf("%q: message %q is not in Chinese and English", c.filter, err)
		}
	}
}

// TestCQL2SQL checks the SQL of a few filters: typed placeholders, the
// integer/real choice, CASEI, ACCENTI when unaccent exists, and a WKT
// rebuilt from numbers.
func TestCQL2SQL(t *testing.T) {
	ctx := homesteadContext(t, 0)
	sql, args, err := TranslateCQL2("zdmj > 100 AND approved_on >= DATE('2020-01-01') AND CASEI(zl) LIKE CASEI('大营%')", ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := `(((t."zdmj" > $W1::double precision) AND (t."approved_on" >= $W2::date)) AND (lower(t."zl") LIKE lower($W3::text)))`
	if strings.ReplaceAll(sql, `"`, "") != strings.ReplaceAll(want, `"`, "") {
		t.Errorf("sql %s\nwant %s", sql, want)
	}
	if len(args) != 3 || args[0] != 100.0 || !args[1].(time.Time).Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || args[2] != "大营%" {
		t.Errorf("args %#v", args)
	}
	w, _ := layers.Default().Layer("water_pipelines")
	sql, args, err = TranslateCQL2("diameter_mm = 100 OR diameter_mm > 99.5", FilterContext{Fields: VisibleFields(w, false)})
	if err != nil || !strings.Contains(sql, "$W1::integer") || !strings.Contains(sql, "$W2::double precision") || args[0] != int32(100) || args[1] != 99.5 {
		t.Errorf("integer field: %s %#v %v", sql, args, err)
	}
	ctx.AccentI = true
	if sql, _, err := TranslateCQL2("ACCENTI(zl) = ACCENTI('a')", ctx); err != nil || !strings.Contains(sql, "unaccent(") {
		t.Errorf("ACCENTI with unaccent: %s %v", sql, err)
	}
	sql, args, err = TranslateCQL2("S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 43), (125.1 43.1, 125.2 43.1, 125.2 43.2, 125.1 43.1)))", FilterContext{Fields: ctx.Fields, FilterSRID: 4551})
	if err == nil {
		t.Errorf("degrees in EPSG:4551 accepted: %s", sql)
	}
	// Collections are flattened, EMPTY members dropped, one test each.
	sql, args, err = TranslateCQL2("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT EMPTY, GEOMETRYCOLLECTION(POINT(125 43), GEOMETRYCOLLECTION EMPTY), LINESTRING(125 43, 126 44)))", ctx)
	if err != nil || len(args) != 2 || args[0] != "POINT(125 43)" || args[1] != "LINESTRING(125 43,126 44)" || strings.Count(sql, "ST_Intersects(t.geom,") != 2 || !strings.Contains(sql, " OR ") {
		t.Errorf("collection: %s %#v %v", sql, args, err)
	}
	for _, f := range []string{"S_INTERSECTS(geometry, POINT EMPTY)", "S_INTERSECTS(GEOMETRYCOLLECTION(POINT EMPTY), geometry)"} {
		if sql, args, err := TranslateCQL2(f, ctx); err != nil || sql != "FALSE" || len(args) != 0 {
			t.Errorf("%s: %s %#v %v", f, sql, args, err)
		}
	}
	if sql, _, err := TranslateCQL2("S_INTERSECTS(geometry, geom)", ctx); err != nil || sql != "(NOT ST_IsEmpty(t.geom))" {
		t.Errorf("geometry with itself: %s %v", sql, err)
	}
	if sql, args, err := TranslateCQL2("S_INTERSECTS(POINT(125 43), BBOX(124, 42, 126, 44))", ctx); err != nil || !strings.HasPrefix(sql, "EXISTS (SELECT 1 FROM ST_Dump(") || len(args) != 2 {
		t.Errorf("literal with literal: %s %#v %v", sql, args, err)
	}
	sql, args, err = TranslateCQL2("S_INTERSECTS(geometry,POLYGON ( ( 125 43 ,126 43,126 44 , 125 43 ) ) )", ctx)
	if err != nil || args[0] != "POLYGON((125 43,126 43,126 44,125 43))" || !strings.Contains(sql, "ST_MakeValid(ST_GeomFromText($W1::text, 4490))") {
		t.Errorf("polygon: %s %#v %v", sql, args, err)
	}
}

var placeholder = regexp.MustCompile(`\$W([0-9]+)::(text|double precision|integer|date|timestamptz|boolean)\b`)

// checkSQL asserts what any translation must satisfy: every argument is
// used through a typed placeholder, no literal text of the filter is in
// the SQL, and the arguments have the Go types pgx binds.
func checkSQL(t testing.TB, filter, sql string, args []any) {
	t.Helper()
	used := map[int]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(sql, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < 1 || n > len(args) {
			t.Fatalf("%q → %s: placeholder $W%d with %d args", filter, sql, n, len(args))
		}
		used[n] = true
	}
	if len(used) != len(args) {
		t.Fatalf("%q → %s: %d of %d args used", filter, sql, len(used), len(args))
	}
	if strings.Count(sql, "$W") != len(placeholder.FindAllString(sql, -1)) {
		t.Fatalf("%q → %s: untyped placeholder", filter, sql)
	}
	if strings.ContainsAny(sql, "';\\") || strings.Contains(sql, "--") || strings.Contains(sql, "/*") {
		t.Fatalf("%q → %s: SQL carries quoted or commented text", filter, sql)
	}
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("%q: argument %q is not text PostgreSQL takes", filter, v)
			}
		case float64, int32, bool, time.Time:
		default:
			t.Fatalf("%q: argument %#v of type %T", filter, a, a)
		}
	}
}

// FuzzTranslateCQL2 feeds arbitrary text to the parser and translator:
// it never panics, a refusal is a located FilterError in both languages,
// and an accepted filter is SQL with typed placeholders only. The seeds
// run with every `go test`; `make fuzz` explores further.
func FuzzTranslateCQL2(f *testing.F) {
	for _, s := range []string{
		"status = '闲置'", "zl LIKE '%3号' AND NOT (zdmj BETWEEN 100 AND 300)", "status IN ('闲置', '退出') OR zl = '大营村1号'",
		"approved_on IS NULL", "approved_on >= DATE('2020-01-01')", "'闲置' = status", "1 = 1", "1 = '1'", "TRUE", "NOT FALSE AND TRUE = TRUE",
		"zddm > DATE('2020-01-01')", "zdmj LIKE 'a'", "zdmj BETWEEN 'a' AND 2", "CASEI(zl) = CASEI('A')", "ACCENTI(zl) = 'a'", "FOO(1)",
		"S_INTERSECTS(geometry, POINT(125.7 43.6))", "S_INTERSECTS(geometry, BBOX(125, 43, 126, 44))",
		"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 43)))", "S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44)))",
		"S_INTERSECTS(geometry, MULTIPOLYGON(((125 43, 126 43, 126 44, 125 43)),((125 43 1, 126 43 1, 126 44 1, 125 43 1))))",
		"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), GEOMETRYCOLLECTION(LINESTRING(1 2, 3 4))))",
		"S_INTERSECTS(geometry, POINT(4829000 42480600))", "zl = 'a'; DROP TABLE x", "\"zl\" = 'x''y'", "zl LIKE 'a\\'",
		"((((zdmj > 1))))", "zdmj > -1e308", "zdmj > 1e309", "status = NULL", "zl IN ()", "S_INTERSECTS(", "'", "\"", "\x00", "\xff",
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	srids := []int{0, 4490, 4326, 3857, 4530, 4551}
	l, _ := layers.Default().Layer("homesteads")
	fields := VisibleFields(l, false)
	f.Fuzz(func(t *testing.T, filter string, crsPick uint8) {
		ctx := FilterContext{Fields: fields, FilterSRID: srids[int(crsPick)%len(srids)], AccentI: crsPick%2 == 1}
		sql, args, err := TranslateCQL2(filter, ctx)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("%q: error %T %v is not a FilterError", filter, err, err)
			}
			if fe.Pos < 0 || fe.End < fe.Pos || fe.End > len(filter) || fe.Char < 1 || fe.ZH == "" || fe.EN == "" {
				t.Fatalf("%q: error %+v is not located", filter, fe)
			}
			if !utf8.ValidString(fe.Chinese()) && utf8.ValidString(filter) {
				t.Fatalf("%q: message %q is not UTF-8", filter, fe.Chinese())
			}
			return
		}
		checkSQL(t, filter, sql, args)
		sql2, _, _ := TranslateCQL2(filter, ctx)
		if sql2 != sql {
			t.Fatalf("%q: translation not deterministic", filter)
		}
	})
}
