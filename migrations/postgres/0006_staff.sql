-- Staff sign-in (dinghuo-identity `staff`): the password a tenant's admin or employee chose,
-- one per person (phone), whichever tenants it is staff of. Outside the event log: events never
-- carry secrets. Same shape as the SQLite migration; times are milliseconds since the epoch.
CREATE TABLE staff_credentials
(
    -- The normalised phone the person signs in with.
    phone          text   NOT NULL PRIMARY KEY,
    -- argon2id, PHC string.
    password_hash  text   NOT NULL,
    updated_at_ms  bigint NOT NULL
);
