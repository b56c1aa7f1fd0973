package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

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
