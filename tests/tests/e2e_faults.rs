//! Fault tests under load (issue 16, item 3), on Postgres: 16 clients submit orders through a
//! real server whose database connections go through a proxy, retrying with the same
//! idempotency key on a retryable error; the proxy cuts every connection at once (a restart),
//! cuts connections after `COMMIT` before the answer comes back, or refuses connections for 3 s.
//! Then no acknowledged order is lost, none is stored twice, no client saw `INTERNAL`, the
//! server recovers within 5 s (every projection's lag 0, an order read back by its own
//! mutation), and the read models equal a rebuild. Each test prints its counts.

use std::time::Duration;

use dinghuo_store::Database;
use dinghuo_tests::faults::Rig;
use dinghuo_tests::proxy::Proxy;
use dinghuo_tests::{Backend, TestDb};
use sqlx::{Executor, PgPool};
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

/// The proxy's cut after `COMMIT` comes after the commit took effect: the client sees its
/// connection fail, and the row is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_proxy_cuts_a_connection_after_its_commit_took_effect() {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let (proxy, proxied) = Proxy::in_front_of(&test.url, 1).await;
    let Database::Postgres(through_proxy) = proxied else {
        panic!("a Postgres pool");
    };
    through_proxy
        .execute("CREATE TABLE committed (n integer)")
        .await
        .expect("create a table");

    proxy.cut_after_commits(1);
    let mut tx = through_proxy.begin().await.expect("begin");
    tx.execute("INSERT INTO committed VALUES (1)")
        .await
        .expect("insert");
    let committed = tx.commit().await;

    assert!(
        committed.is_err(),
        "the client never hears that its COMMIT succeeded"
    );
    assert_eq!(proxy.commit_cuts_made(), 1);
    assert_eq!(rows(&through_proxy).await, 1, "yet the row is committed");
    // Disarmed once spent: the next commit goes through.
    let mut tx = through_proxy.begin().await.expect("begin");
    tx.execute("INSERT INTO committed VALUES (2)")
        .await
        .expect("insert");
    tx.commit().await.expect("a commit after the armed one");
    assert_eq!(rows(&through_proxy).await, 2);
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM committed")
        .fetch_one(pool)
        .await
        .expect("count the rows")
}
