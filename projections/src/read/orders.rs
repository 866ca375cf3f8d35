//! Orders as `rm_orders` and `rm_order_lines` show them (written by `models::orders`): a page of
//! the orders a scope reaches, newest first, one order, many orders each under its own scope,
//! and the lines of many orders at once.

use chrono::{DateTime, Utc};
use dinghuo_domain::order::OrderStatus;
use dinghuo_store::sql::{fetch_rows, Arg, Rows, StoredTime};
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// The columns of `rm_orders` every order query selects.
const ORDER_COLUMNS: &str = "order_id, tenant_id, partner_id, contact_id, placed_by_role,
    placed_by_id, status, line_count,
    total_minor, currency, note, submitted_at, confirmed_at, confirmed_by, rejected_at,
    rejected_by, rejection_reason, shipped_at, shipped_by, carrier, tracking, received_at,
    received_by, cancelled_at, cancelled_by, cancellation_reason, updated_at";

/// The list's order: newest first, then by id.
const ORDER_BY: &str = "submitted_at DESC, order_id DESC";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub order_id: String,
    pub tenant_id: String,
    pub partner_id: String,
    /// The partner's contact who ordered; `None` for an order placed on its behalf.
    pub contact_id: Option<String>,
    /// Who placed it on the partner's behalf: `ADMIN` or `EMPLOYEE`; `None` when its contact
    /// ordered.
    pub placed_by_role: Option<String>,
    /// The admin's id (as its token named it) or the employee's contact id.
    pub placed_by_id: Option<String>,
    /// As stored: a name of [`OrderStatus`].
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

/// Where an order stands in the list: its submission, then its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAt(pub DateTime<Utc>, pub String);

impl Keyed for OrderRow {
    type Key = OrderAt;
    fn key(&self) -> OrderAt {
        OrderAt(self.submitted_at.0, self.order_id.clone())
    }
}

/// Which orders to list. Every condition is optional.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub partner_id: Option<String>,
    /// Submitted at or after this time.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this time.
    pub submitted_to: Option<DateTime<Utc>>,
}

/// A page of the orders `scope` reaches, newest first.
pub async fn list(
    db: &Database,
    scope: &Scope,
    filter: &OrderFilter,
    page: &PageRequest<OrderAt>,
) -> Result<Page<OrderRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {ORDER_COLUMNS} FROM rm_orders WHERE true"),
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    if let Some(status) = filter.status {
        query.and("status =", status.as_str());
    }
    if let Some(partner) = &filter.partner_id {
        query.and("partner_id =", partner.as_str());
    }
    if let Some(from) = filter.submitted_from {
        query.and("submitted_at >=", from);
    }
    if let Some(to) = filter.submitted_to {
        query.and("submitted_at <", to);
    }
    if let Some(OrderAt(at, id)) = &page.after {
        query.and_after(
            "submitted_at, order_id",
            true,
            vec![(*at).into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, ORDER_BY).await
}

/// One order `scope` reaches, or `None`.
pub async fn find(
    db: &Database,
    scope: &Scope,
    order_id: &str,
) -> Result<Option<OrderRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {ORDER_COLUMNS} FROM rm_orders WHERE true"),
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    query.and("order_id =", order_id);
    query.fetch_optional(db).await
}

/// A row of [`find_each`]: the order, and which lookup (`want_index`) it answers.
#[derive(sqlx::FromRow)]
pub struct FoundOrder {
    pub want_index: i64,
    #[sqlx(flatten)]
    pub order: OrderRow,
}

/// Many orders in one statement, each lookup (a scope and an order id) under its own scope, as
/// [`find`] reads one: the rows found, each naming its lookup by index.
pub async fn find_each(
    db: &Database,
    lookups: &[(&Scope, &str)],
) -> Result<Vec<FoundOrder>, sqlx::Error> {
    let [tenant, contact, side] = Scope::BATCH_COLUMNS;
    let mut wanted = Rows::new(&["want_index", "want_order", tenant, contact, side]);
    for (index, (scope, order_id)) in lookups.iter().enumerate() {
        let mut values = vec![Arg::Int(i64::try_from(index).ok()), Arg::from(*order_id)];
        values.extend(scope.batch_values());
        wanted.push(values);
    }
    fetch_rows(
        db,
        wanted,
        &format!(
            "SELECT want_index, {ORDER_COLUMNS}
               FROM v JOIN rm_orders ON order_id = want_order
              WHERE {}",
            Scope::batch_condition("tenant_id", "rm_orders.partner_id")
        ),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub order_id: String,
    pub line_no: i64,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    pub currency: String,
    /// `CATALOG` or `PRICE_LIST`: why the line cost `unit_price_minor`.
    pub price_reason: String,
    /// The price list that priced the line, its name and priority then, and the break (the
    /// least quantity its price applied from); all `None` for a `CATALOG` line.
    pub price_list_id: Option<String>,
    pub price_list_name: Option<String>,
    pub price_list_priority: Option<i64>,
    pub price_break: Option<i64>,
    /// The product's catalog price at submission: the unit price itself for a `CATALOG` line.
    pub catalog_price_minor: i64,
}

/// The lines of the orders `order_ids` (ids of orders the caller already reads), by order and
/// line number. Bounded by the ids: an order has at most `OrderCommand::MAX_LINES` lines.
pub async fn lines(db: &Database, order_ids: &[String]) -> Result<Vec<LineRow>, sqlx::Error> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = Query::new(db, "");
    let ids = query.bind_list(order_ids.iter().map(|id| Arg::from(id.as_str())));
    query.push(&format!(
        "SELECT order_id, line_no, product_id, sku, name, unit, quantity, unit_price_minor,
                line_total_minor, currency, price_reason, price_list_id, price_list_name,
                price_list_priority, price_break, catalog_price_minor
           FROM rm_order_lines WHERE order_id IN ({ids})
          ORDER BY order_id, line_no"
    ));
    query.fetch(db).await
}
