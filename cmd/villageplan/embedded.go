package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/db"
	"villageplan/internal/pgcluster"
)

// embeddedDatabase is the name of the database inside the private cluster.
const embeddedDatabase = "villageplan"

// embeddedCluster returns the private cluster under dataDir/pg.
func embeddedCluster(dataDir string, logger *slog.Logger) (*pgcluster.Cluster, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	return pgcluster.New(pgcluster.Options{Dir: filepath.Join(abs, "pg"), Logger: logger})
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
