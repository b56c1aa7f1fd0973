package layers

import (
	"strings"
	"testing"
)

func TestDefaultCatalogHasEveryLayer(t *testing.T) {
	want := []string{"villages", "control_zones", "permanent_farmland", "land_use", "roads", "streetlights",
		"water_facilities", "water_pipelines", "homesteads", "hazard_zones", "power_lines", "public_facilities", "natural_hamlets"}
	c := Default()
	if got := len(c.Layers()); got != len(want) {
		t.Fatalf("catalog has %d layers, want %d", got, len(want))
	}
	for _, id := range want {
		l, ok := c.Layer(id)
		if !ok {
			t.Errorf("layer %q missing", id)
			continue
		}
		if l.TitleZH == "" || l.TitleEN == "" || l.Group == "" || l.Style.Kind == "" {
			t.Errorf("layer %q lacks titles, group or style", id)
		}
	}
	if _, ok := c.Layer("pg_catalog"); ok {
		t.Error("unknown layer id resolved")
	}
}

func TestCatalogRejectsBrokenDeclarations(t *testing.T) {
	cases := map[string]*Layer{
		"bad id":         {ID: "Bad-Id", Table: "x", Geometry: Point},
		"bad geometry":   {ID: "x", Table: "x", Geometry: "Circle"},
		"bad zoom":       {ID: "x", Table: "x", Geometry: Point, MinZoom: 10, MaxZoom: 5},
		"reserved field": {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "geom", TitleZH: "a", TitleEN: "a"}}},
		"unknown list":   {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "a", TitleZH: "a", TitleEN: "a", CodeList: "nope"}}},
		"sql in field":   {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "a; drop table x", TitleZH: "a", TitleEN: "a"}}},
		"unanchored pattern": {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "a", TitleZH: "a", TitleEN: "a", Type: Text,
			Pattern: "[0-9]{12}", PatternZH: "a", PatternEN: "a"}}},
		"pattern on a number": {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "a", TitleZH: "a", TitleEN: "a", Type: Integer,
			Pattern: "^1$", PatternZH: "a", PatternEN: "a"}}},
		"min on text":    {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: "a", TitleZH: "a", TitleEN: "a", Type: Text, Min: nonNegative}}},
		"key not unique": {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Key: "a", Fields: []Field{{Name: "a", TitleZH: "a", TitleEN: "a", Type: Text, Required: true}}},
		"unknown key":    {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Key: "b"},
		"long rule name": {ID: "x", Table: "x", Geometry: Point, MaxZoom: 22, Fields: []Field{{Name: strings.Repeat("a", 55), TitleZH: "a", TitleEN: "a"}}},
	}
	for name, l := range cases {
		if _, err := NewCatalog([]*Layer{l}); err == nil {
			t.Errorf("%s: declaration accepted, want an error", name)
		}
	}
	if _, err := NewCatalog([]*Layer{Villages, Villages}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate layer: err = %v", err)
	}
}

func TestCodeListLookup(t *testing.T) {
	dlbm, _ := CodeListByID(CLDLBM)
	if v, ok := dlbm.Lookup("0103"); !ok || v.NameZH != "旱地" {
		t.Errorf("DLBM 0103 = %+v, %v; want 旱地", v, ok)
	}
	if _, ok := dlbm.Lookup("9999"); ok {
		t.Error("DLBM 9999 accepted")
	}
	vc, _ := CodeListByID(CLVillageClass)
	if v, ok := vc.Lookup("JJTS"); !ok || v.Value != "集聚提升类" {
		t.Errorf("alias JJTS → %+v, %v", v, ok)
	}
	grade, _ := CodeListByID(CLRoadAdminGrade)
	if v, ok := grade.Lookup("x"); !ok || v.Value != "县道" {
		t.Errorf("route letter x → %+v, %v", v, ok)
	}
	// every list has unique values
	for _, cl := range CodeLists() {
		seen := map[string]bool{}
		for _, v := range cl.Values {
			if seen[v.Value] {
				t.Errorf("code list %s: value %q twice", cl.ID, v.Value)
			}
			seen[v.Value] = true
		}
	}
}

func TestPersonalFieldsNeverInTiles(t *testing.T) {
	for _, l := range Default().Layers() {
		for _, f := range l.Fields {
			if f.Personal && f.TileMinZoom != -1 {
				t.Errorf("%s.%s is personal data but would be carried in tiles", l.ID, f.Name)
			}
		}
	}
	if n := len(Homesteads.Fields); n == 0 {
		t.Fatal("homesteads has no fields")
	}
}

func TestQuoteIdent(t *testing.T) {
	if got := QuoteIdent(`a"b`); got != `"a""b"` {
		t.Errorf("QuoteIdent = %s", got)
	}
	if got := Homesteads.QualifiedTable(); got != `"villageplan"."homesteads"` {
		t.Errorf("QualifiedTable = %s", got)
	}
}

func TestQuoteLiteral(t *testing.T) {
	if got := QuoteLiteral(`o'brien`); got != `'o''brien'` {
		t.Errorf("QuoteLiteral = %s", got)
	}
}

// TestRulesFromCatalog: every rule has a unique constraint name of at most
// 63 bytes, words in both languages, and every XZQDM field carries the
// 12-digit pattern.
func TestRulesFromCatalog(t *testing.T) {
	c := Default()
	seen := map[string]bool{}
	for _, r := range c.Rules() {
		if seen[r.Name] || len(r.Name) > 63 || r.ZH == "" || r.EN == "" || r.Digest() == "" {
			t.Errorf("rule %+v: duplicate, too long or without words", r)
		}
		seen[r.Name] = true
		if got, ok := c.RuleByName(r.Name); !ok || got.Definition() != r.Definition() {
			t.Errorf("RuleByName(%s) = %+v, %v", r.Name, got, ok)
		}
	}
	for _, l := range c.Layers() {
		for _, f := range l.Fields {
			if f.Code == "XZQDM" && (f.Pattern != PatternXZQDM || !f.AdminCode) {
				t.Errorf("%s.%s: XZQDM without the 12-digit pattern", l.ID, f.Name)
			}
		}
	}
	if r, _ := c.RuleByName("vp_villages_xzqdm_pattern"); r.Expr != `"xzqdm" ~ '^[0-9]{12}$'` {
		t.Errorf("villages xzqdm pattern rule: %q", r.Expr)
	}
	if _, ok := c.RuleByName("homesteads"); ok {
		t.Error("RuleByName accepted a name that is not a rule")
	}
}

// TestEditingDeclarations: review and topology declarations are checked
// against the catalog, and the shipped ones say what issue 13 asks.
func TestEditingDeclarations(t *testing.T) {
	c := Default()
	want := map[string]string{"homesteads": "homesteads,permanent_farmland", "villages": "villages", "natural_hamlets": "natural_hamlets"}
	for _, l := range c.Layers() {
		var others []string
		for _, r := range l.Editing.Topology {
			others = append(others, r.Other)
		}
		if got := strings.Join(others, ","); got != want[l.ID] {
			t.Errorf("%s: topology against %q, want %q", l.ID, got, want[l.ID])
		}
	}
	farm, _ := c.Layer("permanent_farmland")
	zones, _ := c.Layer("control_zones")
	if !farm.Editing.Review.Applies("", "") || !zones.Editing.Review.Applies("生态保护红线", "") ||
		!zones.Editing.Review.Applies("河道管理范围", "村庄集中建设区") || zones.Editing.Review.Applies("河道管理范围", "城镇开发边界") {
		t.Error("review declarations")
	}
	bad := func(e Editing) error {
		l := &Layer{ID: "x", Table: "x", Geometry: MultiPolygon, MinZoom: 1, MaxZoom: 2, Editing: e,
			Fields: []Field{{Name: "kind", TitleZH: "类", TitleEN: "kind", Type: Text, CodeList: CLControlZoneKind}}}
		_, err := NewCatalog([]*Layer{l, {ID: "p", Table: "p", Geometry: Point, MinZoom: 1, MaxZoom: 2}})
		return err
	}
	for name, e := range map[string]Editing{
		"unknown layer":   {Topology: []TopologyRule{{Kind: NoOverlap, Other: "nope", ZH: "z", EN: "e"}}},
		"point layer":     {Topology: []TopologyRule{{Kind: NoOverlap, Other: "p", ZH: "z", EN: "e"}}},
		"no text":         {Topology: []TopologyRule{{Kind: NoOverlap, Other: "x"}}},
		"value not coded": {Review: &Review{Field: "kind", Values: []string{"不存在"}, ZH: "z", EN: "e"}},
		"unknown field":   {Review: &Review{Field: "nope", Values: []string{"a"}, ZH: "z", EN: "e"}},
	} {
		if bad(e) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := bad(Editing{Topology: []TopologyRule{{Kind: NoOverlap, Other: "x", ZH: "z", EN: "e"}}}); err != nil {
		t.Errorf("a valid rule refused: %v", err)
	}
}
