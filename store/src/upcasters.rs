//! Reading old event shapes as today's: the upcasters every read of the log applies.

use cqrs_es::persist::EventUpcaster;

/// The upcasters every read of an aggregate's events applies, alone or with other streams:
/// none yet, every stored event is at `EVENT_VERSION` 1.0. An event whose shape changes gets
/// its upcaster here, and every reader follows.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
}
