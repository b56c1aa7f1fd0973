// Package siting checks a proposed homestead site (宅基地选址) against the
// law, rule by rule, for the approval desk (宅基地审批窗口).
//
// A check is one SQL statement (measure.go) that measures, on the
// Gauss-Krüger plane of the site's zone, everything the rules need:
// overlaps with permanent farmland, 耕地 and other 农用地, control zones and
// hazard zones in m², distances to roads, power lines and water-supply
// pipes in m, other households' parcels, the household's existing
// homesteads, the village, the 四至 neighbours, coverage of every layer
// and the data versions. Each rule (one file each: rule_*.go) then turns
// the measurements into an outcome with its legal basis. Thresholds,
// outcomes and local values come from one versioned rule-set file
// (ruleset.json), validated at load; the rule set also declares, with
// reasons, the catalog layers that no rule reads, so a layer cannot be
// left out of the check by accident.
package siting

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"villageplan/layers"
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

// ZH is the one Chinese word for an outcome that every printout uses — the
// desk, the siting report, the documents of package documents and the CLI
// (DOMAIN.md §1: BLOCK 禁止, the law forbids it; PERMIT_PATH 须办理农用地转用,
// the only PERMIT_PATH rules are 占用耕地/其他农用地, 土地管理法 第四十四条、
// 第六十二条; REVIEW 需审查, by hand or another department; PASS 通过).
// An unknown outcome gives "".
func (o Outcome) ZH() string { return outcomeZH[o] }

var outcomeZH = map[Outcome]string{Block: "禁止", PermitPath: "须办理农用地转用", Review: "需审查", Pass: "通过"}

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
	PipeRangeM     map[string]LocalValue `json:"pipe_range_m,omitempty"`
}

// LayerReason says, in Chinese and English, why a catalog layer is not a
// siting constraint (or where its constraint is read instead).
type LayerReason struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
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
	// MaxSiteExtentM bounds the longer side (m) of a site's bounding box,
	// checked before any database work: a homestead is tens of metres
	// across, a township is not a site.
	MaxSiteExtentM float64 `json:"max_site_extent_m"`
	// MaxSiteAreaM2 bounds the site's area (m², on the measuring plane).
	MaxSiteAreaM2 float64 `json:"max_site_area_m2"`
	// MaxStoreys and MaxFloorAreaM2 (m²) bound the applicant's declared
	// storeys and floor area (Input.Validate). They are plausibility
	// bounds of a rural house, not legal limits: the rule that caps them
	// in Jilin is not known here (DOMAIN §3, §8 item 1).
	MaxStoreys     int     `json:"max_storeys"`
	MaxFloorAreaM2 float64 `json:"max_floor_area_m2"`
	// SearchRadiusM is how far (m) roads, power lines and neighbours are
	// looked for around the site; it must exceed every setback plus road
	// half-widths.
	SearchRadiusM float64 `json:"search_radius_m"`
	// NeighborRadiusM is how far (m) the 四至 neighbours of the 申请表 are
	// looked for.
	NeighborRadiusM float64               `json:"neighbor_radius_m"`
	Rules           map[string]RuleConfig `json:"rules"`
	// NotConstraints declares, by layer id, the catalog layers that no
	// rule reads, each with the reason. Every catalog layer is either read
	// by a rule (Rule.DependsOn) or declared here, never both (see
	// [CheckLayerUse]).
	NotConstraints map[string]LayerReason `json:"not_constraints"`
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
	if rs.OverlapToleranceM2 < 0 || rs.MaxSiteVertices < 4 || rs.SearchRadiusM <= 0 || rs.NeighborRadiusM <= 0 ||
		rs.MaxSiteExtentM <= 0 || rs.MaxSiteAreaM2 <= 0 || rs.MaxStoreys < 1 || rs.MaxFloorAreaM2 <= 0 {
		return fmt.Errorf("rule set: overlap_tolerance_m2 ≥ 0, max_site_vertices ≥ 4, search_radius_m > 0, neighbor_radius_m > 0, max_site_extent_m > 0, max_site_area_m2 > 0, max_storeys ≥ 1 and max_floor_area_m2 > 0 are required")
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
	for kind, lv := range rs.Rules["water_pipeline"].PipeRangeM {
		if lv.Value >= rs.SearchRadiusM {
			return fmt.Errorf("rule set: rule \"water_pipeline\": pipe_range_m %s = %g m is not below search_radius_m %g m", kind, lv.Value, rs.SearchRadiusM)
		}
	}
	return CheckLayerUse(layers.Default(), rs)
}

// CheckLayerUse checks that every layer of the catalog cat is either read
// by a registered rule (its DependsOn) or declared in rs.NotConstraints
// with a Chinese and an English reason, and not both; a declared id that is
// not in the catalog is an error too. The error names the layer, in
// Chinese and English. LoadRuleSet runs it against [layers.Default], so a
// layer added to the catalog without a rule or a declaration stops the
// rule set from loading.
func CheckLayerUse(cat *layers.Catalog, rs *RuleSet) error {
	read := map[string][]string{}
	for _, r := range registered {
		for _, l := range r.DependsOn {
			read[l.ID] = append(read[l.ID], r.ID)
		}
	}
	ids := make([]string, 0, len(rs.NotConstraints))
	for id := range rs.NotConstraints {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		why := rs.NotConstraints[id]
		if _, ok := cat.Layer(id); !ok {
			return fmt.Errorf("规则集 not_constraints 中的图层 %q 不在图层目录中 / rule set: not_constraints names %q, which is not a catalog layer", id, id)
		}
		if rules := read[id]; len(rules) > 0 {
			return fmt.Errorf("规则集 not_constraints 声明图层 %q 不是选址限制因素，但规则 %v 读取它；请删除该声明 / rule set: not_constraints declares layer %q not a constraint, but rule(s) %v read it; remove the declaration", id, rules, id, rules)
		}
		if strings.TrimSpace(why.ZH) == "" || strings.TrimSpace(why.EN) == "" {
			return fmt.Errorf("规则集 not_constraints 中图层 %q 须有中文和英文理由（zh、en）/ rule set: not_constraints %q needs a reason in Chinese and English (zh, en)", id, id)
		}
	}
	for _, l := range cat.Layers() {
		_, declared := rs.NotConstraints[l.ID]
		if len(read[l.ID]) == 0 && !declared {
			return fmt.Errorf("图层 %q（%s）既未被任何选址规则读取，也未在规则集 not_constraints 中声明为非限制因素；请为它增加规则或写明理由 / layer %q (%s) is neither read by a siting rule nor declared in the rule set's not_constraints; add a rule or state why it does not constrain a site", l.ID, l.TitleZH, l.ID, l.TitleEN)
		}
	}
	return nil
}
