// Package coverage records and reads villageplan.layer_coverage: where a
// layer's data is complete (migration 00004). A siting rule that reads a
// layer answers REVIEW "无数据" for a site outside the layer's coverage,
// never PASS, so coverage is part of every load: imports
// (internal/imports), the sample loader, the data steward's
// `villageplan coverage` command and the features API
// (/collections/{id}/coverage) all go through this package.
//
// A coverage is an area in EPSG:4490 (geom), optionally joined by the
// layer's own features (with_features: the safe default of a polygon
// import). Specs, as given on the command line:
//
//	township              the union of the villages layer (村级调查区)
//	villages:CODE,CODE…   the union of those villages (12-digit xzqdm)
//	extent                the convex hull of the data (explicitly chosen)
//	features              the features themselves (polygon layers only)
//	none                  no coverage (replace: the old one is removed)
//	FILE (or file:FILE)   the polygons of a file in any format and CRS the
//	                      importer reads, reprojected by PostGIS
package coverage

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Kind is what a coverage statement rests on, as stored in
// layer_coverage.kind.
type Kind string

// Kinds of coverage. Default is the zero Spec: the import decides (the
// features of a polygon layer; none for lines and points).
const (
	Default  Kind = ""
	Township Kind = "township"
	Villages Kind = "villages"
	Extent   Kind = "extent"
	Features Kind = "features"
	File     Kind = "file"
	None     Kind = "none"
	// Sample is written by the sample loader; Combined by extending a
	// coverage with one of another kind; Legacy marks rows written before
	// migration 00004.
	Sample   Kind = "sample"
	Combined Kind = "combined"
	Legacy   Kind = "legacy"
)

// Spec is a parsed coverage argument.
type Spec struct {
	Kind Kind
	// Codes are the village codes of Villages.
	Codes []string
	// Path is the polygon file of File.
	Path string
}

var villageCode = regexp.MustCompile(`^[0-9]{12}$`)

// ParseSpec reads a --coverage argument ("" is the default). A word that is
// not a keyword is a file, which must exist.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return Spec{}, nil
	case "township":
		return Spec{Kind: Township}, nil
	case "extent":
		return Spec{Kind: Extent}, nil
	case "features":
		return Spec{Kind: Features}, nil
	case "none":
		return Spec{Kind: None}, nil
	}
	if rest, ok := strings.CutPrefix(s, "villages:"); ok {
		var codes []string
		for _, c := range strings.Split(rest, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if !villageCode.MatchString(c) {
				return Spec{}, fmt.Errorf("--coverage villages: 村代码 %q 不是 12 位数字 / village code %q is not 12 digits (e.g. villages:220112203200,220112203201)", c, c)
			}
			codes = append(codes, c)
		}
		if len(codes) == 0 {
			return Spec{}, fmt.Errorf("--coverage villages: 未给出村代码 / no village code given (e.g. villages:220112203200,220112203201)")
		}
		return Spec{Kind: Villages, Codes: codes}, nil
	}
	path := strings.TrimPrefix(s, "file:")
	if _, err := os.Stat(path); err != nil {
		return Spec{}, fmt.Errorf("--coverage %q: 既不是 township、villages:代码…、extent、features、none，也不是可读的文件 / is neither township, villages:CODE,…, extent, features, none nor a readable file (%v)", s, err)
	}
	return Spec{Kind: File, Path: path}, nil
}

// String renders the spec as it would be given on the command line.
func (s Spec) String() string {
	switch s.Kind {
	case Default:
		return "default"
	case Villages:
		return "villages:" + strings.Join(s.Codes, ",")
	case File:
		return s.Path
	}
	return string(s.Kind)
}
