package layers

// PermanentFarmland is the 永久基本农田保护图斑 layer (YJJBNTBHTB). Any
// overlap of a new homestead with it is forbidden (土地管理法 第三十五、三十七、
// 六十二条; 基本农田保护条例 第十七条).
var PermanentFarmland = &Layer{
	ID: "permanent_farmland", TitleZH: "永久基本农田", TitleEN: "Permanent basic farmland",
	Description:  "永久基本农田保护图斑。Permanent basic farmland protection parcels; building on them is forbidden.",
	StandardName: "YJJBNTBHTB",
	Table:        "permanent_farmland", Geometry: MultiPolygon,
	// Below z15 tiles carry only dlbm/dlmc: a z12 map tile holds ~17,000
	// land-use and ~10,000 farmland polygons, and every attribute pushed it
	// over 500 KB (p95 ~1 s; with this, ~0.2 s on the county sample).
	Fields: []Field{
		{Name: "yjjbnttbbh", Code: "YJJBNTTBBH", TitleZH: "永久基本农田图斑编号", TitleEN: "farmland parcel number", Type: Text, MaxLength: 20, Required: true, Unique: true, TileMinZoom: 15},
		{Name: "tbbh", Code: "TBBH", TitleZH: "图斑编号", TitleEN: "land-use parcel number", Type: Text, MaxLength: 8, TileMinZoom: 15},
		{Name: "dlbm", Code: "DLBM", TitleZH: "地类编码", TitleEN: "land class code", Type: Text, MaxLength: 5, CodeList: CLDLBM, Required: true},
		{Name: "dlmc", Code: "DLMC", TitleZH: "地类名称", TitleEN: "land class name", Type: Text},
		{Name: "zldwdm", Code: "ZLDWDM", TitleZH: "坐落单位代码", TitleEN: "location unit code", Type: Text, MaxLength: 19, TileMinZoom: 15},
		xzqdmField(Field{Name: "xzqdm", Code: "XZQDM", TitleZH: "行政区代码", TitleEN: "village code", Type: Text, MaxLength: 12, TileMinZoom: 15}),
		{Name: "yjjbntmj", Code: "YJJBNTMJ", TitleZH: "永久基本农田面积", TitleEN: "declared area", Type: Real, Unit: "m²", TileMinZoom: 15, Min: nonNegative},
		{Name: "bhkssj", Code: "BHKSSJ", TitleZH: "保护开始时间", TitleEN: "protection from", Type: Date, TileMinZoom: 15},
		{Name: "bhjssj", Code: "BHJSSJ", TitleZH: "保护结束时间", TitleEN: "protection until", Type: Date, TileMinZoom: 15},
	},
	Key: "yjjbnttbbh",
	Editing: Editing{Review: &Review{All: true,
		ZH: "永久基本农田一经划定，任何单位和个人不得擅自占用或者改变用途（土地管理法 第三十五条）：每项修改须经第二人审核后发布",
		EN: "permanent basic farmland may not be changed by anyone on their own (Land Administration Law art. 35): every change is reviewed by a second person before it is published"}},
	MinZoom: 11, MaxZoom: 22, Group: "规划管控",
	Style: Style{Kind: "fill", Color: "#e6c229", Opacity: 0.45},
}

func init() { register(PermanentFarmland) }
