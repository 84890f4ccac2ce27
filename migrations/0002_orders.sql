-- Discount codes, shops, orders with their refunds and touches, and webhook deliveries.

CREATE TABLE codes (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    code_key TEXT NOT NULL UNIQUE,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    value_type TEXT,
    value BIGINT,
    currency TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX codes_creator ON codes (creator_id);

-- secret / previous_secret verify HMAC signatures (both accepted while rotating);
-- they are never returned by the API after creation.
CREATE TABLE shops (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    pixel_token TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    external_id TEXT NOT NULL,
    order_number TEXT,
    placed_at TEXT NOT NULL,
    source_updated_at TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL DEFAULT 0,
    discount_minor BIGINT NOT NULL DEFAULT 0,
    total_minor BIGINT NOT NULL DEFAULT 0,
    current_total_minor BIGINT,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    net_minor BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    financial_status TEXT,
    cancelled_at TEXT,
    customer_hash TEXT,
    new_customer INTEGER,
    codes TEXT NOT NULL DEFAULT '[]',
    click_ids TEXT NOT NULL DEFAULT '[]',
    fingerprint TEXT,
    landing_site TEXT,
    referring_site TEXT,
    creator_id TEXT,
    method TEXT,
    explanation TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (shop_id, external_id)
);
CREATE INDEX orders_placed ON orders (placed_at);
CREATE INDEX orders_creator ON orders (creator_id, placed_at);
CREATE INDEX orders_customer ON orders (customer_hash);

-- Refunds keyed by the shop's own refund id, so an order payload that lists its refunds and a
-- separate refunds/create delivery never count the same refund twice, in any order.
CREATE TABLE refunds (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    order_external_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    refunded_at TEXT NOT NULL,
    PRIMARY KEY (shop_id, order_external_id, external_id)
);

-- Every signal found on an order: the code's creator, the click behind a click id, or a
-- fingerprint match. creator_id is NULL for unknown codes and click ids (kept, not dropped).
CREATE TABLE touches (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    creator_id TEXT,
    link_id TEXT,
    campaign_id TEXT,
    code TEXT,
    click_id TEXT,
    at TEXT NOT NULL,
    matched INTEGER NOT NULL DEFAULT 1,
    winner INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX touches_order ON touches (order_id);
CREATE INDEX touches_creator ON touches (creator_id, at);

-- One row per accepted delivery key (webhook id, event id, or derived key): the idempotency
-- record, written in the same transaction as the order. body is the raw payload for audit.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops (id),
    delivery_key TEXT NOT NULL,
    source TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    order_external_id TEXT,
    outcome TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT,
    UNIQUE (shop_id, delivery_key)
);
CREATE INDEX deliveries_received ON deliveries (shop_id, received_at);
CREATE INDEX deliveries_order ON deliveries (shop_id, order_external_id);
