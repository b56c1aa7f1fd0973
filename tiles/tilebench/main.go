// Command tilebench measures the vector-tile service on the county-scale
// sample (data/sample, scale "county": ≥ 200 000 homesteads, ≥ 500 000
// land-use polygons). See tiles/tilebench/run.sh for the whole procedure.
//
//	tilebench setup   -dir DIR                 persistent cluster + county sample, prints the database URL
//	tilebench list    -db URL -tileset T -z Z  tiles of T at zoom Z that hold data, "z/x/y" per line
//	tilebench pgbench -db URL -tileset T -z Z -list FILE -out DIR
//	                                           pgbench script running the service's tile SQL over FILE
//	tilebench serve   -db URL -addr ADDR       the HTTP API (internal/httpapi) on that database
//	tilebench explain -db URL -tileset T -tile z/x/y
//
// The cluster under DIR survives between runs, so the county sample
// (about a minute to generate) is loaded once.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/data/sample"
	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/pgcluster"
	"villageplan/layers"
	"villageplan/tiles"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tilebench setup|list|pgbench|serve|explain [flags]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", "/var/tmp/villageplan-tilebench", "cluster directory (setup)")
	dbURL := fs.String("db", os.Getenv("DATABASE_URL"), "database URL")
	tileset := fs.String("tileset", "homesteads", "tileset id")
	z := fs.Int("z", 16, "zoom")
	n := fs.Int("n", 0, "at most n tiles (0: all), chosen deterministically")
	list := fs.String("list", "", "tile list file")
	out := fs.String("out", ".", "output directory")
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	tile := fs.String("tile", "", "tile z/x/y")
	scale := fs.String("scale", sample.ScaleCounty, "sample scale")
	proposed := fs.Bool("proposed-catalog", false, "serve: carry land-use and farmland attributes other than dlbm/dlmc only from z15 (the TileMinZoom values proposed for layers/)")
	poolSize := fs.Int("pool", 0, "connection pool size (serve; 0: pgxpool's default, max(4, CPUs), as villageplan serve)")
	_ = fs.Parse(args)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "setup":
		err = setup(ctx, *dir, *scale, logger)
	case "list":
		err = listTiles(ctx, *dbURL, *tileset, *z, *n)
	case "pgbench":
		err = pgbenchScript(*tileset, *z, *list, *out)
	case "serve":
		err = serve(ctx, *dbURL, *addr, int32(*poolSize), *proposed, logger)
	case "explain":
		err = explain(ctx, *dbURL, *tileset, *tile)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tilebench:", err)
		os.Exit(1)
	}
}

func setup(ctx context.Context, dir, scale string, logger *slog.Logger) error {
	c, err := pgcluster.New(pgcluster.Options{Dir: dir, Logger: logger})
	if err != nil {
		return err
	}
	if err := c.Init(ctx); err != nil {
		return err
	}
	if _, err := c.Start(ctx); err != nil {
		return err
	}
	name := "villageplan_" + scale
	if err := c.EnsureDatabase(ctx, name); err != nil {
		return err
	}
	pool, err := db.Open(ctx, c.URL(name), 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	start := time.Now()
	loaded, counts, err := sample.LoadIfEmpty(ctx, pool, sample.Options{Seed: 1, Scale: scale}, logger)
	if err != nil {
		return err
	}
	if loaded {
		fmt.Fprintf(os.Stderr, "loaded %s sample in %s: %v\n", scale, time.Since(start).Round(time.Second), counts)
		for _, l := range layers.Default().Layers() {
			if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+l.QualifiedTable()); err != nil {
				return err
			}
		}
	}
	fmt.Println(c.URL(name))
	return nil
}

func openPool(ctx context.Context, url string, n int32) (*pgxpool.Pool, error) {
	return db.Open(ctx, url, n)
}

// listTiles prints the tiles at zoom z that hold at least one feature of
// the tileset's layers visible at z (distinct tiles of the features'
// bounding-box centres, which covers every populated tile of small
// features such as parcels; for large polygons it lists the tiles of their
// centres).
func listTiles(ctx context.Context, url, tileset string, z, n int) error {
	pool, err := openPool(ctx, url, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := tiles.New(tiles.Options{Pool: nil})
	ts, ok := svc.Tileset(tileset)
	if !ok {
		return fmt.Errorf("unknown tileset %q", tileset)
	}
	var parts []string
	for _, l := range ts.LayersAt(z) {
		parts = append(parts, "SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_Centroid(Box2D(geom_3857)) AS c FROM "+l.QualifiedTable()+") s")
	}
	if len(parts) == 0 {
		return fmt.Errorf("no layer of %s is visible at zoom %d", tileset, z)
	}
	// Tile column and row from EPSG:3857 metres.
	q := fmt.Sprintf(`WITH p AS (%s),
t AS (SELECT DISTINCT floor((x + 20037508.342789244) / (40075016.68557849 / 2^%[2]d))::int AS tx,
                      floor((20037508.342789244 - y) / (40075016.68557849 / 2^%[2]d))::int AS ty FROM p)
SELECT tx, ty FROM t ORDER BY md5(tx || '/' || ty) %[3]s`, strings.Join(parts, " UNION ALL "), z, limit(n))
	rows, err := pool.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var x, y int
		if err := rows.Scan(&x, &y); err != nil {
			return err
		}
		fmt.Printf("%d/%d/%d\n", z, x, y)
	}
	return rows.Err()
}

func limit(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("LIMIT %d", n)
}

var paramRE = regexp.MustCompile(`\$(\d+)::`)

// pgbenchScript writes DIR/tiles.sql (a table of the listed tiles) and
// DIR/bench.sql, a pgbench script that picks a random listed tile and runs
// the service's statement for it with pgbench variables as parameters
// (use pgbench -M prepared, as the service runs prepared statements).
func pgbenchScript(tileset string, z int, listFile, outDir string) error {
	svc := tiles.New(tiles.Options{})
	ts, ok := svc.Tileset(tileset)
	if !ok {
		return fmt.Errorf("unknown tileset %q", tileset)
	}
	b, err := os.ReadFile(listFile)
	if err != nil {
		return err
	}
	var rows []string
	for i, line := range strings.Fields(string(b)) {
		var tz, tx, ty int
		if _, err := fmt.Sscanf(line, "%d/%d/%d", &tz, &tx, &ty); err != nil || tz != z {
			return fmt.Errorf("%s: bad line %q for zoom %d", listFile, line, z)
		}
		rows = append(rows, fmt.Sprintf("(%d,%d,%d)", i+1, tx, ty))
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s is empty", listFile)
	}
	setupSQL := "DROP TABLE IF EXISTS public.tilebench_list;\nCREATE TABLE public.tilebench_list (id int PRIMARY KEY, x int, y int);\nINSERT INTO public.tilebench_list VALUES\n" +
		strings.Join(rows, ",\n") + ";\nANALYZE public.tilebench_list;\n"
	sql, names, args := ts.SQL(tiles.Address{Z: z})
	var script strings.Builder
	fmt.Fprintf(&script, "\\set i random(1, %d)\nSELECT x, y FROM public.tilebench_list WHERE id = :i \\gset\n", len(rows))
	vars := make([]string, len(names)) // pgbench variable names: letters, digits, _
	for i, name := range names {
		vars[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, name)
		switch name {
		case "x", "y":
		default:
			fmt.Fprintf(&script, "\\set %s %v\n", vars[i], args[i])
		}
	}
	body := paramRE.ReplaceAllStringFunc(sql, func(m string) string {
		var k int
		fmt.Sscanf(m, "$%d::", &k)
		return ":" + vars[k-1] + "::"
	})
	script.WriteString("SELECT length(mvt) FROM (" + strings.ReplaceAll(body, "\n", " ") + ") tile;\n")
	if err := os.WriteFile(filepath.Join(outDir, "tiles.sql"), []byte(setupSQL), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "bench.sql"), []byte(script.String()), 0o644)
}

func serve(ctx context.Context, url, addr string, poolSize int32, proposed bool, logger *slog.Logger) error {
	pool, err := openPool(ctx, url, poolSize)
	if err != nil {
		return err
	}
	defer pool.Close()
	cat := layers.Default()
	if proposed {
		if cat, err = proposedCatalog(); err != nil {
			return err
		}
	}
	var cacheBytes int64
	if v := os.Getenv("VILLAGEPLAN_TILE_CACHE_BYTES"); v != "" {
		if cacheBytes, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("VILLAGEPLAN_TILE_CACHE_BYTES: %w", err)
		}
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Catalog: cat, Logger: logger, TileCacheBytes: cacheBytes})
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	// CPU profiles of the benchmark server: go tool pprof http://ADDR/debug/pprof/profile?seconds=10
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "serving on http://%s (pool %d connections)\n", addr, pool.Config().MaxConns)
	if err := hs.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func explain(ctx context.Context, url, tileset, tile string) error {
	pool, err := openPool(ctx, url, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := tiles.New(tiles.Options{})
	ts, ok := svc.Tileset(tileset)
	if !ok {
		return fmt.Errorf("unknown tileset %q", tileset)
	}
	p := strings.Split(tile, "/")
	if len(p) != 3 {
		return fmt.Errorf("-tile wants z/x/y")
	}
	a, err := tiles.ParseAddress(p[0], p[1], p[2])
	if err != nil {
		return err
	}
	sql, _, args := ts.SQL(a)
	fmt.Println(sql)
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		fmt.Println(line)
	}
	return rows.Err()
}

// proposedCatalog is the default catalog with the TileMinZoom values
// proposed for the two densest layers: below z15 their tiles carry only
// the class code and name (dlbm, dlmc) that the style colours by; the other
// attributes (parcel numbers, areas, dates) come from z15, where a parcel
// is large enough to click.
func proposedCatalog() (*layers.Catalog, error) {
	var out []*layers.Layer
	for _, l := range layers.Default().Layers() {
		c := *l
		c.Fields = append([]layers.Field(nil), l.Fields...)
		if l.ID == "land_use" || l.ID == "permanent_farmland" {
			for i := range c.Fields {
				if n := c.Fields[i].Name; n != "dlbm" && n != "dlmc" && c.Fields[i].TileMinZoom == 0 {
					c.Fields[i].TileMinZoom = 15
				}
			}
		}
		out = append(out, &c)
	}
	return layers.NewCatalog(out)
}
