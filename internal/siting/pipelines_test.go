package siting_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"villageplan/data/sample"
	"villageplan/internal/siting"
	"villageplan/internal/testpg"
)

// pipeFixture adds to the fixture two water-supply pipes:
//   - 配水管 "大营村配水管1", DN110, y = 200, x 0…2000 (range 2 m placeholder)
//   - 输水管 "水厂—大营输水管", DN200, x = 1800, y 0…600 (range 5 m placeholder)
func pipeFixture(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := fixture(t, true)
	for _, s := range []string{
		`INSERT INTO villageplan.water_pipelines (name, kind, diameter_mm, geom) VALUES ('大营村配水管1', '配水管', 110, ` + line(0, 200, 2000, 200) + `)`,
		`INSERT INTO villageplan.water_pipelines (name, kind, diameter_mm, geom) VALUES ('水厂—大营输水管', '输水管', 200, ` + line(1800, 0, 1800, 600) + `)`,
	} {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return pool
}

func TestWaterPipelineRange(t *testing.T) {
	svc := service(t, pipeFixture(t))
	in := siting.Input{HouseholdID: "H-NEW"}

	// Straight across the 配水管: distance 0, BLOCK, the pipe named, the
	// placeholder range and the legal basis on the result.
	res := check(t, svc, square(300, 195, 310, 205), in)
	r := rule(t, res, "water_pipeline")
	if r.Outcome != siting.Block || r.Measured == nil || *r.Measured != 0 || r.Unit != "m" || r.Threshold == nil || *r.Threshold != 2 {
		t.Fatalf("across the 配水管: %+v, want BLOCK at 0 m with the 2 m range", r)
	}
	if len(r.Features) != 1 || r.Features[0].Str("name") != "大营村配水管1" || r.Features[0].Str("kind") != "配水管" {
		t.Errorf("pipe not named: %+v", r.Features)
	}
	if !strings.Contains(r.MessageZH, "大营村配水管1") || !strings.Contains(r.MessageEN, "distribution pipe") {
		t.Errorf("messages %q / %q", r.MessageZH, r.MessageEN)
	}
	if !r.Placeholder || !strings.Contains(r.PlaceholderNote, "配水管") || !res.Placeholders {
		t.Errorf("the range is a placeholder and must say so: %+v", r)
	}
	if !strings.Contains(r.LegalBasis, "城市供水条例") || !strings.Contains(r.LegalBasis, "第二十九条") {
		t.Errorf("legal basis %q", r.LegalBasis)
	}
	if res.Verdict != siting.Block {
		t.Errorf("verdict %s, want BLOCK", res.Verdict)
	}

	// Distances from the pipe wall: the centreline is at y = 200, the wall
	// 0.055 m (DN110 / 2) above it. Inside is "less than the range", as
	// for power lines, so exactly 2.00 m is outside.
	wall := 200 + 0.055
	for _, c := range []struct {
		gap  float64
		want siting.Outcome
	}{{1.99, siting.Block}, {2.00, siting.Pass}, {2.01, siting.Pass}} {
		res := check(t, svc, square(300, wall+c.gap, 310, wall+c.gap+10), in)
		r := rule(t, res, "water_pipeline")
		if r.Outcome != c.want || r.Measured == nil || !near(*r.Measured, c.gap, 0.001) || *r.Threshold != 2 || !r.Placeholder {
			t.Errorf("%.2f m from the 配水管 wall: %+v, want %s at %.2f m", c.gap, r, c.want, c.gap)
		}
		if len(r.Features) != 1 || r.Features[0].Str("name") != "大营村配水管1" {
			t.Errorf("%.2f m: features %+v", c.gap, r.Features)
		}
	}

	// The 输水管 has its own range (5 m); the wall is 0.1 m (DN200 / 2)
	// east of x = 1800.
	for _, c := range []struct {
		gap  float64
		want siting.Outcome
	}{{4.5, siting.Block}, {5.5, siting.Pass}} {
		x0 := 1800 + 0.1 + c.gap
		res := check(t, svc, square(x0, 400, x0+10, 410), in)
		r := rule(t, res, "water_pipeline")
		if r.Outcome != c.want || !near(*r.Measured, c.gap, 0.001) || *r.Threshold != 5 || !strings.Contains(r.PlaceholderNote, "输水管") {
			t.Errorf("%.1f m from the 输水管 wall: %+v, want %s", c.gap, r, c.want)
		}
	}

	// Across the 配水管 and 2 m from the 输水管: both pipes named, the
	// measurement is the one deepest inside its range (the 输水管, 3 m in).
	res = check(t, svc, square(1790, 195, 1797.9, 205), in)
	r = rule(t, res, "water_pipeline")
	if r.Outcome != siting.Block || !near(*r.Measured, 2, 0.001) || *r.Threshold != 5 || len(r.Features) != 2 {
		t.Errorf("between two pipes: %+v, want BLOCK 2.00 m of 5 m naming both pipes", r)
	}

	// No pipe within the search radius: PASS without a placeholder.
	res = check(t, svc, square(2500, 800, 2510, 810), in)
	if r := rule(t, res, "water_pipeline"); r.Outcome != siting.Pass || r.Measured != nil || r.Placeholder || len(r.Features) != 0 {
		t.Errorf("far from any pipe: %+v", r)
	}
}

// TestWaterPipelineNoCoverage: without coverage of water_pipelines at the
// site the rule is REVIEW (no data), even straight across a pipe, and the
// other rules still answer.
func TestWaterPipelineNoCoverage(t *testing.T) {
	pool := pipeFixture(t)
	if _, err := pool.Exec(context.Background(), `DELETE FROM villageplan.layer_coverage WHERE layer = 'water_pipelines'`); err != nil {
		t.Fatal(err)
	}
	svc := service(t, pool)
	res := check(t, svc, square(300, 195, 310, 205), siting.Input{HouseholdID: "H-NEW"})
	r := rule(t, res, "water_pipeline")
	if r.Outcome != siting.Review || !r.NoData || !strings.Contains(r.MessageZH, "无数据") || !strings.Contains(r.MessageEN, "water_pipelines") {
		t.Errorf("no coverage: %+v, want REVIEW no data naming water_pipelines", r)
	}
	if p := rule(t, res, "power_line"); p.NoData || p.Outcome != siting.Pass {
		t.Errorf("power_line without pipe coverage = %+v", p)
	}
}

// TestWaterPipelineOnSampleTownship draws the site on the sample
// township: a 20 m × 3.8 m strip straight across a 配水管 in a village lane,
// between the homesteads and away from roads, power lines and farmland,
// for a household with no homestead. Before the pipe rule it passed every
// rule; now the pipe rule blocks it, names the pipe, and is the only rule
// that does not pass.
func TestWaterPipelineOnSampleTownship(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	// A point on a 配水管 (they run east–west) whose ±10 m stretch keeps
	// 1.95 m from every homestead and well away from the other features.
	var name string
	var x, y float64
	if err := pool.QueryRow(ctx, `WITH pts AS (
		SELECT w.id, w.name, f, ST_LineInterpolatePoint(ST_GeometryN(ST_Transform(w.geom, 4551), 1), f) p
		FROM villageplan.water_pipelines w, generate_series(0.1, 0.9, 0.05) f WHERE w.kind = '配水管'
	), seg AS (
		SELECT id, name, f, p, ST_MakeLine(ST_Translate(p, -10, 0), ST_Translate(p, 10, 0)) s FROM pts
	)
	SELECT name, ST_X(p), ST_Y(p) FROM seg
	WHERE NOT EXISTS (SELECT 1 FROM villageplan.homesteads h WHERE ST_DWithin(ST_Transform(h.geom, 4551), s, 1.95))
	  AND NOT EXISTS (SELECT 1 FROM villageplan.roads r WHERE ST_DWithin(ST_Transform(r.geom, 4551), s, 25))
	  AND NOT EXISTS (SELECT 1 FROM villageplan.power_lines r WHERE ST_DWithin(ST_Transform(r.geom, 4551), s, 25))
	  AND NOT EXISTS (SELECT 1 FROM villageplan.permanent_farmland r WHERE ST_DWithin(ST_Transform(r.geom, 4551), s, 10))
	  AND NOT EXISTS (SELECT 1 FROM villageplan.water_pipelines r WHERE r.kind = '输水管' AND ST_DWithin(ST_Transform(r.geom, 4551), s, 10))
	ORDER BY id, f LIMIT 1`).Scan(&name, &x, &y); err != nil {
		t.Fatalf("no lane site on a sample 配水管: %v", err)
	}
	r := orb.Ring{{x - 10, y - 1.9}, {x + 10, y - 1.9}, {x + 10, y + 1.9}, {x - 10, y + 1.9}, {x - 10, y - 1.9}}
	res := check(t, service(t, pool), siting.Site{Geometry: orb.MultiPolygon{{r}}, SRID: 4551, Format: "geojson"}, siting.Input{HouseholdID: "H-SAMPLE-NEW"})
	pr := rule(t, res, "water_pipeline")
	if pr.Outcome != siting.Block || pr.Measured == nil || *pr.Measured != 0 || !pr.Placeholder {
		t.Fatalf("across the sample's 配水管 %s: %+v", name, pr)
	}
	if len(pr.Features) != 1 || pr.Features[0].Str("name") != name {
		t.Errorf("pipe %s not named: %+v", name, pr.Features)
	}
	if res.Verdict != siting.Block {
		t.Errorf("verdict %s, want BLOCK", res.Verdict)
	}
	for _, o := range res.Rules {
		if o.Code != "water_pipeline" && o.Outcome != siting.Pass {
			t.Errorf("lane site across %s: rule %s = %s %s, want PASS", name, o.Code, o.Outcome, o.MessageZH)
		}
	}
}
