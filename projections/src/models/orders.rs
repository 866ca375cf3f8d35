//! `rm_orders`, `rm_order_lines` and `rm_sales_daily`: every order with the time and author of
//! each transition, its frozen lines, and sales per day, partner and product.
//!
//! One projection owns all three so that a rejection or cancellation can take its lines back out
//! of `sales_daily` from `order_lines` in the same transaction, identically on every rebuild.

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use dinghuo_domain::order::OrderEvent;

use super::{actor, decode};
use crate::feed::FeedEvent;
use crate::projection::{Dialect, Projection, ProjectionError, TableNames};
use crate::sql::{Arg, Tx};

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
                )"
            ),
            format!(
                "CREATE INDEX {} ON {orders} (tenant_id, submitted_at)",
                names.index("orders", "tenant_time")
            ),
            format!(
                "CREATE INDEX {} ON {orders} (partner_id, submitted_at)",
                names.index("orders", "partner_time")
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
                "CREATE INDEX {} ON {lines} (tenant_id, product_id)",
                names.index("order_lines", "tenant_product")
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
                )"
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(order) = decode::<OrderEvent>(event, "Order")? else {
            return Ok(());
        };
        let orders = names.table("orders");
        let id = Arg::from(event.aggregate_id.as_str());
        let at = Arg::from(event.recorded_at);
        let by = Arg::from(actor(event));
        match order {
            OrderEvent::OrderSubmitted {
                tenant_id,
                partner_id,
                contact_id,
                lines,
                total,
                note,
            } => {
                let day = sales_day(event.recorded_at);
                tx.execute(
                    &format!(
                        "INSERT INTO {orders} (order_id, tenant_id, partner_id, contact_id, status,
                            line_count, total_minor, currency, note, sales_day, submitted_at,
                            updated_at)
                         VALUES ($1, $2, $3, $4, 'SUBMITTED', $5, $6, $7, $8, $9, $10, $10)"
                    ),
                    &[
                        id.clone(),
                        tenant_id.to_string().into(),
                        partner_id.to_string().into(),
                        contact_id.to_string().into(),
                        i64::try_from(lines.len()).unwrap_or(i64::MAX).into(),
                        total.amount_minor.into(),
                        total.currency.code().into(),
                        note.as_str().into(),
                        day.as_str().into(),
                        at,
                    ],
                )
                .await?;
                let line_table = names.table("order_lines");
                let sales = names.table("sales_daily");
                for (line_no, line) in lines.iter().enumerate() {
                    let quantity = i64::from(line.quantity.get());
                    tx.execute(
                        &format!(
                            "INSERT INTO {line_table} (order_id, line_no, tenant_id, product_id, sku,
                                name, unit, quantity, unit_price_minor, line_total_minor, currency)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                        ),
                        &[
                            id.clone(),
                            i64::try_from(line_no + 1).unwrap_or(i64::MAX).into(),
                            tenant_id.to_string().into(),
                            line.product_id.to_string().into(),
                            line.sku.as_str().into(),
                            line.name.as_str().into(),
                            line.unit.as_str().into(),
                            quantity.into(),
                            line.unit_price.amount_minor.into(),
                            line.line_total.amount_minor.into(),
                            line.line_total.currency.code().into(),
                        ],
                    )
                    .await?;
                    tx.execute(
                        &format!(
                            "INSERT INTO {sales} (tenant_id, day, partner_id, product_id, orders,
                                quantity, amount_minor, currency)
                             VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
                             ON CONFLICT (tenant_id, day, partner_id, product_id) DO UPDATE
                                SET orders = {sales}.orders + 1,
                                    quantity = {sales}.quantity + excluded.quantity,
                                    amount_minor = {sales}.amount_minor + excluded.amount_minor"
                        ),
                        &[
                            tenant_id.to_string().into(),
                            day.as_str().into(),
                            partner_id.to_string().into(),
                            line.product_id.to_string().into(),
                            quantity.into(),
                            line.line_total.amount_minor.into(),
                            line.line_total.currency.code().into(),
                        ],
                    )
                    .await?;
                }
            }
            OrderEvent::OrderConfirmed => {
                transition(
                    tx,
                    &orders,
                    "CONFIRMED",
                    "confirmed_at",
                    "confirmed_by",
                    &[id, at, by],
                )
                .await?;
            }
            OrderEvent::OrderRejected { reason } => {
                withdraw_sales(tx, names, &id).await?;
                tx.execute(
                    &format!(
                        "UPDATE {orders} SET status = 'REJECTED', rejected_at = $2, rejected_by = $3,
                            rejection_reason = $4, updated_at = $2 WHERE order_id = $1"
                    ),
                    &[id, at, by, reason.as_str().into()],
                )
                .await?;
            }
            OrderEvent::OrderShipped { carrier, tracking } => {
                tx.execute(
                    &format!(
                        "UPDATE {orders} SET status = 'SHIPPED', shipped_at = $2, shipped_by = $3,
                            carrier = $4, tracking = $5, updated_at = $2 WHERE order_id = $1"
                    ),
                    &[
                        id,
                        at,
                        by,
                        carrier.map(String::from).into(),
                        tracking.map(String::from).into(),
                    ],
                )
                .await?;
            }
            OrderEvent::OrderReceived => {
                transition(
                    tx,
                    &orders,
                    "RECEIVED",
                    "received_at",
                    "received_by",
                    &[id, at, by],
                )
                .await?;
            }
            OrderEvent::OrderCancelled { reason } => {
                withdraw_sales(tx, names, &id).await?;
                tx.execute(
                    &format!(
                        "UPDATE {orders} SET status = 'CANCELLED', cancelled_at = $2,
                            cancelled_by = $3, cancelled_by_role = $4, cancellation_reason = $5,
                            updated_at = $2 WHERE order_id = $1"
                    ),
                    &[
                        id,
                        at,
                        by,
                        Arg::from(super::actor_role(event)),
                        reason.as_str().into(),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Moves an order to `status`, recording when and by whom in the two named columns.
async fn transition(
    tx: &mut Tx,
    orders: &str,
    status: &str,
    at_column: &str,
    by_column: &str,
    args: &[Arg],
) -> Result<(), ProjectionError> {
    tx.execute(
        &format!(
            "UPDATE {orders} SET status = '{status}', {at_column} = $2, {by_column} = $3,
                updated_at = $2 WHERE order_id = $1"
        ),
        args,
    )
    .await?;
    Ok(())
}

/// A rejected or cancelled order no longer counts as sold: take each of its lines back out of
/// its submission day's row.
async fn withdraw_sales(
    tx: &mut Tx,
    names: &TableNames,
    order: &Arg,
) -> Result<(), ProjectionError> {
    let orders = names.table("orders");
    let lines = names.table("order_lines");
    let sales = names.table("sales_daily");
    tx.execute(
        &format!(
            "UPDATE {sales} SET
                orders = orders - 1,
                quantity = quantity - (SELECT l.quantity FROM {lines} l
                    WHERE l.order_id = $1 AND l.product_id = {sales}.product_id),
                amount_minor = amount_minor - (SELECT l.line_total_minor FROM {lines} l
                    WHERE l.order_id = $1 AND l.product_id = {sales}.product_id)
             WHERE (tenant_id, day, partner_id) =
                   (SELECT tenant_id, sales_day, partner_id FROM {orders} WHERE order_id = $1)
               AND product_id IN (SELECT product_id FROM {lines} WHERE order_id = $1)"
        ),
        std::slice::from_ref(order),
    )
    .await?;
    tx.execute(
        &format!(
            "DELETE FROM {sales}
              WHERE orders = 0
                AND (tenant_id, day, partner_id) =
                    (SELECT tenant_id, sales_day, partner_id FROM {orders} WHERE order_id = $1)"
        ),
        std::slice::from_ref(order),
    )
    .await?;
    Ok(())
}
