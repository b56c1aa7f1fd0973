package editing

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/features"

	"villageplan/layers"
)

// MaxSplitParts bounds the parts one split may make.
const MaxSplitParts = 100

// SplitRequest cuts one polygon or line feature along a line.
type SplitRequest struct {
	Layer     string
	FeatureID int64
	// IfMatch is the feature's ETag as read (412 when it changed since).
	IfMatch string
	// Blade is a GeoJSON LineString (or MultiLineString) in CRS, positions
	// in that CRS's axis order as for every edit ("" = CRS84).
	Blade json.RawMessage
	CRS   string
	// Properties is a JSON Merge Patch applied to the attributes of every
	// new part (null removes a value), for instance the new 宗地代码 of a
	// layer whose key is unique.
	Properties map[string]any
	Message    string
}

// Split cuts feature FeatureID of Layer along Blade with PostGIS
// (ST_Split, then ST_Dump: every polygon or line of the result is one
// part) and writes the outcome as one changeset: the largest part (area
// for polygons, length for lines, on the ellipsoid) keeps the feature's id
// and attributes (a patch of its geometry, with If-Match), every other
// part is a new feature with the original's attributes except personal
// fields (which the editor may not read) and unique ones (which cannot be
// held twice), merged with Properties. The changeset is validated,
// topology-checked and, where the catalog asks for it, proposed for
// review like any other (Submit); nothing is written when any part is
// refused.
//
// Errors (*Error): 404 no layer or feature; 422 a point layer, a blade
// that is not a line, or a blade that does not cut the feature into at
// least two parts; 428/412 If-Match missing or stale; those of Submit.
func (s *Service) Split(ctx context.Context, req SplitRequest, r *http.Request) (*Result, error) {
	l, ok := s.catalog.Layer(req.Layer)
	if !ok {
		return nil, errf(http.StatusNotFound, CodeNotFound, "没有图层 %q；GET /collections 列出全部图层", "no collection %q; GET /collections lists them", req.Layer)
	}
	if l.Geometry == layers.Point {
		return nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "图层 %s（%s）是点图层，点不能切分", "layer %s (%s) holds points, which cannot be split", l.ID, l.TitleZH).field("geometry")
	}
	if _, e := principal(ctx); e != nil {
		return nil, e
	}
	c, e := parseCRS(req.CRS)
	if e != nil {
		return nil, e
	}
	bladeLayer := &layers.Layer{ID: l.ID, TitleZH: "切分线", Geometry: layers.MultiLineString}
	blade, e := parseGeometry(bladeLayer, req.Blade, c)
	if e != nil {
		return nil, e
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	cur, err := loadCurrent(ctx, tx, l, req.FeatureID)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, errf(http.StatusNotFound, CodeNotFound, "图层 %s 没有要素 %d（可能已被删除）", "layer %s has no feature %d (it may have been deleted)", l.ID, req.FeatureID)
	}
	// A stale If-Match is a 412 before anything is cut (the patch below
	// checks it again; a missing or foreign one is refused there).
	if id, rev, ok := features.ParseETag(req.IfMatch); ok && id == req.FeatureID && rev != cur.rev {
		e := errf(http.StatusPreconditionFailed, CodePreconditionFail,
			"要素在您读取之后已被修改（If-Match %s，现为 %s）；请重新读取要素后再切分",
			"the feature changed since you read it (If-Match %s, now %s); read it again and split the new version",
			req.IfMatch, features.ETag(req.FeatureID, cur.rev))
		e.CurrentETag = features.ETag(req.FeatureID, cur.rev)
		e.Layer, e.FeatureID = l.ID, req.FeatureID
		return nil, e
	}
	measure := "ST_Area(d.geom::geography)"
	if l.Geometry == layers.MultiLineString {
		measure = "ST_Length(d.geom::geography)"
	}
	rows, err := tx.Query(ctx, `WITH b AS (SELECT CASE WHEN $3 THEN ST_SetSRID(ST_GeomFromWKB($1, $2::int), 4490)
		                       ELSE ST_Transform(ST_GeomFromWKB($1, $2::int), 4490) END AS g)
		SELECT ST_AsGeoJSON(d.geom, 15) FROM `+l.QualifiedTable()+` t, b, ST_Dump(ST_Split(t.geom, b.g)) d
		WHERE t.id = $4 AND NOT ST_IsEmpty(d.geom) ORDER BY `+measure+` DESC, ST_XMin(d.geom), ST_YMin(d.geom)`,
		blade.wkb, blade.srid, blade.sameDatum, req.FeatureID)
	if err != nil {
		return nil, s.splitDBError(err)
	}
	parts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.splitDBError(err)
	}
	if len(parts) < 2 {
		return nil, errf(http.StatusUnprocessableEntity, CodeInvalid,
			"切分线没有把要素 %d 分成两部分以上：线须完整穿过要素（两端都在要素之外）", "the line does not cut feature %d into two or more parts: it must cross the feature (both ends outside it)", req.FeatureID).field("geometry")
	}
	if len(parts) > MaxSplitParts {
		return nil, errf(http.StatusUnprocessableEntity, CodeInvalid, "切分会产生 %d 个部分，最多 %d 个", "the split would make %d parts, at most %d", len(parts), MaxSplitParts).field("geometry")
	}
	props := map[string]any{}
	for _, f := range l.Fields {
		if v := cur.props[f.Name]; v != nil && !f.Personal && !f.Unique {
			props[f.Name] = v
		}
	}
	for k, v := range req.Properties {
		if v == nil {
			delete(props, k)
		} else {
			props[k] = v
		}
	}
	patch, _ := json.Marshal(map[string]any{"geometry": json.RawMessage(parts[0])})
	cs := Changeset{Message: req.Message, Operations: []Operation{{Kind: Patch, Layer: l.ID, FeatureID: req.FeatureID, IfMatch: req.IfMatch, Feature: patch}}}
	for _, p := range parts[1:] {
		f, _ := json.Marshal(map[string]any{"type": "Feature", "geometry": json.RawMessage(p), "properties": props})
		cs.Operations = append(cs.Operations, Operation{Kind: Create, Layer: l.ID, Feature: f})
	}
	res, err := s.SubmitTx(ctx, tx, cs, r)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// splitDBError turns a refusal of ST_Split (a blade GEOS cannot use) into
// a 422; anything else stays a database error.
func (s *Service) splitDBError(err error) error {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) && (pg.SQLState() == "XX000" || pg.SQLState()[:2] == "22") {
		return errf(http.StatusUnprocessableEntity, CodeInvalid, "PostGIS 无法用这条线切分要素：%s", "PostGIS cannot split the feature with this line: %s", err.Error()).field("geometry")
	}
	return err
}
