// Package testpg gives tests a real PostGIS database: never a mock.
//
// The server is the one named by VILLAGEPLAN_TEST_DATABASE_URL (a superuser
// URL; `make test` starts a throwaway cluster with the same code as the
// embedded default and sets it), or else a private cluster that this
// package creates under /var/tmp with internal/pgcluster and stops when the
// test binary ends (call Main from TestMain).
//
// Each call to New creates a fresh database cloned from a template that has
// PostGIS and every migration applied, so tests are isolated and fast.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/pgcluster"
)

// EnvURL names the environment variable holding a superuser URL of the
// PostGIS server used by tests.
const EnvURL = "VILLAGEPLAN_TEST_DATABASE_URL"

var (
	mu        sync.Mutex
	serverURL string
	cluster   *pgcluster.Cluster
	tmpDir    string
	template  string
)

// Main runs the tests and stops the private cluster, if one was started.
// Use it as `func TestMain(m *testing.M) { testpg.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if cluster != nil {
		_ = cluster.Stop(context.Background())
		_ = os.RemoveAll(tmpDir)
	}
	mu.Unlock()
	os.Exit(code)
}

// ServerURL returns a superuser URL to the "postgres" database of the test
// server, starting a private cluster when no URL is configured.
func ServerURL(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if serverURL != "" {
		return serverURL
	}
	if u := os.Getenv(EnvURL); u != "" {
		serverURL = u
		return u
	}
	dir, err := os.MkdirTemp("/var/tmp", "villageplan-test-")
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	_ = os.Chmod(dir, 0o755)
	c, err := pgcluster.New(pgcluster.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Init(ctx); err != nil {
		t.Fatalf("testpg: init cluster: %v", err)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatalf("testpg: start cluster: %v", err)
	}
	cluster, tmpDir = c, dir
	serverURL = c.URL("postgres")
	return serverURL
}

// WithDatabase returns url with its database name replaced by name.
func WithDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Path = "/" + name
	return u.String()
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// ensureTemplate builds, once per server, a template database with PostGIS
// and all migrations, and returns its name. Concurrent test binaries
// serialise on an advisory lock.
func ensureTemplate(t testing.TB, ctx context.Context, admin *pgx.Conn) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if template != "" {
		return template
	}
	name := "villageplan_test_template_" + db.MigrationsDigest()[:12]
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(4242001)`); err != nil {
		t.Fatalf("testpg: lock: %v", err)
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(4242001)`) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&exists); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	if !exists {
		_, _ = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize())
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("testpg: create template: %v", err)
		}
		pool, err := db.Open(ctx, WithDatabase(serverURL, name), 2)
		if err != nil {
			t.Fatalf("testpg: %v", err)
		}
		if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
			pool.Close()
			t.Fatalf("testpg: create extension postgis (is postgresql-15-postgis-3 installed?): %v", err)
		}
		if err := db.Migrate(ctx, pool, nil); err != nil {
			pool.Close()
			t.Fatalf("testpg: migrate template: %v", err)
		}
		pool.Close()
		if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` WITH is_template = true`); err != nil {
			t.Fatalf("testpg: %v", err)
		}
	}
	template = name
	return name
}

// NewDatabase creates an empty, migrated PostGIS database for this test and
// returns its URL. The database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL(t))
	if err != nil {
		t.Fatalf("testpg: connect: %v", err)
	}
	defer admin.Close(context.Background())
	tmpl := ensureTemplate(t, ctx, admin)
	name := randomName("villageplan_test_")
	var lastErr error
	for i := 0; i < 20; i++ {
		_, lastErr = admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{tmpl}.Sanitize())
		if lastErr == nil || !strings.Contains(lastErr.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("testpg: create database: %v", lastErr)
	}
	u := WithDatabase(ServerURL(t), name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL(t))
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	return u
}

// New returns a pool on a fresh migrated database (see NewDatabase); the
// pool is closed when the test ends. Its sessions have the database-side
// topology triggers switched off (villageplan.topology = off, see
// db.TopologyBypass): fixtures insert overlapping parcels on purpose. A
// test of those triggers sets villageplan.topology = 'on' in its
// transaction, or uses NewDatabase.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := NewDatabase(t)
	if pu, err := url.Parse(u); err == nil {
		q := pu.Query()
		q.Set("options", "-c "+db.TopologyBypass+"=off")
		// libpq and pgx ≥ 5.8 read a URL query by percent-decoding only ("+" stays
		// a plus sign), so the space of "-c name=value" must be %20.
		pu.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		u = pu.String()
	}
	pool, err := db.Open(context.Background(), u, 8)
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Copy returns a pool on a fresh copy of the database at srcURL (a
// superuser URL; the copy is made on the same server with CREATE DATABASE
// … TEMPLATE … STRATEGY FILE_COPY, which needs no other session on the
// source), with the sessions of New (topology triggers off). Benchmarks use
// it to start each run from one loaded county sample instead of loading it
// again. The copy is dropped when the test ends.
func Copy(t testing.TB, srcURL string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	su, err := url.Parse(srcURL)
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	src := strings.TrimPrefix(su.Path, "/")
	adminURL := WithDatabase(srcURL, "postgres")
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("testpg: connect: %v", err)
	}
	defer admin.Close(context.Background())
	name := randomName("villageplan_copy_")
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{src}.Sanitize()+` STRATEGY FILE_COPY`); err != nil {
		t.Fatalf("testpg: copy %s: %v", src, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	u, _ := url.Parse(WithDatabase(srcURL, name))
	q := u.Query()
	q.Set("options", "-c "+db.TopologyBypass+"=off")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	pool, err := db.Open(context.Background(), u.String(), 8)
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
