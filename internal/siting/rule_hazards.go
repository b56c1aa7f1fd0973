package siting

import (
	"fmt"

	"villageplan/layers"
)

// geohazard_danger (R6): overlap with 地质灾害危险区 → BLOCK (地质灾害防治条例
// 第十九条). geohazard_susceptibility (R7): overlap with 地质灾害易发区 of the
// rule-set "grades" (高/中) → REVIEW (危险性评估, 第二十一条).
// flash_flood (R8): overlap with 山洪灾害危险区 → the outcome of the worst
// grade in "outcome_by_grade" (default "outcome" for an ungraded zone).
func init() {
	danger := &Rule{ID: "geohazard_danger", TitleZH: "不得在地质灾害危险区内建设", TitleEN: "geological hazard danger zone",
		DependsOn: []*layers.Layer{layers.HazardZones}}
	danger.validate = func(cfg RuleConfig) error { return needList("hazard_kinds", cfg.HazardKinds) }
	danger.evaluate = func(c *ruleContext) RuleResult {
		return overlapRule(danger, c, filterHits(c.m.Hazards, func(h Hit) bool { return contains(c.cfg.HazardKinds, h.Str("kind")) }), "地质灾害危险区")
	}
	register(danger)

	susc := &Rule{ID: "geohazard_susceptibility", TitleZH: "地质灾害易发区须作危险性评估", TitleEN: "geological hazard susceptibility zone",
		DependsOn: []*layers.Layer{layers.HazardZones}}
	susc.validate = func(cfg RuleConfig) error {
		if err := needList("hazard_kinds", cfg.HazardKinds); err != nil {
			return err
		}
		return needList("grades", cfg.Grades)
	}
	susc.evaluate = func(c *ruleContext) RuleResult {
		return overlapRule(susc, c, filterHits(c.m.Hazards, func(h Hit) bool {
			return contains(c.cfg.HazardKinds, h.Str("kind")) && contains(c.cfg.Grades, h.Str("grade"))
		}), "地质灾害易发区（"+fmt.Sprint(c.cfg.Grades)+"）")
	}
	register(susc)

	flood := &Rule{ID: "flash_flood", TitleZH: "村庄建设应避开山洪威胁", TitleEN: "flash-flood danger zone",
		DependsOn: []*layers.Layer{layers.HazardZones}}
	flood.validate = func(cfg RuleConfig) error { return needList("hazard_kinds", cfg.HazardKinds) }
	flood.evaluate = func(c *ruleContext) RuleResult {
		hits := filterHits(c.m.Hazards, func(h Hit) bool {
			return contains(c.cfg.HazardKinds, h.Str("kind")) && h.OverlapM2 > c.rs.OverlapToleranceM2
		})
		res := overlapRule(flood, c, hits, "山洪灾害危险区")
		if len(hits) == 0 {
			return res
		}
		worst := Pass
		for _, h := range hits {
			o, ok := c.cfg.OutcomeByGrade[h.Str("grade")]
			if !ok {
				o = c.cfg.Outcome
			}
			if o.Severity() > worst.Severity() {
				worst = o
			}
		}
		res.Outcome = worst
		return res
	}
	register(flood)
}
