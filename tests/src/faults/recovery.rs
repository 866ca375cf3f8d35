//! Watching a server recover once its database is back: every projection caught up with the
//! log as it stood at that moment (and `/readyz` ready), and an order read back by its own
//! mutation; and, once the load has stopped, every projection's lag 0.
//!
//! Under a 16-client load a projection is always a batch or so behind (a few events, tens of
//! milliseconds), so "lag 0" while the load runs is read as: every event stored when the
//! database came back has been applied by every projection. A projection's checkpoint at or
//! past the last of those events proves it; the feed hands out events in commit-safe order.

use std::time::Duration;

use dinghuo_projections::models;
use dinghuo_store::Checkpoint;
use dinghuo_store::Database;
use serde_json::Value;
use sqlx::PgPool;
use tokio::time::Instant;

use super::clients::{Client, Outcome};
use crate::server::TestServer;

/// The bound: after the database is back, every projection's lag is 0, and an order is
/// read back by its own mutation, within this.
pub const RECOVERY: Duration = Duration::from_secs(5);

/// How long recovery is watched for, so that a slow one is measured rather than cut short.
pub const WATCHED_FOR: Duration = Duration::from_secs(15);

const POLL: Duration = Duration::from_millis(20);

/// How long the server took, from the moment the database was back, to each sign of recovery;
/// `None`: not within [`WATCHED_FOR`].
#[derive(Debug, Clone, Copy)]
pub struct Recovery {
    pub caught_up: Option<Duration>,
    pub read_back: Option<Duration>,
}

/// The feed's last event now (read directly, not through the proxy).
pub async fn head_of_log(pool: &PgPool) -> Checkpoint {
    let head: Option<(i64, i64)> = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events
          ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .expect("read the head of the log");
    head.map_or(Checkpoint::START, |(tx_id, position)| Checkpoint {
        tx_id: u64::try_from(tx_id).unwrap_or(0),
        position,
    })
}

/// Polls until every projection's checkpoint is at or past `head`, none failed, and `/readyz`
/// answers 200; answers how long since `since` it took.
pub async fn until_caught_up(
    server: &TestServer,
    pool: &PgPool,
    head: Checkpoint,
    since: Instant,
) -> Option<Duration> {
    while since.elapsed() < WATCHED_FOR {
        if every_projection_reached(pool, head).await && ready(server).await.is_some() {
            return Some(since.elapsed());
        }
        tokio::time::sleep(POLL).await;
    }
    None
}

async fn every_projection_reached(pool: &PgPool, head: Checkpoint) -> bool {
    let rows: Vec<(String, i64, i64, String)> =
        sqlx::query_as("SELECT name, tx_id, position, state FROM projection_checkpoints")
            .fetch_all(pool)
            .await
            .expect("read the checkpoints");
    models::all().iter().all(|projection| {
        rows.iter().any(|(name, tx_id, position, state)| {
            let checkpoint = Checkpoint {
                tx_id: u64::try_from(*tx_id).unwrap_or(0),
                position: *position,
            };
            name == projection.name() && state == "running" && checkpoint >= head
        })
    })
}

/// `/readyz`'s body, when it answers 200.
async fn ready(server: &TestServer) -> Option<Value> {
    let response = reqwest::get(server.url("/readyz")).await.ok()?;
    if response.status() != reqwest::StatusCode::OK {
        return None;
    }
    response.json().await.ok()
}

/// Polls until `/readyz` is ready with every projection's lag 0 (at one moment: for after the
/// load); answers how long it took, `None` if not within `bound`.
pub async fn until_lag_zero(server: &TestServer, bound: Duration) -> Option<Duration> {
    let since = Instant::now();
    while since.elapsed() < bound {
        let lags_zero = ready(server).await.is_some_and(|body| {
            body["projections"].as_array().is_some_and(|projections| {
                !projections.is_empty()
                    && projections
                        .iter()
                        .all(|projection| projection["lagEvents"] == 0)
            })
        });
        if lags_zero {
            return Some(since.elapsed());
        }
        tokio::time::sleep(POLL).await;
    }
    None
}

/// Submits fresh orders as `probe` (a key each) until one is read back by its own mutation;
/// answers how long since `since` it took.
pub async fn until_read_back(probe: &Client, since: Instant) -> Option<Duration> {
    let mut n = 0;
    while since.elapsed() < WATCHED_FOR {
        n += 1;
        let outcome = probe.submit(&format!("{}-{n}", probe.name), 1).await;
        if let Outcome::Acknowledged {
            read_back: true, ..
        } = outcome
        {
            return Some(since.elapsed());
        }
    }
    None
}

/// The Postgres pool of a fault test's database.
pub fn postgres(db: &Database) -> &PgPool {
    match db {
        Database::Postgres(pool) => pool,
        Database::Sqlite(_) => panic!("fault tests run on Postgres"),
    }
}
