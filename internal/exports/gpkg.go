package exports

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"villageplan/geo/crs"
	"villageplan/layers"
)

// gpkg writes an OGC GeoPackage 1.3 (SQLite through the pure-Go driver
// modernc.org/sqlite): the required gpkg_spatial_ref_sys (with the output
// CRS's OGC WKT taken from PostGIS's spatial_ref_sys), gpkg_contents and
// gpkg_geometry_columns, and one feature table named opts.Name whose fid
// is the feature id. Geometries are GeoPackage blobs: the "GP" header with
// the envelope computed by PostGIS, then little-endian WKB. Text is UTF-8;
// dates are ISO 8601 text, booleans 0/1.
//
// The geometry column has a spatial index, as QGIS and ArcGIS expect of a
// GeoPackage (GeoPackage 1.3 Annex F.3, RTree Spatial Indexes): the
// gpkg_extensions row "gpkg_rtree_index", the SQLite R*Tree virtual table
// rtree_<table>_geom (id = fid, minx, maxx, miny, maxy) filled with the
// PostGIS envelopes of the features, and the six triggers that keep it in
// step when a client edits the table (they call ST_IsEmpty/ST_MinX…,
// which GDAL and QGIS provide; the triggers are created after the rows are
// written, so the export itself never calls them).
func (e *exporter) gpkg(ctx context.Context, w io.Writer) error {
	srid, err := e.outputSRID(layers.StorageSRID)
	if err != nil {
		return err
	}
	l := e.q.Layer
	desc := l.TitleZH + " " + l.TitleEN
	if len(e.res.Omitted) > 0 {
		desc += "; 个人信息字段未导出 (personal data omitted): " + strings.Join(e.res.Omitted, ", ")
	}
	return e.writeGPKG(ctx, w, srid, []gpkgTable{{
		name: e.opts.Name, desc: desc, geometry: l.Geometry, fields: e.fields, count: true,
		rows: func(ctx context.Context, extra []string, fn rowFunc) error {
			return e.queryFields(ctx, extra, e.fields, fn)
		},
		geom: geomSQL(srid),
	}})
}

// rowFunc receives one feature of a table: its id (the GeoPackage fid),
// the geometry columns (WKB, xmin, xmax, ymin, ymax) and the field values.
type rowFunc func(id int64, extra []any, vals []any) error

// gpkgTable is one feature table of a GeoPackage: its rows come from rows,
// which runs a query selecting the id, the SQL expressions extra (built
// from geom, the geometry in the output CRS) and the fields, and calls fn
// per row. count adds its rows to Result.Features.
type gpkgTable struct {
	name, desc string
	geometry   layers.GeometryType
	fields     []layers.Field
	geom       string
	rows       func(ctx context.Context, extra []string, fn rowFunc) error
	count      bool
}

// writeGPKG writes a GeoPackage of tables in CRS srid to w (see gpkg).
func (e *exporter) writeGPKG(ctx context.Context, w io.Writer, srid int, tables []gpkgTable) error {
	var srtext string
	if err := e.pool.QueryRow(ctx, `SELECT srtext FROM spatial_ref_sys WHERE auth_name = 'EPSG' AND auth_srid = $1`, srid).Scan(&srtext); err != nil {
		return fmt.Errorf("export: EPSG:%d definition from spatial_ref_sys: %w", srid, err)
	}
	c, _ := crs.Lookup(srid)
	dir, err := os.MkdirTemp(e.opts.TempDir, "villageplan-gpkg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, e.opts.Name+".gpkg")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	stmts := []string{
		`PRAGMA application_id = 1196444487`, // "GPKG"
		`PRAGMA user_version = 10300`,
		`PRAGMA journal_mode = OFF`,
		`PRAGMA synchronous = OFF`,
		`CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
			organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)`,
		`INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
			('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system')`,
		`CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
			description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
			min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
			CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
		`CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
			srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
			CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
			CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
			CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
		`CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
			CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("export gpkg: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)`, c.Name, srid, srid, srtext, c.Name); err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}
	if srid != 4326 {
		// GeoPackage 1.3 Requirement 11: the table always holds WGS 84.
		var wgs84 string
		if err := e.pool.QueryRow(ctx, `SELECT srtext FROM spatial_ref_sys WHERE auth_name = 'EPSG' AND auth_srid = 4326`).Scan(&wgs84); err != nil {
			return fmt.Errorf("export: EPSG:4326 definition from spatial_ref_sys: %w", err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`, wgs84); err != nil {
			return fmt.Errorf("export gpkg: %w", err)
		}
	}
	for _, t := range tables {
		if err := e.gpkgTable(ctx, db, srid, t); err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// gpkgTable creates and fills one feature table with its spatial index.
func (e *exporter) gpkgTable(ctx context.Context, db *sql.DB, srid int, t gpkgTable) error {
	geomType := strings.ToUpper(string(t.geometry))
	var cols []string
	for _, f := range t.fields {
		ct := "TEXT"
		switch f.Type {
		case layers.Integer:
			ct = "INTEGER"
		case layers.Real:
			ct = "REAL"
		case layers.Date:
			ct = "DATE"
		case layers.Bool:
			ct = "BOOLEAN"
		default:
			if f.MaxLength > 0 {
				ct = fmt.Sprintf("TEXT(%d)", f.MaxLength)
			}
		}
		cols = append(cols, quoteSQLite(f.Name)+" "+ct)
	}
	table := quoteSQLite(t.name)
	rtree := quoteSQLite("rtree_" + t.name + "_geom")
	for _, s := range []string{
		`CREATE TABLE ` + table + ` (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom ` + geomType + strings.Join(append([]string{""}, cols...), ", ") + `)`,
		`CREATE VIRTUAL TABLE ` + rtree + ` USING rtree(id, minx, maxx, miny, maxy)`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("export gpkg: %w", err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, ?)`,
		t.name, t.name, t.desc, srid); err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)`, t.name, geomType, srid); err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')`,
		t.name); err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	ph := strings.Repeat(", ?", len(t.fields))
	ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` VALUES (?, ?`+ph+`)`)
	if err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}
	defer ins.Close()
	insIdx, err := tx.PrepareContext(ctx, `INSERT INTO `+rtree+` VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("export gpkg: %w", err)
	}
	defer insIdx.Close()
	minx, miny, maxx, maxy := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	g := t.geom
	args := make([]any, 2+len(t.fields))
	n := 0
	before := e.res.Features
	err = t.rows(ctx, []string{"ST_AsBinary(" + g + ", 'NDR')", "ST_XMin(" + g + ")", "ST_XMax(" + g + ")", "ST_YMin(" + g + ")", "ST_YMax(" + g + ")"},
		func(id int64, extra, vals []any) error {
			n++
			wkb, _ := extra[0].([]byte)
			var env [4]float64
			hasEnv := wkb != nil
			for i := range env {
				v, ok := extra[1+i].(float64)
				hasEnv = hasEnv && ok
				env[i] = v
			}
			args[0] = id
			if hasEnv {
				minx, maxx = math.Min(minx, env[0]), math.Max(maxx, env[1])
				miny, maxy = math.Min(miny, env[2]), math.Max(maxy, env[3])
				args[1] = gpkgBlob(int32(srid), env, t.geometry != layers.Point, wkb)
			} else {
				// A NULL or EMPTY geometry (stored by SQL before the
				// database refused them) is written as NULL, with no
				// spatial-index entry, instead of failing the download.
				args[1] = nil
			}
			for i, v := range vals {
				switch tv := v.(type) {
				case time.Time:
					args[2+i] = tv.Format("2006-01-02")
				case bool:
					if tv {
						args[2+i] = 1
					} else {
						args[2+i] = 0
					}
				default:
					args[2+i] = v
				}
			}
			if _, err := ins.ExecContext(ctx, args...); err != nil {
				return err
			}
			if !hasEnv {
				return nil
			}
			_, err := insIdx.ExecContext(ctx, id, env[0], env[1], env[2], env[3])
			return err
		})
	if err != nil {
		return err
	}
	e.res.Features = before
	if t.count {
		e.res.Features += n
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?`, minx, miny, maxx, maxy, t.name); err != nil {
			return err
		}
	}
	for _, trg := range rtreeTriggers(t.name, "geom", "fid") {
		if _, err := tx.ExecContext(ctx, trg); err != nil {
			return fmt.Errorf("export gpkg: spatial index trigger: %w", err)
		}
	}
	return tx.Commit()
}

func quoteSQLite(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// gpkgBlob builds a GeoPackage geometry blob (GeoPackage 1.3 §2.1.3):
// magic "GP", version 0, flags (little-endian header, envelope [minx, maxx,
// miny, maxy] when withEnv), srs_id, envelope, WKB.
func gpkgBlob(srid int32, env [4]float64, withEnv bool, wkb []byte) []byte {
	flags := byte(0x01)
	n := 8
	if withEnv {
		flags |= 0x01 << 1
		n += 32
	}
	b := make([]byte, n, n+len(wkb))
	b[0], b[1], b[2], b[3] = 'G', 'P', 0, flags
	binary.LittleEndian.PutUint32(b[4:8], uint32(srid))
	if withEnv {
		for i, v := range env {
			binary.LittleEndian.PutUint64(b[8+8*i:], math.Float64bits(v))
		}
	}
	return append(b, wkb...)
}

// rtreeTriggers returns the triggers of the GeoPackage RTree Spatial
// Indexes extension (GeoPackage 1.3 Annex F.3) for column c of table t
// with primary key i: insert, update1–4 and delete keep rtree_<t>_<c> in
// step with the table.
func rtreeTriggers(t, c, i string) []string {
	qt, qc, qi := quoteSQLite(t), quoteSQLite(c), quoteSQLite(i)
	rt := quoteSQLite("rtree_" + t + "_" + c)
	trg := func(suffix string) string { return quoteSQLite("rtree_" + t + "_" + c + "_" + suffix) }
	insert := `INSERT OR REPLACE INTO ` + rt + ` VALUES (NEW.` + qi + `, ST_MinX(NEW.` + qc + `), ST_MaxX(NEW.` + qc + `), ST_MinY(NEW.` + qc + `), ST_MaxY(NEW.` + qc + `));`
	return []string{
		`CREATE TRIGGER ` + trg("insert") + ` AFTER INSERT ON ` + qt + ` WHEN (NEW.` + qc + ` NOT NULL AND NOT ST_IsEmpty(NEW.` + qc + `))
		BEGIN ` + insert + ` END`,
		`CREATE TRIGGER ` + trg("update1") + ` AFTER UPDATE OF ` + qc + ` ON ` + qt + ` WHEN OLD.` + qi + ` = NEW.` + qi + ` AND (NEW.` + qc + ` NOTNULL AND NOT ST_IsEmpty(NEW.` + qc + `))
		BEGIN ` + insert + ` END`,
		`CREATE TRIGGER ` + trg("update2") + ` AFTER UPDATE OF ` + qc + ` ON ` + qt + ` WHEN OLD.` + qi + ` = NEW.` + qi + ` AND (NEW.` + qc + ` ISNULL OR ST_IsEmpty(NEW.` + qc + `))
		BEGIN DELETE FROM ` + rt + ` WHERE id = OLD.` + qi + `; END`,
		`CREATE TRIGGER ` + trg("update3") + ` AFTER UPDATE ON ` + qt + ` WHEN OLD.` + qi + ` != NEW.` + qi + ` AND (NEW.` + qc + ` NOTNULL AND NOT ST_IsEmpty(NEW.` + qc + `))
		BEGIN DELETE FROM ` + rt + ` WHERE id = OLD.` + qi + `; ` + insert + ` END`,
		`CREATE TRIGGER ` + trg("update4") + ` AFTER UPDATE ON ` + qt + ` WHEN OLD.` + qi + ` != NEW.` + qi + ` AND (NEW.` + qc + ` ISNULL OR ST_IsEmpty(NEW.` + qc + `))
		BEGIN DELETE FROM ` + rt + ` WHERE id IN (OLD.` + qi + `, NEW.` + qi + `); END`,
		`CREATE TRIGGER ` + trg("delete") + ` AFTER DELETE ON ` + qt + ` WHEN OLD.` + qc + ` NOT NULL
		BEGIN DELETE FROM ` + rt + ` WHERE id = OLD.` + qi + `; END`,
	}
}
