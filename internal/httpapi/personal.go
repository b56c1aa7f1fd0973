package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"villageplan/internal/auth"
	"villageplan/internal/features"
	"villageplan/layers"
)

// Personal data in the features API and downloads.
//
// The personal fields of a layer (layers.Field.Personal: 户编号, 户主姓名,
// 户主身份证号 of homesteads) are served only to a principal entitled to
// the village of the features (auth.Principal.MayReadPersonal: a desk
// role or a 个人信息查阅 grant whose scope covers it):
//
//   - township-wide entitlement: every feature's personal fields;
//   - entitlement for some villages only (a 村级经办, a village-scoped
//     个人信息查阅): the personal fields only when the request is limited
//     to one of those villages by the layer's village field
//     (…/items?xzqdm=220112203300, also for downloads), or for a single
//     feature of such a village; otherwise the answer is the public one;
//   - everyone else, anonymous included: never.
//
// Each answer that carries personal fields writes one audit row
// (feature.read_personal: the layer, the feature ids of an items page or
// the single feature, or the query of a download) before it is sent — if
// the row cannot be written, nothing is served — and is marked
// Cache-Control: private, no-store with its own ETag. HTML pages and
// tiles never show personal fields; personal fields cannot be used in
// filters.

// villageField is the field of a layer holding the 12-digit village code
// of each feature ("" when the layer has none: then only a township-wide
// entitlement opens its personal fields).
func villageField(l *layers.Layer) string {
	if f, ok := l.Field("xzqdm"); ok && !f.Personal {
		return f.Name
	}
	return ""
}

// hasPersonal reports whether l has personal fields at all.
func hasPersonal(l *layers.Layer) bool {
	for _, f := range l.Fields {
		if f.Personal {
			return true
		}
	}
	return false
}

// personalForQuery decides whether an items request (page or download)
// carries l's personal fields for the request's principal, and the village
// it was limited to ("" for township-wide).
func personalForQuery(r *http.Request, l *layers.Layer, q *features.Query) (include bool, village string) {
	p := auth.FromContext(r.Context())
	if p == nil || !hasPersonal(l) {
		return false, ""
	}
	if township, _ := p.PersonalScope(); township {
		return true, ""
	}
	vf := villageField(l)
	if vf == "" {
		return false, ""
	}
	for _, e := range q.Equals {
		if e.Field.Name != vf {
			continue
		}
		if v, ok := e.Value.(string); ok && v != "" && p.MayReadPersonal(v) {
			return true, v
		}
	}
	return false, ""
}

// auditPersonal writes the audit row of an answer with personal fields of
// layer l: the feature ids (at most 1000 listed; the count always) or, for
// a download, the query string.
func (s *Server) auditPersonal(r *http.Request, l *layers.Layer, village string, ids []string, download bool) error {
	details := map[string]any{"layer": l.ID, "query": r.URL.RawQuery, "count": len(ids)}
	subject := ""
	if download {
		details = map[string]any{"layer": l.ID, "query": r.URL.RawQuery, "download": true}
	} else {
		if len(ids) == 1 {
			subject = ids[0]
		}
		if len(ids) > 1000 {
			details["ids_truncated"] = true
			ids = ids[:1000]
		}
		details["ids"] = ids
	}
	var fields []string
	for _, f := range l.Fields {
		if f.Personal {
			fields = append(fields, f.Name)
		}
	}
	details["fields"] = fields
	return auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "feature.read_personal", SubjectKind: l.ID,
		SubjectID: subject, Village: village, PersonalData: true, Details: details})
}

// featureIDs reads the "id" of each GeoJSON feature built by package
// features ({"type":"Feature","id":N,…}).
func featureIDs(fs [][]byte) []string {
	ids := make([]string, 0, len(fs))
	for _, f := range fs {
		const prefix = `{"type":"Feature","id":`
		if rest, ok := bytes.CutPrefix(f, []byte(prefix)); ok {
			if i := bytes.IndexByte(rest, ','); i > 0 {
				ids = append(ids, string(rest[:i]))
				continue
			}
		}
		var v struct {
			ID json.Number `json:"id"`
		}
		_ = json.Unmarshal(f, &v)
		ids = append(ids, v.ID.String())
	}
	return ids
}

// privateAnswer marks a response carrying personal data: no shared or
// browser cache keeps it (its ETag is personalTag's).
func privateAnswer(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "private, no-store")
}

// personalTag is the ETag of an answer with personal data (see
// privateAnswer), so a conditional request never crosses the two.
func personalTag(tag string, personal bool) string {
	if !personal {
		return tag
	}
	return strings.TrimSuffix(tag, `"`) + `-p"`
}

// villageOfFeature is the village code in the properties of a feature
// built by package features ("" when absent).
func villageOfFeature(f []byte, field string) string {
	var v struct {
		Properties map[string]any `json:"properties"`
	}
	if json.Unmarshal(f, &v) != nil {
		return ""
	}
	s, _ := v.Properties[field].(string)
	return s
}
