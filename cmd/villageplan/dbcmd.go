package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
	cmd.AddCommand(status, start, stop, url, psql, newReplicaCommand(g))
	return cmd
}

// newReplicaCommand is `villageplan db replica create|start|status|promote`:
// a streaming standby of the embedded cluster (--data) in a data folder of
// its own (--replica-data, cluster under DIR/pg), on another port.
func newReplicaCommand(g *globalFlags) *cobra.Command {
	var (
		replicaData string
		port        int
	)
	cmd := &cobra.Command{
		Use:   "replica create|start|status|promote --replica-data DIR",
		Short: "a streaming read replica of the embedded cluster (pg_basebackup), its status, its promotion",
		Long: `create copies the running embedded cluster of --data with pg_basebackup -R
(streaming WAL, as the postgres user when run as root) into the data folder
--replica-data (cluster under DIR/pg, its own port: --replica-port or a free
one) and starts it as a hot standby; serve --read-replica URL reads from it.
start starts it again (after a reboot; db stop --data DIR stops it),
status prints whether it is a standby, its receive and replay LSN and how
old the last replayed transaction is, promote turns it into a primary
(stop the old primary first).`,
	}
	open := func() (*pgcluster.Cluster, error) {
		if replicaData == "" {
			return nil, errors.New("--replica-data DIR is required")
		}
		return embeddedCluster(replicaData, g.logger())
	}
	create := &cobra.Command{Use: "create", Short: "copy the running primary with pg_basebackup and start the standby", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if replicaData == "" {
				return errors.New("--replica-data DIR is required")
			}
			p, err := embeddedCluster(g.dataDir, g.logger())
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(replicaData)
			if err != nil {
				return err
			}
			r, err := p.CreateReplica(cmd.Context(), filepath.Join(abs, "pg"), port)
			if err != nil {
				return err
			}
			if _, err := r.Start(cmd.Context()); err != nil {
				return err
			}
			fmt.Printf("standby running on 127.0.0.1:%d (%s); read from it with: serve --read-replica %s\n", r.Port(), r.Dir(), r.URL(embeddedDatabase))
			return nil
		}}
	create.Flags().IntVar(&port, "replica-port", 0, "TCP port of the standby on 127.0.0.1 (0: a free one)")
	start := &cobra.Command{Use: "start", Short: "start the standby", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := open()
			if err != nil {
				return err
			}
			if _, err := r.Start(cmd.Context()); err != nil {
				return err
			}
			fmt.Printf("running on 127.0.0.1:%d\n", r.Port())
			return nil
		}}
	status := &cobra.Command{Use: "status", Short: "standby or primary, receive/replay LSN, replay delay", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := open()
			if err != nil {
				return err
			}
			if !r.Running(cmd.Context()) {
				fmt.Printf("stopped (%s, port %d)\n", r.Dir(), r.Port())
				return nil
			}
			st, err := r.Status(cmd.Context())
			if err != nil {
				return err
			}
			if !st.InRecovery {
				fmt.Printf("primary (promoted) on 127.0.0.1:%d\n", r.Port())
				return nil
			}
			fmt.Printf("standby on 127.0.0.1:%d, streaming %t, received %s, replayed %s, last replayed transaction %s old\n",
				r.Port(), st.Streaming, st.ReceiveLSN, st.ReplayLSN, st.ReplayDelay.Round(time.Millisecond))
			return nil
		}}
	promote := &cobra.Command{Use: "promote", Short: "turn the standby into a primary (stop the old primary first)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := open()
			if err != nil {
				return err
			}
			if err := r.Promote(cmd.Context()); err != nil {
				return err
			}
			fmt.Printf("promoted: 127.0.0.1:%d takes writes; point serve at it with --data %s\n", r.Port(), replicaData)
			return nil
		}}
	cmd.PersistentFlags().StringVar(&replicaData, "replica-data", "", "data folder of the standby (cluster under DIR/pg)")
	cmd.AddCommand(create, start, status, promote)
	return cmd
}
