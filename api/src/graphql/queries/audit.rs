//! Audit (DESIGN §1 `auditor`, §3 "Audit queries"): the tenant's event history, filtered and
//! paged (`events`), one aggregate's stream, paged (`aggregateHistory`), and an aggregate's state
//! as of a past moment or version, replayed from its events (`aggregateAt`). Auditors and admins
//! only: everyone else is `FORBIDDEN`.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields, OpaqueCursor,
};
use async_graphql::{Context, InputObject, Json, Object, OneofObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use dinghuo_commands::Role;
use dinghuo_domain::contact::Contact;
use dinghuo_domain::member::Member;
use dinghuo_domain::order::Order;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::price_list::{ListPrices, PriceList};
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_store::audit::{
    read_page, read_stream_page, EventFilter, EventReadError, EventSnapshot, StoredEvent,
    StreamFilter,
};
use dinghuo_store::FeedEvent;
use serde_json::Value;
use uuid::Uuid;

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::state::ApiState;

/// Who may read the event history (DESIGN §1).
pub const AUDIT_ROLES: &[Role] = &[Role::Auditor, Role::Admin];

/// At most this many event types in one filter (each becomes a bound parameter).
const MAX_EVENT_TYPES: usize = 50;

#[derive(Default)]
pub struct AuditQueries;

/// One stored event, every column an auditor needs.
#[derive(Debug, Clone, SimpleObject)]
pub struct AuditEvent {
    /// The event's place in the whole log (a cursor; gaps are normal).
    pub position: i64,
    /// `Tenant`, `Partner`, `Contact`, `Product` or `Order`.
    pub aggregate_type: String,
    pub aggregate_id: ID,
    /// 1, 2, 3, … within the aggregate's stream.
    pub sequence: i64,
    /// e.g. `OrderSubmitted`.
    pub event_type: String,
    pub event_version: String,
    /// The event's facts, as stored.
    pub payload: Json<Value>,
    /// Who and why: tenant, actor id and role, correlation, causation and request ids,
    /// idempotency key.
    pub metadata: Json<Value>,
    pub recorded_at: DateTime<Utc>,
}

impl From<StoredEvent> for AuditEvent {
    fn from(event: StoredEvent) -> Self {
        Self {
            position: event.position,
            aggregate_type: event.aggregate_type,
            aggregate_id: ID(event.aggregate_id),
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: Json(event.payload),
            metadata: Json(event.metadata),
            recorded_at: event.recorded_at,
        }
    }
}

impl From<FeedEvent> for AuditEvent {
    fn from(event: FeedEvent) -> Self {
        Self {
            position: event.position(),
            aggregate_type: event.aggregate_type,
            aggregate_id: ID(event.aggregate_id),
            sequence: event.sequence,
            event_type: event.event_type,
            event_version: event.event_version,
            payload: Json(event.payload),
            metadata: Json(event.metadata),
            recorded_at: event.recorded_at,
        }
    }
}

impl From<EventReadError> for ApiError {
    fn from(error: EventReadError) -> Self {
        Self::failure(&error)
    }
}

/// Which of the tenant's events to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct AuditEventFilter {
    /// Only the events of this aggregate.
    pub aggregate_id: Option<ID>,
    /// Only events of these types (e.g. `OrderSubmitted`); empty or absent: all types.
    pub event_types: Option<Vec<String>>,
    /// Only events appended on behalf of this actor.
    pub actor_id: Option<ID>,
    /// Recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before this time.
    pub to: Option<DateTime<Utc>>,
}

/// The point to replay an aggregate to: exactly one of the two.
#[derive(Debug, OneofObject)]
pub enum AsOf {
    /// Every event recorded at or before this time.
    Time(DateTime<Utc>),
    /// The first `version` events (the state after event number `version`).
    Version(i64),
}

/// An aggregate's state as its events left it at some point.
#[derive(Debug, SimpleObject)]
pub struct AggregateState {
    pub aggregate_type: String,
    pub aggregate_id: ID,
    /// How many events were applied: the sequence number of the last one (0: the aggregate did
    /// not exist yet at that point).
    pub version: i64,
    /// When the last applied event was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The aggregate's state as the domain holds it, serialised; `null` at version 0.
    pub state: Option<Json<Value>>,
}

/// Log order: the position of the last event of the page.
type EventCursor = OpaqueCursor<i64>;

/// Stream order: the sequence number of an event in its aggregate's stream. A struct rather than
/// a bare number, so that a cursor of `events` (a position) is refused here, and this one there.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct StreamAt {
    sequence: i64,
}

type HistoryCursor = OpaqueCursor<StreamAt>;

/// `AggregateHistoryConnection`: its own type, since its cursors are not those of `events`
/// (whose connection is `AuditEventConnection`).
pub struct HistoryName;

impl ConnectionNameType for HistoryName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "AggregateHistoryConnection".to_owned()
    }
}

impl EdgeNameType for HistoryName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "AggregateHistoryEdge".to_owned()
    }
}

type HistoryConnection =
    Connection<HistoryCursor, AuditEvent, EmptyFields, EmptyFields, HistoryName, HistoryName>;

/// The caller's tenant, if the caller may audit.
fn audit_tenant(ctx: &Context<'_>) -> ApiResult<dinghuo_domain::TenantId> {
    let (caller, _) = caller::of(ctx);
    let actor = caller.require(AUDIT_ROLES)?;
    actor.tenant_id.ok_or_else(ApiError::forbidden)
}

/// The event types of a filter, checked.
pub fn event_types(types: Option<Vec<String>>, field: &str) -> ApiResult<Vec<String>> {
    let types = types.unwrap_or_default();
    if types.len() > MAX_EVENT_TYPES {
        return Err(ApiError::validation(
            field,
            format!("at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    if types.iter().any(|t| t.trim().is_empty()) {
        return Err(ApiError::validation(field, "an event type cannot be empty"));
    }
    Ok(types)
}

/// Every event of one aggregate of `tenant`, in order (empty: none, or another tenant's).
async fn stream_of(
    state: &ApiState,
    tenant: dinghuo_domain::TenantId,
    aggregate_id: &str,
) -> ApiResult<Vec<StoredEvent>> {
    let mut filter = EventFilter::tenant(tenant);
    filter.aggregate_id = Some(aggregate_id.to_owned());
    // One snapshot, so that the pages show one and the same stream.
    let mut snapshot = EventSnapshot::begin(state.db()).await?;
    let mut events = Vec::new();
    loop {
        let page = snapshot.read_page(&filter).await?;
        let full = page.len() >= filter.limit as usize;
        filter.after_position = page.last().map(|event| event.position);
        events.extend(page);
        if !full {
            break;
        }
    }
    snapshot.finish().await?;
    // Within one stream, sequence order is the order the aggregate folds them in.
    events.sort_by_key(|event| event.sequence);
    Ok(events)
}

/// Folds `events` (one stream, in sequence order, already read) with the domain's own `apply`,
/// and serialises the result: the stream is read once, by [`stream_of`].
fn replay<A: Aggregate>(events: &[&StoredEvent]) -> ApiResult<Value> {
    let mut aggregate = A::default();
    for event in events {
        let decoded: A::Event = event.decode().map_err(ApiError::internal)?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(ApiError::internal)
}

#[Object]
impl AuditQueries {
    /// The caller's tenant's events in log order, filtered by aggregate, type, actor and time
    /// (auditors and admins).
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<EventCursor, AuditEvent, EmptyFields, EmptyFields>> {
        let tenant = audit_tenant(ctx)?;
        let (_, state) = caller::of(ctx);
        let first = super::paging::page_size(first)?;
        let after = after
            .map(|cursor| {
                EventCursor::decode_cursor(&cursor)
                    .map_err(|_| ApiError::validation("after", "not a cursor of this list"))
            })
            .transpose()?;
        let filter = filter.unwrap_or_default();
        let actor_id = filter
            .actor_id
            .map(|id| {
                Uuid::parse_str(&id)
                    .map_err(|_| ApiError::validation("filter.actorId", "not an actor id"))
            })
            .transpose()?;
        let query = EventFilter {
            tenant,
            aggregate_id: filter.aggregate_id.map(|id| id.0),
            event_types: event_types(filter.event_types, "filter.eventTypes")?,
            actor_id,
            from: filter.from,
            to: filter.to,
            after_position: after.as_ref().map(|cursor| cursor.0),
            // One more than asked, to know whether there is a next page.
            limit: u32::try_from(first + 1).unwrap_or(u32::MAX),
        };
        let mut events = read_page(state.db(), &query)
            .await
            .map_err(ApiError::from)?;
        let has_next = events.len() > first;
        events.truncate(first);
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            events
                .into_iter()
                .map(|event| Edge::new(OpaqueCursor(event.position), AuditEvent::from(event))),
        );
        Ok(connection)
    }

    /// One aggregate's events in stream order (oldest first), a page at a time: `first` at most
    /// 100, 20 when absent. `null` when the caller's tenant has no such aggregate (another
    /// tenant's is indistinguishable from one that does not exist).
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn aggregate_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<HistoryConnection>> {
        let tenant = audit_tenant(ctx)?;
        let (_, state) = caller::of(ctx);
        let page = super::paging::Page::<HistoryCursor>::new(first, after)?;
        let mut filter = StreamFilter {
            tenant,
            aggregate_id: id.0,
            after_sequence: page.after.as_ref().map(|cursor| cursor.0.sequence),
            limit: u32::try_from(page.limit()).unwrap_or(u32::MAX),
        };
        let events = read_stream_page(state.db(), &filter).await?;
        if events.is_empty() {
            // Past the end of a stream is an empty page; no stream at all is `null`.
            if filter.after_sequence.is_none() {
                return Ok(None);
            }
            filter.after_sequence = None;
            filter.limit = 1;
            if read_stream_page(state.db(), &filter).await?.is_empty() {
                return Ok(None);
            }
        }
        page.connection(
            events,
            |event| {
                OpaqueCursor(StreamAt {
                    sequence: event.sequence,
                })
            },
            |event| Ok(AuditEvent::from(event)),
        )
        .map(Some)
    }

    /// The state of one aggregate as of a time or a version, replayed from its events; `null`
    /// when the caller's tenant has no such aggregate. A version past the last event gives the
    /// current state (its `version` says how far the stream goes).
    async fn aggregate_at(
        &self,
        ctx: &Context<'_>,
        id: ID,
        as_of: AsOf,
    ) -> ApiResult<Option<AggregateState>> {
        let tenant = audit_tenant(ctx)?;
        let (_, state) = caller::of(ctx);
        if let AsOf::Version(version) = as_of {
            if version < 0 {
                return Err(ApiError::validation(
                    "asOf.version",
                    "a version is 0 or more",
                ));
            }
        }
        // The tenant's own stored events decide whether the caller may see the aggregate, which
        // type it is, and (for a time) how far to replay.
        let events = stream_of(state, tenant, &id).await?;
        let Some(first) = events.first() else {
            return Ok(None);
        };
        let aggregate_type = first.aggregate_type.clone();
        let reached: Vec<&StoredEvent> = events
            .iter()
            .filter(|event| event.aggregate_type == aggregate_type)
            .filter(|event| match as_of {
                AsOf::Time(at) => event.recorded_at <= at,
                AsOf::Version(version) => event.sequence <= version,
            })
            .collect();
        let Some(last) = reached.last() else {
            return Ok(Some(AggregateState {
                aggregate_type,
                aggregate_id: id,
                version: 0,
                recorded_at: None,
                state: None,
            }));
        };
        let version = last.sequence;
        let recorded_at = last.recorded_at;
        let value = match aggregate_type.as_str() {
            Tenant::TYPE => replay::<Tenant>(&reached)?,
            Partner::TYPE => replay::<Partner>(&reached)?,
            Contact::TYPE => replay::<Contact>(&reached)?,
            Product::TYPE => replay::<Product>(&reached)?,
            Order::TYPE => replay::<Order>(&reached)?,
            Member::TYPE => replay::<Member>(&reached)?,
            PriceList::TYPE => replay::<PriceList>(&reached)?,
            ListPrices::TYPE => replay::<ListPrices>(&reached)?,
            other => {
                return Err(ApiError::internal(format!(
                    "no aggregate type {other:?} to replay"
                )))
            }
        };
        Ok(Some(AggregateState {
            aggregate_type,
            aggregate_id: id,
            version,
            recorded_at: Some(recorded_at),
            state: Some(Json(value)),
        }))
    }
}
