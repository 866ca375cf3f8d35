//! The read models, one file each. [`all`] lists every projection the service runs.

mod contacts;
mod onboarding;
mod orders;
mod partners;
mod products;
mod submissions;
mod tenants;

use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use contacts::ContactsProjection;
use dinghuo_store::feed::FeedEvent;
pub use onboarding::OnboardingProjection;
pub use orders::{sales_day, OrdersProjection};
pub use partners::PartnersProjection;
pub use products::ProductsProjection;
pub use tenants::TenantsProjection;

use crate::outbox::{NotificationsReactor, OutboxKey};
use crate::projection::{Projection, ProjectionError};

/// Every projection, in the order the CLI lists them: enough to name, list, report on and
/// rebuild them. The SMS reactor among them has no outbox key and fails on the first message
/// with a password; a process that runs it uses [`all_with_key`].
pub fn all() -> Vec<Arc<dyn Projection>> {
    with_reactor(NotificationsReactor::default())
}

/// Every projection, the SMS reactor sealing the passwords it queues with `key`.
pub fn all_with_key(key: OutboxKey) -> Vec<Arc<dyn Projection>> {
    with_reactor(NotificationsReactor::default().with_key(key))
}

fn with_reactor(reactor: NotificationsReactor) -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantsProjection),
        Arc::new(ProductsProjection),
        Arc::new(OrdersProjection),
        Arc::new(PartnersProjection),
        Arc::new(ContactsProjection),
        Arc::new(OnboardingProjection),
        // A reactor (never rebuilt): the SMS outbox.
        Arc::new(reactor),
    ]
}

/// Finds a projection by name.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all()
        .into_iter()
        .find(|projection| projection.name() == name)
}

/// Decodes the payload of an event of `aggregate_type`, or `None` for other aggregates' events.
/// A payload that does not decode stops the projection: it is never skipped silently.
pub(crate) fn decode<E: DeserializeOwned>(
    event: &FeedEvent,
    aggregate_type: &str,
) -> Result<Option<E>, ProjectionError> {
    if event.aggregate_type != aggregate_type {
        return Ok(None);
    }
    // From a borrowed `Value`: no copy of the payload per projection.
    E::deserialize(&event.payload)
        .map(Some)
        .map_err(|error| ProjectionError::unappliable(event, error.to_string()))
}

/// Who caused the event (the `actor_id` of its metadata).
pub(crate) fn actor(event: &FeedEvent) -> Option<String> {
    metadata_text(event, "actor_id")
}

/// The role of who caused the event (`actor_role`: admin, employee, contact, …).
pub(crate) fn actor_role(event: &FeedEvent) -> Option<String> {
    metadata_text(event, "actor_role")
}

fn metadata_text(event: &FeedEvent, key: &str) -> Option<String> {
    event
        .metadata
        .get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}
