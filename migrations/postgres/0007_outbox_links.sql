-- The their-side partner links of each contact, as the notifications reactor knows them: when a
-- contact's phone changes, the reactor queues the partner's invitation again, to the new number
-- (DESIGN §4: a changed phone clears the binding and re-sends the SMS).
CREATE TABLE outbox_partner_links
(
    contact_id text NOT NULL,
    partner_id text NOT NULL,
    -- The partner's mode when the link was made: TENANTLESS | TENANT.
    mode       text NOT NULL,
    PRIMARY KEY (contact_id, partner_id)
);

-- The links the log holds now: each (contact, partner) whose last link event is an addition on
-- their side.
INSERT INTO outbox_partner_links (contact_id, partner_id, mode)
SELECT contact_id, partner_id, mode
  FROM (SELECT aggregate_id AS contact_id,
               COALESCE(payload -> 'PartnerContactAdded' ->> 'partner_id',
                        payload -> 'PartnerContactRemoved' ->> 'partner_id') AS partner_id,
               event_type,
               payload -> 'PartnerContactAdded' ->> 'side' AS side,
               payload -> 'PartnerContactAdded' ->> 'mode' AS mode,
               row_number() OVER (
                   PARTITION BY aggregate_id,
                                COALESCE(payload -> 'PartnerContactAdded' ->> 'partner_id',
                                         payload -> 'PartnerContactRemoved' ->> 'partner_id')
                   ORDER BY sequence DESC) AS latest
          FROM events
         WHERE aggregate_type = 'Contact'
           AND event_type IN ('PartnerContactAdded', 'PartnerContactRemoved')) AS link_events
 WHERE latest = 1 AND event_type = 'PartnerContactAdded' AND side = 'THEIRS'
ON CONFLICT DO NOTHING;
