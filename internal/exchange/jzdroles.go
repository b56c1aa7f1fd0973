package exchange

import (
	"strconv"
	"strings"

	"villageplan/layers"
)

// ParcelRole is a field of a 界址点坐标 parcel line (DOMAIN.md §6) that has
// a counterpart in a parcel layer of the catalog.
type ParcelRole string

// The parcel-line fields that map to layer fields. 界址点数 and 记录图形属性
// are derived from the geometry and 图幅号 has no catalog field.
const (
	RoleNumber ParcelRole = "地块编号"
	RoleName   ParcelRole = "地块名称"
	RoleUse    ParcelRole = "地块用途"
	RoleDLBM   ParcelRole = "地类编码"
	RoleArea   ParcelRole = "地块面积"
)

// parcelRoleCodes lists, per role, the standard field codes (layers.Field
// Code) that can hold it, best first: 宗地代码 for homesteads, 永久基本农田图
// 斑编号 for farmland, 图斑编号 for land use; 坐落 as the name; the declared
// areas in m² (ZDMJ, YJJBNTMJ, TBMJ).
var parcelRoleCodes = map[ParcelRole][]string{
	RoleNumber: {"ZDDM", "YJJBNTTBBH", "TBBH", "BSM"},
	RoleName:   {"ZL", "XZQMC", "ZLDWMC"},
	RoleUse:    {"DLMC", "YT"},
	RoleDLBM:   {"DLBM"},
	RoleArea:   {"ZDMJ", "YJJBNTMJ", "TBMJ"},
}

// ParcelRoles returns the parcel-line roles in file order.
func ParcelRoles() []ParcelRole {
	return []ParcelRole{RoleNumber, RoleName, RoleUse, RoleDLBM, RoleArea}
}

// ParcelField returns the layer field that holds role, chosen by standard
// field code (see the table in the source). ok is false when the layer has
// none. The area field, when found, holds square metres (公顷 × 10 000).
func ParcelField(l *layers.Layer, role ParcelRole) (layers.Field, bool) {
	for _, code := range parcelRoleCodes[role] {
		for _, f := range l.Fields {
			if f.Code == code {
				return f, true
			}
		}
	}
	return layers.Field{}, false
}

// dbfNameBytes is the length limit of a DBF field name.
const dbfNameBytes = 10

// DBFNames fits field names into the 10 bytes of a DBF field name without
// collisions: the standard field code (DLBM, ZDDM, YJJBNTTBBH…) where the
// catalog gives one, else the column name, upper-cased; names too long are
// cut and, where two would collide, end in _1, _2…
func DBFNames(fields []layers.Field) []string {
	out := make([]string, len(fields))
	used := map[string]bool{}
	for i, f := range fields {
		n := f.Code
		if n == "" {
			n = f.Name
		}
		n = strings.ToUpper(n)
		if len(n) > dbfNameBytes {
			n = n[:dbfNameBytes]
		}
		cand := n
		for k := 1; used[cand]; k++ {
			suf := "_" + strconv.Itoa(k)
			cand = n
			if len(cand)+len(suf) > dbfNameBytes {
				cand = cand[:dbfNameBytes-len(suf)]
			}
			cand += suf
		}
		used[cand] = true
		out[i] = cand
	}
	return out
}
