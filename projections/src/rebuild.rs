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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dinghuo_commands::Database;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use crate::checkpoint::{self, rebuild_key};
use crate::feed::{read_feed, Checkpoint, FeedEvent};
use crate::projection::{Projection, ProjectionError, RebuildFold, TableNames, Writes};
use crate::runner::{dialect, guard_panics, new_generation, RunnerError, RunnerSettings};
use crate::sql::{Arg, Tx};

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    pub applied: u64,
    pub position: i64,
    pub events_per_second: f64,
}

/// Pages read ahead of the one being applied: reading the next page overlaps applying this one.
const PAGES_AHEAD: usize = 1;

/// Rebuilds `projections` together; answers the number of events replayed.
pub async fn rebuild(
    db: &Database,
    projections: &[&dyn Projection],
    settings: RunnerSettings,
    mut on_progress: impl FnMut(RebuildProgress),
) -> Result<u64, RunnerError> {
    if let Some(reactor) = projections.iter().find(|p| !p.replayable()) {
        return Err(RunnerError::NotReplayable(reactor.name().to_owned()));
    }
    let next = TableNames::next(&new_generation());
    create_next_tables(db, projections, &next).await?;

    let started = Instant::now();
    let pages = read_ahead(db.clone(), settings.rebuild_batch_size);
    let applied = replay(db, projections, &next, pages, &mut on_progress).await?;
    let replayed = started.elapsed();

    complete(db, projections, &next).await?;
    let completed = started.elapsed();
    swap(db, projections, &next).await?;
    // Where a rebuild's time went, for operators sizing one and for the benchmark.
    let seconds = |from: Duration, to: Duration| (to - from).as_secs_f64();
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    tracing::info!(
        projections = names.join(","),
        applied,
        replay_s = seconds(Duration::ZERO, replayed),
        completion_s = seconds(replayed, completed),
        swap_s = seconds(completed, started.elapsed()),
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
        for statement in projection.schema(dialect(db), next) {
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

/// Reads the whole feed from the start in a task of its own, a few pages ahead of the reader.
/// The channel closes after the page that reached the end of what is safe to read.
fn read_ahead(
    db: Database,
    page_size: u32,
) -> mpsc::Receiver<Result<Arc<[FeedEvent]>, RunnerError>> {
    let (sender, receiver) = mpsc::channel(PAGES_AHEAD);
    tokio::spawn(async move {
        let mut after = Checkpoint::START;
        loop {
            let page = match read_feed(&db, after, page_size).await {
                Ok(page) => page,
                Err(error) => {
                    // The rebuild stops with this error; nobody else is listening.
                    let _ = sender.send(Err(error.into())).await;
                    return;
                }
            };
            let Some(last) = page.last() else { return };
            after = last.checkpoint;
            if sender.send(Ok(page.into())).await.is_err() {
                return; // The rebuild stopped.
            }
        }
    });
    receiver
}

/// Replays the pages into every projection. Each projection applies them on a connection and
/// in transactions of its own, so that one projection's statements run on the server while
/// another folds its next page: the rebuild keeps both the client and the server busy.
async fn replay(
    db: &Database,
    projections: &[&dyn Projection],
    next: &TableNames,
    mut pages: mpsc::Receiver<Result<Arc<[FeedEvent]>, RunnerError>>,
    on_progress: &mut impl FnMut(RebuildProgress),
) -> Result<u64, RunnerError> {
    let started = Instant::now();
    let done: Vec<Arc<AtomicU64>> = projections.iter().map(|_| Arc::default()).collect();
    let mut inboxes = Vec::with_capacity(projections.len());
    let mut workers = Vec::with_capacity(projections.len());
    for (projection, done) in projections.iter().zip(&done) {
        let (inbox, pages) = mpsc::channel::<Arc<[FeedEvent]>>(1);
        inboxes.push(inbox);
        let worker = Worker {
            db: db.clone(),
            next: next.clone(),
            key: rebuild_key(projection.name()),
            done: Arc::clone(done),
        };
        let applier = match projection.rebuild_fold() {
            Some(fold) => Applier::Fold(fold),
            None => Applier::Batch(*projection),
        };
        workers.push(worker.apply(applier, pages));
    }
    let distribute = async {
        let mut read = 0u64;
        while let Some(page) = pages.recv().await {
            let page = page?;
            read += page.len() as u64;
            for inbox in &inboxes {
                // A closed inbox means its worker failed: `try_join` below reports why.
                if inbox.send(page.clone()).await.is_err() {
                    return Ok(read);
                }
            }
            let applied = done
                .iter()
                .map(|d| d.load(Ordering::Relaxed))
                .min()
                .unwrap_or(read);
            on_progress(RebuildProgress {
                applied,
                position: page.last().map_or(0, FeedEvent::position),
                events_per_second: applied as f64 / started.elapsed().as_secs_f64().max(1e-9),
            });
        }
        drop(inboxes);
        Ok::<u64, RunnerError>(read)
    };
    let (read, _) =
        futures::future::try_join(distribute, futures::future::try_join_all(workers)).await?;
    Ok(read)
}

/// How a projection applies the pages of a rebuild.
enum Applier<'a> {
    /// Each page with `Projection::apply_batch`.
    Batch(&'a dyn Projection),
    /// Each page into a fold kept for the whole rebuild, flushed after the last page.
    Fold(Box<dyn RebuildFold>),
}

/// One projection's side of [`replay`].
struct Worker {
    db: Database,
    next: TableNames,
    /// The rebuild checkpoint.
    key: String,
    /// Events applied so far, for the progress report.
    done: Arc<AtomicU64>,
}

/// A page's writes, handed from a fold to its writer.
struct PageWrites {
    writes: Box<dyn Writes>,
    /// The page's last event, or `None` for the writes of the final flush.
    last: Option<(Checkpoint, DateTime<Utc>)>,
    events: u64,
}

impl Worker {
    async fn apply(
        self,
        applier: Applier<'_>,
        pages: mpsc::Receiver<Arc<[FeedEvent]>>,
    ) -> Result<(), RunnerError> {
        match applier {
            Applier::Batch(projection) => self.apply_batches(projection, pages).await,
            Applier::Fold(fold) => self.fold_and_write(fold, pages).await,
        }
    }

    /// Each page and the rebuild checkpoint in one transaction.
    async fn apply_batches(
        self,
        projection: &dyn Projection,
        mut pages: mpsc::Receiver<Arc<[FeedEvent]>>,
    ) -> Result<(), RunnerError> {
        while let Some(events) = pages.recv().await {
            let Some(last) = events.last() else { continue };
            let mut tx = lazy_tx(&self.db).await?;
            guard_panics(projection.apply_batch(&mut tx, &self.next, &events)).await?;
            self.commit(
                tx,
                Some((last.checkpoint, last.recorded_at)),
                events.len() as u64,
            )
            .await?;
        }
        Ok(())
    }

    /// Folds each page while a task of its own writes what the fold gave for the previous one,
    /// so that the fold's work on the client overlaps the writes' on the server. The writer
    /// writes in fold order, each page's writes and the rebuild checkpoint in one transaction.
    /// The checkpoint may pass events whose rows are still in the fold, which is harmless: a
    /// rebuild that stops starts again from zero.
    async fn fold_and_write(
        self,
        mut fold: Box<dyn RebuildFold>,
        mut pages: mpsc::Receiver<Arc<[FeedEvent]>>,
    ) -> Result<(), RunnerError> {
        let (to_writer, mut pending) = mpsc::channel::<PageWrites>(1);
        let worker = self;
        let writer = tokio::spawn(async move {
            while let Some(page) = pending.recv().await {
                let mut tx = lazy_tx(&worker.db).await?;
                guard_panics(page.writes.write(&mut tx, &worker.next)).await?;
                worker.commit(tx, page.last, page.events).await?;
            }
            Ok::<(), RunnerError>(())
        });
        let folded = async move {
            while let Some(events) = pages.recv().await {
                let Some(last) = events.last() else { continue };
                let writes = guard_panics(async { fold.fold_page(&events) }).await?;
                let page = PageWrites {
                    writes,
                    last: Some((last.checkpoint, last.recorded_at)),
                    events: events.len() as u64,
                };
                if to_writer.send(page).await.is_err() {
                    return Ok(()); // The writer failed: its result says why.
                }
            }
            let writes = guard_panics(async { Ok::<_, ProjectionError>(fold.flush()) }).await?;
            let last = PageWrites {
                writes,
                last: None,
                events: 0,
            };
            // As above, a closed channel means the writer failed and says why.
            let _ = to_writer.send(last).await;
            Ok::<(), RunnerError>(())
        }
        .await;
        let written = writer
            .await
            .map_err(|error| RunnerError::Panicked(error.to_string()))?;
        written.and(folded)
    }

    /// Commits a rebuild transaction, first advancing the rebuild checkpoint past `last`.
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
        Ok(())
    }
}

/// Statements of [`complete`] that run at once on Postgres: a bulk aggregate beside two index
/// builds keeps both cores of a small server busy, and Postgres may add parallel workers.
const COMPLETION_PARALLELISM: usize = 3;

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
    let parallelism = match db {
        Database::Postgres(_) => COMPLETION_PARALLELISM,
        Database::Sqlite(_) => 1,
    };
    // Boxed: the compiler cannot otherwise prove the stream `Send` for the runner's task.
    let steps: Vec<BoxFuture<'_, Result<(), RunnerError>>> = steps
        .map(|step| complete_one(db, next, step).boxed())
        .collect();
    futures::stream::iter(steps)
        .buffer_unordered(parallelism)
        .try_collect()
        .await
}

async fn complete_one(
    db: &Database,
    next: &TableNames,
    step: Completion<'_>,
) -> Result<(), RunnerError> {
    let started = Instant::now();
    let what = match &step {
        Completion::Finish(projection) => format!("finish {}", projection.name()),
        Completion::Index(statement) => statement.clone(),
    };
    let mut tx = lazy_tx(db).await?;
    if tx.is_postgres() {
        for setting in COMPLETION_SETTINGS {
            tx.execute(setting, &[]).await?;
        }
    }
    match step {
        Completion::Finish(projection) => {
            guard_panics(projection.finish_rebuild(&mut tx, next)).await?
        }
        Completion::Index(statement) => {
            tx.execute(&statement, &[]).await?;
        }
    }
    tx.commit().await?;
    tracing::debug!(
        step = what,
        seconds = started.elapsed().as_secs_f64(),
        "rebuild completion step"
    );
    Ok(())
}

/// A transaction for rebuild batches. A crash before the swap loses the rebuild anyway (it
/// starts again from zero), and the swap's durable commit makes every earlier batch durable.
async fn lazy_tx(db: &Database) -> Result<Tx, RunnerError> {
    let mut tx = Tx::begin(db).await?;
    tx.commit_lazily().await?;
    Ok(tx)
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
