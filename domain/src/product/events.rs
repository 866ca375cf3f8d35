use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::values::{Money, Name, Sku, Unit};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProductEvent {
    ProductListed {
        tenant_id: TenantId,
        sku: Sku,
        name: Name,
        unit: Unit,
        price: Money,
    },
    ProductRepriced {
        price: Money,
    },
    ProductDelisted,
}

impl DomainEvent for ProductEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ProductListed { .. } => "ProductListed",
            Self::ProductRepriced { .. } => "ProductRepriced",
            Self::ProductDelisted => "ProductDelisted",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
