package features

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/db"
	"villageplan/layers"
)

// As-of queries (OGC API – Features datetime=, an instant): the layer as it
// was at that instant, built from the current rows and the superseded
// versions of migration 14 (villageplan.feature_versions; the storage
// design is in that migration's header). Both are read through
// index-backed conditions; nothing replays edit_history. Unlike the
// migration header's sketch, the current rows are not filtered through
// changed_between(layer, T, infinity) but per row (AsOfSQL), which costs
// what the query reads rather than what was edited since T;
// changed_between still lists the ids of /changes.

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
// state at that instant can be answered. The history is append-only
// (nothing deletes edit_history or edit_batch rows), so a layer's start
// can only move earlier (a transaction that began earlier commits later):
// an instant at or after a start once read is answerable for good, and
// is answered without a query.
func (s *Service) CheckInstant(ctx context.Context, l *layers.Layer, at time.Time) error {
	if v, ok := s.starts.Load(l.ID); ok && !at.Before(v.(time.Time)) {
		return nil
	}
	var start *time.Time
	if err := db.PoolFrom(ctx, s.pool).QueryRow(ctx, `SELECT villageplan.history_start($1)`, l.ID).Scan(&start); err != nil {
		return fmt.Errorf("layer %s history start: %w", l.ID, err)
	}
	if start == nil {
		return &ErrBeforeHistory{Layer: l.ID, At: at}
	}
	s.starts.Store(l.ID, *start)
	if at.Before(*start) {
		return &ErrBeforeHistory{Layer: l.ID, At: at, Start: *start}
	}
	return nil
}

// asOfSource is AsOfSQL with the layer and instant as bind parameters of a.
func asOfSource(l *layers.Layer, at time.Time, a *args) string {
	return AsOfSQL(l, a.add(l.ID), a.add(at), "")
}

// AsOfRelation returns AsOfSQL of layer l at instant at with the layer id
// and the instant as SQL literals, so the text needs no bind parameters
// (package indicators composes it into multi-statement work). It does not
// check the instant against the layer's history (CheckInstant does).
func AsOfRelation(l *layers.Layer, at time.Time) string {
	return AsOfSQL(l, layers.QuoteLiteral(l.ID), layers.QuoteLiteral(at.UTC().Format(time.RFC3339Nano)), "")
}

// AsOfSQL returns a parenthesised subquery (use it as a FROM item) giving
// layer l as it was at an instant: the columns id, the catalog fields, geom
// (EPSG:4490) and geom_3857 (EPSG:3857), one row per feature that existed
// then. layerArg and atArg are SQL expressions (bind parameters, or the
// quoted layer id) of the layer id (text) and the instant (timestamptz).
// env3857, when not empty, is an EPSG:3857 box expression that both parts
// are restricted to by their spatial indexes (the tiles' envelope: a join
// condition outside the subquery would not reach them). It is the one
// as-of source of items, downloads, /changes and tiles.
func AsOfSQL(l *layers.Layer, layerArg, atArg, env3857 string) string {
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
	curEnv, oldEnv := "", ""
	if env3857 != "" {
		curEnv = " AND c.geom_3857 && " + env3857
		oldEnv = " AND v.geom && ST_Transform(" + env3857 + ", " + fmt.Sprint(layers.StorageSRID) + ")"
	}
	// A current row is the feature as of T unless it was superseded
	// (updated: a version ending after T) or inserted after T. Both are
	// anti-joins probed per candidate row through the (layer, feature_id)
	// indexes, so the cost follows the rows the query reads, not the
	// number of edits since T (a set of every id changed since T, as
	// changed_between builds, cost 4 ms per query after 2,000 edits and
	// grows with the history); the bulk loads' inserted ids are few
	// multiranges, read once.
	return "(SELECT " + cur.String() + " FROM " + l.QualifiedTable() + " c" +
		" WHERE NOT EXISTS (SELECT FROM villageplan.feature_versions fv WHERE fv.layer = " + layerArg +
		" AND fv.feature_id = c.id AND fv.valid_to > " + atArg + "::timestamptz)" +
		" AND NOT EXISTS (SELECT FROM villageplan.edit_history h WHERE h.layer = " + layerArg +
		" AND h.feature_id = c.id AND h.action = 'insert' AND h.at > " + atArg + "::timestamptz)" +
		" AND NOT (SELECT coalesce(range_agg(b.inserted_ids), '{}') FROM villageplan.edit_batch b WHERE b.layer = " + layerArg +
		" AND b.at > " + atArg + "::timestamptz) @> c.id::bigint" + curEnv +
		" UNION ALL SELECT " + old.String() + " FROM villageplan.feature_versions v" +
		" CROSS JOIN LATERAL jsonb_populate_record(NULL::" + l.QualifiedTable() + ", v.attrs) r" +
		" WHERE v.layer = " + layerArg + " AND v.valid @> " + atArg + "::timestamptz" + oldEnv + ")"
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
	err := db.PoolFrom(ctx, s.pool).QueryRow(ctx, sql, a...).Scan(&f)
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

// OldPrefix names the columns of ChangesSource that hold a field's value
// at the first instant ("old:" + field name: no catalog field has a colon).
const OldPrefix = "old:"

// ChangesSource returns a parenthesised subquery (a FROM item) with one row
// per feature of l added, modified or removed between instants from and to
// (from < to), appending its bind parameters to params. Columns: id;
// change (Added, Modified or Removed); geom, the geometry at to (at from
// for a removed feature), EPSG:4490; old_geom, the geometry at from (NULL
// for an added one); old_p and new_p, the fields of props at from and at
// to as jsonb (NULL where the feature did not exist); for each field of
// props its value at to (at from when removed), typed as stored, and its
// value at from as OldPrefix + name. A feature changed and changed back
// (in props and geometry) is not listed. The ids come from
// changed_between (villageplan.feature_versions, edit_history, edit_batch);
// each side is the as-of source of items (AsOfSQL) restricted to them.
func ChangesSource(l *layers.Layer, from, to time.Time, props []layers.Field, params *[]any) string {
	a := args(*params)
	defer func() { *params = a }()
	lp := a.add(l.ID)
	fp, tp := a.add(from), a.add(to)
	oldSrc := AsOfSQL(l, lp, fp, "")
	newSrc := AsOfSQL(l, lp, tp, "")
	obj := func(alias string) string {
		if len(props) == 0 {
			return "'{}'::jsonb"
		}
		var b strings.Builder
		b.WriteString("jsonb_build_object(")
		for i, f := range props {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(layers.QuoteLiteral(f.Name) + ", " + alias + "." + layers.QuoteIdent(f.Name))
		}
		b.WriteString(")")
		return b.String()
	}
	// Only the columns used: t.* would also compute geom_3857, which the
	// versions make with ST_Transform.
	side := "t.id, t.geom"
	for _, f := range props {
		side += ", t." + layers.QuoteIdent(f.Name)
	}
	var cols strings.Builder
	for _, f := range props {
		q := layers.QuoteIdent(f.Name)
		cols.WriteString(", CASE WHEN n.id IS NULL THEN o." + q + " ELSE n." + q + " END AS " + q)
		cols.WriteString(", o." + q + " AS " + layers.QuoteIdent(OldPrefix+f.Name))
	}
	// The changed ids as an array, so that both sides are read by id
	// through the primary key and the (layer, feature_id) index of the
	// versions: a containment test on the multirange would scan the whole
	// layer twice (1 s for a month of a year of edits on the county's
	// 230,000 homesteads).
	return `(WITH s AS MATERIALIZED (SELECT coalesce(array_agg(i), '{}') AS ids
	         FROM unnest(villageplan.changed_between(` + lp + `, ` + fp + `::timestamptz, ` + tp + `::timestamptz)) r,
	              generate_series(lower(r), upper(r) - 1) i),
	o AS (SELECT ` + side + `, ` + obj("t") + ` AS p FROM ` + oldSrc + ` t WHERE t.id = ANY((SELECT ids FROM s)::bigint[])),
	n AS (SELECT ` + side + `, ` + obj("t") + ` AS p FROM ` + newSrc + ` t WHERE t.id = ANY((SELECT ids FROM s)::bigint[]))
	SELECT coalesce(n.id, o.id) AS id,
	       CASE WHEN o.id IS NULL THEN '` + Added + `' WHEN n.id IS NULL THEN '` + Removed + `' ELSE '` + Modified + `' END AS change,
	       coalesce(n.geom, o.geom) AS geom, o.geom AS old_geom, o.p AS old_p, n.p AS new_p` + cols.String() + `
	  FROM o FULL JOIN n ON n.id = o.id
	 WHERE o.id IS NULL OR n.id IS NULL OR o.p IS DISTINCT FROM n.p OR ST_AsEWKB(o.geom) <> ST_AsEWKB(n.geom))`
}

// Changes calls fn with one GeoJSON Feature per feature of l added,
// modified or removed between instants from and to (from < to), in id
// order (the rows of ChangesSource). The feature's geometry is its state
// at to (at from for a removed one), CRS84; properties are {"change":
// kind, "old": {…}|null, "new": {…}|null, "old_geometry": GeoJSON|null},
// with the fields a caller may see (personal ones only with
// includePersonal).
func (s *Service) Changes(ctx context.Context, l *layers.Layer, from, to time.Time, includePersonal bool, fn func(feature []byte) error) error {
	var a []any
	src := ChangesSource(l, from, to, VisibleFields(l, includePersonal), &a)
	sql := `SELECT '{"type":"Feature","id":' || c.id || ',"geometry":' || ST_AsGeoJSON(c.geom, 8, 0) || ',"properties":' ||
	       json_build_object('change', c.change, 'old', c.old_p, 'new', c.new_p,
	                         'old_geometry', ST_AsGeoJSON(c.old_geom, 8, 0)::json)::text || '}'
	  FROM ` + src + ` c ORDER BY c.id`
	rows, err := db.PoolFrom(ctx, s.pool).Query(ctx, sql, a...)
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
