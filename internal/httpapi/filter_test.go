package httpapi_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
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
