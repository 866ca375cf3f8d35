-- The notifications reactor (projections/src/outbox): the SMS outbox, the platform accounts it
-- provisions, and the small lookup tables it keeps for itself. A reactor is never rebuilt, so its
-- tables live here rather than under the `rm_` prefix of the replayable read models.

-- One row per message to send. The reactor inserts it in the same transaction as its checkpoint;
-- the dispatcher sends it later, retrying with backoff.
CREATE TABLE notification_outbox
(
    -- Deterministic from the event that caused it (`sms:<contact_id>:<sequence>`), so a batch
    -- applied twice after a crash cannot queue a message twice; also the provider's dedup key.
    message_id          text        NOT NULL PRIMARY KEY,
    tenant_id           text        NOT NULL,
    contact_id          text        NOT NULL,
    partner_id          text        NOT NULL,
    channel             text        NOT NULL DEFAULT 'SMS' CHECK (channel IN ('SMS')),
    -- PARTNER_CONTACT_TENANTLESS | PARTNER_CONTACT_TENANT | PARTNER_CONTACT_TENANT_EXISTING
    template            text        NOT NULL,
    -- The recipient: the contact's normalised phone when the message was queued.
    phone               text        NOT NULL,
    -- The text without secrets; a tenant-mode text holds the placeholder `{password}`.
    body                text        NOT NULL,
    -- The one-time initial password, substituted into the body in memory when sending. NULL once
    -- the message is SENT or FAILED. Never returned by an API, never logged.
    secret              text,
    -- PENDING → SENDING → SENT, or back to PENDING for a retry, or FAILED after the last attempt.
    status              text        NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'SENDING', 'SENT', 'FAILED')),
    -- Attempts started (a claim counts one, so a dispatcher that keeps crashing on a message
    -- still reaches the limit). Also fences a dispatcher whose lease was taken over.
    attempts            integer     NOT NULL DEFAULT 0,
    -- PENDING: when the next attempt is due. SENDING: when the claim's lease expires and another
    -- dispatcher may take the message over.
    next_attempt_at     timestamptz NOT NULL,
    last_error          text,
    queued_at           timestamptz NOT NULL,
    sent_at             timestamptz,
    provider_message_id text,
    CHECK (status IN ('PENDING', 'SENDING') OR secret IS NULL)
);

CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE status IN ('PENDING', 'SENDING');
CREATE INDEX notification_outbox_by_contact ON notification_outbox (tenant_id, contact_id);

-- The outbox as analysts and the API may see it: no secret, the phone masked.
CREATE VIEW notification_messages AS
SELECT message_id, tenant_id, contact_id, partner_id, channel, template,
       substr(phone, 1, 3) || '****' || substr(phone, 8) AS phone_masked,
       body, status, attempts, next_attempt_at, last_error, queued_at, sent_at,
       provider_message_id
  FROM notification_outbox;

-- Platform accounts of their-side contacts of tenant-mode partners. Outside the event log:
-- events never carry secrets.
CREATE TABLE credentials
(
    contact_id           text        NOT NULL PRIMARY KEY,
    tenant_id            text        NOT NULL,
    -- The contact's normalised phone; follows the contact's phone when it changes.
    login                text        NOT NULL,
    -- argon2id, PHC string format (`$argon2id$v=19$m=…`).
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL,
    created_at           timestamptz NOT NULL
);

CREATE INDEX credentials_by_login ON credentials (login);

-- What the reactor needs to know when a contact is added, as it stood at that point of the log.
CREATE TABLE outbox_contacts
(
    contact_id text NOT NULL PRIMARY KEY,
    tenant_id  text NOT NULL,
    name       text NOT NULL,
    phone      text
);

CREATE TABLE outbox_tenants
(
    tenant_id text NOT NULL PRIMARY KEY,
    name      text NOT NULL
);

-- The tenant's WeChat official accounts; the tenantless text names the latest bound one.
CREATE TABLE outbox_wechat_accounts
(
    tenant_id      text   NOT NULL,
    app_id         text   NOT NULL,
    name           text   NOT NULL,
    bound_position bigint NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);
