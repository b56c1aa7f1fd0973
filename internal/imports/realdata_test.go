package imports

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// realData returns the path of a file under ../shared/data/real (next to
// the repository), or skips the test when the folder is not there.
func realData(t testing.TB, rel string) string {
	t.Helper()
	dir := os.Getenv("VILLAGEPLAN_REAL_DATA")
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != filepath.Dir(d); d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(filepath.Dir(d), "shared", "data", "real")
				break
			}
		}
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data %s not found (set VILLAGEPLAN_REAL_DATA): %v", rel, err)
	}
	return p
}

func layer(t testing.TB, id string) *layers.Layer {
	t.Helper()
	l, ok := layers.Default().Layer(id)
	if !ok {
		t.Fatalf("no layer %s", id)
	}
	return l
}

func count(t testing.TB, pool *pgxpool.Pool, l *layers.Layer) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+l.QualifiedTable()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
