package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
	"villageplan/internal/exports"
	"villageplan/internal/features"
	"villageplan/layers"
)

// parseInstant reads an OGC API – Features datetime instant (RFC 3339 with
// a time zone, e.g. 2026-03-01T08:00:00+08:00) for layer l and checks that
// the layer's history reaches back to it. Intervals ("a/b", "../b") and
// dates without a time are refused: the layer as of one instant is what
// is served. Errors are *paramError naming param.
func (fr *featureRoutes) parseInstant(ctx context.Context, l *layers.Layer, param, s string) (time.Time, error) {
	at, err := parseRFC3339Instant(param, s)
	if err != nil {
		return time.Time{}, err
	}
	if err := fr.svc.CheckInstant(ctx, l, at); err != nil {
		var bh *features.ErrBeforeHistory
		if errors.As(err, &bh) {
			zh, en, _ := strings.Cut(bh.Error(), "；")
			return time.Time{}, &paramError{param: param, zh: zh, msg: en}
		}
		return time.Time{}, err
	}
	return at, nil
}

// parseRFC3339Instant is the syntax check of parseInstant, without the
// history check.
func parseRFC3339Instant(param, s string) (time.Time, error) {
	if strings.Contains(s, "/") {
		return time.Time{}, &paramError{param: param, zh: fmt.Sprintf("%q 是时间区间；只支持一个时刻（RFC 3339，如 2026-03-01T08:00:00+08:00）", s),
			msg: fmt.Sprintf("%q is an interval; only an instant is supported (RFC 3339, e.g. 2026-03-01T08:00:00+08:00)", s)}
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &paramError{param: param, zh: fmt.Sprintf("%q 不是 RFC 3339 时刻（需含时区，如 2026-03-01T08:00:00+08:00 或 …Z）", s),
			msg: fmt.Sprintf("%q is not an RFC 3339 instant (with a time zone, e.g. 2026-03-01T08:00:00+08:00 or …Z)", s)}
	}
	return at, nil
}

// signedInForHistory answers 401 and returns false for an anonymous
// request: the layer as of a past instant shows deleted and superseded
// features, history that only signed-in staff read (as the history route).
func signedInForHistory(w http.ResponseWriter, r *http.Request) bool {
	if auth.FromContext(r.Context()) != nil {
		return true
	}
	WriteError(w, http.StatusUnauthorized, "Unauthorized",
		"查看历史状态（datetime、changes）需要登录。 The state of a layer at a past instant (datetime=, /changes) is history: sign in to read it.")
	return false
}

// itemAsOf answers /collections/{id}/items/{featureId}?datetime=: the
// feature as it was at that instant (404 when it did not exist then).
// Personal fields as for the current feature, judged on the village the
// feature had then.
func (fr *featureRoutes) itemAsOf(w http.ResponseWriter, r *http.Request, l *layers.Layer, id int64, at time.Time, srid int, format string) {
	if !signedInForHistory(w, r) {
		return
	}
	p := auth.FromContext(r.Context())
	township, scope := p.PersonalScope()
	personal := format != "html" && hasPersonal(l) && township
	f, err := fr.svc.FeatureAsOf(r.Context(), l, id, at, srid, personal)
	village := ""
	if err == nil && format != "html" && hasPersonal(l) && !township && len(scope) > 0 {
		if vf := villageField(l); vf != "" {
			if v := villageOfFeature(f, vf); v != "" && p.MayReadPersonal(v) {
				personal, village = true, v
				f, err = fr.svc.FeatureAsOf(r.Context(), l, id, at, srid, true)
			}
		}
	}
	if errors.Is(err, features.ErrNotFound) {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("要素 %d 在 %s 时不存在。 Feature %d of %s did not exist at %s",
			id, at.Format(time.RFC3339), id, l.ID, at.Format(time.RFC3339)))
		return
	}
	if err != nil {
		fr.s.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	if personal {
		if err := fr.s.auditPersonal(r, l, village, []string{strconv.FormatInt(id, 10)}, false); err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		privateAnswer(w)
	}
	if format == "html" {
		fr.itemHTML(w, r, l, id, f)
		return
	}
	base := fr.s.baseURL(r)
	w.Header().Set("Content-Crs", "<"+crsURI(srid)+">")
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	lb, _ := jsonMarshal([]link{
		{Href: base + "/collections/" + l.ID + "/items/" + strconv.FormatInt(id, 10) + "?datetime=" + at.Format(time.RFC3339Nano), Rel: "self", Type: "application/geo+json"},
		{Href: base + "/collections/" + l.ID + "/items/" + strconv.FormatInt(id, 10) + "/history", Rel: "version-history", Type: "application/json"},
		{Href: base + "/collections/" + l.ID, Rel: "collection", Type: "application/json"},
	})
	out := make([]byte, 0, len(f)+len(lb)+16)
	out = append(out, f[:len(f)-1]...)
	out = append(out, `,"links":`...)
	out = append(out, lb...)
	out = append(out, "}\n"...)
	_, _ = w.Write(out)
}

// routeChanges mounts GET /collections/{id}/changes?from=…&to=…: the
// features added, modified and removed between two instants (RFC 3339;
// to defaults to now), as a GeoJSON FeatureCollection in CRS84 whose
// features carry properties {"change": added|modified|removed, "old",
// "new", "old_geometry"} (as kart diff). Personal fields for a principal
// entitled to the whole township only (the diff spans villages).
func (s *Server) routeChanges() {
	if s.pool == nil {
		return
	}
	fr := &featureRoutes{s: s, svc: features.New(s.pool, s.catalog)}
	s.router.HandleFunc("/collections/{collectionId}/changes", func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["collectionId"]
		l, ok := s.catalog.Layer(id)
		if !ok {
			WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("没有图层 %q。 No collection %q; GET /collections lists them", id, id))
			return
		}
		if !signedInForHistory(w, r) {
			return
		}
		v := r.URL.Query()
		for k := range v {
			if k != "from" && k != "to" && k != "f" {
				s.requestError(w, r, badParam(k, "is not a parameter of /changes (from, to, f=json|gpkg)"))
				return
			}
		}
		format := v.Get("f")
		if format != "" && format != "json" && format != "geojson" && format != "gpkg" {
			s.requestError(w, r, badParam("f", "%q is not offered here; use f=json (GeoJSON) or f=gpkg (GeoPackage)", format))
			return
		}
		if v.Get("from") == "" {
			s.requestError(w, r, &paramError{param: "from", zh: "缺少起始时刻（RFC 3339）", msg: "the first instant (RFC 3339) is required"})
			return
		}
		from, err := fr.parseInstant(r.Context(), l, "from", v.Get("from"))
		if err != nil {
			s.requestError(w, r, err)
			return
		}
		to := time.Now()
		if v.Get("to") != "" {
			if to, err = fr.parseInstant(r.Context(), l, "to", v.Get("to")); err != nil {
				s.requestError(w, r, err)
				return
			}
		}
		if !to.After(from) {
			s.requestError(w, r, &paramError{param: "to", zh: "结束时刻须晚于起始时刻 from", msg: "must be after from"})
			return
		}
		p := auth.FromContext(r.Context())
		township, _ := p.PersonalScope()
		personal := hasPersonal(l) && township
		if format == "gpkg" {
			fr.changesGPKG(w, r, l, from, to, personal)
			return
		}
		var feats [][]byte
		if err := fr.svc.Changes(r.Context(), l, from, to, personal, func(f []byte) error {
			feats = append(feats, append([]byte(nil), f...))
			return nil
		}); err != nil {
			s.serverError(w, r, err)
			return
		}
		if personal {
			if err := s.auditPersonal(r, l, "", featureIDs(feats), false); err != nil {
				s.serverError(w, r, err)
				return
			}
			privateAnswer(w)
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "application/geo+json")
		w.WriteHeader(http.StatusOK)
		// to is fixed in the links (it defaulted to now), so the download
		// holds exactly these features.
		q := "from=" + url.QueryEscape(from.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339Nano))
		base := s.baseURL(r) + "/collections/" + l.ID + "/changes?" + q
		lb, _ := jsonMarshal([]link{
			{Href: base, Rel: "self", Type: "application/geo+json"},
			{Href: base + "&f=gpkg", Rel: "enclosure", Type: exports.GeoPackage.ContentType(), Title: "GeoPackage 下载 download"},
			{Href: s.baseURL(r) + "/collections/" + l.ID, Rel: "collection", Type: "application/json"},
		})
		_, _ = fmt.Fprintf(w, `{"type":"FeatureCollection","collection":%q,"from":%q,"to":%q,"numberReturned":%d,"links":%s,"features":[`,
			l.ID, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), len(feats), lb)
		for i, f := range feats {
			if i > 0 {
				_, _ = w.Write([]byte(","))
			}
			_, _ = w.Write(f)
		}
		_, _ = w.Write([]byte("]}\n"))
	}).Methods(http.MethodGet, http.MethodHead)
}

// changesGPKG answers /changes?f=gpkg: the changes as a GeoPackage
// (exports.WriteChanges: table <layer>_changes with the change kind and the
// state at to, <layer>_changes_old with the state before), through the
// download slots and the download pool as item downloads; personal fields
// as for the JSON (township-wide entitlement), audited.
func (fr *featureRoutes) changesGPKG(w http.ResponseWriter, r *http.Request, l *layers.Layer, from, to time.Time, personal bool) {
	select {
	case fr.s.downloads <- struct{}{}:
		defer func() { <-fr.s.downloads }()
	default:
		w.Header().Set("Retry-After", "10")
		WriteError(w, http.StatusServiceUnavailable, "TooManyDownloads",
			fmt.Sprintf("同时进行的下载已达上限（%d 个），请稍后重试。 %d downloads are already running, the limit; try again shortly.", cap(fr.s.downloads), cap(fr.s.downloads)))
		return
	}
	if personal {
		if err := fr.s.auditPersonal(r, l, "", nil, true); err != nil {
			fr.s.serverError(w, r, err)
			return
		}
		privateAnswer(w)
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", exports.GeoPackage.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s_changes.gpkg"`, l.ID))
	lw := &lazyWriter{w: w, rc: http.NewResponseController(w), stall: fr.s.limits.WriteStall}
	res, err := exports.WriteChanges(r.Context(), fr.s.downloadPool, l, from, to, personal, exports.Options{}, lw)
	if err != nil {
		if !lw.started {
			w.Header().Del("Content-Disposition")
			fr.s.serverError(w, r, err)
			return
		}
		fr.s.logger.Warn("changes download aborted", "layer", l.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	fr.s.downloadsTotal.WithLabelValues(l.ID, "gpkg-changes", "complete").Inc()
	fr.s.downloadFeatures.WithLabelValues(l.ID, "gpkg-changes").Add(float64(res.Features))
}
