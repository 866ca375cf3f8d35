//! What every projection reads of an event: its payload decoded, and who caused it.

use serde::de::DeserializeOwned;

use dinghuo_domain::Quantity;
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
    // From a borrowed `Value`: no copy of the payload per projection, but of an old shape,
    // read as today's like every reader of the log reads it.
    let upcast = dinghuo_store::upcasters::upcast_payload(
        &event.event_type,
        &event.event_version,
        &event.payload,
    );
    E::deserialize(upcast.as_ref().unwrap_or(&event.payload))
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

/// A quantity as the read models store it (`bigint`).
pub(crate) fn quantity_value(quantity: Quantity) -> i64 {
    i64::from(quantity.get())
}

/// A set of names (categories, levels, ids) as the read models store it: a JSON array of
/// strings in the set's order, written here so that both backends hold the same text.
pub(crate) fn json_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> String {
    serde_json::Value::from(items.into_iter().map(Into::into).collect::<Vec<String>>()).to_string()
}
