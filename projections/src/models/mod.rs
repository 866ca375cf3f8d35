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
pub use onboarding::OnboardingProjection;
pub use orders::{sales_day, OrdersProjection};
pub use partners::PartnersProjection;
pub use products::ProductsProjection;
pub use tenants::TenantsProjection;

use crate::feed::FeedEvent;
use crate::projection::{Projection, ProjectionError};

/// Every projection, in the order the CLI lists them.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantsProjection),
        Arc::new(ProductsProjection),
        Arc::new(OrdersProjection),
        Arc::new(PartnersProjection),
        Arc::new(ContactsProjection),
        Arc::new(OnboardingProjection),
        // A reactor (never rebuilt): the SMS outbox.
        Arc::new(crate::outbox::NotificationsReactor::default()),
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
