//! Read-your-writes: wait until projections have passed the events a command appended, bounded
//! by a timeout, and say so when the bound is hit instead of hanging.

use std::time::{Duration, Instant};

use dinghuo_commands::Database;
use tokio::sync::watch;

use crate::feed::Checkpoint;
use crate::runner::stored_checkpoint;
use crate::wake::Wakeup;

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

/// Like [`wait_for`], woken as soon as a runner of this process commits a batch (`progress` is
/// the [`Wakeup`] given to the runners with `Runner::with_progress`), so that a reader waits
/// for its write no longer than the projection takes. Polling stays as the fallback for
/// projections run by another process.
pub async fn wait_for_progress(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    progress: &Wakeup,
) -> Result<(), WaitError> {
    wait(db, names, target, timeout, Some(progress.subscribe())).await
}

async fn wait(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    mut progress: Option<watch::Receiver<u64>>,
) -> Result<(), WaitError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    for name in names {
        loop {
            let reached = stored_checkpoint(db, name)
                .await?
                .is_some_and(|checkpoint| checkpoint >= target);
            if reached {
                break;
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(WaitError::TimedOut {
                    projection: (*name).to_owned(),
                    waited,
                });
            }
            let nap = pause.min(timeout - waited);
            match progress.as_mut() {
                Some(progress) => {
                    tokio::select! {
                        _ = progress.changed() => {}
                        _ = tokio::time::sleep(nap) => {}
                    }
                }
                None => tokio::time::sleep(nap).await,
            }
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
    Ok(())
}
