//! What every projection reads of an event: its payload decoded, and who caused it.

use serde::de::DeserializeOwned;

use dinghuo_store::feed::FeedEvent;

use crate::projection::ProjectionError;

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
