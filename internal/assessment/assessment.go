// Package assessment is the 考核评估 of issue 14: a score per village and
// year from the 乡村建设 indicators (package indicators) and the
// completion of the year's construction projects (package projects), with
// weights set by the administrator, a ranking, and the change against the
// previous closed year.
//
// It reads only the two interfaces of the issue-14 contract —
// indicators.Service.Compute and projects.Service.Summary (see
// [Indicators] and [Projects]) — plus the names and outlines of the
// villages from the layer catalog.
//
// # Scoring
//
// Keys are the indicator keys of indicators.Definitions() and the project
// keys [KeyProjectCompletion] (项目完成率: completed ÷ approved projects of
// the year × 100 %) and [KeyBudgetExecution] (资金执行率: spent ÷ budget ×
// 100 %, at most 100 %). For each key k with weight w_k > 0 and each
// village v that has a value x_k(v) (a village value of the report, not a
// 自然屯 or township value), the part score s_k(v) ∈ [0, 100] is
//
//   - for a share (unit "%"): x when a higher value is better, 100 − x
//     when lower is better, clamped to 0…100;
//   - for any other unit (户, 个, m, m² …): min–max over the villages that
//     have a value, 100 × (x − min) ÷ (max − min) when higher is better,
//     100 × (max − x) ÷ (max − min) when lower is better, and 100 for
//     every village when all values are equal.
//
// The score is the weighted mean over the keys the village has a value
// for, Σ w_k s_k(v) ÷ Σ w_k, rounded to 0.01 (half away from zero); a
// village with no weighted value has no score. Villages are ranked by
// score, highest first; equal scores share a rank (1, 1, 3) and are listed
// by village code; villages without a score come last without a rank.
//
// # Years
//
// The assessment of year Y reads the indicators as of 31 December of Y
// (today while Y is running) and the projects of Y. Weights are stored per
// year (villageplan.assessment_weights); a year without stored weights
// uses [DefaultWeights]. When the administrator closes a year its result
// is stored whole (villageplan.assessment_snapshots) and served from then
// on; its weights can no longer change, and the result of Y+1 shows each
// village's change against it.
package assessment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/indicators"
	"villageplan/internal/projects"
	"villageplan/layers"
)

// Project keys (besides the indicator keys).
const (
	// KeyProjectCompletion is 项目完成率: completed ÷ approved projects of
	// the year × 100 % (no value without a project).
	KeyProjectCompletion = "project_completion"
	// KeyBudgetExecution is 资金执行率: spent ÷ budget × 100 %, at most
	// 100 % (no value without a budget).
	KeyBudgetExecution = "budget_execution"
)

// Indicators is the part of indicators.Service the assessment uses.
type Indicators interface {
	Compute(ctx context.Context, asOf time.Time) (*indicators.Report, error)
}

// Projects is the part of projects.Service the assessment uses.
type Projects interface {
	Summary(ctx context.Context, year int) ([]projects.VillageSummary, error)
}

// Key describes one scored key: an indicator or a project key.
type Key struct {
	Key            string `json:"key"`
	TitleZH        string `json:"title_zh"`
	TitleEN        string `json:"title_en"`
	Unit           string `json:"unit"`
	HigherIsBetter bool   `json:"higher_is_better"`
	FormulaZH      string `json:"formula_zh"`
	FormulaEN      string `json:"formula_en"`
}

// Keys returns every key a weight may name: the indicator definitions in
// their display order, then the project keys.
func Keys() []Key {
	var out []Key
	for _, d := range indicators.Definitions() {
		out = append(out, Key{Key: d.Key, TitleZH: d.TitleZH, TitleEN: d.TitleEN, Unit: d.Unit, HigherIsBetter: d.HigherIsBetter,
			FormulaZH: d.FormulaZH, FormulaEN: d.FormulaEN})
	}
	return append(out,
		Key{Key: KeyProjectCompletion, TitleZH: "项目完成率", TitleEN: "Projects completed", Unit: "%", HigherIsBetter: true,
			FormulaZH: "本年度已审核项目中阶段为“完成”的个数 ÷ 已审核项目个数 × 100%",
			FormulaEN: "approved projects of the year in phase 完成 ÷ approved projects of the year × 100 %"},
		Key{Key: KeyBudgetExecution, TitleZH: "资金执行率", TitleEN: "Budget spent", Unit: "%", HigherIsBetter: true,
			FormulaZH: "本年度已审核项目已支出资金 ÷ 预算资金 × 100%（不超过 100%）",
			FormulaEN: "spent ÷ budget of the approved projects of the year × 100 % (at most 100 %)"})
}

// KeyByName returns the key description of name.
func KeyByName(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Key == name {
			return k, true
		}
	}
	return Key{}, false
}

// Weight is one key's weight (≥ 0, at most 1000; only ratios matter).
type Weight struct {
	Key    string  `json:"key"`
	Weight float64 `json:"weight"`
}

// DefaultWeights are used for a year whose weights the administrator has
// not set: the plan's tasks roughly equally — roads and lighting, water,
// reach of services, house safety and sanitation, projects. Keys the
// indicators do not define are left out by [Service.Weights].
var DefaultWeights = []Weight{
	{"road_lit_share", 10}, {"hamlet_hardened_road", 10}, {"fire_lane_hamlets", 5},
	{"water_connected_share", 10}, {"reach_shelter", 10}, {"reach_clinic", 5}, {"reach_service_centre", 5},
	{"toilet_done_share", 10}, {"dangerous_houses", 10}, {"homestead_idle", 5},
	{KeyProjectCompletion, 15}, {KeyBudgetExecution, 5},
}

// WeightError is a weight set the store refuses: Field names the member
// ("weights[2].key"), ZH and EN say why.
type WeightError struct {
	Field  string
	ZH, EN string
}

func (e *WeightError) Error() string { return e.Field + ": " + e.EN }

// Errors of the service.
var (
	// ErrClosed: the year is closed (its weights and result are fixed).
	ErrClosed = errors.New("assessment year closed")
	// ErrUnknownVillage: no village of the result has the code.
	ErrUnknownVillage = errors.New("unknown village")
)

// MinYear and MaxYear bound the assessment years.
const MinYear, MaxYear = 2000, 2100

// ValidateWeights checks a weight set: at least one weight, known keys,
// each key once, weights finite in 0…1000, at least one above 0.
func ValidateWeights(ws []Weight) error {
	if len(ws) == 0 {
		return &WeightError{"weights", "至少一项权重", "at least one weight"}
	}
	seen := map[string]bool{}
	positive := false
	for i, w := range ws {
		f := fmt.Sprintf("weights[%d]", i)
		if _, ok := KeyByName(w.Key); !ok {
			return &WeightError{f + ".key", fmt.Sprintf("未知的指标 %q（GET /assessment/keys 列出全部）", w.Key),
				fmt.Sprintf("unknown key %q (GET /assessment/keys lists them)", w.Key)}
		}
		if seen[w.Key] {
			return &WeightError{f + ".key", fmt.Sprintf("指标 %s 重复", w.Key), fmt.Sprintf("key %s given twice", w.Key)}
		}
		seen[w.Key] = true
		if !(w.Weight >= 0 && w.Weight <= 1000) {
			return &WeightError{f + ".weight", "权重须为 0 至 1000 之间的数", "a weight must be a number from 0 to 1000"}
		}
		positive = positive || w.Weight > 0
	}
	if !positive {
		return &WeightError{"weights", "至少一项权重须大于 0", "at least one weight must be above 0"}
	}
	return nil
}

// Part is one key of a village's score.
type Part struct {
	Key    string  `json:"key"`
	Weight float64 `json:"weight"`
	// Value is the village's figure (share in %, count …); nil when the
	// village has none (the key does not count for it).
	Value *float64 `json:"value"`
	// Score is the part score 0–100, rounded to 0.01; nil without a value.
	Score *float64 `json:"score"`
}

// VillageScore is one village's assessment.
type VillageScore struct {
	Village string `json:"village"` // XZQDM, 12 digits
	Name    string `json:"name"`
	// Score is 0–100 rounded to 0.01; nil when no weighted key has a
	// value for the village.
	Score *float64 `json:"score"`
	// Rank is 1 for the best; 0 without a score.
	Rank  int    `json:"rank"`
	Parts []Part `json:"parts"`
	// PrevScore and PrevRank are the village's result in the previous
	// closed year (nil/0 when there is none); Change = Score − PrevScore.
	PrevScore *float64 `json:"prev_score"`
	PrevRank  int      `json:"prev_rank"`
	Change    *float64 `json:"change"`
}

// Result is the assessment of one year.
type Result struct {
	Year int `json:"year"`
	// AsOf is the day the indicators are read as of (China time).
	AsOf string `json:"as_of"`
	// Closed is true for a stored snapshot; ClosedAt/ClosedBy say when
	// and by whom.
	Closed   bool       `json:"closed"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
	ClosedBy string     `json:"closed_by,omitempty"`
	// Weights used, and whether they are DefaultWeights.
	Weights        []Weight `json:"weights"`
	DefaultWeights bool     `json:"default_weights"`
	Keys           []Key    `json:"keys"` // the weighted keys, in Keys() order
	// PreviousYear is the closed year compared with (0: none).
	PreviousYear int            `json:"previous_year"`
	Villages     []VillageScore `json:"villages"` // in rank order
}

// Village returns the score of one village.
func (r *Result) Village(code string) (*VillageScore, bool) {
	for i := range r.Villages {
		if r.Villages[i].Village == code {
			return &r.Villages[i], true
		}
	}
	return nil, false
}

// round2 rounds half away from zero to 0.01.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ptr(x float64) *float64 { return &x }

// projectValues returns the project keys' values per village.
func projectValues(sums []projects.VillageSummary) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, s := range sums {
		m := map[string]float64{}
		if n := s.Planned + s.Started + s.Operating + s.Completed; n > 0 {
			m[KeyProjectCompletion] = 100 * float64(s.Completed) / float64(n)
		}
		if s.BudgetYuan > 0 {
			m[KeyBudgetExecution] = math.Min(100, 100*s.SpentYuan/s.BudgetYuan)
		}
		out[s.Village] = m
	}
	return out
}

// Score computes the scores and ranks (see the package comment) of the
// villages in names (code → name) from a report, the project summaries
// and the weights. Keys with weight 0 or unknown to Keys() are left out.
func Score(weights []Weight, rep *indicators.Report, sums []projects.VillageSummary, names map[string]string) []VillageScore {
	vals := map[string]map[string]float64{} // village → key → value
	if rep != nil {
		for _, v := range rep.Values {
			if v.Village == "" || v.Hamlet != "" || math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
				continue
			}
			if vals[v.Village] == nil {
				vals[v.Village] = map[string]float64{}
			}
			vals[v.Village][v.Key] = v.Value
		}
	}
	for code, m := range projectValues(sums) {
		if vals[code] == nil {
			vals[code] = map[string]float64{}
		}
		for k, x := range m {
			vals[code][k] = x
		}
	}
	codes := make([]string, 0, len(names))
	for c := range names {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	type wk struct {
		Key            string
		Unit           string
		HigherIsBetter bool
		w              float64
	}
	var keys []wk
	wmap := map[string]float64{}
	for _, w := range weights {
		wmap[w.Key] = w.Weight
	}
	for _, k := range Keys() {
		if w := wmap[k.Key]; w > 0 {
			keys = append(keys, wk{k.Key, k.Unit, k.HigherIsBetter, w})
		}
	}
	// min and max per non-share key over the villages
	lo, hi := map[string]float64{}, map[string]float64{}
	for _, k := range keys {
		first := true
		for _, c := range codes {
			x, ok := vals[c][k.Key]
			if !ok {
				continue
			}
			if first || x < lo[k.Key] {
				lo[k.Key] = x
			}
			if first || x > hi[k.Key] {
				hi[k.Key] = x
			}
			first = false
		}
	}
	out := make([]VillageScore, 0, len(codes))
	for _, c := range codes {
		vs := VillageScore{Village: c, Name: names[c], Parts: []Part{}}
		sum, wsum := 0.0, 0.0
		for _, k := range keys {
			p := Part{Key: k.Key, Weight: k.w}
			if x, ok := vals[c][k.Key]; ok {
				var s float64
				switch {
				case k.Unit == "%":
					s = x
					if !k.HigherIsBetter {
						s = 100 - x
					}
					s = math.Max(0, math.Min(100, s))
				case hi[k.Key] == lo[k.Key]:
					s = 100
				case k.HigherIsBetter:
					s = 100 * (x - lo[k.Key]) / (hi[k.Key] - lo[k.Key])
				default:
					s = 100 * (hi[k.Key] - x) / (hi[k.Key] - lo[k.Key])
				}
				p.Value, p.Score = ptr(x), ptr(round2(s))
				sum += k.w * s
				wsum += k.w
			}
			vs.Parts = append(vs.Parts, p)
		}
		if wsum > 0 {
			vs.Score = ptr(round2(sum / wsum))
		}
		out = append(out, vs)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Score, out[j].Score
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case *a != *b:
			return *a > *b
		}
		return out[i].Village < out[j].Village
	})
	for i := range out {
		if out[i].Score == nil {
			continue
		}
		if i > 0 && out[i-1].Score != nil && *out[i-1].Score == *out[i].Score {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}

// compare fills the previous year's score, rank and change from prev.
func compare(cur []VillageScore, prev *Result) {
	if prev == nil {
		return
	}
	for i := range cur {
		p, ok := prev.Village(cur[i].Village)
		if !ok || p.Score == nil {
			continue
		}
		cur[i].PrevScore, cur[i].PrevRank = ptr(*p.Score), p.Rank
		if cur[i].Score != nil {
			cur[i].Change = ptr(round2(*cur[i].Score - *p.Score))
		}
	}
}

// Service computes, stores and reads assessments.
type Service struct {
	pool *pgxpool.Pool
	cat  *layers.Catalog
	ind  Indicators
	proj Projects
	now  func() time.Time
	// computing serialises the indicator computations of this service: a
	// dashboard asks for the result, the map and the history at once, and
	// two cold indicators.Compute of the same day in parallel would both
	// compute and race on the report cache (REPEATABLE READ upserts of the
	// same key: one fails with a serialization error). The second caller
	// waits and then reads the cache.
	computing sync.Mutex
}

// NewService returns a Service over pool reading the indicators and the
// projects through ind and proj.
func NewService(pool *pgxpool.Pool, cat *layers.Catalog, ind Indicators, proj Projects) *Service {
	return &Service{pool: pool, cat: cat, ind: ind, proj: proj, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// AsOf is the day the indicators of year are read as of: 31 December of
// year, or today (China time) while the year runs.
func (s *Service) AsOf(year int) time.Time {
	today := s.now().In(indicators.China)
	end := time.Date(year, 12, 31, 0, 0, 0, 0, indicators.China)
	t := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, indicators.China)
	if t.Before(end) {
		return t
	}
	return end
}

// CurrentYear is the running year in China time.
func (s *Service) CurrentYear() int { return s.now().In(indicators.China).Year() }

// Weights returns the weights of year and whether they are the defaults.
func (s *Service) Weights(ctx context.Context, year int) ([]Weight, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, weight FROM villageplan.assessment_weights WHERE year = $1`, year)
	if err != nil {
		return nil, false, fmt.Errorf("assessment weights %d: %w", year, err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Weight, error) {
		var w Weight
		err := r.Scan(&w.Key, &w.Weight)
		return w, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("assessment weights %d: %w", year, err)
	}
	def := len(got) == 0
	if def {
		got = DefaultWeights
	}
	// Keys() order; keys unknown to this build are left out.
	order := map[string]int{}
	for i, k := range Keys() {
		order[k.Key] = i
	}
	out := []Weight{}
	for _, w := range got {
		if _, ok := order[w.Key]; ok {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i].Key] < order[out[j].Key] })
	return out, def, nil
}

// SetWeights replaces the weights of year in tx (after ValidateWeights;
// a *WeightError names the first bad member). A closed year gives
// ErrClosed.
func SetWeights(ctx context.Context, tx pgx.Tx, year int, ws []Weight, by string) error {
	if err := ValidateWeights(ws); err != nil {
		return err
	}
	// Lock the year against a concurrent close.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('villageplan.assessment'), $1)`, year); err != nil {
		return err
	}
	var closed bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM villageplan.assessment_snapshots WHERE year = $1)`, year).Scan(&closed); err != nil {
		return err
	}
	if closed {
		return ErrClosed
	}
	if _, err := tx.Exec(ctx, `DELETE FROM villageplan.assessment_weights WHERE year = $1`, year); err != nil {
		return err
	}
	for _, w := range ws {
		if _, err := tx.Exec(ctx, `INSERT INTO villageplan.assessment_weights (year, key, weight, updated_by) VALUES ($1, $2, $3, $4)`,
			year, w.Key, w.Weight, by); err != nil {
			return fmt.Errorf("assessment weight %s: %w", w.Key, err)
		}
	}
	return nil
}

// VillageNames returns code → name of the villages layer.
func (s *Service) VillageNames(ctx context.Context) (map[string]string, error) {
	l, ok := s.cat.Layer("villages")
	if !ok {
		return map[string]string{}, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT xzqdm::text, coalesce(xzqmc, '') FROM `+l.QualifiedTable()+` WHERE xzqdm IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("village names: %w", err)
	}
	out := map[string]string{}
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// snapshot reads the stored result of a closed year (nil when open).
func (s *Service) snapshot(ctx context.Context, year int) (*Result, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT result FROM villageplan.assessment_snapshots WHERE year = $1`, year).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("assessment snapshot %d: %w", year, err)
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("assessment snapshot %d: %w", year, err)
	}
	return &r, nil
}

// previous returns the latest closed year before year (nil: none).
func (s *Service) previous(ctx context.Context, year int) (*Result, error) {
	var prev int
	err := s.pool.QueryRow(ctx, `SELECT year FROM villageplan.assessment_snapshots WHERE year < $1 ORDER BY year DESC LIMIT 1`, year).Scan(&prev)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.snapshot(ctx, prev)
}

// Result returns the assessment of year: the snapshot of a closed year,
// otherwise computed now.
func (s *Service) Result(ctx context.Context, year int) (*Result, error) {
	if snap, err := s.snapshot(ctx, year); err != nil || snap != nil {
		return snap, err
	}
	return s.compute(ctx, year)
}

func (s *Service) compute(ctx context.Context, year int) (*Result, error) {
	ws, def, err := s.Weights(ctx, year)
	if err != nil {
		return nil, err
	}
	asOf := s.AsOf(year)
	s.computing.Lock()
	rep, err := s.ind.Compute(ctx, asOf)
	s.computing.Unlock()
	if err != nil {
		return nil, fmt.Errorf("indicators as of %s: %w", asOf.Format(time.DateOnly), err)
	}
	sums, err := s.proj.Summary(ctx, year)
	if err != nil {
		return nil, fmt.Errorf("projects of %d: %w", year, err)
	}
	names, err := s.VillageNames(ctx)
	if err != nil {
		return nil, err
	}
	r := &Result{Year: year, AsOf: asOf.Format(time.DateOnly), Weights: ws, DefaultWeights: def}
	wmap := map[string]float64{}
	for _, w := range ws {
		wmap[w.Key] = w.Weight
	}
	for _, k := range Keys() {
		if wmap[k.Key] > 0 {
			r.Keys = append(r.Keys, k)
		}
	}
	r.Villages = Score(ws, rep, sums, names)
	prev, err := s.previous(ctx, year)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		r.PreviousYear = prev.Year
		compare(r.Villages, prev)
	}
	return r, nil
}

// Close computes the result of year and stores it as the year's snapshot
// (by is the administrator's user name). A year already closed gives
// ErrClosed. audit, when not nil, runs in the same transaction (the HTTP
// layer writes its audit row there).
func (s *Service) Close(ctx context.Context, year int, by string, audit func(pgx.Tx, *Result) error) (*Result, error) {
	r, err := s.compute(ctx, year)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r.Closed, r.ClosedAt, r.ClosedBy = true, &now, by
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('villageplan.assessment'), $1)`, year); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO villageplan.assessment_snapshots (year, as_of, closed_at, closed_by, result)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO NOTHING`, year, r.AsOf, now, by, raw)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrClosed
		}
		if audit != nil {
			return audit(tx, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// YearScore is one village's score in one year of the history.
type YearScore struct {
	Year   int      `json:"year"`
	Closed bool     `json:"closed"`
	Score  *float64 `json:"score"`
	Rank   int      `json:"rank"`
}

// History returns, per village code, its scores in every closed year and
// in the running assessment year cur (computed now), oldest first.
func (s *Service) History(ctx context.Context, cur int) (map[string][]YearScore, []int, error) {
	rows, err := s.pool.Query(ctx, `SELECT year FROM villageplan.assessment_snapshots WHERE year <> $1 ORDER BY year`, cur)
	if err != nil {
		return nil, nil, err
	}
	years, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]YearScore{}
	add := func(r *Result) {
		for _, v := range r.Villages {
			out[v.Village] = append(out[v.Village], YearScore{Year: r.Year, Closed: r.Closed, Score: v.Score, Rank: v.Rank})
		}
	}
	for _, y := range years {
		if y > cur {
			continue
		}
		r, err := s.snapshot(ctx, y)
		if err != nil {
			return nil, nil, err
		}
		add(r)
	}
	r, err := s.Result(ctx, cur)
	if err != nil {
		return nil, nil, err
	}
	add(r)
	var ys []int
	for _, y := range years {
		if y < cur {
			ys = append(ys, y)
		}
	}
	return out, append(ys, cur), nil
}

var codeRe = regexp.MustCompile(`^[0-9]{12}$`)

// ValidVillage reports whether code is a 12-digit XZQDM.
func ValidVillage(code string) bool { return codeRe.MatchString(code) }

// scoreText formats a score for people ("86.25", "—" without one).
func scoreText(p *float64) string {
	if p == nil {
		return "—"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", *p), "0"), ".")
}
