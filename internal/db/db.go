// Package db connects to PostGIS, checks that the database can hold
// villageplan's layers, and applies the versioned schema migrations that are
// embedded in the binary (internal/db/migrations, run with goose).
package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"villageplan/layers"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNoPostGIS is returned by CheckPostGIS when the database lacks the
// postgis extension or has a version older than 3.
var ErrNoPostGIS = errors.New("PostGIS ≥ 3 is not installed in this database")

// Open connects a pool to the database at url (a postgres:// URL or a
// key=value DSN) and pings it within 10 s. Sessions of the pool never use
// parallel query plans (max_parallel_workers_per_gather = 0) nor JIT
// compilation (jit = off): for the small index-backed queries of tiles and
// checks PostgreSQL's parallel plans were measured to be many times slower,
// and JIT added 100–500 ms to a siting check.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	// JIT compilation costs 100–500 ms per statement once a plan's cost
	// passes jit_above_cost, which the siting check's one big statement
	// and the coverage queries do; it never pays back on these short
	// index-backed queries.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	cfg.ConnConfig.RuntimeParams["application_name"] = "villageplan"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(cfg.ConnConfig), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(cfg.ConnConfig), err)
	}
	return pool, nil
}

func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// CheckPostGIS verifies that the postgis extension is installed in the
// database and that its version is at least 3. It returns an error wrapping
// ErrNoPostGIS that says what is missing and how to install it.
func CheckPostGIS(ctx context.Context, pool *pgxpool.Pool) (version string, err error) {
	err = pool.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'postgis'`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		var available bool
		_ = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')`).Scan(&available)
		if available {
			return "", fmt.Errorf("%w: the server has PostGIS but this database does not; run CREATE EXTENSION postgis; as a superuser", ErrNoPostGIS)
		}
		return "", fmt.Errorf("%w: the server has no PostGIS; install the postgresql-<version>-postgis-3 package on the database server", ErrNoPostGIS)
	}
	if err != nil {
		return "", fmt.Errorf("check PostGIS: %w", err)
	}
	major, _ := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if major < 3 {
		return version, fmt.Errorf("%w: found PostGIS %s; upgrade to 3.x (ALTER EXTENSION postgis UPDATE after installing it)", ErrNoPostGIS, version)
	}
	return version, nil
}

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// Migrate applies every embedded migration that the database lacks, in
// order, each in its own transaction, and then the integrity constraints
// of the layer catalog ([ApplyRules]). Running it again is a no-op.
// Several processes may call it at once: goose and ApplyRules serialise
// them with advisory locks.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	p, err := newProvider(sqlDB)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		if logger != nil {
			logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	// The integrity constraints are rendered from the layer catalog, not
	// written in a migration (see rules.go); rows that break a new rule
	// are logged, and the database still starts.
	if _, err := ApplyRules(ctx, pool, layers.Default(), logger); err != nil {
		return fmt.Errorf("apply the catalog's integrity rules: %w", err)
	}
	return nil
}

func newProvider(sqlDB *sql.DB) (*goose.Provider, error) {
	store, err := database.NewStore(database.DialectPostgres, "public.villageplan_schema_migrations")
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider("", sqlDB, migrationsFS(),
		goose.WithStore(store), goose.WithSessionLocker(mustLocker()))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// SchemaVersion returns the highest applied migration version and the
// highest embedded one; the database is migrated when they are equal.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (applied, embedded int64, err error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	p, err := newProvider(sqlDB)
	if err != nil {
		return 0, 0, err
	}
	applied, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	srcs := p.ListSources()
	if len(srcs) > 0 {
		embedded = srcs[len(srcs)-1].Version
	}
	return applied, embedded, nil
}

func mustLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		panic(err)
	}
	return l
}

// migrationsTable is goose's version table (one row per applied or
// rolled-back migration).
const migrationsTable = "public.villageplan_schema_migrations"

// EmbeddedVersion is the highest migration version embedded in this binary,
// read once from the migration file names (NNNNN_name.sql).
var EmbeddedVersion = sync.OnceValue(func() int64 {
	var max int64
	entries, _ := fs.ReadDir(migrationsFS(), ".")
	for _, e := range entries {
		digits, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(digits, 10, 64); err == nil && v > max {
			max = v
		}
	}
	return max
})

// Ready reports whether the database answers within 2 s and carries every
// embedded migration: it returns the applied schema version, or an error
// with a short reason (unreachable, not migrated, or at another version
// than this binary's). It costs one indexed query on one pooled connection
// and takes no lock, so concurrent probes do not queue behind each other
// beyond the pool itself; an applied version of 0 or an unreadable version
// table is never reported as ready.
func Ready(ctx context.Context, pool *pgxpool.Pool) (applied int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = pool.QueryRow(ctx, `SELECT coalesce(max(m.version_id), 0) FROM `+migrationsTable+` m
		WHERE m.is_applied AND NOT EXISTS (SELECT 1 FROM `+migrationsTable+` r
			WHERE r.version_id = m.version_id AND r.id > m.id AND NOT r.is_applied)`).Scan(&applied)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return 0, errors.New("database not migrated: no schema version table")
		}
		return 0, fmt.Errorf("database unreachable: %w", err)
	}
	if want := EmbeddedVersion(); applied != want || applied == 0 {
		return applied, fmt.Errorf("schema at version %d, binary expects %d", applied, want)
	}
	return applied, nil
}

// MigrationsDigest returns a hex SHA-256 over the names and contents of the
// embedded migrations and the digests of the catalog's integrity rules; it
// changes whenever the schema does.
func MigrationsDigest() string {
	h := sha256.New()
	_ = fs.WalkDir(migrationsFS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrationsFS(), path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	for _, r := range layers.Default().Rules() {
		h.Write([]byte(r.Digest()))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IsUnavailable reports whether err means the database cannot be used right
// now — a failed connection, a server shutting down or starting up, a
// broken connection — as opposed to an error of the statement itself.
// Such errors are answered 503 with Retry-After.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 connection exceptions; 57P01 admin_shutdown, 57P02
		// crash_shutdown, 57P03 cannot_connect_now; 53300 too many
		// connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, puddle.ErrClosedPool) || strings.Contains(err.Error(), "closed pool")
}

// IsTimeout reports whether err is PostgreSQL cancelling a statement at its
// statement_timeout or on request (SQLSTATE 57014).
func IsTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "57014"
}

// SessionLimits bound the work of every session of a pool on the database
// side, as startup parameters of its connections (no round trip per
// statement): PostgreSQL cancels a statement that runs longer than
// Statement (statement_timeout, SQLSTATE 57014, see [IsTimeout]; the
// connection stays usable) and ends a session that sits idle inside a
// transaction longer than IdleInTransaction
// (idle_in_transaction_session_timeout, so an abandoned transaction cannot
// hold its locks). A zero field leaves the server's setting.
type SessionLimits struct {
	Statement         time.Duration
	IdleInTransaction time.Duration
}

// Apply writes the limits into a pool configuration's startup parameters,
// in whole milliseconds (at least 1 ms for a positive limit).
func (l SessionLimits) Apply(cfg *pgxpool.Config) {
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(max(d.Milliseconds(), 1), 10) }
	if l.Statement > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = ms(l.Statement)
	}
	if l.IdleInTransaction > 0 {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = ms(l.IdleInTransaction)
	}
}

// DerivePool returns a new pool on the same database and with the same
// configuration as base (its startup parameters, AfterConnect, …) but at
// most maxConns connections (0: base's) whose sessions carry lim. It
// connects lazily: a pool no request uses opens no connection. The caller
// closes it.
func DerivePool(base *pgxpool.Pool, maxConns int32, lim SessionLimits) (*pgxpool.Pool, error) {
	cfg := base.Config() // a copy
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MinConns = 0
	lim.Apply(cfg)
	return pgxpool.NewWithConfig(context.Background(), cfg)
}
