package tiles_test

import (
	"context"
	"testing"

	"villageplan/layers"
	"villageplan/tiles"
)

// BenchmarkTile renders homestead tiles of the sample township in process
// (no HTTP, no network between client and server): uncached z16 and z14
// tiles (cache off) and cached z16 tiles. The county-scale figures of
// issue 5, through HTTP and against pgbench, come from
// tiles/tilebench/run.sh.
//
//	go test ./tiles/ -run '^$' -bench Tile -benchtime 5s
func BenchmarkTile(b *testing.B) {
	pool := township(b)
	lon, lat := homesteadSpot(b, pool)
	around := func(z int) []tiles.Address {
		c := tileAt(lon, lat, z)
		var out []tiles.Address
		for dx := -2; dx <= 2; dx++ {
			for dy := -2; dy <= 2; dy++ {
				out = append(out, tiles.Address{Z: z, X: c.X + dx, Y: c.Y + dy})
			}
		}
		return out
	}
	uncached := newService(b, pool, layers.Default(), tiles.Options{CacheBytes: -1})
	cached := newService(b, pool, layers.Default(), tiles.Options{})
	b.Run("uncached/homesteads/z16", func(b *testing.B) { benchTiles(b, uncached, "homesteads", around(16)) })
	b.Run("uncached/homesteads/z14", func(b *testing.B) { benchTiles(b, uncached, "homesteads", around(14)) })
	b.Run("uncached/map/z14", func(b *testing.B) { benchTiles(b, uncached, tiles.MapTileset, around(14)) })
	b.Run("cached/homesteads/z16", func(b *testing.B) { benchTiles(b, cached, "homesteads", around(16)) })
}

func benchTiles(b *testing.B, s *tiles.Service, tileset string, addrs []tiles.Address) {
	ts, _ := s.Tileset(tileset)
	ctx := context.Background()
	bytes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tile, err := s.Tile(ctx, ts, addrs[i%len(addrs)], tiles.Filter{}, "")
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(tile.Gzip())
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "gzip-B/tile")
}
