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
	if resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?filter-lang=cql2-json&filter=%7B%7D", nil); resp.StatusCode != 400 || !strings.Contains(string(b), "filter-lang") {
		t.Errorf("cql2-json = %d %s", resp.StatusCode, b)
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
