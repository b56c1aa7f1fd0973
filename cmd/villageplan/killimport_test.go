package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/testpg"
)

// importState fingerprints everything an import may write: the layer's
// rows, its history (edit_history, edit_batch, edit_batch_prior), its
// coverage (layer_coverage), its source records and layer_version.
func importState(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tbl := range []string{"land_use", "edit_history", "edit_batch", "edit_batch_prior", "layer_coverage", "layer_version", "layer_metadata"} {
		var n int64
		var sum *string
		if err := pool.QueryRow(context.Background(), `SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM villageplan.`+tbl+` t`).Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		s := ""
		if sum != nil {
			s = *sum
		}
		out[tbl] = itoa(int(n)) + " rows " + s
	}
	return out
}

// TestKillImportLeavesNoTrace: `villageplan import --mode replace` of 6000
// parcels over a layer that already has data, history and coverage is
// killed with SIGKILL at the start of every step it reports (reading,
// each check, deleting the old features, inserting, recording the source,
// recording the coverage, committing). Afterwards the layer, its history
// (edit_history, edit_batch, edit_batch_prior), its coverage, its source
// record and layer_version are exactly as before — or, for a kill that
// lands after the commit went out, exactly those of the whole import.
func TestKillImportLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	url := testpg.NewDatabase(t)
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bin := filepath.Join(t.TempDir(), "villageplan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The state to keep: an import (batch history and coverage), then an
	// edit by SQL (per-feature history).
	if out, err := exec.Command(bin, "--database-url", url, "import", "--layer", "land_use", parcelsFile(t, 300)).CombinedOutput(); err != nil {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	if _, err := pool.Exec(ctx, `UPDATE villageplan.land_use SET dlmc = '水田（核实）' WHERE id IN (SELECT id FROM villageplan.land_use ORDER BY id LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	before := importState(t, pool)
	file := parcelsFile(t, 6000)

	for _, step := range []string{"read parcels.geojson", "check 1/3", "check 2/3", "check 3/3", "load 1/5", "load 2/5", "load 3/5", "load 4/5", "load 5/5"} {
		cmd := exec.Command(bin, "--database-url", url, "import", "--layer", "land_use", "--mode", "replace", file)
		cmd.Env = append(os.Environ(), "DATABASE_URL=")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		killed := false
		var seen []string
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), step) {
				_ = cmd.Process.Kill() // SIGKILL: no deferred rollback, no goodbye to the server
				killed = true
				break
			}
		}
		go func() { _, _ = bufio.NewReader(stderr).WriteTo(devNull{}) }()
		err = cmd.Wait()
		if !killed {
			t.Fatalf("step %q never reported (import ended: %v):\n%s", step, err, strings.Join(seen, "\n"))
		}
		// The server notices the dead client when it next reads from or
		// writes to it and rolls the transaction back; wait for that.
		deadline := time.Now().Add(60 * time.Second)
		for {
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
				AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill at %q: the import's backend is still working after 60 s", step)
			}
			time.Sleep(100 * time.Millisecond)
		}
		after := importState(t, pool)
		changed := []string{}
		for k, v := range before {
			if after[k] != v {
				changed = append(changed, k+": "+v+" → "+after[k])
			}
		}
		if len(changed) == 0 {
			t.Logf("kill at %q: nothing changed", step)
			continue
		}
		// Only a kill while committing may find the import committed,
		// and then whole: 6000 parcels, one more batch, a new coverage.
		if step != "load 5/5" || !strings.HasPrefix(after["land_use"], "6000 rows") || after["layer_coverage"] == before["layer_coverage"] ||
			after["edit_batch"] == before["edit_batch"] {
			t.Fatalf("kill at %q changed:\n%s", step, strings.Join(changed, "\n"))
		}
		t.Logf("kill at %q: the commit had gone out; the import landed whole", step)
		break
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }
