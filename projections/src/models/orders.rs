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
//!
//! A rebuild keeps one fold for all its pages ([`RebuildOrders`]): an order stays in memory
//! until it reaches a final state (received, rejected, cancelled), so that it is inserted once,
//! as it ends, instead of inserted and then updated by later pages. To keep memory flat, the
//! oldest open orders beyond a bound are written as they stand; later events for them become
//! updates, as in a live batch.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, Utc};
use dinghuo_domain::order::{OrderEvent, PlacedBy};
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::{ContactId, Money, Note, PartnerId, TenantId};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Rows, Tx};

use super::event::{actor, actor_role, decode, quantity_value};
use crate::projection::{Projection, ProjectionError, RebuildFold, TableNames, Writes};

pub struct OrdersProjection;

/// The most unfinished orders a rebuild keeps in memory (a few hundred bytes each). An order
/// that stays open while this many newer ones arrive is written early and updated later. Most
/// orders finish within a few thousand events of their submission; the bound keeps the
/// rebuild's memory flat however long the log (measured: with 25,000, the peak at 1M events was
/// 20–36 % above the one at 100k; with 15,000, 2 %).
pub const REBUILD_OPEN_ORDERS: usize = 15_000;

/// Rows per bulk statement when many orders are written at once (the end of a rebuild), so that
/// the bound rows never take more memory than a page does.
const ROWS_PER_STATEMENT: usize = 5_000;

impl OrdersProjection {
    /// A rebuild's fold that keeps at most `open_orders` unfinished orders in memory. The
    /// projection uses [`REBUILD_OPEN_ORDERS`]; tests pass a tiny bound to exercise eviction.
    pub fn rebuild_fold_keeping(open_orders: usize) -> Box<dyn RebuildFold> {
        Box::new(RebuildOrders {
            fold: Fold::new(false),
            keep_open: open_orders,
            keyed: false,
        })
    }
}

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

    /// 2: key columns compare as bytes; the keys of `order_lines` and `sales_daily` are unique
    /// indexes. 3: the orders' indexes end with the list's keyset order (`submitted_at,
    /// order_id`), and one leads with the status (`read::orders`). 4: an order's `contact_id` may
    /// be null and `placed_by_*` say who placed it on the partner's behalf; each line keeps the
    /// reason of its price (`OrderSubmitted` 2.0).
    fn schema_version(&self) -> i32 {
        4
    }

    fn tables(&self) -> &'static [&'static str] {
        &["orders", "order_lines", "sales_daily"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let time = dialect.time_type();
        let in_place = dialect.updated_in_place();
        let key = dialect.key_text_type();
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");
        vec![
            format!(
                "CREATE TABLE {orders} (
                    order_id          {key} NOT NULL,
                    tenant_id         {key} NOT NULL,
                    partner_id        {key} NOT NULL,
                    contact_id        {key},
                    placed_by_role    {key},
                    placed_by_id      {key},
                    status            {key} NOT NULL,
                    line_count        bigint NOT NULL,
                    total_minor       bigint NOT NULL,
                    currency          {key} NOT NULL,
                    note              text   NOT NULL,
                    sales_day         {key} NOT NULL,
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
                    order_id         {key} NOT NULL,
                    line_no          bigint NOT NULL,
                    tenant_id        {key} NOT NULL,
                    product_id       {key} NOT NULL,
                    sku              text   NOT NULL,
                    name             text   NOT NULL,
                    unit             text   NOT NULL,
                    quantity         bigint NOT NULL,
                    unit_price_minor bigint NOT NULL,
                    line_total_minor bigint NOT NULL,
                    currency         {key} NOT NULL,
                    price_reason     {key} NOT NULL,
                    price_list_id    {key},
                    price_list_name  text,
                    price_list_priority bigint,
                    price_break      bigint,
                    catalog_price_minor bigint NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE {sales} (
                    tenant_id    {key} NOT NULL,
                    day          {key} NOT NULL,
                    partner_id   {key} NOT NULL,
                    product_id   {key} NOT NULL,
                    orders       bigint NOT NULL,
                    quantity     bigint NOT NULL,
                    amount_minor bigint NOT NULL,
                    currency     {key} NOT NULL
                ){in_place}"
            ),
        ]
    }

    /// The keys of all three tables are unique indexes built here, not primary keys: a
    /// rebuild fills the tables in bulk, and one sorted index build costs less than maintaining
    /// the index row by row (measured: 258,000 lines took 1.9 s to insert under their key, 1.3 s
    /// to insert and then index; 287,000 orders 1.5 s against 0.8 s to insert). A rebuild
    /// never looks up lines or sales, and looks up orders only to update one written before it
    /// finished: the first such update builds the orders' key ([`order_key`]). The live tables
    /// get every index at creation: the live fold looks up all three.
    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![
            order_key(names),
            format!(
                "CREATE UNIQUE INDEX {} ON {} (order_id, line_no)",
                names.index("order_lines", "key"),
                names.table("order_lines")
            ),
            // One per filter of `read::orders::list`, each ending in the list's order, so that a
            // page is the next rows of one index range whatever the size of the tenant.
            format!(
                "CREATE INDEX {} ON {} (tenant_id, submitted_at, order_id)",
                names.index("orders", "tenant_time"),
                names.table("orders")
            ),
            format!(
                "CREATE INDEX {} ON {} (partner_id, submitted_at, order_id)",
                names.index("orders", "partner_time"),
                names.table("orders")
            ),
            format!(
                "CREATE INDEX {} ON {} (tenant_id, status, submitted_at, order_id)",
                names.index("orders", "status_time"),
                names.table("orders")
            ),
            // Last: `finish_rebuild` fills this table, and an index built after is cheaper.
            format!(
                "CREATE UNIQUE INDEX {} ON {} (tenant_id, day, partner_id, product_id)",
                names.index("sales_daily", "key"),
                names.table("sales_daily")
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

    fn rebuild_fold(&self) -> Option<Box<dyn RebuildFold>> {
        Some(Self::rebuild_fold_keeping(REBUILD_OPEN_ORDERS))
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        // A rebuild derives `sales_daily` once at the end (`finish_rebuild`).
        let mut fold = Fold::new(!names.is_next());
        fold.add_all(events)?;
        fold.take(0).write(tx, names).await
    }

    async fn finish_rebuild(&self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");
        if tx.is_postgres() {
            // Groups are far fewer than lines, which the planner cannot know of fresh tables:
            // left alone it sorts every line (measured: 3.9 s for a million events' lines,
            // spilling to disk) where hashing the groups takes about half that. This runs in
            // a transaction of its own (`rebuild::complete`).
            tx.execute("SET LOCAL enable_sort = off", &[]).await?;
        }
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

/// The unique index on `orders (order_id)`. `IF NOT EXISTS`: a rebuild may have built it
/// before its completion does.
fn order_key(names: &TableNames) -> String {
    format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (order_id)",
        names.index("orders", "key"),
        names.table("orders")
    )
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

    /// A new order's: submitted at `at`, nothing else yet.
    fn submitted(at: DateTime<Utc>) -> Self {
        Self {
            status: Some("SUBMITTED"),
            updated_at: Some(at),
            ..Self::default()
        }
    }

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

/// An order submitted but not written yet, with the transitions it went through since. Kept
/// typed rather than as bound values: a rebuild holds many of them.
#[derive(Debug)]
struct NewOrder {
    order_id: String,
    tenant_id: TenantId,
    partner_id: PartnerId,
    /// `None` for an order placed on the partner's behalf.
    contact_id: Option<ContactId>,
    placed_by: Option<PlacedBy>,
    line_count: i64,
    total: Money,
    note: Note,
    submitted_at: DateTime<Utc>,
    /// What its lines add to `sales_daily`; empty when the fold does not maintain it.
    sales: Vec<Sale>,
    transitions: Transitions,
}

impl NewOrder {
    /// `(tenant, day, partner)`: the `sales_daily` rows its lines count in.
    fn sales_key(&self) -> (String, String, String) {
        (
            self.tenant_id.to_string(),
            sales_day(self.submitted_at),
            self.partner_id.to_string(),
        )
    }

    /// The values of [`SUBMITTED_COLUMNS`] and then of [`Transitions::COLUMNS`].
    fn values(self) -> Vec<Arg> {
        let (placed_by_role, placed_by_id) = match self.placed_by {
            None => (None, None),
            Some(PlacedBy::Admin { id }) => (Some("ADMIN"), Some(id.to_string())),
            Some(PlacedBy::Employee { contact_id }) => {
                (Some("EMPLOYEE"), Some(contact_id.to_string()))
            }
        };
        let mut values = vec![
            self.order_id.into(),
            self.tenant_id.to_string().into(),
            self.partner_id.to_string().into(),
            self.contact_id.map(|contact| contact.to_string()).into(),
            placed_by_role.into(),
            placed_by_id.into(),
            self.line_count.into(),
            self.total.amount_minor.into(),
            self.total.currency.code().into(),
            String::from(self.note).into(),
            sales_day(self.submitted_at).into(),
            self.submitted_at.into(),
        ];
        values.extend(self.transitions.values());
        values
    }
}

/// The columns of a new order known at submission; its transitions' follow
/// ([`Transitions::COLUMNS`]).
const SUBMITTED_COLUMNS: &[&str] = &[
    "order_id",
    "tenant_id",
    "partner_id",
    "contact_id",
    "placed_by_role",
    "placed_by_id",
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
    "price_reason",
    "price_list_id",
    "price_list_name",
    "price_list_priority",
    "price_break",
    "catalog_price_minor",
];

/// The values of a line's price columns, the last six of [`LINE_COLUMNS`]. A `CATALOG` line's
/// catalog price is its unit price (that is what `CATALOG` means), so `catalog_price_minor` is
/// never null and `unit_price_minor < catalog_price_minor` finds every discounted line.
fn price_reason_values(reason: &PriceReason, unit_price: Money) -> [Arg; 6] {
    match reason {
        PriceReason::Catalog => [
            "CATALOG".into(),
            Arg::Text(None),
            Arg::Text(None),
            Arg::Int(None),
            Arg::Int(None),
            unit_price.amount_minor.into(),
        ],
        PriceReason::PriceList {
            price_list_id,
            name,
            priority,
            min_quantity,
            catalog_price,
        } => [
            "PRICE_LIST".into(),
            price_list_id.to_string().into(),
            name.as_str().into(),
            i64::from(priority.get()).into(),
            quantity_value(*min_quantity).into(),
            catalog_price.amount_minor.into(),
        ],
    }
}

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

/// Orders submitted but not written yet, in the order they arrived, so that the oldest can be
/// written first when there are too many.
#[derive(Debug, Default)]
struct Unwritten {
    orders: BTreeMap<u64, NewOrder>,
    /// Order id → key in `orders`.
    arrivals: HashMap<String, u64>,
    arrived: u64,
    /// Orders that reached a final state since the last write: nothing will change them.
    finished: Vec<u64>,
}

impl Unwritten {
    fn insert(&mut self, order: NewOrder) {
        self.arrived += 1;
        self.arrivals.insert(order.order_id.clone(), self.arrived);
        self.orders.insert(self.arrived, order);
    }

    fn arrival(&self, order_id: &str) -> Option<u64> {
        self.arrivals.get(order_id).copied()
    }

    /// Takes out the orders to write: those that reached a final state, then the oldest of those
    /// beyond `keep`.
    fn take(&mut self, keep: usize) -> Vec<NewOrder> {
        let mut taken = Vec::new();
        loop {
            let order = match self.finished.pop() {
                Some(arrival) => match self.orders.remove(&arrival) {
                    Some(order) => order,
                    None => continue, // Finished twice: taken already.
                },
                None if self.orders.len() > keep => match self.orders.pop_first() {
                    Some((_, order)) => order,
                    None => break,
                },
                None => break,
            };
            self.arrivals.remove(&order.order_id);
            taken.push(order);
        }
        taken
    }
}

/// What the events folded since the last write change, besides the unwritten orders.
#[derive(Debug, Default)]
struct Changes {
    /// Lines of the orders submitted since: written at once, since they never change.
    lines: Vec<Vec<Arg>>,
    /// Transitions of orders stored already, in first-seen order.
    changed: Vec<(String, Transitions)>,
    changed_index: HashMap<String, usize>,
    /// Orders stored already that were rejected or cancelled since.
    withdrawn_stored: Vec<String>,
    sales: BTreeMap<SalesKey, SalesDelta>,
}

/// Order events folded in memory; [`Fold::take`] hands out what to write.
#[derive(Debug)]
struct Fold {
    /// `false` in a rebuild, which derives `sales_daily` at the end instead.
    maintains_sales: bool,
    /// A live batch writes them all at its end; a rebuild keeps the open ones across pages.
    unwritten: Unwritten,
    changes: Changes,
}

impl Fold {
    fn new(maintains_sales: bool) -> Self {
        Self {
            maintains_sales,
            unwritten: Unwritten::default(),
            changes: Changes::default(),
        }
    }

    fn add_all(&mut self, events: &[FeedEvent]) -> Result<(), ProjectionError> {
        for event in events {
            if let Some(order) = decode::<OrderEvent>(event, "Order")? {
                self.add(event, order);
            }
        }
        Ok(())
    }

    fn add(&mut self, event: &FeedEvent, order: OrderEvent) {
        let id = event.aggregate_id.as_str();
        let at = event.recorded_at;
        if let OrderEvent::OrderSubmitted {
            tenant_id,
            partner_id,
            contact_id,
            placed_by,
            lines,
            total,
            note,
        } = order
        {
            let tenant = tenant_id.to_string();
            let mut sales = Vec::new();
            for (line_no, line) in lines.iter().enumerate() {
                let quantity = i64::from(line.quantity.get());
                let product = line.product_id.to_string();
                let currency = line.line_total.currency.code();
                let mut values = vec![
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
                ];
                values.extend(price_reason_values(&line.price_reason, line.unit_price));
                self.changes.lines.push(values);
                if self.maintains_sales {
                    sales.push(Sale {
                        product_id: product,
                        quantity,
                        amount_minor: line.line_total.amount_minor,
                        currency: currency.to_owned(),
                    });
                }
            }
            let order = NewOrder {
                order_id: id.to_owned(),
                tenant_id,
                partner_id,
                contact_id,
                placed_by,
                line_count: i64::try_from(lines.len()).unwrap_or(i64::MAX),
                total,
                note,
                submitted_at: at,
                sales,
                transitions: Transitions::submitted(at),
            };
            if self.maintains_sales {
                add_sales(&mut self.changes.sales, &order.sales_key(), &order.sales, 1);
            }
            self.unwritten.insert(order);
            return;
        }
        // A rejected or cancelled order no longer counts as sold: its lines leave its
        // submission day's rows.
        let withdraws = matches!(
            order,
            OrderEvent::OrderRejected { .. } | OrderEvent::OrderCancelled { .. }
        );
        let finishes = withdraws || matches!(order, OrderEvent::OrderReceived);
        let (by, role) = (actor(event), actor_role(event));
        if let Some(arrival) = self.unwritten.arrival(id) {
            if let Some(new) = self.unwritten.orders.get_mut(&arrival) {
                if withdraws && self.maintains_sales {
                    add_sales(&mut self.changes.sales, &new.sales_key(), &new.sales, -1);
                }
                new.transitions.record(order, at, by, role);
            }
            if finishes {
                self.unwritten.finished.push(arrival);
            }
            return;
        }
        let changes = &mut self.changes;
        if withdraws && self.maintains_sales {
            changes.withdrawn_stored.push(id.to_owned());
        }
        let index = *changes
            .changed_index
            .entry(id.to_owned())
            .or_insert_with(|| {
                changes
                    .changed
                    .push((id.to_owned(), Transitions::default()));
                changes.changed.len() - 1
            });
        changes.changed[index].1.record(order, at, by, role);
    }

    /// What was folded since the last take, to write. Up to `keep_open` orders that have not
    /// reached a final state stay in the fold (with 0, every order is written).
    fn take(&mut self, keep_open: usize) -> OrderWrites {
        OrderWrites {
            orders: self.unwritten.take(keep_open),
            changes: std::mem::take(&mut self.changes),
            build_key: false,
        }
    }
}

/// What [`Fold::take`] handed out: owned rows, written by [`OrderWrites::write`].
#[derive(Debug)]
struct OrderWrites {
    orders: Vec<NewOrder>,
    changes: Changes,
    /// Build the orders' key first: a rebuild's first update of a stored order needs it.
    build_key: bool,
}

impl OrderWrites {
    async fn write(self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        let mut changes = self.changes;
        if self.build_key {
            tx.execute(&order_key(names), &[]).await?;
        }
        let orders = names.table("orders");
        let lines = names.table("order_lines");
        let sales = names.table("sales_daily");

        // Withdrawals of stored orders: their lines and day come from the stored rows.
        let mut withdrawn = Rows::new(&["order_id"]);
        for id in std::mem::take(&mut changes.withdrawn_stored) {
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
            add_sales(&mut changes.sales, &key, &[sale], -1);
        }

        let new_order_columns = with_transitions(SUBMITTED_COLUMNS);
        let mut new_orders = self.orders.into_iter().peekable();
        while new_orders.peek().is_some() {
            let mut rows = Rows::new(&new_order_columns);
            for order in new_orders.by_ref().take(ROWS_PER_STATEMENT) {
                rows.push(order.values());
            }
            tx.defer_insert_rows(rows, &orders).await?;
        }

        let mut new_lines = Rows::new(LINE_COLUMNS);
        for line in changes.lines {
            new_lines.push(line);
        }
        tx.defer_insert_rows(new_lines, &lines).await?;

        let mut changed = Rows::new(&with_transitions(&["order_id"]));
        for (id, transitions) in changes.changed {
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
        for ((tenant, day, partner, product), delta) in changes.sales {
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
        tx.defer_rows(
            &sales,
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

/// Adds (`sign` 1) or takes out (`sign` -1) one order's lines on its day's rows.
fn add_sales(
    totals: &mut BTreeMap<SalesKey, SalesDelta>,
    key: &(String, String, String),
    sales: &[Sale],
    sign: i64,
) {
    for sale in sales {
        let (tenant, day, partner) = key.clone();
        let delta = totals
            .entry((tenant, day, partner, sale.product_id.clone()))
            .or_default();
        delta.orders += sign;
        delta.quantity += sign * sale.quantity;
        delta.amount_minor += sign * sale.amount_minor;
        delta.currency.clone_from(&sale.currency);
    }
}

/// A rebuild's fold of the orders, kept from its first page to its last: each page writes the
/// orders that reached a final state and the oldest open ones beyond `keep_open`.
struct RebuildOrders {
    fold: Fold,
    keep_open: usize,
    /// Whether the writes handed out so far build the orders' key.
    keyed: bool,
}

impl RebuildOrders {
    /// What to write now, keeping up to `keep_open` open orders; the first writes that update a
    /// stored order build the orders' key before.
    fn take(&mut self, keep_open: usize) -> Box<dyn Writes> {
        let mut writes = self.fold.take(keep_open);
        if !self.keyed && !writes.changes.changed.is_empty() {
            writes.build_key = true;
            self.keyed = true;
        }
        Box::new(writes)
    }
}

impl RebuildFold for RebuildOrders {
    fn fold_page(&mut self, events: &[FeedEvent]) -> Result<Box<dyn Writes>, ProjectionError> {
        self.fold.add_all(events)?;
        Ok(self.take(self.keep_open))
    }

    fn flush(&mut self) -> Box<dyn Writes> {
        self.take(0)
    }
}

#[async_trait]
impl Writes for OrderWrites {
    async fn write(
        self: Box<Self>,
        tx: &mut Tx,
        names: &TableNames,
    ) -> Result<(), ProjectionError> {
        OrderWrites::write(*self, tx, names).await
    }
}
