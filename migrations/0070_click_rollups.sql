-- History at scale (issue 19): daily roll-ups of clicks, kept by the click writer in the same
-- transaction as the click batch (tracker/store/rollups.py), so they never disagree with the
-- clicks, even after a crash. Reports and panel pages read them for whole UTC days and the
-- raw clicks only for the partial edges of a range.
--
-- One row per (UTC day, link). day is 'YYYY-MM-DD'; creator_id is the creator of the link's
-- first click that day (clicks keep theirs); last_at is the latest click of the day.
-- The table and two indexes only (the key, and by link): each is written by the click
-- batch, so by the redirect's pace.
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

-- The day's visitors, for the exact unique counts: one row per (day, link, fingerprint) of
-- a human click, hours = a bit per clock hour (UTC) it was seen in, prev = hours before the
-- last change (the PostgreSQL writer reads it back from its upsert, so two nodes adding
-- the same visitor at once still count it once). Holds fingerprints, so the fingerprint
-- retention erases its days with theirs; the day's counts stay in click_days.
CREATE TABLE click_visitors (
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    hours BIGINT NOT NULL,
    prev BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, link_id, fingerprint)
);

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


INSERT INTO click_visitors (day, link_id, fingerprint, hours, prev)
SELECT day, link_id, fingerprint, SUM(bit), 0 FROM (
    SELECT DISTINCT substr(at, 1, 10) AS day, link_id, fingerprint,
        CAST(1 AS BIGINT) * (CASE substr(at, 12, 2)
            WHEN '00' THEN 1 WHEN '01' THEN 2 WHEN '02' THEN 4 WHEN '03' THEN 8
            WHEN '04' THEN 16 WHEN '05' THEN 32 WHEN '06' THEN 64 WHEN '07' THEN 128
            WHEN '08' THEN 256 WHEN '09' THEN 512 WHEN '10' THEN 1024 WHEN '11' THEN 2048
            WHEN '12' THEN 4096 WHEN '13' THEN 8192 WHEN '14' THEN 16384
            WHEN '15' THEN 32768 WHEN '16' THEN 65536 WHEN '17' THEN 131072
            WHEN '18' THEN 262144 WHEN '19' THEN 524288 WHEN '20' THEN 1048576
            WHEN '21' THEN 2097152 WHEN '22' THEN 4194304 ELSE 8388608 END) AS bit
    FROM clicks WHERE link_id IS NOT NULL AND is_bot = 0 AND fingerprint IS NOT NULL
) x GROUP BY day, link_id, fingerprint;
