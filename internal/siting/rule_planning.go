package siting

import (
	"fmt"

	"villageplan/layers"
)

// village_construction_boundary (R4): the part of the site outside the
// 村庄建设边界 (union of rule-set "zone_kinds", normally 村庄集中建设区 and
// 村庄弹性发展区) above the overlap tolerance → BLOCK (城乡规划法 第四十二条).
// urban_development_boundary (R20): overlap with 城镇开发边界 → REVIEW.
// ecological_red_line (R5): overlap with 生态保护红线 → BLOCK.
func init() {
	vb := &Rule{ID: "village_construction_boundary", TitleZH: "须位于村庄建设边界内", TitleEN: "inside the village construction boundary",
		DependsOn: []*layers.Layer{layers.ControlZones}}
	vb.validate = func(cfg RuleConfig) error { return validZoneKinds(cfg.ZoneKinds) }
	vb.evaluate = func(c *ruleContext) RuleResult {
		outside := c.m.AreaM2 - c.m.InsideBoundaryM2
		if outside < 0 {
			outside = 0
		}
		hits := filterHits(c.m.Zones, func(h Hit) bool { return contains(c.cfg.ZoneKinds, h.Str("gkbjlxmc")) })
		if outside <= c.rs.OverlapToleranceM2 {
			res := c.result(vb, Pass, "选址位于村庄建设边界内", "the site lies inside the village construction boundary")
			res.Measured, res.Unit, res.Features = ptr(outside), "m²", hits
			return res
		}
		res := c.result(vb, c.cfg.Outcome,
			fmt.Sprintf("选址有 %.2f 平方米位于村庄建设边界（%v）以外", round2(outside), c.cfg.ZoneKinds),
			fmt.Sprintf("%.2f m² of the site lie outside the village construction boundary", round2(outside)))
		res.Measured, res.Unit, res.Threshold, res.Features = ptr(outside), "m²", ptr(c.rs.OverlapToleranceM2), hits
		return res
	}
	register(vb)

	registerZoneRule("urban_development_boundary", "城镇开发边界内适用城镇规划管理", "urban development boundary", "城镇开发边界")
	registerZoneRule("ecological_red_line", "不得占用生态保护红线", "ecological protection red line", "生态保护红线")
}

// registerZoneRule registers a rule "overlap with the control zones of
// rule-set key zone_kinds above the tolerance → outcome".
func registerZoneRule(id, zh, en, what string) {
	r := &Rule{ID: id, TitleZH: zh, TitleEN: en, DependsOn: []*layers.Layer{layers.ControlZones}}
	r.validate = func(cfg RuleConfig) error { return validZoneKinds(cfg.ZoneKinds) }
	r.evaluate = func(c *ruleContext) RuleResult {
		return overlapRule(r, c, filterHits(c.m.Zones, func(h Hit) bool { return contains(c.cfg.ZoneKinds, h.Str("gkbjlxmc")) }), what)
	}
	register(r)
}

func validZoneKinds(kinds []string) error {
	if err := needList("zone_kinds", kinds); err != nil {
		return err
	}
	cl, _ := layers.CodeListByID(layers.CLControlZoneKind)
	for _, k := range kinds {
		if _, ok := cl.Lookup(k); !ok {
			return fmt.Errorf("zone kind %q is not in the control-zone code list", k)
		}
	}
	return nil
}
