//! One aggregate type's event store: cqrs-es's `CqrsFramework` in plain event-store mode (never
//! the snapshot or aggregate-store modes, which apply events twice) over postgres-es or
//! sqlite-es, and a loader for reading aggregates without running a command.
//!
//! A command runs on a framework made for it ([`AggregateStore::execute`]): its own stream
//! comes from the streams read before it ran ([`crate::streams`]), its lookups from the same
//! (the services it is given), and its events are appended by postgres-es / sqlite-es.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query};
use postgres_es::PostgresEventRepository;
use sqlite_es::SqliteEventRepository;

use crate::database::Database;
use crate::streams::Streams;
use crate::upcasters::upcasters;

type PgStore<A> = PersistedEventStore<PostgresEventRepository, A>;
type LiteStore<A> = PersistedEventStore<SqliteEventRepository, A>;

/// Reads aggregates of type `A` from their committed events.
pub enum EventLoader<A: Aggregate> {
    Postgres(PgStore<A>),
    Sqlite(LiteStore<A>),
}

/// A loaded aggregate with the sequence number of its last event (0: no events yet).
pub struct Loaded<A> {
    pub aggregate: A,
    pub sequence: usize,
}

impl<A: Aggregate> EventLoader<A> {
    pub fn new(db: &Database) -> Self {
        match db {
            Database::Postgres(pool) => Self::Postgres(
                PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters()),
            ),
            Database::Sqlite(pool) => Self::Sqlite(
                PersistedEventStore::new_event_store(SqliteEventRepository::new(pool.clone()))
                    .with_upcasters(upcasters()),
            ),
        }
    }

    /// The aggregate's current state from its committed events; `Default` if it has none.
    pub async fn load(&self, id: &str) -> Result<Loaded<A>, AggregateError<A::Error>> {
        let context = match self {
            Self::Postgres(store) => store.load_aggregate(id).await?,
            Self::Sqlite(store) => store.load_aggregate(id).await?,
        };
        Ok(Loaded {
            aggregate: context.aggregate,
            sequence: context.current_sequence,
        })
    }

    /// The aggregate's committed events in order, with their metadata.
    pub async fn events(
        &self,
        id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        match self {
            Self::Postgres(store) => store.load_events(id).await,
            Self::Sqlite(store) => store.load_events(id).await,
        }
    }
}

/// Executes commands on, and loads, aggregates of type `A`.
pub struct AggregateStore<A: Aggregate> {
    loader: EventLoader<A>,
}

impl<A: Aggregate> AggregateStore<A> {
    pub fn new(db: &Database) -> Self {
        Self {
            loader: EventLoader::new(db),
        }
    }

    /// Loads the aggregate (from `read` when its stream is there, else from the store), runs
    /// the command with `services` and appends its events in one transaction, and answers the
    /// sequence number of the last event appended (0: none), which a reader of this write
    /// waits for. A lost race on the stream's next sequence number is
    /// `AggregateError::AggregateConflict`.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: HashMap<String, String>,
        read: Arc<Streams>,
        services: A::Services,
    ) -> Result<usize, AggregateError<A::Error>> {
        let receipt: Vec<Box<dyn Query<A>>> = vec![Box::new(Receipt)];
        let store = ReadAhead {
            loader: &self.loader,
            read,
        };
        let framework = CqrsFramework::new(store, receipt, services);
        let executed = async {
            framework
                .execute_with_metadata(id, command, metadata)
                .await?;
            Ok(COMMITTED.with(Cell::get))
        };
        COMMITTED.scope(Cell::new(0), executed).await
    }

    pub fn loader(&self) -> &EventLoader<A> {
        &self.loader
    }
}

/// The event store of one command's framework: the aggregate from the streams read for the
/// command, or read now when they do not hold its stream; appends through postgres-es /
/// sqlite-es.
struct ReadAhead<'a, A: Aggregate> {
    loader: &'a EventLoader<A>,
    read: Arc<Streams>,
}

impl<A: Aggregate> EventStore<A> for ReadAhead<'_, A> {
    type AC = EventStoreAggregateContext<A>;

    async fn load_events(
        &self,
        id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.loader.events(id).await
    }

    async fn load_aggregate(
        &self,
        id: &str,
    ) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
        if let Some(loaded) = self.read.aggregate::<A>(id).await {
            return loaded;
        }
        match self.loader {
            EventLoader::Postgres(store) => store.load_aggregate(id).await,
            EventLoader::Sqlite(store) => store.load_aggregate(id).await,
        }
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: EventStoreAggregateContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        match self.loader {
            EventLoader::Postgres(store) => store.commit(events, context, metadata).await,
            EventLoader::Sqlite(store) => store.commit(events, context, metadata).await,
        }
    }
}

tokio::task_local! {
    /// The sequence number of the last event the command being executed appended, as its
    /// framework's [`Receipt`] saw it committed.
    static COMMITTED: Cell<usize>;
}

/// A cqrs-es query that notes, for the command that committed them, the sequence number of the
/// last event committed. The framework dispatches inside `execute_with_metadata`, so in the task
/// of the command that scoped [`COMMITTED`].
struct Receipt;

#[async_trait]
impl<A: Aggregate> Query<A> for Receipt {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<A>]) {
        if let Some(last) = events.last() {
            // Outside an `execute` scope nobody asked for a receipt.
            let _ = COMMITTED.try_with(|committed| committed.set(last.sequence));
        }
    }
}
