//! Fault tests under load (issue 16, item 3), on Postgres: 16 clients submit orders through a
//! real server whose database connections go through a proxy, retrying with the same
//! idempotency key on a retryable error; the proxy cuts every connection at once (a restart),
//! cuts connections after `COMMIT` before the answer comes back, or refuses connections for 3 s.
//! Then no acknowledged order is lost, none is stored twice, no client saw `INTERNAL`, the
//! server recovers within 5 s (every projection's lag 0, an order read back by its own
//! mutation), and the read models equal a rebuild. Each test prints its counts.

use std::time::Duration;

use dinghuo_tests::faults::Rig;
use tokio::time::{sleep, sleep_until, Instant};

/// Load before the fault, and after the database is back.
const LOAD_BEFORE: Duration = Duration::from_secs(2);
const LOAD_AFTER: Duration = Duration::from_millis(3500);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_every_connection_at_once_under_load_loses_and_duplicates_nothing() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let load = rig.start_load();
    sleep(LOAD_BEFORE).await;

    rig.proxy.cut_all();
    let restored = Instant::now();
    let recovery = rig.recovery().await;
    sleep_until(restored + LOAD_AFTER).await;
    let ledger = load.stop().await;
    rig.check("every connection cut", ledger, recovery).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_connections_after_commit_under_load_loses_and_duplicates_nothing() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let load = rig.start_load();
    sleep(LOAD_BEFORE).await;

    // For 1.5 s, the next 2 COMMITs of every 100 ms have their connection cut before the answer
    // reaches the server: event appends and projection batches alike.
    for _ in 0..15 {
        rig.proxy.cut_after_commits(2);
        sleep(Duration::from_millis(100)).await;
    }
    rig.proxy.disarm_commit_cuts();
    let restored = Instant::now();
    let recovery = rig.recovery().await;
    assert!(
        rig.proxy.commit_cuts_made() > 0,
        "no connection was cut after COMMIT"
    );
    sleep_until(restored + LOAD_AFTER).await;
    let ledger = load.stop().await;
    rig.check("connections cut after COMMIT", ledger, recovery)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusing_connections_for_3_s_under_load_loses_and_duplicates_nothing() {
    let Some(rig) = Rig::start().await else {
        return;
    };
    let load = rig.start_load();
    sleep(LOAD_BEFORE).await;

    let down = Duration::from_secs(3);
    rig.proxy.refuse_for(down);
    sleep(down).await;
    let restored = Instant::now();
    let recovery = rig.recovery().await;
    sleep_until(restored + LOAD_AFTER).await;
    let ledger = load.stop().await;
    rig.check("connections refused for 3 s", ledger, recovery)
        .await;
}
