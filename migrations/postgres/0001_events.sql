-- The event log, in postgres-es's layout (the first seven columns, primary key = optimistic
-- concurrency), plus columns that postgres-es never writes and the database fills itself.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Global order of insertion. Not commit order: see tx_id.
    position       bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing transaction. The feed only delivers events of transactions below the oldest
    -- one still running, ordered by (tx_id, position): that order never changes once read.
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    tenant_id      uuid GENERATED ALWAYS AS ((metadata ->> 'tenant_id')::uuid) STORED,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    UNIQUE (position)
);

CREATE INDEX events_feed ON events (tx_id, position);
CREATE INDEX events_by_tenant ON events (tenant_id, position);

-- Identity-verification attempts, for throttling: a row per attempt in progress or failed.
-- Outside the log: a refused command appends nothing, yet the attempt must still count.
CREATE TABLE bind_attempts
(
    attempt_id      text    NOT NULL PRIMARY KEY,
    contact_id      text    NOT NULL,
    attempted_at_ms bigint  NOT NULL
);

CREATE INDEX bind_attempts_by_contact ON bind_attempts (contact_id, attempted_at_ms);
