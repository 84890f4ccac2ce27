-- Catalogue, clicks and API tokens.
-- Portable between SQLite and PostgreSQL: ids are TEXT made by the app (prefix + shortuuid),
-- money is BIGINT minor units next to an ISO 4217 currency, time is TEXT ISO-8601 UTC
-- ("2026-11-23T10:36:52.123456Z", fixed width so it sorts and compares as text),
-- flags are INTEGER 0/1.

CREATE TABLE creators (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL,
    handle_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    platform TEXT NOT NULL DEFAULT 'instagram',
    followers BIGINT NOT NULL DEFAULT 0,
    category TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    starts_on TEXT,
    ends_on TEXT,
    budget_minor BIGINT,
    currency TEXT NOT NULL DEFAULT 'USD',
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE links (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    creator_id TEXT REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    destination TEXT NOT NULL,
    utm_source TEXT,
    utm_medium TEXT,
    utm_campaign TEXT,
    utm_content TEXT,
    utm_term TEXT,
    utm_override INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    expires_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX links_creator ON links (creator_id);
CREATE INDEX links_campaign ON links (campaign_id);

-- One row per redirect, human or not; link_id is NULL for orphan visits (unknown slugs).
CREATE TABLE clicks (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    slug TEXT NOT NULL,
    link_id TEXT,
    creator_id TEXT,
    fingerprint TEXT,
    device TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    browser TEXT NOT NULL DEFAULT '',
    is_bot INTEGER NOT NULL DEFAULT 0,
    bot_reason TEXT,
    is_prefetch INTEGER NOT NULL DEFAULT 0,
    referrer_host TEXT,
    ip TEXT,
    method TEXT NOT NULL DEFAULT 'GET'
);
CREATE INDEX clicks_link_at ON clicks (link_id, at);
CREATE INDEX clicks_creator_at ON clicks (creator_id, at);
CREATE INDEX clicks_fingerprint_at ON clicks (fingerprint, at);
CREATE INDEX clicks_at ON clicks (at);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
