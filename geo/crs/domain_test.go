package crs

import (
	"math"
	"testing"
)

// The corners of zone 42's area, projected by PROJ (cs2cs EPSG:4490
// EPSG:4530, PROJ 9 on this machine): (0°N, 128°E) → N 0.00,
// E 42 722 684.51; (55°N, 128°E) → N 6 099 060.33, E 42 627 979.38. The
// domain holds them with its 1 % margin and no more than a few km beyond.
func TestGaussKrugerDomain(t *testing.T) {
	c, _ := Lookup(4530)
	d := c.Domain()
	if d.Unit != "m" {
		t.Errorf("unit %q", d.Unit)
	}
	for _, p := range [][2]float64{{42722684.51, 0}, {42627979.38, 6099060.33}, {42500000, 4829000}} {
		if !d.Contains(p[0], p[1]) {
			t.Errorf("domain %+v lacks %v", d, p)
		}
	}
	for _, p := range [][2]float64{{42722684.51 + 5000, 0}, {42500000, -1}, {42500000, 6099060.33 * 1.02}, {500000, 4829000}, {math.NaN(), 0}, {math.Inf(1), 0}} {
		if d.Contains(p[0], p[1]) {
			t.Errorf("domain %+v holds %v", d, p)
		}
	}
	// Without the zone prefix the same band lies around 500 000 m.
	c, _ = Lookup(4551)
	if d := c.Domain(); !d.Contains(480600, 4829000) || d.Contains(42480600, 4829000) {
		t.Errorf("EPSG:4551 domain %+v", d)
	}
	if d := CRS84().Domain(); !d.Contains(180, -90) || d.Contains(180.1, 0) || d.Unit != "°" {
		t.Errorf("CRS84 domain %+v", d)
	}
	c, _ = Lookup(3857)
	if d := c.Domain(); !d.Contains(-20037508, 20037508) || d.Contains(0, 2.1e7) {
		t.Errorf("EPSG:3857 domain %+v", d)
	}
}
