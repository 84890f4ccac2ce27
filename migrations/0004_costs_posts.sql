-- Costs per creator (and campaign), content posts per creator.
-- kind: fee | product | commission | labor. amount_minor is the cost in minor units of
-- currency; commission rows carry rate_bp (basis points of attributed net revenue) and
-- are computed at read time; labor rows carry hours and rate_minor (amount = hours x rate).

CREATE TABLE costs (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    rate_bp INTEGER,
    hours_centi BIGINT,
    rate_minor BIGINT,
    incurred_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX costs_creator ON costs (creator_id, incurred_on);

CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES creators (id),
    campaign_id TEXT REFERENCES campaigns (id),
    platform TEXT NOT NULL,
    format TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    posted_at TEXT NOT NULL,
    likes BIGINT NOT NULL DEFAULT 0,
    comments BIGINT NOT NULL DEFAULT 0,
    shares BIGINT NOT NULL DEFAULT 0,
    saves BIGINT NOT NULL DEFAULT 0,
    reach BIGINT,
    impressions BIGINT,
    followers_at_post BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX posts_creator ON posts (creator_id, posted_at);
