package httpapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"villageplan/internal/db"
	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// TestServerSideStatementTimeoutPerClass: every request class's pool
// carries its limit as the sessions' statement_timeout and
// idle_in_transaction_session_timeout. A real slow statement run with a
// context that has no deadline at all is cancelled by the database at the
// class's limit (SQLSTATE 57014), and the same connection then serves the
// next statement (no new connection is opened).
func TestServerSideStatementTimeoutPerClass(t *testing.T) {
	pool := testpg.New(t)
	limits := map[string]time.Duration{"interactive": 300 * time.Millisecond, "siting": 400 * time.Millisecond, "download": 500 * time.Millisecond}
	srv := httpapi.New(httpapi.Options{Pool: pool, Limits: httpapi.Limits{
		Interactive: limits["interactive"], Siting: limits["siting"], Download: limits["download"]}})
	defer srv.Close()
	ctx := context.Background() // no deadline: only the database can stop the statement
	for class, limit := range limits {
		p := httpapi.ClassPool(srv, class)
		if p == nil || p == pool {
			t.Fatalf("%s: no pool of its own", class)
		}
		var st, idle string
		if err := p.QueryRow(ctx, `SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')`).Scan(&st, &idle); err != nil {
			t.Fatal(err)
		}
		want := limit.String() // 300ms, as PostgreSQL shows it too
		if st != want || idle != want {
			t.Errorf("%s: statement_timeout %q, idle_in_transaction_session_timeout %q, want %q", class, st, idle, want)
		}
		conns := p.Stat().NewConnsCount()
		start := time.Now()
		_, err := p.Exec(ctx, `SELECT pg_sleep(30)`)
		took := time.Since(start)
		if !db.IsTimeout(err) {
			t.Fatalf("%s: pg_sleep(30) without a context deadline: err %v, want the server's statement timeout", class, err)
		}
		if took < limit || took > limit+2*time.Second {
			t.Errorf("%s: cancelled after %v, limit %v", class, took, limit)
		}
		var one int
		if err := p.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Fatalf("%s: the pool after the timeout: %v", class, err)
		}
		if n := p.Stat().NewConnsCount(); n != conns {
			t.Errorf("%s: %d new connections after the timeout; the timed-out one should serve on", class, n-conns)
		}
	}

	// A transaction left idle past the limit is ended by the server (its
	// locks freed); the pool replaces the dead connection.
	p := httpapi.ClassPool(srv, "interactive")
	tx, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE villageplan.homesteads IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(limits["interactive"] + 400*time.Millisecond)
	_, err = tx.Exec(ctx, `SELECT 1`)
	var pgErr *pgconn.PgError
	if err == nil || (errors.As(err, &pgErr) && pgErr.Code != "25P03") {
		t.Fatalf("statement in a transaction idle past the limit: %v, want idle_in_transaction_session_timeout (25P03) or a closed connection", err)
	}
	_ = tx.Rollback(ctx)
	lockCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	check, err := pool.Begin(lockCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Rollback(ctx)
	if _, err := check.Exec(lockCtx, `LOCK TABLE villageplan.homesteads IN ACCESS EXCLUSIVE MODE NOWAIT`); err != nil {
		t.Fatalf("the abandoned transaction's lock is still held: %v", err)
	}
}

// TestSlowStatementAnswers503NamingTheLimit: a feature page, a single
// feature, a download and a siting check that wait on a table another
// session has locked (as an ALTER TABLE or a QGIS edit would) are answered
// 503 with Retry-After and a JSON body naming their class's limit, at that
// limit — the database's statement_timeout, before the context's backstop
// deadline (limit + DeadlineGrace) — and once the lock is gone the same
// requests succeed on the same connections.
func TestSlowStatementAnswers503NamingTheLimit(t *testing.T) {
	pool := testpg.New(t)
	if _, err := pool.Exec(context.Background(), `
		INSERT INTO villageplan.homesteads (zddm, xzqdm, status, geom)
		VALUES ('220112203300JC00001', '220112203300', '已登记',
		        ST_Multi(ST_Transform(ST_MakeEnvelope(480000, 4829000, 480020, 4829020, 4551), 4490)));
		INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom)
		VALUES ('220112203301', '鲁家村', '集聚提升类', ST_Multi(ST_Transform(ST_MakeEnvelope(479500, 4828500, 483000, 4830000, 4551), 4490)))`); err != nil {
		t.Fatal(err)
	}
	limits := httpapi.Limits{Interactive: 300 * time.Millisecond, Siting: 400 * time.Millisecond, Download: 500 * time.Millisecond}
	srv := httpapi.New(httpapi.Options{Pool: pool, Limits: limits, RateLimits: map[string]httpapi.RateLimit{"download": {}, "siting": {}}})
	defer srv.Close()
	// The siting check is a desk route: it runs as the township window.
	ts := httptest.NewServer(withBearer(srv, bearerFor(t, pool, "window", auth.Grant{Role: auth.TownshipWindow})))
	defer ts.Close()

	var id string
	if err := pool.QueryRow(context.Background(), `SELECT id::text FROM villageplan.homesteads`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	site := `{"crs":"EPSG:4551","household_id":"timeout-1","site":` + gkSquare(100, 100, 15) + `}`
	type req struct {
		name, class, method, path, body string
		limit                           time.Duration
	}
	reqs := []req{
		{"bbox page", "interactive", "GET", "/collections/homesteads/items?bbox=125,43,126,44", "", limits.Interactive},
		{"feature by id", "interactive", "GET", "/collections/homesteads/items/" + id, "", limits.Interactive},
		{"download", "download", "GET", "/collections/homesteads/items?f=geojson", "", limits.Download},
		{"siting check", "siting", "POST", "/siting/checks", site, limits.Siting},
	}
	do := func(r req) (int, map[string]any, time.Duration) {
		start := time.Now()
		var code int
		var body map[string]any
		if r.method == "POST" {
			code, body, _ = post(t, ts.URL+r.path, "application/json", r.body)
		} else {
			code, body, _ = get(t, ts.URL+r.path)
		}
		return code, body, time.Since(start)
	}
	// Warm each class's connection, so that reuse can be counted.
	newConns := map[string]int64{}
	for _, r := range reqs {
		if code, body, _ := do(r); code >= 300 {
			t.Fatalf("%s before the lock: %d %v", r.name, code, body)
		}
		newConns[r.class] = httpapi.ClassPool(srv, r.class).Stat().NewConnsCount()
	}

	lock, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(context.Background())
	if _, err := lock.Exec(context.Background(), `LOCK TABLE villageplan.homesteads, villageplan.villages IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		code, body, took := do(r)
		desc, _ := body["description"].(string)
		if code != 503 || body["code"] != "Timeout" || !strings.Contains(desc, r.limit.String()) || !strings.Contains(desc, r.class) {
			t.Errorf("%s on a locked table: %d %v, want 503 Timeout naming the %s limit %v", r.name, code, body, r.class, r.limit)
		}
		if took < r.limit || took >= r.limit+httpapi.DeadlineGrace {
			t.Errorf("%s answered after %v: want the database's timeout at %v, before the context's at %v", r.name, took, r.limit, r.limit+httpapi.DeadlineGrace)
		}
	}
	if err := lock.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if code, body, _ := do(r); code >= 300 {
			t.Errorf("%s after the lock: %d %v", r.name, code, body)
		}
		if n := httpapi.ClassPool(srv, r.class).Stat().NewConnsCount(); n != newConns[r.class] {
			t.Errorf("%s: %d new connections of the %s pool; the timed-out connection should have served on", r.name, n-newConns[r.class], r.class)
		}
	}
}
