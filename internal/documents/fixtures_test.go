package documents

import (
	"time"

	"github.com/paulmach/orb"

	"villageplan/internal/siting"
)

// A household of 大营村 applying for a new homestead of 24 × 18.5 m on the
// edge of the village, 界址点 in EPSG:4530 (CGCS2000 3° zone 42, zone
// number in Y). Names and numbers are made up; the 身份证号 carry valid
// GB 11643 check digits.

var day = func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 9, 30, 0, 0, cst) }

func samplePoints() []BoundaryPoint {
	x0, y0 := 4823412.318, 42461785.204
	return []BoundaryPoint{
		{No: "J1", Ring: 1, X: x0 + 18.5, Y: y0},
		{No: "J2", Ring: 1, X: x0 + 18.5, Y: y0 + 24},
		{No: "J3", Ring: 1, X: x0, Y: y0 + 24},
		{No: "J4", Ring: 1, X: x0, Y: y0},
	}
}

func sampleSite() Site {
	return Site{
		Address: "双阳区双营子回族乡大营村三组", East: "村道", South: "张玉林宅基地", West: "空闲地", North: "耕地",
		AreaM2: 444, EPSG: 4530, Points: samplePoints(),
	}
}

func sampleApplication() *Application {
	return &Application{
		Township: "长春市双阳区双营子回族乡", Village: "大营村", Group: "第三村民小组", No: "SYZ-2026-0158",
		Applicant: Person{Name: "马国强", Sex: "男", Age: 34, Phone: "13804310000", IDNumber: "220112199203154312", Hukou: "吉林省长春市双阳区双营子回族乡大营村三组"},
		Members: []Person{
			{Name: "李秀兰", Age: 32, Relation: "妻子", IDNumber: "220112199405204329", Hukou: "双营子回族乡大营村三组"},
			{Name: "马子涵", Age: 8, Relation: "女儿", IDNumber: "220112201802110026", Hukou: "双营子回族乡大营村三组"},
		},
		CurrentAreaM2: 180, CurrentFloorAreaM2: 62, CurrentCertNo: "吉（2018）双阳区不动产权第0004417号",
		Disposal: DisposalReturn,
		Site:     sampleSite(), HousingAreaM2: 150, AncillaryAreaM2: 294, AncillaryBuildingM2: 36,
		Case: CaseNewSite, Land: LandConstruction, FloorAreaM2: 132.5, Storeys: 1, HeightM: 5.8, NeighboursConsulted: true,
		Reason:         "现住房为父母所有，兄弟分户后无宅基地，家庭人口增加，住房困难，申请新建住房一处，建成后原住房退还村集体。",
		SignedOn:       day(2026, 9, 2),
		GroupOpinion:   Opinion{Text: "经第三村民小组会议讨论通过，已于2026年9月4日至9月10日公示，无异议。", Head: "刘长青", Date: day(2026, 9, 11)},
		VillageOpinion: Opinion{Text: "申请材料真实，选址符合村庄规划，已征求相邻权利人意见，同意上报。", Head: "王德福", Date: day(2026, 9, 14)},
	}
}

// sampleCheck is a stored siting check as package siting returns it: one
// BLOCK on 永久基本农田 and a PERMIT_PATH on 耕地, the rest PASS.
func sampleCheck() *siting.Result {
	f := func(v float64) *float64 { return &v }
	return &siting.Result{
		ID: 77, CreatedAt: day(2026, 9, 16), Verdict: siting.Block, RuleSetVersion: "2026.11-1",
		Site: siting.SiteFacts{AreaM2: 444, MeasureEPSG: 4530, VillageName: "大营村", VillageCode: "220112203300",
			Neighbors: map[string]string{"east": "村道", "south": "宅基地", "west": "", "north": "耕地"}},
		Rules: []siting.RuleResult{
			{Code: "permanent_farmland", TitleZH: "不得占用永久基本农田", Outcome: siting.Block, Measured: f(61.27), Unit: "m²", Threshold: f(1),
				MessageZH: "占用永久基本农田 61.27 平方米（1 个图斑）", LegalBasis: "土地管理法第三十五条、第六十二条第三款；基本农田保护条例第十七条",
				Features: []siting.Hit{{Layer: "permanent_farmland", ID: 4411, Attrs: map[string]any{"yjjbnttbbh": "2201122033000127"}, OverlapM2: 61.27}}},
			{Code: "cultivated_land", TitleZH: "占用耕地须办理农用地转用", Outcome: siting.PermitPath, Measured: f(96.4), Unit: "m²", Threshold: f(1),
				MessageZH: "占用耕地 96.40 平方米（1 个图斑）；须办理农用地转用并落实耕地占补平衡，黑土地区须剥离利用表土", LegalBasis: "土地管理法第三十七条、第四十四条",
				Features: []siting.Hit{{Layer: "land_use", ID: 90001, Attrs: map[string]any{"dlmc": "旱地"}, OverlapM2: 96.4}}},
			{Code: "power_lines", TitleZH: "电力线路保护区", Outcome: siting.Pass, Measured: f(38.2), Unit: "m", Threshold: f(10), Placeholder: true,
				MessageZH: "距 66 千伏线路 38.20 米，在保护区外", LegalBasis: "电力设施保护条例第十条"},
			{Code: "geohazard", TitleZH: "地质灾害危险区", Outcome: siting.Review, MessageZH: "无数据；图形无效的数据：地质灾害危险区 1 个，已按修复后的图形（ST_MakeValid）量算，须人工核查并更正数据", LegalBasis: "地质灾害防治条例第十九条", NoData: true},
		},
		Placeholders: true,
	}
}

// sampleMap: the site, the overlap with 永久基本农田 in its north-west
// corner, and context (a neighbour's homestead, the village road).
func sampleMap() *SiteMap {
	pts := samplePoints()
	var ring orb.Ring
	for _, p := range pts {
		ring = append(ring, orb.Point{p.Y, p.X})
	}
	ring = append(ring, ring[0])
	x0, y0 := 42461785.204, 4823412.318
	return &SiteMap{
		EPSG: 4530, Site: orb.Polygon{ring}, Points: pts,
		Overlaps: []MapFeature{{Label: "永久基本农田", Geom: orb.Polygon{{{x0, y0 + 15}, {x0 + 9, y0 + 18.5}, {x0, y0 + 18.5}, {x0, y0 + 15}}}}},
		Context: []MapFeature{
			{Label: "宅基地", Geom: orb.Polygon{{{x0 + 2, y0 - 25}, {x0 + 22, y0 - 25}, {x0 + 22, y0 - 4}, {x0 + 2, y0 - 4}, {x0 + 2, y0 - 25}}}},
			{Label: "村道", Geom: orb.LineString{{x0 + 30, y0 - 60}, {x0 + 29, y0 + 60}}},
		},
	}
}
