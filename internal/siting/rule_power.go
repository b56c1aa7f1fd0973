package siting

import (
	"fmt"
	"sort"

	"villageplan/layers"
)

// power_line (R14, R14b): a site closer to an overhead line than the
// protection distance of its voltage band ("overhead_bands": 1–10 kV 5 m,
// 35–110 kV 10 m, 154–330 kV 15 m, 500 kV 20 m; 电力设施保护条例 第十条) or to
// an underground cable than "cable_distance_m" (0.75 m) → BLOCK.
//
// The stored line is taken as the outermost conductor: the layer holds one
// line per circuit, without conductor spacing, so distances are measured
// from it (the 村庄 wind-swing variant R14a needs the grid company's
// values and is not applied).
func init() {
	r := &Rule{ID: "power_line", TitleZH: "电力线路保护区内不得兴建建筑物", TitleEN: "power line protection zone",
		DependsOn: []*layers.Layer{layers.PowerLines}}
	r.validate = func(cfg RuleConfig) error {
		if len(cfg.OverheadBands) == 0 || cfg.CableDistanceM == nil {
			return fmt.Errorf("overhead_bands and cable_distance_m are required")
		}
		for i := 1; i < len(cfg.OverheadBands); i++ {
			if cfg.OverheadBands[i].MaxKV <= cfg.OverheadBands[i-1].MaxKV {
				return fmt.Errorf("overhead_bands must be in ascending max_kv order")
			}
		}
		return nil
	}
	r.evaluate = func(c *ruleContext) RuleResult {
		type cand struct {
			hit       Hit
			protect   float64
			violation float64
		}
		var cands []cand
		for _, h := range c.m.Power {
			kv, _ := h.Num("voltage_kv")
			protect := *c.cfg.CableDistanceM
			if h.Str("laying") != "电缆" {
				protect = c.cfg.OverheadBands[len(c.cfg.OverheadBands)-1].DistanceM
				for _, b := range c.cfg.OverheadBands {
					if kv <= b.MaxKV {
						protect = b.DistanceM
						break
					}
				}
			}
			h.Attrs["protection_distance_m"] = protect
			cands = append(cands, cand{hit: h, protect: protect, violation: protect - h.DistanceM})
		}
		if len(cands) == 0 {
			return c.result(r, Pass, fmt.Sprintf("%.0f 米内无电力线路", c.rs.SearchRadiusM), fmt.Sprintf("no power line within %.0f m", c.rs.SearchRadiusM))
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].violation > cands[j].violation })
		w := cands[0]
		kv, _ := w.hit.Num("voltage_kv")
		var res RuleResult
		if round2(w.hit.DistanceM) < w.protect {
			res = c.result(r, c.cfg.Outcome,
				fmt.Sprintf("距 %g kV %s线路（%s）%.2f 米，小于保护区 %.2f 米", kv, w.hit.Str("laying"), w.hit.Str("name"), round2(w.hit.DistanceM), w.protect),
				fmt.Sprintf("%.2f m from the %g kV line %s, inside its %.2f m protection zone", round2(w.hit.DistanceM), kv, w.hit.Str("name"), w.protect))
			for _, cd := range cands {
				if round2(cd.hit.DistanceM) < cd.protect {
					res.Features = append(res.Features, cd.hit)
				}
			}
		} else {
			res = c.result(r, Pass,
				fmt.Sprintf("距最近 %g kV 线路 %.2f 米，位于保护区 %.2f 米以外", kv, round2(w.hit.DistanceM), w.protect),
				fmt.Sprintf("%.2f m from the nearest %g kV line, outside its %.2f m protection zone", round2(w.hit.DistanceM), kv, w.protect))
		}
		res.Measured, res.Unit, res.Threshold = ptr(w.hit.DistanceM), "m", ptr(w.protect)
		return res
	}
	register(r)
}
