package qgisproject_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"villageplan/internal/qgisproject"
	"villageplan/layers"
)

// TestBuildIsWellFormed: the project parses as XML and names every
// catalog layer once as an OAPIF layer of the given base URL (escaped),
// plus the basemap; QGIS itself opens it in internal/qgistest.
func TestBuildIsWellFormed(t *testing.T) {
	base := "http://example.test:8080/vp?a=1&b='x'"
	out := qgisproject.Build(layers.Default(), qgisproject.Options{BaseURL: base, Extent: [4]float64{42476621, 4826407, 42484621, 4832407}})
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = true
	ids := map[string]int{}
	sources := map[string]string{}
	var path []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			path = append(path, tk.Name.Local)
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			p := strings.Join(path, "/")
			if p == "qgis/projectlayers/maplayer/id" {
				ids[string(tk)]++
			}
			if p == "qgis/projectlayers/maplayer/datasource" {
				sources[string(tk)] = p
			}
		}
	}
	cat := layers.Default()
	for _, l := range cat.Layers() {
		if ids["villageplan_"+l.ID] != 1 {
			t.Errorf("layer %s appears %d times", l.ID, ids["villageplan_"+l.ID])
		}
		src := "pageSize='1000' typename='" + l.ID + "' url='" + strings.ReplaceAll(base, "'", `\'`) + "'"
		if _, ok := sources[src]; !ok {
			t.Errorf("no datasource %q", src)
		}
	}
	if ids["villageplan_basemap"] != 1 || len(ids) != len(cat.Layers())+1 {
		t.Errorf("layer ids %v", ids)
	}
}
