package layers

// WaterFacilities is the 供水工程 facility layer: water plants, supply
// wells, pump stations, tanks and reservoirs, with the scale class Ⅰ–Ⅴ of
// 集中供水工程 (capacity in m³/d) and the villages they serve.
var WaterFacilities = &Layer{
	ID: "water_facilities", TitleZH: "供水设施", TitleEN: "Water facilities",
	Description: "水厂、水源井、泵站、蓄水池及供水规模、覆盖村组与受益人口。Water-supply facilities.",
	Table:       "water_facilities", Geometry: Point,
	Fields: []Field{
		{Name: "name", TitleZH: "工程名称", TitleEN: "name", Type: Text, Required: true},
		{Name: "kind", TitleZH: "设施类型", TitleEN: "facility kind", Type: Text, CodeList: CLWaterFacility, Required: true},
		{Name: "scale_class", TitleZH: "工程规模", TitleEN: "scale class", Type: Text, CodeList: CLWaterScaleClass},
		{Name: "capacity_m3d", TitleZH: "设计供水规模", TitleEN: "design capacity", Type: Real, Unit: "m³/d", Min: nonNegative},
		{Name: "villages_served", TitleZH: "覆盖村", TitleEN: "villages served (XZQDM list)", Type: Text},
		{Name: "population_served", TitleZH: "受益人口", TitleEN: "population served", Type: Integer, Unit: "人", Min: nonNegative},
		{Name: "source_type", TitleZH: "水源类型", TitleEN: "source type", Type: Text, CodeList: CLWaterSourceType},
		{Name: "built_year", TitleZH: "建成年份", TitleEN: "year built", Type: Integer},
		{Name: "operator", TitleZH: "管护主体", TitleEN: "operator", Type: Text},
	},
	MinZoom: 11, MaxZoom: 22, Group: "基础设施",
	Style: Style{Kind: "circle", Color: "#1f78b4", Width: 6, LabelField: "name"},
}

func init() { register(WaterFacilities) }
