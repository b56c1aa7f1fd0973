package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"villageplan/internal/features"
)

// routeHistory mounts /collections/{id}/items/{featureId}/history: every
// version of a feature (edits through the service, imports, QGIS, psql),
// a reader of the history the triggers record.
func (s *Server) routeHistory() {
	if s.pool == nil {
		return
	}
	svc := features.New(s.pool, s.catalog)
	s.router.HandleFunc("/collections/{collectionId}/items/{featureId}/history", func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["collectionId"]
		l, ok := s.catalog.Layer(id)
		if !ok {
			WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("没有图层 %q。 No collection %q; GET /collections lists them", id, id))
			return
		}
		raw := mux.Vars(r)["featureId"]
		fid, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || fid < 1 {
			WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("没有要素 %q。 No feature %q in %s (feature ids are positive whole numbers)", raw, raw, l.ID))
			return
		}
		vs, found, err := svc.History(r.Context(), l, fid)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if !found {
			WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("要素 %d 不存在，也没有历史记录。 Feature %d of %s neither exists nor has a history", fid, fid, l.ID))
			return
		}
		if vs == nil {
			vs = []features.Version{}
		}
		base := s.baseURL(r)
		self := fmt.Sprintf("%s/collections/%s/items/%d", base, l.ID, fid)
		w.Header().Set("Cache-Control", "no-cache")
		WriteJSON(w, http.StatusOK, map[string]any{"collection": l.ID, "feature_id": fid, "versions": vs,
			"links": []link{{Href: self + "/history", Rel: "self", Type: "application/json"}, {Href: self, Rel: "item", Type: "application/geo+json"}}})
	}).Methods(http.MethodGet, http.MethodHead)
}
