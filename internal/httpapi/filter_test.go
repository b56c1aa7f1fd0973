package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"villageplan/internal/httpapi"
)

// TestCQL2Filters runs CQL2 text filters over the three homestead fixtures
// (zl 大营村1号…3号; status 已登记, 闲置, 已登记) and checks which
// features match.
func TestCQL2Filters(t *testing.T) {
	ts, _ := homesteadFixture(t)
	var lon2, lat2 float64
	{
		one := items(t, ts.URL+"/collections/homesteads/items?sortby=zl&offset=1&limit=1")
		var c [][][][2]float64
		_ = json.Unmarshal(one.Features[0].Geometry.Coordinates, &c)
		lon2, lat2 = c[0][0][0][0]+0.00005, c[0][0][0][1]+0.00005 // inside parcel 2
	}
	cases := []struct {
		filter string
		want   []string // zl values, sorted
	}{
		{"status = '闲置'", []string{"大营村2号"}},
		{"status <> '闲置'", []string{"大营村1号", "大营村3号"}},
		{"NOT (status = '闲置')", []string{"大营村1号", "大营村3号"}},
		{"zl LIKE '%3号'", []string{"大营村3号"}},
		{"zl NOT LIKE '%3号' AND status = '已登记'", []string{"大营村1号"}},
		{"status IN ('闲置', '退出') OR zl = '大营村1号'", []string{"大营村1号", "大营村2号"}},
		{"zl NOT IN ('大营村1号')", []string{"大营村2号", "大营村3号"}},
		{"approved_on IS NULL", []string{"大营村1号", "大营村2号", "大营村3号"}},
		{"approved_on IS NOT NULL", nil},
		{"zdmj IS NULL AND id_not_there = 1", nil}, // error case below handles; here skipped
		{"zl BETWEEN '大营村2号' AND '大营村3号'", []string{"大营村2号", "大营村3号"}},
		{"'闲置' = status", []string{"大营村2号"}},
		{"S_INTERSECTS(geometry, POINT(" + ff(lon2) + " " + ff(lat2) + "))", []string{"大营村2号"}},
		{"S_INTERSECTS(geometry, BBOX(" + ff(lon2-0.0001) + "," + ff(lat2-0.0001) + "," + ff(lon2+0.0001) + "," + ff(lat2+0.0001) + "))", []string{"大营村2号"}},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))", nil},
	}
	for _, c := range cases {
		if strings.Contains(c.filter, "id_not_there") {
			continue
		}
		out := items(t, ts.URL+"/collections/homesteads/items?sortby=zl&filter="+url.QueryEscape(c.filter))
		var got []string
		for _, f := range out.Features {
			got = append(got, f.Properties["zl"].(string))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("filter %q → %v, want %v", c.filter, got, c.want)
		}
	}
	// filter-crs in EPSG:4490 (lat lon order)
	out := items(t, ts.URL+"/collections/homesteads/items?filter-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4490")+
		"&filter="+url.QueryEscape("S_INTERSECTS(geometry, POINT("+ff(lat2)+" "+ff(lon2)+"))"))
	if out.NumberReturned != 1 || out.Features[0].Properties["zl"] != "大营村2号" {
		t.Errorf("filter-crs EPSG:4490: %+v", out)
	}

	bad := []string{
		"status = ",
		"status = '闲置' AND",
		"holder_name = '马1'",
		"nope = 1",
		"status = '闲置'; DROP TABLE villageplan.homesteads",
		"zl = 'a' OR 1 = 1)",
		"zdmj = 'abc'",
		"status LIKE 5",
		"S_INTERSECTS(geometry, POINT(1 2); DROP TABLE x)",
		"S_INTERSECTS(geom2, POINT(1 2))",
		"'unterminated",
		strings.Repeat("(", 200) + "status = '闲置'" + strings.Repeat(")", 200),
		strings.Repeat("NOT ", 100) + "status = '闲置'",
	}
	for _, f := range bad {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?filter="+url.QueryEscape(f), nil)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "filter") {
			t.Errorf("filter %.60q = %d %s, want 400 naming filter", f, resp.StatusCode, b)
		}
	}
	if resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?filter-lang=cql2-xml&filter=%7B%7D", nil); resp.StatusCode != 400 || !strings.Contains(string(b), "filter-lang") {
		t.Errorf("cql2-xml = %d %s", resp.StatusCode, b)
	}
	// The table is intact after all that.
	if all := items(t, ts.URL+"/collections/homesteads/items"); all.NumberReturned != 3 {
		t.Errorf("after hostile filters: %d features", all.NumberReturned)
	}
}

// TestCQL2TypeErrors: the ill-typed filters of issue 11 and bboxes outside
// their CRS's domain are 400s in Chinese and English naming the offending
// span; constant comparisons are evaluated; CASEI works; ACCENTI works only
// once the database has unaccent; /conformance claims what works.
func TestCQL2TypeErrors(t *testing.T) {
	ts, pool := homesteadFixture(t)
	base := ts.URL + "/collections/homesteads/items?"
	for f, n := range map[string]int{
		"1 = 1": 3, "1 = 2": 0, "'a' < 'b' AND DATE('2020-01-01') < DATE('2020-01-02')": 3,
		"CASEI(zddm) = CASEI('220112203300jc00002')": 1, "CASEI(zl) LIKE CASEI('%2号')": 1,
		"zdmj IS NULL AND status IN ('闲置')": 1, "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT EMPTY, POINT(0 0)))": 0,
	} {
		if got := items(t, base+"filter="+url.QueryEscape(f)); got.NumberReturned != n {
			t.Errorf("%s: %d features, want %d", f, got.NumberReturned, n)
		}
	}
	bad := []struct{ query, span string }{
		{"filter=" + url.QueryEscape("zddm > DATE('2020-01-01')"), "DATE('2020-01-01')"},
		{"filter=" + url.QueryEscape("1 = '1'"), "'1'"},
		{"filter=" + url.QueryEscape("zdmj LIKE '1%'"), "zdmj"},
		{"filter=" + url.QueryEscape("zdmj BETWEEN 1 AND '2'"), "'2'"},
		{"filter=" + url.QueryEscape("status IN ('闲置', 3)"), "3"},
		{"filter=" + url.QueryEscape("status = 'idle'"), "'idle'"}, // stored as 闲置
		{"filter=" + url.QueryEscape("approved_on = DATE('2021-02-29')"), "'2021-02-29'"},
		{"filter=" + url.QueryEscape("S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 44)))"), "(125 43, 126 43, 126 44, 125 44)"},
		{"filter=" + url.QueryEscape("S_INTERSECTS(geometry, LINESTRING(125 43, 126 44 5))"), "126 44 5"},
		{"filter=" + url.QueryEscape("S_INTERSECTS(geometry, POINT(43.6 125.7))") + "&filter-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4551"), "43.6 125.7"},
		{"filter=" + url.QueryEscape("FOO(zl) = 'a'"), "FOO"},
		{"filter=" + url.QueryEscape("ACCENTI(zl) = 'a'"), "ACCENTI"},
	}
	for _, c := range bad {
		resp, b := fetch(t, "GET", base+c.query, nil)
		var body struct{ Code, Description string }
		_ = json.Unmarshal(b, &body)
		if resp.StatusCode != 400 || body.Code != "InvalidParameterValue" || !strings.Contains(body.Description, "参数 filter：") ||
			!strings.Contains(body.Description, "parameter filter: at character") || !strings.Contains(body.Description, "「"+c.span+"」") {
			t.Errorf("%s = %d %s, want 400 naming %q", c.query, resp.StatusCode, b, c.span)
		}
	}
	if _, b := fetch(t, "GET", base+"filter="+url.QueryEscape("FOO(zl) = 'a'"), nil); !strings.Contains(string(b), "unknown function FOO; the functions are: CASEI") ||
		strings.Contains(string(b), "queryable property") {
		t.Errorf("unknown function: %s", b)
	}
	// bbox outside the domain of its CRS: a Gauss-Krüger zone, latitude.
	for _, q := range []string{
		"bbox=0,0,1e9,1e9&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4551"),
		"bbox=4829000,42480600,4829100,42480700&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4551"),
		"bbox=43,125,95,126&bbox-crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4490"),
		"bbox=125,43,126,91",
		"bbox=126,43,125,44",
	} {
		resp, b := fetch(t, "GET", base+q, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "参数 bbox：") || !strings.Contains(string(b), "parameter bbox:") {
			t.Errorf("%s = %d %s", q, resp.StatusCode, b)
		}
	}
	if got := items(t, base+"bbox=4828000,480000,4830000,482000&bbox-crs="+url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/4551")); got.NumberReturned != 3 {
		t.Errorf("GK bbox inside the zone: %d features", got.NumberReturned)
	}
	_, b := fetch(t, "GET", ts.URL+"/conformance", nil)
	if !strings.Contains(string(b), "conf/case-insensitive-comparison") || strings.Contains(string(b), "accent-insensitive") {
		t.Errorf("conformance: %s", b)
	}
	// With unaccent (a trusted extension) ACCENTI is translated to it.
	if _, err := pool.Exec(context.Background(), "CREATE EXTENSION unaccent"); err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool}))
	defer ts2.Close()
	if got := items(t, ts2.URL+"/collections/homesteads/items?filter="+url.QueryEscape("ACCENTI(zl) = ACCENTI('大营村2号')")); got.NumberReturned != 1 {
		t.Errorf("ACCENTI with unaccent: %d features", got.NumberReturned)
	}
}

// TestCQL2ExtendedOperators: arithmetic, the spatial predicates beyond
// S_INTERSECTS, S_DWITHIN in metres, the temporal functions and the
// CQL2-JSON encoding, over the three homestead fixtures (20 m × 28 m
// parcels 10 m apart; declared areas 560, 300 and NULL m²; approved on
// 2020-05-01, 2021-03-15 and never).
func TestCQL2ExtendedOperators(t *testing.T) {
	ts, pool := homesteadFixture(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `UPDATE villageplan.homesteads SET
		zdmj = CASE zl WHEN '大营村1号' THEN 560 WHEN '大营村2号' THEN 300 END,
		approved_on = CASE zl WHEN '大营村1号' THEN DATE '2020-05-01' WHEN '大营村2号' THEN DATE '2021-03-15' END`); err != nil {
		t.Fatal(err)
	}
	var cx, cy, minx, miny, maxx, maxy float64
	if err := pool.QueryRow(ctx, `SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)),
		(SELECT ST_XMin(e) FROM (SELECT ST_Extent(geom)::geometry e FROM villageplan.homesteads) x), (SELECT ST_YMin(e) FROM (SELECT ST_Extent(geom)::geometry e FROM villageplan.homesteads) x),
		(SELECT ST_XMax(e) FROM (SELECT ST_Extent(geom)::geometry e FROM villageplan.homesteads) x), (SELECT ST_YMax(e) FROM (SELECT ST_Extent(geom)::geometry e FROM villageplan.homesteads) x)
		FROM villageplan.homesteads WHERE zl = '大营村2号'`).Scan(&cx, &cy, &minx, &miny, &maxx, &maxy); err != nil {
		t.Fatal(err)
	}
	centre := "POINT(" + ff(cx) + " " + ff(cy) + ")"
	all := []string{"大营村1号", "大营村2号", "大营村3号"}
	cases := []struct {
		lang, filter string
		want         []string
	}{
		{"", "zdmj * 2 > 1000", []string{"大营村1号"}},
		{"", "(zdmj + 40) / 2 = 170", []string{"大营村2号"}},
		{"", "zdmj - 300 = 0", []string{"大营村2号"}},
		{"", "zdmj % 7 = 0", []string{"大营村1号"}},
		{"", "zdmj DIV 100 = 3", []string{"大营村2号"}},
		{"", "-zdmj < -400", []string{"大营村1号"}},
		{"", "zdmj / 0 > 1", nil}, // division by zero is NULL, not an error
		{"", "zdmj > 2 * (100 + 50)", []string{"大营村1号"}},
		{"", "S_WITHIN(geometry, BBOX(" + ff(minx-0.001) + "," + ff(miny-0.001) + "," + ff(maxx+0.001) + "," + ff(maxy+0.001) + "))", all},
		{"", "S_CONTAINS(geometry, " + centre + ")", []string{"大营村2号"}},
		{"", "S_DISJOINT(geometry, " + centre + ")", []string{"大营村1号", "大营村3号"}},
		{"", "S_EQUALS(geometry, geometry)", all},
		{"", "S_TOUCHES(geometry, " + centre + ")", nil},
		// The neighbours' nearest edges are 20 m from the centre of parcel 2.
		{"", "S_DWITHIN(geometry, " + centre + ", 19)", []string{"大营村2号"}},
		{"", "S_DWITHIN(geometry, " + centre + ", 21)", all},
		{"", "S_DWITHIN(geometry, " + centre + ", 0.021, 'km')", all},
		{"", "T_AFTER(approved_on, DATE('2021-01-01'))", []string{"大营村2号"}},
		{"", "T_BEFORE(approved_on, DATE('2021-01-01'))", []string{"大营村1号"}},
		{"", "T_EQUALS(approved_on, DATE('2021-03-15'))", []string{"大营村2号"}},
		{"", "T_DURING(approved_on, INTERVAL('2020-01-01', '2020-12-31'))", []string{"大营村1号"}},
		{"", "T_INTERSECTS(approved_on, INTERVAL('2021-03-15', '..'))", []string{"大营村2号"}},
		{"", "T_DISJOINT(approved_on, INTERVAL('2020-01-01', '2020-12-31'))", []string{"大营村2号"}},
		{"", "T_BEFORE(INTERVAL('2020-06-01', '..'), approved_on)", nil},
		{"", "T_AFTER(INTERVAL('..', '2020-06-01'), approved_on)", nil},
		{"", "T_BEFORE(INTERVAL('..', '2020-06-01'), approved_on)", []string{"大营村2号"}},
		{"", "T_AFTER(INTERVAL('2020-06-01', '..'), approved_on)", []string{"大营村1号"}},
		{"", "T_DURING(DATE('2020-01-01'), DATE('2020-02-01')) OR zdmj = 300", []string{"大营村2号"}},
		{"cql2-json", `{"op":"and","args":[{"op":">","args":[{"property":"zdmj"},100]},{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[` + ff(cx) + `,` + ff(cy) + `]}]}]}`, []string{"大营村2号"}},
		{"cql2-json", `{"op":"in","args":[{"property":"zl"},["大营村1号","大营村3号"]]}`, []string{"大营村1号", "大营村3号"}},
		{"cql2-json", `{"op":"t_after","args":[{"property":"approved_on"},{"date":"2021-01-01"}]}`, []string{"大营村2号"}},
		{"cql2-json", `{"op":"not","args":[{"op":"isNull","args":[{"property":"zdmj"}]}]}`, []string{"大营村1号", "大营村2号"}},
		{"cql2-json", `{"op":"like","args":[{"op":"casei","args":[{"property":"zl"}]},{"op":"casei","args":["%3号"]}]}`, []string{"大营村3号"}},
	}
	for _, c := range cases {
		u := ts.URL + "/collections/homesteads/items?sortby=zl&filter=" + url.QueryEscape(c.filter)
		if c.lang != "" {
			u += "&filter-lang=" + c.lang
		}
		out := items(t, u)
		var got []string
		for _, f := range out.Features {
			got = append(got, f.Properties["zl"].(string))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s filter %q → %v, want %v", c.lang, c.filter, got, c.want)
		}
	}
	// Mistakes are 400 naming where: a character of the text, a JSON path.
	for _, c := range []struct{ lang, filter, want string }{
		{"", "zdmj * 'a' > 1", "at character 8"},
		{"", "zdmj * 1e300 * 1e300 > 1", "cannot be evaluated"}, // float overflow in PostgreSQL: a 400, not a 500
		{"", "S_WITHIN(geometry, GEOMETRYCOLLECTION(POINT(1 2), POINT(3 4)))", "GEOMETRYCOLLECTION"},
		{"cql2-json", `{"op":"and","args":[{"op":"=","args":[{"property":"zl"},"x"]},{"op":"bogus","args":[]}]}`, "args[1].op"},
		{"cql2-json", `{"op":"=","args":[{"property":"zdmj"},"x"]}`, "CQL2 text form"},
		{"cql2-json", `{"op":"=",`, "not valid JSON"},
		{"cql2-json", `{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":["a",1]}]}`, "args[1].coordinates[0]"},
	} {
		u := ts.URL + "/collections/homesteads/items?filter=" + url.QueryEscape(c.filter)
		if c.lang != "" {
			u += "&filter-lang=" + c.lang
		}
		resp, body := fetch(t, "GET", u, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(body), c.want) || !strings.Contains(string(body), `"code"`) {
			t.Errorf("%s filter %q: %d %s, want 400 mentioning %q", c.lang, c.filter, resp.StatusCode, body, c.want)
		}
	}
}
