//! `submitOrder` over HTTP against a running `dinghuo serve` on Postgres, beside the command
//! layer's throughput on the same workload and the ceiling (`dinghuo_tests::ceiling`: pgbench,
//! one transaction per order reading its stream and inserting its event), all measured in the
//! same run (issue 4, item 11; issue 17, item 4).
//!
//! Run with `cargo bench -p dinghuo-tests --bench http_load`; `docs/performance.md` records the
//! figures. `DINGHUO_BENCH_CLIENTS` (default 16) concurrent clients, `DINGHUO_BENCH_SECONDS`
//! (default 8) per phase, `DINGHUO_BENCH_ROUNDS` (default 4) rounds of both phases. Postgres is
//! the test helpers' local server; when it is unreachable the benchmark says so and measures
//! nothing.
//!
//! Setup: a fresh migrated database (pool of 32), an onboarded tenant with 3 products (`World`),
//! one bound their-side contact per client, one order (the ceiling's template). Then, in each
//! round, one after the other (the command layer first in odd rounds, HTTP first in even ones;
//! the ceiling first in odd rounds, last in even ones):
//! 0. **ceiling**: pgbench with as many clients, for as long (skipped, loudly, without pgbench);
//! 1. **command layer**: each task calls `Commands::submit_order` as its contact in a loop;
//! 2. **HTTP**: a real server (`TestServer`: the product's router, auth, projections and SMS
//!    dispatcher in-process) and one `reqwest` client per task posting the `submitOrder`
//!    mutation with its contact's bearer token in a loop. The mutation answers after
//!    read-your-writes, with the order read from the read model, as a frontend would see it.
//!    The clients run on one thread of their own (a current-thread runtime), as a separate
//!    load generator would: on the server's runtime, every response woke a client task through
//!    the server's scheduler, and those wake-ups took CPU from the server.
//!
//! One operation is one order of 3 lines (quantities 1, 2, 3). Each phase reports throughput,
//! p50 and p99 latency and the count of each error code; each round, the ratios of its phases;
//! the end, the ratios of the totals with the median and range of the rounds' ratios.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dinghuo_commands::{Actor, Commands, RequestContext, Role, SubmitOrderInput};
use dinghuo_domain::ContactId;
use dinghuo_projections::{models, wait_for};
use dinghuo_tests::ceiling::{self, Ceiling, Length};
use dinghuo_tests::cpu::{CpuClock, CpuSpent};
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::submit_load::{lines, over_http, Phase};
use dinghuo_tests::{bench_env, Backend, TestDb, World};
use serde_json::json;
use uuid::Uuid;

const PRODUCTS: usize = 3;
/// Requests before each measured HTTP phase: connections, prepared statements.
const WARM_UP: Duration = Duration::from_secs(2);

async fn command_layer(
    commands: Arc<Commands>,
    world: Arc<World>,
    contacts: &[ContactId],
    duration: Duration,
) -> Phase {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for contact in contacts {
        let (commands, world) = (commands.clone(), world.clone());
        let actor = Actor::in_tenant(contact.as_uuid(), Role::Contact, world.tenant);
        tasks.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while started.elapsed() < duration {
                let began = Instant::now();
                let input = SubmitOrderInput {
                    lines: lines(&world),
                    note: None,
                };
                match commands
                    .submit_order(&RequestContext::new(actor), input)
                    .await
                {
                    Ok(_) => phase.latencies.push(began.elapsed()),
                    Err(error) => {
                        *phase
                            .errors
                            .entry(error.code().as_str().to_owned())
                            .or_default() += 1
                    }
                }
            }
            phase
        }));
    }
    let mut total = Phase::default();
    for task in tasks {
        total.merge(task.await.expect("a task"));
    }
    total.wall = started.elapsed();
    total
}

/// CPU time of the phases of one kind, summed over the rounds.
#[derive(Default)]
struct CpuTotal {
    client_seconds: f64,
    server_seconds: f64,
}

impl CpuTotal {
    fn add(&mut self, spent: CpuSpent) {
        self.client_seconds += spent.client_seconds;
        self.server_seconds += spent.server_seconds;
    }

    fn per_order(&self, orders: usize) -> String {
        let orders = orders.max(1) as f64;
        format!(
            "CPU per order: this process {:.3} ms (clients and server), Postgres {:.3} ms",
            self.client_seconds * 1e3 / orders,
            self.server_seconds * 1e3 / orders
        )
    }
}

/// Transactions committed in this database so far (`pg_stat_database`, updated with a small
/// delay by the statistics system; read after a phase, it counts that phase's work).
async fn committed_transactions(db: &dinghuo_store::Database) -> i64 {
    let dinghuo_store::Database::Postgres(pool) = db else {
        return 0;
    };
    // The statistics are per backend until flushed: ask for a fresh snapshot.
    let _ = sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(pool)
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    sqlx::query_scalar(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(0)
}

/// The phases of one kind, summed over the rounds, with what they cost.
#[derive(Default)]
struct Measured {
    phase: Phase,
    commits: i64,
    cpu: CpuTotal,
}

impl Measured {
    /// Runs `phase`, counting the transactions committed and the CPU spent meanwhile.
    async fn measure(
        &mut self,
        db: &dinghuo_store::Database,
        phase: impl std::future::Future<Output = Phase>,
    ) -> Phase {
        let commits_before = committed_transactions(db).await;
        let clock = CpuClock::start(db).await;
        let phase = phase.await;
        self.cpu.add(clock.stop(db).await);
        self.commits += committed_transactions(db).await - commits_before;
        phase
    }

    fn report(&mut self, name: &str, adjective: &str) {
        let orders = self.phase.latencies.len();
        println!("  {}", self.phase.describe(name));
        println!(
            "  Postgres transactions committed during the {adjective} phases: {} ({:.1} per order)",
            self.commits,
            self.commits as f64 / orders.max(1) as f64
        );
        println!("  {}", self.cpu.per_order(orders));
    }
}

/// One measured HTTP phase against a fresh server, once its projections have caught up with
/// the orders before it (so that the phase sees only its own work) and after a warm-up.
async fn fresh_server_phase(
    db: &dinghuo_store::Database,
    http: &mut Measured,
    world: &Arc<World>,
    contacts: &[ContactId],
    duration: Duration,
) -> Phase {
    let server = Arc::new(TestServer::start(db, &[]).await);
    let head = settle_feed(db).await;
    let names: Vec<&str> = models::all().iter().map(|p| p.name()).collect();
    wait_for(db, &names, head, Duration::from_secs(600))
        .await
        .expect("the projections catch up");
    // Warm up: connections, prepared statements.
    let _ = over_http(server.clone(), world.clone(), contacts, WARM_UP).await;
    let phase = http
        .measure(
            db,
            over_http(server.clone(), world.clone(), contacts, duration),
        )
        .await;
    server.stop().await;
    phase
}

/// The ceiling's workload, with a real `OrderSubmitted` of this world as what it inserts; `None`
/// (said loudly) without pgbench.
async fn prepare_ceiling(
    test: &TestDb,
    commands: &Commands,
    world: &World,
    contact: ContactId,
) -> Option<Arc<Ceiling>> {
    let actor = Actor::in_tenant(contact.as_uuid(), Role::Contact, world.tenant);
    let input = SubmitOrderInput {
        lines: lines(world),
        note: None,
    };
    commands
        .submit_order(&RequestContext::new(actor), input)
        .await
        .expect("the ceiling's template order");
    let (version, payload) = ceiling::stored_order(&test.db)
        .await
        .expect("read the template order");
    let request = Uuid::now_v7().to_string();
    let metadata = json!({
        "tenant_id": world.tenant.to_string(),
        "actor_id": contact.to_string(),
        "actor_role": "contact",
        "correlation_id": request,
        "causation_id": request,
        "request_id": request,
    });
    match Ceiling::prepare(
        &test.db,
        &test.url,
        &version,
        &payload,
        &metadata.to_string(),
    )
    .await
    {
        Ok(ceiling) => Some(Arc::new(ceiling)),
        Err(why) => {
            println!("{}", ceiling::skipped(&why));
            None
        }
    }
}

/// One ceiling phase: orders/s from pgbench's clock, and the seconds it ran.
async fn ceiling_phase(ceiling: &Arc<Ceiling>, clients: usize, duration: Duration) -> (f64, f64) {
    let ceiling = ceiling.clone();
    let tps = tokio::task::spawn_blocking(move || ceiling.run(clients, Length::Time(duration)))
        .await
        .expect("the pgbench task")
        .unwrap_or_else(|why| panic!("the ceiling failed mid-run: {why}"));
    (tps, duration.as_secs_f64())
}

/// The median of sorted values (the mean of the middle two for an even count); 0 for none.
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let clients = bench_env::count("DINGHUO_BENCH_CLIENTS", 16) as usize;
        let duration = Duration::from_secs(bench_env::count("DINGHUO_BENCH_SECONDS", 8));
        let rounds = bench_env::count("DINGHUO_BENCH_ROUNDS", 4);
        let Some(test) = TestDb::with_pool_size(Backend::Postgres, 32).await else {
            println!("Postgres is unreachable: nothing measured");
            return;
        };
        let commands = Arc::new(test.commands());
        let world = Arc::new(World::build(&commands, PRODUCTS).await);
        let admin = world.admin_ctx();
        let mut contacts = Vec::with_capacity(clients);
        for i in 0..clients {
            let phone = format!("139{:08}", i + 1);
            contacts.push(
                World::add_bound_contact(&commands, &admin, world.tenant, world.partner, &phone)
                    .await,
            );
        }
        let ceiling = prepare_ceiling(&test, &commands, &world, contacts[0]).await;
        println!(
            "http_load: {clients} clients, {rounds} rounds of {} s per phase, Postgres",
            duration.as_secs()
        );

        // The phases alternate in the order A B B A (command layer first in odd rounds, HTTP
        // first in even ones), so that a drift of the machine's speed (another tenant of the
        // host, a Postgres checkpoint) weighs on both alike instead of always on the second.
        let mut layer = Measured::default();
        let mut http = Measured::default();
        let mut ratios = Vec::with_capacity(rounds as usize);
        // Orders and seconds of the ceiling's phases; each round's command layer and HTTP as
        // fractions of its ceiling.
        let (mut ceiling_orders, mut ceiling_seconds) = (0.0, 0.0);
        let mut of_ceiling: Vec<(f64, f64)> = Vec::with_capacity(rounds as usize);
        for round in 1..=rounds {
            let http_first = round % 2 == 0;
            let mut round_ceiling = None;
            if let (Some(ceiling), false) = (&ceiling, http_first) {
                round_ceiling = Some(ceiling_phase(ceiling, clients, duration).await);
            }
            let mut early_http = None;
            if http_first {
                early_http = Some(
                    fresh_server_phase(&test.db, &mut http, &world, &contacts, duration).await,
                );
            }
            let layer_load = command_layer(commands.clone(), world.clone(), &contacts, duration);
            let mut layer_phase = layer.measure(&test.db, layer_load).await;
            let mut http_phase = match early_http {
                Some(phase) => phase,
                None => fresh_server_phase(&test.db, &mut http, &world, &contacts, duration).await,
            };
            if let (Some(ceiling), true) = (&ceiling, http_first) {
                round_ceiling = Some(ceiling_phase(ceiling, clients, duration).await);
            }
            let ratio = http_phase.throughput() / layer_phase.throughput();
            ratios.push(ratio);
            if let Some((tps, seconds)) = round_ceiling {
                ceiling_orders += tps * seconds;
                ceiling_seconds += seconds;
                let fractions = (
                    layer_phase.throughput() / tps,
                    http_phase.throughput() / tps,
                );
                of_ceiling.push(fractions);
                println!(
                    "  round {round}: ceiling {tps:.0} orders/s; command layer {:.0} %, HTTP {:.0} % of it",
                    100.0 * fractions.0,
                    100.0 * fractions.1
                );
            }
            println!("  round {round}: {}", layer_phase.describe("command layer"));
            println!("  round {round}: {}", http_phase.describe("HTTP"));
            println!(
                "  round {round}: HTTP / command layer {:.0} %",
                100.0 * ratio
            );
            layer.phase.merge(layer_phase);
            http.phase.merge(http_phase);
        }

        println!("all rounds:");
        layer.report("command layer", "command-layer");
        http.report("HTTP", "HTTP");
        ratios.sort_by(f64::total_cmp);
        let percent = |ratio: f64| 100.0 * ratio;
        println!(
            "  HTTP / command layer throughput: {:.0} % (per round: median {:.0} %, \
             from {:.0} to {:.0} %); HTTP p99 {:.1} ms",
            percent(http.phase.throughput() / layer.phase.throughput()),
            percent(median(&ratios)),
            percent(ratios.first().copied().unwrap_or_default()),
            percent(ratios.last().copied().unwrap_or_default()),
            http.phase.percentile(0.99).as_secs_f64() * 1e3
        );
        if ceiling_seconds > 0.0 {
            let ceiling = ceiling_orders / ceiling_seconds;
            let spread = |pick: fn(&(f64, f64)) -> f64| {
                let mut values: Vec<f64> = of_ceiling.iter().map(pick).collect();
                values.sort_by(f64::total_cmp);
                format!(
                    "median {:.0} %, from {:.0} to {:.0} %",
                    percent(median(&values)),
                    percent(values.first().copied().unwrap_or_default()),
                    percent(values.last().copied().unwrap_or_default())
                )
            };
            println!(
                "  ceiling (pgbench) {ceiling:.0} orders/s; command layer {:.0} % of it \
                 (per round: {}); HTTP {:.0} % of it (per round: {})",
                percent(layer.phase.throughput() / ceiling),
                spread(|fractions| fractions.0),
                percent(http.phase.throughput() / ceiling),
                spread(|fractions| fractions.1)
            );
        } else {
            println!("  ceiling: not measured (see SKIPPED above)");
        }
    });
}
