package httpapi_test

import (
	"context"
	"strings"
	"testing"
)

// TestHTMLViews: a browser (Accept: text/html) or f=html gets Chinese HTML
// pages with a server-drawn SVG map; personal data stays out.
func TestHTMLViews(t *testing.T) {
	ts, pool := homesteadFixture(t)
	_, err := pool.Exec(context.Background(), `INSERT INTO villageplan.land_use (dlbm, dlmc, geom)
		VALUES ('0103', '旱地', ST_Multi(ST_Transform(ST_MakeEnvelope(480000, 4829000, 480100, 4829100, 4551), 4490)))`)
	if err != nil {
		t.Fatal(err)
	}
	browser := map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
	cases := []struct {
		path string
		hdr  map[string]string
		want []string
	}{
		{"/", browser, []string{"双营子回族乡村庄规划一张图", "/collections?f=html"}},
		{"/collections", browser, []string{"宅基地", "Homesteads", "永久基本农田"}},
		{"/collections/homesteads?f=html", nil, []string{"宗地代码", "个人信息，不公开"}},
		{"/collections/homesteads/items?f=html&limit=2", nil, []string{"<svg", "<path d=\"M", "大营村1号", "下一页"}},
		{"/collections/land_use/items?f=html", nil, []string{"0103 旱地"}},
		{"/collections/homesteads/items/2", browser, []string{"大营村2号", "<svg", "闲置"}},
		{"/conformance?f=html", nil, []string{"conf/core", "conf/html"}},
		{"/api?f=html", nil, []string{"/collections/homesteads/items/{featureId}"}},
	}
	for _, c := range cases {
		resp, b := fetch(t, "GET", ts.URL+c.path, c.hdr)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s = %d %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", c.path, w)
			}
		}
		if strings.Contains(string(b), "马1") || strings.Contains(string(b), "220112198001010001") {
			t.Errorf("%s shows personal data", c.path)
		}
	}
	// JSON stays the default for non-browsers, with a different ETag.
	rj, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items/2", nil)
	rh, _ := fetch(t, "GET", ts.URL+"/collections/homesteads/items/2", browser)
	if rj.Header.Get("Content-Type") != "application/geo+json" || rj.Header.Get("ETag") == rh.Header.Get("ETag") {
		t.Errorf("JSON vs HTML: %s / ETags %s %s", rj.Header.Get("Content-Type"), rj.Header.Get("ETag"), rh.Header.Get("ETag"))
	}
}
