package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"villageplan/internal/applications"
	"villageplan/internal/assessment"
	"villageplan/internal/auth"
	"villageplan/internal/indicators"
	"villageplan/internal/projects"
	"villageplan/internal/siting"
)

// assessmentReaders see the scores: planners, the township approver,
// analysts and the administrator (the same as the indicators: no personal
// data in either). Only the administrator sets weights and closes a year.
var assessmentReaders = indicatorReaders

// assessmentPermissions are the PermissionTable rows of the 考核评估.
var assessmentPermissions = []RoutePermission{
	{get, "/assessment", everyone, "考核评估 dashboard page (the page asks for a login itself; its data routes are guarded)"},
	{get, "/assessment/keys", assessmentReaders, "keys a weight may name (indicators and project keys) with formulas"},
	{get, "/assessment/results", assessmentReaders, "scores and ranking of a year (JSON, .xlsx): counts and shares only, no personal data"},
	{get, "/assessment/history", assessmentReaders, "each village's score and rank in the closed years and the running one"},
	{get, "/assessment/villages.geojson", assessmentReaders, "village outlines with score and rank (choropleth)"},
	{get, "/assessment/villages/{village}/sheet", assessmentReaders, "one village's printable sheet (PDF)"},
	{get, "/assessment/weights/{year}", assessmentReaders, "the weights of a year"},
	{[]string{http.MethodPut}, "/assessment/weights/{year}", admins, "administrator sets a year's weights (audited; refused once the year is closed)"},
	{post, "/assessment/years/{year}/close", admins, "administrator closes a year: its result is stored as the snapshot (audited)"},
}

type assessmentRoutes struct {
	s   *Server
	svc *assessment.Service
}

// routeAssessment mounts the 考核评估 routes and the /assessment page. The
// indicators are computed on the download class's pool, as in
// routeIndicators (the report cache in the database is shared).
func (s *Server) routeAssessment() {
	if s.pool == nil {
		return
	}
	rs := s.opts.RuleSet
	if rs == nil {
		var err error
		if rs, err = siting.DefaultRuleSet(); err != nil {
			panic(err)
		}
	}
	var cfg indicators.Config
	if rc, ok := rs.Rules["village_construction_boundary"]; ok {
		cfg.Lighting = indicators.NewLighting(s.catalog, rc.ZoneKinds)
	}
	if rc, ok := rs.Rules["area_limit"]; ok && rc.MaxAreaM2 != nil {
		cfg.MaxHomesteadAreaM2 = rc.MaxAreaM2.Value
	}
	h := &assessmentRoutes{s: s, svc: assessment.NewService(s.pool, s.catalog,
		indicators.NewService(s.downloadPool, s.catalog, cfg), projects.NewService(s.pool, projects.Config{}))}
	g := []string{http.MethodGet, http.MethodHead}
	s.router.HandleFunc("/assessment/keys", h.keys).Methods(g...)
	s.router.HandleFunc("/assessment/results", h.results).Methods(g...)
	s.router.HandleFunc("/assessment/history", h.history).Methods(g...)
	s.router.HandleFunc("/assessment/villages.geojson", h.geojson).Methods(g...)
	s.router.HandleFunc("/assessment/villages/{village}/sheet", h.sheet).Methods(g...)
	s.router.HandleFunc("/assessment/weights/{year}", h.weights).Methods(g...)
	s.router.HandleFunc("/assessment/weights/{year}", h.putWeights).Methods(http.MethodPut)
	s.router.HandleFunc("/assessment/years/{year}/close", h.close).Methods(http.MethodPost)
}

// year reads the year from the path ({year}) or the query (year=,
// default the running year); false after writing a 400.
func (h *assessmentRoutes) year(w http.ResponseWriter, r *http.Request) (int, bool) {
	raw, inPath := mux.Vars(r)["year"]
	if !inPath {
		raw = r.URL.Query().Get("year")
		if raw == "" {
			return h.svc.CurrentYear(), true
		}
	}
	y, err := strconv.Atoi(raw)
	if err != nil || y < assessment.MinYear || y > assessment.MaxYear {
		WriteJSON(w, http.StatusBadRequest, badRequest("year", fmt.Sprintf("年度 %q 须为 %d 至 %d 的整数", raw, assessment.MinYear, assessment.MaxYear),
			fmt.Sprintf("year %q must be a whole number from %d to %d", raw, assessment.MinYear, assessment.MaxYear)))
		return 0, false
	}
	return y, true
}

func (h *assessmentRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bh *indicators.ErrBeforeHistory
	switch {
	case errors.As(err, &bh):
		WriteJSON(w, http.StatusBadRequest, badRequest("year", "该年度的指标无法回溯："+bh.Error(), "the indicators of this year cannot be computed: "+bh.Error()))
	case errors.Is(err, assessment.ErrClosed):
		WriteJSON(w, http.StatusConflict, &applications.Error{Status: 409, Code: "Conflict", Field: "year",
			ZH: "该年度考核已结束，结果与权重不再改变", EN: "the assessment of this year is closed: its result and weights no longer change"})
	case errors.Is(err, assessment.ErrUnknownVillage):
		WriteJSON(w, http.StatusNotFound, &applications.Error{Status: 404, Code: "NotFound", Field: "village",
			ZH: "该年度考核中没有该村", EN: "no village of this year's assessment has this code"})
	default:
		h.s.serverError(w, r, err)
	}
}

func (h *assessmentRoutes) keys(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"keys": assessment.Keys(), "default_weights": assessment.DefaultWeights})
}

// results answers the Result of a year (JSON) or, with f=xlsx, the
// workbook.
func (h *assessmentRoutes) results(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	f := r.URL.Query().Get("f")
	if f != "" && f != "json" && f != "xlsx" {
		WriteJSON(w, http.StatusBadRequest, badRequest("f", fmt.Sprintf("不支持的格式 f=%q（可用 json、xlsx）", f), fmt.Sprintf("unsupported format f=%q (json, xlsx)", f)))
		return
	}
	res, err := h.svc.Result(r.Context(), year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if f != "xlsx" {
		WriteJSON(w, http.StatusOK, res)
		return
	}
	var buf bytes.Buffer
	if err := assessment.WriteXLSX(&buf, res); err != nil {
		h.s.serverError(w, r, err)
		return
	}
	h.attachment(w, r, mtXLSX, fmt.Sprintf("乡村建设考核评估%d.xlsx", year), buf.Bytes())
}

func (h *assessmentRoutes) attachment(w http.ResponseWriter, r *http.Request, mt, name string, b []byte) {
	w.Header().Set("Content-Type", mt)
	disp := "attachment"
	if mt == mtPDF {
		disp = "inline"
	}
	w.Header().Set("Content-Disposition", disp+"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func (h *assessmentRoutes) history(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	hist, years, err := h.svc.History(r.Context(), year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names, err := h.svc.VillageNames(r.Context())
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	type village struct {
		Village string                 `json:"village"`
		Name    string                 `json:"name"`
		Years   []assessment.YearScore `json:"years"`
	}
	out := []village{}
	for code, ys := range hist {
		out = append(out, village{code, names[code], ys})
	}
	sortVillages(out, func(v village) string { return v.Village })
	WriteJSON(w, http.StatusOK, map[string]any{"years": years, "villages": out})
}

func sortVillages[T any](xs []T, key func(T) string) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && key(xs[j]) < key(xs[j-1]); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// geojson answers the villages with their score as a FeatureCollection
// (RFC 7946, CRS84; outlines simplified to about 1 m): properties
// xzqdm, name, score (0–100 or null), rank (null without a score), change
// and year.
func (h *assessmentRoutes) geojson(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	res, err := h.svc.Result(r.Context(), year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vl, ok := h.s.catalog.Layer("villages")
	if !ok {
		WriteJSON(w, http.StatusOK, map[string]any{"type": "FeatureCollection", "features": []any{}})
		return
	}
	rows, err := h.s.pool.Query(r.Context(), `SELECT xzqdm::text, ST_AsGeoJSON(ST_Multi(ST_SimplifyPreserveTopology(geom, 0.00001)), 6)
FROM `+vl.QualifiedTable()+` WHERE xzqdm IS NOT NULL AND NOT ST_IsEmpty(geom) ORDER BY xzqdm`)
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	type feature struct {
		Type       string          `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties map[string]any  `json:"properties"`
	}
	feats := []feature{}
	for rows.Next() {
		var code, g string
		if err := rows.Scan(&code, &g); err != nil {
			rows.Close()
			h.s.serverError(w, r, err)
			return
		}
		props := map[string]any{"xzqdm": code, "year": res.Year, "score": nil, "rank": nil, "change": nil, "name": ""}
		if v, ok := res.Village(code); ok {
			props["name"] = v.Name
			if v.Score != nil {
				props["score"], props["rank"] = *v.Score, v.Rank
			}
			if v.Change != nil {
				props["change"] = *v.Change
			}
		}
		feats = append(feats, feature{"Feature", json.RawMessage(g), props})
	}
	if err := rows.Err(); err != nil {
		h.s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": feats})
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// sheet answers one village's PDF sheet.
func (h *assessmentRoutes) sheet(w http.ResponseWriter, r *http.Request) {
	code := mux.Vars(r)["village"]
	if !assessment.ValidVillage(code) {
		WriteJSON(w, http.StatusBadRequest, badRequest("village", fmt.Sprintf("村代码 %q 须为 12 位数字", code), fmt.Sprintf("village code %q must be 12 digits", code)))
		return
	}
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	res, err := h.svc.Result(r.Context(), year)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if _, err := h.svc.WriteSheet(r.Context(), &buf, res, code); err != nil {
		h.fail(w, r, err)
		return
	}
	name := code
	if v, ok := res.Village(code); ok && v.Name != "" {
		name = v.Name
	}
	h.attachment(w, r, mtPDF, fmt.Sprintf("%s%d年度考核评估表.pdf", name, year), buf.Bytes())
}

func (h *assessmentRoutes) weights(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	ws, def, err := h.svc.Weights(r.Context(), year)
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"year": year, "weights": ws, "default": def})
}

// putWeights replaces a year's weights: body {"weights": [{key, weight},
// …]}, all or none, audited; 409 once the year is closed.
func (h *assessmentRoutes) putWeights(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	var body struct {
		Weights []assessment.Weight `json:"weights"`
	}
	ar := &applicationRoutes{s: h.s}
	if !ar.readJSON(w, r, &body) {
		return
	}
	if err := assessment.ValidateWeights(body.Weights); err != nil {
		var we *assessment.WeightError
		if errors.As(err, &we) {
			WriteJSON(w, http.StatusUnprocessableEntity, &applications.Error{Status: 422, Code: "InvalidField", Field: we.Field,
				ZH: "字段 " + we.Field + "：" + we.ZH, EN: "field " + we.Field + ": " + we.EN})
			return
		}
		h.s.serverError(w, r, err)
		return
	}
	p := auth.FromContext(r.Context())
	err := pgx.BeginFunc(r.Context(), h.s.pool, func(tx pgx.Tx) error {
		if err := assessment.SetWeights(r.Context(), tx, year, body.Weights, p.Username); err != nil {
			return err
		}
		return auth.Audit(r.Context(), tx, r, auth.AuditEntry{Action: "assessment.weights", SubjectKind: "assessment_year",
			SubjectID: strconv.Itoa(year), Details: map[string]any{"weights": body.Weights}})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.weights(w, r)
}

// close stores the year's result as its snapshot (201), audited; 409 when
// the year is already closed.
func (h *assessmentRoutes) close(w http.ResponseWriter, r *http.Request) {
	year, ok := h.year(w, r)
	if !ok {
		return
	}
	p := auth.FromContext(r.Context())
	res, err := h.svc.Close(r.Context(), year, p.Username, func(tx pgx.Tx, res *assessment.Result) error {
		return auth.Audit(r.Context(), tx, r, auth.AuditEntry{Action: "assessment.close", SubjectKind: "assessment_year",
			SubjectID: strconv.Itoa(year), Details: map[string]any{"as_of": res.AsOf, "weights": res.Weights, "villages": len(res.Villages)}})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, res)
}

// assessmentOperations are the /api operations of the 考核评估.
func assessmentOperations() []apiOp {
	tags := []string{"assessment (考核评估)"}
	yq := qp("year", "assessment year (default: the running year, China time)", openapi3.NewIntegerSchema().WithMin(2000).WithMax(2100))
	yp := pathParam("year", "assessment year", openapi3.NewIntegerSchema().WithMin(2000).WithMax(2100))
	return []apiOp{
		{method: "GET", path: "/assessment/keys", id: "getAssessmentKeys", summary: "keys a weight may name: every indicator and the project keys, with formulas and the default weights", tags: tags, ok: ok("{keys, default_weights}", mtJSON)},
		{method: "GET", path: "/assessment/results", id: "getAssessmentResults", summary: "score and rank of every village in a year, with the parts, the weights and the change against the previous closed year (JSON or .xlsx)", tags: tags,
			params: []*openapi3.ParameterRef{yq, qp("f", "format", openapi3.NewStringSchema().WithEnum("json", "xlsx"))},
			ok:     ok("the result", mtJSON, mtXLSX), errs: []int{400}},
		{method: "GET", path: "/assessment/history", id: "getAssessmentHistory", summary: "each village's score and rank in the closed years up to a year and in that year", tags: tags,
			params: []*openapi3.ParameterRef{yq}, ok: ok("{years, villages: [{village, name, years: [{year, closed, score, rank}]}]}", mtJSON), errs: []int{400}},
		{method: "GET", path: "/assessment/villages.geojson", id: "getAssessmentMap", summary: "village outlines with score, rank and change (GeoJSON, CRS84) for a choropleth", tags: tags,
			params: []*openapi3.ParameterRef{yq}, ok: ok("FeatureCollection", mtGeoJSON), errs: []int{400}},
		{method: "GET", path: "/assessment/villages/{village}/sheet", id: "getAssessmentSheet", summary: "one village's printable one-page sheet (PDF): score, rank, chart, map and indicator table", tags: tags,
			params: []*openapi3.ParameterRef{pathParam("village", "village code (XZQDM, 12 digits)", openapi3.NewStringSchema().WithPattern("^[0-9]{12}$")), yq},
			ok:     ok("PDF (inline)", mtPDF), errs: []int{400, 404}},
		{method: "GET", path: "/assessment/weights/{year}", id: "getAssessmentWeights", summary: "the weights of a year (the defaults until the administrator sets them)", tags: tags,
			params: []*openapi3.ParameterRef{yp}, ok: ok("{year, weights, default}", mtJSON), errs: []int{400}},
		{method: "PUT", path: "/assessment/weights/{year}", id: "putAssessmentWeights", summary: "set a year's weights, all or none (administrator, audited)", tags: tags,
			params: []*openapi3.ParameterRef{yp}, body: body("{weights: [{key, weight}]}", mtJSON), ok: ok("the weights", mtJSON), errs: []int{400, 409, 413, 415, 422}},
		{method: "POST", path: "/assessment/years/{year}/close", id: "closeAssessmentYear", summary: "close a year: store its result as the year's snapshot (administrator, audited)", tags: tags,
			params: []*openapi3.ParameterRef{yp}, ok: status(201, "the stored result", mtJSON), errs: []int{400, 409}},
	}
}
