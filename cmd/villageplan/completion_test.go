package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// complete runs the shell's completion request (`villageplan __complete
// ARGS…`, what the generated bash/zsh/fish scripts call) and returns the
// offered values without their descriptions.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %q: %v", args, err)
	}
	var vals []string
	for _, line := range strings.Split(out.String(), "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		v, _, _ := strings.Cut(line, "\t")
		vals = append(vals, v)
	}
	return vals
}

func TestCompletionOfFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"export", "--format", ""}, []string{"geojson", "gpkg", "shp", "csv", "kml", "jzd", "pmtiles"}, []string{"text"}},
		{[]string{"check", "--format", ""}, []string{"text", "json"}, []string{"gpkg"}},
		{[]string{"export", "--layer", ""}, []string{"homesteads", "permanent_farmland", "villages", "roads"}, nil},
		{[]string{"import", "--layer", "home"}, []string{"homesteads"}, nil},
		{[]string{"import", "--crs", ""}, []string{"CRS84", "EPSG:4490", "EPSG:4525", "EPSG:4549"}, nil},
		{[]string{"import", "--mode", ""}, []string{"append", "replace", "upsert"}, nil},
		{[]string{"import", "--encoding", ""}, []string{"UTF-8", "GBK"}, nil},
		{[]string{"export", "--encoding", ""}, []string{"UTF-8", "GBK"}, nil},
		{[]string{"import", "--coverage", ""}, []string{"township", "villages:", "extent"}, nil},
		{[]string{"user", "add", "bob", "--role", ""}, []string{"village_clerk", "township_approver", "admin"}, nil},
		{[]string{"user", "role", "add", "bob", ""}, []string{"planning_editor", "personal_data"}, nil},
		{[]string{"coverage", "show", ""}, []string{"homesteads", "land_use"}, nil},
		{[]string{"serve", "--sample-scale", ""}, []string{"township", "county", "county5"}, nil},
		{[]string{"serve", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, nil},
		{[]string{"db", "status", "--log-format", ""}, []string{"text", "json"}, nil},
	} {
		got := complete(t, tc.args...)
		for _, w := range tc.want {
			if !contains(got, w) {
				t.Errorf("%v: %q not offered; got %v", tc.args, w, got)
			}
		}
		for _, n := range tc.not {
			if contains(got, n) {
				t.Errorf("%v: %q offered but the command refuses it", tc.args, n)
			}
		}
	}
}

// Every flag whose values come from a closed set has a completion on every
// command that declares it, so a new command with --layer or --crs cannot
// forget it.
func TestCompletionCoversValueFlags(t *testing.T) {
	root := newRootCommand()
	closed := []string{"layer", "crs", "format", "encoding", "mode", "role", "coverage", "sample-scale"}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range closed {
			if c.Flags().Lookup(name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); !ok {
				t.Errorf("%s --%s has no value completion", c.CommandPath(), name)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	if _, ok := root.GetFlagCompletionFunc("log-level"); !ok {
		t.Error("--log-level has no value completion")
	}
}

func TestCompletionScript(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	if err := root.GenBashCompletionV2(&out, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "__start_villageplan") {
		t.Errorf("bash completion script lacks its entry function:\n%.300s", out.String())
	}
	if c, _, err := root.Find([]string{"completion", "bash"}); err != nil || c.Name() != "bash" {
		t.Errorf("villageplan completion bash: %v", err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
