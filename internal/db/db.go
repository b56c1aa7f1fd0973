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
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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
// parallel query plans (max_parallel_workers_per_gather = 0): for the small
// index-backed queries of tiles and checks PostgreSQL's parallel plans were
// measured to be many times slower.
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

// Ready reports whether the database answers within 2 s and carries every
// embedded migration. It returns a short reason when it does not.
func Ready(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	applied, embedded, err := SchemaVersion(ctx, pool)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if applied != embedded {
		return fmt.Errorf("schema at version %d, binary expects %d", applied, embedded)
	}
	return nil
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
