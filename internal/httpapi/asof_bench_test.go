package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// BenchmarkAsOfItems compares an as-of items page with the current one:
// GET /collections/homesteads/items?bbox=…&limit=100 with and without
// datetime= (an instant after the sample load and before 2,000 parcels
// were edited through SQL, so the as-of page mixes current rows and
// superseded versions). Each round alternates the two over 40 boxes; it
// reports both p95 latencies and their ratio (the target ≤ 2).
// The sample is benchSample's. Reproduce with
//
//	go test -run '^$' -bench AsOfItems -benchtime 400x ./internal/httpapi/
//
// or `make bench-asof` (county sample, figures to results.tsv).
func BenchmarkAsOfItems(b *testing.B) {
	ctx := context.Background()
	pool := benchSample(b)
	at := editAfterInstant(b, pool)
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	// 40 boxes of ~300 m around parcels spread over the layer.
	rows, err := pool.Query(ctx, `SELECT ST_X(c) - 0.002, ST_Y(c) - 0.0015, ST_X(c) + 0.002, ST_Y(c) + 0.0015
		FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY hashint8(id) LIMIT 40) s`)
	if err != nil {
		b.Fatal(err)
	}
	var boxes []string
	for rows.Next() {
		var x0, y0, x1, y1 float64
		rows.Scan(&x0, &y0, &x1, &y1)
		boxes = append(boxes, fmt.Sprintf("%.6f,%.6f,%.6f,%.6f", x0, y0, x1, y1))
	}
	rows.Close()
	client := &http.Client{}
	get := func(b *testing.B, u string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer analyst")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	dt := "&datetime=" + url.QueryEscape(at.Format(time.RFC3339Nano))
	for _, bx := range boxes[:10] {
		get(b, ts.URL+"/collections/homesteads/items?limit=100&bbox="+bx)
		get(b, ts.URL+"/collections/homesteads/items?limit=100&bbox="+bx+dt)
	}
	b.Run("http", func(b *testing.B) {
		var cur, old []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			u := ts.URL + "/collections/homesteads/items?limit=100&bbox=" + boxes[(i/2)%len(boxes)]
			if i%2 == 1 {
				u += dt
			}
			start := time.Now()
			get(b, u)
			if i%2 == 1 {
				old = append(old, time.Since(start))
			} else {
				cur = append(cur, time.Since(start))
			}
		}
		b.StopTimer()
		if len(cur) > 0 && len(old) > 0 {
			b.ReportMetric(p95(cur), "current_p95_ms")
			b.ReportMetric(p95(old), "asof_p95_ms")
			b.ReportMetric(p95(old)/p95(cur), "ratio")
		}
	})
}

// quantile returns the q-quantile of l in milliseconds (l is sorted).
func quantile(l []time.Duration, q float64) float64 {
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return float64(l[int(q*float64(len(l)-1))].Microseconds()) / 1000
}

func p95(l []time.Duration) float64 { return quantile(l, 0.95) }

// benchSample returns a pool on the benchmarks' sample: a copy of the
// database named by VILLAGEPLAN_BENCH_SAMPLE_URL when set (a superuser URL;
// internal/devtools/bench-asof.sh loads the county sample there once), or
// else a fresh database with the sample of VILLAGEPLAN_BENCH_SCALE
// (township by default) loaded.
func benchSample(b *testing.B) *pgxpool.Pool {
	b.Helper()
	if u := os.Getenv("VILLAGEPLAN_BENCH_SAMPLE_URL"); u != "" {
		return testpg.Copy(b, u)
	}
	pool := testpg.New(b)
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: os.Getenv("VILLAGEPLAN_BENCH_SCALE")}, nil); err != nil {
		b.Fatal(err)
	}
	return pool
}

// editAfterInstant returns an instant after the sample load, then edits
// 2,000 homesteads through SQL (20 statements of 100, as an analyst in QGIS
// would; 坐落 and the parcel moved 1 cm east), so that the layer as of the
// instant mixes current rows and superseded versions.
func editAfterInstant(b *testing.B, pool *pgxpool.Pool) time.Time {
	b.Helper()
	ctx := context.Background()
	time.Sleep(20 * time.Millisecond)
	var at time.Time
	pool.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&at)
	time.Sleep(20 * time.Millisecond)
	for i := 0; i < 20; i++ {
		if _, err := pool.Exec(ctx, `UPDATE villageplan.homesteads SET zl = zl || ' 改', geom = ST_Transform(ST_Translate(ST_Transform(geom, 4551), 0.01, 0), 4490)
			WHERE id IN (SELECT id FROM villageplan.homesteads ORDER BY hashint8(id + $1) LIMIT 100)`, i); err != nil {
			b.Fatal(err)
		}
	}
	pool.Exec(ctx, `ANALYZE villageplan.feature_versions`)
	return at
}

// BenchmarkAsOfTiles compares uncached homesteads tiles at z16 as of an
// instant (datetime=, before 2,000 parcels were edited) with the current
// ones, alternately over 40 tiles around parcels spread over the layer;
// it reports both p95 latencies and their ratio (issue 13: ≤ 2). The tile
// cache is off, so every request renders. Reproduce with
//
//	go test -run '^$' -bench AsOfTiles -benchtime 400x ./internal/httpapi/
func BenchmarkAsOfTiles(b *testing.B) {
	ctx := context.Background()
	pool := benchSample(b)
	at := editAfterInstant(b, pool)
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers, TileCacheBytes: -1})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	rows, err := pool.Query(ctx, `SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM villageplan.homesteads ORDER BY hashint8(id) LIMIT 40) s`)
	if err != nil {
		b.Fatal(err)
	}
	var tiles []string
	for rows.Next() {
		var x, y float64
		rows.Scan(&x, &y)
		tiles = append(tiles, tileAddr(x, y, 16))
	}
	rows.Close()
	client := &http.Client{}
	get := func(b *testing.B, u string) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer analyst")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	dt := "?datetime=" + url.QueryEscape(at.Format(time.RFC3339Nano))
	for _, t := range tiles[:10] {
		get(b, ts.URL+"/tiles/homesteads/"+t+".mvt")
		get(b, ts.URL+"/tiles/homesteads/"+t+".mvt"+dt)
	}
	b.Run("http", func(b *testing.B) {
		var cur, old []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			u := ts.URL + "/tiles/homesteads/" + tiles[(i/2)%len(tiles)] + ".mvt"
			if i%2 == 1 {
				u += dt
			}
			start := time.Now()
			get(b, u)
			if i%2 == 1 {
				old = append(old, time.Since(start))
			} else {
				cur = append(cur, time.Since(start))
			}
		}
		b.StopTimer()
		if len(cur) > 0 && len(old) > 0 {
			b.ReportMetric(p95(cur), "current_p95_ms")
			b.ReportMetric(p95(old), "asof_p95_ms")
			b.ReportMetric(p95(old)/p95(cur), "ratio")
		}
	})
}

// yearOfEditsSQL makes $1 changesets on the sample, each its own
// transaction (a DO block that commits per changeset, so each has its own
// now()) recorded like an edit through the service (a changesets row,
// villageplan.changeset set, per-row history and feature_versions):
// 55 % update 1–2 homesteads (坐落; every third also moves the parcel by
// about 8 cm), 15 % add a streetlight, 10 % remove one, 10 % update a road,
// 5 % remove a homestead, 5 % re-grade a water facility. Feature choices
// are deterministic (hashint4 of the changeset number).
const yearOfEditsSQL = `
DO $$
DECLARE
	n int := {{N}};
	k int;
	cs bigint;
	r int;
	h0 bigint; hn bigint; l0 bigint; ln bigint; r0 bigint; rn bigint; w0 bigint; wn bigint;
BEGIN
	PERFORM set_config('villageplan.topology', 'off', false);
	PERFORM set_config('villageplan.actor', 'bench-year', false);
	SELECT min(id), max(id) INTO h0, hn FROM villageplan.homesteads;
	SELECT min(id), max(id) INTO l0, ln FROM villageplan.streetlights;
	SELECT min(id), max(id) INTO r0, rn FROM villageplan.roads;
	SELECT min(id), max(id) INTO w0, wn FROM villageplan.water_facilities;
	FOR k IN 1..n LOOP
		INSERT INTO villageplan.changesets (author, message, state, published_at)
		VALUES ('bench-year', '一年的编辑 year of edits ' || k, 'published', now()) RETURNING id INTO cs;
		PERFORM set_config('villageplan.changeset', cs::text, false);
		r := abs(hashint4(k)) % 100;
		IF r < 55 THEN
			UPDATE villageplan.homesteads SET zl = left(zl, 60) || '·',
			       geom = CASE WHEN k % 3 = 0 THEN ST_Translate(geom, 0.000001, 0) ELSE geom END
			 WHERE id IN (SELECT id FROM villageplan.homesteads WHERE id >= h0 + abs(hashint4(k * 7)) % (hn - h0 + 1) ORDER BY id LIMIT 1 + k % 2);
		ELSIF r < 70 THEN
			INSERT INTO villageplan.streetlights (pole_id, status, geom)
			SELECT 'YEAR-' || k, '正常', ST_Translate(geom, 0.00005, 0.00005) FROM villageplan.streetlights
			 WHERE id >= l0 + abs(hashint4(k * 11)) % (ln - l0 + 1) ORDER BY id LIMIT 1;
		ELSIF r < 80 THEN
			DELETE FROM villageplan.streetlights WHERE id = (SELECT id FROM villageplan.streetlights
			 WHERE id >= l0 + abs(hashint4(k * 13)) % (ln - l0 + 1) ORDER BY id LIMIT 1);
		ELSIF r < 90 THEN
			UPDATE villageplan.roads SET pavement_width = coalesce(pavement_width, 4) + 0.5
			 WHERE id = (SELECT id FROM villageplan.roads WHERE id >= r0 + abs(hashint4(k * 17)) % (rn - r0 + 1) ORDER BY id LIMIT 1);
		ELSIF r < 95 THEN
			DELETE FROM villageplan.homesteads WHERE id = (SELECT id FROM villageplan.homesteads
			 WHERE id >= h0 + abs(hashint4(k * 19)) % (hn - h0 + 1) ORDER BY id LIMIT 1);
		ELSE
			UPDATE villageplan.water_facilities SET population_served = coalesce(population_served, 0) + 10
			 WHERE id = (SELECT id FROM villageplan.water_facilities WHERE id >= w0 + abs(hashint4(k * 23)) % (wn - w0 + 1) ORDER BY id LIMIT 1);
		END IF;
		COMMIT;
	END LOOP;
	PERFORM set_config('villageplan.changeset', '', false);
END $$`

// backdateSQL spreads the recorded history over the past year, keeping its
// order: every distinct edit time (edit_history.at, edit_batch.at, the
// bounds of feature_versions) maps to the k-th of as many instants evenly
// spaced from 366 days ago to a day ago — the sample load first, then the
// changesets — and every column holding one is rewritten through the map
// (so a version's valid_from stays the valid_to of the one before); the
// changesets' times follow their edits.
const backdateSQL = `
CREATE TEMP TABLE tmap AS
WITH ts AS (
	SELECT at AS t FROM villageplan.edit_history
	UNION SELECT at FROM villageplan.edit_batch
	UNION SELECT valid_to FROM villageplan.feature_versions
	UNION SELECT valid_from FROM villageplan.feature_versions WHERE valid_from > '-infinity'
), r AS (SELECT t, row_number() OVER (ORDER BY t) - 1 AS k, count(*) OVER () AS n FROM ts)
SELECT t, now() - interval '366 days' + k * (interval '365 days' / n) AS n FROM r;
CREATE UNIQUE INDEX ON tmap (t);
ANALYZE tmap;
UPDATE villageplan.edit_history h SET at = m.n FROM tmap m WHERE h.at = m.t;
UPDATE villageplan.edit_batch b SET at = m.n, last_at = m.n FROM tmap m WHERE b.at = m.t;
UPDATE villageplan.feature_versions v
   SET valid_from = coalesce((SELECT n FROM tmap WHERE t = v.valid_from), v.valid_from),
       valid_to = (SELECT n FROM tmap WHERE t = v.valid_to);
UPDATE villageplan.changesets c SET created = h.at, published_at = h.at
  FROM (SELECT changeset_id, min(at) AS at FROM villageplan.edit_history WHERE changeset_id IS NOT NULL GROUP BY changeset_id) h
 WHERE h.changeset_id = c.id;
DROP TABLE tmap`

// BenchmarkChangesYear: a year of edits — VILLAGEPLAN_BENCH_CHANGESETS
// changesets (default 10,000; yearOfEditsSQL) on several layers, then the
// history spread over the past year (backdateSQL) — and then
// GET /collections/{id}/changes?from=…&to=… over HTTP: homesteads over one
// month (days 150–180 of the year) and over the whole year, streetlights
// over the whole year. Each iteration makes the three requests; it reports
// the median and the maximum of each in ms and the features listed
// (issue 13: ≤ 1 s). Reproduce with
//
//	go test -run '^$' -bench ChangesYear -benchtime 5x ./internal/httpapi/
func BenchmarkChangesYear(b *testing.B) {
	ctx := context.Background()
	pool := benchSample(b)
	n := 10000
	if s := os.Getenv("VILLAGEPLAN_BENCH_CHANGESETS"); s != "" {
		fmt.Sscan(s, &n)
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, strings.Replace(yearOfEditsSQL, "{{N}}", strconv.Itoa(n), 1), pgx.QueryExecModeSimpleProtocol); err != nil {
		b.Fatal(err)
	}
	gen := time.Since(start)
	if _, err := pool.Exec(ctx, backdateSQL, pgx.QueryExecModeSimpleProtocol); err != nil {
		b.Fatal(err)
	}
	for _, t := range []string{"edit_history", "edit_batch", "feature_versions", "changesets", "homesteads", "streetlights"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE villageplan."+t); err != nil {
			b.Fatal(err)
		}
	}
	var changesets, versions int64
	var first, last time.Time
	pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.changesets WHERE author = 'bench-year'),
		(SELECT count(*) FROM villageplan.feature_versions), (SELECT min(at) FROM villageplan.edit_batch), (SELECT max(at) FROM villageplan.edit_history)`).
		Scan(&changesets, &versions, &first, &last)
	b.Logf("%d changesets in %s (%d feature versions), history from %s to %s", changesets, gen.Round(time.Second), versions, first, last)
	srv := httpapi.New(httpapi.Options{Pool: pool, Authenticator: editUsers})
	ts := httptest.NewServer(srv)
	defer func() { ts.Close(); srv.Close() }()
	day := func(d int) string {
		return url.QueryEscape(first.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339Nano))
	}
	cases := []struct{ name, u string }{
		{"homesteads_month", ts.URL + "/collections/homesteads/changes?from=" + day(150) + "&to=" + day(180)},
		{"homesteads_year", ts.URL + "/collections/homesteads/changes?from=" + url.QueryEscape(first.Add(time.Hour).Format(time.RFC3339Nano))},
		{"streetlights_year", ts.URL + "/collections/streetlights/changes?from=" + url.QueryEscape(first.Add(time.Hour).Format(time.RFC3339Nano))},
	}
	client := &http.Client{}
	get := func(b *testing.B, u string) int {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer analyst")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct {
			N int `json:"numberReturned"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
		}
		return m.N
	}
	counts := make([]int, len(cases))
	for i, c := range cases {
		counts[i] = get(b, c.u) // warm
	}
	b.Run("http", func(b *testing.B) {
		lat := make([][]time.Duration, len(cases))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j, c := range cases {
				t0 := time.Now()
				get(b, c.u)
				lat[j] = append(lat[j], time.Since(t0))
			}
		}
		b.StopTimer()
		for j, c := range cases {
			b.ReportMetric(quantile(lat[j], 0.5), c.name+"_p50_ms")
			b.ReportMetric(quantile(lat[j], 1), c.name+"_max_ms")
			b.ReportMetric(float64(counts[j]), c.name+"_features")
		}
		b.ReportMetric(float64(changesets), "changesets")
	})
}
