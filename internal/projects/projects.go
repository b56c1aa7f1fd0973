package projects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"villageplan/internal/auth"
	"villageplan/layers"
)

// Project is one construction project as the API shows it. Amounts are
// in 元 (CNY, to the fen); Geometry is a GeoJSON geometry in CRS84
// (longitude, latitude on CGCS2000, the stored EPSG:4490 coordinates).
type Project struct {
	ID           int64              `json:"id"`
	Village      string             `json:"village"`
	VillageName  string             `json:"village_name"`
	Township     string             `json:"township"`
	Year         int                `json:"year"`
	Task         string             `json:"task"`
	TaskTitle    string             `json:"task_title"`
	Item         string             `json:"item"`
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	Phase        Phase              `json:"phase"`
	Status       Status             `json:"status"`
	StatusLabel  string             `json:"status_label"`
	Version      int                `json:"version"`
	BudgetYuan   float64            `json:"budget_yuan"`
	SpentYuan    float64            `json:"spent_yuan"`
	Funding      map[string]float64 `json:"funding"`
	LeadOffice   string             `json:"lead_office"`
	Geometry     json.RawMessage    `json:"geometry"`
	CreatedBy    string             `json:"created_by"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
	FiledBy      string             `json:"filed_by,omitempty"`
	FiledAt      *time.Time         `json:"filed_at,omitempty"`
	ReviewedBy   string             `json:"reviewed_by,omitempty"`
	ReviewedAt   *time.Time         `json:"reviewed_at,omitempty"`
	ReturnReason string             `json:"return_reason,omitempty"`
	// Actions are what the principal may do now: edit, file, approve,
	// return, progress (phase, spent_yuan), report.
	Actions []string `json:"actions"`
	// History and Reports are filled by Get only.
	History []Event  `json:"history,omitempty"`
	Reports []Report `json:"reports,omitempty"`
}

// Event is one entry of a project's history: who did what when, and the
// fields it changed (old and new values).
type Event struct {
	ID        int64                     `json:"id"`
	At        time.Time                 `json:"at"`
	Actor     string                    `json:"actor"`
	ActorRole string                    `json:"actor_role"`
	Action    string                    `json:"action"`
	Changes   map[string]map[string]any `json:"changes,omitempty"`
	Note      string                    `json:"note,omitempty"`
}

// Input is the body of a create (every field but description, spent_yuan,
// funding, lead_office and geometry required) or of an update (only the
// fields present change; "geometry": null removes the geometry).
type Input struct {
	Village     *string            `json:"village,omitempty"`
	Year        *int               `json:"year,omitempty"`
	Task        *string            `json:"task,omitempty"`
	Item        *string            `json:"item,omitempty"`
	Name        *string            `json:"name,omitempty"`
	Description *string            `json:"description,omitempty"`
	Phase       *Phase             `json:"phase,omitempty"`
	BudgetYuan  *float64           `json:"budget_yuan,omitempty"`
	SpentYuan   *float64           `json:"spent_yuan,omitempty"`
	Funding     map[string]float64 `json:"funding,omitempty"`
	LeadOffice  *string            `json:"lead_office,omitempty"`
	// Geometry is a GeoJSON Point, LineString or Polygon (or Multi…) in
	// CRS84.
	Geometry json.RawMessage `json:"geometry,omitempty"`
}

// Filter selects projects of List.
type Filter struct {
	Village string
	Year    int
	Task    string
	Phase   Phase
	Status  Status
	Limit   int // default 200, at most 1000
	Offset  int
}

// ListResult is a page of projects (without history and reports).
type ListResult struct {
	Total    int       `json:"total"`
	Projects []Project `json:"projects"`
}

var villageCode = regexp.MustCompile(`^[0-9]{12}$`)

// state is the editable content of a project.
type state struct {
	Village, Task, Item, Name, Description, LeadOffice string
	Year                                               int
	Phase                                              Phase
	Budget, Spent                                      float64
	Funding                                            map[string]float64
	Geometry                                           string // GeoJSON as PostGIS writes it, "" for none
}

func (st *state) values() map[string]any {
	geom := any(nil)
	if st.Geometry != "" {
		geom = json.RawMessage(st.Geometry)
	}
	return map[string]any{"village": st.Village, "year": st.Year, "task": st.Task, "item": st.Item, "name": st.Name,
		"description": st.Description, "phase": st.Phase, "budget_yuan": st.Budget, "spent_yuan": st.Spent,
		"funding": st.Funding, "lead_office": st.LeadOffice, "geometry": geom}
}

// diff lists the fields that differ between a and b ({"old", "new"}).
func diff(a, b *state) map[string]map[string]any {
	av, bv := a.values(), b.values()
	out := map[string]map[string]any{}
	for k, v := range bv {
		x, _ := json.Marshal(av[k])
		y, _ := json.Marshal(v)
		if string(x) != string(y) {
			out[k] = map[string]any{"old": av[k], "new": v}
		}
	}
	return out
}

const projectSelect = `SELECT p.id, p.village_code, coalesce(v.xzqmc, ''), p.township_code, p.year, p.task, p.item, p.name,
	p.description, p.phase, p.status, p.version, p.budget_yuan::float8, p.spent_yuan::float8, p.funding, p.lead_office,
	coalesce(ST_AsGeoJSON(p.geom, 7, 0), ''), p.created_by, p.created_at, p.updated_at, coalesce(p.filed_by, ''), p.filed_at,
	coalesce(p.reviewed_by, ''), p.reviewed_at, p.return_reason
	FROM villageplan.construction_projects p LEFT JOIN %s v ON v.xzqdm = p.village_code`

func selectSQL(where string) string {
	return fmt.Sprintf(projectSelect, layers.Villages.QualifiedTable()) + " " + where
}

func scanProject(row pgx.Row) (*Project, error) {
	var p Project
	var geom string
	if err := row.Scan(&p.ID, &p.Village, &p.VillageName, &p.Township, &p.Year, &p.Task, &p.Item, &p.Name,
		&p.Description, &p.Phase, &p.Status, &p.Version, &p.BudgetYuan, &p.SpentYuan, &p.Funding, &p.LeadOffice,
		&geom, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt, &p.FiledBy, &p.FiledAt, &p.ReviewedBy, &p.ReviewedAt, &p.ReturnReason); err != nil {
		return nil, err
	}
	if geom != "" {
		p.Geometry = json.RawMessage(geom)
	} else {
		p.Geometry = json.RawMessage("null")
	}
	if p.Funding == nil {
		p.Funding = map[string]float64{}
	}
	p.StatusLabel = p.Status.Label()
	if t := TaskByCode(p.Task); t != nil {
		p.TaskTitle = t.TitleZH
	}
	return &p, nil
}

func (p *Project) state() *state {
	st := &state{Village: p.Village, Task: p.Task, Item: p.Item, Name: p.Name, Description: p.Description,
		LeadOffice: p.LeadOffice, Year: p.Year, Phase: p.Phase, Budget: p.BudgetYuan, Spent: p.SpentYuan,
		Funding: maps.Clone(p.Funding)}
	if len(p.Geometry) > 0 && string(p.Geometry) != "null" {
		st.Geometry = string(p.Geometry)
	}
	return st
}

// Roles of the workflow.

// mayDraft: a 村级经办 of the village or a 规划编辑 whose scope covers it.
func mayDraft(p *auth.Principal, village string) bool {
	return p.HasFor(auth.VillageClerk, village) || p.HasFor(auth.PlanningEditor, village)
}

// mayReview: a township-wide 乡镇审批 or 规划编辑 (never the filer: checked
// by the caller).
func mayReview(p *auth.Principal) bool {
	return p.HasFor(auth.TownshipApprover, auth.TownshipWide) || p.HasFor(auth.PlanningEditor, auth.TownshipWide)
}

// mayProgress: record the phase, spending and reports of an approved
// project: who may draft for the village, or a township-wide 乡镇审批.
func mayProgress(p *auth.Principal, village string) bool {
	return mayDraft(p, village) || p.HasFor(auth.TownshipApprover, auth.TownshipWide)
}

// mayRead: any grant whose scope covers the village.
func mayRead(p *auth.Principal, village string) bool {
	return p.HasAnyFor(auth.AllRoles, village)
}

// scope is the villages the principal reads: all (township true) or the
// listed ones.
func scope(p *auth.Principal) (township bool, villages []string) {
	if p == nil {
		return false, nil
	}
	for _, g := range p.Grants {
		if g.Village == auth.TownshipWide {
			return true, nil
		}
		if !slices.Contains(villages, g.Village) {
			villages = append(villages, g.Village)
		}
	}
	return false, villages
}

func draftRole(p *auth.Principal, village string) string {
	if p.HasFor(auth.VillageClerk, village) {
		return string(auth.VillageClerk)
	}
	if p.HasFor(auth.PlanningEditor, village) {
		return string(auth.PlanningEditor)
	}
	return string(auth.TownshipApprover)
}

func reviewRole(p *auth.Principal) string {
	if p.HasFor(auth.TownshipApprover, auth.TownshipWide) {
		return string(auth.TownshipApprover)
	}
	return string(auth.PlanningEditor)
}

// actions fills p.Actions for the principal.
func (p *Project) fillActions(pr *auth.Principal) {
	p.Actions = []string{}
	switch p.Status {
	case Draft, Returned:
		if mayDraft(pr, p.Village) {
			p.Actions = append(p.Actions, "edit", "file")
		}
	case Filed:
		if mayReview(pr) && pr.Username != p.FiledBy {
			p.Actions = append(p.Actions, "approve", "return")
		}
	case Approved:
		if mayProgress(pr, p.Village) {
			p.Actions = append(p.Actions, "progress", "report")
		}
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// apply merges in into st and checks every field; full requires the
// fields of a create.
func (s *Service) apply(ctx context.Context, st *state, in *Input, full bool) error {
	need := func(ok bool, field string) error {
		if full && !ok {
			return fieldErr(field, "必填", "is required")
		}
		return nil
	}
	for _, c := range []struct {
		ok    bool
		field string
	}{{in.Village != nil, "village"}, {in.Year != nil, "year"}, {in.Task != nil, "task"}, {in.Item != nil, "item"},
		{in.Name != nil, "name"}, {in.Phase != nil, "phase"}, {in.BudgetYuan != nil, "budget_yuan"}} {
		if err := need(c.ok, c.field); err != nil {
			return err
		}
	}
	if in.Village != nil {
		v := strings.TrimSpace(*in.Village)
		if !villageCode.MatchString(v) {
			return fieldErr("village", "%q 不是 12 位行政区划代码", "%q is not a 12-digit village code (XZQDM)", v)
		}
		var ok bool
		if err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s WHERE xzqdm = $1)`, layers.Villages.QualifiedTable()), v).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fieldErr("village", "村 %s 不在村界图层中", "village %s is not in the villages layer", v)
		}
		st.Village = v
	}
	if in.Year != nil {
		if *in.Year < 2000 || *in.Year > 2100 {
			return fieldErr("year", "%d 不是 2000–2100 之间的年度", "%d is not a year between 2000 and 2100", *in.Year)
		}
		st.Year = *in.Year
	}
	if in.Task != nil {
		st.Task = strings.TrimSpace(*in.Task)
	}
	if in.Item != nil {
		st.Item = strings.TrimSpace(*in.Item)
	}
	t := TaskByCode(st.Task)
	if t == nil {
		codes := make([]string, len(Tasks))
		for i := range Tasks {
			codes[i] = Tasks[i].Code
		}
		return fieldErr("task", "未知任务 %q（可用：%s）", "unknown task %q (tasks: %s)", st.Task, strings.Join(codes, ", "))
	}
	if !t.HasItem(st.Item) {
		return fieldErr("item", "%q 不是任务「%s」的子项（可用：%s）", "%q is not an item of task %s (items: %s)",
			st.Item, t.TitleZH, strings.Join(t.Items, "、"))
	}
	for _, f := range []struct {
		v     *string
		dst   *string
		field string
		max   int
	}{{in.Name, &st.Name, "name", 200}, {in.Description, &st.Description, "description", 4000}, {in.LeadOffice, &st.LeadOffice, "lead_office", 100}} {
		if f.v == nil {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if len([]rune(v)) > f.max {
			return fieldErr(f.field, "超过 %d 个字符", "is longer than %d characters", f.max)
		}
		*f.dst = v
	}
	if st.Name == "" {
		return fieldErr("name", "不能为空", "must not be empty")
	}
	if in.Phase != nil {
		if !in.Phase.Valid() {
			return fieldErr("phase", "未知阶段 %q（可用：谋划储备、开工建设、投产运营、完成）", "unknown phase %q (phases: 谋划储备, 开工建设, 投产运营, 完成)", *in.Phase)
		}
		st.Phase = *in.Phase
	}
	for _, f := range []struct {
		v     *float64
		dst   *float64
		field string
	}{{in.BudgetYuan, &st.Budget, "budget_yuan"}, {in.SpentYuan, &st.Spent, "spent_yuan"}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v > 1e11 {
			return fieldErr(f.field, "%v 不在 0–1000 亿元之间", "%v is not between 0 and 1e11 yuan", *f.v)
		}
		*f.dst = round2(*f.v)
	}
	if in.Funding != nil {
		st.Funding = map[string]float64{}
		for src, amount := range in.Funding {
			if !slices.Contains(FundingSources, src) {
				return fieldErr("funding."+src, "未知资金来源（可用：%s）", "unknown funding source (sources: %s)", strings.Join(FundingSources, "、"))
			}
			if amount < 0 || amount > 1e11 {
				return fieldErr("funding."+src, "%v 不在 0–1000 亿元之间", "%v is not between 0 and 1e11 yuan", amount)
			}
			if amount > 0 {
				st.Funding[src] = round2(amount)
			}
		}
	}
	if len(st.Funding) > 0 {
		var sum float64
		for _, a := range st.Funding {
			sum += a
		}
		if math.Abs(round2(sum)-st.Budget) > 0.005 {
			return fieldErr("funding", "各来源合计 %.2f 元，与总投资 budget_yuan %.2f 元不符", "the sources add up to %.2f yuan, not the budget_yuan of %.2f", sum, st.Budget)
		}
	}
	if len(in.Geometry) > 0 {
		if string(in.Geometry) == "null" {
			st.Geometry = ""
		} else {
			g, err := s.checkGeometry(ctx, in.Geometry, st.Village)
			if err != nil {
				return err
			}
			st.Geometry = g
		}
	} else if in.Village != nil && st.Geometry != "" {
		// a geometry must stay near its village when the village changes
		if _, err := s.checkGeometry(ctx, json.RawMessage(st.Geometry), st.Village); err != nil {
			return err
		}
	}
	return nil
}

// checkGeometry reads a GeoJSON geometry in CRS84 with PostGIS and checks
// its type, validity, coordinates and distance to the village; it returns
// the geometry as PostGIS writes it (2D, 7 decimals).
func (s *Service) checkGeometry(ctx context.Context, raw json.RawMessage, village string) (string, error) {
	var head struct {
		Type string          `json:"type"`
		CRS  json.RawMessage `json:"crs"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", fieldErr("geometry", "不是 GeoJSON 几何对象：%v", "is not a GeoJSON geometry object: %v", err)
	}
	switch head.Type {
	case "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon":
	default:
		return "", fieldErr("geometry", "类型 %q 不可用（点、线或面：Point、LineString、Polygon 及其 Multi 形式）",
			"type %q is not accepted (Point, LineString, Polygon or their Multi forms)", head.Type)
	}
	if len(head.CRS) > 0 && !strings.Contains(string(head.CRS), "CRS84") {
		return "", fieldErr("geometry.crs", "只接受 CRS84（经度、纬度）坐标", "only CRS84 (longitude, latitude) coordinates are accepted")
	}
	var (
		out, reason           string
		valid, empty, inRange bool
	)
	err := s.pool.QueryRow(ctx, `
		WITH g AS (SELECT ST_Force2D(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4490)) AS g)
		SELECT coalesce(ST_AsGeoJSON(g, 7, 0), ''), ST_IsValid(g), coalesce(ST_IsValidReason(g), ''), ST_IsEmpty(g),
		       ST_XMin(g) >= -180 AND ST_XMax(g) <= 180 AND ST_YMin(g) >= -90 AND ST_YMax(g) <= 90
		FROM g`, string(raw)).Scan(&out, &valid, &reason, &empty, &inRange)
	if err != nil {
		if ctx.Err() != nil {
			return "", err
		}
		return "", fieldErr("geometry", "无法读取：%v", "cannot be read: %v", pgMessage(err))
	}
	if empty {
		return "", fieldErr("geometry", "为空", "is empty")
	}
	if !inRange {
		return "", fieldErr("geometry", "坐标超出经度 −180…180、纬度 −90…90（须为 CRS84：经度在前）", "coordinates outside longitude −180…180, latitude −90…90 (CRS84: longitude first)")
	}
	if !valid {
		return "", fieldErr("geometry", "几何无效：%s", "invalid geometry: %s", reason)
	}
	var dist *float64
	if err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT min(ST_Distance(ST_SetSRID(ST_GeomFromGeoJSON($1::text), 4490)::geography, v.geom::geography))
		FROM %s v WHERE v.xzqdm = $2`, layers.Villages.QualifiedTable()), out, village).Scan(&dist); err != nil {
		return "", err
	}
	if dist != nil && *dist > s.cfg.MaxGeometryM {
		return "", fieldErr("geometry", "距村 %s 的村界 %.0f 米，超过 %.0f 米（经纬度是否颠倒？）",
			"lies outside village %s, %.0f m from its boundary, more than %.0f m (longitude and latitude swapped?)", village, *dist, s.cfg.MaxGeometryM)
	}
	return out, nil
}

func pgMessage(err error) string {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "ERROR") {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}

// Create stores a draft (草稿) project as the principal of ctx: a 村级经办
// of the village or a 规划编辑 whose scope covers it.
func (s *Service) Create(ctx context.Context, in Input) (*Project, error) {
	pr := auth.FromContext(ctx)
	st := &state{Funding: map[string]float64{}}
	if err := s.apply(ctx, st, &in, true); err != nil {
		return nil, err
	}
	if !mayDraft(pr, st.Village) {
		return nil, forbidden(fmt.Sprintf("只有村 %s 的村级经办或规划编辑可以建立项目", st.Village),
			fmt.Sprintf("only a village clerk of village %s or a planning editor may draft its projects", st.Village))
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		funding, _ := json.Marshal(st.Funding)
		if err := tx.QueryRow(ctx, `INSERT INTO villageplan.construction_projects
			(village_code, township_code, year, task, item, name, description, phase, status, budget_yuan, spent_yuan,
			 funding, lead_office, geom, created_by)
			VALUES ($1::text, left($1::text, 9), $2, $3, $4, $5, $6, $7, 'draft', $8, $9, $10, $11,
			        CASE WHEN $12 = '' THEN NULL ELSE ST_SetSRID(ST_GeomFromGeoJSON($12), 4490) END, $13)
			RETURNING id`, st.Village, st.Year, st.Task, st.Item, st.Name, st.Description, st.Phase, st.Budget, st.Spent,
			funding, st.LeadOffice, st.Geometry, pr.Username).Scan(&id); err != nil {
			return err
		}
		changes := diff(&state{}, st)
		return s.record(ctx, tx, id, st.Village, "create", draftRole(pr, st.Village), changes, "")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// record writes the history event and the audit row of a change.
func (s *Service) record(ctx context.Context, tx pgx.Tx, id int64, village, action, role string, changes map[string]map[string]any, note string) error {
	pr := auth.FromContext(ctx)
	actor := "cli"
	if pr != nil {
		actor = pr.Username
	}
	ch, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO villageplan.project_events (project_id, actor, actor_role, action, changes, note)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, actor, role, action, ch, note); err != nil {
		return err
	}
	return auth.Audit(ctx, tx, requestOf(ctx), auth.AuditEntry{Action: "project." + action, SubjectKind: "construction_project",
		SubjectID: fmt.Sprint(id), Village: village, Details: map[string]any{"changes": changes, "note": note}})
}

// load reads a project for update (FOR UPDATE inside tx) and checks its
// version (0: do not check).
func (s *Service) load(ctx context.Context, q pgx.Tx, id int64, version int) (*Project, error) {
	p, err := scanProject(q.QueryRow(ctx, selectSQL("WHERE p.id = $1 FOR UPDATE OF p"), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("project", id)
	}
	if err != nil {
		return nil, err
	}
	if !mayRead(auth.FromContext(ctx), p.Village) {
		return nil, notFound("project", id)
	}
	if version != 0 && p.Version != version {
		e := conflict(p, fmt.Sprintf("版本已是 %d（If-Match 为 %d）：他人已修改，请重新读取", p.Version, version),
			fmt.Sprintf("the version is %d, not %d (If-Match): someone changed it, read it again", p.Version, version))
		e.Status, e.Code = http.StatusPreconditionFailed, "VersionMismatch"
		return nil, e
	}
	return p, nil
}

// Update changes the fields present in in, with the version the client
// read (If-Match). A draft or returned project: any field, by who may
// draft for its village. A filed one: nothing (409, under review). An
// approved one: only phase and spent_yuan (progress), by who may draft for
// the village or a township-wide 乡镇审批.
func (s *Service) Update(ctx context.Context, id int64, version int, in Input) (*Project, error) {
	pr := auth.FromContext(ctx)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := s.load(ctx, tx, id, version)
		if err != nil {
			return err
		}
		role := draftRole(pr, p.Village)
		switch p.Status {
		case Filed:
			return conflict(p, "正在乡镇审核，不能修改", "it is under review by the township and cannot be changed")
		case Approved:
			if !mayProgress(pr, p.Village) {
				return forbidden("无权登记该项目的进度", "you may not record this project's progress")
			}
			for _, f := range []struct {
				set  bool
				name string
			}{{in.Village != nil, "village"}, {in.Year != nil, "year"}, {in.Task != nil, "task"}, {in.Item != nil, "item"},
				{in.Name != nil, "name"}, {in.Description != nil, "description"}, {in.BudgetYuan != nil, "budget_yuan"},
				{in.Funding != nil, "funding"}, {in.LeadOffice != nil, "lead_office"}, {len(in.Geometry) > 0, "geometry"}} {
				if f.set {
					e := conflict(p, fmt.Sprintf("已审核的项目只能登记阶段 phase 和已完成投资 spent_yuan；字段 %s 不能再改", f.name),
						fmt.Sprintf("an approved project records only its phase and spent_yuan; field %s cannot change any more", f.name))
					e.Field = f.name
					return e
				}
			}
		default:
			if !mayDraft(pr, p.Village) {
				return forbidden(fmt.Sprintf("只有村 %s 的村级经办或规划编辑可以修改", p.Village),
					fmt.Sprintf("only a village clerk of village %s or a planning editor may change it", p.Village))
			}
		}
		old := p.state()
		st := p.state()
		if err := s.apply(ctx, st, &in, false); err != nil {
			return err
		}
		if in.Village != nil && !mayDraft(pr, st.Village) {
			return forbidden(fmt.Sprintf("无权为村 %s 建立项目", st.Village), fmt.Sprintf("you may not draft projects of village %s", st.Village))
		}
		changes := diff(old, st)
		if len(changes) == 0 {
			return nil
		}
		funding, _ := json.Marshal(st.Funding)
		if _, err := tx.Exec(ctx, `UPDATE villageplan.construction_projects SET village_code = $2::text, township_code = left($2::text, 9),
			year = $3, task = $4, item = $5, name = $6, description = $7, phase = $8, budget_yuan = $9, spent_yuan = $10,
			funding = $11, lead_office = $12, geom = CASE WHEN $13 = '' THEN NULL ELSE ST_SetSRID(ST_GeomFromGeoJSON($13), 4490) END,
			version = version + 1, updated_at = now() WHERE id = $1`,
			id, st.Village, st.Year, st.Task, st.Item, st.Name, st.Description, st.Phase, st.Budget, st.Spent,
			funding, st.LeadOffice, st.Geometry); err != nil {
			return err
		}
		action := "update"
		if p.Status == Approved {
			action = "progress"
		}
		return s.record(ctx, tx, id, st.Village, action, role, changes, "")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Transition is one step of 村申报、乡审核: "file" (草稿/已退回 → 已申报,
// by who may draft; lead_office required and the funding sources must add
// up to the budget), "approve" (已申报 → 已审核) or "return" (已申报 →
// 已退回, reason required), both by a township-wide 乡镇审批 or 规划编辑
// who is not the filer.
func (s *Service) Transition(ctx context.Context, id int64, version int, action, reason string) (*Project, error) {
	pr := auth.FromContext(ctx)
	reason = strings.TrimSpace(reason)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := s.load(ctx, tx, id, version)
		if err != nil {
			return err
		}
		var role, set string
		var args []any
		switch action {
		case "file":
			if p.Status != Draft && p.Status != Returned {
				return conflict(p, "只有草稿或已退回的项目可以申报", "only a draft or returned project can be filed")
			}
			if !mayDraft(pr, p.Village) {
				return forbidden(fmt.Sprintf("只有村 %s 的村级经办或规划编辑可以申报", p.Village),
					fmt.Sprintf("only a village clerk of village %s or a planning editor may file its projects", p.Village))
			}
			if p.LeadOffice == "" {
				return fieldErr("lead_office", "申报前须填写牵头科室", "must be given before filing")
			}
			if p.BudgetYuan > 0 && len(p.Funding) == 0 {
				return fieldErr("funding", "申报前须填写资金来源（合计等于总投资）", "must be given before filing (adding up to the budget)")
			}
			role = draftRole(pr, p.Village)
			set, args = "status = 'filed', filed_by = $2, filed_at = now(), return_reason = ''", []any{pr.Username}
		case "approve", "return":
			if p.Status != Filed {
				return conflict(p, "只有已申报的项目可以审核", "only a filed project can be approved or returned")
			}
			if !mayReview(pr) {
				return forbidden("只有乡镇审批或规划编辑（乡镇范围）可以审核项目", "only a township approver or a township-wide planning editor may review projects")
			}
			if pr.Username == p.FiledBy {
				return forbidden("申报人不能审核自己申报的项目", "the filer cannot review the project they filed")
			}
			role = reviewRole(pr)
			if action == "approve" {
				set, args = "status = 'approved', reviewed_by = $2, reviewed_at = now()", []any{pr.Username}
			} else {
				if reason == "" {
					return fieldErr("reason", "退回须说明理由", "a return needs a reason")
				}
				set, args = "status = 'returned', reviewed_by = $2, reviewed_at = now(), return_reason = $3", []any{pr.Username, reason}
			}
		default:
			return &Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Field: "action",
				ZH: fmt.Sprintf("未知操作 %q（可用：file、approve、return）", action), EN: fmt.Sprintf("unknown action %q (actions: file, approve, return)", action)}
		}
		if _, err := tx.Exec(ctx, `UPDATE villageplan.construction_projects SET `+set+`, version = version + 1, updated_at = now() WHERE id = $1`,
			append([]any{id}, args...)...); err != nil {
			return err
		}
		changes := map[string]map[string]any{"status": {"old": p.Status, "new": map[string]Status{"file": Filed, "approve": Approved, "return": Returned}[action]}}
		return s.record(ctx, tx, id, p.Village, action, role, changes, reason)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
}

// Get returns one project with its history, reports and the principal's
// actions; 404 for a project outside the principal's scope.
func (s *Service) Get(ctx context.Context, id int64) (*Project, error) {
	pr := auth.FromContext(ctx)
	p, err := scanProject(s.pool.QueryRow(ctx, selectSQL("WHERE p.id = $1"), id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !mayRead(pr, p.Village)) {
		return nil, notFound("project", id)
	}
	if err != nil {
		return nil, err
	}
	p.fillActions(pr)
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, actor_role, action, changes, note FROM villageplan.project_events
		WHERE project_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	p.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.ActorRole, &e.Action, &e.Changes, &e.Note)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	p.Reports, err = s.reports(ctx, id)
	return p, err
}

// List returns the projects of the principal's scope that f selects,
// newest year first, then by village and id.
func (s *Service) List(ctx context.Context, f Filter) (*ListResult, error) {
	pr := auth.FromContext(ctx)
	where, args := s.where(pr, f)
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	res := &ListResult{Projects: []Project{}}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.construction_projects p `+where, args...).Scan(&res.Total); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, selectSQL(where+fmt.Sprintf(" ORDER BY p.year DESC, p.village_code, p.id LIMIT %d OFFSET %d", f.Limit, f.Offset)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, err
		}
		p.fillActions(pr)
		res.Projects = append(res.Projects, *p)
	}
	return res, rows.Err()
}

// where renders the scope and filter as a WHERE clause on alias p.
func (s *Service) where(pr *auth.Principal, f Filter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if township, villages := scope(pr); !township {
		add("p.village_code = ANY($%d)", villages)
	}
	if f.Village != "" {
		add("p.village_code = $%d", f.Village)
	}
	if f.Year != 0 {
		add("p.year = $%d", f.Year)
	}
	if f.Task != "" {
		add("p.task = $%d", f.Task)
	}
	if f.Phase != "" {
		add("p.phase = $%d", string(f.Phase))
	}
	if f.Status != "" {
		add("p.status = $%d", string(f.Status))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}
