//! Reads at scale: what one client waits for each read of the API as one tenant's log grows.
//!
//! For each size (10,000, 100,000 and 1,000,000 events by default; `DINGHUO_BENCH_EVENTS` sets
//! the largest, and smaller defaults above it are left out, for a quick smoke run) and backend
//! (`DINGHUO_BENCH_BACKEND`: `postgres`, `sqlite` or `both`, the default):
//! 1. a fresh database gets a generated log of that many events, all of one tenant (about a
//!    quarter of them orders submitted), one product of which is repriced until its stream holds
//!    1,000 events (`tests/src/generated_log.rs`);
//! 2. every read model is rebuilt from it, as `dinghuo projections rebuild --all` does;
//! 3. a real server (`TestServer`, no processors: nothing is written meanwhile) answers each
//!    query `DINGHUO_BENCH_SAMPLES` times (200 by default) over HTTP, one request at a time,
//!    after a few unmeasured ones; the client measures each answer in full.
//!
//! The report is p50 and p99 per query and size, and how much each p99 grew from the smallest
//! size to the largest. Goals (issue 17): at most 2× from 10k to 1M events; on Postgres at most
//! 50 ms at 1M. `DINGHUO_BENCH_KEEP=1` keeps each database, for `EXPLAIN` by hand.

use std::time::{Duration, Instant};

use async_graphql::connection::{CursorType, OpaqueCursor};
use chrono::{DateTime, Days, NaiveDate, Utc};
use dinghuo_commands::{Actor, Role};
use dinghuo_projections::{models, rebuild, RunnerSettings};
use dinghuo_store::sql::{fetch_all, StoredTime};
use dinghuo_store::Database;
use dinghuo_tests::generated_log::{self, Shape, DEFAULT_SEED};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{bench_env, Backend, TestDb};
use serde_json::{json, Value};

/// The sizes measured by default, in events.
const SIZES: [u64; 3] = [10_000, 100_000, 1_000_000];
/// The length of the stream `aggregateAt` replays.
const LONG_STREAM: u64 = 1_000;
const DEFAULT_SAMPLES: u64 = 200;
/// Unmeasured requests before each query's samples (plans and caches warm).
const WARM_UP: usize = 5;

const ORDERS: &str = "query($filter: OrderFilter) {
  orders(first: 100, filter: $filter) {
    edges { node { id status total { amount } submittedAt
                   partner { name } contact { name } lines { sku quantity } } }
    pageInfo { hasNextPage endCursor }
  }
}";
const ORDER: &str = "query($id: ID!) {
  order(id: $id) { id status total { amount } partner { name } contact { name }
                   lines { sku quantity } }
}";
const SALES: &str = "query($from: Date!, $to: Date!) {
  salesDaily(from: $from, to: $to, first: 100) {
    edges { node { day partnerId productId orders quantity amount { amount } } }
    pageInfo { hasNextPage }
  }
}";
const EVENTS: &str = "query($after: String, $filter: AuditEventFilter) {
  events(first: 100, after: $after, filter: $filter) {
    edges { node { position aggregateId sequence eventType payload recordedAt } }
    pageInfo { hasNextPage }
  }
}";
const AGGREGATE_AT: &str = "query($id: ID!) {
  aggregateAt(id: $id, asOf: { version: 1000 }) { aggregateType version state }
}";

/// One query as measured: its name, document and variables.
struct Read {
    name: &'static str,
    query: &'static str,
    variables: Value,
}

/// The p50 and p99 of one query at one size, in milliseconds.
#[derive(Clone, Copy)]
struct Latency {
    p50: f64,
    p99: f64,
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let largest = bench_env::count("DINGHUO_BENCH_EVENTS", 1_000_000);
    let mut sizes: Vec<u64> = SIZES.into_iter().filter(|&n| n < largest).collect();
    sizes.push(largest);
    let samples = bench_env::count("DINGHUO_BENCH_SAMPLES", DEFAULT_SAMPLES).max(1) as usize;
    let backends = match std::env::var("DINGHUO_BENCH_BACKEND").as_deref() {
        Ok("postgres") => vec![Backend::Postgres],
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("both") | Err(_) => vec![Backend::Postgres, Backend::Sqlite],
        Ok(other) => panic!("DINGHUO_BENCH_BACKEND is postgres, sqlite or both, not {other:?}"),
    };
    println!("reads benchmark: sizes {sizes:?}, {samples} samples per query, {backends:?}");
    for backend in backends {
        let mut table: Vec<(u64, Vec<(&'static str, Latency)>)> = Vec::new();
        for &size in &sizes {
            let Some(measured) = measure_size(backend, size, samples).await else {
                println!("{backend:?} is unreachable: nothing measured");
                break;
            };
            table.push((size, measured));
        }
        println!("\n{}", report(backend, &table));
    }
}

/// Builds a log of `size` events and its read models on `backend`, and measures every read.
async fn measure_size(
    backend: Backend,
    size: u64,
    samples: usize,
) -> Option<Vec<(&'static str, Latency)>> {
    let test = TestDb::with_pool_size(backend, 10).await?;
    let started = Instant::now();
    let shape = Shape {
        tenants: Some(1),
        long_stream: LONG_STREAM.min(size / 10),
    };
    let loaded = generated_log::load_shaped(&test.db, size, DEFAULT_SEED, shape).await;
    generated_log::settle(&test.db).await;
    let loading = started.elapsed();
    let started = Instant::now();
    let projections = models::all();
    let replayable: Vec<_> = projections
        .iter()
        .filter(|p| p.replayable())
        .map(|p| p.as_ref())
        .collect();
    rebuild(&test.db, &replayable, RunnerSettings::default(), |_| {})
        .await
        .expect("rebuild the read models");
    analyse(&test.db).await;
    println!(
        "{backend:?}, {size} events: loaded in {:.1} s, read models rebuilt in {:.1} s",
        loading.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    let (tenant, admin) = loaded.tenants[0];
    let product = loaded.long_stream.expect("a long stream").to_string();
    let reads = reads(&test.db, &product).await;
    let server = TestServer::start(&test.db, &["--no-processors"]).await;
    let token = server.token(&Actor::in_tenant(admin, Role::Admin, tenant));
    let client = reqwest::Client::new();
    let mut measured = Vec::new();
    for read in &reads {
        let latency = measure(&client, &server, &token, read, samples).await;
        println!(
            "  {:<28} p50 {:>7.2} ms  p99 {:>7.2} ms",
            read.name, latency.p50, latency.p99
        );
        measured.push((read.name, latency));
    }
    server.stop().await;
    if std::env::var("DINGHUO_BENCH_KEEP").is_ok_and(|keep| keep == "1") {
        // For `EXPLAIN` by hand afterwards: the database stays (drop it yourself).
        println!("  kept the database: {}", test.url);
        std::mem::forget(test);
    }
    Some(measured)
}

/// Fresh statistics for the planner: a rebuild's tables were filled in bulk.
async fn analyse(db: &Database) {
    dinghuo_store::sql::execute(db, "ANALYZE", &[])
        .await
        .expect("analyse the read models");
}

#[derive(sqlx::FromRow)]
struct Span {
    first: StoredTime,
    last: StoredTime,
}

#[derive(sqlx::FromRow)]
struct Text {
    value: String,
}

#[derive(sqlx::FromRow)]
struct Number {
    value: i64,
}

/// The reads measured, with arguments picked from the data: the middle of things, so that
/// neither end of an index favours them.
async fn reads(db: &Database, long_stream: &str) -> Vec<Read> {
    let span: Vec<Span> = fetch_all(
        db,
        "SELECT MIN(submitted_at) AS first, MAX(submitted_at) AS last FROM rm_orders",
        &[],
    )
    .await
    .expect("the orders' time span");
    let span = span.first().expect("a span");
    let at = |fraction: f64| -> DateTime<Utc> {
        let micros = (span.last.0 - span.first.0).num_microseconds().unwrap_or(0);
        span.first.0 + chrono::Duration::microseconds((micros as f64 * fraction) as i64)
    };
    let middle_order = one_text(
        db,
        "SELECT order_id AS value FROM rm_orders WHERE submitted_at >= $1
          ORDER BY submitted_at LIMIT 1",
        at(0.5).into(),
    )
    .await;
    let partner = one_text(
        db,
        "SELECT partner_id AS value FROM rm_partners WHERE is_partner = $1
          ORDER BY partner_id LIMIT 1",
        true.into(),
    )
    .await;
    let last_day = one_text(
        db,
        "SELECT MAX(day) AS value FROM rm_sales_daily WHERE orders > $1",
        0_i64.into(),
    )
    .await;
    let to = NaiveDate::parse_from_str(&last_day, "%Y-%m-%d").expect("a sales day");
    let from = to
        .checked_sub_days(Days::new(89))
        .expect("a day 90 days back");
    let positions: Vec<Number> = fetch_all(
        db,
        "SELECT (MIN(position) + MAX(position)) / 2 AS value FROM events",
        &[],
    )
    .await
    .expect("the middle of the log");
    let middle = positions.first().expect("a position").value;
    let time = |at: DateTime<Utc>| at.to_rfc3339();
    vec![
        Read {
            name: "orders by status",
            query: ORDERS,
            variables: json!({ "filter": { "status": "REJECTED" } }),
        },
        Read {
            name: "orders by partner",
            query: ORDERS,
            variables: json!({ "filter": { "partnerId": partner } }),
        },
        Read {
            name: "orders by time range",
            query: ORDERS,
            variables: json!({ "filter": {
                "submittedFrom": time(at(1.0 / 3.0)), "submittedTo": time(at(2.0 / 3.0)) } }),
        },
        Read {
            name: "order(id)",
            query: ORDER,
            variables: json!({ "id": middle_order }),
        },
        Read {
            name: "salesDaily, 90 days",
            query: SALES,
            variables: json!({ "from": from.to_string(), "to": to.to_string() }),
        },
        Read {
            name: "events, middle page",
            query: EVENTS,
            variables: json!({ "after": OpaqueCursor(middle).encode_cursor() }),
        },
        Read {
            name: "events of one aggregate",
            query: EVENTS,
            variables: json!({ "filter": { "aggregateId": middle_order } }),
        },
        Read {
            name: "aggregateAt, 1,000 events",
            query: AGGREGATE_AT,
            variables: json!({ "id": long_stream }),
        },
    ]
}

async fn one_text(db: &Database, sql: &str, arg: dinghuo_store::sql::Arg) -> String {
    let rows: Vec<Text> = fetch_all(db, sql, &[arg]).await.expect("a value");
    rows.into_iter().next().expect("one row").value
}

/// Sends `read` `samples` times, one after another, and answers its p50 and p99. Every answer
/// must be a success: a benchmark of errors measures nothing.
async fn measure(
    client: &reqwest::Client,
    server: &TestServer,
    token: &str,
    read: &Read,
    samples: usize,
) -> Latency {
    let body = json!({ "query": read.query, "variables": read.variables });
    let mut times = Vec::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let started = Instant::now();
        let response = client
            .post(server.url("/graphql"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("an answer");
        let answer: Value = response.json().await.expect("a JSON answer");
        let spent = started.elapsed();
        if i == 0 {
            check(read, &answer);
        }
        if i >= WARM_UP {
            times.push(spent);
        }
    }
    times.sort();
    Latency {
        p50: millis(percentile(&times, 0.50)),
        p99: millis(percentile(&times, 0.99)),
    }
}

/// Panics unless `answer` has data and no error, and a list read found something.
fn check(read: &Read, answer: &Value) {
    assert!(
        answer.get("errors").is_none(),
        "{}: {}",
        read.name,
        answer["errors"]
    );
    let data = &answer["data"];
    let found = ["orders", "salesDaily", "events"]
        .iter()
        .find_map(|list| data[list]["edges"].as_array())
        .is_none_or(|edges| !edges.is_empty());
    assert!(found, "{}: nothing found: {answer}", read.name);
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A Markdown table: p50 / p99 per query and size, then the p99's growth from the smallest size
/// to the largest.
fn report(backend: Backend, table: &[(u64, Vec<(&'static str, Latency)>)]) -> String {
    let mut out = format!("{backend:?}, p50 / p99 in ms:\n\n| query |");
    for (size, _) in table {
        out.push_str(&format!(" {size} events |"));
    }
    out.push_str(" p99 growth |\n|---|");
    for _ in table {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    let Some((_, first)) = table.first() else {
        return out;
    };
    for (row, (name, _)) in first.iter().enumerate() {
        out.push_str(&format!("| {name} |"));
        for (_, measured) in table {
            let latency = measured[row].1;
            out.push_str(&format!(" {:.1} / {:.1} |", latency.p50, latency.p99));
        }
        let growth = table
            .last()
            .map_or(1.0, |(_, last)| last[row].1.p99 / first[row].1.p99);
        out.push_str(&format!(" {growth:.2}× |\n"));
    }
    out
}
