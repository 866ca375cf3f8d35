//! `Product` (the tenant's catalog), mapped from the rows of `projections::read::products`.

use async_graphql::{SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::{CommandError, Commands, RequestContext, Role};
use dinghuo_domain::ProductId;
use dinghuo_projections::read::products::{self, ProductRow};
use dinghuo_projections::read::Scope;
use dinghuo_store::Database;

use super::money::Money;
use super::pricing::{MyPrice, PriceReason, QuantityRules};
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
    /// What one unit costs the calling contact's partner, and why (its price lists, else the
    /// catalog); `null` for staff, who buy for no partner of their own.
    pub my_price: Option<MyPrice>,
    /// The category partners' assortments are made of; `null`: none.
    pub category: Option<String>,
    /// How much one order line may order.
    pub quantity_rules: QuantityRules,
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
            my_price: None,
            category: row.category,
            quantity_rules: QuantityRules {
                min: row.min_quantity,
                multiple: row.multiple,
                max: row.max_quantity,
            },
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

/// Fills in `myPrice` of `products` for a contact caller (one quote for all of them, through
/// the one pricing function); staff's stay `null`.
pub async fn with_my_prices(
    commands: &Commands,
    ctx: &RequestContext,
    mut products: Vec<Product>,
) -> ApiResult<Vec<Product>> {
    if ctx.actor.role != Role::Contact || products.is_empty() {
        return Ok(products);
    }
    let ids: Vec<ProductId> = products
        .iter()
        .filter_map(|product| ProductId::parse(&product.id, "id").ok())
        .collect();
    let prices = match commands.my_prices(ctx, &ids).await {
        Ok(prices) => prices,
        // A contact that reaches no partner (being unlinked) sees no price, not an error.
        Err(CommandError::Refused(_)) => return Ok(products),
        Err(failure) => return Err(failure.into()),
    };
    for product in &mut products {
        let Ok(id) = ProductId::parse(&product.id, "id") else {
            continue;
        };
        if let Some(price) = prices.get(&id) {
            product.my_price = Some(MyPrice {
                amount: Money::from_minor(
                    price.unit_price.amount_minor,
                    price.unit_price.currency.code(),
                ),
                reason: PriceReason::from_domain(&price.reason),
            });
        }
    }
    Ok(products)
}
