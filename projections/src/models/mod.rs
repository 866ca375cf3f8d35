//! The read models, one file each. [`all`] lists every projection the service runs.

mod products;

use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use products::ProductsProjection;

use crate::feed::FeedEvent;
use crate::projection::{Projection, ProjectionError};

/// Every projection, in the order the CLI lists them.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(ProductsProjection)]
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
    serde_json::from_value(event.payload.clone())
        .map(Some)
        .map_err(|error| ProjectionError::unappliable(event, error.to_string()))
}
