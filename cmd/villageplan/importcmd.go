package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"villageplan/internal/coverage"
	"villageplan/internal/db"
	"villageplan/internal/httpapi"
	"villageplan/internal/imports"
	"villageplan/layers"
)

func newImportCommand(g *globalFlags) *cobra.Command {
	var (
		opts     imports.Options
		layerID  string
		mode     string
		asJSON   bool
		coverArg string
		limits   = httpapi.DefaultLimits
	)
	cmd := &cobra.Command{
		Use:   "import --layer ID FILE…",
		Short: "load GeoJSON, Shapefile, GeoPackage, 界址点 txt or CSV files into a layer (one transaction)",
		Long: `Loads the features of the files into a catalog layer, in one transaction:
the layer is changed only if every feature can be loaded, and Ctrl-C rolls
the import back. Every inserted (and, with --mode replace, deleted) feature
is written to the edit history under one batch id.

Formats (by extension): .geojson/.json (FeatureCollection, Feature, geometry
or the bare array of Features of DataV portals), .shp (with .dbf, optional
.prj and .cpg; extensions in any case, .SHP/.DBF), .zip (a zipped shapefile,
possibly in a folder; --source-layer NAME when it holds several), .gpkg
(--source-layer when it has several), .txt (界址点坐标
exchange file, GBK or UTF-8), .csv (a WKT column or x/y columns).

Coordinate system: from the .prj, GeoPackage, GeoJSON crs member (default
CRS84), 界址点 header; --crs EPSG:N overrides it and is required where the
file has none (shapefile without .prj, CSV). --from-gcj02 converts 高德/DataV
longitude/latitude from GCJ-02.

Text: shapefile encoding from the .cpg, else the DBF language driver, else
--encoding, else detected (UTF-8 or GB18030); the summary says which.

Attributes map to layer fields by field name, standard code (DLBM, ZDDM…),
Chinese title (地类编码), or --map SOURCE=FIELD (SOURCE may be "a,b": the first
non-empty); --set FIELD=VALUE gives a default where a feature has no value.
SOURCE "id" is the Feature's own id where it has no "id" property (DataV and
ECharts files keep their 区划代码 there: --map id=xzqdm); "@id" always is.

Coverage (where the layer's data is complete; siting rules answer REVIEW
"无数据" outside it, never PASS) is recorded in the same transaction:
--coverage township (the union of the villages layer), villages:CODE,…
(those villages), FILE (a polygon file in any format and CRS read here),
extent (the convex hull of the data), features, or none. Replace mode
replaces the layer's coverage, append extends it. Without --coverage a
polygon layer's coverage is the imported features themselves, and a line or
point layer gets none (replace removes the old one): a site off the data
gets REVIEW, never PASS. The summary says what was recorded, with its area
in km² and the villages it spans; villageplan coverage changes it later.

Integrity: every feature is checked against the rules the database holds
(code lists, required fields, 12-digit XZQDM — 6- and 9-digit codes are
completed with zeros and reported — unique keys, valid non-empty geometry
inside the CGCS2000 domain) and every problem of every file is reported in
one pass, in Chinese and English, before anything is written. Appending a
feature whose key (宗地代码, 永久基本农田图斑编号, XZQDM) already exists is
refused with the keys listed; --mode upsert updates such features instead.
Features more than 1 km outside the township (the union of the villages
layer) are refused with their distance unless --allow-outside; with an
empty villages layer that check cannot run and the summary says so.

Examples:
  villageplan import --layer permanent_farmland --mode replace --coverage township YJJBNTBHTB.shp
  villageplan import --layer homesteads --set xzqdm=220112203300 --set status=已登记 宗地.txt
  villageplan import --layer villages --from-gcj02 --map adcode=xzqdm --map name=xzqmc --set czlx=暂不分类 220112.json
  villageplan import --layer land_use --mode replace --crs EPSG:4530 DLTB.shp`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			l, err := catalogLayer(layerID)
			if err != nil {
				return err
			}
			opts.Mode = imports.Mode(mode)
			spec, err := coverage.ParseSpec(coverArg)
			if err != nil {
				return err
			}
			opts.Coverage = spec
			if opts.Actor == "" {
				opts.Actor = "villageplan import (" + currentUser() + ")"
			}
			stderr := cmd.ErrOrStderr()
			p := newProgress(stderr)
			opts.Progress = p.report
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			logger := g.logger()
			pool, closeDB, err := openDatabase(ctx, g, logger)
			if err != nil {
				return err
			}
			defer closeDB()
			// The import's own sessions carry its limits (httpapi.Limits).
			ipool, err := db.DerivePool(pool, 0, db.SessionLimits{Statement: limits.Import, IdleInTransaction: limits.ImportIdle})
			if err != nil {
				return err
			}
			defer ipool.Close()
			sum, err := imports.Import(ctx, ipool, l, files, opts)
			p.finish()
			out := cmd.OutOrStdout()
			if sum != nil {
				if asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					_ = enc.Encode(sum)
				} else {
					fmt.Fprintln(out, sum.Text())
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("import interrupted; rolled back, layer %s unchanged", l.ID)
				}
				var ie *imports.Error
				if errors.As(err, &ie) {
					return err
				}
				if db.IsTimeout(err) {
					return fmt.Errorf("导入 %s 的一条语句超过了时限 --limit-import %s，已回滚，图层未改变；文件很大时请调高该时限或分批导入。 "+
						"A statement of the import into %s ran past --limit-import %s; rolled back, the layer is unchanged. "+
						"Raise the limit for a very large file, or import it in parts: %w", l.ID, limits.Import, l.ID, limits.Import, err)
				}
				return fmt.Errorf("import into %s failed, the layer is unchanged: %w", l.ID, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&layerID, "layer", "", "layer ID (see /collections), e.g. homesteads, permanent_farmland, villages")
	f.StringVar(&opts.CRS, "crs", "", "coordinate system of the files, e.g. EPSG:4530 (overrides the file's own)")
	f.StringVar(&opts.Encoding, "encoding", "", "text encoding where the file does not say: UTF-8 or GBK")
	f.BoolVar(&opts.FromGCJ02, "from-gcj02", false, "coordinates are GCJ-02 (高德/DataV): convert to WGS 84/CGCS2000")
	f.BoolVar(&opts.Repair, "repair", false, "repair invalid geometries with ST_MakeValid (each repair is reported)")
	f.StringVar(&mode, "mode", "append", "append, replace or upsert (append refuses features whose key exists; replace swaps the layer's content atomically; upsert merges by the layer's key: homesteads zddm, permanent_farmland yjjbnttbbh, villages xzqdm)")
	f.BoolVar(&opts.AllowOutside, "allow-outside", false, "load features lying more than 1 km outside the township (the union of the villages layer), which are otherwise refused")
	f.StringArrayVar(&opts.Map, "map", nil, "map a source attribute to a field: SOURCE=FIELD or A,B=FIELD (repeatable)")
	f.StringArrayVar(&opts.Set, "set", nil, "default value where a feature has none: FIELD=VALUE (repeatable)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "check and load, then roll back")
	f.StringVar(&opts.SourceLayer, "source-layer", "", "layer to read in a GeoPackage, or shapefile in a .zip, with several")
	f.StringVar(&opts.CSVWKT, "csv-wkt", "", "CSV column holding WKT geometry")
	f.StringVar(&opts.CSVX, "csv-x", "", "CSV column holding x (easting/longitude)")
	f.StringVar(&opts.CSVY, "csv-y", "", "CSV column holding y (northing/latitude)")
	f.StringVar(&opts.Actor, "actor", "", "who is recorded in the edit history (default: villageplan import (OS user))")
	f.StringVar(&opts.Attribution, "attribution", "", "attribution stored with the layer, e.g. \"© OpenStreetMap contributors\"")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	f.StringVar(&coverArg, "coverage", "", "where the data is complete: township | villages:CODE,… | FILE | extent | features | none (default: the features of a polygon layer, none for lines/points)")
	f.DurationVar(&limits.Import, "limit-import", limits.Import, "longest statement of the import (statement_timeout); past it the import rolls back")
	f.DurationVar(&limits.ImportIdle, "limit-import-idle", limits.ImportIdle, "drop the import's session when it sits idle inside its transaction this long (idle_in_transaction_session_timeout)")
	_ = cmd.MarkFlagRequired("layer")
	return cmd
}

// catalogLayer returns the catalog layer with the given id, or an error
// that lists the layer ids.
func catalogLayer(id string) (*layers.Layer, error) {
	if l, ok := layers.Default().Layer(id); ok {
		return l, nil
	}
	var ids []string
	for _, l := range layers.Default().Layers() {
		ids = append(ids, l.ID)
	}
	return nil, fmt.Errorf("unknown layer %q; the layers are: %v", id, ids)
}

func currentUser() string {
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}

// progress shows the import's whole course on stderr. On a terminal: a
// bar per file while reading (bytes), then one bar for the check phase and
// one for the load phase, advancing step by step (the steps are single
// PostGIS statements, so a bar cannot move within one; the description
// names the step and the elapsed time runs). Elsewhere (logs, pipes): a
// line when a file has been read and every 5 seconds while reading, and a
// line per check and load step.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	bar     *progressbar.ProgressBar
	file    string
	last    time.Time
	phase   string
	started time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, started: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// phaseVerb is the word shown for a phase.
var phaseVerb = map[string]string{"read": "reading", "check": "checking", "repair": "repairing", "load": "loading"}

func (p *progress) report(ev imports.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() { p.phase = ev.Phase }()
	switch ev.Phase {
	case "read":
		if p.tty {
			if p.bar == nil || p.phase != "read" || p.file != ev.File {
				p.finishBar()
				p.bar = progressbar.NewOptions64(ev.BytesTotal,
					progressbar.OptionSetWriter(p.w),
					progressbar.OptionSetDescription("reading "+filepath.Base(ev.File)),
					progressbar.OptionShowBytes(true),
					progressbar.OptionSetWidth(30),
					progressbar.OptionClearOnFinish(),
				)
			}
			p.file = ev.File
			p.bar.Describe(fmt.Sprintf("reading %s: %d features", filepath.Base(ev.File), ev.Features))
			_ = p.bar.Set64(ev.BytesDone) // renders (events come every 1 000 features, no throttle needed)
			return
		}
		if p.phase != "read" || p.file != ev.File {
			p.file, p.last = ev.File, time.Now()
		}
		switch {
		case ev.BytesTotal > 0 && ev.BytesDone == ev.BytesTotal:
			fmt.Fprintf(p.w, "read %s: %d features (%s)\n", filepath.Base(ev.File), ev.Features, p.elapsed())
		case time.Since(p.last) >= 5*time.Second:
			p.last = time.Now()
			pct := 0.0
			if ev.BytesTotal > 0 {
				pct = 100 * float64(ev.BytesDone) / float64(ev.BytesTotal)
			}
			fmt.Fprintf(p.w, "read %s: %d features, %.0f %%\n", filepath.Base(ev.File), ev.Features, pct)
		}
	case "check", "load", "repair":
		if !p.tty {
			if ev.Steps > 0 {
				fmt.Fprintf(p.w, "%s %d/%d: %s, %d features (%s)\n", ev.Phase, ev.StepNo, ev.Steps, ev.Step, ev.Features, p.elapsed())
			} else {
				fmt.Fprintf(p.w, "%s: %d features (%s)\n", ev.Phase, ev.Features, p.elapsed())
			}
			return
		}
		if p.bar == nil || p.phase != ev.Phase {
			p.finishBar()
			n := ev.Steps
			if n == 0 {
				n = -1 // a spinner
			}
			p.bar = progressbar.NewOptions(n,
				progressbar.OptionSetWriter(p.w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionClearOnFinish(),
			)
		}
		desc := fmt.Sprintf("%s %d features", phaseVerb[ev.Phase], ev.Features)
		if ev.Step != "" {
			desc += ": " + ev.Step
		}
		p.bar.Describe(desc)
		if ev.StepNo > 0 {
			_ = p.bar.Set(ev.StepNo - 1) // steps done before this one
		} else {
			_ = p.bar.Add(1)
		}
	case "done":
		p.finishBar()
	}
}

func (p *progress) elapsed() time.Duration { return time.Since(p.started).Round(time.Millisecond) }

// finishBar completes and clears the current bar (callers hold mu).
func (p *progress) finishBar() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishBar()
}
