package coverage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	f := filepath.Join(t.TempDir(), "boundary.geojson")
	if err := os.WriteFile(f, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want Spec
		str  string
	}{
		{"", Spec{}, "default"},
		{"township", Spec{Kind: Township}, "township"},
		{" Extent ", Spec{Kind: Extent}, "extent"},
		{"features", Spec{Kind: Features}, "features"},
		{"none", Spec{Kind: None}, "none"},
		{"villages:220112203300, 220112203301", Spec{Kind: Villages, Codes: []string{"220112203300", "220112203301"}}, "villages:220112203300,220112203301"},
		{f, Spec{Kind: File, Path: f}, f},
		{"file:" + f, Spec{Kind: File, Path: f}, f},
	} {
		got, err := ParseSpec(c.in)
		if err != nil || got.Kind != c.want.Kind || got.Path != c.want.Path || strings.Join(got.Codes, ",") != strings.Join(c.want.Codes, ",") || got.String() != c.str {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v (%s)", c.in, got, err, c.want, c.str)
		}
	}
	for in, want := range map[string]string{
		"villages:220112":       "不是 12 位数字",
		"villages:":             "no village code given",
		"townshp":               "neither township",
		"/nonexistent/area.shp": "readable file",
	} {
		if _, err := ParseSpec(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSpec(%q) error = %v, want %q", in, err, want)
		}
	}
}
