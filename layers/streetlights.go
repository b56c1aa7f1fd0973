package layers

// Streetlights is the 路灯 layer: one point per pole on the main village
// roads, with light source, power in W, supply and status.
var Streetlights = &Layer{
	ID: "streetlights", TitleZH: "路灯", TitleEN: "Streetlights",
	Description: "村内主要道路路灯点位、光源、功率、供电方式与运行状态。Streetlight poles.",
	Table:       "streetlights", Geometry: Point,
	Fields: []Field{
		{Name: "pole_id", TitleZH: "灯杆编号", TitleEN: "pole id", Type: Text, Required: true},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "所属村代码", TitleEN: "village code", Type: Text, MaxLength: 12}),
		{Name: "lxbm", Code: "LXBM", TitleZH: "所在道路", TitleEN: "road route code", Type: Text, MaxLength: 10},
		{Name: "light_source", TitleZH: "光源类型", TitleEN: "light source", Type: Text, CodeList: CLLightSource},
		{Name: "power_w", TitleZH: "功率", TitleEN: "power", Type: Real, Unit: "W", Min: nonNegative},
		{Name: "pole_height", TitleZH: "灯杆高度", TitleEN: "pole height", Type: Real, Unit: "m", Min: nonNegative},
		{Name: "supply", TitleZH: "供电方式", TitleEN: "power supply", Type: Text, CodeList: CLPowerSupply},
		{Name: "control", TitleZH: "控制方式", TitleEN: "switching control", Type: Text, CodeList: CLLightControl},
		{Name: "status", TitleZH: "运行状态", TitleEN: "status", Type: Text, CodeList: CLLightStatus, Required: true},
		{Name: "installed_on", TitleZH: "安装日期", TitleEN: "installed on", Type: Date},
		{Name: "last_inspected", TitleZH: "最近巡检日期", TitleEN: "last inspected", Type: Date},
		{Name: "maintainer", TitleZH: "管护单位", TitleEN: "maintainer", Type: Text},
	},
	MinZoom: 14, MaxZoom: 22, Group: "基础设施",
	Style: Style{Kind: "circle", Color: "#ffd92f", Width: 3, ColorBy: "status", Colors: map[string]string{
		"正常": "#ffd92f", "故障": "#e41a1c", "维修中": "#ff7f00", "停用": "#999999",
	}},
}

func init() { register(Streetlights) }
