package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"villageplan/layers"
)

// binary builds the villageplan command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "villageplan")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// dataDir returns a folder the postgres user can reach (t.TempDir is 0700).
func dataDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/var/tmp", "villageplan-serve-test-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

type served struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	// startLog is stderr up to the "serving" line (one-time passwords).
	startLog string
}

var urlRe = regexp.MustCompile(`msg=serving url=(http://\S+)`)

// serve starts `villageplan serve` and waits for its "serving" log line.
func serve(t *testing.T, bin, data string) *served {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env = append(os.Environ(), "DATABASE_URL=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, done: make(chan error, 1)}
	found := make(chan [2]string, 1)
	var logTail []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			logTail = append(logTail, line)
			if m := urlRe.FindStringSubmatch(line); m != nil {
				found <- [2]string{m[1], strings.Join(logTail, "\n")}
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case f := <-found:
		s.url, s.startLog = f[0], f[1]
	case err := <-s.done:
		t.Fatalf("serve exited before serving: %v\n%s", err, strings.Join(logTail, "\n"))
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("serve did not come up in 3 min\n%s", strings.Join(logTail, "\n"))
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
		_ = exec.Command(bin, "db", "stop", "--data", data).Run()
	})
	return s
}

func (s *served) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop within 60 s of SIGTERM")
	}
}

func psql(t *testing.T, bin, data, sql string) string {
	t.Helper()
	out, err := exec.Command(bin, "db", "psql", "--data", data, "-At", "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("db psql -c %q: %v\n%s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestServeEmbeddedLifecycle is what a newcomer's `make run` does: first
// start creates the cluster and loads the sample township, /readyz is 200,
// every layer has features, SIGTERM stops the cluster, and the second start
// reuses the data without loading it again.
func TestServeEmbeddedLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and loads the sample township")
	}
	bin := binary(t)
	data := dataDir(t)

	s := serve(t, bin, data)
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 200 || ready["status"] != "ready" {
		t.Fatalf("/readyz = %d %v", resp.StatusCode, ready)
	}
	counts := map[string]int{}
	for _, l := range layers.Default().Layers() {
		n, err := strconv.Atoi(psql(t, bin, data, "SELECT count(*) FROM "+l.QualifiedTable()))
		if err != nil || n == 0 {
			t.Errorf("layer %s has %d features (%v), want some", l.ID, n, err)
		}
		counts[l.ID] = n
	}
	if got := psql(t, bin, data, "SELECT count(*) FROM villageplan.layer_metadata WHERE is_sample AND source LIKE '示例数据%'"); got != strconv.Itoa(len(counts)) {
		t.Errorf("layers labelled as sample data: %s, want %d", got, len(counts))
	}
	history := psql(t, bin, data, "SELECT count(*) FROM villageplan.edit_history_all")
	adminPW := oneTimeLogin(t, s)

	s.stop(t)
	st, _ := exec.Command(bin, "db", "status", "--data", data).CombinedOutput()
	if !strings.HasPrefix(string(st), "stopped") {
		t.Fatalf("after SIGTERM db status = %q, want stopped", st)
	}

	s2 := serve(t, bin, data)
	resp, err = http.Get(s2.url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("second start /readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	for id, n := range counts {
		l, _ := layers.Default().Layer(id)
		if got := psql(t, bin, data, "SELECT count(*) FROM "+l.QualifiedTable()); got != strconv.Itoa(n) {
			t.Errorf("layer %s: %s features after restart, want %d (data reused, not reloaded)", id, got, n)
		}
	}
	if got := psql(t, bin, data, "SELECT count(*) FROM villageplan.edit_history_all"); got != history {
		t.Errorf("edit history grew on restart: %s → %s", history, got)
	}
	if strings.Contains(s2.startLog, "一次性密码") || strings.Contains(s2.startLog, adminPW) {
		t.Errorf("second start printed passwords again:\n%s", s2.startLog)
	}
	s2.stop(t)
}

// TestServeRefusesDatabaseWithoutPostGIS: with --database-url pointing at a
// database that lacks PostGIS, serve stops with a message that says so.
func TestServeRefusesDatabaseWithoutPostGIS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	bin := binary(t)
	data := dataDir(t)
	out, err := exec.Command(bin, "db", "start", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("db start: %v\n%s", err, out)
	}
	defer exec.Command(bin, "db", "stop", "--data", data).Run()
	psql(t, bin, data, "CREATE DATABASE plain")
	url := strings.TrimSpace(run(t, bin, "db", "url", "--data", data, "--database", "plain"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err = exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--database-url", url).CombinedOutput()
	if err == nil {
		t.Fatalf("serve on a database without PostGIS succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "PostGIS") || !strings.Contains(string(out), "CREATE EXTENSION postgis") {
		t.Fatalf("serve error does not say what is missing:\n%s", out)
	}
}

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return string(out)
}

// oneTimeLogin: the first start printed admin and one sample account per
// desk role (two village clerks) with random one-time passwords, no fixed
// one; admin logs in with its password and must change it. It returns the
// admin password.
func oneTimeLogin(t *testing.T, s *served) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s+(\S+)\s+([A-Za-z0-9]{16})\s+(.*)$`)
	accounts := map[string]string{}
	roles := ""
	for _, m := range re.FindAllStringSubmatch(s.startLog, -1) {
		accounts[m[1]] = m[2]
		roles += m[3] + "\n"
	}
	for _, want := range []string{"乡镇窗口", "部门审查（农业农村）", "部门审查（自然资源）", "部门审查（规划建设）", "乡镇审批", "数据分析", "管理员"} {
		if !strings.Contains(roles, want) {
			t.Errorf("no sample account with role %s in the start log:\n%s", want, s.startLog)
		}
	}
	if strings.Count(roles, "村级经办@") != 2 || accounts["admin"] == "" {
		t.Fatalf("want admin and two village clerks among the one-time accounts:\n%s", s.startLog)
	}
	resp, err := http.Post(s.url+"/login", "application/json", strings.NewReader(`{"username":"admin","password":"`+accounts["admin"]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var acc struct {
		Must bool `json:"must_change_password"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if resp.StatusCode != 200 || !acc.Must {
		t.Fatalf("admin login with the printed one-time password: %d must_change=%v", resp.StatusCode, acc.Must)
	}
	return accounts["admin"]
}
