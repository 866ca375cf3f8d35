-- One row per projection (and per rebuild in progress, named `<name>@rebuild`): how far it has
-- read the feed, and in what state it is. Updated in the same transaction as its read models.
CREATE TABLE projection_checkpoints
(
    name           text    NOT NULL PRIMARY KEY,
    tx_id          integer NOT NULL DEFAULT 0,
    position       integer NOT NULL DEFAULT 0,
    -- The projection's schema version its tables were built with; a change triggers a rebuild.
    schema_version integer NOT NULL,
    -- running | failed
    state          text    NOT NULL DEFAULT 'running',
    error          text,
    -- When the last event it applied was recorded, for lag in seconds.
    last_event_at  text,
    updated_at     text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
