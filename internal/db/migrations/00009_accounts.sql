-- +goose Up
-- Accounts of the service (package internal/auth): users with roles scoped
-- to the township or one village, server-side browser sessions, API tokens
-- for scripts and QGIS, and the failed logins that throttle guessing. No
-- secret is stored: passwords as argon2id hashes, session ids and token
-- secrets as SHA-256 digests of 256 random bits.
CREATE TABLE villageplan.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    display_name text NOT NULL DEFAULT '',
    -- argon2id PHC string ($argon2id$v=19$m=…); '' = no password yet (cannot log in).
    password_hash text NOT NULL DEFAULT '',
    must_change_password boolean NOT NULL DEFAULT false,
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON villageplan.users (username);
COMMENT ON TABLE villageplan.users IS '用户账号（密码只存 argon2id 摘要）。 Accounts; passwords stored as argon2id hashes only.';

-- One role of a user. village_code '' covers the whole township; otherwise
-- the 12-digit code of a village that exists in villageplan.villages
-- (checked when the grant is written; a grant outlives a later re-import of
-- the villages layer).
CREATE TABLE villageplan.user_grants (
    user_id bigint NOT NULL REFERENCES villageplan.users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('village_clerk', 'township_window', 'review_agriculture',
        'review_natural_resources', 'review_planning', 'township_approver', 'planning_editor',
        'data_analyst', 'personal_data', 'admin')),
    village_code text NOT NULL DEFAULT '' CHECK (village_code = '' OR village_code ~ '^[0-9]{12}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role, village_code)
);

-- +goose StatementBegin
CREATE FUNCTION villageplan.user_grants_village_exists() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.village_code <> '' AND NOT EXISTS (SELECT 1 FROM villageplan.villages WHERE xzqdm = NEW.village_code) THEN
        RAISE EXCEPTION '村级区划代码 % 不在村界图层中。 Village code % is not in the villages layer.', NEW.village_code, NEW.village_code
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'user_grants_village_exists';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER user_grants_village_exists BEFORE INSERT OR UPDATE ON villageplan.user_grants
    FOR EACH ROW EXECUTE FUNCTION villageplan.user_grants_village_exists();

-- Browser sessions, server-side. id_hash is SHA-256 of the cookie's 256-bit
-- secret. A session ends at expires_at (absolute) or when last_seen_at is
-- older than the idle timeout; logout deletes the row.
CREATE TABLE villageplan.sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_hash bytea NOT NULL UNIQUE CHECK (length(id_hash) = 32),
    user_id bigint NOT NULL REFERENCES villageplan.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON villageplan.sessions (user_id);
CREATE INDEX sessions_expires ON villageplan.sessions (expires_at);

-- API tokens (Authorization: Bearer vp_…). Only the SHA-256 of the secret
-- is stored; prefix (its first characters) is shown in lists.
CREATE TABLE villageplan.api_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES villageplan.users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON villageplan.api_tokens (user_id);

-- Failed logins of the last throttle window, per account name (lower case,
-- also for names that do not exist) and per client address; shared by
-- every server on this database.
CREATE TABLE villageplan.login_failures (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    username text NOT NULL,
    remote_addr text NOT NULL
);
CREATE INDEX login_failures_username ON villageplan.login_failures (username, at);
CREATE INDEX login_failures_addr ON villageplan.login_failures (remote_addr, at);

-- +goose Down
DROP TABLE villageplan.login_failures;
DROP TABLE villageplan.api_tokens;
DROP TABLE villageplan.sessions;
DROP TABLE villageplan.user_grants;
DROP FUNCTION villageplan.user_grants_village_exists();
DROP TABLE villageplan.users;
