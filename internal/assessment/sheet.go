package assessment

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"

	"villageplan/internal/documents"
	"villageplan/layers"
)

// WriteSheet writes the one-page PDF sheet of village in year's result
// (ErrUnknownVillage when the result has no such village).
func (s *Service) WriteSheet(ctx context.Context, w io.Writer, r *Result, village string) (*documents.Rendered, error) {
	v, ok := r.Village(village)
	if !ok {
		return nil, ErrUnknownVillage
	}
	of := 0
	for _, x := range r.Villages {
		if x.Score != nil {
			of++
		}
	}
	sh := &documents.AssessmentSheet{Year: r.Year, AsOf: r.AsOf, Closed: r.Closed, Village: v.Village, Name: v.Name,
		Score: v.Score, Rank: v.Rank, Of: of, PrevYear: r.PreviousYear, PrevScore: v.PrevScore, PrevRank: v.PrevRank,
		Change: v.Change, Generated: s.now()}
	counted := 0.0
	for _, p := range v.Parts {
		if p.Value != nil {
			counted += p.Weight
		}
	}
	keys := map[string]Key{}
	for _, k := range r.Keys {
		keys[k.Key] = k
	}
	for _, p := range v.Parts {
		k := keys[p.Key]
		row := documents.AssessmentRow{TitleZH: k.TitleZH, Unit: k.Unit, Value: p.Value, Score: p.Score, Weight: p.Weight}
		if p.Value != nil && counted > 0 {
			row.Share = 100 * p.Weight / counted
		}
		sh.Rows = append(sh.Rows, row)
	}
	m, err := s.villageMap(ctx, village)
	if err != nil {
		return nil, err
	}
	sh.Map = m
	return documents.WriteAssessmentSheet(w, sh)
}

// mapLayer is one layer of the sheet's map: the catalog layer, a filter
// on one of its fields (or none) and its drawing.
type mapLayer struct {
	id          string
	field, like string // field = value filter ("" none)
	style       documents.MapLayer
}

var sheetLayers = []mapLayer{
	{id: "natural_hamlets", style: documents.MapLayer{Label: "自然屯（浅黄）", R: 253, G: 222, B: 170, Fill: true}},
	{id: "homesteads", style: documents.MapLayer{Label: "宅基地（棕）", R: 201, G: 139, B: 74, Fill: true}},
	{id: "roads", style: documents.MapLayer{Label: "道路（灰）", R: 120, G: 120, B: 120, Width: 0.5}},
	{id: "roads", field: "fire_lane", like: "false", style: documents.MapLayer{Label: "不满足消防车道要求的道路（红）", R: 215, G: 48, B: 39, Width: 0.6}},
	{id: "public_facilities", field: "kind", like: "应急避难场所", style: documents.MapLayer{Label: "应急避难场所（绿点）", R: 27, G: 158, B: 119, Radius: 1.3}},
	{id: "public_facilities", field: "kind", like: "卫生室", style: documents.MapLayer{Label: "卫生室（粉点）", R: 231, G: 41, B: 138, Radius: 1.1}},
	{id: "public_facilities", field: "kind", like: "便民服务中心", style: documents.MapLayer{Label: "便民服务中心（紫点）", R: 106, G: 61, B: 154, Radius: 1.1}},
}

// villageMap reads the village's outline and the layers of sheetLayers,
// cut to the village and projected by PostGIS onto the CGCS2000 3-degree
// Gauss-Krüger plane of the village's zone (EPSG:4534–4554; EPSG:4551 for
// 双阳). Layers or fields the catalog lacks are skipped.
func (s *Service) villageMap(ctx context.Context, village string) (*documents.VillageMap, error) {
	vl, ok := s.cat.Layer("villages")
	if !ok {
		return nil, nil
	}
	var epsg int
	var raw []byte
	err := s.pool.QueryRow(ctx, `WITH v AS (SELECT geom, floor(ST_X(ST_Centroid(geom)) / 3 + 0.5)::int AS z FROM `+vl.QualifiedTable()+` WHERE xzqdm = $1 LIMIT 1)
SELECT CASE WHEN z BETWEEN 25 AND 45 THEN 4509 + z ELSE 4551 END, ST_AsBinary(ST_Transform(geom, CASE WHEN z BETWEEN 25 AND 45 THEN 4509 + z ELSE 4551 END)) FROM v`, village).Scan(&epsg, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("village map %s: %w", village, err)
	}
	bound, err := orbwkb.Unmarshal(raw)
	if err != nil {
		return nil, err
	}
	m := &documents.VillageMap{EPSG: epsg, Boundary: bound}
	// Focus: the envelope of the village's 自然屯 (the settled area), so
	// that houses and lanes are legible; the whole village without them.
	if hl, ok := s.cat.Layer("natural_hamlets"); ok {
		if _, has := hl.Field("xzqdm"); has {
			var fb []byte
			err := s.pool.QueryRow(ctx, `SELECT ST_AsBinary(ST_Transform(ST_Envelope(ST_Collect(geom)), $2::int)) FROM `+hl.QualifiedTable()+`
WHERE xzqdm = $1 AND NOT ST_IsEmpty(geom)`, village, epsg).Scan(&fb)
			if err != nil {
				return nil, fmt.Errorf("village map %s: hamlets: %w", village, err)
			}
			if fb != nil {
				if g, err := orbwkb.Unmarshal(fb); err == nil && g != nil {
					m.Focus = g
				}
			}
		}
	}
	for _, ml := range sheetLayers {
		l, ok := s.cat.Layer(ml.id)
		if !ok {
			continue
		}
		cond := "true"
		var args []any
		args = append(args, village, epsg)
		if ml.field != "" {
			f, ok := l.Field(ml.field)
			if !ok {
				continue
			}
			if f.Type == layers.Bool {
				cond = layers.QuoteIdent(ml.field) + " = $3::boolean"
			} else {
				cond = layers.QuoteIdent(ml.field) + "::text = $3"
			}
			args = append(args, ml.like)
		}
		clip := "t.geom"
		if l.Geometry != layers.Point {
			clip = "ST_Intersection(t.geom, v.geom)"
		}
		q := `WITH v AS (SELECT geom FROM ` + vl.QualifiedTable() + ` WHERE xzqdm = $1 LIMIT 1)
SELECT ST_AsBinary(ST_Transform(` + clip + `, $2::int)) FROM ` + l.QualifiedTable() + ` t, v
WHERE t.geom && v.geom AND ST_Intersects(t.geom, v.geom) AND ST_IsValid(t.geom) AND NOT ST_IsEmpty(t.geom) AND ` + cond
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("village map %s %s: %w", village, ml.id, err)
		}
		st := ml.style
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			g, err := orbwkb.Unmarshal(b)
			if err != nil || g == nil {
				continue
			}
			if c, ok := g.(orb.Collection); ok && len(c) == 0 {
				continue
			}
			st.Geoms = append(st.Geoms, g)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, st)
	}
	return m, nil
}
