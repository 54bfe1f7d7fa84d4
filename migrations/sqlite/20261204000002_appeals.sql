-- Appeals members make in Discord against a case, and what the moderators decided.
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    user_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'denied')),
    created_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by INTEGER,
    post_channel_id INTEGER,
    post_message_id INTEGER
);
-- One open appeal per case.
CREATE UNIQUE INDEX appeals_open ON appeals (case_id) WHERE state = 'open';
CREATE INDEX appeals_case ON appeals (case_id, decided_at);
