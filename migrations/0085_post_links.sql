-- Issue 20: a content post may name the tracking link it carried, so the post's clicks (human
-- or not) and the orders they brought can be judged beside its likes and comments.
ALTER TABLE posts ADD COLUMN link_id TEXT REFERENCES links (id);
CREATE INDEX posts_link ON posts (link_id, posted_at);
