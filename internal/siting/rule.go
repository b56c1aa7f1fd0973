package siting

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"villageplan/layers"
)

// Rule is one named siting rule. Each lives in its own rule_*.go file with
// its legal basis in the rule set.
type Rule struct {
	// ID is the key of the rule in the rule set and in results.
	ID string
	// TitleZH and TitleEN name the rule on the report.
	TitleZH, TitleEN string
	// DependsOn lists the layers the rule reads: where any of them has no
	// coverage at the site, the rule answers REVIEW (no data), never PASS.
	DependsOn []*layers.Layer
	validate  func(cfg RuleConfig) error
	evaluate  func(c *ruleContext) RuleResult
}

// ruleContext is what a rule's evaluate reads.
type ruleContext struct {
	m     *Measurements
	cfg   RuleConfig
	rs    *RuleSet
	input *Input
}

// RuleResult is the verdict of one rule.
type RuleResult struct {
	Code    string  `json:"code"`
	TitleZH string  `json:"title_zh"`
	TitleEN string  `json:"title_en"`
	Outcome Outcome `json:"outcome"`
	// Measured is the overlap area (m²) or distance (m) that decided the
	// outcome, rounded to 0.01; nil when nothing was measured.
	Measured *float64 `json:"measured,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	// Threshold is the limit the measurement was compared with.
	Threshold *float64 `json:"threshold,omitempty"`
	MessageZH string   `json:"message_zh"`
	MessageEN string   `json:"message_en"`
	// Features are the features that caused the outcome.
	Features   []Hit  `json:"features,omitempty"`
	LegalBasis string `json:"legal_basis"`
	// Placeholder is set when a threshold used is a local value that
	// awaits confirmation; PlaceholderNote says which.
	Placeholder     bool   `json:"placeholder,omitempty"`
	PlaceholderNote string `json:"placeholder_note,omitempty"`
	NoData          bool   `json:"no_data,omitempty"`
}

var (
	registered []*Rule
	ruleByID   = map[string]*Rule{}
)

func register(r *Rule) {
	registered = append(registered, r)
	ruleByID[r.ID] = r
}

// Rules returns the registered rules in report order.
func Rules() []*Rule {
	out := append([]*Rule(nil), registered...)
	sort.SliceStable(out, func(i, j int) bool { return ruleOrder(out[i].ID) < ruleOrder(out[j].ID) })
	return out
}

var order = []string{
	"permanent_farmland", "cultivated_land", "agricultural_land", "village_construction_boundary", "urban_development_boundary",
	"ecological_red_line", "geohazard_danger", "geohazard_susceptibility", "flash_flood", "river_management",
	"water_source_primary", "water_source_secondary", "water_works", "road_setback", "power_line",
	"water_pipeline", "homestead_overlap", "one_household_one_homestead", "area_limit",
}

func ruleOrder(id string) int {
	for i, o := range order {
		if o == id {
			return i
		}
	}
	return len(order)
}

// round2 rounds to 0.01 (the report's precision for m and m²).
func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ptr(x float64) *float64 { v := round2(x); return &v }

func (c *ruleContext) result(r *Rule, o Outcome, zh, en string) RuleResult {
	return RuleResult{Code: r.ID, TitleZH: r.TitleZH, TitleEN: r.TitleEN, Outcome: o, MessageZH: zh, MessageEN: en, LegalBasis: c.cfg.LegalBasis}
}

// overlapRule is the shape shared by the rules "any overlap above the
// tolerance with features of these kinds → outcome".
func overlapRule(r *Rule, c *ruleContext, hits []Hit, what string) RuleResult {
	var total float64
	var found []Hit
	for _, h := range hits {
		if h.OverlapM2 > c.rs.OverlapToleranceM2 {
			total += h.OverlapM2
			found = append(found, h)
		}
	}
	if len(found) == 0 {
		res := c.result(r, Pass, "未占用"+what, "no overlap with "+r.TitleEN)
		res.Measured, res.Unit = ptr(total), "m²"
		return res
	}
	res := c.result(r, c.cfg.Outcome,
		fmt.Sprintf("占用%s %.2f 平方米（%d 个图斑）", what, round2(total), len(found)),
		fmt.Sprintf("overlaps %s by %.2f m² (%d features)", r.TitleEN, round2(total), len(found)))
	res.Measured, res.Unit, res.Features = ptr(total), "m²", found
	res.Threshold = ptr(c.rs.OverlapToleranceM2)
	return res
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func filterHits(hits []Hit, keep func(Hit) bool) []Hit {
	var out []Hit
	for _, h := range hits {
		if keep(h) {
			out = append(out, h)
		}
	}
	return out
}

func needList(name string, l []string) error {
	if len(l) == 0 {
		return fmt.Errorf("%s must list at least one value", name)
	}
	return nil
}

func joinNames(ls []*layers.Layer) string {
	var names []string
	for _, l := range ls {
		names = append(names, l.TitleZH)
	}
	return strings.Join(names, "、")
}
