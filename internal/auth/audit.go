package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer is what Audit writes with: a pool, a connection or a transaction
// (write the entry in the transaction of the change it records, so both
// land or neither).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AuditEntry is one row of villageplan.audit_log (migration 00008).
type AuditEntry struct {
	// Action is a dotted lower-case verb, e.g. "application.read",
	// "application.transition", "feature.read_personal", "user.create".
	Action string
	// SubjectKind and SubjectID name what was read or changed
	// ("application", "17"; "homesteads", "2201120…").
	SubjectKind, SubjectID string
	// Village is the 12-digit code of the village whose data it is, or "".
	Village string
	// PersonalData marks a read or write of personal data.
	PersonalData bool
	// Details is stored as jsonb (nil for {}).
	Details any
}

// Audit appends e to the audit log as done by the principal of ctx
// (anonymous when none) for request r (nil outside HTTP, e.g. the CLI,
// whose actor is then the principal or "cli"). The error is returned: a
// read of personal data whose audit row cannot be written must not be
// served.
func Audit(ctx context.Context, db Execer, r *http.Request, e AuditEntry) error {
	p := FromContext(ctx)
	var userID *int64
	username := "anonymous"
	roles := []string{}
	if p != nil {
		userID = &p.UserID
		username = p.Username
		for _, role := range p.Roles() {
			roles = append(roles, string(role))
		}
	} else if r == nil {
		username = "cli"
	}
	details := []byte("{}")
	if e.Details != nil {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return fmt.Errorf("audit %s: details: %w", e.Action, err)
		}
		details = b
	}
	var method, path, reqID, addr string
	if r != nil {
		method, path = r.Method, r.URL.Path
		reqID = r.Header.Get("X-Request-Id")
		addr = r.RemoteAddr
	}
	_, err := db.Exec(ctx, `INSERT INTO villageplan.audit_log
		(user_id, username, roles, action, subject_kind, subject_id, village_code, personal_data,
		 request_method, request_path, request_id, remote_addr, details)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		userID, username, roles, e.Action, e.SubjectKind, e.SubjectID, e.Village, e.PersonalData,
		method, path, reqID, addr, details)
	if err != nil {
		return fmt.Errorf("audit %s %s %s: %w", e.Action, e.SubjectKind, e.SubjectID, err)
	}
	return nil
}
