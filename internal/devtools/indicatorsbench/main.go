// Command indicatorsbench computes every indicator on a database (the
// county sample) and prints the time of each and of the whole report,
// cold (cache emptied first) and then cached, as one JSON object:
//
//	go run ./internal/devtools/indicatorsbench -database-url URL
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"villageplan/internal/db"
	"villageplan/internal/indicators"
	"villageplan/internal/siting"
	"villageplan/layers"
)

func main() {
	url := flag.String("database-url", os.Getenv("DATABASE_URL"), "PostGIS database URL")
	village := flag.String("village", "", "also time Village for this code, cold")
	printSQL := flag.Bool("print-lighting-sql", false, "print the main-road parts SQL (for EXPLAIN) and exit")
	flag.Parse()
	ctx := context.Background()
	if *printSQL {
		rs, _ := siting.DefaultRuleSet()
		l := indicators.NewLighting(layers.Default(), rs.Rules["village_construction_boundary"].ZoneKinds)
		fmt.Println("WITH " + l.MainRoadPartsSQL(func(l *layers.Layer) string { return l.QualifiedTable() }) + " SELECT class, count(*), sum(len) FROM measured GROUP BY 1")
		fmt.Fprintln(os.Stderr, l.Args()...)
		return
	}
	pool, err := db.Open(ctx, *url, 4)
	if err != nil {
		fail(err)
	}
	defer pool.Close()
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		fail(err)
	}
	cat := layers.Default()
	cfg := indicators.Config{Lighting: indicators.NewLighting(cat, rs.Rules["village_construction_boundary"].ZoneKinds),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	out := map[string]any{}
	if _, err := pool.Exec(ctx, `DELETE FROM villageplan.indicator_cache`); err != nil {
		fail(err)
	}
	if *village != "" {
		svc := indicators.NewService(pool, cat, cfg)
		t0 := time.Now()
		if _, err := svc.Village(ctx, *village, time.Time{}); err != nil {
			fail(err)
		}
		out["village_cold_ms"] = time.Since(t0).Milliseconds()
		if _, err := pool.Exec(ctx, `DELETE FROM villageplan.indicator_cache`); err != nil {
			fail(err)
		}
	}
	svc := indicators.NewService(pool, cat, cfg)
	t0 := time.Now()
	r, err := svc.Compute(ctx, time.Time{})
	if err != nil {
		fail(err)
	}
	out["cold_ms"] = time.Since(t0).Milliseconds()
	out["timings_ms"] = r.TimingsMS
	out["skipped"] = r.Skipped
	out["values"] = len(r.Values)
	t1 := time.Now()
	r2, err := svc.Compute(ctx, time.Time{})
	if err != nil {
		fail(err)
	}
	out["cached_ms"] = float64(time.Since(t1).Microseconds()) / 1000
	out["cached"] = r2.Cached
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "indicatorsbench:", err)
	os.Exit(1)
}
