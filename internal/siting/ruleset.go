// Package siting checks a proposed homestead site (宅基地选址) against the
// law, rule by rule, for the approval desk (宅基地审批窗口).
//
// A check is one SQL statement (measure.go) that measures, on the
// Gauss-Krüger plane of the site's zone, everything the rules need:
// overlaps with permanent farmland, 耕地 and other 农用地, control zones and
// hazard zones in m², distances to roads and power lines in m, other
// households' parcels, the household's existing homesteads, the village,
// the 四至 neighbours, coverage of every layer and the data versions. Each
// rule (one file each: rule_*.go) then turns the measurements into an
// outcome with its legal basis. Thresholds, outcomes and local values come
// from one versioned rule-set file (ruleset.json), validated at load.
package siting

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// Outcome of a rule, from least to most severe.
type Outcome string

// Outcomes (DOMAIN.md §1): PASS; REVIEW — a person or another department
// must look (also: no data); PERMIT_PATH — allowed only after another
// approval such as 农用地转用; BLOCK — the law forbids it, refuse.
const (
	Pass       Outcome = "PASS"
	Review     Outcome = "REVIEW"
	PermitPath Outcome = "PERMIT_PATH"
	Block      Outcome = "BLOCK"
)

// Severity orders outcomes: the overall verdict is the most severe one.
func (o Outcome) Severity() int {
	switch o {
	case Pass:
		return 0
	case Review:
		return 1
	case PermitPath:
		return 2
	case Block:
		return 3
	}
	return -1
}

// LocalValue is a threshold that may be a placeholder awaiting local
// confirmation; reports say so plainly.
type LocalValue struct {
	Value       float64 `json:"value"`
	Placeholder bool    `json:"placeholder,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// VoltageBand is one row of 电力设施保护条例 第十条: lines up to MaxKV
// kilovolts have a protection zone of DistanceM metres each side of the
// outermost conductor.
type VoltageBand struct {
	MaxKV     float64 `json:"max_kv"`
	DistanceM float64 `json:"distance_m"`
}

// RuleConfig holds the settings of one rule; which keys a rule reads is
// documented in its file, and keys a rule does not read are an error.
type RuleConfig struct {
	Outcome    Outcome `json:"outcome"`
	LegalBasis string  `json:"legal_basis"`

	DLBM           []string              `json:"dlbm,omitempty"`
	ZoneKinds      []string              `json:"zone_kinds,omitempty"`
	HazardKinds    []string              `json:"hazard_kinds,omitempty"`
	Grades         []string              `json:"grades,omitempty"`
	OutcomeByGrade map[string]Outcome    `json:"outcome_by_grade,omitempty"`
	SetbackM       map[string]LocalValue `json:"setback_m,omitempty"`
	RoadLandMargin *float64              `json:"road_land_margin_m,omitempty"`
	DefaultWidthM  map[string]float64    `json:"default_subgrade_width_m,omitempty"`
	OverheadBands  []VoltageBand         `json:"overhead_bands,omitempty"`
	CableDistanceM *float64              `json:"cable_distance_m,omitempty"`
	MaxAreaM2      *LocalValue           `json:"max_area_m2,omitempty"`
}

// RuleSet is the versioned rule-set file.
type RuleSet struct {
	Version     string `json:"version"`
	Description string `json:"description"`
	// OverlapToleranceM2 is the overlap area (m²) below which an overlap is
	// digitising noise, not a conflict.
	OverlapToleranceM2 float64 `json:"overlap_tolerance_m2"`
	// MaxSiteVertices bounds the size of a submitted site.
	MaxSiteVertices int `json:"max_site_vertices"`
	// SearchRadiusM is how far (m) roads, power lines and neighbours are
	// looked for around the site; it must exceed every setback plus road
	// half-widths.
	SearchRadiusM float64 `json:"search_radius_m"`
	// NeighborRadiusM is how far (m) the 四至 neighbours of the 申请表 are
	// looked for.
	NeighborRadiusM float64               `json:"neighbor_radius_m"`
	Rules           map[string]RuleConfig `json:"rules"`
}

//go:embed ruleset.json
var defaultRuleSet []byte

// DefaultRuleSet returns the rule set shipped with the binary.
func DefaultRuleSet() (*RuleSet, error) { return LoadRuleSet(bytes.NewReader(defaultRuleSet)) }

// LoadRuleSetFile reads and validates a rule-set file.
func LoadRuleSetFile(path string) (*RuleSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := LoadRuleSet(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// LoadRuleSet decodes a rule set strictly (unknown keys are errors) and
// validates it against the registered rules.
func LoadRuleSet(r io.Reader) (*RuleSet, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var rs RuleSet
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("rule set: %w", err)
	}
	if err := rs.validate(); err != nil {
		return nil, err
	}
	return &rs, nil
}

func validOutcome(o Outcome) bool { return o.Severity() >= 0 }

func (rs *RuleSet) validate() error {
	if rs.Version == "" {
		return fmt.Errorf("rule set: version is required")
	}
	if rs.OverlapToleranceM2 < 0 || rs.MaxSiteVertices < 4 || rs.SearchRadiusM <= 0 || rs.NeighborRadiusM <= 0 {
		return fmt.Errorf("rule set: overlap_tolerance_m2 ≥ 0, max_site_vertices ≥ 4, search_radius_m > 0 and neighbor_radius_m > 0 are required")
	}
	for id := range rs.Rules {
		if _, ok := ruleByID[id]; !ok {
			known := make([]string, 0, len(registered))
			for _, r := range registered {
				known = append(known, r.ID)
			}
			sort.Strings(known)
			return fmt.Errorf("rule set: unknown rule %q (known: %v)", id, known)
		}
	}
	for _, r := range registered {
		cfg, ok := rs.Rules[r.ID]
		if !ok {
			return fmt.Errorf("rule set: rule %q is missing", r.ID)
		}
		if cfg.LegalBasis == "" {
			return fmt.Errorf("rule set: rule %q has no legal_basis", r.ID)
		}
		if !validOutcome(cfg.Outcome) {
			return fmt.Errorf("rule set: rule %q: outcome %q is not BLOCK, PERMIT_PATH, REVIEW or PASS", r.ID, cfg.Outcome)
		}
		for g, o := range cfg.OutcomeByGrade {
			if !validOutcome(o) {
				return fmt.Errorf("rule set: rule %q: outcome %q for grade %s is not valid", r.ID, o, g)
			}
		}
		if r.validate != nil {
			if err := r.validate(cfg); err != nil {
				return fmt.Errorf("rule set: rule %q: %w", r.ID, err)
			}
		}
	}
	return nil
}
