-- Identity (dinghuo-identity): the one rate limiter counts in `auth_attempts` (migration 0004),
-- so the write side's own counter of bind guesses goes; and sign-in sessions. Same shape as the
-- Postgres migration; times are milliseconds since the epoch on both backends.

DROP TABLE bind_attempts;

-- One row per signed-in token: a token names its session (`sid`), and is refused once the
-- session is revoked (signOut, a password change) or expired. Outside the event log: a session
-- is not a business fact, and nothing here is replayed.
CREATE TABLE sessions
(
    session_id            text    NOT NULL PRIMARY KEY,
    -- The actor the session signs in (a contact id for contacts and staff).
    subject_id            text    NOT NULL,
    tenant_id             text,
    role                  text    NOT NULL,
    -- Such a session may only change its password (a password someone else chose, sent by SMS).
    must_change_password  integer NOT NULL,
    created_at_ms         integer NOT NULL,
    expires_at_ms         integer NOT NULL,
    revoked_at_ms         integer,
    -- Why it was revoked: `SIGNED_OUT`, `PASSWORD_CHANGED`, `UNBOUND`.
    revoked_reason        text
) STRICT;

CREATE INDEX sessions_by_subject ON sessions (subject_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms);
