//! Throughput of `submitOrder` through the command layer, beside two baselines measured in the
//! same run, at 1, 4 and 16 concurrent tokio tasks, on Postgres and on SQLite:
//! - `raw_sqlx`, like for like: the statements the command layer sends, with sqlx alone;
//! - `ceiling` (Postgres only): one transaction per order that reads the order's stream and
//!   inserts its event, from pgbench (`dinghuo_tests::ceiling`), as many clients as tasks.
//!   Without pgbench it is skipped, loudly.
//!
//! Run with `cargo bench -p dinghuo-tests --bench submit_order`; `docs/performance.md` records
//! the figures and what they mean. Postgres is the local server of the test helpers
//! (`DINGHUO_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`); when it
//! is unreachable the Postgres half is skipped loudly and SQLite is still measured.
//!
//! Setup, per backend: a fresh migrated database with a pool of 16 (`TestDb`, the product's
//! `DatabaseSettings::default()` otherwise, so SQLite runs with `synchronous=FULL`), an onboarded
//! tenant with 3 listed products (`World`) and 16 bound their-side contacts of its partner. Task
//! `t` orders as contact `t`, so no two tasks share a contact stream; every order has a fresh id,
//! so order streams never contend either. Each contact first submits one warm-up order through
//! the command layer; its stored `OrderSubmitted` payload becomes that contact's template for the
//! baseline's insert (and the first contact's, the ceiling's).
//!
//! One iteration is one order of 3 lines (quantities 1, 2 and 3 of the 3 products), no note, no
//! idempotency key. `iter_custom` spreads the iterations criterion asks for over the tasks and
//! returns the wall time until the last task finished; for the ceiling, pgbench runs that many
//! transactions over as many clients, and the time is theirs by pgbench's clock (without
//! connecting).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use dinghuo_commands::{Actor, Commands, OrderLineInput, RequestContext, Role, SubmitOrderInput};
use dinghuo_domain::{ContactId, OrderId, TenantId};
use dinghuo_store::streams::{POSTGRES_LOAD, SQLITE_LOAD};
use dinghuo_store::Database;
use dinghuo_tests::ceiling::{self, Ceiling, Length};
use dinghuo_tests::{Backend, TestDb, World};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use uuid::Uuid;

/// The most tasks of any measurement; one bound contact each.
const MAX_TASKS: usize = 16;
const TASKS: [usize; 3] = [1, 4, MAX_TASKS];
const PRODUCTS: usize = 3;

/// postgres-es's and sqlite-es's own inserts (their `SqlQueryFactory`), so both sides send the
/// same text to the server; the reads are the command layer's (`streams::POSTGRES_LOAD`, …).
const PG_INSERT: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7)";
const LITE_INSERT: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?)";

/// What each task of an iteration runs.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// `Commands::submit_order`, as the API calls it.
    CommandLayer,
    /// The same statements with sqlx alone; see [`Bench::raw_submit`].
    RawSqlx,
}

/// Which implementation an iteration runs.
#[derive(Debug, Clone, Copy)]
enum Path {
    Tasks(Work),
    /// One transaction per order reading its stream and inserting its event, from pgbench.
    Ceiling,
}

/// One backend's database, world and per-contact baseline templates.
struct Bench {
    test_db: TestDb,
    commands: Commands,
    tenant_id: TenantId,
    /// The ids below in their stored text form, as the baseline binds them.
    tenant: String,
    partner: String,
    products: Vec<String>,
    contacts: Vec<ContactId>,
    /// Per contact: the stored `OrderSubmitted` payload of its warm-up order.
    payloads: Vec<Value>,
    event_version: String,
    /// The pgbench workload (Postgres with pgbench only).
    ceiling: Option<Arc<Ceiling>>,
}

impl Bench {
    async fn new(backend: Backend) -> Option<Self> {
        let test_db = TestDb::with_pool_size(backend, 16).await?;
        let commands = test_db.commands();
        let world = World::build(&commands, PRODUCTS).await;
        let admin = world.admin_ctx();
        let mut contacts = vec![world.contact];
        for i in 1..MAX_TASKS {
            let phone = format!("139{i:08}");
            contacts.push(
                World::add_bound_contact(&commands, &admin, world.tenant, world.partner, &phone)
                    .await,
            );
        }
        let mut bench = Self {
            test_db,
            commands,
            tenant_id: world.tenant,
            tenant: world.tenant.to_string(),
            partner: world.partner.to_string(),
            products: world.products.iter().map(ToString::to_string).collect(),
            contacts,
            payloads: Vec::with_capacity(MAX_TASKS),
            event_version: String::new(),
            ceiling: None,
        };
        for task in 0..MAX_TASKS {
            let order = bench.command_submit(task).await;
            let (version, payload) = bench.stored_order(&order).await;
            bench.event_version = version;
            bench.payloads.push(payload);
        }
        if backend == Backend::Postgres {
            let metadata = bench.metadata(0, &Uuid::now_v7().to_string());
            match Ceiling::prepare(
                &bench.test_db.db,
                &bench.test_db.url,
                &bench.event_version,
                &bench.payloads[0].to_string(),
                &metadata.to_string(),
            )
            .await
            {
                Ok(ceiling) => bench.ceiling = Some(Arc::new(ceiling)),
                Err(why) => eprintln!("{}", ceiling::skipped(&why)),
            }
        }
        Some(bench)
    }

    fn order_input(&self) -> SubmitOrderInput {
        SubmitOrderInput {
            lines: self
                .products
                .iter()
                .zip(1..)
                .map(|(product, quantity)| OrderLineInput {
                    product_id: product.clone(),
                    quantity,
                    sku: None,
                })
                .collect(),
            note: None,
        }
    }

    /// A fresh request of contact `task`, as the API builds one per call.
    fn contact_ctx(&self, task: usize) -> RequestContext {
        RequestContext::new(Actor::in_tenant(
            self.contacts[task].as_uuid(),
            Role::Contact,
            self.tenant_id,
        ))
    }

    async fn command_submit(&self, task: usize) -> OrderId {
        self.commands
            .submit_order(&self.contact_ctx(task), self.order_input())
            .await
            .expect("submitOrder through the command layer")
    }

    /// `(event_version, payload)` of a stored order's first event.
    async fn stored_order(&self, order: &OrderId) -> (String, Value) {
        let sql = "SELECT event_version, CAST(payload AS TEXT) FROM events \
                   WHERE aggregate_type = 'Order' AND aggregate_id = $1 AND sequence = 1";
        let (version, payload): (String, String) = match &self.test_db.db {
            Database::Postgres(pool) => {
                sqlx::query_as(sql)
                    .bind(order.to_string())
                    .fetch_one(pool)
                    .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(sql)
                    .bind(order.to_string())
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("read the warm-up order");
        let payload = serde_json::from_str(&payload).expect("stored payload is JSON");
        (version, payload)
    }

    /// The 6-key metadata object of an order of contact `task` (tenant, actor id and role,
    /// correlation, causation and request ids), as the command layer writes it.
    fn metadata(&self, task: usize, request: &str) -> Value {
        json!({
            "tenant_id": self.tenant,
            "actor_id": self.contacts[task].to_string(),
            "actor_role": "contact",
            "correlation_id": request,
            "causation_id": request,
            "request_id": request,
        })
    }

    /// The like-for-like baseline: what `submit_order` sends to the database, without cqrs-es,
    /// postgres-es / sqlite-es, the domain or the lookup. Counted from the code (commands
    /// `service/order.rs`, `service/mod.rs`, `streams.rs`, `lookup.rs`, domain
    /// `order/aggregate.rs`, cqrs-es `PersistedEventStore` in event-store mode), per order:
    ///
    /// 1. `submit_order` reads the calling contact to find its partner: one streams read of
    ///    the Contact stream;
    /// 2. the first attempt reads the order's own stream and every stream `SubmitOrder` needs
    ///    but the contact, already read: one streams read of the Order (fresh id, empty),
    ///    Tenant, Partner and 3 Product streams; the lookups of `Order::submit` are answered
    ///    from what was read;
    /// 3. `commit`: BEGIN, one INSERT of the `OrderSubmitted` row (sequence 1), COMMIT.
    ///
    /// That is 2 SELECTs with the command layer's own text, each on a connection taken from
    /// the same pool (3 acquisitions per order on both sides), then one transaction. Rows are
    /// fetched whole but not decoded: no JSON parsing, no upcasting, no `apply`. The insert
    /// binds `serde_json::Value`s as postgres-es does (so the server sees the same `jsonb`
    /// parameters): the contact's real `OrderSubmitted` payload and a fresh metadata object.
    /// What the baseline leaves out is exactly the framework's cost: input parsing, domain
    /// rules, (de)serialisation of every loaded event, the metadata map, event wrapping.
    async fn raw_submit(&self, task: usize) -> Result<(), sqlx::Error> {
        let contact = self.contacts[task].to_string();
        let order = OrderId::from_uuid(Uuid::now_v7()).to_string();
        let metadata = self.metadata(task, &Uuid::now_v7().to_string());
        let first: [(&str, &str); 1] = [("Contact", &contact)];
        let second: [(&str, &str); 3 + PRODUCTS] = [
            ("Order", &order),
            ("Partner", &self.partner),
            ("Product", &self.products[0]),
            ("Product", &self.products[1]),
            ("Product", &self.products[2]),
            ("Tenant", &self.tenant),
        ];
        let reads: [&[(&str, &str)]; 2] = [&first, &second];
        let payload = &self.payloads[task];
        // One body for both backends: the pools differ in type, the reads in how streams are
        // named (Postgres: two arrays; SQLite: a JSON array of pairs), the insert in placeholders.
        macro_rules! submit {
            ($pool:expr, $read:expr, $insert:expr) => {{
                for streams in reads {
                    let rows = $read(streams).fetch_all($pool).await?;
                    black_box(rows);
                }
                let mut tx = $pool.begin().await?;
                sqlx::query($insert)
                    .bind("Order")
                    .bind(order.as_str())
                    .bind(1_i32)
                    .bind("OrderSubmitted")
                    .bind(self.event_version.as_str())
                    .bind(payload)
                    .bind(&metadata)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }};
        }
        match &self.test_db.db {
            Database::Postgres(pool) => {
                let read = |streams: &[(&str, &str)]| {
                    let (types, ids): (Vec<String>, Vec<String>) = streams
                        .iter()
                        .map(|(kind, id)| (kind.to_string(), id.to_string()))
                        .unzip();
                    sqlx::query(POSTGRES_LOAD).bind(types).bind(ids)
                };
                submit!(pool, read, PG_INSERT)
            }
            Database::Sqlite(pool) => {
                let read = |streams: &[(&str, &str)]| {
                    let pairs: Value = streams.iter().map(|(t, i)| json!([t, i])).collect();
                    sqlx::query(SQLITE_LOAD).bind(pairs.to_string())
                };
                submit!(pool, read, LITE_INSERT)
            }
        }
    }

    /// `orders` orders of the ceiling over `tasks` pgbench clients; the time they took.
    async fn ceiling(&self, tasks: usize, orders: u64) -> Duration {
        let Some(ceiling) = self.ceiling.clone() else {
            return Duration::ZERO;
        };
        let per_client = orders.div_ceil(tasks as u64);
        let tps = tokio::task::spawn_blocking(move || {
            ceiling.run(tasks, Length::Transactions(per_client))
        })
        .await
        .expect("the pgbench task")
        .unwrap_or_else(|why| panic!("the ceiling failed mid-run: {why}"));
        Duration::from_secs_f64((per_client * tasks as u64) as f64 / tps)
    }

    async fn submit(&self, work: Work, task: usize) {
        match work {
            Work::CommandLayer => {
                black_box(self.command_submit(task).await);
            }
            Work::RawSqlx => self.raw_submit(task).await.expect("raw sqlx submit"),
        }
    }
}

/// Submits `orders` orders spread over `tasks` concurrent tasks; the wall time of the whole.
async fn run(bench: Arc<Bench>, path: Path, tasks: usize, orders: u64) -> Duration {
    let work = match path {
        Path::Tasks(work) => work,
        Path::Ceiling => return bench.ceiling(tasks, orders).await,
    };
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let share = orders / tasks as u64 + u64::from((task as u64) < orders % tasks as u64);
            let bench = Arc::clone(&bench);
            tokio::spawn(async move {
                for _ in 0..share {
                    bench.submit(work, task).await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a benchmark task panicked");
    }
    start.elapsed()
}

fn submit_order(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = match backend {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        };
        let Some(bench) = runtime.block_on(Bench::new(backend)) else {
            eprintln!(
                "\n************************************************************************\n\
                 *** SKIPPED: the {name} benchmarks did not run (database unreachable). ***\n\
                 ************************************************************************\n"
            );
            continue;
        };
        let bench = Arc::new(bench);
        let mut group = c.benchmark_group(format!("submit_order/{name}"));
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(2))
            .measurement_time(Duration::from_secs(10))
            .throughput(Throughput::Elements(1));
        for tasks in TASKS {
            for (label, path) in [
                ("command_layer", Path::Tasks(Work::CommandLayer)),
                ("raw_sqlx", Path::Tasks(Work::RawSqlx)),
                ("ceiling", Path::Ceiling),
            ] {
                if matches!(path, Path::Ceiling) && bench.ceiling.is_none() {
                    continue;
                }
                group.bench_with_input(BenchmarkId::new(label, tasks), &tasks, |b, &tasks| {
                    b.to_async(&runtime)
                        .iter_custom(|orders| run(Arc::clone(&bench), path, tasks, orders));
                });
            }
        }
        group.finish();
        runtime.block_on(bench.test_db.db.close());
    }
}

criterion_group!(benches, submit_order);
criterion_main!(benches);
