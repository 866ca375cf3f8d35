//! A realistic event log of any size, generated from a seed and bulk-loaded into the `events`
//! table of either backend: what the rebuild benchmark measures and the rebuild-under-load tests
//! replay. See [`Generator`] for its shape.
//!
//! Rows are inserted as the command layer writes them (the same event JSON and metadata), a
//! batch of [`LOAD_BATCH`] rows per transaction so that transaction ids (Postgres) vary along the
//! feed as in production. Bulk loading skips the command layer's checks: the generator only
//! writes what the rules allow.

use std::collections::VecDeque;

use cqrs_es::DomainEvent;
use dinghuo_domain::contact::{Affiliation, ContactEvent};
use dinghuo_domain::order::{OrderEvent, OrderLine};
use dinghuo_domain::partner::PartnerEvent;
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::product::ProductEvent;
use dinghuo_domain::tenant::TenantEvent;
use dinghuo_domain::{
    Address, App, Carrier, Channel, ContactId, Currency, MenuAction, MenuButton, Money, Name, Note,
    OpenId, OrderId, PartnerId, PartnerMode, Permission, Phone, ProductId, Quantity, Reason, Side,
    Sku, TenantId, TrackingNumber, Unit, WechatAppId,
};
use dinghuo_store::Database;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

/// Rows per transaction of the loader.
pub const LOAD_BATCH: usize = 2_000;
/// Rows per `INSERT` statement on SQLite: 7 parameters each, well under SQLite's 32,766.
const SQLITE_ROWS_PER_STATEMENT: usize = 500;
/// The seed of the benchmark's log: the same events in every run.
pub const DEFAULT_SEED: u64 = 20_251_125;

/// One row of `events`, as postgres-es writes it.
pub struct Row {
    aggregate_type: &'static str,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    pub events: u64,
    pub transactions: u64,
    pub by_type: std::collections::BTreeMap<String, u64>,
    /// Each tenant and the id of its admin, in the order they were set up.
    pub tenants: Vec<(TenantId, Uuid)>,
    /// The product whose stream is [`Shape::long_stream`] events long, if one was asked for.
    pub long_stream: Option<ProductId>,
}

/// What a log holds beyond its size. The default is the rebuild benchmark's log.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// How many tenants share the log; `None`: one per 100,000 events.
    pub tenants: Option<u64>,
    /// When more than 1: the first tenant's first product is repriced at set-up until its
    /// stream holds this many events (a long stream to replay).
    pub long_stream: u64,
}

impl Loaded {
    /// The share of each event type, largest first.
    pub fn mix(&self) -> String {
        let mut by_type: Vec<_> = self.by_type.iter().collect();
        by_type.sort_by(|a, b| b.1.cmp(a.1));
        by_type
            .iter()
            .map(|(t, n)| format!("{t} {:.1} %", 100.0 * **n as f64 / self.events as f64))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Appends `count` generated events (from `seed`) to the log of `db`.
pub async fn load(db: &Database, count: u64, seed: u64) -> Loaded {
    load_shaped(db, count, seed, Shape::default()).await
}

/// [`load`] of a log of the given shape.
pub async fn load_shaped(db: &Database, count: u64, seed: u64, shape: Shape) -> Loaded {
    let mut generator = Generator::with_shape(count, seed, shape);
    let mut loaded = Loaded {
        tenants: generator.tenants.iter().map(|t| (t.id, t.admin)).collect(),
        long_stream: (shape.long_stream > 1).then(|| generator.tenants[0].products[0].id),
        ..Loaded::default()
    };
    let mut batch = Vec::with_capacity(LOAD_BATCH);
    while loaded.events + (batch.len() as u64) < count {
        batch.push(generator.next_row());
        if batch.len() == LOAD_BATCH || loaded.events + (batch.len() as u64) == count {
            match db {
                Database::Postgres(pool) => insert_postgres(pool, &batch).await,
                Database::Sqlite(pool) => insert_sqlite(pool, &batch).await,
            }
            loaded.count(&batch);
            batch.clear();
        }
    }
    loaded
}

impl Loaded {
    fn count(&mut self, rows: &[Row]) {
        self.events += rows.len() as u64;
        self.transactions += 1;
        for row in rows {
            *self.by_type.entry(row.event_type.clone()).or_default() += 1;
        }
    }
}

async fn insert_postgres(pool: &PgPool, rows: &[Row]) {
    let column = |f: &dyn Fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         SELECT a, i, s, e, v, p::json, m::json
           FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[],
                       $7::text[]) AS t(a, i, s, e, v, p, m)",
    )
    .bind(column(&|r| r.aggregate_type.to_owned()))
    .bind(column(&|r| r.aggregate_id.clone()))
    .bind(rows.iter().map(|r| r.sequence).collect::<Vec<i64>>())
    .bind(column(&|r| r.event_type.clone()))
    .bind(column(&|r| r.event_version.clone()))
    .bind(column(&|r| r.payload.clone()))
    .bind(column(&|r| r.metadata.clone()))
    .execute(pool)
    .await
    .expect("insert a batch of events");
}

/// After loading: Postgres vacuums and analyses `events` and writes its pages out, so that no
/// checkpoint triggered by the load runs during one measurement and not the other; SQLite
/// analyses and moves the WAL into the database file.
pub async fn settle(db: &Database) {
    match db {
        Database::Postgres(pool) => {
            for statement in ["VACUUM ANALYZE events", "CHECKPOINT"] {
                sqlx::query(statement)
                    .execute(pool)
                    .await
                    .expect("settle after loading");
            }
        }
        Database::Sqlite(pool) => {
            for statement in ["ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"] {
                sqlx::query(statement)
                    .execute(pool)
                    .await
                    .expect("settle after loading");
            }
        }
    }
}

/// One transaction per batch; its trigger numbers the rows in insertion order.
async fn insert_sqlite(pool: &SqlitePool, rows: &[Row]) {
    let mut tx = pool.begin().await.expect("begin a load transaction");
    for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) VALUES {values}"
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(row.aggregate_type)
                .bind(&row.aggregate_id)
                .bind(row.sequence)
                .bind(&row.event_type)
                .bind(&row.event_version)
                .bind(&row.payload)
                .bind(&row.metadata);
        }
        query
            .execute(&mut *tx)
            .await
            .expect("insert a batch of events");
    }
    tx.commit().await.expect("commit a load transaction");
}

struct Product {
    id: ProductId,
    sku: Sku,
    name: Name,
    unit: Unit,
    price: Money,
    sequence: i64,
    listed: bool,
}

struct Dealer {
    id: PartnerId,
    contacts: Vec<ContactId>,
}

struct Tenant {
    id: TenantId,
    admin: Uuid,
    products: Vec<Product>,
    dealers: Vec<Dealer>,
}

#[derive(Clone, Copy)]
enum Stage {
    Submitted,
    Confirmed,
    Shipped,
}

struct OpenOrder {
    tenant: usize,
    id: OrderId,
    contact: ContactId,
    sequence: i64,
    stage: Stage,
}

/// Writes a realistic log, event by event, from a seed:
/// - one tenant per 100,000 events (at least one), set up as the demo does: registered,
///   interconnect on, ordering bought and enabled, a WeChat account bound and its menu
///   published, default function permissions set (7 events);
/// - per tenant 200 products listed, 100 dealers (customer recorded, partner added, ordering
///   assigned) with two their-side contacts each (recorded, added as partner contact, bound);
/// - then orders of 1 to 5 lines (quantities 1 to 50, a note on 30 %), each driven onwards
///   (confirmed, shipped, received; 4 % rejected and 3 % cancelled), interleaved across tenants
///   and orders, with now and then a reprice (0.5 % of steps) or a delist (0.05 %).
///
/// At 100,000 events that is about 1.5 % setup and 98 % orders and catalog changes, the same
/// proportions at every size (tenants grow with the log).
pub struct Generator {
    rng: StdRng,
    tenants: Vec<Tenant>,
    /// Setup events not yet emitted, in order.
    setup: VecDeque<Row>,
    open: VecDeque<OpenOrder>,
}

impl Generator {
    const PRODUCTS: usize = 200;
    const DEALERS: usize = 100;
    const CONTACTS_PER_DEALER: usize = 2;
    /// Orders in progress at a time: follow-up events of one order are spread over the log, and
    /// as many orders are open at the end of a long log as at the end of a short one, as on a
    /// platform whose orders take days from submission to receipt however long its history.
    const OPEN_ORDERS: usize = 2_000;

    pub fn new(count: u64, seed: u64) -> Self {
        Self::with_shape(count, seed, Shape::default())
    }

    pub fn with_shape(count: u64, seed: u64, shape: Shape) -> Self {
        let mut generator = Self {
            rng: StdRng::seed_from_u64(seed),
            tenants: Vec::new(),
            setup: VecDeque::new(),
            open: VecDeque::new(),
        };
        let tenants = shape.tenants.unwrap_or(count / 100_000).max(1);
        for number in 0..tenants {
            generator.set_up_tenant(number);
        }
        for _ in 1..shape.long_stream {
            let row = generator.reprice_at(0, 0);
            generator.setup.push_back(row);
        }
        generator
    }

    fn metadata(tenant: TenantId, actor: Uuid, role: &str) -> String {
        let request = Uuid::now_v7().to_string();
        json!({
            "tenant_id": tenant.to_string(),
            "actor_id": actor.to_string(),
            "actor_role": role,
            "correlation_id": request,
            "causation_id": request,
            "request_id": request,
        })
        .to_string()
    }

    fn row<E: DomainEvent + Serialize>(
        aggregate_type: &'static str,
        aggregate_id: String,
        sequence: i64,
        event: &E,
        metadata: String,
    ) -> Row {
        Row {
            aggregate_type,
            aggregate_id,
            sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_string(event).expect("an event serialises"),
            metadata,
        }
    }

    fn set_up_tenant(&mut self, number: u64) {
        let id = TenantId::from_uuid(Uuid::now_v7());
        let operator = Uuid::now_v7();
        let admin = Uuid::now_v7();
        let text = |s: &str| Name::parse(s).expect("a valid name");
        let app_id =
            WechatAppId::parse(&format!("wx{:016x}", 0xbe00 + number)).expect("a valid app id");
        let tenant_events = [
            (
                TenantEvent::TenantRegistered {
                    name: text(&format!("味道食品 {number}")),
                },
                operator,
                "operator",
            ),
            (TenantEvent::InterconnectEnabled, operator, "operator"),
            (
                TenantEvent::AppPurchased { app: App::Ordering },
                operator,
                "operator",
            ),
            (
                TenantEvent::AppEnabled { app: App::Ordering },
                admin,
                "admin",
            ),
            (
                TenantEvent::WechatAccountBound {
                    app_id: app_id.clone(),
                    name: text("味道食品服务号"),
                },
                admin,
                "admin",
            ),
            (
                TenantEvent::WechatMenuPublished {
                    app_id,
                    buttons: vec![
                        MenuButton {
                            name: text("在线订货"),
                            action: MenuAction::OpenApp { app: App::Ordering },
                        },
                        MenuButton::open_url(
                            text("新品推荐"),
                            "https://shop.example.com/new",
                            "url",
                        )
                        .expect("a valid button"),
                    ],
                },
                admin,
                "admin",
            ),
            (
                TenantEvent::FunctionPermissionsSet {
                    app: App::Ordering,
                    permissions: Permission::ALL.iter().copied().collect(),
                },
                admin,
                "admin",
            ),
        ];
        for (sequence, (event, actor, role)) in tenant_events.iter().enumerate() {
            let row = Self::row(
                "Tenant",
                id.to_string(),
                sequence as i64 + 1,
                event,
                Self::metadata(id, *actor, role),
            );
            self.setup.push_back(row);
        }

        let mut products = Vec::with_capacity(Self::PRODUCTS);
        for i in 0..Self::PRODUCTS {
            let sku = Sku::parse(&format!("WD-{i:05}")).expect("a valid sku");
            let product = Product {
                id: ProductId::for_sku(id, &sku),
                sku,
                name: text(&format!("产品 {i}")),
                unit: Unit::parse(if i % 3 == 0 { "箱" } else { "袋" }).expect("a valid unit"),
                price: Money::price(self.rng.gen_range(500..50_000), Currency::CNY, "price")
                    .expect("a valid price"),
                sequence: 1,
                listed: true,
            };
            let event = ProductEvent::ProductListed {
                tenant_id: id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                unit: product.unit.clone(),
                price: product.price,
            };
            let row = Self::row(
                "Product",
                product.id.to_string(),
                1,
                &event,
                Self::metadata(id, admin, "admin"),
            );
            self.setup.push_back(row);
            products.push(product);
        }

        let mut dealers = Vec::with_capacity(Self::DEALERS);
        for d in 0..Self::DEALERS {
            let partner = PartnerId::from_uuid(Uuid::now_v7());
            let partner_events = [
                PartnerEvent::CustomerRecorded {
                    tenant_id: id,
                    name: text(&format!("经销商 {d}")),
                    phone: Some(phone(number, d, 0)),
                    address: Some(Address::parse(&format!("{d} 号 长江路")).expect("address")),
                },
                PartnerEvent::PartnerAdded {
                    mode: if d % 5 == 0 {
                        PartnerMode::Tenant
                    } else {
                        PartnerMode::Tenantless
                    },
                },
                PartnerEvent::AppAssigned { app: App::Ordering },
            ];
            for (sequence, event) in partner_events.iter().enumerate() {
                let row = Self::row(
                    "Partner",
                    partner.to_string(),
                    sequence as i64 + 1,
                    event,
                    Self::metadata(id, admin, "admin"),
                );
                self.setup.push_back(row);
            }
            let mut contacts = Vec::new();
            for c in 0..Self::CONTACTS_PER_DEALER {
                let contact = ContactId::from_uuid(Uuid::now_v7());
                let contact_events = [
                    (
                        ContactEvent::ContactRecorded {
                            tenant_id: id,
                            name: text(&format!("联系人 {d}-{c}")),
                            phone: Some(phone(number, d, c + 1)),
                            affiliation: Affiliation::Customer {
                                customer_id: partner,
                            },
                        },
                        admin,
                        "admin",
                    ),
                    (
                        ContactEvent::PartnerContactAdded {
                            partner_id: partner,
                            side: Side::Theirs,
                            mode: PartnerMode::Tenantless,
                        },
                        admin,
                        "admin",
                    ),
                    (
                        ContactEvent::ContactBound {
                            channel: Channel::MiniProgram,
                            wechat_open_id: Some(
                                OpenId::parse(&format!("open-{}", contact.as_uuid().simple()))
                                    .expect("an open id"),
                            ),
                        },
                        contact.as_uuid(),
                        "contact",
                    ),
                ];
                for (sequence, (event, actor, role)) in contact_events.iter().enumerate() {
                    let row = Self::row(
                        "Contact",
                        contact.to_string(),
                        sequence as i64 + 1,
                        event,
                        Self::metadata(id, *actor, role),
                    );
                    self.setup.push_back(row);
                }
                contacts.push(contact);
            }
            dealers.push(Dealer {
                id: partner,
                contacts,
            });
        }
        self.tenants.push(Tenant {
            id,
            admin,
            products,
            dealers,
        });
    }

    pub fn next_row(&mut self) -> Row {
        if let Some(row) = self.setup.pop_front() {
            return row;
        }
        let roll: f64 = self.rng.gen();
        if roll < 0.005 {
            return self.reprice();
        }
        if roll < 0.0055 {
            return self.delist();
        }
        // A new order whenever one has finished. (Submitting at random beside advancing, as
        // before, let the open orders grow with the log: about 42,000 at a million events.)
        if self.open.len() < Self::OPEN_ORDERS {
            self.submit()
        } else {
            self.advance()
        }
    }

    fn reprice(&mut self) -> Row {
        let tenant = self.rng.gen_range(0..self.tenants.len());
        let product = self.rng.gen_range(0..Self::PRODUCTS);
        self.reprice_at(tenant, product)
    }

    /// A new price for product `product` of tenant `tenant`.
    fn reprice_at(&mut self, tenant: usize, product: usize) -> Row {
        let t = &mut self.tenants[tenant];
        let product = &mut t.products[product];
        product.sequence += 1;
        product.price = Money::price(self.rng.gen_range(500..50_000), Currency::CNY, "price")
            .expect("a valid price");
        let event = ProductEvent::ProductRepriced {
            price: product.price,
        };
        Self::row(
            "Product",
            product.id.to_string(),
            product.sequence,
            &event,
            Self::metadata(t.id, t.admin, "admin"),
        )
    }

    fn delist(&mut self) -> Row {
        let tenant = self.rng.gen_range(0..self.tenants.len());
        let t = &mut self.tenants[tenant];
        let listed: Vec<usize> = (0..Self::PRODUCTS)
            .filter(|&i| t.products[i].listed)
            .collect();
        let Some(&index) = listed.choose(&mut self.rng) else {
            return self.reprice();
        };
        let product = &mut t.products[index];
        product.sequence += 1;
        product.listed = false;
        Self::row(
            "Product",
            product.id.to_string(),
            product.sequence,
            &ProductEvent::ProductDelisted,
            Self::metadata(t.id, t.admin, "admin"),
        )
    }

    fn submit(&mut self) -> Row {
        let tenant = self.rng.gen_range(0..self.tenants.len());
        let t = &self.tenants[tenant];
        let dealer = &t.dealers[self.rng.gen_range(0..Self::DEALERS)];
        let contact = dealer.contacts[self.rng.gen_range(0..Self::CONTACTS_PER_DEALER)];
        let listed: Vec<&Product> = t.products.iter().filter(|p| p.listed).collect();
        let count = self.rng.gen_range(1..=5).min(listed.len());
        let mut lines = Vec::with_capacity(count);
        let mut total = Money::zero(Currency::CNY);
        for product in listed.choose_multiple(&mut self.rng, count) {
            let quantity =
                Quantity::parse(self.rng.gen_range(1..=50), "quantity").expect("a valid quantity");
            let line_total = product.price.times(quantity.get()).expect("a line total");
            total = total.checked_add(line_total).expect("an order total");
            lines.push(OrderLine {
                product_id: product.id,
                sku: product.sku.clone(),
                name: product.name.clone(),
                unit: product.unit.clone(),
                quantity,
                unit_price: product.price,
                line_total,
                price_reason: PriceReason::Catalog,
            });
        }
        let note = if self.rng.gen_bool(0.3) {
            "请尽快发货，谢谢"
        } else {
            ""
        };
        let id = OrderId::from_uuid(Uuid::now_v7());
        let event = OrderEvent::OrderSubmitted {
            tenant_id: t.id,
            partner_id: dealer.id,
            contact_id: Some(contact),
            placed_by: None,
            lines,
            total,
            note: Note::parse(note).expect("a valid note"),
        };
        let row = Self::row(
            "Order",
            id.to_string(),
            1,
            &event,
            Self::metadata(t.id, contact.as_uuid(), "contact"),
        );
        self.open.push_back(OpenOrder {
            tenant,
            id,
            contact,
            sequence: 1,
            stage: Stage::Submitted,
        });
        row
    }

    fn advance(&mut self) -> Row {
        let Some(mut order) = self.open.pop_front() else {
            return self.submit();
        };
        let t = &self.tenants[order.tenant];
        let roll: f64 = self.rng.gen();
        let reason = |text: &str| Reason::parse(text).expect("a valid reason");
        let (event, actor, role, next) = match order.stage {
            Stage::Submitted if roll < 0.04 => (
                OrderEvent::OrderRejected {
                    reason: reason("库存不足"),
                },
                t.admin,
                "admin",
                None,
            ),
            Stage::Submitted if roll < 0.07 => (
                OrderEvent::OrderCancelled {
                    reason: reason("不需要了"),
                },
                order.contact.as_uuid(),
                "contact",
                None,
            ),
            Stage::Submitted => (
                OrderEvent::OrderConfirmed,
                t.admin,
                "admin",
                Some(Stage::Confirmed),
            ),
            Stage::Confirmed => (
                OrderEvent::OrderShipped {
                    carrier: Some(Carrier::parse("顺丰速运").expect("a carrier")),
                    tracking: Some(
                        TrackingNumber::parse(&format!(
                            "SF{:012}",
                            self.rng.gen_range(0..1_000_000_000_000u64)
                        ))
                        .expect("a tracking number"),
                    ),
                },
                t.admin,
                "admin",
                Some(Stage::Shipped),
            ),
            Stage::Shipped => (
                OrderEvent::OrderReceived,
                order.contact.as_uuid(),
                "contact",
                None,
            ),
        };
        order.sequence += 1;
        let row = Self::row(
            "Order",
            order.id.to_string(),
            order.sequence,
            &event,
            Self::metadata(t.id, actor, role),
        );
        if let Some(stage) = next {
            order.stage = stage;
            self.open.push_back(order);
        }
        row
    }
}

/// A distinct valid mobile number per tenant, dealer and person.
fn phone(tenant: u64, dealer: usize, person: usize) -> Phone {
    let number = 13_000_000_000u64 + tenant * 1_000_000 + dealer as u64 * 10 + person as u64;
    Phone::parse(&number.to_string()).expect("a valid phone")
}
