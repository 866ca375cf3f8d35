//! Rebuild throughput beside the raw feed, and the rebuild's memory at two sizes (issue 3,
//! item 7; SQLite: issue 16, item 4).
//!
//! Run with `cargo bench -p dinghuo-tests --bench rebuild`; `docs/performance.md` records the
//! figures. `DINGHUO_BENCH_EVENTS` sets the large size (default 1,000,000), and
//! `DINGHUO_BENCH_SMALL_EVENTS` the small one (default 100,000). `DINGHUO_BENCH_BACKEND` is
//! `postgres` (the default: the local server of the test helpers, `DINGHUO_TEST_POSTGRES_URL`;
//! when it is unreachable the benchmark says so and measures nothing) or `sqlite` (a file in the
//! temporary directory, with the product's settings: WAL, `synchronous = FULL`).
//!
//! For each size, this process (the parent):
//! 1. creates a throwaway migrated database (`TestDb`);
//! 2. bulk-loads that many events with `dinghuo_tests::generated_log`: real `dinghuo_domain` event
//!    values (tenants, products, partners, contacts, and orders through their lifecycle),
//!    serialised as the command layer serialises them, with the metadata every command writes,
//!    2,000 rows per transaction;
//! 3. Postgres: runs `VACUUM ANALYZE events`, so that neither measurement pays for setting hint
//!    bits on fresh rows and both read a table that is in the OS page cache; SQLite: `ANALYZE`
//!    and a `TRUNCATE` checkpoint of the WAL, so that both read the database file;
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

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dinghuo_projections::{models, rebuild, Projection, RunnerSettings};
use dinghuo_store::{read_feed, Checkpoint};
use dinghuo_store::{Database, DatabaseSettings};
use dinghuo_tests::cpu::{CpuClock, CpuSpent};
use dinghuo_tests::generated_log::{self, DEFAULT_SEED};
use dinghuo_tests::{bench_env, Backend, TestDb};
use serde::Serialize;

const DEFAULT_EVENTS: u64 = 1_000_000;
const DEFAULT_SMALL_EVENTS: u64 = 100_000;
/// Rounds of one raw stream and one rebuild per size.
const DEFAULT_ROUNDS: u64 = 3;

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

async fn parent() {
    let large = bench_env::count("DINGHUO_BENCH_EVENTS", DEFAULT_EVENTS);
    let small = bench_env::count("DINGHUO_BENCH_SMALL_EVENTS", DEFAULT_SMALL_EVENTS).min(large);
    let mut sizes = vec![small, large];
    sizes.dedup();
    let projections: Vec<&str> = models::all()
        .iter()
        .filter(|p| p.replayable())
        .map(|p| p.name())
        .collect();
    println!("rebuild benchmark: sizes {sizes:?}; replayable projections {projections:?}");

    let backend = match std::env::var("DINGHUO_BENCH_BACKEND").as_deref() {
        Ok("sqlite") => Backend::Sqlite,
        Ok("postgres") | Err(_) => Backend::Postgres,
        Ok(other) => panic!("DINGHUO_BENCH_BACKEND is postgres or sqlite, not {other:?}"),
    };
    println!("backend: {backend:?}");

    let mut runs = Vec::new();
    for size in sizes {
        let Some(test) = TestDb::with_pool_size(backend, 10).await else {
            println!("Postgres is unreachable: nothing measured");
            return;
        };
        let started = Instant::now();
        let loaded = generated_log::load(&test.db, size, DEFAULT_SEED).await;
        let load_time = started.elapsed();
        let started = Instant::now();
        generated_log::settle(&test.db).await;
        let settle_time = started.elapsed();
        println!(
            "loaded {} events ({} transactions) in {:.1} s ({:.0} events/s); settled in {:.1} s; \
             events table with indexes: {}; mix: {}",
            loaded.events,
            loaded.transactions,
            load_time.as_secs_f64(),
            loaded.events as f64 / load_time.as_secs_f64(),
            settle_time.as_secs_f64(),
            table_size(&test.db).await,
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

async fn table_size(db: &Database) -> String {
    match db {
        Database::Postgres(pool) => {
            sqlx::query_scalar("SELECT pg_size_pretty(pg_total_relation_size('events'))")
                .fetch_one(pool)
                .await
                .expect("size of the events table")
        }
        Database::Sqlite(pool) => {
            let bytes: i64 = sqlx::query_scalar(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )
            .fetch_one(pool)
            .await
            .expect("size of the database file");
            format!("{} MB (the whole file)", bytes / 1_000_000)
        }
    }
}

/// One measured phase of a child: one raw stream, or one rebuild.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Phase {
    name: String,
    events: u64,
    seconds: f64,
    /// CPU time of the benchmark process (client side: sqlx, JSON decoding, the fold).
    client_cpu_seconds: f64,
    /// CPU time of the Postgres backends serving this database (SQLite: 0, its work is the
    /// client's).
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
    let events = everything_visible(&db).await;
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
    let rounds = bench_env::count("DINGHUO_BENCH_ROUNDS", DEFAULT_ROUNDS).max(1);

    let mut streams = Vec::new();
    let mut rebuilds = Vec::new();
    let mut hwm_after_stream_kb = 0;
    for round in 1..=rounds {
        let stream = stream_once(&db).await;
        eprintln!("  round {round}: {}", stream.describe());
        if round == 1 {
            hwm_after_stream_kb = memory_kb().0;
        }
        streams.push(stream);

        let before = CpuClock::start(&db).await;
        let applied = rebuild(&db, &replayable, RunnerSettings::default(), |_| {})
            .await
            .expect("rebuild");
        let rebuilt = Phase::measured("rebuild", applied, before.stop(&db).await);
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
async fn stream_once(db: &Database) -> Phase {
    let before = CpuClock::start(db).await;
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
    Phase::measured("raw stream", streamed, before.stop(db).await)
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
/// the number of events. SQLite's feed delivers what is committed.
async fn everything_visible(db: &Database) -> u64 {
    let pool = match db {
        Database::Postgres(pool) => pool,
        Database::Sqlite(pool) => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(pool)
                .await
                .expect("count the events");
            return u64::try_from(total).expect("a count");
        }
    };
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
