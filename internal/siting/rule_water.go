package siting

// river_management (R9, BLOCK), water_source_primary (R10, BLOCK),
// water_source_secondary (R11, REVIEW: 生态环境 department), water_works
// (R12, REVIEW): overlap with the control zones of rule-set "zone_kinds".
func init() {
	registerZoneRule("river_management", "不得占用河道管理范围", "river management area", "河道管理范围")
	registerZoneRule("water_source_primary", "不得占用饮用水水源一级保护区", "drinking-water source zone I", "饮用水水源一级保护区")
	registerZoneRule("water_source_secondary", "饮用水水源二级/准保护区须经生态环境部门审查", "drinking-water source zone II / quasi", "饮用水水源二级或准保护区")
	registerZoneRule("water_works", "水工程管理和保护范围须经水行政部门审查", "water-works management/protection area", "水工程管理或保护范围")
}
