package exports

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/features"
	"villageplan/layers"
)

// ChangeField is the attribute of a changes GeoPackage that holds the
// change kind: features.Added, features.Modified or features.Removed.
const ChangeField = "change"

// WriteChanges writes what changed in layer l between instants from and
// to (from < to) as a GeoPackage (GeoPackage 1.3, EPSG:4490), the rows of
// features.ChangesSource — the same features, in the same order, as the
// GeoJSON of GET /collections/{id}/changes:
//
//   - table <Name> (default <layer>_changes): one row per feature added,
//     modified or removed, fid = the feature id, the attribute "change"
//     (added|modified|removed), then the layer's fields and geometry as
//     they were at to (at from for a removed feature);
//   - table <Name>_old: the state at from of each modified and removed
//     feature (fid = feature id, "change", fields, geometry), so that a
//     GIS can draw before and after.
//
// Fields are those a caller may see (personal ones only with
// includePersonal). Result.Features counts the rows of the first table.
// Errors: database and write errors.
func WriteChanges(ctx context.Context, pool *pgxpool.Pool, l *layers.Layer, from, to time.Time, includePersonal bool, opts Options, w io.Writer) (*Result, error) {
	if opts.Name == "" {
		opts.Name = l.ID + "_changes"
	}
	q := &features.Query{Layer: l, IncludePersonal: includePersonal}
	res := &Result{Format: GeoPackage, Encoding: "UTF-8"}
	for _, f := range l.Fields {
		if f.Personal && !includePersonal {
			res.Omitted = append(res.Omitted, f.Name)
		}
	}
	e := &exporter{pool: pool, q: q, opts: opts, enc: "UTF-8", res: res, fields: features.VisibleFields(l, includePersonal)}
	srid, err := e.outputSRID(layers.StorageSRID)
	if err != nil {
		return res, err
	}
	span := from.UTC().Format(time.RFC3339Nano) + " – " + to.UTC().Format(time.RFC3339Nano)
	omitted := ""
	if len(res.Omitted) > 0 {
		omitted = "; 个人信息字段未导出 (personal data omitted): " + strings.Join(res.Omitted, ", ")
	}
	cols := append([]layers.Field{{Name: ChangeField, TitleZH: "变更类型", TitleEN: "change", Type: layers.Text}}, e.fields...)
	rows := func(old bool) func(ctx context.Context, extra []string, fn rowFunc) error {
		return func(ctx context.Context, extra []string, fn rowFunc) error {
			var a []any
			src := features.ChangesSource(l, from, to, e.fields, &a)
			sel := []string{"t.id"}
			sel = append(sel, extra...)
			sel = append(sel, "t.change")
			for _, f := range e.fields {
				name := f.Name
				if old {
					name = features.OldPrefix + name
				}
				sel = append(sel, "t."+layers.QuoteIdent(name))
			}
			sql := "SELECT " + strings.Join(sel, ", ") + " FROM " + src + " t"
			if old {
				sql += " WHERE t.change <> '" + features.Added + "'"
			}
			sql += " ORDER BY t.id"
			r, err := pool.Query(ctx, sql, a...)
			if err != nil {
				return fmt.Errorf("changes of %s: %w", l.ID, err)
			}
			defer r.Close()
			for r.Next() {
				v, err := r.Values()
				if err != nil {
					return err
				}
				id, _ := v[0].(int64)
				if err := fn(id, v[1:1+len(extra)], v[1+len(extra):]); err != nil {
					return err
				}
			}
			if err := r.Err(); err != nil {
				return fmt.Errorf("changes of %s: %w", l.ID, err)
			}
			return nil
		}
	}
	err = e.writeGPKG(ctx, w, srid, []gpkgTable{
		{name: opts.Name, geometry: l.Geometry, fields: cols, geom: "t.geom", rows: rows(false), count: true,
			desc: l.TitleZH + " " + l.TitleEN + " 变更（新增/修改/删除，修改与新增为 to 时的状态，删除为 from 时的状态） changes " + span +
				" (added/modified/removed: state at to, removed at from)" + omitted},
		{name: opts.Name + "_old", geometry: l.Geometry, fields: cols, geom: "t.old_geom", rows: rows(true),
			desc: l.TitleZH + " " + l.TitleEN + " 修改、删除前的状态 state at from of the modified and removed features, " + span + omitted},
	})
	return res, err
}
