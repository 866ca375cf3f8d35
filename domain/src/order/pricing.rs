//! The one place a line's price is decided. Today it is the catalog price; per-dealer price lists
//! and volume breaks (DESIGN §4) will extend `PriceSource` without touching the order handler.

use crate::product::CatalogEntry;
use crate::values::Money;

/// Why a line costs what it costs, so that the price can be explained to the dealer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceSource {
    /// The product's current catalog price.
    Catalog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePrice {
    pub unit_price: Money,
    pub source: PriceSource,
}

pub fn price_line(entry: &CatalogEntry<'_>) -> LinePrice {
    LinePrice {
        unit_price: entry.price,
        source: PriceSource::Catalog,
    }
}
