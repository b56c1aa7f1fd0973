package main

import (
	"strings"
	"testing"
)

// TestParseTileCache checks the --tile-cache values: off, sizes with
// decimal and binary units, and the errors for nonsense and tiny caches.
func TestParseTileCache(t *testing.T) {
	for in, want := range map[string]int64{
		"off": -1, "OFF": -1, "0": -1, "256MiB": 256 << 20, "1GiB": 1 << 30, "500MB": 500e6,
		"64m": 64 << 20, "2097152": 2 << 20, "1.5GiB": 3 << 29,
	} {
		got, err := parseTileCache(in)
		if err != nil || got != want {
			t.Errorf("parseTileCache(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-5MiB", "12kB", "MiB", "1TiB"} {
		if got, err := parseTileCache(in); err == nil || !strings.Contains(err.Error(), "--tile-cache") {
			t.Errorf("parseTileCache(%q) = %d, %v; want an error naming --tile-cache", in, got, err)
		}
	}
}
