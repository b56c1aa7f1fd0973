package siting

import (
	"fmt"
	"sort"

	"villageplan/layers"
)

// road_setback (R13): no building inside the 公路建筑控制区 (公路安全保护条例
// 第十一条), measured from the outer edge of the 公路用地.
//
// Only road centrelines are stored, so the road-land edge is derived:
//
//	distance to road-land edge = distance(site, centreline) − (路基宽度 / 2 + road_land_margin_m)
//
// with 路基宽度 the road's subgrade_width (or the rule set's
// default_subgrade_width_m for its grade when missing) and the margin the
// 公路用地 strip beyond the subgrade (公路法 第三十四条: ≥ 1 m beyond the
// ditch). A road closer than setback_m for its 行政等级 → BLOCK; the report
// gives the distance and the road. A negative distance means the site
// reaches onto the road land itself.
func init() {
	r := &Rule{ID: "road_setback", TitleZH: "公路建筑控制区内不得修建建筑物", TitleEN: "road building-control zone",
		DependsOn: []*layers.Layer{layers.Roads}}
	r.validate = func(cfg RuleConfig) error {
		if cfg.RoadLandMargin == nil || *cfg.RoadLandMargin < 0 {
			return fmt.Errorf("road_land_margin_m (≥ 0) is required")
		}
		cl, _ := layers.CodeListByID(layers.CLRoadAdminGrade)
		for _, v := range cl.Values {
			if _, ok := cfg.SetbackM[v.Value]; !ok {
				return fmt.Errorf("setback_m lacks grade %s", v.Value)
			}
			if _, ok := cfg.DefaultWidthM[v.Value]; !ok {
				return fmt.Errorf("default_subgrade_width_m lacks grade %s", v.Value)
			}
		}
		for g := range cfg.SetbackM {
			if _, ok := cl.Lookup(g); !ok {
				return fmt.Errorf("setback_m: %q is not a road grade", g)
			}
		}
		return nil
	}
	r.evaluate = func(c *ruleContext) RuleResult {
		type cand struct {
			hit                Hit
			edge, setback, gap float64
			lv                 LocalValue
		}
		var cands []cand
		for _, h := range c.m.Roads {
			grade := h.Str("admin_grade")
			lv, ok := c.cfg.SetbackM[grade]
			if !ok {
				continue
			}
			width, ok := h.Num("subgrade_width")
			if !ok || width <= 0 {
				width = c.cfg.DefaultWidthM[grade]
			}
			edge := h.DistanceM - (width/2 + *c.cfg.RoadLandMargin)
			h.Attrs["road_land_half_width_m"] = round2(width/2 + *c.cfg.RoadLandMargin)
			h.Attrs["distance_to_road_land_edge_m"] = round2(edge)
			cands = append(cands, cand{hit: h, edge: edge, setback: lv.Value, gap: lv.Value - edge, lv: lv})
		}
		if len(cands) == 0 {
			res := c.result(r, Pass, fmt.Sprintf("%.0f 米内无公路", c.rs.SearchRadiusM), fmt.Sprintf("no road within %.0f m", c.rs.SearchRadiusM))
			return res
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].gap > cands[j].gap })
		worst := cands[0]
		name := worst.hit.Str("lxbm") + " " + worst.hit.Str("admin_grade")
		var res RuleResult
		if round2(worst.edge) < worst.setback {
			res = c.result(r, c.cfg.Outcome,
				fmt.Sprintf("距%s公路用地外缘 %.2f 米，小于建筑控制区 %.2f 米", name, round2(worst.edge), worst.setback),
				fmt.Sprintf("%.2f m from the road-land edge of %s, less than the %.2f m building-control zone", round2(worst.edge), name, worst.setback))
			for _, cd := range cands {
				if round2(cd.edge) < cd.setback {
					res.Features = append(res.Features, cd.hit)
				}
			}
		} else {
			res = c.result(r, Pass,
				fmt.Sprintf("距%s公路用地外缘 %.2f 米，不小于建筑控制区 %.2f 米", name, round2(worst.edge), worst.setback),
				fmt.Sprintf("%.2f m from the road-land edge of %s, at least the %.2f m building-control zone", round2(worst.edge), name, worst.setback))
			res.Features = []Hit{worst.hit}
		}
		res.Measured, res.Unit, res.Threshold = ptr(worst.edge), "m", ptr(worst.setback)
		if worst.lv.Placeholder {
			res.Placeholder, res.PlaceholderNote = true, worst.lv.Note
		}
		return res
	}
	register(r)
}
