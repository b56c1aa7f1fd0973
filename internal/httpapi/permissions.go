package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
)

// Role is a role of the permission table: auth.Anonymous or a grantable
// role of package auth.
type Role = auth.Role

// Anonymous is a request that proves no identity.
const Anonymous = auth.Anonymous

// Roles lists every role the permission table speaks of; the exhaustive
// test walks each of them against every route.
var Roles = append([]Role{Anonymous}, auth.AllRoles...)

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
	// everyone is every role and anonymous: the public map, features
	// (without personal fields) and tiles.
	everyone = Roles
)

// PermissionTable decides every route × role: a request whose route is not
// in it, or whose role is not listed for it, is refused with 403 before any
// handler runs (authorize), so a new route cannot ship unguarded. Personal
// fields (layers.Field.Personal) are kept from every role here by the
// feature, tile and download code itself.
var PermissionTable = []RoutePermission{
	{get, "/healthz", everyone, "process up"},
	{get, "/readyz", everyone, "database reachable and migrated"},
	{[]string{http.MethodGet}, "/metrics", everyone, "Prometheus metrics, no personal data"},
	{get, "/", everyone, "OGC API landing page"},
	{get, "/conformance", everyone, ""},
	{get, "/api", everyone, "OpenAPI document"},
	{get, "/collections", everyone, ""},
	{get, "/collections/{collectionId}", everyone, ""},
	{get, "/collections/{collectionId}/queryables", everyone, "personal fields listed as restricted"},
	{get, "/collections/{collectionId}/items", everyone, "personal fields never served (also in downloads)"},
	{get, "/collections/{collectionId}/items/{featureId}", everyone, "personal fields never served"},
	{get, "/collections/{collectionId}/coverage", everyone, "where a layer's data is complete"},
	{get, "/tiles/{tileset}/{z}/{x}/{y}.mvt", everyone, "personal fields never in tiles"},
	{get, "/tiles/{tileset}.json", everyone, ""},
	{get, "/styles/default.json", everyone, ""},
	{post, "/siting/checks", everyone, "stored check; to be limited to the desk roles by the accounts issue"},
	{get, "/siting/checks/{id}", everyone, "links a household id to a site; to be limited by the accounts issue"},
	{get, "/siting/checks/{id}/report", everyone, "as /siting/checks/{id}"},
	{get, "/siting/ruleset", everyone, ""},
	{get, "/map", everyone, "web map page"},
	{get, "/map/", everyone, "redirect to /map"},
	{get, "/desk", everyone, "desk page"},
	{get, "/desk/", everyone, "redirect to /desk"},
	{get, "/favicon.ico", everyone, ""},
	{get, "/web/", everyone, "static files of the pages (path prefix)"},
	{get, "/map/meta.json", everyone, ""},
	{get, "/map/villages", everyone, ""},
	{get, "/map/views/streetlight-coverage.geojson", everyone, ""},
	{post, "/desk/preview", everyone, "area and 四至 of a site, nothing stored"},
	// The application desk: personal data; the village scope is enforced
	// by package applications (a village grant sees its village only),
	// every read is audited.
	{get, "/applications", desk, "list with counts per state; scoped to the principal's villages"},
	{post, "/applications", desk, "file an application (村级经办, 乡镇窗口 of its village)"},
	{get, "/applications/overdue", desk, "open steps past their deadline, scoped"},
	{get, "/applications/{id}", desk, "one application with events and documents, scoped"},
	{[]string{http.MethodPatch}, "/applications/{id}", desk, "change the form or site before 受理 (If-Match)"},
	{post, "/applications/{id}/transitions", desk, "one action; the action's role is checked per village (If-Match)"},
	{get, "/applications/{id}/documents", desk, "document list, scoped"},
	{post, "/applications/{id}/documents", desk, "upload (PDF/JPEG/PNG sniffed, size capped), scoped"},
	{get, "/applications/{id}/documents/{docId}", desk, "document content, scoped"},
	{get, "/ledger", desk, "宅基地审批台账 rows, scoped"},
	{get, "/workdays", append([]Role{auth.Admin}, desk...), "working-day calendar, no personal data"},
	{[]string{http.MethodPut}, "/workdays/{date}", []Role{auth.Admin}, "administrator's correction of a day (audited)"},
}

// desk is the roles of the homestead-approval desk (auth.DeskRoles).
var desk = auth.DeskRoles

// principalRoles are the roles of the request's principal
// ([Anonymous] when it proved no identity).
func principalRoles(r *http.Request) []Role {
	return auth.FromContext(r.Context()).Roles()
}

// permitted reports whether one of roles is listed in perm.
func permitted(perm *RoutePermission, roles []Role) bool {
	return perm != nil && slices.ContainsFunc(roles, func(r Role) bool { return slices.Contains(perm.Roles, r) })
}

// identify puts the request's principal (Options.Authenticator) in its
// context; credentials that are present but not valid are refused with
// 401 and a JSON body, never served as anonymous.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Authenticator == nil {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.opts.Authenticator.Authenticate(r)
		if err != nil {
			var ae *auth.Error
			if errors.As(err, &ae) {
				WriteError(w, ae.Status, ae.Code, ae.ZH+" "+ae.EN)
				return
			}
			s.serverError(w, r, err) // 503 when the database is down
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// authorize refuses, with 403 and a JSON body, a request whose route and
// method are not in the PermissionTable or whose role is not listed there.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		perm := s.permissions[permissionKey(r)]
		if roles := principalRoles(r); !permitted(perm, roles) {
			WriteError(w, http.StatusForbidden, "Forbidden",
				"无权访问此资源。 This route is not open to your role ("+roleList(roles)+").")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// roleList is "村级经办 (village_clerk), …" for error messages.
func roleList(roles []Role) string {
	var b strings.Builder
	for i, r := range roles {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Label() + " (" + string(r) + ")")
	}
	return b.String()
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
