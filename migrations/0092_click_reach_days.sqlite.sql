-- SQLite's copy of 0092_click_reach_days.sql: the roll-up WITHOUT ROWID (one B-tree write
-- per new row, as click_days).
--
-- History at scale (issue 19): clicks per (UTC day, link, country, A/B variant), what the
-- Reach page and the ``country`` / ``variant`` reports and filters read for whole UTC days;
-- before it they counted the raw clicks of the range (3.3M rows for 30 days at 10M
-- clicks: 2-6 s for the page, 50-70 s for the API's report with unique visitors).
--
-- Kept for *closed* days only (a day is closed an hour after it ends, UTC): the
-- ``reach`` job (tracker/clicks/reach.py) recounts each closed day that still holds raw
-- clicks from them, once (the count read outside any write transaction, the rows written
-- in one short one that also records the day in click_reach_sealed); reads take sealed
-- days from here and every other day (today, days not sealed yet) from the raw clicks. A
-- click batch holding a click of a closed day (a writer backlog) deletes that day's seal
-- in its own transaction, so the job recounts it. The redirect's click write pays nothing
-- for this table: kept per click, as click_days is, it cost 8-15 us more SQLite CPU per
-- click (one upsert per click: with thousands of links a batch's keys are nearly all
-- distinct), and its unique counts would have needed a visitor set per country.
--
-- country and variant are '' where the click has none (reads turn '' back into NULL).
-- creator_id is the creator of the row's clicks (clicks keep theirs). The figures are the
-- report definitions (as click_days'), per (day, link, country, variant):
--   clicks           every click, bots and previewers included
--   human_clicks     clicks with is_bot = 0
--   unique_clicks    human clicks, one per fingerprint per clock hour (a human click with
--                    no fingerprint counts once on its own)
--   unique_visitors  distinct fingerprints among the human clicks
-- Summed over a range's days and links they are exactly what a count of the raw clicks
-- grouped by country or variant gives (a visitor once per day and link).
CREATE TABLE click_reach_days (
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    variant TEXT NOT NULL DEFAULT '',
    creator_id TEXT,
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, link_id, country, variant)
) WITHOUT ROWID;

-- The days whose rows above are complete ('YYYY-MM-DD').
CREATE TABLE click_reach_sealed (
    day TEXT NOT NULL PRIMARY KEY,
    sealed_at TEXT NOT NULL
);
