//! Rebuild throughput beside the raw feed, and the rebuild's memory at two sizes (issue 3,
//! item 7). Postgres only.
//!
//! Run with `cargo bench -p dinghuo-tests --bench rebuild`; `docs/performance.md` records the
//! figures. `DINGHUO_BENCH_EVENTS` sets the large size (default 1,000,000), and
//! `DINGHUO_BENCH_SMALL_EVENTS` the small one (default 100,000). Postgres is the local server of
//! the test helpers (`DINGHUO_TEST_POSTGRES_URL`); when it is unreachable the benchmark says so
//! and measures nothing.
//!
//! For each size, this process (the parent):
//! 1. creates a throwaway migrated database (`TestDb`);
//! 2. bulk-loads that many events: real `dinghuo_domain` event values (tenants, products,
//!    partners, contacts, and orders through their lifecycle, in the proportions described at
//!    [`Generator`]), serialised as the command layer serialises them, with the metadata every
//!    command writes (tenant, actor, correlation, causation and request ids), inserted with
//!    multi-row `INSERT … SELECT FROM UNNEST(…)` statements of 2,000 rows, one transaction each,
//!    so that transaction ids vary along the feed as they do in production;
//! 3. runs `VACUUM ANALYZE events`, so that neither measurement pays for setting hint bits on
//!    fresh rows and both read a table that is in the OS page cache;
//! 4. re-executes itself as a child (`--measure <url>`), which measures, in each of
//!    `DINGHUO_BENCH_ROUNDS` rounds (default 3), one after the other:
//!    (a) **raw streaming**: `read_feed` from the start in pages of the rebuild's batch size
//!    until the end of the log, decoding every row but applying nothing;
//!    (b) **rebuild**: one `rebuild` of every replayable projection of `models::all()` together,
//!    with the product's default `RunnerSettings` (what `dinghuo projections rebuild --all`
//!    does);
//!    and reports both rates over all rounds, and its peak resident set (`VmHWM` of
//!    `/proc/self/status`) after the first stream and after every round. Measuring in a child
//!    keeps the loader's memory out of the figure and gives each size a peak of its own.
//!
//! The parent prints a table of both sizes.

use std::collections::VecDeque;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cqrs_es::DomainEvent;
use dinghuo_commands::{Database, DatabaseSettings};
use dinghuo_domain::contact::{Affiliation, ContactEvent};
use dinghuo_domain::order::{OrderEvent, OrderLine};
use dinghuo_domain::partner::PartnerEvent;
use dinghuo_domain::product::ProductEvent;
use dinghuo_domain::tenant::TenantEvent;
use dinghuo_domain::{
    Address, App, Carrier, Channel, ContactId, Currency, MenuAction, MenuButton, Money, Name, Note,
    OpenId, OrderId, PartnerId, PartnerMode, Permission, Phone, ProductId, Quantity, Reason, Side,
    Sku, TenantId, TrackingNumber, Unit, WechatAppId, EVENT_VERSION,
};
use dinghuo_projections::{models, read_feed, rebuild, Checkpoint, Projection, RunnerSettings};
use dinghuo_tests::cpu::{CpuClock, CpuSpent};
use dinghuo_tests::{Backend, TestDb};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const DEFAULT_EVENTS: u64 = 1_000_000;
const DEFAULT_SMALL_EVENTS: u64 = 100_000;
/// Rounds of one raw stream and one rebuild per size.
const DEFAULT_ROUNDS: u64 = 3;
/// Rows per `INSERT` statement (and so per transaction) of the loader.
const LOAD_BATCH: usize = 2_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Some(at) = args.iter().position(|a| a == "--measure") {
        // `RUST_LOG=info` shows where the rebuild's time went; stdout carries the report.
        if std::env::var_os("RUST_LOG").is_some() {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_writer(std::io::stderr)
                .init();
        }
        let url = args.get(at + 1).expect("--measure <database url>");
        let report = runtime.block_on(measure(url));
        println!(
            "{}",
            serde_json::to_string(&report).expect("a report serialises")
        );
        return;
    }
    runtime.block_on(parent());
}

fn env_count(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a count of events, not {text:?}")),
        Err(_) => default,
    }
}

async fn parent() {
    let large = env_count("DINGHUO_BENCH_EVENTS", DEFAULT_EVENTS);
    let small = env_count("DINGHUO_BENCH_SMALL_EVENTS", DEFAULT_SMALL_EVENTS).min(large);
    let mut sizes = vec![small, large];
    sizes.dedup();
    let projections: Vec<&str> = models::all()
        .iter()
        .filter(|p| p.replayable())
        .map(|p| p.name())
        .collect();
    println!("rebuild benchmark: sizes {sizes:?}; replayable projections {projections:?}");

    let mut runs = Vec::new();
    for size in sizes {
        let Some(test) = TestDb::with_pool_size(Backend::Postgres, 10).await else {
            println!("Postgres is unreachable: nothing measured");
            return;
        };
        let Database::Postgres(pool) = &test.db else {
            unreachable!("asked for Postgres");
        };
        let started = Instant::now();
        let loaded = load(pool, size).await;
        let load_time = started.elapsed();
        let started = Instant::now();
        sqlx::query("VACUUM ANALYZE events")
            .execute(pool)
            .await
            .expect("vacuum the events table");
        // Write the loaded pages out now, so that no checkpoint triggered by the load runs
        // during one measurement and not the other.
        sqlx::query("CHECKPOINT")
            .execute(pool)
            .await
            .expect("checkpoint after loading");
        let vacuum_time = started.elapsed();
        let table_size: String =
            sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('events'))")
                .fetch_one(pool)
                .await
                .expect("size of the events table");
        println!(
            "loaded {} events ({} transactions) in {:.1} s ({:.0} events/s); vacuum {:.1} s; \
             events table with indexes: {table_size}; mix: {}",
            loaded.events,
            loaded.transactions,
            load_time.as_secs_f64(),
            loaded.events as f64 / load_time.as_secs_f64(),
            vacuum_time.as_secs_f64(),
            loaded.mix()
        );

        let output = Command::new(std::env::current_exe().expect("the path of this benchmark"))
            .arg("--measure")
            .arg(&test.url)
            .stderr(Stdio::inherit())
            .output()
            .expect("run the measuring child");
        assert!(output.status.success(), "the measuring child failed");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        let report: Report = serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("the child's report {last:?} does not parse: {e}"));
        println!("{}", report.describe());
        runs.push(report);
    }
    println!();
    println!("{}", table(&runs));
}

/// One measured phase of a child: one raw stream, or one rebuild.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Phase {
    name: String,
    events: u64,
    seconds: f64,
    /// CPU time of the benchmark process (client side: sqlx, JSON decoding, the fold).
    client_cpu_seconds: f64,
    /// CPU time of the Postgres backends serving this database.
    server_cpu_seconds: f64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.events as f64 / self.seconds
    }

    fn describe(&self) -> String {
        format!(
            "{}: {} events in {:.1} s = {:.0} events/s; CPU client {:.1} s, server {:.1} s",
            self.name,
            self.events,
            self.seconds,
            self.rate(),
            self.client_cpu_seconds,
            self.server_cpu_seconds,
        )
    }
}

/// What a measuring child reports: rounds of one raw stream and then one rebuild.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Report {
    events: u64,
    streams: Vec<Phase>,
    rebuilds: Vec<Phase>,
    /// Peak resident set of the child, in kB, after connecting, after the first stream (before
    /// any rebuild), after every round.
    hwm_start_kb: u64,
    hwm_after_stream_kb: u64,
    hwm_after_rebuild_kb: u64,
    rss_after_rebuild_kb: u64,
}

/// Events per second over all of `phases` together.
fn rate(phases: &[Phase]) -> f64 {
    let events: u64 = phases.iter().map(|p| p.events).sum();
    let seconds: f64 = phases.iter().map(|p| p.seconds).sum();
    events as f64 / seconds
}

impl Report {
    fn stream_rate(&self) -> f64 {
        rate(&self.streams)
    }

    /// Events of the log turned into every read model, per second of rebuilding.
    fn rebuild_rate(&self) -> f64 {
        rate(&self.rebuilds)
    }

    fn describe(&self) -> String {
        let mut out = format!("{} events:\n", self.events);
        for (stream, rebuild) in self.streams.iter().zip(&self.rebuilds) {
            out += &format!(
                "  {}\n  {}\n    this round: rebuild / raw {:.0} %\n",
                stream.describe(),
                rebuild.describe(),
                100.0 * rebuild.rate() / stream.rate()
            );
        }
        out += &format!(
            "  all rounds: raw {:.0} events/s, rebuild {:.0} events/s ({:.0} % of raw \
             streaming)\n  VmHWM at start {} kB, after the first stream {} kB, after the \
             rebuilds {} kB; VmRSS after the rebuilds {} kB",
            self.stream_rate(),
            self.rebuild_rate(),
            100.0 * self.rebuild_rate() / self.stream_rate(),
            self.hwm_start_kb,
            self.hwm_after_stream_kb,
            self.hwm_after_rebuild_kb,
            self.rss_after_rebuild_kb,
        );
        out
    }
}

fn table(runs: &[Report]) -> String {
    let mut out = String::from(
        "| events | raw stream (events/s) | rebuild of all (events/s) | rebuild / raw | \
         peak RSS after stream | peak RSS after rebuild |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for run in runs {
        out += &format!(
            "| {} | {:.0} | {:.0} | {:.0} % | {:.1} MB | {:.1} MB |\n",
            run.events,
            run.stream_rate(),
            run.rebuild_rate(),
            100.0 * run.rebuild_rate() / run.stream_rate(),
            run.hwm_after_stream_kb as f64 / 1024.0,
            run.hwm_after_rebuild_kb as f64 / 1024.0,
        );
    }
    if let [small, large] = runs {
        out += &format!(
            "\npeak RSS after rebuild, large / small: {:.3}\n",
            large.hwm_after_rebuild_kb as f64 / small.hwm_after_rebuild_kb as f64
        );
    }
    out
}

/// `VmHWM` (peak resident set) and `VmRSS` of this process, in kB.
fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The child: in each of `DINGHUO_BENCH_ROUNDS` rounds (default 3), streams the feed, then
/// rebuilds every replayable projection. Alternating the two weighs a drift of the machine's
/// speed on both alike (measured: one raw stream of a million events took from 5.1 to 6.6 s
/// from one run to the next).
async fn measure(url: &str) -> Report {
    let settings = DatabaseSettings {
        url: Some(url.to_owned()),
        ..DatabaseSettings::default()
    };
    let db = Database::connect(&settings)
        .await
        .expect("connect to the loaded database");
    let Database::Postgres(pool) = &db else {
        panic!("the rebuild benchmark runs on Postgres");
    };
    let events = everything_visible(pool).await;
    let (hwm_start_kb, _) = memory_kb();
    let all = models::all();
    // `DINGHUO_BENCH_PROJECTIONS=orders,partners` rebuilds only those, to see where time goes.
    let only = std::env::var("DINGHUO_BENCH_PROJECTIONS").ok();
    let replayable: Vec<&dyn Projection> = all
        .iter()
        .filter(|p| p.replayable())
        .filter(|p| {
            only.as_deref()
                .is_none_or(|names| names.split(',').any(|n| n == p.name()))
        })
        .map(|p| p.as_ref())
        .collect();
    let rounds = env_count("DINGHUO_BENCH_ROUNDS", DEFAULT_ROUNDS).max(1);

    let mut streams = Vec::new();
    let mut rebuilds = Vec::new();
    let mut hwm_after_stream_kb = 0;
    for round in 1..=rounds {
        let stream = stream_once(&db, pool).await;
        eprintln!("  round {round}: {}", stream.describe());
        if round == 1 {
            hwm_after_stream_kb = memory_kb().0;
        }
        streams.push(stream);

        let before = CpuClock::start(pool).await;
        let applied = rebuild(&db, &replayable, RunnerSettings::default(), |_| {})
            .await
            .expect("rebuild");
        let rebuilt = Phase::measured("rebuild", applied, before.stop(pool).await);
        eprintln!("  round {round}: {}", rebuilt.describe());
        rebuilds.push(rebuilt);
    }
    let (hwm_after_rebuild_kb, rss_after_rebuild_kb) = memory_kb();
    Report {
        events,
        streams,
        rebuilds,
        hwm_start_kb,
        hwm_after_stream_kb,
        hwm_after_rebuild_kb,
        rss_after_rebuild_kb,
    }
}

/// Reads the whole feed as a rebuild reads it, applying nothing.
async fn stream_once(db: &Database, pool: &PgPool) -> Phase {
    let before = CpuClock::start(pool).await;
    // Pages of the size a rebuild reads, so that the two read the feed the same way.
    let page_size = RunnerSettings::default().rebuild_batch_size;
    let mut after = Checkpoint::START;
    let mut streamed = 0u64;
    loop {
        let page = read_feed(db, after, page_size)
            .await
            .expect("read the feed");
        let Some(last) = page.last() else { break };
        after = last.checkpoint;
        streamed += page.len() as u64;
        black_box(&page);
    }
    Phase::measured("raw stream", streamed, before.stop(pool).await)
}

impl Phase {
    fn measured(name: &str, events: u64, spent: CpuSpent) -> Self {
        Self {
            name: name.to_owned(),
            events,
            seconds: spent.wall_seconds,
            client_cpu_seconds: spent.client_seconds,
            server_cpu_seconds: spent.server_seconds,
        }
    }
}

/// Waits until the feed may deliver every stored event (no transaction older than one of them
/// is still running anywhere in the cluster), so that neither measurement stops early. Answers
/// the number of events.
async fn everything_visible(pool: &PgPool) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (total, withheld): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*),
                    COUNT(*) FILTER (WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot()))
               FROM events",
        )
        .fetch_one(pool)
        .await
        .expect("count the events");
        if withheld == 0 {
            return u64::try_from(total).expect("a count");
        }
        assert!(
            Instant::now() < deadline,
            "{withheld} events still withheld"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The bulk loader.

/// One row of `events`, as postgres-es writes it.
struct Row {
    aggregate_type: &'static str,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    payload: String,
    metadata: String,
}

#[derive(Debug, Default)]
struct Loaded {
    events: u64,
    transactions: u64,
    by_type: std::collections::BTreeMap<String, u64>,
}

impl Loaded {
    fn mix(&self) -> String {
        let mut by_type: Vec<_> = self.by_type.iter().collect();
        by_type.sort_by(|a, b| b.1.cmp(a.1));
        by_type
            .iter()
            .map(|(t, n)| format!("{t} {:.1} %", 100.0 * **n as f64 / self.events as f64))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn load(pool: &PgPool, count: u64) -> Loaded {
    let mut generator = Generator::new(count, 20_251_125);
    let mut loaded = Loaded::default();
    let mut batch = Vec::with_capacity(LOAD_BATCH);
    while loaded.events + (batch.len() as u64) < count {
        batch.push(generator.next_row());
        if batch.len() == LOAD_BATCH {
            insert(pool, &batch, &mut loaded).await;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert(pool, &batch, &mut loaded).await;
    }
    loaded
}

async fn insert(pool: &PgPool, rows: &[Row], loaded: &mut Loaded) {
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
    .bind(vec![EVENT_VERSION.to_owned(); rows.len()])
    .bind(column(&|r| r.payload.clone()))
    .bind(column(&|r| r.metadata.clone()))
    .execute(pool)
    .await
    .expect("insert a batch of events");
    loaded.events += rows.len() as u64;
    loaded.transactions += 1;
    for row in rows {
        *loaded.by_type.entry(row.event_type.clone()).or_default() += 1;
    }
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
struct Generator {
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

    fn new(count: u64, seed: u64) -> Self {
        let mut generator = Self {
            rng: StdRng::seed_from_u64(seed),
            tenants: Vec::new(),
            setup: VecDeque::new(),
            open: VecDeque::new(),
        };
        let tenants = (count / 100_000).max(1);
        for number in 0..tenants {
            generator.set_up_tenant(number);
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

    fn next_row(&mut self) -> Row {
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
        let t = &mut self.tenants[tenant];
        let product = &mut t.products[self.rng.gen_range(0..Self::PRODUCTS)];
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
            contact_id: contact,
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
