-- A creator's own read-only page at /c/{token}: a secret, revocable link per creator.
-- Only SHA-256(token) is kept, so a database dump cannot open anyone's page; the token is
-- shown once to the admin who makes it. Revoking sets revoked_at; the page then 404s.

CREATE TABLE creator_pages (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX creator_pages_creator ON creator_pages (creator_id);
