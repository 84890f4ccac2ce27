-- PostgreSQL only (0071_clicks_by_month.postgres.sql): clicks partitioned by month.
-- SQLite keeps one clicks table; its retention deletes old rows in batches.
SELECT 1;
