-- Clicks partitioned by month (issue 19), converting a populated table in place.
--
-- Each month of clicks is its own table (clicks_YYYY_MM, bounds on the text `at`, which
-- sorts as time: '2026-11' <= at < '2026-12'), so a range query reads only its months'
-- indexes (partition pruning), and retention drops a whole month with DROP TABLE instead of
-- deleting millions of rows. clicks_default catches a click of a month without its table
-- (the writer creates the current and next months' tables ahead: tracker/store/partitions.py
-- moves any such rows into the month's table when it creates it).
--
-- The primary key of a partitioned table must hold the partition key: (id, at). Click ids
-- are made once per click, so this is as unique as id alone; the writer's insert says
-- ON CONFLICT DO NOTHING without a target.
ALTER TABLE clicks RENAME TO clicks_unpartitioned;
ALTER INDEX clicks_pkey RENAME TO clicks_unpartitioned_pkey;
ALTER INDEX clicks_at RENAME TO clicks_unpartitioned_at;
ALTER INDEX clicks_fingerprint_human RENAME TO clicks_unpartitioned_fingerprint;
CREATE TABLE clicks (LIKE clicks_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (at);
ALTER TABLE clicks ADD PRIMARY KEY (id, at);
CREATE INDEX clicks_at ON clicks (at, link_id, is_bot);
CREATE INDEX clicks_fingerprint_human ON clicks (fingerprint, at) WHERE is_bot = 0;
CREATE TABLE clicks_default PARTITION OF clicks DEFAULT;
DO $$
DECLARE
    m TEXT;
BEGIN
    FOR m IN
        SELECT DISTINCT substr(at, 1, 7) FROM clicks_unpartitioned
        UNION
        SELECT to_char((now() AT TIME ZONE 'UTC') + make_interval(months => k), 'YYYY-MM')
        FROM generate_series(0, 2) AS k
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)',
            'clicks_' || replace(m, '-', '_'),
            m,
            to_char(to_date(m || '-01', 'YYYY-MM-DD') + interval '1 month', 'YYYY-MM')
        );
    END LOOP;
END
$$;
INSERT INTO clicks SELECT * FROM clicks_unpartitioned;
DROP TABLE clicks_unpartitioned;
