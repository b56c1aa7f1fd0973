package tiles

import (
	"fmt"
	"strconv"
)

// MaxZoom is the highest zoom served (Web-Mercator XYZ, z 0–22).
const MaxZoom = 22

// Address is a tile of the Web-Mercator (EPSG:3857) XYZ pyramid: zoom Z,
// column X counted from the antimeridian eastwards and row Y counted from
// the north (85.0511°N) southwards, each in 0 … 2^Z−1.
type Address struct {
	Z, X, Y int
}

// String formats the address as "z/x/y".
func (a Address) String() string { return fmt.Sprintf("%d/%d/%d", a.Z, a.X, a.Y) }

// AddressError reports a tile address outside the pyramid or not made of
// decimal integers. The HTTP layer answers it with 400.
type AddressError struct {
	Input  string // the address as requested, "z/x/y"
	Reason string
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("tile address %s: %s", e.Input, e.Reason)
}

// ParseAddress parses the three path segments of a tile URL. Each must be
// a decimal integer without sign or leading "+"; z must be in 0–MaxZoom
// and x, y in 0 … 2^z−1. Any other input gives an *AddressError.
func ParseAddress(z, x, y string) (Address, error) {
	input := z + "/" + x + "/" + y
	var a Address
	for _, p := range []struct {
		name, s string
		v       *int
	}{{"z", z, &a.Z}, {"x", x, &a.X}, {"y", y, &a.Y}} {
		v, ok := parseUint(p.s)
		if !ok {
			return Address{}, &AddressError{Input: input, Reason: fmt.Sprintf("%s must be a non-negative decimal integer, got %q", p.name, p.s)}
		}
		*p.v = v
	}
	if a.Z > MaxZoom {
		return Address{}, &AddressError{Input: input, Reason: fmt.Sprintf("zoom %d is above the maximum zoom %d", a.Z, MaxZoom)}
	}
	n := 1 << a.Z
	if a.X >= n || a.Y >= n {
		return Address{}, &AddressError{Input: input, Reason: fmt.Sprintf("x and y must be below 2^%d = %d at zoom %d", a.Z, n, a.Z)}
	}
	return a, nil
}

// parseUint accepts 1–9 ASCII digits (enough for 2^22 and rejects
// overflow, signs, spaces and hexadecimal).
func parseUint(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}
