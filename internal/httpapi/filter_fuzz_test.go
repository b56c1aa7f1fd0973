package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzItemsFilter sends arbitrary filters, in every filter CRS offered
// for the homestead fixture, through the items handler to a real PostGIS,
// which runs the generated SQL: the answer is 200 or a 400 JSON error,
// never a 5xx. The seeds run with every `go test`; `make fuzz` explores.
func FuzzItemsFilter(f *testing.F) {
	for _, s := range []string{
		"status = '闲置'", "zl LIKE '%3号' AND NOT (zdmj BETWEEN 100 AND 300)", "status IN ('闲置', '退出') OR zl = '大营村1号'",
		"approved_on IS NULL OR approved_on >= DATE('2020-01-01')", "1 = 1", "1 = '1'", "TRUE AND NOT FALSE",
		"zddm > DATE('2020-01-01')", "zdmj LIKE '1%'", "zdmj BETWEEN 1 AND '2'", "zl IN ('a', 1)", "CASEI(zl) LIKE CASEI('%2号')",
		"ACCENTI(zl) = 'a'", "FOO(zl) = 1", "status = 'idle'", "zl LIKE 'a\\'", "DATE('2021-02-29') < DATE('2021-03-01')",
		"S_INTERSECTS(geometry, POINT(125.765 43.604))", "S_INTERSECTS(geometry, POINT(43.604 125.765))",
		"S_INTERSECTS(geometry, POINT(4829010 480650))", "S_INTERSECTS(geometry, POINT(4829010 42480650))",
		"S_INTERSECTS(geometry, BBOX(125, 43, 126, 44))", "S_INTERSECTS(geometry, BBOX(43, 125, 44, 126))",
		"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 43)))", "S_INTERSECTS(geometry, POLYGON((125 43, 126 44, 126 43, 125 44, 125 43)))",
		"S_INTERSECTS(geometry, POLYGON((125 43, 126 43, 126 44, 125 44)))", "S_INTERSECTS(geometry, LINESTRING(125 43, 126 44 1))",
		"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT EMPTY, POLYGON((125 43, 126 43, 126 44, 125 43)), POLYGON((125.5 43, 126 43, 126 44, 125.5 43))))",
		"S_INTERSECTS(GEOMETRYCOLLECTION(POINT(125 43)), MULTIPOINT((125 43), 126 44))", "S_INTERSECTS(geometry, geometry)",
		"S_INTERSECTS(geometry, MULTIPOLYGON(((125 43, 126 43, 126 44, 125 43)), ((125 43, 126 43, 126 44, 125 43))))",
		"S_INTERSECTS(geometry, POINT Z (125 43 1))", "S_INTERSECTS(geometry, POINT(1e400 0))", "zdmj > 1e308", "zdmj < -1e308",
		"zl = 'a'; DROP TABLE villageplan.homesteads", "'", "(", "zl = '\x00'", "zl = '\xff'",
	} {
		for crs := uint8(0); crs < 3; crs++ {
			f.Add(s, crs)
		}
	}
	ts, _ := homesteadFixture(f)
	crss := []string{"", "http://www.opengis.net/def/crs/EPSG/0/4490", "http://www.opengis.net/def/crs/EPSG/0/4551",
		"http://www.opengis.net/def/crs/EPSG/0/3857", "http://www.opengis.net/def/crs/EPSG/0/4530"}
	client := &http.Client{Timeout: time.Minute}
	f.Fuzz(func(t *testing.T, filter string, crs uint8) {
		q := url.Values{"filter": {filter}, "limit": {"2"}}
		if c := crss[int(crs)%len(crss)]; c != "" {
			q.Set("filter-crs", c)
		}
		resp, err := client.Get(ts.URL + "/collections/homesteads/items?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
		case 400:
			var body struct{ Code, Description string }
			if json.Unmarshal(b, &body) != nil || body.Code != "InvalidParameterValue" || !strings.Contains(body.Description, "parameter ") {
				t.Fatalf("filter %q: 400 with body %s", filter, b)
			}
		default:
			t.Fatalf("filter %q (filter-crs %q) = %d %s", filter, q.Get("filter-crs"), resp.StatusCode, b)
		}
	})
}
