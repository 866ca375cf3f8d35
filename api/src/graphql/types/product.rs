//! `Product` (the tenant's catalog), mapped from the rows of `projections::read::products`.

use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::read::products::{self, ProductRow};
use dinghuo_projections::read::Scope;
use dinghuo_store::Database;

use super::money::Money;
use super::tenant::time;
use crate::graphql::error::ApiResult;

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

/// One product the caller may see, or `None`.
pub async fn find(db: &Database, scope: &Scope, product_id: &str) -> ApiResult<Option<Product>> {
    Ok(products::find(db, scope, product_id)
        .await?
        .map(Product::from))
}
