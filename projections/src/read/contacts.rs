//! People as `rm_contacts` shows them, and their links to partners from `rm_partner_contacts`
//! (written by `models::contacts`): a page by name, one, many by id, and the links of many.
//! The full phone number is never here: the read model keeps only the masked one.

use dinghuo_domain::Side;
use dinghuo_store::sql::{Arg, StoredTime};
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::{reach_condition, Reach, Scope};

/// The columns of `rm_contacts` every contact query selects (as `c.`).
const CONTACT_COLUMNS: &str = "c.contact_id, c.name, c.phone_masked, c.kind, c.customer_id,
    c.recorded_at, c.bound, c.bound_channel, c.bound_at, c.denies_create_sales_order,
    c.denies_cancel_order, c.denies_view_orders, c.can_create_sales_order, c.can_cancel_order,
    c.can_view_orders, c.updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub contact_id: String,
    pub name: String,
    pub phone_masked: Option<String>,
    /// `CUSTOMER` or `EMPLOYEE`.
    pub kind: String,
    pub customer_id: Option<String>,
    pub recorded_at: StoredTime,
    pub bound: bool,
    pub bound_channel: Option<String>,
    pub bound_at: Option<StoredTime>,
    pub denies_create_sales_order: bool,
    pub denies_cancel_order: bool,
    pub denies_view_orders: bool,
    pub can_create_sales_order: bool,
    pub can_cancel_order: bool,
    pub can_view_orders: bool,
    pub updated_at: StoredTime,
}

/// Where a contact stands in the list: its name, then its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAt(pub String, pub String);

impl Keyed for ContactRow {
    type Key = ContactAt;
    fn key(&self) -> ContactAt {
        ContactAt(self.name.clone(), self.contact_id.clone())
    }
}

/// Which contacts to list. Every condition is optional.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Contacts linked to this partner (on `side`, when given).
    pub partner_id: Option<String>,
    /// Contacts linked to some partner on this side.
    pub side: Option<Side>,
    /// Identity verified (`true`) or not yet (`false`).
    pub bound: Option<bool>,
}

/// A page of the people `scope` sees, by name: the tenant's, or those linked to a partner the
/// scope reaches (on any side).
pub async fn list(
    db: &Database,
    scope: &Scope,
    filter: &ContactFilter,
    page: &PageRequest<ContactAt>,
) -> Result<Page<ContactRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {CONTACT_COLUMNS} FROM rm_contacts c WHERE true"),
    );
    query.and("c.tenant_id =", scope.tenant_id());
    scope.contact_condition(&mut query, "c.contact_id");
    if filter.partner_id.is_some() || filter.side.is_some() {
        // A link matching both conditions, not one link per condition, and one the scope
        // reaches: filtering on a partner out of scope must not reveal a link to it.
        query.push(
            " AND EXISTS (SELECT 1 FROM rm_partner_contacts f WHERE f.contact_id = c.contact_id",
        );
        scope.partner_condition(&mut query, "f.partner_id");
        if let Some(partner) = &filter.partner_id {
            query.and("f.partner_id =", partner.as_str());
        }
        if let Some(side) = filter.side {
            query.and("f.side =", side.as_str());
        }
        query.push(")");
    }
    if let Some(bound) = filter.bound {
        query.and("c.bound =", bound);
    }
    if let Some(ContactAt(name, id)) = &page.after {
        query.and_after(
            "c.name, c.contact_id",
            false,
            vec![name.as_str().into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, "c.name, c.contact_id").await
}

/// One contact `scope` sees, or `None`.
pub async fn find(
    db: &Database,
    scope: &Scope,
    contact_id: &str,
) -> Result<Option<ContactRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {CONTACT_COLUMNS} FROM rm_contacts c WHERE true"),
    );
    query.and("c.tenant_id =", scope.tenant_id());
    query.and("c.contact_id =", contact_id);
    scope.contact_condition(&mut query, "c.contact_id");
    query.fetch_optional(db).await
}

/// Many contacts by id, with no scope of its own: only for ids the caller already reads (an
/// order's contact). Bounded by the ids.
pub async fn by_ids(db: &Database, contact_ids: &[String]) -> Result<Vec<ContactRow>, sqlx::Error> {
    if contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Query::new(db, "");
    let ids = query.bind_list(contact_ids.iter().map(|id| Arg::from(id.as_str())));
    query.push(&format!(
        "SELECT {CONTACT_COLUMNS} FROM rm_contacts c WHERE c.contact_id IN ({ids})"
    ));
    query.fetch(db).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkRow {
    pub contact_id: String,
    pub partner_id: String,
    /// As stored: a name of [`Side`].
    pub side: String,
    pub added_at: StoredTime,
}

/// The links of the contacts `contact_ids` (ids the caller already reads) to the partners
/// `reach` reaches, by contact, then in the order they were made. Bounded by the ids: a contact
/// has a link per partner it serves.
pub async fn links(
    db: &Database,
    reach: &Reach,
    contact_ids: &[String],
) -> Result<Vec<LinkRow>, sqlx::Error> {
    if contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Query::new(db, "");
    let ids = query.bind_list(contact_ids.iter().map(|id| Arg::from(id.as_str())));
    query.push(&format!(
        "SELECT l.contact_id, l.partner_id, l.side, l.added_at
           FROM rm_partner_contacts l
          WHERE l.contact_id IN ({ids})"
    ));
    // The tenant is implied by the contact ids.
    reach_condition(reach, &mut query, "l.partner_id");
    query.push(" ORDER BY l.contact_id, l.added_at, l.partner_id");
    query.fetch(db).await
}
