package siting

import (
	"fmt"
	"sort"

	"villageplan/layers"
)

// water_pipeline: no building inside the safety protection range
// (安全保护范围) of a public water-supply pipe. 《城市供水条例》(国务院令第158号,
// 2020 rev.) 第二十九条: "在规定的城市公共供水管道及其附属设施的地面和地下的安全
// 保护范围内，禁止挖坑取土或者修建建筑物、构筑物等危害供水设施安全的活动"; the
// penalty is 第三十五条第（二）项. National law gives no width: the range is
// set locally, by pipe kind, in rule-set key "pipe_range_m" (metres each
// side of the pipe, one entry for every value of the 管道类型 code list:
// 输水管, 配水管), marked placeholder until 双阳区 confirms it.
//
// The distance is measured on the Gauss-Krüger plane from the site to the
// pipe wall:
//
//	distance to pipe wall = max(0, distance(site, stored centreline) − 管径/2)
//
// with 管径 the layer's diameter_mm (0 when missing). A site whose
// distance, rounded to 0.01 m, is less than the range → outcome (BLOCK); at
// or beyond it → PASS, as for power_line. A site reaching over the pipe
// has distance 0. The result names every pipe inside its range.
func init() {
	r := &Rule{ID: "water_pipeline", TitleZH: "供水管道安全保护范围内不得修建建筑物", TitleEN: "water-supply pipe protection range",
		DependsOn: []*layers.Layer{layers.WaterPipelines}}
	r.validate = func(cfg RuleConfig) error {
		cl, _ := layers.CodeListByID(layers.CLPipeKind)
		for _, v := range cl.Values {
			lv, ok := cfg.PipeRangeM[v.Value]
			if !ok {
				return fmt.Errorf("pipe_range_m lacks pipe kind %s", v.Value)
			}
			if lv.Value <= 0 {
				return fmt.Errorf("pipe_range_m %s must be positive", v.Value)
			}
			if lv.Placeholder && lv.Note == "" {
				return fmt.Errorf("pipe_range_m %s is a placeholder without a note", v.Value)
			}
		}
		for k := range cfg.PipeRangeM {
			if _, ok := cl.Lookup(k); !ok {
				return fmt.Errorf("pipe_range_m: %q is not a pipe kind (%s)", k, layers.CLPipeKind)
			}
		}
		return nil
	}
	r.evaluate = func(c *ruleContext) RuleResult {
		type cand struct {
			hit                Hit
			wall, gap          float64
			lv                 LocalValue
			kind, kindEN, name string
		}
		cl, _ := layers.CodeListByID(layers.CLPipeKind)
		var cands []cand
		for _, h := range c.m.Pipes {
			kind := h.Str("kind")
			lv, ok := c.cfg.PipeRangeM[kind]
			if !ok {
				continue // kind is required and code-listed; the rule set lists every kind
			}
			half := 0.0
			if d, ok := h.Num("diameter_mm"); ok && d > 0 {
				half = d / 2000
			}
			wall := h.DistanceM - half
			if wall < 0 {
				wall = 0
			}
			h.Attrs["protection_range_m"] = lv.Value
			h.Attrs["distance_to_pipe_wall_m"] = round2(wall)
			name := h.Str("name")
			if name == "" {
				name = fmt.Sprintf("#%d", h.ID)
			}
			kindEN := kind
			if v, ok := cl.Lookup(kind); ok {
				kindEN = v.NameEN
			}
			cands = append(cands, cand{hit: h, wall: wall, gap: lv.Value - wall, lv: lv, kind: kind, kindEN: kindEN, name: name})
		}
		if len(cands) == 0 {
			return c.result(r, Pass, fmt.Sprintf("%.0f 米内无供水管道", c.rs.SearchRadiusM), fmt.Sprintf("no water-supply pipe within %.0f m", c.rs.SearchRadiusM))
		}
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].gap > cands[j].gap })
		w := cands[0]
		var res RuleResult
		if round2(w.wall) < w.lv.Value {
			res = c.result(r, c.cfg.Outcome,
				fmt.Sprintf("距%s（%s）管壁 %.2f 米，位于安全保护范围 %.2f 米以内", w.kind, w.name, round2(w.wall), w.lv.Value),
				fmt.Sprintf("%.2f m from the wall of the %s %s, inside its %.2f m safety protection range", round2(w.wall), w.kindEN, w.name, w.lv.Value))
			for _, cd := range cands {
				if round2(cd.wall) < cd.lv.Value {
					res.Features = append(res.Features, cd.hit)
				}
			}
		} else {
			res = c.result(r, Pass,
				fmt.Sprintf("距最近的%s（%s）管壁 %.2f 米，位于安全保护范围 %.2f 米以外", w.kind, w.name, round2(w.wall), w.lv.Value),
				fmt.Sprintf("%.2f m from the wall of the nearest %s %s, outside its %.2f m safety protection range", round2(w.wall), w.kindEN, w.name, w.lv.Value))
			res.Features = []Hit{w.hit}
		}
		res.Measured, res.Unit, res.Threshold = ptr(w.wall), "m", ptr(w.lv.Value)
		if w.lv.Placeholder {
			res.Placeholder, res.PlaceholderNote = true, w.lv.Note
		}
		return res
	}
	register(r)
}
