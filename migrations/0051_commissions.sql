-- Commissions ledger (issue 18): rules, an append-only ledger, payouts.

-- A rule pays rate_bp (basis points of the order's net revenue) or fixed_minor per order
-- (in currency), for one creator, optionally only on one campaign, for orders placed on or
-- after effective_from. The campaign rule beats the creator rule; the latest date wins.
CREATE TABLE commission_rules (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    rate_bp INTEGER,
    fixed_minor BIGINT,
    currency TEXT,
    effective_from TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX commission_rules_creator ON commission_rules (creator_id, effective_from);

-- Append-only: rows are never updated or deleted. bucket: pending | approved. kind:
-- accrual (first entry of a creator on an order), adjustment (a change before approval, or
-- a rise after it), approval (a pair: pending -x, approved +x), reversal (a clawback after
-- approval). For each (order, creator, currency) the entries sum to the commission on the
-- order's current net revenue (0 once refunded, cancelled or credited to someone else).
CREATE TABLE commission_entries (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    campaign_id TEXT,
    kind TEXT NOT NULL,
    bucket TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    basis_minor BIGINT NOT NULL,
    rate_bp INTEGER,
    fixed_minor BIGINT,
    reason TEXT NOT NULL DEFAULT '',
    placed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX commission_entries_order ON commission_entries (order_id, creator_id);
CREATE INDEX commission_entries_creator ON commission_entries (creator_id, created_at);
CREATE INDEX commission_entries_bucket ON commission_entries (bucket, placed_at);

-- "Mark paid": money handed to a creator, with the payment's reference.
CREATE TABLE commission_payouts (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    reference TEXT NOT NULL,
    paid_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX commission_payouts_creator ON commission_payouts (creator_id, paid_at);
