// Package indicators computes the 乡村建设行动 indicators of issue 14 from
// the map: every figure is one PostGIS (and, for road networks, pgRouting)
// query over the layers of the catalog, per village (XZQDM) and, where it
// makes sense, per 自然屯 (natural_hamlets), for a chosen date, with its
// formula documented beside it (Definition.FormulaZH/EN and the docstring
// of the function that computes it).
//
// Dates: a report is "as of" the end of a day in China time (UTC+8). For
// today or a later day the layers are read as they are now; for an earlier
// day every layer is read as it was then from the edit history
// (villageplan.feature_versions, features.AsOfRelation); a day before a
// layer's first recorded edit is refused (ErrBeforeHistory). The
// homestead-approval figures read the applications tables (approved_on ≤
// the date), which have no as-of state.
//
// Households (户): a homestead parcel whose status is one of
// Config.HouseholdStatuses (default 已登记, a registered, lived-in parcel)
// counts as one household; 闲置, 退出, 已批准 and 在建 parcels do not.
// Lengths and areas are measured on the CGCS2000 3-degree Gauss-Krüger
// plane of the township (the zone of the villages' centre, as the siting
// check measures), except the lighting indicator, which shares the
// streetlight-coverage view's geodesic lengths.
//
// Reports are cached in villageplan.indicator_cache keyed on the
// layer_version of every layer read, the targets and the date: a layer
// edit changes the key, so the next request recomputes.
package indicators

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/geo/crs"
	"villageplan/internal/features"
	"villageplan/layers"
)

// Definition describes one indicator: its key, titles, unit, the formula
// printed beside the value, whether a higher value is better, and whether
// it is also computed per 自然屯.
type Definition struct {
	Key              string `json:"key"` // e.g. "road_lit_share"
	TitleZH          string `json:"title_zh"`
	TitleEN          string `json:"title_en"`
	Unit             string `json:"unit"` // "%", "户", "m", "m²", "个"
	FormulaZH        string `json:"formula_zh"`
	FormulaEN        string `json:"formula_en"`
	HigherIsBetter   bool   `json:"higher_is_better"`
	PerHamlet        bool   `json:"per_hamlet"` // also computed per 自然屯
	NumeratorLabel   string `json:"numerator"`  // what Numerator counts, with unit
	DenominatorLabel string `json:"denominator"`
	// Features is true when GET /indicators/{key}/features lists the
	// items behind the figure (unlit segments, households beyond reach …).
	Features bool `json:"features"`
}

// Value is one figure: of a village (XZQDM, 12 digits; "" for the township
// total) or of one of its 自然屯 (Hamlet, the hamlet's name).
type Value struct {
	Key         string  `json:"key"`
	Village     string  `json:"village"`
	Hamlet      string  `json:"hamlet,omitempty"`
	Numerator   float64 `json:"numerator"`
	Denominator float64 `json:"denominator"`
	Value       float64 `json:"value"` // the figure shown (share in %, count, area…)
}

// Report is every value of one computation.
type Report struct {
	AsOf     time.Time        `json:"as_of"`
	Versions map[string]int64 `json:"versions"` // layer → layer_version used (cache key)
	Values   []Value          `json:"values"`
	// Skipped names the indicators that could not be computed, with the
	// reason (a layer or field the catalog lacks).
	Skipped map[string]string `json:"skipped,omitempty"`
	// Settings are the targets and distances used (key → value).
	Settings map[string]float64 `json:"settings"`
	// Cached is true when the report came from the cache.
	Cached    bool  `json:"cached"`
	ComputeMS int64 `json:"compute_ms"`
	// TimingsMS is the time each indicator took when computed (ms; the
	// first network indicator includes building the road graph).
	TimingsMS map[string]int64 `json:"timings_ms,omitempty"`
}

// Get returns the value of key for village (and hamlet), if present.
func (r *Report) Get(key, village, hamlet string) (Value, bool) {
	for _, v := range r.Values {
		if v.Key == key && v.Village == village && v.Hamlet == hamlet {
			return v, true
		}
	}
	return Value{}, false
}

// ErrBeforeHistory is returned for a date before a layer's first recorded
// edit: what the layer held then is not known.
type ErrBeforeHistory struct {
	Layer string
	Date  time.Time
}

func (e *ErrBeforeHistory) Error() string {
	d := e.Date.Format(time.DateOnly)
	return fmt.Sprintf("%s 早于图层 %s 的最早历史记录，无法回溯；%s is before the first recorded edit of layer %s, so its state then is unknown", d, e.Layer, d, e.Layer)
}

// ErrUnknownVillage is returned by Village for a code no village has.
var ErrUnknownVillage = errors.New("unknown village")

// ErrUnknownIndicator is returned by Features for a key Definitions lacks
// or an indicator that lists no features.
var ErrUnknownIndicator = errors.New("unknown indicator")

// Revision is part of every cache key: bump it when an indicator's SQL
// changes, so that reports computed by the earlier code are not served.
const Revision = 1

// China is the time zone in which dates are days (UTC+8, no DST).
var China = time.FixedZone("CST", 8*3600)

// Config holds the rules of thumb the indicators use; zero fields take
// the defaults of DefaultConfig.
type Config struct {
	// Lighting is the road-lighting definition (shared with the map view);
	// nil leaves road_lit_share out.
	Lighting *Lighting
	// HouseholdStatuses are the homestead statuses counted as households.
	HouseholdStatuses []string
	// MaxHomesteadAreaM2 is the siting rule set's area limit (area_limit
	// max_area_m2) the average area is compared with.
	MaxHomesteadAreaM2 float64
	// ReachM is the default reach distance along roads per facility kind
	// (m); the administrator's targets reach_m:<kind> override it.
	ReachM map[string]float64
	// FireLaneWidthM is the clear width of a 消防车道 (GB 50016: 4 m).
	FireLaneWidthM float64
	// PipeReachM: a household farther than this from every water pipe
	// and not connected counts as beyond the pipe network (m).
	PipeReachM float64
	// DeadEndBorderM: a dead end closer than this to the outer boundary of
	// the villages is a road leaving the map, not a 断头路 (m).
	DeadEndBorderM float64
	// Logger, if set, receives one debug record per indicator computed
	// (key, milliseconds).
	Logger *slog.Logger `json:"-"`
}

// Facility kinds of the reach indicators (public_facility_kind).
const (
	KindShelter = "应急避难场所"
	KindClinic  = "卫生室"
	KindCentre  = "便民服务中心"
)

// DefaultConfig: households are registered parcels; reach 1,000 m to a
// shelter (应急避难场所 服务半径, rule of thumb of GB 51143 for 紧急避难场所
// in towns, not a rural norm), 2,500 m to a 卫生室 and a 便民服务中心 (the
// "15-minute" walk of 乡村振兴 service circles, [GK]); 消防车道 4 m (GB
// 50016-2014 第 7.1.8 条); 50 m to a water pipe (a service connection's
// usual length, [GK]); 20 m from the map's edge for dead ends.
var DefaultConfig = Config{
	HouseholdStatuses:  []string{"已登记"},
	MaxHomesteadAreaM2: 330,
	ReachM:             map[string]float64{KindShelter: 1000, KindClinic: 2500, KindCentre: 2500},
	FireLaneWidthM:     4,
	PipeReachM:         50,
	DeadEndBorderM:     20,
}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if len(c.HouseholdStatuses) == 0 {
		c.HouseholdStatuses = d.HouseholdStatuses
	}
	if c.MaxHomesteadAreaM2 <= 0 {
		c.MaxHomesteadAreaM2 = d.MaxHomesteadAreaM2
	}
	r := map[string]float64{}
	for k, v := range d.ReachM {
		r[k] = v
	}
	for k, v := range c.ReachM {
		r[k] = v
	}
	c.ReachM = r
	if c.FireLaneWidthM <= 0 {
		c.FireLaneWidthM = d.FireLaneWidthM
	}
	if c.PipeReachM <= 0 {
		c.PipeReachM = d.PipeReachM
	}
	if c.DeadEndBorderM <= 0 {
		c.DeadEndBorderM = d.DeadEndBorderM
	}
	return c
}

// Service computes and caches the indicators.
type Service struct {
	pool *pgxpool.Pool
	cat  *layers.Catalog
	cfg  Config

	mu    sync.Mutex
	cache map[string]*Report // cacheKey|date → report (memory copy of indicator_cache)
}

// NewService returns a Service over pool (its statement_timeout bounds a
// computation: give it the download class's pool) and the catalog.
func NewService(pool *pgxpool.Pool, cat *layers.Catalog, cfg Config) *Service {
	return &Service{pool: pool, cat: cat, cfg: cfg.withDefaults(), cache: map[string]*Report{}}
}

// Config returns the configuration in force.
func (s *Service) Config() Config { return s.cfg }

// kind of aggregation of an indicator's value from numerator and
// denominator.
type kind int

const (
	share      kind = iota // Value = 100 · N / D (%), 0 when D = 0
	count                  // Value = N
	ratio                  // Value = N / D, 0 when D = 0
	difference             // Value = N − D
)

// indicator is one definition with the SQL that computes it.
type indicator struct {
	Definition
	kind kind
	// layers the computation reads (catalog ids); fields "layer.field" it
	// needs. Missing ones skip the indicator.
	layers []string
	fields []string
	// compute returns rows (village, hamlet, numerator, denominator); the
	// township total is the sum over villages (hamlet rows excluded).
	compute func(ctx context.Context, e *env) ([]Value, error)
	// features returns a GeoJSON FeatureCollection of the listed items
	// of one village ("" = all).
	features func(ctx context.Context, e *env, village string) ([]byte, error)
	// township, if set, adjusts the township total's numerator and
	// denominator (a township-wide target).
	township func(e *env, n, d float64) (float64, float64)
}

// registry is every indicator in display order (displayOrder: the
// sections of the 实施方案: roads, water, services, house safety and
// environment, farmland, homesteads).
var registry []*indicator

var displayOrder = []string{
	"road_lit_share", "hamlet_hardened_road", "dead_ends", "fire_lane_hamlets",
	"water_connected_share", "water_beyond_pipe", "water_source_zone_households",
	"reach_shelter", "reach_clinic", "reach_service_centre",
	"dangerous_houses", "hazard_exposed_households", "toilet_done_share",
	"cultivated_land_area", "pbf_area", "cultivated_land_change",
	"homestead_approvals", "homestead_idle", "homestead_avg_area", "homestead_over_limit",
}

func register(i *indicator) {
	registry = append(registry, i)
	rank := func(k string) int {
		for n, o := range displayOrder {
			if o == k {
				return n
			}
		}
		return len(displayOrder)
	}
	sort.SliceStable(registry, func(a, b int) bool { return rank(registry[a].Key) < rank(registry[b].Key) })
}

// Definitions returns every indicator's definition in display order.
func Definitions() []Definition {
	out := make([]Definition, len(registry))
	for i, ind := range registry {
		out[i] = ind.Definition
	}
	return out
}

func lookup(key string) *indicator {
	for _, i := range registry {
		if i.Key == key {
			return i
		}
	}
	return nil
}

// env is one computation: its transaction, date and layer sources.
type env struct {
	s        *Service
	tx       pgx.Tx
	at       time.Time // the instant (end of the day, or now)
	current  bool      // read the tables themselves
	plane    int       // EPSG of the measuring plane
	settings map[string]float64
	village  string // "" all villages; else restrict where cheap
	// unchanged are the layers with no edit after the instant: read from
	// their tables (with their indexes) even for a past day.
	unchanged map[string]bool
	// built marks the temporary tables built in this transaction.
	built map[string]bool
}

// src is the FROM item of a layer (without alias).
func (e *env) src(l *layers.Layer) string {
	if e.current || e.unchanged[l.ID] {
		return l.QualifiedTable()
	}
	return features.AsOfRelation(l, e.at)
}

// layer returns the catalog layer id (present: checked before compute).
func (e *env) layer(id string) *layers.Layer {
	l, _ := e.s.cat.Layer(id)
	return l
}

// tbl is src of a layer id.
func (e *env) tbl(id string) string { return e.src(e.layer(id)) }

// setting returns a target or distance (0 when unset).
func (e *env) setting(key string) float64 { return e.settings[key] }

// hasField reports whether the catalog has layer.field.
func (s *Service) hasField(layer, field string) bool {
	l, ok := s.cat.Layer(layer)
	if !ok {
		return false
	}
	_, ok = l.Field(field)
	return ok
}

// available reports why ind cannot be computed with this catalog ("" = it can).
func (s *Service) available(ind *indicator) string {
	for _, id := range ind.layers {
		if _, ok := s.cat.Layer(id); !ok {
			return "the catalog has no layer " + id
		}
	}
	for _, f := range ind.fields {
		l, fld, _ := strings.Cut(f, ".")
		if !s.hasField(l, fld) {
			return "the catalog has no field " + f
		}
	}
	if ind.Key == "road_lit_share" && s.cfg.Lighting == nil {
		return "no lighting definition (roads, streetlights, control zones and the village construction boundary)"
	}
	return ""
}

// dayInstant returns the end of asOf's day in China time, and whether that
// instant is now or later (the current tables answer).
func dayInstant(asOf time.Time) (day time.Time, at time.Time, current bool) {
	now := time.Now()
	if asOf.IsZero() {
		asOf = now
	}
	d := asOf.In(China)
	day = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, China)
	at = day.AddDate(0, 0, 1)
	return day, at, !at.Before(now)
}

// readLayers lists the layers the computable indicators read.
func (s *Service) readLayers() []string {
	set := map[string]bool{}
	for _, ind := range registry {
		if s.available(ind) != "" {
			continue
		}
		for _, l := range ind.layers {
			set[l] = true
		}
	}
	if s.cfg.Lighting != nil {
		for _, l := range s.cfg.Lighting.Versions() {
			set[l] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// cacheKey reads the layer versions and the settings and returns the key
// of a report of them.
func (s *Service) cacheKey(ctx context.Context, q pgx.Tx) (string, map[string]int64, map[string]float64, error) {
	ids := s.readLayers()
	versions := map[string]int64{}
	rows, err := q.Query(ctx, `SELECT layer, version FROM villageplan.layer_version WHERE layer = ANY($1)`, ids)
	if err != nil {
		return "", nil, nil, fmt.Errorf("layer versions: %w", err)
	}
	for rows.Next() {
		var l string
		var v int64
		if err := rows.Scan(&l, &v); err != nil {
			return "", nil, nil, err
		}
		versions[l] = v
	}
	if err := rows.Err(); err != nil {
		return "", nil, nil, err
	}
	settings, err := s.settings(ctx, q)
	if err != nil {
		return "", nil, nil, err
	}
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%s:%d,", id, versions[id])
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%g;", k, settings[k])
	}
	cfg, _ := json.Marshal(struct {
		C Config
		L *Lighting
	}{s.cfg, s.cfg.Lighting})
	h.Write(cfg)
	for _, ind := range registry {
		fmt.Fprintf(h, "%s|%s;", ind.Key, s.available(ind))
	}
	defs, _ := json.Marshal(Definitions())
	h.Write(defs)
	fmt.Fprintf(h, "revision %d", Revision)
	return hex.EncodeToString(h.Sum(nil))[:32], versions, settings, nil
}

// settings returns the township-wide targets and distances: the
// administrator's rows of indicator_targets over the configured defaults.
// Village rows are read by the indicators that use them.
func (s *Service) settings(ctx context.Context, q pgx.Tx) (map[string]float64, error) {
	out := map[string]float64{}
	for k, v := range s.cfg.ReachM {
		out["reach_m:"+k] = v
	}
	rows, err := q.Query(ctx, `SELECT key || CASE WHEN village = '' THEN '' ELSE '@' || village END, value FROM villageplan.indicator_targets`)
	if err != nil {
		return nil, fmt.Errorf("indicator targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v float64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Compute returns every indicator for every village, its 自然屯 and the
// township total ("" village) as of the end of asOf's day (China time;
// zero = today), from the cache when no layer it reads changed since.
func (s *Service) Compute(ctx context.Context, asOf time.Time) (*Report, error) {
	return s.compute(ctx, asOf)
}

// Village returns the values of one village (its own and its 自然屯's) as
// of asOf, from the township report (computed once, then cached).
// ErrUnknownVillage when no village has the code at that date.
func (s *Service) Village(ctx context.Context, xzqdm string, asOf time.Time) (*Report, error) {
	r, err := s.compute(ctx, asOf)
	if err != nil {
		return nil, err
	}
	out := *r
	out.Values = nil
	for _, v := range r.Values {
		if v.Village == xzqdm {
			out.Values = append(out.Values, v)
		}
	}
	if len(out.Values) == 0 {
		return nil, ErrUnknownVillage
	}
	return &out, nil
}

func (s *Service) begin(ctx context.Context) (pgx.Tx, error) {
	return s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
}

// newEnv opens the transaction of one computation: the instant, the
// history check for a past day, the measuring plane.
func (s *Service) newEnv(ctx context.Context, tx pgx.Tx, asOf time.Time) (*env, time.Time, error) {
	day, at, current := dayInstant(asOf)
	e := &env{s: s, tx: tx, at: at, current: current, built: map[string]bool{}, unchanged: map[string]bool{}}
	if !current {
		for _, id := range s.readLayers() {
			var same bool
			if err := tx.QueryRow(ctx, `SELECT isempty(villageplan.changed_between($1, $2, 'infinity'))`, id, at).Scan(&same); err != nil {
				return nil, day, fmt.Errorf("changes of %s: %w", id, err)
			}
			e.unchanged[id] = same
			if same {
				continue // nothing inserted, changed or deleted since: the table is that day's state
			}
			var start *time.Time
			if err := tx.QueryRow(ctx, `SELECT villageplan.history_start($1)`, id).Scan(&start); err != nil {
				return nil, day, fmt.Errorf("history start of %s: %w", id, err)
			}
			if start == nil || start.After(at) {
				return nil, day, &ErrBeforeHistory{Layer: id, Date: day}
			}
		}
	}
	// The measuring plane: the 3-degree Gauss-Krüger zone of the villages'
	// centre (CM 126°E for 双阳区), as siting measures.
	lon := 126.0
	if vl, ok := s.cat.Layer("villages"); ok {
		var c *float64
		if err := tx.QueryRow(ctx, `SELECT ST_X(ST_Centroid(ST_Extent(geom)::geometry)) FROM `+vl.QualifiedTable()).Scan(&c); err != nil {
			return nil, day, fmt.Errorf("village extent: %w", err)
		}
		if c != nil {
			lon = *c
		}
	}
	plane, err := crs.EPSGFor3DegreeZone(crs.GKZone3ForLongitude(lon), false)
	if err != nil {
		return nil, day, err
	}
	e.plane = plane
	// No JIT: every statement here runs once over a few hundred thousand
	// rows with PostGIS functions of high declared cost, so the planner
	// compiles each one (up to 1.8 s a statement on the county sample) for
	// no gain. Memory for the sorts and hashes of 300,000 geometries, which
	// otherwise spill to disk. Neither changes a result.
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = villageplan, public; SET LOCAL jit = off; SET LOCAL work_mem = '128MB'`); err != nil {
		return nil, day, err
	}
	// Local buffers for the temporary tables (ig_parcel alone is ~100 MB):
	// with the default 8 MB every one is written out and read back, and its
	// index builds take 3× as long. Settable only before the session's
	// first temporary table, hence the savepoint; a session that has had
	// one keeps what it had (this setting, when it was set here first).
	if sp, err := tx.Begin(ctx); err == nil {
		if _, err := sp.Exec(ctx, `SET LOCAL temp_buffers = '256MB'`); err != nil {
			_ = sp.Rollback(ctx)
		} else if err := sp.Commit(ctx); err != nil {
			return nil, day, err
		}
	} else {
		return nil, day, err
	}
	return e, day, nil
}

func (s *Service) compute(ctx context.Context, asOf time.Time) (*Report, error) {
	t0 := time.Now()
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	e, day, err := s.newEnv(ctx, tx, asOf)
	if err != nil {
		return nil, err
	}
	key, versions, settings, err := s.cacheKey(ctx, tx)
	if err != nil {
		return nil, err
	}
	e.settings = settings
	mkey := key + "|" + day.Format(time.DateOnly)
	s.mu.Lock()
	if r, ok := s.cache[mkey]; ok {
		s.mu.Unlock()
		c := *r
		c.Cached = true
		return &c, nil
	}
	s.mu.Unlock()
	var raw []byte
	err = tx.QueryRow(ctx, `SELECT report FROM villageplan.indicator_cache WHERE cache_key = $1 AND as_of = $2`, key, day).Scan(&raw)
	if err == nil {
		var r Report
		if err := json.Unmarshal(raw, &r); err == nil {
			s.remember(mkey, &r)
			r.Cached = true
			return &r, nil
		}
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("indicator cache: %w", err)
	}

	r := &Report{AsOf: day, Versions: versions, Settings: settings, Skipped: map[string]string{}, TimingsMS: map[string]int64{}}
	villages, err := e.villages(ctx)
	if err != nil {
		return nil, err
	}
	for _, ind := range registry {
		if why := s.available(ind); why != "" {
			r.Skipped[ind.Key] = why
			continue
		}
		ti := time.Now()
		err := e.prepare(ctx, ind)
		var vals []Value
		if err == nil {
			vals, err = ind.compute(ctx, e)
		}
		r.TimingsMS[ind.Key] = time.Since(ti).Milliseconds()
		if s.cfg.Logger != nil {
			s.cfg.Logger.Debug("indicator computed", "key", ind.Key, "ms", r.TimingsMS[ind.Key], "err", err)
		}
		var skip *errSkip
		if errors.As(err, &skip) {
			r.Skipped[ind.Key] = skip.why
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("indicator %s: %w", ind.Key, err)
		}
		r.Values = append(r.Values, finish(e, ind, vals, villages)...)
	}
	r.ComputeMS = time.Since(t0).Milliseconds()
	raw, err = json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM villageplan.indicator_cache WHERE computed_at < now() - interval '1 day' OR (as_of = $2 AND cache_key <> $1)`, key, day); err != nil {
		return nil, fmt.Errorf("indicator cache: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO villageplan.indicator_cache (cache_key, as_of, report, compute_ms) VALUES ($1, $2, $3, $4)
ON CONFLICT (cache_key, as_of) DO UPDATE SET report = EXCLUDED.report, computed_at = now(), compute_ms = EXCLUDED.compute_ms`,
		key, day, raw, r.ComputeMS); err != nil {
		return nil, fmt.Errorf("indicator cache: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("indicator cache: %w", err)
	}
	s.remember(mkey, r)
	return r, nil
}

func (s *Service) remember(k string, r *Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) > 64 {
		s.cache = map[string]*Report{}
	}
	s.cache[k] = r
}

// villages returns the village codes as of the env's instant, in order.
func (e *env) villages(ctx context.Context) ([]string, error) {
	var out []string
	if _, ok := e.s.cat.Layer("villages"); !ok {
		return nil, nil
	}
	rows, err := e.tx.Query(ctx, `SELECT DISTINCT xzqdm FROM `+e.tbl("villages")+` v ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("villages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// finish fills the key and the value of each row, adds a zero row for
// every village without one and the township total (sum over the
// villages' numerators and denominators; rows of no village are part of
// the total only).
func finish(e *env, ind *indicator, rows []Value, villages []string) []Value {
	have := map[string]bool{}
	var tn, td float64
	for i := range rows {
		rows[i].Key = ind.Key
		if rows[i].Hamlet == "" {
			have[rows[i].Village] = true
			tn += rows[i].Numerator
			td += rows[i].Denominator
		}
	}
	for _, v := range villages {
		if !have[v] {
			rows = append(rows, Value{Key: ind.Key, Village: v})
		}
	}
	out := rows[:0]
	for _, r := range rows {
		if r.Village == "" && r.Hamlet == "" {
			continue // a row of no village: counted in the total only
		}
		out = append(out, r)
	}
	if ind.township != nil {
		tn, td = ind.township(e, tn, td)
	}
	out = append(out, Value{Key: ind.Key, Numerator: tn, Denominator: td})
	for i := range out {
		// Lengths and areas to the centimetre / cm² (the Web-Mercator
		// round trip of the lighting SQL leaves micrometre noise).
		out[i].Numerator, out[i].Denominator = round(out[i].Numerator, 2), round(out[i].Denominator, 2)
		out[i].Value = ind.value(out[i].Numerator, out[i].Denominator)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Village != out[j].Village {
			return out[i].Village < out[j].Village
		}
		return out[i].Hamlet < out[j].Hamlet
	})
	return out
}

func (ind *indicator) value(n, d float64) float64 {
	switch ind.kind {
	case share:
		if d == 0 {
			return 0
		}
		return round(100*n/d, 2)
	case ratio:
		if d == 0 {
			return 0
		}
		return round(n/d, 2)
	case difference:
		return round(n-d, 2)
	}
	return round(n, 2)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// exec runs one statement of the computation, logging its time at debug
// level (the first line of the statement) when a Logger is configured.
func (e *env) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	t0 := time.Now()
	tag, err := e.tx.Exec(ctx, sql, args...)
	if l := e.s.cfg.Logger; l != nil {
		first, _, _ := strings.Cut(sql, "\n")
		l.Debug("indicator statement", "ms", time.Since(t0).Milliseconds(), "sql", first)
	}
	return tag, err
}

// prepare builds the temporary tables an indicator reads (ig_parcel for
// every one reading homesteads).
func (e *env) prepare(ctx context.Context, ind *indicator) error {
	for _, l := range ind.layers {
		if l == "homesteads" {
			return e.parcels(ctx)
		}
	}
	return nil
}

// scanValues reads rows of (village, hamlet, numerator, denominator).
func scanValues(rows pgx.Rows) ([]Value, error) {
	defer rows.Close()
	var out []Value
	for rows.Next() {
		var v Value
		var village, hamlet *string
		var n, d *float64
		if err := rows.Scan(&village, &hamlet, &n, &d); err != nil {
			return nil, err
		}
		if village != nil {
			v.Village = *village
		}
		if hamlet != nil {
			v.Hamlet = *hamlet
		}
		if n != nil {
			v.Numerator = *n
		}
		if d != nil {
			v.Denominator = *d
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (e *env) values(ctx context.Context, sql string, args ...any) ([]Value, error) {
	t0 := time.Now()
	rows, err := e.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	v, err := scanValues(rows)
	if l := e.s.cfg.Logger; l != nil {
		first, _, _ := strings.Cut(sql, "\n")
		l.Debug("indicator query", "ms", time.Since(t0).Milliseconds(), "sql", first)
	}
	return v, err
}

// Features returns the GeoJSON FeatureCollection (RFC 7946, CRS84) of the
// items behind indicator key for one village ("" = every village) as of
// asOf: unlit segments, households beyond reach, dead ends, exposed
// households … Properties carry feature ids, parcel codes and measures,
// never personal fields. ErrUnknownIndicator when the key has no list.
func (s *Service) Features(ctx context.Context, key, village string, asOf time.Time) ([]byte, error) {
	ind := lookup(key)
	if ind == nil || ind.features == nil {
		return nil, ErrUnknownIndicator
	}
	if why := s.available(ind); why != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrUnknownIndicator, key, why)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	e, _, err := s.newEnv(ctx, tx, asOf)
	if err != nil {
		return nil, err
	}
	if e.settings, err = s.settings(ctx, tx); err != nil {
		return nil, err
	}
	e.village = village
	if err := e.prepare(ctx, ind); err != nil {
		return nil, err
	}
	return ind.features(ctx, e, village)
}
