package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/layers"
)

// Why the integrity rules are applied from the catalog at start-up rather
// than written into a numbered migration: the rules are rendered from the
// layer catalog (code lists, patterns, bounds, keys), which changes in Go —
// adding a 三调 code to codelists.go must change the CHECK on every DLBM
// column. A hand-written migration would have to be repeated for every such
// edit and could silently lag behind; rendering at start-up makes drift
// impossible, and the digest stored in each constraint's comment keeps the
// step idempotent and cheap (a start with nothing changed reads
// pg_constraint and alters nothing). The goose migrations still own the
// tables; migration 5 only removes the index that the generated villages
// key replaces.

// RuleIssue is a rule that existing rows break, found while applying the
// rules: the constraint is in place but NOT VALID (new writes are checked,
// old rows are not), or, for a UNIQUE rule, not in place until the
// duplicates are resolved (PostgreSQL has no NOT VALID unique constraint).
type RuleIssue struct {
	Rule layers.Rule
	// Rows is the number of rows that break the rule; IDs lists up to 20
	// of their feature ids, Values up to 20 duplicated values (UNIQUE).
	Rows   int64
	IDs    []int64
	Values []string
	// Enforced is false when the rule could not be put in place at all.
	Enforced bool
}

func (i RuleIssue) String() string {
	s := fmt.Sprintf("%s.%s: %d row(s) break rule %s (%s)", layers.Schema, i.Rule.Table, i.Rows, i.Rule.Name, i.Rule.Message())
	if len(i.IDs) > 0 {
		ids := make([]string, len(i.IDs))
		for k, id := range i.IDs {
			ids[k] = fmt.Sprint(id)
		}
		s += "; ids " + strings.Join(ids, ", ")
	}
	if len(i.Values) > 0 {
		s += "; duplicated values " + strings.Join(i.Values, ", ")
	}
	if i.Enforced {
		s += "; the constraint is NOT VALID: new and changed rows are checked, fix these rows and restart to validate it"
	} else {
		s += "; the constraint is NOT in place until the duplicates are resolved (restart afterwards)"
	}
	return s
}

// ruleComment is the comment stored on each generated constraint: the
// rule's digest first (compared at the next start), then the rule in words
// for analysts who read \d+ in psql.
func ruleComment(r layers.Rule) string { return "vp:" + r.Digest() + " " + r.Message() }

// ApplyRules brings the integrity constraints of the layer tables in line
// with the catalog's rules ([layers.Catalog.Rules]), in one transaction
// serialised by an advisory lock:
//   - a CHECK or UNIQUE constraint that is missing, or whose comment carries
//     another digest, is (re)created; one named vp_… that no rule renders
//     any more is dropped; unchanged ones are not touched;
//   - a CHECK that existing rows break is added NOT VALID (new writes are
//     checked) and reported; a NOT VALID one is re-validated at each start;
//   - a UNIQUE that existing rows break cannot be added and is reported;
//   - Required fields are NOT NULL (where NULLs exist, a NOT VALID CHECK
//     vp_<table>_<field>_notnull stands in), other fields nullable.
//
// It returns the rules that existing rows break, also logged as warnings.
func ApplyRules(ctx context.Context, pool *pgxpool.Pool, cat *layers.Catalog, logger *slog.Logger) ([]RuleIssue, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('villageplan.rules'))`); err != nil {
		return nil, err
	}
	type existing struct {
		table, comment string
		validated      bool
	}
	have := map[string]existing{}
	rows, err := tx.Query(ctx, `SELECT c.conname, t.relname, c.convalidated, coalesce(obj_description(c.oid, 'pg_constraint'), '')
		FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = $1 AND c.conname LIKE 'vp\_%' AND c.contype IN ('c', 'u')`, layers.Schema)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name string
		var e existing
		if err := rows.Scan(&name, &e.table, &e.validated, &e.comment); err != nil {
			rows.Close()
			return nil, err
		}
		have[name] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	notNull := map[string]bool{} // table.column → attnotnull
	rows, err = tx.Query(ctx, `SELECT t.relname || '.' || a.attname, a.attnotnull FROM pg_attribute a
		JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped`, layers.Schema)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k string
		var nn bool
		if err := rows.Scan(&k, &nn); err != nil {
			rows.Close()
			return nil, err
		}
		notNull[k] = nn
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var issues []RuleIssue
	wanted := map[string]bool{}
	changed := 0
	for _, r := range cat.Rules() {
		wanted[r.Name] = true
		tbl := layers.QuoteIdent(layers.Schema) + "." + layers.QuoteIdent(r.Table)
		if r.Kind == layers.RuleNotNull {
			if notNull[r.Table+"."+r.Column] {
				if _, ok := have[r.Name]; ok { // a stand-in from an earlier start
					if _, err := tx.Exec(ctx, `ALTER TABLE `+tbl+` DROP CONSTRAINT `+layers.QuoteIdent(r.Name)); err != nil {
						return nil, err
					}
				}
				continue
			}
			err := savepoint(ctx, tx, `ALTER TABLE `+tbl+` ALTER COLUMN `+layers.QuoteIdent(r.Column)+` SET NOT NULL`)
			if err == nil {
				changed++
				if _, ok := have[r.Name]; ok {
					if _, err := tx.Exec(ctx, `ALTER TABLE `+tbl+` DROP CONSTRAINT `+layers.QuoteIdent(r.Name)); err != nil {
						return nil, err
					}
				}
				continue
			}
			if !isDataError(err) {
				return nil, err
			}
			// NULLs exist: hold the rule as a NOT VALID CHECK instead.
			iss, err := ensureCheck(ctx, tx, tbl, r, have[r.Name].comment, have[r.Name].validated, true)
			if err != nil {
				return nil, err
			}
			if iss != nil {
				issues = append(issues, *iss)
			}
			continue
		}
		e, ok := have[r.Name]
		if ok && e.table == r.Table && strings.HasPrefix(e.comment, "vp:"+r.Digest()+" ") && e.validated {
			continue
		}
		changed++
		if ok {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+layers.QuoteIdent(layers.Schema)+`.`+layers.QuoteIdent(e.table)+
				` DROP CONSTRAINT `+layers.QuoteIdent(r.Name)); err != nil {
				return nil, err
			}
		}
		var iss *RuleIssue
		if r.Kind == layers.RuleUnique {
			iss, err = ensureUnique(ctx, tx, tbl, r)
		} else {
			iss, err = ensureCheck(ctx, tx, tbl, r, "", false, false)
		}
		if err != nil {
			return nil, err
		}
		if iss != nil {
			issues = append(issues, *iss)
		}
	}
	// Rules the catalog no longer renders.
	for name, e := range have {
		if wanted[name] {
			continue
		}
		changed++
		if _, err := tx.Exec(ctx, `ALTER TABLE `+layers.QuoteIdent(layers.Schema)+`.`+layers.QuoteIdent(e.table)+
			` DROP CONSTRAINT `+layers.QuoteIdent(name)); err != nil {
			return nil, err
		}
	}
	// Fields that are no longer required.
	for _, l := range cat.Layers() {
		for _, f := range l.Fields {
			if !f.Required && notNull[l.Table+"."+f.Name] {
				changed++
				if _, err := tx.Exec(ctx, `ALTER TABLE `+l.QualifiedTable()+` ALTER COLUMN `+layers.QuoteIdent(f.Name)+` DROP NOT NULL`); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	if logger != nil {
		if changed > 0 {
			logger.Info("integrity rules applied from the layer catalog", "changed", changed)
		}
		for _, i := range issues {
			logger.Warn("existing rows break an integrity rule", "rule", i.Rule.Name, "detail", i.String())
		}
	}
	return issues, nil
}

// ensureCheck adds the CHECK of r NOT VALID and validates it; when rows
// break it, it stays NOT VALID and the rows are reported. keep says that a
// constraint of this name may already exist with comment and validated.
func ensureCheck(ctx context.Context, tx pgx.Tx, tbl string, r layers.Rule, comment string, validated, keep bool) (*RuleIssue, error) {
	name := layers.QuoteIdent(r.Name)
	if keep && comment != "" && !strings.HasPrefix(comment, "vp:"+r.Digest()+" ") {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+tbl+` DROP CONSTRAINT `+name); err != nil {
			return nil, err
		}
		comment = ""
	}
	if !keep || comment == "" {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+tbl+` ADD CONSTRAINT `+name+` CHECK (`+r.Expr+`) NOT VALID`); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		if _, err := tx.Exec(ctx, `COMMENT ON CONSTRAINT `+name+` ON `+tbl+` IS `+layers.QuoteLiteral(ruleComment(r))); err != nil {
			return nil, err
		}
	} else if validated {
		return nil, nil
	}
	err := savepoint(ctx, tx, `ALTER TABLE `+tbl+` VALIDATE CONSTRAINT `+name)
	if err == nil {
		return nil, nil
	}
	if !isDataError(err) {
		return nil, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	iss := &RuleIssue{Rule: r, Enforced: true}
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce((array_agg(id ORDER BY id))[1:20], '{}') FROM `+tbl+
		` WHERE NOT coalesce(`+r.Expr+`, true)`).Scan(&iss.Rows, &iss.IDs); err != nil {
		return nil, err
	}
	return iss, nil
}

// ensureUnique adds the UNIQUE constraint of r; when existing rows hold
// duplicates it cannot, and the duplicated values are reported.
func ensureUnique(ctx context.Context, tx pgx.Tx, tbl string, r layers.Rule) (*RuleIssue, error) {
	name := layers.QuoteIdent(r.Name)
	err := savepoint(ctx, tx, `ALTER TABLE `+tbl+` ADD CONSTRAINT `+name+` `+r.Definition()+`;
		COMMENT ON CONSTRAINT `+name+` ON `+tbl+` IS `+layers.QuoteLiteral(ruleComment(r)))
	if err == nil {
		return nil, nil
	}
	if !isDataError(err) {
		return nil, fmt.Errorf("rule %s: %w", r.Name, err)
	}
	col := layers.QuoteIdent(r.Column)
	iss := &RuleIssue{Rule: r}
	if err := tx.QueryRow(ctx, `SELECT coalesce(sum(n), 0), coalesce((array_agg(v ORDER BY v))[1:20], '{}') FROM
		(SELECT `+col+`::text AS v, count(*) AS n FROM `+tbl+` WHERE `+col+` IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`).Scan(&iss.Rows, &iss.Values); err != nil {
		return nil, err
	}
	return iss, nil
}

// savepoint runs sql inside a savepoint, rolling back to it on error.
func savepoint(ctx context.Context, tx pgx.Tx, sql string) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := sp.Exec(ctx, sql); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// isDataError reports a constraint violation by existing rows (class 23).
func isDataError(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && strings.HasPrefix(pg.Code, "23")
}
