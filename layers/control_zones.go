package layers

// ControlZones is the 管控边界 layer (GKBJ): 生态保护红线, 城镇开发边界,
// 村庄集中建设区/弹性发展区, 河道管理范围, 饮用水水源保护区, 水工程管理和保护
// 范围 and announced 公路建筑控制区, each with its legal basis. The siting
// check reads it for rules R4, R5, R9–R12 and R20 of DOMAIN.md §1.
var ControlZones = &Layer{
	ID: "control_zones", TitleZH: "管控边界", TitleEN: "Control zones",
	Description:  "国土空间规划管控边界：生态保护红线、城镇开发边界、村庄建设边界、河道管理范围、水源保护区等。Planning control boundaries.",
	StandardName: "GKBJ",
	Table:        "control_zones", Geometry: MultiPolygon,
	Fields: []Field{
		{Name: "gkbjlxmc", Code: "GKBJLXMC", TitleZH: "管控边界类型", TitleEN: "kind", Type: Text, CodeList: CLControlZoneKind, Required: true},
		{Name: "name", TitleZH: "名称", TitleEN: "name", Type: Text},
		{Name: "legal_basis", TitleZH: "法律依据", TitleEN: "legal basis", Type: Text},
		{Name: "approval", TitleZH: "批准文号", TitleEN: "approval document", Type: Text},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "administrative code", Type: Text, MaxLength: 12}),
	},
	// 村庄建设边界 = 村庄集中建设区 ∪ 村庄弹性发展区 (DOMAIN.md, C9).
	Editing: Editing{Review: &Review{Field: "gkbjlxmc", Values: []string{"生态保护红线", "村庄集中建设区", "村庄弹性发展区"},
		ZH: "生态保护红线和村庄建设边界（村庄集中建设区、弹性发展区）是经批准的规划管控边界（土地管理法 第十八条；城乡规划法 第二十二条），修改须经第二人审核后发布",
		EN: "the ecological red line and the village construction boundary (村庄集中建设区, 村庄弹性发展区) are approved planning boundaries: a change is reviewed by a second person before it is published"}},
	MinZoom: 10, MaxZoom: 22, Group: "规划管控",
	Style: Style{Kind: "fill", Color: "#7570b3", Opacity: 0.25, ColorBy: "gkbjlxmc", Colors: map[string]string{
		"生态保护红线": "#1b9e77", "城镇开发边界": "#7570b3", "村庄集中建设区": "#e7298a", "村庄弹性发展区": "#f1a5c8",
		"河道管理范围": "#4292c6", "饮用水水源一级保护区": "#08519c", "饮用水水源二级保护区": "#6baed6", "饮用水水源准保护区": "#c6dbef",
		"水工程管理范围": "#2171b5", "水工程保护范围": "#9ecae1", "公路建筑控制区": "#fd8d3c",
	}},
}

func init() { register(ControlZones) }
