package siting_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"villageplan/internal/siting"
	"villageplan/layers"
)

// TestEveryCatalogLayerIsReadOrDeclared: every layer of the catalog is read
// by a rule or declared in the rule set's not_constraints, and a new layer
// that is neither stops the rule set from loading.
func TestEveryCatalogLayerIsReadOrDeclared(t *testing.T) {
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatalf("default rule set: %v", err)
	}
	cat := layers.Default()
	if err := siting.CheckLayerUse(cat, rs); err != nil {
		t.Fatalf("shipped catalog and rule set: %v", err)
	}
	// Who reads what: each catalog layer is exactly one of the two.
	read := map[string]bool{}
	for _, r := range siting.Rules() {
		for _, l := range r.DependsOn {
			read[l.ID] = true
		}
	}
	for _, l := range cat.Layers() {
		_, declared := rs.NotConstraints[l.ID]
		if read[l.ID] == declared {
			t.Errorf("layer %s: read by a rule %v, declared not a constraint %v", l.ID, read[l.ID], declared)
		}
	}
	if !read["water_pipelines"] {
		t.Errorf("water_pipelines must be read by a rule")
	}

	// A new catalog layer that no rule reads and the rule set does not
	// declare.
	fake := &layers.Layer{ID: "septic_tanks", TitleZH: "化粪池", TitleEN: "Septic tanks", Table: "septic_tanks",
		Geometry: layers.Point, MaxZoom: 22, Group: "基础设施"}
	bigger, err := layers.NewCatalog(append(cat.Layers(), fake))
	if err != nil {
		t.Fatal(err)
	}
	err = siting.CheckLayerUse(bigger, rs)
	if err == nil || !strings.Contains(err.Error(), `"septic_tanks"`) || !strings.Contains(err.Error(), "not_constraints") || !strings.Contains(err.Error(), "化粪池") {
		t.Fatalf("undeclared new layer: %v", err)
	}
	// Declared with a reason, it passes.
	rs2 := *rs
	rs2.NotConstraints = map[string]siting.LayerReason{"septic_tanks": {ZH: "测试", EN: "test"}}
	for k, v := range rs.NotConstraints {
		rs2.NotConstraints[k] = v
	}
	if err := siting.CheckLayerUse(bigger, &rs2); err != nil {
		t.Errorf("declared new layer: %v", err)
	}
}

// TestNotConstraintsValidation loads the shipped rule set with its
// not_constraints changed.
func TestNotConstraintsValidation(t *testing.T) {
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	base, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := siting.LoadRuleSet(bytes.NewReader(base)); err != nil {
		t.Fatalf("round trip of the shipped rule set: %v", err)
	}
	load := func(edit func(nc map[string]any)) error {
		var doc map[string]any
		if err := json.Unmarshal(base, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc["not_constraints"].(map[string]any))
		b, _ := json.Marshal(doc)
		_, err := siting.LoadRuleSet(bytes.NewReader(b))
		return err
	}
	for name, c := range map[string]struct {
		edit func(nc map[string]any)
		want []string
	}{
		"unknown layer": {func(nc map[string]any) { nc["nope"] = map[string]any{"zh": "x", "en": "x"} }, []string{`"nope"`, "not a catalog layer", "不在图层目录中"}},
		"read and declared": {func(nc map[string]any) { nc["water_pipelines"] = map[string]any{"zh": "x", "en": "x"} },
			[]string{`"water_pipelines"`, "water_pipeline", "remove the declaration"}},
		"neither": {func(nc map[string]any) { delete(nc, "streetlights") }, []string{`"streetlights"`, "路灯", "neither read"}},
		"no reason": {func(nc map[string]any) { nc["streetlights"] = map[string]any{"zh": "路灯", "en": " "} },
			[]string{`"streetlights"`, "Chinese and English"}},
		"unknown key": {func(nc map[string]any) { nc["streetlights"] = map[string]any{"zh": "x", "en": "x", "why": "x"} }, []string{"why"}},
	} {
		err := load(c.edit)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it to mention %q", name, err, w)
			}
		}
	}
}

// TestWaterPipelineRuleSetValidation: the pipe ranges cover every pipe
// kind of the code list and nothing else, and stay within the search
// radius.
func TestWaterPipelineRuleSetValidation(t *testing.T) {
	rs, err := siting.DefaultRuleSet()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := json.Marshal(rs)
	for name, c := range map[string]struct {
		edit func(ranges map[string]any)
		want string
	}{
		"missing kind":  {func(r map[string]any) { delete(r, "输水管") }, "lacks pipe kind 输水管"},
		"unknown kind":  {func(r map[string]any) { r["排水管"] = map[string]any{"value": 1} }, `"排水管" is not a pipe kind`},
		"zero range":    {func(r map[string]any) { r["配水管"] = map[string]any{"value": 0} }, "must be positive"},
		"beyond radius": {func(r map[string]any) { r["配水管"] = map[string]any{"value": 500} }, "search_radius_m"},
		"note missing":  {func(r map[string]any) { r["配水管"] = map[string]any{"value": 2, "placeholder": true} }, "without a note"},
	} {
		var doc map[string]any
		_ = json.Unmarshal(base, &doc)
		c.edit(doc["rules"].(map[string]any)["water_pipeline"].(map[string]any)["pipe_range_m"].(map[string]any))
		b, _ := json.Marshal(doc)
		_, err := siting.LoadRuleSet(bytes.NewReader(b))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
