//! Where an event stream stands: the receipt of a write, which readers wait on.

/// One event stream after a write: its aggregate, and the sequence number of its last event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHead {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
}
