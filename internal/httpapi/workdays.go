package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/workdays"
)

// routeWorkdays mounts the working-day calendar: GET /workdays (the days
// of a range with why each is or is not a working day) and PUT
// /workdays/{date} (an administrator's correction).
func (s *Server) routeWorkdays() {
	if s.pool == nil {
		return
	}
	s.router.HandleFunc("/workdays", s.listWorkdays).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/workdays/{date}", s.putWorkday).Methods(http.MethodPut)
}

// workdayJSON is one day of the calendar.
type workdayJSON struct {
	Date    string `json:"date"`
	Workday bool   `json:"workday"`
	// Reason: override (管理员更正), holiday (法定节假日), makeup (调休上班),
	// weekend, weekday.
	Reason string `json:"reason"`
	Name   string `json:"name,omitempty"`
}

// listWorkdays answers ?from=YYYY-MM-DD&to=YYYY-MM-DD (at most 366 days;
// default the current month).
func (s *Server) listWorkdays(w http.ResponseWriter, r *http.Request) {
	fail := func(field, zh, en string) {
		WriteJSON(w, http.StatusBadRequest, badRequest(field, zh, en))
	}
	now := time.Now().In(applications.China)
	from := workdays.Date(now.Year(), now.Month(), 1)
	to := from.AddDate(0, 1, -1)
	for _, p := range []struct {
		name string
		v    *time.Time
	}{{"from", &from}, {"to", &to}} {
		if raw := r.URL.Query().Get(p.name); raw != "" {
			t, err := time.Parse(time.DateOnly, raw)
			if err != nil {
				fail(p.name, fmt.Sprintf("参数 %s=%q 不是日期（YYYY-MM-DD）", p.name, raw), fmt.Sprintf("parameter %s=%q is not a date (YYYY-MM-DD)", p.name, raw))
				return
			}
			*p.v = t
		}
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		fail("to", "日期范围须为 1 到 367 天", "the range must span 1 to 367 days")
		return
	}
	cal, err := workdays.Load(r.Context(), s.pool)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	days := []workdayJSON{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		k := cal.Explain(d)
		days = append(days, workdayJSON{Date: d.Format(time.DateOnly), Workday: k.Workday, Reason: k.Reason, Name: k.Name})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"days": days, "covered_years": []int{workdays.FirstYear, workdays.LastYear},
		"source": "国务院办公厅节假日安排（github.com/6tail/lunar-go v1.4.7）与管理员更正"})
}

// putWorkday stores an administrator's correction of {date}: body
// {"is_workday": bool, "note": "…"} (the note says why, e.g. the notice).
func (s *Server) putWorkday(w http.ResponseWriter, r *http.Request) {
	raw := mux.Vars(r)["date"]
	day, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		WriteJSON(w, http.StatusBadRequest, badRequest("date", fmt.Sprintf("%q 不是日期（YYYY-MM-DD）", raw), fmt.Sprintf("%q is not a date (YYYY-MM-DD)", raw)))
		return
	}
	var body struct {
		IsWorkday *bool  `json:"is_workday"`
		Note      string `json:"note"`
	}
	ar := &applicationRoutes{s: s}
	if !ar.readJSON(w, r, &body) {
		return
	}
	if body.IsWorkday == nil {
		WriteJSON(w, http.StatusUnprocessableEntity, &applications.Error{Status: 422, Code: "InvalidField", Field: "is_workday",
			ZH: "字段 is_workday：必填（true 上班 / false 放假）", EN: "field is_workday: is required (true working day / false day off)"})
		return
	}
	p := auth.FromContext(r.Context())
	o := workdays.Override{Day: day, IsWorkday: *body.IsWorkday, Note: body.Note, SetBy: p.Username}
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		if err := workdays.SetOverride(r.Context(), tx, o); err != nil {
			return err
		}
		return auth.Audit(r.Context(), tx, r, auth.AuditEntry{Action: "workday.set", SubjectKind: "workday", SubjectID: raw,
			Details: map[string]any{"is_workday": o.IsWorkday, "note": o.Note}})
	})
	if err == workdays.ErrNoNote {
		WriteJSON(w, http.StatusUnprocessableEntity, &applications.Error{Status: 422, Code: "InvalidField", Field: "note",
			ZH: "字段 note：更正须注明理由（如通知文号）", EN: "field note: a correction needs a note saying why (e.g. the notice)"})
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, workdayJSON{Date: raw, Workday: o.IsWorkday, Reason: "override", Name: o.Note})
}
