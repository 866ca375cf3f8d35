//! `submitOrder` over HTTP with and without `dinghuo projections rebuild --all` running in
//! another process, on a large store (issue 16, item 4).
//!
//! Run with `cargo bench -p dinghuo-tests --bench http_rebuild`; `docs/performance.md` records
//! the figures. `DINGHUO_BENCH_BACKEND` is `sqlite` (the default: a file with the product's
//! settings) or `postgres` (the test helpers' local server). `DINGHUO_BENCH_EVENTS` (default
//! 1,000,000) events of `dinghuo_tests::generated_log` are loaded first; `DINGHUO_BENCH_CLIENTS`
//! (default 16) clients send `submitOrder` (`dinghuo_tests::submit_load`) for
//! `DINGHUO_BENCH_SECONDS` (default 20) per phase, in `DINGHUO_BENCH_ROUNDS` (default 2) rounds.
//!
//! Setup: load the log; rebuild every read model once without load (the quickest way to catch
//! up a loaded store, and the rebuild's time alone); an onboarded tenant and one bound contact
//! per client; a real server (`TestServer`, in this process: router, auth, runners, SMS
//! dispatcher). Each round then measures, one after the other:
//! 1. **steady**: the clients for the phase's length;
//! 2. **during a rebuild**: this benchmark re-executed as a child (`--rebuild <url>`, the same
//!    work as `dinghuo projections rebuild --all`, in a process and pool of its own) is started,
//!    and the clients run for the phase's length while it rebuilds; then the child is waited for.
//!
//! The report: per phase throughput, p50, p99 and each error code; the rebuild's time alone and
//! under load, and whether it was still running when each loaded phase ended (if not, the phase
//! measured partly without it: raise `DINGHUO_BENCH_EVENTS` or lower the seconds).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dinghuo_projections::{models, rebuild, wait_for, Projection, RunnerSettings};
use dinghuo_store::{Database, DatabaseSettings};
use dinghuo_tests::generated_log::{self, DEFAULT_SEED};
use dinghuo_tests::read_model::{replayable_projections, settle_feed};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::submit_load::{over_http, Phase};
use dinghuo_tests::{bench_env, Backend, TestDb, World};

/// Every replayable projection rebuilt together, as `rebuild --all` does; answers the events
/// replayed and the seconds it took.
async fn rebuild_all(db: &Database) -> (u64, f64) {
    let projections = replayable_projections();
    let projections: Vec<&dyn Projection> = projections.iter().map(AsRef::as_ref).collect();
    let started = Instant::now();
    let applied = rebuild(db, &projections, RunnerSettings::default(), |_| {})
        .await
        .expect("rebuild --all");
    (applied, started.elapsed().as_secs_f64())
}

/// The child: rebuilds every read model of the database at `url`, and prints
/// `<events> <seconds>` on its last line.
async fn child(url: &str) {
    let db = Database::connect(&DatabaseSettings {
        url: Some(url.to_owned()),
        ..DatabaseSettings::default()
    })
    .await
    .expect("the child connects");
    let (applied, seconds) = rebuild_all(&db).await;
    println!("{applied} {seconds}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Some(at) = args.iter().position(|a| a == "--rebuild") {
        let url = args.get(at + 1).expect("--rebuild <database url>");
        runtime.block_on(child(url));
        return;
    }
    runtime.block_on(parent());
}

async fn parent() {
    let backend = match std::env::var("DINGHUO_BENCH_BACKEND").as_deref() {
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("DINGHUO_BENCH_BACKEND is sqlite or postgres, not {other:?}"),
    };
    let events = bench_env::count("DINGHUO_BENCH_EVENTS", 1_000_000);
    let clients = bench_env::count("DINGHUO_BENCH_CLIENTS", 16) as usize;
    let duration = Duration::from_secs(bench_env::count("DINGHUO_BENCH_SECONDS", 20));
    let rounds = bench_env::count("DINGHUO_BENCH_ROUNDS", 2);
    let Some(test) = TestDb::with_pool_size(backend, 16).await else {
        println!("Postgres is unreachable: nothing measured");
        return;
    };
    println!(
        "http_rebuild: {backend:?}, {events} events, {clients} clients, {rounds} rounds of {} s \
         per phase",
        duration.as_secs()
    );
    let started = Instant::now();
    generated_log::load(&test.db, events, DEFAULT_SEED).await;
    generated_log::settle(&test.db).await;
    println!("loaded in {:.1} s", started.elapsed().as_secs_f64());
    for projection in models::all() {
        dinghuo_projections::prepare(&test.db, projection.as_ref())
            .await
            .expect("create the read models");
    }
    let (applied, alone) = rebuild_all(&test.db).await;
    println!(
        "rebuild --all without load: {applied} events in {alone:.1} s = {:.0} events/s",
        applied as f64 / alone
    );

    let commands = test.commands();
    let world = Arc::new(World::build(&commands, 3).await);
    let admin = world.admin_ctx();
    let mut contacts = Vec::with_capacity(clients);
    for i in 0..clients {
        let phone = format!("139{:08}", i + 1);
        contacts.push(
            World::add_bound_contact(&commands, &admin, world.tenant, world.partner, &phone).await,
        );
    }
    let server = Arc::new(TestServer::start(&test.db, &[]).await);
    let head = settle_feed(&test.db).await;
    let names: Vec<&str> = models::all().iter().map(|p| p.name()).collect();
    wait_for(&test.db, &names, head, Duration::from_secs(600))
        .await
        .expect("the projections catch up");
    // Warm up: connections, prepared statements.
    let _ = over_http(
        server.clone(),
        world.clone(),
        &contacts,
        Duration::from_secs(2),
    )
    .await;

    let mut steady = Phase::default();
    let mut loaded = Phase::default();
    for round in 1..=rounds {
        let mut phase = over_http(server.clone(), world.clone(), &contacts, duration).await;
        println!("  round {round}: {}", phase.describe("steady"));
        steady.merge(phase);

        let mut rebuilding = Command::new(std::env::current_exe().expect("this benchmark's path"))
            .arg("--rebuild")
            .arg(&test.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the rebuilding child");
        let mut phase = over_http(server.clone(), world.clone(), &contacts, duration).await;
        let throughout = rebuilding
            .try_wait()
            .expect("ask after the child")
            .is_none();
        let output = rebuilding
            .wait_with_output()
            .expect("wait for the rebuilding child");
        assert!(output.status.success(), "the rebuild failed under load");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let seconds: f64 = stdout
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN);
        println!("  round {round}: {}", phase.describe("during a rebuild"));
        println!(
            "  round {round}: the rebuild under load took {seconds:.1} s ({:.2} × alone); \
             it ran throughout the phase: {throughout}",
            seconds / alone
        );
        loaded.merge(phase);
    }
    server.stop().await;
    println!("all rounds:");
    println!("  {}", steady.describe("steady"));
    println!("  {}", loaded.describe("during a rebuild"));
    println!(
        "  during a rebuild / steady: throughput {:.0} %, p50 {:.2} ×, p99 {:.2} ×",
        100.0 * loaded.throughput() / steady.throughput(),
        loaded.percentile(0.5).as_secs_f64() / steady.percentile(0.5).as_secs_f64(),
        loaded.percentile(0.99).as_secs_f64() / steady.percentile(0.99).as_secs_f64(),
    );
}
