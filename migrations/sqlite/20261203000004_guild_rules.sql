-- Each server's own rules, as its admins uploaded them; every upload is kept. The
-- newest row of a server is in force; an empty `content` means the defaults again.
CREATE TABLE guild_rules (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    content      TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    uploaded_by  INTEGER NOT NULL,
    uploaded_at  INTEGER NOT NULL
);
CREATE INDEX guild_rules_guild ON guild_rules (guild_id, id);
