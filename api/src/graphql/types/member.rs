//! `StaffMember` (a tenant's admin or invited employee, mapped from the rows of
//! `projections::read::members`) and `Membership` (one tenant a signed-in person may act in).

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_domain::member::StaffRole as DomainRole;
use dinghuo_identity::staff;
use dinghuo_projections::read::members::{self, MemberRow};
use dinghuo_store::Database;

use super::tenant::time;
use crate::graphql::error::{ApiError, ApiResult};

/// What a staff member may do in its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum StaffRole {
    /// Everything inside the tenant.
    Admin,
    /// The partners it is linked to, and their orders.
    Employee,
}

impl From<DomainRole> for StaffRole {
    fn from(role: DomainRole) -> Self {
        match role {
            DomainRole::Admin => Self::Admin,
            DomainRole::Employee => Self::Employee,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MemberStatus {
    /// May sign in.
    Active,
    /// Access revoked; may be created or invited again.
    Revoked,
}

/// A person on a tenant's staff who signs in as itself.
#[derive(Debug, Clone, SimpleObject)]
pub struct StaffMember {
    /// The membership's id (one per phone and tenant).
    pub id: ID,
    pub tenant_id: ID,
    pub role: StaffRole,
    pub name: String,
    /// The phone it signs in with, masked (`139****0001`): a full number is never answered.
    pub phone_masked: String,
    /// An employee's our-side contact; none for an admin.
    pub contact_id: Option<ID>,
    /// The id it acts as (`viewer.id`, and the actor of the events it causes): its contact for
    /// an employee, its membership for an admin.
    pub actor_id: ID,
    pub status: MemberStatus,
    /// The last creation or invitation.
    pub added_at: DateTime<Utc>,
    /// When its access was revoked; none while active.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<MemberRow> for StaffMember {
    type Error = ApiError;

    fn try_from(row: MemberRow) -> ApiResult<Self> {
        let role = match row.role.as_str() {
            "ADMIN" => StaffRole::Admin,
            "EMPLOYEE" => StaffRole::Employee,
            other => return Err(ApiError::internal(format!("unknown staff role {other}"))),
        };
        Ok(Self {
            id: ID(row.member_id),
            tenant_id: ID(row.tenant_id),
            role,
            name: row.name,
            phone_masked: row.phone_masked,
            contact_id: row.contact_id.map(ID),
            actor_id: ID(row.actor_id),
            status: if row.active {
                MemberStatus::Active
            } else {
                MemberStatus::Revoked
            },
            added_at: row.added_at.0,
            revoked_at: time(row.revoked_at),
        })
    }
}

/// One membership of `tenant`, or `None`.
pub async fn find(db: &Database, tenant: &str, member_id: &str) -> ApiResult<Option<StaffMember>> {
    members::find(db, tenant, member_id)
        .await?
        .map(StaffMember::try_from)
        .transpose()
}

/// A tenant a signed-in person may act in.
#[derive(Debug, Clone, SimpleObject)]
pub struct Membership {
    pub member_id: ID,
    pub tenant_id: ID,
    /// As the read model shows it; none while it lags.
    pub tenant_name: Option<String>,
    pub role: StaffRole,
}

impl From<&staff::Membership> for Membership {
    fn from(membership: &staff::Membership) -> Self {
        Self {
            member_id: ID(membership.member_id.to_string()),
            tenant_id: ID(membership.tenant_id.to_string()),
            tenant_name: membership.tenant_name.clone(),
            role: membership.role.into(),
        }
    }
}
