//! Dealer price lists (DESIGN §4). Two aggregates:
//!
//! - [`PriceList`]: one list's name, priority, validity, scope and whether it is archived;
//! - [`ListPrices`]: one product's prices in every list (its stream's id is derived from the
//!   product's: `ProductId::list_prices_id`), so that
//!   pricing a line reads one stream however many lists there are, and a list of ten thousand
//!   prices is never read whole to price one order.
//!
//! A submission finds the lists by id in the tenant's bounded index
//! (`TenantEvent::PriceListIndexed`); every list it finds is checked again on its own state, so a
//! list indexed but never created, or archived but not yet unindexed, prices nothing.

mod aggregate;
mod commands;
mod events;
mod list_prices;
#[cfg(test)]
mod tests;

pub use aggregate::{check_validity, PriceList};
pub use commands::{ListPricesCommand, PriceListCommand};
pub use events::{ListPricesEvent, PriceListEvent};
pub use list_prices::{Breaks, ListPrices};
