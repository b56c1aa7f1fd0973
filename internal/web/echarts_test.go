package web

import (
	"io/fs"
	"strings"
	"testing"
)

// TestVendoredECharts: the dashboard's chart library is in the binary
// (so the page works offline), with its licence and version, without a
// source-map reference to a file that is not shipped, and the page loads
// it from there.
func TestVendoredECharts(t *testing.T) {
	st := Static()
	for _, f := range []string{"echarts.min.js", "LICENSE", "VERSION"} {
		b, err := fs.ReadFile(st, "vendor/echarts/"+f)
		if err != nil || len(b) == 0 {
			t.Fatalf("vendor/echarts/%s: %v", f, err)
		}
		if f == "echarts.min.js" && (len(b) < 500_000 || strings.Contains(string(b), "sourceMappingURL=")) {
			t.Errorf("echarts.min.js: %d bytes, source map reference %v", len(b), strings.Contains(string(b), "sourceMappingURL="))
		}
		if f == "VERSION" && !strings.HasPrefix(string(b), "echarts ") {
			t.Errorf("VERSION: %q", b)
		}
	}
	page, err := fs.ReadFile(st, "assessment.html")
	if err != nil || !strings.Contains(string(page), `src="web/vendor/echarts/echarts.min.js"`) {
		t.Errorf("assessment.html does not load the vendored ECharts: %v", err)
	}
	for _, p := range []string{"assessment.html", "js/assessment.js"} {
		b, _ := fs.ReadFile(st, p)
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s refers to another site", p)
		}
	}
}
