-- History at scale (issue 19): whether an order's stored credit (migration 0090) is written.
-- Set to 1 in the transaction that writes (or deletes) the order's order_credits rows: the
-- ingest's ``after_order_change`` and ``tracker credits rebuild`` / a settings change
-- (tracker/store/credits.py); 0 for an order written around the ingest. An order whose
-- touches all fall outside the lookbacks has no rows and still 1: nothing to credit.
-- A report that sums the stored credit computes at read time only the orders with 0 (and
-- those in another currency), found through the index below instead of a probe of
-- order_credits per order of the range (148 ms of the largest creator's own page at
-- 100,000 orders). ``tracker import`` carries the column and clears the basis: the next
-- start rewrites every order's rows.
ALTER TABLE orders ADD COLUMN credit_stored INTEGER NOT NULL DEFAULT 0;
-- Orders with rows were stored; orders without rows stay 0 (read at read time, as before).
UPDATE orders SET credit_stored = 1
WHERE EXISTS (SELECT 1 FROM order_credits c WHERE c.order_id = orders.id);
-- The orders a report computes at read time, found without reading the range: those not
-- stored, then those stored in a currency either side of the report's (tracker/store/
-- reports.py ``credited_touches``). The ingest inserts its orders already marked, so the
-- flag changes only for orders written around it (PostgreSQL's updates of an order stay
-- HOT: no indexed column changes).
CREATE INDEX orders_credit_read ON orders (credit_stored, currency, placed_at);
