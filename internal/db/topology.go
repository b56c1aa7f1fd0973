package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/layers"
)

// TopologyBypass is the setting that switches the database-side topology
// triggers off for a session or transaction (SET LOCAL villageplan.topology
// = 'off'): the service's editing path (which checks the same rules with
// better messages), bulk loads and test fixtures use it. See
// villageplan.check_no_overlap in migration 13.
const TopologyBypass = "villageplan.topology"

// topologyTrigger is the trigger rendered for one no_overlap rule.
type topologyTrigger struct {
	name, table, def, digest string
}

func topologyTriggers(cat *layers.Catalog) []topologyTrigger {
	var out []topologyTrigger
	for _, l := range cat.Layers() {
		for _, r := range l.Editing.Topology {
			if r.Kind != layers.NoOverlap {
				continue
			}
			other, ok := cat.Layer(r.Other)
			if !ok {
				continue
			}
			name := "topology_" + l.Table + "_" + other.Table
			def := `CREATE CONSTRAINT TRIGGER ` + layers.QuoteIdent(name) + ` AFTER INSERT OR UPDATE OF geom ON ` + l.QualifiedTable() +
				` DEFERRABLE INITIALLY IMMEDIATE FOR EACH ROW EXECUTE FUNCTION villageplan.check_no_overlap(` +
				strings.Join([]string{layers.QuoteLiteral(other.Table), layers.QuoteLiteral(strconv.FormatFloat(r.ToleranceM2, 'g', -1, 64)),
					layers.QuoteLiteral(r.ZH), layers.QuoteLiteral(r.EN)}, ", ") + `)`
			h := sha256.Sum256([]byte(def))
			out = append(out, topologyTrigger{name: name, table: l.Table, def: def, digest: hex.EncodeToString(h[:8])})
		}
	}
	return out
}

// ApplyTopology brings the constraint triggers topology_<layer>_<other> in
// line with the catalog's no_overlap rules (layers.Editing.Topology), so
// that edits through psql or QGIS obey them: a missing trigger, or one
// whose comment carries another digest, is (re)created; one that no rule
// renders any more is dropped. Existing rows are not re-checked (the rule
// applies to rows written from now on). One transaction, serialised with
// ApplyRules by the same advisory lock.
func ApplyTopology(ctx context.Context, pool *pgxpool.Pool, cat *layers.Catalog) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('villageplan.rules'))`); err != nil {
		return err
	}
	have := map[string][2]string{} // name → table, comment
	rows, err := tx.Query(ctx, `SELECT t.tgname, c.relname, coalesce(obj_description(t.oid, 'pg_trigger'), '')
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND t.tgname LIKE 'topology\_%'`, layers.Schema)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, table, comment string
		if err := rows.Scan(&name, &table, &comment); err != nil {
			rows.Close()
			return err
		}
		have[name] = [2]string{table, comment}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, t := range topologyTriggers(cat) {
		wanted[t.name] = true
		tbl := layers.QuoteIdent(layers.Schema) + "." + layers.QuoteIdent(t.table)
		if e, ok := have[t.name]; ok {
			if e[0] == t.table && strings.HasPrefix(e[1], "vp:"+t.digest+" ") {
				continue
			}
			if _, err := tx.Exec(ctx, `DROP TRIGGER `+layers.QuoteIdent(t.name)+` ON `+layers.QuoteIdent(layers.Schema)+`.`+layers.QuoteIdent(e[0])); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, t.def); err != nil {
			return fmt.Errorf("topology trigger %s: %w", t.name, err)
		}
		if _, err := tx.Exec(ctx, `COMMENT ON TRIGGER `+layers.QuoteIdent(t.name)+` ON `+tbl+` IS `+
			layers.QuoteLiteral("vp:"+t.digest+" no_overlap rule of the layer catalog (layers.Editing.Topology); bypass: SET LOCAL villageplan.topology = 'off'")); err != nil {
			return err
		}
	}
	for name, e := range have {
		if !wanted[name] {
			if _, err := tx.Exec(ctx, `DROP TRIGGER `+layers.QuoteIdent(name)+` ON `+layers.QuoteIdent(layers.Schema)+`.`+layers.QuoteIdent(e[0])); err != nil {
				return err
			}
		}
	}
	return tx.Commit(ctx)
}
