// Package imports loads the files that Chinese land administration
// exchanges into a layer of the catalog: GeoJSON (also the bare JSON array
// of DataV/高德 portals), Shapefile (GBK or UTF-8, with or without .prj and
// .cpg, upper- or lower-case extensions, loose or in a .zip), GeoPackage, 界址点坐标 TXT (勘测定界/建设用地报批 exchange files) and
// CSV with a WKT column or x/y columns.
//
// Division of work (DESIGN.md): Go parses the formats, decodes text,
// converts GCJ-02 (which PROJ does not know) and checks attribute values
// against the catalog; PostGIS does every spatial step — parsing WKB,
// assembling 界址点 and shapefile rings into polygons by containment
// (ST_BuildArea), reprojection to EPSG:4490 (ST_Transform), validity
// (ST_IsValidDetail), repair (ST_MakeValid) and areas on the Gauss-Krüger
// plane (ST_Area of ST_Transform).
//
// An import is one transaction: features are streamed with COPY into a
// temporary staging table, built and checked there, and only then inserted
// into the layer table with INSERT … SELECT (after DELETE in replace mode).
// A failed, cancelled or dry-run import leaves the layer exactly as before.
// Before the INSERT every feature is checked against the integrity rules
// that the database holds (layers.Layer.Rules: code lists, required fields,
// patterns, bounds, unique keys, valid non-empty geometry in the CGCS2000
// domain) and against the township (OutsideToleranceKm), and every problem
// of every file is reported at once, in Chinese and English; a constraint
// error that still reaches the INSERT is translated back into its rule.
// The layer's statement triggers record the import as one compact
// villageplan.edit_batch row (actor, batch id, the inserted, updated and
// deleted feature ids; the prior state of each changed or deleted feature
// in villageplan.edit_batch_prior), and
// villageplan.layer_metadata records the files the content came from.
package imports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/geo/crs"
	"villageplan/internal/coverage"
	"villageplan/internal/exchange"
	"villageplan/layers"
)

// Mode says what happens to the features already in the layer.
type Mode string

// Import modes.
const (
	// Append adds the file's features to the layer.
	Append Mode = "append"
	// Replace deletes every feature of the layer and inserts the file's
	// features, in one transaction (readers see the old or the new content,
	// never a mix; the deletions are in the edit history).
	Replace Mode = "replace"
	// Upsert merges the file's features into the layer by the layer's key
	// (layers.Layer.Key: 宗地代码, 永久基本农田图斑编号, XZQDM): a feature
	// whose key exists updates that feature (its geometry and the fields the
	// files fill; recorded as an update in the edit history), the others
	// are inserted. A layer without a key refuses upsert.
	Upsert Mode = "upsert"
)

// Options control an import. The zero value appends, reads the CRS and
// encoding from the files and refuses invalid geometry.
type Options struct {
	// Mode is Append (default), Replace or Upsert. Append refuses
	// features whose key (or other unique field) already exists in the
	// layer, listing them.
	Mode Mode
	// AllowOutside loads features lying more than OutsideToleranceKm
	// outside the township (the union of the villages layer), which are
	// otherwise refused with their distance in km.
	AllowOutside bool
	// CRS overrides the coordinate system of every file ("EPSG:4530",
	// an OGC URI or "CRS84"); it is required for files that do not say
	// theirs (shapefile without .prj, CSV).
	CRS string
	// Encoding ("UTF-8" or "GBK") is used for shapefiles without .cpg and
	// language driver, and for CSV files; otherwise the encoding is
	// detected (and reported).
	Encoding string
	// FromGCJ02 converts longitude/latitude from GCJ-02 (高德/DataV) to
	// WGS 84, stored as CGCS2000 (see geo/gcj02: exact inverse of the
	// published forward formula, error ≤ 2e-9 m against it).
	FromGCJ02 bool
	// Repair applies ST_MakeValid to invalid geometries and keeps only
	// parts of the layer's dimension; each repair is reported. Without it
	// any invalid feature fails the import.
	Repair bool
	// Map entries "SOURCE=FIELD" (or "A,B=FIELD": the first non-empty of A,
	// B) map source attributes to layer fields, in addition to the
	// automatic match on field name, standard code (DLBM…) and Chinese
	// title. SOURCE "id" is the feature's own id (the GeoJSON Feature "id"
	// member, where DataV and ECharts files keep their 区划代码; the
	// GeoPackage fid; the 界址点 地块编号) unless the feature has a
	// property called id; "@id" is always the feature's own id.
	Map []string
	// Set entries "FIELD=VALUE" give a default used where a feature has no
	// value for FIELD.
	Set []string
	// DryRun does everything, including the insert, and then rolls back.
	DryRun bool
	// SourceLayer names the layer to read in a GeoPackage with several,
	// or the shapefile to read in a .zip with several (its name, with or
	// without its folder inside the archive).
	SourceLayer string
	// CSVWKT, CSVX and CSVY name the geometry columns of a CSV file when
	// they are not found by name.
	CSVWKT, CSVX, CSVY string
	// Actor is recorded in the edit history (default "villageplan import").
	Actor string
	// Attribution is stored in layer_metadata (e.g. "© OpenStreetMap
	// contributors").
	Attribution string
	// Progress, if set, is called as the import advances, from the
	// goroutine of Import: when a file starts and ends being read and every
	// 1 000 features in between, at each step of the check and load
	// phases, and once at the end ("done", only when the import — or the
	// dry run — succeeded).
	Progress func(Progress)
	// MaxProblems bounds the problems listed in an error (default 50); the
	// total is always given.
	MaxProblems int
	// Coverage says where the layer's data is complete after the import
	// (coverage.ParseSpec: township, villages:CODE,…, extent, features,
	// none or a polygon FILE). It is recorded in the import's transaction:
	// replace mode replaces the layer's coverage, append extends it
	// (ST_Union). The zero value is the safe default: the imported
	// features themselves for a polygon layer, nothing (and, in replace
	// mode, the old coverage removed) for lines and points.
	Coverage coverage.Spec
}

// Progress is one progress report. An import reports, in this order:
// "read" for each file (first with BytesDone 0, last with BytesDone =
// BytesTotal), "check" for each of its steps, "repair" when --repair
// changes geometries, "load" for each of its steps, then "done".
type Progress struct {
	// Phase is "read" (streaming a file into the staging table), "check"
	// (building and checking the geometries in PostGIS), "repair",
	// "load" (writing the layer, its source and coverage, and committing)
	// or "done".
	Phase string
	// File is the file being read.
	File string
	// BytesDone and BytesTotal are the position in the file being read.
	BytesDone, BytesTotal int64
	// Step names the step of a check or load phase (StepBuild…StepCommit);
	// StepNo counts from 1 to Steps, the number of steps of the phase.
	Step          string
	StepNo, Steps int
	// Features is the number of features read so far (all files).
	Features int
	// Loaded is the number of features inserted ("done" only).
	Loaded int
}

// Problem is one feature that cannot be loaded, or one repair.
type Problem struct {
	File string `json:"file"`
	// Index is the 1-based position of the feature in its file.
	Index int `json:"index"`
	// Label names the feature: its id and name where the file has them.
	Label string `json:"label"`
	// Key is the feature's layer key ("zddm=…") when the layer has one and
	// the feature carries it.
	Key string `json:"key,omitempty"`
	// Rule names the broken integrity rule: the database constraint
	// (vp_<table>_<field>_<kind>, see layers.Rule) or "outside_township";
	// "" for problems of reading and geometry building.
	Rule string `json:"rule,omitempty"`
	// Reason says what is wrong (for invalid geometry, PostGIS's
	// ST_IsValidReason).
	Reason string `json:"reason"`
	// Lon and Lat locate the problem in CGCS2000 degrees (NaN when there
	// is no location).
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: feature %s", p.File, p.Label)
	if p.Key != "" {
		fmt.Fprintf(&b, " [%s]", p.Key)
	}
	fmt.Fprintf(&b, ": %s", p.Reason)
	if !math.IsNaN(p.Lon) && !math.IsNaN(p.Lat) {
		fmt.Fprintf(&b, " (near %.6f, %.6f)", p.Lon, p.Lat)
	}
	return b.String()
}

// AreaCheck compares a 界址点 parcel's declared area with the area PostGIS
// measures on the file's Gauss-Krüger plane after storing in EPSG:4490.
type AreaCheck struct {
	File       string  `json:"file"`
	Index      int     `json:"index"`
	Label      string  `json:"label"`
	EPSG       int     `json:"epsg"`
	DeclaredM2 float64 `json:"declared_m2"`
	MeasuredM2 float64 `json:"measured_m2"`
	// Mismatch is true when they differ by more than 0.1 %.
	Mismatch bool `json:"mismatch"`
}

// Summary reports an import.
type Summary struct {
	Layer   string     `json:"layer"`
	BatchID string     `json:"batch_id"`
	Mode    Mode       `json:"mode"`
	DryRun  bool       `json:"dry_run"`
	Files   []FileInfo `json:"files"`
	// Read counts the features in the files; Loaded those inserted or
	// updated (0 in a failed import; in a dry run what would have been);
	// Updated those of Loaded that upsert merged into an existing feature;
	// Repaired those changed by --repair; Rejected the features with at
	// least one problem (a feature with two problems counts once); Deleted
	// the features removed by replace mode.
	Read, Loaded, Updated, Repaired, Rejected, Deleted int
	// Repairs lists each repair (reason before the repair).
	Repairs []Problem `json:"repairs,omitempty"`
	// Areas lists the 界址点 area cross-checks.
	Areas []AreaCheck `json:"areas,omitempty"`
	// Mapping maps each filled layer field to its source attribute.
	Mapping map[string]string `json:"mapping"`
	// Ignored lists source attributes that no field took.
	Ignored  []string      `json:"ignored,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	Duration time.Duration `json:"duration"`
	// Coverage is the coverage recorded (or, in a dry run, that would be):
	// source, area in km², villages spanned; nil when the import failed
	// before.
	Coverage *coverage.Recorded `json:"coverage,omitempty"`
}

// Error is returned when features cannot be loaded; the layer is
// unchanged. Problems holds at most Options.MaxProblems entries; Total is
// the number of problems found.
type Error struct {
	Layer    string
	Problems []Problem
	Total    int
	// Hint says what to do.
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "导入图层 %s 失败，图层未改变：%d 个问题 / import into %s failed, the layer is unchanged: %d problem(s)", e.Layer, e.Total, e.Layer, e.Total)
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if e.Total > len(e.Problems) {
		fmt.Fprintf(&b, "\n  … and %d more", e.Total-len(e.Problems))
	}
	if e.Hint != "" {
		b.WriteString("\n")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Import loads the features of files into layer l of the database behind
// pool, in one transaction. It returns the summary and, when any feature
// cannot be loaded, an *Error listing the problems (the summary then says
// what was read). Other errors: unreadable files, an unknown CRS (the
// message says what the file declares and how to pass --crs), bad options,
// and database errors. Cancelling ctx rolls the import back.
func Import(ctx context.Context, pool *pgxpool.Pool, l *layers.Layer, files []string, opts Options) (*Summary, error) {
	start := time.Now()
	if len(files) == 0 {
		return nil, fmt.Errorf("no file to import")
	}
	if opts.Mode == "" {
		opts.Mode = Append
	}
	if opts.Mode != Append && opts.Mode != Replace && opts.Mode != Upsert {
		return nil, fmt.Errorf("--mode %q: use append, replace or upsert", opts.Mode)
	}
	if opts.Mode == Upsert && l.Key == "" {
		return nil, fmt.Errorf("图层 %s 没有要素键，不能按键合并（upsert）；请用 append 或 replace / layer %s has no key field, so --mode upsert cannot merge features; use --mode append or --mode replace (layers with a key: %s)",
			l.ID, l.ID, keyedLayers())
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 50
	}
	if opts.Actor == "" {
		opts.Actor = "villageplan import"
	}
	enc, err := exchange.NormalizeEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	overrideEPSG := 0
	if opts.CRS != "" {
		c, err := crs.ParseURI(opts.CRS)
		if err != nil {
			return nil, fmt.Errorf("--crs: %w", err)
		}
		overrideEPSG = c.EPSG
	}
	m, err := newMapper(l, opts.Map, opts.Set)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Layer: l.ID, BatchID: newBatchID(), Mode: opts.Mode, DryRun: opts.DryRun}
	ld := &loader{pool: pool, layer: l, opts: opts, mapper: m, sum: sum, overrideEPSG: overrideEPSG,
		ro: readerOptions{encoding: enc, sourceLayer: opts.SourceLayer, csvWKT: opts.CSVWKT, csvX: opts.CSVX, csvY: opts.CSVY}}
	err = ld.run(ctx, files)
	sum.Mapping, sum.Ignored = m.summary()
	sum.Duration = time.Since(start)
	for _, f := range sum.Files {
		for _, w := range f.Warnings {
			sum.Warnings = append(sum.Warnings, f.Path+": "+w)
		}
	}
	sum.Warnings = append(sum.Warnings, m.warnings()...)
	return sum, err
}

func keyedLayers() string {
	var ks []string
	for _, l := range layers.Default().Layers() {
		if l.Key != "" {
			ks = append(ks, l.ID+" ("+l.Key+")")
		}
	}
	return strings.Join(ks, ", ")
}

func newBatchID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "import-" + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Text renders the summary for people (the CLI prints it).
func (s *Summary) Text() string {
	var b strings.Builder
	verb := "loaded"
	if s.DryRun {
		verb = "would load (dry run, rolled back)"
	}
	fmt.Fprintf(&b, "layer %s, %s, batch %s\n", s.Layer, s.Mode, s.BatchID)
	for _, f := range s.Files {
		fmt.Fprintf(&b, "  %s: %s, %d feature(s), EPSG:%d (%s)", f.Path, f.Format, f.Features, f.EPSG, f.CRSFrom)
		if f.Layer != "" {
			fmt.Fprintf(&b, ", layer %s", f.Layer)
		}
		if f.Encoding != "" {
			fmt.Fprintf(&b, ", text %s (%s)", f.Encoding, f.EncodingFrom)
		}
		b.WriteString("\n")
	}
	var fields []string
	for k := range s.Mapping {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	for _, k := range fields {
		fmt.Fprintf(&b, "  field %s ← %s\n", k, s.Mapping[k])
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(&b, "  source attributes not loaded: %s\n", strings.Join(s.Ignored, ", "))
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	for _, r := range s.Repairs {
		fmt.Fprintf(&b, "  repaired: %s\n", r.String())
	}
	for _, a := range s.Areas {
		flag := "ok"
		if a.Mismatch {
			flag = "MISMATCH over 0.1 %"
		}
		fmt.Fprintf(&b, "  area %s: declared %.2f m², measured %.2f m² on EPSG:%d (%+.3f %%) %s\n", a.Label, a.DeclaredM2, a.MeasuredM2, a.EPSG,
			100*(a.MeasuredM2-a.DeclaredM2)/a.DeclaredM2, flag)
	}
	if s.Coverage != nil {
		if s.DryRun {
			b.WriteString("  (dry run, rolled back) ")
		} else {
			b.WriteString("  ")
		}
		fmt.Fprintf(&b, "%s\n", s.Coverage.Text())
	}
	fmt.Fprintf(&b, "read %d, %s %d, repaired %d, rejected %d", s.Read, verb, s.Loaded, s.Repaired, s.Rejected)
	if s.Mode == Upsert {
		fmt.Fprintf(&b, " (%d updated by key, %d inserted)", s.Updated, s.Loaded-s.Updated)
	}
	if s.Mode == Replace {
		fmt.Fprintf(&b, ", deleted %d", s.Deleted)
	}
	fmt.Fprintf(&b, " in %s", s.Duration.Round(time.Millisecond))
	if s.Duration > 0 && s.Read > 0 {
		fmt.Fprintf(&b, " (%.0f features/s)", float64(s.Read)/s.Duration.Seconds())
	}
	return b.String()
}
