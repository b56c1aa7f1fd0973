package qgistest

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"villageplan/internal/qgisproject"
	"villageplan/layers"
)

type projectLayerSeen struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Provider string   `json:"provider"`
	Valid    bool     `json:"valid"`
	Count    int      `json:"count"`
	Renderer string   `json:"renderer"`
	Legend   []string `json:"legend"`
	Labels   bool     `json:"labels"`
	Source   string   `json:"source"`
	Styles   int      `json:"styles"`
}

type projectSeen struct {
	Read          bool                `json:"read"`
	Error         string              `json:"error"`
	CRS           string              `json:"crs"`
	Groups        map[string][]string `json:"groups"`
	Layers        []projectLayerSeen  `json:"layers"`
	ViewExtent    [4]float64          `json:"view_extent"`
	PNGErrors     []string            `json:"png_errors"`
	PNGSaved      bool                `json:"png_saved"`
	PNGLayers     int                 `json:"png_layers"`
	PNGLabels     int                 `json:"png_labels"`
	BasemapErrors []string            `json:"png_basemap_errors"`
	BasemapSaved  bool                `json:"png_basemap_saved"`
}

// TestQGISOpensTheProject downloads /qgis/villageplan.qgs as a user would,
// opens it with QgsProject.read and checks what an analyst gets: the
// project CRS EPSG:4530 and the township as initial view, every catalog
// layer as a valid OAPIF layer of this service named in Chinese, in its
// catalog group, with the database's feature count, categorized with one
// legend entry per ColorBy colour (plus 其他) or a single symbol, and the
// vector-tile basemap; it renders the checked layers (with labels) and the basemap
// (artifacts/qgis-project.png, artifacts/qgis-project-basemap.png) and
// requires drawn maps.
func TestQGISOpensTheProject(t *testing.T) {
	py := pythonForQGIS(t)
	srv, pool := townshipServer(t)
	ctx := context.Background()

	resp, err := http.Get(srv.URL + "/qgis/villageplan.qgs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != qgisproject.ContentType ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="villageplan.qgs"`) {
		t.Fatalf("GET /qgis/villageplan.qgs: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	dir := artifacts(t)
	prj := filepath.Join(dir, "villageplan.qgs")
	if err := os.WriteFile(prj, body, 0o644); err != nil {
		t.Fatal(err)
	}
	var got projectSeen
	runQGIS(t, py, "project_check.py", map[string]any{
		"project":     prj,
		"extent4326":  townshipExtent(t, pool),
		"png":         filepath.Join(dir, "qgis-project.png"),
		"png_basemap": filepath.Join(dir, "qgis-project-basemap.png"),
	}, &got)

	if !got.Read || got.Error != "" {
		t.Fatalf("QgsProject.read: %v %q", got.Read, got.Error)
	}
	if got.CRS != "EPSG:4530" {
		t.Errorf("project CRS %q, want EPSG:4530", got.CRS)
	}
	var ext [4]float64
	if err := pool.QueryRow(ctx, `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
		FROM (SELECT ST_Extent(ST_Transform(geom, 4530))::box2d b FROM villageplan.villages) s`).Scan(&ext[0], &ext[1], &ext[2], &ext[3]); err != nil {
		t.Fatal(err)
	}
	for i := range ext {
		if d := got.ViewExtent[i] - ext[i]; d > 1 || d < -1 {
			t.Errorf("initial view %v, want the villages' extent %v in EPSG:4530", got.ViewExtent, ext)
			break
		}
	}

	byID := map[string]projectLayerSeen{}
	for _, l := range got.Layers {
		byID[l.ID] = l
	}
	cat := layers.Default()
	if len(got.Layers) != len(cat.Layers())+1 {
		t.Errorf("project has %d layers, want the %d catalog layers and the basemap", len(got.Layers), len(cat.Layers()))
	}
	for _, l := range cat.Layers() {
		pl, ok := byID["villageplan_"+l.ID]
		if !ok {
			t.Errorf("layer %s missing from the project", l.ID)
			continue
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+l.QualifiedTable()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !pl.Valid || pl.Provider != "OAPIF" || pl.Count != n || n == 0 {
			t.Errorf("layer %s: valid %v, provider %q, %d features in QGIS, %d in the database", l.ID, pl.Valid, pl.Provider, pl.Count, n)
		}
		if pl.Name != l.TitleZH || !strings.Contains(pl.Source, srv.URL) || !strings.Contains(pl.Source, "typename='"+l.ID+"'") {
			t.Errorf("layer %s: name %q, source %q", l.ID, pl.Name, pl.Source)
		}
		inGroup := false
		for _, name := range got.Groups[l.Group] {
			inGroup = inGroup || name == l.TitleZH
		}
		if !inGroup {
			t.Errorf("layer %s (%s) not in group %s: %v", l.ID, l.TitleZH, l.Group, got.Groups[l.Group])
		}
		if l.Style.ColorBy != "" && len(l.Style.Colors) > 0 {
			if pl.Renderer != "categorizedSymbol" || len(pl.Legend) != len(l.Style.Colors)+1 {
				t.Errorf("layer %s: renderer %s with legend %q, want categorized by %s with %d entries", l.ID, pl.Renderer, pl.Legend, l.Style.ColorBy, len(l.Style.Colors)+1)
			}
		} else if pl.Renderer != "singleSymbol" {
			t.Errorf("layer %s: renderer %s, want singleSymbol", l.ID, pl.Renderer)
		}
		if pl.Labels != (l.Style.LabelField != "") {
			t.Errorf("layer %s: labels %v, label field %q", l.ID, pl.Labels, l.Style.LabelField)
		}
	}
	if b := byID["villageplan_basemap"]; !b.Valid || b.Type != "vector-tile" || b.Styles < len(cat.Layers()) {
		t.Errorf("basemap: %+v", b)
	}
	t.Logf("legend of roads: %q", byID["villageplan_roads"].Legend)
	if got.PNGLayers != len(cat.Layers()) || len(got.PNGErrors) > 0 || !got.PNGSaved || len(got.BasemapErrors) > 0 || !got.BasemapSaved {
		t.Errorf("render: %d layers, errors %q %q, saved %v %v", got.PNGLayers, got.PNGErrors, got.BasemapErrors, got.PNGSaved, got.BasemapSaved)
	}
	// Labels: the villages' names at least (six villages in the sample).
	if got.PNGLabels < 6 {
		t.Errorf("the project's render placed %d labels, want the villages' names and more", got.PNGLabels)
	}
	t.Logf("labels placed: %d", got.PNGLabels)
	checkNotBlank(t, filepath.Join(dir, "qgis-project.png"), 24)
	checkNotBlank(t, filepath.Join(dir, "qgis-project-basemap.png"), 24)
}
