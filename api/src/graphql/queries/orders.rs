//! `orders` (a connection, filtered by status, partner and time) and `order`.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};
use dinghuo_store::sql::{fetch_all, Arg};

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::order::{self, OrderRow, ORDER_COLUMNS};
use crate::graphql::types::{Order, OrderStatus};

#[derive(Default)]
pub struct OrderQueries;

/// Which orders to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub partner_id: Option<ID>,
    /// Submitted at or after this time.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this time.
    pub submitted_to: Option<DateTime<Utc>>,
}

/// Newest first: the position of an order in that order.
type OrderCursor = OpaqueCursor<(DateTime<Utc>, String)>;

#[Object]
impl OrderQueries {
    /// The orders the caller may see, newest first: an admin, auditor or analyst sees the
    /// tenant's, an employee those of its partners, a contact its own partner's (none without
    /// `VIEW_ORDERS`).
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<OrderCursor, Order, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let page = super::paging::Page::<OrderCursor>::new(first, after)?;
        let Some(scope) = caller.order_scope(state).await? else {
            // Not granted VIEW_ORDERS: no order is visible, as if there were none.
            return Ok(Connection::new(page.after.is_some(), false));
        };
        let filter = filter.unwrap_or_default();

        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM rm_orders WHERE tenant_id = $1");
        let mut args = vec![Arg::from(scope.tenant_id.as_str())];
        let (condition, extra) = scope.partner_condition(state.db(), "partner_id", args.len() + 1);
        sql.push_str(&condition);
        args.extend(extra);
        if let Some(status) = filter.status {
            args.push(status.as_str().into());
            sql.push_str(&format!(" AND status = ${}", args.len()));
        }
        if let Some(partner) = &filter.partner_id {
            args.push(partner.as_str().into());
            sql.push_str(&format!(" AND partner_id = ${}", args.len()));
        }
        if let Some(from) = filter.submitted_from {
            args.push(from.into());
            sql.push_str(&format!(" AND submitted_at >= ${}", args.len()));
        }
        if let Some(to) = filter.submitted_to {
            args.push(to.into());
            sql.push_str(&format!(" AND submitted_at < ${}", args.len()));
        }
        if let Some(cursor) = &page.after {
            let (at, id) = &cursor.0;
            args.push((*at).into());
            args.push(id.as_str().into());
            sql.push_str(&format!(
                " AND (submitted_at, order_id) < (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        }
        // One more than asked, to know whether there is a next page.
        sql.push_str(&format!(
            " ORDER BY submitted_at DESC, order_id DESC LIMIT {}",
            page.limit()
        ));
        let rows: Vec<OrderRow> = fetch_all(state.db(), &sql, &args)
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection(
            rows,
            |row| OpaqueCursor((row.submitted_at.0, row.order_id.clone())),
            Order::try_from,
        )?)
    }

    /// One order, if the caller may see it (`null` otherwise: another tenant's or another
    /// partner's order, or any order for a contact without `VIEW_ORDERS`, is indistinguishable
    /// from one that does not exist).
    async fn order(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Order>> {
        let (caller, state) = caller::of(ctx);
        match caller.order_scope(state).await? {
            Some(scope) => order::find(state.db(), &scope, &id).await,
            None => Ok(None),
        }
    }
}
