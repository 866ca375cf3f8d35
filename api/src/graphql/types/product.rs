//! `Product` (the tenant's catalog), read from `rm_products`.

use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::Role;
use dinghuo_store::sql::{fetch_all, Arg, StoredTime};
use dinghuo_store::Database;

use super::money::Money;
use super::scope::Scope;
use super::tenant::time;
use crate::graphql::error::ApiResult;

/// The columns of `rm_products` every product query selects.
pub const PRODUCT_COLUMNS: &str =
    "product_id, sku, name, unit, price_minor, currency, listed, listed_at, delisted_at, updated_at";

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
    pub updated_at: StoredTime,
}

/// A catalog product as the read model shows it.
#[derive(Debug, Clone, SimpleObject)]
pub struct Product {
    pub id: ID,
    /// Upper-case, unique within the tenant.
    pub sku: String,
    pub name: String,
    pub unit: String,
    /// The current catalog price (orders keep the price of their submission).
    pub price: Money,
    /// Orderable; false once delisted, until listed again.
    pub listed: bool,
    /// The last listing.
    pub listed_at: DateTime<Utc>,
    /// The last delisting; none while listed.
    pub delisted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Self {
            id: ID(row.product_id),
            sku: row.sku,
            name: row.name,
            unit: row.unit,
            price: Money::from_minor(row.price_minor, &row.currency),
            listed: row.listed,
            listed_at: row.listed_at.0,
            delisted_at: time(row.delisted_at),
            updated_at: row.updated_at.0,
        }
    }
}

/// What part of the catalog a caller sees: the tenant's staff every product ever listed, a
/// partner's contact only what it can order (delisted products are not its catalog).
pub fn visible_condition(role: Role) -> &'static str {
    if role == Role::Contact {
        " AND listed"
    } else {
        ""
    }
}

/// One product the caller may see, or `None`.
pub async fn find(
    db: &Database,
    scope: &Scope,
    role: Role,
    product_id: &str,
) -> ApiResult<Option<Product>> {
    let rows: Vec<ProductRow> = fetch_all(
        db,
        &format!(
            "SELECT {PRODUCT_COLUMNS} FROM rm_products
              WHERE tenant_id = $1 AND product_id = $2{}",
            visible_condition(role)
        ),
        &[Arg::from(scope.tenant_id.as_str()), Arg::from(product_id)],
    )
    .await?;
    Ok(rows.into_iter().next().map(Product::from))
}
