package projects_test

import (
	"context"
	"testing"
	"time"

	"villageplan/data/sample"
	"villageplan/internal/auth"
	"villageplan/internal/projects"
	"villageplan/internal/testpg"
)

// The sample projects load on the sample township through the Service:
// every village has approved projects in several phases, the ledger and
// Summary see them, the first village has a draft and a filed one, and a
// second load adds nothing.
func TestLoadSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample township")
	}
	pool := testpg.New(t)
	ctx := context.Background()
	if _, err := sample.Load(ctx, pool, sample.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, projects.China)
	n, err := projects.LoadSamples(ctx, pool, now)
	if err != nil {
		t.Fatal(err)
	}
	var villages int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.villages`).Scan(&villages); err != nil {
		t.Fatal(err)
	}
	if villages == 0 || n != villages*6+2 {
		t.Fatalf("%d sample projects for %d villages, want 6 each and 2 more", n, villages)
	}
	if again, err := projects.LoadSamples(ctx, pool, now); err != nil || again != 0 {
		t.Fatalf("second load = %d, %v", again, err)
	}
	svc := projects.NewService(pool, projects.Config{Now: func() time.Time { return now }})
	sums, err := svc.Summary(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	phases := [4]int{}
	for _, s := range sums {
		if s.Planned+s.Started+s.Operating+s.Completed != 5 || s.BudgetYuan != 860000+180000+260000+96000+150000 {
			t.Errorf("village %s: %+v", s.Village, s)
		}
		phases[0] += s.Planned
		phases[1] += s.Started
		phases[2] += s.Operating
		phases[3] += s.Completed
	}
	for i, c := range phases {
		if c == 0 {
			t.Errorf("no sample project in phase %s: %v", projects.Phases[i], phases)
		}
	}
	approver := auth.WithPrincipal(ctx, &auth.Principal{Username: "a", Grants: []auth.Grant{{Role: auth.TownshipApprover}}})
	for _, st := range []projects.Status{projects.Draft, projects.Filed} {
		res, err := svc.List(approver, projects.Filter{Status: st})
		if err != nil || res.Total != 1 {
			t.Fatalf("%s sample projects: %v, %v", st, res, err)
		}
	}
	var photos, nogeom int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM villageplan.project_photos),
		(SELECT count(*) FROM villageplan.construction_projects WHERE geom IS NULL OR NOT is_sample)`).Scan(&photos, &nogeom); err != nil {
		t.Fatal(err)
	}
	if photos == 0 || nogeom != 0 {
		t.Fatalf("%d photos, %d projects without geometry or sample flag", photos, nogeom)
	}
}
