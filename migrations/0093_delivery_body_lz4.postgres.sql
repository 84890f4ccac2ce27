-- A delivery's audit body (a scrubbed Shopify order is ~26 KB) was compressed by pglz on
-- every signed postback: ~0.3 ms of PostgreSQL CPU an order, its largest statement
-- (bench/engines.py, pg_stat_statements). lz4 compresses it several times faster. Servers
-- built without lz4 keep pglz (the statement is skipped, not failed).
DO $$
BEGIN
    ALTER TABLE deliveries ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: deliveries.body keeps pglz';
END
$$;
