//! A product of the tenant's catalog. Its id is derived from (tenant, SKU), which makes SKUs
//! unique per tenant without a lookup table: see `ProductId::for_sku`.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{CatalogEntry, Product};
pub use commands::ProductCommand;
pub use events::ProductEvent;
