//! `Tx::begin_lazy`, the transaction of a runner's page and of a rebuild's batch: on Postgres
//! its commit does not wait for the WAL flush, for that transaction only. Were the setting to
//! outlive it, the pooled connection would carry it into the next command's transaction, and
//! committed events could be lost in a crash.

use dinghuo_store::sql::{fetch_all, Tx};
use dinghuo_tests::{Backend, TestDb};

async fn synchronous_commit_of(tx: &mut Tx) -> String {
    let rows: Vec<(String,)> = tx
        .fetch_all("SELECT current_setting('synchronous_commit')", &[])
        .await
        .expect("read the setting");
    rows.into_iter().next().expect("one row").0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_turns_synchronous_commit_off_for_that_transaction_only() {
    // One connection, so the statements after the commit run on the same one.
    let Some(test) = TestDb::with_pool_size(Backend::Postgres, 1).await else {
        return;
    };
    let db = &test.db;
    let mut lazy = Tx::begin_lazy(db).await.expect("begin");
    assert_eq!(synchronous_commit_of(&mut lazy).await, "off");
    lazy.execute("CREATE TABLE lazily_made (id int)", &[])
        .await
        .expect("write");
    lazy.commit().await.expect("commit");

    let mut next = Tx::begin(db).await.expect("begin");
    assert_eq!(synchronous_commit_of(&mut next).await, "on");
    next.commit().await.expect("commit");
    let rows: Vec<(i64,)> = fetch_all(
        db,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'lazily_made'",
        &[],
    )
    .await
    .expect("read");
    assert_eq!(rows, vec![(1,)], "the lazy transaction committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_it_as_any_transaction() {
    let Some(test) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let mut lazy = Tx::begin_lazy(&test.db).await.expect("begin");
    lazy.execute("CREATE TABLE lazily_made (id int)", &[])
        .await
        .expect("write");
    lazy.commit().await.expect("commit");
    let rows: Vec<(i64,)> = fetch_all(
        &test.db,
        "SELECT count(*) FROM sqlite_master WHERE name = 'lazily_made'",
        &[],
    )
    .await
    .expect("read");
    assert_eq!(rows, vec![(1,)]);
}
