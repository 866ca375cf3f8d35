//! Rebuilding projections from position zero into fresh tables while the live ones keep
//! serving, then swapping them in with their checkpoints, in one transaction.
//!
//! Several projections rebuild in one pass over the feed: each page is read and decoded once,
//! while the next pages are already being read, and every projection applies it to its
//! `__next` tables on a connection of its own. The fresh tables get their secondary indexes
//! once they are full, several built at once.
//!
//! The swap locks the live checkpoint rows first, so a live runner in the middle of a batch
//! finishes it, and its next batch starts from the rebuilt checkpoint on the rebuilt tables.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dinghuo_store::feed::{head_position, read_feed, Checkpoint, FeedEvent};
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};
use dinghuo_store::Database;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, Mutex, MutexGuard};
use tokio::task::JoinHandle;

use crate::checkpoint::try_lock_rebuild;
use crate::checkpoint::{self, rebuild_key};
use crate::error::{guard_panics, RunnerError};
use crate::leftovers;
use crate::projection::{
    new_generation, Projection, ProjectionError, RebuildFold, TableNames, Writes,
};
use crate::settings::RunnerSettings;

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    pub applied: u64,
    pub position: i64,
    pub events_per_second: f64,
}

/// Pages read ahead of the one being applied: reading the next page overlaps applying this one.
const PAGES_AHEAD: usize = 1;

/// Rebuilds `projections` together; answers the number of events replayed. Fails at once with
/// [`RunnerError::RebuildRunning`] while another rebuild of one of them runs (on SQLite: while
/// any rebuild runs). A rebuild that fails removes its `__next` tables and checkpoints when it
/// still can; what a crash leaves is removed at the next start or rebuild (`leftovers`).
pub async fn rebuild(
    db: &Database,
    projections: &[&dyn Projection],
    settings: RunnerSettings,
    mut on_progress: impl FnMut(RebuildProgress),
) -> Result<u64, RunnerError> {
    if let Some(reactor) = projections.iter().find(|p| !p.replayable()) {
        return Err(RunnerError::NotReplayable(reactor.name().to_owned()));
    }
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    let Some(lock) = try_lock_rebuild(db, &names).await? else {
        return Err(RunnerError::RebuildRunning(names.join(", ")));
    };
    let next = TableNames::next(&new_generation());
    create_next_tables(db, projections, &next).await?;

    let started = Instant::now();
    let rebuilt = async {
        let pages = read_ahead(db.clone(), settings.rebuild_batch_size);
        let applied = replay(db, projections, &next, pages, &mut on_progress).await?;
        let replayed = started.elapsed();
        complete(db, projections, &next).await?;
        Ok::<_, RunnerError>((applied, replayed, started.elapsed()))
    }
    .await;
    let (applied, replayed, completed) = match rebuilt {
        Ok(done) => done,
        Err(error) => {
            if let Err(cleanup) = leftovers::remove(db, projections, &lock).await {
                tracing::warn!(%cleanup, "cannot remove the failed rebuild's tables yet");
            }
            return Err(error);
        }
    };
    swap(db, projections, &next).await?;
    drop(lock);
    // Where a rebuild's time went, for operators sizing one and for the benchmark.
    tracing::info!(
        projections = names.join(","),
        applied,
        replay_s = replayed.as_secs_f64(),
        completion_s = (completed - replayed).as_secs_f64(),
        swap_s = (started.elapsed() - completed).as_secs_f64(),
        "rebuilt and swapped in"
    );
    Ok(applied)
}

/// Fresh, empty `__next` tables (without secondary indexes) and rebuild checkpoints at zero.
async fn create_next_tables(
    db: &Database,
    projections: &[&dyn Projection],
    next: &TableNames,
) -> Result<(), RunnerError> {
    let mut tx = Tx::begin(db).await?;
    for projection in projections {
        for table in projection.tables() {
            tx.execute(&format!("DROP TABLE IF EXISTS {}", next.table(table)), &[])
                .await?;
        }
        for statement in projection.schema(Dialect::of(db), next) {
            tx.execute(&statement, &[]).await?;
        }
        checkpoint::reset(
            &mut tx,
            &rebuild_key(projection.name()),
            projection.schema_version(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reads the feed from the start in a task of its own, a few pages ahead of the replay. It
/// reads at least as far as the head of the log when it started, then chases what was written
/// meanwhile for as long as that distance shrinks: a log written faster than the rebuild
/// replays it would otherwise keep it from ever ending. The live runner applies the rest after
/// the swap, from the rebuilt checkpoint. The channel closes after the last page.
fn read_ahead(
    db: Database,
    page_size: u32,
) -> mpsc::Receiver<Result<Arc<[FeedEvent]>, RunnerError>> {
    let (sender, receiver) = mpsc::channel(PAGES_AHEAD);
    tokio::spawn(async move {
        if let Err(error) = read_pages(&db, page_size, &sender).await {
            // The rebuild stops with this error; nobody else is listening.
            let _ = sender.send(Err(error)).await;
        }
    });
    receiver
}

async fn read_pages(
    db: &Database,
    page_size: u32,
    sender: &mpsc::Sender<Result<Arc<[FeedEvent]>, RunnerError>>,
) -> Result<(), RunnerError> {
    let mut target = head_position(db).await?;
    let mut behind_before = i64::MAX;
    let mut after = Checkpoint::START;
    loop {
        let page = read_feed(db, after, page_size).await?;
        let Some(last) = page.last() else {
            return Ok(()); // Everything safe to read now is read.
        };
        after = last.checkpoint;
        let reached = last.position();
        if sender.send(Ok(page.into())).await.is_err() {
            return Ok(()); // The rebuild stopped.
        }
        if reached >= target {
            let head = head_position(db).await?;
            let behind = head - reached;
            if behind <= 0 || behind >= behind_before {
                return Ok(());
            }
            behind_before = behind;
            target = head;
        }
    }
}

/// Replays the pages into every projection, one page at a time: every projection applies page
/// N before any sees page N + 1. Each applies it on a connection and in transactions of its
/// own, so one projection's statements run on the server while another folds; a fold's writes
/// run in a task of their own while the next page is folded, and the reader decodes the next
/// page meanwhile. So at most three pages are decoded at once (the one applied, the one read
/// ahead, the one being read) however long the log: a rebuild's memory stays flat.
async fn replay(
    db: &Database,
    projections: &[&dyn Projection],
    next: &TableNames,
    mut pages: mpsc::Receiver<Result<Arc<[FeedEvent]>, RunnerError>>,
    on_progress: &mut impl FnMut(RebuildProgress),
) -> Result<u64, RunnerError> {
    let started = Instant::now();
    let turns = WriteTurns::for_database(db);
    let mut workers: Vec<Worker<'_>> = projections
        .iter()
        .map(|projection| Worker::start(db, next, *projection, turns.clone()))
        .collect();
    let mut read = 0u64;
    while let Some(page) = pages.recv().await {
        let page = match page {
            Ok(page) => page,
            Err(error) => return Err(abandon(workers, error).await),
        };
        let Some(last) = page.last() else { continue };
        read += page.len() as u64;
        // Every worker ends its statement even when another fails: a Postgres connection
        // dropped in the middle of a query goes back to the pool out of step with its server.
        let applied =
            futures::future::join_all(workers.iter_mut().map(|worker| worker.apply(&page))).await;
        if let Some(error) = applied.into_iter().find_map(Result::err) {
            return Err(abandon(workers, error).await);
        }
        let applied = workers
            .iter()
            .map(|worker| worker.target.done.load(Ordering::Relaxed))
            .min()
            .unwrap_or(read);
        on_progress(RebuildProgress {
            applied,
            position: last.position(),
            events_per_second: applied as f64 / started.elapsed().as_secs_f64().max(1e-9),
        });
    }
    let finished = futures::future::join_all(workers.into_iter().map(Worker::finish)).await;
    finished.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(read)
}

/// Stops the workers after `error`, letting each writer end the transaction it is in, and
/// answers `error`.
async fn abandon(workers: Vec<Worker<'_>>, error: RunnerError) -> RunnerError {
    futures::future::join_all(workers.into_iter().map(Worker::abandon)).await;
    error
}

/// How a projection applies the pages of a rebuild.
enum Applier<'a> {
    /// Each page with `Projection::apply_batch`, in one transaction with the rebuild checkpoint.
    Batch(&'a dyn Projection),
    /// Each page into a fold kept for the whole rebuild, flushed after the last page. A writer
    /// task writes what the fold gives, in fold order, each page's writes with the rebuild
    /// checkpoint in one transaction, while the fold goes on with the next page.
    Fold {
        fold: Box<dyn RebuildFold>,
        to_writer: mpsc::Sender<PageWrites>,
        writer: WriterTask,
    },
}

/// One projection's side of [`replay`].
struct Worker<'a> {
    applier: Applier<'a>,
    target: Target,
}

/// Where a worker's transactions write: the tables and the rebuild checkpoint, and how many
/// events they have committed.
#[derive(Clone)]
struct Target {
    db: Database,
    next: TableNames,
    /// The rebuild checkpoint.
    key: String,
    /// Events committed so far, for the progress report.
    done: Arc<AtomicU64>,
    turns: WriteTurns,
}

/// On SQLite, the rebuild leaves the write lock free for [`SQLITE_GAP`] after a transaction
/// once it has written for [`SQLITE_GAP_EVERY`] since its last gap: a server's writer waits at
/// most about that long plus one transaction, and the rebuild loses at most 8 % of its writing
/// time (a gap after every transaction cost 13 % of a million-event rebuild).
const SQLITE_GAP: Duration = Duration::from_millis(4);
const SQLITE_GAP_EVERY: Duration = Duration::from_millis(50);

/// SQLite has one writer: the rebuild's workers take turns at it in this process, first come
/// first served, instead of each polling SQLite's lock from its busy handler, where one worker
/// can wait past its timeout while the others keep taking the lock in turn (`database is
/// locked`). Postgres writes the workers' tables at once.
#[derive(Clone)]
struct WriteTurns(Option<Arc<SqliteTurns>>);

struct SqliteTurns {
    turn: Mutex<()>,
    /// When the last gap ended; read and written only by the worker whose turn it is.
    last_gap: std::sync::Mutex<Instant>,
}

impl WriteTurns {
    fn for_database(db: &Database) -> Self {
        Self(Dialect::of(db).single_writer().then(|| {
            Arc::new(SqliteTurns {
                turn: Mutex::new(()),
                last_gap: std::sync::Mutex::new(Instant::now()),
            })
        }))
    }

    /// After a transaction, while the turn is still held: now and then SQLite's write lock
    /// stays free for a moment, for the server's writers, which try again every 1 to 3 ms
    /// (`dinghuo_store::sqlite_busy`). Without it the next turn would take the lock again
    /// within microseconds, and a waiter would seldom see it free.
    async fn leave_a_gap(&self) {
        let Some(turns) = &self.0 else { return };
        let last_gap = || {
            turns
                .last_gap
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if last_gap().elapsed() < SQLITE_GAP_EVERY {
            return;
        }
        tokio::time::sleep(SQLITE_GAP).await;
        *last_gap() = Instant::now();
    }

    /// Waits for this worker's turn, which lasts until the guard is dropped.
    async fn take(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.0 {
            Some(turns) => Some(turns.turn.lock().await),
            None => None,
        }
    }
}

/// A page's writes, handed from a fold to its writer.
struct PageWrites {
    writes: Box<dyn Writes>,
    /// The page's last event, or `None` for the writes of the final flush.
    last: Option<(Checkpoint, DateTime<Utc>)>,
    events: u64,
}

impl<'a> Worker<'a> {
    fn start(
        db: &Database,
        next: &TableNames,
        projection: &'a dyn Projection,
        turns: WriteTurns,
    ) -> Self {
        let target = Target {
            db: db.clone(),
            next: next.clone(),
            key: rebuild_key(projection.name()),
            done: Arc::default(),
            turns,
        };
        let applier = match projection.rebuild_fold() {
            None => Applier::Batch(projection),
            Some(fold) => {
                // One page of writes waits while another is written: the fold runs at most one
                // page ahead of the server.
                let (to_writer, pending) = mpsc::channel(1);
                let writer = WriterTask(Some(tokio::spawn(write_pages(target.clone(), pending))));
                Applier::Fold {
                    fold,
                    to_writer,
                    writer,
                }
            }
        };
        Self { applier, target }
    }

    /// Applies one page (or, for a fold, folds it and hands its writes to the writer).
    async fn apply(&mut self, events: &[FeedEvent]) -> Result<(), RunnerError> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let last = Some((last.checkpoint, last.recorded_at));
        match &mut self.applier {
            Applier::Batch(projection) => {
                let _turn = self.target.turns.take().await;
                let mut tx = lazy_tx(&self.target.db).await?;
                guard_panics(projection.apply_batch(&mut tx, &self.target.next, events)).await?;
                self.target.commit(tx, last, events.len() as u64).await
            }
            Applier::Fold {
                fold,
                to_writer,
                writer,
            } => {
                let writes = guard_panics(async { fold.fold_page(events) }).await?;
                let page = PageWrites {
                    writes,
                    last,
                    events: events.len() as u64,
                };
                if to_writer.send(page).await.is_err() {
                    // The writer stops early only when it fails: its error says why.
                    std::mem::replace(writer, WriterTask(None)).join().await?;
                    return Err(RunnerError::Panicked("the rebuild's writer stopped".into()));
                }
                Ok(())
            }
        }
    }

    /// After a failure elsewhere: the writer ends its transaction and stops.
    async fn abandon(self) {
        if let Applier::Fold {
            to_writer, writer, ..
        } = self.applier
        {
            drop(to_writer);
            let _ = writer.join().await;
        }
    }

    /// After the last page: a fold's flush, and every write done.
    async fn finish(self) -> Result<(), RunnerError> {
        let Applier::Fold {
            mut fold,
            to_writer,
            writer,
        } = self.applier
        else {
            return Ok(());
        };
        let flushed = async {
            let writes = guard_panics(async { Ok::<_, ProjectionError>(fold.flush()) }).await?;
            let last = PageWrites {
                writes,
                last: None,
                events: 0,
            };
            // A closed channel means the writer failed: joining it says why.
            let _ = to_writer.send(last).await;
            Ok::<(), RunnerError>(())
        }
        .await;
        drop(to_writer);
        writer.join().await.and(flushed)
    }
}

/// A fold's writer task. Dropped before it is joined (the rebuild failed elsewhere), it stops
/// instead of writing on into tables that are about to be dropped.
struct WriterTask(Option<JoinHandle<Result<(), RunnerError>>>);

impl WriterTask {
    async fn join(mut self) -> Result<(), RunnerError> {
        match self.0.take() {
            Some(task) => task
                .await
                .map_err(|error| RunnerError::Panicked(error.to_string()))?,
            None => Ok(()),
        }
    }
}

impl Drop for WriterTask {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// A fold's writer: each page's writes and the rebuild checkpoint in one transaction, in order.
async fn write_pages(
    target: Target,
    mut pending: mpsc::Receiver<PageWrites>,
) -> Result<(), RunnerError> {
    while let Some(page) = pending.recv().await {
        let _turn = target.turns.take().await;
        let began = Instant::now();
        let mut tx = lazy_tx(&target.db).await?;
        guard_panics(page.writes.write(&mut tx, &target.next)).await?;
        target.commit(tx, page.last, page.events).await?;
        tracing::debug!(
            checkpoint = target.key,
            seconds = began.elapsed().as_secs_f64(),
            "rebuild write transaction"
        );
    }
    Ok(())
}

impl Target {
    /// Commits a rebuild transaction that applied `events` events, first advancing the rebuild
    /// checkpoint past `last`.
    async fn commit(
        &self,
        mut tx: Tx,
        last: Option<(Checkpoint, DateTime<Utc>)>,
        events: u64,
    ) -> Result<(), RunnerError> {
        if let Some((checkpoint, at)) = last {
            checkpoint::advance(&mut tx, &self.key, checkpoint, at).await?;
        }
        tx.commit().await?;
        self.done.fetch_add(events, Ordering::Relaxed);
        self.turns.leave_a_gap().await;
        Ok(())
    }
}

/// Statements of [`complete`] that run at once on Postgres: the longest (a bulk aggregate)
/// beside one index build at a time, and Postgres adds parallel workers to index builds. Three
/// at once left the aggregate, which the swap waits for, a smaller share of a small server's
/// cores (measured on 2 cores, a million events: rebuild at 50 % of the raw stream with 3,
/// 55 % with 2).
const COMPLETION_PARALLELISM: usize = 2;

/// Memory for a rebuild's set-based statements: an aggregate over every order line hashes in
/// memory instead of sorting on disk, and index builds sort in memory (measured: deriving
/// `sales_daily` from 258,000 lines took 2.9 s with Postgres's default 4 MB, 1.8 s with this).
const COMPLETION_SETTINGS: &[&str] = &[
    "SET LOCAL work_mem = '128MB'",
    "SET LOCAL maintenance_work_mem = '256MB'",
];

/// One statement-sized piece of the work left once every page is applied.
enum Completion<'a> {
    Finish(&'a dyn Projection),
    Index(String),
}

impl fmt::Display for Completion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finish(projection) => write!(f, "finish {}", projection.name()),
            Self::Index(statement) => f.write_str(statement),
        }
    }
}

/// Completes the full `__next` tables: every projection's `finish_rebuild` and every secondary
/// index, each in a transaction of its own, several at once on Postgres. They write different
/// tables or only read shared ones; where two touch one table (an index of a table that
/// `finish_rebuild` fills), the table's lock orders them, and either order gives the same
/// table. A failure stops the rebuild before the swap. SQLite has one writer: one at a time.
async fn complete(
    db: &Database,
    projections: &[&dyn Projection],
    next: &TableNames,
) -> Result<(), RunnerError> {
    // The finishing statements first: they are the longest.
    let steps = projections
        .iter()
        .map(|projection| Completion::Finish(*projection))
        .chain(
            projections
                .iter()
                .flat_map(|projection| projection.indexes(next))
                .map(Completion::Index),
        );
    let parallelism = if Dialect::of(db).single_writer() {
        1
    } else {
        COMPLETION_PARALLELISM
    };
    // Boxed: the compiler cannot otherwise prove the stream `Send` for the runner's task.
    // After a failure no step starts, but those under way run to their end (see `replay`).
    let failed = AtomicBool::new(false);
    let failed = &failed;
    let steps: Vec<BoxFuture<'_, Result<(), RunnerError>>> = steps
        .map(|step| {
            async move {
                if failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let done = complete_one(db, next, step).await;
                if done.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                done
            }
            .boxed()
        })
        .collect();
    let done: Vec<Result<(), RunnerError>> = futures::stream::iter(steps)
        .buffer_unordered(parallelism)
        .collect()
        .await;
    done.into_iter().collect()
}

async fn complete_one(
    db: &Database,
    next: &TableNames,
    step: Completion<'_>,
) -> Result<(), RunnerError> {
    let started = Instant::now();
    let mut tx = lazy_tx(db).await?;
    if tx.is_postgres() {
        for setting in COMPLETION_SETTINGS {
            tx.execute(setting, &[]).await?;
        }
    }
    match &step {
        Completion::Finish(projection) => {
            guard_panics(projection.finish_rebuild(&mut tx, next)).await?
        }
        Completion::Index(statement) => {
            tx.execute(statement, &[]).await?;
        }
    }
    tx.commit().await?;
    tracing::debug!(
        step = %step,
        seconds = started.elapsed().as_secs_f64(),
        "rebuild completion step"
    );
    Ok(())
}

/// A transaction for rebuild batches. A crash before the swap loses the rebuild anyway (it
/// starts again from zero), and the swap's durable commit makes every earlier batch durable.
async fn lazy_tx(db: &Database) -> Result<Tx, RunnerError> {
    Ok(Tx::begin_lazy(db).await?)
}

async fn swap(
    db: &Database,
    projections: &[&dyn Projection],
    next: &TableNames,
) -> Result<(), RunnerError> {
    let live = TableNames::live("");
    let mut tx = Tx::begin(db).await?;
    // The live rows first, all in one statement and in key order as runners lock them (a
    // running runner holds its rows while applying a batch), so the two never deadlock.
    let live_keys: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    checkpoint::lock_all(&mut tx, &live_keys).await?;
    for projection in projections {
        let name = projection.name();
        let key = rebuild_key(name);
        checkpoint::lock(&mut tx, &key)
            .await?
            .ok_or(RunnerError::Database(sqlx::Error::RowNotFound))?;
        for table in projection.tables() {
            tx.execute(&format!("DROP TABLE IF EXISTS {}", live.table(table)), &[])
                .await?;
            tx.execute(
                &format!(
                    "ALTER TABLE {} RENAME TO {}",
                    next.table(table),
                    live.table(table)
                ),
                &[],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO projection_checkpoints
                    (name, tx_id, position, schema_version, state, last_event_at)
             SELECT $1, tx_id, position, schema_version, 'running', last_event_at
               FROM projection_checkpoints WHERE name = $2
             ON CONFLICT (name) DO UPDATE
                SET tx_id = excluded.tx_id, position = excluded.position,
                    schema_version = excluded.schema_version, state = 'running', error = NULL,
                    last_event_at = excluded.last_event_at",
            &[name.into(), Arg::from(key.as_str())],
        )
        .await?;
        tx.execute(
            "DELETE FROM projection_checkpoints WHERE name = $1",
            &[key.as_str().into()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
