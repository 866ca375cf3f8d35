//! `rm_onboarding_partners`: when each customer reached each step of the onboarding funnel —
//! customer recorded → partner added → ordering assigned → first their-side contact added →
//! first contact bound → first order. Each time is the first time; later steps never reset it.
//! The funnel per tenant (counts and median times between steps) is a query over this table;
//! `docs/read-models.md` gives it.

use async_trait::async_trait;
use dinghuo_domain::contact::ContactEvent;
use dinghuo_domain::partner::PartnerEvent;
use dinghuo_domain::{App, Side};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Rows, Tx};

use super::event::decode;
use super::submissions::{self, CountsSubmissions};
use crate::projection::{Projection, ProjectionError, RebuildFold, TableNames};

#[derive(Debug, Clone, Copy)]
pub struct OnboardingProjection;

#[async_trait]
impl Projection for OnboardingProjection {
    fn name(&self) -> &'static str {
        "onboarding"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["onboarding_partners", "onboarding_contacts"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let time = dialect.time_type();
        let partners = names.table("onboarding_partners");
        let contacts = names.table("onboarding_contacts");
        vec![
            format!(
                "CREATE TABLE {partners} (
                    partner_id             text   NOT NULL PRIMARY KEY,
                    tenant_id              text   NOT NULL,
                    customer_recorded_at   {time} NOT NULL,
                    partner_added_at       {time},
                    ordering_assigned_at   {time},
                    first_contact_added_at {time},
                    first_contact_bound_at {time},
                    first_order_at         {time},
                    -- The same moments as milliseconds since the epoch, so that durations
                    -- between steps are plain integer arithmetic on both backends.
                    customer_recorded_ms   bigint NOT NULL,
                    partner_added_ms       bigint,
                    ordering_assigned_ms   bigint,
                    first_contact_added_ms bigint,
                    first_contact_bound_ms bigint,
                    first_order_ms         bigint
                )"
            ),
            // Which partner a their-side contact belongs to, to credit its binding.
            format!(
                "CREATE TABLE {contacts} (
                    contact_id text NOT NULL,
                    partner_id text NOT NULL,
                    PRIMARY KEY (contact_id, partner_id)
                )"
            ),
        ]
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![format!(
            "CREATE INDEX {} ON {} (tenant_id)",
            names.index("onboarding_partners", "tenant"),
            names.table("onboarding_partners")
        )]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, names, std::slice::from_ref(event))
            .await
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        submissions::apply_batch(*self, tx, names, events).await
    }

    /// Submission runs span pages (see [`submissions::SubmissionsFold`]).
    fn rebuild_fold(&self) -> Option<Box<dyn RebuildFold>> {
        Some(Box::new(submissions::SubmissionsFold::new(*self)))
    }
}

#[async_trait]
impl CountsSubmissions for OnboardingProjection {
    const OTHER_AGGREGATES: &'static [&'static str] = &["Partner", "Contact"];

    async fn write_submissions(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        rows: Rows,
    ) -> Result<(), ProjectionError> {
        let table = names.table("onboarding_partners");
        tx.defer_rows(
            &table,
            rows,
            &format!(
                // Only partners without a first order yet: the others' rows stay untouched
                // instead of being rewritten with the values they hold.
                "UPDATE {table} SET first_order_at = v.first_at, first_order_ms = v.first_ms
                   FROM v WHERE {table}.partner_id = v.partner_id
                    AND {table}.first_order_at IS NULL"
            ),
        )
        .await?;
        Ok(())
    }

    async fn apply_other(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let partners = names.table("onboarding_partners");
        let contacts = names.table("onboarding_contacts");
        let at = Arg::from(event.recorded_at);
        let ms = Arg::from(event.recorded_at.timestamp_millis());
        // Sets step `column` (and its `_ms` twin) unless the partner reached that step before.
        let first = |column: &str| {
            let millis = column.replace("_at", "_ms");
            format!(
                "UPDATE {partners} SET {column} = COALESCE({column}, $2),
                    {millis} = COALESCE({millis}, $3) WHERE partner_id = $1"
            )
        };
        if let Some(partner) = decode::<PartnerEvent>(event, "Partner")? {
            let id = Arg::from(event.aggregate_id.as_str());
            match partner {
                PartnerEvent::CustomerRecorded { tenant_id, .. } => {
                    tx.execute(
                        &format!(
                            "INSERT INTO {partners} (partner_id, tenant_id, customer_recorded_at,
                                customer_recorded_ms) VALUES ($1, $2, $3, $4)"
                        ),
                        &[id, tenant_id.to_string().into(), at, ms],
                    )
                    .await?;
                }
                PartnerEvent::PartnerAdded { .. } => {
                    tx.execute(&first("partner_added_at"), &[id, at, ms])
                        .await?;
                }
                PartnerEvent::AppAssigned { app: App::Ordering } => {
                    tx.execute(&first("ordering_assigned_at"), &[id, at, ms])
                        .await?;
                }
                _ => {}
            }
        } else if let Some(contact) = decode::<ContactEvent>(event, "Contact")? {
            let id = Arg::from(event.aggregate_id.as_str());
            match contact {
                ContactEvent::PartnerContactAdded {
                    partner_id,
                    side: Side::Theirs,
                    ..
                } => {
                    tx.execute(
                        &format!(
                            "INSERT INTO {contacts} (contact_id, partner_id) VALUES ($1, $2)
                             ON CONFLICT (contact_id, partner_id) DO NOTHING"
                        ),
                        &[id, partner_id.to_string().into()],
                    )
                    .await?;
                    tx.execute(
                        &first("first_contact_added_at"),
                        &[partner_id.to_string().into(), at, ms],
                    )
                    .await?;
                }
                ContactEvent::ContactBound { .. } => {
                    tx.execute(
                        &format!(
                            "UPDATE {partners}
                                SET first_contact_bound_at = COALESCE(first_contact_bound_at, $2),
                                    first_contact_bound_ms = COALESCE(first_contact_bound_ms, $3)
                              WHERE partner_id IN
                                    (SELECT partner_id FROM {contacts} WHERE contact_id = $1)"
                        ),
                        &[id, at, ms],
                    )
                    .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
