-- Community counters for /stats, per guild and UTC day (days since the Unix epoch).

-- Messages per channel (`channel_id`), and joins and leaves (`channel_id` 0).
CREATE TABLE daily_counts (
    guild_id    INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    metric      TEXT    NOT NULL CHECK (metric IN ('messages', 'joins', 'leaves')),
    channel_id  INTEGER NOT NULL DEFAULT 0,
    count       INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (guild_id, day, metric, channel_id)
) WITHOUT ROWID;

-- Who wrote at least one message on a day, to count active members over any span. Kept
-- only as long as /stats can look back; older rows are pruned.
CREATE TABLE daily_active (
    guild_id  INTEGER NOT NULL,
    day       INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    PRIMARY KEY (guild_id, day, user_id)
) WITHOUT ROWID;
CREATE INDEX daily_active_day ON daily_active (day);
