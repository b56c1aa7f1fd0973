package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"villageplan/internal/editing"
)

// Editing routes: OGC API – Features Part 4 (create, replace, update,
// delete of single features, optimistic locking with ETags) and the
// changesets of package editing. Every write goes through editing.Service.

// MaxEditBody bounds the body of an edit (a feature or a changeset), in
// bytes; a larger body is refused with 413.
const MaxEditBody = 5 << 20

// part4Classes are the OGC API – Features Part 4 (draft) conformance
// classes implemented here: POST/PUT/DELETE, PATCH with JSON Merge Patch,
// and optimistic locking with ETags (If-Match required: 428 without, 412
// when the feature changed).
var part4Classes = []string{
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
}

type editRoutes struct {
	s   *Server
	svc *editing.Service
}

// routeEditing mounts the write routes.
func (s *Server) routeEditing() {
	if s.pool == nil {
		return
	}
	er := &editRoutes{s: s, svc: editing.New(s.pool, s.catalog)}
	r := s.router
	r.HandleFunc("/collections/{collectionId}/items", er.create).Methods(http.MethodPost)
	r.HandleFunc("/collections/{collectionId}/items/{featureId}", er.featureWrite(editing.Replace, "application/geo+json", "application/json")).Methods(http.MethodPut)
	r.HandleFunc("/collections/{collectionId}/items/{featureId}", er.featureWrite(editing.Patch, "application/merge-patch+json")).Methods(http.MethodPatch)
	r.HandleFunc("/collections/{collectionId}/items/{featureId}", er.featureWrite(editing.Delete)).Methods(http.MethodDelete)
	r.HandleFunc("/collections/{collectionId}/items/{featureId}/split", er.split).Methods(http.MethodPost)
	r.HandleFunc("/changesets", er.submit).Methods(http.MethodPost)
	r.HandleFunc("/changesets", er.list).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/changesets/{id}", er.get).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/changesets/{id}/revert", er.revert).Methods(http.MethodPost)
	r.HandleFunc("/changesets/{id}/approve", er.approve).Methods(http.MethodPost)
	r.HandleFunc("/changesets/{id}/reject", er.reject).Methods(http.MethodPost)
}

// editErrorBody is the JSON body of a refused edit: code, description
// (Chinese and English), and where (editing.Error).
type editErrorBody struct {
	Description string `json:"description"`
	*editing.Error
}

// fail answers an *editing.Error with its status and body, anything else
// as a server error (503 when the database is away).
func (er *editRoutes) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *editing.Error
	if errors.As(err, &e) {
		if e.CurrentETag != "" {
			w.Header().Set("ETag", e.CurrentETag)
		}
		WriteJSON(w, e.Status, editErrorBody{Description: e.Description(), Error: e})
		return
	}
	er.s.serverError(w, r, err)
}

func badEdit(status int, code, zh, en string) *editing.Error {
	return &editing.Error{Status: status, Code: code, ZH: zh, EN: en}
}

// readBody reads a JSON request body of one of the media types, at most
// MaxEditBody bytes; empty allowed only when optional.
func (er *editRoutes) readBody(w http.ResponseWriter, r *http.Request, optional bool, types ...string) ([]byte, bool) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if r.ContentLength != 0 || ct != "" || !optional {
		ok := false
		for _, t := range types {
			ok = ok || mt == t
		}
		if !ok {
			er.fail(w, r, badEdit(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
				fmt.Sprintf("请求体的类型须为 %s，收到 %q", strings.Join(types, " 或 "), ct),
				fmt.Sprintf("the body must be %s, got Content-Type %q", strings.Join(types, " or "), ct)))
			return nil, false
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEditBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			er.fail(w, r, badEdit(http.StatusRequestEntityTooLarge, "TooLarge",
				fmt.Sprintf("请求体超过 %d MiB；请分批提交", MaxEditBody>>20), fmt.Sprintf("the body is larger than %d MiB; send it in parts", MaxEditBody>>20)))
			return nil, false
		}
		er.s.serverError(w, r, err)
		return nil, false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		if optional {
			return nil, true
		}
		er.fail(w, r, badEdit(http.StatusBadRequest, editing.CodeBadRequest, "请求体为空", "the request body is empty"))
		return nil, false
	}
	if p := jsonBodyProblem(b); p != nil {
		er.fail(w, r, badEdit(http.StatusBadRequest, editing.CodeBadRequest, p.ZH, p.EN))
		return nil, false
	}
	return b, true
}

// featureID reads {featureId}; false (404 written) when it is not a
// positive whole number.
func (er *editRoutes) featureID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := mux.Vars(r)["featureId"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		er.fail(w, r, badEdit(http.StatusNotFound, editing.CodeNotFound, fmt.Sprintf("没有要素 %q（要素编号为正整数）", raw),
			fmt.Sprintf("no feature %q (feature ids are positive whole numbers)", raw)))
		return 0, false
	}
	return id, true
}

// ifMatch reads If-Match; false (428 written) when it is missing or "*".
func (er *editRoutes) ifMatch(w http.ResponseWriter, r *http.Request, layer string, id int64) (string, bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		er.fail(w, r, badEdit(http.StatusPreconditionRequired, editing.CodePreconditionReq,
			fmt.Sprintf("缺少 If-Match：请先读取要素（GET /collections/%s/items/%d），把响应的 ETag 作为 If-Match 提交，以免覆盖他人的修改", layer, id),
			fmt.Sprintf("If-Match is missing: read the feature first (GET /collections/%s/items/%d) and send the ETag of that response as If-Match, so that nobody's change is overwritten", layer, id)))
		return "", false
	}
	return v, true
}

// message is the changeset message of a single-feature edit: the
// message query parameter, else the method and path.
func message(r *http.Request) string {
	if m := r.URL.Query().Get("message"); m != "" {
		return m
	}
	return r.Method + " " + r.URL.Path
}

// written answers a single-feature edit: 201 (create, with Location) or
// 200 with the new ETag when published, 204 for a published delete, 202
// with Location of the changeset when it awaits review.
func (er *editRoutes) written(w http.ResponseWriter, r *http.Request, res *editing.Result, created bool) {
	base := er.s.baseURL(r)
	if res.State == editing.Proposed {
		w.Header().Set("Location", base+"/changesets/"+strconv.FormatInt(res.ID, 10))
		WriteJSON(w, http.StatusAccepted, res)
		return
	}
	f := res.Features[0]
	w.Header().Set("X-Changeset-Id", strconv.FormatInt(res.ID, 10))
	switch {
	case f.Kind == editing.Delete:
		w.WriteHeader(http.StatusNoContent)
	case created:
		w.Header().Set("Location", base+"/collections/"+f.Layer+"/items/"+strconv.FormatInt(f.FeatureID, 10))
		w.Header().Set("ETag", f.ETag)
		WriteJSON(w, http.StatusCreated, res)
	default:
		w.Header().Set("ETag", f.ETag)
		WriteJSON(w, http.StatusOK, res)
	}
}

func (er *editRoutes) single(w http.ResponseWriter, r *http.Request, op editing.Operation, created bool) {
	op.CRS = r.Header.Get("Content-Crs")
	res, err := er.svc.Submit(r.Context(), editing.Changeset{Message: message(r), Operations: []editing.Operation{op}}, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	er.written(w, r, res, created)
}

// create: POST /collections/{id}/items with a GeoJSON Feature
// (application/geo+json or application/json; Content-Crs names the CRS
// of its coordinates, default CRS84).
func (er *editRoutes) create(w http.ResponseWriter, r *http.Request) {
	layer := mux.Vars(r)["collectionId"]
	b, ok := er.readBody(w, r, false, "application/geo+json", "application/json")
	if !ok {
		return
	}
	er.single(w, r, editing.Operation{Kind: editing.Create, Layer: layer, Feature: b}, true)
}

// featureWrite answers the writes of one existing feature, all with
// If-Match (428 without, 412 when changed):
//
//	PUT    /collections/{id}/items/{fid}  a GeoJSON Feature (editing.Replace)
//	PATCH  /collections/{id}/items/{fid}  a JSON Merge Patch, application/merge-patch+json (editing.Patch)
//	DELETE /collections/{id}/items/{fid}  no body (editing.Delete)
//
// ctypes are the accepted body media types; none means no body.
func (er *editRoutes) featureWrite(kind editing.Kind, ctypes ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		layer := mux.Vars(r)["collectionId"]
		id, ok := er.featureID(w, r)
		if !ok {
			return
		}
		tag, ok := er.ifMatch(w, r, layer, id)
		if !ok {
			return
		}
		op := editing.Operation{Kind: kind, Layer: layer, FeatureID: id, IfMatch: tag}
		if len(ctypes) > 0 {
			if op.Feature, ok = er.readBody(w, r, false, ctypes...); !ok {
				return
			}
		}
		er.single(w, r, op, false)
	}
}

// submit: POST /changesets with {"message": "…", "operations": [{"op":
// "create|replace|patch|delete", "collection": "…", "feature_id": n,
// "if_match": "\"n.rev\"", "feature": {…}, "crs": "EPSG:4551"}, …]}:
// all operations land in one transaction or none. 201 with Location when
// published, 202 when it awaits review.
func (er *editRoutes) submit(w http.ResponseWriter, r *http.Request) {
	b, ok := er.readBody(w, r, false, "application/json")
	if !ok {
		return
	}
	var cs editing.Changeset
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cs); err != nil {
		er.fail(w, r, badEdit(http.StatusBadRequest, editing.CodeBadRequest, "变更集无法读取："+err.Error()+"；格式为 {\"message\": …, \"operations\": [{\"op\", \"collection\", \"feature_id\", \"if_match\", \"feature\", \"crs\"}]}",
			"cannot read the changeset: "+err.Error()+`; send {"message": …, "operations": [{"op", "collection", "feature_id", "if_match", "feature", "crs"}]}`))
		return
	}
	res, err := er.svc.Submit(r.Context(), cs, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	er.changesetCreated(w, r, res)
}

func (er *editRoutes) changesetCreated(w http.ResponseWriter, r *http.Request, res *editing.Result) {
	w.Header().Set("Location", er.s.baseURL(r)+"/changesets/"+strconv.FormatInt(res.ID, 10))
	status := http.StatusCreated
	if res.State == editing.Proposed {
		status = http.StatusAccepted
	}
	WriteJSON(w, status, res)
}

// changesetID reads {id}; false (404 written) when it is not a positive
// whole number.
func (er *editRoutes) changesetID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		er.fail(w, r, badEdit(http.StatusNotFound, editing.CodeNotFound, fmt.Sprintf("没有变更集 %q", raw), fmt.Sprintf("no changeset %q", raw)))
		return 0, false
	}
	return id, true
}

// list: GET /changesets?state=published|proposed|rejected&limit=&offset=,
// newest first.
func (er *editRoutes) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state != "" && state != editing.Published && state != editing.Proposed && state != editing.Rejected {
		er.s.requestError(w, r, badParam("state", "must be published, proposed or rejected"))
		return
	}
	limit, offset := 50, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			er.s.requestError(w, r, badParam("limit", "must be a whole number from 1 to 1000"))
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			er.s.requestError(w, r, badParam("offset", "must be a whole number ≥ 0"))
			return
		}
		offset = n
	}
	cs, err := er.svc.List(r.Context(), state, limit+1, offset)
	if err != nil {
		er.s.serverError(w, r, err)
		return
	}
	base := er.s.baseURL(r)
	links := []link{{Href: base + "/changesets" + queryString(q), Rel: "self", Type: "application/json"}}
	if len(cs) > limit {
		cs = cs[:limit]
		nq := q
		nq.Set("offset", strconv.Itoa(offset+limit))
		nq.Set("limit", strconv.Itoa(limit))
		links = append(links, link{Href: base + "/changesets?" + nq.Encode(), Rel: "next", Type: "application/json"})
	}
	if cs == nil {
		cs = []*editing.Info{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"changesets": cs, "numberReturned": len(cs), "links": links})
}

// get: GET /changesets/{id}: the changeset and its changes as a GeoJSON
// FeatureCollection (CRS84; each feature with "collection" and "change").
func (er *editRoutes) get(w http.ResponseWriter, r *http.Request) {
	id, ok := er.changesetID(w, r)
	if !ok {
		return
	}
	info, changes, found, err := er.svc.Get(r.Context(), id)
	if err != nil {
		er.s.serverError(w, r, err)
		return
	}
	if !found {
		er.fail(w, r, badEdit(http.StatusNotFound, editing.CodeNotFound, fmt.Sprintf("没有变更集 %d", id), fmt.Sprintf("no changeset %d", id)))
		return
	}
	if changes == nil {
		changes = []json.RawMessage{}
	}
	base := er.s.baseURL(r)
	WriteJSONTyped(w, http.StatusOK, "application/geo+json", map[string]any{
		"type": "FeatureCollection", "changeset": info, "features": changes,
		"links": []link{{Href: base + "/changesets/" + strconv.FormatInt(id, 10), Rel: "self", Type: "application/geo+json"},
			{Href: base + "/changesets", Rel: "collection", Type: "application/json"}},
	})
}

// reviewBody is the optional body of revert, approve and reject.
type reviewBody struct {
	Message string `json:"message"`
	Comment string `json:"comment"`
}

func (er *editRoutes) readReview(w http.ResponseWriter, r *http.Request) (reviewBody, bool) {
	var rb reviewBody
	b, ok := er.readBody(w, r, true, "application/json")
	if !ok {
		return rb, false
	}
	if b != nil {
		if err := json.Unmarshal(b, &rb); err != nil {
			er.fail(w, r, badEdit(http.StatusBadRequest, editing.CodeBadRequest, "请求体须为 {\"message\": …} 或 {\"comment\": …}："+err.Error(),
				`the body must be {"message": …} or {"comment": …}: `+err.Error()))
			return rb, false
		}
	}
	return rb, true
}

// revert: POST /changesets/{id}/revert [{"message": …}] → 201 (or 202
// when review is needed) with the new changeset; 409 listing the features
// edited since.
func (er *editRoutes) revert(w http.ResponseWriter, r *http.Request) {
	id, ok := er.changesetID(w, r)
	if !ok {
		return
	}
	rb, ok := er.readReview(w, r)
	if !ok {
		return
	}
	res, err := er.svc.Revert(r.Context(), id, rb.Message, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	er.changesetCreated(w, r, res)
}

// approve: POST /changesets/{id}/approve [{"comment": …}] → 200.
func (er *editRoutes) approve(w http.ResponseWriter, r *http.Request) {
	id, ok := er.changesetID(w, r)
	if !ok {
		return
	}
	rb, ok := er.readReview(w, r)
	if !ok {
		return
	}
	res, err := er.svc.Approve(r.Context(), id, rb.Comment, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// reject: POST /changesets/{id}/reject [{"comment": …}] → 200.
func (er *editRoutes) reject(w http.ResponseWriter, r *http.Request) {
	id, ok := er.changesetID(w, r)
	if !ok {
		return
	}
	rb, ok := er.readReview(w, r)
	if !ok {
		return
	}
	res, err := er.svc.Reject(r.Context(), id, rb.Comment, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// split: POST /collections/{id}/items/{fid}/split with If-Match and a
// GeoJSON LineString (or a Feature with one; its properties are a JSON
// Merge Patch for the new parts), in the CRS of Content-Crs (CRS84 by
// default). PostGIS cuts the feature (editing.Split); the answer is 201
// with the changeset (Location) and its features (the first is the
// original, patched), or 202 when the layer's changes are reviewed.
func (er *editRoutes) split(w http.ResponseWriter, r *http.Request) {
	layer := mux.Vars(r)["collectionId"]
	id, ok := er.featureID(w, r)
	if !ok {
		return
	}
	tag, ok := er.ifMatch(w, r, layer, id)
	if !ok {
		return
	}
	b, ok := er.readBody(w, r, false, "application/geo+json", "application/json")
	if !ok {
		return
	}
	var doc struct {
		Type       string          `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		er.fail(w, r, badEdit(http.StatusBadRequest, editing.CodeBadRequest, "请求体须为 GeoJSON LineString 或含 LineString 的 Feature："+err.Error(),
			"the body must be a GeoJSON LineString or a Feature with one: "+err.Error()))
		return
	}
	req := editing.SplitRequest{Layer: layer, FeatureID: id, IfMatch: tag, Blade: b, CRS: r.Header.Get("Content-Crs"), Message: message(r)}
	if doc.Type == "Feature" {
		req.Blade = doc.Geometry
		if len(doc.Properties) > 0 && string(doc.Properties) != "null" {
			if err := json.Unmarshal(doc.Properties, &req.Properties); err != nil {
				er.fail(w, r, badEdit(http.StatusUnprocessableEntity, editing.CodeInvalid, "properties 须为 JSON 对象", "properties must be a JSON object"))
				return
			}
		}
	}
	res, err := er.svc.Split(r.Context(), req, r)
	if err != nil {
		er.fail(w, r, err)
		return
	}
	er.changesetCreated(w, r, res)
}
