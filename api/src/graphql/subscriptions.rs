//! Subscriptions (served over WebSocket at `/graphql/ws`): `orderUpdated` (an order as the read
//! model shows it, each time it changes) and `events` (new events of the caller's tenant, for
//! auditors and admins).
//!
//! Both follow the log rather than a message bus, so they work the same with any number of API
//! processes: they wake on the commit signal ([`dinghuo_projections::Wakeup`], fed by this
//! process's commands and, when the processors run, by Postgres `NOTIFY` from other processes)
//! and otherwise poll every [`POLL`].

use std::collections::VecDeque;
use std::time::Duration;

use async_graphql::{Context, Subscription, ID};
use chrono::{DateTime, Utc};
use dinghuo_domain::ErrorCode;
use dinghuo_projections::{wait_for_progress, Progress, WaitError};
use dinghuo_store::feed::head_of_stream;
use dinghuo_store::Database;
use dinghuo_store::{read_feed, Checkpoint, FeedError, FeedEvent};
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::watch;
use uuid::Uuid;

use super::caller::{self, Caller};
use super::error::ApiError;
use super::queries::audit::{self, AuditEvent, AUDIT_ROLES};
use super::state::ApiState;
use super::types::{order, Order, OrderStatus};

/// The longest a subscriber waits between two looks at the log when no commit signal comes (a
/// commit made by another process while this one runs no processors).
pub const POLL: Duration = Duration::from_millis(500);

/// Events read from the feed at once by an `events` subscriber.
const FEED_PAGE: u32 = 500;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// The order now, then again each time it changes, as long as the caller may see it (the
    /// stream ends when it no longer may: unlinked, or `VIEW_ORDERS` withdrawn). `NOT_FOUND`
    /// for an order the caller cannot see, which for a contact without `VIEW_ORDERS` is any.
    async fn order_updated(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Order>>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller
            .order_scope(state)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let db = state.db().clone();
        let order_id = order_id.to_string();
        // Start from a read model that shows the order's latest event, so that the first answer
        // is current and no later change is mistaken for one already shown.
        let head = head_of_stream(&db, "Order", &order_id)
            .await
            .map_err(ApiError::from)?;
        if let Some(target) = head {
            settle(&db, &state.progress, target, state.read_your_writes_timeout).await?;
        }
        let current = order::find(&db, &scope, &order_id)
            .await?
            .ok_or_else(|| ApiError::not_found("order"))?;
        let watcher = OrderWatcher {
            db,
            caller: caller.clone(),
            state: state.clone(),
            order_id,
            wake: state.wakeup.subscribe(),
            progress: state.progress.clone(),
            timeout: state.read_your_writes_timeout,
            head,
            shown: None,
            first: Some(current),
            done: false,
        };
        let updates = stream::unfold(watcher, |mut watcher| async move {
            let item = watcher.next().await?;
            Some((item, watcher))
        });
        Ok(until_token_expires(updates, caller.valid_until))
    }

    /// Events of the caller's tenant appended from now on, in the commit-safe order of the
    /// global feed, optionally of one aggregate or of some types only (auditors and admins).
    /// It starts at the last event that is safe to read, so it never misses one; on Postgres it
    /// may therefore begin with an event committed a moment before the subscription (while an
    /// older transaction was still running).
    async fn events(
        &self,
        ctx: &Context<'_>,
        aggregate_id: Option<ID>,
        event_types: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AuditEvent>>> {
        let (caller, state) = caller::of(ctx);
        let actor = caller.require(AUDIT_ROLES)?;
        let tenant = actor.tenant_id.ok_or_else(ApiError::forbidden)?;
        let event_types = audit::event_types(event_types, "eventTypes")?;
        let db = state.db().clone();
        let checkpoint = feed_head(&db).await?;
        let follower = EventFollower {
            db,
            wake: state.wakeup.subscribe(),
            tenant: tenant.as_uuid(),
            aggregate_id: aggregate_id.map(|id| id.0),
            event_types,
            checkpoint,
            pending: VecDeque::new(),
            done: false,
        };
        let events = stream::unfold(follower, |mut follower| async move {
            let item = follower.next().await?;
            Some((item, follower))
        });
        Ok(until_token_expires(events, caller.valid_until))
    }
}

/// `items` for as long as the caller's token is accepted; then one `UNAUTHENTICATED` error, and
/// the end. A subscription lives no longer than the token that opened it: the client subscribes
/// again with a fresh one.
fn until_token_expires<T: Send + 'static>(
    items: impl Stream<Item = async_graphql::Result<T>> + Send + 'static,
    valid_until: Option<DateTime<Utc>>,
) -> impl Stream<Item = async_graphql::Result<T>> + Send + 'static {
    let left = valid_until.map(|until| (until - Utc::now()).to_std().unwrap_or(Duration::ZERO));
    let expiry = async move {
        match left {
            Some(left) => tokio::time::sleep(left).await,
            None => std::future::pending().await,
        }
    };
    let state = (Box::pin(items), Box::pin(expiry), false);
    stream::unfold(state, |(mut items, mut expiry, expired)| async move {
        if expired {
            return None;
        }
        tokio::select! {
            item = items.next() => item.map(|item| (item, (items, expiry, false))),
            () = &mut expiry => {
                let error = ApiError::new(
                    ErrorCode::Unauthenticated,
                    "the token has expired: subscribe again with a fresh one",
                );
                Some((Err(error.into()), (items, expiry, true)))
            }
        }
    })
}

/// Waits for the next commit signal, or one poll interval if none comes first.
async fn tick(wake: &mut watch::Receiver<u64>) {
    tokio::select! {
        changed = wake.changed() => {
            // The signal's sender is gone (the server is stopping): fall back to polling.
            if changed.is_err() {
                tokio::time::sleep(POLL).await;
            }
        }
        _ = tokio::time::sleep(POLL) => {}
    }
}

/// Waits, bounded, until the orders read model has passed `target`, woken by the runner's
/// reports (`progress`). A projection that is behind is not an error: the subscriber looks again
/// on its next tick.
async fn settle(
    db: &Database,
    progress: &Progress,
    target: Checkpoint,
    timeout: Duration,
) -> Result<bool, ApiError> {
    match wait_for_progress(db, &["orders"], target, timeout, progress).await {
        Ok(()) => Ok(true),
        Err(WaitError::TimedOut { .. } | WaitError::NotRunning { .. }) => Ok(false),
        Err(WaitError::Database(error)) => Err(error.into()),
    }
}

/// The feed checkpoint of the last event that is safe to read now (see `store::feed::safe_head`).
async fn feed_head(db: &Database) -> Result<Checkpoint, ApiError> {
    dinghuo_store::feed::safe_head(db)
        .await
        .map_err(|error| match error {
            FeedError::Database(error) => error.into(),
            malformed @ FeedError::Malformed { .. } => ApiError::internal(malformed),
        })
}

/// The state of one `orderUpdated` subscription.
struct OrderWatcher {
    db: Database,
    /// Who subscribed: which orders it may read is asked again at each change.
    caller: Caller,
    state: ApiState,
    order_id: String,
    wake: watch::Receiver<u64>,
    /// The runner's reports, which end a wait for the read model.
    progress: Progress,
    timeout: Duration,
    /// The order's last event the subscriber has shown the read model of.
    head: Option<Checkpoint>,
    /// What identifies the last order answered, to answer only changes.
    shown: Option<(chrono::DateTime<chrono::Utc>, OrderStatus)>,
    /// The order as it was when the subscription started, not yet answered.
    first: Option<Order>,
    done: bool,
}

impl OrderWatcher {
    async fn next(&mut self) -> Option<async_graphql::Result<Order>> {
        if self.done {
            return None;
        }
        if let Some(order) = self.first.take() {
            self.shown = Some((order.updated_at, order.status));
            return Some(Ok(order));
        }
        loop {
            tick(&mut self.wake).await;
            match self.look().await {
                Ok(None) => continue,
                Ok(Some(Some(order))) => return Some(Ok(order)),
                Ok(Some(None)) => {
                    // No longer visible to the caller (e.g. an employee unlinked, or a
                    // contact's VIEW_ORDERS withdrawn): end quietly.
                    self.done = true;
                    return None;
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error.into()));
                }
            }
        }
    }

    /// `None`: nothing new to answer; `Some(None)`: the caller may no longer see the order;
    /// `Some(Some(order))`: the order changed.
    async fn look(&mut self) -> Result<Option<Option<Order>>, ApiError> {
        let head = head_of_stream(&self.db, "Order", &self.order_id).await?;
        if head == self.head {
            return Ok(None);
        }
        if let Some(target) = head {
            if !settle(&self.db, &self.progress, target, self.timeout).await? {
                return Ok(None);
            }
        }
        self.head = head;
        let Some(scope) = self.caller.order_scope(&self.state).await? else {
            return Ok(Some(None));
        };
        let Some(order) = order::find(&self.db, &scope, &self.order_id).await? else {
            return Ok(Some(None));
        };
        let stamp = (order.updated_at, order.status);
        if self.shown == Some(stamp) {
            return Ok(None);
        }
        self.shown = Some(stamp);
        Ok(Some(Some(order)))
    }
}

/// The state of one `events` subscription: a reader of the commit-safe global feed that keeps
/// the caller's tenant's events.
struct EventFollower {
    db: Database,
    wake: watch::Receiver<u64>,
    tenant: Uuid,
    aggregate_id: Option<String>,
    event_types: Vec<String>,
    checkpoint: Checkpoint,
    /// Events read and matched, not yet answered.
    pending: VecDeque<AuditEvent>,
    done: bool,
}

impl EventFollower {
    fn wants(&self, event: &FeedEvent) -> bool {
        event.tenant_id == Some(self.tenant)
            && self
                .aggregate_id
                .as_ref()
                .is_none_or(|id| *id == event.aggregate_id)
            && (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
    }

    async fn next(&mut self) -> Option<async_graphql::Result<AuditEvent>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            let page = match read_feed(&self.db, self.checkpoint, FEED_PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    self.done = true;
                    return Some(Err(ApiError::failure(&error).into()));
                }
            };
            let Some(last) = page.last() else {
                tick(&mut self.wake).await;
                continue;
            };
            self.checkpoint = last.checkpoint;
            let wanted: Vec<AuditEvent> = page
                .into_iter()
                .filter(|event| self.wants(event))
                .map(AuditEvent::from)
                .collect();
            self.pending.extend(wanted);
        }
    }
}
