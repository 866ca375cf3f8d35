//! The tenants' staff as `rm_members` shows it (written by `models::members`): a tenant's page
//! by name, one membership, and a phone's memberships across tenants (for sign-in, which checks
//! each on committed events before trusting it).

use dinghuo_domain::Phone;
use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use crate::fingerprint::phone_fingerprint;

/// The columns of `rm_members` every member query selects.
const MEMBER_COLUMNS: &str =
    "m.member_id, m.tenant_id, m.role, m.name, m.phone_masked, m.contact_id, \
     m.actor_id, m.active, m.added_at, m.revoked_at, t.name AS tenant_name";

/// Every member query reads the tenant's name beside it (for a sign-in's choice of tenant).
const MEMBER_FROM: &str = "rm_members m LEFT JOIN rm_tenants t ON t.tenant_id = m.tenant_id";

/// How many memberships one phone's sign-in considers: a person on the staff of more tenants
/// than this is not a case the sign-in has to serve, and the list stays bounded.
pub const MAX_MEMBERSHIPS: usize = 50;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub member_id: String,
    pub tenant_id: String,
    /// `ADMIN` or `EMPLOYEE`.
    pub role: String,
    pub name: String,
    /// `138****8000`: the full number is never read back.
    pub phone_masked: String,
    pub contact_id: Option<String>,
    /// The id it signs in as: its contact for an employee, its membership for an admin.
    pub actor_id: String,
    pub active: bool,
    pub added_at: StoredTime,
    pub revoked_at: Option<StoredTime>,
    pub tenant_name: Option<String>,
}

/// Where a member stands in its tenant's list: by name, then id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAt(pub String, pub String);

impl Keyed for MemberRow {
    type Key = MemberAt;
    fn key(&self) -> MemberAt {
        MemberAt(self.name.clone(), self.member_id.clone())
    }
}

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// `true`: those who may sign in; `false`: revoked ones.
    pub active: Option<bool>,
}

fn select(db: &Database) -> Query {
    Query::new(
        db,
        &format!("SELECT {MEMBER_COLUMNS} FROM {MEMBER_FROM} WHERE true"),
    )
}

/// A page of `tenant`'s staff, by name.
pub async fn list(
    db: &Database,
    tenant: &str,
    filter: &MemberFilter,
    page: &PageRequest<MemberAt>,
) -> Result<Page<MemberRow>, sqlx::Error> {
    let mut query = select(db);
    query.and("m.tenant_id =", tenant);
    if let Some(active) = filter.active {
        query.and("m.active =", active);
    }
    if let Some(MemberAt(name, id)) = &page.after {
        query.and_after(
            "m.name, m.member_id",
            false,
            vec![name.as_str().into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, "m.name, m.member_id").await
}

/// One membership of `tenant`, or `None`.
pub async fn find(
    db: &Database,
    tenant: &str,
    member_id: &str,
) -> Result<Option<MemberRow>, sqlx::Error> {
    let mut query = select(db);
    query.and("m.tenant_id =", tenant);
    query.and("m.member_id =", member_id);
    query.fetch_optional(db).await
}

/// The active memberships of `phone` in every tenant (found by its fingerprint), at most
/// [`MAX_MEMBERSHIPS`], by tenant name.
pub async fn active_of_phone(db: &Database, phone: &Phone) -> Result<Vec<MemberRow>, sqlx::Error> {
    let mut query = select(db);
    query.and("m.phone_fingerprint =", phone_fingerprint(phone));
    query.and("m.active =", true);
    query.push(&format!(
        " ORDER BY t.name, m.tenant_id LIMIT {MAX_MEMBERSHIPS}"
    ));
    query.fetch(db).await
}
