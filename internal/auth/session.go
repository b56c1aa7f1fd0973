package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5"
)

// SessionCookie is the name of the browser session cookie. Its value is
// the session's 256-bit secret (base64url); the database keeps only its
// SHA-256.
const SessionCookie = "villageplan_session"

// Session is a browser session just created by Login.
type Session struct {
	// Secret is the cookie value; it is shown nowhere else.
	Secret    string
	Principal *Principal
	// ExpiresAt is the absolute end (login + AbsoluteTimeout).
	ExpiresAt time.Time
}

// touchEvery is how stale last_seen_at may get before a request writes
// it: the idle timeout is precise to this much, and a page loading a
// hundred tiles writes the session once.
const touchEvery = time.Minute

// CSRFToken is the anti-CSRF token of the session whose cookie secret is
// secret: HMAC-SHA256 of the secret, so it is stable for the session,
// unforgeable without the HttpOnly cookie, and stored nowhere.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("villageplan csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// dummyHash is compared against when the username does not exist, so a
// failed login takes as long either way.
var dummyHash, _ = argon2id.CreateHash("no such user, constant time", argon2id.DefaultParams)

// Login checks username and password from client address addr and opens
// a session. Refusals, all *Error: 429 with RetryAfter when the account or
// the address has too many recent failures (the password is not checked);
// 401 ErrBadCredentials for a wrong password or unknown user alike
// (recorded as a failure); 401 AccountDisabled for a disabled account
// whose password was right. Concurrent guesses may pass the limits by the
// number in flight at once.
func (s *Store) Login(ctx context.Context, username, password, addr, userAgent string) (*Session, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	addr = clientHost(addr)
	if err := s.throttled(ctx, name, addr); err != nil {
		return nil, err
	}
	var (
		id       int64
		h        string
		disabled bool
	)
	err := s.pool.QueryRow(ctx, `SELECT id, password_hash, disabled FROM villageplan.users WHERE username = $1`, name).Scan(&id, &h, &disabled)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	known := err == nil && h != ""
	if !known {
		h = dummyHash
	}
	ok, cerr := argon2id.ComparePasswordAndHash(password, h)
	if !known || cerr != nil || !ok {
		now := s.Now()
		if _, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM villageplan.login_failures WHERE at < $4)
			INSERT INTO villageplan.login_failures (at, username, remote_addr) VALUES ($1,$2,$3)`,
			now, name, addr, now.Add(-s.Throttle.Window)); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	if disabled {
		return nil, errDisabled
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM villageplan.login_failures WHERE username = $1`, name); err != nil {
		return nil, err
	}
	secret := RandomSecret(32)
	now := s.Now()
	exp := now.Add(s.AbsoluteTimeout)
	var sid int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO villageplan.sessions (id_hash, user_id, created_at, last_seen_at, expires_at, remote_addr, user_agent)
		VALUES ($1,$2,$3,$3,$4,$5,$6) RETURNING id`, digest(secret), id, now, exp, addr, truncate(userAgent, 300)).Scan(&sid); err != nil {
		return nil, err
	}
	u, err := s.User(ctx, id)
	if err != nil {
		return nil, err
	}
	p := principalOf(u, "session", sid)
	p.CSRFToken = CSRFToken(secret)
	return &Session{Secret: secret, Principal: p, ExpiresAt: exp}, nil
}

// throttled answers 429 when name or addr has reached its limit of
// failures within the window, with the time until the oldest failure that
// keeps it there leaves the window.
func (s *Store) throttled(ctx context.Context, name, addr string) error {
	now := s.Now()
	since := now.Add(-s.Throttle.Window)
	for _, c := range []struct {
		col, val string
		limit    int
		zh, en   string
	}{
		{"username", name, s.Throttle.PerAccount, "该账号", "this account"},
		{"remote_addr", addr, s.Throttle.PerAddress, "本机地址", "your address"},
	} {
		if c.limit <= 0 {
			continue
		}
		// The limit-th newest failure: when it leaves the window, fewer
		// than limit remain.
		var at time.Time
		err := s.pool.QueryRow(ctx, `SELECT at FROM villageplan.login_failures WHERE `+c.col+` = $1 AND at > $2
			ORDER BY at DESC OFFSET $3 LIMIT 1`, c.val, since, c.limit-1).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		wait := at.Add(s.Throttle.Window).Sub(now)
		mins := int(math.Ceil(wait.Minutes()))
		return &Error{Status: http.StatusTooManyRequests, Code: "LoginThrottled", RetryAfter: wait,
			ZH: fmt.Sprintf("%s登录失败次数过多（%d 分钟内 %d 次），请 %d 分钟后再试。", c.zh, int(s.Throttle.Window.Minutes()), c.limit, mins),
			EN: fmt.Sprintf("Too many failed logins for %s (%d in %d minutes); try again in %d minutes.", c.en, c.limit, int(s.Throttle.Window.Minutes()), mins)}
	}
	return nil
}

var errDisabled = &Error{Status: 401, Code: "AccountDisabled", ZH: "账号已停用，请联系管理员。", EN: "This account is disabled; ask an administrator."}

var (
	errSessionUnknown = &Error{Status: 401, Code: "SessionInvalid", ZH: "会话无效或已退出，请重新登录。", EN: "The session is not valid (logged out or unknown); log in again."}
	errSessionIdle    = &Error{Status: 401, Code: "SessionExpired", ZH: "会话因长时间未操作已过期，请重新登录。", EN: "The session expired after inactivity; log in again."}
	errSessionOld     = &Error{Status: 401, Code: "SessionExpired", ZH: "会话已到最长时限，请重新登录。", EN: "The session reached its maximum age; log in again."}
)

// IsSessionError reports whether err is a refused session cookie (unknown,
// logged out, expired): the HTTP layer clears the cookie with the 401.
func IsSessionError(err error) bool {
	return err == errSessionUnknown || err == errSessionIdle || err == errSessionOld
}

// SessionPrincipal is the principal of the session whose cookie secret is
// secret, and marks it used. An unknown, logged-out or expired (idle or
// absolute) session, or a disabled user, is a 401 *Error; an expired
// session is deleted.
func (s *Store) SessionPrincipal(ctx context.Context, secret string) (*Principal, error) {
	var (
		sid              int64
		lastSeen, expiry time.Time
	)
	// One query per request: the session and its user with the grants.
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT s.id, s.last_seen_at, s.expires_at, `+userColumns+`
		FROM villageplan.sessions s JOIN villageplan.users u ON u.id = s.user_id WHERE s.id_hash = $1`, digest(secret)),
		&sid, &lastSeen, &expiry)
	if err == ErrNotFound {
		return nil, errSessionUnknown
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var refusal error
	switch {
	case !now.Before(expiry):
		refusal = errSessionOld
	case !now.Before(lastSeen.Add(s.IdleTimeout)):
		refusal = errSessionIdle
	}
	if refusal != nil {
		if _, err := s.pool.Exec(ctx, `DELETE FROM villageplan.sessions WHERE id = $1`, sid); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	if u.Disabled {
		return nil, errDisabled
	}
	if now.Sub(lastSeen) >= touchEvery {
		if _, err := s.pool.Exec(ctx, `UPDATE villageplan.sessions SET last_seen_at = $2 WHERE id = $1`, sid, now); err != nil {
			return nil, err
		}
	}
	p := principalOf(u, "session", sid)
	p.CSRFToken = CSRFToken(secret)
	return p, nil
}

// Logout ends the session whose cookie secret is secret (deleting it on
// the server; the cookie is worth nothing afterwards). Unknown: no error.
func (s *Store) Logout(ctx context.Context, secret string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM villageplan.sessions WHERE id_hash = $1`, digest(secret))
	return err
}

// principalOf is the principal of user u acting via "session" or "token"
// number id.
func principalOf(u User, via string, id int64) *Principal {
	return &Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Grants: u.Grants,
		Via: via, SessionID: strconv.FormatInt(id, 10), MustChangePassword: u.MustChangePassword}
}

// SessionRowID is the id of the principal's session row (0 when it did not
// come by a session), for SetPassword's keepSession.
func SessionRowID(p *Principal) int64 {
	if p == nil || p.Via != "session" {
		return 0
	}
	id, _ := strconv.ParseInt(p.SessionID, 10, 64)
	return id
}

// clientHost is the address without its port ("192.0.2.7:51234" →
// "192.0.2.7"), so one client's connections share a throttle.
func clientHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
