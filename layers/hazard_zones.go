package layers

// HazardZones is the hazard layer: 地质灾害危险区 (construction forbidden,
// 地质灾害防治条例 第十九条), 地质灾害易发区 by grade 高/中/低 (第二十一条,
// 危险性评估), 山洪灾害危险区 by grade (防洪法 第十三条) and 洪泛区.
var HazardZones = &Layer{
	ID: "hazard_zones", TitleZH: "灾害风险区", TitleEN: "Hazard zones",
	Description: "地质灾害危险区/易发区、山洪灾害危险区、洪泛区及等级。Geological and flash-flood hazard zones.",
	Table:       "hazard_zones", Geometry: MultiPolygon,
	Fields: []Field{
		{Name: "kind", TitleZH: "类型", TitleEN: "kind", Type: Text, CodeList: CLHazardKind, Required: true},
		{Name: "grade", TitleZH: "等级", TitleEN: "grade", Type: Text, CodeList: CLHazardGrade},
		{Name: "hazard_type", TitleZH: "灾种", TitleEN: "hazard type", Type: Text},
		{Name: "name", TitleZH: "名称", TitleEN: "name", Type: Text},
		{Name: "source", TitleZH: "数据来源", TitleEN: "source", Type: Text, CodeList: CLDataSource},
	},
	MinZoom: 10, MaxZoom: 22, Group: "灾害风险",
	Style: Style{Kind: "fill", Color: "#fc8d59", Opacity: 0.35, ColorBy: "grade", Colors: map[string]string{
		"极高": "#990000", "高": "#d7301f", "中": "#fc8d59", "低": "#fdd49e", "一般": "#fee8c8",
	}},
}

func init() { register(HazardZones) }
