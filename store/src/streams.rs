//! "Load these streams": the committed events of several aggregates, of any types, read in one
//! statement on either backend. A command reads its own stream and every stream its decision
//! needs this way, instead of one round trip per aggregate.
//!
//! Rows are kept as cqrs-es's `SerializedEvent`s and folded by cqrs-es's own
//! `PersistedEventStore::load_aggregate` over them (with [`crate::upcasters`]), so a
//! stream read here deserialises, upcasts and folds exactly as when postgres-es or sqlite-es
//! reads it alone. Deserialising waits until an aggregate is asked for: an event that cannot be
//! read fails the decision that reads it, as it did before.

use std::collections::HashMap;

use cqrs_es::persist::{
    EventStoreAggregateContext, PersistedEventRepository, PersistedEventStore, PersistenceError,
    ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use dinghuo_domain::order::OrderCommand;
use dinghuo_domain::tenant::Tenant;
use serde_json::Value;
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::database::Database;
use crate::upcasters::upcasters;

/// The most streams one load reads. A command names them all before it runs, and the largest
/// (an order of `OrderCommand::MAX_LINES` lines: its products and their prices, its own stream,
/// the tenant, the partner, the contact and every price list the tenant keeps) fits.
pub const MAX_STREAMS: usize = 512;
const _: () = assert!(2 * OrderCommand::MAX_LINES + 4 + Tenant::MAX_PRICE_LISTS <= MAX_STREAMS);

/// One aggregate's stream: its type (`Aggregate::TYPE`) and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    pub aggregate_type: String,
    pub aggregate_id: String,
}

impl StreamId {
    pub fn of<A: Aggregate>(id: impl ToString) -> Self {
        Self {
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: id.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{asked} streams asked for in one load; at most {MAX_STREAMS}")]
    TooMany { asked: usize },
    #[error("reading streams: {0}")]
    Database(#[from] sqlx::Error),
}

/// Postgres: the wanted streams as two parallel arrays, one text for any count (prepared once),
/// each stream found through the primary key. Public for the benchmarks' like-for-like baseline.
pub const POSTGRES_LOAD: &str = "\
SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload
  FROM UNNEST($1::text[], $2::text[]) AS wanted (aggregate_type, aggregate_id)
  JOIN events AS e ON e.aggregate_type = wanted.aggregate_type AND e.aggregate_id = wanted.aggregate_id
 ORDER BY e.aggregate_type, e.aggregate_id, e.sequence";

/// SQLite has no arrays: the wanted streams as one JSON array of `[type, id]` pairs. `CROSS
/// JOIN` keeps them the outer loop, so each stream is found through the primary key.
pub const SQLITE_LOAD: &str = "\
SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload
  FROM json_each(?) AS wanted
 CROSS JOIN events AS e
 WHERE e.aggregate_type = json_extract(wanted.value, '$[0]')
   AND e.aggregate_id = json_extract(wanted.value, '$[1]')
 ORDER BY e.aggregate_type, e.aggregate_id, e.sequence";

/// The committed events of the streams read so far, by stream, in sequence order. A stream that
/// was read and has no events is held too (empty): its aggregate is the `Default`.
#[derive(Debug, Default)]
pub struct Streams {
    held: HashMap<StreamId, Vec<SerializedEvent>>,
}

impl Streams {
    /// Reads, in one statement, those of `wanted` not held yet (none missing: no statement).
    pub async fn load(
        &mut self,
        db: &Database,
        wanted: impl IntoIterator<Item = StreamId>,
    ) -> Result<(), LoadError> {
        let mut missing: Vec<StreamId> = wanted
            .into_iter()
            .filter(|stream| !self.held.contains_key(stream))
            .collect();
        // A stream named twice would come back twice.
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        if missing.len() > MAX_STREAMS {
            return Err(LoadError::TooMany {
                asked: missing.len(),
            });
        }
        let events = match db {
            Database::Postgres(pool) => {
                let (types, ids): (Vec<&str>, Vec<&str>) = missing
                    .iter()
                    .map(|s| (s.aggregate_type.as_str(), s.aggregate_id.as_str()))
                    .unzip();
                // Planned for these arrays each time (`plan_cache_mode`, `database.rs`): from a
                // generic plan cached while `events` was small, this was a sequential scan.
                sqlx::query(POSTGRES_LOAD)
                    .bind(types)
                    .bind(ids)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(serialized_event)
                    .collect::<Result<Vec<_>, _>>()?
            }
            Database::Sqlite(pool) => {
                let pairs: Value = missing
                    .iter()
                    .map(|s| Value::from(vec![s.aggregate_type.as_str(), s.aggregate_id.as_str()]))
                    .collect();
                sqlx::query(SQLITE_LOAD)
                    .bind(pairs.to_string())
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(serialized_event)
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        for stream in missing {
            self.held.entry(stream).or_default();
        }
        for event in events {
            let stream = StreamId {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
            };
            self.held.entry(stream).or_default().push(event);
        }
        Ok(())
    }

    pub fn holds(&self, stream: &StreamId) -> bool {
        self.held.contains_key(stream)
    }

    /// Aggregate `id` of type `A` folded from its held events, as cqrs-es loads it (`None`: its
    /// stream was not read).
    pub async fn aggregate<A: Aggregate>(
        &self,
        id: &str,
    ) -> Option<Result<EventStoreAggregateContext<A>, AggregateError<A::Error>>> {
        let events = self.held.get(&StreamId::of::<A>(id))?;
        let store = PersistedEventStore::<Held<'_>, A>::new_event_store(Held(events))
            .with_upcasters(upcasters());
        Some(store.load_aggregate(id).await)
    }
}

/// A row as postgres-es and sqlite-es turn it into a `SerializedEvent`, but a column that cannot
/// be decoded is an error instead of a panic, and without its metadata.
fn serialized_event<'r, R>(row: &'r R) -> Result<SerializedEvent, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Value: Decode<'r, R::Database> + Type<R::Database>,
{
    let sequence: i64 = row.try_get("sequence")?;
    let sequence = usize::try_from(sequence).map_err(|error| sqlx::Error::ColumnDecode {
        index: "sequence".to_owned(),
        source: Box::new(error),
    })?;
    Ok(SerializedEvent::new(
        row.try_get("aggregate_id")?,
        sequence,
        row.try_get("aggregate_type")?,
        row.try_get("event_type")?,
        row.try_get("event_version")?,
        row.try_get("payload")?,
        // Not read: a fold reads payloads only, and the metadata (about 300 bytes a row, more
        // than most payloads) cost as much again to decode and copy. A stream read here is
        // for deciding, never for showing who did what.
        Value::Object(serde_json::Map::new()),
    ))
}

/// One held stream as a read-only cqrs-es repository, so that cqrs-es itself folds it.
struct Held<'a>(&'a [SerializedEvent]);

fn read_only() -> PersistenceError {
    PersistenceError::UnknownError("streams read ahead are read-only".into())
}

impl PersistedEventRepository for Held<'_> {
    async fn get_events<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        Ok(self.0.to_vec())
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        _aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        Ok(self
            .0
            .iter()
            .filter(|event| event.sequence > last_sequence)
            .cloned()
            .collect())
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        _events: &[SerializedEvent],
        _snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        Err(read_only())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        Err(read_only())
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Err(read_only())
    }
}
