-- SQLite's copy of 0092_click_reach_days.sql: the same table WITHOUT ROWID (one B-tree
-- write per new row, as click_days).
--
-- History at scale (issue 19): clicks per (UTC day, link, country, A/B variant), kept by the
-- click writer in the click batch's own transaction beside click_days (migration 0070,
-- tracker/store/rollups.py), so the two never disagree with the clicks after a crash.
-- The Reach page and the ``country`` / ``variant`` reports and filters read it for whole
-- UTC days when they show no unique figure; before it they counted the raw clicks of the
-- range (3.3M rows for 30 days at 10M clicks: 2-6 s).
--
-- country and variant are '' where the click has none (reads turn '' back into NULL).
-- creator_id is the creator of the row's first click (clicks keep theirs).
--   clicks        every click, bots and previewers included (as click_days.clicks)
--   human_clicks  clicks with is_bot = 0
-- No unique counts: a visitor set per country and variant would double the writer's
-- per-visitor work; unique visitors by country are counted from the raw clicks.
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

-- Filled from the clicks already stored (`tracker rollups rebuild` does the same later,
-- a day at a time).
INSERT INTO click_reach_days (day, link_id, country, variant, creator_id, clicks, human_clicks)
SELECT substr(at, 1, 10), link_id, COALESCE(country, ''), COALESCE(variant, ''),
    MAX(creator_id), COUNT(*), SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END)
FROM clicks WHERE link_id IS NOT NULL
GROUP BY substr(at, 1, 10), link_id, COALESCE(country, ''), COALESCE(variant, '');
