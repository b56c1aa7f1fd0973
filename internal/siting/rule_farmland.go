package siting

import "villageplan/layers"

// permanent_farmland (DOMAIN.md R1): any overlap with 永久基本农田 above the
// overlap tolerance → outcome (BLOCK). 土地管理法 第三十五、三十七、六十二条;
// 基本农田保护条例 第十七条.
func init() {
	r := &Rule{ID: "permanent_farmland", TitleZH: "不得占用永久基本农田", TitleEN: "permanent basic farmland",
		DependsOn: []*layers.Layer{layers.PermanentFarmland}}
	r.evaluate = func(c *ruleContext) RuleResult { return overlapRule(r, c, c.m.Farmland, "永久基本农田") }
	register(r)
}
