package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"villageplan/internal/qgisproject"
)

// routeQGIS mounts
//
//	GET /qgis/villageplan.qgs  the one-map as a QGIS project (QGIS 3 XML)
//
// The project (internal/qgisproject) connects every catalog layer to this
// service through QGIS's OAPIF provider at the request's base URL, with
// the vector tiles as a basemap, Chinese names, the web map's groups and
// the catalog's styles, in EPSG:4530 (CGCS2000 GK zone 42). It opens on
// the villages' extent; without a database it still answers, with no
// initial view. Public like the features it points to: personal fields
// stay behind the OAPIF requests' own checks.
func (s *Server) routeQGIS() {
	s.router.HandleFunc("/qgis/villageplan.qgs", s.qgisProject).Methods(http.MethodGet, http.MethodHead)
}

func (s *Server) qgisProject(w http.ResponseWriter, r *http.Request) {
	opts := qgisproject.Options{BaseURL: s.baseURL(r)}
	if s.pool != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var e [4]*float64
		err := s.pool.QueryRow(ctx, `SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
			FROM (SELECT ST_Extent(ST_Transform(geom, `+strconv.Itoa(qgisproject.ProjectSRID)+`))::box2d b FROM villageplan.villages) s`).Scan(&e[0], &e[1], &e[2], &e[3])
		if err != nil {
			s.logger.Warn("qgis project: no initial extent", "err", err)
		} else if e[0] != nil {
			opts.Extent = [4]float64{*e[0], *e[1], *e[2], *e[3]}
		}
	}
	body := qgisproject.Build(s.catalog, opts)
	h := w.Header()
	h.Set("Content-Type", qgisproject.ContentType)
	h.Set("Content-Disposition", `attachment; filename="villageplan.qgs"`)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
