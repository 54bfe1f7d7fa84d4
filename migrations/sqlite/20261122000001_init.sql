-- steward's store. Snowflakes are INTEGER; every time is INTEGER milliseconds since the
-- Unix epoch (UTC).

-- Cases: one numbered record per sanction or note, numbered per guild (cases are never
-- deleted, so the next number is one past the guild's highest).
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    number        INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('warn', 'timeout', 'kick', 'ban', 'unban',
                      'softban', 'note', 'delete', 'lockdown', 'raid')),
    target_id     INTEGER NOT NULL,
    -- A person, or NULL when steward acted on its own (then `rule` names the rule).
    moderator_id  INTEGER,
    rule          TEXT,
    reason        TEXT    NOT NULL,
    evidence      TEXT,
    normalized    TEXT,
    span_start    INTEGER,
    span_end      INTEGER,
    rules_hash    TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (guild_id, number)
);
CREATE INDEX cases_target ON cases (guild_id, target_id, created_at);

CREATE TABLE case_reason_edits (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    old_reason  TEXT    NOT NULL,
    new_reason  TEXT    NOT NULL,
    editor_id   INTEGER,
    edited_at   INTEGER NOT NULL
);

-- Warnings count toward the escalation ladder until they expire or are pardoned.
CREATE TABLE warnings (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    points         INTEGER NOT NULL CHECK (points > 0),
    reason         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    pardoned_at    INTEGER,
    pardoned_by    INTEGER,
    pardon_reason  TEXT
);
CREATE INDEX warnings_member ON warnings (guild_id, user_id, created_at);

-- Append-only, hash-chained record of everything steward did, tried or refused.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    guild_id   INTEGER,
    actor_id   INTEGER,
    rule       TEXT,
    action     TEXT    NOT NULL,
    phase      TEXT    NOT NULL CHECK (phase IN ('intent', 'done', 'failed', 'refused',
                   'shadow', 'reload', 'record')),
    target_id  INTEGER,
    case_id    INTEGER,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE
);
CREATE INDEX audit_guild ON audit_log (guild_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Ends of temporary sanctions, drained by the scheduler.
CREATE TABLE timed_actions (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('unban', 'end_timeout', 'end_lockdown',
                    'end_raid_mode')),
    target_id   INTEGER,
    detail      TEXT    NOT NULL DEFAULT '{}',
    case_id     INTEGER REFERENCES cases (id),
    due_at      INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running',
                    'done', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER
);
CREATE INDEX timed_actions_due ON timed_actions (state, due_at);

-- Answers to frequent questions, searched with FTS5 (bm25 ranking).
CREATE TABLE faq (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    answer      TEXT    NOT NULL,
    keywords    TEXT    NOT NULL DEFAULT '',
    author_id   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (guild_id, title)
);

CREATE VIRTUAL TABLE faq_fts USING fts5 (
    title, answer, keywords,
    content = 'faq', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER faq_after_insert AFTER INSERT ON faq BEGIN
    INSERT INTO faq_fts (rowid, title, answer, keywords)
    VALUES (new.id, new.title, new.answer, new.keywords);
END;
CREATE TRIGGER faq_after_delete AFTER DELETE ON faq BEGIN
    INSERT INTO faq_fts (faq_fts, rowid, title, answer, keywords)
    VALUES ('delete', old.id, old.title, old.answer, old.keywords);
END;
CREATE TRIGGER faq_after_update AFTER UPDATE ON faq BEGIN
    INSERT INTO faq_fts (faq_fts, rowid, title, answer, keywords)
    VALUES ('delete', old.id, old.title, old.answer, old.keywords);
    INSERT INTO faq_fts (rowid, title, answer, keywords)
    VALUES (new.id, new.title, new.answer, new.keywords);
END;

-- Every distinct rules file steward has run.
CREATE TABLE rules_history (
    id         INTEGER PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    content    TEXT    NOT NULL,
    loaded_at  INTEGER NOT NULL,
    loaded_by  TEXT    NOT NULL
);
