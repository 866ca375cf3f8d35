//! Read-your-writes: wait until projections have passed the events a command appended, bounded
//! by a timeout, and say so when the bound is hit instead of hanging.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dinghuo_commands::Database;
use tokio::sync::watch;

use crate::feed::Checkpoint;
use crate::runner::stored_checkpoint;

/// What the runners of this process have committed: each projection's checkpoint after its last
/// committed batch. A reader waiting for its write compares against this without asking the
/// database, and wakes as soon as a batch is committed. Cheap to clone.
#[derive(Clone, Default)]
pub struct Progress {
    sender: Arc<watch::Sender<HashMap<&'static str, Checkpoint>>>,
    /// Whether a runner of this process reports here: then the database is only a fallback.
    has_runner: Arc<AtomicBool>,
}

/// A runner reporting to a [`Progress`]; when it stops, readers go back to asking the database.
pub(crate) struct Reporting(Arc<AtomicBool>);

impl Drop for Reporting {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called by a runner that reports its batches here from now on, until the answer drops.
    pub(crate) fn attach_runner(&self) -> Reporting {
        self.has_runner.store(true, Ordering::Relaxed);
        Reporting(Arc::clone(&self.has_runner))
    }

    /// Records that `projections` have committed everything up to `to`. A checkpoint here only
    /// moves forward.
    pub(crate) fn advanced(&self, projections: &[&'static str], to: Checkpoint) {
        self.sender.send_modify(|reached| {
            for name in projections {
                let at = reached.entry(*name).or_insert(to);
                *at = (*at).max(to);
            }
        });
    }

    fn has_reached(&self, projection: &str, target: Checkpoint) -> bool {
        self.sender
            .borrow()
            .get(projection)
            .is_some_and(|at| *at >= target)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("projection {projection} had not reached the write after {waited:?}")]
    TimedOut {
        projection: String,
        waited: Duration,
    },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The feed checkpoint of the last event of one aggregate's stream, if it has any: what a
/// projection must have passed for a reader to see that aggregate's latest state.
pub async fn head_of_stream(
    db: &Database,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    match db {
        Database::Postgres(pool) => {
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT tx_id::text AS tx_id_text, position FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2
                  ORDER BY sequence DESC LIMIT 1",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(tx, position)| Checkpoint {
                tx_id: tx.parse().unwrap_or(u64::MAX),
                position,
            }))
        }
        Database::Sqlite(pool) => {
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT position FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2
                  ORDER BY sequence DESC LIMIT 1",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(pool)
            .await?;
            Ok(row.map(|(position,)| Checkpoint { tx_id: 0, position }))
        }
    }
}

/// Waits until every projection in `names` has a checkpoint at or past `target`, polling.
pub async fn wait_for(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
) -> Result<(), WaitError> {
    wait(db, names, target, timeout, None).await
}

/// Like [`wait_for`], answered from `progress` (given to this process's runners with
/// `Runner::with_progress`) as soon as a runner commits the write, without a query per wake-up.
/// The database is still asked at start and on a backoff, for projections run by another
/// process.
pub async fn wait_for_progress(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), WaitError> {
    wait(db, names, target, timeout, Some(progress)).await
}

async fn wait(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    progress: Option<&Progress>,
) -> Result<(), WaitError> {
    let started = Instant::now();
    // With a runner in this process, its reports answer the wait; the database is asked at
    // start and then rarely, in case another process runs some of the projections. Without
    // one, the database is all there is: ask it soon, then back off.
    let local = progress.is_some_and(|progress| progress.has_runner.load(Ordering::Relaxed));
    let mut pause = if local {
        Duration::from_millis(100)
    } else {
        Duration::from_millis(2)
    };
    let mut committed = progress.map(|progress| progress.sender.subscribe());
    for name in names {
        // A local runner reports every batch it commits, those before this wait included.
        let mut ask_database = !local;
        loop {
            if progress.is_some_and(|progress| progress.has_reached(name, target)) {
                break;
            }
            if ask_database {
                let reached = stored_checkpoint(db, name)
                    .await?
                    .is_some_and(|checkpoint| checkpoint >= target);
                if reached {
                    break;
                }
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(WaitError::TimedOut {
                    projection: (*name).to_owned(),
                    waited,
                });
            }
            let nap = pause.min(timeout - waited);
            match committed.as_mut() {
                Some(committed) => {
                    tokio::select! {
                        _ = committed.changed() => ask_database = false,
                        _ = tokio::time::sleep(nap) => ask_database = true,
                    }
                }
                None => tokio::time::sleep(nap).await,
            }
            pause = (pause * 2).min(Duration::from_millis(if local { 100 } else { 50 }));
        }
    }
    Ok(())
}
