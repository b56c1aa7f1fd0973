package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"villageplan/internal/coverage"
	"villageplan/layers"
)

// relCoverage is the link relation from a collection to its coverage
// document (/collections/{id}/coverage): where the layer's data is
// complete. OGC API – Features defines no relation for this, so the plain
// token "coverage" is used and documented here and in the README.
const relCoverage = "coverage"

// routeCoverage mounts
//
//	GET /collections/{collectionId}/coverage
//
// a GeoJSON Feature whose geometry is the layer's coverage in CRS84
// (CGCS2000 longitude/latitude) and whose properties are layer, kind,
// source, with_features, recorded_at, recorded_by, area_km2 and villages
// (coverage.Info). 404 when the layer has none: siting answers REVIEW
// "无数据" for rules reading it.
func (s *Server) routeCoverage() {
	if s.pool == nil {
		return
	}
	s.router.HandleFunc("/collections/{collectionId}/coverage", s.handleCoverage).Methods(http.MethodGet, http.MethodHead)
}

func (s *Server) handleCoverage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["collectionId"]
	l, ok := s.catalog.Layer(id)
	if !ok {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("no collection %q; GET /collections lists them", id))
		return
	}
	b, err := coverage.GeoJSON(r.Context(), s.pool, l)
	if errors.Is(err, coverage.ErrNone) {
		WriteError(w, http.StatusNotFound, "NoCoverage", fmt.Sprintf(
			"图层 %s 没有覆盖范围，选址规则对其答 REVIEW（无数据）/ collection %s has no coverage: siting rules reading it answer REVIEW (no data)", l.ID, l.ID))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// coverageSummary is the short "coverage" member of a collection document
// (nil when the layer has none): as recorded, without computation.
type coverageSummary struct {
	Kind         coverage.Kind `json:"kind"`
	Source       string        `json:"source"`
	WithFeatures bool          `json:"with_features"`
	RecordedAt   string        `json:"recorded_at"`
	AreaKM2      *float64      `json:"area_km2"`
	Href         string        `json:"href"`
}

func newCoverageSummary(base string, l *layers.Layer, b coverage.Brief) *coverageSummary {
	return &coverageSummary{Kind: b.Kind, Source: b.Source, WithFeatures: b.WithFeatures,
		RecordedAt: b.RecordedAt.UTC().Format("2006-01-02T15:04:05Z"), AreaKM2: b.AreaKM2,
		Href: base + "/collections/" + l.ID + "/coverage"}
}
