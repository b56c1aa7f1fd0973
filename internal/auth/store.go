package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the accounts of the service in PostgreSQL (migration 00009):
// users and their grants, browser sessions, API tokens and the failed
// logins that throttle guessing. Build it with NewStore; the exported
// fields may be changed before first use (tests inject a clock).
type Store struct {
	pool *pgxpool.Pool
	// Now is the clock of sessions, tokens and throttling (time.Now).
	Now func() time.Time
	// IdleTimeout ends a session not used for this long (30 min).
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login, used or not (12 h).
	AbsoluteTimeout time.Duration
	// Throttle bounds failed logins (DefaultThrottle).
	Throttle Throttle
	// Params are the argon2id parameters of new password hashes
	// (argon2id.DefaultParams: 64 MiB, 1 pass, 2 lanes; RFC 9106 §4's
	// second recommendation uses 64 MiB too). Existing hashes keep theirs.
	Params *argon2id.Params
}

// Throttle bounds failed logins in a sliding Window: more than PerAccount
// failures for one username, or PerAddress from one client address, and
// further attempts are refused with 429 until the window has passed the
// oldest of them (the password is then not even checked).
type Throttle struct {
	Window     time.Duration
	PerAccount int
	PerAddress int
}

// DefaultThrottle: 5 failures per account and 20 per address in 15 minutes.
var DefaultThrottle = Throttle{Window: 15 * time.Minute, PerAccount: 5, PerAddress: 20}

// NewStore is the accounts store on pool with the default timeouts.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour,
		Throttle: DefaultThrottle, Params: argon2id.DefaultParams}
}

// User is one account as lists and the admin API show it (never the hash).
type User struct {
	ID                 int64     `json:"id"`
	Username           string    `json:"username"`
	DisplayName        string    `json:"display_name"`
	MustChangePassword bool      `json:"must_change_password"`
	Disabled           bool      `json:"disabled"`
	Grants             []Grant   `json:"grants"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// NewUser is what CreateUser needs. An empty Password generates a random
// one-time password (returned by CreateUser) and sets MustChangePassword.
type NewUser struct {
	Username           string
	DisplayName        string
	Password           string
	MustChangePassword bool
	Grants             []Grant
}

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Sentinel refusals of the store; each is an *Error with a bilingual
// message, so the HTTP layer and the CLI show it as it is.
var (
	ErrNotFound = &Error{Status: 404, Code: "NotFound", ZH: "没有这个用户。", EN: "No such user."}
	ErrExists   = &Error{Status: 409, Code: "UserExists", ZH: "用户名已被使用。", EN: "The username is already taken."}
	// ErrBadCredentials is the one answer to a wrong username or password,
	// so a login does not reveal whether an account exists.
	ErrBadCredentials = &Error{Status: 401, Code: "BadCredentials", ZH: "用户名或密码错误。", EN: "Wrong username or password."}
	ErrWrongPassword  = &Error{Status: 403, Code: "WrongPassword", ZH: "当前密码不正确。", EN: "The current password is wrong."}
)

func inputError(zh, en string) *Error {
	return &Error{Status: 400, Code: "InvalidParameterValue", ZH: zh, EN: en}
}

// CheckUsername refuses a username other than 1–64 characters of a–z,
// 0–9, '.', '_', '-' starting with a letter or digit.
func CheckUsername(name string) error {
	if !usernameRE.MatchString(name) {
		return inputError(fmt.Sprintf("用户名 %q 无效：须为 1–64 个小写字母、数字或 . _ -，以字母或数字开头。", name),
			fmt.Sprintf("username %q is invalid: 1–64 characters of a–z, 0–9, '.', '_', '-', starting with a letter or digit", name))
	}
	return nil
}

// CheckPassword refuses a password shorter than MinPasswordLength
// characters, longer than 256 bytes, or equal to the username.
func CheckPassword(username, password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return inputError(fmt.Sprintf("密码至少 %d 个字符。", MinPasswordLength), fmt.Sprintf("the password must have at least %d characters", MinPasswordLength))
	case len(password) > 256:
		return inputError("密码不超过 256 字节。", "the password must not exceed 256 bytes")
	case strings.EqualFold(password, username):
		return inputError("密码不能与用户名相同。", "the password must not equal the username")
	}
	return nil
}

// checkGrant refuses an unknown role or a malformed village code (whether
// the village exists is checked by the database).
func checkGrant(g Grant) error {
	if !g.Role.Valid() {
		var codes []string
		for _, r := range AllRoles {
			codes = append(codes, string(r))
		}
		return inputError(fmt.Sprintf("角色 %q 不存在；可用：%s。", g.Role, strings.Join(codes, ", ")),
			fmt.Sprintf("role %q does not exist; roles: %s", g.Role, strings.Join(codes, ", ")))
	}
	if g.Village != TownshipWide && !regexp.MustCompile(`^[0-9]{12}$`).MatchString(g.Village) {
		return inputError(fmt.Sprintf("村级区划代码 %q 须为 12 位数字（如 220112203301），留空表示全乡。", g.Village),
			fmt.Sprintf("village code %q must be 12 digits (e.g. 220112203301), or empty for the whole township", g.Village))
	}
	return nil
}

// dbError turns the database's refusals of a grant or user into bilingual
// errors naming the value.
func dbError(err error, g *Grant) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.ConstraintName == "user_grants_village_exists" && g != nil:
			return &Error{Status: 400, Code: "UnknownVillage", ZH: fmt.Sprintf("村级区划代码 %s 不在村界图层中。", g.Village),
				EN: fmt.Sprintf("village code %s is not in the villages layer", g.Village)}
		case pe.ConstraintName == "users_username_key":
			return ErrExists
		}
	}
	return err
}

// RandomSecret is n random bytes as unpadded base64url.
func RandomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// OneTimePassword is a random password for a new or reset account: 16
// characters from an alphabet without look-alikes (about 90 bits).
func OneTimePassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func digest(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

func (s *Store) hash(password string) (string, error) {
	return argon2id.CreateHash(password, s.Params)
}

// CreateUser adds an account with its grants in one transaction and
// returns it with the one-time password when none was given (else "").
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, string, error) {
	if err := CheckUsername(nu.Username); err != nil {
		return User{}, "", err
	}
	onetime := ""
	if nu.Password == "" {
		onetime = OneTimePassword()
		nu.Password, nu.MustChangePassword = onetime, true
	}
	if err := CheckPassword(nu.Username, nu.Password); err != nil {
		return User{}, "", err
	}
	for _, g := range nu.Grants {
		if err := checkGrant(g); err != nil {
			return User{}, "", err
		}
	}
	h, err := s.hash(nu.Password)
	if err != nil {
		return User{}, "", err
	}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO villageplan.users (username, display_name, password_hash, must_change_password, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$5) RETURNING id`, nu.Username, nu.DisplayName, h, nu.MustChangePassword, now).Scan(&id); err != nil {
			return dbError(err, nil)
		}
		for _, g := range nu.Grants {
			if _, err := tx.Exec(ctx, `INSERT INTO villageplan.user_grants (user_id, role, village_code) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
				id, string(g.Role), g.Village); err != nil {
				return dbError(err, &g)
			}
		}
		return nil
	})
	if err != nil {
		return User{}, "", err
	}
	u, err := s.User(ctx, id)
	return u, onetime, err
}

const userColumns = `u.id, u.username, u.display_name, u.must_change_password, u.disabled, u.created_at, u.updated_at,
	coalesce((SELECT array_agg(g.role || ':' || g.village_code ORDER BY g.role, g.village_code) FROM villageplan.user_grants g WHERE g.user_id = u.id), '{}')`

func scanUser(row pgx.Row, before ...any) (User, error) {
	var u User
	var grants []string
	dest := append(before, &u.ID, &u.Username, &u.DisplayName, &u.MustChangePassword, &u.Disabled, &u.CreatedAt, &u.UpdatedAt, &grants)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return u, ErrNotFound
		}
		return u, err
	}
	u.Grants = parseGrants(grants)
	return u, nil
}

func parseGrants(rows []string) []Grant {
	out := []Grant{}
	for _, r := range rows {
		role, village, _ := strings.Cut(r, ":")
		out = append(out, Grant{Role: Role(role), Village: village})
	}
	slices.SortStableFunc(out, func(a, b Grant) int {
		return slices.Index(AllRoles, a.Role) - slices.Index(AllRoles, b.Role)
	})
	return out
}

// User is the account with id (ErrNotFound).
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM villageplan.users u WHERE u.id = $1`, id))
}

// UserByName is the account called username (ErrNotFound).
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	return scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM villageplan.users u WHERE u.username = $1`, strings.ToLower(username)))
}

// Users lists every account by username.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM villageplan.users u ORDER BY u.username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers is the number of accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.users`).Scan(&n)
	return n, err
}

// SetDisabled disables or enables an account. Disabling ends its sessions
// at once; its tokens stop working while it is disabled.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE villageplan.users SET disabled = $2, updated_at = $3 WHERE id = $1`, id, disabled, s.Now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if disabled {
			_, err = tx.Exec(ctx, `DELETE FROM villageplan.sessions WHERE user_id = $1`, id)
		}
		return err
	})
}

// SetPassword sets the password of an account (CheckPassword) and ends its
// sessions except keepSession (the id of the session that changed it, or
// 0). mustChange marks it one-time (an administrator's reset).
func (s *Store) SetPassword(ctx context.Context, id int64, password string, mustChange bool, keepSession int64) error {
	u, err := s.User(ctx, id)
	if err != nil {
		return err
	}
	if err := CheckPassword(u.Username, password); err != nil {
		return err
	}
	h, err := s.hash(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE villageplan.users SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1`,
			id, h, mustChange, s.Now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM villageplan.sessions WHERE user_id = $1 AND id <> $2`, id, keepSession)
		return err
	})
}

// ResetPassword gives an account a random one-time password (returned;
// show it once) that must be changed at the next login, and ends its
// sessions.
func (s *Store) ResetPassword(ctx context.Context, id int64) (string, error) {
	pw := OneTimePassword()
	return pw, s.SetPassword(ctx, id, pw, true, 0)
}

// ChangePassword is the user's own change: the current password must be
// right (ErrWrongPassword), the new one pass CheckPassword and differ from
// it. It clears must_change_password and ends the user's other sessions.
func (s *Store) ChangePassword(ctx context.Context, id int64, current, next string, keepSession int64) error {
	var h string
	if err := s.pool.QueryRow(ctx, `SELECT password_hash FROM villageplan.users WHERE id = $1`, id).Scan(&h); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	if ok, err := argon2id.ComparePasswordAndHash(current, h); err != nil || !ok {
		return ErrWrongPassword
	}
	if current == next {
		return inputError("新密码不能与当前密码相同。", "the new password must differ from the current one")
	}
	return s.SetPassword(ctx, id, next, false, keepSession)
}

// AddGrant gives an account a role (in a village, or township-wide).
func (s *Store) AddGrant(ctx context.Context, id int64, g Grant) error {
	if err := checkGrant(g); err != nil {
		return err
	}
	if _, err := s.User(ctx, id); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO villageplan.user_grants (user_id, role, village_code) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
		id, string(g.Role), g.Village)
	if err == nil {
		_, err = s.pool.Exec(ctx, `UPDATE villageplan.users SET updated_at = $2 WHERE id = $1`, id, s.Now())
	}
	return dbError(err, &g)
}

// RemoveGrant takes a role (in that scope) from an account; removing one
// it does not hold is an error naming it.
func (s *Store) RemoveGrant(ctx context.Context, id int64, g Grant) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM villageplan.user_grants WHERE user_id = $1 AND role = $2 AND village_code = $3`, id, string(g.Role), g.Village)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		scope := "全乡 township-wide"
		if g.Village != "" {
			scope = g.Village
		}
		return &Error{Status: 404, Code: "NoSuchGrant", ZH: fmt.Sprintf("该用户没有角色 %s（%s）。", g.Role.Label(), scope),
			EN: fmt.Sprintf("the user does not hold role %s (%s)", g.Role, scope)}
	}
	_, err = s.pool.Exec(ctx, `UPDATE villageplan.users SET updated_at = $2 WHERE id = $1`, id, s.Now())
	return err
}

// SetGrants replaces an account's grants in one transaction.
func (s *Store) SetGrants(ctx context.Context, id int64, grants []Grant) error {
	for _, g := range grants {
		if err := checkGrant(g); err != nil {
			return err
		}
	}
	if _, err := s.User(ctx, id); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM villageplan.user_grants WHERE user_id = $1`, id); err != nil {
			return err
		}
		for _, g := range grants {
			if _, err := tx.Exec(ctx, `INSERT INTO villageplan.user_grants (user_id, role, village_code) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
				id, string(g.Role), g.Village); err != nil {
				return dbError(err, &g)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE villageplan.users SET updated_at = $2 WHERE id = $1`, id, s.Now())
		return err
	})
}

// Pool is the database of the store (for auth.Audit of changes made
// through it).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
