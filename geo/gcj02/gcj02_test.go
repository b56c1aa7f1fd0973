package gcj02

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// metres returns the ground distance between two nearby lon/lat points in
// metres (equirectangular approximation, good to 1e-3 relative for the
// small distances measured here).
func metres(lon1, lat1, lon2, lat2 float64) float64 {
	const mPerDegLat = 111_132.0
	mPerDegLon := 111_320.0 * math.Cos((lat1+lat2)/2*math.Pi/180)
	dx := (lon1 - lon2) * mPerDegLon
	dy := (lat1 - lat2) * mPerDegLat
	return math.Hypot(dx, dy)
}

func TestFromWGS84KnownValues(t *testing.T) {
	tests := []struct {
		name           string
		lon, lat       float64
		gcjLon, gcjLat float64
		tol            float64 // degrees
	}{
		// github.com/wandergis/coordtransform (a = 6378245), as quoted by
		// its ports' tests (e.g. coordtransform-rs).
		{"wandergis Beijing", 116.404, 39.915, 116.41024449916938, 39.91640428150164, 1e-12},
		// github.com/googollee/eviltransform tests; that library now uses
		// a = 6378137, which shifts results by ~1e-7° (~1 cm).
		{"eviltransform Shanghai", 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597, 2e-7},
		{"eviltransform Shenzhen", 113.912316, 22.543847, 113.9171764808363, 22.540796131694766, 2e-7},
		{"eviltransform Beijing", 116.377817, 39.911954, 116.38404722455657, 39.91334545536069, 2e-7},
		{"outside China: Paris", 2.3522, 48.8566, 2.3522, 48.8566, 0},
		{"outside China: south of rectangle", 110, 0.5, 110, 0.5, 0},
		{"outside China: east of rectangle", 140, 40, 140, 40, 0},
	}
	for _, tt := range tests {
		gLon, gLat := FromWGS84(tt.lon, tt.lat)
		if math.Abs(gLon-tt.gcjLon) > tt.tol || math.Abs(gLat-tt.gcjLat) > tt.tol {
			t.Errorf("%s: FromWGS84(%v, %v) = %.14f, %.14f; want %.14f, %.14f", tt.name, tt.lon, tt.lat, gLon, gLat, tt.gcjLon, tt.gcjLat)
		}
		wLon, wLat := ToWGS84(tt.gcjLon, tt.gcjLat)
		if math.Abs(wLon-tt.lon) > tt.tol+1e-11 || math.Abs(wLat-tt.lat) > tt.tol+1e-11 {
			t.Errorf("%s: ToWGS84(%v, %v) = %.14f, %.14f; want %.14f, %.14f", tt.name, tt.gcjLon, tt.gcjLat, wLon, wLat, tt.lon, tt.lat)
		}
	}
}

func TestNaNPassesThrough(t *testing.T) {
	if lon, lat := ToWGS84(math.NaN(), 43.5); !math.IsNaN(lon) || lat != 43.5 {
		t.Errorf("ToWGS84(NaN, 43.5) = %v, %v", lon, lat)
	}
	if lon, lat := FromWGS84(125.5, math.NaN()); lon != 125.5 || !math.IsNaN(lat) {
		t.Errorf("FromWGS84(125.5, NaN) = %v, %v", lon, lat)
	}
}

// TestRoundTripShuangyang measures the inverse over 双阳区 (lon 125.4–126.1,
// lat 43.2–43.9) on a 0.01° grid. The package comment quotes the result.
func TestRoundTripShuangyang(t *testing.T) {
	var maxFwdInv, maxInvFwd, minOff, maxOff, maxOneStep float64
	minOff = math.Inf(1)
	n := 0
	for i := 0; i <= 70; i++ {
		for j := 0; j <= 70; j++ {
			lon, lat := 125.4+float64(i)*0.01, 43.2+float64(j)*0.01
			n++

			// p as GCJ-02: forward(inverse(p)) == p.
			wLon, wLat := ToWGS84(lon, lat)
			fLon, fLat := FromWGS84(wLon, wLat)
			maxFwdInv = math.Max(maxFwdInv, metres(lon, lat, fLon, fLat))

			// p as WGS 84: inverse(forward(p)) == p.
			gLon, gLat := FromWGS84(lon, lat)
			bLon, bLat := ToWGS84(gLon, gLat)
			maxInvFwd = math.Max(maxInvFwd, metres(lon, lat, bLon, bLat))

			off := metres(lon, lat, gLon, gLat)
			minOff, maxOff = math.Min(minOff, off), math.Max(maxOff, off)

			// The one-step approximation g − offset(g) used by many
			// libraries, for comparison.
			dLon, dLat := offset(gLon, gLat)
			maxOneStep = math.Max(maxOneStep, metres(lon, lat, gLon-dLon, gLat-dLat))
		}
	}
	t.Logf("%d grid points: max |F(F⁻¹(p))−p| = %.3g m, max |F⁻¹(F(p))−p| = %.3g m; GCJ-02 offset %.1f–%.1f m; one-step inverse error up to %.3g m",
		n, maxFwdInv, maxInvFwd, minOff, maxOff, maxOneStep)
	const limit = 1e-6 // metres; the brief requires well under 0.01 m
	if maxFwdInv > limit || maxInvFwd > limit {
		t.Errorf("round trip error %.3g m / %.3g m exceeds %g m", maxFwdInv, maxInvFwd, limit)
	}
	if minOff < 100 || maxOff > 1000 {
		t.Errorf("GCJ-02 offset over 双阳区 %.1f–%.1f m is implausible (expected a few hundred metres)", minOff, maxOff)
	}
}

func TestGeometryHelpers(t *testing.T) {
	ring := orb.Ring{{125.60, 43.50}, {125.61, 43.50}, {125.61, 43.51}, {125.60, 43.50}}
	poly := orb.Polygon{ring}
	orig := poly.Clone()

	got := ToWGS84Polygon(poly)
	if !orb.Equal(poly, orig) {
		t.Fatal("ToWGS84Polygon modified its input")
	}
	if len(got) != 1 || len(got[0]) != len(ring) {
		t.Fatalf("ToWGS84Polygon = %v", got)
	}
	if !got[0].Closed() {
		t.Error("ring no longer closed")
	}
	for i, p := range got[0] {
		lon, lat := ToWGS84(ring[i][0], ring[i][1])
		if p != (orb.Point{lon, lat}) {
			t.Errorf("vertex %d = %v, want %v", i, p, orb.Point{lon, lat})
		}
	}
	back := FromWGS84Geometry(got).(orb.Polygon)
	for i, p := range back[0] {
		if d := metres(p[0], p[1], ring[i][0], ring[i][1]); d > 1e-6 {
			t.Errorf("vertex %d round trip off by %g m", i, d)
		}
	}

	tests := []orb.Geometry{
		orb.Point{125.6, 43.5},
		orb.MultiPoint{{125.6, 43.5}},
		orb.LineString{{125.6, 43.5}, {125.7, 43.6}},
		orb.MultiLineString{{{125.6, 43.5}, {125.7, 43.6}}},
		ring,
		poly,
		orb.MultiPolygon{poly, poly},
		orb.Collection{orb.Point{125.6, 43.5}, poly},
	}
	for _, g := range tests {
		out := ToWGS84Geometry(g)
		if out.GeoJSONType() != g.GeoJSONType() {
			t.Errorf("%T → %T", g, out)
		}
	}
	if ToWGS84Geometry(nil) != nil || ToWGS84Ring(nil) != nil || ToWGS84Polygon(nil) != nil || ToWGS84MultiPolygon(nil) != nil {
		t.Error("nil input should give nil")
	}
	if mp := ToWGS84MultiPolygon(orb.MultiPolygon{poly}); len(mp) != 1 || len(mp[0][0]) != 4 {
		t.Errorf("ToWGS84MultiPolygon = %v", mp)
	}
	if r := ToWGS84Ring(ring); len(r) != 4 {
		t.Errorf("ToWGS84Ring = %v", r)
	}
	if p := ToWGS84Point(orb.Point{2.35, 48.85}); p != (orb.Point{2.35, 48.85}) {
		t.Errorf("outside China moved: %v", p)
	}
}

func BenchmarkToWGS84(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ToWGS84(125.659018, 43.525168)
	}
}
