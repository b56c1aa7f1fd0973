package siting_test

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// wkbScanner scans a WKB (Multi)Polygon column into an orb.MultiPolygon.
type wkbScanner struct{ mp *orb.MultiPolygon }

func (s wkbScanner) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("wkb: got %T", src)
	}
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return err
	}
	switch t := g.(type) {
	case orb.MultiPolygon:
		*s.mp = t
	case orb.Polygon:
		*s.mp = orb.MultiPolygon{t}
	default:
		return fmt.Errorf("wkb: %T is not a polygon", g)
	}
	return nil
}
