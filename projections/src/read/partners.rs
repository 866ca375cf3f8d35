//! CRM customers and partner enterprises as `rm_partners` shows them (written by
//! `models::partners`): a page by name, one, or many by id.

use dinghuo_domain::PartnerMode;
use dinghuo_store::sql::{Arg, StoredTime};
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::json_list;
use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// The columns of `rm_partners` every partner query selects.
const PARTNER_COLUMNS: &str = "partner_id, name, phone, address, customer_recorded_at,
    is_partner, mode, partner_added_at, ordering_assigned, ordering_assigned_at, suspended,
    suspended_at, their_side_contacts, our_side_contacts, orders_count, first_order_at,
    last_order_at, level, assortment, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner_id: String,
    pub name: String,
    /// The company's number in full: mask it before showing it.
    pub phone: Option<String>,
    pub address: Option<String>,
    pub customer_recorded_at: StoredTime,
    pub is_partner: bool,
    /// As stored: a name of [`PartnerMode`].
    pub mode: Option<String>,
    pub partner_added_at: Option<StoredTime>,
    pub ordering_assigned: bool,
    pub ordering_assigned_at: Option<StoredTime>,
    pub suspended: bool,
    pub suspended_at: Option<StoredTime>,
    pub their_side_contacts: i64,
    pub our_side_contacts: i64,
    pub orders_count: i64,
    pub first_order_at: Option<StoredTime>,
    pub last_order_at: Option<StoredTime>,
    /// The dealer tier price lists may be scoped to; `None`: none.
    pub level: Option<String>,
    /// As stored: `None` for every listed product, else a JSON array of the categories it may
    /// buy; [`PartnerRow::assortment_categories`] reads it.
    pub assortment: Option<String>,
    pub updated_at: StoredTime,
}

impl PartnerRow {
    /// The categories of a restricted assortment, in order; `None`: every listed product.
    pub fn assortment_categories(&self) -> Option<Vec<String>> {
        self.assortment.as_deref().map(json_list)
    }
}

/// Where a partner stands in the list: its name, then its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerAt(pub String, pub String);

impl Keyed for PartnerRow {
    type Key = PartnerAt;
    fn key(&self) -> PartnerAt {
        PartnerAt(self.name.clone(), self.partner_id.clone())
    }
}

/// Which partners to list. Every condition is optional.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    /// `true`: partner enterprises only; `false`: customers not (yet) added as partners.
    pub is_partner: Option<bool>,
    pub suspended: Option<bool>,
    pub mode: Option<PartnerMode>,
    /// Names starting with this text (case-sensitive); empty: any.
    pub name_prefix: Option<String>,
}

/// A page of the customers and partners `scope` reaches, by name.
pub async fn list(
    db: &Database,
    scope: &Scope,
    filter: &PartnerFilter,
    page: &PageRequest<PartnerAt>,
) -> Result<Page<PartnerRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {PARTNER_COLUMNS} FROM rm_partners WHERE true"),
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    if let Some(is_partner) = filter.is_partner {
        query.and("is_partner =", is_partner);
    }
    if let Some(suspended) = filter.suspended {
        query.and("suspended =", suspended);
    }
    if let Some(mode) = filter.mode {
        query.and("mode =", mode.as_str());
    }
    if let Some(prefix) = filter.name_prefix.as_deref().filter(|p| !p.is_empty()) {
        query.and_prefix("name", prefix);
    }
    if let Some(PartnerAt(name, id)) = &page.after {
        query.and_after(
            "name, partner_id",
            false,
            vec![name.as_str().into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, "name, partner_id").await
}

/// One customer or partner `scope` reaches, or `None`.
pub async fn find(
    db: &Database,
    scope: &Scope,
    partner_id: &str,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {PARTNER_COLUMNS} FROM rm_partners WHERE true"),
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    query.and("partner_id =", partner_id);
    query.fetch_optional(db).await
}

/// Many partners by id, with no scope of its own: only for ids the caller already reads (an
/// order's partner, a visible link's partner). Bounded by the ids.
pub async fn by_ids(db: &Database, partner_ids: &[String]) -> Result<Vec<PartnerRow>, sqlx::Error> {
    if partner_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Query::new(db, "");
    let ids = query.bind_list(partner_ids.iter().map(|id| Arg::from(id.as_str())));
    query.push(&format!(
        "SELECT {PARTNER_COLUMNS} FROM rm_partners WHERE partner_id IN ({ids})"
    ));
    query.fetch(db).await
}
