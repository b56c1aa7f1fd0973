// Command testsummary reads `go test -json` on standard input and prints
// what `go test` prints without -v (package results, and the whole output
// of failing tests), then every skipped test with its reason and a closing
// line "N passed, N failed, N skipped". `make test` pipes the test run
// through it so that no skip goes unnoticed.
//
// It exits 1 when a test or package failed or when the input held no test
// result at all; the caller still checks go test's own exit status (build
// errors are reported there).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// noise is a line of the implied -v that says nothing about a failure.
func noise(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP"} {
		if strings.HasPrefix(strings.TrimSpace(line), p) {
			return true
		}
	}
	return false
}

func main() {
	type key struct{ pkg, test string }
	out := map[key]*strings.Builder{}
	pkgOut := map[string]*strings.Builder{}
	var passed, failed, skipped int
	var skips, failures []string
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for in.Scan() {
		line := in.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(w, string(line)) // build errors and other plain text
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			if e.Test == "" {
				// Package-level lines: "ok", "FAIL", "?", panics. The
				// per-test "=== RUN"/"--- PASS" lines of the implied -v
				// are dropped.
				if strings.HasPrefix(e.Output, "FAIL") {
					// The package failed: its test output first.
					if pb := pkgOut[e.Package]; pb != nil {
						w.WriteString(pb.String())
						delete(pkgOut, e.Package)
					}
				}
				if !strings.HasPrefix(e.Output, "=== ") && !strings.HasPrefix(e.Output, "PASS\n") {
					w.WriteString(e.Output)
				}
				continue
			}
			b := out[k]
			if b == nil {
				b = &strings.Builder{}
				out[k] = b
			}
			b.WriteString(e.Output)
			// Also kept per package: test2json can attribute a line to
			// another test of the package (parallel tests), so a failing
			// package prints all of its test output.
			pb := pkgOut[e.Package]
			if pb == nil {
				pb = &strings.Builder{}
				pkgOut[e.Package] = pb
			}
			if !noise(e.Output) {
				pb.WriteString(e.Output)
			}
		case "pass":
			if e.Test != "" {
				passed++
				delete(out, k)
			} else {
				delete(pkgOut, e.Package)
			}
		case "fail":
			if e.Test != "" {
				failed++
				failures = append(failures, e.Package+" "+e.Test)
				delete(out, k)
			} else if pb := pkgOut[e.Package]; pb != nil {
				w.WriteString(pb.String())
			}
			if e.Test == "" {
				delete(pkgOut, e.Package)
			}
		case "skip":
			if e.Test != "" {
				skipped++
				reason := ""
				if b := out[k]; b != nil {
					for _, l := range strings.Split(b.String(), "\n") {
						l = strings.TrimSpace(l)
						if l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- SKIP") {
							reason = l
						}
					}
				}
				skips = append(skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason))
				delete(out, k)
			}
		}
		w.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(w, "testsummary: reading go test -json:", err)
		failed++
	}
	sort.Strings(skips)
	if len(skips) > 0 {
		fmt.Fprintf(w, "\nskipped tests (%d):\n", len(skips))
		for _, s := range skips {
			fmt.Fprintln(w, "  "+s)
		}
	}
	if len(failures) > 0 {
		fmt.Fprintf(w, "\nfailed tests (%d):\n", len(failures))
		for _, f := range failures {
			fmt.Fprintln(w, "  "+f)
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	w.Flush()
	if failed > 0 || passed+failed+skipped == 0 {
		os.Exit(1)
	}
}
