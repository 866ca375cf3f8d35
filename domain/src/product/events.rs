use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::values::{Category, Money, Name, QuantityRules, Sku, Unit};

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
    /// `None` takes the product out of its category.
    ProductCategorized {
        category: Option<Category>,
    },
    /// Checked on every line that orders the product; all `None` lifts the rules.
    ProductQuantityRulesSet {
        rules: QuantityRules,
    },
}

impl DomainEvent for ProductEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ProductListed { .. } => "ProductListed",
            Self::ProductRepriced { .. } => "ProductRepriced",
            Self::ProductDelisted => "ProductDelisted",
            Self::ProductCategorized { .. } => "ProductCategorized",
            Self::ProductQuantityRulesSet { .. } => "ProductQuantityRulesSet",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
