package pmtarchive_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/protomaps/go-pmtiles/pmtiles"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
	"villageplan/tiles"
	"villageplan/tiles/pmtarchive"
	"villageplan/tiles/tiletest"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// TestArchiveMatchesServer writes the map tileset and one layer's tileset of
// the sample township to PMTiles archives, opens them with go-pmtiles' own
// reader (its tile server over a file bucket) and compares tiles with what
// the HTTP server answers for the same z/x/y, byte for byte after gzip.
func TestArchiveMatchesServer(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	pool := testpg.New(t)
	if _, err := sample.Load(ctx, pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, quiet); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default(), Logger: quiet,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}))
	t.Cleanup(api.Close)

	svc := tiles.New(tiles.Options{Pool: pool, Catalog: layers.Default(), Logger: quiet, CacheBytes: -1})
	t.Cleanup(svc.Close)

	dir := t.TempDir()
	reader, err := pmtiles.NewServerWithBucket(pmtiles.NewFileBucket(dir), "", log.New(io.Discard, "", 0), 16, "")
	if err != nil {
		t.Fatal(err)
	}
	reader.Start()

	for _, c := range []struct {
		tileset          string
		minZoom, maxZoom int
	}{{tiles.MapTileset, 11, 15}, {"homesteads", 15, 16}} {
		t.Run(c.tileset, func(t *testing.T) {
			ts, ok := svc.Tileset(c.tileset)
			if !ok {
				t.Fatalf("no tileset %s", c.tileset)
			}
			path := filepath.Join(dir, c.tileset+".pmtiles")
			res, err := pmtarchive.Write(ctx, svc, ts, path, pmtarchive.Options{MinZoom: c.minZoom, MaxZoom: c.maxZoom})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", res)
			if res.Written == 0 {
				t.Fatalf("no tile with data written: %+v", res)
			}

			// Metadata: vector_layers as the TileJSON has them.
			status, _, meta := reader.Get(ctx, "/"+c.tileset+"/metadata")
			if status != 200 {
				t.Fatalf("metadata: status %d %s", status, meta)
			}
			var m struct {
				VectorLayers []tiles.VectorLayer `json:"vector_layers"`
			}
			if err := json.Unmarshal(meta, &m); err != nil {
				t.Fatal(err)
			}
			tj, err := svc.TileJSON(ctx, ts, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.VectorLayers) == 0 || len(m.VectorLayers) != len(tj.VectorLayers) || m.VectorLayers[0].ID != tj.VectorLayers[0].ID {
				t.Fatalf("metadata vector_layers %+v, TileJSON has %+v", m.VectorLayers, tj.VectorLayers)
			}

			// Every address over the bounds at the two highest zooms: the
			// archive and the server agree on which tiles have data, and on
			// their bytes.
			compared, empty := 0, 0
			for z := c.maxZoom - 1; z <= c.maxZoom; z++ {
				x0, y0, x1, y1 := pmtarchive.TileRange(z, res.Bounds)
				for x := x0; x <= x1; x++ {
					for y := y0; y <= y1; y++ {
						want, wantStatus := serverTile(t, api.URL, c.tileset, z, x, y)
						status, hdr, body := reader.Get(ctx, fmt.Sprintf("/%s/%d/%d/%d.mvt", c.tileset, z, x, y))
						if wantStatus == http.StatusNoContent {
							if status != 204 && status != 404 {
								t.Fatalf("%d/%d/%d: server has no data, archive answers %d (%d bytes)", z, x, y, status, len(body))
							}
							empty++
							continue
						}
						if status != 200 {
							t.Fatalf("%d/%d/%d: archive answers %d %s, server has %d bytes", z, x, y, status, body, len(want))
						}
						if hdr["Content-Encoding"] != "gzip" {
							t.Fatalf("%d/%d/%d: archive tile Content-Encoding %q", z, x, y, hdr["Content-Encoding"])
						}
						got := gunzip(t, body)
						// Equal bytes, or the same features: PostgreSQL may
						// hand ST_AsMVT the rows in another order, which
						// reorders the keys and values tables by a few bytes.
						if !bytes.Equal(got, want) && canonical(t, got) != canonical(t, want) {
							t.Fatalf("%d/%d/%d: archive tile (%d bytes) differs from the server's (%d bytes)", z, x, y, len(got), len(want))
						}
						compared++
					}
				}
			}
			t.Logf("%s: %d tiles equal, %d empty in both", c.tileset, compared, empty)
			if compared < 3 {
				t.Fatalf("only %d tiles with data compared", compared)
			}
		})
	}
}

// serverTile fetches a tile over HTTP; the transport undoes the gzip.
func serverTile(t *testing.T, base, tileset string, z, x, y int) ([]byte, int) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, tileset, z, x, y))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("server %d/%d/%d: %s %s", z, x, y, resp.Status, b)
	}
	return b, resp.StatusCode
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// canonical is a decoded tile as text independent of feature order: per
// layer, its features (id, type, sorted properties, geometry) sorted.
func canonical(t *testing.T, mvt []byte) string {
	t.Helper()
	tile, err := tiletest.Decode(mvt)
	if err != nil {
		t.Fatal(err)
	}
	var layersOut []string
	for _, l := range tile.Layers {
		var feats []string
		for _, f := range l.Features {
			keys := make([]string, 0, len(f.Properties))
			for k := range f.Properties {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var props []string
			for _, k := range keys {
				props = append(props, fmt.Sprintf("%s=%v", k, f.Properties[k]))
			}
			feats = append(feats, fmt.Sprintf("%d %v %v %v %v %v %v", f.ID, f.HasID, f.Type, props, f.Points, f.Lines, f.Polygons))
		}
		sort.Strings(feats)
		layersOut = append(layersOut, fmt.Sprintf("%s v%d e%d\n%s", l.Name, l.Version, l.Extent, strings.Join(feats, "\n")))
	}
	sort.Strings(layersOut)
	return strings.Join(layersOut, "\n\n")
}
