-- SQLite's copy of 0090_order_credits.sql: the rows stored WITHOUT ROWID in the order of
-- their placed_at (the key), so a report's range is one sequential read of the B-tree
-- instead of an index walk and a table lookup per row (100,000 orders: about half the
-- time); order_credits_order finds an order's rows for the ingest's rewrite.
--
-- History at scale (issue 19), the order side: each order's attribution credit, written by
-- the order ingest in the order's own transaction (``after_order_change``: new orders,
-- refunds, cancellations, re-matches, triage) so reports read shares instead of applying
-- the model to every touch of every order of the range (tracker/store/credits.py).
--
-- One row per (order, model, touch kept by the lookbacks). ``model`` is one of last, first,
-- linear, position, time_decay, or 'all' for an order with one kept touch (every model
-- gives it the whole order: one row instead of five). data_driven is computed at read
-- time. revenue_minor is the touch's part of the order's net revenue in the order's own
-- currency, split by the largest remainder (tracker.attribution.credit.split), so an
-- order's rows add up to its net exactly; a collaboration's split is applied at read time
-- (collaborations change without their orders changing). counted, new_customer and
-- customer_hash are the order's, copied so a report reads one table (a redaction forgets
-- the customer here too); value_until is placed_at + 90 days, the end of the window of the
-- customer's later orders that make the order's 90-day value.
--
-- credit_basis holds the settings the rows were computed under (lookbacks, half-life,
-- conflict policy); a start with other settings recomputes every row
-- (tracker/store/credits.py ``sync_credits``: at every start and in ``tracker migrate``),
-- as does ``tracker credits rebuild``; ``tracker credits check`` compares them with a
-- recomputation. Whether an order's rows are written: ``orders.credit_stored`` (0091).
CREATE TABLE order_credits (
    order_id TEXT NOT NULL,
    model TEXT NOT NULL,
    seq INTEGER NOT NULL,
    placed_at TEXT NOT NULL,
    currency TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    campaign_id TEXT,
    link_id TEXT,
    code TEXT,
    method TEXT NOT NULL,
    country TEXT,
    variant TEXT,
    share DOUBLE PRECISION NOT NULL,
    revenue_minor BIGINT NOT NULL,
    counted INTEGER NOT NULL,
    new_customer INTEGER NOT NULL,
    customer_hash TEXT,
    value_until TEXT NOT NULL,
    PRIMARY KEY (placed_at, order_id, model, seq)
) WITHOUT ROWID;
CREATE INDEX order_credits_order ON order_credits (order_id);
CREATE INDEX order_credits_creator ON order_credits (creator_id, placed_at);
-- The 90-day customer value reads a customer's later orders from this index alone.
CREATE INDEX orders_customer_value ON orders (customer_hash, placed_at, net_minor, currency);
CREATE TABLE credit_basis (
    id INTEGER PRIMARY KEY,
    basis TEXT NOT NULL,
    computed_at TEXT NOT NULL
);
