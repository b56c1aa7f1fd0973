package imports

import (
	"context"
	"testing"
	"villageplan/data/testdata"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// realData returns the path of a real third-party file under
// data/testdata/real (SOURCES.md there).
func realData(t testing.TB, rel string) string {
	t.Helper()
	return testdata.Real(t, rel)
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
