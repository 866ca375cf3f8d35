//! `products`: the tenant's catalog, by SKU.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object};
use dinghuo_store::sql::{fetch_all, Arg};

use super::partners::prefix_condition;
use crate::graphql::caller;
use crate::graphql::error::ApiError;
use crate::graphql::types::product::{self, ProductRow, PRODUCT_COLUMNS};
use crate::graphql::types::{Product, Scope};

#[derive(Default)]
pub struct ProductQueries;

/// Which products to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct ProductFilter {
    /// `true`: orderable products only; `false`: delisted ones only.
    pub listed: Option<bool>,
    /// SKUs starting with this text (SKUs are upper-case; so is the prefix, before comparing).
    pub sku_prefix: Option<String>,
}

/// By SKU, which is unique within a tenant.
type ProductCursor = OpaqueCursor<String>;

#[Object]
impl ProductQueries {
    /// The catalog, by SKU. The tenant's staff see every product ever listed; a partner's
    /// contact sees only listed ones, which are what it can order.
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<ProductCursor, Product, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let actor = caller.actor()?;
        let scope = Scope::of(&actor)?;
        let page = super::paging::Page::<ProductCursor>::new(first, after)?;
        let filter = filter.unwrap_or_default();

        let mut sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM rm_products WHERE tenant_id = $1{}",
            product::visible_condition(actor.role)
        );
        let mut args = vec![Arg::from(scope.tenant_id.as_str())];
        if let Some(listed) = filter.listed {
            args.push(listed.into());
            sql.push_str(&format!(" AND listed = ${}", args.len()));
        }
        if let Some(prefix) = filter.sku_prefix.map(|p| p.trim().to_uppercase()) {
            if !prefix.is_empty() {
                sql.push_str(&prefix_condition("sku", &mut args, prefix));
            }
        }
        if let Some(cursor) = &page.after {
            args.push(cursor.0.as_str().into());
            sql.push_str(&format!(" AND sku > ${}", args.len()));
        }
        // One more than asked, to know whether there is a next page.
        sql.push_str(&format!(" ORDER BY sku LIMIT {}", page.limit()));
        let rows: Vec<ProductRow> = fetch_all(state.db(), &sql, &args)
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection(
            rows,
            |row| OpaqueCursor(row.sku.clone()),
            |row| Ok(Product::from(row)),
        )?)
    }
}
