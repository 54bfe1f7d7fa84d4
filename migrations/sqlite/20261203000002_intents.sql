-- Every request to Discord that changes a member or a channel, stored before it is sent
-- and closed with its outcome. A row still `open` at start belongs to a run that died
-- mid-call: once it is older than any live call can be, it is completed (requests that
-- set a state are sent again) or recorded as failed.
CREATE TABLE sanction_intents (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    request      TEXT    NOT NULL,
    case_id      INTEGER REFERENCES cases (id),
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'refused',
                     'failed')),
    -- The process completing a row left open by another; while `lease_until` lies ahead
    -- no other process takes it.
    lease_owner  TEXT,
    lease_until  INTEGER,
    finished_at  INTEGER,
    note         TEXT
);
CREATE INDEX sanction_intents_open ON sanction_intents (state, created_at);
