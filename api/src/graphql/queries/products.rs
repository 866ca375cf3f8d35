//! `products`: the tenant's catalog, by SKU.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object};
use dinghuo_projections::read::products::{self as read, ProductAt};

use crate::graphql::caller;
use crate::graphql::error::ApiError;
use crate::graphql::types::{product, Product};

#[derive(Default)]
pub struct ProductQueries;

/// Which products to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct ProductFilter {
    /// `true`: orderable products only; `false`: delisted ones only.
    pub listed: Option<bool>,
    /// SKUs starting with this text (SKUs are upper-case; so is the prefix, before comparing).
    pub sku_prefix: Option<String>,
    /// Products of this category.
    pub category: Option<String>,
}

impl From<ProductFilter> for read::ProductFilter {
    fn from(filter: ProductFilter) -> Self {
        Self {
            listed: filter.listed,
            sku_prefix: filter.sku_prefix,
            category: filter.category,
        }
    }
}

/// By SKU, which is unique within a tenant.
type ProductCursor = OpaqueCursor<ProductAt>;

#[Object]
impl ProductQueries {
    /// The catalog, by SKU. The tenant's staff see every product ever listed; a partner's
    /// contact sees only what it can order (listed, and in its partner's assortment), each
    /// with `myPrice`.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<ProductCursor, Product, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller.scope()?;
        let page = super::paging::Page::<ProductCursor>::new(first, after)?;
        let filter = read::ProductFilter::from(filter.unwrap_or_default());
        let rows = read::list(state.db(), &scope, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        let mut connection = page.connection_of(rows, |row| Ok(Product::from(row)))?;
        let nodes: Vec<Product> = connection
            .edges
            .iter()
            .map(|edge| edge.node.clone())
            .collect();
        let priced =
            product::with_my_prices(&state.commands, &caller.command_context()?, nodes).await?;
        for (edge, node) in connection.edges.iter_mut().zip(priced) {
            edge.node = node;
        }
        Ok(connection)
    }
}
