package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/internal/auth"
	"villageplan/internal/httpapi"
	"villageplan/internal/testpg"
)

// TestPersonalDataTable: who sees the personal fields of homesteads
// (户编号, 户主姓名, 户主身份证号) in the features API and downloads — every
// role, anonymous, and the clerk of another village — and that each
// answer with them, and only those, leaves one audit row. Parcels 1–3 lie
// in village A (220112203300), parcel 4 in village B.
func TestPersonalDataTable(t *testing.T) {
	ctx := context.Background()
	pool := testpg.New(t)
	for _, sql := range []string{
		`INSERT INTO villageplan.villages (xzqdm, xzqmc, czlx, geom) VALUES
			('220112203300', '大营村', '集聚提升类', ST_Multi(ST_Transform(ST_MakeEnvelope(480000, 4828000, 481000, 4830000, 4551), 4490))),
			('220112203301', '鲁家村', '集聚提升类', ST_Multi(ST_Transform(ST_MakeEnvelope(481000, 4828000, 482000, 4830000, 4551), 4490)))`,
		`INSERT INTO villageplan.homesteads (zddm, xzqdm, zl, status, holder_name, holder_id_number, household_id, geom)
		SELECT '220112203300JC0000' || i, CASE WHEN i = 4 THEN '220112203301' ELSE '220112203300' END, '大营村' || i || '号', '已登记',
		       '马' || i, '22011219800101000' || i, 'H' || i,
		       ST_Multi(ST_Transform(ST_MakeEnvelope(480600 + i * 100, 4829000, 480620 + i * 100, 4829028, 4551), 4490))
		FROM generate_series(1, 4) i`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var idA, idB string
	if err := pool.QueryRow(ctx, `SELECT min(id)::text, max(id)::text FROM villageplan.homesteads`).Scan(&idA, &idB); err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Options{Pool: pool, Accounts: testAccounts(pool), RateLimits: map[string]httpapi.RateLimit{"download": {}}})
	t.Cleanup(srv.Close)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	const A = "220112203300"
	// What each caller sees: personal fields of every parcel (all), of
	// village A when asked with xzqdm=A (a), of parcel 1 alone (one), of
	// parcel 4 — village B — alone (four).
	type want struct{ all, a, one, four bool }
	cases := []struct {
		name  string
		grant []auth.Grant
		want  want
	}{
		{"anonymous", nil, want{}},
		{"village_clerk A", []auth.Grant{{Role: auth.VillageClerk, Village: A}}, want{false, true, true, false}},
		{"village_clerk B", []auth.Grant{{Role: auth.VillageClerk, Village: "220112203301"}}, want{false, false, false, true}},
		{"township_window", []auth.Grant{{Role: auth.TownshipWindow}}, want{true, true, true, true}},
		{"review_agriculture", []auth.Grant{{Role: auth.ReviewAgriculture}}, want{true, true, true, true}},
		{"review_natural_resources", []auth.Grant{{Role: auth.ReviewNaturalResources}}, want{true, true, true, true}},
		{"review_planning", []auth.Grant{{Role: auth.ReviewPlanning}}, want{true, true, true, true}},
		{"township_approver", []auth.Grant{{Role: auth.TownshipApprover}}, want{true, true, true, true}},
		{"planning_editor", []auth.Grant{{Role: auth.PlanningEditor}}, want{}},
		{"data_analyst", []auth.Grant{{Role: auth.DataAnalyst}}, want{}},
		{"data_analyst + personal_data", []auth.Grant{{Role: auth.DataAnalyst}, {Role: auth.PersonalData}}, want{true, true, true, true}},
		{"personal_data A", []auth.Grant{{Role: auth.PersonalData, Village: A}}, want{false, true, true, false}},
		{"admin", []auth.Grant{{Role: auth.Admin}}, want{}},
	}
	audits := func() (n int) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM villageplan.audit_log WHERE action = 'feature.read_personal'`).Scan(&n)
		return n
	}
	for i, c := range cases {
		var bearer string
		if c.grant != nil {
			bearer = bearerFor(t, pool, "p"+strings.Repeat("x", i), c.grant...)
		}
		get := func(path string) (int, string, http.Header) {
			req, _ := http.NewRequest("GET", ts.URL+path, nil)
			if bearer != "" {
				req.Header.Set("Authorization", bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Header
		}
		for _, q := range []struct {
			what, path string
			want       bool
			marker     string
		}{
			{"all parcels", "/collections/homesteads/items", c.want.all, "马4"},
			{"village A", "/collections/homesteads/items?xzqdm=" + A, c.want.a, "马1"},
			{"parcel 1", "/collections/homesteads/items/" + idA, c.want.one, "220112198001010001"},
			{"parcel 4 (village B)", "/collections/homesteads/items/" + idB, c.want.four, "马4"},
			{"CSV of village A", "/collections/homesteads/items?f=csv&xzqdm=" + A, c.want.a, "马1"},
			{"CSV of all", "/collections/homesteads/items?f=csv", c.want.all, "马4"},
			{"HTML of village A", "/collections/homesteads/items?f=html&xzqdm=" + A, false, "马1"},
		} {
			before := audits()
			code, body, hdr := get(q.path)
			if code != 200 {
				t.Errorf("%s, %s: %d %.200s", c.name, q.what, code, body)
				continue
			}
			got := strings.Contains(body, q.marker)
			if got != q.want {
				t.Errorf("%s, %s: personal data served=%v, want %v", c.name, q.what, got, q.want)
			}
			if n := audits() - before; (n == 1) != q.want || n > 1 {
				t.Errorf("%s, %s: %d audit rows, want %v", c.name, q.what, n, q.want)
			}
			if q.want && hdr.Get("Cache-Control") != "private, no-store" {
				t.Errorf("%s, %s: Cache-Control %q", c.name, q.what, hdr.Get("Cache-Control"))
			}
		}
	}
	// The audit row of a page lists the ids it served.
	var ids, user string
	if err := pool.QueryRow(ctx, `SELECT details->>'ids', username FROM villageplan.audit_log
		WHERE action = 'feature.read_personal' AND village_code = $1 AND details ? 'ids' AND subject_id = '' ORDER BY id LIMIT 1`, A).Scan(&ids, &user); err != nil {
		t.Fatal(err)
	}
	if strings.Count(ids, ",") != 2 || user == "anonymous" {
		t.Errorf("audit row of a village-A page: ids %s by %s, want three ids", ids, user)
	}
}
