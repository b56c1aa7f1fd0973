package features

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/layers"
)

// As-of queries (OGC API – Features datetime=, an instant): the layer as it
// was at that instant, built from the current rows and the superseded
// versions of migration 13 (villageplan.feature_versions; the design is in
// that migration's header). Both are read through index-backed conditions;
// nothing replays edit_history.

// ErrBeforeHistory is returned for an instant before the layer's first
// recorded edit: what the layer held then is not known.
type ErrBeforeHistory struct {
	Layer string
	At    time.Time
	// Start is the first recorded edit; zero when the layer has none.
	Start time.Time
}

func (e *ErrBeforeHistory) Error() string {
	if e.Start.IsZero() {
		return fmt.Sprintf("图层 %s 没有编辑历史，无法回溯到 %s；layer %s has no recorded history, so its state at %s is unknown",
			e.Layer, e.At.UTC().Format(time.RFC3339), e.Layer, e.At.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s 早于图层 %s 的最早历史记录 %s；%s is before the first recorded edit of layer %s (%s); ask for an instant at or after it",
		e.At.UTC().Format(time.RFC3339), e.Layer, e.Start.UTC().Format(time.RFC3339Nano),
		e.At.UTC().Format(time.RFC3339), e.Layer, e.Start.UTC().Format(time.RFC3339Nano))
}

// CheckInstant returns *ErrBeforeHistory when at precedes the first
// recorded edit of l (villageplan.history_start), nil when the layer's
// state at that instant can be answered.
func (s *Service) CheckInstant(ctx context.Context, l *layers.Layer, at time.Time) error {
	var start *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT villageplan.history_start($1)`, l.ID).Scan(&start); err != nil {
		return fmt.Errorf("layer %s history start: %w", l.ID, err)
	}
	if start == nil {
		return &ErrBeforeHistory{Layer: l.ID, At: at}
	}
	if at.Before(*start) {
		return &ErrBeforeHistory{Layer: l.ID, At: at, Start: *start}
	}
	return nil
}

// columnList is the layer's id, catalog fields, geom and geom_3857 — the
// columns an as-of source offers under the table alias t.
func asOfSource(l *layers.Layer, at time.Time, a *args) string {
	return asOfRelation(l, a.add(l.ID), a.add(at))
}

// AsOfRelation returns a parenthesised subquery (to be given an alias) of
// layer l as it was at instant at: the columns id, the catalog fields,
// geom (EPSG:4490) and geom_3857, as the layer table has them. The layer
// id and the instant are SQL literals, so the text needs no bind
// parameters (package indicators composes it into multi-statement work).
// It does not check the instant against the layer's history
// (CheckInstant does).
func AsOfRelation(l *layers.Layer, at time.Time) string {
	return asOfRelation(l, layers.QuoteLiteral(l.ID), layers.QuoteLiteral(at.UTC().Format(time.RFC3339Nano)))
}

// asOfRelation is AsOfRelation with the layer id lp and the instant tp as
// SQL expressions (literals or bind parameters).
func asOfRelation(l *layers.Layer, lp, tp string) string {
	var cur, old strings.Builder
	cur.WriteString("c.id")
	old.WriteString("v.feature_id")
	for _, f := range l.Fields {
		q := layers.QuoteIdent(f.Name)
		cur.WriteString(", c." + q)
		old.WriteString(", r." + q)
	}
	cur.WriteString(", c.geom, c.geom_3857")
	old.WriteString(", v.geom, ST_Transform(v.geom, " + fmt.Sprint(layers.TileSRID) + ")")
	return "(SELECT " + cur.String() + " FROM " + l.QualifiedTable() + " c" +
		" WHERE NOT (SELECT villageplan.changed_between(" + lp + ", " + tp + "::timestamptz, 'infinity')) @> c.id::bigint" +
		" UNION ALL SELECT " + old.String() + " FROM villageplan.feature_versions v" +
		" CROSS JOIN LATERAL jsonb_populate_record(NULL::" + l.QualifiedTable() + ", v.attrs) r" +
		" WHERE v.layer = " + lp + " AND v.valid @> " + tp + "::timestamptz)"
}

// source is the FROM item of q under alias t: the layer table, or the
// as-of source when q.AsOf is set. It must be built before the WHERE
// clause (its bind parameters come first).
func source(q *Query, a *args) string {
	if q.AsOf == nil {
		return q.Layer.QualifiedTable() + " t"
	}
	return asOfSource(q.Layer, *q.AsOf, a) + " t"
}

// FromClause returns the FROM item of q over alias t (the layer table, or
// the layer as of q.AsOf), appending its bind parameters to params. Call
// it before WhereClause.
func (q *Query) FromClause(params *[]any) string {
	a := args(*params)
	s := source(q, &a)
	*params = a
	return s
}

// FeatureAsOf returns one feature as it was at instant at, or ErrNotFound
// when it did not exist then.
func (s *Service) FeatureAsOf(ctx context.Context, l *layers.Layer, id int64, at time.Time, outputSRID int, includePersonal bool) ([]byte, error) {
	var a args
	src := asOfSource(l, at, &a)
	sql := "SELECT " + featureExpr(l, VisibleFields(l, includePersonal), outputSRID) + " FROM " + src + " t WHERE t.id = " + a.add(id)
	var f []byte
	err := s.pool.QueryRow(ctx, sql, a...).Scan(&f)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s feature %d as of %s: %w", l.ID, id, at.Format(time.RFC3339), err)
	}
	return f, nil
}

// Change kinds of Changes, as kart diff names them.
const (
	Added    = "added"
	Modified = "modified"
	Removed  = "removed"
)

// Changes calls fn with one GeoJSON Feature per feature of l added,
// modified or removed between instants from and to (from < to), in id
// order. The feature's geometry is its state at to (at from for a removed
// one), CRS84; properties are {"change": kind, "old": {…}|null, "new":
// {…}|null, "old_geometry": GeoJSON|null}, with the fields a caller may see
// (personal ones only with includePersonal). A feature changed and changed
// back is not listed.
func (s *Service) Changes(ctx context.Context, l *layers.Layer, from, to time.Time, includePersonal bool, fn func(feature []byte) error) error {
	var a args
	lp := a.add(l.ID)
	fp, tp := a.add(from), a.add(to)
	oldSrc := asOfSource(l, from, &a)
	newSrc := asOfSource(l, to, &a)
	props := VisibleFields(l, includePersonal)
	obj := func(alias string) string {
		if len(props) == 0 {
			return "'{}'::json"
		}
		var b strings.Builder
		b.WriteString("json_build_object(")
		for i, f := range props {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(layers.QuoteLiteral(f.Name) + ", " + alias + "." + layers.QuoteIdent(f.Name))
		}
		b.WriteString(")")
		return b.String()
	}
	sql := `WITH s AS MATERIALIZED (SELECT villageplan.changed_between(` + lp + `, ` + fp + `::timestamptz, ` + tp + `::timestamptz) AS m),
	o AS (SELECT t.*, ` + obj("t") + `::jsonb AS p FROM ` + oldSrc + ` t WHERE (SELECT m FROM s) @> t.id::bigint),
	n AS (SELECT t.*, ` + obj("t") + `::jsonb AS p FROM ` + newSrc + ` t WHERE (SELECT m FROM s) @> t.id::bigint)
	SELECT '{"type":"Feature","id":' || coalesce(n.id, o.id) || ',"geometry":' ||
	       ST_AsGeoJSON(coalesce(n.geom, o.geom), 8, 0) || ',"properties":' ||
	       json_build_object('change', CASE WHEN o.id IS NULL THEN 'added' WHEN n.id IS NULL THEN 'removed' ELSE 'modified' END,
	                         'old', o.p, 'new', n.p,
	                         'old_geometry', CASE WHEN o.id IS NOT NULL THEN ST_AsGeoJSON(o.geom, 8, 0)::json END)::text || '}'
	  FROM o FULL JOIN n ON n.id = o.id
	 WHERE o.id IS NULL OR n.id IS NULL OR o.p IS DISTINCT FROM n.p OR ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom)
	 ORDER BY coalesce(n.id, o.id)`
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return fmt.Errorf("layer %s changes: %w", l.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.RawValues()[0]); err != nil {
			return err
		}
	}
	return rows.Err()
}
