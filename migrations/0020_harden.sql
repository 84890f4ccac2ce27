-- Hardening (issue 15): opt-in pixel, expiring rotated secrets, login throttle per
-- (account, address), scrubbed raw bodies, bounded orphan visits.

-- The pixel is opt-in: '' means off. Shopify and WooCommerce shops send signed webhooks and
-- were given a pixel token they never chose (anyone holding it could forge orders).
UPDATE shops SET pixel_token = '' WHERE platform IN ('shopify', 'woocommerce');

-- When the current secret replaced previous_secret; the previous one verifies only for
-- TRACKER_SECRET_GRACE_HOURS after it. Rows rotated before this migration count from their
-- last update.
ALTER TABLE shops ADD COLUMN secret_rotated_at TEXT;
UPDATE shops SET secret_rotated_at = updated_at WHERE previous_secret IS NOT NULL;

-- Failed logins per (account, address), both as keyed hashes. account_key '*' counts every
-- account tried from one address. An attempt is counted *before* the password is checked
-- (in the same transaction that reads the count), so concurrent guesses cannot all pass.
CREATE TABLE admin_login_throttle (
    account_key TEXT NOT NULL,
    ip_key TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    blocked_until TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_key, ip_key)
);
DROP TABLE admin_login_failures;

-- Raw postback bodies are kept without personal data; 1 = scrubbed before writing. Rows
-- written before this migration are scrubbed once by the start-up pass (JSON rewriting
-- cannot be done in SQL portably).
ALTER TABLE deliveries ADD COLUMN scrubbed INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET scrubbed = 1 WHERE body IS NULL;
CREATE INDEX deliveries_unscrubbed ON deliveries (id) WHERE scrubbed = 0;

-- Visits to unknown slugs: one counter per slug per hour instead of one clicks row per
-- request, so a flood of made-up slugs cannot grow the store without bound.
CREATE TABLE orphan_visits (
    slug TEXT NOT NULL,
    hour TEXT NOT NULL,
    visits BIGINT NOT NULL DEFAULT 0,
    bots BIGINT NOT NULL DEFAULT 0,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (slug, hour)
);
CREATE INDEX orphan_visits_hour ON orphan_visits (hour);
