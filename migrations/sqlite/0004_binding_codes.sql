-- Contact sign-in (api/src/auth): one-time binding codes and the attempt counter behind the
-- rate limits. Outside the event log: they hold secrets (hashed) and refusals, which append
-- nothing to the log yet must still count. Same shape as the Postgres migration; times are
-- milliseconds since the epoch on both backends.

-- One live code per tenant and phone (a new request replaces the previous one). Only the argon2id
-- hash of the code is kept; the plaintext travels in the outbox row's `secret` until it is sent.
CREATE TABLE binding_codes
(
    code_id       text    NOT NULL PRIMARY KEY,
    tenant_id     text    NOT NULL,
    -- A fingerprint of the normalised phone (UUID v5), not the number: the table is looked up by
    -- number but never needs to show one.
    phone_key     text    NOT NULL,
    -- The their-side contact the code binds, resolved when the code was requested.
    contact_id    text    NOT NULL,
    -- The SMS that carries the code (`notification_outbox.message_id`), to cancel it unsent when
    -- the code is replaced or expires.
    message_id    text    NOT NULL,
    -- argon2id, PHC string format.
    code_hash     text    NOT NULL,
    -- Verification attempts so far; the code is dead at 5.
    tries         integer NOT NULL DEFAULT 0,
    created_at_ms integer NOT NULL,
    expires_at_ms integer NOT NULL
) STRICT;

CREATE INDEX binding_codes_by_phone ON binding_codes (tenant_id, phone_key);
CREATE INDEX binding_codes_by_expiry ON binding_codes (expires_at_ms);

-- Sign-in attempts, one row per attempt in progress or failed, per subject: a phone of a tenant
-- (`phone:<fingerprint>`), a client address (`addr:<ip or IPv6 /64>`) or a contact
-- (`contact:<id>`). In the database so that every API node counts the same attempts.
CREATE TABLE auth_attempts
(
    attempt_id      text    NOT NULL PRIMARY KEY,
    subject         text    NOT NULL,
    attempted_at_ms integer NOT NULL
) STRICT;

CREATE INDEX auth_attempts_by_subject ON auth_attempts (subject, attempted_at_ms);
CREATE INDEX auth_attempts_by_time ON auth_attempts (attempted_at_ms);

-- Finding the contact of a phone within a tenant (requestBindingCode) without a scan.
CREATE INDEX outbox_contacts_by_phone ON outbox_contacts (tenant_id, phone);
