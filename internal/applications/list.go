package applications

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
	"villageplan/internal/workdays"
	"villageplan/layers"
)

// deskScope is the villages whose applications p may see: all (township
// true) with a township-wide desk role, else those of its village grants.
func deskScope(p *auth.Principal) (township bool, villages []string) {
	if p == nil {
		return false, nil
	}
	for _, g := range p.Grants {
		if !slices.Contains(auth.DeskRoles, g.Role) {
			continue
		}
		if g.Village == auth.TownshipWide {
			return true, nil
		}
		if !slices.Contains(villages, g.Village) {
			villages = append(villages, g.Village)
		}
	}
	return false, villages
}

// Filter selects applications. Zero fields select all.
type Filter struct {
	State   State
	Village string
	// Year of filing (申请日期, China time).
	Year int
	// Search matches the applicant's name, an ID number of the household
	// (exactly), the address (坐落), the 批准书号, or a 宗地代码 / 不动产单元号
	// of the current or registered parcel.
	Search string
	Limit  int // default 50, at most 500
	Offset int
}

// Summary is one application in a list.
type Summary struct {
	ID             int64    `json:"id"`
	VillageCode    string   `json:"village_code"`
	VillageName    string   `json:"village_name,omitempty"`
	State          State    `json:"state"`
	StateLabel     string   `json:"state_label"`
	Version        int      `json:"version"`
	ApplicantName  string   `json:"applicant_name"`
	Address        string   `json:"address"`
	SiteAreaM2     *float64 `json:"site_area_m2,omitempty"`
	CheckVerdict   *string  `json:"check_verdict,omitempty"`
	ApprovalNumber *string  `json:"approval_number,omitempty"`
	CreatedOn      string   `json:"created_on"`
	DueOn          *string  `json:"due_on,omitempty"`
	// DaysLeft is the working days from today to DueOn (negative when
	// overdue).
	DaysLeft *int `json:"days_left,omitempty"`
	Overdue  bool `json:"overdue"`
	Sample   bool `json:"sample,omitempty"`
}

// ListResult is a page of applications with the total and the counts per
// state (of every state, under the same filter less its state).
type ListResult struct {
	Items  []Summary     `json:"items"`
	Total  int           `json:"total"`
	Counts map[State]int `json:"counts"`
}

// where builds the WHERE clause of the principal's scope and the filter;
// withState false leaves the state out (for the counts).
func where(p *auth.Principal, f Filter, withState bool) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if township, villages := deskScope(p); !township {
		conds = append(conds, "a.village_code = ANY("+arg(villages)+"::text[])")
	}
	if f.Village != "" {
		conds = append(conds, "a.village_code = "+arg(f.Village))
	}
	if withState && f.State != "" {
		conds = append(conds, "a.state = "+arg(string(f.State)))
	}
	if f.Year != 0 {
		conds = append(conds, "extract(year FROM a.created_at AT TIME ZONE 'Asia/Shanghai') = "+arg(f.Year))
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		e, l := arg(strings.ToUpper(s)), arg(like)
		// The current parcel named on the form is linked as
		// old_homestead_id; the registered one is homestead_id. The
		// parcel lookup runs once (hashed subplan), the ID number uses
		// the GIN index.
		parcels := `(SELECT h.id FROM ` + layers.Homesteads.QualifiedTable() + ` h WHERE h.zddm = ` + e + ` OR h.bdcdyh = ` + e + `)`
		conds = append(conds, `((a.applicant_name || E'\n' || a.address || E'\n' || coalesce(a.approval_number, '')) ILIKE `+l+
			` OR a.household_ids @> ARRAY[`+e+`]::text[] OR a.homestead_id IN `+parcels+` OR a.old_homestead_id IN `+parcels+`)`)
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List returns the applications the principal may see (desk roles: the
// township-wide ones all, a village grant its village), filtered, newest
// first, with days left and counts per state. The read of the applicants'
// names is audited.
func (s *Service) List(ctx context.Context, f Filter) (*ListResult, error) {
	p := auth.FromContext(ctx)
	if township, villages := deskScope(p); !township && len(villages) == 0 {
		return nil, forbidden("无权查看申请：须有审批业务角色", "not allowed to list applications: needs a desk role")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	out := &ListResult{Items: []Summary{}, Counts: map[State]int{}}
	for _, st := range States {
		out.Counts[st] = 0
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		w, args := where(p, f, false)
		rows, err := tx.Query(ctx, `SELECT a.state, count(*) FROM villageplan.applications a`+w+` GROUP BY a.state`, args...)
		if err != nil {
			return err
		}
		var st State
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&st, &n}, func() error { out.Counts[st] = n; return nil }); err != nil {
			return err
		}
		// The total is the counts' sum, or the filtered state's count.
		for s, k := range out.Counts {
			if f.State == "" || s == f.State {
				out.Total += k
			}
		}
		w, args = where(p, f, true)
		args = append(args, f.Limit, f.Offset)
		rows, err = tx.Query(ctx, `SELECT a.id, a.village_code, coalesce((SELECT v.xzqmc FROM `+layers.Villages.QualifiedTable()+` v WHERE v.xzqdm = a.village_code ORDER BY v.id LIMIT 1), ''),
			a.state, a.version, a.applicant_name, a.address, a.site_area_m2, a.check_verdict, a.approval_number,
			(a.created_at AT TIME ZONE 'Asia/Shanghai')::date, a.due_on, a.is_sample
			FROM villageplan.applications a`+w+fmt.Sprintf(` ORDER BY a.id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
		if err != nil {
			return err
		}
		today := s.today()
		out.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
			var x Summary
			var created time.Time
			var due *time.Time
			err := r.Scan(&x.ID, &x.VillageCode, &x.VillageName, &x.State, &x.Version, &x.ApplicantName, &x.Address, &x.SiteAreaM2,
				&x.CheckVerdict, &x.ApprovalNumber, &created, &due, &x.Sample)
			x.StateLabel, x.CreatedOn, x.DueOn = x.State.Label(), created.Format(time.DateOnly), dateStr(due)
			if due != nil {
				n := cal.WorkdaysBetween(today, *due)
				x.DaysLeft, x.Overdue = &n, due.Before(today)
			}
			return x, err
		})
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(out.Items))
		for _, it := range out.Items {
			ids = append(ids, it.ID)
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.list", SubjectKind: "application",
			Village: f.Village, PersonalData: len(ids) > 0, Details: map[string]any{"ids": ids, "filter": f}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Overdue lists the open applications in the principal's scope whose
// current step is past its deadline (due_on before today), oldest
// deadline first.
func (s *Service) Overdue(ctx context.Context) ([]Summary, error) {
	p := auth.FromContext(ctx)
	township, villages := deskScope(p)
	if !township && len(villages) == 0 {
		return nil, forbidden("无权查看申请：须有审批业务角色", "not allowed to list applications: needs a desk role")
	}
	var out []Summary
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		today := s.today()
		rows, err := tx.Query(ctx, `SELECT a.id, a.village_code, coalesce((SELECT v.xzqmc FROM `+layers.Villages.QualifiedTable()+` v WHERE v.xzqdm = a.village_code ORDER BY v.id LIMIT 1), ''),
			a.state, a.version, a.applicant_name, a.address, a.site_area_m2, a.check_verdict, a.approval_number,
			(a.created_at AT TIME ZONE 'Asia/Shanghai')::date, a.due_on, a.is_sample
			FROM villageplan.applications a
			WHERE a.due_on < $1 AND a.state NOT IN ('registered', 'rejected', 'withdrawn') AND ($2 OR a.village_code = ANY($3::text[]))
			ORDER BY a.due_on, a.id`, today, township, villages)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
			var x Summary
			var created time.Time
			var due *time.Time
			err := r.Scan(&x.ID, &x.VillageCode, &x.VillageName, &x.State, &x.Version, &x.ApplicantName, &x.Address, &x.SiteAreaM2,
				&x.CheckVerdict, &x.ApprovalNumber, &created, &due, &x.Sample)
			x.StateLabel, x.CreatedOn, x.DueOn, x.Overdue = x.State.Label(), created.Format(time.DateOnly), dateStr(due), true
			if due != nil {
				n := cal.WorkdaysBetween(today, *due)
				x.DaysLeft = &n
			}
			return x, err
		})
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(out))
		for _, it := range out {
			ids = append(ids, it.ID)
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.overdue", SubjectKind: "application",
			PersonalData: len(ids) > 0, Details: map[string]any{"ids": ids}})
	})
	return out, err
}
