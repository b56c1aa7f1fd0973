package coverage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"villageplan/layers"
)

// FileFeature is one record of a coverage file, as read by the importer's
// readers: WKB in the file's CRS.
type FileFeature struct {
	// Index is the 1-based position in the file; Label names it.
	Index int
	Label string
	WKB   []byte
	// HasZ: the WKB carries Z or M (dropped).
	HasZ bool
	// Rings: the WKB is a MultiPolygon of single rings whose roles are
	// assembled by containment (shapefile rings), as in imports.
	Rings bool
}

// FileData is a coverage file as read.
type FileData struct {
	Path, Format string
	// EPSG is the file's CRS and CRSFrom where it came from.
	EPSG     int
	CRSFrom  string
	Features []FileFeature
}

// FileReader reads the polygons of a coverage file (any format the
// importer reads); imports.ReadCoverageFile is the one in use.
type FileReader func(path string) (*FileData, error)

// Env is what Apply needs besides the spec.
type Env struct {
	// Features is an SQL relation with a geometry column g in EPSG:4490:
	// the features being loaded (an import's feature table). Empty: the
	// layer's table (`villageplan coverage set`).
	Features string
	// ReadFile reads a File spec; required for one.
	ReadFile FileReader
	// BatchID and Actor are recorded in details and recorded_by.
	BatchID string
	Actor   string
}

// Action says what Apply did.
type Action string

// Actions of Apply.
const (
	Replaced  Action = "replaced"
	Extended  Action = "extended"
	Cleared   Action = "cleared"
	Unchanged Action = "unchanged"
)

// Recorded reports what Apply did, for summaries.
type Recorded struct {
	Action Action `json:"action"`
	// Spec is the spec applied ("default" for the default).
	Spec string `json:"spec"`
	// Kind is the kind the spec resolved to (the default resolves to
	// features or none).
	Kind Kind `json:"kind"`
	// Coverage is the layer's coverage afterwards (nil: none).
	Coverage *Info `json:"coverage"`
	// NoteZH and NoteEN explain a default and how to choose another.
	NoteZH string `json:"note_zh,omitempty"`
	NoteEN string `json:"note_en,omitempty"`
}

// Text renders the record for the import summary and the CLI, one or more
// lines without a trailing newline.
func (r *Recorded) Text() string {
	var b strings.Builder
	switch {
	case r.Coverage == nil && r.Action == Cleared:
		fmt.Fprintf(&b, "coverage: removed (spec %s): the layer has no coverage now; siting rules reading it answer REVIEW 无数据", r.Spec)
	case r.Coverage == nil:
		fmt.Fprintf(&b, "coverage: none recorded (spec %s): the layer has no coverage; siting rules reading it answer REVIEW 无数据", r.Spec)
	default:
		c := r.Coverage
		fmt.Fprintf(&b, "coverage %s (spec %s): %s; %s; villages: %s", r.Action, r.Spec, c.Source, c.AreaText(), c.VillageList())
	}
	if r.NoteEN != "" {
		fmt.Fprintf(&b, "\n  coverage note: %s\n  覆盖范围说明：%s", r.NoteEN, r.NoteZH)
	}
	return b.String()
}

// Apply records spec as layer l's coverage inside q (the transaction that
// loads the data, so that both land or neither). With replace the coverage
// becomes the spec's area; otherwise it is extended (ST_Union with the old
// one). The default spec resolves to Features for a polygon layer (a site
// off the features gets REVIEW, never PASS) and to None for lines and
// points (replace then removes the old coverage: the new data's
// completeness is unknown).
//
// Errors, in Chinese and English: township with an empty villages layer,
// unknown village codes, a file that is unreadable or holds no valid
// polygon (feature index and reason), features on a line/point layer, an
// extent without area.
func Apply(ctx context.Context, q Querier, l *layers.Layer, spec Spec, replace bool, env Env) (*Recorded, error) {
	rec := &Recorded{Spec: spec.String(), Kind: spec.Kind}
	// Unions are estimated above jit_above_cost, and compiling costs more
	// than running them; JIT stays off for the rest of q's transaction
	// (coverage is the last step of an import).
	if _, err := q.Exec(ctx, `SELECT set_config('jit', 'off', true)`); err != nil {
		return nil, err
	}
	polygonal := l.Geometry == layers.MultiPolygon
	if spec.Kind == Default {
		if polygonal {
			rec.Kind = Features
			rec.NoteZH = "未给 --coverage：覆盖范围取导入的要素本身，要素以外的选址在涉及本图层的规则上为 REVIEW（无数据）。若文件覆盖全乡，请用 --coverage township（或 villages:代码…、范围文件、extent）重新导入，或运行 villageplan coverage set " + l.ID + " township"
			rec.NoteEN = "no --coverage given: the coverage is the imported features themselves, so a site off them gets REVIEW (no data) on the rules reading this layer. If the file is complete for the township, re-import with --coverage township (or villages:CODE,…, a boundary FILE, extent), or run villageplan coverage set " + l.ID + " township"
		} else {
			rec.Kind = None
			rec.NoteZH = "未给 --coverage：线、点图层不能从要素推断覆盖范围，未记录覆盖范围"
			rec.NoteEN = "no --coverage given: a line or point layer's coverage cannot be inferred from its features, so none was recorded"
			if replace {
				rec.NoteZH += "（原覆盖范围已删除）"
				rec.NoteEN += " (the previous coverage was removed)"
			}
			rec.NoteZH += "；涉及本图层的选址规则答 REVIEW（无数据）。若文件覆盖全乡，请用 --coverage township（或 villages:代码…、范围文件、extent），或运行 villageplan coverage set " + l.ID + " township"
			rec.NoteEN += "; siting rules reading this layer answer REVIEW (no data). If the file is complete for the township, use --coverage township (or villages:CODE,…, a boundary FILE, extent), or run villageplan coverage set " + l.ID + " township"
		}
	}
	if rec.Kind == Features && !polygonal {
		return nil, fmt.Errorf("--coverage features: 图层 %s 是%s图层，要素本身不构成面状覆盖范围；请用 township、villages:代码…、范围文件或 extent / layer %s holds %s features, which do not cover an area; use township, villages:CODE,…, a boundary FILE or extent",
			l.ID, geomZH(l.Geometry), l.ID, l.Geometry)
	}

	if rec.Kind == None {
		if !replace {
			rec.Action = Unchanged
		} else {
			if _, err := Clear(ctx, q, l); err != nil {
				return nil, err
			}
			rec.Action = Cleared
		}
		info, err := Get(ctx, q, l)
		if err != nil && err != ErrNone {
			return nil, err
		}
		rec.Coverage = info
		return rec, nil
	}

	var (
		geom   []byte
		source string
		extra  = map[string]any{}
		err    error
	)
	switch rec.Kind {
	case Township:
		geom, source, err = township(ctx, q)
	case Villages:
		geom, source, err = villages(ctx, q, spec.Codes)
		extra["village_codes"] = spec.Codes
	case Extent:
		geom, source, err = extent(ctx, q, l, env)
	case File:
		geom, source, err = file(ctx, q, spec.Path, env)
		extra["file"] = spec.Path
	case Features:
		source = "要素本身 / the layer's own features"
	default:
		return nil, fmt.Errorf("coverage kind %q cannot be applied", rec.Kind)
	}
	if err != nil {
		return nil, err
	}
	if env.BatchID != "" {
		source += " (batch " + env.BatchID + ")"
	}
	if err := Record(ctx, q, l, Part{Kind: rec.Kind, Source: source, Geom: geom, WithFeatures: rec.Kind == Features,
		BatchID: env.BatchID, Actor: env.Actor, Extra: extra}, replace); err != nil {
		return nil, err
	}
	rec.Action = Replaced
	if !replace {
		rec.Action = Extended
	}
	info, err := Get(ctx, q, l)
	if err != nil {
		return nil, err
	}
	if err := snapshot(ctx, q, l, info); err != nil {
		return nil, err
	}
	rec.Coverage = info
	return rec, nil
}

// Part is one coverage statement to record.
type Part struct {
	Kind   Kind
	Source string
	// Geom is the area as EWKB in EPSG:4490 (nil: only the features).
	Geom         []byte
	WithFeatures bool
	BatchID      string
	Actor        string
	Extra        map[string]any
}

// Record writes one coverage statement for layer l: replacing the row, or
// extending it (union of the areas, features kept, kind "combined" when
// the kinds differ, the parts listed in details.parts). Most callers use
// Apply; the sample loader records its generated extent with it.
func Record(ctx context.Context, q Querier, l *layers.Layer, p Part, replace bool) error {
	part := map[string]any{"kind": p.Kind, "source": p.Source, "recorded_at": time.Now().UTC()}
	if p.BatchID != "" {
		part["batch_id"] = p.BatchID
	}
	for k, v := range p.Extra {
		part[k] = v
	}
	partJSON, err := json.Marshal(part)
	if err != nil {
		return err
	}
	var actor *string
	if p.Actor != "" {
		actor = &p.Actor
	}
	var batch *string
	if p.BatchID != "" {
		batch = &p.BatchID
	}
	conflict := `geom = EXCLUDED.geom, with_features = EXCLUDED.with_features, kind = EXCLUDED.kind, source = EXCLUDED.source,
		recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by, details = EXCLUDED.details`
	if !replace {
		conflict = `geom = CASE WHEN c.geom IS NULL THEN EXCLUDED.geom WHEN EXCLUDED.geom IS NULL THEN c.geom
		                       ELSE ST_Multi(ST_CollectionExtract(ST_Union(c.geom, EXCLUDED.geom), 3)) END,
		with_features = c.with_features OR EXCLUDED.with_features,
		kind = CASE WHEN c.kind = EXCLUDED.kind THEN c.kind ELSE 'combined' END,
		source = c.source || '; + ' || EXCLUDED.source,
		recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by,
		details = EXCLUDED.details || jsonb_build_object('parts', coalesce(c.details -> 'parts',
		            jsonb_build_array(jsonb_build_object('kind', c.kind, 'source', c.source, 'recorded_at', c.recorded_at))) || (EXCLUDED.details -> 'parts'))`
	}
	_, err = q.Exec(ctx, `INSERT INTO villageplan.layer_coverage AS c (layer, geom, with_features, kind, source, recorded_at, recorded_by, details)
		VALUES ($1, ST_Multi(ST_GeomFromEWKB($2)), $3, $4, $5, now(), coalesce($6, session_user),
		        jsonb_build_object('parts', jsonb_build_array($7::jsonb)) || CASE WHEN $8::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('batch_id', $8::text) END)
		ON CONFLICT (layer) DO UPDATE SET `+conflict,
		l.ID, p.Geom, p.WithFeatures, string(p.Kind), p.Source, actor, partJSON, batch)
	if err != nil {
		return fmt.Errorf("record coverage of %s: %w", l.ID, err)
	}
	return nil
}

func township(ctx context.Context, q Querier) ([]byte, string, error) {
	var geom []byte
	var n int
	err := q.QueryRow(ctx, `SELECT ST_AsEWKB(`+clusterUnion(`SELECT geom AS g FROM `+layers.Villages.QualifiedTable())+`), (SELECT count(*) FROM `+layers.Villages.QualifiedTable()+`)`).Scan(&geom, &n)
	if err != nil {
		return nil, "", fmt.Errorf("--coverage township: %w", err)
	}
	if n == 0 || geom == nil {
		return nil, "", fmt.Errorf("--coverage township: 村级调查区图层（villages）为空，无法得到乡镇范围；请先导入村界，或用 --coverage 范围文件 / the villages layer is empty, so there is no township boundary to use; import the villages first (villageplan import --layer villages …) or give a boundary FILE")
	}
	return geom, fmt.Sprintf("乡镇范围：村级调查区 %d 个村的并集 / township: union of the %d villages of layer villages", n, n), nil
}

func villages(ctx context.Context, q Querier, codes []string) ([]byte, string, error) {
	rows, err := q.Query(ctx, `SELECT xzqdm, xzqmc FROM `+layers.Villages.QualifiedTable()+` WHERE xzqdm = ANY($1) ORDER BY xzqdm`, codes)
	if err != nil {
		return nil, "", fmt.Errorf("--coverage villages: %w", err)
	}
	found := map[string]bool{}
	var names []string
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return nil, "", err
		}
		if !found[c] {
			names = append(names, n+" "+c)
		}
		found[c] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	var missing []string
	for _, c := range codes {
		if !found[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		known, _ := knownVillages(ctx, q)
		return nil, "", fmt.Errorf("--coverage villages: 村级调查区图层中没有代码 %s / no village with code %s in layer villages (it has: %s)",
			strings.Join(missing, "、"), strings.Join(missing, ", "), known)
	}
	var geom []byte
	if err := q.QueryRow(ctx, `SELECT ST_AsEWKB(`+clusterUnion(`SELECT geom AS g FROM `+layers.Villages.QualifiedTable()+` WHERE xzqdm = ANY($1)`)+`)`, codes).Scan(&geom); err != nil {
		return nil, "", fmt.Errorf("--coverage villages: %w", err)
	}
	return geom, "村 / villages: " + strings.Join(names, ", "), nil
}

func knownVillages(ctx context.Context, q Querier) (string, error) {
	var s *string
	err := q.QueryRow(ctx, `SELECT string_agg(xzqdm || ' ' || xzqmc, ', ' ORDER BY xzqdm) FROM `+layers.Villages.QualifiedTable()).Scan(&s)
	if err != nil || s == nil {
		return "无 / none", err
	}
	return *s, nil
}

func extent(ctx context.Context, q Querier, l *layers.Layer, env Env) ([]byte, string, error) {
	rel := env.Features
	if rel == "" {
		rel = `(SELECT geom AS g FROM ` + l.QualifiedTable() + `)`
	}
	var geom []byte
	var n int64
	var typ *string
	err := q.QueryRow(ctx, `SELECT ST_AsEWKB(h), n, GeometryType(h) FROM (SELECT ST_ConvexHull(ST_Collect(g)) AS h, count(*) AS n FROM `+rel+` x) y`).Scan(&geom, &n, &typ)
	if err != nil {
		return nil, "", fmt.Errorf("--coverage extent: %w", err)
	}
	if typ == nil || *typ != "POLYGON" {
		return nil, "", fmt.Errorf("--coverage extent: %d 个要素的凸包没有面积（无要素、单点或共线）；请用 township、villages:代码…或范围文件 / the convex hull of the %d feature(s) has no area (no features, one point or collinear); use township, villages:CODE,… or a boundary FILE", n, n)
	}
	return geom, fmt.Sprintf("数据范围（%d 个要素的凸包）/ data extent: convex hull of %d feature(s)", n, n), nil
}

// file reads a coverage file with env.ReadFile and turns its polygons
// into one area in PostGIS: rings assembled as the importer does,
// reprojected to EPSG:4490, each checked valid, then unioned.
func file(ctx context.Context, q Querier, path string, env Env) ([]byte, string, error) {
	if env.ReadFile == nil {
		return nil, "", fmt.Errorf("--coverage %s: no file reader", path)
	}
	fd, err := env.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("--coverage %s: %w", path, err)
	}
	if len(fd.Features) == 0 {
		return nil, "", fmt.Errorf("--coverage %s: 文件中没有面要素 / the file holds no features", path)
	}
	wkbs := make([][]byte, len(fd.Features))
	rings := make([]bool, len(fd.Features))
	hasZ := make([]bool, len(fd.Features))
	for i, f := range fd.Features {
		wkbs[i], rings[i], hasZ[i] = f.WKB, f.Rings, f.HasZ
	}
	same := fd.EPSG == 4326 || fd.EPSG == layers.StorageSRID
	store := strconv.Itoa(layers.StorageSRID)
	rows, err := q.Query(ctx, `WITH raw AS (
		SELECT i, r, CASE WHEN z THEN ST_Force2D(ST_GeomFromWKB(w, $4::int)) ELSE ST_GeomFromWKB(w, $4::int) END AS g
		FROM unnest($1::bytea[], $2::bool[], $3::bool[]) WITH ORDINALITY AS t(w, r, z, i)),
	asm AS (SELECT i, CASE WHEN r AND ST_NumGeometries(g) > 1 THEN ST_BuildArea(ST_Collect(ARRAY(SELECT ST_ExteriorRing(d.geom) FROM ST_Dump(g) d))) ELSE g END AS g FROM raw),
	t AS (SELECT i, GeometryType(g) AS typ, CASE WHEN $5 THEN ST_SetSRID(g, `+store+`) ELSE ST_Transform(g, `+store+`) END AS g FROM asm)
	SELECT i, typ, g IS NULL OR ST_IsEmpty(g), coalesce(ST_IsValid(g), false), coalesce(ST_IsValidReason(g), ''), ST_AsEWKB(g) FROM t ORDER BY i`,
		wkbs, rings, hasZ, fd.EPSG, same)
	if err != nil {
		return nil, "", fmt.Errorf("--coverage %s: 读入 PostGIS 失败（坐标系 EPSG:%d 对吗？）/ building the polygons in PostGIS failed (is EPSG:%d right?): %w", path, fd.EPSG, fd.EPSG, err)
	}
	var problems []string
	var good [][]byte
	for rows.Next() {
		var i int
		var typ *string
		var empty, valid bool
		var why string
		var g []byte
		if err := rows.Scan(&i, &typ, &empty, &valid, &why, &g); err != nil {
			rows.Close()
			return nil, "", err
		}
		f := fd.Features[i-1]
		switch {
		case typ == nil || (*typ != "POLYGON" && *typ != "MULTIPOLYGON"):
			t := "无几何 / none"
			if typ != nil {
				t = *typ
			}
			problems = append(problems, fmt.Sprintf("要素 %s 不是面（%s）/ feature %s is not a polygon (%s)", f.Label, t, f.Label, t))
		case empty:
			problems = append(problems, fmt.Sprintf("要素 %s 为空 / feature %s is empty", f.Label, f.Label))
		case !valid:
			problems = append(problems, fmt.Sprintf("要素 %s 图形无效 / feature %s is invalid: %s", f.Label, f.Label, why))
		default:
			good = append(good, g)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("--coverage %s: %w", path, err)
	}
	if len(problems) > 0 {
		return nil, "", fmt.Errorf("--coverage %s: 范围文件有 %d 个问题，请修正后重试 / the coverage file has %d problem(s); fix them and retry:\n  %s",
			path, len(problems), len(problems), strings.Join(problems, "\n  "))
	}
	var geom []byte
	if err := q.QueryRow(ctx, `SELECT ST_AsEWKB(`+clusterUnion(`SELECT ST_GeomFromEWKB(w) AS g FROM unnest($1::bytea[]) AS w`)+`)`, good).Scan(&geom); err != nil {
		return nil, "", fmt.Errorf("--coverage %s: %w", path, err)
	}
	return geom, fmt.Sprintf("范围文件 / file %s (%s, EPSG:%d from %s, %d polygon(s))", path, fd.Format, fd.EPSG, fd.CRSFrom, len(good)), nil
}

func geomZH(g layers.GeometryType) string {
	switch g {
	case layers.Point:
		return "点"
	case layers.MultiLineString:
		return "线"
	}
	return "面"
}
