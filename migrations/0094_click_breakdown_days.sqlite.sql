-- SQLite's copy of 0094_click_breakdown_days.sql (what the tables hold, how they are kept
-- and read, and why: there): the two roll-ups WITHOUT ROWID, as 0092's (one B-tree write
-- per new row; a link's or the portfolio's rows read straight from the key).
CREATE TABLE click_breakdown_days (
    dimension TEXT NOT NULL,
    day TEXT NOT NULL,
    link_id TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    creator_id TEXT,
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dimension, link_id, day, value)
) WITHOUT ROWID;
CREATE INDEX click_breakdown_days_creator ON click_breakdown_days (dimension, creator_id, day);
CREATE INDEX click_breakdown_days_day ON click_breakdown_days (day);

CREATE TABLE click_breakdown_totals (
    dimension TEXT NOT NULL,
    day TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    clicks BIGINT NOT NULL DEFAULT 0,
    human_clicks BIGINT NOT NULL DEFAULT 0,
    unique_clicks BIGINT NOT NULL DEFAULT 0,
    unique_visitors BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dimension, day, value)
) WITHOUT ROWID;

-- The days still holding raw clicks unsealed, for the reach job to recount (see 0094).
DELETE FROM click_reach_sealed WHERE day >= (
    SELECT substr(MIN(at), 1, 10) FROM clicks WHERE link_id IS NOT NULL
);
