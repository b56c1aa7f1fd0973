package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
	"villageplan/layers"
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
	// signedIn is every grantable role: one's own account.
	signedIn = auth.AllRoles
	// desk is the roles of the homestead-approval desk; a village clerk
	// only for its own village (checked by the handler).
	desk   = auth.DeskRoles
	admins = []Role{auth.Admin}
	del    = []string{http.MethodDelete}
	patch  = []string{http.MethodPatch}
)

// PermissionTable decides every route × role: a request whose route is not
// in it, or whose role is not listed for it, is refused with 403 before any
// handler runs (authorize), so a new route cannot ship unguarded. Personal
// fields (layers.Field.Personal) are decided per village by the feature
// and download code (personal.go); tiles never carry them.
var PermissionTable = append([]RoutePermission{
	{get, "/healthz", everyone, "process up"},
	{get, "/readyz", everyone, "database reachable and migrated"},
	{[]string{http.MethodGet}, "/metrics", everyone, "Prometheus metrics, no personal data"},
	{get, "/", everyone, "OGC API landing page"},
	{get, "/conformance", everyone, ""},
	{get, "/api", everyone, "OpenAPI document"},
	{get, "/collections", everyone, ""},
	{get, "/collections/{collectionId}", everyone, ""},
	{get, "/collections/{collectionId}/queryables", everyone, "personal fields listed as restricted"},
	{get, "/collections/{collectionId}/items", everyone, "personal fields (also in downloads) only for principals entitled to the village, audited (personal.go)"},
	{post, "/collections/{collectionId}/query", everyone, "a read: the items query with its parameters in the body (query.go); same personal-data rules as the items"},
	{get, "/collections/{collectionId}/items/{featureId}", everyone, "personal fields only for principals entitled to the feature's village, audited"},
	{get, "/collections/{collectionId}/coverage", everyone, "where a layer's data is complete"},
	{get, "/tiles/{tileset}/{z}/{x}/{y}.mvt", everyone, "personal fields never in tiles; with datetime= (as of an instant: history) signed-in users only, 401 otherwise (the handler, as for as-of items; identifiedWhen)"},
	{get, "/tiles/{tileset}.json", everyone, "datetime= only passed on into the tile URLs"},
	{get, "/styles/default.json", everyone, "datetime= only passed on into the source URL"},
	{get, "/tileMatrixSets", everyone, "OGC API – Tiles (ogctiles.go)"},
	{get, "/tileMatrixSets/WebMercatorQuad", everyone, ""},
	{get, "/tiles", everyone, "the map tileset as OGC dataset tiles"},
	{get, "/tiles/WebMercatorQuad", everyone, ""},
	{get, "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", everyone, "the same tile as /tiles/map/{z}/{x}/{y}.mvt (datetime= as there: signed-in only)"},
	{get, "/collections/{collectionId}/tiles", everyone, ""},
	{get, "/collections/{collectionId}/tiles/WebMercatorQuad", everyone, ""},
	{get, "/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}", everyone, "the same tile as /tiles/{layer}/{z}/{x}/{y}.mvt; personal fields never in tiles; datetime= as there (signed-in only)"},
	{get, "/qgis/villageplan.qgs", everyone, "QGIS project pointing at the public OAPIF routes; no data of its own"},
	{post, "/siting/checks", desk, "stored check linking a household to a site; a village clerk only for a site in its own village"},
	{get, "/siting/checks/{id}", desk, "links a household id to a site; a village clerk only for checks of its own village"},
	{get, "/siting/checks/{id}/report", desk, "as /siting/checks/{id}; HTML, or PDF with ?f=pdf"},
	{get, "/siting/ruleset", everyone, ""},
	{get, "/map", everyone, "web map page"},
	{get, "/map/", everyone, "redirect to /map"},
	{get, "/desk", everyone, "desk page"},
	{get, "/desk/", everyone, "redirect to /desk"},
	{get, "/favicon.ico", everyone, ""},
	{get, "/web/", everyone, "static files of the pages (path prefix)"},
	{get, "/map/meta.json", everyone, ""},
	{get, "/map/versions.json", everyone, "every layer's version (what tile ETags are made of), for open maps to reload changed tiles"},
	{post, "/map/measure", everyone, "length or area on the Gauss-Krüger plane; nothing stored"},
	{get, "/map/villages", everyone, ""},
	{get, "/map/views/streetlight-coverage.geojson", everyone, ""},
	{post, "/desk/preview", everyone, "area and 四至 of a site, nothing stored, nothing about a household"},
	{get, "/login", everyone, "login form"},
	{post, "/login", everyone, "opens a session; throttled per account and address"},
	{post, "/logout", everyone, "ends the session (if any) on the server"},
	{get, "/account", everyone, "who am I: roles, villages, CSRF token; {authenticated: false} for anonymous"},
	{post, "/account/password", signedIn, "own password (the only thing a one-time password may do)"},
	{get, "/account/tokens", signedIn, "own API tokens, never their secrets"},
	{post, "/account/tokens", signedIn, "new API token; the secret is shown once"},
	{del, "/account/tokens/{id}", signedIn, "revoke an own API token"},
	{get, "/admin/users", admins, "every account and its roles"},
	{post, "/admin/users", admins, "new account with a one-time password"},
	{patch, "/admin/users/{id}", admins, "disable/enable, roles, password reset"},
	// The application desk: personal data; the village scope is enforced
	// by package applications (a village grant sees its village only),
	// every read is audited.
	{get, "/applications", desk, "list with counts per state; scoped to the principal's villages"},
	{post, "/applications", desk, "file an application (村级经办, 乡镇窗口 of its village)"},
	{get, "/applications/overdue", desk, "open steps past their deadline, scoped"},
	{get, "/applications/{id}", desk, "one application with events and documents, scoped"},
	{patch, "/applications/{id}", desk, "change the form or site before 受理 (If-Match)"},
	{post, "/applications/{id}/transitions", desk, "one action; the action's role is checked per village (If-Match)"},
	{get, "/applications/{id}/documents", desk, "document list, scoped"},
	{post, "/applications/{id}/documents", desk, "upload (PDF/JPEG/PNG sniffed, size capped), scoped"},
	{get, "/applications/{id}/documents/{docId}", desk, "document content, scoped"},
	{get, "/applications/{id}/print/{document}", desk, "printable PDF (申请表/审批表/批准书/验收意见表) with personal data, scoped as /applications/{id}, audited"},
	{get, "/ledger", append(slices.Clone(desk), auth.DataAnalyst), "宅基地审批台账 rows (JSON, .xlsx, CSV), scoped; 数据分析 gets names and 身份证号 masked unless also entitled (个人信息查阅) for the row's village"},
	{post, "/house-transfers", []Role{auth.TownshipWindow}, "R16 record of a house sold/rented/given away (township-wide window; audited)"},
	{get, "/workdays", append(slices.Clone(admins), desk...), "working-day calendar, no personal data"},
	{[]string{http.MethodPut}, "/workdays/{date}", admins, "administrator's correction of a day (audited)"},
	{get, "/indicators", indicatorReaders, "乡村建设 indicators per village and 自然屯 (JSON, .xlsx); counts only, no personal data"},
	{get, "/indicators/definitions", indicatorReaders, "indicator keys, units and formulas"},
	{get, "/indicators/{key}/features", indicatorReaders, "items behind an indicator (unlit segments, households beyond reach …): ids and parcel codes, never personal fields"},
	{get, "/indicators/targets", indicatorReaders, "耕地保有量, 永久基本农田保护目标 and reach distances"},
	{[]string{http.MethodPut}, "/indicators/targets", admins, "administrator sets the targets (audited)"},
	// Editing (editing.go, package editing): the package checks each
	// layer's roles (layers.Editing.Roles) and village scope per feature.
	{post, "/collections/{collectionId}/items", editors, "OGC API Part 4 create; proposed when the layer requires review"},
	{[]string{http.MethodPut}, "/collections/{collectionId}/items/{featureId}", editors, "Part 4 replace, If-Match required"},
	{patch, "/collections/{collectionId}/items/{featureId}", editors, "Part 4 update (JSON Merge Patch), If-Match required"},
	{del, "/collections/{collectionId}/items/{featureId}", editors, "Part 4 delete, If-Match required"},
	{post, "/collections/{collectionId}/items/{featureId}/split", editors, "cut a feature along a line (ST_Split) as one changeset, If-Match required"},
	{get, "/collections/{collectionId}/items/{featureId}/history", signedIn, "every version with actor, time and changeset (personal fields left out)"},
	{get, "/collections/{collectionId}/changes", signedIn, "added/modified/removed features between two instants (personal fields for township-wide entitlement only)"},
	{post, "/changesets", editors, "several operations in one transaction"},
	{get, "/changesets", signedIn, "authors, messages and changes (personal fields left out)"},
	{get, "/changesets/{id}", signedIn, "as /changesets"},
	{post, "/changesets/{id}/revert", editors, "a new changeset; 409 when later edits touched the features"},
	{post, "/changesets/{id}/approve", reviewers, "never by the changeset's author (package editing)"},
	{post, "/changesets/{id}/reject", reviewers, "never by the changeset's author (package editing)"},
}, append(projectPermissions, assessmentPermissions...)...) // the construction projects (projects.go) and the 考核评估 (assessment.go)

var (
	// editors may call the write routes: planning editors and every role
	// a layer of the catalog names (layers.Editing.Roles).
	editors = editRoles()
	// reviewers approve or reject proposed changesets.
	reviewers = []Role{auth.TownshipApprover, auth.PlanningEditor}
)

func editRoles() []Role {
	rs := []Role{auth.PlanningEditor}
	for _, l := range layers.Default().Layers() {
		for _, r := range l.Editing.Roles {
			if !slices.Contains(rs, Role(r)) {
				rs = append(rs, Role(r))
			}
		}
	}
	return rs
}

// passwordChangeRoutes are what a principal with a one-time password may
// call besides the public routes (where it acts as anonymous).
var passwordChangeRoutes = map[string]bool{"GET /account": true, "HEAD /account": true, "POST /account/password": true,
	"POST /logout": true, "GET /login": true, "HEAD /login": true, "POST /login": true}

// sessionlessRoutes may be called with a stale session cookie (expired,
// logged out): the request is served as anonymous and the cookie cleared,
// so a browser can always reach the login.
var sessionlessRoutes = map[string]bool{"GET /login": true, "HEAD /login": true, "POST /login": true, "POST /logout": true}

// SameForEveryone are the routes (path templates) open to every role whose
// answer never depends on who asks: identify does not look at their
// credentials, so a browser's map tiles, styles and static files cost no
// session lookup (cached tiles stay free of database queries) and a stale
// cookie does not turn them into 401s. A route that serves personal data
// or anything role-dependent must never be listed, unless only with a
// query parameter named in identifiedWhen (then it is identified); the
// permission test checks that each listed route is open to everyone.
var SameForEveryone = map[string]bool{
	"/healthz":                         true,
	"/readyz":                          true,
	"/metrics":                         true,
	"/tiles/{tileset}/{z}/{x}/{y}.mvt": true,
	"/tiles/{tileset}.json":            true,
	"/styles/default.json":             true,
	"/tileMatrixSets":                  true,
	"/tileMatrixSets/WebMercatorQuad":  true,
	"/tiles":                           true,
	"/tiles/WebMercatorQuad":           true,
	"/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}":                            true,
	"/collections/{collectionId}/tiles":                                                  true,
	"/collections/{collectionId}/tiles/WebMercatorQuad":                                  true,
	"/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}": true,
	"/favicon.ico": true,
	"/web/":        true,
}

// identifiedWhen names, for routes of SameForEveryone, the query parameter
// that makes the answer depend on who asks: with it the request is
// identified like any other (and its handler decides), without it not.
// A tile as of an instant (datetime=) is history, for signed-in users.
var identifiedWhen = map[string]string{
	"/tiles/{tileset}/{z}/{x}/{y}.mvt":                                                   "datetime",
	"/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}":                            "datetime",
	"/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}": "datetime",
}

// skipsIdentity reports whether identify leaves r anonymous without
// looking at its credentials.
func skipsIdentity(r *http.Request) bool {
	tpl := routeTemplate(r)
	if !SameForEveryone[tpl] {
		return false
	}
	if p, ok := identifiedWhen[tpl]; ok && r.URL.Query().Has(p) {
		return false
	}
	return true
}

// principalRoles are the roles of the request's principal
// ([Anonymous] when it proved no identity).
func principalRoles(r *http.Request) []Role {
	return auth.FromContext(r.Context()).Roles()
}

// permitted reports whether one of roles is listed in perm; a public row
// (one that lists Anonymous) permits every principal, also one without
// any role.
func permitted(perm *RoutePermission, roles []Role) bool {
	return perm != nil && (slices.Contains(perm.Roles, Anonymous) ||
		slices.ContainsFunc(roles, func(r Role) bool { return slices.Contains(perm.Roles, r) }))
}

// identify puts the request's principal (Options.Authenticator) in its
// context; credentials that are present but not valid are refused with
// 401 and a JSON body, never served as anonymous. A refused session
// cookie is also cleared; on the login and logout routes
// (sessionlessRoutes) it is ignored, so a browser can log in again.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Authenticator == nil || skipsIdentity(r) {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.opts.Authenticator.Authenticate(r)
		if err != nil {
			var ae *auth.Error
			if auth.IsSessionError(err) {
				s.setSessionCookie(w, r, "", time.Time{})
				if sessionlessRoutes[permissionKey(r)] {
					next.ServeHTTP(w, r)
					return
				}
			}
			if errors.As(err, &ae) {
				WriteError(w, ae.Status, ae.Code, ae.ZH+" "+ae.EN)
				return
			}
			s.serverError(w, r, err) // 503 when the database is down
			return
		}
		if sw, ok := w.(*statusWriter); ok && p != nil {
			sw.user = p.Username
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// authorize refuses, with a JSON body, a request whose route and method
// are not in the PermissionTable (403), an anonymous request to a route
// that needs an account (401 LoginRequired), and a principal whose roles
// are not listed (403). A principal with a one-time password
// (MustChangePassword) acts as anonymous on public routes and is refused
// (403 PasswordChangeRequired) everywhere but passwordChangeRoutes.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := permissionKey(r)
		perm := s.permissions[key]
		if p := auth.FromContext(r.Context()); p != nil && p.MustChangePassword && !passwordChangeRoutes[key] {
			if perm == nil || !slices.Contains(perm.Roles, Anonymous) {
				WriteError(w, http.StatusForbidden, "PasswordChangeRequired",
					"须先修改一次性密码才能使用此功能（POST account/password 或登录页）。 Change your one-time password first (POST account/password, or the login page); nothing else is open to this account until then.")
				return
			}
			r = r.WithContext(auth.WithPrincipal(r.Context(), nil))
		}
		if perm != nil && auth.FromContext(r.Context()) == nil && !slices.Contains(perm.Roles, Anonymous) {
			WriteError(w, http.StatusUnauthorized, "LoginRequired",
				"请先登录（浏览器：login 页面；脚本：Authorization: Bearer <API 令牌>）。 Log in first (browser: the login page; scripts: Authorization: Bearer <API token>).")
			return
		}
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
