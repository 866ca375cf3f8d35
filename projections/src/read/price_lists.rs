//! Dealer price lists as `rm_price_lists` and `rm_price_list_entries` show them (written by
//! `models::price_lists`): a tenant's lists by priority, one list, a page of one list's prices by
//! SKU, and the prices of a few products across lists.
//!
//! Price lists are the tenant's staff's ([`Scope::sees_price_lists`]): the whole tenant's and
//! our-side employees' scopes see every list of the tenant; a partner's contact sees none (its
//! prices reach it through the pricing function, with their reasons, never as lists).

use dinghuo_store::sql::{Arg, StoredTime};
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::json_list;
use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// The columns of `rm_price_lists` every list query selects.
const LIST_COLUMNS: &str = "price_list_id, tenant_id, name, priority, valid_from, valid_to, \
     scope_kind, scope_levels, scope_partners, archived, archived_at, created_at, updated_at";

/// The lists' order: highest priority first, then the newest (ids are UUID v7), as the pricing
/// function ranks them.
const LIST_ORDER: &str = "priority DESC, price_list_id DESC";

/// The columns of an entry, from `rm_price_list_entries e` and `rm_products p`.
const ENTRY_COLUMNS: &str = "e.price_list_id, e.product_id, e.sku, p.name AS product_name, \
     e.min_quantity, e.unit_price_minor, e.currency, e.updated_at";

/// Entries with their product's name (`None` while the products projection has not caught up).
const ENTRY_FROM: &str =
    "rm_price_list_entries e LEFT JOIN rm_products p ON p.product_id = e.product_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceListRow {
    pub price_list_id: String,
    pub tenant_id: String,
    pub name: String,
    /// 0 to 1000; the higher wins when several lists price a line.
    pub priority: i64,
    /// Prices from `valid_from` (inclusive) until `valid_to` (exclusive); `None`: open-ended.
    pub valid_from: Option<StoredTime>,
    pub valid_to: Option<StoredTime>,
    /// `ALL`, `LEVELS` or `PARTNERS`; `None` until a scope is set (the list prices for no one).
    pub scope_kind: Option<String>,
    /// As stored: for `LEVELS`, a JSON array of the levels ([`PriceListRow::levels`]).
    pub scope_levels: Option<String>,
    /// As stored: for `PARTNERS`, a JSON array of the partner ids ([`PriceListRow::partners`]).
    pub scope_partners: Option<String>,
    pub archived: bool,
    pub archived_at: Option<StoredTime>,
    pub created_at: StoredTime,
    /// The last change of the list itself (its prices have their own).
    pub updated_at: StoredTime,
}

impl PriceListRow {
    /// The levels of a `LEVELS` scope, in order; `None` for any other scope.
    pub fn levels(&self) -> Option<Vec<String>> {
        self.scope_levels.as_deref().map(json_list)
    }

    /// The partner ids of a `PARTNERS` scope, in order; `None` for any other scope.
    pub fn partners(&self) -> Option<Vec<String>> {
        self.scope_partners.as_deref().map(json_list)
    }
}

/// Where a list stands in its tenant's list: its priority, then its id (both descending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceListAt(pub i64, pub String);

impl Keyed for PriceListRow {
    type Key = PriceListAt;
    fn key(&self) -> PriceListAt {
        PriceListAt(self.priority, self.price_list_id.clone())
    }
}

/// Which lists to list.
#[derive(Debug, Clone, Default)]
pub struct PriceListFilter {
    /// `false` (the default): only lists that may still price a line.
    pub include_archived: bool,
}

/// One price of a list: a product's unit price from `min_quantity` units on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriceEntryRow {
    pub price_list_id: String,
    pub product_id: String,
    pub sku: String,
    /// The product's current name; `None` only while the products read model lags behind.
    pub product_name: Option<String>,
    /// The break: 1 is the list's base price for the product, higher ones volume breaks.
    pub min_quantity: i64,
    pub unit_price_minor: i64,
    pub currency: String,
    pub updated_at: StoredTime,
}

/// Where an entry stands in its list: the product's SKU, then the break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceEntryAt(pub String, pub i64);

impl Keyed for PriceEntryRow {
    type Key = PriceEntryAt;
    fn key(&self) -> PriceEntryAt {
        PriceEntryAt(self.sku.clone(), self.min_quantity)
    }
}

fn select_lists(db: &Database, scope: &Scope) -> Query {
    let mut query = Query::new(
        db,
        &format!("SELECT {LIST_COLUMNS} FROM rm_price_lists WHERE true"),
    );
    query.and("tenant_id =", scope.tenant_id());
    query
}

/// A page of the price lists of `scope`'s tenant, highest priority first; an empty page for a
/// scope that sees no price lists.
pub async fn list(
    db: &Database,
    scope: &Scope,
    filter: &PriceListFilter,
    page: &PageRequest<PriceListAt>,
) -> Result<Page<PriceListRow>, sqlx::Error> {
    if !scope.sees_price_lists() {
        return Ok(Page::of(Vec::new(), page.first));
    }
    let mut query = select_lists(db, scope);
    if !filter.include_archived {
        query.and("archived =", false);
    }
    if let Some(PriceListAt(priority, id)) = &page.after {
        query.and_after(
            "priority, price_list_id",
            true,
            vec![(*priority).into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, LIST_ORDER).await
}

/// One price list of `scope`'s tenant, or `None` (always for a scope that sees no lists).
pub async fn find(
    db: &Database,
    scope: &Scope,
    price_list_id: &str,
) -> Result<Option<PriceListRow>, sqlx::Error> {
    if !scope.sees_price_lists() {
        return Ok(None);
    }
    let mut query = select_lists(db, scope);
    query.and("price_list_id =", price_list_id);
    query.fetch_optional(db).await
}

fn select_entries(db: &Database, scope: &Scope) -> Query {
    let mut query = Query::new(
        db,
        &format!("SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE true"),
    );
    query.and("e.tenant_id =", scope.tenant_id());
    query
}

/// A page of the prices of list `price_list_id` (of `scope`'s tenant), by SKU and break; an
/// empty page for a scope that sees no price lists.
pub async fn entries(
    db: &Database,
    scope: &Scope,
    price_list_id: &str,
    page: &PageRequest<PriceEntryAt>,
) -> Result<Page<PriceEntryRow>, sqlx::Error> {
    if !scope.sees_price_lists() {
        return Ok(Page::of(Vec::new(), page.first));
    }
    let mut query = select_entries(db, scope);
    query.and("e.price_list_id =", price_list_id);
    if let Some(PriceEntryAt(sku, min_quantity)) = &page.after {
        query.and_after(
            "e.sku, e.min_quantity",
            false,
            vec![sku.as_str().into(), (*min_quantity).into()],
        );
    }
    fetch_page(db, query, page, "e.sku, e.min_quantity").await
}

/// The prices of the products `product_ids` in every list of `scope`'s tenant that is not
/// archived (an archived list prices nothing any more), by SKU, then as the pricing function
/// ranks the lists (highest priority, then newest), then by break. Bounded by the ids: a
/// product has at most 20 prices in each of at most 100 unarchived lists
/// (`ListPrices::MAX_BREAKS`, `Tenant::MAX_PRICE_LISTS`). Empty for a scope that sees no
/// price lists.
pub async fn entries_for_products(
    db: &Database,
    scope: &Scope,
    product_ids: &[String],
) -> Result<Vec<PriceEntryRow>, sqlx::Error> {
    if product_ids.is_empty() || !scope.sees_price_lists() {
        return Ok(Vec::new());
    }
    let mut query = Query::new(
        db,
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}
               JOIN rm_price_lists l ON l.price_list_id = e.price_list_id
              WHERE NOT l.archived"
        ),
    );
    query.and("e.tenant_id =", scope.tenant_id());
    let ids = query.bind_list(product_ids.iter().map(|id| Arg::from(id.as_str())));
    query.push(&format!(
        " AND e.product_id IN ({ids})
          ORDER BY e.sku, l.priority DESC, e.price_list_id DESC, e.min_quantity"
    ));
    query.fetch(db).await
}
