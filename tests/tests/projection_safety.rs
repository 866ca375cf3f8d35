//! The read side's promises (DESIGN §3 "Projections", issue 3 items 4 and 5), checked over every
//! replayable projection of `models::all()`, whatever read models exist when this runs:
//! - a rebuild gives exactly the rows that incremental processing gave, after a seeded-random
//!   history of a few hundred valid and invalid commands;
//! - a projection that fails, panics or is aborted in the middle of a batch keeps nothing of that
//!   batch (checkpoint and rows unchanged), reports the failure, and after a restart equals a
//!   rebuild;
//! - a group of projections run by one runner: each member starts from its own checkpoint, and
//!   a failing member (or one whose tables cannot be created) is taken out while the others go on,
//!   also when its failing write went to Postgres together with the others' (`Tx::defer`);
//! - two runners of one projection on Postgres: one applies, the other stands by and takes over
//!   from the checkpoint when the first dies; every event is applied exactly once in total;
//! - a runner wakes on Postgres `NOTIFY` long before its poll interval;
//! - read-your-writes: waiting for a write succeeds with a runner, and without one gives up at
//!   its bound instead of hanging; a command's receipt is answered by a local runner's reports
//!   without a query, and from the log without one.
//!
//! Every wait here is bounded; the bounds are generous because on Postgres the feed withholds
//! events while any older transaction in the cluster (shared with every other test) is running.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dinghuo_commands::{Commands, MoneyInput, RepriceProductInput, RequestContext};
use dinghuo_projections::runner::stored_checkpoint;
use dinghuo_projections::{
    catch_up, prepare, status, wait_for, wait_for_progress, wait_for_write, Progress, Projection,
    ProjectionError, Runner, RunnerError, RunnerSettings, State, TableNames, WaitError, Wakeup,
};
use dinghuo_store::feed::head_of_stream;
use dinghuo_store::sql::{Dialect, Tx};
use dinghuo_store::{read_feed, Checkpoint, FeedEvent};
use dinghuo_store::{Database, DatabaseSettings, StreamHead};
use dinghuo_tests::history::History;
use dinghuo_tests::read_model::{
    dump, leftover_rebuild_tables, rebuild_differs, replayable_projections, settle_feed, Dump,
};
use dinghuo_tests::{on_both_backends, Backend, TestDb, World};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Long enough for any runner to catch up with a few hundred events on a busy machine.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(60);

/// The error message of an injected fault.
const INJECTED: &str = "injected fault";

/// What a [`Wrapped`] projection does on its `at`-th event.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Returns an error, as a projection that cannot apply an event does.
    Error,
    /// Panics, as a projection with a bug would.
    Panic,
    /// Signals `reached` and never finishes, so the test can abort the runner right there.
    Stall,
    /// From then on, writes a statement that fails, as a broken one would, through
    /// `Tx::defer`: where the runner sends its members' writes together, the failure shows
    /// only when they are sent, and must still be blamed on this member alone.
    BrokenWrite,
}

/// The table a [`Fault::BrokenWrite`] writes to, which does not exist.
const NO_SUCH_TABLE: &str = "no_such_table";

/// A real projection from `models::all()`, with the same name, tables and fold, that records
/// every event it is given and can be told to fail on its `at`-th one.
struct Wrapped {
    inner: Arc<dyn Projection>,
    fault: Option<(usize, Fault)>,
    /// Positions of the events given to `apply`, in order (including those of batches that were
    /// then rolled back).
    given: Mutex<Vec<i64>>,
    reached: Notify,
}

impl Wrapped {
    fn new(inner: Arc<dyn Projection>) -> Arc<Self> {
        Self::failing(inner, None)
    }

    fn failing(inner: Arc<dyn Projection>, fault: Option<(usize, Fault)>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fault,
            given: Mutex::new(Vec::new()),
            reached: Notify::new(),
        })
    }

    fn given(&self) -> Vec<i64> {
        self.given.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl Projection for Wrapped {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn schema_version(&self) -> i32 {
        self.inner.schema_version()
    }

    fn replayable(&self) -> bool {
        self.inner.replayable()
    }

    fn tables(&self) -> &'static [&'static str] {
        self.inner.tables()
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        self.inner.schema(dialect, names)
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        self.inner.indexes(names)
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let nth = {
            let mut given = self.given.lock().expect("not poisoned");
            given.push(event.position());
            given.len()
        };
        match self.fault {
            Some((at, Fault::Error)) if at == nth => {
                return Err(ProjectionError::unappliable(event, INJECTED));
            }
            Some((at, Fault::Panic)) if at == nth => {
                panic!("{INJECTED} at position {}", event.position());
            }
            Some((at, Fault::Stall)) if at == nth => {
                self.reached.notify_one();
                std::future::pending::<()>().await;
            }
            Some((at, Fault::BrokenWrite)) if nth >= at => {
                let broken = format!("UPDATE {NO_SUCH_TABLE} SET broken = 1");
                tx.defer(NO_SUCH_TABLE, &broken, &[]).await?;
            }
            _ => {}
        }
        self.inner.apply(tx, names, event).await
    }
}

/// A projection whose tables cannot be created.
struct Unpreparable;

#[async_trait]
impl Projection for Unpreparable {
    fn name(&self) -> &'static str {
        "unpreparable"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["unpreparable"]
    }

    fn schema(&self, _: Dialect, names: &TableNames) -> Vec<String> {
        vec![format!(
            "CREATE TABLE {} (no column type",
            names.table("unpreparable")
        )]
    }

    async fn apply(
        &self,
        _: &mut Tx,
        _: &TableNames,
        _: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }
}

/// Runner settings for tests: quick to poll and to take over.
fn quick(batch_size: u32) -> RunnerSettings {
    RunnerSettings {
        batch_size,
        poll_interval: Duration::from_millis(50),
        standby_interval: Duration::from_millis(50),
        ..RunnerSettings::default()
    }
}

/// A runner in a task of its own, and the switch that stops it.
struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), RunnerError>>,
}

fn spawn_runner(
    db: &Database,
    projection: Arc<dyn Projection>,
    wakeup: &Wakeup,
    settings: RunnerSettings,
) -> Running {
    Running::spawn(Runner::new(db.clone(), projection, wakeup.clone()).with_settings(settings))
}

impl Running {
    fn spawn(runner: Runner) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        Self {
            stop,
            task: tokio::spawn(runner.run(stop_rx)),
        }
    }

    async fn stop(self) {
        self.stop.send(true).expect("the runner is listening");
        let result = tokio::time::timeout(CATCH_UP_WITHIN, self.task)
            .await
            .expect("a stopped runner returns")
            .expect("the runner task did not panic");
        result.expect("the runner stopped without error");
    }
}

/// Waits until every projection in `names` has passed `target`, while `runners` run. A runner
/// that ends on its own (an error, a panic) fails the test at once with its outcome, instead of
/// leaving the wait to run out its bound.
async fn wait_for_runners(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    runners: &mut [Running],
) {
    let deadline = tokio::time::Instant::now() + CATCH_UP_WITHIN;
    loop {
        match wait_for(db, names, target, Duration::from_millis(250)).await {
            Ok(()) => return,
            // `NotRunning`: the runners have not taken their locks yet.
            Err(WaitError::TimedOut { .. } | WaitError::NotRunning { .. })
                if tokio::time::Instant::now() < deadline => {}
            Err(error) => panic!("the runners did not pass {target:?}: {error}"),
        }
        for running in runners.iter_mut() {
            if running.task.is_finished() {
                let ended = (&mut running.task).await;
                panic!("a runner ended on its own before passing {target:?}: {ended:?}");
            }
        }
    }
}

fn names(projections: &[Arc<dyn Projection>]) -> Vec<&'static str> {
    projections.iter().map(|p| p.name()).collect()
}

async fn checkpoint_of(db: &Database, projection: &dyn Projection) -> Checkpoint {
    stored_checkpoint(db, projection.name())
        .await
        .expect("read the checkpoint")
        .expect("the projection has a checkpoint")
}

/// Asserts that two dumps hold the same rows, showing the differing rows if not.
fn assert_same(left: &Dump, right: &Dump, what: &str) {
    if let Some(difference) = left.difference(right) {
        panic!("{}: {what}:\n{difference}", left.projection);
    }
}

/// Rebuilds `projection` from zero and asserts that the rebuilt tables hold exactly `expected`.
async fn assert_rebuild_gives(db: &Database, projection: &dyn Projection, expected: &Dump) {
    if let Some(difference) = rebuild_differs(db, projection, expected).await {
        panic!("{difference}");
    }
}

/// The positions of every event in the log.
async fn all_positions(db: &Database) -> Vec<i64> {
    let mut after = Checkpoint::START;
    let mut positions = Vec::new();
    loop {
        let page = read_feed(db, after, 1000).await.expect("read the feed");
        let Some(last) = page.last() else {
            return positions;
        };
        after = last.checkpoint;
        positions.extend(page.iter().map(FeedEvent::position));
    }
}

on_both_backends! {
    async fn a_rebuild_gives_exactly_the_rows_that_incremental_processing_gave(test) {
        let commands = test.commands();
        let projections = replayable_projections();
        let mut history = History::start(&commands, 20_251_125).await;
        history.run_every_kind(&commands).await;
        for projection in &projections {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
        }
        // Writes and catch-ups interleave, in batches of 7: batches split the history at
        // arbitrary points, and each catch-up continues from the checkpoint the last one left.
        let mut applied = vec![0u64; projections.len()];
        for round in 0..5 {
            if round < 4 {
                history.run(&commands, 80).await;
            } else {
                // The last round only catches up, once the feed delivers everything written.
                settle_feed(&test.db).await;
            }
            for (projection, applied) in projections.iter().zip(&mut applied) {
                *applied += catch_up(&test.db, projection.as_ref(), 7)
                    .await
                    .expect("catch up");
            }
        }
        let outcomes = history.outcomes;
        assert!(
            outcomes.accepted >= 150 && outcomes.refused >= 30,
            "the history should mix valid and invalid commands: {outcomes:?}"
        );
        let events = test.event_count().await;
        for (projection, applied) in projections.iter().zip(applied) {
            let name = projection.name();
            assert_eq!(applied as i64, events, "{name}: every event applied exactly once");
            let incremental = dump(&test.db, projection.as_ref()).await;
            assert!(
                incremental.row_count() > 0,
                "the history gave {name} no rows; extend tests/src/history.rs"
            );
            assert_rebuild_gives(&test.db, projection.as_ref(), &incremental).await;
            // The swapped-in checkpoint is where incremental processing stood: nothing to redo.
            assert_eq!(
                catch_up(&test.db, projection.as_ref(), 7).await.expect("catch up"),
                0,
                "{name}: the rebuilt checkpoint is at the head of the feed"
            );
            let after = dump(&test.db, projection.as_ref()).await;
            assert_same(&incremental, &after, "a catch-up after the rebuild changed rows");
        }
        assert_eq!(leftover_rebuild_tables(&test.db).await, Vec::<String>::new());
    }

    async fn a_projection_that_fails_in_the_middle_of_a_batch_keeps_nothing_of_it_and_recovers_to_a_rebuild(test) {
        let commands = test.commands();
        let projections = replayable_projections();
        let mut history = History::start(&commands, 7).await;
        history.run(&commands, 60).await;
        let committed_at = settle_feed(&test.db).await;
        let mut committed = Vec::new();
        for projection in &projections {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
            catch_up(&test.db, projection.as_ref(), 500).await.expect("catch up");
            assert_eq!(checkpoint_of(&test.db, projection.as_ref()).await, committed_at);
            committed.push(dump(&test.db, projection.as_ref()).await);
        }

        // More commands: the next batch (one batch: the batch size exceeds them) fails in its
        // middle, after the events of every kind of command.
        // The next batch starts with every kind of command, so it has rows to write (and to
        // roll back) in every read model, then goes on at random.
        let before = test.event_count().await;
        history.run_every_kind(&commands).await;
        let varied = usize::try_from(test.event_count().await - before).expect("events");
        history.run(&commands, 60).await;
        let head = settle_feed(&test.db).await;
        let pending = usize::try_from(test.event_count().await - before).expect("events");
        assert!(pending >= 20, "only {pending} new events");
        let halfway = (pending / 2).max(varied + 1);
        let one_batch = quick(10_000);
        let wakeup = Wakeup::new();

        for (projection, committed) in projections.iter().zip(&committed) {
            let name = projection.name();

            // An error: the runner stops, the batch is rolled back, the status says why.
            let failing = Wrapped::failing(projection.clone(), Some((halfway, Fault::Error)));
            let (_stop, stop_rx) = watch::channel(false);
            let outcome = tokio::time::timeout(
                CATCH_UP_WITHIN,
                Runner::new(test.db.clone(), failing.clone(), wakeup.clone())
                    .with_settings(one_batch)
                    .run(stop_rx),
            )
            .await
            .expect("a failing runner stops by itself");
            let given = failing.given();
            assert_eq!(
                given.len(),
                halfway,
                "{name}: the runner stopped after {} events, with {outcome:?}",
                given.len()
            );
            let failed_at = given[halfway - 1];
            match outcome {
                Err(RunnerError::Projection(ProjectionError::Unappliable {
                    position, reason, ..
                })) => {
                    assert_eq!((position, reason.as_str()), (failed_at, INJECTED));
                }
                other => panic!("{name}: expected the injected error, got {other:?}"),
            }
            assert_eq!(checkpoint_of(&test.db, projection.as_ref()).await, committed_at);
            let after = dump(&test.db, projection.as_ref()).await;
            assert_same(committed, &after, "rows of the failed batch were kept (right)");
            match status(&test.db, projection.as_ref()).await.expect("status").state {
                State::Failed(error) => {
                    assert!(error.contains(INJECTED), "{name}: status error {error:?}");
                    assert!(
                        error.contains(&failed_at.to_string()),
                        "{name}: status error {error:?} names no position"
                    );
                }
                other => panic!("{name}: status shows {other:?} after a failure"),
            }

            // A panic: the runner stops with the panic as its error, the batch is rolled back
            // all the same, and the status says so.
            let panicking = Wrapped::failing(projection.clone(), Some((halfway, Fault::Panic)));
            let (_stop, stop_rx) = watch::channel(false);
            let joined = tokio::time::timeout(
                CATCH_UP_WITHIN,
                tokio::spawn(
                    Runner::new(test.db.clone(), panicking.clone(), wakeup.clone())
                        .with_settings(one_batch)
                        .run(stop_rx),
                ),
            )
            .await
            .expect("a panicking runner stops");
            assert!(
                matches!(&joined, Ok(Err(RunnerError::Panicked(why))) if why.contains(INJECTED)),
                "{name}: {joined:?}"
            );
            assert!(
                matches!(
                    status(&test.db, projection.as_ref()).await.expect("status").state,
                    State::Failed(ref error) if error.contains("panicked")
                ),
                "{name}: a panic must show as failed"
            );
            assert_eq!(checkpoint_of(&test.db, projection.as_ref()).await, committed_at);
            let after = dump(&test.db, projection.as_ref()).await;
            assert_same(committed, &after, "rows of the panicked batch were kept (right)");

            // Restarted with the real projection, it applies the batch and equals a rebuild.
            let mut running = [spawn_runner(&test.db, projection.clone(), &wakeup, quick(7))];
            wait_for_runners(&test.db, &[name], head, &mut running).await;
            let [running] = running;
            running.stop().await;
            let state = status(&test.db, projection.as_ref()).await.expect("status").state;
            assert!(!matches!(state, State::Failed(_)), "{name}: still {state:?} after recovering");
            let recovered = dump(&test.db, projection.as_ref()).await;
            assert_ne!(
                &recovered, committed,
                "{name}: the failed batch changed nothing, so this test proved nothing; \
                 extend tests/src/history.rs"
            );
            assert_rebuild_gives(&test.db, projection.as_ref(), &recovered).await;
        }
    }

    async fn a_group_runs_each_member_from_its_own_checkpoint_and_takes_out_only_a_failing_one(test) {
        a_group_takes_out_only_its_failing_member(&test, Fault::Error, INJECTED).await;
    }

    async fn a_write_that_fails_among_the_writes_of_a_page_is_blamed_on_its_member_alone(test) {
        a_group_takes_out_only_its_failing_member(&test, Fault::BrokenWrite, NO_SUCH_TABLE).await;
    }

    async fn a_member_that_cannot_be_prepared_stops_alone(test) {
        let commands = test.commands();
        let mut history = History::start(&commands, 5).await;
        history.run(&commands, 20).await;
        let head = settle_feed(&test.db).await;
        let projections = replayable_projections();
        let mut members: Vec<Arc<dyn Projection>> = vec![Arc::new(Unpreparable)];
        members.extend(projections.iter().cloned());
        let mut running = [Running::spawn(
            Runner::group(test.db.clone(), members, Wakeup::new()).with_settings(quick(50)),
        )];
        wait_for_runners(&test.db, &names(&projections), head, &mut running).await;
        let [running] = running;
        running.stop().await;
    }

    async fn a_runner_aborted_in_the_middle_of_a_batch_keeps_nothing_of_it_and_a_restart_equals_a_rebuild(test) {
        let commands = test.commands();
        let projections = replayable_projections();
        let mut history = History::start(&commands, 11).await;
        history.run(&commands, 60).await;
        let committed_at = settle_feed(&test.db).await;
        let mut committed = Vec::new();
        for projection in &projections {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
            catch_up(&test.db, projection.as_ref(), 500).await.expect("catch up");
            committed.push(dump(&test.db, projection.as_ref()).await);
        }
        // The next batch starts with every kind of command, so it has rows to write (and to
        // roll back) in every read model, then goes on at random.
        let before = test.event_count().await;
        history.run_every_kind(&commands).await;
        let varied = usize::try_from(test.event_count().await - before).expect("events");
        history.run(&commands, 60).await;
        let head = settle_feed(&test.db).await;
        let pending = usize::try_from(test.event_count().await - before).expect("events");
        let wakeup = Wakeup::new();

        for (projection, committed) in projections.iter().zip(&committed) {
            let name = projection.name();
            // The runner stalls in the middle of its batch, rows already written in its
            // transaction; there its task is aborted (its connections dropped mid-transaction).
            let middle = (pending / 2).max(varied + 1);
            let stalling = Wrapped::failing(projection.clone(), Some((middle, Fault::Stall)));
            let mut running = spawn_runner(&test.db, stalling.clone(), &wakeup, quick(10_000));
            tokio::select! {
                _ = stalling.reached.notified() => {}
                ended = &mut running.task => {
                    panic!("{name}: the runner ended before the middle of its batch: {ended:?}")
                }
                _ = tokio::time::sleep(CATCH_UP_WITHIN) => {
                    panic!("{name}: the runner never reached the middle of its batch")
                }
            }
            running.task.abort();
            let aborted = running.task.await;
            assert!(aborted.as_ref().is_err_and(|e| e.is_cancelled()), "{name}: {aborted:?}");
            assert_eq!(checkpoint_of(&test.db, projection.as_ref()).await, committed_at);
            let after = dump(&test.db, projection.as_ref()).await;
            assert_same(committed, &after, "rows of the aborted batch were kept (right)");

            let mut running = [spawn_runner(&test.db, projection.clone(), &wakeup, quick(7))];
            wait_for_runners(&test.db, &[name], head, &mut running).await;
            let [running] = running;
            running.stop().await;
            let recovered = dump(&test.db, projection.as_ref()).await;
            assert_ne!(&recovered, committed, "{name}: the aborted batch changed nothing");
            assert_rebuild_gives(&test.db, projection.as_ref(), &recovered).await;
        }
    }

    async fn a_projection_that_already_has_a_checkpoint_can_be_prepared_again_as_every_restart_does(test) {
        let commands = test.commands();
        let mut history = History::start(&commands, 5).await;
        let projections = replayable_projections();
        for projection in &projections {
            prepare(&test.db, projection.as_ref()).await.expect("prepare a new projection");
            catch_up(&test.db, projection.as_ref(), 50).await.expect("catch up");
        }
        history.run(&commands, 20).await;
        let head = settle_feed(&test.db).await;
        for projection in &projections {
            let name = projection.name();
            // What `Runner::run` does first, on every start after the first one.
            prepare(&test.db, projection.as_ref())
                .await
                .unwrap_or_else(|error| panic!("{name}: preparing it again failed: {error:?}"));
            catch_up(&test.db, projection.as_ref(), 50).await.expect("catch up");
            assert_eq!(checkpoint_of(&test.db, projection.as_ref()).await, head, "{name}");
        }
    }

    async fn a_reader_that_waits_for_its_write_sees_it_and_without_a_runner_the_wait_ends_at_its_bound(test) {
        let (wakeup, commands, world) = signalled_world(&test).await;
        let projections = replayable_projections();
        let names = names(&projections);
        let progress = Progress::new();
        let group = Runner::group(test.db.clone(), projections.clone(), wakeup.clone())
            .with_progress(progress.clone());
        let mut runners = vec![Running::spawn(group)];

        let product = world.products[0].to_string();
        reprice(&commands, &world, &product, "77.70").await;
        let target = head_of_stream(&test.db, "Product", &product)
            .await
            .expect("read the head of the stream")
            .expect("the product has events");
        // Answered by the runner's reports of its commits.
        wait_for_progress(&test.db, &names, target, CATCH_UP_WITHIN, &progress)
            .await
            .expect("the runner reports the write");
        assert_eq!(price_in_read_model(&test.db, &product).await, 7770);
        reprice(&commands, &world, &product, "88.80").await;
        let target = head_of_stream(&test.db, "Product", &product)
            .await
            .expect("read the head of the stream")
            .expect("the product has events");
        // Answered by the checkpoints in the database, as for projections run elsewhere.
        wait_for_runners(&test.db, &names, target, &mut runners).await;
        assert_eq!(price_in_read_model(&test.db, &product).await, 8880);

        for running in runners {
            running.stop().await;
        }
        reprice(&commands, &world, &product, "66.60").await;
        let target = head_of_stream(&test.db, "Product", &product)
            .await
            .expect("read the head of the stream")
            .expect("the product has events");
        let bound = Duration::from_millis(300);
        let waited = wait_for_progress(&test.db, &names, target, bound, &progress).await;
        assert!(
            matches!(waited, Err(WaitError::TimedOut { .. } | WaitError::NotRunning { .. })),
            "a stopped runner's last report answered a later write: {waited:?}"
        );
        let waited = tokio::time::timeout(
            Duration::from_secs(30),
            wait_for(&test.db, &names, target, bound),
        )
        .await
        .expect("wait_for returns at its bound instead of hanging");
        // On Postgres nobody holds the projections' locks: the wait gives up without running
        // out its bound. SQLite has no lock to ask.
        match (test.backend, waited) {
            (Backend::Postgres, Err(WaitError::NotRunning { projection })) => {
                assert!(names.contains(&projection.as_str()), "{projection}");
            }
            (Backend::Sqlite, Err(WaitError::TimedOut { projection, waited })) => {
                assert!(names.contains(&projection.as_str()), "{projection}");
                assert!(waited >= bound, "gave up after {waited:?}, before its bound");
            }
            (backend, other) => panic!("unexpected end of a wait without a runner on {backend:?}: {other:?}"),
        }
        assert_eq!(
            price_in_read_model(&test.db, &product).await,
            8880,
            "nothing applied the last write"
        );
    }

    async fn a_commands_receipt_is_answered_by_the_runners_reports_without_a_query(test) {
        let (wakeup, commands, world) = signalled_world(&test).await;
        let projections = replayable_projections();
        let names = names(&projections);
        let product = world.products[0].to_string();
        // A pool of the reader's own that is closed: any query the wait made would fail.
        let closed = Database::connect(&DatabaseSettings {
            url: Some(test.url.clone()),
            ..DatabaseSettings::default()
        })
        .await
        .expect("open a second pool");
        closed.close().await;

        // The receipt names the stream and the sequence the command left it at.
        let ctx = world.admin_ctx();
        reprice_as(&commands, &ctx, &product, "77.70").await;
        let write = ctx.written.head("Product", &product).expect("a receipt");
        let stream = test.stream("Product", &product).await;
        assert_eq!(write.sequence, stream.len() as i64, "{stream:?}");
        assert_eq!(write.aggregate_id, product);

        // No runner in this process: the wait reads the log, and ends at its bound.
        let progress = Progress::new();
        let bound = Duration::from_millis(300);
        let waited = wait_for_write(&test.db, &names, &write, bound, &progress).await;
        assert!(
            matches!(waited, Err(WaitError::TimedOut { .. } | WaitError::NotRunning { .. })),
            "nothing runs the projections, yet the wait ended with {waited:?}"
        );
        let waited = wait_for_write(&closed, &names, &write, bound, &progress).await;
        assert!(
            matches!(waited, Err(WaitError::Database(_))),
            "without a runner the wait must read the log: {waited:?}"
        );

        // A runner of this process reports the write; the wait needs nothing else.
        let group = Runner::group(test.db.clone(), projections.clone(), wakeup.clone())
            .with_progress(progress.clone());
        let mut runners = vec![Running::spawn(group)];
        wait_for_write(&test.db, &names, &write, CATCH_UP_WITHIN, &progress)
            .await
            .expect("the runner reports the write");
        assert_eq!(price_in_read_model(&test.db, &product).await, 7770);
        wait_for_write(&closed, &names, &write, bound, &progress)
            .await
            .expect("answered from the runner's reports alone");

        // A later write by someone else: the receipt of the earlier one is still answered, and
        // the new one only once it is applied.
        let later = world.admin_ctx();
        reprice_as(&commands, &later, &product, "88.80").await;
        let next = later.written.head("Product", &product).expect("a receipt");
        assert_eq!(next.sequence, write.sequence + 1);
        let target = head_of_stream(&test.db, "Product", &product)
            .await
            .expect("read the head of the stream")
            .expect("the product has events");
        wait_for_runners(&test.db, &names, target, &mut runners).await;
        for receipt in [&write, &next] {
            wait_for_write(&closed, &names, receipt, bound, &progress)
                .await
                .unwrap_or_else(|error| panic!("{receipt:?}: {error}"));
        }
        assert_eq!(price_in_read_model(&test.db, &product).await, 8880);

        // A receipt of nothing appended asks nothing.
        let nothing = StreamHead {
            sequence: 0,
            ..write.clone()
        };
        wait_for_write(&closed, &names, &nothing, bound, &Progress::new())
            .await
            .expect("nothing to wait for");
        for running in runners {
            running.stop().await;
        }
    }
}

/// Commands that wake the returned `Wakeup` at each commit, and a world built with them.
async fn signalled_world(test: &TestDb) -> (Wakeup, Commands, World) {
    let wakeup = Wakeup::new();
    let signal = wakeup.clone();
    let commands = test
        .commands()
        .with_commit_signal(Arc::new(move || signal.wake()));
    let world = World::build(&commands, 3).await;
    (wakeup, commands, world)
}

async fn reprice(commands: &Commands, world: &World, product: &str, amount: &str) {
    reprice_as(commands, &world.admin_ctx(), product, amount).await;
}

async fn reprice_as(commands: &Commands, ctx: &RequestContext, product: &str, amount: &str) {
    commands
        .reprice_product(
            ctx,
            RepriceProductInput {
                product_id: product.to_owned(),
                price: MoneyInput::cny(amount),
            },
        )
        .await
        .expect("reprice");
}

/// The price the catalog read model shows for `product`, in minor units.
async fn price_in_read_model(db: &Database, product: &str) -> i64 {
    let sql = "SELECT price_minor FROM rm_products WHERE product_id = $1";
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(product).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(product).fetch_one(pool).await,
    }
    .expect("read rm_products")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_of_one_projection_apply_each_event_once_and_the_standby_takes_over_from_the_checkpoint(
) {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let commands = test.commands();
    let projections = replayable_projections();
    let names = names(&projections);
    let wakeup = Wakeup::new();
    let mut history = History::start(&commands, 3).await;
    history.run(&commands, 40).await;
    let head = settle_feed(&test.db).await;

    // The first runner of each projection starts alone, takes the lock and catches up.
    let first: Vec<Arc<Wrapped>> = projections
        .iter()
        .map(|p| Wrapped::new(p.clone()))
        .collect();
    let mut first_runners: Vec<Running> = first
        .iter()
        .map(|counting| spawn_runner(&test.db, counting.clone(), &wakeup, quick(7)))
        .collect();
    wait_for_runners(&test.db, &names, head, &mut first_runners).await;

    // A second runner of each projection starts: it stands by while the first keeps applying.
    let second: Vec<Arc<Wrapped>> = projections
        .iter()
        .map(|p| Wrapped::new(p.clone()))
        .collect();
    let mut second_runners: Vec<Running> = second
        .iter()
        .map(|counting| spawn_runner(&test.db, counting.clone(), &wakeup, quick(7)))
        .collect();
    history.run(&commands, 40).await;
    let head = settle_feed(&test.db).await;
    wait_for_runners(&test.db, &names, head, &mut first_runners).await;
    for ((projection, first), second) in projections.iter().zip(&first).zip(&second) {
        let name = projection.name();
        assert_eq!(
            second.given(),
            Vec::<i64>::new(),
            "{name}: the standby applied events"
        );
        assert_eq!(
            first.given().last(),
            Some(&head.position),
            "{name}: the first runner applied the new events"
        );
        let state = status(&test.db, projection.as_ref())
            .await
            .expect("status")
            .state;
        assert_eq!(state, State::Running, "{name}");
    }

    // The first runners die (their tasks aborted between batches: their lock connections close).
    for running in first_runners {
        running.task.abort();
        let aborted = running.task.await;
        assert!(
            aborted.as_ref().is_err_and(|e| e.is_cancelled()),
            "{aborted:?}"
        );
    }
    let applied_by_first: Vec<Vec<i64>> = first.iter().map(|c| c.given()).collect();

    // New events: the standbys take over from the checkpoint and apply them.
    history.run(&commands, 40).await;
    let head = settle_feed(&test.db).await;
    wait_for_runners(&test.db, &names, head, &mut second_runners).await;
    for running in second_runners {
        running.stop().await;
    }
    // A closed lock connection's backend ends a moment later: allow it a bounded while.
    for projection in &projections {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let state = loop {
            let state = status(&test.db, projection.as_ref())
                .await
                .expect("status")
                .state;
            if state == State::Idle || tokio::time::Instant::now() > deadline {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(
            state,
            State::Idle,
            "{}: nobody runs it now",
            projection.name()
        );
    }
    let every_event = {
        let mut positions = all_positions(&test.db).await;
        positions.sort_unstable();
        positions
    };
    for (((projection, first), before_death), second) in projections
        .iter()
        .zip(&first)
        .zip(&applied_by_first)
        .zip(&second)
    {
        let name = projection.name();
        assert_eq!(
            &first.given(),
            before_death,
            "{name}: the dead runner applied nothing more"
        );
        let by_second = second.given();
        assert!(!by_second.is_empty(), "{name}: the standby never took over");
        let mut together = before_death.clone();
        together.extend(&by_second);
        together.sort_unstable();
        assert_eq!(
            together, every_event,
            "{name}: together the two runners applied every event exactly once"
        );
        let live = dump(&test.db, projection.as_ref()).await;
        assert_rebuild_gives(&test.db, projection.as_ref(), &live).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_runner_woken_by_postgres_notify_catches_up_long_before_its_poll_interval() {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    // No in-process commit signal: the only wake-up this runner can get is the NOTIFY that the
    // command layer sends after each commit, as a runner in another process would.
    let commands = test.commands();
    let world = World::build(&commands, 3).await;
    let projections = replayable_projections();
    let names = names(&projections);
    let head = settle_feed(&test.db).await;

    let wakeup = Wakeup::new();
    let listener = wakeup.listen(&test.db).expect("a listener on Postgres");
    let poll_interval = Duration::from_secs(600);
    let settings = RunnerSettings {
        poll_interval,
        ..RunnerSettings::default()
    };
    let mut runners: Vec<Running> = projections
        .iter()
        .map(|p| spawn_runner(&test.db, p.clone(), &wakeup, settings))
        .collect();
    // The first catch-up needs no wake-up: a runner reads the feed as it starts.
    wait_for_runners(&test.db, &names, head, &mut runners).await;
    wait_until_listening(&test.db).await;

    // A wake-up whose events the feed still withholds (an older transaction elsewhere in the
    // shared cluster is running) finds nothing, and the runner sleeps again; the next commit's
    // NOTIFY wakes it anew. So a few commits are allowed, each with a bound far below the poll
    // interval: any success proves the wake-up came through NOTIFY.
    let product = world.products[0].to_string();
    let bound = Duration::from_secs(10);
    let mut caught_up = false;
    for (attempt, amount) in ["55.50", "56.60", "57.70"].into_iter().enumerate() {
        reprice(&commands, &world, &product, amount).await;
        let target = head_of_stream(&test.db, "Product", &product)
            .await
            .expect("read the head of the stream")
            .expect("the product has events");
        match wait_for(&test.db, &names, target, bound).await {
            Ok(()) => {
                caught_up = true;
                break;
            }
            Err(WaitError::TimedOut { projection, .. } | WaitError::NotRunning { projection }) => {
                eprintln!("attempt {attempt}: {projection} not woken within {bound:?}; retrying")
            }
            Err(other) => panic!("wait_for failed: {other}"),
        }
    }
    assert!(
        caught_up,
        "no NOTIFY woke the runners within {bound:?} (poll interval {poll_interval:?})"
    );
    for running in runners {
        running.stop().await;
    }
    listener.abort();
}

/// Waits until this database has a session listening on the commit channel, so that the next
/// NOTIFY is not sent before anyone listens.
async fn wait_until_listening(db: &Database) {
    let Database::Postgres(pool) = db else {
        panic!("LISTEN exists on Postgres only");
    };
    let deadline = tokio::time::Instant::now() + CATCH_UP_WITHIN;
    loop {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity
              WHERE datname = current_database() AND query ILIKE 'LISTEN%dinghuo_events%'",
        )
        .fetch_one(pool)
        .await
        .expect("read pg_stat_activity");
        if listening > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listener never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A group whose second member fails with `fault` on its fifth event: that member is taken out
/// with an error containing `error` and stays behind; the first (ahead when the group starts)
/// is given only events after its checkpoint; the others catch up and equal a rebuild.
async fn a_group_takes_out_only_its_failing_member(test: &TestDb, fault: Fault, error: &str) {
    let commands = test.commands();
    let projections = replayable_projections();
    let mut history = History::start(&commands, 11).await;
    history.run(&commands, 40).await;
    settle_feed(&test.db).await;

    // The first member is caught up alone; the others join the group from zero.
    let (first, rest) = projections.split_first().expect("projections");
    let (failing, healthy) = rest.split_first().expect("at least three projections");
    prepare(&test.db, first.as_ref()).await.expect("prepare");
    catch_up(&test.db, first.as_ref(), 500)
        .await
        .expect("catch up");
    let ahead = checkpoint_of(&test.db, first.as_ref()).await;
    history.run_every_kind(&commands).await;
    history.run(&commands, 40).await;
    let head = settle_feed(&test.db).await;

    let first = Wrapped::new(first.clone());
    let failing = Wrapped::failing(failing.clone(), Some((5, fault)));
    let mut members: Vec<Arc<dyn Projection>> = vec![first.clone(), failing.clone()];
    members.extend(healthy.iter().cloned());
    let mut running = [Running::spawn(
        Runner::group(test.db.clone(), members, Wakeup::new()).with_settings(quick(7)),
    )];
    let mut caught_up = vec![first.name()];
    caught_up.extend(names(healthy));
    wait_for_runners(&test.db, &caught_up, head, &mut running).await;
    let [running] = running;
    running.stop().await;

    assert!(
        first
            .given()
            .iter()
            .all(|position| *position > ahead.position),
        "{}: given events it had already applied",
        first.name()
    );
    match status(&test.db, failing.as_ref())
        .await
        .expect("status")
        .state
    {
        State::Failed(status) => assert!(status.contains(error), "status error {status:?}"),
        other => panic!("{}: status shows {other:?} after a failure", failing.name()),
    }
    assert!(
        checkpoint_of(&test.db, failing.as_ref()).await < head,
        "the failed member went on"
    );
    for projection in std::iter::once(&first.inner).chain(healthy) {
        let incremental = dump(&test.db, projection.as_ref()).await;
        assert_rebuild_gives(&test.db, projection.as_ref(), &incremental).await;
    }
}
