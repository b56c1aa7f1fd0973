package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/pgcluster"
)

// embeddedDatabase is the name of the database inside the private cluster.
const embeddedDatabase = "villageplan"

// relocatedClusterBase holds the clusters of data folders that the
// PostgreSQL server user cannot reach (see embeddedCluster). A variable so
// that tests can point it elsewhere.
var relocatedClusterBase = "/var/lib/villageplan/clusters"

// embeddedCluster returns the private cluster of dataDir, normally in
// dataDir/pg.
//
// As root the server runs as the "postgres" user, which cannot search a
// private home such as /root (mode 0700), the usual place of a checkout on
// a fresh server or in a container. Rather than changing the permissions
// of the user's directories, the cluster of such a data folder lives under
// relocatedClusterBase (/var/lib/villageplan/clusters/NAME-HASH, one per
// data folder, HASH from its absolute path) and dataDir/pg becomes a
// symbolic link to it, so `villageplan db …` and a later `serve` find it
// and `ls -l DIR/pg` shows where the data lives. The move is logged.
func embeddedCluster(dataDir string, logger *slog.Logger) (*pgcluster.Cluster, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	pg := filepath.Join(abs, "pg")
	if target, err := filepath.EvalSymlinks(pg); err == nil {
		// An existing cluster, possibly relocated earlier: use its real
		// path, which is what the server user must reach.
		return pgcluster.New(pgcluster.Options{Dir: target, Logger: logger})
	}
	c, err := pgcluster.New(pgcluster.Options{Dir: pg, Logger: logger})
	if err != nil {
		return nil, err
	}
	if c.Initialized() {
		return c, nil
	}
	reachErr := c.CheckReachable()
	if reachErr == nil {
		return c, nil
	}
	sum := sha256.Sum256([]byte(abs))
	target := filepath.Join(relocatedClusterBase, filepath.Base(abs)+"-"+hex.EncodeToString(sum[:6]), "pg")
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, fmt.Errorf("%w; relocating the cluster to %s failed too: %v", reachErr, target, err)
	}
	for d := filepath.Dir(target); d != filepath.Dir(relocatedClusterBase); d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755) // parents we may have created under a restrictive umask
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(target, pg); err != nil {
		return nil, fmt.Errorf("%w; linking %s to %s failed: %v", reachErr, pg, target, err)
	}
	logger.Info("the postgres user cannot reach the data folder, so the embedded cluster lives elsewhere",
		"data", abs, "cluster", target, "link", pg, "reason", reachErr.Error())
	return pgcluster.New(pgcluster.Options{Dir: target, Logger: logger})
}

// startEmbedded initialises (first run) and starts the private cluster and
// makes sure the villageplan database with PostGIS exists. started reports
// whether this call started the server (so the caller stops it on exit).
func startEmbedded(ctx context.Context, c *pgcluster.Cluster) (url string, started bool, err error) {
	if err := c.Init(ctx); err != nil {
		return "", false, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	started, err = c.Start(ctx)
	if err != nil {
		return "", false, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	if err := c.EnsureDatabase(ctx, embeddedDatabase); err != nil {
		if started {
			_ = c.Stop(context.WithoutCancel(ctx))
		}
		return "", false, err
	}
	return c.URL(embeddedDatabase), started, nil
}

// openDatabase connects to the database of g: the URL when one is given,
// else the embedded cluster (started if needed). It migrates the schema.
// close releases the pool and stops the cluster if this call started it.
func openDatabase(ctx context.Context, g *globalFlags, logger *slog.Logger) (pool *pgxpool.Pool, close func(), err error) {
	url := g.databaseURL
	stop := func() {}
	if url == "" {
		c, err := embeddedCluster(g.dataDir, logger)
		if err != nil {
			return nil, nil, err
		}
		u, started, err := startEmbedded(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		url = u
		if started {
			stop = func() { _ = c.Stop(context.Background()) }
		}
	}
	pool, err = db.Open(ctx, url, 4)
	if err != nil {
		stop()
		return nil, nil, err
	}
	if _, err := db.CheckPostGIS(ctx, pool); err != nil {
		pool.Close()
		stop()
		return nil, nil, err
	}
	if err := db.Migrate(ctx, pool, logger); err != nil {
		pool.Close()
		stop()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); stop() }, nil
}
