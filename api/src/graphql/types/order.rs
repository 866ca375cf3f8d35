//! `Order` and `OrderLine`, read from `rm_orders` and `rm_order_lines`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_domain::order::OrderStatus as DomainStatus;
use dinghuo_store::sql::{fetch_all, fetch_rows, placeholders, Arg, Rows, StoredTime};
use dinghuo_store::Database;

use super::money::Money;
use super::Scope;
use crate::graphql::coalesce::{CoalesceError, Coalescer};
use crate::graphql::error::{ApiError, ApiResult};

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
    pub fn as_str(self) -> &'static str {
        DomainStatus::from(self).as_str()
    }

    fn parse(text: &str) -> Option<Self> {
        DomainStatus::parse(text).map(Self::from)
    }
}

/// The columns of `rm_orders` every order query selects.
pub const ORDER_COLUMNS: &str = "order_id, tenant_id, partner_id, contact_id, status, line_count,
    total_minor, currency, note, submitted_at, confirmed_at, confirmed_by, rejected_at,
    rejected_by, rejection_reason, shipped_at, shipped_by, carrier, tracking, received_at,
    received_by, cancelled_at, cancelled_by, cancellation_reason, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub order_id: String,
    pub tenant_id: String,
    pub partner_id: String,
    pub contact_id: String,
    pub status: String,
    pub line_count: i64,
    pub total_minor: i64,
    pub currency: String,
    pub note: String,
    pub submitted_at: StoredTime,
    pub confirmed_at: Option<StoredTime>,
    pub confirmed_by: Option<String>,
    pub rejected_at: Option<StoredTime>,
    pub rejected_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub shipped_at: Option<StoredTime>,
    pub shipped_by: Option<String>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub received_at: Option<StoredTime>,
    pub received_by: Option<String>,
    pub cancelled_at: Option<StoredTime>,
    pub cancelled_by: Option<String>,
    pub cancellation_reason: Option<String>,
    pub updated_at: StoredTime,
}

/// A sales order as the read model shows it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Order {
    pub id: ID,
    pub status: OrderStatus,
    pub partner_id: ID,
    pub contact_id: ID,
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
            contact_id: ID(row.contact_id),
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
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<super::Partner>> {
        let loader = super::contact::loader::<super::partner::PartnersLoader>(ctx)?;
        loader
            .load_one(self.partner_id.to_string())
            .await
            .map_err(ApiError::from)
    }

    /// The contact who ordered (one query for a whole page of orders).
    async fn contact(&self, ctx: &Context<'_>) -> ApiResult<Option<super::Contact>> {
        let loader = super::contact::loader::<super::contact::ContactsLoader>(ctx)?;
        loader
            .load_one(self.contact_id.to_string())
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
}

#[derive(Debug, sqlx::FromRow)]
struct LineRow {
    order_id: String,
    line_no: i64,
    product_id: String,
    sku: String,
    name: String,
    unit: String,
    quantity: i64,
    unit_price_minor: i64,
    line_total_minor: i64,
    currency: String,
}

/// Loads the lines of many orders in one query (one per page of orders, not one per order).
pub struct LinesLoader {
    pub db: Database,
}

impl Loader<String> for LinesLoader {
    type Value = Vec<OrderLine>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<OrderLine>>, Self::Error> {
        let args: Vec<Arg> = keys.iter().map(|key| Arg::from(key.as_str())).collect();
        let rows: Vec<LineRow> = fetch_all(
            &self.db,
            &format!(
                "SELECT order_id, line_no, product_id, sku, name, unit, quantity, unit_price_minor,
                        line_total_minor, currency
                   FROM rm_order_lines WHERE order_id IN ({})
                  ORDER BY order_id, line_no",
                placeholders(1, keys.len())
            ),
            &args,
        )
        .await
        .map_err(Arc::new)?;
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
            });
        }
        Ok(lines)
    }
}

/// One order the caller may see, or `None`.
pub async fn find(db: &Database, scope: &Scope, order_id: &str) -> ApiResult<Option<Order>> {
    let (condition, extra) = scope.partner_condition(db, "partner_id", 3);
    let mut args = vec![Arg::from(scope.tenant_id.as_str()), Arg::from(order_id)];
    args.extend(extra);
    let rows: Vec<OrderRow> = fetch_all(
        db,
        &format!(
            "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE tenant_id = $1 AND order_id = $2{condition}"
        ),
        &args,
    )
    .await?;
    rows.into_iter().next().map(Order::try_from).transpose()
}

/// One order as one caller may see it: the key of [`OrderReads`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    pub scope: Scope,
    pub order_id: String,
}

/// Single orders read for many callers at once (see [`Coalescer`]): what a burst of order
/// mutations reads back. Each lookup keeps its caller's scope ([`Scope::batch_condition`]).
pub struct OrderReads {
    db: Database,
}

/// [`OrderReads`] shared by every request.
pub type OrderReader = Coalescer<OrderKey, OrderReads>;

impl OrderReads {
    pub fn new(db: &Database) -> Self {
        Self { db: db.clone() }
    }

    pub fn shared(db: &Database) -> OrderReader {
        Coalescer::new(Self::new(db))
    }
}

/// A row of the batch: the order, and which lookup (`want_index`) it answers.
#[derive(sqlx::FromRow)]
struct FoundOrder {
    want_index: i64,
    #[sqlx(flatten)]
    order: OrderRow,
}

impl Loader<OrderKey> for OrderReads {
    type Value = Order;
    type Error = ApiError;

    async fn load(&self, keys: &[OrderKey]) -> Result<HashMap<OrderKey, Order>, ApiError> {
        let [tenant, contact, side] = Scope::BATCH_COLUMNS;
        let mut wanted = Rows::new(&["want_index", "want_order", tenant, contact, side]);
        for (index, key) in keys.iter().enumerate() {
            let mut values = vec![
                Arg::Int(i64::try_from(index).ok()),
                Arg::from(key.order_id.as_str()),
            ];
            values.extend(key.scope.batch_values());
            wanted.push(values);
        }
        // Each lookup under its own caller's scope, as `find` reads one.
        let found: Vec<FoundOrder> = fetch_rows(
            &self.db,
            wanted,
            &format!(
                "SELECT want_index, {ORDER_COLUMNS}
                   FROM v JOIN rm_orders ON order_id = want_order
                  WHERE {}",
                Scope::batch_condition("tenant_id", "rm_orders.partner_id")
            ),
        )
        .await?;
        let mut orders = HashMap::with_capacity(found.len());
        for row in found {
            let key = usize::try_from(row.want_index)
                .ok()
                .and_then(|index| keys.get(index))
                .ok_or_else(|| ApiError::internal("a batch row answers no lookup"))?;
            orders.insert(key.clone(), Order::try_from(row.order)?);
        }
        Ok(orders)
    }
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
    reader.load_one(key).await.map_err(|error| match error {
        CoalesceError::Load(error) => error,
        CoalesceError::Dropped => ApiError::internal("the batch of order reads failed"),
    })
}
