-- Commission rules by scope (issue 18): one creator (optionally only on one campaign), every
-- creator on a campaign, or every creator of a tier (TRACKER_TIERS, by followers); from
-- effective_from to an optional effective_until (both inclusive days). Precedence, most
-- specific first: creator and campaign > creator > campaign > tier; within one level the
-- latest effective_from in force on the order's day wins (tracker/commissions/terms.py).
-- The table is rebuilt (creator_id becomes optional); existing rules keep their ids.
CREATE TABLE commission_rules_scoped (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    creator_id TEXT REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    tier TEXT,
    rate_bp INTEGER,
    fixed_minor BIGINT,
    currency TEXT,
    effective_from TEXT NOT NULL,
    effective_until TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
INSERT INTO commission_rules_scoped (id, scope, creator_id, campaign_id, tier, rate_bp,
    fixed_minor, currency, effective_from, effective_until, note, created_at)
SELECT id, 'creator', creator_id, campaign_id, NULL, rate_bp, fixed_minor, currency,
    effective_from, NULL, note, created_at FROM commission_rules;
DROP TABLE commission_rules;
ALTER TABLE commission_rules_scoped RENAME TO commission_rules;
CREATE INDEX commission_rules_creator ON commission_rules (creator_id, effective_from);
-- campaign and tier rules: few, read for every newly credited order
CREATE INDEX commission_rules_shared ON commission_rules (scope, effective_from)
    WHERE creator_id IS NULL;
-- the ROI report reads an order range's commission from the ledger
CREATE INDEX commission_entries_placed ON commission_entries (placed_at);
