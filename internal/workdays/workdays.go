// Package workdays is the working-day (工作日) calendar of the People's
// Republic of China: Monday to Friday, less the public holidays (法定节假日)
// and plus the make-up working days (调休, weekend days worked) that the
// General Office of the State Council announces each year
// (国务院办公厅关于某年部分节假日安排的通知), with corrections an
// administrator stores in the database (table villageplan.workday_overrides,
// migration 00010), which win over the announced calendar.
//
// The announced calendar comes from github.com/6tail/lunar-go (package
// HolidayUtil). Version v1.4.7 carries the announcements from 2001-12-29 to
// the 国庆 make-up day 2027-10-09, i.e. the years 2002–2027 in full
// (Covered). For a year it does not carry, only weekends are days off until
// an administrator enters that year's holidays as overrides. Deadlines of
// administrative licensing count in working days (行政许可法 第四十二条,
// 第八十二条: "期限以工作日计算，不含法定节假日").
//
// Dates are calendar days: only the year, month and day of a time.Time
// are read (in its own location); results are at 00:00 UTC.
package workdays

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// FirstYear and LastYear bound the years whose State Council calendar the
// library (lunar-go v1.4.7) carries in full.
const (
	FirstYear = 2002
	LastYear  = 2027
)

// Override is an administrator's correction of one day.
type Override struct {
	Day       time.Time `json:"day"`
	IsWorkday bool      `json:"is_workday"`
	Note      string    `json:"note"`
	SetBy     string    `json:"set_by"`
}

// Calendar answers working-day questions. The zero value is not usable;
// build one with New or Load. A Calendar is read-only after it is built
// and safe for concurrent use.
type Calendar struct {
	overrides map[civil]Override
}

type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil { y, m, d := t.Date(); return civil{y, m, d} }

func (c civil) time() time.Time { return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC) }

// Date is the calendar day y-m-d at 00:00 UTC.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Day is t's calendar day at 00:00 UTC.
func Day(t time.Time) time.Time { return civilOf(t).time() }

// New returns a calendar with the announced holidays and the given
// corrections.
func New(overrides ...Override) *Calendar {
	c := &Calendar{overrides: map[civil]Override{}}
	for _, o := range overrides {
		c.overrides[civilOf(o.Day)] = o
	}
	return c
}

// Querier is what Load reads with (a pool, connection or transaction).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Load returns a calendar with the administrator's corrections stored in
// villageplan.workday_overrides.
func Load(ctx context.Context, db Querier) (*Calendar, error) {
	rows, err := db.Query(ctx, `SELECT day, is_workday, note, set_by FROM villageplan.workday_overrides ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("load working-day corrections: %w", err)
	}
	os, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Override, error) {
		var o Override
		err := r.Scan(&o.Day, &o.IsWorkday, &o.Note, &o.SetBy)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("load working-day corrections: %w", err)
	}
	return New(os...), nil
}

// Execer is what SetOverride writes with.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ErrNoNote is returned by SetOverride without a note or author.
var ErrNoNote = errors.New("workdays: a correction needs a note (why, e.g. the notice) and who set it / 更正须注明理由（如通知文号）和设置人")

// SetOverride stores (or replaces) an administrator's correction of one
// day; Load sees it from then on.
func SetOverride(ctx context.Context, db Execer, o Override) error {
	if strings.TrimSpace(o.Note) == "" || strings.TrimSpace(o.SetBy) == "" {
		return ErrNoNote
	}
	_, err := db.Exec(ctx, `INSERT INTO villageplan.workday_overrides (day, is_workday, note, set_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (day) DO UPDATE SET is_workday = EXCLUDED.is_workday, note = EXCLUDED.note, set_by = EXCLUDED.set_by, set_at = now()`,
		Day(o.Day), o.IsWorkday, o.Note, o.SetBy)
	if err != nil {
		return fmt.Errorf("store working-day correction for %s: %w", Day(o.Day).Format(time.DateOnly), err)
	}
	return nil
}

// Covered reports whether the library carries the State Council's calendar
// for year (FirstYear–LastYear); for other years only weekends and the
// administrator's corrections are known.
func Covered(year int) bool { return year >= FirstYear && year <= LastYear }

// Kind says why a day is or is not a working day.
type Kind struct {
	Workday bool
	// Reason: "override" (administrator), "holiday" (法定节假日),
	// "makeup" (调休上班), "weekend", "weekday".
	Reason string
	// Name is the holiday's name (国庆节, 春节 …) or the override's note.
	Name string
}

// Explain tells whether d is a working day and why.
func (c *Calendar) Explain(d time.Time) Kind {
	cd := civilOf(d)
	if o, ok := c.overrides[cd]; ok {
		return Kind{Workday: o.IsWorkday, Reason: "override", Name: o.Note}
	}
	if h := HolidayUtil.GetHolidayByYmd(cd.y, int(cd.m), cd.d); h != nil {
		if h.IsWork() {
			return Kind{Workday: true, Reason: "makeup", Name: h.GetName()}
		}
		return Kind{Workday: false, Reason: "holiday", Name: h.GetName()}
	}
	switch cd.time().Weekday() {
	case time.Saturday, time.Sunday:
		return Kind{Workday: false, Reason: "weekend"}
	}
	return Kind{Workday: true, Reason: "weekday"}
}

// IsWorkday reports whether d is a working day.
func (c *Calendar) IsWorkday(d time.Time) bool { return c.Explain(d).Workday }

// AddWorkdays returns the n-th working day after from (from itself not
// counted, as a deadline "within n working days of" from runs): n = 0 is
// from's own day; negative n counts backwards. AddWorkdays(from, 20) is
// the last day of a 20-working-day period starting the day after from.
func (c *Calendar) AddWorkdays(from time.Time, n int) time.Time {
	d := civilOf(from).time()
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		if c.IsWorkday(d) {
			n--
		}
	}
	return d
}

// WorkdaysBetween counts the working days after a up to and including b
// (a itself not counted); negative, counting the other way, when b is
// before a. WorkdaysBetween(a, c.AddWorkdays(a, n)) == n.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	da, db := civilOf(a).time(), civilOf(b).time()
	sign := 1
	if db.Before(da) {
		da, db, sign = db, da, -1
	}
	n := 0
	for d := da.AddDate(0, 0, 1); !d.After(db); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return sign * n
}
