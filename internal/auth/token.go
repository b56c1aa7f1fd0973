package auth

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenPrefix starts every API token secret ("vp_" + 43 base64url
// characters = 256 random bits), so a leaked token is recognisable.
const TokenPrefix = "vp_"

// Token is an API token as lists show it: never the secret, only its
// first characters (Prefix).
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Username   string     `json:"username,omitempty"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

var (
	errTokenUnknown = &Error{Status: 401, Code: "TokenInvalid", ZH: "API 令牌无效。", EN: "The API token is not valid."}
	errTokenRevoked = &Error{Status: 401, Code: "TokenRevoked", ZH: "API 令牌已被撤销。", EN: "The API token has been revoked."}
	errTokenExpired = &Error{Status: 401, Code: "TokenExpired", ZH: "API 令牌已过期。", EN: "The API token has expired."}
	// ErrTokenNotFound: no token with that id (of that user).
	ErrTokenNotFound = &Error{Status: 404, Code: "NotFound", ZH: "没有这个令牌。", EN: "No such token."}
)

// CreateToken makes an API token for user userID called name (1–100
// characters), valid for ttl (0: until revoked). It returns the secret —
// shown this once, stored only as its SHA-256 — and the token.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (string, Token, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
		return "", Token{}, inputError("令牌名称须为 1–100 个字符（如“QGIS 办公室”）。", "the token name must have 1–100 characters (e.g. \"QGIS office\")")
	}
	if ttl < 0 {
		return "", Token{}, inputError("有效期不能为负。", "the validity must not be negative")
	}
	if _, err := s.User(ctx, userID); err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + RandomSecret(32)
	now := s.Now()
	var exp *time.Time
	if ttl > 0 {
		e := now.Add(ttl)
		exp = &e
	}
	t := Token{UserID: userID, Name: name, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: now, ExpiresAt: exp}
	err := s.pool.QueryRow(ctx, `INSERT INTO villageplan.api_tokens (user_id, name, token_hash, prefix, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, userID, name, digest(secret), t.Prefix, now, exp).Scan(&t.ID)
	if err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// Tokens lists the tokens of user userID (0: of every user), newest first,
// revoked ones included.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.user_id, u.username, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at, t.revoked_at
		FROM villageplan.api_tokens t JOIN villageplan.users u ON u.id = t.user_id
		WHERE $1 = 0 OR t.user_id = $1 ORDER BY t.id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.ExpiresAt, &t.RevokedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes token id of user userID (0: of any user, for the
// administrator and the CLI); it stops working at once. Revoking a revoked
// token is no error; an unknown one is ErrTokenNotFound.
func (s *Store) RevokeToken(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE villageplan.api_tokens SET revoked_at = coalesce(revoked_at, $3)
		WHERE id = $1 AND ($2 = 0 OR user_id = $2)`, id, userID, s.Now())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return ErrTokenNotFound
	}
	return nil
}

// TokenPrincipal is the principal of the API token secret. Unknown,
// revoked or expired tokens and disabled users are 401 *Error.
func (s *Store) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, errTokenUnknown
	}
	var (
		id        int64
		lastUsed  *time.Time
		exp, revd *time.Time
	)
	// One query per request: the token and its user with the grants.
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT t.id, t.last_used_at, t.expires_at, t.revoked_at, `+userColumns+`
		FROM villageplan.api_tokens t JOIN villageplan.users u ON u.id = t.user_id WHERE t.token_hash = $1`, digest(secret)),
		&id, &lastUsed, &exp, &revd)
	if err == ErrNotFound {
		return nil, errTokenUnknown
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	switch {
	case revd != nil:
		return nil, errTokenRevoked
	case exp != nil && !now.Before(*exp):
		return nil, errTokenExpired
	}
	if u.Disabled {
		return nil, errDisabled
	}
	if lastUsed == nil || now.Sub(*lastUsed) >= touchEvery {
		if _, err := s.pool.Exec(ctx, `UPDATE villageplan.api_tokens SET last_used_at = $2 WHERE id = $1`, id, now); err != nil {
			return nil, err
		}
	}
	return principalOf(u, "token", id), nil
}

// Authenticate makes *Store the service's Authenticator: an
// "Authorization: Bearer vp_…" API token, else the session cookie, else
// anonymous (nil, nil). Present but wrong credentials are a 401 *Error.
func (s *Store) Authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, &Error{Status: 401, Code: "BadAuthorization", ZH: "Authorization 请求头须为 “Bearer <API 令牌>”。",
				EN: "The Authorization header must be \"Bearer <API token>\"."}
		}
		return s.TokenPrincipal(r.Context(), strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.SessionPrincipal(r.Context(), c.Value)
	}
	return nil, nil
}

var _ Authenticator = (*Store)(nil)
