//! `Order` and `OrderLine`, mapped from the rows of `projections::read::orders`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_domain::order::OrderStatus as DomainStatus;
use dinghuo_projections::read::orders::{self, OrderRow};
use dinghuo_projections::read::Scope;
use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;

use super::money::Money;
use super::pricing::PriceReason;
use crate::graphql::coalesce::CoalesceError;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::order_reads::{OrderKey, OrderReader};

// The domain's status, mirrored for GraphQL: its names and parsing stay in the domain.
/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "dinghuo_domain::order::OrderStatus")]
pub enum OrderStatus {
    Submitted,
    Confirmed,
    Rejected,
    Shipped,
    Received,
    Cancelled,
}

impl OrderStatus {
    fn parse(text: &str) -> Option<Self> {
        DomainStatus::parse(text).map(Self::from)
    }
}

/// A sales order as the read model shows it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
    pub status: OrderStatus,
    pub partner_id: ID,
    /// The partner's contact who ordered; `null` for an order staff placed on its behalf.
    pub contact_id: Option<ID>,
    /// Who placed the order on the partner's behalf; `null` when its contact did.
    pub placed_by: Option<PlacedBy>,
    pub line_count: i64,
    pub total: Money,
    pub note: String,
    pub submitted_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Who confirmed it (an admin's or employee's id).
    pub confirmed_by: Option<ID>,
    pub rejected_at: Option<DateTime<Utc>>,
    pub rejected_by: Option<ID>,
    pub rejection_reason: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub shipped_by: Option<ID>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<ID>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<ID>,
    pub cancellation_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PlacedByRole {
    Admin,
    Employee,
}

/// Staff who ordered on a partner's behalf: an admin, or an employee linked to the partner.
#[derive(Debug, Clone, SimpleObject)]
pub struct PlacedBy {
    pub role: PlacedByRole,
    /// The admin's or the employee's id.
    pub id: ID,
}

fn placed_by(role: Option<&str>, id: Option<String>) -> Option<PlacedBy> {
    let role = match role? {
        "ADMIN" => PlacedByRole::Admin,
        "EMPLOYEE" => PlacedByRole::Employee,
        _ => return None,
    };
    Some(PlacedBy { role, id: ID(id?) })
}

fn time(stored: Option<StoredTime>) -> Option<DateTime<Utc>> {
    stored.map(|t| t.0)
}

impl TryFrom<OrderRow> for Order {
    type Error = ApiError;

    fn try_from(row: OrderRow) -> Result<Self, ApiError> {
        let status = OrderStatus::parse(&row.status)
            .ok_or_else(|| ApiError::internal(format!("unknown order status {:?}", row.status)))?;
        Ok(Self {
            id: ID(row.order_id),
            status,
            partner_id: ID(row.partner_id),
            contact_id: row.contact_id.map(ID),
            placed_by: placed_by(row.placed_by_role.as_deref(), row.placed_by_id),
            line_count: row.line_count,
            total: Money::from_minor(row.total_minor, &row.currency),
            note: row.note,
            submitted_at: row.submitted_at.0,
            confirmed_at: time(row.confirmed_at),
            confirmed_by: row.confirmed_by.map(ID),
            rejected_at: time(row.rejected_at),
            rejected_by: row.rejected_by.map(ID),
            rejection_reason: row.rejection_reason,
            shipped_at: time(row.shipped_at),
            shipped_by: row.shipped_by.map(ID),
            carrier: row.carrier,
            tracking_number: row.tracking,
            received_at: time(row.received_at),
            received_by: row.received_by.map(ID),
            cancelled_at: time(row.cancelled_at),
            cancelled_by: row.cancelled_by.map(ID),
            cancellation_reason: row.cancellation_reason,
            updated_at: row.updated_at.0,
        })
    }
}

#[ComplexObject]
impl Order {
    /// The order's lines, as frozen at submission (product, name, unit, price).
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::order::OrderCommand::MAX_LINES, child_complexity)"
    )]
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderLine>> {
        let loader = ctx.data_unchecked::<Arc<DataLoader<LinesLoader>>>();
        Ok(loader
            .load_one(self.id.to_string())
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default())
    }

    /// The ordering partner (one query for a whole page of orders).
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<super::partner::Partner>> {
        let loader = super::contact::loader::<super::partner::PartnersLoader>(ctx)?;
        loader
            .load_one(self.partner_id.to_string())
            .await
            .map_err(ApiError::from)
    }

    /// The contact who ordered (one query for a whole page of orders); `null` for an order
    /// placed on the partner's behalf.
    async fn contact(&self, ctx: &Context<'_>) -> ApiResult<Option<super::contact::Contact>> {
        let Some(contact_id) = &self.contact_id else {
            return Ok(None);
        };
        let loader = super::contact::loader::<super::contact::ContactsLoader>(ctx)?;
        loader
            .load_one(contact_id.to_string())
            .await
            .map_err(ApiError::from)
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderLine {
    pub line_no: i64,
    pub product_id: ID,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
    /// Why the line cost `unitPrice` at submission.
    pub price_reason: PriceReason,
}

/// Loads the lines of many orders in one query (one per page of orders, not one per order).
pub struct LinesLoader {
    pub db: Database,
}

impl Loader<String> for LinesLoader {
    type Value = Vec<OrderLine>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<OrderLine>>, Self::Error> {
        let rows = orders::lines(&self.db, keys).await.map_err(Arc::new)?;
        let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::new();
        for row in rows {
            lines.entry(row.order_id).or_default().push(OrderLine {
                line_no: row.line_no,
                product_id: ID(row.product_id),
                sku: row.sku,
                name: row.name,
                unit: row.unit,
                quantity: row.quantity,
                unit_price: Money::from_minor(row.unit_price_minor, &row.currency),
                line_total: Money::from_minor(row.line_total_minor, &row.currency),
                price_reason: match (row.price_reason.as_str(), row.price_list_id) {
                    ("PRICE_LIST", Some(list)) => PriceReason::price_list(
                        list,
                        row.price_list_name.unwrap_or_default(),
                        row.price_list_priority.unwrap_or_default(),
                        row.price_break.unwrap_or(1),
                        Money::from_minor(row.catalog_price_minor, &row.currency),
                    ),
                    _ => PriceReason::catalog(),
                },
            });
        }
        Ok(lines)
    }
}

/// One order the caller may see, or `None`.
pub async fn find(db: &Database, scope: &Scope, order_id: &str) -> ApiResult<Option<Order>> {
    orders::find(db, scope, order_id)
        .await?
        .map(Order::try_from)
        .transpose()
}

/// One order the caller may see, or `None`, read together with the concurrent requests' reads.
pub async fn find_coalesced(
    reader: &OrderReader,
    scope: &Scope,
    order_id: &str,
) -> ApiResult<Option<Order>> {
    let key = OrderKey {
        scope: scope.clone(),
        order_id: order_id.to_owned(),
    };
    let row = reader.load_one(key).await.map_err(|error| match error {
        CoalesceError::Load(error) => error,
        CoalesceError::Dropped => ApiError::internal("the batch of order reads failed"),
    })?;
    row.map(Order::try_from).transpose()
}
