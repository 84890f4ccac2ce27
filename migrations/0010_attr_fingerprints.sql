-- Attribution you can trust (issue 14).
--
-- Clicks: the fingerprint is now MAC(truncated IP | user agent) without the language, so a
-- source that sends no accept-language (WooCommerce) can match; the language and the exact
-- address are kept as 16-bit keyed tags beside it (never the address itself): they only tell
-- apart clicks that already share a fingerprint (exact address beats the /24 block).
ALTER TABLE clicks ADD COLUMN ip_tag TEXT;
ALTER TABLE clicks ADD COLUMN lang_tag TEXT;

-- Orders: the same tags, whether the order counts as an order (cancelled or fully refunded
-- orders do not), and the fingerprint check behind the precision estimate: for an order that
-- carries a click id AND a fingerprint, did the fingerprint alone pick the same creator?
ALTER TABLE orders ADD COLUMN ip_tag TEXT;
ALTER TABLE orders ADD COLUMN lang_tag TEXT;
ALTER TABLE orders ADD COLUMN legacy_fingerprint TEXT;
ALTER TABLE orders ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
ALTER TABLE orders ADD COLUMN fp_check TEXT;
ALTER TABLE orders ADD COLUMN fp_check_confidence DOUBLE PRECISION;
UPDATE orders SET counted = 0
    WHERE status IN ('cancelled', 'refunded') OR (total_minor > 0 AND net_minor = 0);

-- Touches: the confidence of a fingerprint touch (NULL for codes and click ids).
ALTER TABLE touches ADD COLUMN confidence DOUBLE PRECISION;

-- Unattributed orders the re-match job looks at, newest first.
CREATE INDEX orders_unattributed ON orders (placed_at) WHERE creator_id IS NULL;
