package tiles

import (
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"villageplan/layers"
)

var decimal = regexp.MustCompile(`^[0-9]{1,9}$`)

// FuzzParseAddress feeds arbitrary tile URL paths ("/tiles/{tileset}/{z}/
// {x}/{y}.mvt", split as the router splits them, or free z, x, y
// segments) to the tileset lookup, ParseAddress and ParseFilter: no panic;
// an accepted address lies in the pyramid (0 ≤ z ≤ MaxZoom, 0 ≤ x, y <
// 2^z), was written in plain decimal digits and prints back to the same
// numbers; a refused one is an *AddressError naming the input; only the
// catalog's tilesets are found. The seeds run with every `go test`.
func FuzzParseAddress(f *testing.F) {
	for _, p := range []string{
		"/tiles/map/14/13914/6042.mvt", "/tiles/homesteads/0/0/0.mvt", "/tiles/map/22/4194303/4194303.mvt", "/tiles/map/22/4194304/0.mvt",
		"/tiles/map/23/0/0.mvt", "/tiles/map/-1/0/0.mvt", "/tiles/map/+1/0/0.mvt", "/tiles/map/1/2/0.mvt", "/tiles/map/0x1/0/0.mvt",
		"/tiles/map/ 1/0/0.mvt", "/tiles/map/999999999/0/0.mvt", "/tiles/map/9999999999999999999999/0/0.mvt", "/tiles/map/1/1/1",
		"/tiles/../map/1/1/1.mvt", "/tiles/map/1/1/1.mvt.mvt", "/tiles/地块/1/1/1.mvt", "/tiles/map/1/1/%00.mvt", "/tiles/map/٣/0/0.mvt",
		"/tiles/map/01/01/01.mvt", "/tiles/homesteads.json/1/0/0.mvt", "/tiles//1/0/0.mvt",
	} {
		f.Add(p, "")
	}
	f.Add("/tiles/homesteads/14/13914/6042.mvt", "status=闲置")
	f.Add("/tiles/homesteads/14/13914/6042.mvt", "status=idle,闲置&status=")
	f.Add("/tiles/map/14/13914/6042.mvt", "zl=1")
	f.Add("/tiles/roads/14/13914/6042.mvt", "%zz=1")
	svc := New(Options{Catalog: layers.Default()})
	f.Cleanup(svc.Close)
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		seg := strings.Split(strings.TrimPrefix(path, "/tiles/"), "/")
		if len(seg) < 4 {
			seg = append(seg, make([]string, 4-len(seg))...)
		}
		tsID, z, x, y := seg[0], seg[1], seg[2], strings.TrimSuffix(strings.Join(seg[3:], "/"), ".mvt")
		ts, ok := svc.Tileset(tsID)
		if ok {
			if ts.ID != tsID {
				t.Fatalf("tileset %q found as %q", tsID, ts.ID)
			}
			if _, known := layers.Default().Layer(tsID); !known && tsID != MapTileset {
				t.Fatalf("tileset %q found but is neither a layer nor %q", tsID, MapTileset)
			}
		}
		a, err := ParseAddress(z, x, y)
		if err != nil {
			var ae *AddressError
			if !errors.As(err, &ae) || ae.Input != z+"/"+x+"/"+y || ae.Reason == "" {
				t.Fatalf("ParseAddress(%q, %q, %q): %T %v", z, x, y, err, err)
			}
			if decimal.MatchString(z) && decimal.MatchString(x) && decimal.MatchString(y) {
				zi, _ := strconv.Atoi(z)
				xi, _ := strconv.Atoi(x)
				yi, _ := strconv.Atoi(y)
				if zi <= MaxZoom && xi < 1<<zi && yi < 1<<zi {
					t.Fatalf("ParseAddress(%q, %q, %q) refused an address inside the pyramid: %v", z, x, y, err)
				}
			}
		} else {
			if a.Z < 0 || a.Z > MaxZoom || a.X < 0 || a.Y < 0 || a.X >= 1<<a.Z || a.Y >= 1<<a.Z {
				t.Fatalf("ParseAddress(%q, %q, %q) = %v, outside the pyramid", z, x, y, a)
			}
			if !decimal.MatchString(z) || !decimal.MatchString(x) || !decimal.MatchString(y) {
				t.Fatalf("ParseAddress(%q, %q, %q) accepted something other than plain decimal digits", z, x, y)
			}
			zi, _ := strconv.Atoi(z)
			xi, _ := strconv.Atoi(x)
			yi, _ := strconv.Atoi(y)
			if a != (Address{zi, xi, yi}) || a.String() != strconv.Itoa(zi)+"/"+strconv.Itoa(xi)+"/"+strconv.Itoa(yi) {
				t.Fatalf("ParseAddress(%q, %q, %q) = %v", z, x, y, a)
			}
		}
		if ok {
			q, err := url.ParseQuery(rawQuery)
			if err != nil {
				return // the HTTP layer refuses it before (params.go)
			}
			flt, err := ParseFilter(ts, q)
			var fe *FilterError
			if err != nil && (!errors.As(err, &fe) || fe.Reason == "") {
				t.Fatalf("ParseFilter(%s, %q): %T %v", ts.ID, rawQuery, err, err)
			}
			if err == nil {
				_ = flt.String()
			}
		}
	})
}
