package tiles_test

import (
	"context"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/data/sample"
	"villageplan/internal/testpg"
	"villageplan/layers"
	"villageplan/tiles"
	"villageplan/tiles/tiletest"
)

func TestMain(m *testing.M) { testpg.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

// township returns a pool on a fresh database holding the sample township
// (six villages around 125.76°E 43.60°N).
func township(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := testpg.New(t)
	start := time.Now()
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, quiet); err != nil {
		t.Fatal(err)
	}
	t.Logf("sample township loaded in %s", time.Since(start).Round(time.Millisecond))
	return pool
}

func newService(t testing.TB, pool *pgxpool.Pool, cat *layers.Catalog, opts tiles.Options) *tiles.Service {
	t.Helper()
	opts.Pool, opts.Catalog = pool, cat
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s := tiles.New(opts)
	t.Cleanup(s.Close)
	waitLive(t, s)
	return s
}

func waitLive(t testing.TB, s *tiles.Service) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Live() {
		if time.Now().After(deadline) {
			t.Fatal("change listener not live after 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tileAt returns the tile holding lon, lat (EPSG:4326/4490 degrees) at z.
func tileAt(lon, lat float64, z int) tiles.Address {
	n := math.Exp2(float64(z))
	r := lat * math.Pi / 180
	x := int((lon + 180) / 360 * n)
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return tiles.Address{Z: z, X: x, Y: y}
}

// get renders a tile through the service and decodes it strictly.
func get(t *testing.T, s *tiles.Service, tileset string, a tiles.Address) (*tiletest.Tile, *tiles.Tile) {
	t.Helper()
	ts, ok := s.Tileset(tileset)
	if !ok {
		t.Fatalf("no tileset %s", tileset)
	}
	tile, err := s.Tile(context.Background(), ts, a, tiles.Filter{}, "")
	if err != nil {
		t.Fatalf("tile %s/%s: %v", tileset, a, err)
	}
	if tile.Empty {
		return &tiletest.Tile{}, tile
	}
	if len(tile.Gzip()) > tiles.MaxTileBytes {
		t.Errorf("tile %s/%s is %d bytes compressed, over %d", tileset, a, len(tile.Gzip()), tiles.MaxTileBytes)
	}
	dec, err := tiletest.Decode(tile.Gzip())
	if err != nil {
		t.Fatalf("tile %s/%s does not decode: %v", tileset, a, err)
	}
	for _, l := range dec.Layers {
		if l.Version != 2 || l.Extent != tiles.Extent {
			t.Errorf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
	}
	return dec, tile
}

// checkValid asks PostGIS whether every decoded geometry (in tile
// coordinates) is valid, and fails with the reason if not.
func checkValid(t *testing.T, pool *pgxpool.Pool, dec *tiletest.Tile) int {
	t.Helper()
	var wkts []string
	var where []string
	for _, l := range dec.Layers {
		for i, f := range l.Features {
			if f.Type == tiletest.Polygon || f.Type == tiletest.LineString {
				wkts = append(wkts, f.WKT())
				where = append(where, l.Name+"#"+itoa(i))
			}
		}
	}
	if len(wkts) == 0 {
		return 0
	}
	rows, err := pool.Query(context.Background(),
		`SELECT o, ST_IsValidReason(ST_GeomFromText(w)) FROM unnest($1::text[]) WITH ORDINALITY AS u(w, o) WHERE NOT ST_IsValid(ST_GeomFromText(w))`, wkts)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			o      int64
			reason string
		)
		if err := rows.Scan(&o, &reason); err != nil {
			t.Fatal(err)
		}
		t.Errorf("decoded geometry %s is invalid: %s", where[o-1], reason)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return len(wkts)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// exec runs SQL statements on the pool.
func exec(t *testing.T, pool *pgxpool.Pool, sqls ...string) {
	t.Helper()
	for _, q := range sqls {
		if _, err := pool.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
