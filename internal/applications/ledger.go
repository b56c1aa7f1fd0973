package applications

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
)

// LedgerFilter selects the rows of the 宅基地审批台账. Year is the year of
// the decision (批准 or 不予批准) for decided applications and of the filing
// otherwise; zero fields select all.
type LedgerFilter struct {
	Year    int
	Village string
	State   State
}

// LedgerRow is one application in the 宅基地审批台账 reported to the county
// (备案, 农经发〔2019〕6号: 乡镇 keeps the ledger and reports approvals to the
// county 农业农村 and 自然资源 departments). Areas m², heights m, dates
// YYYY-MM-DD ("" when not reached). It holds personal data (户主, 身份证号).
type LedgerRow struct {
	No                   int      `json:"no"`
	ApplicationID        int64    `json:"application_id"`
	Township             string   `json:"township_code"`
	VillageCode          string   `json:"village_code"`
	VillageName          string   `json:"village_name"`
	ApplicantName        string   `json:"applicant_name"`
	ApplicantIDNumber    string   `json:"applicant_id_number"`
	HouseholdSize        int      `json:"household_size"`
	Address              string   `json:"address"`
	SiteAreaM2           *float64 `json:"site_area_m2"`
	HousingLandM2        float64  `json:"housing_land_m2"`
	AncillaryLandM2      float64  `json:"ancillary_land_m2"`
	FloorAreaM2          float64  `json:"floor_area_m2"`
	Storeys              int      `json:"storeys"`
	HeightM              float64  `json:"height_m"`
	Situation            string   `json:"situation"`
	SituationCode        int      `json:"situation_code"` // 建设情形 1/2/3
	LandClass            string   `json:"land_class"`
	LandClassCode        int      `json:"land_class_code"` // 地类 1/2/3
	LandSubclass         string   `json:"land_subclass,omitempty"`
	OldHomesteadDisposal string   `json:"old_homestead_disposal"`
	FiledOn              string   `json:"filed_on"`
	AcceptedOn           string   `json:"accepted_on"`
	State                State    `json:"state"`
	StateLabel           string   `json:"state_label"`
	Decision             string   `json:"decision"`
	ApprovalNumber       string   `json:"approval_number"`
	ApprovedOn           string   `json:"approved_on"`
	RejectionReasons     string   `json:"rejection_reasons"`
	StakedOn             string   `json:"staked_on"`
	StartedOn            string   `json:"started_on"`
	InspectedOn          string   `json:"inspected_on"`
	RegisteredOn         string   `json:"registered_on"`
	ZDDM                 string   `json:"zddm"`
	CheckVerdict         string   `json:"check_verdict"`
	Sample               bool     `json:"sample"`
}

// LedgerColumn names a column of the ledger for a rendered table.
type LedgerColumn struct {
	Key     string `json:"key"`
	TitleZH string `json:"title_zh"`
	TitleEN string `json:"title_en"`
}

// LedgerColumns are the ledger's columns in order, matching Values.
var LedgerColumns = []LedgerColumn{
	{"no", "序号", "No."}, {"application_id", "申请编号", "application"}, {"village_name", "村", "village"},
	{"village_code", "村代码", "village code"}, {"applicant_name", "户主姓名", "head of household"},
	{"applicant_id_number", "身份证号", "ID number"}, {"household_size", "家庭人口", "household size"},
	{"address", "坐落", "address"}, {"site_area_m2", "宅基地面积（m²）", "site area (m²)"},
	{"housing_land_m2", "住房用地面积（m²）", "housing land (m²)"}, {"ancillary_land_m2", "附属设施用地面积（m²）", "ancillary land (m²)"},
	{"floor_area_m2", "住宅建筑面积（m²）", "floor area (m²)"}, {"storeys", "层数", "storeys"}, {"height_m", "建筑高度（m）", "height (m)"},
	{"situation", "建设情形", "situation"}, {"land_class", "地类", "land class"}, {"old_homestead_disposal", "原宅基地处置", "old homestead"},
	{"filed_on", "申请日期", "filed"}, {"accepted_on", "受理日期", "accepted"}, {"state_label", "办理状态", "state"},
	{"decision", "审批结果", "decision"}, {"approval_number", "批准书号", "approval number"}, {"approved_on", "批准日期", "approved"},
	{"rejection_reasons", "不予批准理由", "refusal reasons"}, {"staked_on", "丈量批放日期", "staked"}, {"started_on", "开工日期", "started"},
	{"inspected_on", "竣工验收日期", "inspected"}, {"registered_on", "登记日期", "registered"}, {"zddm", "宗地代码", "parcel code"},
	{"check_verdict", "选址审查结论", "siting verdict"},
}

var verdictZH = map[string]string{"BLOCK": "禁止", "PERMIT_PATH": "须办理农转用", "REVIEW": "需审查", "PASS": "通过"}

// Values is the row as text in the order of LedgerColumns.
func (r LedgerRow) Values() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	site := ""
	if r.SiteAreaM2 != nil {
		site = f(*r.SiteAreaM2)
	}
	return []string{strconv.Itoa(r.No), strconv.FormatInt(r.ApplicationID, 10), r.VillageName, r.VillageCode, r.ApplicantName,
		r.ApplicantIDNumber, strconv.Itoa(r.HouseholdSize), r.Address, site, f(r.HousingLandM2), f(r.AncillaryLandM2),
		f(r.FloorAreaM2), strconv.Itoa(r.Storeys), f(r.HeightM), r.Situation, r.LandClass, r.OldHomesteadDisposal,
		r.FiledOn, r.AcceptedOn, r.StateLabel, r.Decision, r.ApprovalNumber, r.ApprovedOn, r.RejectionReasons, r.StakedOn,
		r.StartedOn, r.InspectedOn, r.RegisteredOn, r.ZDDM, verdictZH[r.CheckVerdict]}
}

// Ledger returns the ledger rows in the principal's scope (desk roles),
// ordered by 批准书号 then application; the read is audited.
func (s *Service) Ledger(ctx context.Context, f LedgerFilter) ([]LedgerRow, error) {
	p := auth.FromContext(ctx)
	township, villages := deskScope(p)
	if !township && len(villages) == 0 {
		return nil, forbidden("无权查看台账：须有审批业务角色", "not allowed to read the ledger: needs a desk role")
	}
	out := []LedgerRow{}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+rowColumns+` FROM villageplan.applications a
			WHERE ($1 OR a.village_code = ANY($2::text[])) AND ($3 = '' OR a.village_code = $3) AND ($4 = '' OR a.state = $4)
			AND ($5 = 0 OR extract(year FROM coalesce(a.approved_on, (a.steps->'decision'->>'on')::date, (a.created_at AT TIME ZONE 'Asia/Shanghai')::date)) = $5)
			ORDER BY a.approval_number NULLS LAST, a.id`, township, villages, f.Village, string(f.State), f.Year)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanRow(rows)
			if err != nil {
				return err
			}
			out = append(out, ledgerRow(len(out)+1, a))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]int64, 0, len(out))
		for _, r := range out {
			ids = append(ids, r.ApplicationID)
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.ledger", SubjectKind: "application",
			Village: f.Village, PersonalData: len(ids) > 0, Details: map[string]any{"ids": ids, "filter": f}})
	})
	return out, err
}

func ledgerRow(no int, a *row) LedgerRow {
	f := a.Form
	r := LedgerRow{No: no, ApplicationID: a.ID, Township: a.Township, VillageCode: a.Village, ApplicantName: f.Applicant.Name,
		ApplicantIDNumber: f.Applicant.IDNumber, HouseholdSize: 1 + len(f.Members), Address: f.Proposed.Address, SiteAreaM2: a.SiteAreaM2,
		HousingLandM2: f.Proposed.HousingLandM2, AncillaryLandM2: f.Proposed.AncillaryLandM2, FloorAreaM2: f.Proposed.FloorAreaM2,
		Storeys: f.Proposed.Storeys, HeightM: f.Proposed.HeightM, Situation: situationLabel[f.Proposed.Situation],
		SituationCode: f.Proposed.Situation, LandClass: landClassLabel[f.Proposed.LandClass], LandClassCode: f.Proposed.LandClass,
		LandSubclass: f.Proposed.LandSubclass, FiledOn: a.CreatedAt.In(China).Format(time.DateOnly),
		State: a.State, StateLabel: a.State.Label(), Sample: a.IsSample}
	if a.VillageName != nil {
		r.VillageName = *a.VillageName
	}
	if f.Proposed.LandSubclass != "" {
		r.LandClass += "（" + f.Proposed.LandSubclass + "）"
	}
	r.OldHomesteadDisposal = "无"
	if c := f.Current; c != nil {
		r.OldHomesteadDisposal = disposalLabel[c.Disposal]
		switch c.Disposal {
		case DisposalKeep:
			r.OldHomesteadDisposal += fmt.Sprintf(" %g m²", c.KeepM2)
		case DisposalOther:
			r.OldHomesteadDisposal += "：" + c.DisposalNote
		}
	}
	if d := dateStr(a.AcceptedOn); d != nil {
		r.AcceptedOn = *d
	}
	st := a.Steps
	if d := st.Decision; d != nil {
		r.Decision = "不予批准"
		if d.Approved {
			r.Decision = "批准"
		}
		for i, x := range d.Reasons {
			if i > 0 {
				r.RejectionReasons += "；"
			}
			r.RejectionReasons += x
		}
	}
	if a.ApprovalNumber != nil {
		r.ApprovalNumber = *a.ApprovalNumber
	}
	if d := dateStr(a.ApprovedOn); d != nil {
		r.ApprovedOn = *d
	}
	if st.Staking != nil {
		r.StakedOn = st.Staking.On
	}
	if st.Construction != nil {
		r.StartedOn = st.Construction.StartedOn
	}
	if st.Inspection != nil {
		r.InspectedOn = st.Inspection.On
	}
	if st.Registration != nil {
		r.RegisteredOn, r.ZDDM = st.Registration.On, st.Registration.ZDDM
	}
	if a.CheckVerdict != nil {
		r.CheckVerdict = *a.CheckVerdict
	}
	return r
}
