package indicators

import (
	"fmt"
	"strings"

	"villageplan/layers"
)

// DefaultLightRadiusM is the distance in metres from a working streetlight
// within which a road counts as lit: half of the 50 m pole spacing usual on
// village main roads, a rule of thumb ([GK]; no national rural standard,
// DOMAIN.md §7.2), not a photometric calculation.
const DefaultLightRadiusM = 25.0

// Lighting defines which parts of the villages' main roads are lit; the
// streetlight-coverage map view (package web) and the indicator
// road_lit_share share it and its SQL (MainRoadPartsSQL). A main-road
// segment is the part of a road inside the village construction boundary
// (the union of the control-zone kinds BuiltUpKinds, as the siting rule
// set defines it), leaving out roads whose MainRoadField (村内主干道, when
// the catalog has it) is false; it is lit where it lies within RadiusM of
// a streetlight whose status is WorkingStatus, unlit elsewhere. Layers and
// fields come from the catalog.
type Lighting struct {
	Roads, Lights, Zones *layers.Layer
	// LightStatus and ZoneKind are the columns that hold a light's status
	// and a zone's kind; MainRoadField the roads' boolean 村内主干道 column
	// ("" when the catalog has none: every road inside the boundary).
	LightStatus, ZoneKind, MainRoadField string
	// WorkingStatus is the status of a light that shines (正常).
	WorkingStatus string
	BuiltUpKinds  []string
	RadiusM       float64
}

// NewLighting finds the lighting layers in the catalog by the code lists
// of their fields (roads: coloured by road administrative grade; lights:
// a point layer with a light-status field; zones: a control-zone-kind
// field). It returns nil when the catalog lacks one of them or
// builtUpKinds is empty.
func NewLighting(cat *layers.Catalog, builtUpKinds []string) *Lighting {
	c := &Lighting{BuiltUpKinds: builtUpKinds, RadiusM: DefaultLightRadiusM}
	for _, l := range cat.Layers() {
		if f, ok := l.Field(l.Style.ColorBy); ok && l.Style.ColorBy != "" && f.CodeList == layers.CLRoadAdminGrade && c.Roads == nil {
			c.Roads = l
		}
		for _, f := range l.Fields {
			switch {
			case f.CodeList == layers.CLLightStatus && l.Geometry == layers.Point && c.Lights == nil:
				c.Lights, c.LightStatus = l, f.Name
			case f.CodeList == layers.CLControlZoneKind && c.Zones == nil:
				c.Zones, c.ZoneKind = l, f.Name
			}
		}
	}
	if c.Roads != nil {
		if f, ok := c.Roads.Field("main_road"); ok && f.Type == layers.Bool {
			c.MainRoadField = f.Name
		}
	}
	if cl, ok := layers.CodeListByID(layers.CLLightStatus); ok && len(cl.Values) > 0 {
		c.WorkingStatus = cl.Values[0].Value // 正常, the first value of the list
	}
	if c.Roads == nil || c.Lights == nil || c.Zones == nil || c.WorkingStatus == "" || len(builtUpKinds) == 0 {
		return nil
	}
	return c
}

// NoteZH and NoteEN explain the definition in the legend and beside the
// indicator.
func (c *Lighting) NoteZH() string {
	main := ""
	if c.MainRoadField != "" {
		main = "村内主干道（未标为非主干道的）"
	}
	return fmt.Sprintf("村庄建设边界（%s）内的%s道路：距正常运行路灯 %.0f 米以内为已照明，其余为未照明（经验值）",
		strings.Join(c.BuiltUpKinds, "、"), main, c.RadiusM)
}

// NoteEN is the English NoteZH.
func (c *Lighting) NoteEN() string {
	main := "roads"
	if c.MainRoadField != "" {
		main = "main roads (those not flagged as non-main)"
	}
	return fmt.Sprintf("%s inside the village construction boundary: lit within %.0f m of a working light, unlit elsewhere (rule of thumb)", main, c.RadiusM)
}

// Versions are the layers whose layer_version the lit parts depend on.
func (c *Lighting) Versions() []string { return []string{c.Roads.ID, c.Lights.ID, c.Zones.ID} }

// MainRoadPartsSQL returns the WITH list (without the word WITH) of the
// query of the lit and unlit main-road parts; its last relation,
// "measured", has one row per road and class: id (the road's feature id),
// route and grade (text, NULL when the catalog has no such style field),
// class ('lit' or 'unlit'), g (the part, EPSG:4490 MultiLineString) and
// len (its geodesic length, m). src gives the FROM item of a layer (its
// table, or the layer as of an instant). Bind parameters: $1 the built-up
// zone kinds (text[]), $2 the working status (text), $3 the radius (m).
//
// It is computed on the tile-serving Web-Mercator copy (the radius scaled
// by 1/cos φ at each light; the lights near a part are found through the
// index on geom_3857 with a box widened by 1/cos of the part's largest
// latitude; circles drawn as 32-gons, so lit lengths may
// be up to 0.5 % short). Stored geometries that break the layers' rules
// (possible only where an administrator dropped the CHECK constraints)
// never make it fail: invalid built-up zones count with their
// ST_MakeValid repair, invalid (collapsed) roads and EMPTY geometries are
// left out (an EMPTY member can crash ST_UnaryUnion).
func (c *Lighting) MainRoadPartsSQL(src func(*layers.Layer) string) string {
	gradeSQL, routeSQL, mainSQL := "NULL::text", "NULL::text", ""
	if g := c.Roads.Style.ColorBy; g != "" {
		gradeSQL = "r." + layers.QuoteIdent(g) + "::text"
	}
	if rt := c.Roads.Style.LabelField; rt != "" {
		routeSQL = "r." + layers.QuoteIdent(rt) + "::text"
	}
	if c.MainRoadField != "" {
		mainSQL = " AND r." + layers.QuoteIdent(c.MainRoadField) + " IS NOT FALSE"
	}
	return fmt.Sprintf(`built AS MATERIALIZED (
  SELECT ST_Union(g) AS g FROM (
    SELECT CASE WHEN ST_IsValid(z.geom_3857) THEN z.geom_3857 ELSE ST_CollectionExtract(ST_MakeValid(z.geom_3857), 3) END AS g
    FROM %[1]s z WHERE z.%[2]s = ANY($1) AND NOT ST_IsEmpty(z.geom_3857) OFFSET 0) v WHERE NOT ST_IsEmpty(g)
), main AS MATERIALIZED (
  SELECT r.id, %[5]s AS route, %[6]s AS grade, ST_CollectionExtract(ST_Intersection(r.geom_3857, b.g), 2) AS g
  FROM %[3]s r, built b
  WHERE b.g IS NOT NULL AND r.geom_3857 && b.g AND ST_Intersects(r.geom_3857, b.g) AND ST_IsValid(r.geom_3857)%[9]s
), lit AS (
  SELECT m.*, (SELECT ST_Union(ST_Buffer(l.geom_3857, $3 / cos(radians(ST_Y(l.geom))), 'quad_segs=8'))
               FROM %[4]s l
               WHERE l.geom_3857 && ST_Expand(m.g, 2 * $3 / m.cosmax)
                 AND l.%[7]s = $2 AND NOT ST_IsEmpty(l.geom) AND ST_DWithin(l.geom_3857, m.g, 2 * $3 / cos(radians(ST_Y(l.geom))))) AS lg
  FROM (SELECT m.*, cos(radians(least(89, greatest(abs(ST_YMin(e)), abs(ST_YMax(e)))))) AS cosmax
        FROM main m CROSS JOIN LATERAL ST_Transform(ST_Envelope(m.g), %[8]d) e WHERE NOT ST_IsEmpty(m.g)) m
), parts AS (
  SELECT id, route, grade, 'lit' AS class, ST_CollectionExtract(ST_Intersection(g, lg), 2) AS g FROM lit WHERE lg IS NOT NULL
  UNION ALL
  SELECT id, route, grade, 'unlit', CASE WHEN lg IS NULL THEN g ELSE ST_CollectionExtract(ST_Difference(g, lg), 2) END FROM lit
), measured AS (
  SELECT id, route, grade, class, ST_Transform(g, %[8]d) AS g, ST_Length(ST_Transform(g, %[8]d)::geography) AS len
  FROM parts WHERE NOT ST_IsEmpty(g)
)`,
		src(c.Zones), layers.QuoteIdent(c.ZoneKind), src(c.Roads), src(c.Lights),
		routeSQL, gradeSQL, layers.QuoteIdent(c.LightStatus), layers.StorageSRID, mainSQL)
}

// Args are the bind parameters $1–$3 of MainRoadPartsSQL.
func (c *Lighting) Args() []any { return []any{c.BuiltUpKinds, c.WorkingStatus, c.RadiusM} }
