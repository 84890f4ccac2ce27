-- Fraud flags (issue 18): evidence per order, reviewed by a person; an open or confirmed flag
-- holds the order's commission out of approval, a confirmed one voids it.

CREATE TABLE fraud_flags (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    creator_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (order_id, kind)
);
CREATE INDEX fraud_flags_status ON fraud_flags (status, created_at);

-- A creator's own customer identities, as the same keyed hash orders keep (never the email).
CREATE TABLE creator_identities (
    creator_id TEXT NOT NULL REFERENCES creators (id),
    customer_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_hash, creator_id)
);

-- velocity: one creator's orders from one fingerprint in a window (an index seek, never a scan
-- of every order that fingerprint placed)
CREATE INDEX orders_fingerprint ON orders (fingerprint, creator_id, placed_at);
-- velocity by customer: one creator's orders from one customer in a window (a seek)
CREATE INDEX orders_customer_creator ON orders (customer_hash, creator_id, placed_at);
