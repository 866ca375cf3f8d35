//! What a failed or interrupted rebuild leaves behind (its `rm_…__next` tables and its
//! `<name>@rebuild` checkpoints) is removed: by the failed rebuild itself, at a runner's start
//! (`prepare`), and by the next rebuild; but never while a rebuild holds its lock, and two
//! rebuilds of one projection never run at once (issue 16, item 4).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dinghuo_projections::checkpoint::try_lock_rebuild;
use dinghuo_projections::{models, prepare, rebuild, Projection, RunnerError, RunnerSettings};
use dinghuo_store::{Database, DatabaseSettings};
use dinghuo_tests::generated_log::{self, DEFAULT_SEED};
use dinghuo_tests::on_both_backends;
use dinghuo_tests::read_model::{leftover_rebuild_tables, replayable_projections, settle_feed};
use tokio::sync::Notify;

/// Enough events for several rebuild pages: a rebuild stopped after its first page has filled
/// its tables only in part.
const EVENTS: u64 = 12_000;

/// Small pages, so that the first one is reported long before the last.
fn settings() -> RunnerSettings {
    RunnerSettings {
        rebuild_batch_size: 1_000,
        ..RunnerSettings::default()
    }
}

/// The `<name>@rebuild` checkpoints stored.
async fn rebuild_checkpoints(db: &Database) -> Vec<String> {
    let sql = "SELECT name FROM projection_checkpoints WHERE name LIKE '%@rebuild' ORDER BY name";
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("list the rebuild checkpoints")
}

/// Starts a rebuild of every replayable projection in a "process" of its own (a pool of its
/// own) and drops it after its first page, as a killed process would stop: no code of the
/// rebuild runs after that point, and its connections close.
async fn interrupted_rebuild(url: &str) {
    let db = Database::connect(&DatabaseSettings {
        url: Some(url.to_owned()),
        ..DatabaseSettings::default()
    })
    .await
    .expect("connect");
    let projections = replayable_projections();
    let projections: Vec<&dyn Projection> = projections.iter().map(AsRef::as_ref).collect();
    let first_page = Arc::new(Notify::new());
    let reported = Arc::new(AtomicBool::new(false));
    let (notify, flag) = (first_page.clone(), reported.clone());
    tokio::select! {
        finished = rebuild(&db, &projections, settings(), move |_| {
            if !flag.swap(true, Ordering::SeqCst) {
                notify.notify_one();
            }
        }) => panic!("the rebuild was to be interrupted, but it ended: {finished:?}"),
        () = first_page.notified() => {}
    }
    assert!(reported.load(Ordering::SeqCst));
    db.close().await;
}

async fn loaded(db: &Database) {
    generated_log::load(db, EVENTS, DEFAULT_SEED).await;
    settle_feed(db).await;
    for projection in models::all() {
        prepare(db, projection.as_ref())
            .await
            .expect("prepare the live tables");
    }
}

on_both_backends! {
    async fn a_runner_start_removes_what_an_interrupted_rebuild_left(test) {
        loaded(&test.db).await;
        interrupted_rebuild(&test.url).await;
        assert!(!leftover_rebuild_tables(&test.db).await.is_empty(), "nothing left to clean up");
        assert!(!rebuild_checkpoints(&test.db).await.is_empty());

        for projection in models::all() {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
        }
        assert_eq!(leftover_rebuild_tables(&test.db).await, Vec::<String>::new());
        assert_eq!(rebuild_checkpoints(&test.db).await, Vec::<String>::new());
    }

    async fn the_next_rebuild_replaces_what_an_interrupted_one_left(test) {
        loaded(&test.db).await;
        interrupted_rebuild(&test.url).await;
        let projections = replayable_projections();
        let projections: Vec<&dyn Projection> = projections.iter().map(AsRef::as_ref).collect();
        let applied = rebuild(&test.db, &projections, settings(), |_| {})
            .await
            .expect("the next rebuild succeeds");
        assert_eq!(applied, EVENTS);
        assert_eq!(leftover_rebuild_tables(&test.db).await, Vec::<String>::new());
        assert_eq!(rebuild_checkpoints(&test.db).await, Vec::<String>::new());
    }

    async fn a_running_rebuild_keeps_its_tables_and_excludes_a_second(test) {
        loaded(&test.db).await;
        interrupted_rebuild(&test.url).await;
        let left = leftover_rebuild_tables(&test.db).await;
        let orders = models::by_name("orders").expect("the orders projection");

        // Another process rebuilding `orders` holds its rebuild lock: its tables are work in
        // progress, and a second rebuild of it is refused.
        let held = try_lock_rebuild(&test.db, &["orders"])
            .await
            .expect("take the rebuild lock")
            .expect("nobody holds it");
        prepare(&test.db, orders.as_ref()).await.expect("prepare");
        assert_eq!(leftover_rebuild_tables(&test.db).await, left, "a running rebuild's tables were dropped");
        let second = rebuild(&test.db, &[orders.as_ref()], settings(), |_| {}).await;
        assert!(
            matches!(second, Err(RunnerError::RebuildRunning(ref names)) if names == "orders"),
            "{second:?}"
        );

        drop(held);
        prepare(&test.db, orders.as_ref()).await.expect("prepare");
        let left = leftover_rebuild_tables(&test.db).await;
        assert!(
            !left.iter().any(|table| table.starts_with("rm_orders")),
            "the orders leftovers stayed after the rebuild lock was released: {left:?}"
        );
    }

    async fn a_failed_rebuild_removes_its_own_tables(test) {
        loaded(&test.db).await;
        // A poison event in the middle of the log: the feed cannot decode it, and the rebuild
        // stops there with the error.
        let poison = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                          event_version, payload, metadata)
                      VALUES ('Order', 'not-a-uuid', 1, 'OrderSubmitted', '1.0', '{}', '{}')";
        match &test.db {
            Database::Postgres(pool) => sqlx::query(poison).execute(pool).await.map(drop),
            Database::Sqlite(pool) => sqlx::query(poison).execute(pool).await.map(drop),
        }
        .expect("insert a poison event");
        generated_log::load(&test.db, 2_000, DEFAULT_SEED + 1).await;
        settle_feed(&test.db).await;

        let orders = models::by_name("orders").expect("the orders projection");
        let failed = rebuild(&test.db, &[orders.as_ref()], settings(), |_| {}).await;
        assert!(failed.is_err(), "a rebuild over a poison event succeeded");
        assert_eq!(leftover_rebuild_tables(&test.db).await, Vec::<String>::new());
        assert_eq!(rebuild_checkpoints(&test.db).await, Vec::<String>::new());
    }
}
