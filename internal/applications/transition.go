package applications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb/encoding/wkb"

	"villageplan/internal/auth"
	"villageplan/internal/workdays"
	"villageplan/layers"
)

// Steps are the records of the steps done so far.
type Steps struct {
	Group        *GroupStep                  `json:"group,omitempty"`
	Village      *VillageStep                `json:"village,omitempty"`
	Opinions     map[Department]*DeptOpinion `json:"opinions,omitempty"`
	Decision     *DecisionStep               `json:"decision,omitempty"`
	Staking      *StakingStep                `json:"staking,omitempty"`
	Construction *ConstructionStep           `json:"construction,omitempty"`
	Inspection   *InspectionStep             `json:"inspection,omitempty"`
	Registration *RegistrationStep           `json:"registration,omitempty"`
	Withdrawal   *WithdrawalStep             `json:"withdrawal,omitempty"`
}

// GroupStep is the 村民小组 discussion and 公示 (土地管理法实施条例 第三十四条:
// "集体讨论通过并在本集体范围内公示"). Dates are YYYY-MM-DD.
type GroupStep struct {
	MeetingDate    string `json:"meeting_date"`
	GroupLeader    string `json:"group_leader"`
	PublicityStart string `json:"publicity_start"`
	PublicityEnd   string `json:"publicity_end"`
	// PublicityWorkdays is the working days of the 公示, both ends counted.
	PublicityWorkdays int `json:"publicity_workdays"`
	// Publicized is what was publicised: 申请理由, 拟用地位置, 面积, 层数,
	// 建筑面积.
	Publicized map[string]any `json:"publicized"`
	Objections []Objection    `json:"objections,omitempty"`
	Opinion    string         `json:"opinion,omitempty"`
	DecidedOn  string         `json:"decided_on,omitempty"`
	By         string         `json:"by"`
}

// Objection is an objection raised during the 公示 and how it was
// resolved (rejected or accommodated).
type Objection struct {
	Objection  string `json:"objection"`
	Resolution string `json:"resolution"`
}

// VillageStep is the 村级组织审查 (村集体经济组织 / 村委会).
type VillageStep struct {
	Reviewer string `json:"reviewer"`
	Opinion  string `json:"opinion"`
	On       string `json:"on"`
	By       string `json:"by"`
}

// DeptOpinion is one department's opinion in the 联审.
type DeptOpinion struct {
	Department Department `json:"department"`
	Label      string     `json:"label"`
	Agree      bool       `json:"agree"`
	Opinion    string     `json:"opinion"`
	Reviewer   string     `json:"reviewer,omitempty"`
	On         string     `json:"on"`
	By         string     `json:"by"`
	Role       auth.Role  `json:"role"`
}

// DecisionStep is 批准 or 不予批准.
type DecisionStep struct {
	Approved       bool     `json:"approved"`
	ApprovalNumber string   `json:"approval_number,omitempty"`
	Reasons        []string `json:"reasons,omitempty"`
	Note           string   `json:"note,omitempty"`
	On             string   `json:"on"`
	By             string   `json:"by"`
	// CheckID and CheckVerdict are the siting check the decision saw.
	CheckID      int64  `json:"check_id,omitempty"`
	CheckVerdict string `json:"check_verdict,omitempty"`
}

// StakingStep is 丈量批放: the staked site and its deviation (m, the
// Hausdorff distance on the check's Gauss-Krüger plane) from the approved
// one.
type StakingStep struct {
	On         string  `json:"on"`
	DeviationM float64 `json:"deviation_m"`
	AreaM2     float64 `json:"area_m2"`
	By         string  `json:"by"`
}

// ConstructionStep is 开工.
type ConstructionStep struct {
	StartedOn string `json:"started_on"`
	By        string `json:"by"`
}

// InspectionStep is 竣工验收: the built footprint compared with the
// approved site (areas m², distances m on the check's plane).
type InspectionStep struct {
	On             string  `json:"on"`
	BuiltAreaM2    float64 `json:"built_area_m2"`
	ApprovedAreaM2 float64 `json:"approved_area_m2"`
	// DeclaredM2 is the declared 住房用地 + 附属用房用地.
	DeclaredM2 float64 `json:"declared_m2"`
	// OutsideM2 is the built area outside the approved site; OutsideM the
	// farthest built vertex beyond its boundary (0 when inside).
	OutsideM2 float64 `json:"outside_m2"`
	OutsideM  float64 `json:"outside_m"`
	Passed    bool    `json:"passed"`
	Opinion   string  `json:"opinion"`
	By        string  `json:"by"`
}

// RegistrationStep is 登记: the parcel written to the homesteads layer.
type RegistrationStep struct {
	On             string `json:"on"`
	ZDDM           string `json:"zddm"`
	BDCDYH         string `json:"bdcdyh,omitempty"`
	HomesteadID    int64  `json:"homestead_id"`
	OldHomesteadID *int64 `json:"old_homestead_id,omitempty"`
	OldReturned    bool   `json:"old_returned"`
	Note           string `json:"note,omitempty"`
	By             string `json:"by"`
}

// WithdrawalStep is 撤回.
type WithdrawalStep struct {
	On   string `json:"on"`
	By   string `json:"by"`
	Note string `json:"note"`
}

// TransitionRequest is one action on an application with its payload
// (per action: see the *Payload types) and a note for the record.
type TransitionRequest struct {
	Action  Action          `json:"action"`
	Note    string          `json:"note,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// PublicizePayload: the group meeting and the 公示 period (YYYY-MM-DD).
type PublicizePayload struct {
	MeetingDate    string `json:"meeting_date"`
	GroupLeader    string `json:"group_leader"`
	PublicityStart string `json:"publicity_start"`
	PublicityEnd   string `json:"publicity_end"`
}

// GroupApprovePayload: objections raised in the 公示 and their
// resolutions, and the group's opinion.
type GroupApprovePayload struct {
	Objections []Objection `json:"objections"`
	Opinion    string      `json:"opinion"`
}

// VillageApprovePayload: the village organisation's review.
type VillageApprovePayload struct {
	Reviewer string `json:"reviewer"`
	Opinion  string `json:"opinion"`
}

// OpinionPayload: a department's opinion (Department may be left out when
// the principal holds one review role only).
type OpinionPayload struct {
	Department Department `json:"department,omitempty"`
	Agree      *bool      `json:"agree"`
	Opinion    string     `json:"opinion"`
	Reviewer   string     `json:"reviewer,omitempty"`
}

// RejectPayload: the reasons of 不予批准 (at least one).
type RejectPayload struct {
	Reasons []string `json:"reasons"`
}

// StakePayload / InspectPayload: the staked site or built footprint
// (SiteInput) and the date (default today).
type StakePayload struct {
	SiteInput
	On string `json:"on,omitempty"`
}

// InspectPayload is the 竣工验收.
type InspectPayload struct {
	SiteInput
	On      string `json:"on,omitempty"`
	Opinion string `json:"opinion"`
}

// StartPayload is 开工.
type StartPayload struct {
	On string `json:"on,omitempty"`
}

// RegisterPayload: the 宗地代码 (19 characters) and optional 不动产单元号.
type RegisterPayload struct {
	ZDDM   string `json:"zddm"`
	BDCDYH string `json:"bdcdyh,omitempty"`
}

// mainLine is the order of the steps; mainAction the action leaving each.
var mainLine = []State{Submitted, Publicizing, VillageReview, TownshipAcceptance, JointReview, Decision, Approved, Staked, Building, Inspected, Registered}
var mainAction = map[State]Action{Submitted: Publicize, Publicizing: GroupApprove, VillageReview: VillageApprove, TownshipAcceptance: Accept,
	JointReview: Opinion, Decision: Approve, Approved: Stake, Staked: StartBuilding, Building: Inspect, Inspected: Register}

// illegal is the 409 of an action that does not fit the state: it names
// the state and the steps still missing before the action.
func illegal(a *row, r Rule) *Error {
	var from []string
	for _, s := range r.From {
		from = append(from, s.Label())
	}
	zh := fmt.Sprintf("不能执行「%s」（%s），该操作须在「%s」状态下进行", r.LabelZH, r.Action, strings.Join(from, "」或「"))
	en := fmt.Sprintf("cannot %s here; it needs state %v", r.Action, r.From)
	var missing []Missing
	cur, tgt := slices.Index(mainLine, a.State), slices.Index(mainLine, r.From[0])
	switch {
	case a.State.Terminal():
		missing = append(missing, Missing{ZH: "申请已终结（" + a.State.Label() + "），不能再办理", EN: "the application is closed (" + string(a.State) + ")"})
	case cur >= 0 && tgt > cur:
		for _, s := range mainLine[cur:tgt] {
			ar, _ := RuleOf(mainAction[s])
			missing = append(missing, Missing{ZH: "尚未完成「" + ar.LabelZH + "」", EN: "step " + string(ar.Action) + " (" + ar.LabelZH + ") not done yet"})
		}
	default:
		missing = append(missing, Missing{ZH: "该步骤已经完成", EN: "this step is already done"})
	}
	return conflict("IllegalTransition", a, missing, zh, en)
}

// decodePayload reads a payload strictly (unknown fields refused),
// naming the field of a wrong value.
func decodePayload(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fieldErr("payload."+ute.Field, "类型错误：须为 %s，收到 JSON %s", "wrong type: must be %s, got a JSON %s", ute.Type, ute.Value)
		}
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			return fieldErr("payload."+strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "不是该操作的字段", "is not a field of this action")
		}
		return fieldErr("payload", "不是有效的 JSON：%v", "is not valid JSON: %v", err)
	}
	return nil
}

func parseDate(field, v string, def time.Time) (time.Time, error) {
	if v == "" {
		if def.IsZero() {
			return time.Time{}, fieldErr(field, "必填（YYYY-MM-DD）", "is required (YYYY-MM-DD)")
		}
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fieldErr(field, "%q 不是日期（YYYY-MM-DD）", "%q is not a date (YYYY-MM-DD)", v)
	}
	return t, nil
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return fieldErr(field, "必填", "is required")
	}
	return nil
}

// Transition takes one action on application id at version (optimistic
// concurrency), as the principal of ctx in the role of the action for the
// application's village, in one transaction: validated, recorded as an
// event (who, role, when, from, to, note, payload) and audited. Errors:
// 403 (role or village), 404, 409 VersionConflict (another change came
// first), 409 IllegalTransition (the state and what is missing), 409
// Incomplete (what the step needs and lacks, e.g. 公示 not over, documents,
// department opinions, a BLOCK siting check), 422 (a payload field).
func (s *Service) Transition(ctx context.Context, id int64, version int, req TransitionRequest) (*Application, error) {
	rule, ok := RuleOf(req.Action)
	if !ok {
		var names []string
		for _, r := range Machine {
			names = append(names, string(r.Action))
		}
		return nil, fieldErr("action", "未知操作 %q（可用：%s）", "unknown action %q (actions: %s)", req.Action, strings.Join(names, ", "))
	}
	p := auth.FromContext(ctx)
	today := s.today()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := loadRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !p.HasAnyFor(auth.DeskRoles, a.Village) {
			return scopeErr(p, a.Village, auth.DeskRoles, "查看该申请")
		}
		role, ok := actingRole(p, rule.Roles, a.Village)
		if !ok {
			return scopeErr(p, a.Village, rule.Roles, "执行该操作")
		}
		if a.Version != version {
			return versionErr(a, version)
		}
		if !slices.Contains(rule.From, a.State) {
			return illegal(a, rule)
		}
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		t := &transition{s: s, tx: tx, a: a, rule: rule, role: role, req: req, today: today, cal: cal, by: actorName(ctx),
			to: rule.To, startStep: true}
		if err := t.apply(ctx); err != nil {
			return err
		}
		steps, _ := json.Marshal(a.Steps)
		var due *time.Time
		if t.startStep {
			due = s.dueFor(t.to, a, today, cal)
		} else {
			due = a.DueOn
		}
		stepStart := a.StepStartedOn
		if t.startStep {
			stepStart = today
		}
		if _, err := tx.Exec(ctx, `UPDATE villageplan.applications SET state = $2, version = version + 1, steps = $3, step_started_on = $4, due_on = $5,
			accepted_on = $6, updated_at = now() WHERE id = $1`, id, t.to, steps, stepStart, due, a.AcceptedOn); err != nil {
			return err
		}
		from := a.State
		if err := event(ctx, tx, id, role, string(req.Action), &from, t.to, req.Note, t.record); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.transition", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: a.Village, PersonalData: true,
			Details: map[string]any{"action": req.Action, "role": role, "from": from, "to": t.to, "note": req.Note}})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, id, false)
}

// dueFor is the deadline of the step that starts today in state st.
func (s *Service) dueFor(st State, a *row, today time.Time, cal *workdays.Calendar) *time.Time {
	d := s.cfg.Durations
	days := map[State]int{Submitted: d.GroupReview, VillageReview: d.VillageReview, TownshipAcceptance: d.Acceptance, Approved: d.Staking, Inspected: d.Registration}
	switch st {
	case Publicizing:
		if a.Steps.Group != nil {
			t, _ := time.Parse(time.DateOnly, a.Steps.Group.PublicityEnd)
			return &t
		}
		return nil
	case JointReview, Decision:
		if a.AcceptedOn != nil && d.Decision > 0 {
			t := cal.AddWorkdays(*a.AcceptedOn, d.Decision)
			return &t
		}
		return nil
	}
	if n := days[st]; n > 0 {
		t := cal.AddWorkdays(today, n)
		return &t
	}
	return nil
}

type transition struct {
	s         *Service
	tx        pgx.Tx
	a         *row
	rule      Rule
	role      auth.Role
	req       TransitionRequest
	today     time.Time
	cal       *workdays.Calendar
	by        string
	to        State
	startStep bool
	// record is the event's payload (what was recorded).
	record any
}

func (t *transition) incomplete(missing []Missing) error {
	return conflict("Incomplete", t.a, missing, fmt.Sprintf("「%s」的条件不满足", t.rule.LabelZH), fmt.Sprintf("%s cannot be done yet", t.rule.Action))
}

func (t *transition) apply(ctx context.Context) error {
	a, day := t.a, t.today.Format(time.DateOnly)
	switch t.req.Action {
	case Publicize:
		var pl PublicizePayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		if err := required("payload.group_leader", pl.GroupLeader); err != nil {
			return err
		}
		meet, err := parseDate("payload.meeting_date", pl.MeetingDate, time.Time{})
		if err != nil {
			return err
		}
		start, err := parseDate("payload.publicity_start", pl.PublicityStart, time.Time{})
		if err != nil {
			return err
		}
		end, err := parseDate("payload.publicity_end", pl.PublicityEnd, time.Time{})
		if err != nil {
			return err
		}
		if meet.After(t.today) {
			return fieldErr("payload.meeting_date", "%s 在今天（%s）之后", "%s is after today (%s)", pl.MeetingDate, day)
		}
		if start.Before(meet) {
			return fieldErr("payload.publicity_start", "公示开始 %s 早于小组讨论 %s", "the 公示 starts (%s) before the group meeting (%s)", pl.PublicityStart, pl.MeetingDate)
		}
		n := t.cal.WorkdaysBetween(start.AddDate(0, 0, -1), end)
		if min := t.s.cfg.Durations.PublicityMin; n < min {
			return fieldErr("payload.publicity_end", "公示期 %s 至 %s 只有 %d 个工作日，不少于 %d 个工作日（最早可至 %s）",
				"the 公示 from %s to %s has %d working days; it needs at least %d (earliest end %s)",
				pl.PublicityStart, pl.PublicityEnd, n, min, t.cal.AddWorkdays(start.AddDate(0, 0, -1), min).Format(time.DateOnly))
		}
		f := a.Form
		a.Steps.Group = &GroupStep{MeetingDate: pl.MeetingDate, GroupLeader: pl.GroupLeader, PublicityStart: pl.PublicityStart,
			PublicityEnd: pl.PublicityEnd, PublicityWorkdays: n, By: t.by, Publicized: map[string]any{
				"reason": f.Reason, "address": f.Proposed.Address, "land_area_m2": f.Proposed.TotalLandM2(),
				"storeys": f.Proposed.Storeys, "floor_area_m2": f.Proposed.FloorAreaM2}}
		t.record = a.Steps.Group
	case GroupApprove:
		var pl GroupApprovePayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		if err := required("payload.opinion", pl.Opinion); err != nil {
			return err
		}
		for i, o := range pl.Objections {
			if err := required(fmt.Sprintf("payload.objections[%d].objection", i), o.Objection); err != nil {
				return err
			}
			if err := required(fmt.Sprintf("payload.objections[%d].resolution", i), o.Resolution); err != nil {
				return err
			}
		}
		g := a.Steps.Group
		if end, _ := time.Parse(time.DateOnly, g.PublicityEnd); !t.today.After(end) {
			return t.incomplete([]Missing{{ZH: fmt.Sprintf("公示期至 %s 结束，期满后方可审核（今天 %s）", g.PublicityEnd, day),
				EN: fmt.Sprintf("the 公示 runs until %s; the group decides after it (today is %s)", g.PublicityEnd, day)}})
		}
		g.Objections, g.Opinion, g.DecidedOn = pl.Objections, pl.Opinion, day
		t.record = pl
	case VillageApprove:
		var pl VillageApprovePayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		if err := required("payload.reviewer", pl.Reviewer); err != nil {
			return err
		}
		if err := required("payload.opinion", pl.Opinion); err != nil {
			return err
		}
		var missing []Missing
		if !a.Form.Proposed.NeighboursConsulted {
			missing = append(missing, Missing{ZH: "未征求相邻权利人意见（申请表「是否征求相邻权利人意见」为否）", EN: "the neighbours (相邻权利人) were not consulted"})
		}
		if a.CheckID == nil {
			missing = append(missing, Missing{ZH: "未提交选址坐标（界址点或图形）", EN: "no site coordinates were given"})
		}
		if len(missing) > 0 {
			return t.incomplete(missing)
		}
		a.Steps.Village = &VillageStep{Reviewer: pl.Reviewer, Opinion: pl.Opinion, On: day, By: t.by}
		t.record = a.Steps.Village
	case Accept:
		if err := decodePayload(t.req.Payload, &struct{}{}); err != nil {
			return err
		}
		var missing []Missing
		if a.CheckID == nil {
			missing = append(missing, Missing{ZH: "未提交选址坐标", EN: "no site coordinates"})
		}
		have, err := documentKinds(ctx, t.tx, a.ID)
		if err != nil {
			return err
		}
		for _, k := range RequiredDocuments {
			if !slices.Contains(have, k) {
				missing = append(missing, Missing{ZH: "缺少材料：" + documentLabel[k], EN: "missing document: " + string(k) + " (" + documentLabel[k] + ")"})
			}
		}
		if len(missing) > 0 {
			return t.incomplete(missing)
		}
		a.AcceptedOn = &t.today
		t.record = map[string]string{"accepted_on": day}
	case Opinion:
		var pl OpinionPayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		dept, err := t.department(ctx, pl.Department)
		if err != nil {
			return err
		}
		if pl.Agree == nil {
			return fieldErr("payload.agree", "必填：true（同意）或 false（不同意）", "is required: true (agree) or false (disagree)")
		}
		if err := required("payload.opinion", pl.Opinion); err != nil {
			return err
		}
		if a.Steps.Opinions == nil {
			a.Steps.Opinions = map[Department]*DeptOpinion{}
		}
		if prev := a.Steps.Opinions[dept]; prev != nil {
			return conflict("IllegalTransition", a, nil, fmt.Sprintf("%s已于 %s 出具意见", dept.Label(), prev.On), fmt.Sprintf("the %s opinion was already given on %s", dept, prev.On))
		}
		a.Steps.Opinions[dept] = &DeptOpinion{Department: dept, Label: dept.Label(), Agree: *pl.Agree, Opinion: pl.Opinion, Reviewer: pl.Reviewer, On: day, By: t.by, Role: t.role}
		t.record = a.Steps.Opinions[dept]
		t.to, t.startStep = JointReview, false
		if len(a.Steps.Opinions) == len(Departments) {
			t.to = Decision
		}
	case Approve:
		if err := decodePayload(t.req.Payload, &struct{}{}); err != nil {
			return err
		}
		missing := t.opinionsMissing(true)
		if a.CheckID == nil {
			missing = append(missing, Missing{ZH: "没有选址审查结果", EN: "no siting check"})
		} else if *a.CheckVerdict == "BLOCK" {
			missing = append(missing, Missing{ZH: fmt.Sprintf("选址审查 %d 的结论为「禁止」（BLOCK），不能批准；须更换选址并重新审查", *a.CheckID),
				EN: fmt.Sprintf("siting check %d is BLOCK: it cannot be approved; change the site and check again", *a.CheckID)})
		}
		blocks, err := t.s.householdBlocks(ctx, t.tx, &a.Form, a.ID, a.OldHomesteadID)
		if err != nil {
			return err
		}
		missing = append(missing, blocks...)
		if len(missing) > 0 {
			return t.incomplete(missing)
		}
		num, err := t.s.allocateNumber(ctx, t.tx, a.Township, t.today.Year())
		if err != nil {
			return err
		}
		if _, err := t.tx.Exec(ctx, `UPDATE villageplan.applications SET approval_number = $2, approved_on = $3 WHERE id = $1`, a.ID, num, t.today); err != nil {
			return err
		}
		a.Steps.Decision = &DecisionStep{Approved: true, ApprovalNumber: num, Note: t.req.Note, On: day, By: t.by, CheckID: *a.CheckID, CheckVerdict: *a.CheckVerdict}
		t.record = a.Steps.Decision
	case Reject:
		var pl RejectPayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		var reasons []string
		for _, r := range pl.Reasons {
			if r = strings.TrimSpace(r); r != "" {
				reasons = append(reasons, r)
			}
		}
		if len(reasons) == 0 {
			return fieldErr("payload.reasons", "不予批准须写明理由（至少一条）", "a refusal needs at least one reason")
		}
		d := &DecisionStep{Approved: false, Reasons: reasons, Note: t.req.Note, On: day, By: t.by}
		if a.CheckID != nil {
			d.CheckID, d.CheckVerdict = *a.CheckID, *a.CheckVerdict
		}
		a.Steps.Decision = d
		t.record = d
	case Stake:
		var pl StakePayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		on, err := parseDate("payload.on", pl.On, t.today)
		if err != nil {
			return err
		}
		g, err := t.measure(ctx, &pl.SiteInput)
		if err != nil {
			return err
		}
		if g.Hausdorff > t.s.cfg.StakeToleranceM {
			return t.incomplete([]Missing{{ZH: fmt.Sprintf("放样界址与批准选址偏差 %.2f 米，超过允许的 %.2f 米，请复核放样", g.Hausdorff, t.s.cfg.StakeToleranceM),
				EN: fmt.Sprintf("the staked boundary deviates %.2f m from the approved site, more than the %.2f m allowed; stake it again", g.Hausdorff, t.s.cfg.StakeToleranceM)}})
		}
		if _, err := t.tx.Exec(ctx, `UPDATE villageplan.applications SET staked = ST_GeomFromGeoJSON($2)::geometry(MultiPolygon, 4490) WHERE id = $1`, a.ID, g.GeoJSON); err != nil {
			return err
		}
		a.Steps.Staking = &StakingStep{On: on.Format(time.DateOnly), DeviationM: round2(g.Hausdorff), AreaM2: round2(g.AreaM2), By: t.by}
		t.record = a.Steps.Staking
	case StartBuilding:
		var pl StartPayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		on, err := parseDate("payload.on", pl.On, t.today)
		if err != nil {
			return err
		}
		if a.Steps.Staking != nil && on.Format(time.DateOnly) < a.Steps.Staking.On {
			return fieldErr("payload.on", "开工日期 %s 早于丈量批放 %s", "construction starts (%s) before the staking (%s)", on.Format(time.DateOnly), a.Steps.Staking.On)
		}
		a.Steps.Construction = &ConstructionStep{StartedOn: on.Format(time.DateOnly), By: t.by}
		t.record = a.Steps.Construction
	case Inspect:
		var pl InspectPayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		on, err := parseDate("payload.on", pl.On, t.today)
		if err != nil {
			return err
		}
		if err := required("payload.opinion", pl.Opinion); err != nil {
			return err
		}
		g, err := t.measure(ctx, &pl.SiteInput)
		if err != nil {
			return err
		}
		f := a.Form.Proposed
		ins := &InspectionStep{On: on.Format(time.DateOnly), BuiltAreaM2: round2(g.AreaM2), ApprovedAreaM2: round2(g.ApprovedAreaM2),
			DeclaredM2: f.HousingLandM2 + f.AncillaryBuildingLandM2, OutsideM2: round2(g.OutsideM2), OutsideM: round2(g.OutsideM), Opinion: pl.Opinion, By: t.by}
		ins.Passed = g.OutsideM2 <= t.s.cfg.InspectToleranceM2
		if !ins.Passed {
			return t.incomplete([]Missing{{ZH: fmt.Sprintf("验收不合格：建成范围有 %.2f 平方米超出批准用地（最远 %.2f 米），允许 %.2f 平方米", ins.OutsideM2, ins.OutsideM, t.s.cfg.InspectToleranceM2),
				EN: fmt.Sprintf("inspection fails: %.2f m² of the building lies outside the approved site (up to %.2f m beyond it); %.2f m² allowed", ins.OutsideM2, ins.OutsideM, t.s.cfg.InspectToleranceM2)}})
		}
		if _, err := t.tx.Exec(ctx, `UPDATE villageplan.applications SET built = ST_GeomFromGeoJSON($2)::geometry(MultiPolygon, 4490) WHERE id = $1`, a.ID, g.GeoJSON); err != nil {
			return err
		}
		a.Steps.Inspection = ins
		t.record = ins
	case Register:
		var pl RegisterPayload
		if err := decodePayload(t.req.Payload, &pl); err != nil {
			return err
		}
		return t.register(ctx, pl)
	case Withdraw:
		if err := decodePayload(t.req.Payload, &struct{}{}); err != nil {
			return err
		}
		if err := required("note", t.req.Note); err != nil {
			return err
		}
		a.Steps.Withdrawal = &WithdrawalStep{On: day, By: t.by, Note: t.req.Note}
		t.record = a.Steps.Withdrawal
	}
	return nil
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// department is the department a review role records for: the one
// asked, or the only one whose review role the principal holds for the
// village.
func (t *transition) department(ctx context.Context, asked Department) (Department, error) {
	p := auth.FromContext(ctx)
	var held []Department
	for _, d := range Departments {
		if p.HasFor(deptRole[d], t.a.Village) {
			held = append(held, d)
		}
	}
	switch {
	case asked != "":
		if !slices.Contains(Departments, asked) {
			return "", fieldErr("payload.department", "应为 agriculture、natural_resources 或 planning，收到 %q", "must be agriculture, natural_resources or planning, got %q", asked)
		}
		if !slices.Contains(held, asked) {
			return "", forbidden(fmt.Sprintf("您没有%s的审查角色", asked.Label()), fmt.Sprintf("you do not hold the review role of %s", asked))
		}
		return asked, nil
	case len(held) == 1:
		return held[0], nil
	}
	return "", fieldErr("payload.department", "您有多个部门的审查角色，请注明部门", "you hold several review roles: name the department")
}

// opinionsMissing lists the department opinions not yet given (and, with
// agree, those that disagree).
func (t *transition) opinionsMissing(agree bool) []Missing {
	var out []Missing
	for _, d := range Departments {
		o := t.a.Steps.Opinions[d]
		switch {
		case o == nil:
			out = append(out, Missing{ZH: d.Label() + "意见", EN: "the opinion of " + string(d)})
		case agree && !o.Agree:
			out = append(out, Missing{ZH: d.Label() + "意见为不同意：" + o.Opinion, EN: string(d) + " disagrees: " + o.Opinion})
		}
	}
	return out
}

// allocateNumber takes the next 批准书号 of township and year: the counter
// row is locked until this transaction ends, so concurrent approvals queue
// on it, and a rolled-back approval never committed its number (no gaps,
// no duplicates). Format: 〈乡镇简称〉宅批〔YYYY〕第NNNN号, e.g.
// 双营子宅批〔2026〕第0001号.
func (s *Service) allocateNumber(ctx context.Context, tx pgx.Tx, township string, year int) (string, error) {
	var n int
	err := tx.QueryRow(ctx, `INSERT INTO villageplan.approval_counters (township_code, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (township_code, year) DO UPDATE SET last = approval_counters.last + 1 RETURNING last`, township, year).Scan(&n)
	if err != nil {
		return "", err
	}
	return FormatNumber(s.cfg.TownshipNames[township], township, year, n), nil
}

// FormatNumber formats a 批准书号; short is the township's short name (its
// code when empty).
func FormatNumber(short, township string, year, n int) string {
	if short == "" {
		short = township
	}
	return fmt.Sprintf("%s宅批〔%d〕第%04d号", short, year, n)
}

// geomFacts are measurements of a staked or built geometry against the
// approved site, on the Gauss-Krüger plane of the application's check.
type geomFacts struct {
	GeoJSON        string
	AreaM2         float64
	ApprovedAreaM2 float64
	Hausdorff      float64
	OutsideM2      float64
	OutsideM       float64
}

func (t *transition) measure(ctx context.Context, si *SiteInput) (*geomFacts, error) {
	if si.empty() {
		return nil, fieldErr("payload.site", "必填：放样或建成范围的界址点坐标（GeoJSON 或界址点文件）", "is required: the staked or built boundary (GeoJSON or a 界址点 file)")
	}
	site, err := si.parse("payload.site")
	if err != nil {
		return nil, err
	}
	b, err := wkb.Marshal(site.Geometry)
	if err != nil {
		return nil, err
	}
	var g geomFacts
	var valid bool
	var why string
	err = t.tx.QueryRow(ctx, `WITH g AS (SELECT ST_Multi(ST_Transform(ST_GeomFromWKB($1, $2::int), 4490)) AS geom),
		p AS (SELECT coalesce((c.result->'site'->>'measure_epsg')::int, 4551) AS srid FROM villageplan.siting_checks c WHERE c.id = $3),
		x AS (SELECT g.geom, ST_Transform(g.geom, p.srid) AS gm, ST_Transform(a.site, p.srid) AS am FROM g, p, villageplan.applications a WHERE a.id = $4)
		SELECT ST_IsValid(geom), coalesce(ST_IsValidReason(geom), ''), ST_AsGeoJSON(geom, 9), ST_Area(gm), ST_Area(am),
			ST_HausdorffDistance(gm, am),
			CASE WHEN ST_IsValid(gm) THEN ST_Area(ST_Difference(gm, am)) ELSE 0 END,
			(SELECT coalesce(max(ST_Distance((d).geom, am)), 0) FROM ST_DumpPoints(gm) d)
		FROM x`, b, site.SRID, t.a.CheckID, t.a.ID).Scan(&valid, &why, &g.GeoJSON, &g.AreaM2, &g.ApprovedAreaM2, &g.Hausdorff, &g.OutsideM2, &g.OutsideM)
	if err != nil {
		return nil, err
	}
	if !valid {
		return nil, fieldErr("payload.site", "图形无效：%s", "the geometry is invalid: %s", why)
	}
	return &g, nil
}

// register writes the parcel to the homesteads layer through the edit
// history with the application as the batch (villageplan.batch_id =
// "application:ID") and, when the old homestead is returned (处置 退给村集体)
// or rebuilt on (建设情形 1), marks it 退出.
func (t *transition) register(ctx context.Context, pl RegisterPayload) error {
	a := t.a
	pl.ZDDM = strings.TrimSpace(pl.ZDDM)
	if !zddmRE.MatchString(pl.ZDDM) {
		return fieldErr("payload.zddm", "%q 不是 19 位宗地代码（如 %s）", "%q is not a 19-character parcel code (e.g. %s)", pl.ZDDM, zddmExample)
	}
	if !strings.HasPrefix(pl.ZDDM, a.Village) {
		return fieldErr("payload.zddm", "宗地代码 %s 的前 12 位应为本村代码 %s", "parcel code %s must start with the village code %s", pl.ZDDM, a.Village)
	}
	if pl.BDCDYH != "" && !bdcdyhRE.MatchString(pl.BDCDYH) {
		return fieldErr("payload.bdcdyh", "%q 不是 28 位不动产单元号", "%q is not a 28-character real-estate unit number", pl.BDCDYH)
	}
	tbl := layers.Homesteads.QualifiedTable()
	var exists bool
	if err := t.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+tbl+` WHERE zddm = $1 OR ($2 <> '' AND bdcdyh = $2))`, pl.ZDDM, pl.BDCDYH).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return fieldErr("payload.zddm", "宗地代码 %s 或不动产单元号已在宅基地图层中", "parcel code %s or the unit number is already in the homesteads layer", pl.ZDDM)
	}
	if _, err := t.tx.Exec(ctx, `SELECT set_config('villageplan.actor', $1, true), set_config('villageplan.batch_id', $2, true)`,
		t.by, fmt.Sprintf("application:%d", a.ID)); err != nil {
		return err
	}
	f := a.Form
	var household *string
	if f.HouseholdID != "" {
		household = &f.HouseholdID
	}
	var bdcdyh *string
	if pl.BDCDYH != "" {
		bdcdyh = &pl.BDCDYH
	}
	var hid int64
	err := t.tx.QueryRow(ctx, `INSERT INTO `+tbl+` (zddm, bdcdyh, xzqdm, zl, zdmj, approval_number, approved_on, status, household_id, holder_name, holder_id_number, geom)
		SELECT $2, $3, a.village_code, a.address,
			round(ST_Area(ST_Transform(coalesce(a.staked, a.site), coalesce((c.result->'site'->>'measure_epsg')::int, 4551)))::numeric, 2),
			a.approval_number, a.approved_on, '已登记', $4, $5, $6, coalesce(a.staked, a.site)
		FROM villageplan.applications a LEFT JOIN villageplan.siting_checks c ON c.id = a.check_id WHERE a.id = $1
		RETURNING id`, a.ID, pl.ZDDM, bdcdyh, household, f.Applicant.Name, f.Applicant.IDNumber).Scan(&hid)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		// registered meanwhile by another transaction
		return fieldErr("payload.zddm", "宗地代码 %s 或不动产单元号已在宅基地图层中", "parcel code %s or the unit number is already in the homesteads layer", pl.ZDDM)
	}
	if err != nil {
		return err
	}
	reg := &RegistrationStep{On: t.today.Format(time.DateOnly), ZDDM: pl.ZDDM, BDCDYH: pl.BDCDYH, HomesteadID: hid, OldHomesteadID: a.OldHomesteadID, By: t.by}
	returns := f.Current != nil && f.Current.Disposal == DisposalReturn || f.Proposed.Situation == 1
	switch {
	case returns && a.OldHomesteadID != nil:
		if _, err := t.tx.Exec(ctx, `UPDATE `+tbl+` SET status = '退出' WHERE id = $1`, *a.OldHomesteadID); err != nil {
			return err
		}
		reg.OldReturned = true
	case returns:
		reg.Note = "原宅基地未关联宅基地图层要素（宗地代码），须在图层中人工办理退出"
	}
	if _, err := t.tx.Exec(ctx, `UPDATE villageplan.applications SET homestead_id = $2 WHERE id = $1`, a.ID, hid); err != nil {
		return err
	}
	a.Steps.Registration = reg
	t.record = reg
	return nil
}
