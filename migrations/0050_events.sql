-- Events out (issue 18): webhook endpoints, the transactional outbox, one delivery row per
-- (event, endpoint) with its lease and back-off, and the log of every attempt.

-- secret (whsec_ + base64) signs deliveries by the Standard Webhooks convention; it is shown
-- once, in the answer that creates or rotates it. event_types: JSON list, [] = every type.
-- failures: consecutive failed attempts across events; reset by any success.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active',
    disabled_reason TEXT NOT NULL DEFAULT '',
    failures INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The outbox: written in the same transaction as the change it describes. id is the
-- webhook-id header (stable across retries and replays); payload is the exact body sent.
-- Events of one subject (an order, a code) are numbered by seq and delivered in that order.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (subject, seq)
);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_type ON events (type, created_at);

-- One row per (event, endpoint): pending until delivered, or failed once its attempts are
-- spent. lease_owner / lease_until: the node working on it; a lease that ran out (a node
-- killed mid-delivery) is claimed again, so delivery is at least once.
CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    last_status_code INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX event_deliveries_due ON event_deliveries (status, next_attempt_at);
CREATE INDEX event_deliveries_subject ON event_deliveries (endpoint_id, subject, seq);

-- The delivery log: one row per attempt (status code or error, time taken, node).
CREATE TABLE event_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    node TEXT NOT NULL,
    status_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_attempts_endpoint ON event_attempts (endpoint_id, at);
CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, attempt);

-- What was last published about each order, so a change emits order.updated with the
-- reasons (refund, cancellation, reattribution) and a replayed postback emits nothing.
CREATE TABLE order_published (
    order_id TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    creator_id TEXT,
    status TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    refunded_minor BIGINT NOT NULL
);
