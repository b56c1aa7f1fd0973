package siting

import (
	"fmt"

	"villageplan/layers"
)

// homestead_overlap: overlap with another household's homestead parcel →
// BLOCK. one_household_one_homestead (R15, 土地管理法 第六十二条第一款): the
// applicant household already holds a homestead (not 退出) → BLOCK unless the
// application returns the old one or rebuilds in place; without a
// household id the rule is REVIEW. area_limit (R17): site area above
// "max_area_m2" → BLOCK; the value is a placeholder until Jilin's standard
// is confirmed, and the report says so.
func init() {
	ov := &Rule{ID: "homestead_overlap", TitleZH: "不得占用他户宅基地", TitleEN: "another household's homestead",
		DependsOn: []*layers.Layer{layers.Homesteads}}
	ov.evaluate = func(c *ruleContext) RuleResult {
		others := filterHits(c.m.Homestead, func(h Hit) bool { same, _ := h.Attrs["same_household"].(bool); return !same })
		return overlapRule(ov, c, others, "他户宅基地")
	}
	register(ov)

	one := &Rule{ID: "one_household_one_homestead", TitleZH: "一户一宅", TitleEN: "one household, one homestead",
		DependsOn: []*layers.Layer{layers.Homesteads}}
	one.evaluate = func(c *ruleContext) RuleResult {
		if c.input.HouseholdID == "" {
			return c.result(one, Review, "未提供申请户编号，无法核查一户一宅", "no household id given: one-household-one-homestead not checked")
		}
		n := len(c.m.Household)
		if n == 0 {
			return c.result(one, Pass, "申请户名下无在册宅基地", "the household holds no registered homestead")
		}
		if c.input.ReturnsOldHomestead || c.input.RebuildInPlace {
			res := c.result(one, Pass,
				fmt.Sprintf("申请户已有宅基地 %d 处，申请声明退出原宅基地或原址翻建", n),
				fmt.Sprintf("the household holds %d homestead(s) and declares returning it or rebuilding in place", n))
			res.Features = c.m.Household
			return res
		}
		res := c.result(one, c.cfg.Outcome,
			fmt.Sprintf("申请户已有宅基地 %d 处，且未声明退出原宅基地或原址翻建", n),
			fmt.Sprintf("the household already holds %d homestead(s) and does not return one", n))
		res.Features = c.m.Household
		return res
	}
	register(one)

	area := &Rule{ID: "area_limit", TitleZH: "宅基地面积不得超过标准", TitleEN: "homestead area limit"}
	area.validate = func(cfg RuleConfig) error {
		if cfg.MaxAreaM2 == nil || cfg.MaxAreaM2.Value <= 0 {
			return fmt.Errorf("max_area_m2 with a positive value is required")
		}
		return nil
	}
	area.evaluate = func(c *ruleContext) RuleResult {
		lim := c.cfg.MaxAreaM2
		var res RuleResult
		if round2(c.m.AreaM2) > lim.Value {
			res = c.result(area, c.cfg.Outcome,
				fmt.Sprintf("用地面积 %.2f 平方米，超过标准 %.2f 平方米", round2(c.m.AreaM2), lim.Value),
				fmt.Sprintf("site area %.2f m² exceeds the %.2f m² standard", round2(c.m.AreaM2), lim.Value))
		} else {
			res = c.result(area, Pass,
				fmt.Sprintf("用地面积 %.2f 平方米，未超过标准 %.2f 平方米", round2(c.m.AreaM2), lim.Value),
				fmt.Sprintf("site area %.2f m² within the %.2f m² standard", round2(c.m.AreaM2), lim.Value))
		}
		res.Measured, res.Unit, res.Threshold = ptr(c.m.AreaM2), "m²", ptr(lim.Value)
		res.Placeholder, res.PlaceholderNote = lim.Placeholder, lim.Note
		return res
	}
	register(area)
}
