-- Live steward processes on this database. Each refreshes its row every second; one
-- silent for longer than its own `timeout_ms` has died, and the timed actions and
-- requests it held are taken over at once rather than when their leases run out.
CREATE TABLE processes (
    owner       TEXT    PRIMARY KEY,
    seen_at     INTEGER NOT NULL,
    timeout_ms  INTEGER NOT NULL
);
