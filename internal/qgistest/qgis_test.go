package qgistest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/data/sample"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

// pythonForQGIS is Debian's interpreter, whose dist-packages hold PyQGIS
// (python3-qgis); a python3 earlier on PATH (pyenv, venv) would not see it.
// VILLAGEPLAN_QGIS_PYTHON overrides it.
func pythonForQGIS(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the QGIS tests run real QGIS (several seconds each)")
	}
	py := os.Getenv("VILLAGEPLAN_QGIS_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	cmd := exec.Command(py, "-c", "from qgis.core import Qgis; print(Qgis.QGIS_VERSION)")
	cmd.Env = qgisEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Loud: make test installs QGIS via install-deps.sh --with-test-tools.
		t.Fatalf("no PyQGIS for %s (%v: %s): install Debian's python3-qgis (internal/devtools/install-deps.sh --with-test-tools, what `make test` does) or set VILLAGEPLAN_QGIS_PYTHON; -short skips the QGIS tests", py, err, bytes.TrimSpace(out))
	}
	t.Logf("QGIS %s", lastLine(out))
	return py
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// qgisEnv runs QGIS headless with a throwaway profile (HOME, XDG dirs), so
// the test neither reads nor writes the user's QGIS settings.
func qgisEnv(t *testing.T) []string {
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"QT_QPA_PLATFORM=offscreen", "HOME=" + home, "XDG_RUNTIME_DIR=" + run,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONFAULTHANDLER=1"}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	return env
}

// runQGIS runs testdata/script with job as JSON on stdin and decodes its
// JSON answer (the last line of stdout) into out.
func runQGIS(t *testing.T, py, script string, job, out any) {
	t.Helper()
	in, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", script))
	cmd.Env = qgisEnv(t)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", script, err, stdout.String(), stderr.String())
	}
	t.Logf("%s ran in %s", script, time.Since(start).Round(time.Millisecond))
	if err := json.Unmarshal([]byte(lastLine(stdout.Bytes())), out); err != nil {
		t.Fatalf("%s: answer is not JSON: %v\nstdout: %s\nstderr: %s", script, err, stdout.String(), stderr.String())
	}
}

// townshipServer is the whole service on a fresh database holding the
// sample township (seed 1).
func townshipServer(t *testing.T) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := testpg.New(t)
	if _, err := sample.Load(context.Background(), pool, sample.Options{Seed: 1, Scale: sample.ScaleTownship}, nil); err != nil {
		t.Fatal(err)
	}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	ts := httptest.NewServer(httpapi.New(httpapi.Options{Pool: pool, Catalog: layers.Default(), TrustedProxies: loopback}))
	t.Cleanup(ts.Close)
	return ts, pool
}

// townshipExtent is the bbox (EPSG:4326) of the sample's villages.
func townshipExtent(t *testing.T, pool *pgxpool.Pool) [4]float64 {
	t.Helper()
	var e [4]float64
	if err := pool.QueryRow(context.Background(), `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
		FROM (SELECT ST_Extent(geom) b FROM villageplan.villages) s`).Scan(&e[0], &e[1], &e[2], &e[3]); err != nil {
		t.Fatal(err)
	}
	return e
}

func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VILLAGEPLAN_TEST_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// checkNotBlank decodes the PNG QGIS rendered and requires a drawn map:
// at least minColours distinct colours (quantised to 4 bits per channel)
// and at most 60 % of the pixels in the most common colour.
func checkNotBlank(t *testing.T, path string, minColours int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	hist := map[uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			hist[(r>>12)<<8|(g>>12)<<4|bl>>12]++
		}
	}
	top := 0
	for _, n := range hist {
		top = max(top, n)
	}
	total := b.Dx() * b.Dy()
	t.Logf("%s: %dx%d, %d distinct colours, most common %.0f %%", path, b.Dx(), b.Dy(), len(hist), 100*float64(top)/float64(total))
	if len(hist) < minColours || float64(top) > 0.6*float64(total) {
		t.Errorf("%s looks blank: %d colours (want ≥ %d), most common colour on %d of %d pixels", path, len(hist), minColours, top, total)
	}
}
