-- Admin panel: users, server-side sessions and failed logins (for throttling).
-- Sessions live in the database (not only in the cookie) so logout, disabling a user or a
-- password change ends them at once, on every node. Only hashes of session ids are kept.

CREATE TABLE admin_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT
);

CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES admin_users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);

-- One row per failed login; ip_key is a keyed hash of the client address, never the address.
CREATE TABLE admin_login_failures (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    email_key TEXT NOT NULL,
    ip_key TEXT NOT NULL
);
CREATE INDEX admin_login_failures_email ON admin_login_failures (email_key, at);
CREATE INDEX admin_login_failures_ip ON admin_login_failures (ip_key, at);
