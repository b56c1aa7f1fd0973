package applications_test

import (
	"context"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

// The sample applications load on the sample township, one in each of
// SampleStates, through the desk's own transitions; a second load adds
// nothing; the first is overdue.
func TestLoadSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample township")
	}
	pool := testpg.New(t)
	ctx := context.Background()
	if _, err := sample.Load(ctx, pool, sample.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	sit := siting.NewService(pool, rs)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, applications.China)
	n, err := applications.LoadSamples(ctx, pool, sit, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(applications.SampleStates) {
		t.Fatalf("%d samples filed, want %d", n, len(applications.SampleStates))
	}
	if again, err := applications.LoadSamples(ctx, pool, sit, now); err != nil || again != 0 {
		t.Fatalf("second load = %d, %v", again, err)
	}
	window := auth.WithPrincipal(ctx, &auth.Principal{Username: "w", Grants: []auth.Grant{{Role: auth.TownshipWindow}}})
	svc := applications.NewService(pool, sit, applications.Config{Now: func() time.Time { return now }})
	res, err := svc.List(window, applications.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := map[applications.State]int{}
	for _, s := range applications.SampleStates {
		want[s]++
	}
	for _, s := range applications.States {
		if res.Counts[s] != want[s] {
			t.Errorf("%d samples in %s, want %d (counts %v)", res.Counts[s], s, want[s], res.Counts)
		}
	}
	for _, it := range res.Items {
		if !it.Sample {
			t.Errorf("application %d not marked as sample", it.ID)
		}
	}
	over, err := svc.Overdue(window)
	if err != nil || len(over) == 0 {
		t.Errorf("overdue = %v, %v; want the sample filed 30 days ago", over, err)
	}
	rows, err := svc.Ledger(window, applications.LedgerFilter{Year: 2026, State: applications.Registered})
	if err != nil || len(rows) != 1 || rows[0].ApprovalNumber == "" || rows[0].ZDDM == "" {
		t.Errorf("ledger of registered samples = %+v, %v", rows, err)
	}
}
