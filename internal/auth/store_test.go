package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// clock is a settable time for sessions, tokens and throttling.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testStore is a store on a fresh database with a settable clock and
// cheap argon2id parameters (the hash format is the same).
func testStore(t *testing.T) (*auth.Store, *pgxpool.Pool, *clock) {
	t.Helper()
	pool := testpg.New(t)
	s := auth.NewStore(pool)
	c := &clock{t: time.Date(2026, 10, 8, 9, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	s.Params = &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	return s, pool, c
}

// authErr is err's *auth.Error code and status ("", 0 for none).
func authErr(err error) (string, int) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.Code, ae.Status
	}
	return "", 0
}

func mustUser(t *testing.T, s *auth.Store, name, pw string, grants ...auth.Grant) auth.User {
	t.Helper()
	u, _, err := s.CreateUser(context.Background(), auth.NewUser{Username: name, Password: pw, Grants: grants})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSessionIdleAndAbsoluteExpiry: a session lives while used within the
// idle timeout, ends 30 minutes after its last use, ends 12 hours after
// login however busy, and ends at logout; the password hash is argon2id.
func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	s, pool, c := testStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "window1", "correct horse battery", auth.Grant{Role: auth.TownshipWindow})
	var h string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM villageplan.users WHERE id = $1`, u.ID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") || strings.Contains(h, "correct horse") {
		t.Fatalf("stored password: %q, want an argon2id hash", h)
	}

	sess, err := s.Login(ctx, "Window1", "correct horse battery", "192.0.2.1:5000", "test")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Principal.Username != "window1" || !sess.Principal.Has(auth.TownshipWindow) || sess.Principal.CSRFToken == "" {
		t.Fatalf("principal %+v", sess.Principal)
	}
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, sess.Secret).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("session stored by its SHA-256: %d %v", stored, err)
	}
	// Used every 29 minutes: alive.
	for range 3 {
		c.Add(29 * time.Minute)
		if _, err := s.SessionPrincipal(ctx, sess.Secret); err != nil {
			t.Fatalf("after 29 idle minutes: %v", err)
		}
	}
	c.Add(30 * time.Minute)
	if _, err := s.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Fatal("session alive after 30 idle minutes")
	} else if code, st := authErr(err); code != "SessionExpired" || st != 401 {
		t.Fatalf("idle: %v", err)
	}

	// Absolute: busy every 20 minutes, still over after 12 h.
	sess, err = s.Login(ctx, "window1", "correct horse battery", "192.0.2.1:5000", "test")
	if err != nil {
		t.Fatal(err)
	}
	start := c.Now()
	for c.Now().Sub(start) < 12*time.Hour-20*time.Minute {
		c.Add(20 * time.Minute)
		if _, err := s.SessionPrincipal(ctx, sess.Secret); err != nil {
			t.Fatalf("busy session refused after %v: %v", c.Now().Sub(start), err)
		}
	}
	c.Add(20 * time.Minute)
	if _, err := s.SessionPrincipal(ctx, sess.Secret); err == nil || !strings.Contains(err.Error(), "maximum age") {
		t.Fatalf("after 12 h: %v, want the absolute expiry", err)
	}

	// Logout deletes it on the server.
	sess, _ = s.Login(ctx, "window1", "correct horse battery", "192.0.2.1:5000", "test")
	if err := s.Logout(ctx, sess.Secret); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Fatal("session alive after logout")
	} else if code, _ := authErr(err); code != "SessionInvalid" {
		t.Fatalf("after logout: %v", err)
	}
}

// TestLoginThrottle: the same answer for a wrong password and an unknown
// user; after 5 failures an account is refused (429, even with the right
// password) until the window passes; after 20 failures from one address
// every account is refused from there but not from elsewhere.
func TestLoginThrottle(t *testing.T) {
	s, _, c := testStore(t)
	ctx := context.Background()
	mustUser(t, s, "clerk", "right password 1")
	mustUser(t, s, "other", "right password 2")
	_, errUnknown := s.Login(ctx, "nobody", "whatever pw", "192.0.2.9:1", "")
	_, errWrong := s.Login(ctx, "other", "wrong password", "192.0.2.9:1", "")
	if errUnknown == nil || errWrong == nil || errUnknown.Error() != errWrong.Error() {
		t.Fatalf("unknown user %v / wrong password %v: want the same refusal", errUnknown, errWrong)
	}
	for i := range 5 {
		_, err := s.Login(ctx, "clerk", "wrong", "198.51.100.1:4000", "")
		if code, st := authErr(err); code != "BadCredentials" || st != 401 {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		c.Add(time.Minute)
	}
	_, err := s.Login(ctx, "clerk", "right password 1", "203.0.113.5:1", "")
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Status != 429 || !strings.Contains(ae.ZH, "登录失败次数过多") || !strings.Contains(ae.EN, "Too many failed logins") {
		t.Fatalf("6th login of the account: %v, want 429", err)
	}
	// The first failure was at minute 0; now is minute 5: 10 minutes left.
	if ae.RetryAfter != 10*time.Minute {
		t.Fatalf("Retry-After %v, want 10m", ae.RetryAfter)
	}
	c.Add(10 * time.Minute)
	if _, err := s.Login(ctx, "clerk", "right password 1", "203.0.113.5:1", ""); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	// Per address: 20 failures over many names.
	for i := range 20 {
		_, err := s.Login(ctx, "guess"+string(rune('a'+i)), "x", "198.51.100.7:999", "")
		if code, _ := authErr(err); code != "BadCredentials" {
			t.Fatalf("address failure %d: %v", i+1, err)
		}
	}
	if _, err := s.Login(ctx, "other", "right password 2", "198.51.100.7:1000", ""); err == nil {
		t.Fatal("21st login from a throttled address passed")
	} else if _, st := authErr(err); st != 429 {
		t.Fatalf("throttled address: %v", err)
	}
	if _, err := s.Login(ctx, "other", "right password 2", "198.51.100.8:1000", ""); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// TestTokens: a token authenticates as Bearer, is stored hashed, stops at
// revocation and expiry, and a disabled user's token and session are
// refused with 401.
func TestTokens(t *testing.T) {
	s, pool, c := testStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "analyst", "analyst password", auth.Grant{Role: auth.DataAnalyst})
	secret, tok, err := s.CreateToken(ctx, u.ID, "QGIS", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "vp_") || len(secret) != 46 || !strings.HasPrefix(secret, tok.Prefix) {
		t.Fatalf("secret %q prefix %q", secret, tok.Prefix)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.api_tokens t WHERE t.token_hash = sha256(convert_to($1, 'UTF8'))
		AND NOT EXISTS (SELECT 1 FROM villageplan.api_tokens x WHERE position($1 in x.name || x.prefix) > 0 AND length(x.prefix) >= length($1))`, secret).Scan(&n); err != nil || n != 1 {
		t.Fatalf("token stored by hash only: %d %v", n, err)
	}
	bearer := func(secret string) (*auth.Principal, error) {
		r := httptest.NewRequest("GET", "/account", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		return s.Authenticate(r)
	}
	p, err := bearer(secret)
	if err != nil || p.Username != "analyst" || p.Via != "token" {
		t.Fatalf("bearer: %+v %v", p, err)
	}
	if _, err := bearer("vp_" + strings.Repeat("A", 43)); err == nil {
		t.Fatal("an unknown token passed")
	}
	// Disabled user: 401, also for a session.
	sess, err := s.Login(ctx, "analyst", "analyst password", "192.0.2.1:1", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := bearer(secret); err == nil {
		t.Fatal("disabled user's token passed")
	} else if code, st := authErr(err); st != 401 || code != "AccountDisabled" {
		t.Fatalf("disabled: %v", err)
	}
	if _, err := s.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Fatal("disabled user's session passed")
	}
	if _, err := s.Login(ctx, "analyst", "analyst password", "192.0.2.1:1", ""); err == nil {
		t.Fatal("disabled user logged in")
	}
	if err := s.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := bearer(secret); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}
	// Revoked.
	if err := s.RevokeToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bearer(secret); err == nil {
		t.Fatal("revoked token passed")
	} else if code, st := authErr(err); st != 401 || code != "TokenRevoked" {
		t.Fatalf("revoked: %v", err)
	}
	if err := s.RevokeToken(ctx, u.ID+1000, tok.ID); err == nil {
		t.Fatal("revoked another user's token")
	}
	// Expired.
	secret2, _, err := s.CreateToken(ctx, u.ID, "a week", 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bearer(secret2); err != nil {
		t.Fatal(err)
	}
	c.Add(7 * 24 * time.Hour)
	if _, err := bearer(secret2); err == nil {
		t.Fatal("expired token passed")
	} else if code, _ := authErr(err); code != "TokenExpired" {
		t.Fatalf("expired: %v", err)
	}
	if ts, err := s.Tokens(ctx, u.ID); err != nil || len(ts) != 2 || ts[1].RevokedAt == nil {
		t.Fatalf("tokens: %+v %v", ts, err)
	}
}

// TestOneTimeAdmin: the first start makes admin with a random one-time
// password that must be changed; once changed it no longer works; a
// second start makes nothing.
func TestOneTimeAdmin(t *testing.T) {
	s, _, _ := testStore(t)
	ctx := context.Background()
	acc, created, err := s.EnsureAdmin(ctx)
	if err != nil || !created || acc.Username != "admin" || len(acc.Password) != 16 {
		t.Fatalf("EnsureAdmin: %+v %v %v", acc, created, err)
	}
	if _, again, err := s.EnsureAdmin(ctx); err != nil || again {
		t.Fatalf("second EnsureAdmin created=%v err=%v", again, err)
	}
	sess, err := s.Login(ctx, "admin", acc.Password, "192.0.2.1:1", "")
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Principal.MustChangePassword || !sess.Principal.HasFor(auth.Admin, "") {
		t.Fatalf("admin principal %+v", sess.Principal)
	}
	if err := s.ChangePassword(ctx, sess.Principal.UserID, "not it", "a brand new secret", auth.SessionRowID(sess.Principal)); err != auth.ErrWrongPassword {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := s.ChangePassword(ctx, sess.Principal.UserID, acc.Password, "short", 0); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if err := s.ChangePassword(ctx, sess.Principal.UserID, acc.Password, "a brand new secret", auth.SessionRowID(sess.Principal)); err != nil {
		t.Fatal(err)
	}
	p, err := s.SessionPrincipal(ctx, sess.Secret)
	if err != nil || p.MustChangePassword {
		t.Fatalf("session after the change: %+v %v", p, err)
	}
	if _, err := s.Login(ctx, "admin", acc.Password, "192.0.2.1:1", ""); err == nil {
		t.Fatal("the one-time password still works after the change")
	}
	if _, err := s.Login(ctx, "admin", "a brand new secret", "192.0.2.1:1", ""); err != nil {
		t.Fatal(err)
	}
	// A reset makes a new one-time password and ends the sessions.
	pw, err := s.ResetPassword(ctx, sess.Principal.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Fatal("session survived a password reset")
	}
	if sess, err := s.Login(ctx, "admin", pw, "192.0.2.1:1", ""); err != nil || !sess.Principal.MustChangePassword {
		t.Fatalf("login with the reset password: %v", err)
	}
}

// TestGrants: the roles the database accepts are exactly auth.AllRoles; a
// village grant needs a village of the villages layer; usernames and
// passwords are checked with messages naming the rule.
func TestGrants(t *testing.T) {
	s, pool, _ := testStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "zhang.san", "zhang password")
	for _, r := range auth.AllRoles {
		if err := s.AddGrant(ctx, u.ID, auth.Grant{Role: r}); err != nil {
			t.Errorf("role %s: %v", r, err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.user_grants (user_id, role) VALUES ($1, 'anonymous')`, u.ID); err == nil {
		t.Error("the database accepted role anonymous")
	}
	err := s.AddGrant(ctx, u.ID, auth.Grant{Role: auth.VillageClerk, Village: "220112999999"})
	if code, st := authErr(err); code != "UnknownVillage" || st != 400 || !strings.Contains(err.Error(), "220112999999") {
		t.Fatalf("unknown village: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom)
		VALUES ('220112203301', '大营村', '集聚提升类', ST_GeomFromText('MULTIPOLYGON(((125 43,125.01 43,125.01 43.01,125 43)))', 4490))`); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGrant(ctx, u.ID, auth.Grant{Role: auth.VillageClerk, Village: "220112203301"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, u.ID)
	if len(got.Grants) != len(auth.AllRoles)+1 || got.Grants[0].Role != auth.VillageClerk {
		t.Fatalf("grants %+v", got.Grants)
	}
	if err := s.RemoveGrant(ctx, u.ID, auth.Grant{Role: auth.VillageClerk, Village: "220112203302"}); err == nil {
		t.Fatal("removed a grant the user does not hold")
	}
	for _, bad := range []string{"", "Zhang", "张三", "-x", strings.Repeat("a", 65)} {
		if _, _, err := s.CreateUser(ctx, auth.NewUser{Username: bad}); err == nil {
			t.Errorf("username %q accepted", bad)
		}
	}
	if _, _, err := s.CreateUser(ctx, auth.NewUser{Username: "zhang.san"}); err != auth.ErrExists {
		t.Errorf("duplicate username: %v", err)
	}
	if _, _, err := s.CreateUser(ctx, auth.NewUser{Username: "li", Password: "li"}); err == nil || !strings.Contains(err.Error(), "10") {
		t.Errorf("short password: %v", err)
	}
}
