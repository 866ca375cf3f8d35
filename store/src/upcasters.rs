//! Reading old event shapes as today's: the upcasters every read of the log applies (the event
//! stores, the batched stream reads, the audit's decoding, and every projection).
//!
//! - `OrderSubmitted` 1.0 → 2.0 (issue 18): each line gains `price_reason` `CATALOG` (every
//!   1.0 order was priced from the catalog), the order gains `placed_by: null` (placed by its
//!   contact, who stays `contact_id`).

use std::sync::LazyLock;

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use dinghuo_domain::order::ORDER_SUBMITTED_VERSION;
use serde_json::{json, Value};

/// The upcasters every read of an aggregate's events applies, alone or with other streams.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(OrderSubmittedV1)]
}

/// The same upcasters, made once for the readers that apply them to every event they decode
/// (every projection, on the hot path of the feed).
static SHARED: LazyLock<Vec<Box<dyn EventUpcaster>>> = LazyLock::new(upcasters);

/// `event` as today's code reads it: every upcaster that applies to it, in order. For readers
/// that decode stored rows themselves (an audit replay) rather than through an event store.
pub fn upcast(mut event: SerializedEvent) -> SerializedEvent {
    for upcaster in SHARED.iter() {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event
}

/// A stored payload as today's code reads it, or `None` when it is already today's shape (so a
/// reader that borrows payloads copies only the old ones).
pub fn upcast_payload(event_type: &str, event_version: &str, payload: &Value) -> Option<Value> {
    if !SHARED
        .iter()
        .any(|upcaster| upcaster.can_upcast(event_type, event_version))
    {
        return None;
    }
    let event = SerializedEvent {
        aggregate_id: String::new(),
        sequence: 0,
        aggregate_type: String::new(),
        event_type: event_type.to_owned(),
        event_version: event_version.to_owned(),
        payload: payload.clone(),
        metadata: Value::Null,
    };
    Some(upcast(event).payload)
}

/// `OrderSubmitted` 1.0: lines without a price reason, no `placed_by`.
struct OrderSubmittedV1;

impl EventUpcaster for OrderSubmittedV1 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "OrderSubmitted" && event_version == "1.0"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        if let Some(submitted) = event
            .payload
            .get_mut("OrderSubmitted")
            .and_then(Value::as_object_mut)
        {
            submitted.entry("placed_by").or_insert(Value::Null);
            if let Some(lines) = submitted.get_mut("lines").and_then(Value::as_array_mut) {
                for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                    line.entry("price_reason")
                        .or_insert_with(|| json!({ "kind": "CATALOG" }));
                }
            }
        }
        event.event_version = ORDER_SUBMITTED_VERSION.to_owned();
        event
    }
}

#[cfg(test)]
mod tests {
    use dinghuo_domain::order::{OrderEvent, PlacedBy};
    use dinghuo_domain::pricing::PriceReason;

    use super::*;

    /// An `OrderSubmitted` exactly as version 1.0 stored it.
    const STORED_V1: &str = r#"{"OrderSubmitted":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","partner_id":"01900000-0000-7000-8000-0000000000b1","contact_id":"01900000-0000-7000-8000-0000000000c1","lines":[{"product_id":"01900000-0000-7000-8000-0000000000d1","sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":3,"unit_price":{"amount_minor":1250,"currency":"CNY"},"line_total":{"amount_minor":3750,"currency":"CNY"}}],"total":{"amount_minor":3750,"currency":"CNY"},"note":"Deliver before Friday"}}"#;

    #[test]
    fn a_stored_version_one_submission_reads_as_catalog_priced_and_placed_by_its_contact() {
        let stored: Value = serde_json::from_str(STORED_V1).unwrap();
        let payload = upcast_payload("OrderSubmitted", "1.0", &stored).expect("upcast");
        let event: OrderEvent = serde_json::from_value(payload).unwrap();
        let OrderEvent::OrderSubmitted {
            contact_id,
            placed_by,
            lines,
            total,
            ..
        } = event
        else {
            panic!("an OrderSubmitted");
        };
        assert!(contact_id.is_some());
        assert_eq!(placed_by, None::<PlacedBy>);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].price_reason, PriceReason::Catalog);
        assert_eq!(total.amount_minor, 3750);
    }

    #[test]
    fn todays_shapes_and_other_events_are_left_alone() {
        let stored: Value = serde_json::from_str(STORED_V1).unwrap();
        assert_eq!(upcast_payload("OrderSubmitted", "2.0", &stored), None);
        assert_eq!(upcast_payload("OrderConfirmed", "1.0", &stored), None);
    }
}
