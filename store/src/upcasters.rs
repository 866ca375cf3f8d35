//! Reading old event shapes as today's: the upcasters every read of the log applies.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};

/// The upcasters every read of an aggregate's events applies, alone or with other streams:
/// none yet, every stored event is at `EVENT_VERSION` 1.0. An event whose shape changes gets
/// its upcaster here, and every reader follows.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
}

/// `event` as today's code reads it: every upcaster that applies to it, in order. For readers
/// that decode stored rows themselves (an audit replay) rather than through an event store.
pub fn upcast(mut event: SerializedEvent) -> SerializedEvent {
    for upcaster in upcasters() {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event
}
