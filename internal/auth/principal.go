// Package auth is villageplan's accounts: who acts on a request (the
// Principal), with which roles (Role, scoped to the township or one
// village by a Grant), and whether that may see personal data. The HTTP
// layer asks it "may this principal do this to that village's data?" and
// nothing else; the permission table of internal/httpapi decides route ×
// role, the methods here decide the village scope.
//
// Roles follow the township's homestead-approval desk (DOMAIN.md §2;
// 农经发〔2019〕6号 联审联办) and the planning office.
package auth

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// Role is what a user may do. The string is the stable code stored in the
// database and shown by the CLI; Label gives its Chinese name.
type Role string

// The roles of the service. A Grant scopes each of them to the township
// (Village "") or to one village (12-digit 行政区划代码 of the 村).
const (
	// Anonymous is a request that proves no identity: the public map,
	// features (without personal fields) and tiles, nothing more.
	Anonymous Role = "anonymous"
	// VillageClerk (村级经办) files applications and records the 村民小组's
	// and the village's opinions, for its own village only.
	VillageClerk Role = "village_clerk"
	// TownshipWindow (乡镇窗口) accepts, checks and routes applications.
	TownshipWindow Role = "township_window"
	// ReviewAgriculture (部门审查·农业农村) records the 农业农村 opinion.
	ReviewAgriculture Role = "review_agriculture"
	// ReviewNaturalResources (部门审查·自然资源) records the 自然资源 opinion.
	ReviewNaturalResources Role = "review_natural_resources"
	// ReviewPlanning (部门审查·规划建设) records the 规划建设管理 opinion.
	ReviewPlanning Role = "review_planning"
	// TownshipApprover (乡镇审批) decides and signs the 农村宅基地批准书.
	TownshipApprover Role = "township_approver"
	// PlanningEditor (规划编辑) edits layers (the editing issue).
	PlanningEditor Role = "planning_editor"
	// DataAnalyst (数据分析) downloads layers; personal data only with a
	// PersonalData grant as well.
	DataAnalyst Role = "data_analyst"
	// PersonalData (个人信息查阅) entitles its holder to the personal fields
	// (申请人, 家庭成员, 身份证号, 户主) of its scope, for roles that do not
	// carry that entitlement themselves (DataAnalyst, PlanningEditor).
	PersonalData Role = "personal_data"
	// Admin (管理员) manages users, the siting rule set and the calendar.
	Admin Role = "admin"
)

// AllRoles lists every role a user can be granted, in the order the CLI
// and the pages show them. Anonymous is not grantable.
var AllRoles = []Role{VillageClerk, TownshipWindow, ReviewAgriculture,
	ReviewNaturalResources, ReviewPlanning, TownshipApprover, PlanningEditor,
	DataAnalyst, PersonalData, Admin}

// DeskRoles are the roles of the homestead-approval desk; each of them is
// entitled to the personal data of the applications in its scope.
var DeskRoles = []Role{VillageClerk, TownshipWindow, ReviewAgriculture,
	ReviewNaturalResources, ReviewPlanning, TownshipApprover}

var labels = map[Role]string{
	Anonymous:              "匿名访问",
	VillageClerk:           "村级经办",
	TownshipWindow:         "乡镇窗口",
	ReviewAgriculture:      "部门审查（农业农村）",
	ReviewNaturalResources: "部门审查（自然资源）",
	ReviewPlanning:         "部门审查（规划建设）",
	TownshipApprover:       "乡镇审批",
	PlanningEditor:         "规划编辑",
	DataAnalyst:            "数据分析",
	PersonalData:           "个人信息查阅",
	Admin:                  "管理员",
}

// Label is the role's Chinese name (e.g. "乡镇窗口"); the code for an
// unknown role.
func (r Role) Label() string {
	if l, ok := labels[r]; ok {
		return l
	}
	return string(r)
}

// Valid reports whether r is a grantable role.
func (r Role) Valid() bool { return slices.Contains(AllRoles, r) }

// TownshipWide is the Village of a grant that covers the whole township.
const TownshipWide = ""

// Grant is one role of a user, scoped to the township (Village ==
// TownshipWide) or to one village (its 12-digit 行政区划代码).
type Grant struct {
	Role    Role   `json:"role"`
	Village string `json:"village,omitempty"`
}

// Principal is who acts on a request: a user authenticated by a browser
// session or an API token. A nil *Principal is anonymous; every method
// answers for it.
type Principal struct {
	UserID      int64   `json:"user_id"`
	Username    string  `json:"username"`
	DisplayName string  `json:"display_name"`
	Grants      []Grant `json:"grants"`
	// Via is how the request proved the identity: "session" or "token".
	Via string `json:"via"`
	// SessionID identifies the session or token (not its secret), for the
	// audit log.
	SessionID string `json:"-"`
	// MustChangePassword: the user logged in with a one-time password and
	// may do nothing but change it (the HTTP layer refuses everything else).
	MustChangePassword bool `json:"must_change_password"`
	// CSRFToken is the session's anti-CSRF token (Via "session" only): a
	// state-changing request must send it back (X-CSRF-Token header or
	// csrf_token form field).
	CSRFToken string `json:"-"`
}

// Roles is the set of roles the principal holds in any scope; [Anonymous]
// for nil.
func (p *Principal) Roles() []Role {
	if p == nil {
		return []Role{Anonymous}
	}
	var rs []Role
	for _, g := range p.Grants {
		if !slices.Contains(rs, g.Role) {
			rs = append(rs, g.Role)
		}
	}
	return rs
}

// Has reports whether the principal holds role in any scope.
func (p *Principal) Has(role Role) bool {
	if p == nil {
		return role == Anonymous
	}
	return slices.ContainsFunc(p.Grants, func(g Grant) bool { return g.Role == role })
}

// HasFor reports whether the principal holds role for village (a
// township-wide grant covers every village). village "" asks for a
// township-wide grant.
func (p *Principal) HasFor(role Role, village string) bool {
	if p == nil {
		return false
	}
	return slices.ContainsFunc(p.Grants, func(g Grant) bool {
		return g.Role == role && (g.Village == TownshipWide || g.Village == village)
	})
}

// HasAnyFor reports whether the principal holds one of roles for village.
func (p *Principal) HasAnyFor(roles []Role, village string) bool {
	return slices.ContainsFunc(roles, func(r Role) bool { return p.HasFor(r, village) })
}

// MayReadPersonal reports whether the principal may see the personal data
// (申请人, 家庭成员, 身份证号, 户主) of village: a desk role or a
// PersonalData grant whose scope covers the village. Every such read must
// be audited by the caller.
func (p *Principal) MayReadPersonal(village string) bool {
	return p.HasFor(PersonalData, village) || p.HasAnyFor(DeskRoles, village)
}

// PersonalScope is the villages whose personal data the principal may
// read: township true means all of them; otherwise the listed village
// codes (possibly none).
func (p *Principal) PersonalScope() (township bool, villages []string) {
	if p == nil {
		return false, nil
	}
	for _, g := range p.Grants {
		if g.Role != PersonalData && !slices.Contains(DeskRoles, g.Role) {
			continue
		}
		if g.Village == TownshipWide {
			return true, nil
		}
		if !slices.Contains(villages, g.Village) {
			villages = append(villages, g.Village)
		}
	}
	return false, villages
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p (nil for anonymous).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext is the principal of ctx; nil (anonymous) when none was set.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Authenticator tells who sent a request. Authenticate returns nil and no
// error for a request that carries no credentials (anonymous), the
// principal for valid credentials, and an *Error (401) for credentials
// that are present but wrong, expired or revoked: such a request is
// refused, never served as anonymous.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Error is a refusal with an HTTP status (401 or 403) and a message in
// Chinese and English.
type Error struct {
	Status int
	Code   string
	ZH, EN string
	// RetryAfter is set for 429 (login throttled): when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.ZH + " " + e.EN }
