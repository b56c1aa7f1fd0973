package qgistest

import (
	"context"
	"path/filepath"
	"testing"

	"villageplan/layers"
)

type layerSeen struct {
	Valid bool   `json:"valid"`
	Count int    `json:"count"`
	CRS   string `json:"crs"`
}

type serviceSeen struct {
	QGISVersion   string               `json:"qgis_version"`
	Layers        map[string]layerSeen `json:"layers"`
	Filtered      int                  `json:"filtered"`
	Subset        string               `json:"subset"`
	TilesValid    bool                 `json:"tiles_valid"`
	ConvertResult int                  `json:"convert_result"`
	ConvertError  string               `json:"convert_error"`
	StyleWarnings []string             `json:"style_warnings"`
	RendererOK    bool                 `json:"renderer_ok"`
	LabelingOK    bool                 `json:"labeling_ok"`
	RenderErrors  []string             `json:"render_errors"`
	PNGSaved      bool                 `json:"png_saved"`
}

// TestQGISReadsTheService: QGIS loads every collection through its OAPIF
// provider with as many features as the database holds, a subset string
// on roads gives the database's count for that grade, the map's vector
// tiles load with /styles/default.json converted by QGIS's MapBox GL style
// converter without a single warning, and the rendered township (saved as
// artifacts/qgis-tiles.png) is a drawn map.
func TestQGISReadsTheService(t *testing.T) {
	py := pythonForQGIS(t)
	srv, pool := townshipServer(t)
	ctx := context.Background()
	cat := layers.Default()
	want := map[string]int{}
	var ids []string
	for _, l := range cat.Layers() {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+l.QualifiedTable()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want[l.ID] = n
		ids = append(ids, l.ID)
	}
	var wantFiltered int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.roads WHERE admin_grade = '村道'`).Scan(&wantFiltered); err != nil {
		t.Fatal(err)
	}
	if wantFiltered == 0 || wantFiltered == want["roads"] {
		t.Fatalf("sample has %d 村道 of %d roads: the filter would prove nothing", wantFiltered, want["roads"])
	}
	pngPath := filepath.Join(artifacts(t), "qgis-tiles.png")
	var got serviceSeen
	runQGIS(t, py, "service_check.py", map[string]any{
		"base":       srv.URL,
		"layers":     ids,
		"filter":     map[string]any{"layer": "roads", "expression": `"admin_grade" = '村道'`},
		"extent4326": townshipExtent(t, pool),
		"png":        pngPath,
	}, &got)
	t.Logf("QGIS %s", got.QGISVersion)

	for _, id := range ids {
		l := got.Layers[id]
		if !l.Valid || l.Count != want[id] {
			t.Errorf("OAPIF layer %s: valid=%v, %d features in QGIS, %d in the database", id, l.Valid, l.Count, want[id])
		}
		if l.CRS != "EPSG:4326" {
			t.Errorf("OAPIF layer %s: CRS %q, want EPSG:4326 (CRS84)", id, l.CRS)
		}
	}
	if got.Filtered != wantFiltered {
		t.Errorf("roads with subset %q: %d features in QGIS, %d in the database", got.Subset, got.Filtered, wantFiltered)
	}

	if !got.TilesValid {
		t.Error("QGIS could not open the map's vector tiles")
	}
	if got.ConvertResult != 0 || got.ConvertError != "" || !got.RendererOK || !got.LabelingOK {
		t.Errorf("style conversion: result %d, error %q, renderer %v, labeling %v", got.ConvertResult, got.ConvertError, got.RendererOK, got.LabelingOK)
	}
	t.Logf("converter warnings: %d", len(got.StyleWarnings))
	for _, w := range got.StyleWarnings {
		t.Errorf("QGIS style converter warns: %s", w)
	}
	if len(got.RenderErrors) > 0 || !got.PNGSaved {
		t.Errorf("render: errors %q, saved %v", got.RenderErrors, got.PNGSaved)
	}
	checkNotBlank(t, pngPath, 24)
}
