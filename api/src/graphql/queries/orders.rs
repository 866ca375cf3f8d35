//! `orders` (a connection, filtered by status, partner and time) and `order`.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::read::orders::{self as read, OrderAt};

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::order;
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

impl From<OrderFilter> for read::OrderFilter {
    fn from(filter: OrderFilter) -> Self {
        Self {
            status: filter.status.map(Into::into),
            partner_id: filter.partner_id.map(|id| id.0),
            submitted_from: filter.submitted_from,
            submitted_to: filter.submitted_to,
        }
    }
}

/// Newest first: the position of an order in that order.
type OrderCursor = OpaqueCursor<OrderAt>;

#[Object]
impl OrderQueries {
    /// The orders the caller may see, newest first: an admin, auditor or analyst sees the
    /// tenant's, an employee those of its partners, a contact its own partner's (none without
    /// `VIEW_ORDERS`).
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
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
        let filter = read::OrderFilter::from(filter.unwrap_or_default());
        let rows = read::list(state.db(), &scope, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, Order::try_from)?)
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
