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

	"github.com/gorilla/mux"

	"villageplan/internal/applications"
	"villageplan/internal/documents"
	"villageplan/internal/siting"
)

// The homestead application desk API (package applications). Every route
// is open to the desk roles in the PermissionTable; the village scope
// (a 村级经办 sees and files only its own village's applications, the
// township roles all) is decided by the applications.Service from the
// request's principal, and every read of personal data is audited there.
type applicationRoutes struct {
	s   *Server
	svc *applications.Service
	sit *siting.Service
}

// routeApplications mounts /applications, /applications/overdue and
// /ledger.
func (s *Server) routeApplications() {
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
	sit := siting.NewService(s.pool, rs)
	ar := &applicationRoutes{s: s, sit: sit, svc: applications.NewService(s.pool, sit, s.opts.Applications)}
	s.router.HandleFunc("/applications", ar.list).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/applications", ar.create).Methods(http.MethodPost)
	s.router.HandleFunc("/applications/overdue", ar.overdue).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/applications/{id}", ar.get).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/applications/{id}", ar.patch).Methods(http.MethodPatch)
	s.router.HandleFunc("/applications/{id}/transitions", ar.transition).Methods(http.MethodPost)
	s.router.HandleFunc("/applications/{id}/documents", ar.documents).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/applications/{id}/documents", ar.upload).Methods(http.MethodPost)
	s.router.HandleFunc("/applications/{id}/documents/{docId}", ar.document).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/applications/{id}/forms/{form}", ar.forms).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/ledger", ar.ledger).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/house-transfers", ar.recordTransfer).Methods(http.MethodPost)
}

// recordTransfer records that a person sold, rented out or gave away a
// rural house (R16, 土地管理法 第六十二条第五款): body {"id_number",
// "kind": 出卖|出租|赠与, "on": "YYYY-MM-DD" (optional), "note"}. From then
// on an application of a household with that member is refused.
func (ar *applicationRoutes) recordTransfer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDNumber string `json:"id_number"`
		Kind     string `json:"kind"`
		On       string `json:"on,omitempty"`
		Note     string `json:"note,omitempty"`
	}
	if !ar.readJSON(w, r, &body) {
		return
	}
	var on *time.Time
	if body.On != "" {
		t, err := time.Parse(time.DateOnly, body.On)
		if err != nil {
			ar.fail(w, r, &applications.Error{Status: http.StatusUnprocessableEntity, Code: "InvalidField", Field: "on",
				ZH: fmt.Sprintf("字段 on：%q 不是日期（YYYY-MM-DD）", body.On), EN: fmt.Sprintf("field on: %q is not a date (YYYY-MM-DD)", body.On)})
			return
		}
		on = &t
	}
	if err := ar.svc.RecordTransfer(applications.WithRequest(r.Context(), r), strings.ToUpper(strings.TrimSpace(body.IDNumber)), body.Kind, on, body.Note); err != nil {
		ar.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"status": "recorded"})
}

// fail answers an *applications.Error with its status and bilingual body,
// anything else as a server error.
func (ar *applicationRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	if e, ok := applications.AsError(err); ok {
		WriteJSON(w, e.Status, e)
		return
	}
	ar.s.serverError(w, r, err)
}

func badRequest(field, zh, en string) *applications.Error {
	return &applications.Error{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Field: field, ZH: zh, EN: en}
}

// id reads a positive integer path variable.
func appPathID(r *http.Request, name string) (int64, *applications.Error) {
	raw := mux.Vars(r)[name]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, &applications.Error{Status: http.StatusNotFound, Code: "NotFound", ZH: fmt.Sprintf("没有编号为 %q 的资源", raw), EN: fmt.Sprintf("no resource %q", raw)}
	}
	return id, nil
}

// ifMatch reads the version of the If-Match header ("3", W/"3" or 3);
// missing → 428, unreadable → 400.
func ifMatch(r *http.Request) (int, *applications.Error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, &applications.Error{Status: http.StatusPreconditionRequired, Code: "PreconditionRequired", Field: "If-Match",
			ZH: "须在 If-Match 请求头中提交申请的版本号（GET 返回的 ETag），以免覆盖他人的修改",
			EN: "send the application's version (the ETag of GET) in If-Match, so that nobody's change is overwritten"}
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return 0, badRequest("If-Match", fmt.Sprintf("If-Match %q 不是版本号（如 \"3\"）", h), fmt.Sprintf("If-Match %q is not a version (e.g. \"3\")", h))
	}
	return v, nil
}

func versionETag(version int) string { return fmt.Sprintf(`"%d"`, version) }

// readJSON reads a JSON body of at most MaxSiteBody bytes strictly into v.
func (ar *applicationRoutes) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "" && mt != "application/json" {
		ar.fail(w, r, &applications.Error{Status: http.StatusUnsupportedMediaType, Code: "UnsupportedMediaType", Field: "Content-Type",
			ZH: fmt.Sprintf("不接受 Content-Type %q：请提交 application/json", mt), EN: fmt.Sprintf("Content-Type %q is not accepted: send application/json", mt)})
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSiteBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			ar.fail(w, r, &applications.Error{Status: http.StatusRequestEntityTooLarge, Code: "TooLarge", Field: "(the request body)",
				ZH: fmt.Sprintf("请求体超过上限 %d 字节", MaxSiteBody), EN: fmt.Sprintf("the body is larger than the limit of %d bytes", MaxSiteBody)})
			return false
		}
		ar.fail(w, r, badRequest("(the request body)", "请求体读取失败："+err.Error(), "could not read the request body: "+err.Error()))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		ar.fail(w, r, badRequest("(the request body)", "请求为空", "the request body is empty"))
		return false
	}
	if pe := jsonBodyProblem(body); pe != nil {
		ar.fail(w, r, &applications.Error{Status: http.StatusBadRequest, Code: "InvalidJSON", Field: pe.Field, ZH: pe.ZH, EN: pe.EN})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		ie := decodeError(err)
		ar.fail(w, r, &applications.Error{Status: http.StatusBadRequest, Code: "InvalidJSON", Field: ie.Field,
			ZH: strings.Replace(ie.ZH, "（可用：site, crs, household_id, village_code, returns_old_homestead, rebuild_in_place, storeys, floor_area_m2）", "", 1),
			EN: strings.Replace(ie.EN, " (fields: site, crs, household_id, village_code, returns_old_homestead, rebuild_in_place, storeys, floor_area_m2)", "", 1)})
		return false
	}
	return true
}

// applicationBody is the body of POST /applications and PATCH
// /applications/{id}: the 申请表 and, optionally, the site (GeoJSON with
// its crs, or a 界址点 file as text in site_jzd).
type applicationBody struct {
	Form applications.Form `json:"form"`
	applications.SiteInput
}

func (ar *applicationRoutes) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := applications.Filter{State: applications.State(q.Get("state")), Village: q.Get("village"), Search: q.Get("q")}
	if f.State != "" && !f.State.Valid() {
		ar.fail(w, r, badRequest("state", fmt.Sprintf("未知状态 %q", f.State), fmt.Sprintf("unknown state %q (states: %v)", f.State, applications.States)))
		return
	}
	for _, p := range []struct {
		name string
		v    *int
	}{{"year", &f.Year}, {"limit", &f.Limit}, {"offset", &f.Offset}} {
		if raw := q.Get(p.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				ar.fail(w, r, badRequest(p.name, fmt.Sprintf("参数 %s=%q 不是非负整数", p.name, raw), fmt.Sprintf("parameter %s=%q is not a non-negative integer", p.name, raw)))
				return
			}
			*p.v = n
		}
	}
	res, err := ar.svc.List(applications.WithRequest(r.Context(), r), f)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, res)
}

func (ar *applicationRoutes) create(w http.ResponseWriter, r *http.Request) {
	var body applicationBody
	if !ar.readJSON(w, r, &body) {
		return
	}
	a, err := ar.svc.Create(applications.WithRequest(r.Context(), r), body.Form, &body.SiteInput)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/applications/%d", ar.s.baseURL(r), a.ID))
	w.Header().Set("ETag", versionETag(a.Version))
	WriteJSON(w, http.StatusCreated, a)
}

func (ar *applicationRoutes) get(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	a, err := ar.svc.Get(applications.WithRequest(r.Context(), r), id)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(a.Version))
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, a)
}

func (ar *applicationRoutes) patch(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	version, perr := ifMatch(r)
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	var body applicationBody
	if !ar.readJSON(w, r, &body) {
		return
	}
	a, err := ar.svc.Update(applications.WithRequest(r.Context(), r), id, version, body.Form, &body.SiteInput)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(a.Version))
	WriteJSON(w, http.StatusOK, a)
}

func (ar *applicationRoutes) transition(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	version, perr := ifMatch(r)
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	var req applications.TransitionRequest
	if !ar.readJSON(w, r, &req) {
		return
	}
	a, err := ar.svc.Transition(applications.WithRequest(r.Context(), r), id, version, req)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", versionETag(a.Version))
	WriteJSON(w, http.StatusOK, a)
}

func (ar *applicationRoutes) documents(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	docs, err := ar.svc.Documents(applications.WithRequest(r.Context(), r), id)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, map[string]any{"documents": docs})
}

// upload stores the request body as a document: ?kind=hukou|id_card|
// pledge|photo_review|photo_staking|photo_inspection|other and
// ?filename=…; the type is sniffed from the content (PDF, JPEG, PNG), the
// client's Content-Type is not trusted.
func (ar *applicationRoutes) upload(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	limit := ar.svc.MaxDocumentBytes()
	if r.ContentLength > limit {
		ar.fail(w, r, ar.svc.TooLarge())
		return
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			ar.fail(w, r, ar.svc.TooLarge())
			return
		}
		ar.fail(w, r, badRequest("(the request body)", "请求体读取失败："+err.Error(), "could not read the request body: "+err.Error()))
		return
	}
	q := r.URL.Query()
	meta, err := ar.svc.AddDocument(applications.WithRequest(r.Context(), r), id, applications.DocumentKind(q.Get("kind")), q.Get("filename"), content)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("%s/applications/%d/documents/%d", ar.s.baseURL(r), id, meta.ID))
	WriteJSON(w, http.StatusCreated, meta)
}

func (ar *applicationRoutes) document(w http.ResponseWriter, r *http.Request) {
	id, perr := appPathID(r, "id")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	docID, perr := appPathID(r, "docId")
	if perr != nil {
		ar.fail(w, r, perr)
		return
	}
	d, err := ar.svc.Document(applications.WithRequest(r.Context(), r), id, docID)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", d.ContentType)
	h.Set("Content-Length", strconv.FormatInt(d.SizeBytes, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("ETag", `"`+d.SHA256+`"`)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(d.Filename))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.Content)
	}
}

func (ar *applicationRoutes) overdue(w http.ResponseWriter, r *http.Request) {
	items, err := ar.svc.Overdue(applications.WithRequest(r.Context(), r))
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	if items == nil {
		items = []applications.Summary{}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}

// ledger serves the 宅基地审批台账 as JSON rows with the column titles
// (?year=, ?village=, ?state=).
func (ar *applicationRoutes) ledger(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := applications.LedgerFilter{Village: q.Get("village"), State: applications.State(q.Get("state"))}
	if f.State != "" && !f.State.Valid() {
		ar.fail(w, r, badRequest("state", fmt.Sprintf("未知状态 %q", f.State), fmt.Sprintf("unknown state %q", f.State)))
		return
	}
	if raw := q.Get("year"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1900 || n > 9999 {
			ar.fail(w, r, badRequest("year", fmt.Sprintf("参数 year=%q 不是年份", raw), fmt.Sprintf("parameter year=%q is not a year", raw)))
			return
		}
		f.Year = n
	}
	format := q.Get("f")
	if format != "" && format != "json" && format != "xlsx" && format != "csv" {
		ar.fail(w, r, badRequest("f", fmt.Sprintf("不支持的格式 f=%q（可用 json、xlsx、csv）", format), fmt.Sprintf("unsupported format f=%q (json, xlsx, csv)", format)))
		return
	}
	rows, err := ar.svc.Ledger(applications.WithRequest(r.Context(), r), f)
	if err != nil {
		ar.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if format == "" || format == "json" {
		WriteJSON(w, http.StatusOK, map[string]any{"columns": applications.LedgerColumns, "rows": rows})
		return
	}
	// The reader holds a desk role for every row's village (the Service
	// scoped them) and the read is audited: names and 身份证号 in full.
	titles := ar.svc.Config().TownshipTitles
	h := documents.LedgerHeader{Township: titles["220112203"], Year: f.Year, Entitled: true}
	if f.State != "" {
		h.State = f.State.Label()
	}
	if len(rows) > 0 {
		if t, ok := titles[rows[0].Township]; ok {
			h.Township = t
		}
		if f.Village != "" {
			h.Village = rows[0].VillageName
		}
	}
	seq := func(yield func(*documents.LedgerRow, error) bool) {
		for i := range rows {
			if !yield(documentLedgerRow(&rows[i]), nil) {
				return
			}
		}
	}
	name := "宅基地审批台账"
	if f.Year != 0 {
		name += strconv.Itoa(f.Year)
	}
	var buf bytes.Buffer
	ctype := "text/csv; charset=utf-8"
	if format == "xlsx" {
		err = documents.WriteLedgerXLSX(&buf, h, seq)
		ctype, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name+".xlsx"
	} else {
		err = documents.WriteLedgerCSV(&buf, h, seq)
		name += ".csv"
	}
	if err != nil {
		ar.s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// documentLedgerRow is a ledger row as package documents renders it.
func documentLedgerRow(r *applications.LedgerRow) *documents.LedgerRow {
	day := func(s string) time.Time {
		t, err := time.ParseInLocation(time.DateOnly, s, applications.China)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	out := &documents.LedgerRow{ApplicationNo: strconv.FormatInt(r.ApplicationID, 10), Village: r.VillageName,
		Applicant: r.ApplicantName, IDNumber: r.ApplicantIDNumber, Address: r.Address, FloorAreaM2: r.FloorAreaM2,
		Storeys: r.Storeys, Case: documents.ConstructionCase(r.SituationCode), Land: documents.LandClass(r.LandClassCode),
		AgriKind: r.LandSubclass, AcceptedOn: day(r.AcceptedOn), ApprovedOn: day(r.ApprovedOn), CertificateNo: r.ApprovalNumber,
		State: r.StateLabel, StakedOn: day(r.StakedOn), StartedOn: day(r.StartedOn), AcceptedBuilt: day(r.InspectedOn),
		RegisteredOn: day(r.RegisteredOn)}
	if r.SiteAreaM2 != nil {
		out.SiteAreaM2 = *r.SiteAreaM2
	}
	return out
}
