//! Dealer pricing under load, on Postgres (issue 18, item 7): what pricing by price lists costs
//! a submission, and how long a large quote takes, each against a baseline measured in the
//! same run.
//!
//! Run with `cargo bench -p dinghuo-tests --bench pricing`; `docs/performance.md` records the
//! figures. Settings: `DINGHUO_BENCH_CLIENTS` (default 16) concurrent tasks,
//! `DINGHUO_BENCH_SECONDS` (default 5) per throughput phase, `DINGHUO_BENCH_ROUNDS` (default 4)
//! rounds of the throughput phases, `DINGHUO_BENCH_SAMPLES` (default 300) measured quotes of
//! each size on each path. Postgres is the test helpers' local server; when it is unreachable
//! the benchmark says so and measures nothing.
//!
//! Setup: a fresh migrated database (pool of 32) holding three onboarded tenants (`World`),
//! each with one bound their-side contact per task:
//! - **plain**: 3 products and no price list;
//! - **catalog**: 200 products and no price list;
//! - **priced**: 200 products, the partner on level `A`, and three price lists that all apply
//!   to it, each with a base price and a break from 10 units for every product: a promotion
//!   for everyone (`ALL`, priority 5, valid from yesterday for 30 days), a level list
//!   (`LEVELS [A]`, priority 10) and the partner's contract (`PARTNERS [it]`, priority 20,
//!   which wins every line).
//!
//! Then:
//! 1. **quote latency**, one caller, as the priced tenant's contact: a quote of the 200
//!    products (quantities 1 to 200, so most lines take a break) beside a quote of 3 of them,
//!    alternately (one of each per sample, the order swapped every sample, so that a drift of
//!    the machine's speed weighs on both alike), after a warm-up; first through the command
//!    layer (`Commands::quote`), then over HTTP (the GraphQL `quote` query, every field of
//!    the answer, to a real `TestServer` whose projections have caught up, stopped after).
//! 2. **submission throughput**: in each round, one phase of each workload, in the order
//!    plain, catalog, priced in odd rounds and the reverse in even ones (for the same
//!    reason), each task calling `Commands::submit_order` as its own contact in a loop:
//!    - **plain**: an order of 3 lines (quantities 1, 2, 3), priced from the catalog: the
//!      goal's baseline;
//!    - **priced**: an order of 20 lines (quantities 1 to 20), priced by the three lists: the
//!      goal's workload;
//!    - **catalog**: the same 20 lines without a list, to tell the cost of the lines from the
//!      cost of the lists.
//!
//!    Task `t` orders the 20 products from `20 t` (modulo 200), so that the tasks read
//!    different product and price streams (every order is a new stream: only reads are
//!    shared, never a write). Each phase reports the CPU per order of this process and of
//!    Postgres (`dinghuo_tests::cpu`).
//!
//! Before measuring, a quote of each workload's lines checks that it is priced as it says
//! (every priced line by the contract list, every other from the catalog), and after a warm-up
//! each workload submits 50 orders one by one with sqlx's statement log counted
//! ([`statements`]): a submission is 2 reads and the append, with or without lists.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use dinghuo_commands::{
    Actor, Commands, CreatePriceListInput, MoneyInput, OrderLineInput, PriceListScopeInput,
    QuoteInput, RequestContext, Role, SetPartnerLevelInput, SetPriceInput, SubmitOrderInput,
};
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::{ContactId, PriceListId, ProductId, TenantId};
use dinghuo_projections::{models, wait_for};
use dinghuo_tests::cpu::{CpuClock, CpuSpent};
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::submit_load::Phase;
use dinghuo_tests::{bench_env, Backend, TestDb, World};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

/// Products of the priced and catalog tenants: the large quote's lines.
const PRICED_PRODUCTS: usize = 200;
/// Lines of a priced or catalog submission.
const PRICED_LINES: usize = 20;
/// Products (and lines) of a plain submission, and lines of the small quote.
const SMALL: usize = 3;
/// The break every list has besides its base price.
const BREAK_FROM: i64 = 10;
/// Unmeasured quotes of each size before each path's samples.
const QUOTE_WARM_UP: usize = 20;
/// Unmeasured submissions of each workload before the first round.
const SUBMIT_WARM_UP: Duration = Duration::from_secs(1);
/// Orders submitted one by one to count the statements of one.
const STATEMENT_SAMPLE: usize = 50;
/// Price-setting commands in flight at once during the setup (each on its own stream).
const SETUP_CONCURRENCY: usize = 8;

const QUOTE: &str = "query($input: QuoteInput!) {
    quote(input: $input) {
        partnerId total { amount currency } orderable
        lines {
            productId sku name unit quantity
            unitPrice { amount currency } lineTotal { amount currency }
            reason { kind priceListId priceListName priority minQuantity
                     catalogPrice { amount currency } explanation }
            quantityRules { min multiple max }
            problems { code message }
        }
    }
}";

/// A price list of the priced tenant: its terms, and its prices as percentages of the catalog.
struct ListPlan {
    name: &'static str,
    priority: i64,
    scope: fn(&World) -> PriceListScopeInput,
    /// Percent of the catalog price from 1 unit, and from [`BREAK_FROM`] units.
    base_percent: i64,
    break_percent: i64,
    /// Valid from yesterday for 30 days, rather than always.
    dated: bool,
}

const LISTS: [ListPlan; 3] = [
    ListPlan {
        name: "Promotion for everyone",
        priority: 5,
        scope: |_| PriceListScopeInput {
            kind: "ALL".into(),
            ..PriceListScopeInput::default()
        },
        base_percent: 95,
        break_percent: 92,
        dated: true,
    },
    ListPlan {
        name: "A dealers",
        priority: 10,
        scope: |_| PriceListScopeInput {
            kind: "LEVELS".into(),
            levels: vec!["A".into()],
            ..PriceListScopeInput::default()
        },
        base_percent: 90,
        break_percent: 85,
        dated: false,
    },
    ListPlan {
        name: "Dealer One contract",
        priority: 20,
        scope: |world| PriceListScopeInput {
            kind: "PARTNERS".into(),
            partner_ids: vec![world.partner.to_string()],
            ..PriceListScopeInput::default()
        },
        base_percent: 88,
        break_percent: 80,
        dated: false,
    },
];

/// `percent` of product `index`'s catalog price (`World` lists product `i` at `10 + i` yuan),
/// as an amount in yuan with two decimals.
fn share_of_catalog(index: usize, percent: i64) -> MoneyInput {
    let fen = (10 + index as i64) * 100 * percent / 100;
    MoneyInput::cny(format!("{}.{:02}", fen / 100, fen % 100))
}

/// Creates the three lists of [`LISTS`] with their prices for every product of `world`, and
/// puts its partner on level `A`; answers the contract list (the last, the highest priority).
async fn price_lists(commands: &Commands, world: &World) -> PriceListId {
    let admin = world.admin_ctx();
    commands
        .set_partner_level(
            &admin,
            SetPartnerLevelInput {
                partner_id: world.partner.to_string(),
                level: Some("A".into()),
            },
        )
        .await
        .expect("set the partner's level");
    let mut contract = None;
    for plan in &LISTS {
        let now = Utc::now();
        let (valid_from, valid_to) = match plan.dated {
            true => (
                Some(now - chrono::Duration::days(1)),
                Some(now + chrono::Duration::days(30)),
            ),
            false => (None, None),
        };
        let list = commands
            .create_price_list(
                &admin,
                CreatePriceListInput {
                    name: plan.name.into(),
                    priority: plan.priority,
                    scope: Some((plan.scope)(world)),
                    valid_from,
                    valid_to,
                },
            )
            .await
            .expect("create a price list");
        // Each product's prices are one stream: set them a few products at a time.
        futures::stream::iter(world.products.iter().enumerate())
            .map(|(index, product)| {
                let admin = &admin;
                async move {
                    for (min_quantity, percent) in
                        [(1, plan.base_percent), (BREAK_FROM, plan.break_percent)]
                    {
                        let input = SetPriceInput {
                            price_list_id: list.to_string(),
                            product_id: Some(product.to_string()),
                            sku: None,
                            min_quantity: Some(min_quantity),
                            unit_price: share_of_catalog(index, percent),
                        };
                        commands.set_price(admin, input).await?;
                    }
                    Ok::<_, dinghuo_commands::CommandError>(())
                }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<()>()
            .await
            .expect("set a list's prices");
        contract = Some(list);
    }
    contract.expect("at least one list")
}

/// One bound their-side contact of `world`'s partner per task, with phones from `prefix`.
async fn contacts(
    commands: &Commands,
    world: &World,
    tasks: usize,
    prefix: &str,
) -> Vec<ContactId> {
    let admin = world.admin_ctx();
    let mut contacts = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let phone = format!("{prefix}{:08}", i + 1);
        contacts.push(
            World::add_bound_contact(commands, &admin, world.tenant, world.partner, &phone).await,
        );
    }
    contacts
}

fn line(product: ProductId, quantity: i64) -> OrderLineInput {
    OrderLineInput {
        product_id: product.to_string(),
        quantity,
        sku: None,
    }
}

/// A submission workload: whose orders, and each task's lines.
struct Workload {
    name: &'static str,
    tenant: TenantId,
    contacts: Vec<ContactId>,
    /// The lines of every order of task `t`.
    lines: Vec<Vec<OrderLineInput>>,
}

impl Workload {
    fn plain(world: &World, contacts: Vec<ContactId>) -> Self {
        let lines: Vec<OrderLineInput> = (world.products.iter().zip(1..))
            .map(|(product, quantity)| line(*product, quantity))
            .collect();
        Self {
            name: "plain, 3 lines",
            tenant: world.tenant,
            lines: vec![lines; contacts.len()],
            contacts,
        }
    }

    /// Orders of [`PRICED_LINES`] lines (quantities 1 to 20): task `t` orders the products
    /// from `20 t` on, modulo the world's products.
    fn twenty_lines(world: &World, contacts: Vec<ContactId>, name: &'static str) -> Self {
        let products = world.products.len();
        let lines = (0..contacts.len())
            .map(|task| {
                (0..PRICED_LINES)
                    .map(|k| {
                        let product = world.products[(task * PRICED_LINES + k) % products];
                        line(product, k as i64 + 1)
                    })
                    .collect()
            })
            .collect();
        Self {
            name,
            tenant: world.tenant,
            lines,
            contacts,
        }
    }

    fn actor(&self, task: usize) -> Actor {
        Actor::in_tenant(self.contacts[task].as_uuid(), Role::Contact, self.tenant)
    }

    /// Checks that every task's lines are priced as the workload says: by `list` when given,
    /// else from the catalog.
    async fn check_pricing(&self, commands: &Commands, list: Option<PriceListId>) {
        for (task, lines) in self.lines.iter().enumerate() {
            let ctx = RequestContext::new(self.actor(task));
            let input = QuoteInput {
                partner_id: None,
                lines: lines.clone(),
            };
            let (_, quote) = commands.quote(&ctx, input).await.expect("a quote");
            for quoted in &quote.lines {
                let reason = quoted.price.as_ref().map(|price| &price.reason);
                let as_said = match (reason, list) {
                    (Some(PriceReason::Catalog), None) => true,
                    (Some(PriceReason::PriceList { price_list_id, .. }), Some(list)) => {
                        *price_list_id == list
                    }
                    _ => false,
                };
                assert!(
                    as_said && quoted.problems.is_empty(),
                    "{}: task {task}'s line {quoted:?} is not priced as the benchmark says",
                    self.name
                );
            }
        }
    }

    /// One phase: each task submits its order in a loop for `duration`.
    async fn submit(self: &Arc<Self>, commands: &Arc<Commands>, duration: Duration) -> Phase {
        let started = Instant::now();
        let tasks: Vec<_> = (0..self.contacts.len())
            .map(|task| {
                let (commands, workload) = (commands.clone(), self.clone());
                tokio::spawn(async move {
                    let ctx = RequestContext::new(workload.actor(task));
                    let mut phase = Phase::default();
                    while started.elapsed() < duration {
                        let began = Instant::now();
                        let input = SubmitOrderInput {
                            lines: workload.lines[task].clone(),
                            note: None,
                        };
                        match commands.submit_order(&ctx, input).await {
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
                })
            })
            .collect();
        let mut total = Phase::default();
        for task in tasks {
            total.merge(task.await.expect("a submitting task"));
        }
        total.wall = started.elapsed();
        total
    }
}

/// A workload's phases summed over the rounds, with the CPU they spent.
#[derive(Default)]
struct Measured {
    phase: Phase,
    client_seconds: f64,
    server_seconds: f64,
}

impl Measured {
    fn add(&mut self, phase: Phase, spent: CpuSpent) {
        self.phase.merge(phase);
        self.client_seconds += spent.client_seconds;
        self.server_seconds += spent.server_seconds;
    }

    fn report(&mut self, name: &str) {
        let orders = self.phase.latencies.len().max(1) as f64;
        println!("  {}", self.phase.describe(name));
        println!(
            "    CPU per order: this process {:.3} ms, Postgres {:.3} ms",
            self.client_seconds * 1e3 / orders,
            self.server_seconds * 1e3 / orders
        );
    }
}

/// Latencies of one kind of quote.
#[derive(Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn percentile(&mut self, p: f64) -> Duration {
        self.0.sort();
        let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(index).copied().unwrap_or_default()
    }

    fn millis(&mut self, p: f64) -> f64 {
        self.percentile(p).as_secs_f64() * 1e3
    }
}

/// Measures `samples` quotes of each size through `quote` (`true`: the large one) after
/// [`QUOTE_WARM_UP`] unmeasured, the two sizes alternating, their order swapped every sample.
async fn sample_quotes<F, Fut>(samples: usize, mut quote: F) -> (Latencies, Latencies)
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mut large, mut small) = (Latencies::default(), Latencies::default());
    for sample in 0..QUOTE_WARM_UP + samples {
        let order = match sample % 2 {
            0 => [true, false],
            _ => [false, true],
        };
        for is_large in order {
            let began = Instant::now();
            quote(is_large).await;
            let took = began.elapsed();
            if sample >= QUOTE_WARM_UP {
                match is_large {
                    true => large.0.push(took),
                    false => small.0.push(took),
                }
            }
        }
    }
    (large, small)
}

fn report_quotes(path: &str, large: &mut Latencies, small: &mut Latencies) -> (f64, f64) {
    let (p50, p99) = (large.millis(0.50), large.millis(0.99));
    let (small_p50, small_p99) = (small.millis(0.50), small.millis(0.99));
    println!(
        "  {path}: quote of {PRICED_PRODUCTS} lines p50 {p50:.1} ms, p99 {p99:.1} ms \
         (max {:.1}); of {SMALL} lines p50 {small_p50:.1} ms, p99 {small_p99:.1} ms; \
         {PRICED_PRODUCTS} / {SMALL} lines: p50 {:.1}×, p99 {:.1}×; {} samples each",
        large.millis(1.0),
        p50 / small_p50,
        p99 / small_p99,
        large.0.len()
    );
    (p50, p99)
}

/// The statements sqlx sends, counted by kind from its own statement log (target
/// `sqlx::query`, one event per statement, as `tests/tests/round_trips.rs` counts them) while
/// switched on; switched off, sqlx builds no event at all.
mod statements {
    use std::fmt::Debug;
    use std::sync::atomic::{AtomicU64, Ordering};

    use tracing::field::{Field, Visit};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::filter::{EnvFilter, Targets};
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{reload, Layer, Registry};

    /// Statements counted so far: reads (`SELECT`), `INSERT`s, `NOTIFY`s (the announcer's
    /// `SELECT pg_notify`, sent apart from the commands, one for the commits of a moment), and
    /// any other (a transaction's `COMMIT`; its `BEGIN` is not logged).
    static COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

    struct Counter;

    /// The statement's summary (its first words), as sqlx logs it.
    struct Summary(String);

    impl Visit for Summary {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "summary" {
                self.0 = value.to_owned();
            }
        }

        fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
            if field.name() == "summary" {
                self.0 = format!("{value:?}");
            }
        }
    }

    impl<S: Subscriber> Layer<S> for Counter {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut summary = Summary(String::new());
            event.record(&mut summary);
            let summary = summary.0.trim_start_matches('"').to_ascii_uppercase();
            let kind = match summary.as_str() {
                s if s.starts_with("SELECT PG_NOTIFY") => 2,
                s if s.starts_with("SELECT") => 0,
                s if s.starts_with("INSERT") => 1,
                _ => 3,
            };
            COUNTS[kind].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Turns the counting on and off.
    pub struct Switch(reload::Handle<Targets, Registry>);

    /// Installs the process's subscriber: the counter (off), and errors printed as the test
    /// server would print them (`RUST_LOG` filters).
    pub fn install() -> Switch {
        let (filter, handle) = reload::Layer::new(Targets::new());
        let errors = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
        tracing_subscriber::registry()
            .with(Counter.with_filter(filter))
            .with(tracing_subscriber::fmt::layer().with_filter(errors))
            .init();
        Switch(handle)
    }

    impl Switch {
        /// Counts the statements `work` sends: `[read, INSERT, NOTIFY, other]`.
        pub async fn count<F: std::future::Future<Output = ()>>(&self, work: F) -> [u64; 4] {
            let on = Targets::new().with_target("sqlx::query", tracing::Level::TRACE);
            self.0.reload(on).expect("the counter switches on");
            let before = COUNTS.each_ref().map(|count| count.load(Ordering::Relaxed));
            work.await;
            let after = COUNTS.each_ref().map(|count| count.load(Ordering::Relaxed));
            self.0
                .reload(Targets::new())
                .expect("the counter switches off");
            [0, 1, 2, 3].map(|kind| after[kind] - before[kind])
        }
    }
}

/// Statements per order (`[read, INSERT, NOTIFY, other]`) of [`STATEMENT_SAMPLE`] orders submitted
/// one by one.
async fn statements_per_order(
    switch: &statements::Switch,
    commands: &Commands,
    workload: &Workload,
) -> [f64; 4] {
    let counted = switch
        .count(async {
            for order in 0..STATEMENT_SAMPLE {
                let task = order % workload.contacts.len();
                let input = SubmitOrderInput {
                    lines: workload.lines[task].clone(),
                    note: None,
                };
                commands
                    .submit_order(&RequestContext::new(workload.actor(task)), input)
                    .await
                    .expect("an order");
            }
        })
        .await;
    counted.map(|count| count as f64 / STATEMENT_SAMPLE as f64)
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
    let switch = statements::install();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let clients = bench_env::count("DINGHUO_BENCH_CLIENTS", 16) as usize;
        let duration = Duration::from_secs(bench_env::count("DINGHUO_BENCH_SECONDS", 5));
        let rounds = bench_env::count("DINGHUO_BENCH_ROUNDS", 4);
        let samples = bench_env::count("DINGHUO_BENCH_SAMPLES", 300) as usize;
        let Some(test) = TestDb::with_pool_size(Backend::Postgres, 32).await else {
            println!("Postgres is unreachable: nothing measured");
            return;
        };
        let setup_began = Instant::now();
        let commands = Arc::new(test.commands());
        let plain_world = World::build(&commands, SMALL).await;
        let priced_world = World::build(&commands, PRICED_PRODUCTS).await;
        let contract = price_lists(&commands, &priced_world).await;
        let catalog_world = World::build(&commands, PRICED_PRODUCTS).await;
        let plain = Arc::new(Workload::plain(
            &plain_world,
            contacts(&commands, &plain_world, clients, "139").await,
        ));
        let catalog = Arc::new(Workload::twenty_lines(
            &catalog_world,
            contacts(&commands, &catalog_world, clients, "138").await,
            "catalog, 20 lines, no list",
        ));
        let priced = Arc::new(Workload::twenty_lines(
            &priced_world,
            contacts(&commands, &priced_world, clients, "137").await,
            "priced, 20 lines, 3 lists",
        ));
        plain.check_pricing(&commands, None).await;
        catalog.check_pricing(&commands, None).await;
        priced.check_pricing(&commands, Some(contract)).await;
        println!(
            "pricing: Postgres; set up in {:.1} s; {clients} tasks, {rounds} rounds of {} s \
             per submission phase; {samples} quotes of each size on each path",
            setup_began.elapsed().as_secs_f64(),
            duration.as_secs()
        );

        // 1. Quote latency, as the priced tenant's first contact.
        let quote_lines = |count: usize| -> Vec<OrderLineInput> {
            (priced_world.products.iter().take(count).zip(1..))
                .map(|(product, quantity)| line(*product, quantity))
                .collect()
        };
        let (large_lines, small_lines) = (quote_lines(PRICED_PRODUCTS), quote_lines(SMALL));
        let ctx = RequestContext::new(priced.actor(0));
        let (mut large, mut small) = sample_quotes(samples, |is_large| {
            let lines = match is_large {
                true => large_lines.clone(),
                false => small_lines.clone(),
            };
            let (commands, ctx) = (&commands, &ctx);
            async move {
                let input = QuoteInput {
                    partner_id: None,
                    lines,
                };
                let (_, quote) = commands.quote(ctx, input).await.expect("a quote");
                assert!(quote.lines.iter().all(|line| line.price.is_some()));
            }
        })
        .await;
        let (_, layer_p99) = report_quotes("command layer", &mut large, &mut small);

        let server = TestServer::start(&test.db, &[]).await;
        let head = settle_feed(&test.db).await;
        let names: Vec<&str> = models::all().iter().map(|p| p.name()).collect();
        wait_for(&test.db, &names, head, Duration::from_secs(120))
            .await
            .expect("the projections catch up");
        let token = server.token(&priced.actor(0));
        let variables = |lines: &[OrderLineInput]| -> Value {
            let lines: Vec<Value> = lines
                .iter()
                .map(|line| json!({"productId": line.product_id, "quantity": line.quantity}))
                .collect();
            json!({"input": {"lines": lines}})
        };
        let (large_vars, small_vars) = (variables(&large_lines), variables(&small_lines));
        let (mut large, mut small) = sample_quotes(samples, |is_large| {
            let (vars, count) = match is_large {
                true => (large_vars.clone(), PRICED_PRODUCTS),
                false => (small_vars.clone(), SMALL),
            };
            let (server, token) = (&server, &token);
            async move {
                let answer = server.graphql(Some(token), QUOTE, vars).await;
                let lines = answer["data"]["quote"]["lines"].as_array().map(Vec::len);
                assert_eq!(lines, Some(count), "a quote over HTTP: {answer}");
            }
        })
        .await;
        let (_, http_p99) = report_quotes("HTTP", &mut large, &mut small);
        server.stop().await;

        // 2. Submission throughput. Every workload warms up first (connections, plans) and
        // shows the statements one order sends.
        let workloads = [plain, catalog, priced];
        for workload in &workloads {
            let _ = workload.submit(&commands, SUBMIT_WARM_UP).await;
            let [reads, inserts, notifies, others] =
                statements_per_order(&switch, &commands, workload).await;
            println!(
                "  {}: statements per order: {reads:.2} reads, {inserts:.2} INSERT, {others:.2} \
                 other (COMMIT); and {notifies:.2} NOTIFY, sent apart",
                workload.name
            );
        }
        let mut totals: [Measured; 3] = Default::default();
        // Each round's throughputs, in the order of `workloads`.
        let mut rounds_throughput = Vec::with_capacity(rounds as usize);
        for round in 1..=rounds {
            let order = match round % 2 {
                1 => [0, 1, 2],
                _ => [2, 1, 0],
            };
            let mut throughput = [0.0; 3];
            for index in order {
                let workload = &workloads[index];
                let clock = CpuClock::start(&test.db).await;
                let mut phase = workload.submit(&commands, duration).await;
                let spent = clock.stop(&test.db).await;
                println!("  round {round}: {}", phase.describe(workload.name));
                throughput[index] = phase.throughput();
                totals[index].add(phase, spent);
            }
            println!(
                "  round {round}: priced / plain {:.0} % (catalog 20 lines / plain {:.0} %)",
                100.0 * throughput[2] / throughput[0],
                100.0 * throughput[1] / throughput[0]
            );
            rounds_throughput.push(throughput);
        }

        println!("all rounds:");
        for (workload, total) in workloads.iter().zip(&mut totals) {
            total.report(workload.name);
        }
        let overall =
            |index: usize| totals[index].phase.throughput() / totals[0].phase.throughput();
        let spread = |index: usize| {
            let mut ratios: Vec<f64> = rounds_throughput
                .iter()
                .map(|throughput| throughput[index] / throughput[0])
                .collect();
            ratios.sort_by(f64::total_cmp);
            format!(
                "per round: median {:.0} %, from {:.0} to {:.0} %",
                100.0 * median(&ratios),
                100.0 * ratios.first().copied().unwrap_or_default(),
                100.0 * ratios.last().copied().unwrap_or_default()
            )
        };
        let ratio = overall(2);
        println!(
            "  priced / plain throughput: {:.0} % ({}); goal 80 %: {}",
            100.0 * ratio,
            spread(2),
            if ratio >= 0.8 { "met" } else { "not met" }
        );
        println!(
            "  catalog 20 lines / plain: {:.0} % ({}); priced / catalog 20 lines: {:.0} %",
            100.0 * overall(1),
            spread(1),
            100.0 * ratio / overall(1)
        );
        let verdict = |p99: f64| if p99 <= 50.0 { "met" } else { "not met" };
        println!(
            "  quote of {PRICED_PRODUCTS} lines, p99 goal 50 ms: command layer {layer_p99:.1} ms \
             ({}), HTTP {http_p99:.1} ms ({})",
            verdict(layer_p99),
            verdict(http_p99)
        );
    });
}
