package imports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"villageplan/internal/testpg"
)

// TestProgressEvents: an import reports its whole course, not only the
// reading: the file's start and end and every 1 000 features, then each
// step of the check and load phases in order, then "done" with the counts.
// Replace mode adds the delete step, a dry run ends with the rollback, and
// a failed import never says "done".
func TestProgressEvents(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	l := layer(t, "land_use")
	path := filepath.Join(t.TempDir(), "parcels.geojson")
	if err := writeParcels(path, 2500); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	record := func(evs *[]Progress) func(Progress) {
		return func(p Progress) { *evs = append(*evs, p) }
	}
	// steps renders the non-read events as "phase n/N step".
	steps := func(evs []Progress) []string {
		var out []string
		for _, e := range evs {
			if e.Phase != "read" {
				out = append(out, fmt.Sprintf("%s %d/%d %s", e.Phase, e.StepNo, e.Steps, e.Step))
			}
		}
		return out
	}

	var evs []Progress
	sum, err := Import(ctx, pool, l, []string{path}, Options{Progress: record(&evs)})
	if err != nil {
		t.Fatal(err)
	}
	var reads []Progress
	for i, e := range evs {
		if e.Phase == "read" {
			reads = append(reads, e)
			if i > 0 && evs[i-1].Phase != "read" {
				t.Errorf("read event %d after %s", i, evs[i-1].Phase)
			}
		}
	}
	if len(reads) != 4 {
		t.Fatalf("%d read events, want start, 1000, 2000, end: %+v", len(reads), reads)
	}
	for i, want := range []int{0, 1000, 2000, 2500} {
		r := reads[i]
		if r.File != path || r.Features != want || r.BytesTotal != st.Size() {
			t.Errorf("read event %d: %+v, want %d features of %s (%d bytes)", i, r, want, path, st.Size())
		}
		if i > 0 && (r.BytesDone < reads[i-1].BytesDone || r.BytesDone > r.BytesTotal) {
			t.Errorf("read event %d: bytes %d after %d of %d", i, r.BytesDone, reads[i-1].BytesDone, r.BytesTotal)
		}
	}
	if reads[0].BytesDone != 0 || reads[3].BytesDone != st.Size() {
		t.Errorf("reading starts at byte %d and ends at %d of %d", reads[0].BytesDone, reads[3].BytesDone, st.Size())
	}
	want := []string{
		"check 1/3 " + StepBuild, "check 2/3 " + StepCheck, "check 3/3 " + StepAreas,
		"load 1/4 " + StepInsert, "load 2/4 " + StepRecord, "load 3/4 " + StepCoverage, "load 4/4 " + StepCommit,
		"done 0/0 ",
	}
	if got := steps(evs); !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	last := evs[len(evs)-1]
	if last.Features != 2500 || last.Loaded != 2500 || sum.Loaded != 2500 {
		t.Errorf("done: %+v (summary loaded %d)", last, sum.Loaded)
	}
	for _, e := range evs[len(reads):] {
		if e.Features != 2500 {
			t.Errorf("%s %s: %d features, want 2500", e.Phase, e.Step, e.Features)
		}
	}

	// Replace, dry run: the delete step, and the rollback instead of the commit.
	evs = nil
	if _, err := Import(ctx, pool, l, []string{path}, Options{Mode: Replace, DryRun: true, Progress: record(&evs)}); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"check 1/3 " + StepBuild, "check 2/3 " + StepCheck, "check 3/3 " + StepAreas,
		"load 1/5 " + StepDelete, "load 2/5 " + StepInsert, "load 3/5 " + StepRecord, "load 4/5 " + StepCoverage, "load 5/5 " + StepRollBack,
		"done 0/0 ",
	}
	if got := steps(evs); !reflect.DeepEqual(got, want) {
		t.Errorf("replace dry run steps:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if last := evs[len(evs)-1]; last.Loaded != 2500 {
		t.Errorf("dry run done: %+v", last)
	}

	// A failed import (a code not in the list) stops after the reading
	// and the checks it ran, without "done".
	evs = nil
	bad := filepath.Join(t.TempDir(), "bad.geojson")
	if err := os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"DLBM":"9999","TBBH":"1"},"geometry":{"type":"Polygon","coordinates":[[[125.5,43.5],[125.501,43.5],[125.501,43.501],[125.5,43.5]]]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Import(ctx, pool, l, []string{bad}, Options{Progress: record(&evs)})
	if err == nil {
		t.Fatal("a feature with DLBM 9999 was loaded")
	}
	for _, s := range steps(evs) {
		if strings.HasPrefix(s, "done") || strings.HasPrefix(s, "load") {
			t.Errorf("failed import reported %q", s)
		}
	}
}
