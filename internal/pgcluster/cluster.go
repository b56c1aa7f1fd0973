// Package pgcluster manages a private PostgreSQL+PostGIS cluster that
// villageplan runs when it is not given a database URL.
//
// A cluster lives entirely under one directory:
//
//	Dir/data        the PostgreSQL data directory (owned by the server user, mode 0700)
//	Dir/run         Unix socket directory
//	Dir/server.log  server log (written via pg_ctl -l)
//	Dir/password    password of the "villageplan" superuser (mode 0600)
//
// PostgreSQL refuses to run as root. When the current process is root the
// server programs are run as the "postgres" system user and the cluster
// directory is handed over to that user; otherwise they run as the current
// user.
package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Superuser is the name of the cluster's superuser role.
const Superuser = "villageplan"

// ServerUser is the system user the server runs as when the current process
// is root.
const ServerUser = "postgres"

// StartTimeout bounds how long Start waits for the server to accept
// connections.
const StartTimeout = 60 * time.Second

// tuningSettings are the server settings written into postgresql.conf by Init,
// sized for a small dedicated box (2 cores, 24 GB RAM). listen_addresses,
// port and unix_socket_directories are added separately. fsync is left on.
var tuningSettings = [][2]string{
	{"max_connections", "100"},
	{"shared_buffers", "512MB"},
	{"work_mem", "32MB"},
	{"maintenance_work_mem", "512MB"},
	{"effective_cache_size", "8GB"},
	{"max_worker_processes", "4"},
	{"max_parallel_workers", "2"},
	{"max_parallel_workers_per_gather", "1"},
	{"max_parallel_maintenance_workers", "1"},
	{"random_page_cost", "1.1"},
	{"effective_io_concurrency", "100"},
	{"max_wal_size", "2GB"},
	{"min_wal_size", "256MB"},
	{"checkpoint_completion_target", "0.9"},
	{"fsync", "on"},
	{"synchronous_commit", "on"},
	{"logging_collector", "off"},
	{"log_destination", "'stderr'"},
	{"log_line_prefix", "'%m [%p] %q%u@%d '"},
	{"log_min_duration_statement", "5000"},
	{"log_checkpoints", "on"},
	{"log_lock_waits", "on"},
	{"log_temp_files", "100MB"},
	// Autovacuum visits each database every 10 s (default 1 min), so the
	// dead rows an aborted import leaves in a layer (a killed
	// `villageplan import`) are reclaimed within seconds; the layer tables'
	// own thresholds are set by migration 00011.
	{"autovacuum_naptime", "10s"},
}

const (
	confBegin = "# BEGIN villageplan managed settings (rewritten by villageplan; use ALTER SYSTEM for local overrides)"
	confEnd   = "# END villageplan managed settings"
	// maxSocketPath is sizeof(sockaddr_un.sun_path)-1 on Linux.
	maxSocketPath = 107
)

// Options configures a Cluster.
type Options struct {
	// Dir is the cluster directory. It is created if missing. Required.
	Dir string
	// Logger receives progress lines. Defaults to slog.Default().
	Logger *slog.Logger
	// Port is the TCP port on 127.0.0.1. 0 picks a free loopback port at
	// Init and keeps it in postgresql.conf; a non-zero port that differs from
	// the configured one is written to postgresql.conf by Start.
	Port int
	// BinDir, if set, is the directory holding initdb, pg_ctl and postgres;
	// otherwise they are located with FindBinaries.
	BinDir string
}

// Cluster is a private PostgreSQL cluster under Dir (data in Dir/data, sockets
// in Dir/run, log Dir/server.log, password in Dir/password, 0600).
//
// Init, Start and Stop serialize on a lock file (Dir/.lock), so several
// processes may share a cluster directory. Init and Start update the Cluster's
// port and password fields, so do not call them concurrently with other
// methods on the same Cluster value.
type Cluster struct {
	dir, dataDir, runDir, logFile, pwFile string

	log      *slog.Logger
	bin      *Binaries
	wantPort int
	port     int
	password string
	runAs    *serverUser // nil: run as the current user
}

// serverUser is the account server programs run as when we are root.
type serverUser struct {
	name     string
	uid, gid uint32
	groups   []uint32
	home     string
}

// New returns a Cluster for opts.Dir. It locates the PostgreSQL binaries and
// loads the port and password of an already initialized cluster; it does not
// create anything on disk.
func New(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is empty; pass the directory that should hold the private PostgreSQL cluster")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pgcluster: port %d out of range 1-65535 (use 0 to pick a free port)", opts.Port)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: resolve %s: %w", opts.Dir, err)
	}
	bin, err := FindBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:      dir,
		dataDir:  filepath.Join(dir, "data"),
		runDir:   filepath.Join(dir, "run"),
		logFile:  filepath.Join(dir, "server.log"),
		pwFile:   filepath.Join(dir, "password"),
		log:      opts.Logger,
		bin:      bin,
		wantPort: opts.Port,
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if os.Geteuid() == 0 {
		su, err := lookupServerUser(ServerUser)
		if err != nil {
			return nil, err
		}
		c.runAs = su
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func lookupServerUser(name string) (*serverUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, but PostgreSQL refuses to run as root and the system user %q cannot be found (%v); it is created by the Debian package: apt-get install postgresql", name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgcluster: user %q has non-numeric uid/gid %q/%q", name, u.Uid, u.Gid)
	}
	su := &serverUser{name: name, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				su.groups = append(su.groups, uint32(n))
			}
		}
	}
	if len(su.groups) == 0 {
		su.groups = []uint32{su.gid}
	}
	return su, nil
}

// load reads the password and port of an initialized cluster.
func (c *Cluster) load() error {
	if b, err := os.ReadFile(c.pwFile); err == nil {
		c.password = strings.TrimSpace(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pgcluster: read password file: %w", err)
	}
	confPort, err := c.configuredPort()
	if err != nil {
		return err
	}
	switch {
	case c.wantPort != 0:
		c.port = c.wantPort
	default:
		c.port = confPort
	}
	return nil
}

var portRe = regexp.MustCompile(`(?m)^[ \t]*port[ \t]*=?[ \t]*'?([0-9]+)'?`)

// configuredPort returns the port set in postgresql.conf / postgresql.auto.conf
// (0 if none is set or the files do not exist).
func (c *Cluster) configuredPort() (int, error) {
	port := 0
	for _, name := range []string{"postgresql.conf", "postgresql.auto.conf"} {
		b, err := os.ReadFile(filepath.Join(c.dataDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("pgcluster: read %s: %w", name, err)
		}
		for _, m := range portRe.FindAllSubmatch(b, -1) {
			if p, err := strconv.Atoi(string(m[1])); err == nil {
				port = p
			}
		}
	}
	return port, nil
}

// Dir returns the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir returns the PostgreSQL data directory (Dir/data).
func (c *Cluster) DataDir() string { return c.dataDir }

// LogFile returns the server log path (Dir/server.log).
func (c *Cluster) LogFile() string { return c.logFile }

// Binaries returns the PostgreSQL installation the cluster uses.
func (c *Cluster) Binaries() *Binaries { return c.bin }

// Password returns the superuser password ("" before Init).
func (c *Cluster) Password() string { return c.password }

// Port returns the cluster's TCP port on 127.0.0.1 (0 before Init when no port
// was requested).
func (c *Cluster) Port() int { return c.port }

// URL returns a connection URL for database as the superuser:
// postgres://villageplan:PASSWORD@127.0.0.1:PORT/DATABASE?sslmode=disable
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Initialized reports whether Init has completed: the data directory holds a
// cluster (PG_VERSION) and the password file exists.
func (c *Cluster) Initialized() bool {
	return fileExists(filepath.Join(c.dataDir, "PG_VERSION")) && fileExists(c.pwFile)
}

// Init creates the cluster if it does not exist yet; on an initialized cluster
// it only repairs the directory layout. It runs initdb (UTF8, C.UTF-8 locale,
// scram-sha-256 authentication, superuser "villageplan" with a random password
// stored in Dir/password) and writes the listen address, port, socket
// directory and tuning settings into postgresql.conf.
func (c *Cluster) Init(ctx context.Context) error {
	if err := c.prepareDir(); err != nil {
		return err
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	pgVersion := filepath.Join(c.dataDir, "PG_VERSION")
	if fileExists(pgVersion) {
		if !fileExists(c.pwFile) {
			return fmt.Errorf("pgcluster: %s holds a PostgreSQL cluster but the password file %s is missing, so the %q role cannot log in; restore the file, or remove %s to re-initialize (this deletes all data)",
				c.dataDir, c.pwFile, Superuser, c.dataDir)
		}
		if err := c.checkVersion(); err != nil {
			return err
		}
		if err := c.ensureOwnedDir(c.runDir); err != nil {
			return err
		}
		c.log.Debug("postgres cluster already initialized", "dir", c.dir)
		return c.load()
	}
	if entries, err := os.ReadDir(c.dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("pgcluster: %s exists and is not empty but holds no initialized cluster (no PG_VERSION), probably left over from an interrupted initdb; inspect it and remove it to let villageplan re-initialize",
			c.dataDir)
	}
	if err := c.checkSocketPath(); err != nil {
		return err
	}

	port := c.wantPort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return fmt.Errorf("pgcluster: pick a free port on 127.0.0.1: %w", err)
		}
	}

	password := rand.Text()
	if err := c.writeFile(c.pwFile, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgcluster: write password file: %w", err)
	}

	locale := pickLocale(ctx)
	args := []string{
		"-D", c.dataDir,
		"-U", Superuser,
		"--pwfile=" + c.pwFile,
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		"--locale=" + locale,
	}
	t0 := time.Now()
	c.log.Info("initializing postgres cluster", "dir", c.dir, "version", c.bin.Version, "locale", locale)
	out, err := c.runServerCmd(ctx, c.bin.Initdb, args...)
	if err != nil {
		return fmt.Errorf("pgcluster: initdb failed: %w\ninitdb output:\n%s", err, lastLines(out, 30))
	}
	if err := c.writeConf(port); err != nil {
		return err
	}
	if err := c.ensureOwnedDir(c.runDir); err != nil {
		return err
	}
	if err := c.load(); err != nil {
		return err
	}
	c.log.Info("initdb done", "dir", c.dir, "port", port, "elapsed", time.Since(t0).Round(time.Millisecond))
	return nil
}

// pickLocale returns "C.UTF-8" if the C library provides it, else "C".
func pickLocale(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "locale", "-a").Output()
	if err != nil {
		return "C"
	}
	for _, l := range strings.Fields(string(out)) {
		if strings.EqualFold(l, "C.utf8") || strings.EqualFold(l, "C.UTF-8") {
			return "C.UTF-8"
		}
	}
	return "C"
}

// freePort returns a currently unused TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// confQuote quotes s as a postgresql.conf string literal.
func confQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// writeConf (re)writes the managed settings block at the end of
// postgresql.conf.
func (c *Cluster) writeConf(port int) error {
	path := filepath.Join(c.dataDir, "postgresql.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pgcluster: read postgresql.conf: %w", err)
	}
	text := string(old)
	if i := strings.Index(text, confBegin); i >= 0 {
		rest := text[i:]
		if j := strings.Index(rest, confEnd); j >= 0 {
			text = text[:i] + strings.TrimPrefix(rest[j+len(confEnd):], "\n")
		} else {
			text = text[:i]
		}
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteString(confBegin + "\n")
	fmt.Fprintf(&b, "listen_addresses = %s\n", confQuote("127.0.0.1"))
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", confQuote(c.runDir))
	for _, kv := range tuningSettings {
		fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
	}
	b.WriteString(confEnd + "\n")
	if err := c.writeFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pgcluster: write postgresql.conf: %w", err)
	}
	return nil
}

// checkVersion verifies that the data directory matches the binaries' major
// version.
func (c *Cluster) checkVersion() error {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("pgcluster: read PG_VERSION: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v != strconv.Itoa(c.bin.Major) {
		return fmt.Errorf("pgcluster: %s was initialized by PostgreSQL %s but the binaries in %s are PostgreSQL %s; install the matching server (apt-get install postgresql-%s postgresql-%s-postgis-3) or upgrade the data directory with pg_upgrade",
			c.dataDir, v, c.bin.BinDir, c.bin.Version, v, v)
	}
	return nil
}

func (c *Cluster) checkSocketPath() error {
	sock := filepath.Join(c.runDir, ".s.PGSQL.65535")
	if len(sock) > maxSocketPath {
		return fmt.Errorf("pgcluster: cluster directory %s is too deep: the Unix socket path %s would be %d bytes, over the %d-byte limit; choose a shorter --data directory",
			c.dir, sock, len(sock), maxSocketPath)
	}
	return nil
}

// Start starts the server unless it is already running. started is false if a
// healthy server for this data directory was already running. A stale
// postmaster.pid (process gone, a zombie, or not a postmaster of this data
// directory) is removed first. Start waits up to StartTimeout for the server
// to accept connections; on failure the error includes the tail of
// server.log.
func (c *Cluster) Start(ctx context.Context) (started bool, err error) {
	if !c.Initialized() {
		return false, fmt.Errorf("pgcluster: no initialized cluster in %s; call Init first", c.dir)
	}
	if err := c.checkVersion(); err != nil {
		return false, err
	}
	if err := c.prepareDir(); err != nil {
		return false, err
	}
	if err := c.checkSocketPath(); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	unlock, err := c.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	if err := c.ensureOwnedDir(c.runDir); err != nil {
		return false, err
	}
	if err := c.load(); err != nil {
		return false, err
	}

	// Is a server already running?
	for {
		pm := c.inspectPostmaster()
		if pm.state == pmRunning {
			ready, err := c.ping(ctx)
			if err != nil {
				return false, err
			}
			if ready {
				c.log.Info("postgres already running", "pid", pm.pid, "port", c.port, "dir", c.dir)
				return false, nil
			}
			select {
			case <-ctx.Done():
				return false, c.startError(fmt.Errorf("postmaster (pid %d) for %s is running but did not accept connections on 127.0.0.1:%d within %s", pm.pid, c.dataDir, c.port, StartTimeout), nil)
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		if pm.state == pmStale {
			c.log.Warn("removing stale postmaster.pid", "pid", pm.pid, "reason", pm.reason)
			if err := os.Remove(filepath.Join(c.dataDir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
				return false, fmt.Errorf("pgcluster: remove stale postmaster.pid: %w", err)
			}
		}
		break
	}

	// Port changed via Options.Port?
	if confPort, err := c.configuredPort(); err != nil {
		return false, err
	} else if confPort != c.port {
		c.log.Info("changing postgres port", "from", confPort, "to", c.port)
		if err := c.writeConf(c.port); err != nil {
			return false, err
		}
	}

	// Backends orphaned by a crashed postmaster still hold its shared memory;
	// a new postmaster refuses to start until they are gone.
	if err := c.waitOrphans(ctx); err != nil {
		return false, err
	}
	if err := c.removeStaleSocketLocks(); err != nil {
		return false, err
	}

	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port))); err != nil {
		return false, fmt.Errorf("pgcluster: cannot start PostgreSQL on 127.0.0.1:%d: the port is not available (%v); stop the program using it or choose another port", c.port, err)
	} else {
		l.Close()
	}
	if fileExists(c.logFile) {
		if err := c.chown(c.logFile); err != nil {
			return false, err
		}
	}

	t0 := time.Now()
	secs := strconv.Itoa(int(StartTimeout / time.Second))
	out, err := c.runServerCmd(ctx, c.bin.PgCtl, "start", "-D", c.dataDir, "-l", c.logFile, "-w", "-t", secs)
	if err != nil {
		return false, c.startError(fmt.Errorf("pg_ctl start failed: %w", err), out)
	}
	for {
		ready, err := c.ping(ctx)
		if err != nil {
			return false, err
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			return false, c.startError(fmt.Errorf("server did not accept connections on 127.0.0.1:%d within %s", c.port, StartTimeout), out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	pm := c.inspectPostmaster()
	c.log.Info(fmt.Sprintf("postgres started on port %d", c.port), "pid", pm.pid, "dir", c.dir, "elapsed", time.Since(t0).Round(time.Millisecond))
	return true, nil
}

// startError decorates a start failure with pg_ctl output, the server.log
// tail, and hints for common causes.
func (c *Cluster) startError(err error, pgctlOut []byte) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pgcluster: starting PostgreSQL in %s: %v", c.dir, err)
	if s := strings.TrimSpace(string(pgctlOut)); s != "" {
		fmt.Fprintf(&b, "\npg_ctl output:\n%s", lastLines(pgctlOut, 20))
	}
	tail := tailFile(c.logFile, 40)
	if tail != "" {
		fmt.Fprintf(&b, "\nlast lines of %s:\n%s", c.logFile, tail)
	} else {
		fmt.Fprintf(&b, "\n(%s is empty or missing)", c.logFile)
	}
	switch {
	case strings.Contains(tail, "Address already in use"):
		fmt.Fprintf(&b, "\nhint: port %d is taken by another program; stop it or choose another port", c.port)
	case strings.Contains(tail, "could not create shared memory segment"), strings.Contains(tail, "could not map anonymous shared memory"):
		b.WriteString("\nhint: not enough memory for shared_buffers; free memory or lower shared_buffers in postgresql.conf")
	case strings.Contains(tail, "pre-existing shared memory block"):
		b.WriteString("\nhint: processes of a previous server for this data directory are still alive; kill them and retry")
	}
	return errors.New(b.String())
}

// Stop stops the server with pg_ctl stop -m fast. It is a no-op if no server
// is running for this data directory.
func (c *Cluster) Stop(ctx context.Context) error {
	if !fileExists(filepath.Join(c.dataDir, "PG_VERSION")) {
		return nil
	}
	unlock, err := c.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	pm := c.inspectPostmaster()
	if pm.state != pmRunning {
		c.log.Debug("postgres not running; nothing to stop", "dir", c.dir)
		return nil
	}
	out, err := c.runServerCmd(ctx, c.bin.PgCtl, "stop", "-D", c.dataDir, "-m", "fast", "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop failed for %s: %w\npg_ctl output:\n%s\nlast lines of %s:\n%s",
			c.dataDir, err, lastLines(out, 20), c.logFile, tailFile(c.logFile, 20))
	}
	c.log.Info("postgres stopped", "pid", pm.pid, "dir", c.dir)
	return nil
}

// Running reports whether a postmaster for this data directory is running and
// accepts connections.
func (c *Cluster) Running(ctx context.Context) bool {
	if c.inspectPostmaster().state != pmRunning {
		return false
	}
	ready, err := c.ping(ctx)
	return ready && err == nil
}

// ping reports whether the server accepts connections. A non-nil error means
// waiting will not help (e.g. the password is rejected).
func (c *Cluster) ping(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := c.connect(ctx, "postgres")
	if err == nil {
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, "SELECT 1")
	}
	if err == nil {
		return true, nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57P03": // cannot_connect_now: starting up / shutting down
			return false, nil
		case strings.HasPrefix(pgErr.Code, "28"): // invalid authorization
			return false, fmt.Errorf("pgcluster: the server on 127.0.0.1:%d rejected user %q with the password from %s (%s); if another program uses this port, choose another port, otherwise restore the password file or reset it with ALTER ROLE",
				c.port, Superuser, c.pwFile, pgErr.Message)
		default: // the server answered: it is up
			return true, nil
		}
	}
	return false, nil
}

func (c *Cluster) connect(ctx context.Context, database string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(c.URL(database))
	if err != nil {
		return nil, fmt.Errorf("pgcluster: parse connection URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		cfg.ConnectTimeout = 5 * time.Second
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// EnsureDatabase creates database name if it does not exist and installs the
// PostGIS extension in it. The server must be running.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("pgcluster: EnsureDatabase: empty database name")
	}
	if len(name) > 63 {
		return fmt.Errorf("pgcluster: database name %q is longer than PostgreSQL's 63-byte limit", name)
	}
	conn, err := c.connect(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("pgcluster: connect to the cluster on 127.0.0.1:%d (is it started? call Start first): %w", c.port, err)
	}
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err == nil && !exists {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created concurrently
			err = nil
		}
		if err == nil {
			c.log.Info("created database", "database", name)
		}
	}
	conn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("pgcluster: create database %q: %w", name, err)
	}

	if ok, control := c.bin.PostGISInstalled(); !ok {
		return fmt.Errorf("pgcluster: PostGIS is not installed for PostgreSQL %d (%s is missing); install it with: apt-get install %s",
			c.bin.Major, control, c.bin.PostGISPackage())
	}
	conn, err = c.connect(ctx, name)
	if err != nil {
		return fmt.Errorf("pgcluster: connect to database %q: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "58P01" || pgErr.Code == "0A000" || strings.Contains(pgErr.Message, "postgis")) {
			return fmt.Errorf("pgcluster: CREATE EXTENSION postgis in %q failed: %w; make sure PostGIS is installed for PostgreSQL %d: apt-get install %s",
				name, err, c.bin.Major, c.bin.PostGISPackage())
		}
		return fmt.Errorf("pgcluster: CREATE EXTENSION postgis in %q: %w", name, err)
	}
	c.log.Debug("database ready", "database", name)
	return nil
}

// PsqlCommand returns a psql command connected to database over TCP as the
// superuser (password passed via PGPASSWORD), followed by args. Stdin, stdout
// and stderr are left for the caller to set.
func (c *Cluster) PsqlCommand(ctx context.Context, database string, args ...string) *exec.Cmd {
	psql := c.bin.Psql
	if psql == "" {
		psql = "psql"
	}
	all := append([]string{
		"-h", "127.0.0.1",
		"-p", strconv.Itoa(c.port),
		"-U", Superuser,
		"-d", database,
	}, args...)
	cmd := exec.CommandContext(ctx, psql, all...)
	cmd.Env = append(cleanEnv(false), "PGPASSWORD="+c.password)
	return cmd
}

// ---- postmaster.pid inspection ----

type pmState int

const (
	pmNone    pmState = iota // no postmaster.pid
	pmStale                  // postmaster.pid names no live postmaster of this data dir
	pmRunning                // a postmaster of this data dir is alive
)

type postmaster struct {
	state  pmState
	pid    int
	reason string // why it is stale
}

// inspectPostmaster reads data/postmaster.pid and decides whether the pid in
// it is a live postmaster of this data directory.
func (c *Cluster) inspectPostmaster() postmaster {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return postmaster{state: pmNone}
	}
	if err != nil {
		// Cannot tell; assume it is running rather than delete a live lock.
		return postmaster{state: pmRunning, reason: err.Error()}
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return postmaster{state: pmStale, reason: fmt.Sprintf("first line %q is not a pid", first)}
	}
	if reason := c.notOurPostmaster(pid); reason != "" {
		return postmaster{state: pmStale, pid: pid, reason: reason}
	}
	return postmaster{state: pmRunning, pid: pid}
}

// notOurPostmaster returns "" if pid is a live postmaster process serving
// c.dataDir, otherwise the reason it is not.
func (c *Cluster) notOurPostmaster(pid int) string {
	procDir := "/proc/" + strconv.Itoa(pid)
	if _, err := os.Stat("/proc/self/status"); err != nil {
		// No procfs: fall back to a liveness check only.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return fmt.Sprintf("process %d does not exist", pid)
		}
		return ""
	}
	st, err := readProcStatus(pid)
	if err != nil {
		return fmt.Sprintf("process %d does not exist", pid)
	}
	if strings.HasPrefix(st["State"], "Z") || strings.HasPrefix(st["State"], "X") {
		return fmt.Sprintf("process %d has exited (state %s)", pid, st["State"])
	}
	if uids := strings.Fields(st["Uid"]); len(uids) > 0 {
		want := strconv.Itoa(os.Geteuid())
		if c.runAs != nil {
			want = strconv.FormatUint(uint64(c.runAs.uid), 10)
		}
		if uids[0] != want {
			return fmt.Sprintf("process %d belongs to uid %s, not the server uid %s", pid, uids[0], want)
		}
	}
	argv := readCmdline(pid)
	exe, err := os.Readlink(procDir + "/exe")
	if err != nil && len(argv) > 0 {
		exe = argv[0]
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe == "" {
		return fmt.Sprintf("process %d is exiting", pid)
	}
	if base := filepath.Base(exe); base != "postgres" && base != "postmaster" {
		return fmt.Sprintf("process %d is %s, not postgres", pid, exe)
	}
	if len(argv) > 0 && strings.HasPrefix(argv[0], "postgres:") {
		return fmt.Sprintf("process %d is a postgres child process (%q), not a postmaster", pid, argv[0])
	}
	if !c.servesDataDir(pid, argv) {
		return fmt.Sprintf("process %d is a postgres server of a different data directory", pid)
	}
	return ""
}

// servesDataDir reports whether process pid works in c.dataDir (a postmaster
// chdirs into its data directory; children inherit that).
func (c *Cluster) servesDataDir(pid int, argv []string) bool {
	want := c.dataDir
	if r, err := filepath.EvalSymlinks(want); err == nil {
		want = r
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err == nil {
		return cwd == want
	}
	for i, a := range argv {
		if (a == "-D" && i+1 < len(argv) && (argv[i+1] == c.dataDir || argv[i+1] == want)) || a == "-D"+c.dataDir {
			return true
		}
	}
	return false
}

func readProcStatus(pid int) (map[string]string, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m, sc.Err()
}

func readCmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// removeStaleSocketLocks removes socket lock files (and their sockets) in
// Dir/run left by a postmaster that is no longer alive. Like postmaster.pid,
// a lock file naming a pid that is still in use (a zombie, or a recycled pid)
// would make the new postmaster refuse to start.
func (c *Cluster) removeStaleSocketLocks() error {
	locks, _ := filepath.Glob(filepath.Join(c.runDir, ".s.PGSQL.*.lock"))
	for _, lock := range locks {
		b, err := os.ReadFile(lock)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		reason := fmt.Sprintf("first line %q is not a pid", first)
		if err == nil {
			reason = c.notOurPostmaster(pid)
			if reason == "" {
				continue // held by a live postmaster of this data directory
			}
		}
		c.log.Warn("removing stale socket lock file", "file", lock, "pid", pid, "reason", reason)
		for _, p := range []string{lock, strings.TrimSuffix(lock, ".lock")} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("pgcluster: remove stale %s: %w", p, err)
			}
		}
	}
	return nil
}

// orphans returns live postgres processes whose working directory is the data
// directory (backends left behind by a killed postmaster).
func (c *Cluster) orphans() []int {
	want := c.dataDir
	if r, err := filepath.EvalSymlinks(want); err == nil {
		want = r
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil || cwd != want {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil {
			continue
		}
		if b := filepath.Base(strings.TrimSuffix(exe, " (deleted)")); b != "postgres" && b != "postmaster" {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitOrphans waits (up to 15s) for orphaned server processes to exit.
func (c *Cluster) waitOrphans(ctx context.Context) error {
	deadline := time.Now().Add(15 * time.Second)
	logged := false
	for {
		pids := c.orphans()
		if len(pids) == 0 {
			return nil
		}
		if !logged {
			c.log.Info("waiting for processes of a previous postgres server to exit", "pids", pids)
			logged = true
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster: processes of a previous PostgreSQL server for %s are still running (pids %v) and keep its shared memory in use; kill them (kill %s) and retry",
				c.dataDir, pids, joinInts(pids))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: waiting for old server processes %v to exit: %w", pids, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

// ---- directories, ownership, commands ----

// prepareDir creates Dir (mode 0700) and, when root, hands it to the server
// user after checking that the server user can reach it.
func (c *Cluster) prepareDir() error {
	if c.runAs != nil {
		if err := c.checkReachable(); err != nil {
			return err
		}
	}
	st, err := os.Stat(c.dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("pgcluster: %s exists and is not a directory; choose another --data directory", c.dir)
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(c.dir)
		created, err := mkdirAllList(parent, 0o755)
		if err != nil {
			return fmt.Errorf("pgcluster: create %s: %w", parent, err)
		}
		// Parents we created ourselves get 0755 regardless of the umask, so
		// the server user can traverse them.
		for _, d := range created {
			if err := os.Chmod(d, 0o755); err != nil {
				return fmt.Errorf("pgcluster: chmod %s: %w", d, err)
			}
		}
		if err := os.Mkdir(c.dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("pgcluster: create %s: %w", c.dir, err)
		}
	case err != nil:
		return fmt.Errorf("pgcluster: stat %s: %w", c.dir, err)
	}
	return c.chown(c.dir)
}

// mkdirAllList is os.MkdirAll that returns the directories it created.
func mkdirAllList(dir string, perm os.FileMode) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return nil, err
	}
	return missing, nil
}

// CheckReachable reports whether the server programs can reach Dir: nil
// when they run as the current user, else an error naming the first
// ancestor directory that the server user (ServerUser, when running as
// root) cannot search. It never changes permissions.
func (c *Cluster) CheckReachable() error {
	if c.runAs == nil {
		return nil
	}
	return c.checkReachable()
}

// checkReachable verifies that the server user can search every existing
// ancestor directory of Dir. It never changes permissions.
func (c *Cluster) checkReachable() error {
	// Resolve symlinks of the deepest existing ancestor.
	path := c.dir
	var suffix []string
	for {
		if r, err := filepath.EvalSymlinks(path); err == nil {
			path = r
			break
		}
		parent := filepath.Dir(path)
		if parent == path {
			break
		}
		suffix = append([]string{filepath.Base(path)}, suffix...)
		path = parent
	}
	// path exists; the directories in suffix do not (yet). Dir itself is
	// chowned to the server user, so only its ancestors matter.
	var check []string
	if len(suffix) == 0 {
		check = ancestors(filepath.Dir(path))
	} else {
		check = ancestors(path)
	}
	su := c.runAs
	for _, d := range check {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: stat %s: %w", d, err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		mode := st.Mode().Perm()
		var canSearch bool
		switch {
		case sys.Uid == su.uid:
			canSearch = mode&0o100 != 0
		case containsUint32(su.groups, sys.Gid) || sys.Gid == su.gid:
			canSearch = mode&0o010 != 0
		default:
			canSearch = mode&0o001 != 0
		}
		if !canSearch {
			return fmt.Errorf("pgcluster: PostgreSQL must run as the %q system user (uid %d), which cannot reach %s: directory %s has mode %#o (%s, owner uid %d, group gid %d) and gives it no search (x) permission; choose a --data directory the %s user can reach (e.g. under /var/tmp or inside the checkout), or grant access yourself (e.g. chmod o+x %s)",
				su.name, su.uid, c.dir, d, uint32(mode), st.Mode().String(), sys.Uid, sys.Gid, su.name, d)
		}
	}
	return nil
}

// ancestors returns "/", ..., dir (outermost first).
func ancestors(dir string) []string {
	var out []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		out = append([]string{d}, out...)
		if filepath.Dir(d) == d {
			break
		}
	}
	return out
}

func containsUint32(xs []uint32, x uint32) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// ensureOwnedDir creates dir (mode 0700) owned by the server user.
func (c *Cluster) ensureOwnedDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("pgcluster: create %s: %w", dir, err)
	}
	return c.chown(dir)
}

// chown hands path to the server user when running as root.
func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	if err := os.Lchown(path, int(c.runAs.uid), int(c.runAs.gid)); err != nil {
		return fmt.Errorf("pgcluster: chown %s to %s: %w", path, c.runAs.name, err)
	}
	return nil
}

// writeFile atomically replaces path with data (mode perm, owned by the
// server user).
func (c *Cluster) writeFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := c.chown(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lock takes an exclusive flock on Dir/.lock, polling until ctx is done.
func (c *Cluster) lock(ctx context.Context) (func(), error) {
	path := filepath.Join(c.dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgcluster: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pgcluster: waiting for another process holding %s: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runServerCmd runs a server program as the server user in Dir and returns
// its combined output.
func (c *Cluster) runServerCmd(ctx context.Context, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = c.dir
	env := cleanEnv(c.runAs != nil)
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid:    c.runAs.uid,
			Gid:    c.runAs.gid,
			Groups: c.runAs.groups,
		}}
		env = append(env, "HOME="+c.runAs.home, "USER="+c.runAs.name, "LOGNAME="+c.runAs.name)
	}
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.Stdin = nil
	// pg_ctl start leaves a daemon behind; it redirects its output, but do
	// not hang forever should something keep the pipe open.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return buf.Bytes(), err
}

// cleanEnv returns the environment without libpq/server PG* variables, which
// would otherwise redirect pg_ctl or psql to another cluster. With
// dropIdentity, HOME, USER and LOGNAME are removed too (the caller sets them
// for the server user).
func cleanEnv(dropIdentity bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") {
			continue
		}
		if dropIdentity && (k == "HOME" || k == "USER" || k == "LOGNAME") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// lastLines returns the last n lines of b.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tailFile returns the last n lines of the file at path (reading at most the
// final 64 KiB), or "" if it cannot be read.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		f.Seek(st.Size()-max, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil || len(b) == 0 {
		return ""
	}
	return lastLines(b, n)
}
