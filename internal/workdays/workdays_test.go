package workdays_test

import (
	"context"
	"testing"
	"time"

	"villageplan/internal/testpg"
	"villageplan/internal/workdays"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func d(y int, m time.Month, day int) time.Time { return workdays.Date(y, m, day) }

// 国庆 2025 (国办发明电〔2024〕12号): 10-01..10-08 off, Sunday 09-28 and
// Saturday 10-11 worked.
func TestNationalDay2025(t *testing.T) {
	c := workdays.New()
	for day := 1; day <= 8; day++ {
		if c.IsWorkday(d(2025, 10, day)) {
			t.Errorf("2025-10-%02d is a working day, want holiday", day)
		}
	}
	for _, w := range []time.Time{d(2025, 9, 28), d(2025, 10, 11)} {
		if k := c.Explain(w); !k.Workday || k.Reason != "makeup" {
			t.Errorf("%s = %+v, want make-up working day", w.Format(time.DateOnly), k)
		}
	}
	if c.IsWorkday(d(2025, 10, 12)) { // an ordinary Sunday
		t.Error("2025-10-12 (Sunday) is a working day")
	}
	// From Friday 09-26: Sun 09-28 (1), Mon 09-29 (2), Tue 09-30 (3), Thu 10-09 (4), Fri 10-10 (5), Sat 10-11 (6).
	if got := c.AddWorkdays(d(2025, 9, 26), 6); !got.Equal(d(2025, 10, 11)) {
		t.Errorf("AddWorkdays(2025-09-26, 6) = %s, want 2025-10-11", got.Format(time.DateOnly))
	}
	if got := c.AddWorkdays(d(2025, 9, 26), 5); !got.Equal(d(2025, 10, 10)) {
		t.Errorf("AddWorkdays(2025-09-26, 5) = %s, want 2025-10-10", got.Format(time.DateOnly))
	}
	if n := c.WorkdaysBetween(d(2025, 9, 30), d(2025, 10, 9)); n != 1 {
		t.Errorf("WorkdaysBetween(09-30, 10-09) = %d, want 1", n)
	}
	if n := c.WorkdaysBetween(d(2025, 10, 9), d(2025, 9, 30)); n != -1 {
		t.Errorf("WorkdaysBetween backwards = %d, want -1", n)
	}
	if got := c.AddWorkdays(d(2025, 10, 9), -1); !got.Equal(d(2025, 9, 30)) {
		t.Errorf("AddWorkdays(10-09, -1) = %s, want 09-30", got.Format(time.DateOnly))
	}
}

// 春节 2026 (国办发明电〔2025〕7号): 02-15..02-23 off, Saturdays 02-14 and
// 02-28 worked.
func TestSpringFestival2026(t *testing.T) {
	c := workdays.New()
	for day := 15; day <= 23; day++ {
		if k := c.Explain(d(2026, 2, day)); k.Workday || k.Reason != "holiday" || k.Name != "春节" {
			t.Errorf("2026-02-%02d = %+v, want 春节 holiday", day, k)
		}
	}
	for _, w := range []time.Time{d(2026, 2, 14), d(2026, 2, 28)} {
		if !c.IsWorkday(w) {
			t.Errorf("%s should be a make-up working day", w.Format(time.DateOnly))
		}
	}
	// 20 working days from Thursday 2026-02-05 (行政许可法 第四十二条):
	// 02-06, 09..13 (6), 14 (7), 24..27 (11), 28 (12), 03-02..06 (17), 09..11 (20).
	if got := c.AddWorkdays(d(2026, 2, 5), 20); !got.Equal(d(2026, 3, 11)) {
		t.Errorf("AddWorkdays(2026-02-05, 20) = %s, want 2026-03-11", got.Format(time.DateOnly))
	}
	if n := c.WorkdaysBetween(d(2026, 2, 5), d(2026, 3, 11)); n != 20 {
		t.Errorf("WorkdaysBetween = %d, want 20", n)
	}
	// Plain weekdays with no holiday: 5 per week.
	if n := c.WorkdaysBetween(d(2026, 3, 15), d(2026, 3, 29)); n != 10 {
		t.Errorf("two plain weeks = %d working days, want 10", n)
	}
}

func TestCoverage(t *testing.T) {
	for _, y := range []int{2025, 2026, 2027} {
		if !workdays.Covered(y) {
			t.Errorf("year %d not covered", y)
		}
	}
	if workdays.Covered(2028) {
		t.Error("2028 claimed covered")
	}
	// 2027 国庆 as carried by the library.
	c := workdays.New()
	if c.IsWorkday(d(2027, 10, 4)) || !c.IsWorkday(d(2027, 10, 9)) {
		t.Error("2027 国庆 not in the calendar")
	}
}

// An administrator's correction stored in the database wins over the
// library, in both directions.
func TestOverride(t *testing.T) {
	pool := testpg.New(t)
	ctx := context.Background()
	if err := workdays.SetOverride(ctx, pool, workdays.Override{Day: d(2026, 10, 8), IsWorkday: true, Note: ""}); err == nil {
		t.Fatal("override without a note accepted")
	}
	for _, o := range []workdays.Override{
		{Day: d(2026, 10, 7), IsWorkday: true, Note: "乡镇值班安排（测试）", SetBy: "admin"},
		{Day: d(2026, 3, 11), IsWorkday: false, Note: "停电闭厅（测试）", SetBy: "admin"},
	} {
		if err := workdays.SetOverride(ctx, pool, o); err != nil {
			t.Fatal(err)
		}
	}
	plain := workdays.New()
	c, err := workdays.Load(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if plain.IsWorkday(d(2026, 10, 7)) || !c.IsWorkday(d(2026, 10, 7)) {
		t.Error("override to a working day not applied")
	}
	if k := c.Explain(d(2026, 3, 11)); k.Workday || k.Reason != "override" {
		t.Errorf("2026-03-11 = %+v, want override day off", k)
	}
	if got := c.AddWorkdays(d(2026, 2, 5), 20); !got.Equal(d(2026, 3, 12)) {
		t.Errorf("with the day off, AddWorkdays = %s, want 2026-03-12", got.Format(time.DateOnly))
	}
}
