// Package layers is the layer catalog: the single declaration of every map
// layer that villageplan stores, serves and checks.
//
// A layer is declared once, in one file of this package (villages.go,
// homesteads.go, …). Import, the features API, tiles, downloads and the map
// legend all read the declaration; no other package names a layer table or
// column. Code lists (三调 DLBM, 用地用海, 村庄分类, road grades, hazard kinds
// and grades, control-zone kinds) live in codelists.go and are used to
// validate attribute values.
//
// Storage conventions shared by every layer (see DESIGN.md, "Storage"):
//   - the table lives in the schema named by [Schema];
//   - column "id" is a bigint identity primary key (the feature id);
//   - column "geom" holds the geometry in CGCS2000 geographic, EPSG:4490,
//     2D, of the single type [Layer.Geometry], with a GiST index;
//   - column "geom_3857" is a stored generated Web-Mercator (EPSG:3857) copy
//     with its own GiST index, so that tile queries never reproject;
//   - every INSERT, UPDATE and DELETE is written to edit_history by a
//     statement trigger (to edit_batch, compactly, when the session sets
//     villageplan.history = 'batch' and a batch id), and bumps the layer's
//     row in layer_version.
package layers

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Schema is the PostgreSQL schema that holds every layer table and the
// bookkeeping tables (edit_history, layer_version, layer_metadata).
const Schema = "villageplan"

// StorageSRID is the EPSG code of the stored geometry: CGCS2000 geographic
// (EPSG:4490), the national standard for Chinese land administration.
const StorageSRID = 4490

// TileSRID is the EPSG code of the generated tile-serving copy (geom_3857):
// WGS 84 / Pseudo-Mercator.
const TileSRID = 3857

// GeometryType is the OGC simple-feature type of a layer's geometry column.
type GeometryType string

// Geometry types used by the catalog. Single polygons and lines are promoted
// to their Multi type on import, so each layer has one type.
const (
	Point           GeometryType = "Point"
	MultiLineString GeometryType = "MultiLineString"
	MultiPolygon    GeometryType = "MultiPolygon"
)

// FieldType is the logical type of an attribute; each maps to one
// PostgreSQL column type (see [FieldType.SQLType]).
type FieldType string

// Attribute types.
const (
	Text    FieldType = "text"    // PostgreSQL text (or varchar(MaxLength))
	Integer FieldType = "integer" // PostgreSQL integer
	Real    FieldType = "real"    // PostgreSQL double precision
	Date    FieldType = "date"    // PostgreSQL date, ISO 8601 on the wire
	Bool    FieldType = "boolean" // PostgreSQL boolean
)

// SQLType returns the PostgreSQL type name that information_schema reports
// for a column of this field type ("character varying" when maxLength > 0
// for text).
func (t FieldType) SQLType(maxLength int) string {
	switch t {
	case Text:
		if maxLength > 0 {
			return "character varying"
		}
		return "text"
	case Integer:
		return "integer"
	case Real:
		return "double precision"
	case Date:
		return "date"
	case Bool:
		return "boolean"
	}
	return string(t)
}

// Field is one attribute column of a layer.
type Field struct {
	// Name is the column name (lower case, ASCII). Where the Chinese data
	// standards give a field code it is that code in lower case (dlbm,
	// yjjbnttbbh, xzqdm), so the column reads the same as in a 三调 or
	// 三区三线 delivery.
	Name string
	// Code is the standard field code (DLBM, YJJBNTTBBH, XZQDM, ZDDM…) from
	// the 三调 / 国土空间规划 / 不动产 standards, or "" when no national code
	// exists (streetlights, water works). Import maps source fields by Name,
	// Code or TitleZH.
	Code string
	// TitleZH and TitleEN are the human titles shown in popups, legends and
	// downloads (Chinese first).
	TitleZH, TitleEN string
	// Type is the logical attribute type.
	Type FieldType
	// MaxLength is the maximum length in characters for Text fields stored
	// as varchar(n) (for example 12 for XZQDM), 0 for unbounded text.
	MaxLength int
	// Unit is the unit of a numeric value ("m", "m²", "kV", "W", "m³/d",
	// "km"), "" when unitless.
	Unit string
	// CodeList, when set, names the code list (see [CodeListByID]) whose
	// values are the only ones allowed in this field.
	CodeList string
	// Required fields are NOT NULL in the table and must be present on
	// import.
	Required bool
	// Pattern, when set, is a regular expression (anchored, and written in
	// the subset that PostgreSQL's ARE and Go's RE2 read alike) that every
	// non-NULL value of a Text field must match; the database holds it as
	// the CHECK constraint vp_<table>_<field>_pattern (see [Layer.Rules]).
	// PatternZH and PatternEN say the rule in words ("12 位数字",
	// "exactly 12 digits").
	Pattern              string
	PatternZH, PatternEN string
	// AdminCode marks a 12-digit 统计用区划代码 (XZQDM). On import a 6-digit
	// GB/T 2260 county code or a 9-digit township code is completed with
	// zeros to the 12-digit form of the same unit (220112 → 220112000000,
	// as the 国家统计局 tables write county rows), and the import says so.
	AdminCode bool
	// Unique fields hold no value twice in the layer (NULLs aside); the
	// database holds it as the UNIQUE constraint vp_<table>_<field>_unique.
	Unique bool
	// Min, when set, is the smallest value allowed in a numeric field
	// (CHECK constraint vp_<table>_<field>_min): areas, widths, lengths
	// and counts are never negative.
	Min *float64
	// Personal marks personal data (household names, ID numbers). Such
	// fields are never served to anonymous requests, never put in tiles, and
	// left out of exports unless asked for explicitly.
	Personal bool
	// TileMinZoom is the lowest zoom at which the attribute is carried in
	// vector tiles; -1 keeps it out of tiles altogether. 0 means every zoom
	// of the layer.
	TileMinZoom int
}

// Style holds the cartographic hints that the MapLibre style and the map
// legend are built from.
type Style struct {
	// Kind is the MapLibre layer type: "fill", "line" or "circle".
	Kind string
	// Color is the default colour as a CSS hex string.
	Color string
	// ColorBy names a field whose code-list values select colours from
	// Colors (village classification, hazard grade, road grade…).
	ColorBy string
	// Colors maps a stored value of ColorBy to a CSS hex colour.
	Colors map[string]string
	// Width is the default line width in CSS pixels (line layers) or the
	// circle radius (circle layers).
	Width float64
	// Opacity of fills, 0–1.
	Opacity float64
	// LabelField names the field used as a label, "" for none.
	LabelField string
}

// Layer is the declaration of one map layer.
type Layer struct {
	// ID is the URL identifier of the layer, used by the features API
	// (/collections/{ID}) and tiles (/tiles/{ID}/…).
	ID string
	// TitleZH and TitleEN are the layer's titles.
	TitleZH, TitleEN string
	// Description says what the layer holds and which standard it follows.
	Description string
	// StandardName is the layer code of the Chinese data standard the layer
	// follows (DLTB, YJJBNTBHTB, GKBJ, CJDCQ, ZD…), "" when there is none.
	StandardName string
	// Table is the table name inside [Schema].
	Table string
	// Geometry is the single geometry type of the layer.
	Geometry GeometryType
	// Fields are the attribute columns, in display order.
	Fields []Field
	// MinZoom and MaxZoom bound the Web-Mercator zooms at which the layer
	// appears in tiles and on the map.
	MinZoom, MaxZoom int
	// Group is the panel group of the web map: 规划管控, 村庄, 基础设施,
	// 公共服务, 宅基地 or 灾害风险.
	Group string
	// Style gives cartographic hints.
	Style Style
	// Key names the field that identifies a feature of the layer across
	// loads (宗地代码 for homesteads, 永久基本农田图斑编号 for farmland,
	// XZQDM for villages); it must be a Required, Unique field. Imports
	// refuse to append a feature whose key already exists and merge by it
	// in upsert mode. "" when the layer has no key.
	Key string
	// Editing says who edits the layer through the service, which changes
	// need review and which topology rules hold (see [Editing]).
	Editing Editing
}

// QualifiedTable returns the schema-qualified, SQL-quoted table name,
// for example "villageplan"."homesteads".
func (l *Layer) QualifiedTable() string {
	return QuoteIdent(Schema) + "." + QuoteIdent(l.Table)
}

// Field returns the field with the given column name.
func (l *Layer) Field(name string) (Field, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Catalog is the set of declared layers, in map order (bottom to top).
type Catalog struct {
	layers []*Layer
	byID   map[string]*Layer
}

// registry collects the layer declarations made by the files of this
// package; see register.
var registry []*Layer

// register is called from the init function of each layer file.
func register(l *Layer) { registry = append(registry, l) }

// Default returns the catalog of all layers declared in this package,
// validated. It panics only if a declaration in this package is broken,
// which the package tests catch.
func Default() *Catalog {
	c, err := NewCatalog(registry)
	if err != nil {
		panic(err)
	}
	return c
}

// mapOrder fixes the drawing order (bottom first) independently of file
// init order.
var mapOrder = []string{
	"villages", "land_use", "permanent_farmland", "control_zones", "hazard_zones", "natural_hamlets",
	"homesteads", "water_pipelines", "power_lines", "roads", "water_facilities", "public_facilities", "streetlights",
}

// NewCatalog validates the declarations and builds a catalog. It returns an
// error naming the layer and field when an ID or column is duplicated, a
// name is not a plain lower-case identifier, or a code list is unknown.
func NewCatalog(ls []*Layer) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Layer{}}
	rank := map[string]int{}
	for i, id := range mapOrder {
		rank[id] = i
	}
	sorted := append([]*Layer(nil), ls...)
	sort.SliceStable(sorted, func(i, j int) bool {
		ri, okI := rank[sorted[i].ID]
		rj, okJ := rank[sorted[j].ID]
		if !okI {
			ri = len(mapOrder)
		}
		if !okJ {
			rj = len(mapOrder)
		}
		return ri < rj
	})
	for _, l := range sorted {
		if err := validateLayer(l); err != nil {
			return nil, err
		}
		if _, dup := c.byID[l.ID]; dup {
			return nil, fmt.Errorf("layers: layer %q declared twice", l.ID)
		}
		c.byID[l.ID] = l
		c.layers = append(c.layers, l)
	}
	for _, l := range c.layers {
		if err := validateEditing(c, l); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func validateLayer(l *Layer) error {
	if !isIdent(l.ID) || !isIdent(l.Table) {
		return fmt.Errorf("layers: layer %q: id and table must be lower-case identifiers", l.ID)
	}
	switch l.Geometry {
	case Point, MultiLineString, MultiPolygon:
	default:
		return fmt.Errorf("layers: layer %q: unsupported geometry type %q", l.ID, l.Geometry)
	}
	if l.MinZoom < 0 || l.MaxZoom > 22 || l.MinZoom > l.MaxZoom {
		return fmt.Errorf("layers: layer %q: zoom range %d–%d is outside 0–22", l.ID, l.MinZoom, l.MaxZoom)
	}
	seen := map[string]bool{"id": true, "geom": true, "geom_3857": true}
	for _, f := range l.Fields {
		if !isIdent(f.Name) {
			return fmt.Errorf("layers: layer %q: field %q is not a lower-case identifier", l.ID, f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("layers: layer %q: field %q declared twice or reserved", l.ID, f.Name)
		}
		seen[f.Name] = true
		if f.CodeList != "" {
			if _, ok := CodeListByID(f.CodeList); !ok {
				return fmt.Errorf("layers: layer %q: field %q uses unknown code list %q", l.ID, f.Name, f.CodeList)
			}
		}
		if f.TitleZH == "" || f.TitleEN == "" {
			return fmt.Errorf("layers: layer %q: field %q needs Chinese and English titles", l.ID, f.Name)
		}
		if f.Pattern != "" {
			if f.Type != Text {
				return fmt.Errorf("layers: layer %q: field %q: a pattern needs a text field", l.ID, f.Name)
			}
			if _, err := regexp.Compile(f.Pattern); err != nil || !strings.HasPrefix(f.Pattern, "^") || !strings.HasSuffix(f.Pattern, "$") {
				return fmt.Errorf("layers: layer %q: field %q: pattern %q must be an anchored regular expression (^…$)", l.ID, f.Name, f.Pattern)
			}
			if f.PatternZH == "" || f.PatternEN == "" {
				return fmt.Errorf("layers: layer %q: field %q: pattern needs its rule in Chinese and English", l.ID, f.Name)
			}
		}
		if f.Min != nil && f.Type != Integer && f.Type != Real {
			return fmt.Errorf("layers: layer %q: field %q: Min needs a numeric field", l.ID, f.Name)
		}
		if f.AdminCode && (f.Type != Text || f.MaxLength != 12) {
			return fmt.Errorf("layers: layer %q: field %q: an administrative code is varchar(12)", l.ID, f.Name)
		}
		for _, suffix := range []string{f.Name, f.Name + "_codelist", f.Name + "_pattern", f.Name + "_unique", f.Name + "_min", f.Name + "_notnull"} {
			if len("vp_"+l.Table+"_"+suffix) > 63 {
				return fmt.Errorf("layers: layer %q: field %q: constraint names would exceed 63 bytes", l.ID, f.Name)
			}
		}
	}
	if l.Key != "" {
		f, ok := l.Field(l.Key)
		if !ok || !f.Required || !f.Unique {
			return fmt.Errorf("layers: layer %q: key %q must be a required, unique field", l.ID, l.Key)
		}
	}
	if l.Style.ColorBy != "" {
		if _, ok := l.Field(l.Style.ColorBy); !ok {
			return fmt.Errorf("layers: layer %q: style colours by unknown field %q", l.ID, l.Style.ColorBy)
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Layers returns every layer in map order (bottom first).
func (c *Catalog) Layers() []*Layer { return append([]*Layer(nil), c.layers...) }

// Layer returns the layer with the given ID; ok is false for an unknown ID.
func (c *Catalog) Layer(id string) (l *Layer, ok bool) {
	l, ok = c.byID[id]
	return l, ok
}

// QuoteIdent quotes an SQL identifier the way PostgreSQL's quote_ident
// does: wrapped in double quotes, inner double quotes doubled. Identifiers
// come from the catalog only, never from a request.
func QuoteIdent(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	out = append(out, '"')
	return string(out)
}

// QuoteLiteral quotes a catalog name (a layer id or field name used as an
// MVT layer name or JSON key) as an SQL string literal, with
// standard_conforming_strings on (the default since PostgreSQL 9.1).
// Values from requests are bind parameters, never literals.
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Patterns shared by several layers (DOMAIN.md §4.4, "Code formats").
const (
	// PatternXZQDM: XZQDM, the 统计用区划代码 down to village level, is
	// exactly 12 digits (6 county + 3 township + 3 village, C9 [V]).
	PatternXZQDM = `^[0-9]{12}$`
	// PatternTownship: a township (乡镇) code is the first 9 digits.
	PatternTownship = `^[0-9]{9}$`
	// PatternBDCDYH: 不动产单元号, 28 characters: 12 digits, 2 letters, 5
	// digits (= the 19-character 宗地代码), a 定着物 letter and 8 digits
	// (C13 [V]).
	PatternBDCDYH = `^[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}$`
)

// xzqdmField completes a declaration of an XZQDM field with its pattern.
func xzqdmField(f Field) Field {
	f.Pattern, f.PatternZH, f.PatternEN, f.AdminCode = PatternXZQDM, "12 位数字（统计用区划代码）", "exactly 12 digits (statistical division code)", true
	return f
}

// nonNegative is the Min of areas, widths, lengths, powers and counts.
var nonNegative = func() *float64 { v := 0.0; return &v }()
