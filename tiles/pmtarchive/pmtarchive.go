// Package pmtarchive writes a tileset of the tile service (one layer's
// tileset or the composite "map" tileset) for a zoom range, optionally cut
// to a bbox, to one PMTiles v3 archive
// (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md): for a
// CDN or an object store, or for a laptop with no network.
//
// The tiles are those the server answers for the same z/x/y: rendered by
// the same tiles.Service (same SQL, generalisation and size limit), gzip
// MVT. Empty tiles are left out, as the PMTiles spec allows (a client reads
// a missing tile as empty). Identical tiles are stored once (run-length and
// offset deduplication). The archive is clustered (tile data in tile-ID
// order) with gzip-compressed directories and metadata; the metadata
// carries the TileJSON's name, description, attribution and vector_layers.
//
// It lives apart from package tiles because github.com/protomaps/go-pmtiles
// brings the cloud-storage SDKs with it; only the export command and its
// test link it.
package pmtarchive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/protomaps/go-pmtiles/pmtiles"

	"villageplan/tiles"
)

// Options selects what to write.
type Options struct {
	// MinZoom and MaxZoom bound the zooms written (inclusive, 0..tiles.MaxZoom).
	MinZoom, MaxZoom int
	// BBox is minlon,minlat,maxlon,maxlat in CRS84 degrees; nil means the
	// extent of the tileset's data (the TileJSON bounds).
	BBox *[4]float64
	// MaxTiles refuses an export that would visit more tile addresses (0:
	// 1,000,000), so a wrong zoom range fails at once instead of running
	// for hours.
	MaxTiles int
	// Progress, if set, is called after each zoom with the tiles visited
	// and written so far.
	Progress func(z, visited, written int)
}

// Result summarises a written archive.
type Result struct {
	Visited  int // tile addresses rendered
	Written  int // addressed (non-empty) tiles
	Contents int // distinct tile contents stored
	Bytes    int64
	Bounds   [4]float64
}

// ErrTooManyTiles: the zoom range and bbox cover more than Options.MaxTiles.
var ErrTooManyTiles = errors.New("too many tiles")

// TileRange returns the tile columns and rows [x0,x1]×[y0,y1] at zoom z that
// cover bbox (CRS84 degrees; latitudes clamped to the Web-Mercator square).
func TileRange(z int, bbox [4]float64) (x0, y0, x1, y1 int) {
	n := 1 << z
	col := func(lon float64) int {
		v := int(math.Floor((lon + 180) / 360 * float64(n)))
		return min(max(v, 0), n-1)
	}
	row := func(lat float64) int {
		lat = min(max(lat, -85.0511287798), 85.0511287798)
		r := lat * math.Pi / 180
		v := int(math.Floor((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * float64(n)))
		return min(max(v, 0), n-1)
	}
	return col(bbox[0]), row(bbox[3]), col(bbox[2]), row(bbox[1])
}

// Write renders the tiles of ts and writes the archive to path (through a
// temporary file next to it and a rename, so a failed export leaves no half
// archive under the final name).
func Write(ctx context.Context, svc *tiles.Service, ts *tiles.Tileset, path string, o Options) (*Result, error) {
	if o.MinZoom < 0 || o.MaxZoom > tiles.MaxZoom || o.MinZoom > o.MaxZoom {
		return nil, fmt.Errorf("zoom range %d..%d: must lie within 0..%d, min ≤ max", o.MinZoom, o.MaxZoom, tiles.MaxZoom)
	}
	tj, err := svc.TileJSON(ctx, ts, "")
	if err != nil {
		return nil, err
	}
	bounds := tj.Bounds
	if o.BBox != nil {
		bounds = *o.BBox
	}
	if !(bounds[0] < bounds[2] && bounds[1] < bounds[3]) {
		return nil, fmt.Errorf("bbox %v: min must be below max", bounds)
	}
	limit := o.MaxTiles
	if limit <= 0 {
		limit = 1_000_000
	}
	total := 0
	for z := o.MinZoom; z <= o.MaxZoom; z++ {
		x0, y0, x1, y1 := TileRange(z, bounds)
		total += (x1 - x0 + 1) * (y1 - y0 + 1)
	}
	if total > limit {
		return nil, fmt.Errorf("%w: zooms %d..%d over %v are %d tile addresses (limit %d): narrow the zoom range or the bbox", ErrTooManyTiles, o.MinZoom, o.MaxZoom, bounds, total, limit)
	}

	// Tile data goes to a temporary file as it is rendered; the archive is
	// assembled once the directory is known.
	data, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".data.*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(data.Name())
	defer data.Close()
	dw := bufio.NewWriterSize(data, 1<<20)

	type stored struct {
		offset uint64
		length uint32
	}
	var (
		entries  []pmtiles.EntryV3
		contents = map[[32]byte]stored{}
		offset   uint64
		res      = &Result{Bounds: bounds}
	)
	// Visit tiles in tile-ID order (Hilbert order within a zoom), so the
	// archive is clustered and runs of equal tiles collapse.
	type addr struct {
		id      uint64
		z, x, y int
	}
	for z := o.MinZoom; z <= o.MaxZoom; z++ {
		x0, y0, x1, y1 := TileRange(z, bounds)
		var as []addr
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				as = append(as, addr{pmtiles.ZxyToID(uint8(z), uint32(x), uint32(y)), z, x, y})
			}
		}
		sort.Slice(as, func(i, j int) bool { return as[i].id < as[j].id })
		for _, a := range as {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t, err := svc.Tile(ctx, ts, tiles.Address{Z: a.z, X: a.x, Y: a.y}, tiles.Filter{}, "")
			if err != nil {
				return nil, fmt.Errorf("tile %s/%d/%d/%d: %w", ts.ID, a.z, a.x, a.y, err)
			}
			res.Visited++
			if t.Empty || len(t.Gzip()) == 0 {
				continue
			}
			res.Written++
			sum := sha256.Sum256(t.Gzip())
			st, seen := contents[sum]
			if !seen {
				st = stored{offset, uint32(len(t.Gzip()))}
				if _, err := dw.Write(t.Gzip()); err != nil {
					return nil, err
				}
				offset += uint64(len(t.Gzip()))
				contents[sum] = st
			}
			if n := len(entries); n > 0 {
				last := &entries[n-1]
				if last.TileID+uint64(last.RunLength) == a.id && last.Offset == st.offset {
					last.RunLength++
					continue
				}
			}
			entries = append(entries, pmtiles.EntryV3{TileID: a.id, Offset: st.offset, Length: st.length, RunLength: 1})
		}
		if o.Progress != nil {
			o.Progress(z, res.Visited, res.Written)
		}
	}
	if err := dw.Flush(); err != nil {
		return nil, err
	}
	res.Contents = len(contents)

	meta := map[string]any{
		"name":          tj.Name,
		"description":   tj.Description,
		"version":       tj.Version,
		"type":          "overlay",
		"format":        "pbf",
		"vector_layers": tj.VectorLayers,
	}
	if tj.Attribution != "" {
		meta["attribution"] = tj.Attribution
	}
	metaBytes, err := pmtiles.SerializeMetadata(meta, pmtiles.Gzip)
	if err != nil {
		return nil, err
	}
	// The root directory must fit, with the header, in the first 16 KiB.
	root, leaves, _ := pmtiles.BuildDirectories(entries, 16384-pmtiles.HeaderV3LenBytes, pmtiles.Gzip)

	h := pmtiles.HeaderV3{
		SpecVersion:         3,
		RootOffset:          pmtiles.HeaderV3LenBytes,
		RootLength:          uint64(len(root)),
		Clustered:           true,
		InternalCompression: pmtiles.Gzip,
		TileCompression:     pmtiles.Gzip,
		TileType:            pmtiles.Mvt,
		MinZoom:             uint8(o.MinZoom),
		MaxZoom:             uint8(o.MaxZoom),
		MinLonE7:            int32(bounds[0] * 1e7),
		MinLatE7:            int32(bounds[1] * 1e7),
		MaxLonE7:            int32(bounds[2] * 1e7),
		MaxLatE7:            int32(bounds[3] * 1e7),
		CenterZoom:          uint8(min(max(int(tj.Center[2]), o.MinZoom), o.MaxZoom)),
		CenterLonE7:         int32((bounds[0] + bounds[2]) / 2 * 1e7),
		CenterLatE7:         int32((bounds[1] + bounds[3]) / 2 * 1e7),
		AddressedTilesCount: uint64(res.Written),
		TileEntriesCount:    uint64(len(entries)),
		TileContentsCount:   uint64(len(contents)),
	}
	h.MetadataOffset = h.RootOffset + h.RootLength
	h.MetadataLength = uint64(len(metaBytes))
	h.LeafDirectoryOffset = h.MetadataOffset + h.MetadataLength
	h.LeafDirectoryLength = uint64(len(leaves))
	h.TileDataOffset = h.LeafDirectoryOffset + h.LeafDirectoryLength
	h.TileDataLength = offset

	out, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	for _, b := range [][]byte{pmtiles.SerializeHeader(h), root, metaBytes, leaves} {
		if _, err := out.Write(b); err != nil {
			return nil, err
		}
	}
	if _, err := data.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.Copy(out, data); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(out.Name(), path); err != nil {
		return nil, err
	}
	ok = true
	res.Bytes = int64(h.TileDataOffset + h.TileDataLength)
	return res, nil
}
