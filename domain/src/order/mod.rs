//! A sales order from a partner to its tenant. It never holds more than its own lines; the
//! partner, contact, tenant and products it depends on are consulted through the lookup.

mod aggregate;
mod commands;
mod events;
mod pricing;
#[cfg(test)]
mod tests;

pub use aggregate::{Order, OrderStatus};
pub use commands::{OrderActor, OrderCommand, RequestedLine};
pub use events::{OrderEvent, OrderLine};
pub use pricing::{price_line, LinePrice, PriceSource};
