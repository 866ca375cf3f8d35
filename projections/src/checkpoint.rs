//! The checkpoint rows of `projection_checkpoints`, always read and written inside the
//! transaction that applies a batch, so read models and checkpoint move together or not at all.

use chrono::{DateTime, Utc};

use crate::feed::Checkpoint;
use crate::sql::Tx;

/// The checkpoint key of a rebuild in progress of projection `name`.
pub fn rebuild_key(name: &str) -> String {
    format!("{name}@rebuild")
}

/// Reads a checkpoint, locking its row until the transaction ends (Postgres `FOR UPDATE`; on
/// SQLite the transaction already holds the write lock). `None`: no such row.
pub async fn lock(tx: &mut Tx, key: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
    let sql = if tx.is_postgres() {
        "SELECT tx_id, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE"
    } else {
        "SELECT tx_id, position FROM projection_checkpoints WHERE name = $1"
    };
    Ok(tx
        .fetch_int_pair(sql, &[key.into()])
        .await?
        .map(|(tx_id, position)| Checkpoint {
            tx_id: u64::try_from(tx_id).unwrap_or(0),
            position,
        }))
}

pub async fn schema_version(tx: &mut Tx, key: &str) -> Result<Option<i32>, sqlx::Error> {
    let version = tx
        .fetch_int(
            // `integer` on Postgres is INT4, which sqlx will not decode as the i64 of
            // `fetch_int`: widen it, or preparing an existing projection fails there.
            "SELECT CAST(schema_version AS bigint) FROM projection_checkpoints WHERE name = $1",
            &[key.into()],
        )
        .await?;
    Ok(version.and_then(|v| i32::try_from(v).ok()))
}

/// Creates (or resets to the start) the checkpoint row `key`.
pub async fn reset(tx: &mut Tx, key: &str, schema_version: i32) -> Result<(), sqlx::Error> {
    tx.execute(
        "INSERT INTO projection_checkpoints (name, tx_id, position, schema_version, state)
         VALUES ($1, 0, 0, $2, 'running')
         ON CONFLICT (name) DO UPDATE
            SET tx_id = 0, position = 0, schema_version = excluded.schema_version,
                state = 'running', error = NULL, last_event_at = NULL",
        &[key.into(), i64::from(schema_version).into()],
    )
    .await?;
    Ok(())
}

pub async fn advance(
    tx: &mut Tx,
    key: &str,
    to: Checkpoint,
    last_event_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    tx.execute(
        "UPDATE projection_checkpoints
            SET tx_id = $2, position = $3, last_event_at = $4, updated_at = $5,
                state = 'running', error = NULL
          WHERE name = $1",
        &[
            key.into(),
            i64::try_from(to.tx_id).unwrap_or(i64::MAX).into(),
            to.position.into(),
            last_event_at.into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}
