use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Category, Money, Name, QuantityRules, Sku, Unit};

#[derive(Debug, Clone, PartialEq)]
pub enum ProductCommand {
    ListProduct {
        sku: Sku,
        name: Name,
        unit: Unit,
        price: Money,
    },
    RepriceProduct {
        price: Money,
    },
    DelistProduct,
    CategorizeProduct {
        category: Option<Category>,
    },
    SetQuantityRules {
        rules: QuantityRules,
    },
}

impl Needs for Scoped<ProductCommand> {
    fn needs(&self) -> Wanted {
        match &self.command {
            ProductCommand::ListProduct { .. } => Wanted::new().tenant(self.tenant_id),
            ProductCommand::RepriceProduct { .. }
            | ProductCommand::DelistProduct
            | ProductCommand::CategorizeProduct { .. }
            | ProductCommand::SetQuantityRules { .. } => Wanted::new(),
        }
    }
}
