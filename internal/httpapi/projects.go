package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"villageplan/internal/auth"
	"villageplan/internal/projects"
)

// The construction-project library (乡村建设项目库 and 台账, package
// projects). The PermissionTable opens the reads to every signed-in role
// and the writes to the roles of 村申报、乡审核; the village scope, the
// filer ≠ reviewer rule and the status checks are the package's.
type projectRoutes struct {
	s   *Server
	svc *projects.Service
}

// Roles of the project routes.
var (
	// projectDrafters create projects (a 村级经办 for its village).
	projectDrafters = []Role{auth.VillageClerk, auth.PlanningEditor}
	// projectWriters change, file, review and report (the package decides
	// which of them may do what to which project).
	projectWriters = []Role{auth.VillageClerk, auth.PlanningEditor, auth.TownshipApprover}
)

// projectPermissions are the PermissionTable rows of the project routes.
var projectPermissions = []RoutePermission{
	{get, "/construction", everyone, "项目库 page (the page asks for a login itself)"},
	{get, "/projects", signedIn, "projects of the principal's villages, no personal data"},
	{post, "/projects", projectDrafters, "draft a project (村级经办 of its village, 规划编辑)"},
	{get, "/projects/tasks", everyone, "code list of the plan's nine tasks, phases and funding sources"},
	{get, "/projects/ledger", signedIn, "乡村建设台账 of approved projects (JSON, .xlsx), scoped"},
	{get, "/projects/task-lists", signedIn, "任务清单 per village and year (JSON, .xlsx), scoped"},
	{get, "/projects/map.geojson", everyone, "approved projects with a geometry by phase, for the web map; no amounts"},
	{get, "/projects/{id}", signedIn, "one project with history and reports, scoped"},
	{patch, "/projects/{id}", projectWriters, "change a draft, or the progress of an approved project (If-Match)"},
	{post, "/projects/{id}/transitions", projectWriters, "file / approve / return (If-Match); never reviewed by its filer"},
	{post, "/projects/{id}/reports", projectWriters, "progress report of an approved project"},
	{post, "/projects/{id}/reports/{reportId}/photos", projectWriters, "photo of a report (JPEG/PNG sniffed, size capped)"},
	{get, "/projects/{id}/photos/{photoId}", signedIn, "photo content, scoped"},
}

// routeProjects mounts /projects… and the /construction page.
func (s *Server) routeProjects() {
	if s.pool == nil {
		return
	}
	pr := &projectRoutes{s: s, svc: projects.NewService(s.pool, projects.Config{})}
	g := []string{http.MethodGet, http.MethodHead}
	s.router.HandleFunc("/projects", pr.list).Methods(g...)
	s.router.HandleFunc("/projects", pr.create).Methods(http.MethodPost)
	s.router.HandleFunc("/projects/tasks", pr.tasks).Methods(g...)
	s.router.HandleFunc("/projects/ledger", pr.ledger).Methods(g...)
	s.router.HandleFunc("/projects/task-lists", pr.taskLists).Methods(g...)
	s.router.HandleFunc("/projects/map.geojson", pr.mapCollection).Methods(g...)
	s.router.HandleFunc("/projects/{id}", pr.get).Methods(g...)
	s.router.HandleFunc("/projects/{id}", pr.patch).Methods(http.MethodPatch)
	s.router.HandleFunc("/projects/{id}/transitions", pr.transition).Methods(http.MethodPost)
	s.router.HandleFunc("/projects/{id}/reports", pr.addReport).Methods(http.MethodPost)
	s.router.HandleFunc("/projects/{id}/reports/{reportId}/photos", pr.addPhoto).Methods(http.MethodPost)
	s.router.HandleFunc("/projects/{id}/photos/{photoId}", pr.photo).Methods(g...)
}

func (pr *projectRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := projects.AsError(err); ok {
		WriteJSON(w, e.Status, e)
		return
	}
	pr.s.serverError(w, r, err)
}

func projBad(field, zh, en string) *projects.Error {
	return &projects.Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Field: field, ZH: zh, EN: en}
}

func projID(r *http.Request, name string) (int64, *projects.Error) {
	id, perr := appPathID(r, name)
	if perr != nil {
		return 0, &projects.Error{Status: perr.Status, Code: perr.Code, ZH: perr.ZH, EN: perr.EN}
	}
	return id, nil
}

// readJSON reads a JSON body of at most 1 MiB strictly into v.
func (pr *projectRoutes) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "" && mt != "application/json" {
		pr.fail(w, r, &projects.Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Field: "Content-Type",
			ZH: fmt.Sprintf("不接受 Content-Type %q：请提交 application/json", mt), EN: fmt.Sprintf("Content-Type %q is not accepted: send application/json", mt)})
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			pr.fail(w, r, &projects.Error{Status: http.StatusRequestEntityTooLarge, Code: "TooLarge", Field: "(the request body)",
				ZH: "请求体超过上限 1 MiB", EN: "the body is larger than the limit of 1 MiB"})
			return false
		}
		pr.fail(w, r, projBad("(the request body)", "请求体读取失败："+err.Error(), "could not read the request body: "+err.Error()))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		pr.fail(w, r, projBad("(the request body)", "请求为空", "the request body is empty"))
		return false
	}
	if pe := jsonBodyProblem(body); pe != nil {
		pr.fail(w, r, &projects.Error{Status: http.StatusBadRequest, Code: "InvalidJSON", Field: pe.Field, ZH: pe.ZH, EN: pe.EN})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		ie := decodeError(err)
		pr.fail(w, r, &projects.Error{Status: http.StatusBadRequest, Code: "InvalidJSON", Field: ie.Field, ZH: ie.ZH, EN: ie.EN})
		return false
	}
	return true
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(r *http.Request, name string, lo, hi int) (int, *projects.Error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, projBad(name, fmt.Sprintf("参数 %s=%q 不是 %d–%d 之间的整数", name, raw, lo, hi),
			fmt.Sprintf("parameter %s=%q is not an integer from %d to %d", name, raw, lo, hi))
	}
	return n, nil
}

// filter reads village, year, task, phase and status.
func projectFilter(r *http.Request) (projects.Filter, *projects.Error) {
	q := r.URL.Query()
	f := projects.Filter{Village: q.Get("village"), Task: q.Get("task"), Phase: projects.Phase(q.Get("phase")), Status: projects.Status(q.Get("status"))}
	if f.Village != "" && !isVillageCode(f.Village) {
		return f, projBad("village", fmt.Sprintf("参数 village=%q 不是 12 位行政区划代码", f.Village), fmt.Sprintf("parameter village=%q is not a 12-digit village code", f.Village))
	}
	if f.Task != "" && projects.TaskByCode(f.Task) == nil {
		return f, projBad("task", fmt.Sprintf("未知任务 %q（见 projects/tasks）", f.Task), fmt.Sprintf("unknown task %q (see projects/tasks)", f.Task))
	}
	if f.Phase != "" && !f.Phase.Valid() {
		return f, projBad("phase", fmt.Sprintf("未知阶段 %q（谋划储备、开工建设、投产运营、完成）", f.Phase), fmt.Sprintf("unknown phase %q (谋划储备, 开工建设, 投产运营, 完成)", f.Phase))
	}
	switch f.Status {
	case "", projects.Draft, projects.Filed, projects.Approved, projects.Returned:
	default:
		return f, projBad("status", fmt.Sprintf("未知状态 %q（draft、filed、approved、returned）", f.Status), fmt.Sprintf("unknown status %q (draft, filed, approved, returned)", f.Status))
	}
	var perr *projects.Error
	for _, p := range []struct {
		name   string
		v      *int
		lo, hi int
	}{{"year", &f.Year, 2000, 2100}, {"limit", &f.Limit, 1, 1000}, {"offset", &f.Offset, 0, 1 << 30}} {
		if *p.v, perr = intParam(r, p.name, p.lo, p.hi); perr != nil {
			return f, perr
		}
	}
	return f, nil
}

func isVillageCode(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (pr *projectRoutes) ctx(r *http.Request) *http.Request {
	return r.WithContext(projects.WithRequest(r.Context(), r))
}

func (pr *projectRoutes) list(w http.ResponseWriter, r *http.Request) {
	f, perr := projectFilter(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	res, err := pr.svc.List(pr.ctx(r).Context(), f)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, res)
}

func (pr *projectRoutes) create(w http.ResponseWriter, r *http.Request) {
	var in projects.Input
	if !pr.readJSON(w, r, &in) {
		return
	}
	p, err := pr.svc.Create(pr.ctx(r).Context(), in)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/projects/%d", pr.s.baseURL(r), p.ID))
	w.Header().Set("ETag", versionETag(p.Version))
	WriteJSON(w, http.StatusCreated, p)
}

func (pr *projectRoutes) get(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	p, err := pr.svc.Get(r.Context(), id)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(p.Version))
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, p)
}

// projIfMatch reads the version of If-Match (428 without).
func projIfMatch(r *http.Request) (int, *projects.Error) {
	v, e := ifMatch(r)
	if e != nil {
		return 0, &projects.Error{Status: e.Status, Code: e.Code, Field: e.Field,
			ZH: strings.ReplaceAll(e.ZH, "申请", "项目"), EN: strings.ReplaceAll(e.EN, "application", "project")}
	}
	return v, nil
}

func (pr *projectRoutes) patch(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	version, perr := projIfMatch(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	var in projects.Input
	if !pr.readJSON(w, r, &in) {
		return
	}
	p, err := pr.svc.Update(pr.ctx(r).Context(), id, version, in)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(p.Version))
	WriteJSON(w, http.StatusOK, p)
}

func (pr *projectRoutes) transition(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	version, perr := projIfMatch(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	var body struct {
		Action string `json:"action"`
		Reason string `json:"reason,omitempty"`
	}
	if !pr.readJSON(w, r, &body) {
		return
	}
	p, err := pr.svc.Transition(pr.ctx(r).Context(), id, version, body.Action, body.Reason)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(p.Version))
	WriteJSON(w, http.StatusOK, p)
}

func (pr *projectRoutes) addReport(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	var body struct {
		ReportedOn string `json:"reported_on"`
		Text       string `json:"text"`
	}
	if !pr.readJSON(w, r, &body) {
		return
	}
	rep, err := pr.svc.AddReport(pr.ctx(r).Context(), id, body.ReportedOn, body.Text)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, rep)
}

// addPhoto stores the request body (the image itself) as a photo of a
// report; ?filename= names it. The type is judged from the content.
func (pr *projectRoutes) addPhoto(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	rid, perr := projID(r, "reportId")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	limit := pr.svc.MaxPhotoBytes()
	if r.ContentLength > limit {
		pr.fail(w, r, pr.svc.TooLarge())
		return
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			pr.fail(w, r, pr.svc.TooLarge())
			return
		}
		pr.fail(w, r, projBad("(the request body)", "请求体读取失败："+err.Error(), "could not read the request body: "+err.Error()))
		return
	}
	meta, err := pr.svc.AddPhoto(pr.ctx(r).Context(), id, rid, r.URL.Query().Get("filename"), content)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/projects/%d/photos/%d", pr.s.baseURL(r), id, meta.ID))
	WriteJSON(w, http.StatusCreated, meta)
}

func (pr *projectRoutes) photo(w http.ResponseWriter, r *http.Request) {
	id, perr := projID(r, "id")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	pid, perr := projID(r, "photoId")
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	ph, err := pr.svc.Photo(r.Context(), id, pid)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ph.ContentType)
	h.Set("Content-Length", strconv.Itoa(ph.SizeBytes))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("ETag", `"`+ph.SHA256+`"`)
	h.Set("Content-Disposition", "inline; filename*=UTF-8''"+url.PathEscape(ph.Filename))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(ph.Content)
	}
}

func (pr *projectRoutes) tasks(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"tasks": projects.Tasks, "phases": projects.Phases,
		"task_lists": projects.TaskListTitles, "funding_sources": projects.FundingSources,
		"statuses": map[projects.Status]string{projects.Draft: projects.Draft.Label(), projects.Filed: projects.Filed.Label(),
			projects.Approved: projects.Approved.Label(), projects.Returned: projects.Returned.Label()}})
}

// format reads f=json|xlsx.
func (pr *projectRoutes) format(w http.ResponseWriter, r *http.Request) (string, bool) {
	f := r.URL.Query().Get("f")
	switch f {
	case "", "json":
		return "json", true
	case "xlsx":
		return f, true
	}
	pr.fail(w, r, projBad("f", fmt.Sprintf("不支持的格式 f=%q（可用 json、xlsx）", f), fmt.Sprintf("unsupported format f=%q (json, xlsx)", f)))
	return "", false
}

func writeXLSX(w http.ResponseWriter, r *http.Request, name string, buf *bytes.Buffer) {
	w.Header().Set("Content-Type", mtXLSX)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// ledger serves the 乡村建设台账 (?year=, ?village=, ?task=, ?f=json|xlsx).
func (pr *projectRoutes) ledger(w http.ResponseWriter, r *http.Request) {
	f, perr := projectFilter(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	format, ok := pr.format(w, r)
	if !ok {
		return
	}
	rows, err := pr.svc.Ledger(r.Context(), f.Year, f.Village, f.Task)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if format == "json" {
		WriteJSON(w, http.StatusOK, map[string]any{"columns": projects.LedgerColumns, "rows": rows})
		return
	}
	var notes []string
	if f.Village != "" {
		notes = append(notes, "村 "+f.Village)
	}
	if f.Task != "" {
		notes = append(notes, "任务 "+projects.TaskByCode(f.Task).TitleZH)
	}
	note := "已审核项目；金额单位：元"
	if len(notes) > 0 {
		note += "；" + strings.Join(notes, "，")
	}
	var buf bytes.Buffer
	if err := pr.svc.WriteLedgerXLSX(&buf, f.Year, note, rows); err != nil {
		pr.s.serverError(w, r, err)
		return
	}
	name := "乡村建设台账"
	if f.Year != 0 {
		name += strconv.Itoa(f.Year)
	}
	writeXLSX(w, r, name+".xlsx", &buf)
}

// taskLists serves the 任务清单 (?year= default this year, ?village=,
// ?f=json|xlsx).
func (pr *projectRoutes) taskLists(w http.ResponseWriter, r *http.Request) {
	f, perr := projectFilter(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	format, ok := pr.format(w, r)
	if !ok {
		return
	}
	if f.Year == 0 {
		f.Year = time.Now().In(projects.China).Year()
	}
	lists, err := pr.svc.TaskLists(r.Context(), f.Year, f.Village)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if format == "json" {
		WriteJSON(w, http.StatusOK, map[string]any{"year": f.Year, "villages": lists})
		return
	}
	var buf bytes.Buffer
	if err := pr.svc.WriteTaskListXLSX(&buf, f.Year, lists); err != nil {
		pr.s.serverError(w, r, err)
		return
	}
	writeXLSX(w, r, fmt.Sprintf("乡村建设任务清单%d.xlsx", f.Year), &buf)
}

// mapCollection serves the approved projects with a geometry as GeoJSON
// (?year=, ?phase=) for a map source.
func (pr *projectRoutes) mapCollection(w http.ResponseWriter, r *http.Request) {
	f, perr := projectFilter(r)
	if perr != nil {
		pr.fail(w, r, perr)
		return
	}
	body, err := pr.svc.MapCollection(r.Context(), f.Year, f.Phase)
	if err != nil {
		pr.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", mtGeoJSON)
	_, _ = w.Write(body)
}

// projectOperations are the /api operations of the project routes.
func projectOperations(p params) []apiOp {
	tags := []string{"construction projects (乡村建设项目库)"}
	str := openapi3.NewStringSchema
	filters := []*openapi3.ParameterRef{qp("village", "village code (XZQDM, 12 digits)", str()),
		qp("year", "year of the project", openapi3.NewIntegerSchema().WithMin(2000).WithMax(2100)),
		qp("task", "task code (see /projects/tasks)", str()),
		qp("phase", "phase", str().WithEnum("谋划储备", "开工建设", "投产运营", "完成"))}
	listParams := append(append([]*openapi3.ParameterRef{}, filters...),
		qp("status", "review status", str().WithEnum("draft", "filed", "approved", "returned")),
		qp("limit", "page size (default 200)", openapi3.NewIntegerSchema().WithMin(1).WithMax(1000)), p.offset)
	fx := qp("f", "format", str().WithEnum("json", "xlsx"))
	idp := []*openapi3.ParameterRef{p.id}
	return []apiOp{
		{method: "GET", path: "/projects", id: "listProjects", summary: "projects of one's villages", tags: tags, params: listParams, ok: ok("{total, projects}", mtJSON), errs: []int{400}},
		{method: "POST", path: "/projects", id: "createProject", summary: "draft a project (村级经办 of its village, 规划编辑)", tags: tags,
			body: body("village, year, task, item, name, phase, budget_yuan; description, spent_yuan, funding {source: 元}, lead_office, geometry (GeoJSON, CRS84)", mtJSON),
			ok:   status(201, "the project (Location, ETag)", mtJSON), errs: []int{400, 403, 413, 415, 422}},
		{method: "GET", path: "/projects/tasks", id: "getProjectTasks", summary: "the plan's nine tasks with their items, phases, funding sources", tags: tags, ok: ok("code lists", mtJSON)},
		{method: "GET", path: "/projects/ledger", id: "getProjectLedger", summary: "乡村建设台账 of approved projects", tags: tags,
			params: append(append([]*openapi3.ParameterRef{}, filters[:3]...), fx), ok: ok("{columns, rows} or .xlsx", mtJSON, mtXLSX), errs: []int{400}},
		{method: "GET", path: "/projects/task-lists", id: "getProjectTaskLists", summary: "任务清单 per village: 谋划储备一批、开工建设一批、投产运营一批", tags: tags,
			params: []*openapi3.ParameterRef{filters[0], qp("year", "year (default: this year)", openapi3.NewIntegerSchema().WithMin(2000).WithMax(2100)), fx},
			ok:     ok("{year, villages} or .xlsx", mtJSON, mtXLSX), errs: []int{400}},
		{method: "GET", path: "/projects/map.geojson", id: "getProjectMap", summary: "approved projects with a geometry as a GeoJSON FeatureCollection (CRS84) for the map", tags: tags,
			params: []*openapi3.ParameterRef{filters[1], filters[3]}, ok: ok("FeatureCollection", mtGeoJSON), errs: []int{400}},
		{method: "GET", path: "/projects/{id}", id: "getProject", summary: "one project with history and reports", tags: tags, params: idp, ok: ok("the project (ETag)", mtJSON), errs: []int{404}},
		{method: "PATCH", path: "/projects/{id}", id: "updateProject", summary: "change a draft or returned project; phase and spent_yuan of an approved one", tags: tags,
			params: []*openapi3.ParameterRef{p.id, p.ifMatch}, body: body("the changed fields", mtJSON), ok: ok("the project", mtJSON),
			errs: []int{400, 403, 404, 409, 412, 413, 415, 422, 428}},
		{method: "POST", path: "/projects/{id}/transitions", id: "transitionProject", summary: "file, approve or return (with a reason) a project", tags: tags,
			params: []*openapi3.ParameterRef{p.id, p.ifMatch}, body: body("{action: file|approve|return, reason}", mtJSON), ok: ok("the project", mtJSON),
			errs: []int{400, 403, 404, 409, 412, 413, 415, 422, 428}},
		{method: "POST", path: "/projects/{id}/reports", id: "addProjectReport", summary: "a progress report of an approved project", tags: tags, params: idp,
			body: body("{reported_on: YYYY-MM-DD, text}", mtJSON), ok: status(201, "the report", mtJSON), errs: []int{400, 403, 404, 409, 413, 415, 422}},
		{method: "POST", path: "/projects/{id}/reports/{reportId}/photos", id: "addProjectPhoto", summary: "a photo of a report (the body is the image: JPEG or PNG, sniffed; size capped)", tags: tags,
			params: []*openapi3.ParameterRef{p.id, pathParam("reportId", "report id", openapi3.NewInt64Schema().WithMin(1)), qp("filename", "the file's name", str())},
			body:   body("the image", "image/jpeg", "image/png", "application/octet-stream"), ok: status(201, "the photo's metadata (Location)", mtJSON), errs: []int{400, 403, 404, 413, 415}},
		{method: "GET", path: "/projects/{id}/photos/{photoId}", id: "getProjectPhoto", summary: "a photo's content", tags: tags,
			params: []*openapi3.ParameterRef{p.id, pathParam("photoId", "photo id", openapi3.NewInt64Schema().WithMin(1))}, ok: ok("the image", "image/jpeg", "image/png"), errs: []int{404}},
	}
}
