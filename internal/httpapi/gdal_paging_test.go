package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// TestGDALPageSize measures what the README and the landing page tell
// GDAL 3.6 users: its OAPIF driver asks for 10 features per page unless
// -oo PAGE_SIZE=… is given. A copy of 2,911 homesteads (the size of the
// township's layer) with ogr2ogr is counted in items requests both ways.
func TestGDALPageSize(t *testing.T) {
	const n = 2911
	pool := testpg.New(t)
	if _, err := pool.Exec(context.Background(), `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, geom)
		SELECT '220112203300JC' || lpad(i::text, 5, '0'), '220112203300', '大营村' || i || '号', '已登记',
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480000 + (i % 60) * 30, 4829000 + (i / 60) * 30,
		                                             480020 + (i % 60) * 30, 4829020 + (i / 60) * 30, 4551), 4490))
		FROM generate_series(1, $1::int) i`, n); err != nil {
		t.Fatal(err)
	}
	var itemsRequests atomic.Int64
	h := httpapi.New(httpapi.Options{Pool: pool, TrustedProxies: loopback})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/collections/homesteads/items") {
			itemsRequests.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	copyLayer := func(opts ...string) int64 {
		itemsRequests.Store(0)
		out := t.TempDir() + "/homesteads.gpkg"
		ogr(t, "ogr2ogr", append(append([]string{"-f", "GPKG", out, "OAPIF:" + ts.URL}, opts...), "homesteads")...)
		if m := featureCountRe.FindStringSubmatch(ogr(t, "ogrinfo", "-ro", "-so", "-al", out)); m == nil || m[1] != strconv.Itoa(n) {
			t.Fatalf("ogr2ogr %v copied %v features, want %d", opts, m, n)
		}
		return itemsRequests.Load()
	}
	plain := copyLayer()
	paged := copyLayer("-oo", "PAGE_SIZE=1000")
	whole := copyLayer("-oo", "PAGE_SIZE=10000")
	t.Logf("ogr2ogr of %d homesteads: %d items requests without options, %d with -oo PAGE_SIZE=1000, %d with -oo PAGE_SIZE=10000",
		n, plain, paged, whole)
	if paged > 4 {
		t.Errorf("-oo PAGE_SIZE=1000 took %d requests for %d features (3 pages expected)", paged, n)
	}
	if plain <= paged {
		t.Errorf("without PAGE_SIZE GDAL made %d requests, with it %d: the README's advice would be pointless", plain, paged)
	}
}
