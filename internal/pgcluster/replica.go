package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CreateReplica makes the cluster at dir a streaming standby of c (which must
// be running): pg_basebackup -R -X stream from c's port on 127.0.0.1 as the
// superuser (the default pg_hba.conf of initdb lets it replicate over
// loopback), into dir/data, run as the server user as initdb is. The
// standby gets its own port (port, or a free one when 0), socket directory
// and log, the primary's password file (it is a copy of the same roles),
// and primary_conninfo plus standby.signal from -R. It is not started:
// call Start on the returned Cluster. The replica takes no writes until
// PromoteReplica.
//
// Errors: dir already holds a cluster; c is not running; pg_basebackup
// failed (its output is in the error).
func (c *Cluster) CreateReplica(ctx context.Context, dir string, port int) (*Cluster, error) {
	if !c.Running(ctx) {
		return nil, fmt.Errorf("pgcluster: the primary in %s is not running; start it first (villageplan db start)", c.dir)
	}
	r, err := New(Options{Dir: dir, Port: port, Logger: c.log, BinDir: c.bin.BinDir})
	if err != nil {
		return nil, err
	}
	if r.dir == c.dir {
		return nil, fmt.Errorf("pgcluster: the replica directory %s is the primary's", dir)
	}
	if r.Initialized() || fileExists(filepath.Join(r.dataDir, "PG_VERSION")) {
		return nil, fmt.Errorf("pgcluster: %s already holds a cluster; choose another --replica-data directory", r.dir)
	}
	if err := r.prepareDir(); err != nil {
		return nil, err
	}
	if err := r.checkSocketPath(); err != nil {
		return nil, err
	}
	unlock, err := r.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("pgcluster: pick a free port on 127.0.0.1: %w", err)
		}
	}
	conn := fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s application_name=%s",
		c.port, Superuser, conninfoQuote(c.password), conninfoQuote("villageplan-replica-"+filepath.Base(r.dir)))
	t0 := time.Now()
	c.log.Info("pg_basebackup: copying the primary", "primary", c.dir, "replica", r.dir)
	out, err := r.runServerCmd(ctx, filepath.Join(c.bin.BinDir, "pg_basebackup"),
		"-D", r.dataDir, "-d", conn, "-R", "-X", "stream", "-c", "fast", "--no-password")
	if err != nil {
		os.RemoveAll(r.dataDir)
		return nil, fmt.Errorf("pgcluster: pg_basebackup failed: %w\noutput:\n%s", err, lastLines(out, 30))
	}
	// The copied postgresql.conf carries the primary's port and socket
	// directory in the managed block: rewrite them for the replica.
	r.wantPort = port
	if err := r.writeConf(port); err != nil {
		return nil, err
	}
	if err := r.writeFile(r.pwFile, []byte(c.password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("pgcluster: write password file: %w", err)
	}
	if err := r.ensureOwnedDir(r.runDir); err != nil {
		return nil, err
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	c.log.Info("replica created", "dir", r.dir, "port", port, "elapsed", time.Since(t0).Round(time.Millisecond))
	return r, nil
}

// ReplicaStatus is what a standby reports about itself.
type ReplicaStatus struct {
	// InRecovery: the server is a standby (false after promotion).
	InRecovery bool
	// ReceiveLSN and ReplayLSN are pg_last_wal_receive_lsn() and
	// pg_last_wal_replay_lsn() ("" when not a standby).
	ReceiveLSN, ReplayLSN string
	// Streaming: a WAL receiver is connected to the primary.
	Streaming bool
	// ReplayDelay is now() − pg_last_xact_replay_timestamp(): how old the
	// last replayed transaction is (grows while the primary is idle too).
	ReplayDelay time.Duration
}

// Status reads the standby state of the running cluster c.
func (c *Cluster) Status(ctx context.Context) (*ReplicaStatus, error) {
	conn, err := c.connect(ctx, "postgres")
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	var (
		s     ReplicaStatus
		recv  *string
		rep   *string
		delay *float64
	)
	err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
		extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
		EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')`).Scan(&s.InRecovery, &recv, &rep, &delay, &s.Streaming)
	if err != nil {
		return nil, err
	}
	if recv != nil {
		s.ReceiveLSN = *recv
	}
	if rep != nil {
		s.ReplayLSN = *rep
	}
	if delay != nil {
		s.ReplayDelay = time.Duration(*delay * float64(time.Second))
	}
	return &s, nil
}

// Promote turns the standby c into a primary (pg_ctl promote, waiting until
// it accepts writes). The old primary must not take writes any more: stop
// it, or it and the promoted server diverge.
func (c *Cluster) Promote(ctx context.Context) error {
	if !fileExists(filepath.Join(c.dataDir, "standby.signal")) {
		return errors.New("pgcluster: " + c.dir + " is not a standby (no standby.signal)")
	}
	out, err := c.runServerCmd(ctx, c.bin.PgCtl, "promote", "-D", c.dataDir, "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl promote failed: %w\noutput:\n%s", err, lastLines(out, 30))
	}
	return nil
}

// conninfoQuote quotes v as a libpq keyword/value connection-string value.
func conninfoQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}
