// Package testdata locates the third-party files that the tests read as
// real input: the copies under data/testdata/real (see SOURCES.md there for
// each file's origin, licence and quirks). Tests read nothing outside the
// checkout, so a clone of the repository alone runs every test.
//
// The files are test input only: several Chinese boundary files have no
// stated licence (see SOURCES.md), so they are never embedded in the binary
// or shipped in a release.
package testdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the absolute path of data/testdata/real.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testdata: cannot locate the source file")
	}
	return filepath.Join(filepath.Dir(file), "real")
}

// Real returns the absolute path of rel (slash-separated, relative to
// data/testdata/real) and fails the test when the file is missing: a
// missing input is a broken checkout, never a reason to skip.
func Real(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test input %s missing from the checkout: %v", rel, err)
	}
	return p
}
