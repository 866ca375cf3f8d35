//! The checkpoint rows of `projection_checkpoints`, always read and written inside the
//! transaction that applies a batch, so read models and checkpoint move together or not at all.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dinghuo_store::Database;

use dinghuo_store::feed::Checkpoint;
use dinghuo_store::lock::{self, RebuildLock, RebuildLockError};
use dinghuo_store::sql::{self, placeholders, Arg, Tx};

/// The checkpoint key of a rebuild in progress of projection `name`.
pub fn rebuild_key(name: &str) -> String {
    format!("{name}@rebuild")
}

/// Tries once to take the rebuild lock of every projection in `names`, each named by its
/// rebuild key. `Ok(None)`: a rebuild of one of them is running (on SQLite: any rebuild).
pub async fn try_lock_rebuild(
    db: &Database,
    names: &[&str],
) -> Result<Option<RebuildLock>, RebuildLockError> {
    let keys: Vec<String> = names.iter().map(|name| rebuild_key(name)).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    lock::try_lock_rebuild(db, &keys).await
}

/// Reads a checkpoint, locking its row until the transaction ends (Postgres `FOR UPDATE`; on
/// SQLite the transaction already holds the write lock). `None`: no such row.
pub async fn lock(tx: &mut Tx, key: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
    Ok(lock_all(tx, &[key]).await?.remove(key))
}

/// Reads the checkpoints of `keys` in one statement, locking their rows until the transaction
/// ends, in key order: every transaction that locks several checkpoints takes them in that
/// order, so two of them never deadlock. Keys without a row are absent from the answer.
pub async fn lock_all(tx: &mut Tx, keys: &[&str]) -> Result<Checkpoints, sqlx::Error> {
    let lock = if tx.is_postgres() { " FOR UPDATE" } else { "" };
    let sql = format!(
        "SELECT name, tx_id, position FROM projection_checkpoints
          WHERE name IN ({}) ORDER BY name{lock}",
        placeholders(1, keys.len())
    );
    let rows: Vec<CheckpointRow> = tx.fetch_all(&sql, &key_args(keys)).await?;
    Ok(by_key(rows))
}

/// The checkpoints of `keys`, read outside any transaction (by a runner before it reads the
/// feed, and by readers waiting for their writes).
pub async fn stored_all(db: &Database, keys: &[&str]) -> Result<Checkpoints, sqlx::Error> {
    let sql = format!(
        "SELECT name, tx_id, position FROM projection_checkpoints WHERE name IN ({})",
        placeholders(1, keys.len())
    );
    let rows: Vec<CheckpointRow> = sql::fetch_all(db, &sql, &key_args(keys)).await?;
    Ok(by_key(rows))
}

/// Checkpoints by key.
pub type Checkpoints = HashMap<String, Checkpoint>;

type CheckpointRow = (String, i64, i64);

fn key_args(keys: &[&str]) -> Vec<Arg> {
    keys.iter().map(|key| Arg::from(*key)).collect()
}

fn by_key(rows: Vec<CheckpointRow>) -> Checkpoints {
    rows.into_iter()
        .map(|(name, tx_id, position)| {
            let checkpoint = Checkpoint {
                tx_id: u64::try_from(tx_id).unwrap_or(0),
                position,
            };
            (name, checkpoint)
        })
        .collect()
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
    advance_all(tx, &[key], to, last_event_at).await
}

/// Moves the checkpoints of `keys` to `to`, in one statement, held back while the
/// transaction combines writes (nothing else in a page reads the checkpoints it writes).
pub async fn advance_all(
    tx: &mut Tx,
    keys: &[&str],
    to: Checkpoint,
    last_event_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE projection_checkpoints
            SET tx_id = $1, position = $2, last_event_at = $3, updated_at = $4,
                state = 'running', error = NULL
          WHERE name IN ({})",
        placeholders(5, keys.len())
    );
    let mut args = vec![
        i64::try_from(to.tx_id).unwrap_or(i64::MAX).into(),
        to.position.into(),
        last_event_at.into(),
        Utc::now().into(),
    ];
    args.extend(key_args(keys));
    tx.defer("projection_checkpoints", &sql, &args).await
}

/// The checkpoint stored for `key`, outside any transaction.
pub async fn stored_checkpoint(
    db: &Database,
    key: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    Ok(stored_all(db, &[key]).await?.remove(key))
}
