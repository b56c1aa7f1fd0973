package applications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

// BenchmarkDesk20k measures, with 20,000 applications (the sample
// township's twelve samples copied in SQL with fresh ids and ID numbers;
// the county-scale sample has no sample applications): the desk list
// (filters and searches, counts, days left; list_*) and, as its ceiling,
// the same statements alone (list_sql_*); an update that moves the site
// and so re-runs and stores the siting check (recheck_*); a transition
// (withdraw; transition_*); and the ledger rows of a year (JSON,
// ledger_year_ms). make bench-desk records the figures. Run:
// go test -run '^$' -bench Desk20k -benchtime 200x ./internal/applications/
func BenchmarkDesk20k(b *testing.B) {
	pool := testpg.New(b)
	ctx := context.Background()
	if _, err := sample.Load(ctx, pool, sample.Options{}, nil); err != nil {
		b.Fatal(err)
	}
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		b.Fatal(err)
	}
	sit := siting.NewService(pool, rs)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, applications.China)
	if _, err := applications.LoadSamples(ctx, pool, sit, now); err != nil {
		b.Fatal(err)
	}
	// Copies of the samples: the household ids get a suffix so that no
	// two copies share a household; states and steps are kept.
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.applications (village_code, township_code, state, version, form, applicant_name,
			household_ids, address, site, site_area_m2, check_id, check_verdict, steps, accepted_on, approval_number, approved_on,
			step_started_on, due_on, created_at, created_by, is_sample)
		SELECT a.village_code, a.township_code, a.state, a.version, a.form, a.applicant_name || '-' || g,
			ARRAY(SELECT x || '-' || g FROM unnest(a.household_ids) x), a.address || '-' || g, a.site, a.site_area_m2, a.check_id,
			a.check_verdict, a.steps, a.accepted_on, CASE WHEN a.approval_number IS NULL THEN NULL ELSE a.approval_number || '-' || g END,
			a.approved_on, a.step_started_on, a.due_on, a.created_at - make_interval(days => g % 300), a.created_by, true
		FROM villageplan.applications a, generate_series(1, 20000 / (SELECT count(*) FROM villageplan.applications)::int) g`); err != nil {
		b.Fatal(err)
	}
	// What autovacuum does after a bulk load: statistics and the
	// visibility map (index-only scans for the counts).
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE villageplan.applications`); err != nil {
		b.Fatal(err)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.applications`).Scan(&n)
	windowP := &auth.Principal{UserID: 1, Username: "bench", Grants: []auth.Grant{{Role: auth.TownshipWindow}}}
	window := auth.WithPrincipal(ctx, windowP)
	clerk := auth.WithPrincipal(ctx, &auth.Principal{UserID: 2, Username: "bench-clerk", Grants: []auth.Grant{{Role: auth.VillageClerk}}})
	svc := applications.NewService(pool, sit, applications.Config{Now: func() time.Time { return now }})
	var idNumber string
	if err := pool.QueryRow(ctx, `SELECT household_ids[1] FROM villageplan.applications ORDER BY id DESC LIMIT 1`).Scan(&idNumber); err != nil {
		b.Fatal(err)
	}
	filters := []applications.Filter{
		{}, {State: applications.Submitted}, {Village: "220112203301", Year: 2026}, {Search: "示例户主3"}, {Search: "示例地址 7 号-15"},
		{Search: "示例"}, {Search: idNumber}, {Search: "220112203300JC00001"}, {State: applications.Decision, Year: 2026, Search: "户主1"},
	}
	p95 := func(name string, ds []time.Duration) {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, name+"_p95_ms")
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, name+"_p50_ms")
	}
	b.ResetTimer()
	var list []time.Duration
	per := make([][]time.Duration, len(filters))
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res, err := svc.List(window, filters[i%len(filters)])
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		list = append(list, d)
		per[i%len(filters)] = append(per[i%len(filters)], d)
		if i == 0 && res.Total != n {
			b.Fatalf("list total %d, want %d", res.Total, n)
		}
	}
	b.StopTimer()
	p95("list", list)
	// The ceiling: the same statements alone (parcels lookup, counts,
	// page) in a read-only transaction, without the calendar, the Go
	// side and the audit row.
	var sqlOnly []time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		tx, err := pool.Begin(ctx)
		if err != nil {
			b.Fatal(err)
		}
		cs, ca, is, ia, err := applications.ListSQL(ctx, tx, windowP, filters[i%len(filters)])
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{cs, ca}, {is, ia}} {
			rows, err := tx.Query(ctx, q.sql, q.args...)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			rows.Close()
		}
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		sqlOnly = append(sqlOnly, time.Since(t0))
	}
	p95("list_sql", sqlOnly)
	for k, ds := range per {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		if len(ds) > 0 {
			b.Logf("filter %+v: median %s", filters[k], ds[len(ds)/2].Round(100*time.Microsecond))
		}
	}
	// Re-checks: the original sample in 申请 gets its site moved by half a
	// metre and back, alternately; each update runs the siting check and
	// stores it with the application in one transaction.
	var editable int64
	if err := pool.QueryRow(ctx, `SELECT min(id) FROM villageplan.applications WHERE state = 'submitted'`).Scan(&editable); err != nil {
		b.Fatal(err)
	}
	sites := make([]string, 2)
	for k, dx := range []float64{0.5, 0} {
		if err := pool.QueryRow(ctx, `SELECT ST_AsGeoJSON(ST_Translate(ST_Transform(site, 4551), $2, 0), 3) FROM villageplan.applications WHERE id = $1`,
			editable, dx).Scan(&sites[k]); err != nil {
			b.Fatal(err)
		}
	}
	var rc []time.Duration
	for i := 0; i < 100; i++ {
		a, err := svc.Get(clerk, editable)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := svc.Update(clerk, editable, a.Version, a.Form, &applications.SiteInput{GeoJSON: json.RawMessage(sites[i%2]), CRS: "EPSG:4551"}); err != nil {
			b.Fatal(err)
		}
		rc = append(rc, time.Since(t0))
	}
	p95("recheck", rc)
	// Transitions: withdraw copies in 申请 (one transaction each, with the
	// household rules not involved).
	ids := []int64{}
	rows, err := pool.Query(ctx, `SELECT id FROM villageplan.applications WHERE state = 'submitted' AND id <> $1 ORDER BY id LIMIT 200`, editable)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var tr []time.Duration
	for _, id := range ids {
		a, err := svc.Get(clerk, id)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := svc.Transition(clerk, id, a.Version, applications.TransitionRequest{Action: applications.Withdraw, Note: "bench"}); err != nil {
			b.Fatal(err)
		}
		tr = append(tr, time.Since(t0))
	}
	p95("transition", tr)
	t0 := time.Now()
	led, err := svc.Ledger(window, applications.LedgerFilter{Year: 2026})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "ledger_year_ms")
	b.ReportMetric(float64(len(led)), "ledger_rows")
	b.Log(fmt.Sprintf("%d applications", n))
}
