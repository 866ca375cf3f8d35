use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{PriceListId, ProductId, TenantId};
use crate::values::{Money, Name, PriceListScope, Priority, Quantity};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PriceListEvent {
    PriceListCreated {
        tenant_id: TenantId,
        name: Name,
        priority: Priority,
    },
    /// The list prices from `from` (inclusive) until `to` (exclusive); `None` is open-ended.
    PriceListValiditySet {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    PriceListScopeSet {
        scope: PriceListScope,
    },
    PriceListArchived,
}

impl DomainEvent for PriceListEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PriceListCreated { .. } => "PriceListCreated",
            Self::PriceListValiditySet { .. } => "PriceListValiditySet",
            Self::PriceListScopeSet { .. } => "PriceListScopeSet",
            Self::PriceListArchived => "PriceListArchived",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}

/// The prices of a list, stored in the stream of the product they price ([`super::ListPrices`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ListPricesEvent {
    /// `min_quantity` 1 is the list's base price for the product; higher ones are volume breaks.
    PriceSet {
        tenant_id: TenantId,
        price_list_id: PriceListId,
        product_id: ProductId,
        min_quantity: Quantity,
        unit_price: Money,
    },
    PriceRemoved {
        price_list_id: PriceListId,
        product_id: ProductId,
        min_quantity: Quantity,
    },
}

impl DomainEvent for ListPricesEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PriceSet { .. } => "PriceSet",
            Self::PriceRemoved { .. } => "PriceRemoved",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
