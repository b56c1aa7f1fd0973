package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// testClock is a settable clock for the accounts store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type accountsEnv struct {
	ts    *httptest.Server
	pool  *pgxpool.Pool
	store *auth.Store
	clock *testClock
}

func newAccountsEnv(t *testing.T, opts httpapi.Options) *accountsEnv {
	t.Helper()
	pool := testpg.New(t)
	store := testAccounts(pool)
	c := &testClock{t: time.Now()}
	store.Now = c.Now
	opts.Pool, opts.Accounts = pool, store
	if opts.RateLimits == nil {
		opts.RateLimits = map[string]httpapi.RateLimit{"write": {}, "siting": {}}
	}
	srv := httpapi.New(opts)
	t.Cleanup(srv.Close)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &accountsEnv{ts: ts, pool: pool, store: store, clock: c}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func do(t *testing.T, c *http.Client, method, u, ctype, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	return nil
}

// TestBrowserSession: a form login sets an HttpOnly, SameSite=Lax cookie
// (Secure behind an https base URL) and the session answers /account with
// the roles and a CSRF token; a state-changing request of the session
// needs the token and a same-origin request (a cross-site POST without it
// is 403 CSRF; with it, it passes); Bearer requests need neither; logout
// ends the session on the server so the old cookie is a 401; the idle
// timeout ends an unused session.
func TestBrowserSession(t *testing.T) {
	env := newAccountsEnv(t, httpapi.Options{})
	ctx := context.Background()
	u, _, err := env.store.CreateUser(ctx, auth.NewUser{Username: "window", DisplayName: "王窗口", Password: "window password",
		Grants: []auth.Grant{{Role: auth.TownshipWindow}}})
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t)
	resp, page := do(t, b, "GET", env.ts.URL+"/login", "", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(page), "登录") || !strings.Contains(string(page), "Log in") || !strings.Contains(string(page), `name="password"`) {
		t.Fatalf("login page: %d %s", resp.StatusCode, page)
	}
	// Wrong password: the form again with the bilingual refusal, 401.
	resp, page = do(t, b, "POST", env.ts.URL+"/login", "application/x-www-form-urlencoded", "username=window&password=nope", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(page), "用户名或密码错误") || sessionCookie(resp) != nil {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, page)
	}
	resp, _ = do(t, b, "POST", env.ts.URL+"/login", "application/x-www-form-urlencoded", "username=window&password=window+password&next=map", nil)
	c := sessionCookie(resp)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "map" || c == nil {
		t.Fatalf("form login: %d %v", resp.StatusCode, resp.Header)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || len(c.Value) < 43 {
		t.Fatalf("cookie flags: %+v", c)
	}
	resp, body := do(t, b, "GET", env.ts.URL+"/account", "", "", nil)
	var acc struct {
		Username  string `json:"username"`
		Via       string `json:"via"`
		CSRFToken string `json:"csrf_token"`
		Roles     []struct{ Role, Label string }
	}
	if err := json.Unmarshal(body, &acc); err != nil || resp.StatusCode != 200 || acc.Username != "window" || acc.Via != "session" ||
		acc.CSRFToken == "" || len(acc.Roles) != 1 || acc.Roles[0].Label != "乡镇窗口" {
		t.Fatalf("/account: %d %s", resp.StatusCode, body)
	}

	// CSRF: a cross-site POST of the session without the token is refused…
	tokenBody := `{"name":"QGIS"}`
	for name, hdr := range map[string]map[string]string{
		"cross-site, no token":   {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"cross-site, with token": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example", "X-CSRF-Token": acc.CSRFToken},
		"same-origin, no token":  {"Sec-Fetch-Site": "same-origin"},
		"wrong token":            {"X-CSRF-Token": acc.CSRFToken + "x"},
	} {
		resp, body := do(t, b, "POST", env.ts.URL+"/account/tokens", "application/json", tokenBody, hdr)
		if resp.StatusCode != 403 || !strings.Contains(string(body), `"code":"CSRF"`) {
			t.Errorf("%s: %d %s, want 403 CSRF", name, resp.StatusCode, body)
		}
	}
	// … and accepted from the page with the token.
	resp, body = do(t, b, "POST", env.ts.URL+"/account/tokens", "application/json", tokenBody,
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": env.ts.URL, "X-CSRF-Token": acc.CSRFToken})
	var tok struct {
		Token string `json:"token"`
		ID    int64  `json:"id"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || resp.StatusCode != 201 || !strings.HasPrefix(tok.Token, "vp_") {
		t.Fatalf("token with CSRF token: %d %s", resp.StatusCode, body)
	}
	// A form with the csrf_token field passes too (password change page).
	resp, body = do(t, b, "POST", env.ts.URL+"/account/password", "application/x-www-form-urlencoded",
		url.Values{"csrf_token": {acc.CSRFToken}, "current_password": {"window password"}, "new_password": {"window password 2"},
			"new_password2": {"window password 2"}, "next": {"desk"}}.Encode(), nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "../desk" {
		t.Fatalf("password form: %d %s", resp.StatusCode, body)
	}
	// Bearer: no CSRF token needed, even cross-site (no ambient credential).
	plain := &http.Client{}
	resp, body = do(t, plain, "POST", env.ts.URL+"/account/tokens", "application/json", `{"name":"script"}`,
		map[string]string{"Authorization": "Bearer " + tok.Token, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if resp.StatusCode != 201 {
		t.Fatalf("bearer POST: %d %s", resp.StatusCode, body)
	}
	// Logout (with the token) ends the session on the server.
	old := *c
	resp, _ = do(t, b, "POST", env.ts.URL+"/logout", "", "", map[string]string{"X-CSRF-Token": acc.CSRFToken})
	if resp.StatusCode != 204 || sessionCookie(resp) == nil || sessionCookie(resp).MaxAge >= 0 {
		t.Fatalf("logout: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ := http.NewRequest("GET", env.ts.URL+"/account", nil)
	req.AddCookie(&old)
	r2, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 401 || !strings.Contains(string(b2), "SessionInvalid") {
		t.Fatalf("old cookie after logout: %d %s", r2.StatusCode, b2)
	}
	// Revoked token: 401.
	resp, _ = do(t, plain, "DELETE", env.ts.URL+"/account/tokens/"+jsonID(tok.ID), "", "", map[string]string{"Authorization": "Bearer " + tok.Token})
	if resp.StatusCode != 204 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp, body = do(t, plain, "GET", env.ts.URL+"/account", "", "", map[string]string{"Authorization": "Bearer " + tok.Token})
	if resp.StatusCode != 401 || !strings.Contains(string(body), "TokenRevoked") {
		t.Fatalf("revoked token: %d %s", resp.StatusCode, body)
	}

	// Idle expiry over HTTP; the stale cookie is cleared and the login
	// page still opens.
	b = browser(t)
	resp, body = do(t, b, "POST", env.ts.URL+"/login", "application/json", `{"username":"window","password":"window password 2"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"csrf_token"`) {
		t.Fatalf("JSON login: %d %s", resp.StatusCode, body)
	}
	env.clock.Add(31 * time.Minute)
	resp, body = do(t, b, "GET", env.ts.URL+"/account", "", "", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "SessionExpired") {
		t.Fatalf("after 31 idle minutes: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, b, "GET", env.ts.URL+"/login", "", "", nil); resp.StatusCode != 200 {
		t.Fatalf("login page after expiry: %d", resp.StatusCode)
	}
	// Disabled user: the token is a 401.
	secret, _, err := env.store.CreateToken(ctx, u.ID, "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.store.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	resp, body = do(t, plain, "GET", env.ts.URL+"/account", "", "", map[string]string{"Authorization": "Bearer " + secret})
	if resp.StatusCode != 401 || !strings.Contains(string(body), "AccountDisabled") {
		t.Fatalf("disabled user's token: %d %s", resp.StatusCode, body)
	}
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

// TestSecureCookieBehindHTTPS: with an https base URL the session cookie
// is Secure and scoped to the service's path.
func TestSecureCookieBehindHTTPS(t *testing.T) {
	env := newAccountsEnv(t, httpapi.Options{BaseURL: "https://gis.example.gov.cn/villageplan"})
	if _, _, err := env.store.CreateUser(context.Background(), auth.NewUser{Username: "a1", Password: "a1 password!", Grants: []auth.Grant{{Role: auth.DataAnalyst}}}); err != nil {
		t.Fatal(err)
	}
	resp, _ := do(t, browser(t), "POST", env.ts.URL+"/login", "application/json", `{"username":"a1","password":"a1 password!"}`, nil)
	c := sessionCookie(resp)
	if resp.StatusCode != 200 || c == nil || !c.Secure || !c.HttpOnly || c.Path != "/villageplan" {
		t.Fatalf("cookie behind https: %d %+v", resp.StatusCode, c)
	}
}

// TestLoginThrottledOverHTTP: the 6th failed login of an account, and the
// 21st of an address, are 429 with Retry-After and a bilingual message;
// the answer for an unknown user equals that of a wrong password.
func TestLoginThrottledOverHTTP(t *testing.T) {
	env := newAccountsEnv(t, httpapi.Options{TrustedProxies: loopback})
	if _, _, err := env.store.CreateUser(context.Background(), auth.NewUser{Username: "clerk", Password: "clerk password"}); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{}
	login := func(user, pw, addr string) (*http.Response, string) {
		resp, b := do(t, c, "POST", env.ts.URL+"/login", "application/json", `{"username":"`+user+`","password":"`+pw+`"}`,
			map[string]string{"X-Forwarded-For": addr})
		return resp, string(b)
	}
	_, unknown := login("ghost", "x", "10.1.0.1")
	_, wrong := login("clerk", "x", "10.1.0.1")
	if unknown != wrong || !strings.Contains(wrong, "BadCredentials") {
		t.Fatalf("unknown user %s vs wrong password %s", unknown, wrong)
	}
	for range 4 {
		login("clerk", "x", "10.1.0.2")
	}
	resp, body := login("clerk", "clerk password", "10.1.0.3")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "登录失败次数过多") || !strings.Contains(body, "Too many failed logins") {
		t.Fatalf("6th login of an account: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	for i := range 20 {
		login("nobody"+jsonID(int64(i)), "x", "10.1.0.9")
	}
	if resp, body := login("someone", "x", "10.1.0.9"); resp.StatusCode != 429 || !strings.Contains(body, "your address") {
		t.Fatalf("21st login from an address: %d %s", resp.StatusCode, body)
	}
	if resp, _ := login("someone", "x", "10.1.0.10"); resp.StatusCode != 401 {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
}

// TestOneTimePasswordOverHTTP: the admin created at first start logs in
// with the printed one-time password, may do nothing but change it (403
// PasswordChangeRequired elsewhere; public pages as anonymous), then
// works; the one-time password is dead; an administrator creates a user
// (one-time password), resets it, disables it, and cannot lock themself out.
func TestOneTimePasswordOverHTTP(t *testing.T) {
	env := newAccountsEnv(t, httpapi.Options{})
	ctx := context.Background()
	admin, created, err := env.store.EnsureAdmin(ctx)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	b := browser(t)
	resp, page := do(t, b, "POST", env.ts.URL+"/login", "application/x-www-form-urlencoded",
		url.Values{"username": {"admin"}, "password": {admin.Password}}.Encode(), nil)
	if resp.StatusCode != 200 || !strings.Contains(string(page), "一次性密码") || !strings.Contains(string(page), `name="csrf_token"`) {
		t.Fatalf("one-time login: %d %s", resp.StatusCode, page)
	}
	_, body := do(t, b, "GET", env.ts.URL+"/account", "", "", nil)
	var acc struct {
		CSRFToken string `json:"csrf_token"`
		Must      bool   `json:"must_change_password"`
	}
	_ = json.Unmarshal(body, &acc)
	if !acc.Must {
		t.Fatalf("account: %s", body)
	}
	csrf := map[string]string{"X-CSRF-Token": acc.CSRFToken}
	resp, body = do(t, b, "GET", env.ts.URL+"/admin/users", "", "", nil)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "PasswordChangeRequired") {
		t.Fatalf("admin route before the change: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, b, "GET", env.ts.URL+"/collections", "", "", nil); resp.StatusCode != 200 {
		t.Fatalf("public route before the change: %d", resp.StatusCode)
	}
	resp, body = do(t, b, "POST", env.ts.URL+"/account/password", "application/json",
		`{"current_password":"`+admin.Password+`","new_password":"admin's own password"}`, csrf)
	if resp.StatusCode != 200 {
		t.Fatalf("change: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, b, "POST", env.ts.URL+"/admin/users", "application/json",
		`{"username":"clerk1","display_name":"李","grants":[{"role":"village_clerk","village":"220112999999"}]}`, csrf)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "220112999999") {
		t.Fatalf("user in an unknown village: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, b, "POST", env.ts.URL+"/admin/users", "application/json",
		`{"username":"analyst1","display_name":"李","grants":[{"role":"data_analyst"}]}`, csrf)
	var nu struct {
		ID       int64  `json:"id"`
		Password string `json:"one_time_password"`
		Roles    []struct{ Label string }
	}
	if err := json.Unmarshal(body, &nu); err != nil || resp.StatusCode != 201 || len(nu.Password) != 16 || nu.Roles[0].Label != "数据分析" {
		t.Fatalf("create user: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, b, "PATCH", env.ts.URL+"/admin/users/"+jsonID(nu.ID), "application/json", `{"reset_password":true,"disabled":true}`, csrf)
	var upd struct {
		Password string `json:"one_time_password"`
		Disabled bool   `json:"disabled"`
	}
	if err := json.Unmarshal(body, &upd); err != nil || resp.StatusCode != 200 || upd.Password == "" || upd.Password == nu.Password || !upd.Disabled {
		t.Fatalf("reset+disable: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, &http.Client{}, "POST", env.ts.URL+"/login", "application/json", `{"username":"analyst1","password":"`+upd.Password+`"}`, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("disabled user logged in: %d", resp.StatusCode)
	}
	var adminID int64
	_ = env.pool.QueryRow(ctx, `SELECT id FROM villageplan.users WHERE username = 'admin'`).Scan(&adminID)
	resp, body = do(t, b, "PATCH", env.ts.URL+"/admin/users/"+jsonID(adminID), "application/json", `{"disabled":true}`, csrf)
	if resp.StatusCode != 409 {
		t.Fatalf("admin disabling themself: %d %s", resp.StatusCode, body)
	}
	var audits int
	_ = env.pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE action IN ('user.create', 'user.update', 'user.password_change') AND username = 'admin'`).Scan(&audits)
	if audits != 3 {
		t.Fatalf("audit rows of the admin's changes: %d, want 3", audits)
	}
	// The one-time password is dead.
	resp, _ = do(t, &http.Client{}, "POST", env.ts.URL+"/login", "application/json", `{"username":"admin","password":"`+admin.Password+`"}`, nil)
	if resp.StatusCode != 401 {
		t.Fatalf("one-time password after the change: %d", resp.StatusCode)
	}
}
