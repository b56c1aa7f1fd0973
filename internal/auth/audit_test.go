package auth_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"villageplan/internal/auth"
	"villageplan/internal/testpg"
)

// TestAuditAppendOnly: an entry lands with its actor, roles and request;
// the database refuses to change or remove it (psql and QGIS too).
func TestAuditAppendOnly(t *testing.T) {
	pool := testpg.New(t)
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: 7, Username: "zhang",
		Grants: []auth.Grant{{Role: auth.TownshipWindow}}})
	r := httptest.NewRequest("GET", "/applications/3", nil)
	r.Header.Set("X-Request-Id", "req-1")
	if err := auth.Audit(ctx, pool, r, auth.AuditEntry{Action: "application.read", SubjectKind: "application",
		SubjectID: "3", Village: "220112203201", PersonalData: true, Details: map[string]any{"fields": []string{"申请人"}}}); err != nil {
		t.Fatal(err)
	}
	var user, path, reqID, roles string
	var personal bool
	if err := pool.QueryRow(context.Background(), `SELECT username, request_path, request_id, roles::text, personal_data
		FROM villageplan.audit_log WHERE subject_id = '3'`).Scan(&user, &path, &reqID, &roles, &personal); err != nil {
		t.Fatal(err)
	}
	if user != "zhang" || path != "/applications/3" || reqID != "req-1" || roles != "{township_window}" || !personal {
		t.Fatalf("audit row: %s %s %s %s %v", user, path, reqID, roles, personal)
	}
	for _, sql := range []string{`UPDATE villageplan.audit_log SET username = 'x'`, `DELETE FROM villageplan.audit_log`, `TRUNCATE villageplan.audit_log`} {
		_, err := pool.Exec(context.Background(), sql)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused", sql, err)
		}
	}
	if err := auth.Audit(context.Background(), pool, nil, auth.AuditEntry{Action: "Bad Action", SubjectKind: "x"}); err == nil {
		t.Error("an action that is not a dotted lower-case verb was stored")
	}
}
