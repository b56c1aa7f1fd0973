package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"villageplan/internal/siting"
)

// maxSiteBody bounds a siting request body (a 界址点 file or GeoJSON).
const maxSiteBody = 5 << 20

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
	sr := &sitingRoutes{s: s, svc: siting.NewService(s.pool, rs)}
	s.router.HandleFunc("/siting/checks", sr.create).Methods(http.MethodPost)
	s.router.HandleFunc("/siting/checks/{id}", sr.get).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/siting/checks/{id}/report", sr.report).Methods(http.MethodGet, http.MethodHead)
	s.router.HandleFunc("/siting/ruleset", sr.ruleset).Methods(http.MethodGet, http.MethodHead)
}

// sitingError is the JSON body of a rejected site: the message in Chinese
// and English and where the problem is.
type sitingError struct {
	Code          string  `json:"code"`
	Description   string  `json:"description"`
	DescriptionZH string  `json:"description_zh"`
	Part          int     `json:"part,omitempty"`
	Ring          int     `json:"ring,omitempty"`
	Point         int     `json:"point,omitempty"`
	Line          int     `json:"line,omitempty"`
	Lon           float64 `json:"lon,omitempty"`
	Lat           float64 `json:"lat,omitempty"`
}

func (sr *sitingRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *siting.InputError
	if errors.As(err, &ie) {
		status, code := http.StatusBadRequest, "InvalidSite"
		if ie == siting.ErrOutsideData {
			status, code = http.StatusUnprocessableEntity, "OutsideData"
		}
		WriteJSON(w, status, sitingError{Code: code, Description: ie.EN, DescriptionZH: ie.ZH,
			Part: ie.Part, Ring: ie.Ring, Point: ie.Point, Line: ie.Line, Lon: ie.Lon, Lat: ie.Lat})
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
	for i, res := range results {
		if err := sr.svc.Save(r.Context(), sites[i], res); err != nil {
			sr.s.serverError(w, r, err)
			return
		}
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
// rebuild_in_place). On failure it has written the error (400 naming the
// problem, 413, 415) and ok is false. /siting/checks and /desk/preview
// share it, so both read exactly the same requests.
func (sr *sitingRoutes) readSites(w http.ResponseWriter, r *http.Request) (sites []siting.Site, in siting.Input, ok bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSiteBody+1))
	if err != nil {
		sr.fail(w, r, &siting.InputError{ZH: "请求读取失败", EN: "could not read the request body"})
		return nil, in, false
	}
	if len(body) > maxSiteBody {
		WriteError(w, http.StatusRequestEntityTooLarge, "TooLarge", fmt.Sprintf("the body is larger than %d bytes", maxSiteBody))
		return nil, in, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/plain", "application/octet-stream":
		q := r.URL.Query()
		in = siting.Input{HouseholdID: q.Get("household_id"), VillageCode: q.Get("village_code")}
		in.ReturnsOldHomestead, _ = strconv.ParseBool(q.Get("returns_old_homestead"))
		in.RebuildInPlace, _ = strconv.ParseBool(q.Get("rebuild_in_place"))
		sites, err = siting.ParseJZDSites(body)
	case "application/json", "application/geo+json", "":
		var req siting.Request
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if len(bytes.TrimSpace(body)) == 0 {
			err = &siting.InputError{ZH: "请求为空：请提交选址图形或界址点文件", EN: "empty request: send a site geometry or a 界址点 file"}
		} else if derr := dec.Decode(&req); derr != nil {
			err = &siting.InputError{ZH: "请求不是有效的 JSON：" + derr.Error(), EN: "the request is not valid JSON: " + derr.Error()}
		} else {
			in = req.Input
			var site siting.Site
			site, err = siting.ParseGeoJSONSite(req.Site, req.CRS)
			sites = []siting.Site{site}
		}
	default:
		WriteError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "send application/json (GeoJSON site) or text/plain (界址点 txt file)")
		return nil, in, false
	}
	if err != nil {
		sr.fail(w, r, err)
		return nil, in, false
	}
	return sites, in, true
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
	return res
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
