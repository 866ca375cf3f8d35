//! The catalog as `rm_products` shows it (written by `models::products`): a page by SKU, or one
//! product. What a scope sees of it: the tenant's staff every product ever listed, a partner's
//! contact only what it can order: listed ([`Scope::sees_delisted_products`]) and in its
//! partner's assortment (`rm_partner_categories`, written by `models::partners`).

use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// The columns of `rm_products` every product query selects.
const PRODUCT_COLUMNS: &str = "product_id, sku, name, unit, price_minor, currency, listed, \
     listed_at, delisted_at, category, min_quantity, multiple, max_quantity, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub price_minor: i64,
    pub currency: String,
    pub listed: bool,
    pub listed_at: StoredTime,
    pub delisted_at: Option<StoredTime>,
    /// `None`: uncategorised, in no restricted assortment.
    pub category: Option<String>,
    /// The quantity rules every line ordering it must meet; `None`: no such rule.
    pub min_quantity: Option<i64>,
    pub multiple: Option<i64>,
    pub max_quantity: Option<i64>,
    pub updated_at: StoredTime,
}

/// Where a product stands in the list: its SKU, unique within a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAt(pub String);

impl Keyed for ProductRow {
    type Key = ProductAt;
    fn key(&self) -> ProductAt {
        ProductAt(self.sku.clone())
    }
}

/// Which products to list. Every condition is optional.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// `true`: orderable products only; `false`: delisted ones only.
    pub listed: Option<bool>,
    /// SKUs starting with this text (SKUs are upper-case; so is the prefix, before comparing).
    pub sku_prefix: Option<String>,
    /// Products of exactly this category.
    pub category: Option<String>,
}

/// A query of the products `scope` sees.
fn visible(db: &Database, scope: &Scope) -> Query {
    let mut query = Query::new(
        db,
        &format!("SELECT {PRODUCT_COLUMNS} FROM rm_products WHERE true"),
    );
    query.and("tenant_id =", scope.tenant_id());
    if !scope.sees_delisted_products() {
        query.push(" AND listed");
    }
    if let Some(contact) = scope.their_side_contact() {
        assortment_condition(&mut query, contact);
    }
    query
}

/// Appends the condition that a product is in the assortment of a partner `contact` is linked
/// to on their side (DESIGN §4): one of them is unrestricted, or lists the product's category
/// (an uncategorised product is in no restricted assortment). A contact linked to no partner
/// has no assortment to keep to: it sees the listed catalog, as before assortments existed.
fn assortment_condition(query: &mut Query, contact: &str) {
    let contact = query.bind(contact);
    query.push(&format!(
        " AND (EXISTS (SELECT 1 FROM rm_partner_contacts l
                        JOIN rm_partners p ON p.partner_id = l.partner_id
                       WHERE l.contact_id = {contact} AND l.side = 'THEIRS'
                         AND (p.assortment IS NULL
                              OR EXISTS (SELECT 1 FROM rm_partner_categories a
                                          WHERE a.partner_id = p.partner_id
                                            AND a.category = rm_products.category)))
               OR NOT EXISTS (SELECT 1 FROM rm_partner_contacts l
                               WHERE l.contact_id = {contact} AND l.side = 'THEIRS'))"
    ));
}

/// A page of the catalog `scope` sees, by SKU.
pub async fn list(
    db: &Database,
    scope: &Scope,
    filter: &ProductFilter,
    page: &PageRequest<ProductAt>,
) -> Result<Page<ProductRow>, sqlx::Error> {
    let mut query = visible(db, scope);
    if let Some(listed) = filter.listed {
        query.and("listed =", listed);
    }
    let prefix = filter
        .sku_prefix
        .as_deref()
        .map(|p| p.trim().to_uppercase());
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        query.and_prefix("sku", &prefix);
    }
    if let Some(category) = &filter.category {
        query.and("category =", category.as_str());
    }
    if let Some(ProductAt(sku)) = &page.after {
        query.and_after("sku", false, vec![sku.as_str().into()]);
    }
    fetch_page(db, query, page, "sku").await
}

/// One product `scope` sees, or `None`.
pub async fn find(
    db: &Database,
    scope: &Scope,
    product_id: &str,
) -> Result<Option<ProductRow>, sqlx::Error> {
    let mut query = visible(db, scope);
    query.and("product_id =", product_id);
    query.fetch_optional(db).await
}
