package tiletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// OGRFeature is a feature as GDAL's MVT driver reads it: properties
// (with "mvt_id" holding the feature id) and the GeoJSON geometry type.
type OGRFeature struct {
	Properties map[string]any
	Type       string
}

// HaveOGR reports whether ogrinfo and ogr2ogr (GDAL) are on PATH.
func HaveOGR() bool {
	_, e1 := exec.LookPath("ogrinfo")
	_, e2 := exec.LookPath("ogr2ogr")
	return e1 == nil && e2 == nil
}

// OGRLayers decodes an uncompressed MVT with GDAL's MVT driver, an
// implementation independent of Decode, and returns the features of each
// layer in tile coordinates, including those in the tile's buffer
// (CLIP=NO). dir is a scratch directory.
func OGRLayers(dir string, mvt []byte) (map[string][]OGRFeature, error) {
	path := filepath.Join(dir, "tile.mvt")
	if err := os.WriteFile(path, mvt, 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("ogrinfo", "-ro", "-so", "-al", "-oo", "CLIP=NO", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ogrinfo: %v: %s", err, out)
	}
	res := map[string][]OGRFeature{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var names []string
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "Layer name: "); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	for _, name := range names {
		js, err := exec.Command("ogr2ogr", "-oo", "CLIP=NO", "-f", "GeoJSON", "/vsistdout/", path, name).Output()
		if err != nil {
			return nil, fmt.Errorf("ogr2ogr layer %s: %v", name, err)
		}
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
				Geometry   struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(js, &fc); err != nil {
			return nil, fmt.Errorf("ogr2ogr layer %s: %v", name, err)
		}
		fs := []OGRFeature{}
		for _, f := range fc.Features {
			fs = append(fs, OGRFeature{Properties: f.Properties, Type: f.Geometry.Type})
		}
		res[name] = fs
	}
	return res, nil
}
