//! A sales order from a partner to its tenant. It never holds more than its own lines; the
//! partner, contact, tenant and products it depends on are consulted through the lookup.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{Order, OrderStatus};
pub use commands::{check_lines, OrderActor, OrderCommand, RequestedLine, Submitter};
pub use events::{OrderEvent, OrderLine, PlacedBy, ORDER_SUBMITTED_VERSION};
