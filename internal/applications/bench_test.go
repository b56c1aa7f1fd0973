package applications_test

import (
	"context"
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

// BenchmarkDesk20k measures the desk list (filters, counts, days left), a
// transition and the ledger of a year with 20,000 applications: the
// sample township's twelve samples copied in SQL with fresh ids and ID
// numbers. Run: go test -run '^$' -bench Desk20k -benchtime 200x ./internal/applications/
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
	if _, err := pool.Exec(ctx, `ANALYZE villageplan.applications`); err != nil {
		b.Fatal(err)
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.applications`).Scan(&n)
	window := auth.WithPrincipal(ctx, &auth.Principal{UserID: 1, Username: "bench", Grants: []auth.Grant{{Role: auth.TownshipWindow}}})
	svc := applications.NewService(pool, sit, applications.Config{Now: func() time.Time { return now }})
	filters := []applications.Filter{
		{}, {State: applications.Submitted}, {Village: "220112203301", Year: 2026}, {Search: "示例户主3"}, {Search: "示例地址 7 号-15"},
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
	for k, ds := range per {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		if len(ds) > 0 {
			b.Logf("filter %+v: median %s", filters[k], ds[len(ds)/2].Round(100*time.Microsecond))
		}
	}
	// Transitions: withdraw copies in 申请 (one transaction each, with the
	// household rules not involved), then publicize others.
	ids := []int64{}
	rows, err := pool.Query(ctx, `SELECT id FROM villageplan.applications WHERE state = 'submitted' ORDER BY id LIMIT 200`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	clerk := auth.WithPrincipal(ctx, &auth.Principal{UserID: 2, Username: "bench-clerk", Grants: []auth.Grant{{Role: auth.VillageClerk}}})
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
