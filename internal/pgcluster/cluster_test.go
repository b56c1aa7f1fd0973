package pgcluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testWriter forwards slog output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// baseDir returns a fresh directory under /var/tmp that the postgres user can
// reach; it is removed when the test ends.
func baseDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// newCluster returns an uninitialized Cluster in a fresh directory; the
// server is stopped when the test ends.
func newCluster(t *testing.T) *Cluster {
	t.Helper()
	c, err := New(Options{Dir: filepath.Join(baseDir(t), "cluster"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("cleanup Stop: %v", err)
		}
	})
	return c
}

// startedCluster returns an initialized, running Cluster.
func startedCluster(t *testing.T) *Cluster {
	t.Helper()
	c := newCluster(t)
	ctx := context.Background()
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	started, err := c.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !started {
		t.Fatal("Start on a fresh cluster reported started=false")
	}
	return c
}

func execSQL(t *testing.T, c *Cluster, db, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		t.Fatalf("connect %s: %v", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryString(t *testing.T, c *Cluster, db, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL(db))
	if err != nil {
		t.Fatalf("connect %s: %v", db, err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func postmasterPID(t *testing.T, c *Cluster) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid first line %q: %v", first, err)
	}
	return pid
}

func TestInitIdempotent(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	if c.Initialized() {
		t.Fatal("Initialized() true before Init")
	}
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.Initialized() {
		t.Fatal("Initialized() false after Init")
	}
	if c.Port() <= 0 {
		t.Fatalf("Port() = %d after Init", c.Port())
	}
	pw := c.Password()
	if len(pw) < 20 {
		t.Fatalf("password %q too short", pw)
	}
	st, err := os.Stat(filepath.Join(c.Dir(), "password"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", st.Mode().Perm())
	}
	st, err = os.Stat(c.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", st.Mode().Perm())
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{c.Dir(), c.DataDir(), filepath.Join(c.Dir(), "run"), filepath.Join(c.Dir(), "password")} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if uid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid)); uid != pg.Uid {
				t.Errorf("%s owned by uid %s, want postgres (%s)", p, uid, pg.Uid)
			}
		}
	}
	confPath := filepath.Join(c.DataDir(), "postgresql.conf")
	conf, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("port = %d\n", c.Port()),
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = '" + filepath.Join(c.Dir(), "run") + "'",
		"shared_buffers = 512MB",
		"logging_collector = off",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("postgresql.conf lacks %q", want)
		}
	}
	confStat, _ := os.Stat(confPath)

	// Second Init is a no-op.
	if err := c.Init(ctx); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if c.Password() != pw {
		t.Error("second Init changed the password")
	}
	confStat2, _ := os.Stat(confPath)
	if !confStat2.ModTime().Equal(confStat.ModTime()) {
		t.Error("second Init rewrote postgresql.conf")
	}

	// A new Cluster for the same directory picks up port and password.
	c2, err := New(Options{Dir: c.Dir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Initialized() || c2.Port() != c.Port() || c2.Password() != pw {
		t.Errorf("reloaded cluster: initialized=%v port=%d (want %d) password match=%v",
			c2.Initialized(), c2.Port(), c.Port(), c2.Password() == pw)
	}
	if err := c2.Init(ctx); err != nil {
		t.Fatalf("Init via second Cluster: %v", err)
	}
}

func TestStartStopKeepsData(t *testing.T) {
	c := startedCluster(t)
	ctx := context.Background()
	if !c.Running(ctx) {
		t.Fatal("Running() false after Start")
	}
	started, err := c.Start(ctx)
	if err != nil || started {
		t.Fatalf("Start on a running cluster: started=%v err=%v, want false, nil", started, err)
	}
	execSQL(t, c, "postgres", "CREATE TABLE keep (v text); INSERT INTO keep VALUES ('still here')")

	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Running(ctx) {
		t.Fatal("Running() true after Stop")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop on a stopped cluster: %v", err)
	}
	started, err = c.Start(ctx)
	if err != nil || !started {
		t.Fatalf("restart: started=%v err=%v", started, err)
	}
	if got := queryString(t, c, "postgres", "SELECT v FROM keep"); got != "still here" {
		t.Fatalf("after restart got %q", got)
	}

	// psql works with the same credentials.
	out, err := c.PsqlCommand(ctx, "postgres", "-X", "-At", "-c", "SELECT count(*) FROM keep").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("psql output %q, want 1", out)
	}
	if !strings.HasPrefix(c.URL("x"), "postgres://villageplan:") || !strings.HasSuffix(c.URL("x"), fmt.Sprintf("@127.0.0.1:%d/x?sslmode=disable", c.Port())) {
		t.Errorf("unexpected URL %s", c.URL("x"))
	}
}

func TestRunsAsPostgresUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not running as root")
	}
	c := startedCluster(t)
	pid := postmasterPID(t, c)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	var uidLine string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Uid:") {
			uidLine = l
		}
	}
	f := strings.Fields(uidLine)
	if len(f) < 3 || f[1] != pg.Uid || f[2] != pg.Uid {
		t.Fatalf("postmaster %d status %q, want real and effective uid %s (postgres)", pid, uidLine, pg.Uid)
	}
}

func TestStaleKilledPostmaster(t *testing.T) {
	c := startedCluster(t)
	ctx := context.Background()
	execSQL(t, c, "postgres", "CREATE TABLE survivor (v int); INSERT INTO survivor VALUES (42)")
	pid := postmasterPID(t, c)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Wait until the process is gone or a zombie.
	for i := 0; i < 100; i++ {
		if c.notOurPostmaster(pid) != "" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.Running(ctx) {
		t.Fatal("Running() true after kill -9 of the postmaster")
	}
	started, err := c.Start(ctx)
	if err != nil {
		t.Fatalf("Start after kill -9: %v", err)
	}
	if !started {
		t.Fatal("Start after kill -9 reported started=false")
	}
	if newPid := postmasterPID(t, c); newPid == pid {
		t.Fatalf("postmaster pid unchanged (%d)", pid)
	}
	if got := queryString(t, c, "postgres", "SELECT v::text FROM survivor"); got != "42" {
		t.Fatalf("after crash restart got %q", got)
	}
}

func TestStaleLivePid(t *testing.T) {
	c := startedCluster(t)
	ctx := context.Background()
	execSQL(t, c, "postgres", "CREATE TABLE t (v int); INSERT INTO t VALUES (7)")
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
	writePidFile := func(pid int) {
		t.Helper()
		content := fmt.Sprintf("%d\n%s\n%d\n%d\n\n127.0.0.1\n  1234567     12345\nready   \n", pid, c.DataDir(), time.Now().Unix(), c.Port())
		if err := os.WriteFile(pidFile, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := c.chown(pidFile); err != nil {
			t.Fatal(err)
		}
	}
	restart := func(name string) {
		t.Helper()
		if c.Running(ctx) {
			t.Fatalf("%s: Running() true with a bogus postmaster.pid", name)
		}
		started, err := c.Start(ctx)
		if err != nil {
			t.Fatalf("%s: Start: %v", name, err)
		}
		if !started {
			t.Fatalf("%s: Start reported started=false", name)
		}
		if got := queryString(t, c, "postgres", "SELECT v::text FROM t"); got != "7" {
			t.Fatalf("%s: got %q", name, got)
		}
		if err := c.Stop(ctx); err != nil {
			t.Fatalf("%s: Stop: %v", name, err)
		}
	}

	// 1. The pid of this (live, non-postgres) test process.
	writePidFile(os.Getpid())
	restart("own pid")

	// 2. A live process of the server user whose working directory is the
	// data directory, but which is not postgres.
	sleep := exec.Command("sleep", "60")
	sleep.Dir = c.DataDir()
	if c.runAs != nil {
		sleep.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.runAs.uid, Gid: c.runAs.gid}}
	}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	writePidFile(sleep.Process.Pid)
	restart("sleep pid")

	// 3. Garbage.
	if err := os.WriteFile(pidFile, []byte("not a pid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	restart("garbage")
}

func TestEnsureDatabase(t *testing.T) {
	c := newCluster(t)
	if ok, control := c.Binaries().PostGISInstalled(); !ok {
		t.Fatalf("PostGIS not installed (%s missing): make test installs it (internal/devtools/install-deps.sh)", control)
	}
	ctx := context.Background()
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.EnsureDatabase(ctx, "village-plan gis"); err != nil {
			t.Fatalf("EnsureDatabase #%d: %v", i+1, err)
		}
	}
	if v := queryString(t, c, "village-plan gis", "SELECT postgis_lib_version()"); v == "" {
		t.Fatal("empty postgis_lib_version()")
	} else {
		t.Logf("postgis_lib_version() = %s", v)
	}
}

func TestEnsureDatabaseNotStarted(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	if err := c.Init(ctx); err != nil {
		t.Fatal(err)
	}
	err := c.EnsureDatabase(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "call Start") {
		t.Fatalf("EnsureDatabase on a stopped cluster: %v", err)
	}
	if _, err := c.Start(ctx); err == nil {
		// ok; Start works after a failed EnsureDatabase
		c.Stop(ctx)
	} else {
		t.Fatal(err)
	}
}

func TestUnreachableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("parent check only applies when running as root")
	}
	base := baseDir(t)
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(private, "cluster")
	c, err := New(Options{Dir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Init(context.Background())
	if err == nil {
		t.Fatal("Init succeeded under a 0700 root-owned parent")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{private, "0700", "postgres", "--data"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Init created %s despite failing (stat err %v)", dir, err)
	}
	if st, _ := os.Stat(private); st.Mode().Perm() != 0o700 {
		t.Errorf("parent mode changed to %v", st.Mode().Perm())
	}
}

func TestNotInitialized(t *testing.T) {
	c := newCluster(t)
	if _, err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "call Init") {
		t.Fatalf("Start before Init: %v", err)
	}
	if c.Running(context.Background()) {
		t.Fatal("Running() true before Init")
	}
}
