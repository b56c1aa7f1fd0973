package layers

// PowerLines is the 电力线路 layer: overhead lines and cables with their
// voltage in kV. The protection zone of an overhead line depends on the
// voltage (电力设施保护条例 第十条: 1–10 kV 5 m, 35–110 kV 10 m …).
var PowerLines = &Layer{
	ID: "power_lines", TitleZH: "电力线路", TitleEN: "Power lines",
	Description: "10 kV 与 66 kV 架空线路及电缆。Overhead power lines and cables.",
	Table:       "power_lines", Geometry: MultiLineString,
	Fields: []Field{
		{Name: "name", TitleZH: "线路名称", TitleEN: "line name", Type: Text},
		{Name: "voltage_kv", TitleZH: "电压等级", TitleEN: "voltage", Type: Real, Unit: "kV", Required: true, Min: nonNegative},
		{Name: "laying", TitleZH: "敷设方式", TitleEN: "laying", Type: Text, CodeList: CLPowerLaying, Required: true},
		{Name: "operator", TitleZH: "运维单位", TitleEN: "operator", Type: Text},
	},
	MinZoom: 11, MaxZoom: 22, Group: "基础设施",
	Style: Style{Kind: "line", Color: "#6a3d9a", Width: 1.5},
}

func init() { register(PowerLines) }
