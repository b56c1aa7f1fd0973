package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"villageplan/internal/auth"
)

// routeAccounts mounts login, logout, the user's own account and tokens,
// and the administrator's user management (package auth does the work):
//
//	GET  /login                      login form (HTML)
//	POST /login                      form (→ 303) or JSON {username, password} (→ 200 account + Set-Cookie)
//	POST /logout                     ends the session on the server, clears the cookie
//	GET  /account                    who am I: roles with labels and villages, csrf_token ({"authenticated": false} for anonymous)
//	POST /account/password           {current_password, new_password} (form or JSON)
//	GET  /account/tokens             own API tokens (never the secrets)
//	POST /account/tokens             {name, expires_in_days} → 201 with the secret, shown once
//	DELETE /account/tokens/{id}      revoke one
//	GET  /admin/users                every account
//	POST /admin/users                {username, display_name, grants} → 201 with a one-time password
//	PATCH /admin/users/{id}          {disabled, grants, display_name, reset_password}
func (s *Server) routeAccounts() {
	if s.accounts == nil {
		return
	}
	get := []string{http.MethodGet, http.MethodHead}
	s.router.HandleFunc("/login", s.loginPage).Methods(get...)
	s.router.HandleFunc("/login", s.login).Methods(http.MethodPost)
	s.router.HandleFunc("/logout", s.logout).Methods(http.MethodPost)
	s.router.HandleFunc("/account", s.account).Methods(get...)
	s.router.HandleFunc("/account/password", s.changePassword).Methods(http.MethodPost)
	s.router.HandleFunc("/account/tokens", s.listTokens).Methods(get...)
	s.router.HandleFunc("/account/tokens", s.createToken).Methods(http.MethodPost)
	s.router.HandleFunc("/account/tokens/{id}", s.revokeToken).Methods(http.MethodDelete)
	s.router.HandleFunc("/admin/users", s.listUsers).Methods(get...)
	s.router.HandleFunc("/admin/users", s.createUser).Methods(http.MethodPost)
	s.router.HandleFunc("/admin/users/{id}", s.updateUser).Methods(http.MethodPatch)
}

// maxAccountBody bounds the body of the account routes (a login form,
// a token name, a user's grants).
const maxAccountBody = 64 << 10

// writeAuthError answers err: an *auth.Error with its status (and
// Retry-After for 429), anything else through serverError.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		if ae.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(ae.RetryAfter)))
		}
		WriteError(w, ae.Status, ae.Code, ae.ZH+" "+ae.EN)
		return
	}
	s.serverError(w, r, err)
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// isForm reports whether the request body is an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// decodeJSON reads a JSON object of at most maxAccountBody bytes into v,
// refusing unknown fields; a refusal is written (400 naming the problem)
// and false returned.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAccountBody))
	if err != nil {
		WriteError(w, http.StatusRequestEntityTooLarge, "TooLarge", fmt.Sprintf("请求体超过 %d 字节。 The body is larger than %d bytes.", maxAccountBody, maxAccountBody))
		return false
	}
	if pe := jsonBodyProblem(body); pe != nil {
		WriteError(w, http.StatusBadRequest, "InvalidJSON", pe.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteError(w, http.StatusBadRequest, "InvalidJSON", "请求须为 JSON 对象："+err.Error()+" The body must be a JSON object of this route: "+err.Error())
		return false
	}
	return true
}

// setSessionCookie sets (or with value "" clears) the session cookie:
// HttpOnly, SameSite=Lax, Secure when the request came over TLS or the
// service's external URL is https, Path the service root.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time) {
	base := s.baseURL(r)
	path := "/"
	if u, err := url.Parse(base); err == nil && u.Path != "" {
		path = u.Path
	}
	c := &http.Cookie{Name: auth.SessionCookie, Value: value, Path: path, HttpOnly: true,
		Secure: r.TLS != nil || strings.HasPrefix(base, "https://"), SameSite: http.SameSiteLaxMode}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	http.SetCookie(w, c)
}

// roleView is one grant as /account and /admin/users show it.
type roleView struct {
	Role        auth.Role `json:"role"`
	Label       string    `json:"label"`
	Village     string    `json:"village,omitempty"`
	VillageName string    `json:"village_name,omitempty"`
}

// accountView is the answer of GET /account and of a JSON login.
type accountView struct {
	// Authenticated is false for an anonymous caller (the other fields
	// are then empty and Roles is [anonymous]).
	Authenticated      bool       `json:"authenticated"`
	UserID             int64      `json:"user_id"`
	Username           string     `json:"username"`
	DisplayName        string     `json:"display_name"`
	Via                string     `json:"via"`
	MustChangePassword bool       `json:"must_change_password"`
	Roles              []roleView `json:"roles"`
	// PersonalData: township true, or the villages whose personal data
	// the account may read.
	PersonalData struct {
		Township bool     `json:"township"`
		Villages []string `json:"villages"`
	} `json:"personal_data"`
	// CSRFToken must be sent back as X-CSRF-Token (or form field
	// csrf_token) with every state-changing request of the session.
	CSRFToken string `json:"csrf_token,omitempty"`
}

// villageNames maps the codes of grants to village names.
func (s *Server) villageNames(ctx context.Context, grants []auth.Grant) map[string]string {
	var codes []string
	for _, g := range grants {
		if g.Village != "" {
			codes = append(codes, g.Village)
		}
	}
	names := map[string]string{}
	if len(codes) == 0 || s.pool == nil {
		return names
	}
	rows, err := s.pool.Query(ctx, `SELECT xzqdm, xzqmc FROM villageplan.villages WHERE xzqdm = ANY($1)`, codes)
	if err != nil {
		return names
	}
	defer rows.Close()
	for rows.Next() {
		var c, n string
		if rows.Scan(&c, &n) == nil {
			names[c] = n
		}
	}
	return names
}

func (s *Server) roleViews(ctx context.Context, grants []auth.Grant) []roleView {
	names := s.villageNames(ctx, grants)
	out := []roleView{}
	for _, g := range grants {
		out = append(out, roleView{Role: g.Role, Label: g.Role.Label(), Village: g.Village, VillageName: names[g.Village]})
	}
	return out
}

func (s *Server) accountOf(ctx context.Context, p *auth.Principal) accountView {
	if p == nil {
		v := accountView{Roles: []roleView{{Role: auth.Anonymous, Label: auth.Anonymous.Label()}}}
		v.PersonalData.Villages = []string{}
		return v
	}
	v := accountView{Authenticated: true, UserID: p.UserID, Username: p.Username, DisplayName: p.DisplayName, Via: p.Via,
		MustChangePassword: p.MustChangePassword, Roles: s.roleViews(ctx, p.Grants), CSRFToken: p.CSRFToken}
	v.PersonalData.Township, v.PersonalData.Villages = p.PersonalScope()
	if v.PersonalData.Villages == nil {
		v.PersonalData.Villages = []string{}
	}
	return v
}

// loginData is what the login and password pages read.
type loginData struct {
	Title    string
	Error    string
	Username string
	Next     string
	CSRF     string
	Must     bool
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, name string, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, d)
}

// nextRE is the page a form login may return to: a relative path of the
// service (desk, map, desk?x=1), never another site.
var nextRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/_.-]*$`)

func safeNext(next string) string {
	if nextRE.MatchString(next) && !strings.Contains(next, "..") {
		return next
	}
	return "desk"
}

// loginPage is the login form, or — for a session with a one-time
// password — the form to change it.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if p := auth.FromContext(r.Context()); p != nil && p.MustChangePassword && p.Via == "session" {
		s.renderLogin(w, http.StatusOK, "password", loginData{Title: "修改密码", Username: p.Username, CSRF: p.CSRFToken, Must: true, Next: next})
		return
	}
	s.renderLogin(w, http.StatusOK, "login", loginData{Title: "登录", Next: next})
}

// login opens a session: a form (the login page; 303 to next, or the
// password page for a one-time password) or JSON {username, password}
// (200 with the account and its csrf_token). Refusals: 401 for a wrong
// username or password (the same answer for both), 429 with Retry-After
// when throttled, 400 for a malformed body.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	form := isForm(r)
	next := "desk"
	if form {
		r.Body = http.MaxBytesReader(w, r.Body, maxAccountBody)
		if err := r.ParseForm(); err != nil {
			s.renderLogin(w, http.StatusBadRequest, "login", loginData{Title: "登录", Error: "表单无法读取。 The form could not be read."})
			return
		}
		in.Username, in.Password, next = r.PostForm.Get("username"), r.PostForm.Get("password"), safeNext(r.PostForm.Get("next"))
	} else if !decodeJSON(w, r, &in) {
		return
	}
	sess, err := s.accounts.Login(r.Context(), in.Username, in.Password, s.clientAddress(r), r.UserAgent())
	if err != nil {
		var ae *auth.Error
		if form && errors.As(err, &ae) {
			if ae.Status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(ae.RetryAfter)))
			}
			s.renderLogin(w, ae.Status, "login", loginData{Title: "登录", Error: ae.ZH + " " + ae.EN, Username: in.Username, Next: next})
			return
		}
		s.writeAuthError(w, r, err)
		return
	}
	_ = auth.Audit(auth.WithPrincipal(r.Context(), sess.Principal), s.pool, r, auth.AuditEntry{Action: "session.login", SubjectKind: "user",
		SubjectID: strconv.FormatInt(sess.Principal.UserID, 10)})
	s.setSessionCookie(w, r, sess.Secret, sess.ExpiresAt)
	w.Header().Set("Cache-Control", "no-store")
	if !form {
		WriteJSON(w, http.StatusOK, s.accountOf(r.Context(), sess.Principal))
		return
	}
	if sess.Principal.MustChangePassword {
		s.renderLogin(w, http.StatusOK, "password", loginData{Title: "修改密码", Username: sess.Principal.Username,
			CSRF: sess.Principal.CSRFToken, Must: true, Next: next})
		return
	}
	w.Header().Set("Location", next)
	w.WriteHeader(http.StatusSeeOther)
}

// logout deletes the session on the server and clears the cookie: 204,
// or 303 to the login page for a form.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" {
		if err := s.accounts.Logout(r.Context(), c.Value); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.setSessionCookie(w, r, "", time.Time{})
	if isForm(r) {
		w.Header().Set("Location", "login")
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, s.accountOf(r.Context(), auth.FromContext(r.Context())))
}

// changePassword is the user's own change ({current_password,
// new_password}; the form also sends new_password2, which must match). It
// clears a one-time password and ends the user's other sessions.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	form := isForm(r)
	if form {
		r.Body = http.MaxBytesReader(w, r.Body, maxAccountBody)
		if err := r.ParseForm(); err != nil {
			WriteError(w, http.StatusBadRequest, "InvalidForm", "表单无法读取。 The form could not be read.")
			return
		}
		in.Current, in.New = r.PostForm.Get("current_password"), r.PostForm.Get("new_password")
		if in.New != r.PostForm.Get("new_password2") {
			s.renderLogin(w, http.StatusBadRequest, "password", loginData{Title: "修改密码", Error: "两次输入的新密码不一致。 The two new passwords differ.",
				Username: p.Username, CSRF: p.CSRFToken, Must: p.MustChangePassword, Next: safeNext(r.PostForm.Get("next"))})
			return
		}
	} else if !decodeJSON(w, r, &in) {
		return
	}
	err := s.accounts.ChangePassword(r.Context(), p.UserID, in.Current, in.New, auth.SessionRowID(p))
	if err == nil {
		err = auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "user.password_change", SubjectKind: "user", SubjectID: strconv.FormatInt(p.UserID, 10)})
	}
	if err != nil {
		var ae *auth.Error
		if form && errors.As(err, &ae) {
			s.renderLogin(w, ae.Status, "password", loginData{Title: "修改密码", Error: ae.ZH + " " + ae.EN,
				Username: p.Username, CSRF: p.CSRFToken, Must: p.MustChangePassword, Next: safeNext(r.PostForm.Get("next"))})
			return
		}
		s.writeAuthError(w, r, err)
		return
	}
	if form {
		// Relative to /account/password.
		w.Header().Set("Location", "../"+safeNext(r.PostForm.Get("next")))
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"changed": true})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.accounts.Tokens(r.Context(), auth.FromContext(r.Context()).UserID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// createToken makes an API token for the caller: {name, expires_in_days
// (0 or absent: until revoked, at most 3650)} → 201 {token (the secret,
// shown once), …}.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string `json:"name"`
		ExpiresInDays int    `json:"expires_in_days"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.ExpiresInDays < 0 || in.ExpiresInDays > 3650 {
		WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "expires_in_days 须在 0–3650 之间（0 表示直到撤销）。 expires_in_days must be 0–3650 (0: until revoked).")
		return
	}
	p := auth.FromContext(r.Context())
	secret, tok, err := s.accounts.CreateToken(r.Context(), p.UserID, in.Name, time.Duration(in.ExpiresInDays)*24*time.Hour)
	if err == nil {
		err = auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "token.create", SubjectKind: "api_token", SubjectID: strconv.FormatInt(tok.ID, 10),
			Details: map[string]any{"name": tok.Name, "prefix": tok.Prefix}})
	}
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, struct {
		Secret string `json:"token"`
		auth.Token
	}{secret, tok})
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		WriteError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("没有编号为 %q 的对象。 No object with id %q.", raw, raw))
		return 0, false
	}
	return id, true
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	err := s.accounts.RevokeToken(r.Context(), auth.FromContext(r.Context()).UserID, id)
	if err == nil {
		err = auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "token.revoke", SubjectKind: "api_token", SubjectID: strconv.FormatInt(id, 10)})
	}
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// userView is an account as the administrator sees it.
type userView struct {
	auth.User
	Roles []roleView `json:"roles"`
	// OneTimePassword is set once, when the account was created or its
	// password reset.
	OneTimePassword string `json:"one_time_password,omitempty"`
}

func (s *Server) userView(ctx context.Context, u auth.User, pw string) userView {
	return userView{User: u, Roles: s.roleViews(ctx, u.Grants), OneTimePassword: pw}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.accounts.Users(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]userView, 0, len(us))
	for _, u := range us {
		out = append(out, s.userView(r.Context(), u, ""))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"users": out})
}

// createUser: {username, display_name, grants: [{role, village}]} → 201
// with a one-time password (the administrator never chooses a password).
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username    string       `json:"username"`
		DisplayName string       `json:"display_name"`
		Grants      []auth.Grant `json:"grants"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	u, pw, err := s.accounts.CreateUser(r.Context(), auth.NewUser{Username: in.Username, DisplayName: in.DisplayName, Grants: in.Grants})
	if err == nil {
		err = auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "user.create", SubjectKind: "user", SubjectID: strconv.FormatInt(u.ID, 10),
			Details: map[string]any{"username": u.Username, "grants": u.Grants}})
	}
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, s.userView(r.Context(), u, pw))
}

// updateUser: any of {disabled, grants (replace all), reset_password} →
// 200 with the account (and a one-time password after a reset). An
// administrator cannot disable themself or take their own 管理员 role.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		Disabled      *bool         `json:"disabled"`
		Grants        *[]auth.Grant `json:"grants"`
		ResetPassword bool          `json:"reset_password"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	p := auth.FromContext(r.Context())
	if id == p.UserID && ((in.Disabled != nil && *in.Disabled) ||
		(in.Grants != nil && !containsGrant(*in.Grants, auth.Grant{Role: auth.Admin}))) {
		WriteError(w, http.StatusConflict, "SelfLockout", "不能停用自己的账号或取消自己的全乡管理员角色。 You cannot disable your own account or remove your own township-wide admin role.")
		return
	}
	if _, err := s.accounts.User(r.Context(), id); err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	var pw string
	err := func() error {
		if in.Grants != nil {
			if err := s.accounts.SetGrants(r.Context(), id, *in.Grants); err != nil {
				return err
			}
		}
		if in.Disabled != nil {
			if err := s.accounts.SetDisabled(r.Context(), id, *in.Disabled); err != nil {
				return err
			}
		}
		if in.ResetPassword {
			var err error
			if pw, err = s.accounts.ResetPassword(r.Context(), id); err != nil {
				return err
			}
		}
		return auth.Audit(r.Context(), s.pool, r, auth.AuditEntry{Action: "user.update", SubjectKind: "user", SubjectID: strconv.FormatInt(id, 10),
			Details: map[string]any{"disabled": in.Disabled, "grants": in.Grants, "reset_password": in.ResetPassword}})
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	u, err := s.accounts.User(r.Context(), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusOK, s.userView(r.Context(), u, pw))
}

func containsGrant(gs []auth.Grant, g auth.Grant) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

// csrfHeader and csrfField carry the session's CSRF token.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// csrf protects state-changing requests (POST, PUT, PATCH, DELETE): every
// one not carried by an API token must pass net/http's
// CrossOriginProtection (Sec-Fetch-Site / Origin against Host), and one
// authenticated by the session cookie must also send the session's CSRF
// token (X-CSRF-Token header or csrf_token form field, compared in
// constant time). Bearer-token requests are exempt: a browser never adds
// that header on its own. Refusal: 403 with code CSRF.
func (s *Server) csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	if s.opts.BaseURL != "" {
		if u, err := url.Parse(s.opts.BaseURL); err == nil && u.Host != "" {
			_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		p := auth.FromContext(r.Context())
		if p != nil && p.Via == "token" {
			next.ServeHTTP(w, r)
			return
		}
		if err := cop.Check(r); err != nil {
			WriteError(w, http.StatusForbidden, "CSRF", "跨站请求被拒绝（CSRF 防护）。 Cross-site request refused (CSRF protection): "+err.Error()+".")
			return
		}
		if p == nil || p.Via != "session" {
			next.ServeHTTP(w, r)
			return
		}
		got := r.Header.Get(csrfHeader)
		if got == "" && isForm(r) {
			r.Body = http.MaxBytesReader(w, r.Body, maxAccountBody)
			if err := r.ParseForm(); err == nil {
				got = r.PostForm.Get(csrfField)
			}
		}
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRFToken)) != 1 {
			WriteError(w, http.StatusForbidden, "CSRF", "缺少或错误的 CSRF 令牌：会话中的修改请求须带 X-CSRF-Token 请求头（取自 GET /account 的 csrf_token）。 "+
				"Missing or wrong CSRF token: a state-changing request of a browser session must send the X-CSRF-Token header (csrf_token of GET /account).")
			return
		}
		next.ServeHTTP(w, r)
	})
}
