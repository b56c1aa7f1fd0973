package sample

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/coverage"
	"villageplan/layers"
)

// Scales accepted by [Options.Scale].
const (
	// ScaleTownship is the real township 双营子回族乡 (220112203): its six
	// villages on an 8 km × 6 km extent centred at 125.76°E, 43.60°N.
	ScaleTownship = "township"
	// ScaleCounty is a synthetic benchmark county: 13 × 12 = 156 villages
	// (30 pseudo-townships of up to 3 × 2 villages) on a 39 km × 30 km
	// extent centred at 125.68°E, 43.55°N.
	ScaleCounty = "county"
	// ScaleCounty5 is five times the county, for the growth benchmark of
	// issue 16: 29 × 27 = 783 villages (140 pseudo-townships) with the
	// county's village size and density, on an 87 km × 67.5 km extent with
	// the same centre (about 1.15 million homesteads, 2.9 million land-use
	// polygons).
	ScaleCounty5 = "county5"
)

// Actor is the edit-history actor (villageplan.actor) of a sample load.
const Actor = "sample-generator"

// Attribution is stored in layer_metadata.attribution for every layer.
const Attribution = "示例数据 — generated, not surveyed"

// ErrNotEmpty is returned by [Load] when a layer table already holds rows.
var ErrNotEmpty = errors.New("sample: the layer tables are not empty; the sample data is only loaded into an empty database")

// Options select what [Load] generates.
type Options struct {
	// Seed selects the pseudo-random variation (jitter, classes, names).
	// The same seed and scale always give the same content; 0 means 1.
	Seed int64
	// Scale is ScaleTownship ("township", the default when empty) or
	// ScaleCounty ("county") or ScaleCounty5 ("county5").
	Scale string
}

func (o Options) normalised() (Options, error) {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Scale == "" {
		o.Scale = ScaleTownship
	}
	if _, ok := grids[o.Scale]; !ok {
		return o, fmt.Errorf("sample: unknown scale %q (want %q, %q or %q)", o.Scale, ScaleTownship, ScaleCounty, ScaleCounty5)
	}
	return o, nil
}

// Source returns the layer_metadata.source text of a load with these
// options, for example "示例数据 (villageplan sample generator, seed 1,
// scale township)".
func (o Options) Source() string {
	o, _ = o.normalised()
	return fmt.Sprintf("示例数据 (villageplan sample generator, seed %d, scale %s)", o.Seed, o.Scale)
}

// grid holds the numeric parameters of one scale. Lengths are metres on
// the EPSG:4551 plane, areas square metres.
type grid struct {
	lon, lat     float64 // extent centre, CGCS2000 degrees (EPSG:4490)
	nx, ny       int     // villages per row and number of rows
	cw, ch       float64 // village cell width (E–W) and height (N–S), m
	jx, jy       float64 // maximum jitter of a village seed, m
	luSpacing    float64 // spacing of the land-use Voronoi points, m
	m2hh         float64 // core area per household, m²
	hhMin, hhMax int     // range of households per village
}

var grids = map[string]grid{
	ScaleTownship: {lon: 125.76, lat: 43.60, nx: 3, ny: 2, cw: 8000.0 / 3, ch: 3000, jx: 400, jy: 300,
		luSpacing: 120, m2hh: 900, hhMin: 300, hhMax: 700},
	ScaleCounty: {lon: 125.68, lat: 43.55, nx: 13, ny: 12, cw: 3000, ch: 2500, jx: 300, jy: 250,
		luSpacing: 42, m2hh: 900, hhMin: 1300, hhMax: 1600},
	ScaleCounty5: {lon: 125.68, lat: 43.55, nx: 29, ny: 27, cw: 3000, ch: 2500, jx: 300, jy: 250,
		luSpacing: 42, m2hh: 900, hhMin: 1300, hhMax: 1600},
}

// village is one village as handed to the SQL (table s_village_in).
type village struct {
	code, name, short, abbr string
	czlx, designation       string // "" lets the generator choose
	col, row, block         int    // grid column (west→east), row (south→north), block (township)
	seat                    bool   // township seat: hosts the water plant and 城镇开发边界
	townName, townShort     string
}

// TownshipCode, TownshipName: the real township of the sample.
const (
	TownshipCode = "220112203"
	TownshipName = "双营子回族乡"
)

// townshipVillages are the six real villages of 双营子回族乡 (codes and
// names from the 2023 statistical division codes; the statistics list them
// as 大营村委会 etc.). Their place in the 3 × 2 grid, class and designation
// are sample choices: 大营村 is the township seat.
func townshipVillages() []village {
	v := func(code, name, short, abbr, czlx, des string, col, row int) village {
		return village{code: code, name: name, short: short, abbr: abbr, czlx: czlx, designation: des,
			col: col, row: row, seat: code == "220112203300", townName: TownshipName, townShort: "双营子"}
	}
	return []village{
		v("220112203300", "大营村", "大营", "DY", "集聚提升类", "千村示范创建村", 1, 1),
		v("220112203301", "鲁家村", "鲁家", "LJ", "特色保护类", "民族特色村", 0, 1),
		v("220112203302", "庞家村", "庞家", "PJ", "集聚提升类", "", 2, 1),
		v("220112203303", "新胜村", "新胜", "XS", "城郊融合类", "", 0, 0),
		v("220112203304", "尹家村", "尹家", "YJ", "暂不分类", "", 1, 0),
		v("220112203305", "黄金村", "黄金", "HJ", "搬迁撤并类", "", 2, 0),
	}
}

// countyVillages tiles the county grid with pseudo-townships of 3 × 2
// villages (fewer at the east and north edges). Codes are 220112 +
// pseudo-township + village 300…305, the pseudo-township 901… at county
// scale and 500… (140 of them) at county5; names 样例村001….
func countyVillages(g grid, firstTown int) []village {
	nbx := (g.nx + 2) / 3
	var out []village
	for br := 0; br*2 < g.ny; br++ {
		for bc := 0; bc < nbx; bc++ {
			block := br*nbx + bc
			ncols := min(3, g.nx-bc*3)
			nrows := min(2, g.ny-br*2)
			town := strconv.Itoa(firstTown + block)
			for lr := 0; lr < nrows; lr++ {
				for lc := 0; lc < ncols; lc++ {
					n := len(out) + 1
					out = append(out, village{
						code:  "220112" + town + strconv.Itoa(300+lr*3+lc),
						name:  fmt.Sprintf("样例村%03d", n),
						short: fmt.Sprintf("样例村%03d", n),
						abbr:  fmt.Sprintf("V%03d", n),
						col:   bc*3 + lc, row: br*2 + lr, block: block,
						seat:     lr == nrows-1 && lc == min(1, ncols-1),
						townName: "样例乡" + town, townShort: "样例乡" + town,
					})
				}
			}
		}
	}
	return out
}

//go:embed generate.sql
var generateSQL string

type step struct{ name, sql string }

// steps splits generate.sql at its "-- step: NAME" lines.
func steps() []step {
	var out []step
	for _, chunk := range strings.Split(generateSQL, "\n-- step: ")[1:] {
		name, body, _ := strings.Cut(chunk, "\n")
		out = append(out, step{name: strings.TrimSpace(name), sql: body})
	}
	return out
}

const paramsTableSQL = `CREATE TEMP TABLE s_params (
    seed text, scale text, x0 float8, y0 float8, nx int, ny int, cw float8, ch float8, jx float8, jy float8,
    lu_spacing float8, m2hh float8, hh_min int, hh_max int,
    x_min float8, y_min float8, x_max float8, y_max float8, ext geometry
) ON COMMIT DROP`

// paramsSQL fills s_params: the origin is transformed from CGCS2000
// geographic (EPSG:4490) to the Gauss-Krüger plane EPSG:4551.
const paramsSQL = `INSERT INTO s_params
WITH o AS (
    SELECT ST_Transform(ST_SetSRID(ST_MakePoint(@lon::float8, @lat::float8), 4490), 4551) AS g
), q AS (
    SELECT @seed::text AS seed, @scale::text AS scale, ST_X(g) AS x0, ST_Y(g) AS y0,
        @nx::int AS nx, @ny::int AS ny, @cw::float8 AS cw, @ch::float8 AS ch, @jx::float8 AS jx, @jy::float8 AS jy,
        @lu_spacing::float8 AS lu_spacing, @m2hh::float8 AS m2hh, @hh_min::int AS hh_min, @hh_max::int AS hh_max
    FROM o
)
SELECT q.*, x0 - nx * cw / 2, y0 - ny * ch / 2, x0 + nx * cw / 2, y0 + ny * ch / 2,
    ST_MakeEnvelope(x0 - nx * cw / 2, y0 - ny * ch / 2, x0 + nx * cw / 2, y0 + ny * ch / 2, 4551)
FROM q`

const villagesInTableSQL = `CREATE TEMP TABLE s_village_in (
    vid int, code text, name text, short text, abbr text, czlx_in text, designation_in text,
    col int, "row" int, block int, seat boolean, town_name text, town_short text
) ON COMMIT DROP`

const villagesInSQL = `INSERT INTO s_village_in
SELECT (t.ord - 1)::int, t.code, t.name, t.short, t.abbr, t.czlx, t.designation, t.col, t.r, t.block, t.seat, t.town_name, t.town_short
FROM unnest(@codes::text[], @names::text[], @shorts::text[], @abbrs::text[], @czlx::text[], @designations::text[],
            @cols::int[], @rows::int[], @blocks::int[], @seats::boolean[], @town_names::text[], @town_shorts::text[])
     WITH ORDINALITY AS t(code, name, short, abbr, czlx, designation, col, r, block, seat, town_name, town_short, ord)`

const metadataSQL = `INSERT INTO villageplan.layer_metadata (layer, source, is_sample, attribution, loaded_at, details)
VALUES ($1, $2, true, $3, now(), $4)
ON CONFLICT (layer) DO UPDATE SET source = EXCLUDED.source, is_sample = true, attribution = EXCLUDED.attribution,
    loaded_at = EXCLUDED.loaded_at, details = EXCLUDED.details`

// lockKey is the advisory-lock key that serialises sample loads.
const lockKey = 4242203

// Load generates the sample data into an empty, migrated database in one
// transaction (all or nothing) and records it in villageplan.layer_metadata
// for every catalog layer (source "示例数据 (villageplan sample generator,
// seed N, scale S)", is_sample true, attribution [Attribution]) and in
// villageplan.layer_coverage (every layer complete over the generated
// extent). It returns the number of features inserted per layer id.
//
// Load returns [ErrNotEmpty] when any layer table holds rows. Concurrent
// loads are serialised by an advisory lock, so two processes that start on
// the same empty database load it once. The edit-history triggers record
// every inserted feature with actor [Actor] and one batch id.
func Load(ctx context.Context, pool *pgxpool.Pool, opts Options, logger *slog.Logger) (map[string]int64, error) {
	opts, err := opts.normalised()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	g := grids[opts.Scale]
	vs := townshipVillages()
	switch opts.Scale {
	case ScaleCounty:
		vs = countyVillages(g, 901)
	case ScaleCounty5:
		vs = countyVillages(g, 500)
	}
	batch := fmt.Sprintf("sample-%s-seed%d-%s", opts.Scale, opts.Seed, start.UTC().Format("20060102T150405.000000000Z"))

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("sample: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return nil, fmt.Errorf("sample: lock: %w", err)
	}
	empty, err := layersEmpty(ctx, tx)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, ErrNotEmpty
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('villageplan.actor', $1, true), set_config('villageplan.batch_id', $2, true),
		set_config('villageplan.history', 'batch', true), set_config('villageplan.topology', 'off', true), set_config('work_mem', '256MB', true), set_config('jit', 'off', true)`, Actor, batch); err != nil {
		return nil, fmt.Errorf("sample: settings: %w", err)
	}
	if err := loadParams(ctx, tx, opts, g, vs); err != nil {
		return nil, err
	}

	counts := map[string]int64{}
	for _, l := range layers.Default().Layers() {
		counts[l.ID] = 0
	}
	for _, s := range steps() {
		t0 := time.Now()
		tag, err := tx.Exec(ctx, s.sql)
		if err != nil {
			return nil, fmt.Errorf("sample: step %q: %w", s.name, err)
		}
		if layer, ok := strings.CutPrefix(s.name, "insert "); ok {
			counts[layer] = tag.RowsAffected()
		}
		logger.Debug("sample step", "step", s.name, "rows", tag.RowsAffected(), "duration", time.Since(t0))
	}

	source := opts.Source()
	if err := recordCoverage(ctx, tx, source, batch); err != nil {
		return nil, err
	}
	for layer, n := range counts {
		details, _ := json.Marshal(map[string]any{
			"generator": "villageplan/data/sample", "seed": opts.Seed, "scale": opts.Scale,
			"features": n, "batch_id": batch, "generated_in_crs": "EPSG:4551", "stored_crs": "EPSG:4490",
		})
		if _, err := tx.Exec(ctx, metadataSQL, layer, source, Attribution, details); err != nil {
			return nil, fmt.Errorf("sample: layer_metadata %s: %w", layer, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("sample: commit: %w", err)
	}
	logger.Info("sample data loaded", "scale", opts.Scale, "seed", opts.Seed, "batch_id", batch,
		"duration", time.Since(start).Round(time.Millisecond), "counts", counts)
	return counts, nil
}

// recordCoverage fills villageplan.layer_coverage (migrations 2 and 4),
// where the siting check learns that a layer's data is complete: every
// layer covers the whole generated extent (the union of the villages,
// EPSG:4490), recorded with coverage.Record as kind "sample" with the
// batch. It does nothing on a schema without the table.
func recordCoverage(ctx context.Context, tx pgx.Tx, source, batch string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('villageplan.layer_coverage') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("sample: layer_coverage: %w", err)
	}
	if !exists {
		return nil
	}
	var extent []byte
	if err := tx.QueryRow(ctx, `SELECT ST_AsEWKB(ST_Multi(ST_Union(geom))) FROM `+layers.Villages.QualifiedTable()).Scan(&extent); err != nil {
		return fmt.Errorf("sample: layer_coverage: %w", err)
	}
	for _, l := range layers.Default().Layers() {
		err := coverage.Record(ctx, tx, l, coverage.Part{Kind: coverage.Sample, Source: source, Geom: extent, BatchID: batch, Actor: Actor}, true)
		if err != nil {
			return fmt.Errorf("sample: %w", err)
		}
	}
	return nil
}

// LoadIfEmpty calls [Load] only when every layer table is empty; loaded is
// false (and err nil) when some layer already has data.
func LoadIfEmpty(ctx context.Context, pool *pgxpool.Pool, opts Options, logger *slog.Logger) (loaded bool, counts map[string]int64, err error) {
	counts, err = Load(ctx, pool, opts, logger)
	if errors.Is(err, ErrNotEmpty) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	return true, counts, nil
}

// layersEmpty reports whether every catalog layer table is empty. Table
// names come from the catalog.
func layersEmpty(ctx context.Context, tx pgx.Tx) (bool, error) {
	var parts []string
	for _, l := range layers.Default().Layers() {
		parts = append(parts, "SELECT EXISTS (SELECT 1 FROM "+l.QualifiedTable()+")")
	}
	rows, err := tx.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return false, fmt.Errorf("sample: check layer tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var has bool
		if err := rows.Scan(&has); err != nil {
			return false, fmt.Errorf("sample: check layer tables: %w", err)
		}
		if has {
			return false, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("sample: check layer tables: %w", err)
	}
	return true, nil
}

func loadParams(ctx context.Context, tx pgx.Tx, opts Options, g grid, vs []village) error {
	if _, err := tx.Exec(ctx, paramsTableSQL); err != nil {
		return fmt.Errorf("sample: params: %w", err)
	}
	if _, err := tx.Exec(ctx, paramsSQL, pgx.NamedArgs{
		"seed": strconv.FormatInt(opts.Seed, 10), "scale": opts.Scale, "lon": g.lon, "lat": g.lat,
		"nx": g.nx, "ny": g.ny, "cw": g.cw, "ch": g.ch, "jx": g.jx, "jy": g.jy,
		"lu_spacing": g.luSpacing, "m2hh": g.m2hh, "hh_min": g.hhMin, "hh_max": g.hhMax,
	}); err != nil {
		return fmt.Errorf("sample: params: %w", err)
	}
	n := len(vs)
	var (
		codes, names, shorts, abbrs, czlx, des, townNames, townShorts = make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		cols, rowsIdx, blocks = make([]int32, n), make([]int32, n), make([]int32, n)
		seats                 = make([]bool, n)
	)
	for i, v := range vs {
		codes[i], names[i], shorts[i], abbrs[i], czlx[i], des[i] = v.code, v.name, v.short, v.abbr, v.czlx, v.designation
		cols[i], rowsIdx[i], blocks[i], seats[i] = int32(v.col), int32(v.row), int32(v.block), v.seat
		townNames[i], townShorts[i] = v.townName, v.townShort
	}
	if _, err := tx.Exec(ctx, villagesInTableSQL); err != nil {
		return fmt.Errorf("sample: villages: %w", err)
	}
	if _, err := tx.Exec(ctx, villagesInSQL, pgx.NamedArgs{
		"codes": codes, "names": names, "shorts": shorts, "abbrs": abbrs, "czlx": czlx, "designations": des,
		"cols": cols, "rows": rowsIdx, "blocks": blocks, "seats": seats, "town_names": townNames, "town_shorts": townShorts,
	}); err != nil {
		return fmt.Errorf("sample: villages: %w", err)
	}
	return nil
}
