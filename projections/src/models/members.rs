//! `rm_members`: the tenants' staff who sign in as themselves (admins and invited employees),
//! one row per membership (a phone in a tenant), active or revoked. Like every read model, it
//! never holds a full phone number: a masked one to show, and a fingerprint to find it by. Sign-in finds a phone's
//! memberships here and then checks each on its committed events, so a lagging row never lets
//! anyone in.

use async_trait::async_trait;
use dinghuo_domain::member::{MemberEvent, StaffRole};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};

use super::event::decode;
use crate::fingerprint::phone_fingerprint;
use crate::projection::{Projection, ProjectionError, TableNames};

pub struct MembersProjection;

#[async_trait]
impl Projection for MembersProjection {
    fn name(&self) -> &'static str {
        "members"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["members"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean) = (dialect.time_type(), dialect.bool_type());
        let table = names.table("members");
        vec![
            format!(
                "CREATE TABLE {table} (
                    member_id    text    NOT NULL PRIMARY KEY,
                    tenant_id    text    NOT NULL,
                    role         text    NOT NULL,
                    name         text    NOT NULL,
                    phone_masked text    NOT NULL,
                    -- Never the number: its fingerprint, which sign-in finds a phone by.
                    phone_fingerprint text NOT NULL,
                    contact_id   text,
                    actor_id     text    NOT NULL,
                    active       {boolean} NOT NULL,
                    added_at     {time}  NOT NULL,
                    revoked_at   {time},
                    updated_at   {time}  NOT NULL
                )"
            ),
            format!(
                "CREATE INDEX {} ON {table} (phone_fingerprint)",
                names.index("members", "phone")
            ),
            format!(
                "CREATE UNIQUE INDEX {} ON {table} (tenant_id, name, member_id)",
                names.index("members", "tenant_name")
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(member) = decode::<MemberEvent>(event, "Member")? else {
            return Ok(());
        };
        let table = names.table("members");
        let id = event.aggregate_id.as_str();
        let at = Arg::from(event.recorded_at);
        let (tenant, role, name, phone, contact) = match member {
            MemberEvent::TenantAdminCreated {
                tenant_id,
                name,
                phone,
            } => (tenant_id, StaffRole::Admin, name, phone, None),
            MemberEvent::EmployeeInvited {
                tenant_id,
                contact_id,
                name,
                phone,
            } => (
                tenant_id,
                StaffRole::Employee,
                name,
                phone,
                Some(contact_id),
            ),
            MemberEvent::StaffAccessRevoked => {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET active = $2, revoked_at = $3, updated_at = $3
                          WHERE member_id = $1"
                    ),
                    &[id.into(), false.into(), at],
                )
                .await?;
                return Ok(());
            }
        };
        // An employee acts as its contact, an admin as its membership (DESIGN §4, Identity).
        let actor = contact.map_or_else(|| id.to_owned(), |contact| contact.to_string());
        tx.execute(
            &format!(
                "INSERT INTO {table} (member_id, tenant_id, role, name, phone_masked, phone_fingerprint,
                                      contact_id, actor_id, active, added_at, revoked_at,
                                      updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $10)
                 ON CONFLICT (member_id) DO UPDATE
                    SET role = excluded.role, name = excluded.name,
                        contact_id = excluded.contact_id, actor_id = excluded.actor_id,
                        active = excluded.active, added_at = excluded.added_at,
                        revoked_at = NULL, updated_at = excluded.updated_at"
            ),
            &[
                id.into(),
                tenant.to_string().into(),
                role.as_str().into(),
                name.as_str().into(),
                phone.masked().into(),
                phone_fingerprint(&phone).into(),
                contact.map(|contact| contact.to_string()).into(),
                actor.into(),
                true.into(),
                at,
            ],
        )
        .await?;
        Ok(())
    }
}
