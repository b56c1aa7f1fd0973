package tiles

import "math"

// Tile geometry constants shared by the SQL and the documents.
const (
	// Extent is the MVT coordinate range of a tile side (MVT 2.1 default).
	Extent = 4096
	// Buffer is the margin, in tile units, that ST_AsMVTGeom keeps around
	// the tile so that strokes and labels do not break at tile edges
	// (64 units = 8 px of a 512-px tile).
	Buffer = 64
	// TilePixels is the size at which MapLibre GL draws a vector tile:
	// 512 CSS pixels, so one pixel is Extent/512 = 8 tile units.
	TilePixels = 512
	// DetailZoom is the first zoom at which geometry is served as stored,
	// without pre-simplification, size filters or point thinning (only the
	// grid snap of ST_AsMVTGeom). At z16 a pixel is 0.30 m (EPSG:3857 units,
	// 0.22 m on the ground at 43.6°N), finer than any survey feature.
	DetailZoom = 16
	// MaxTileBytes is the largest compressed (gzip) tile the service sends:
	// 500 KB, beyond which MapLibre's parsing stalls the map. A tile over it
	// is rendered again with fewer features (see Generalisation.MaxFeatures).
	MaxTileBytes = 500 * 1000
)

// earthCircumference is the width of the EPSG:3857 square in metres
// (2π × 6 378 137 m).
const earthCircumference = 2 * math.Pi * 6378137

// PixelSize returns the side of one 512-px-tile pixel at zoom z in
// EPSG:3857 metres.
func PixelSize(z int) float64 {
	return earthCircumference / float64(uint64(1)<<uint(z)) / TilePixels
}

// Generalisation holds the thresholds applied below DetailZoom, in EPSG:3857
// units (metres of the Mercator plane, which is what screen pixels measure).
type Generalisation struct {
	// MinArea drops polygons whose area is smaller (m²).
	MinArea float64
	// MinLength drops lines that are shorter (m).
	MinLength float64
	// Tolerance is the Douglas-Peucker tolerance of ST_Simplify applied
	// before ST_AsMVTGeom (m).
	Tolerance float64
	// Cell is the side of the grid of point thinning: one point is kept per
	// cell (m).
	Cell float64
	// MaxFeatures caps the features of each layer in one tile, largest
	// polygons (by area) or longest lines first; layer ID → cap, missing
	// layers get MaxFeaturesPerLayer.
	MaxFeatures map[string]int
}

// Default thresholds, in pixels of a 512-px tile: polygons under 1 px²
// and lines under 1 px vanish on screen anyway; a tolerance of half a pixel
// is invisible; circles of the style are ≥ 3 px in radius, so points closer
// than 2 px overlap.
const (
	minAreaPx   = 1.0
	minLengthPx = 1.0
	tolerancePx = 0.5
	pointCellPx = 2.0
)

// MaxFeaturesPerLayer bounds the features of one layer in a tile below
// DetailZoom (largest first). It bounds the work of a tile: ST_AsMVTGeom
// and ST_AsMVT take about 10 µs per polygon, so a layer costs at most
// ~0.1 s. Sample county: a z14 tile holds at most 1 664 homesteads, a z13
// tile up to 7 036 land-use polygons (not capped), a z12 tile 17 000.
const MaxFeaturesPerLayer = 8192

// maxRetries is the number of renderings with lower caps after a tile came
// out over MaxTileBytes.
const maxRetries = 3

// GeneralisationAt returns the default thresholds at zoom z.
func GeneralisationAt(z int) Generalisation {
	px := PixelSize(z)
	return Generalisation{
		MinArea:   minAreaPx * px * px,
		MinLength: minLengthPx * px,
		Tolerance: tolerancePx * px,
		Cell:      pointCellPx * px,
	}
}

func (g Generalisation) maxFeatures(layer string) int {
	if n, ok := g.MaxFeatures[layer]; ok {
		return n
	}
	return MaxFeaturesPerLayer
}
