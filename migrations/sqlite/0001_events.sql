-- The event log, in sqlite-es's layout (the first seven columns, primary key = optimistic
-- concurrency), plus columns that sqlite-es never writes and the database fills itself.
CREATE TABLE events
(
    aggregate_type text                          NOT NULL,
    aggregate_id   text                          NOT NULL,
    sequence       integer CHECK (sequence >= 0) NOT NULL,
    event_type     text                          NOT NULL,
    event_version  text                          NOT NULL,
    payload        text                          NOT NULL,
    metadata       text                          NOT NULL,
    -- Global order, assigned by the trigger below inside the writing transaction. SQLite has a
    -- single writer, so position order is commit order.
    position       integer,
    recorded_at    text                          NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    tenant_id      text GENERATED ALWAYS AS (json_extract(metadata, '$.tenant_id')) STORED,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE UNIQUE INDEX events_position ON events (position);
CREATE INDEX events_by_tenant ON events (tenant_id, position);

-- Not the implicit rowid: VACUUM may renumber rowids, positions must never change.
CREATE TRIGGER events_assign_position
    AFTER INSERT ON events
BEGIN
    UPDATE events
    SET position = (SELECT IFNULL(MAX(position), 0) + 1 FROM events)
    WHERE rowid = NEW.rowid;
END;

-- Identity-verification attempts, for throttling: a row per attempt in progress or failed.
-- Outside the log: a refused command appends nothing, yet the attempt must still count.
CREATE TABLE bind_attempts
(
    attempt_id      text    NOT NULL PRIMARY KEY,
    contact_id      text    NOT NULL,
    attempted_at_ms integer  NOT NULL
) STRICT;

CREATE INDEX bind_attempts_by_contact ON bind_attempts (contact_id, attempted_at_ms);
