-- SQLite's copy of 0092_click_reach_days.sql: the roll-up WITHOUT ROWID (one B-tree write
-- per new row, as click_days).
--
-- History at scale (issue 19): clicks per (UTC day, link, country, A/B variant), what the
-- Reach page and the ``country`` / ``variant`` reports and filters read for whole UTC days
-- when they show no unique figure; before it they counted the raw clicks of the range
-- (3.3M rows for 30 days at 10M clicks: 2-6 s).
--
-- Kept for *closed* days only (a day is closed an hour after it ends, UTC): the
-- ``reach`` job (tracker/clicks/reach.py) recounts each closed day that still holds raw
-- clicks from them, once, in one transaction that also records the day in
-- click_reach_sealed; reads take sealed days from here and every other day (today, and
-- days not sealed yet) from the raw clicks. A click that arrives for a closed day (a
-- writer backlog) is added by the click writer in its batch's transaction, so a sealed
-- day stays equal to its recount. The redirect's click write pays nothing for this table:
-- kept by the writer for every click it cost 8-15 us more SQLite CPU per click (one
-- upsert per click: with thousands of links a batch's keys are nearly all distinct).
--
-- country and variant are '' where the click has none (reads turn '' back into NULL).
-- creator_id is the creator of the row's clicks (clicks keep theirs).
--   clicks        every click, bots and previewers included (as click_days.clicks)
--   human_clicks  clicks with is_bot = 0
-- No unique counts: unique visitors by country are counted from the raw clicks.
CREATE TABLE click_reach_days (
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    variant TEXT NOT NULL DEFAULT '',
    creator_id TEXT,
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, link_id, country, variant)
) WITHOUT ROWID;

-- The days whose rows above are complete ('YYYY-MM-DD').
CREATE TABLE click_reach_sealed (
    day TEXT NOT NULL PRIMARY KEY,
    sealed_at TEXT NOT NULL
);
