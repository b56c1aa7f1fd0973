package imports

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"villageplan/layers"
)

// OutsideToleranceKm is how far outside the township (the union of the
// villages layer) a feature may lie before an import refuses it without
// --allow-outside. 1 km absorbs boundary surveys that differ from the
// village polygons and features that straddle the boundary (roads, power
// lines leaving the township), while data of another place — a Hangzhou
// parcel loaded into 双营子's homesteads lies about 1,540 km away — is
// caught.
const OutsideToleranceKm = 1.0

// keySQL returns the SQL text of the layer key of a feature-table row
// aliased t, or "NULL" when the layer has no key.
func keySQL(l *layers.Layer, alias string) string {
	if l.Key == "" {
		return "NULL::text"
	}
	return alias + "." + layers.QuoteIdent(l.Key) + "::text"
}

// keyLabel is "zddm=…" for a problem's Key.
func keyLabel(l *layers.Layer, v *string) string {
	if l.Key == "" || v == nil {
		return ""
	}
	return l.Key + "=" + *v
}

// checkUnique finds features whose Unique fields (the layer key among
// them) repeat a value of an earlier feature of the files, or of a feature
// already in the layer: in append mode any such feature; in upsert mode
// only for fields other than the key (the key is what upsert merges by),
// and only against features with another key; in replace mode the old
// features go, so only the files count.
func (ld *loader) checkUnique(ctx context.Context, tx pgx.Tx) error {
	l := ld.layer
	for _, f := range l.Fields {
		if !f.Unique {
			continue
		}
		col := layers.QuoteIdent(f.Name)
		rule := "vp_" + l.Table + "_" + f.Name + "_unique"
		rows, err := tx.Query(ctx, `SELECT t.file_no, t.rec, t.label, `+keySQL(l, "t")+`, t.`+col+`::text, o.file_no, o.rec
			FROM (SELECT *, first_value(idx) OVER (PARTITION BY `+col+` ORDER BY idx) AS first FROM `+featTable+` WHERE `+col+` IS NOT NULL) t
			JOIN `+featTable+` o ON o.idx = t.first
			WHERE t.idx <> t.first ORDER BY t.idx`)
		if err != nil {
			return fmt.Errorf("checking %s for duplicates: %w", f.Name, err)
		}
		for rows.Next() {
			var fileNo, rec, oFile, oRec int32
			var lbl, val string
			var key *string
			if err := rows.Scan(&fileNo, &rec, &lbl, &key, &val, &oFile, &oRec); err != nil {
				rows.Close()
				return err
			}
			where := fmt.Sprintf("feature #%d of %s", oRec, ld.filePath(int(oFile)))
			whereZH := fmt.Sprintf("%s 的第 %d 个要素", ld.filePath(int(oFile)), oRec)
			ld.problem(Problem{File: ld.filePath(int(fileNo)), Index: int(rec), Label: lbl, Key: keyLabel(l, key), Rule: rule,
				Reason: fmt.Sprintf("字段 %s（%s）的值 %q 与%s重复，违反规则 %s / field %s (%s) value %q repeats %s; rule %s: %s",
					f.Name, f.TitleZH, val, whereZH, rule, f.Name, f.TitleEN, val, where, rule, "the value must be unique in the layer"),
				Lon: math.NaN(), Lat: math.NaN()})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if ld.opts.Mode == Replace || (ld.opts.Mode == Upsert && f.Name == l.Key) {
			continue
		}
		other := ""
		if ld.opts.Mode == Upsert {
			other = ` AND e.` + layers.QuoteIdent(l.Key) + ` IS DISTINCT FROM t.` + layers.QuoteIdent(l.Key)
		}
		rows, err = tx.Query(ctx, `SELECT t.file_no, t.rec, t.label, `+keySQL(l, "t")+`, t.`+col+`::text, e.id
			FROM `+featTable+` t JOIN `+l.QualifiedTable()+` e ON e.`+col+` = t.`+col+other+` ORDER BY t.idx`)
		if err != nil {
			return fmt.Errorf("checking %s against the layer: %w", f.Name, err)
		}
		for rows.Next() {
			var fileNo, rec int32
			var lbl, val string
			var key *string
			var id int64
			if err := rows.Scan(&fileNo, &rec, &lbl, &key, &val, &id); err != nil {
				rows.Close()
				return err
			}
			hint := "use --mode upsert to update the existing feature by its key, or --mode replace to replace the layer"
			hintZH := "如需按键更新已有要素请用 --mode upsert，替换整个图层请用 --mode replace"
			if l.Key == "" || f.Name != l.Key {
				hint, hintZH = "correct the value", "请更正该值"
			}
			ld.dupKeys = append(ld.dupKeys, f.Name+"="+val)
			ld.problem(Problem{File: ld.filePath(int(fileNo)), Index: int(rec), Label: lbl, Key: keyLabel(l, key), Rule: rule,
				Reason: fmt.Sprintf("字段 %s（%s）的值 %q 在图层中已存在（要素 id %d），违反规则 %s；%s / field %s (%s) value %q already exists in the layer (feature id %d), rule %s; %s",
					f.Name, f.TitleZH, val, id, rule, hintZH, f.Name, f.TitleEN, val, id, rule, hint),
				Lon: math.NaN(), Lat: math.NaN()})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// checkOutside refuses features lying more than OutsideToleranceKm outside
// the township, the union of the villages layer (not for the villages
// layer itself, which defines the township). Distances are geodesic on the
// CGCS2000 ellipsoid (geography). With an empty villages layer the check
// cannot run and a warning says so. skip lists features whose geometry
// already has a problem.
func (ld *loader) checkOutside(ctx context.Context, tx pgx.Tx, skip []int32) error {
	if ld.layer.ID == layers.Villages.ID {
		return nil
	}
	var villages int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+layers.Villages.QualifiedTable()+` LIMIT 1) v`).Scan(&villages); err != nil {
		return err
	}
	if villages == 0 {
		ld.sum.Warnings = append(ld.sum.Warnings, "村级调查区（villages）图层为空，无法检查要素是否位于本乡镇范围内 / the villages layer is empty, so the features could not be checked against the township boundary")
		return nil
	}
	if skip == nil {
		skip = []int32{} // = ANY(NULL) would hide every feature
	}
	tol := strconv.FormatFloat(OutsideToleranceKm*1000, 'f', -1, 64)
	// Features that touch the township are in (prepared ST_Intersects).
	// For the others the distance to the township's convex hull (a few
	// vertices) is a cheap lower bound: beyond the tolerance the feature
	// is outside for certain; only within it is the exact geodesic
	// distance to the township needed. Distances over 10 km are reported
	// to the hull (they understate by at most the depth of the boundary's
	// bays); geodesic distances to a whole township cost ~10 ms a feature.
	rows, err := tx.Query(ctx, `WITH town AS (SELECT g, ST_ConvexHull(g)::geography AS hull
			FROM (SELECT ST_Union(geom) AS g FROM `+layers.Villages.QualifiedTable()+`) u),
		cand AS (SELECT t.idx, t.file_no, t.rec, t.label, `+keySQL(ld.layer, "t")+` AS key, t.g,
				ST_Distance(t.g::geography, town.hull) AS dh
			FROM `+featTable+` t, town
			WHERE t.g IS NOT NULL AND NOT ST_IsEmpty(t.g) AND NOT (t.idx = ANY($1))
			  AND NOT (t.g && town.g AND ST_Intersects(town.g, t.g))),
		far AS (SELECT c.*, CASE WHEN c.dh > 10000 THEN c.dh ELSE ST_Distance(c.g::geography, town.g::geography) END AS d
			FROM cand c, town
			WHERE c.dh > `+tol+` OR NOT ST_DWithin(c.g::geography, town.g::geography, `+tol+`))
		SELECT f.file_no, f.rec, f.label, f.key, f.d / 1000, ST_X(p), ST_Y(p)
		FROM far f, ST_PointOnSurface(f.g) p
		ORDER BY f.idx`, skip)
	if err != nil {
		return fmt.Errorf("checking the features against the township: %w", err)
	}
	defer rows.Close()
	allowed := 0
	for rows.Next() {
		var fileNo, rec int32
		var lbl string
		var key *string
		var km, lon, lat float64
		if err := rows.Scan(&fileNo, &rec, &lbl, &key, &km, &lon, &lat); err != nil {
			return err
		}
		if ld.opts.AllowOutside {
			allowed++
			continue
		}
		ld.problem(Problem{File: ld.filePath(int(fileNo)), Index: int(rec), Label: lbl, Key: keyLabel(ld.layer, key), Rule: "outside_township",
			Reason: fmt.Sprintf("位于本乡镇范围（村级调查区的并集）之外 %.1f 千米，超过 %.0f 千米的容差；如确属本图层，请加 --allow-outside / lies %.1f km outside the township (the union of the villages layer), beyond the %.0f km tolerance; pass --allow-outside if it belongs here",
				km, OutsideToleranceKm, km, OutsideToleranceKm),
			Lon: lon, Lat: lat})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if allowed > 0 {
		ld.sum.Warnings = append(ld.sum.Warnings, fmt.Sprintf("%d 个要素位于本乡镇范围之外超过 %.0f 千米，因 --allow-outside 仍予导入 / %d feature(s) lie more than %.0f km outside the township, loaded because of --allow-outside",
			allowed, OutsideToleranceKm, allowed, OutsideToleranceKm))
	}
	return nil
}

// insertSQL is the statement that moves the checked features into the
// layer table. In upsert mode it merges by the layer key
// (INSERT … ON CONFLICT (key) DO UPDATE), updating the geometry and the
// fields that the files fill (mapped or --set), so the statement triggers
// record updates in the edit history; it returns the counts of inserted
// and updated features.
func (ld *loader) insertSQL() string {
	l := ld.layer
	var fieldCols []string
	for _, f := range l.Fields {
		fieldCols = append(fieldCols, layers.QuoteIdent(f.Name))
	}
	fc := strings.Join(fieldCols, ", ")
	if fc != "" {
		fc += ", "
	}
	ins := `INSERT INTO ` + l.QualifiedTable() + ` AS e (` + fc + `geom) SELECT ` + fc + `g FROM ` + featTable + ` ORDER BY idx`
	if ld.opts.Mode != Upsert {
		return ins
	}
	used, _ := ld.mapper.summary()
	sets := []string{"geom = EXCLUDED.geom"}
	for _, f := range l.Fields {
		if _, ok := used[f.Name]; ok && f.Name != l.Key {
			sets = append(sets, layers.QuoteIdent(f.Name)+" = EXCLUDED."+layers.QuoteIdent(f.Name))
		}
	}
	return `WITH w AS (` + ins + ` ON CONFLICT (` + layers.QuoteIdent(l.Key) + `) DO UPDATE SET ` + strings.Join(sets, ", ") +
		` RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w`
}

// insert runs insertSQL inside a savepoint. A constraint error that still
// reaches the INSERT (a rule the checks above missed, or a row written by
// another session meanwhile) is translated into the rule and the features
// that break it: an *Error, never a raw SQLSTATE.
func (ld *loader) insert(ctx context.Context, tx pgx.Tx) (inserted, updated int, err error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	if ld.opts.Mode == Upsert {
		var i, u int64
		err = sp.QueryRow(ctx, ld.insertSQL()).Scan(&i, &u)
		inserted, updated = int(i), int(u)
	} else {
		var tag pgconn.CommandTag
		tag, err = sp.Exec(ctx, ld.insertSQL())
		inserted = int(tag.RowsAffected())
	}
	if err == nil {
		return inserted, updated, sp.Commit(ctx)
	}
	_ = sp.Rollback(ctx)
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return 0, 0, fmt.Errorf("insert into %s: %w", ld.layer.ID, err)
	}
	if pg.Code == "42P10" && ld.opts.Mode == Upsert {
		return 0, 0, fmt.Errorf("图层 %s 的键 %s 尚无唯一约束（已有要素的键重复，见服务日志），无法 upsert / layer %s: the key %s has no unique constraint yet (existing features repeat keys; the server log lists them), so --mode upsert cannot merge: resolve the duplicates first",
			ld.layer.ID, ld.layer.Key, ld.layer.ID, ld.layer.Key)
	}
	name := pg.ConstraintName
	if pg.Code == "23502" && pg.ColumnName != "" {
		name = "vp_" + ld.layer.Table + "_" + pg.ColumnName + "_notnull"
	}
	rule, ok := layers.Default().RuleByName(name)
	if !ok || !strings.HasPrefix(pg.Code, "23") {
		return 0, 0, fmt.Errorf("insert into %s: %s", ld.layer.ID, pg.Message)
	}
	if rule.Kind == layers.RuleGeomValid {
		// The expected case: validity is left to this CHECK (one
		// ST_IsValid per feature instead of two); fail lists every
		// invalid feature with its reason and location.
		return 0, 0, ld.fail(ctx, tx, nil, true)
	}
	// Find the features that break the rule.
	var cond string
	switch rule.Kind {
	case layers.RuleUnique:
		col := layers.QuoteIdent(rule.Column)
		cond = `t.` + col + ` IN (SELECT ` + col + ` FROM ` + ld.layer.QualifiedTable() + `) OR t.` + col +
			` IN (SELECT ` + col + ` FROM ` + featTable + ` GROUP BY 1 HAVING count(*) > 1)`
	case layers.RuleNotNull:
		cond = `t.` + layers.QuoteIdent(rule.Column) + ` IS NULL`
	default:
		cond = `NOT coalesce(` + rule.Expr + `, true)`
	}
	rows, qerr := tx.Query(ctx, `SELECT t.file_no, t.rec, t.label, `+keySQL(ld.layer, "t")+` FROM (SELECT *, g AS geom FROM `+featTable+`) t
		WHERE `+cond+` ORDER BY t.idx`)
	if qerr == nil {
		for rows.Next() {
			var fileNo, rec int32
			var lbl string
			var key *string
			if err := rows.Scan(&fileNo, &rec, &lbl, &key); err != nil {
				break
			}
			ld.problem(Problem{File: ld.filePath(int(fileNo)), Index: int(rec), Label: lbl, Key: keyLabel(ld.layer, key), Rule: rule.Name,
				Reason: "违反数据库规则 " + rule.Name + "：" + rule.ZH + " / breaks database rule " + rule.Name + ": " + rule.EN,
				Lon:    math.NaN(), Lat: math.NaN()})
		}
		rows.Close()
	}
	if ld.total == 0 {
		ld.problem(Problem{File: "", Label: "(" + pg.Detail + ")", Rule: rule.Name,
			Reason: "违反数据库规则 " + rule.Name + "：" + rule.ZH + " / breaks database rule " + rule.Name + ": " + rule.EN,
			Lon:    math.NaN(), Lat: math.NaN()})
	}
	return 0, 0, ld.fail(ctx, tx, nil, true)
}

// fail completes the report of an import that cannot land, so that every
// problem of the files comes back in one pass: the validity of the
// geometries (when validity is set: it was left to the database's CHECK)
// and the township check of the features whose geometry is usable (bad:
// those already found broken). It returns the *Error.
func (ld *loader) fail(ctx context.Context, tx pgx.Tx, bad []int32, validity bool) error {
	if validity {
		more, err := ld.check(ctx, tx, checkValidity)
		if err != nil {
			return err
		}
		bad = append(bad, more...)
	}
	if err := ld.checkOutside(ctx, tx, bad); err != nil {
		return err
	}
	ld.sum.Rejected = len(ld.rejected)
	return &Error{Layer: ld.layer.ID, Problems: ld.problems, Total: ld.total, Hint: ld.hint()}
}
