//! Running one projection: follow the feed in batches, each batch applied to the read-model
//! tables and the checkpoint in one transaction, so a crash never loses or doubles an event.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use dinghuo_commands::Database;
use futures::FutureExt;
use tokio::sync::watch;

use crate::checkpoint;
use crate::feed::{read_feed, Checkpoint, FeedError};
use crate::lock;
use crate::projection::{Dialect, Projection, ProjectionError, TableNames};
use crate::sql::{self, Arg, Tx};
use crate::wake::Wakeup;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0} is a reactor: its effects happen once, so it is never rebuilt")]
    NotReplayable(String),
    #[error("the projection panicked: {0}")]
    Panicked(String),
}

impl From<RunnerError> for ProjectionError {
    fn from(error: RunnerError) -> Self {
        match error {
            RunnerError::Projection(inner) => inner,
            RunnerError::Database(inner) => Self::Database(inner),
            RunnerError::Feed(FeedError::Database(inner)) => Self::Database(inner),
            RunnerError::Feed(FeedError::Malformed { position, reason }) => Self::Unappliable {
                event_type: "?".into(),
                position,
                reason,
            },
            RunnerError::Panicked(message) => Self::Unappliable {
                event_type: "?".into(),
                position: 0,
                reason: format!("panicked: {message}"),
            },
            RunnerError::NotReplayable(name) => Self::Unappliable {
                event_type: "-".into(),
                position: 0,
                reason: format!("{name} is not replayable"),
            },
        }
    }
}

/// How a runner paces itself.
#[derive(Debug, Clone, Copy)]
pub struct RunnerSettings {
    /// Events per transaction.
    pub batch_size: u32,
    /// Events per transaction of a rebuild: larger, since nobody reads the tables it fills and
    /// a projection folds a batch in memory before writing it.
    pub rebuild_batch_size: u32,
    /// The longest a caught-up runner sleeps without a wake-up signal.
    pub poll_interval: Duration,
    /// How often a standby tries to take over the lock.
    pub standby_interval: Duration,
    /// How long a runner woken by a commit waits for more commits before reading the feed.
    pub gather: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            rebuild_batch_size: 5_000,
            poll_interval: Duration::from_millis(500),
            standby_interval: Duration::from_secs(1),
            gather: Duration::from_millis(5),
        }
    }
}

pub(crate) fn dialect(db: &Database) -> Dialect {
    match db {
        Database::Postgres(_) => Dialect::Postgres,
        Database::Sqlite(_) => Dialect::Sqlite,
    }
}

/// A fresh generation token for index names.
pub(crate) fn new_generation() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
}

/// Applies one batch after the checkpoint `key` into `names`, in one transaction. Answers the
/// number of events applied (0: caught up). On failure nothing of the batch is kept.
pub(crate) async fn apply_batch(
    db: &Database,
    projection: &dyn Projection,
    key: &str,
    names: &TableNames,
    batch_size: u32,
) -> Result<usize, RunnerError> {
    guard_panics(apply_batch_unguarded(
        db, projection, key, names, batch_size,
    ))
    .await
}

/// Runs `work`, turning a panic in it into [`RunnerError::Panicked`]. A panic in a projection
/// must stop it like an error does, visibly: the transaction is dropped (rolled back) either
/// way, and the caller records the failure.
pub(crate) async fn guard_panics<T, E>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, RunnerError>
where
    RunnerError: From<E>,
{
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result.map_err(RunnerError::from),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(RunnerError::Panicked(message))
        }
    }
}

async fn apply_batch_unguarded(
    db: &Database,
    projection: &dyn Projection,
    key: &str,
    names: &TableNames,
    batch_size: u32,
) -> Result<usize, RunnerError> {
    loop {
        // Read the page before taking the write lock: on SQLite the batch's transaction holds
        // the database's only write lock, and it must never wait for a pooled connection while
        // the commands that hold the other connections wait for that lock.
        let after = stored_checkpoint(db, key)
            .await?
            .ok_or(RunnerError::Database(sqlx::Error::RowNotFound))?;
        let events = read_feed(db, after, batch_size).await?;
        let Some(last) = events.last() else {
            return Ok(0);
        };
        let mut tx = Tx::begin(db).await?;
        let locked = checkpoint::lock(&mut tx, key)
            .await?
            .ok_or(RunnerError::Database(sqlx::Error::RowNotFound))?;
        if locked != after {
            // Moved meanwhile (a rebuild swapped in, or another runner took over): read again.
            continue;
        }
        projection.apply_batch(&mut tx, names, &events).await?;
        checkpoint::advance(&mut tx, key, last.checkpoint, last.recorded_at).await?;
        tx.commit().await?;
        return Ok(events.len());
    }
}

/// Creates the live tables and checkpoint of a projection seen for the first time; rebuilds a
/// projection whose schema version changed. Answers the checkpoint to start from.
pub async fn prepare(db: &Database, projection: &dyn Projection) -> Result<(), RunnerError> {
    let mut tx = Tx::begin(db).await?;
    let version = checkpoint::schema_version(&mut tx, projection.name()).await?;
    match version {
        Some(v) if v == projection.schema_version() => Ok(()),
        Some(_) if !projection.replayable() => {
            // A reactor's tables come from migrations; a new version just continues.
            tx.execute(
                "UPDATE projection_checkpoints SET schema_version = $2 WHERE name = $1",
                &[
                    projection.name().into(),
                    i64::from(projection.schema_version()).into(),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        Some(_) => {
            drop(tx);
            tracing::info!(projection = projection.name(), "schema changed: rebuilding");
            crate::rebuild::rebuild(db, &[projection], RunnerSettings::default(), |_| {}).await?;
            Ok(())
        }
        None => {
            let names = TableNames::live(&new_generation());
            for table in projection.tables() {
                tx.execute(&format!("DROP TABLE IF EXISTS {}", names.table(table)), &[])
                    .await?;
            }
            let statements = projection.schema(dialect(db), &names);
            for statement in statements.iter().chain(&projection.indexes(&names)) {
                tx.execute(statement, &[]).await?;
            }
            checkpoint::reset(&mut tx, projection.name(), projection.schema_version()).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Applies batches until the feed has nothing more that is safe to read. Answers the number of
/// events applied. Used by the CLI and tests; a running service uses [`Runner::run`].
pub async fn catch_up(
    db: &Database,
    projection: &dyn Projection,
    batch_size: u32,
) -> Result<u64, RunnerError> {
    let names = TableNames::live("");
    let mut applied = 0u64;
    loop {
        match apply_batch(db, projection, projection.name(), &names, batch_size).await {
            Ok(0) => return Ok(applied),
            Ok(n) => applied += n as u64,
            Err(error) => {
                record_failure(db, projection.name(), &error).await;
                return Err(error);
            }
        }
    }
}

/// Marks a projection failed with the error, for `dinghuo projections status`.
async fn record_failure(db: &Database, name: &str, error: &RunnerError) {
    tracing::error!(projection = name, %error, "projection stopped");
    let marked = sql::execute(
        db,
        "UPDATE projection_checkpoints SET state = 'failed', error = $2 WHERE name = $1",
        &[name.into(), Arg::from(error.to_string())],
    )
    .await;
    if let Err(db_error) = marked {
        tracing::error!(projection = name, %db_error, "cannot record the failure");
    }
}

/// Runs one projection until `stop` turns true: waits for the lock (standby), prepares the
/// tables, then follows the feed, waking on commits and polling as a fallback.
pub struct Runner {
    db: Database,
    projection: Arc<dyn Projection>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    /// Woken after each committed batch, for readers waiting for their writes.
    progress: Option<Wakeup>,
}

impl Runner {
    pub fn new(db: Database, projection: Arc<dyn Projection>, wakeup: Wakeup) -> Self {
        Self {
            db,
            projection,
            settings: RunnerSettings::default(),
            wakeup,
            progress: None,
        }
    }

    /// Wakes `progress` after each batch this runner commits (see `wait::wait_for_progress`).
    pub fn with_progress(mut self, progress: Wakeup) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn with_settings(mut self, settings: RunnerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Returns when `stop` becomes true (after committing the batch in progress), or with the
    /// error that stopped the projection.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), RunnerError> {
        let name = self.projection.name();
        let _lock = loop {
            if let Some(lock) = lock::try_lock(&self.db, name).await? {
                break lock;
            }
            tracing::debug!(projection = name, "standby: another process runs it");
            tokio::select! {
                _ = tokio::time::sleep(self.settings.standby_interval) => {}
                // A dropped stop sender means nobody can stop us any more: stop now.
                changed = stop.changed() => if changed.is_err() { return Ok(()) },
            }
            if *stop.borrow() {
                return Ok(());
            }
        };
        tracing::info!(projection = name, "running");
        prepare(&self.db, self.projection.as_ref()).await?;
        let names = TableNames::live("");
        let mut wake = self.wakeup.subscribe();
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let applied = apply_batch(
                &self.db,
                self.projection.as_ref(),
                name,
                &names,
                self.settings.batch_size,
            )
            .await;
            match applied {
                Ok(0) => {
                    tokio::select! {
                        _ = wake.changed() => {
                            // Let the commits of a burst gather into one batch: one
                            // transaction for many events instead of one each.
                            tokio::time::sleep(self.settings.gather).await;
                        }
                        _ = tokio::time::sleep(self.settings.poll_interval) => {}
                        changed = stop.changed() => if changed.is_err() { return Ok(()) },
                    }
                }
                Ok(_) => {
                    if let Some(progress) = &self.progress {
                        progress.wake();
                    }
                }
                Err(error) => {
                    record_failure(&self.db, name, &error).await;
                    return Err(error);
                }
            }
        }
    }
}

/// The checkpoint stored for `key`, outside any transaction.
pub async fn stored_checkpoint(
    db: &Database,
    key: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    let sql = "SELECT tx_id, position FROM projection_checkpoints WHERE name = $1";
    let row: Option<(i64, i64)> = match db {
        Database::Postgres(pool) => sqlx::query_as(sql).bind(key).fetch_optional(pool).await?,
        Database::Sqlite(pool) => sqlx::query_as(sql).bind(key).fetch_optional(pool).await?,
    };
    Ok(row.map(|(tx_id, position)| Checkpoint {
        tx_id: u64::try_from(tx_id).unwrap_or(0),
        position,
    }))
}
