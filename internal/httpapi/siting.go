package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
	"villageplan/internal/siting"
)

// MaxSiteBody bounds the body of a siting request (POST /siting/checks,
// /desk/preview: a 界址点 file or a JSON request with a GeoJSON site), in
// bytes; a larger body is refused with 413 before it is read.
const MaxSiteBody = 5 << 20

type sitingRoutes struct {
	s   *Server
	svc *siting.Service
}

// routeSiting mounts the homestead siting-check API.
func (s *Server) routeSiting() {
	if s.pool == nil {
		return
	}
	rs := s.opts.RuleSet
	if rs == nil {
		var err error
		if rs, err = siting.DefaultRuleSet(); err != nil {
			panic(err) // the shipped rule set is validated by tests
		}
	}
	sr := &sitingRoutes{s: s, svc: siting.NewService(s.sitingPool, rs)}
	s.router.HandleFunc("/siting/checks", sr.create).Methods(http.MethodPost)
	s.router.HandleFunc("/siting/checks/{id}", sr.get).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/siting/checks/{id}/report", sr.report).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/siting/ruleset", sr.ruleset).Methods(http.MethodGet, http.MethodHead)
}

// sitingError is the JSON body of a rejected site: the message in Chinese
// and English and where the problem is.
type sitingError struct {
	Code string `json:"code"`
	*siting.InputError
}

func (sr *sitingRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *siting.InputError
	if errors.As(err, &ie) {
		status, code := http.StatusBadRequest, "InvalidSite"
		if ie == siting.ErrOutsideData {
			status, code = http.StatusUnprocessableEntity, "OutsideData"
		}
		WriteJSON(w, status, sitingError{Code: code, InputError: ie})
		return
	}
	sr.s.serverError(w, r, err)
}

// create runs one check per site: a JSON body (siting.Request) with a
// GeoJSON site, or a 界址点 txt file (Content-Type text/plain) with the
// applicant in the query string (household_id, village_code,
// returns_old_homestead, rebuild_in_place). One site → 201 with the
// result; a file of several parcels → 201 with {"checks": [...]}.
// Nothing is stored for a rejected request.
func (sr *sitingRoutes) create(w http.ResponseWriter, r *http.Request) {
	sites, in, ok := sr.readSites(w, r)
	if !ok {
		return
	}
	// Check every site first; store only when all could be checked.
	results := make([]*siting.Result, 0, len(sites))
	for _, site := range sites {
		res, err := sr.svc.Check(r.Context(), site, in)
		if err != nil {
			sr.fail(w, r, err)
			return
		}
		results = append(results, res)
	}
	p := auth.FromContext(r.Context())
	for _, res := range results {
		if (in.VillageCode != "" && !mayCheckVillage(p, in.VillageCode)) || !mayCheckVillage(p, res.Site.VillageCode) {
			refuseVillage(w, p, res.Site.VillageCode, in.VillageCode)
			return
		}
	}
	// The checks and their audit entries land in one transaction: all or
	// none, and one WAL flush per request instead of two per site (the
	// flushes were most of a check's time on a busy disk).
	tx, err := sr.s.pool.Begin(r.Context())
	if err != nil {
		sr.s.serverError(w, r, err)
		return
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(r.Context())) }()
	for i, res := range results {
		if err := sr.svc.SaveIn(r.Context(), tx, sites[i], res); err != nil {
			sr.s.serverError(w, r, err)
			return
		}
		if err := auth.Audit(r.Context(), tx, r, auth.AuditEntry{Action: "siting_check.create", SubjectKind: "siting_check",
			SubjectID: strconv.FormatInt(res.ID, 10), Village: res.Site.VillageCode, PersonalData: in.HouseholdID != ""}); err != nil {
			sr.s.serverError(w, r, err)
			return
		}
	}
	if err := tx.Commit(r.Context()); err != nil {
		sr.s.serverError(w, r, err)
		return
	}
	for _, res := range results {
		sr.s.checksTotal.WithLabelValues(string(res.Verdict)).Inc()
	}
	base := sr.s.baseURL(r)
	w.Header().Set("Location", fmt.Sprintf("%s/siting/checks/%d", base, results[0].ID))
	if len(results) == 1 {
		WriteJSON(w, http.StatusCreated, results[0])
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"checks": results})
}

// readSites reads the body of a siting request: a JSON siting.Request with
// a GeoJSON site, or a 界址点 txt file (text/plain) with the applicant in the
// query string (household_id, village_code, returns_old_homestead,
// rebuild_in_place). /siting/checks and /desk/preview share it, so both
// read exactly the same requests.
//
// Refused, with the siting error body (code, description,
// description_zh, field) and before anything is measured or stored:
// a body over MaxSiteBody bytes (413); a Content-Type that is neither JSON
// nor text (415) or cannot be parsed (400 naming the header); JSON that is
// not one valid value, has data after it, holds invalid UTF-8 or a NUL
// character in any string, or nests deeper than MaxJSONDepth (400 naming
// the field, jsonBodyProblem); an unknown field or a value of the wrong
// type (400 naming it); applicant fields outside siting.Input.Validate
// (400 naming the field and its limit); a flag of the query string that is
// not a boolean (400). On failure ok is false and the answer is written.
func (sr *sitingRoutes) readSites(w http.ResponseWriter, r *http.Request) (sites []siting.Site, in siting.Input, ok bool) {
	tooLarge := func() {
		WriteJSON(w, http.StatusRequestEntityTooLarge, sitingError{Code: "TooLarge", InputError: &siting.InputError{Field: "(the request body)",
			EN: fmt.Sprintf("the body is larger than the limit of %d bytes (%d MiB); a site is one household's parcel", MaxSiteBody, MaxSiteBody>>20),
			ZH: fmt.Sprintf("请求体超过上限 %d 字节（%d MiB）；选址应为单户地块", MaxSiteBody, MaxSiteBody>>20)}})
	}
	if r.ContentLength > MaxSiteBody {
		tooLarge()
		return nil, in, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSiteBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tooLarge()
			return nil, in, false
		}
		sr.fail(w, r, &siting.InputError{ZH: "请求体读取失败：" + err.Error(), EN: "could not read the request body: " + err.Error()})
		return nil, in, false
	}
	ctype := r.Header.Get("Content-Type")
	mt, _, perr := mime.ParseMediaType(ctype)
	if perr != nil && mt == "" && strings.TrimSpace(ctype) != "" {
		sr.fail(w, r, siting.FieldError("Content-Type", fmt.Sprintf("请求头 Content-Type %q 无法解析（%v）；请用 application/json 或 text/plain", ctype, perr),
			fmt.Sprintf("the Content-Type header %q cannot be parsed (%v); send application/json or text/plain", ctype, perr)))
		return nil, in, false
	}
	switch mt {
	case "text/plain", "application/octet-stream":
		q := r.URL.Query()
		in = siting.Input{HouseholdID: q.Get("household_id"), VillageCode: q.Get("village_code")}
		for _, b := range []struct {
			name string
			v    *bool
		}{{"returns_old_homestead", &in.ReturnsOldHomestead}, {"rebuild_in_place", &in.RebuildInPlace}} {
			if raw := q.Get(b.name); raw != "" {
				if *b.v, err = strconv.ParseBool(raw); err != nil {
					sr.fail(w, r, siting.FieldError(b.name, fmt.Sprintf("%q 不是布尔值（true/false）", raw), fmt.Sprintf("%q is not a boolean (true/false)", raw)))
					return nil, in, false
				}
			}
		}
		if err = in.Validate(sr.svc.RuleSet()); err == nil {
			sites, err = siting.ParseJZDSites(body)
		}
	case "application/json", "application/geo+json", "":
		var req siting.Request
		if len(bytes.TrimSpace(body)) == 0 {
			err = &siting.InputError{ZH: "请求为空：请提交选址图形或界址点文件", EN: "empty request: send a site geometry or a 界址点 file"}
		} else if pe := jsonBodyProblem(body); pe != nil {
			err = pe
		} else {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&req); derr != nil {
				err = decodeError(derr)
			} else if err = req.Input.Validate(sr.svc.RuleSet()); err == nil {
				in = req.Input
				var site siting.Site
				site, err = siting.ParseGeoJSONSite(req.Site, req.CRS)
				sites = []siting.Site{site}
			}
		}
	default:
		WriteJSON(w, http.StatusUnsupportedMediaType, sitingError{Code: "UnsupportedMediaType", InputError: &siting.InputError{Field: "Content-Type",
			EN: fmt.Sprintf("Content-Type %q is not accepted: send application/json (a GeoJSON site) or text/plain (a 界址点 txt file)", mt),
			ZH: fmt.Sprintf("不接受 Content-Type %q：请提交 application/json（GeoJSON 选址）或 text/plain（界址点 txt 文件）", mt)}})
		return nil, in, false
	}
	if err != nil {
		sr.fail(w, r, err)
		return nil, in, false
	}
	return sites, in, true
}

// decodeError turns an encoding/json error of a siting request into an
// *siting.InputError naming the field.
func decodeError(err error) *siting.InputError {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		// Fields of the embedded siting.Input are reported as "Input.x".
		field := strings.TrimPrefix(ute.Field, "Input.")
		zh, en := ute.Type.String(), "a "+ute.Type.String()
		switch ute.Type.Kind() {
		case reflect.Int, reflect.Int64:
			zh, en = "整数", "an integer"
		case reflect.Float64:
			zh, en = "有限数值（±1.8e308 以内）", "a finite number (within ±1.8e308)"
		case reflect.Bool:
			zh, en = "true 或 false", "true or false"
		case reflect.String:
			zh, en = "文本", "text"
		}
		return siting.FieldError(field, fmt.Sprintf("须为%s，收到 JSON %s", zh, ute.Value), fmt.Sprintf("must be %s, got a JSON %s", en, ute.Value))
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		return siting.FieldError(field, "不是本接口的字段（可用：site, crs, household_id, village_code, returns_old_homestead, rebuild_in_place, storeys, floor_area_m2）",
			"is not a field of this request (fields: site, crs, household_id, village_code, returns_old_homestead, rebuild_in_place, storeys, floor_area_m2)")
	}
	return &siting.InputError{ZH: "请求不是有效的 JSON：" + err.Error(), EN: "the request is not valid JSON: " + err.Error()}
}

func (sr *sitingRoutes) load(w http.ResponseWriter, r *http.Request) *siting.Result {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no siting check %q", raw))
		return nil
	}
	res, err := sr.svc.Get(r.Context(), id)
	if errors.Is(err, siting.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no siting check %d", id))
		return nil
	}
	if err != nil {
		sr.s.serverError(w, r, err)
		return nil
	}
	p := auth.FromContext(r.Context())
	if !mayCheckVillage(p, res.Site.VillageCode) {
		refuseVillage(w, p, res.Site.VillageCode, "")
		return nil
	}
	// A stored check links a household id to a site: a personal-data read.
	if err := auth.Audit(r.Context(), sr.s.pool, r, auth.AuditEntry{Action: "siting_check.read", SubjectKind: "siting_check",
		SubjectID: strconv.FormatInt(id, 10), Village: res.Site.VillageCode, PersonalData: true}); err != nil {
		sr.s.serverError(w, r, err)
		return nil
	}
	return res
}

// mayCheckVillage reports whether p may run or read siting checks of
// village (the village the site lies in, or the one applied in; "" for a
// site outside every village): a desk role township-wide, or — a village
// clerk — for that village. The permission table has already limited
// the routes to the desk roles.
func mayCheckVillage(p *auth.Principal, village string) bool {
	return p.HasAnyFor(auth.DeskRoles, village)
}

// refuseVillage answers 403 naming the village that is outside the
// principal's scope.
func refuseVillage(w http.ResponseWriter, p *auth.Principal, site, applied string) {
	v := site
	if v == "" {
		v = "（不在任何村内 outside every village）"
	}
	if applied != "" && !mayCheckVillage(p, applied) {
		v = applied
	}
	WriteError(w, http.StatusForbidden, "OutsideYourVillage",
		fmt.Sprintf("您的村级经办角色只适用于本村，此选址审查属于 %s。 Your village-clerk role covers only your own village; this siting check concerns %s.", v, v))
}

func (sr *sitingRoutes) get(w http.ResponseWriter, r *http.Request) {
	if res := sr.load(w, r); res != nil {
		WriteJSON(w, http.StatusOK, res)
	}
}

func (sr *sitingRoutes) report(w http.ResponseWriter, r *http.Request) {
	res := sr.load(w, r)
	if res == nil {
		return
	}
	if r.URL.Query().Get("f") == "pdf" {
		sr.reportPDF(w, r, res)
		return
	}
	var b bytes.Buffer
	if err := sr.svc.Report(r.Context(), &b, res); err != nil {
		sr.s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// ruleset serves the rule set in force, so the desk and auditors can see
// every threshold and its legal basis.
func (sr *sitingRoutes) ruleset(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, sr.svc.RuleSet())
}
