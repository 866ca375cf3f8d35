//! The commit-safe global feed: every event of the log, in an order that never changes once a
//! reader has seen it, read in pages after a checkpoint.
//!
//! Postgres assigns `position` at insert time, so a transaction that inserted position 7 may
//! commit after one that inserted 8: a reader ordering by position alone could pass 8 and never
//! see 7. So we read only events of transactions older than every running one
//! (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`), in `(tx_id, position)` order, and
//! checkpoint that pair. No lock is taken on the write path. SQLite has one writer and assigns
//! positions inside the writing transaction, so position order is commit order there.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgExecutor, Row, SqliteExecutor};
use uuid::Uuid;

use crate::database::Database;
use crate::sql::{self, Arg, Connection, StoredTime, Tx};

/// Where a reader is in the feed. Compare checkpoints only from the same backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Checkpoint {
    /// The writing transaction's id (Postgres `xid8`); always 0 on SQLite.
    pub tx_id: u64,
    pub position: i64,
}

impl Checkpoint {
    /// Before the first event.
    pub const START: Self = Self {
        tx_id: 0,
        position: 0,
    };
}

/// One stored event as the read side sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// The checkpoint to store once this event has been processed.
    pub checkpoint: Checkpoint,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    pub tenant_id: Option<Uuid>,
}

impl FeedEvent {
    pub fn position(&self) -> i64 {
        self.checkpoint.position
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("database error while reading the feed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored event at position {position} is malformed: {reason}")]
    Malformed { position: i64, reason: String },
}

/// The columns [`from_postgres_row`] reads.
pub const POSTGRES_COLUMNS: &str = "position, tx_id::text AS tx_id_text, aggregate_type, \
    aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at, tenant_id";

/// The columns [`from_sqlite_row`] reads.
pub const SQLITE_COLUMNS: &str = "position, aggregate_type, aggregate_id, sequence, event_type, \
    event_version, payload, metadata, recorded_at, tenant_id";

const POSTGRES_PAGE: &str = "
SELECT position, tx_id::text AS tx_id_text, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata, recorded_at, tenant_id
  FROM events
 WHERE (tx_id, position) > ($1::text::xid8, $2)
   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY tx_id, position
 LIMIT $3";

const SQLITE_PAGE: &str = "
SELECT position, aggregate_type, aggregate_id, sequence,
       event_type, event_version, payload, metadata, recorded_at, tenant_id
  FROM events
 WHERE position > $1
 ORDER BY position
 LIMIT $2";

/// Up to `limit` events after `after`, in feed order. An empty page means the reader is caught
/// up with everything that is safe to read now.
pub async fn read_feed(
    db: &Database,
    after: Checkpoint,
    limit: u32,
) -> Result<Vec<FeedEvent>, FeedError> {
    match db {
        Database::Postgres(pool) => postgres_page(pool, after, limit).await,
        Database::Sqlite(pool) => sqlite_page(pool, after, limit).await,
    }
}

/// The position of the newest stored event (0 for an empty log): how far a reader that starts
/// now has to go. Not commit-safe (an older transaction may still add events below it on
/// Postgres); a reader that stops there stops at a checkpoint its successor continues from.
pub async fn head_position(db: &Database) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COALESCE(MAX(position), 0) FROM events";
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
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

/// The checkpoint of the last event that is safe to read now: a subscriber starting there sees
/// every event committed later and none committed before. On Postgres, the newest event of a
/// transaction older than every one still open; on SQLite, whose one writer commits in
/// position order, the newest event.
pub async fn safe_head(db: &Database) -> Result<Checkpoint, FeedError> {
    match db {
        Database::Postgres(pool) => {
            let row: Option<(String, i64)> = sqlx::query_as(
                "SELECT tx_id::text AS tx_id_text, position FROM events
                  WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                  ORDER BY tx_id DESC, position DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(Checkpoint::START),
                Some((tx_text, position)) => {
                    let tx_id = tx_text.parse().map_err(|_| FeedError::Malformed {
                        position,
                        reason: format!("transaction id {tx_text:?}"),
                    })?;
                    Ok(Checkpoint { tx_id, position })
                }
            }
        }
        Database::Sqlite(_) => Ok(Checkpoint {
            tx_id: 0,
            position: head_position(db).await?,
        }),
    }
}

/// How many stored events a reader at `after` has not yet read: how far a projection lags.
pub async fn count_after(db: &Database, after: Checkpoint) -> Result<i64, sqlx::Error> {
    let (unread, args) = unread_after(db, after);
    let rows: Vec<(i64,)> = sql::fetch_all(
        db,
        &format!("SELECT COUNT(*) FROM events WHERE {unread}"),
        &args,
    )
    .await?;
    Ok(rows.first().map_or(0, |(count,)| *count))
}

/// When the oldest event a reader at `after` has not yet read was recorded, if there is one.
pub async fn oldest_recorded_after(
    db: &Database,
    after: Checkpoint,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let (unread, args) = unread_after(db, after);
    let sql = format!("SELECT MIN(recorded_at) FROM events WHERE {unread}");
    let rows: Vec<(Option<StoredTime>,)> = sql::fetch_all(db, &sql, &args).await?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|(time,)| time)
        .map(|time| time.0))
}

/// The condition on `events` of what a reader at `after` has not read, and its arguments: on
/// Postgres the feed's order is `(tx_id, position)`, on SQLite `position` alone.
fn unread_after(db: &Database, after: Checkpoint) -> (&'static str, Vec<Arg>) {
    match db {
        Database::Postgres(_) => (
            "(tx_id, position) > ($1::text::xid8, $2)",
            vec![after.tx_id.to_string().into(), after.position.into()],
        ),
        Database::Sqlite(_) => ("position > $1", vec![after.position.into()]),
    }
}

/// [`read_feed`] inside a transaction: a page applied in the transaction that read it takes
/// one pooled connection instead of two.
pub async fn read_feed_in(
    tx: &mut Tx,
    after: Checkpoint,
    limit: u32,
) -> Result<Vec<FeedEvent>, FeedError> {
    match tx.connection().await? {
        Connection::Postgres(connection) => postgres_page(connection, after, limit).await,
        Connection::Sqlite(connection) => sqlite_page(connection, after, limit).await,
    }
}

async fn postgres_page<'e>(
    executor: impl PgExecutor<'e>,
    after: Checkpoint,
    limit: u32,
) -> Result<Vec<FeedEvent>, FeedError> {
    let rows = sqlx::query(POSTGRES_PAGE)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(executor)
        .await?;
    rows.iter().map(from_postgres_row).collect()
}

async fn sqlite_page<'e>(
    executor: impl SqliteExecutor<'e>,
    after: Checkpoint,
    limit: u32,
) -> Result<Vec<FeedEvent>, FeedError> {
    let rows = sqlx::query(SQLITE_PAGE)
        .bind(after.position)
        .bind(i64::from(limit))
        .fetch_all(executor)
        .await?;
    rows.iter().map(from_sqlite_row).collect()
}

/// An `events` row selected with [`POSTGRES_COLUMNS`], as the read side sees it.
pub fn from_postgres_row(row: &PgRow) -> Result<FeedEvent, FeedError> {
    let position: i64 = row.try_get("position")?;
    let tx_text: String = row.try_get("tx_id_text")?;
    let tx_id = tx_text.parse().map_err(|_| FeedError::Malformed {
        position,
        reason: format!("transaction id {tx_text:?}"),
    })?;
    Ok(FeedEvent {
        checkpoint: Checkpoint { tx_id, position },
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        tenant_id: row.try_get("tenant_id")?,
    })
}

/// An `events` row selected with [`SQLITE_COLUMNS`]: JSON and times are text there.
pub fn from_sqlite_row(row: &SqliteRow) -> Result<FeedEvent, FeedError> {
    let position: i64 = row.try_get("position")?;
    let malformed = |reason: String| FeedError::Malformed { position, reason };
    let json = |column: &str| -> Result<Value, FeedError> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| malformed(format!("{column}: {e}")))
    };
    let recorded_at: String = row.try_get("recorded_at")?;
    let tenant_id: Option<String> = row.try_get("tenant_id")?;
    Ok(FeedEvent {
        checkpoint: Checkpoint { tx_id: 0, position },
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: json("payload")?,
        metadata: json("metadata")?,
        recorded_at: DateTime::parse_from_rfc3339(&recorded_at)
            .map_err(|e| malformed(format!("recorded_at {recorded_at:?}: {e}")))?
            .with_timezone(&Utc),
        tenant_id: tenant_id
            .map(|text| Uuid::parse_str(&text))
            .transpose()
            .map_err(|e| malformed(format!("tenant_id: {e}")))?,
    })
}
