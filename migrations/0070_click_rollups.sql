-- History at scale (issue 19): daily roll-ups of clicks, kept by the click writer in the same
-- transaction as the click batch (tracker/store/rollups.py), so they never disagree with the
-- clicks, even after a crash. Reports and panel pages read them for whole UTC days and the
-- raw clicks only for the partial edges of a range.
--
-- One row per (UTC day, link). day is 'YYYY-MM-DD'; creator_id is the creator of the day's
-- clicks (clicks keep theirs); last_at is the latest click of the day.
--   clicks           every click on the link that day, bots and previewers included
--   human_clicks     clicks with is_bot = 0
--   unique_clicks    human clicks, one per fingerprint per clock hour (a human click with no
--                    fingerprint counts once on its own)
--   unique_visitors  distinct fingerprints among the human clicks of that day
-- The key is a UNIQUE index, not the primary key, so a later dimension (a country column,
-- say) is one migration: ADD COLUMN country TEXT NOT NULL DEFAULT '', then the index
-- rebuilt on (day, link_id, country) and the writer's ON CONFLICT target widened.
CREATE TABLE click_days (
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    creator_id TEXT,
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0,
    last_at TEXT NOT NULL
);
CREATE UNIQUE INDEX click_days_key ON click_days (day, link_id);
CREATE INDEX click_days_link ON click_days (link_id, day);
CREATE INDEX click_days_creator ON click_days (creator_id, day);

-- Filled from the clicks already stored (one pass; `tracker rollups rebuild` does the same
-- later, a day at a time). unique_* follow the definitions above.
INSERT INTO click_days (day, link_id, creator_id, clicks, human_clicks, unique_clicks,
                        unique_visitors, last_at)
SELECT substr(at, 1, 10), link_id, MAX(creator_id), COUNT(*),
    SUM(CASE WHEN is_bot = 0 THEN 1 ELSE 0 END),
    COUNT(DISTINCT CASE WHEN is_bot = 0
        THEN COALESCE(fingerprint, id) || '|' || substr(at, 12, 2) END),
    COUNT(DISTINCT CASE WHEN is_bot = 0 THEN fingerprint END),
    MAX(at)
FROM clicks WHERE link_id IS NOT NULL GROUP BY substr(at, 1, 10), link_id;

-- The writer finds a visitor's earlier clicks of the day on a link through the fingerprint
-- index; it held only human clicks on links with a creator (what attribution searches),
-- now every human click, so links without a creator get unique counts too. Attribution's
-- queries (is_bot = 0 AND creator_id IS NOT NULL) still use it.
DROP INDEX clicks_fingerprint_human;
CREATE INDEX clicks_fingerprint_human ON clicks (fingerprint, at) WHERE is_bot = 0;
