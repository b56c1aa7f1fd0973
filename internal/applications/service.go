// Package applications is the homestead application (农村宅基地和建房（规划
// 许可）申请) from 申请 to 登记: the 申请表 (Form), the state machine of
// DOMAIN.md §2 (Machine: 申请 → 村民小组审核与公示 → 村级审查 → 乡镇受理 →
// 联审 → 批准/不予批准 → 丈量批放 → 开工 → 竣工验收 → 登记), the siting check
// that belongs to each application, the household rules (R15 一户一宅, R16,
// a pending application of the same household), 批准书号 allocation,
// deadlines in working days (package workdays), uploaded documents, the
// approval ledger (宅基地审批台账) and the overdue list.
//
// Every method acts as the principal of its context (auth.FromContext) and
// checks the role and village scope itself; every write is one transaction
// with its audit row (auth.Audit), and every read of personal data is
// audited. Errors meant for the desk are *Error values (bilingual, with an
// HTTP status).
package applications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/editing"
	"villageplan/internal/siting"
	"villageplan/internal/workdays"
	"villageplan/layers"
)

// Durations are the deadlines of the steps in working days (工作日). Zero
// means the step has no deadline. DOMAIN.md §2 "Deadlines": the 公示 is
// "一般不少于5个工作日" (W3; Jilin's value is [LOCAL]); the township decides
// within 20 working days of acceptance (行政许可法 第四十二条); the other
// values follow the 广西 timetable (桂自然资发〔2020〕70号, W5) as an example
// to be set locally.
type Durations struct {
	GroupReview   int `json:"group_review"`   // 申请 → 村民小组讨论、公示开始
	PublicityMin  int `json:"publicity_min"`  // 公示 at least (working days, both ends counted)
	VillageReview int `json:"village_review"` // 村级审查
	Acceptance    int `json:"acceptance"`     // 报乡镇 → 受理
	Decision      int `json:"decision"`       // 受理 → 批准/不予批准 (联审 included)
	Staking       int `json:"staking"`        // 批准 → 丈量批放
	Registration  int `json:"registration"`   // 竣工验收 → 登记 (0: none)
}

// DefaultDurations: 5 / 5 / 5 / 5 / 20 / 5 / 0.
var DefaultDurations = Durations{GroupReview: 5, PublicityMin: 5, VillageReview: 5, Acceptance: 5, Decision: 20, Staking: 5}

// Config configures a Service; zero fields take the defaults.
type Config struct {
	Durations Durations
	// MaxDocumentBytes caps an uploaded document (default 10 MiB).
	MaxDocumentBytes int64
	// StakeToleranceM is the largest deviation (m, Hausdorff distance on
	// the measuring plane) of the staked site from the approved one
	// (default 0.5 m).
	StakeToleranceM float64
	// InspectToleranceM2 is the largest built area (m²) outside the
	// approved site that 竣工验收 accepts (default 1 m²).
	InspectToleranceM2 float64
	// TownshipNames maps a 9-digit township code to the short name that
	// heads its 批准书号 (default 220112203 → 双营子); a township without
	// one uses its code.
	TownshipNames map[string]string
	// TownshipTitles maps a township code to its full name for document
	// titles (default 220112203 → 长春市双阳区双营子回族乡).
	TownshipTitles map[string]string
	// Now is the clock (default time.Now); dates are taken in China
	// Standard Time (UTC+8).
	Now func() time.Time
}

// China is China Standard Time, the zone of every date of the desk.
var China = time.FixedZone("CST", 8*3600)

// Service is the application desk.
type Service struct {
	pool   *pgxpool.Pool
	siting *siting.Service
	edit   *editing.Service
	cfg    Config
}

// NewService returns the desk on pool, re-checking sites with sit.
func NewService(pool *pgxpool.Pool, sit *siting.Service, cfg Config) *Service {
	if cfg.Durations == (Durations{}) {
		cfg.Durations = DefaultDurations
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = 10 << 20
	}
	if cfg.StakeToleranceM <= 0 {
		cfg.StakeToleranceM = 0.5
	}
	if cfg.InspectToleranceM2 <= 0 {
		cfg.InspectToleranceM2 = 1
	}
	if cfg.TownshipNames == nil {
		cfg.TownshipNames = map[string]string{"220112203": "双营子"}
	}
	if cfg.TownshipTitles == nil {
		cfg.TownshipTitles = map[string]string{"220112203": "长春市双阳区双营子回族乡"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{pool: pool, siting: sit, edit: editing.New(pool, layers.Default()), cfg: cfg}
}

// Config returns the configuration in force.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) today() time.Time { return workdays.Day(s.cfg.Now().In(China)) }

// SiteInput is the proposed (or staked, or built) site: a GeoJSON
// Polygon/MultiPolygon (or Feature) in CRS (e.g. "EPSG:4551"; default
// CRS84 / EPSG:4490 longitude-latitude), or a 界址点 txt file (JZD) with
// exactly one parcel. Either is turned into the homesteads layer's CRS
// (EPSG:4490) by the siting check.
type SiteInput struct {
	GeoJSON json.RawMessage `json:"site,omitempty"`
	CRS     string          `json:"crs,omitempty"`
	JZD     string          `json:"site_jzd,omitempty"`
}

func (si *SiteInput) empty() bool {
	return si == nil || (len(si.GeoJSON) == 0 || string(si.GeoJSON) == "null") && strings.TrimSpace(si.JZD) == ""
}

// parse reads the site; field names the request field for errors.
func (si *SiteInput) parse(field string) (siting.Site, error) {
	if len(si.GeoJSON) > 0 && string(si.GeoJSON) != "null" && strings.TrimSpace(si.JZD) != "" {
		return siting.Site{}, fieldErr(field, "请只提交一种选址：GeoJSON（site）或界址点文件（site_jzd）", "send one site only: GeoJSON (site) or a 界址点 file (site_jzd)")
	}
	if strings.TrimSpace(si.JZD) != "" {
		sites, err := siting.ParseJZDSites([]byte(si.JZD))
		if err != nil {
			return siting.Site{}, siteErr(field+"_jzd", err)
		}
		if len(sites) != 1 {
			return siting.Site{}, fieldErr(field+"_jzd", "界址点文件有 %d 个地块，一份申请只能有 1 个", "the 界址点 file has %d parcels; an application has exactly 1", len(sites))
		}
		return sites[0], nil
	}
	site, err := siting.ParseGeoJSONSite(si.GeoJSON, si.CRS)
	if err != nil {
		return siting.Site{}, siteErr(field, err)
	}
	return site, nil
}

func siteErr(field string, err error) error {
	var ie *siting.InputError
	if errors.As(err, &ie) {
		e := &Error{Status: http.StatusUnprocessableEntity, Code: "InvalidSite", Field: field,
			ZH: "选址（" + field + "）：" + ie.ZH, EN: "site (" + field + "): " + ie.EN}
		if ie == siting.ErrOutsideData {
			e.Code = "OutsideData"
		}
		return e
	}
	return err
}

// row is an application as stored.
type row struct {
	ID             int64
	Village        string
	Township       string
	State          State
	Version        int
	Form           Form
	Steps          Steps
	CheckID        *int64
	CheckVerdict   *string
	SiteAreaM2     *float64
	Site           *string
	Staked         *string
	Built          *string
	AcceptedOn     *time.Time
	ApprovalNumber *string
	ApprovedOn     *time.Time
	HomesteadID    *int64
	OldHomesteadID *int64
	StepStartedOn  time.Time
	DueOn          *time.Time
	CreatedAt      time.Time
	CreatedBy      string
	UpdatedAt      time.Time
	IsSample       bool
	VillageName    *string
}

var rowColumns = `a.id, a.village_code, a.township_code, a.state, a.version, a.form, a.steps, a.check_id, a.check_verdict, a.site_area_m2,
	ST_AsGeoJSON(a.site, 8), ST_AsGeoJSON(a.staked, 8), ST_AsGeoJSON(a.built, 8), a.accepted_on, a.approval_number, a.approved_on,
	a.homestead_id, a.old_homestead_id, a.step_started_on, a.due_on, a.created_at, a.created_by, a.updated_at, a.is_sample,
	(SELECT v.xzqmc FROM ` + layers.Villages.QualifiedTable() + ` v WHERE v.xzqdm = a.village_code ORDER BY v.id LIMIT 1)`

func scanRow(r pgx.Row) (*row, error) {
	var a row
	var form, steps []byte
	err := r.Scan(&a.ID, &a.Village, &a.Township, &a.State, &a.Version, &form, &steps, &a.CheckID, &a.CheckVerdict, &a.SiteAreaM2,
		&a.Site, &a.Staked, &a.Built, &a.AcceptedOn, &a.ApprovalNumber, &a.ApprovedOn,
		&a.HomesteadID, &a.OldHomesteadID, &a.StepStartedOn, &a.DueOn, &a.CreatedAt, &a.CreatedBy, &a.UpdatedAt, &a.IsSample, &a.VillageName)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(form, &a.Form); err != nil {
		return nil, fmt.Errorf("application %d: stored form: %w", a.ID, err)
	}
	if err := json.Unmarshal(steps, &a.Steps); err != nil {
		return nil, fmt.Errorf("application %d: stored steps: %w", a.ID, err)
	}
	return &a, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func loadRow(ctx context.Context, q querier, id int64, lock bool) (*row, error) {
	sql := `SELECT ` + rowColumns + ` FROM villageplan.applications a WHERE a.id = $1`
	if lock {
		sql += ` FOR UPDATE OF a`
	}
	a, err := scanRow(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(id)
	}
	return a, err
}

// Application is an application as the desk sees it.
type Application struct {
	ID          int64  `json:"id"`
	VillageCode string `json:"village_code"`
	VillageName string `json:"village_name,omitempty"`
	Township    string `json:"township_code"`
	State       State  `json:"state"`
	StateLabel  string `json:"state_label"`
	// Version is the optimistic-concurrency version (the ETag); send it
	// back in If-Match to change the application.
	Version int  `json:"version"`
	Form    Form `json:"form"`
	// Site is the proposed site in EPSG:4490 (lon, lat) as GeoJSON.
	Site       json.RawMessage `json:"site,omitempty"`
	SiteAreaM2 *float64        `json:"site_area_m2,omitempty"`
	// Check is the current siting check of the site.
	Check          *CheckSummary   `json:"check,omitempty"`
	Steps          Steps           `json:"steps"`
	AcceptedOn     *string         `json:"accepted_on,omitempty"`
	ApprovalNumber *string         `json:"approval_number,omitempty"`
	ApprovedOn     *string         `json:"approved_on,omitempty"`
	Staked         json.RawMessage `json:"staked,omitempty"`
	Built          json.RawMessage `json:"built,omitempty"`
	HomesteadID    *int64          `json:"homestead_id,omitempty"`
	OldHomesteadID *int64          `json:"old_homestead_id,omitempty"`
	StepStartedOn  string          `json:"step_started_on"`
	// DueOn is the deadline of the current step; DaysLeft the working
	// days from today to it (negative when overdue).
	DueOn     *string        `json:"due_on,omitempty"`
	DaysLeft  *int           `json:"days_left,omitempty"`
	Overdue   bool           `json:"overdue"`
	Actions   []Action       `json:"actions"`
	Events    []Event        `json:"events"`
	Documents []DocumentMeta `json:"documents"`
	CreatedAt time.Time      `json:"created_at"`
	CreatedBy string         `json:"created_by"`
	UpdatedAt time.Time      `json:"updated_at"`
	// Sample marks 示例数据.
	Sample bool `json:"sample,omitempty"`
	// Links are the printable documents that exist in the current state
	// (PrintLinks; filled by the HTTP layer, which knows the base URL).
	Links []PrintLink `json:"links,omitempty"`
}

// CheckSummary is the application's current siting check.
type CheckSummary struct {
	ID      int64  `json:"id"`
	Verdict string `json:"verdict"`
}

// Event is one recorded transition.
type Event struct {
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	Role      string          `json:"role"`
	RoleLabel string          `json:"role_label"`
	Action    string          `json:"action"`
	From      *State          `json:"from,omitempty"`
	To        State           `json:"to"`
	Note      string          `json:"note,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

func dateStr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func rawOrNil(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

func (s *Service) view(ctx context.Context, q pgx.Tx, a *row, cal *workdays.Calendar) (*Application, error) {
	out := &Application{ID: a.ID, VillageCode: a.Village, Township: a.Township, State: a.State, StateLabel: a.State.Label(),
		Version: a.Version, Form: a.Form, Site: rawOrNil(a.Site), SiteAreaM2: a.SiteAreaM2, Steps: a.Steps,
		AcceptedOn: dateStr(a.AcceptedOn), ApprovalNumber: a.ApprovalNumber, ApprovedOn: dateStr(a.ApprovedOn),
		Staked: rawOrNil(a.Staked), Built: rawOrNil(a.Built), HomesteadID: a.HomesteadID, OldHomesteadID: a.OldHomesteadID,
		StepStartedOn: a.StepStartedOn.Format(time.DateOnly), DueOn: dateStr(a.DueOn),
		CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy, UpdatedAt: a.UpdatedAt, Sample: a.IsSample,
		Actions: ActionsFor(auth.FromContext(ctx), a.State, a.Village), Events: []Event{}, Documents: []DocumentMeta{}}
	if out.Actions == nil {
		out.Actions = []Action{}
	}
	if a.VillageName != nil {
		out.VillageName = *a.VillageName
	}
	if a.CheckID != nil && a.CheckVerdict != nil {
		out.Check = &CheckSummary{ID: *a.CheckID, Verdict: *a.CheckVerdict}
	}
	if a.DueOn != nil {
		n := cal.WorkdaysBetween(s.today(), *a.DueOn)
		out.DaysLeft = &n
		out.Overdue = a.DueOn.Before(s.today())
	}
	rows, err := q.Query(ctx, `SELECT at, actor, actor_role, action, from_state, to_state, note, payload FROM villageplan.application_events
		WHERE application_id = $1 ORDER BY id`, a.ID)
	if err != nil {
		return nil, err
	}
	out.Events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		var payload []byte
		err := r.Scan(&e.At, &e.Actor, &e.Role, &e.Action, &e.From, &e.To, &e.Note, &payload)
		e.RoleLabel = auth.Role(e.Role).Label()
		if len(payload) > 2 {
			e.Payload = payload
		}
		return e, err
	})
	if err != nil {
		return nil, err
	}
	out.Documents, err = listDocuments(ctx, q, a.ID)
	return out, err
}

// actorName is the principal's user name for the records ("cli" outside
// HTTP without a principal).
func actorName(ctx context.Context) string {
	if p := auth.FromContext(ctx); p != nil {
		return p.Username
	}
	return "cli"
}

// actingRole picks the role in which p acts: the first of roles it holds
// for village.
func actingRole(p *auth.Principal, roles []auth.Role, village string) (auth.Role, bool) {
	for _, r := range roles {
		if p.HasFor(r, village) {
			return r, true
		}
	}
	return "", false
}

func scopeErr(p *auth.Principal, village string, roles []auth.Role, what string) *Error {
	var names []string
	for _, r := range roles {
		names = append(names, r.Label())
	}
	return forbidden(fmt.Sprintf("无权%s：须有村 %s 的角色 %s", what, village, strings.Join(names, "、")),
		fmt.Sprintf("not allowed to %s: needs one of the roles %s for village %s (you have %v)", whatEN[what], rolesEN(roles), village, p.Roles()))
}

var whatEN = map[string]string{"查看该申请": "read this application", "提交申请": "file an application", "修改申请": "change this application",
	"执行该操作": "take this action", "上传材料": "upload documents", "查看材料": "read documents"}

func rolesEN(rs []auth.Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// fileRoles may file and correct applications.
var fileRoles = []auth.Role{auth.VillageClerk, auth.TownshipWindow}

// editableStates are those in which the form and site may still change
// (before the township accepted it).
var editableStates = []State{Submitted, VillageReview, TownshipAcceptance}

func (s *Service) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// check runs the siting check of the application's site and returns it
// with the parsed site, not stored: the caller stores it with saveCheck in
// the transaction that makes it the application's current check, so that
// a filing refused after the check leaves no check behind. A site outside
// the form's village is refused.
func (s *Service) check(ctx context.Context, f *Form, si *SiteInput, field string) (*siting.Result, siting.Site, error) {
	site, err := si.parse(field)
	if err != nil {
		return nil, site, err
	}
	in := checkInput(f)
	if err := in.Validate(s.siting.RuleSet()); err != nil {
		return nil, site, siteErr("form", err)
	}
	res, err := s.siting.Check(ctx, site, in)
	if err != nil {
		return nil, site, siteErr(field, err)
	}
	if res.Site.VillageCode != f.VillageCode {
		return nil, site, fieldErr(field, "选址位于 %s（%s），不在申请村 %s 内", "the site lies in %s (%s), not in the village applied in, %s",
			res.Site.VillageName, res.Site.VillageCode, f.VillageCode)
	}
	return res, site, nil
}

// setCheck stores check res of site in tx and makes it the application's
// current one with its site.
func (s *Service) setCheck(ctx context.Context, tx pgx.Tx, id int64, site siting.Site, res *siting.Result) error {
	if err := s.siting.SaveIn(ctx, tx, site, res); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE villageplan.applications a SET site = c.site, site_area_m2 = $3, check_id = c.id, check_verdict = c.verdict
		FROM villageplan.siting_checks c WHERE c.id = $2 AND a.id = $1`, id, res.ID, res.Site.AreaM2)
	return err
}

// Create files an application (state Submitted) for the village of the
// form, with its site checked. The principal needs 村级经办 or 乡镇窗口 for
// that village. Refused: an invalid form (422 listing every field), an
// invalid site or one outside the village (422), a household blocked by
// R15/R16 or a pending application (409 HouseholdBlocked).
func (s *Service) Create(ctx context.Context, f Form, si *SiteInput) (*Application, error) {
	p := auth.FromContext(ctx)
	today := s.today()
	if err := formErrors(f.Validate(today)); err != nil {
		return nil, err
	}
	role, ok := actingRole(p, fileRoles, f.VillageCode)
	if !ok {
		return nil, scopeErr(p, f.VillageCode, fileRoles, "提交申请")
	}
	var res *siting.Result
	var site siting.Site
	if !si.empty() {
		var err error
		if res, site, err = s.check(ctx, &f, si, "site"); err != nil {
			return nil, err
		}
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		oldID, err := s.linkOld(ctx, tx, &f)
		if err != nil {
			return err
		}
		if blocks, err := s.householdBlocks(ctx, tx, &f, 0, oldID); err != nil {
			return err
		} else if len(blocks) > 0 {
			return householdErr(blocks)
		}
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		form, _ := json.Marshal(f)
		due := cal.AddWorkdays(today, s.cfg.Durations.GroupReview)
		err = tx.QueryRow(ctx, `INSERT INTO villageplan.applications (village_code, township_code, state, form, applicant_name, household_ids, address,
			old_homestead_id, step_started_on, due_on, created_by, is_sample)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			f.VillageCode, f.VillageCode[:9], Submitted, form, f.Applicant.Name, f.idNumbers(), f.Proposed.Address,
			oldID, today, nullDue(s.cfg.Durations.GroupReview, due), actorName(ctx), isSample(ctx)).Scan(&id)
		if err != nil {
			return err
		}
		if res != nil {
			if err := s.setCheck(ctx, tx, id, site, res); err != nil {
				return err
			}
		}
		if err := event(ctx, tx, id, role, "create", nil, Submitted, "", nil); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.create", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: f.VillageCode, PersonalData: true, Details: map[string]any{"role": role}})
	})
	if err != nil {
		return nil, err
	}
	return s.get(ctx, id, false)
}

func nullDue(days int, due time.Time) *time.Time {
	if days <= 0 {
		return nil
	}
	return &due
}

type sampleKey struct{}

func isSample(ctx context.Context) bool { v, _ := ctx.Value(sampleKey{}).(bool); return v }

func event(ctx context.Context, tx pgx.Tx, id int64, role auth.Role, action string, from *State, to State, note string, payload any) error {
	b := []byte("{}")
	if payload != nil {
		var err error
		if b, err = json.Marshal(payload); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO villageplan.application_events (application_id, actor, actor_role, action, from_state, to_state, note, payload)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, actorName(ctx), string(role), action, from, to, note, b)
	return err
}

// Get returns an application with its events and documents, auditing the
// read of its personal data. The principal needs a desk role for its
// village.
func (s *Service) Get(ctx context.Context, id int64) (*Application, error) {
	return s.get(ctx, id, true)
}

func (s *Service) get(ctx context.Context, id int64, audit bool) (*Application, error) {
	var out *Application
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := loadRow(ctx, tx, id, false)
		if err != nil {
			return err
		}
		p := auth.FromContext(ctx)
		if !p.HasAnyFor(auth.DeskRoles, a.Village) {
			return scopeErr(p, a.Village, auth.DeskRoles, "查看该申请")
		}
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = s.view(ctx, tx, a, cal); err != nil {
			return err
		}
		if !audit {
			return nil
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.read", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: a.Village, PersonalData: true})
	})
	return out, err
}

// versionErr is the 409 of a stale If-Match.
func versionErr(a *row, sent int) *Error {
	e := conflict("VersionConflict", a, nil,
		fmt.Sprintf("您提交的版本为 %d，当前版本为 %d：申请已被他人修改，请刷新后重试", sent, a.Version),
		fmt.Sprintf("you sent version %d but it is at version %d: someone else changed it; reload and try again", sent, a.Version))
	return e
}

// Update replaces the form and, when si is not empty, the site, of an
// application still in 申请, 村级审查 or 乡镇受理, at version (optimistic
// concurrency: 409 when it changed meanwhile). The siting check is run
// again when the site changes, and also on the stored site when a field
// the check reads changes (户编号, 退出/原址建设, storeys, floor area).
func (s *Service) Update(ctx context.Context, id int64, version int, f Form, si *SiteInput) (*Application, error) {
	p := auth.FromContext(ctx)
	if err := formErrors(f.Validate(s.today())); err != nil {
		return nil, err
	}
	// Read first, check outside any transaction (the check reads every
	// layer through the pool), then write under the row lock with the
	// version compared again.
	// One statement through the pool: no BEGIN/COMMIT round trips.
	cur, err := loadRow(ctx, s.pool, id, false)
	if err != nil {
		return nil, err
	}
	if _, ok := actingRole(p, fileRoles, cur.Village); !ok {
		return nil, scopeErr(p, cur.Village, fileRoles, "修改申请")
	}
	if f.VillageCode != cur.Village {
		return nil, fieldErr("form.village_code", "申请村不能修改（%s）；请撤回后重新申请", "the village cannot change (%s); withdraw and file again", cur.Village)
	}
	if cur.Version != version {
		return nil, versionErr(cur, version)
	}
	var res *siting.Result
	var site siting.Site
	switch {
	case !si.empty():
		if res, site, err = s.check(ctx, &f, si, "site"); err != nil {
			return nil, err
		}
	case cur.Site != nil && checkInput(&cur.Form) != checkInput(&f):
		if res, site, err = s.check(ctx, &f, &SiteInput{GeoJSON: json.RawMessage(*cur.Site), CRS: "EPSG:4490"}, "site"); err != nil {
			return nil, err
		}
	}
	var out *Application
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := loadRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		role, _ := actingRole(p, fileRoles, a.Village)
		if a.Version != version {
			return versionErr(a, version)
		}
		if !slices.Contains(editableStates, a.State) {
			return conflict("NotEditable", a, nil, "受理后不能修改申请表", "the form cannot change after the township accepted it")
		}
		oldID, err := s.linkOld(ctx, tx, &f)
		if err != nil {
			return err
		}
		if blocks, err := s.householdBlocks(ctx, tx, &f, id, oldID); err != nil {
			return err
		} else if len(blocks) > 0 {
			return householdErr(blocks)
		}
		details := map[string]any{"site_changed": !si.empty(), "rechecked": res != nil}
		if res != nil {
			if err := s.setCheck(ctx, tx, id, site, res); err != nil {
				return err
			}
			details["check_id"], details["verdict"] = res.ID, res.Verdict
		}
		// The form last, returning the whole row as it now stands: the
		// answer is built in this transaction rather than read again in
		// another one.
		form, _ := json.Marshal(f)
		upd, err := scanRow(tx.QueryRow(ctx, `UPDATE villageplan.applications a SET form = $2, applicant_name = $3, household_ids = $4, address = $5,
			old_homestead_id = $6, version = version + 1, updated_at = now() WHERE a.id = $1 RETURNING `+rowColumns,
			id, form, f.Applicant.Name, f.idNumbers(), f.Proposed.Address, oldID))
		if err != nil {
			return err
		}
		st := a.State
		if err := event(ctx, tx, id, role, "update", &st, st, "修改申请表", details); err != nil {
			return err
		}
		if err := auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "application.update", SubjectKind: "application",
			SubjectID: fmt.Sprint(id), Village: a.Village, PersonalData: true, Details: details}); err != nil {
			return err
		}
		cal, err := workdays.Load(ctx, tx)
		if err != nil {
			return err
		}
		out, err = s.view(ctx, tx, upd, cal)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkInput is what the siting check reads from the form.
func checkInput(f *Form) siting.Input {
	in := siting.Input{HouseholdID: f.HouseholdID, VillageCode: f.VillageCode,
		RebuildInPlace: f.Proposed.Situation == 1, Storeys: f.Proposed.Storeys, FloorAreaM2: f.Proposed.FloorAreaM2}
	if f.Current != nil && f.Current.Disposal == DisposalReturn {
		in.ReturnsOldHomestead = true
	}
	return in
}

// linkOld finds the current homestead named by the form (宗地代码) in the
// homesteads layer; it must be held by the household (户主 身份证号 or
// 户编号 of the form).
func (s *Service) linkOld(ctx context.Context, tx pgx.Tx, f *Form) (*int64, error) {
	if f.Current == nil || f.Current.ZDDM == "" {
		return nil, nil
	}
	var id int64
	var holder, household *string
	var status string
	err := tx.QueryRow(ctx, `SELECT id, holder_id_number, household_id, status FROM `+layers.Homesteads.QualifiedTable()+` WHERE zddm = $1`,
		f.Current.ZDDM).Scan(&id, &holder, &household, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fieldErr("form.current.zddm", "宅基地图层中没有宗地代码 %s", "no parcel %s in the homesteads layer", f.Current.ZDDM)
	}
	if err != nil {
		return nil, err
	}
	held := holder != nil && slices.Contains(f.idNumbers(), *holder) || household != nil && f.HouseholdID != "" && *household == f.HouseholdID
	if !held {
		return nil, fieldErr("form.current.zddm", "宗地 %s 的户主不是本户成员（按身份证号和户编号核对）", "parcel %s is not held by this household (by ID numbers and household id)", f.Current.ZDDM)
	}
	if status == "退出" {
		return nil, fieldErr("form.current.zddm", "宗地 %s 已退出", "parcel %s has already been returned", f.Current.ZDDM)
	}
	return &id, nil
}

// householdErr is the 409 of a household that may not apply.
func householdErr(blocks []Missing) *Error {
	e := &Error{Status: http.StatusConflict, Code: "HouseholdBlocked", Missing: blocks}
	var zh, en []string
	for _, b := range blocks {
		zh, en = append(zh, b.ZH), append(en, b.EN)
	}
	e.ZH = "该户不能申请宅基地：" + strings.Join(zh, "；")
	e.EN = "this household may not apply for a homestead: " + strings.Join(en, "; ")
	return e
}

// householdBlocks applies the household rules (DOMAIN.md §1) to the form,
// under an advisory lock per ID number so that two filings for the same
// household cannot both pass:
//   - a pending application (not 已登记/不予批准/已撤回) whose 户主 or any
//     member shares an ID number (R18: one application per household);
//   - R15 一户一宅 (土地管理法 第六十二条第一款): a homestead in the layer
//     (status not 退出) whose 户主身份证号 is one of the household's ID numbers
//     or whose 户编号 is the form's, or a registered application of the
//     household whose parcel was not returned — allowed only when the form
//     returns that one homestead (处置 退给村集体) or rebuilds on it (建设情形
//     1);
//   - R16 (第六十二条第五款): the household declares an earlier sale,
//     rental or gift of a rural house, or villageplan.house_transfers has a
//     record for one of its ID numbers.
func (s *Service) householdBlocks(ctx context.Context, tx pgx.Tx, f *Form, self int64, oldID *int64) ([]Missing, error) {
	ids := slices.Clone(f.idNumbers())
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('villageplan.household:' || $1, 0))`, id); err != nil {
			return nil, err
		}
	}
	var out []Missing
	// The household's applications are found through the GIN index on
	// household_ids first (a MATERIALIZED CTE): written as one SELECT with
	// ORDER BY id LIMIT 5, the planner, which guesses ~150 rows for &&,
	// walks the primary key through every application instead (22 ms of
	// the 34 ms of an update at 20,000 applications).
	rows, err := tx.Query(ctx, `WITH h AS MATERIALIZED (SELECT id, state FROM villageplan.applications WHERE household_ids && $1)
		SELECT id, state FROM h WHERE state NOT IN ('registered', 'rejected', 'withdrawn') AND id <> $2 ORDER BY id LIMIT 5`, ids, self)
	if err != nil {
		return nil, err
	}
	type pend struct {
		ID    int64
		State State
	}
	pending, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pend])
	if err != nil {
		return nil, err
	}
	for _, p := range pending {
		out = append(out, Missing{ZH: fmt.Sprintf("本户已有未办结的申请 %d（%s），一户只能有一份在办申请", p.ID, p.State.Label()),
			EN: fmt.Sprintf("the household already has application %d in progress (%s); one application per household", p.ID, p.State)})
	}
	// The registered applications of the household likewise through the
	// GIN index (not every registered application with a parcel).
	rows, err = tx.Query(ctx, `WITH a AS MATERIALIZED (SELECT id, state, homestead_id FROM villageplan.applications WHERE household_ids && $1)
		SELECT h.id, h.zddm FROM `+layers.Homesteads.QualifiedTable()+` h
		WHERE h.status <> '退出' AND (h.holder_id_number = ANY($1) OR ($2 <> '' AND h.household_id = $2))
		UNION
		SELECT h.id, h.zddm FROM a JOIN `+layers.Homesteads.QualifiedTable()+` h ON h.id = a.homestead_id
		WHERE a.state = 'registered' AND a.id <> $3 AND h.status <> '退出'
		ORDER BY 1`, ids, f.HouseholdID, self)
	if err != nil {
		return nil, err
	}
	type held struct {
		ID   int64
		ZDDM string
	}
	holds, err := pgx.CollectRows(rows, pgx.RowToStructByPos[held])
	if err != nil {
		return nil, err
	}
	givesBack := f.Proposed.Situation == 1 || f.Current != nil && f.Current.Disposal == DisposalReturn
	var kept []string
	for _, h := range holds {
		if givesBack && (oldID == nil && len(holds) == 1 || oldID != nil && *oldID == h.ID) {
			continue
		}
		kept = append(kept, h.ZDDM)
	}
	if len(kept) > 0 {
		out = append(out, Missing{ZH: fmt.Sprintf("一户一宅：本户已有宅基地 %s，且未申报退给村集体或原址建设（土地管理法第六十二条第一款）", strings.Join(kept, "、")),
			EN: fmt.Sprintf("one household, one homestead: the household holds %s and neither returns it nor rebuilds on it (Land Administration Law art. 62 ¶1)", strings.Join(kept, ", "))})
	}
	if f.PreviouslyTransferred {
		out = append(out, Missing{ZH: "本户申报曾出卖、出租或赠与农村住房，不予批准宅基地（土地管理法第六十二条第五款）",
			EN: "the household declares it sold, rented out or gave away a rural house before (Land Administration Law art. 62 ¶5)"})
	}
	rows, err = tx.Query(ctx, `SELECT id_number, kind, coalesce(to_char(transferred_on, 'YYYY-MM-DD'), '') FROM villageplan.house_transfers
		WHERE id_number = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	type tr struct{ ID, Kind, On string }
	trs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tr])
	if err != nil {
		return nil, err
	}
	for _, t := range trs {
		out = append(out, Missing{ZH: fmt.Sprintf("登记记录：身份证号 %s…%s 曾%s农村住房（%s），不予批准宅基地（土地管理法第六十二条第五款）", t.ID[:6], t.ID[14:], t.Kind, t.On),
			EN: fmt.Sprintf("recorded: ID %s…%s %s a rural house (%s) (Land Administration Law art. 62 ¶5)", t.ID[:6], t.ID[14:], map[string]string{"出卖": "sold", "出租": "rented out", "赠与": "gave away"}[t.Kind], t.On)})
	}
	return out, nil
}

// RecordTransfer records that a person sold, rented out or gave away a
// rural house (R16); kind is 出卖, 出租 or 赠与. Needs 乡镇窗口 (township-wide).
func (s *Service) RecordTransfer(ctx context.Context, idNumber, kind string, on *time.Time, note string) error {
	p := auth.FromContext(ctx)
	if !p.HasFor(auth.TownshipWindow, auth.TownshipWide) {
		return scopeErr(p, "(全乡镇)", []auth.Role{auth.TownshipWindow}, "执行该操作")
	}
	if _, zh, en := ParseID(idNumber, s.today()); zh != "" {
		return &Error{Status: 422, Code: "InvalidField", Field: "id_number", ZH: "字段 id_number：" + zh, EN: "field id_number: " + en}
	}
	if kind != "出卖" && kind != "出租" && kind != "赠与" {
		return fieldErr("kind", "应为 出卖、出租 或 赠与，收到 %q", "must be 出卖, 出租 or 赠与, got %q", kind)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO villageplan.house_transfers (id_number, kind, transferred_on, note, recorded_by) VALUES ($1, $2, $3, $4, $5)`,
			idNumber, kind, on, note, actorName(ctx)); err != nil {
			return err
		}
		return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "house_transfer.record", SubjectKind: "person",
			SubjectID: idNumber[:6] + "…", PersonalData: true, Details: map[string]any{"kind": kind}})
	})
}
