use chrono::{DateTime, Utc};

use crate::ids::{PriceListId, ProductId};
use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Money, Name, PriceListScope, Priority, Quantity};

#[derive(Debug, Clone, PartialEq)]
pub enum PriceListCommand {
    /// Creates the list; a scope and validity given here are set in the same append.
    CreatePriceList {
        name: Name,
        priority: Priority,
        scope: Option<PriceListScope>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    SetPriceListValidity {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    SetPriceListScope {
        scope: PriceListScope,
    },
    ArchivePriceList,
}

impl Needs for Scoped<PriceListCommand> {
    fn needs(&self) -> Wanted {
        match &self.command {
            PriceListCommand::CreatePriceList { .. } => Wanted::new().tenant(self.tenant_id),
            _ => Wanted::new(),
        }
    }
}

/// Sent to the [`super::ListPrices`] of one product.
#[derive(Debug, Clone, PartialEq)]
pub enum ListPricesCommand {
    SetPrice {
        price_list_id: PriceListId,
        product_id: ProductId,
        min_quantity: Quantity,
        unit_price: Money,
    },
    RemovePrice {
        price_list_id: PriceListId,
        product_id: ProductId,
        min_quantity: Quantity,
    },
}

impl ListPricesCommand {
    pub fn price_list_id(&self) -> PriceListId {
        match self {
            Self::SetPrice { price_list_id, .. } | Self::RemovePrice { price_list_id, .. } => {
                *price_list_id
            }
        }
    }
    pub fn product_id(&self) -> ProductId {
        match self {
            Self::SetPrice { product_id, .. } | Self::RemovePrice { product_id, .. } => *product_id,
        }
    }
}

impl Needs for Scoped<ListPricesCommand> {
    /// A price is set only on a list of the tenant that is not archived, for one of its products.
    fn needs(&self) -> Wanted {
        Wanted::new()
            .price_list(self.command.price_list_id())
            .products([self.command.product_id()])
    }
}
