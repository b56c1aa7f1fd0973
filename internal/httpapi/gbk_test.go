package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/internal/httpapi"
)

// TestGBKDownloadDecidedBeforeStreaming: 30 000 parcels, the last with an
// emoji in 坐落. A GBK download (CSV, Shapefile, 界址点 TXT, whose default is
// GBK) is refused with a 400 naming the feature, the field and the
// character before any byte of the file is sent; in UTF-8 it is served,
// and Content-Type names the charset of the text formats.
func TestGBKDownloadDecidedBeforeStreaming(t *testing.T) {
	pool := bigHomesteads(t, 30000)
	var last int64
	if err := pool.QueryRow(context.Background(), `UPDATE villageplan.homesteads SET zl = '大营村😀号'
		WHERE id = (SELECT max(id) FROM villageplan.homesteads) RETURNING id`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, RateLimits: map[string]httpapi.RateLimit{"download": {}}})
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for _, q := range []string{"f=csv&encoding=GBK", "f=shp&encoding=GBK", "f=jzd", "f=jzd&encoding=GBK"} {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?"+q, nil)
		var e httpapi.ErrorBody
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Disposition") != "" ||
			!strings.Contains(e.Description, fmt.Sprintf("feature %d, field zl", last)) || !strings.Contains(e.Description, "U+1F600") ||
			!strings.Contains(e.Description, fmt.Sprintf("要素 %d 的字段 zl", last)) {
			t.Errorf("%s: %d %q %.400s", q, resp.StatusCode, resp.Header.Get("Content-Disposition"), b)
		}
	}
	for q, ct := range map[string]string{"f=csv": "text/csv; charset=utf-8", "f=csv&encoding=UTF-8": "text/csv; charset=utf-8",
		"f=jzd&encoding=UTF-8": "text/plain; charset=utf-8", "f=shp&encoding=UTF-8": "application/zip"} {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?"+q, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %q, want 200 %q", q, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(string(b), "😀") {
			t.Errorf("%s: the emoji is not in the UTF-8 file", q)
		}
	}
	// Without the emoji, GBK downloads are served and say so.
	if _, err := pool.Exec(context.Background(), `UPDATE villageplan.homesteads SET zl = '大营村号' WHERE id = $1`, last); err != nil {
		t.Fatal(err)
	}
	for q, ct := range map[string]string{"f=csv&encoding=GBK": "text/csv; charset=GBK", "f=jzd": "text/plain; charset=GBK"} {
		resp, b := fetch(t, "GET", ts.URL+"/collections/homesteads/items?"+q, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct || !strings.Contains(string(b), "\xb4\xf3\xd3\xaa\xb4\xe5") { // 大营村 in GBK
			t.Errorf("%s: %d %q, want 200 %q with GBK text", q, resp.StatusCode, resp.Header.Get("Content-Type"), ct)
		}
	}
}
