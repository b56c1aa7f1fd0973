package layers

// WaterPipelines is the 供水管网 layer: transmission mains and
// distribution pipes, diameter in mm.
var WaterPipelines = &Layer{
	ID: "water_pipelines", TitleZH: "供水管网", TitleEN: "Water pipelines",
	Description: "输水管与配水管。Water transmission and distribution pipes.",
	Table:       "water_pipelines", Geometry: MultiLineString,
	Fields: []Field{
		{Name: "name", TitleZH: "管线名称", TitleEN: "name", Type: Text},
		{Name: "kind", TitleZH: "管道类型", TitleEN: "pipe kind", Type: Text, CodeList: CLPipeKind, Required: true},
		{Name: "diameter_mm", TitleZH: "管径", TitleEN: "diameter", Type: Integer, Unit: "mm", Min: nonNegative},
		{Name: "material", TitleZH: "管材", TitleEN: "material", Type: Text, CodeList: CLPipeMaterial},
		{Name: "built_year", TitleZH: "建成年份", TitleEN: "year built", Type: Integer},
		{Name: "facility", TitleZH: "所属供水工程", TitleEN: "supplying facility", Type: Text},
	},
	MinZoom: 13, MaxZoom: 22, Group: "基础设施",
	Style: Style{Kind: "line", Color: "#1f78b4", Width: 1.5},
}

func init() { register(WaterPipelines) }
