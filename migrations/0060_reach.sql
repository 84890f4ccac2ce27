-- Reach (issue 17): the country of each click and the targeting rule or A/B variant that
-- chose its destination; per link, its targeting (ordered rules, weighted variants) and the
-- option that sends the shopper through the shop's code-applying URL.
--
-- No index on the new click columns: every click would pay for it on the hot write path,
-- and the country and variant reports read a date range through clicks_at like the others.

ALTER TABLE clicks ADD COLUMN country TEXT;
ALTER TABLE clicks ADD COLUMN variant TEXT;
-- JSON text: {"rules": [...], "variants": [...]} (tracker/links/targeting.py), NULL for none.
ALTER TABLE links ADD COLUMN targeting TEXT;
-- JSON text: {"kind": "shopify" | "woocommerce" | "template", "code": ..., ...}
-- (tracker/links/apply.py), NULL for a plain link.
ALTER TABLE links ADD COLUMN apply_code TEXT;
