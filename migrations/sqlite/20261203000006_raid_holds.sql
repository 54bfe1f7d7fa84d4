-- Timed actions may also take back a quarantine role (a raid hold) and put back a
-- crowded channel's slowmode. SQLite cannot change a CHECK constraint in place: the table
-- is rebuilt with the same rows and ids. The lockdowns' channel rows point at these ids:
-- they are set aside while the table is rebuilt and put back after.
CREATE TEMP TABLE saved_channel_locks AS SELECT * FROM channel_locks;
DELETE FROM channel_locks;

CREATE TABLE timed_actions_new (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('unban', 'end_timeout', 'end_lockdown',
                    'end_raid_mode', 'end_quarantine', 'end_slowmode')),
    target_id   INTEGER,
    detail      TEXT    NOT NULL DEFAULT '{}',
    case_id     INTEGER REFERENCES cases (id),
    due_at      INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running',
                    'done', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error  TEXT
);
INSERT INTO timed_actions_new (id, guild_id, kind, target_id, detail, case_id, due_at, state,
                               attempts, finished_at, lease_owner, lease_until, last_error)
    SELECT id, guild_id, kind, target_id, detail, case_id, due_at, state, attempts,
           finished_at, lease_owner, lease_until, last_error
    FROM timed_actions;
DROP TABLE timed_actions;
ALTER TABLE timed_actions_new RENAME TO timed_actions;
CREATE INDEX timed_actions_due ON timed_actions (state, due_at);
INSERT INTO channel_locks (lockdown_id, guild_id, channel_id, previous)
    SELECT lockdown_id, guild_id, channel_id, previous FROM saved_channel_locks;
DROP TABLE saved_channel_locks;
