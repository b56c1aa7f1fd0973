package assessment

import (
	"bytes"
	"os/exec"
	"strings"

	"context"
	"errors"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/indicators"
	"villageplan/internal/projects"
	"villageplan/internal/testpg"
	"villageplan/layers"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// fakeIndicators and fakeProjects implement the contract's interfaces on
// hand-built values (tests only).
type fakeIndicators struct {
	values []indicators.Value
	asOf   []time.Time
}

func (f *fakeIndicators) Compute(_ context.Context, asOf time.Time) (*indicators.Report, error) {
	f.asOf = append(f.asOf, asOf)
	return &indicators.Report{AsOf: asOf, Values: append([]indicators.Value(nil), f.values...)}, nil
}

type fakeProjects map[int][]projects.VillageSummary

func (f fakeProjects) Summary(_ context.Context, year int) ([]projects.VillageSummary, error) {
	return f[year], nil
}

const (
	vA, vB, vC = "220112203300", "220112203301", "220112203302"
	vD, vE, vF = "220112203303", "220112203304", "220112203305"
)

func iv(key, village, hamlet string, v float64) indicators.Value {
	return indicators.Value{Key: key, Village: village, Hamlet: hamlet, Value: v}
}

// fixture: six villages. A–C have the three indicators (C lacks the
// water share), D only projects, E only the water share, F nothing.
func fixture() (*fakeIndicators, fakeProjects, []Weight, map[string]string) {
	ind := &fakeIndicators{values: []indicators.Value{
		iv("road_lit_share", vA, "", 66.67), iv("road_lit_share", vB, "", 100), iv("road_lit_share", vC, "", 50),
		iv("dangerous_houses", vA, "", 2), iv("dangerous_houses", vB, "", 5), iv("dangerous_houses", vC, "", 8),
		iv("water_connected_share", vA, "", 90), iv("water_connected_share", vB, "", 80), iv("water_connected_share", vE, "", 91.25),
		// hamlet and township values never count
		iv("road_lit_share", vA, "前屯", 0), iv("road_lit_share", "", "", 10), iv("dangerous_houses", "", "", 100),
		// an unweighted key never counts
		iv("dead_ends", vA, "", 40),
	}}
	proj := fakeProjects{2026: {
		{Village: vA, Year: 2026, Planned: 1, Started: 1, Operating: 1, Completed: 1, BudgetYuan: 100, SpentYuan: 50},
		{Village: vB, Year: 2026, Completed: 2, BudgetYuan: 100, SpentYuan: 150},
		{Village: vC, Year: 2026},
		{Village: vD, Year: 2026, Completed: 3},
	}}
	ws := []Weight{{"road_lit_share", 20}, {"dangerous_houses", 10}, {"water_connected_share", 10},
		{KeyProjectCompletion, 40}, {KeyBudgetExecution, 0}}
	names := map[string]string{vA: "大营村", vB: "鲁家村", vC: "庞家村", vD: "新胜村", vE: "尹家村", vF: "黄金村"}
	return ind, proj, ws, names
}

func fp(p *float64) string {
	if p == nil {
		return "nil"
	}
	return scoreText(p)
}

// TestScoreAndRanking: the weighted mean of part scores, by hand:
//
//	A: road 66.67, houses (2 of 2…8, lower better) 100, water 90, projects 1/4 = 25
//	   (20·66.67 + 10·100 + 10·90 + 40·25) / 80 = 4233.4 / 80 = 52.9175 → 52.92
//	B: 100, 50, 80, 2/2 = 100 → (2000 + 500 + 800 + 4000) / 80 = 91.25
//	C: 50, 0, —, — (no project) → (1000 + 0) / 30 = 33.333 → 33.33
//	D: projects 3/3 → 100;  E: water 91.25 → 91.25 (ties with B);  F: no score
//
// Ranks: D 1, B 2, E 2 (tie, by code), A 4, C 5, F none.
func TestScoreAndRanking(t *testing.T) {
	for key, want := range map[string]string{"road_lit_share": "%", "water_connected_share": "%", "dangerous_houses": "户"} {
		k, ok := KeyByName(key)
		if !ok || k.Unit != want || k.HigherIsBetter != (want == "%") {
			t.Fatalf("indicator %s: %+v; the fixture assumes unit %s", key, k, want)
		}
	}
	ind, proj, ws, names := fixture()
	rep, _ := ind.Compute(context.Background(), time.Now())
	got := Score(ws, rep, proj[2026], names)
	want := []struct {
		code, score string
		rank        int
	}{{vD, "100", 1}, {vB, "91.25", 2}, {vE, "91.25", 2}, {vA, "52.92", 4}, {vC, "33.33", 5}, {vF, "nil", 0}}
	if len(got) != len(want) {
		t.Fatalf("%d villages, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Village != w.code || fp(g.Score) != w.score || g.Rank != w.rank || g.Name != names[w.code] {
			t.Errorf("#%d: %s %s score %s rank %d, want %s score %s rank %d", i, g.Village, g.Name, fp(g.Score), g.Rank, w.code, w.score, w.rank)
		}
	}
	// parts of A: in Keys() order, the zero-weighted key left out
	a := got[3]
	var parts []string
	for _, p := range a.Parts {
		parts = append(parts, p.Key+"="+fp(p.Value)+"→"+fp(p.Score))
	}
	if s := join(parts); s != "road_lit_share=66.67→66.67 water_connected_share=90→90 dangerous_houses=2→100 project_completion=25→25" {
		t.Errorf("parts of A: %s", s)
	}
	// B's budget is overspent (150 %): the key has weight 0 here, but the
	// value is capped at 100 where it counts.
	if v := projectValues(proj[2026])[vB][KeyBudgetExecution]; v != 100 {
		t.Errorf("budget execution of B = %v, want 100 (capped)", v)
	}
	if _, ok := projectValues(proj[2026])[vC][KeyProjectCompletion]; ok {
		t.Error("a village without projects has a completion value")
	}
	// Equal values of a non-share key score 100 for everyone.
	same := Score([]Weight{{"dangerous_houses", 1}}, &indicators.Report{Values: []indicators.Value{
		iv("dangerous_houses", vA, "", 3), iv("dangerous_houses", vB, "", 3)}}, nil, map[string]string{vA: "a", vB: "b"})
	if fp(same[0].Score) != "100" || fp(same[1].Score) != "100" || same[1].Rank != 1 {
		t.Errorf("equal values: %s %s rank %d", fp(same[0].Score), fp(same[1].Score), same[1].Rank)
	}
}

func join(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

func TestValidateWeights(t *testing.T) {
	cases := []struct {
		field string
		ws    []Weight
	}{
		{"weights", nil},
		{"weights[1].key", []Weight{{"road_lit_share", 1}, {"no_such_key", 1}}},
		{"weights[1].key", []Weight{{"road_lit_share", 1}, {"road_lit_share", 2}}},
		{"weights[0].weight", []Weight{{"road_lit_share", -1}}},
		{"weights[0].weight", []Weight{{"road_lit_share", 1001}}},
		{"weights", []Weight{{"road_lit_share", 0}}},
	}
	for _, c := range cases {
		var we *WeightError
		if err := ValidateWeights(c.ws); !errors.As(err, &we) || we.Field != c.field || we.ZH == "" || we.EN == "" {
			t.Errorf("%v: err %v, want a WeightError naming %s in both languages", c.ws, err, c.field)
		}
	}
	if err := ValidateWeights([]Weight{{"road_lit_share", 0}, {KeyProjectCompletion, 1000}}); err != nil {
		t.Errorf("valid weights refused: %v", err)
	}
}

// seedVillages inserts the six fixture villages (squares of 1 km).
func seedVillages(t *testing.T, pool *pgxpool.Pool, names map[string]string) {
	t.Helper()
	i := 0
	for _, code := range []string{vA, vB, vC, vD, vE, vF} {
		x := 125.70 + 0.02*float64(i)
		if _, err := pool.Exec(context.Background(), `INSERT INTO `+layers.Villages.QualifiedTable()+` (xzqdm, xzqmc, czlx, geom)
			VALUES ($1, $2, '集聚提升类', ST_Multi(ST_MakeEnvelope($3::float8, 43.6, $3::float8 + 0.01, 43.61, 4490)))`, code, names[code], x); err != nil {
			t.Fatal(err)
		}
		i++
	}
}

// TestYearsWeightsAndSnapshots: weights per year (defaults until set),
// closing a year stores its result, a closed year keeps it whatever the
// indicators say later and refuses new weights, and the next year shows
// the change against it.
func TestYearsWeightsAndSnapshots(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	ind, proj, ws, names := fixture()
	seedVillages(t, pool, names)
	svc := NewService(pool, layers.Default(), ind, proj)
	svc.SetClock(func() time.Time { return time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC) })

	got, def, err := svc.Weights(ctx, 2026)
	if err != nil || !def || len(got) != len(DefaultWeights) {
		t.Fatalf("weights of a year never set: %v default=%v err=%v", got, def, err)
	}
	set := func(year int, ws []Weight) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return SetWeights(ctx, tx, year, ws, "admin") })
	}
	if err := set(2026, []Weight{{"road_lit_share", 1}, {"nope", 1}}); err == nil {
		t.Fatal("unknown key stored")
	}
	if got, def, _ := svc.Weights(ctx, 2026); !def || len(got) != len(DefaultWeights) {
		t.Fatalf("a refused set changed the weights: %v", got)
	}
	if err := set(2026, ws); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Result(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if r.DefaultWeights || r.Closed || r.AsOf != "2026-12-31" || len(r.Keys) != 4 {
		t.Errorf("2026: default=%v closed=%v as_of=%s keys=%d", r.DefaultWeights, r.Closed, r.AsOf, len(r.Keys))
	}
	if b, _ := r.Village(vB); fp(b.Score) != "91.25" || b.Rank != 2 || b.PrevScore != nil {
		t.Errorf("B in 2026: %+v", b)
	}
	// 2027 is running on 1 March 2027: indicators as of that day.
	r27, err := svc.Result(ctx, 2027)
	if err != nil || r27.AsOf != "2027-03-01" || !r27.DefaultWeights || r27.PreviousYear != 0 {
		t.Fatalf("2027 before 2026 is closed: %+v, %v", r27, err)
	}

	closed, err := svc.Close(ctx, 2026, "admin", nil)
	if err != nil || !closed.Closed || closed.ClosedBy != "admin" {
		t.Fatalf("close 2026: %+v, %v", closed, err)
	}
	if _, err := svc.Close(ctx, 2026, "admin", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("second close: %v, want ErrClosed", err)
	}
	if err := set(2026, ws); !errors.Is(err, ErrClosed) {
		t.Errorf("weights of a closed year: %v, want ErrClosed", err)
	}
	// The map changes: B's lighting drops to 0. 2026 keeps its snapshot,
	// 2027 (with the same weights) moves B and shows the change.
	for i, v := range ind.values {
		if v.Key == "road_lit_share" && v.Village == vB {
			ind.values[i].Value = 0
		}
	}
	proj[2027] = proj[2026]
	if err := set(2027, ws); err != nil {
		t.Fatal(err)
	}
	again, err := svc.Result(ctx, 2026)
	if b, _ := again.Village(vB); err != nil || !again.Closed || fp(b.Score) != "91.25" {
		t.Errorf("closed 2026 after the edit: B %+v, %v", b, err)
	}
	r27, err = svc.Result(ctx, 2027)
	if err != nil {
		t.Fatal(err)
	}
	// B 2027: (20·0 + 10·50 + 10·80 + 40·100) / 80 = 5300 / 80 = 66.25, change −25
	b, _ := r27.Village(vB)
	if r27.PreviousYear != 2026 || fp(b.Score) != "66.25" || fp(b.PrevScore) != "91.25" || b.PrevRank != 2 || fp(b.Change) != "-25" || b.Rank != 3 {
		t.Errorf("B in 2027: score %s prev %s (rank %d) change %s rank %d, previous year %d", fp(b.Score), fp(b.PrevScore), b.PrevRank, fp(b.Change), b.Rank, r27.PreviousYear)
	}
	hist, years, err := svc.History(ctx, 2027)
	if err != nil || len(years) != 2 || years[0] != 2026 || years[1] != 2027 {
		t.Fatalf("history years %v, %v", years, err)
	}
	if h := hist[vB]; len(h) != 2 || fp(h[0].Score) != "91.25" || !h[0].Closed || fp(h[1].Score) != "66.25" || h[1].Closed {
		t.Errorf("history of B: %+v", h)
	}
}

// TestXLSXAndSheet: the workbook opened with excelize and the PDF sheet
// read back with pdftotext show the fixture's scores and ranks.
func TestXLSXAndSheet(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	ind, proj, ws, names := fixture()
	seedVillages(t, pool, names)
	svc := NewService(pool, layers.Default(), ind, proj)
	svc.SetClock(func() time.Time { return time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC) })
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return SetWeights(ctx, tx, 2026, ws, "admin") }); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Result(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(SheetRanking)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2+6 || !strings.Contains(rows[0][0], "2026 年度") || rows[1][3] != "得分 score" {
		t.Fatalf("ranking sheet: %d rows, %q", len(rows), rows[:2])
	}
	want := [][]string{{"1", vD, "新胜村", "100"}, {"2", vB, "鲁家村", "91.25"}, {"2", vE, "尹家村", "91.25"}, {"4", vA, "大营村", "52.92"},
		{"5", vC, "庞家村", "33.33"}, {"", vF, "黄金村", ""}}
	for i, w := range want {
		got := append(rows[i+2], "", "", "", "")[:4]
		if strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("row %d: %q, want %q", i+3, got, w)
		}
	}
	// A's parts: road 66.67 → 66.67 … (columns H…)
	if a := rows[5]; len(a) < 9 || a[7] != "66.67" || a[8] != "66.67" {
		t.Errorf("A's first part: %q", a)
	}
	if typ, _ := f.GetCellType(SheetRanking, "D4"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Error("scores are stored as text")
	}
	wr, _ := f.GetRows(SheetWeights)
	if len(wr) < 5 || wr[1][0] != "road_lit_share" || wr[1][5] != "20" {
		t.Errorf("weights sheet: %q", wr)
	}

	var pdf bytes.Buffer
	if _, err := svc.WriteSheet(ctx, &pdf, r, vB); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf.Bytes())
	for _, s := range []string{"鲁家村2026年度乡村建设考核评估表", "220112203301", "91.25", "第 2 名（共 5 村）", "村内主干道路灯覆盖率", "项目完成率", "指标截至 2026-12-31"} {
		if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.ReplaceAll(s, " ", "")) {
			t.Errorf("sheet lacks %q:\n%s", s, text)
		}
	}
	if n := strings.Count(text, "\f"); n > 1 {
		t.Errorf("sheet has %d pages, want 1", n)
	}
	if _, err := svc.WriteSheet(ctx, &pdf, r, "220112999999"); !errors.Is(err, ErrUnknownVillage) {
		t.Errorf("sheet of an unknown village: %v", err)
	}
}

func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
