-- Clicks per (closed UTC day, link) broken down by device, OS, browser and referrer host:
-- what ``GET /api/v1/reports/breakdown`` and the panel's Audience page read for sealed days.
--
-- The reach roll-up's twin (migration 0092), sealed with it: the reach job
-- (tracker/clicks/reach.py) recounts a closed day's rows of click_reach_days and of the
-- two tables below from its raw clicks in one transaction and records the day once in
-- click_reach_sealed; a click batch holding a late click of a closed day deletes that seal
-- (the writer is unchanged), so the job recounts all three. Reads take sealed days from here and every other day (today, days not
-- sealed yet, a range's partial edges) from the raw clicks. The click write pays nothing.
--
-- One row per (dimension, day, link, value); dimension is one of device, os, browser,
-- referrer (the clicks' device, os, browser and referrer_host); value is '' where the
-- click has none (no referrer, an empty user agent's OS; reads turn '' into NULL, shown
-- "(none)").
-- creator_id is the creator of the row's clicks. The figures are the report definitions
-- (as click_reach_days'), per (day, link, dimension, value):
--   clicks           every click, bots and previewers included
--   human_clicks     clicks with is_bot = 0
--   unique_clicks    human clicks, one per fingerprint per clock hour (a human click with
--                    no fingerprint counts once on its own)
--   unique_visitors  distinct fingerprints among the human clicks
-- Summed over a range's days and links they are exactly what a count of the raw clicks
-- grouped by the dimension gives (a visitor once per day, link and value).
--
-- Read only for a link, a campaign's links (one seek per link) or a creator (by the index
-- on the creator): a creator's 90 days are a few thousand rows of millions (10 ms); the
-- whole portfolio's breakdown reads click_breakdown_totals. The seal replaces a day's rows
-- by the index on the day.
CREATE TABLE click_breakdown_days (
    dimension TEXT NOT NULL,
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    creator_id TEXT,
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX click_breakdown_days_key ON click_breakdown_days (dimension, link_id, day, value);
CREATE INDEX click_breakdown_days_creator ON click_breakdown_days (dimension, creator_id, day);
CREATE INDEX click_breakdown_days_day ON click_breakdown_days (day);

-- The rows above summed over the links, per (dimension, day, value): the whole
-- portfolio's breakdown, written in the same transaction: 30 days of it are a few hundred
-- rows, where the rows above, grouped by value, were 600,000 rows to sort and 1.2 s on
-- SQLite (2,500 links with 8 referrer hosts each a day, a worst case measured apart).
CREATE TABLE click_breakdown_totals (
    dimension TEXT NOT NULL,
    day TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX click_breakdown_totals_key ON click_breakdown_totals (dimension, day, value);

-- Days sealed before this table have no rows in it: unseal those that still hold raw
-- clicks, so the reach job recounts them (all three tables). Days whose raw clicks retention
-- already deleted keep their reach rows and seal, and have no breakdown.
DELETE FROM click_reach_sealed WHERE day >= (
    SELECT substr(MIN(at), 1, 10) FROM clicks WHERE link_id IS NOT NULL
);
