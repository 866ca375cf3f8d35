//! `rm_orders`, `rm_order_lines` and `rm_sales_daily`: every order with the time and author of
//! each transition, its frozen lines, and sales per day, partner and product.
//!
//! One projection owns all three so that a rejection or cancellation can take its lines back out
//! of `sales_daily` from `order_lines` in the same transaction, identically on every rebuild.
//!
//! Orders are most of the log, so a batch is folded in memory first ([`Fold`]): new orders are
//! inserted complete with the transitions they went through within the batch, orders stored by
//! earlier batches get one bulk update, and sales are summed per row before one bulk upsert. A
//! batch of one event goes through the same fold, so there is one code path.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use dinghuo_domain::order::OrderEvent;

use super::{actor, actor_role, decode};
use crate::feed::FeedEvent;
use crate::projection::{Dialect, Projection, ProjectionError, TableNames};
use crate::sql::{Arg, Rows, Tx};

pub struct OrdersProjection;

/// Sales days are calendar days in China Standard Time (UTC+8, no daylight saving), the time
/// zone the tenants and dealers work in.
pub fn sales_day(at: DateTime<Utc>) -> String {
    const CST_SECONDS: i32 = 8 * 3600;
    match FixedOffset::east_opt(CST_SECONDS) {
        Some(cst) => at.with_timezone(&cst).format("%Y-%m-%d").to_string(),
        None => at.format("%Y-%m-%d").to_string(),
    }
}

#[async_trait]
impl Projection for OrdersProjection {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["orders", "order_lines", "sales_daily"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let time = dialect.time_type();
        let in_place = dialect.updated_in_place();
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");
        vec![
            format!(
                "CREATE TABLE {orders} (
                    order_id          text   NOT NULL PRIMARY KEY,
                    tenant_id         text   NOT NULL,
                    partner_id        text   NOT NULL,
                    contact_id        text   NOT NULL,
                    status            text   NOT NULL,
                    line_count        bigint NOT NULL,
                    total_minor       bigint NOT NULL,
                    currency          text   NOT NULL,
                    note              text   NOT NULL,
                    sales_day         text   NOT NULL,
                    submitted_at      {time} NOT NULL,
                    confirmed_at      {time},
                    confirmed_by      text,
                    rejected_at       {time},
                    rejected_by       text,
                    rejection_reason  text,
                    shipped_at        {time},
                    shipped_by        text,
                    carrier           text,
                    tracking          text,
                    received_at       {time},
                    received_by       text,
                    cancelled_at      {time},
                    cancelled_by      text,
                    cancelled_by_role text,
                    cancellation_reason text,
                    updated_at        {time} NOT NULL
                ){in_place}"
            ),
            format!(
                "CREATE TABLE {lines} (
                    order_id         text   NOT NULL,
                    line_no          bigint NOT NULL,
                    tenant_id        text   NOT NULL,
                    product_id       text   NOT NULL,
                    sku              text   NOT NULL,
                    name             text   NOT NULL,
                    unit             text   NOT NULL,
                    quantity         bigint NOT NULL,
                    unit_price_minor bigint NOT NULL,
                    line_total_minor bigint NOT NULL,
                    currency         text   NOT NULL,
                    PRIMARY KEY (order_id, line_no)
                )"
            ),
            format!(
                "CREATE TABLE {sales} (
                    tenant_id    text   NOT NULL,
                    day          text   NOT NULL,
                    partner_id   text   NOT NULL,
                    product_id   text   NOT NULL,
                    orders       bigint NOT NULL,
                    quantity     bigint NOT NULL,
                    amount_minor bigint NOT NULL,
                    currency     text   NOT NULL,
                    PRIMARY KEY (tenant_id, day, partner_id, product_id)
                ){in_place}"
            ),
        ]
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![
            format!(
                "CREATE INDEX {} ON {} (tenant_id, submitted_at)",
                names.index("orders", "tenant_time"),
                names.table("orders")
            ),
            format!(
                "CREATE INDEX {} ON {} (partner_id, submitted_at)",
                names.index("orders", "partner_time"),
                names.table("orders")
            ),
            format!(
                "CREATE INDEX {} ON {} (tenant_id, product_id)",
                names.index("order_lines", "tenant_product"),
                names.table("order_lines")
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, names, std::slice::from_ref(event))
            .await
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        // A rebuild derives `sales_daily` once at the end (`finish_rebuild`).
        let mut fold = Fold {
            maintains_sales: !names.is_next(),
            ..Fold::default()
        };
        for event in events {
            if let Some(order) = decode::<OrderEvent>(event, "Order")? {
                fold.add(event, order);
            }
        }
        fold.write(tx, names).await
    }

    async fn finish_rebuild(&self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");
        // What the incremental fold maintains, by definition: every line of every order that
        // was neither rejected nor cancelled, summed on its submission day.
        tx.execute(
            &format!(
                "INSERT INTO {sales} (tenant_id, day, partner_id, product_id, orders, quantity,
                                      amount_minor, currency)
                 SELECT o.tenant_id, o.sales_day, o.partner_id, l.product_id, COUNT(*),
                        SUM(l.quantity), SUM(l.line_total_minor), MIN(l.currency)
                   FROM {lines} l JOIN {orders} o ON o.order_id = l.order_id
                  WHERE o.status NOT IN ('REJECTED', 'CANCELLED')
                  GROUP BY o.tenant_id, o.sales_day, o.partner_id, l.product_id"
            ),
            &[],
        )
        .await?;
        Ok(())
    }
}

/// What a transition sets on an order row; `None` leaves a column as it is.
#[derive(Debug, Default)]
struct Transitions {
    status: Option<&'static str>,
    confirmed_at: Option<DateTime<Utc>>,
    confirmed_by: Option<String>,
    rejected_at: Option<DateTime<Utc>>,
    rejected_by: Option<String>,
    rejection_reason: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
    shipped_by: Option<String>,
    carrier: Option<String>,
    tracking: Option<String>,
    received_at: Option<DateTime<Utc>>,
    received_by: Option<String>,
    cancelled_at: Option<DateTime<Utc>>,
    cancelled_by: Option<String>,
    cancelled_by_role: Option<String>,
    cancellation_reason: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl Transitions {
    const COLUMNS: [&'static str; 17] = [
        "status",
        "confirmed_at",
        "confirmed_by",
        "rejected_at",
        "rejected_by",
        "rejection_reason",
        "shipped_at",
        "shipped_by",
        "carrier",
        "tracking",
        "received_at",
        "received_by",
        "cancelled_at",
        "cancelled_by",
        "cancelled_by_role",
        "cancellation_reason",
        "updated_at",
    ];

    /// Records a transition (any event but the submission) made at `at` by `by`.
    fn record(
        &mut self,
        event: OrderEvent,
        at: DateTime<Utc>,
        by: Option<String>,
        role: Option<String>,
    ) {
        match event {
            OrderEvent::OrderSubmitted { .. } => return,
            OrderEvent::OrderConfirmed => {
                self.status = Some("CONFIRMED");
                self.confirmed_at = Some(at);
                self.confirmed_by = by;
            }
            OrderEvent::OrderRejected { reason } => {
                self.status = Some("REJECTED");
                self.rejected_at = Some(at);
                self.rejected_by = by;
                self.rejection_reason = Some(reason.as_str().to_owned());
            }
            OrderEvent::OrderShipped { carrier, tracking } => {
                self.status = Some("SHIPPED");
                self.shipped_at = Some(at);
                self.shipped_by = by;
                self.carrier = carrier.map(String::from);
                self.tracking = tracking.map(String::from);
            }
            OrderEvent::OrderReceived => {
                self.status = Some("RECEIVED");
                self.received_at = Some(at);
                self.received_by = by;
            }
            OrderEvent::OrderCancelled { reason } => {
                self.status = Some("CANCELLED");
                self.cancelled_at = Some(at);
                self.cancelled_by = by;
                self.cancelled_by_role = role;
                self.cancellation_reason = Some(reason.as_str().to_owned());
            }
        }
        self.updated_at = Some(at);
    }

    /// The values of [`Self::COLUMNS`], in that order.
    fn values(self) -> Vec<Arg> {
        vec![
            self.status.into(),
            self.confirmed_at.into(),
            self.confirmed_by.into(),
            self.rejected_at.into(),
            self.rejected_by.into(),
            self.rejection_reason.into(),
            self.shipped_at.into(),
            self.shipped_by.into(),
            self.carrier.into(),
            self.tracking.into(),
            self.received_at.into(),
            self.received_by.into(),
            self.cancelled_at.into(),
            self.cancelled_by.into(),
            self.cancelled_by_role.into(),
            self.cancellation_reason.into(),
            self.updated_at.into(),
        ]
    }
}

/// What a line contributes to its `sales_daily` row.
#[derive(Debug, Clone)]
struct Sale {
    product_id: String,
    quantity: i64,
    amount_minor: i64,
    currency: String,
}

/// An order submitted within the batch: inserted at the end, with its later transitions.
#[derive(Debug)]
struct NewOrder {
    /// The values of [`SUBMITTED_COLUMNS`].
    submitted: Vec<Arg>,
    sales_key: (String, String, String),
    sales: Vec<Sale>,
    transitions: Transitions,
}

/// The columns of a new order known at submission; its transitions' follow
/// ([`Transitions::COLUMNS`]).
const SUBMITTED_COLUMNS: &[&str] = &[
    "order_id",
    "tenant_id",
    "partner_id",
    "contact_id",
    "line_count",
    "total_minor",
    "currency",
    "note",
    "sales_day",
    "submitted_at",
];

/// `leading` followed by the transition columns.
fn with_transitions(leading: &[&'static str]) -> Vec<&'static str> {
    leading
        .iter()
        .chain(&Transitions::COLUMNS)
        .copied()
        .collect()
}

const LINE_COLUMNS: &[&str] = &[
    "order_id",
    "line_no",
    "tenant_id",
    "product_id",
    "sku",
    "name",
    "unit",
    "quantity",
    "unit_price_minor",
    "line_total_minor",
    "currency",
];

const SALES_COLUMNS: &[&str] = &[
    "tenant_id",
    "day",
    "partner_id",
    "product_id",
    "orders",
    "quantity",
    "amount_minor",
    "currency",
];

/// `(tenant, day, partner, product)`: the key of a `sales_daily` row.
type SalesKey = (String, String, String, String);

#[derive(Debug, Default)]
struct SalesDelta {
    orders: i64,
    quantity: i64,
    amount_minor: i64,
    currency: String,
}

/// A line of an order stored by an earlier batch, to withdraw from `sales_daily`.
#[derive(Debug, sqlx::FromRow)]
struct StoredSale {
    tenant_id: String,
    sales_day: String,
    partner_id: String,
    product_id: String,
    quantity: i64,
    line_total_minor: i64,
    currency: String,
}

/// A batch of order events folded in memory, written by [`Fold::write`].
#[derive(Debug, Default)]
struct Fold {
    /// `false` in a rebuild, which derives `sales_daily` at the end instead.
    maintains_sales: bool,
    new_orders: Vec<NewOrder>,
    new_index: HashMap<String, usize>,
    lines: Vec<Vec<Arg>>,
    /// Transitions of orders stored by earlier batches, in first-seen order.
    changed: Vec<(String, Transitions)>,
    changed_index: HashMap<String, usize>,
    /// Orders stored by earlier batches that were rejected or cancelled in this one.
    withdrawn_stored: Vec<String>,
    sales: BTreeMap<SalesKey, SalesDelta>,
}

impl Fold {
    fn add(&mut self, event: &FeedEvent, order: OrderEvent) {
        let id = event.aggregate_id.as_str();
        let at = event.recorded_at;
        if let OrderEvent::OrderSubmitted {
            tenant_id,
            partner_id,
            contact_id,
            lines,
            total,
            note,
        } = order
        {
            let (tenant, partner) = (tenant_id.to_string(), partner_id.to_string());
            let day = sales_day(at);
            let mut sales = Vec::with_capacity(lines.len());
            for (line_no, line) in lines.iter().enumerate() {
                let quantity = i64::from(line.quantity.get());
                let product = line.product_id.to_string();
                let currency = line.line_total.currency.code();
                self.lines.push(vec![
                    id.into(),
                    i64::try_from(line_no + 1).unwrap_or(i64::MAX).into(),
                    tenant.as_str().into(),
                    product.as_str().into(),
                    line.sku.as_str().into(),
                    line.name.as_str().into(),
                    line.unit.as_str().into(),
                    quantity.into(),
                    line.unit_price.amount_minor.into(),
                    line.line_total.amount_minor.into(),
                    currency.into(),
                ]);
                sales.push(Sale {
                    product_id: product,
                    quantity,
                    amount_minor: line.line_total.amount_minor,
                    currency: currency.to_owned(),
                });
            }
            let key = (tenant.clone(), day.clone(), partner.clone());
            self.add_sales(&key, &sales, 1);
            self.new_index.insert(id.to_owned(), self.new_orders.len());
            self.new_orders.push(NewOrder {
                submitted: vec![
                    id.into(),
                    tenant.into(),
                    partner.into(),
                    contact_id.to_string().into(),
                    i64::try_from(lines.len()).unwrap_or(i64::MAX).into(),
                    total.amount_minor.into(),
                    total.currency.code().into(),
                    note.as_str().into(),
                    day.into(),
                    at.into(),
                ],
                sales_key: key,
                sales,
                transitions: Transitions {
                    status: Some("SUBMITTED"),
                    updated_at: Some(at),
                    ..Transitions::default()
                },
            });
            return;
        }
        // A rejected or cancelled order no longer counts as sold: its lines leave its
        // submission day's rows.
        let withdraws = matches!(
            order,
            OrderEvent::OrderRejected { .. } | OrderEvent::OrderCancelled { .. }
        );
        let (by, role) = (actor(event), actor_role(event));
        if let Some(&index) = self.new_index.get(id) {
            if withdraws {
                let key = self.new_orders[index].sales_key.clone();
                let sales = self.new_orders[index].sales.clone();
                self.add_sales(&key, &sales, -1);
            }
            self.new_orders[index]
                .transitions
                .record(order, at, by, role);
            return;
        }
        if withdraws && self.maintains_sales {
            self.withdrawn_stored.push(id.to_owned());
        }
        let index = *self.changed_index.entry(id.to_owned()).or_insert_with(|| {
            self.changed.push((id.to_owned(), Transitions::default()));
            self.changed.len() - 1
        });
        self.changed[index].1.record(order, at, by, role);
    }

    /// Adds (`sign` 1) or takes out (`sign` -1) one order's lines on its day's rows.
    fn add_sales(&mut self, key: &(String, String, String), sales: &[Sale], sign: i64) {
        if !self.maintains_sales {
            return;
        }
        for sale in sales {
            let (tenant, day, partner) = key.clone();
            let delta = self
                .sales
                .entry((tenant, day, partner, sale.product_id.clone()))
                .or_default();
            delta.orders += sign;
            delta.quantity += sign * sale.quantity;
            delta.amount_minor += sign * sale.amount_minor;
            delta.currency.clone_from(&sale.currency);
        }
    }

    async fn write(mut self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");

        // Withdrawals of stored orders: their lines and day come from the stored rows.
        let mut withdrawn = Rows::new(&["order_id"]);
        for id in std::mem::take(&mut self.withdrawn_stored) {
            withdrawn.push(vec![id.into()]);
        }
        let stored: Vec<StoredSale> = tx
            .fetch_rows(
                withdrawn,
                &format!(
                    "SELECT o.tenant_id, o.sales_day, o.partner_id, l.product_id, l.quantity,
                            l.line_total_minor, l.currency
                       FROM v
                       JOIN {orders} o ON o.order_id = v.order_id
                       JOIN {lines} l ON l.order_id = v.order_id"
                ),
            )
            .await?;
        for line in stored {
            let key = (line.tenant_id, line.sales_day, line.partner_id);
            let sale = Sale {
                product_id: line.product_id,
                quantity: line.quantity,
                amount_minor: line.line_total_minor,
                currency: line.currency,
            };
            self.add_sales(&key, &[sale], -1);
        }

        let new_order_columns = with_transitions(SUBMITTED_COLUMNS);
        let mut new_orders = Rows::new(&new_order_columns);
        for order in self.new_orders {
            let mut values = order.submitted;
            values.extend(order.transitions.values());
            new_orders.push(values);
        }
        let columns = new_order_columns.join(", ");
        tx.execute_rows(
            new_orders,
            &format!("INSERT INTO {orders} ({columns}) SELECT {columns} FROM v"),
        )
        .await?;

        let mut new_lines = Rows::new(LINE_COLUMNS);
        for line in self.lines {
            new_lines.push(line);
        }
        let columns = LINE_COLUMNS.join(", ");
        tx.execute_rows(
            new_lines,
            &format!("INSERT INTO {lines} ({columns}) SELECT {columns} FROM v"),
        )
        .await?;

        let mut changed = Rows::new(&with_transitions(&["order_id"]));
        for (id, transitions) in self.changed {
            let mut values = vec![Arg::from(id)];
            values.extend(transitions.values());
            changed.push(values);
        }
        // Every transition sets the status and `updated_at`; the rest only when it happened.
        let assignments: Vec<String> = Transitions::COLUMNS
            .iter()
            .map(|column| match *column {
                "status" | "updated_at" => format!("{column} = v.{column}"),
                _ => format!("{column} = COALESCE(v.{column}, {orders}.{column})"),
            })
            .collect();
        tx.execute_rows(
            changed,
            &format!(
                "UPDATE {orders} SET {} FROM v WHERE {orders}.order_id = v.order_id",
                assignments.join(", ")
            ),
        )
        .await?;

        let mut upserts = Rows::new(SALES_COLUMNS);
        let mut emptied = Rows::new(&["tenant_id", "day", "partner_id", "product_id"]);
        for ((tenant, day, partner, product), delta) in self.sales {
            if delta.orders == 0 && delta.quantity == 0 && delta.amount_minor == 0 {
                continue;
            }
            if delta.orders < 0 {
                emptied.push(vec![
                    tenant.as_str().into(),
                    day.as_str().into(),
                    partner.as_str().into(),
                    product.as_str().into(),
                ]);
            }
            upserts.push(vec![
                tenant.into(),
                day.into(),
                partner.into(),
                product.into(),
                delta.orders.into(),
                delta.quantity.into(),
                delta.amount_minor.into(),
                delta.currency.into(),
            ]);
        }
        let columns = SALES_COLUMNS.join(", ");
        tx.execute_rows(
            upserts,
            // `WHERE true`: SQLite cannot otherwise tell the upsert from a join's `ON`.
            &format!(
                "INSERT INTO {sales} ({columns}) SELECT {columns} FROM v WHERE true
                 ON CONFLICT (tenant_id, day, partner_id, product_id) DO UPDATE
                    SET orders = {sales}.orders + excluded.orders,
                        quantity = {sales}.quantity + excluded.quantity,
                        amount_minor = {sales}.amount_minor + excluded.amount_minor"
            ),
        )
        .await?;
        // A row no order counts any more is gone, as if it had never been sold.
        tx.execute_rows(
            emptied,
            &format!(
                "DELETE FROM {sales}
                  WHERE orders = 0
                    AND (tenant_id, day, partner_id, product_id) IN
                        (SELECT tenant_id, day, partner_id, product_id FROM v)"
            ),
        )
        .await?;
        Ok(())
    }
}
