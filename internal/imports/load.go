package imports

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	orbwkb "github.com/paulmach/orb/encoding/wkb"
	"github.com/twpayne/go-geom/encoding/wkb"

	"villageplan/geo/crs"
	"villageplan/geo/gcj02"
	"villageplan/layers"
)

// Names of the temporary tables (dropped at commit or rollback).
const (
	stageTable = "vp_import_stage"
	filesTable = "vp_import_files"
	featTable  = "vp_import_feat"
)

type loader struct {
	pool         *pgxpool.Pool
	layer        *layers.Layer
	opts         Options
	mapper       *mapper
	sum          *Summary
	overrideEPSG int
	ro           readerOptions

	problems []Problem
	total    int             // problems found
	rejected map[string]bool // features with a problem (file, index)
	dupKeys  []string        // unique values that already exist in the layer
	nextIdx  int32
	files    []fileCRS
}

type fileCRS struct {
	no   int
	path string
	epsg int
}

func (ld *loader) problem(p Problem) {
	ld.total++
	if ld.rejected == nil {
		ld.rejected = map[string]bool{}
	}
	ld.rejected[p.File+"\x00"+strconv.Itoa(p.Index)] = true
	if len(ld.problems) < ld.opts.MaxProblems {
		ld.problems = append(ld.problems, p)
	}
}

func (ld *loader) progress(p Progress) {
	if ld.opts.Progress != nil {
		ld.opts.Progress(p)
	}
}

// stageColumns are the staging columns before the layer's fields.
var stageColumns = []string{"idx", "file_no", "rec", "label", "rings", "has_z", "decl_area", "wkb"}

func (ld *loader) run(ctx context.Context, files []string) (err error) {
	conn, err := ld.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	// villageplan.history = batch: the load is recorded as one compact
	// edit_batch row (migration 6), with the prior state of replaced rows.
	if _, err := tx.Exec(ctx, `SELECT set_config('villageplan.actor', $1, true), set_config('villageplan.batch_id', $2, true),
		set_config('villageplan.history', 'batch', true), set_config('villageplan.topology', 'off', true)`,
		ld.opts.Actor, ld.sum.BatchID); err != nil {
		return err
	}
	var cols []string
	for _, c := range []string{"idx int", "file_no int", "rec int", "label text", "rings boolean", "has_z boolean", "decl_area double precision", "wkb bytea"} {
		cols = append(cols, c)
	}
	for _, f := range ld.layer.Fields {
		cols = append(cols, layers.QuoteIdent(f.Name)+" "+f.Type.SQLType(0))
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+stageTable+` (`+strings.Join(cols, ", ")+`) ON COMMIT DROP;
		CREATE TEMP TABLE `+filesTable+` (file_no int PRIMARY KEY, srid int NOT NULL, same_datum boolean NOT NULL,
			minlon double precision, minlat double precision, maxlon double precision, maxlat double precision) ON COMMIT DROP`); err != nil {
		return err
	}
	copyCols := append([]string(nil), stageColumns...)
	for _, f := range ld.layer.Fields {
		copyCols = append(copyCols, f.Name)
	}

	// Read every file into the staging table.
	for i, path := range files {
		if err := ld.stageFile(ctx, tx, i+1, path, copyCols); err != nil {
			return err
		}
	}
	if ld.sum.Read == 0 && ld.total == 0 {
		return fmt.Errorf("the file(s) hold no features; nothing to import")
	}

	// Build, check and (with --repair) repair in PostGIS.
	ld.step("check", StepBuild)
	if err := ld.build(ctx, tx); err != nil {
		return err
	}
	ld.step("check", StepCheck)
	// Validity (ST_IsValid) is checked here only with --repair; otherwise
	// the database's CHECK does it during the INSERT, once (see insert).
	what := checkCheap
	if ld.opts.Repair {
		what |= checkValidity
	}
	geomBad, err := ld.check(ctx, tx, what)
	if err != nil {
		return err
	}
	ld.step("check", StepAreas)
	if err := ld.areaChecks(ctx, tx); err != nil {
		return err
	}
	if err := ld.checkUnique(ctx, tx); err != nil {
		return err
	}
	if ld.total > 0 {
		return ld.fail(ctx, tx, geomBad, !ld.opts.Repair)
	}

	// Into an empty layer, the GiST indexes are built once after the
	// INSERT (a sorted bulk build) instead of row by row: see bulkIndexes.
	var rebuild []string
	if ld.opts.Mode != Upsert {
		if rebuild, err = ld.dropIndexesIfEmpty(ctx, tx); err != nil {
			return err
		}
	}
	if ld.opts.Mode == Replace {
		ld.step("load", StepDelete)
		tag, err := tx.Exec(ctx, `DELETE FROM `+ld.layer.QualifiedTable())
		if err != nil {
			return fmt.Errorf("replace: delete the old features: %w", err)
		}
		ld.sum.Deleted = int(tag.RowsAffected())
	}
	ld.step("load", StepInsert)
	inserted, updated, err := ld.insert(ctx, tx)
	if err != nil {
		return err
	}
	for _, def := range rebuild {
		if _, err := tx.Exec(ctx, def); err != nil {
			return fmt.Errorf("rebuilding an index of %s: %w", ld.layer.ID, err)
		}
	}
	if err := ld.checkOutside(ctx, tx, nil); err != nil { // the geometries are valid now
		return err
	}
	if ld.total > 0 {
		ld.sum.Rejected = len(ld.rejected)
		return &Error{Layer: ld.layer.ID, Problems: ld.problems, Total: ld.total, Hint: ld.hint()}
	}
	ld.sum.Loaded, ld.sum.Updated = inserted+updated, updated
	ld.step("load", StepRecord)
	if err := ld.recordMetadata(ctx, tx); err != nil {
		return err
	}
	ld.step("load", StepCoverage)
	if err := ld.recordCoverage(ctx, tx); err != nil {
		return err
	}
	if ld.opts.DryRun {
		ld.step("load", StepRollBack)
		ld.done()
		return nil // rolled back by the deferred Rollback
	}
	ld.step("load", StepCommit)
	if err := tx.Commit(ctx); err != nil {
		ld.sum.Loaded = 0
		return err
	}
	committed = true
	ld.done()
	return nil
}

func (ld *loader) hint() string {
	var hints []string
	seen := map[string]bool{}
	for _, p := range ld.problems {
		var h string
		switch {
		case strings.Contains(p.Reason, "already exists in the layer"):
			h = "Keys that already exist in the layer: " + strings.Join(ld.dupKeys, ", ") + ". Use --mode upsert to update those features, or leave them out of the file."
		case p.Rule == "outside_township":
			h = "Check that the file belongs to this township and its coordinate system is right; pass --allow-outside to load it anyway."
		case strings.Contains(p.Reason, "invalid geometry"):
			h = "Fix the geometries in the source, or re-run with --repair to apply ST_MakeValid (each repair is reported)."
		case strings.Contains(p.Reason, "field "):
			h = "Correct the values, map another source attribute with --map SOURCE=FIELD, or give a default with --set FIELD=VALUE."
		case strings.Contains(p.Reason, "outside the valid area"), strings.Contains(p.Reason, "longitude/latitude domain"):
			h = "Check the coordinate system: pass the right one with --crs EPSG:N (GCJ-02 web-map data: --from-gcj02)."
		}
		if h != "" && !seen[h] {
			seen[h] = true
			hints = append(hints, h)
		}
	}
	return strings.Join(hints, "\n")
}

// stageFile streams one file into the staging table with COPY.
func (ld *loader) stageFile(ctx context.Context, tx pgx.Tx, no int, path string, copyCols []string) error {
	src, err := openSource(path, ld.ro)
	if err != nil {
		return err
	}
	defer src.Close()
	info := src.Info()
	ld.progress(Progress{Phase: "read", File: info.Path, BytesTotal: src.Size(), Features: ld.sum.Read})
	// The CRS must be known before GCJ-02 conversion; GeoJSON may declare
	// it late, which is checked again after reading.
	if ld.opts.FromGCJ02 && ld.overrideEPSG != 0 {
		if c, _ := crs.Lookup(ld.overrideEPSG); c.Kind != crs.Geographic {
			return fmt.Errorf("--from-gcj02 needs longitude/latitude input, but --crs is %s", c)
		}
	}
	cs := &copySource{ld: ld, src: src, no: no, jzd: info.Format == FormatJZD}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, copyCols, cs); err != nil {
		if cs.err != nil {
			return cs.err
		}
		return fmt.Errorf("%s: staging: %w", path, err)
	}
	if cs.err != nil {
		return cs.err
	}
	ld.progress(Progress{Phase: "read", File: info.Path, BytesDone: src.Size(), BytesTotal: src.Size(), Features: ld.sum.Read})

	// Decide the file's CRS.
	epsg, from := info.EPSG, info.CRSFrom
	switch {
	case ld.overrideEPSG != 0:
		if info.crsErr == nil && info.EPSG != 0 && info.EPSG != ld.overrideEPSG && !(info.EPSG == 4326 && info.CRSFrom == "GeoJSON default (OGC CRS84, RFC 7946)") {
			info.Warnings = append(info.Warnings, fmt.Sprintf("the file says EPSG:%d (%s); --crs EPSG:%d used instead", info.EPSG, info.CRSFrom, ld.overrideEPSG))
		}
		epsg, from = ld.overrideEPSG, "--crs"
	case ld.opts.FromGCJ02 && info.crsErr != nil && info.Format != FormatJZD:
		epsg, from = 4326, "GCJ-02 longitude/latitude (--from-gcj02)"
	case info.crsErr != nil:
		return fmt.Errorf("%s: unknown coordinate system: %s (%v). Pass it with --crs EPSG:N, e.g. --crs EPSG:4490 for CGCS2000 longitude/latitude, --crs EPSG:4530 for CGCS2000 3-degree Gauss-Krüger zone 42 (easting with zone number), --crs EPSG:4551 for CM 126°E without zone number",
			path, info.crsFound, info.crsErr)
	}
	c, known := crs.Lookup(epsg)
	if ld.opts.FromGCJ02 {
		if !known || c.Kind != crs.Geographic {
			return fmt.Errorf("%s: --from-gcj02 needs longitude/latitude input, but the file is in EPSG:%d (%s)", path, epsg, from)
		}
		from += ", converted from GCJ-02"
	}
	if cs.gcjDone && epsg != 4326 && epsg != 4490 {
		return fmt.Errorf("%s: --from-gcj02: the file declares EPSG:%d after its features", path, epsg)
	}
	info.EPSG, info.CRSFrom = epsg, from
	var minlon, minlat, maxlon, maxlat *float64
	if known {
		minlon, minlat, maxlon, maxlat = &c.Area.MinLon, &c.Area.MinLat, &c.Area.MaxLon, &c.Area.MaxLat
	}
	sameDatum := epsg == 4326 || epsg == layers.StorageSRID
	if _, err := tx.Exec(ctx, `INSERT INTO `+filesTable+` VALUES ($1, $2, $3, $4, $5, $6, $7)`, no, epsg, sameDatum, minlon, minlat, maxlon, maxlat); err != nil {
		return err
	}
	ld.files = append(ld.files, fileCRS{no: no, path: path, epsg: epsg})
	ld.sum.Files = append(ld.sum.Files, *info)
	return nil
}

// copySource feeds features of one file to COPY.
type copySource struct {
	ld      *loader
	src     source
	no      int
	jzd     bool
	row     []any
	err     error
	gcjDone bool
}

func (cs *copySource) Next() bool {
	ld := cs.ld
	for {
		if cs.err != nil {
			return false
		}
		f, err := cs.src.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			cs.err = err
			return false
		}
		ld.sum.Read++
		if ld.sum.Read%1000 == 0 {
			ld.progress(Progress{Phase: "read", File: cs.src.Info().Path, BytesDone: cs.src.BytesRead(), BytesTotal: cs.src.Size(), Features: ld.sum.Read})
		}
		row, ok := cs.prepare(f)
		if ok {
			cs.row = row
			return true
		}
	}
}

func (cs *copySource) Values() ([]any, error) { return cs.row, nil }
func (cs *copySource) Err() error             { return cs.err }

// label names a feature for messages.
func label(f *Feature) string {
	var parts []string
	parts = append(parts, "#"+strconv.Itoa(f.Index))
	if f.ID != "" {
		parts = append(parts, "id="+f.ID)
	}
	for _, k := range []string{"name", "NAME", "Name", "名称", "地块名称", "xzqmc", "XZQMC", "mc", "MC", "zl", "ZL"} {
		if v, ok := f.Props[k]; ok && v != nil {
			if s := fmt.Sprint(v); s != "" {
				parts = append(parts, s)
				break
			}
		}
	}
	if f.Label != "" {
		parts = append(parts, "("+f.Label+")")
	}
	return strings.Join(parts, " ")
}

// prepare turns a feature into a staging row; it reports problems and
// returns ok=false for a feature that cannot be staged.
func (cs *copySource) prepare(f *Feature) ([]any, bool) {
	ld := cs.ld
	path := cs.src.Info().Path
	lbl := label(f)
	bad := func(reason string) {
		ld.problem(Problem{File: path, Index: f.Index, Label: lbl, Reason: reason, Lon: math.NaN(), Lat: math.NaN()})
	}
	if f.Problem != "" {
		bad(f.Problem)
		return nil, false
	}
	vals, probs := ld.mapper.featureValues(f, cs.jzd)
	// A feature with attribute problems is still staged (the bad fields
	// empty) so that its geometry is checked in the same pass: a user fixes
	// a file once. The import fails before the INSERT.
	for _, p := range probs {
		bad(p)
	}
	if f.HasZ {
		cs.warnOnce("Z/M coordinates dropped (layers are 2D)")
	}

	// Geometry: type against the layer, structure, GCJ-02, WKB.
	var b []byte
	switch {
	case f.Geom != nil:
		g, msg := fitGeometry(ld.layer.Geometry, f.Geom)
		if msg != "" {
			bad(msg)
			return nil, false
		}
		if s := structureProblem(g); s != "" {
			if ld.opts.Repair && strings.Contains(s, "is not closed") {
				g, _ = closeRings(g)
				ld.sum.Repaired++
				ld.sum.Repairs = append(ld.sum.Repairs, Problem{File: path, Index: f.Index, Label: lbl, Reason: "geometry " + s + "; closed", Lon: math.NaN(), Lat: math.NaN()})
			} else {
				bad("geometry " + s)
				return nil, false
			}
		}
		if ld.opts.FromGCJ02 {
			g = gcj02.ToWGS84Geometry(g)
			cs.gcjDone = true
		}
		var err error
		b, err = orbwkb.Marshal(g, binary.LittleEndian)
		if err != nil {
			bad("geometry cannot be encoded: " + err.Error())
			return nil, false
		}
	case f.WKB != nil:
		base, _, count, err := wkbType(f.WKB)
		if err != nil {
			bad("geometry: " + err.Error())
			return nil, false
		}
		if msg := fitWKBType(ld.layer.Geometry, base, count); msg != "" {
			bad(msg)
			return nil, false
		}
		b = f.WKB
		if ld.opts.FromGCJ02 {
			if b, err = gcjWKB(b); err != nil {
				bad("geometry: " + err.Error())
				return nil, false
			}
			cs.gcjDone = true
		}
	default:
		bad("has no geometry")
		return nil, false
	}
	ld.nextIdx++
	var decl any
	if !math.IsNaN(f.DeclaredAreaM2) {
		decl = f.DeclaredAreaM2
	}
	row := make([]any, 0, len(stageColumns)+len(vals))
	row = append(row, ld.nextIdx, int32(cs.no), int32(f.Index), lbl, f.Rings, f.HasZ, decl, b)
	row = append(row, vals...)
	return row, true
}

func (cs *copySource) warnOnce(w string) {
	info := cs.src.Info()
	for _, x := range info.Warnings {
		if x == w {
			return
		}
	}
	info.Warnings = append(info.Warnings, w)
}

// fitGeometry promotes g to the layer's type (Polygon → MultiPolygon,
// LineString → MultiLineString, one-point MultiPoint → Point) or says why
// it cannot be loaded.
func fitGeometry(want layers.GeometryType, g orb.Geometry) (orb.Geometry, string) {
	switch want {
	case layers.Point:
		switch t := g.(type) {
		case orb.Point:
			return t, ""
		case orb.MultiPoint:
			if len(t) == 1 {
				return t[0], ""
			}
		}
	case layers.MultiLineString:
		switch t := g.(type) {
		case orb.LineString:
			return orb.MultiLineString{t}, ""
		case orb.MultiLineString:
			return t, ""
		}
	case layers.MultiPolygon:
		switch t := g.(type) {
		case orb.Polygon:
			return orb.MultiPolygon{t}, ""
		case orb.MultiPolygon:
			return t, ""
		}
	}
	return nil, fmt.Sprintf("geometry type %s cannot be loaded into a %s layer", geomName(g), want)
}

func geomName(g orb.Geometry) string {
	if mp, ok := g.(orb.MultiPoint); ok {
		return fmt.Sprintf("MultiPoint (%d points)", len(mp))
	}
	return g.GeoJSONType()
}

func fitWKBType(want layers.GeometryType, base, count int) string {
	ok := false
	switch want {
	case layers.Point:
		ok = base == wkbPoint || (base == wkbMultiPoint && count == 1)
	case layers.MultiLineString:
		ok = base == wkbLineString || base == wkbMultiLineString
	case layers.MultiPolygon:
		ok = base == wkbPolygon || base == wkbMultiPolygon
	}
	if ok {
		return ""
	}
	name := wkbTypeNames[base]
	if name == "" {
		name = "code " + strconv.Itoa(base)
	}
	return fmt.Sprintf("geometry type %s cannot be loaded into a %s layer", name, want)
}

// gcjWKB converts every vertex of a WKB geometry from GCJ-02 to WGS 84.
func gcjWKB(b []byte) ([]byte, error) {
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	flat := g.FlatCoords()
	stride := g.Stride()
	for i := 0; i+1 < len(flat); i += stride {
		flat[i], flat[i+1] = gcj02.ToWGS84(flat[i], flat[i+1])
	}
	return wkb.Marshal(g, binary.LittleEndian)
}

// layerGeomSQL wraps a geometry expression so that it has the layer's type.
func layerGeomSQL(l *layers.Layer, expr string) string {
	switch l.Geometry {
	case layers.Point:
		return "(SELECT CASE WHEN GeometryType(x) = 'MULTIPOINT' THEN ST_GeometryN(x, 1) ELSE x END FROM (SELECT " + expr + " AS x) p)"
	default:
		return "ST_Multi(" + expr + ")"
	}
}

func dimension(l *layers.Layer) int {
	switch l.Geometry {
	case layers.Point:
		return 1
	case layers.MultiLineString:
		return 2
	}
	return 3
}

// build creates the feature table: geometry parsed from WKB in the file's
// CRS, Z/M dropped, rings assembled by containment (ST_BuildArea: a ring
// inside an odd number of rings is a hole), reprojected to EPSG:4490 (WGS 84
// and CGCS2000 longitude/latitude are taken as equal, as in the features
// API) and promoted to the layer's Multi type.
func (ld *loader) build(ctx context.Context, tx pgx.Tx) error {
	var fieldCols []string
	for _, f := range ld.layer.Fields {
		fieldCols = append(fieldCols, "s."+layers.QuoteIdent(f.Name))
	}
	fc := strings.Join(fieldCols, ", ")
	if fc != "" {
		fc += ", "
	}
	sql := `CREATE TEMP TABLE ` + featTable + ` ON COMMIT DROP AS
		SELECT s.idx, s.file_no, s.rec, s.label, s.decl_area, ` + fc + `
		       CASE WHEN a.assembled THEN r.raw END AS raw,
		       coalesce(NOT a.assembled OR ST_NPoints(a.g_src) = ST_NPoints(r.raw), false) AS rings_ok,
		       false AS repaired,
		       ` + layerGeomSQL(ld.layer, `CASE WHEN f.same_datum THEN ST_SetSRID(a.g_src, `+strconv.Itoa(layers.StorageSRID)+`) ELSE ST_Transform(a.g_src, `+strconv.Itoa(layers.StorageSRID)+`) END`) + ` AS g
		FROM ` + stageTable + ` s
		JOIN ` + filesTable + ` f USING (file_no)
		CROSS JOIN LATERAL (SELECT CASE WHEN s.has_z THEN ST_Force2D(ST_GeomFromWKB(s.wkb, f.srid)) ELSE ST_GeomFromWKB(s.wkb, f.srid) END AS raw) r
		CROSS JOIN LATERAL (SELECT (s.rings AND ST_NumGeometries(r.raw) > 1) AS assembled) a0
		CROSS JOIN LATERAL (SELECT a0.assembled,
		       CASE WHEN a0.assembled THEN ST_BuildArea(ST_Collect(ARRAY(SELECT ST_ExteriorRing(d.geom) FROM ST_Dump(r.raw) d)))
		            ELSE r.raw END AS g_src) a`
	if _, err := tx.Exec(ctx, sql); err != nil {
		return fmt.Errorf("building geometries in PostGIS (is the coordinate system right? pass --crs EPSG:N): %w", err)
	}
	return nil
}

// checkWhat selects the checks of check.
type checkWhat int

const (
	checkCheap    checkWhat = 1 << iota // empty, crossing rings, CRS area, CGCS2000 domain
	checkValidity                       // ST_IsValid (and --repair)
)

type checkRow struct {
	idx, fileNo, rec int32
	label, kind      string
	key, reason      *string
	lon, lat         *float64
}

// check finds features that cannot be stored: empty after assembly, rings
// that cross (holes cannot be told from parts), outside the valid area of
// the file's CRS, or invalid (ST_IsValidDetail). With --repair, invalid
// features are made valid (ST_MakeValid, keeping parts of the layer's
// dimension) and each repair is reported.
func (ld *loader) check(ctx context.Context, tx pgx.Tx, what checkWhat) (bad []int32, err error) {
	rows, err := tx.Query(ctx, `
		SELECT c.idx, c.file_no, c.rec, c.label, c.key, c.kind,
		       CASE c.kind WHEN 'invalid' THEN (ST_IsValidDetail(c.g)).reason
		                   WHEN 'rings' THEN coalesce((ST_IsValidDetail(ST_CollectionExtract(c.raw, 3))).reason, 'rings cross')
		                   WHEN 'area' THEN format('lies outside the valid area of EPSG:%s (%s–%s°E, %s–%s°N): its extent is %s–%s°E, %s–%s°N after conversion to EPSG:4490',
		                        c.srid, c.minlon, c.maxlon, c.minlat, c.maxlat,
		                        round(ST_XMin(c.g)::numeric, 4), round(ST_XMax(c.g)::numeric, 4), round(ST_YMin(c.g)::numeric, 4), round(ST_YMax(c.g)::numeric, 4))
		       END,
		       ST_X(l.loc), ST_Y(l.loc)
		FROM (
		  SELECT t.idx, t.file_no, t.rec, t.label, `+keySQL(ld.layer, "t")+` AS key, t.g, t.raw, f.srid, f.minlon, f.minlat, f.maxlon, f.maxlat,
		         CASE WHEN t.g IS NULL OR ST_IsEmpty(t.g) THEN 'empty'
		              WHEN NOT t.rings_ok THEN 'rings'
		              WHEN f.minlon IS NOT NULL AND NOT (t.g @ ST_MakeEnvelope(f.minlon, f.minlat, f.maxlon, f.maxlat, `+strconv.Itoa(layers.StorageSRID)+`)) THEN 'area'
		              WHEN NOT (t.g @ ST_MakeEnvelope(-180, -90, 180, 90, `+strconv.Itoa(layers.StorageSRID)+`)) THEN 'domain'
		              WHEN $1 AND NOT ST_IsValid(t.g) THEN 'invalid' END AS kind
		  FROM `+featTable+` t JOIN `+filesTable+` f USING (file_no)) c
		CROSS JOIN LATERAL (SELECT CASE c.kind
		    WHEN 'invalid' THEN (ST_IsValidDetail(c.g)).location
		    WHEN 'rings' THEN ST_Transform((ST_IsValidDetail(ST_CollectionExtract(c.raw, 3))).location, `+strconv.Itoa(layers.StorageSRID)+`)
		    WHEN 'area' THEN ST_Centroid(ST_Envelope(c.g)) END AS loc) l
		WHERE c.kind IS NOT NULL AND ($2 OR c.kind = 'invalid')
		ORDER BY c.idx`, what&checkValidity != 0, what&checkCheap != 0)
	if err != nil {
		return nil, fmt.Errorf("checking geometries: %w", err)
	}
	var found []checkRow
	for rows.Next() {
		var r checkRow
		if err := rows.Scan(&r.idx, &r.fileNo, &r.rec, &r.label, &r.key, &r.kind, &r.reason, &r.lon, &r.lat); err != nil {
			rows.Close()
			return nil, err
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checking geometries: %w", err)
	}
	var repair []int32
	for _, r := range found {
		p := Problem{File: ld.filePath(int(r.fileNo)), Index: int(r.rec), Label: r.label, Key: keyLabel(ld.layer, r.key), Lon: math.NaN(), Lat: math.NaN()}
		if r.lon != nil && r.lat != nil {
			p.Lon, p.Lat = *r.lon, *r.lat
		}
		reason := ""
		if r.reason != nil {
			reason = *r.reason
		}
		switch r.kind {
		case "empty":
			p.Rule = "vp_" + ld.layer.Table + "_geom_nonempty"
			p.Reason = "几何图形为空（环未围成面积） / geometry is empty (its rings enclose no area)"
		case "rings":
			p.Reason = "各环相互交叉，无法区分洞与其他部分 / its rings cross one another (" + reason + "), so holes cannot be told from further parts"
		case "area":
			p.Reason = "超出所声明坐标系的有效范围 / " + reason
		case "domain":
			p.Rule = "vp_" + ld.layer.Table + "_geom_domain"
			p.Reason = "坐标超出 CGCS2000 经纬度范围（经度 −180°～180°，纬度 −90°～90°） / the coordinates leave the CGCS2000 longitude/latitude domain (−180° to 180° E, −90° to 90° N)"
		case "invalid":
			p.Rule = "vp_" + ld.layer.Table + "_geom_valid"
			p.Reason = "几何图形无效 / invalid geometry: " + reason
			if ld.opts.Repair {
				repair = append(repair, r.idx)
				ld.sum.Repairs = append(ld.sum.Repairs, p)
				continue
			}
		}
		bad = append(bad, r.idx)
		ld.problem(p)
	}
	if len(repair) == 0 {
		return bad, nil
	}
	ld.progress(Progress{Phase: "repair", Features: ld.sum.Read})
	rrows, err := tx.Query(ctx, `
		UPDATE `+featTable+` t SET g = `+layerGeomSQL(ld.layer, `ST_CollectionExtract(ST_MakeValid(t.g), `+strconv.Itoa(dimension(ld.layer))+`)`)+`, repaired = true
		FROM (SELECT idx, g AS old FROM `+featTable+` WHERE idx = ANY($1)) o
		WHERE t.idx = o.idx
		RETURNING t.idx, ST_IsEmpty(t.g) OR NOT ST_IsValid(t.g), ST_NumGeometries(o.old), ST_NumGeometries(t.g),
		          ST_Area(o.old::geography), ST_Area(t.g::geography)`, repair)
	if err != nil {
		return nil, fmt.Errorf("repairing geometries: %w", err)
	}
	after := map[int32]string{}
	failed := map[int32]bool{}
	for rrows.Next() {
		var idx int32
		var broken bool
		var n0, n1 int
		var a0, a1 float64
		if err := rrows.Scan(&idx, &broken, &n0, &n1, &a0, &a1); err != nil {
			rrows.Close()
			return nil, err
		}
		failed[idx] = broken
		after[idx] = fmt.Sprintf("; repaired with ST_MakeValid: %d → %d part(s), geodesic area %.0f → %.0f m²", n0, n1, a0, a1)
	}
	rrows.Close()
	if err := rrows.Err(); err != nil {
		return nil, fmt.Errorf("repairing geometries: %w", err)
	}
	start := len(ld.sum.Repairs) - len(repair)
	for i := start; i < len(ld.sum.Repairs); i++ {
		idx := repair[i-start]
		if failed[idx] {
			bad = append(bad, idx)
			p := ld.sum.Repairs[i]
			p.Reason += "; ST_MakeValid left nothing of the layer's geometry type"
			ld.problem(p)
			continue
		}
		ld.sum.Repairs[i].Reason += after[idx]
		ld.sum.Repaired++
	}
	return bad, nil
}

func (ld *loader) filePath(no int) string {
	for _, f := range ld.files {
		if f.no == no {
			return f.path
		}
	}
	return "file " + strconv.Itoa(no)
}

// areaChecks compares the declared 界址点 areas with the area of the stored
// geometry measured on the file's own Gauss-Krüger plane.
func (ld *loader) areaChecks(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT t.file_no, t.rec, t.label, f.srid, t.decl_area, ST_Area(ST_Transform(t.g, f.srid))
		FROM `+featTable+` t JOIN `+filesTable+` f USING (file_no)
		WHERE t.decl_area IS NOT NULL AND t.decl_area > 0 AND NOT ST_IsEmpty(t.g)
		ORDER BY t.idx`)
	if err != nil {
		return fmt.Errorf("area check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AreaCheck
		var fileNo, rec int32
		if err := rows.Scan(&fileNo, &rec, &a.Label, &a.EPSG, &a.DeclaredM2, &a.MeasuredM2); err != nil {
			return err
		}
		a.File, a.Index = ld.filePath(int(fileNo)), int(rec)
		a.Mismatch = math.Abs(a.MeasuredM2-a.DeclaredM2) > 0.001*a.DeclaredM2
		if a.Mismatch {
			w := fmt.Sprintf("%s: parcel %s: declared 地块面积 %.4f ha = %.2f m², but the parcel measures %.2f m² on EPSG:%d (%+.2f %%)",
				a.File, a.Label, a.DeclaredM2/10000, a.DeclaredM2, a.MeasuredM2, a.EPSG, 100*(a.MeasuredM2-a.DeclaredM2)/a.DeclaredM2)
			if math.Abs(a.MeasuredM2-a.DeclaredM2/10000) < 0.001*a.MeasuredM2 {
				// 地块面积 was read as 公顷 and multiplied by 10 000.
				w += "; the file seems to give m² where 公顷 are required"
			}
			ld.sum.Warnings = append(ld.sum.Warnings, w)
		}
		ld.sum.Areas = append(ld.sum.Areas, a)
	}
	return rows.Err()
}

// recordMetadata writes villageplan.layer_metadata: the layer's content now
// comes from these files (is_sample false).
func (ld *loader) recordMetadata(ctx context.Context, tx pgx.Tx) error {
	var paths []string
	for _, f := range ld.sum.Files {
		paths = append(paths, f.Path)
	}
	source := "import of " + strings.Join(paths, ", ")
	details, err := json.Marshal(map[string]any{
		"batch_id": ld.sum.BatchID, "mode": ld.opts.Mode, "files": ld.sum.Files, "actor": ld.opts.Actor,
		"features": ld.sum.Read, "repaired": ld.sum.Repaired, "from_gcj02": ld.opts.FromGCJ02,
	})
	if err != nil {
		return err
	}
	var attribution *string
	if ld.opts.Attribution != "" {
		attribution = &ld.opts.Attribution
	}
	_, err = tx.Exec(ctx, `INSERT INTO villageplan.layer_metadata AS m (layer, source, is_sample, attribution, loaded_at, details)
		VALUES ($1, $2, false, $3, now(), $4)
		ON CONFLICT (layer) DO UPDATE SET
		  source = CASE WHEN $5 AND NOT m.is_sample THEN m.source || '; ' || EXCLUDED.source
		                WHEN $5 THEN EXCLUDED.source || ' (appended to sample data: ' || m.source || ')'
		                ELSE EXCLUDED.source END,
		  is_sample = false,
		  attribution = coalesce(EXCLUDED.attribution, CASE WHEN $5 THEN m.attribution END),
		  loaded_at = now(),
		  details = EXCLUDED.details || jsonb_build_object('previous_source', m.source)`,
		ld.layer.ID, source, attribution, details, ld.opts.Mode != Replace)
	if err != nil {
		return fmt.Errorf("layer_metadata: %w", err)
	}
	return nil
}

// BulkIndexMinFeatures is the number of staged features from which an
// import into an empty layer drops the layer's GiST indexes and builds
// them again after the INSERT.
const BulkIndexMinFeatures = 10_000

// dropIndexesIfEmpty drops the GiST (spatial) indexes of the layer table
// when the layer holds no feature and at least BulkIndexMinFeatures are
// staged, and returns the statements (pg_get_indexdef: same names, same
// definitions) that build them again. Inserting 200,000 polygons into a
// layer's two GiST indexes (geom, geom_3857) row by row cost about as much
// as the rest of the INSERT; one sorted build after it costs a fraction.
// DROP INDEX locks the table (ACCESS EXCLUSIVE) until the import commits
// or rolls back, which is why it is done only for an empty layer: nobody
// is reading its features. A failed or dry-run import rolls the DROP back
// with everything else.
func (ld *loader) dropIndexesIfEmpty(ctx context.Context, tx pgx.Tx) ([]string, error) {
	if int(ld.nextIdx) < BulkIndexMinFeatures {
		return nil, nil
	}
	var empty bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM `+ld.layer.QualifiedTable()+`)`).Scan(&empty); err != nil {
		return nil, err
	}
	if !empty {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		WHERE i.indrelid = $1::regclass AND a.amname = 'gist' AND NOT i.indisunique
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		ORDER BY 1`, ld.layer.QualifiedTable())
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		// n is regclass output: already quoted and schema-qualified
		if _, err := tx.Exec(ctx, `DROP INDEX `+n); err != nil {
			return nil, fmt.Errorf("dropping index %s for the bulk load: %w", n, err)
		}
	}
	return defs, nil
}
