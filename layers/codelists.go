package layers

import "strings"

// CodeValue is one entry of a code list: the value stored in the column and
// its names.
type CodeValue struct {
	// Value is what the column stores (for DLBM the 4-character code
	// "0103"; for classes that the standards store by name, the Chinese
	// name "集聚提升类").
	Value string
	// NameZH and NameEN are the display names (DLBM 0103 → 旱地 / dry land).
	NameZH, NameEN string
	// Aliases are other spellings accepted on import and mapped to Value
	// (short codes such as "JJTS", route letters such as "X").
	Aliases []string
}

// CodeList is a closed list of allowed attribute values with its source.
type CodeList struct {
	ID               string
	TitleZH, TitleEN string
	// Source cites the standard or document the list comes from, with the
	// status mark of DOMAIN.md ([V] checked, [P] partly, [GK] general
	// knowledge, [LOCAL] local value).
	Source string
	Values []CodeValue
}

// Lookup returns the entry whose Value, Chinese name or alias equals s
// (surrounding white space ignored).
func (cl *CodeList) Lookup(s string) (CodeValue, bool) {
	s = strings.TrimSpace(s)
	for _, v := range cl.Values {
		if v.Value == s || v.NameZH == s {
			return v, true
		}
		for _, a := range v.Aliases {
			if strings.EqualFold(a, s) {
				return v, true
			}
		}
	}
	return CodeValue{}, false
}

// Name returns the Chinese display name of a stored value, or the value
// itself when it is not in the list.
func (cl *CodeList) Name(value string) string {
	if v, ok := cl.Lookup(value); ok {
		return v.NameZH
	}
	return value
}

// CodeListByID returns the code list with the given ID.
func CodeListByID(id string) (*CodeList, bool) {
	for _, cl := range codeLists {
		if cl.ID == id {
			return cl, true
		}
	}
	return nil, false
}

// CodeLists returns every code list.
func CodeLists() []*CodeList { return append([]*CodeList(nil), codeLists...) }

func cv(value, zh, en string, aliases ...string) CodeValue {
	return CodeValue{Value: value, NameZH: zh, NameEN: en, Aliases: aliases}
}

// Code-list IDs used by the layer declarations.
const (
	CLVillageClass     = "village_class"
	CLControlZoneKind  = "control_zone_kind"
	CLDLBM             = "dlbm"
	CLYDYH             = "ydyh"
	CLRoadAdminGrade   = "road_admin_grade"
	CLRoadTechGrade    = "road_tech_grade"
	CLRoadSurface      = "road_surface"
	CLRoadCondition    = "road_condition"
	CLHazardKind       = "hazard_kind"
	CLHazardGrade      = "hazard_grade"
	CLLightSource      = "light_source"
	CLPowerSupply      = "power_supply"
	CLLightStatus      = "light_status"
	CLWaterFacility    = "water_facility_kind"
	CLWaterScaleClass  = "water_scale_class"
	CLWaterSourceType  = "water_source_type"
	CLPipeKind         = "pipe_kind"
	CLPowerLaying      = "power_laying"
	CLHomesteadStatus  = "homestead_status"
	CLFarmlandDLBM     = "farmland_dlbm"
	CLPipeMaterial     = "pipe_material"
	CLLightControl     = "light_control"
	CLDataSource       = "hazard_source"
	CLVillageDesignate = "village_designation"
	// issue 14, 乡村建设行动
	CLPublicFacilityKind = "public_facility_kind"
	CLFacilityState      = "facility_state"
	CLHouseDangerGrade   = "house_danger_grade"
)

// sandiao is the 三调 working classification (GB/T 21010-2017 as grouped by
// the third national land survey), DOMAIN.md §4.3.
var sandiao = []CodeValue{
	cv("0101", "水田", "paddy field"), cv("0102", "水浇地", "irrigated land"), cv("0103", "旱地", "dry land"),
	cv("0201", "果园", "orchard"), cv("0202", "茶园", "tea garden"), cv("0203", "橡胶园", "rubber plantation"), cv("0204", "其他园地", "other garden land"),
	cv("0301", "乔木林地", "arbor forest"), cv("0302", "竹林地", "bamboo forest"), cv("0305", "灌木林地", "shrub forest"), cv("0307", "其他林地", "other forest land"),
	cv("0401", "天然牧草地", "natural pasture"), cv("0403", "人工牧草地", "artificial pasture"), cv("0404", "其他草地", "other grassland"),
	cv("05H1", "商业服务业设施用地", "commercial service land"), cv("0508", "物流仓储用地", "logistics and storage land"),
	cv("0601", "工业用地", "industrial land"), cv("0602", "采矿用地", "mining land"),
	cv("0701", "城镇住宅用地", "urban residential land"), cv("0702", "农村宅基地", "rural homestead"),
	cv("08H1", "机关团体新闻出版用地", "government and press land"), cv("08H2", "科教文卫用地", "science, education, culture and health land"),
	cv("0809", "公用设施用地", "public utility land"), cv("0810", "公园与绿地", "park and green land"), cv("0810A", "广场用地", "square"),
	cv("09", "特殊用地", "special land"),
	cv("1001", "铁路用地", "railway land"), cv("1002", "轨道交通用地", "rail transit land"), cv("1003", "公路用地", "highway land"),
	cv("1004", "城镇村道路用地", "urban and village road land"), cv("1005", "交通服务场站用地", "transport station land"),
	cv("1006", "农村道路", "rural road"), cv("1007", "机场用地", "airport land"), cv("1008", "港口码头用地", "port land"), cv("1009", "管道运输用地", "pipeline land"),
	cv("1101", "河流水面", "river surface"), cv("1102", "湖泊水面", "lake surface"), cv("1103", "水库水面", "reservoir surface"),
	cv("1104", "坑塘水面", "pond surface"), cv("1107", "沟渠", "ditch"), cv("1109", "水工建筑用地", "hydraulic structure land"),
	cv("1110", "冰川及永久积雪", "glacier and permanent snow"),
	cv("1201", "空闲地", "vacant land"), cv("1202", "设施农用地", "agricultural facility land"), cv("1203", "田坎", "field ridge"),
	cv("1204", "盐碱地", "saline land"), cv("1205", "沙地", "sandy land"), cv("1206", "裸土地", "bare soil"), cv("1207", "裸岩石砾地", "bare rock"),
	cv("0303", "红树林地", "mangrove"), cv("0304", "森林沼泽", "forest swamp"), cv("0306", "灌丛沼泽", "shrub swamp"),
	cv("0402", "沼泽草地", "marsh grassland"), cv("0603", "盐田", "salt pan"), cv("1105", "沿海滩涂", "coastal tidal flat"),
	cv("1106", "内陆滩涂", "inland tidal flat"), cv("1108", "沼泽地", "swamp"),
}

// AgriculturalDLBM lists the 三调 codes that count as 农用地 (agricultural
// land, 土地管理法 第四条) for the siting rule on 农用地转用: 耕地, 园地,
// 林地, 草地, 1006 农村道路, 1104 坑塘, 1107 沟渠, 1202 设施农用地,
// 1203 田坎. The list of codes is general knowledge ([GK] in DOMAIN.md §4.3).
var AgriculturalDLBM = []string{
	"0101", "0102", "0103", "0201", "0202", "0203", "0204", "0301", "0302", "0305", "0307",
	"0401", "0403", "0404", "1006", "1104", "1107", "1202", "1203",
}

// CultivatedDLBM lists the 三调 耕地 codes (0101 水田, 0102 水浇地, 0103 旱地).
var CultivatedDLBM = []string{"0101", "0102", "0103"}

var codeLists = []*CodeList{
	{ID: CLVillageClass, TitleZH: "村庄分类", TitleEN: "village classification",
		Source: "乡村振兴战略规划（2018—2022年）; 农规发〔2019〕1号 (DOMAIN.md §4.1, codes are local suggestions [P])",
		Values: []CodeValue{
			cv("集聚提升类", "集聚提升类", "agglomeration and upgrading", "JJTS", "集聚提升"),
			cv("城郊融合类", "城郊融合类", "suburban integration", "CJRH", "城郊融合"),
			cv("特色保护类", "特色保护类", "characteristic protection", "TSBH", "特色保护"),
			cv("搬迁撤并类", "搬迁撤并类", "relocation and merger", "BQCB", "搬迁撤并"),
			cv("暂不分类", "暂不分类", "not yet classified", "ZBFL"),
		}},
	{ID: CLVillageDesignate, TitleZH: "村庄称号", TitleEN: "village designation",
		Source: "township 乡村建设行动实施方案 (DESIGN.md)",
		Values: []CodeValue{
			cv("千村示范创建村", "千村示范创建村", "thousand-village demonstration village"),
			cv("旅游精品村", "旅游精品村", "boutique tourism village"),
			cv("民族特色村", "民族特色村", "ethnic-minority characteristic village"),
		}},
	{ID: CLControlZoneKind, TitleZH: "管控边界类型", TitleEN: "control zone kind",
		Source: "GKBJLXMC values of a provincial 村庄规划数据库 standard (C9, [P]); laws per kind in DOMAIN.md §1",
		Values: []CodeValue{
			cv("生态保护红线", "生态保护红线", "ecological protection red line", "STBHHX"),
			cv("城镇开发边界", "城镇开发边界", "urban development boundary", "CZKFBJ"),
			cv("村庄集中建设区", "村庄集中建设区", "village concentrated construction area"),
			cv("村庄弹性发展区", "村庄弹性发展区", "village flexible development area"),
			cv("河道管理范围", "河道管理范围", "river management area"),
			cv("饮用水水源一级保护区", "饮用水水源一级保护区", "drinking-water source protection zone I"),
			cv("饮用水水源二级保护区", "饮用水水源二级保护区", "drinking-water source protection zone II"),
			cv("饮用水水源准保护区", "饮用水水源准保护区", "drinking-water source quasi-protection zone"),
			cv("水工程管理范围", "水工程管理范围", "water-works management area"),
			cv("水工程保护范围", "水工程保护范围", "water-works protection area"),
			cv("公路建筑控制区", "公路建筑控制区", "highway building-control zone"),
		}},
	{ID: CLDLBM, TitleZH: "地类编码（三调）", TitleEN: "land-use class code (third national land survey)",
		Source: "GB/T 21010-2017 as grouped by 三调 (DOMAIN.md §4.3, C1 [V])", Values: sandiao},
	{ID: CLFarmlandDLBM, TitleZH: "耕地地类编码", TitleEN: "cultivated-land class code",
		Source: "GB/T 21010-2017 01 耕地 (DOMAIN.md §4.3 [V])", Values: sandiao[:3]},
	{ID: CLYDYH, TitleZH: "用地用海分类", TitleEN: "land and sea use classification (2023)",
		Source: "国土空间调查、规划、用途管制用地用海分类指南 (自然资发〔2023〕234号), village-relevant codes (DOMAIN.md §4.2 [V])",
		Values: []CodeValue{
			cv("0101", "水田", "paddy field"), cv("0102", "水浇地", "irrigated land"), cv("0103", "旱地", "dry land"),
			cv("0201", "果园", "orchard"), cv("0205", "其他园地", "other garden land"),
			cv("0301", "乔木林地", "arbor forest"), cv("0303", "灌木林地", "shrub forest"), cv("0304", "其他林地", "other forest land"),
			cv("0401", "天然牧草地", "natural pasture"), cv("0403", "其他草地", "other grassland"),
			cv("060101", "村道用地", "village road land"), cv("060102", "田间道", "field road"),
			cv("0602", "设施农用地", "agricultural facility land"),
			cv("0703", "农村宅基地", "rural homestead"), cv("070301", "一类农村宅基地", "rural homestead, class 1"),
			cv("070302", "二类农村宅基地", "rural homestead, class 2"), cv("0704", "农村社区服务设施用地", "rural community service land"),
			cv("1202", "公路用地", "highway land"), cv("1207", "城镇村道路用地", "urban and village road land"),
			cv("1301", "供水用地", "water supply land"), cv("1303", "供电用地", "power supply land"),
			cv("1311", "水工设施用地", "hydraulic facility land"), cv("16", "留白用地", "reserved land"),
			cv("1701", "河流水面", "river surface"), cv("1703", "水库水面", "reservoir surface"),
			cv("1704", "坑塘水面", "pond surface"), cv("1705", "沟渠", "ditch"),
			cv("2301", "空闲地", "vacant land"), cv("2303", "田坎", "field ridge"),
		}},
	{ID: CLRoadAdminGrade, TitleZH: "行政等级", TitleEN: "administrative grade",
		Source: "公路法 第六条 (国道/省道/县道/乡道); 村道 from provincial 农村公路条例; route letters G/S/X/Y/C/Z (DOMAIN.md §7.1)",
		Values: []CodeValue{
			cv("国道", "国道", "national road", "G"), cv("省道", "省道", "provincial road", "S"),
			cv("县道", "县道", "county road", "X"), cv("乡道", "乡道", "township road", "Y"),
			cv("村道", "村道", "village road", "C"), cv("专用公路", "专用公路", "special-purpose road", "Z"),
		}},
	{ID: CLRoadTechGrade, TitleZH: "技术等级", TitleEN: "technical grade",
		Source: "公路法 第六条 (DOMAIN.md §7.1 [V])",
		Values: []CodeValue{
			cv("高速", "高速公路", "expressway"), cv("一级", "一级公路", "class I"), cv("二级", "二级公路", "class II"),
			cv("三级", "三级公路", "class III"), cv("四级", "四级公路", "class IV"), cv("等外", "等外公路", "substandard"),
		}},
	{ID: CLRoadSurface, TitleZH: "面层类型", TitleEN: "pavement surface",
		Source: "national road-census segment attributes (C11)",
		Values: []CodeValue{
			cv("沥青混凝土", "沥青混凝土", "asphalt concrete"), cv("水泥混凝土", "水泥混凝土", "cement concrete"),
			cv("砂石", "砂石", "gravel"), cv("土路", "土路", "earth"),
		}},
	{ID: CLRoadCondition, TitleZH: "路况等级", TitleEN: "road condition (MQI)",
		Source: "四好农村路 practice, MQI grades ([GK])",
		Values: []CodeValue{cv("优", "优", "excellent"), cv("良", "良", "good"), cv("中", "中", "fair"), cv("次", "次", "poor"), cv("差", "差", "bad")}},
	{ID: CLHazardKind, TitleZH: "灾害区类型", TitleEN: "hazard zone kind",
		Source: "地质灾害防治条例 第十九–二十一条; 防洪法 第十三、二十九条 (DOMAIN.md §7.4)",
		Values: []CodeValue{
			cv("地质灾害危险区", "地质灾害危险区", "geological hazard danger zone"),
			cv("地质灾害易发区", "地质灾害易发区", "geological hazard susceptibility zone"),
			cv("山洪灾害危险区", "山洪灾害危险区", "flash-flood danger zone"),
			cv("洪泛区", "洪泛区", "flood plain"),
		}},
	{ID: CLHazardGrade, TitleZH: "等级", TitleEN: "grade",
		Source: "易发区 高/中/低 (W16 [P]); 山洪灾害危险区 极高/高/一般 ([GK])",
		Values: []CodeValue{
			cv("极高", "极高", "very high"), cv("高", "高", "high"), cv("中", "中", "medium"),
			cv("低", "低", "low"), cv("一般", "一般", "ordinary"),
		}},
	{ID: CLDataSource, TitleZH: "数据来源", TitleEN: "data source",
		Source: "villageplan",
		Values: []CodeValue{
			cv("示例数据", "示例数据", "sample data"), cv("调查评价", "调查评价", "survey and assessment"),
			cv("批准公告", "批准公告", "approved announcement"), cv("规划成果", "规划成果", "planning result"),
		}},
	{ID: CLLightSource, TitleZH: "光源类型", TitleEN: "light source",
		Source: "DOMAIN.md §7.2 ([GK])",
		Values: []CodeValue{cv("LED", "LED", "LED"), cv("高压钠灯", "高压钠灯", "high-pressure sodium"), cv("太阳能LED", "太阳能LED", "solar LED")}},
	{ID: CLPowerSupply, TitleZH: "供电方式", TitleEN: "power supply",
		Source: "DOMAIN.md §7.2 ([GK])",
		Values: []CodeValue{cv("市电", "市电", "grid"), cv("太阳能", "太阳能", "solar"), cv("风光互补", "风光互补", "wind-solar hybrid")}},
	{ID: CLLightControl, TitleZH: "控制方式", TitleEN: "switching control",
		Source: "DOMAIN.md §7.2 ([GK])",
		Values: []CodeValue{cv("时控", "时控", "timer"), cv("光控", "光控", "light sensor"), cv("远程", "远程", "remote")}},
	{ID: CLLightStatus, TitleZH: "运行状态", TitleEN: "status",
		Source: "DOMAIN.md §7.2 ([GK])",
		Values: []CodeValue{cv("正常", "正常", "working"), cv("故障", "故障", "faulty"), cv("维修中", "维修中", "under repair"), cv("停用", "停用", "out of service")}},
	{ID: CLWaterFacility, TitleZH: "设施类型", TitleEN: "facility kind",
		Source: "DOMAIN.md §7.3 ([GK])",
		Values: []CodeValue{
			cv("水厂", "水厂", "water plant"), cv("水源井", "水源井", "supply well"), cv("加压泵站", "加压泵站", "booster pump station"),
			cv("蓄水池", "蓄水池", "reservoir tank"), cv("水库", "水库", "reservoir"),
		}},
	{ID: CLWaterScaleClass, TitleZH: "工程规模", TitleEN: "scale class",
		Source: "集中供水工程 Ⅰ ≥10000, Ⅱ 5000–10000, Ⅲ 1000–5000, Ⅳ 100–1000, Ⅴ 10–100 m³/d (W17 [P])",
		Values: []CodeValue{
			cv("Ⅰ", "Ⅰ型", "class I", "I"), cv("Ⅱ", "Ⅱ型", "class II", "II"), cv("Ⅲ", "Ⅲ型", "class III", "III"),
			cv("Ⅳ", "Ⅳ型", "class IV", "IV"), cv("Ⅴ", "Ⅴ型", "class V", "V"), cv("分散", "分散式", "dispersed"),
		}},
	{ID: CLWaterSourceType, TitleZH: "水源类型", TitleEN: "source type",
		Source: "DOMAIN.md §7.3 ([GK])",
		Values: []CodeValue{cv("河流", "地表水（河流）", "surface water, river"), cv("水库", "地表水（水库）", "surface water, reservoir"), cv("地下水", "地下水", "groundwater")}},
	{ID: CLPipeKind, TitleZH: "管道类型", TitleEN: "pipe kind",
		Source: "DOMAIN.md §7.3 ([GK])",
		Values: []CodeValue{cv("输水管", "输水管", "transmission main"), cv("配水管", "配水管", "distribution pipe")}},
	{ID: CLPipeMaterial, TitleZH: "管材", TitleEN: "pipe material",
		Source: "([GK])",
		Values: []CodeValue{cv("PE", "PE", "polyethylene"), cv("PVC", "PVC", "PVC"), cv("球墨铸铁", "球墨铸铁", "ductile iron"), cv("钢管", "钢管", "steel")}},
	{ID: CLPowerLaying, TitleZH: "敷设方式", TitleEN: "laying",
		Source: "电力设施保护条例 第十条 (架空电力线路 / 电力电缆线路)",
		Values: []CodeValue{cv("架空", "架空", "overhead"), cv("电缆", "电缆", "underground cable")}},
	{ID: CLHomesteadStatus, TitleZH: "宅基地状态", TitleEN: "homestead status",
		Source: "villageplan workflow states",
		Values: []CodeValue{
			cv("已登记", "已登记", "registered"), cv("已批准", "已批准", "approved"), cv("在建", "在建", "under construction"),
			cv("闲置", "闲置", "idle"), cv("退出", "退出", "returned"),
		}},
	{ID: CLPublicFacilityKind, TitleZH: "公共服务设施类型", TitleEN: "public facility kind",
		Source: "双营乡乡村建设行动实施方案 (2022) tasks 4, 6, 7; 乡村建设行动实施方案 (中办发〔2022〕37号) ([LOCAL] list)",
		Values: []CodeValue{
			cv("便民服务中心", "便民服务中心", "village service centre"), cv("卫生室", "村卫生室", "village clinic"),
			cv("文化活动室", "文化活动室", "cultural activity room"), cv("新时代文明实践站", "新时代文明实践站", "civic practice station"),
			cv("全民健身场地", "全民健身场地", "public fitness ground"), cv("互助养老服务设施", "互助养老服务设施", "mutual-aid elderly care facility"),
			cv("应急避难场所", "应急避难场所", "emergency shelter"), cv("应急广播", "应急广播", "emergency broadcast loudspeaker"),
			cv("消火栓", "消火栓", "fire hydrant"), cv("微型消防站", "微型消防站", "mini fire station"),
			cv("公厕", "公共厕所", "public toilet"), cv("垃圾收集点", "垃圾收集点", "refuse collection point"),
			cv("垃圾转运站", "垃圾转运站", "refuse transfer station"), cv("污水处理设施", "污水处理设施", "sewage treatment facility"),
		}},
	{ID: CLFacilityState, TitleZH: "设施建设状态", TitleEN: "facility state",
		Source: "乡村建设项目 phases (谋划储备 → 开工建设 → 投产运营), as a facility's state ([LOCAL])",
		Values: []CodeValue{
			cv("规划", "规划", "planned"), cv("在建", "在建", "under construction"),
			cv("运行", "运行", "in operation"), cv("停用", "停用", "out of service"),
		}},
	{ID: CLHouseDangerGrade, TitleZH: "房屋危险性等级", TitleEN: "house danger grade",
		Source: "危险房屋鉴定标准 JGJ 125-2016 第 6 章 (A 安全, B 个别危险构件, C 局部危房, D 整幢危房) ([GK])",
		Values: []CodeValue{
			cv("A", "A级（结构安全）", "A: structurally safe", "A级"),
			cv("B", "B级（个别构件危险）", "B: isolated dangerous members", "B级"),
			cv("C", "C级（局部危房）", "C: partly dangerous house", "C级"),
			cv("D", "D级（整幢危房）", "D: dangerous house as a whole", "D级"),
		}},
}
