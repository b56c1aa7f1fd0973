package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"villageplan/internal/db"
	"villageplan/internal/pgcluster"
)

func newDBCommand(g *globalFlags) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "db",
		Short: "manage the embedded PostgreSQL + PostGIS cluster (status, start, stop, url, psql)",
		Long: `Manages the private cluster of the embedded default (under DIR/pg), so that
analysts can point psql or QGIS at the same data the service uses.`,
	}
	withCluster := func(run func(ctx context.Context, c *pgcluster.Cluster) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			c, err := embeddedCluster(g.dataDir, g.logger())
			if err != nil {
				return err
			}
			return run(cmd.Context(), c)
		}
	}
	status := &cobra.Command{Use: "status", Short: "say whether the cluster is initialised and running", Args: cobra.NoArgs,
		RunE: withCluster(func(ctx context.Context, c *pgcluster.Cluster) error {
			switch {
			case !c.Initialized():
				fmt.Printf("not initialised (%s); run: villageplan db start\n", c.Dir())
			case c.Running(ctx):
				fmt.Printf("running on 127.0.0.1:%d (%s)\n", c.Port(), c.Dir())
			default:
				fmt.Printf("stopped (%s, port %d)\n", c.Dir(), c.Port())
			}
			return nil
		})}
	start := &cobra.Command{Use: "start", Short: "initialise (first time), start, create the database with PostGIS and migrate", Args: cobra.NoArgs,
		RunE: withCluster(func(ctx context.Context, c *pgcluster.Cluster) error {
			url, _, err := startEmbedded(ctx, c)
			if err != nil {
				return err
			}
			pool, err := db.Open(ctx, url, 2)
			if err != nil {
				return err
			}
			defer pool.Close()
			if err := db.Migrate(ctx, pool, g.logger()); err != nil {
				return err
			}
			fmt.Printf("running on 127.0.0.1:%d\n", c.Port())
			return nil
		})}
	stop := &cobra.Command{Use: "stop", Short: "stop the cluster (fast shutdown)", Args: cobra.NoArgs,
		RunE: withCluster(func(ctx context.Context, c *pgcluster.Cluster) error { return c.Stop(ctx) })}
	url := &cobra.Command{Use: "url", Short: "print a connection URL (for QGIS, psql, scripts)", Args: cobra.NoArgs,
		RunE: withCluster(func(ctx context.Context, c *pgcluster.Cluster) error {
			if !c.Initialized() {
				return errors.New("the embedded cluster is not initialised; run: villageplan db start")
			}
			fmt.Println(c.URL(database))
			return nil
		})}
	url.Flags().StringVar(&database, "database", embeddedDatabase, "database name")
	psql := &cobra.Command{
		Use:   "psql [--data DIR] [--database NAME] [psql args…]",
		Short: "open psql on the cluster; further arguments go to psql (villageplan db psql -c \"select 1\")",
		// psql's own flags (-c, -f, -A …) must pass through untouched, so
		// this command reads its two flags itself.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			dataDir, dbName, rest := g.dataDir, embeddedDatabase, []string{}
			for i := 0; i < len(args); i++ {
				a := args[i]
				switch {
				case a == "--data" && i+1 < len(args):
					dataDir, i = args[i+1], i+1
				case strings.HasPrefix(a, "--data="):
					dataDir = strings.TrimPrefix(a, "--data=")
				case a == "--database" && i+1 < len(args):
					dbName, i = args[i+1], i+1
				case strings.HasPrefix(a, "--database="):
					dbName = strings.TrimPrefix(a, "--database=")
				case a == "--help" && len(rest) == 0:
					return cmd.Help()
				default:
					rest = append(rest, a)
				}
			}
			c, err := embeddedCluster(dataDir, g.logger())
			if err != nil {
				return err
			}
			if !c.Running(cmd.Context()) {
				return errors.New("the embedded cluster is not running; run: villageplan db start")
			}
			p := c.PsqlCommand(context.WithoutCancel(cmd.Context()), dbName, rest...)
			p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
			if err := p.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					os.Exit(ee.ExitCode())
				}
				return err
			}
			return nil
		},
	}
	cmd.AddCommand(status, start, stop, url, psql)
	return cmd
}
