package siting

import (
	"fmt"

	"villageplan/layers"
)

// cultivated_land (R2): overlap with 耕地 (三调 DLBM 0101/0102/0103) →
// PERMIT_PATH: 农用地转用 and 耕地占补平衡 are needed, and in Jilin's black-soil
// area the topsoil must be stripped (黑土地保护法 第二十一条).
// agricultural_land (R3): overlap with other 农用地 classes (园地, 林地,
// 草地, 农村道路, 坑塘, 沟渠, 设施农用地, 田坎) → PERMIT_PATH (农用地转用).
// Both read rule-set key "dlbm".
func init() {
	cult := &Rule{ID: "cultivated_land", TitleZH: "占用耕地须办理农用地转用", TitleEN: "cultivated land (耕地)",
		DependsOn: []*layers.Layer{layers.LandUse}}
	cult.validate = func(cfg RuleConfig) error { return validDLBM(cfg.DLBM) }
	cult.evaluate = func(c *ruleContext) RuleResult {
		hits := filterHits(c.m.LandUse, func(h Hit) bool { return contains(c.cfg.DLBM, h.Str("dlbm")) })
		res := overlapRule(cult, c, hits, "耕地")
		if res.Outcome != Pass {
			res.MessageZH += "；须办理农用地转用并落实耕地占补平衡，黑土地区须剥离利用表土"
			res.MessageEN += "; needs conversion approval (农用地转用), compensation of farmland and black-soil topsoil stripping"
		}
		return res
	}
	register(cult)

	agri := &Rule{ID: "agricultural_land", TitleZH: "占用其他农用地须办理农用地转用", TitleEN: "other agricultural land (农用地)",
		DependsOn: []*layers.Layer{layers.LandUse}}
	agri.validate = func(cfg RuleConfig) error { return validDLBM(cfg.DLBM) }
	agri.evaluate = func(c *ruleContext) RuleResult {
		hits := filterHits(c.m.LandUse, func(h Hit) bool { return contains(c.cfg.DLBM, h.Str("dlbm")) })
		return overlapRule(agri, c, hits, "其他农用地")
	}
	register(agri)
}

func validDLBM(codes []string) error {
	if err := needList("dlbm", codes); err != nil {
		return err
	}
	cl, _ := layers.CodeListByID(layers.CLDLBM)
	for _, c := range codes {
		if _, ok := cl.Lookup(c); !ok {
			return fmt.Errorf("dlbm %q is not a 三调 code", c)
		}
	}
	return nil
}
