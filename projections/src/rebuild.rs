//! Rebuilding a projection from position zero into fresh tables while the live ones keep
//! serving, then swapping them in with the checkpoint, in one transaction.
//!
//! The swap locks the live checkpoint row first, so a live runner in the middle of a batch
//! finishes it, and its next batch starts from the rebuilt checkpoint on the rebuilt tables.

use std::time::Instant;

use dinghuo_commands::Database;

use crate::checkpoint::{self, rebuild_key};
use crate::feed::Checkpoint;
use crate::projection::{Projection, TableNames};
use crate::runner::{apply_batch, dialect, new_generation, RunnerError, RunnerSettings};
use crate::sql::Tx;

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy)]
pub struct RebuildProgress {
    pub applied: u64,
    pub position: i64,
    pub events_per_second: f64,
}

pub async fn rebuild(
    db: &Database,
    projection: &dyn Projection,
    settings: RunnerSettings,
    mut on_progress: impl FnMut(RebuildProgress),
) -> Result<u64, RunnerError> {
    let name = projection.name();
    if !projection.replayable() {
        return Err(RunnerError::NotReplayable(name.to_owned()));
    }
    let key = rebuild_key(name);
    let next = TableNames::next(&new_generation());
    let dialect = dialect(db);

    let mut tx = Tx::begin(db).await?;
    for table in projection.tables() {
        tx.execute(&format!("DROP TABLE IF EXISTS {}", next.table(table)), &[])
            .await?;
    }
    for statement in projection.schema(dialect, &next) {
        tx.execute(&statement, &[]).await?;
    }
    checkpoint::reset(&mut tx, &key, projection.schema_version()).await?;
    tx.commit().await?;

    let started = Instant::now();
    let mut applied = 0u64;
    loop {
        let n = apply_batch(db, projection, &key, &next, settings.batch_size).await?;
        if n == 0 {
            break;
        }
        applied += n as u64;
        let position = crate::runner::stored_checkpoint(db, &key)
            .await?
            .unwrap_or(Checkpoint::START)
            .position;
        on_progress(RebuildProgress {
            applied,
            position,
            events_per_second: applied as f64 / started.elapsed().as_secs_f64().max(1e-9),
        });
    }

    swap(db, projection, &next).await?;
    tracing::info!(projection = name, applied, "rebuilt and swapped in");
    Ok(applied)
}

async fn swap(
    db: &Database,
    projection: &dyn Projection,
    next: &TableNames,
) -> Result<(), RunnerError> {
    let name = projection.name();
    let key = rebuild_key(name);
    let live = TableNames::live("");
    let mut tx = Tx::begin(db).await?;
    // Order matters: the live row first (a running runner holds it while applying a batch).
    checkpoint::lock(&mut tx, name).await?;
    let built = checkpoint::lock(&mut tx, &key)
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
        &[name.into(), key.as_str().into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM projection_checkpoints WHERE name = $1",
        &[key.as_str().into()],
    )
    .await?;
    tx.commit().await?;
    tracing::debug!(projection = name, position = built.position, "swapped");
    Ok(())
}
