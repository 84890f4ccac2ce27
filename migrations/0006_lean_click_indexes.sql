-- Fewer, append-only B-trees per click (issue 8).
--
-- Every click row used to land in six B-trees. The three keyed by link, creator and
-- fingerprint put each click on a random page, about 10-20 us of SQLite CPU per index per
-- click (bench/writes.py) - more than the whole rest of the redirect. What stays:
--
-- * the table and its primary key (click ids are time-ordered: both grow at their end);
-- * clicks_at on (at, link_id, is_bot), also growing at its end: every date-range question
--   (reports, charts, retention) and every per-link count reads it without touching the
--   table, and per-link or per-creator questions filter it by link;
-- * the fingerprint index, only over what attribution searches: human clicks on a creator's
--   link (bots, previewers and orphan visits never match an order).

DROP INDEX clicks_link_at;
DROP INDEX clicks_creator_at;
DROP INDEX clicks_fingerprint_at;
DROP INDEX clicks_at;
CREATE INDEX clicks_at ON clicks (at, link_id, is_bot);
CREATE INDEX clicks_fingerprint_human ON clicks (fingerprint, at)
    WHERE is_bot = 0 AND creator_id IS NOT NULL;
