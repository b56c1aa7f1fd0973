package layers

// Homesteads is the 宅基地 parcel layer (宗地, ZD): one MultiPolygon per
// parcel with its 宗地代码 and 不动产单元号. The holder's name, ID number and
// household id are personal data: never served anonymously, never in tiles.
// The house-safety and living-environment fields of the 乡村建设行动 are
// danger_grade (房屋危险性等级 A–D, 危险房屋鉴定标准 JGJ 125-2016),
// toilet_done (已改厕) and water_connected (供水入户); an idle parcel is
// status 闲置 (there is no second flag).
var Homesteads = &Layer{
	ID: "homesteads", TitleZH: "宅基地", TitleEN: "Homesteads",
	Description:  "农村宅基地宗地、不动产单元号、批准文号与状态（户主信息为个人信息，不公开）。Rural homestead parcels.",
	StandardName: "ZD",
	Table:        "homesteads", Geometry: MultiPolygon,
	Fields: []Field{
		{Name: "zddm", Code: "ZDDM", TitleZH: "宗地代码", TitleEN: "parcel code", Type: Text, MaxLength: 19, Required: true, Unique: true},
		{Name: "bdcdyh", Code: "BDCDYH", TitleZH: "不动产单元号", TitleEN: "real-estate unit number", Type: Text, MaxLength: 28, Unique: true,
			Pattern: PatternBDCDYH, PatternZH: "28 位：12 位数字、2 位字母、5 位数字、1 位字母、8 位数字", PatternEN: "28 characters: 12 digits, 2 letters, 5 digits, 1 letter, 8 digits"},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "village code", Type: Text, MaxLength: 12, Required: true}),
		{Name: "zl", Code: "ZL", TitleZH: "坐落", TitleEN: "location", Type: Text},
		{Name: "zdmj", Code: "ZDMJ", TitleZH: "宗地面积", TitleEN: "declared area", Type: Real, Unit: "m²", Min: nonNegative},
		{Name: "approval_number", TitleZH: "批准书号", TitleEN: "approval number", Type: Text},
		{Name: "approved_on", TitleZH: "批准日期", TitleEN: "approved on", Type: Date},
		{Name: "status", TitleZH: "状态", TitleEN: "status", Type: Text, CodeList: CLHomesteadStatus, Required: true},
		{Name: "household_id", TitleZH: "户编号", TitleEN: "household id", Type: Text, Personal: true, TileMinZoom: -1},
		{Name: "holder_name", TitleZH: "户主姓名", TitleEN: "holder name", Type: Text, Personal: true, TileMinZoom: -1},
		{Name: "holder_id_number", TitleZH: "户主身份证号", TitleEN: "holder ID number", Type: Text, MaxLength: 18, Personal: true, TileMinZoom: -1},
		{Name: "danger_grade", TitleZH: "房屋危险性等级", TitleEN: "house danger grade (JGJ 125)", Type: Text, CodeList: CLHouseDangerGrade},
		{Name: "toilet_done", TitleZH: "已改厕", TitleEN: "sanitary toilet done", Type: Bool},
		{Name: "water_connected", TitleZH: "供水入户", TitleEN: "piped water connected", Type: Bool},
	},
	Key: "zddm",
	Editing: Editing{Topology: []TopologyRule{
		{Kind: NoOverlap, Other: "homesteads", ToleranceM2: 0.5,
			ZH: "宅基地宗地之间不得重叠（一宗地一个不动产单元，不动产登记暂行条例实施细则 第五条）",
			EN: "homestead parcels may not overlap each other (one parcel, one real-estate unit)"},
		{Kind: NoOverlap, Other: "permanent_farmland", ToleranceM2: 0.5,
			ZH: "宅基地不得占用永久基本农田（土地管理法 第三十五条、第六十二条）",
			EN: "a homestead may not occupy permanent basic farmland (Land Administration Law art. 35, 62)"},
	}},
	MinZoom: 14, MaxZoom: 22, Group: "宅基地",
	// Browns, not pinks: the parcels sit inside the pink 村庄集中建设区.
	Style: Style{Kind: "fill", Color: "#c98b4a", Opacity: 0.8, ColorBy: "status", Colors: map[string]string{
		"已登记": "#c98b4a", "已批准": "#e0a458", "在建": "#d95f02", "闲置": "#a6a6a6", "退出": "#6d6d6d",
	}},
}

func init() { register(Homesteads) }
