//! Reading the stored event log as it lies in the `events` table, bypassing the command layer, so
//! that tests see exactly what an auditor replaying the log would see.
//!
//! `payload` and `metadata` are `json` on Postgres and `text` on SQLite; both are read as text
//! and parsed here, so one helper serves both backends.

use dinghuo_store::Database;
use serde_json::Value;

/// One row of the `events` table.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    /// The serialised event, externally tagged: `{"OrderSubmitted": {...}}`, or a bare string
    /// such as `"OrderConfirmed"` for an event without fields.
    pub payload: Value,
    pub metadata: Value,
}

impl StoredEvent {
    /// The event's own fields, without the tag (`Value::Null` for an event without fields).
    pub fn body(&self) -> &Value {
        self.payload.get(&self.event_type).unwrap_or(&Value::Null)
    }

    /// One metadata entry, if present.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

type Row = (String, String, i64, String, String, String);

fn parse(row: Row) -> StoredEvent {
    let (aggregate_type, aggregate_id, sequence, event_type, payload, metadata) = row;
    StoredEvent {
        payload: serde_json::from_str(&payload).expect("stored payload is JSON"),
        metadata: serde_json::from_str(&metadata).expect("stored metadata is JSON"),
        aggregate_type,
        aggregate_id,
        sequence,
        event_type,
    }
}

/// Every stored event, in the order the log recorded them (global position).
pub async fn all_events(db: &Database) -> Vec<StoredEvent> {
    let rows: Vec<Row> = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, \
                        payload::text, metadata::text \
                 FROM events ORDER BY position",
            )
            .fetch_all(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, payload, metadata \
                 FROM events ORDER BY position",
            )
            .fetch_all(pool)
            .await
        }
    }
    .expect("read the event log");
    rows.into_iter().map(parse).collect()
}

/// One aggregate's stored events, in sequence order.
pub async fn stream_events(
    db: &Database,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Vec<StoredEvent> {
    let rows: Vec<Row> = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, \
                        payload::text, metadata::text \
                 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, payload, metadata \
                 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
            )
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(pool)
            .await
        }
    }
    .expect("read a stream");
    rows.into_iter().map(parse).collect()
}

/// Expected `(event_type, sequence)` pairs of a stream, numbered from 1, in the shape
/// `TestDb::stream` answers.
pub fn numbered(event_types: &[&str]) -> Vec<(String, i64)> {
    event_types
        .iter()
        .zip(1..)
        .map(|(event_type, sequence)| ((*event_type).to_owned(), sequence))
        .collect()
}
