-- +goose Up
-- The audit log of the system of record: every read of personal data
-- (申请人, 家庭成员, 身份证号, 户主) and every write done through the service
-- (applications, accounts, edits) leaves one row: who (user id and name,
-- the roles they acted in), when, what (action, subject kind and id, the
-- village), and which request (method, path, request id, client address).
-- Rows are never changed or removed: UPDATE, DELETE and TRUNCATE are
-- refused by triggers, also for psql and QGIS.
CREATE TABLE villageplan.audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id bigint,
    username text NOT NULL,
    roles text[] NOT NULL DEFAULT '{}',
    action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),
    subject_kind text NOT NULL,
    subject_id text NOT NULL DEFAULT '',
    village_code text NOT NULL DEFAULT '',
    personal_data boolean NOT NULL DEFAULT false,
    request_method text NOT NULL DEFAULT '',
    request_path text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON villageplan.audit_log (at);
CREATE INDEX audit_log_subject ON villageplan.audit_log (subject_kind, subject_id);
CREATE INDEX audit_log_user ON villageplan.audit_log (user_id, at);
COMMENT ON TABLE villageplan.audit_log IS
  '审计日志：个人信息的每次读取和经本服务的每次写入。只追加，不可修改或删除。 Audit log: every personal-data read and every write through the service; append-only.';

-- +goose StatementBegin
CREATE FUNCTION villageplan.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '审计日志只能追加，不能修改或删除。 The audit log is append-only: % is refused.', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON villageplan.audit_log
    FOR EACH ROW EXECUTE FUNCTION villageplan.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON villageplan.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION villageplan.audit_log_append_only();

-- +goose Down
DROP TABLE villageplan.audit_log;
DROP FUNCTION villageplan.audit_log_append_only();
