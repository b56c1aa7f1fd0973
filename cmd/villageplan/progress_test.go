package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"villageplan/internal/imports"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// parcelsFile writes n small land-use parcels near 双阳区 as GeoJSON.
func parcelsFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		x, y := 125.45+float64(i%100)*0.0005, 43.30+float64(i/100)*0.0009
		b.WriteString(`{"type":"Feature","properties":{"DLBM":"0103","TBBH":"` + itoa(i+1) + `"},"geometry":{"type":"Polygon","coordinates":[[[` +
			ftoa(x) + `,` + ftoa(y) + `],[` + ftoa(x+0.0004) + `,` + ftoa(y) + `],[` + ftoa(x+0.0004) + `,` + ftoa(y+0.0004) + `],[` + ftoa(x) + `,` + ftoa(y) + `]]]}}`)
	}
	b.WriteString("]}\n")
	path := filepath.Join(t.TempDir(), "parcels.geojson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportProgressLines: where stderr is not a terminal (logs, CI), the
// import says when the file has been read and each step of checking and
// loading, in order.
func TestImportProgressLines(t *testing.T) {
	url := testpg.NewDatabase(t)
	path := parcelsFile(t, 1500)
	out, errOut, err := run(t, "--database-url", url, "import", "--layer", "land_use", path)
	if err != nil {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	re := regexp.MustCompile(`(?s)read parcels\.geojson: 1500 features .*` +
		`check 1/3: building geometries, 1500 features .*check 2/3: checking geometries.*check 3/3: comparing declared areas.*` +
		`load 1/4: inserting, 1500 features .*load 2/4: recording the source.*load 3/4: recording the coverage.*load 4/4: committing`)
	if !re.MatchString(errOut) {
		t.Errorf("progress lines:\n%s", errOut)
	}
}

// TestImportProgressBar: on a terminal the bar does not stop after
// reading: the check and load phases have their bars, whose descriptions
// name the steps and whose counts advance (a bar that completes is
// cleared, so its last step shows as 2/3).
func TestImportProgressBar(t *testing.T) {
	pool := testpg.New(t)
	l, _ := layers.Default().Layer("land_use")
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.tty = true // as on a terminal
	sum, err := imports.Import(context.Background(), pool, l, []string{parcelsFile(t, 1500)}, imports.Options{Progress: p.report})
	p.finish()
	if err != nil || sum.Loaded != 1500 {
		t.Fatalf("import: %v", err)
	}
	s := buf.String()
	for _, want := range []string{"reading parcels.geojson: 1000 features", "checking 1500 features: building geometries", "checking 1500 features: comparing declared areas", "(2/3)",
		"loading 1500 features: inserting", "loading 1500 features: committing"} {
		if !strings.Contains(s, want) {
			t.Errorf("the bar never shows %q:\n%q", want, s)
		}
	}
	if i, j := strings.Index(s, "checking 1500"), strings.Index(s, "loading 1500"); i < 0 || j < i {
		t.Errorf("checking at %d, loading at %d", i, j)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 7, 64) }
