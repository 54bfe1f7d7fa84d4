-- Timed actions are claimed with a lease: the process that claims a row owns it until
-- `lease_until`; another process takes it over only once the lease has run out. A failed
-- attempt goes back to `pending` with a later `due_at` and the error kept.
ALTER TABLE timed_actions ADD COLUMN lease_owner TEXT;
ALTER TABLE timed_actions ADD COLUMN lease_until INTEGER;
ALTER TABLE timed_actions ADD COLUMN last_error TEXT;

-- Channels held locked, one row per lockdown and channel. Every row of a channel keeps
-- the channel's overwrites from before its first lockdown, so whichever lockdown ends
-- last puts back the channel as it was, in any order of ending.
CREATE TABLE channel_locks (
    lockdown_id  INTEGER NOT NULL REFERENCES timed_actions (id),
    guild_id     INTEGER NOT NULL,
    channel_id   INTEGER NOT NULL,
    previous     TEXT    NOT NULL,
    PRIMARY KEY (lockdown_id, channel_id)
);
CREATE INDEX channel_locks_channel ON channel_locks (guild_id, channel_id);
