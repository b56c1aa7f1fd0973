package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// RuleKind is the kind of an integrity rule that the database holds for a
// layer table.
type RuleKind string

// Rule kinds. Each becomes one constraint named vp_<table>_<column>_<kind>
// (geometry rules: vp_<table>_geom_<valid|nonempty|domain>).
const (
	RuleNotNull      RuleKind = "notnull"  // a Required field: the column is NOT NULL
	RuleCodeList     RuleKind = "codelist" // CHECK (col IN (list values))
	RulePattern      RuleKind = "pattern"  // CHECK (col ~ Field.Pattern)
	RuleMin          RuleKind = "min"      // CHECK (col >= Field.Min)
	RuleUnique       RuleKind = "unique"   // UNIQUE (col)
	RuleGeomValid    RuleKind = "valid"    // CHECK (ST_IsValid(geom))
	RuleGeomNonEmpty RuleKind = "nonempty" // CHECK (NOT ST_IsEmpty(geom))
	RuleGeomDomain   RuleKind = "domain"   // CHECK (geom inside −180…180°, −90…90°)
)

// Rule is one integrity rule of a layer, rendered from the catalog so that
// the database (which analysts edit directly with QGIS and psql) and the
// importer enforce the same thing. internal/db applies every rule of
// [Catalog.Rules] after the migrations; the importer checks the same rules
// before it inserts, and translates a constraint error that still reaches
// the INSERT back into the rule with [Catalog.RuleByName].
type Rule struct {
	// Name is the constraint name, stable across releases:
	// vp_<table>_<column>_<kind>, at most 63 bytes.
	Name string
	// Layer is the layer ID, Table its table (inside [Schema]).
	Layer, Table string
	// Column is the field name, or "geom" for geometry rules.
	Column string
	Kind   RuleKind
	// Expr is the boolean SQL expression of a CHECK rule over the table's
	// column names (NULL passes, as in any CHECK); "" for NotNull and
	// Unique. Identifiers come from the catalog, values are literals of the
	// catalog (code lists, patterns, bounds), never from a request.
	Expr string
	// ZH and EN state the rule for people.
	ZH, EN string
}

// Definition returns the constraint definition as written in ALTER TABLE
// … ADD CONSTRAINT name <definition>: "CHECK (…)", "UNIQUE (col)", or
// "NOT NULL" for a NotNull rule (held as the column's NOT NULL).
func (r Rule) Definition() string {
	switch r.Kind {
	case RuleNotNull:
		return "NOT NULL"
	case RuleUnique:
		return "UNIQUE (" + QuoteIdent(r.Column) + ")"
	}
	return "CHECK (" + r.Expr + ")"
}

// Digest is a short SHA-256 of the rule's table and definition. internal/db
// stores it in the constraint's comment and replaces a constraint whose
// comment carries another digest, so only changed rules are touched.
func (r Rule) Digest() string {
	h := sha256.Sum256([]byte(r.Table + "\x00" + r.Name + "\x00" + r.Definition()))
	return hex.EncodeToString(h[:8])
}

// Message is the rule in Chinese and English: "中文 / English".
func (r Rule) Message() string { return r.ZH + " / " + r.EN }

// Rules returns the integrity rules of the layer, in a stable order: per
// field (in declaration order) NotNull, CodeList, Pattern, Min, Unique; then
// the geometry rules valid, non-empty and inside the CGCS2000
// longitude/latitude domain. The domain is the whole ellipsoid, not China:
// the tests load real OpenStreetMap data from Germany.
func (l *Layer) Rules() []Rule {
	var rs []Rule
	add := func(col string, kind RuleKind, expr, zh, en string) {
		rs = append(rs, Rule{Name: "vp_" + l.Table + "_" + col + "_" + string(kind), Layer: l.ID, Table: l.Table,
			Column: col, Kind: kind, Expr: expr, ZH: zh, EN: en})
	}
	for _, f := range l.Fields {
		c := QuoteIdent(f.Name)
		zhName := fmt.Sprintf("字段 %s（%s）", f.Name, f.TitleZH)
		enName := fmt.Sprintf("field %s (%s)", f.Name, f.TitleEN)
		if f.Required {
			add(f.Name, RuleNotNull, c+" IS NOT NULL", zhName+"为必填项", enName+" is required")
		}
		if f.CodeList != "" {
			cl, _ := CodeListByID(f.CodeList)
			vals := make([]string, len(cl.Values))
			for i, v := range cl.Values {
				vals[i] = QuoteLiteral(v.Value)
			}
			add(f.Name, RuleCodeList, c+" IN ("+strings.Join(vals, ", ")+")",
				fmt.Sprintf("%s只能取代码表 %s（%s）中的值", zhName, cl.ID, cl.TitleZH),
				fmt.Sprintf("%s must hold a value of code list %s (%s)", enName, cl.ID, cl.TitleEN))
		}
		if f.Pattern != "" {
			add(f.Name, RulePattern, c+" ~ "+QuoteLiteral(f.Pattern),
				fmt.Sprintf("%s须为%s", zhName, f.PatternZH), fmt.Sprintf("%s must be %s", enName, f.PatternEN))
		}
		if f.Min != nil {
			m := strconv.FormatFloat(*f.Min, 'f', -1, 64)
			unit := ""
			if f.Unit != "" {
				unit = " " + f.Unit
			}
			add(f.Name, RuleMin, c+" >= "+m, fmt.Sprintf("%s不得小于 %s%s", zhName, m, unit), fmt.Sprintf("%s must be at least %s%s", enName, m, unit))
		}
		if f.Unique {
			add(f.Name, RuleUnique, "", fmt.Sprintf("%s在图层 %s（%s）中不得重复", zhName, l.ID, l.TitleZH),
				fmt.Sprintf("%s must be unique in layer %s", enName, l.ID))
		}
	}
	add("geom", RuleGeomValid, "ST_IsValid(geom)", "几何图形须有效（OGC 简单要素规则，ST_IsValid）",
		"the geometry must be valid (OGC simple-feature rules, ST_IsValid)")
	add("geom", RuleGeomNonEmpty, "NOT ST_IsEmpty(geom)", "几何图形不得为空", "the geometry must not be empty")
	// The bounding-box test (@) reads the box stored with the geometry;
	// PostGIS rounds it outward to float4, and ±180/±90 are float4 values,
	// so the test is exact and costs nothing measurable (ST_XMin… added
	// 0.55 s per 500,000 polygons). EMPTY is left to the non-empty rule.
	add("geom", RuleGeomDomain, "ST_IsEmpty(geom) OR geom @ ST_MakeEnvelope(-180, -90, 180, 90, "+strconv.Itoa(StorageSRID)+")",
		"坐标须位于 CGCS2000 经纬度范围内（经度 −180°～180°，纬度 −90°～90°）",
		"the coordinates must lie inside the CGCS2000 longitude/latitude domain (−180° to 180° E, −90° to 90° N)")
	return rs
}

// Rules returns the rules of every layer, in map order.
func (c *Catalog) Rules() []Rule {
	var rs []Rule
	for _, l := range c.layers {
		rs = append(rs, l.Rules()...)
	}
	return rs
}

// RuleByName returns the rule whose constraint is named name (as
// PostgreSQL reports it in a constraint violation).
func (c *Catalog) RuleByName(name string) (Rule, bool) {
	if !strings.HasPrefix(name, "vp_") {
		return Rule{}, false
	}
	for _, r := range c.Rules() {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}
