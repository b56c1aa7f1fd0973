package httpapi

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"
)

// Role is who acts on a request. Until accounts arrive (issue 12: 村级经办,
// 乡镇窗口, 部门审查, 乡镇审批, 规划编辑, 数据分析, 管理员) every request is
// Anonymous; principalRole is the one place that will tell them apart.
type Role string

// Anonymous is a request that proves no identity.
const Anonymous Role = "anonymous"

// Roles lists every role the permission table speaks of; the exhaustive
// test walks each of them against every route.
var Roles = []Role{Anonymous}

// RoutePermission is one row of the permission table: a route (its mux
// path template and methods) and the roles that may call it.
type RoutePermission struct {
	Methods []string
	Path    string
	Roles   []Role
	// Note says what the route exposes, for whoever changes the row.
	Note string
}

var (
	get  = []string{http.MethodGet, http.MethodHead}
	post = []string{http.MethodPost}
	anon = []Role{Anonymous}
)

// PermissionTable decides every route × role: a request whose route is not
// in it, or whose role is not listed for it, is refused with 403 before any
// handler runs (authorize), so a new route cannot ship unguarded. Personal
// fields (layers.Field.Personal) are kept from every role here by the
// feature, tile and download code itself.
var PermissionTable = []RoutePermission{
	{get, "/healthz", anon, "process up"},
	{get, "/readyz", anon, "database reachable and migrated"},
	{[]string{http.MethodGet}, "/metrics", anon, "Prometheus metrics, no personal data"},
	{get, "/", anon, "OGC API landing page"},
	{get, "/conformance", anon, ""},
	{get, "/api", anon, "OpenAPI document"},
	{get, "/collections", anon, ""},
	{get, "/collections/{collectionId}", anon, ""},
	{get, "/collections/{collectionId}/queryables", anon, "personal fields listed as restricted"},
	{get, "/collections/{collectionId}/items", anon, "personal fields never served (also in downloads)"},
	{get, "/collections/{collectionId}/items/{featureId}", anon, "personal fields never served"},
	{get, "/collections/{collectionId}/coverage", anon, "where a layer's data is complete"},
	{get, "/tiles/{tileset}/{z}/{x}/{y}.mvt", anon, "personal fields never in tiles"},
	{get, "/tiles/{tileset}.json", anon, ""},
	{get, "/styles/default.json", anon, ""},
	{post, "/siting/checks", anon, "stored check; to be limited to the desk roles by the accounts issue"},
	{get, "/siting/checks/{id}", anon, "links a household id to a site; to be limited by the accounts issue"},
	{get, "/siting/checks/{id}/report", anon, "as /siting/checks/{id}"},
	{get, "/siting/ruleset", anon, ""},
	{get, "/map", anon, "web map page"},
	{get, "/map/", anon, "redirect to /map"},
	{get, "/desk", anon, "desk page"},
	{get, "/desk/", anon, "redirect to /desk"},
	{get, "/favicon.ico", anon, ""},
	{get, "/web/", anon, "static files of the pages (path prefix)"},
	{get, "/map/meta.json", anon, ""},
	{get, "/map/villages", anon, ""},
	{get, "/map/views/streetlight-coverage.geojson", anon, ""},
	{post, "/desk/preview", anon, "area and 四至 of a site, nothing stored"},
}

// principalRole is the role of the request's principal.
func principalRole(*http.Request) Role { return Anonymous }

// authorize refuses, with 403 and a JSON body, a request whose route and
// method are not in the PermissionTable or whose role is not listed there.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		perm := s.permissions[permissionKey(r)]
		if perm == nil || !slices.Contains(perm.Roles, principalRole(r)) {
			WriteError(w, http.StatusForbidden, "Forbidden",
				"无权访问此资源。 This route is not open to your role ("+string(principalRole(r))+").")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// permissionKey is "METHOD path-template" of the request's matched route.
func permissionKey(r *http.Request) string {
	return r.Method + " " + routeTemplate(r)
}

// indexPermissions builds the lookup of authorize from the table.
func indexPermissions(table []RoutePermission) map[string]*RoutePermission {
	m := map[string]*RoutePermission{}
	for i := range table {
		for _, method := range table[i].Methods {
			m[method+" "+table[i].Path] = &table[i]
		}
	}
	return m
}

// routeTemplate is the mux path template of the request's route, the
// label of the request metrics and the key of the permission table
// ("unmatched" for none).
func routeTemplate(r *http.Request) string {
	if cr := mux.CurrentRoute(r); cr != nil {
		if tpl, err := cr.GetPathTemplate(); err == nil {
			return tpl
		}
	}
	return "unmatched"
}
