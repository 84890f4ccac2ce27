-- Portfolio intelligence, first half (issue 20): collaborations and survey answers.

-- A collaboration: one link or one code shared by several creators, credit split by stated
-- shares (basis points summing to 10,000, checked by the app). A link or a code belongs to
-- at most one collaboration. Reports split at read time, so editing shares needs no
-- reprocessing.
CREATE TABLE collabs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    link_id TEXT UNIQUE REFERENCES links (id),
    code_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE collab_shares (
    collab_id TEXT NOT NULL REFERENCES collabs (id) ON DELETE CASCADE,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    share_bp INTEGER NOT NULL,
    PRIMARY KEY (collab_id, creator_id)
);

-- "How did you hear about us?": the shopper's answer, cropped to 120 characters with
-- e-mail addresses and long digit runs (phones) removed; matched to creators at read time.
ALTER TABLE orders ADD COLUMN survey_answer TEXT;
