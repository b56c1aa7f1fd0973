package buildinfo_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"villageplan/internal/buildinfo"
)

// TestVersionOfBuiltBinary builds the command from this checkout with VCS
// stamping and checks that `villageplan --version` names the commit the
// checkout is at (what an operator compares with the deployed release).
func TestVersionOfBuiltBinary(t *testing.T) {
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD (the test runs in a git checkout): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "villageplan")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "villageplan/cmd/villageplan")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := string(out)
	if !strings.HasPrefix(v, "villageplan ") || !strings.Contains(v, strings.TrimSpace(string(rev))) || !strings.Contains(v, "go1.") {
		t.Fatalf("--version = %q, want the commit %s and the Go version", v, rev)
	}
}

// TestGetInTestBinary: a test binary has no VCS stamp; Get still answers
// with the Go version and "unknown" revision rather than empty strings.
func TestGetInTestBinary(t *testing.T) {
	i := buildinfo.Get()
	if i.GoVersion == "" || i.Revision == "" || i.Version == "" || !strings.HasPrefix(i.String(), "villageplan ") {
		t.Fatalf("%+v", i)
	}
}
