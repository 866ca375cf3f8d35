//! Reading one tenant's events, every column, in log order (`position` ascending), a page at a
//! time: keyset paging on `position`, which the `events_by_tenant (tenant_id, position)` index
//! serves, so the thousandth page costs what the first one does.
//!
//! One aggregate's stream is read apart ([`read_stream_page`]), keyset-paged on `sequence`
//! through the primary key, so that a page of one stream costs the same however many events the
//! tenant has.
//!
//! The dialects differ in types only: Postgres stores `payload`/`metadata` as `json`,
//! `recorded_at` as `timestamptz`, `tenant_id` as `uuid` and has `tx_id`; SQLite stores text,
//! `recorded_at` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (see `migrations/sqlite/0001_events.sql`).

use chrono::{DateTime, SubsecRound, Utc};
use cqrs_es::Aggregate;
use dinghuo_domain::contact::Contact;
use dinghuo_domain::member::Member;
use dinghuo_domain::order::Order;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::price_list::{ListPrices, PriceList};
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::TenantId;
use serde::{Serialize, Serializer};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Sqlite, SqliteConnection, Transaction};
use uuid::Uuid;

use crate::database::Database;
use crate::feed::{
    from_postgres_row, from_sqlite_row, FeedError, FeedEvent, POSTGRES_COLUMNS, SQLITE_COLUMNS,
};

/// The page size when none is chosen.
pub const DEFAULT_PAGE: u32 = 1000;

/// Which of a tenant's events to read. Every condition is optional except the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub tenant: TenantId,
    /// Only the events of this aggregate (its id as stored: the UUID's text).
    pub aggregate_id: Option<String>,
    /// Only events of these types; empty means all types.
    pub event_types: Vec<String>,
    /// Only events appended on behalf of this actor (`metadata.actor_id`).
    pub actor_id: Option<Uuid>,
    /// Recorded at or after this moment (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Recorded before this moment (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// The cursor: only events after this position.
    pub after_position: Option<i64>,
    /// Page size.
    pub limit: u32,
}

impl EventFilter {
    /// Every event of `tenant`, in pages of [`DEFAULT_PAGE`].
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant,
            aggregate_id: None,
            event_types: Vec::new(),
            actor_id: None,
            from: None,
            to: None,
            after_position: None,
            limit: DEFAULT_PAGE,
        }
    }
}

/// A page of one aggregate's stream, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFilter {
    pub tenant: TenantId,
    /// The aggregate's id as stored (the UUID's text).
    pub aggregate_id: String,
    /// The cursor: only events after this sequence number.
    pub after_sequence: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// Every aggregate type of the log. An id alone does not say its aggregate's type, and the
/// primary key `(aggregate_type, aggregate_id, sequence)` leads with it: naming them all lets the
/// database probe the key once per type instead of scanning the tenant's events.
const AGGREGATE_TYPES: [&str; 8] = [
    Tenant::TYPE,
    Partner::TYPE,
    Contact::TYPE,
    Product::TYPE,
    Order::TYPE,
    Member::TYPE,
    PriceList::TYPE,
    ListPrices::TYPE,
];

/// One row of the `events` table. Serialises to the export's NDJSON line, in column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    #[serde(serialize_with = "rfc3339")]
    pub recorded_at: DateTime<Utc>,
    pub tenant_id: Option<Uuid>,
    /// The writing transaction (Postgres only; SQLite has a single writer and no such column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<u64>,
}

impl StoredEvent {
    /// The event as today's domain type `E` reads it, upcast first like every read of the log.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, serde_json::Error> {
        let serialized = crate::upcasters::upcast(cqrs_es::persist::SerializedEvent {
            aggregate_id: self.aggregate_id.clone(),
            sequence: usize::try_from(self.sequence).unwrap_or_default(),
            aggregate_type: self.aggregate_type.clone(),
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            payload: self.payload.clone(),
            metadata: self.metadata.clone(),
        });
        serde_json::from_value(serialized.payload)
    }
}

fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[derive(Debug, thiserror::Error)]
pub enum EventReadError {
    #[error("database error while reading events: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored event at position {position} is malformed: {reason}")]
    Malformed { position: i64, reason: String },
}

/// How many events the log holds, for one tenant or in all.
pub async fn count_events(db: &Database, tenant: Option<TenantId>) -> Result<i64, sqlx::Error> {
    const ALL: &str = "SELECT COUNT(*) FROM events";
    const OF_TENANT: &str = "SELECT COUNT(*) FROM events WHERE tenant_id = $1";
    match (db, tenant) {
        (Database::Postgres(pool), None) => sqlx::query_scalar(ALL).fetch_one(pool).await,
        (Database::Postgres(pool), Some(tenant)) => {
            sqlx::query_scalar(OF_TENANT)
                .bind(tenant.as_uuid())
                .fetch_one(pool)
                .await
        }
        (Database::Sqlite(pool), None) => sqlx::query_scalar(ALL).fetch_one(pool).await,
        (Database::Sqlite(pool), Some(tenant)) => {
            sqlx::query_scalar(OF_TENANT)
                .bind(tenant.to_string())
                .fetch_one(pool)
                .await
        }
    }
}

/// One page of events matching `filter`, read through the pool (one statement).
pub async fn read_page(
    db: &Database,
    filter: &EventFilter,
) -> Result<Vec<StoredEvent>, EventReadError> {
    match db {
        Database::Postgres(pool) => page_postgres(&mut *pool.acquire().await?, filter).await,
        Database::Sqlite(pool) => page_sqlite(&mut *pool.acquire().await?, filter).await,
    }
}

/// One page of one aggregate's events, in sequence order (empty: no such aggregate in the
/// tenant, or no event after the cursor), through the pool (one statement).
pub async fn read_stream_page(
    db: &Database,
    filter: &StreamFilter,
) -> Result<Vec<StoredEvent>, EventReadError> {
    let limit = i64::from(filter.limit);
    match db {
        Database::Postgres(pool) => {
            let mut query = QueryBuilder::<Postgres>::new(format!(
                "SELECT {POSTGRES_COLUMNS} FROM events WHERE aggregate_type = ANY("
            ));
            query
                .push_bind(AGGREGATE_TYPES.map(str::to_owned).to_vec())
                .push(") AND aggregate_id = ")
                .push_bind(filter.aggregate_id.clone())
                .push(" AND tenant_id = ")
                .push_bind(filter.tenant.as_uuid());
            if let Some(after) = filter.after_sequence {
                query.push(" AND sequence > ").push_bind(after);
            }
            query.push(" ORDER BY sequence LIMIT ").push_bind(limit);
            let rows = query.build().fetch_all(pool).await?;
            rows.iter().map(decode_postgres).collect()
        }
        Database::Sqlite(pool) => {
            let mut query = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {SQLITE_COLUMNS} FROM events WHERE aggregate_type IN ("
            ));
            let mut types = query.separated(", ");
            for aggregate_type in AGGREGATE_TYPES {
                types.push_bind(aggregate_type);
            }
            query
                .push(") AND aggregate_id = ")
                .push_bind(filter.aggregate_id.clone())
                .push(" AND tenant_id = ")
                .push_bind(filter.tenant.to_string());
            if let Some(after) = filter.after_sequence {
                query.push(" AND sequence > ").push_bind(after);
            }
            query.push(" ORDER BY sequence LIMIT ").push_bind(limit);
            let rows = query.build().fetch_all(pool).await?;
            rows.iter().map(decode_sqlite).collect()
        }
    }
}

/// A read-only transaction over which many pages see one and the same log: events committed
/// after it began are not seen, and none committed before it is missed. (Paging by position
/// through separate statements could miss a Postgres event whose transaction took its position
/// early and committed late.)
pub enum EventSnapshot {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl EventSnapshot {
    pub async fn begin(db: &Database) -> Result<Self, EventReadError> {
        Ok(match db {
            Database::Postgres(pool) => Self::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
            // WAL mode: a read transaction sees the database as of its first read.
            Database::Sqlite(pool) => Self::Sqlite(pool.begin().await?),
        })
    }

    pub async fn read_page(
        &mut self,
        filter: &EventFilter,
    ) -> Result<Vec<StoredEvent>, EventReadError> {
        match self {
            Self::Postgres(tx) => page_postgres(tx, filter).await,
            Self::Sqlite(tx) => page_sqlite(tx, filter).await,
        }
    }

    /// How many events match `filter`, all pages together (its cursor and limit are ignored).
    pub async fn count(&mut self, filter: &EventFilter) -> Result<u64, EventReadError> {
        let filter = EventFilter {
            after_position: None,
            ..filter.clone()
        };
        let count: i64 = match self {
            Self::Postgres(tx) => {
                let mut query = QueryBuilder::new("SELECT COUNT(*) FROM events");
                where_postgres(&mut query, &filter);
                query.build_query_scalar().fetch_one(&mut **tx).await?
            }
            Self::Sqlite(tx) => {
                let mut query = QueryBuilder::new("SELECT COUNT(*) FROM events");
                where_sqlite(&mut query, &filter);
                query.build_query_scalar().fetch_one(&mut **tx).await?
            }
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Ends the transaction (it wrote nothing: rolling back releases it cheapest).
    pub async fn finish(self) -> Result<(), EventReadError> {
        match self {
            Self::Postgres(tx) => tx.rollback().await?,
            Self::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

async fn page_postgres(
    conn: &mut PgConnection,
    filter: &EventFilter,
) -> Result<Vec<StoredEvent>, EventReadError> {
    let mut query = QueryBuilder::new(format!("SELECT {POSTGRES_COLUMNS} FROM events"));
    where_postgres(&mut query, filter);
    query
        .push(" ORDER BY position LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows = query.build().fetch_all(conn).await?;
    rows.iter().map(decode_postgres).collect()
}

async fn page_sqlite(
    conn: &mut SqliteConnection,
    filter: &EventFilter,
) -> Result<Vec<StoredEvent>, EventReadError> {
    let mut query = QueryBuilder::new(format!("SELECT {SQLITE_COLUMNS} FROM events"));
    where_sqlite(&mut query, filter);
    query
        .push(" ORDER BY position LIMIT ")
        .push_bind(i64::from(filter.limit));
    let rows = query.build().fetch_all(conn).await?;
    rows.iter().map(decode_sqlite).collect()
}

fn where_postgres(query: &mut QueryBuilder<'_, Postgres>, filter: &EventFilter) {
    query
        .push(" WHERE tenant_id = ")
        .push_bind(filter.tenant.as_uuid());
    if let Some(id) = &filter.aggregate_id {
        // Every type named, so that the primary key finds the stream (see `AGGREGATE_TYPES`)
        // instead of a walk through the tenant's events.
        query
            .push(" AND aggregate_type = ANY(")
            .push_bind(AGGREGATE_TYPES.map(str::to_owned).to_vec())
            .push(") AND aggregate_id = ")
            .push_bind(id.clone());
    }
    if !filter.event_types.is_empty() {
        query
            .push(" AND event_type = ANY(")
            .push_bind(filter.event_types.clone())
            .push(")");
    }
    if let Some(actor) = filter.actor_id {
        query
            .push(" AND metadata ->> 'actor_id' = ")
            .push_bind(actor.to_string());
    }
    // timestamptz keeps microseconds: rounding a bound up to them keeps the comparison exact.
    if let Some(from) = filter.from {
        query
            .push(" AND recorded_at >= ")
            .push_bind(ceil_to(from, 6));
    }
    if let Some(to) = filter.to {
        query.push(" AND recorded_at < ").push_bind(ceil_to(to, 6));
    }
    if let Some(after) = filter.after_position {
        query.push(" AND position > ").push_bind(after);
    }
}

fn where_sqlite(query: &mut QueryBuilder<'_, Sqlite>, filter: &EventFilter) {
    query
        .push(" WHERE tenant_id = ")
        .push_bind(filter.tenant.to_string());
    if let Some(id) = &filter.aggregate_id {
        // As on Postgres: the primary key finds the stream.
        query.push(" AND aggregate_type IN (");
        let mut types = query.separated(", ");
        for aggregate_type in AGGREGATE_TYPES {
            types.push_bind(aggregate_type);
        }
        query.push(") AND aggregate_id = ").push_bind(id.clone());
    }
    if !filter.event_types.is_empty() {
        query.push(" AND event_type IN (");
        let mut types = query.separated(", ");
        for event_type in &filter.event_types {
            types.push_bind(event_type.clone());
        }
        query.push(")");
    }
    if let Some(actor) = filter.actor_id {
        query
            .push(" AND json_extract(metadata, '$.actor_id') = ")
            .push_bind(actor.to_string());
    }
    // recorded_at is fixed-width UTC text with milliseconds, so text order is time order;
    // a bound in the same shape, rounded up to the millisecond, compares exactly.
    if let Some(from) = filter.from {
        query
            .push(" AND recorded_at >= ")
            .push_bind(sqlite_time(from));
    }
    if let Some(to) = filter.to {
        query.push(" AND recorded_at < ").push_bind(sqlite_time(to));
    }
    if let Some(after) = filter.after_position {
        query.push(" AND position > ").push_bind(after);
    }
}

/// `at` rounded up to `digits` decimals of a second. For stored times of that precision,
/// `t >= at` ⇔ `t >= ceil(at)` and `t < at` ⇔ `t < ceil(at)`.
fn ceil_to(at: DateTime<Utc>, digits: u16) -> DateTime<Utc> {
    let truncated = at.trunc_subsecs(digits);
    if truncated == at {
        return at;
    }
    let step = chrono::Duration::nanoseconds(10_i64.pow(9 - u32::from(digits)));
    truncated.checked_add_signed(step).unwrap_or(truncated)
}

/// The text SQLite stores: `strftime('%Y-%m-%dT%H:%M:%fZ')`.
fn sqlite_time(at: DateTime<Utc>) -> String {
    ceil_to(at, 3).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The columns are the feed's, and so is their decoding.
fn decode_postgres(row: &PgRow) -> Result<StoredEvent, EventReadError> {
    let event = from_postgres_row(row)?;
    let tx_id = event.checkpoint.tx_id;
    Ok(StoredEvent::from_feed(event, Some(tx_id)))
}

fn decode_sqlite(row: &SqliteRow) -> Result<StoredEvent, EventReadError> {
    Ok(StoredEvent::from_feed(from_sqlite_row(row)?, None))
}

impl StoredEvent {
    fn from_feed(event: FeedEvent, tx_id: Option<u64>) -> Self {
        Self {
            position: event.checkpoint.position,
            aggregate_type: event.aggregate_type,
            aggregate_id: event.aggregate_id,
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: event.payload,
            metadata: event.metadata,
            recorded_at: event.recorded_at,
            tenant_id: event.tenant_id,
            tx_id,
        }
    }
}

impl From<FeedError> for EventReadError {
    fn from(error: FeedError) -> Self {
        match error {
            FeedError::Database(error) => Self::Database(error),
            FeedError::Malformed { position, reason } => Self::Malformed { position, reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};

    use super::*;

    fn at(nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .and_then(|t| t.with_nanosecond(nanos))
            .expect("a valid time")
    }

    #[test]
    fn bounds_round_up_to_the_stored_precision() {
        assert_eq!(ceil_to(at(123_000_000), 3), at(123_000_000));
        assert_eq!(ceil_to(at(123_000_001), 3), at(124_000_000));
        assert_eq!(ceil_to(at(123_456_001), 6), at(123_457_000));
        assert_eq!(
            ceil_to(at(999_999_999), 3),
            at(0) + chrono::Duration::seconds(1)
        );
    }

    #[test]
    fn sqlite_bounds_have_the_stored_shape() {
        assert_eq!(sqlite_time(at(0)), "2026-01-02T03:04:05.000Z");
        assert_eq!(sqlite_time(at(120_000_001)), "2026-01-02T03:04:05.121Z");
    }

    #[test]
    fn a_line_has_every_column_and_tx_id_only_when_there_is_one() {
        let event = StoredEvent {
            position: 7,
            aggregate_type: "Order".to_owned(),
            aggregate_id: Uuid::nil().to_string(),
            sequence: 1,
            event_type: "OrderSubmitted".to_owned(),
            event_version: "1.0".to_owned(),
            payload: serde_json::json!({"note": "a"}),
            metadata: serde_json::json!({"actor_id": "x"}),
            recorded_at: at(5_000_000),
            tenant_id: Some(Uuid::nil()),
            tx_id: None,
        };
        let line = serde_json::to_value(&event).expect("serialise");
        assert_eq!(line["recorded_at"], "2026-01-02T03:04:05.005Z");
        assert_eq!(line["payload"]["note"], "a");
        assert!(line.get("tx_id").is_none());
        let keys: Vec<&str> = line
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 10, "{keys:?}");
        let on_postgres = StoredEvent {
            tx_id: Some(42),
            ..event
        };
        let line = serde_json::to_value(&on_postgres).expect("serialise");
        assert_eq!(line["tx_id"], 42);
    }
}
