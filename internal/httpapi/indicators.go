package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"villageplan/internal/applications"
	"villageplan/internal/auth"
	"villageplan/internal/indicators"
	"villageplan/internal/siting"
)

// indicatorReaders are the roles that read the 乡村建设 indicators:
// planners, the township approver, analysts and the administrator. No
// personal data is in them (features carry ids and parcel codes only).
var indicatorReaders = []Role{auth.PlanningEditor, auth.TownshipApprover, auth.DataAnalyst, auth.Admin}

// routeIndicators mounts
//
//	GET /indicators?date=&village=&f=json|xlsx   every value (of one village)
//	GET /indicators/definitions                  keys, units, formulas
//	GET /indicators/{key}/features?village=&date= the items behind a figure (GeoJSON)
//	GET /indicators/targets, PUT /indicators/targets  the administrator's targets
//
// Computations run on the download class's pool (a cold county-wide report
// takes seconds, the network reach more).
func (s *Server) routeIndicators() {
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
	h := &indicatorRoutes{s: s, svc: indicators.NewService(s.downloadPool, s.catalog, cfg)}
	s.router.HandleFunc("/indicators", h.list).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/indicators/definitions", h.definitions).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/indicators/targets", h.targets).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/indicators/targets", h.putTargets).Methods(http.MethodPut)
	s.router.HandleFunc("/indicators/{key}/features", h.features).Methods(http.MethodGet, http.MethodHead)
}

type indicatorRoutes struct {
	s   *Server
	svc *indicators.Service
}

var xzqdmRe = regexp.MustCompile(`^[0-9]{12}$`)

// params reads date (YYYY-MM-DD, default today in China time) and village
// (12 digits or empty); false after writing a 400.
func (h *indicatorRoutes) params(w http.ResponseWriter, r *http.Request) (time.Time, string, bool) {
	q := r.URL.Query()
	var day time.Time
	if raw := q.Get("date"); raw != "" {
		d, err := time.ParseInLocation(time.DateOnly, raw, indicators.China)
		if err != nil {
			WriteJSON(w, http.StatusBadRequest, badRequest("date", fmt.Sprintf("参数 date=%q 不是日期（YYYY-MM-DD）", raw), fmt.Sprintf("parameter date=%q is not a date (YYYY-MM-DD)", raw)))
			return day, "", false
		}
		day = d
	}
	v := q.Get("village")
	if v != "" && !xzqdmRe.MatchString(v) {
		WriteJSON(w, http.StatusBadRequest, badRequest("village", fmt.Sprintf("参数 village=%q 须为 12 位村代码", v), fmt.Sprintf("parameter village=%q must be a 12-digit village code", v)))
		return day, "", false
	}
	return day, v, true
}

// fail answers the service's errors: a date before the history is a 400
// naming date, an unknown village or indicator a 404.
func (h *indicatorRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	var bh *indicators.ErrBeforeHistory
	switch {
	case errors.As(err, &bh):
		WriteJSON(w, http.StatusBadRequest, badRequest("date", bh.Error(), bh.Error()))
	case errors.Is(err, indicators.ErrUnknownVillage):
		WriteJSON(w, http.StatusNotFound, &applications.Error{Status: 404, Code: "NotFound", Field: "village",
			ZH: "没有该村（所选日期）", EN: "no village has this code (at the chosen date)"})
	case errors.Is(err, indicators.ErrUnknownIndicator):
		WriteJSON(w, http.StatusNotFound, &applications.Error{Status: 404, Code: "NotFound", Field: "key",
			ZH: "没有该指标或该指标不列要素（GET /indicators/definitions 列出全部）", EN: "no such indicator, or it lists no features (GET /indicators/definitions lists them): " + err.Error()})
	default:
		h.s.serverError(w, r, err)
	}
}

// list answers the report (JSON: indicators.Report plus the definitions),
// or with f=xlsx the workbook.
func (h *indicatorRoutes) list(w http.ResponseWriter, r *http.Request) {
	day, village, ok := h.params(w, r)
	if !ok {
		return
	}
	f := r.URL.Query().Get("f")
	if f != "" && f != "json" && f != "xlsx" {
		WriteJSON(w, http.StatusBadRequest, badRequest("f", fmt.Sprintf("不支持的格式 f=%q（可用 json、xlsx）", f), fmt.Sprintf("unsupported format f=%q (json, xlsx)", f)))
		return
	}
	h.longWrite(w)
	var rep *indicators.Report
	var err error
	if village != "" {
		rep, err = h.svc.Village(r.Context(), village, day)
	} else {
		rep, err = h.svc.Compute(r.Context(), day)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if f == "xlsx" {
		names, err := h.svc.VillageNames(r.Context())
		if err != nil {
			h.s.serverError(w, r, err)
			return
		}
		var buf bytes.Buffer
		if err := indicators.WriteXLSX(&buf, rep, names); err != nil {
			h.s.serverError(w, r, err)
			return
		}
		name := "乡村建设指标" + rep.AsOf.Format("20060102")
		if village != "" {
			name += "_" + village
		}
		w.Header().Set("Content-Type", mtXLSX)
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name+".xlsx"))
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(buf.Bytes())
		}
		return
	}
	WriteJSON(w, http.StatusOK, struct {
		*indicators.Report
		Definitions []indicators.Definition `json:"definitions"`
	}{rep, indicators.Definitions()})
}

// longWrite moves the connection's write deadline (the server's
// WriteTimeout, 2 min) to the download limit: a cold county-wide report on
// a loaded machine may take longer to compute than an interactive answer
// is allowed.
func (h *indicatorRoutes) longWrite(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.s.limits.Download + DeadlineGrace))
}

func (h *indicatorRoutes) definitions(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"definitions": indicators.Definitions(), "target_keys": indicators.TargetKeys()})
}

// features answers the GeoJSON FeatureCollection of the items behind one
// indicator (ids and parcel codes, never personal fields).
func (h *indicatorRoutes) features(w http.ResponseWriter, r *http.Request) {
	day, village, ok := h.params(w, r)
	if !ok {
		return
	}
	h.longWrite(w)
	b, err := h.svc.Features(r.Context(), mux.Vars(r)["key"], village, day)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func (h *indicatorRoutes) targets(w http.ResponseWriter, r *http.Request) {
	ts, err := h.svc.Targets(r.Context())
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"targets": ts, "keys": indicators.TargetKeys()})
}

// putTargets stores the administrator's targets: body {"targets": [{key,
// village, value}, …]}, all or none, audited.
func (h *indicatorRoutes) putTargets(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Targets []indicators.Target `json:"targets"`
	}
	ar := &applicationRoutes{s: h.s}
	if !ar.readJSON(w, r, &body) {
		return
	}
	if len(body.Targets) == 0 {
		WriteJSON(w, http.StatusUnprocessableEntity, &applications.Error{Status: 422, Code: "InvalidField", Field: "targets",
			ZH: "字段 targets：至少一项", EN: "field targets: at least one target"})
		return
	}
	if err := indicators.ValidateTargets(body.Targets); err != nil {
		var te *indicators.TargetError
		if errors.As(err, &te) {
			field := fmt.Sprintf("targets[%d].%s", te.Index, te.Field)
			WriteJSON(w, http.StatusUnprocessableEntity, &applications.Error{Status: 422, Code: "InvalidField", Field: field,
				ZH: "字段 " + field + "：" + te.ZH, EN: "field " + field + ": " + te.EN})
			return
		}
		h.s.serverError(w, r, err)
		return
	}
	p := auth.FromContext(r.Context())
	err := pgx.BeginFunc(r.Context(), h.s.pool, func(tx pgx.Tx) error {
		if err := indicators.SetTargets(r.Context(), tx, body.Targets, p.Username); err != nil {
			return err
		}
		return auth.Audit(r.Context(), tx, r, auth.AuditEntry{Action: "indicators.targets", SubjectKind: "indicator_targets", SubjectID: "",
			Details: map[string]any{"targets": body.Targets}})
	})
	if err != nil {
		h.s.serverError(w, r, err)
		return
	}
	h.targets(w, r)
}
