package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"villageplan/internal/auth"
	"villageplan/internal/testpg"
)

var oneTimeRE = regexp.MustCompile(`(?m)^\s+(\S+)\s+([A-Za-z0-9]{16})\s`)

// oneTime is the one-time password printed for user in out.
func oneTime(t *testing.T, out, user string) string {
	t.Helper()
	for _, m := range oneTimeRE.FindAllStringSubmatch(out, -1) {
		if m[1] == user {
			return m[2]
		}
	}
	t.Fatalf("no one-time password for %s in:\n%s", user, out)
	return ""
}

// TestUserAndTokenCommands drives `villageplan user …` and `villageplan
// token …` on a test database and checks the accounts through the store:
// one-time passwords, roles in a village, disable/enable, reset, tokens
// shown once and revoked, and the audit rows of the CLI.
func TestUserAndTokenCommands(t *testing.T) {
	url := testpg.NewDatabase(t)
	db := []string{"--database-url", url}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES ('220112203301', '鲁家村', '集聚提升类',
		ST_GeomFromText('MULTIPOLYGON(((125 43,125.01 43,125.01 43.01,125 43)))', 4490))`); err != nil {
		t.Fatal(err)
	}
	store := auth.NewStore(pool)
	must := func(args ...string) string {
		t.Helper()
		out, _, err := run(t, append(db, args...)...)
		if err != nil {
			t.Fatalf("villageplan %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	out := must("user", "add", "zhang", "--display-name", "张三", "--role", "township_window")
	pw := oneTime(t, out, "zhang")
	if !strings.Contains(out, "乡镇窗口") || !strings.Contains(out, "一次性密码") {
		t.Errorf("user add output:\n%s", out)
	}
	sess, err := store.Login(ctx, "zhang", pw, "192.0.2.1:1", "")
	if err != nil || !sess.Principal.MustChangePassword || !sess.Principal.HasFor(auth.TownshipWindow, "220112203301") {
		t.Fatalf("login with the printed password: %+v %v", sess, err)
	}
	must("user", "add", "li", "--role", "village_clerk", "--village", "220112203301")
	if _, _, err := run(t, append(db, "user", "add", "wang", "--role", "boss")...); err == nil || !strings.Contains(err.Error(), "boss") || !strings.Contains(err.Error(), "village_clerk") {
		t.Errorf("unknown role: %v", err)
	}
	if _, _, err := run(t, append(db, "user", "add", "zhao", "--role", "village_clerk", "--village", "220112999999")...); err == nil || !strings.Contains(err.Error(), "220112999999") {
		t.Errorf("unknown village: %v", err)
	}
	if _, _, err := run(t, append(db, "user", "add", "zhang")...); err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("duplicate: %v", err)
	}

	out = must("user", "role", "add", "zhang", "data_analyst")
	if !strings.Contains(out, "数据分析") || !strings.Contains(out, "乡镇窗口") {
		t.Errorf("role add:\n%s", out)
	}
	if _, _, err := run(t, append(db, "user", "role", "remove", "zhang", "data_analyst", "--village", "220112203301")...); err == nil {
		t.Error("removed a village grant zhang does not hold")
	}
	must("user", "role", "remove", "zhang", "data_analyst")
	out = must("user", "list")
	for _, want := range []string{"zhang", "张三", "li", "村级经办 (village_clerk) @220112203301", "待改密"} {
		if !strings.Contains(out, want) {
			t.Errorf("user list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "数据分析") {
		t.Errorf("removed role still listed:\n%s", out)
	}

	must("user", "disable", "zhang")
	if _, err := store.SessionPrincipal(ctx, sess.Secret); err == nil {
		t.Error("session of a disabled user still works")
	}
	if !strings.Contains(must("user", "list"), "停用") {
		t.Error("list does not show the disabled account")
	}
	must("user", "enable", "zhang")
	out = must("user", "passwd", "zhang")
	pw2 := oneTime(t, out, "zhang")
	if pw2 == pw {
		t.Fatal("passwd printed the old password")
	}
	if _, err := store.Login(ctx, "zhang", pw, "192.0.2.1:1", ""); err == nil {
		t.Error("the old password works after passwd")
	}
	if _, err := store.Login(ctx, "zhang", pw2, "192.0.2.1:1", ""); err != nil {
		t.Errorf("the new one-time password: %v", err)
	}
	if _, _, err := run(t, append(db, "user", "passwd", "nobody")...); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("passwd of an unknown user: %v", err)
	}

	out = must("token", "create", "zhang", "--name", "QGIS 规划办", "--expires-days", "30")
	secret := regexp.MustCompile(`vp_[A-Za-z0-9_-]{43}`).FindString(out)
	if secret == "" {
		t.Fatalf("token create printed no secret:\n%s", out)
	}
	bearer := func() error {
		r := httptest.NewRequest("GET", "/account", nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		_, err := store.Authenticate(r)
		return err
	}
	if err := bearer(); err != nil {
		t.Fatal(err)
	}
	out = must("token", "list")
	if strings.Contains(out, secret) || !strings.Contains(out, secret[:9]) || !strings.Contains(out, "QGIS 规划办") {
		t.Errorf("token list (prefix only):\n%s", out)
	}
	id := regexp.MustCompile(`(?m)^(\d+)\s+zhang`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no token row:\n%s", out)
	}
	must("token", "revoke", id[1])
	if err := bearer(); err == nil {
		t.Error("revoked token still works")
	}
	if !strings.Contains(must("token", "list", "zhang"), "已撤销") {
		t.Error("list does not show the revocation")
	}
	var audits int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE username = 'cli'`).Scan(&audits); err != nil || audits < 9 {
		t.Errorf("audit rows by the CLI: %d %v", audits, err)
	}
}
