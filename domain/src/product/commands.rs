use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Money, Name, Sku, Unit};

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
}

impl Needs for Scoped<ProductCommand> {
    fn needs(&self) -> Wanted {
        match &self.command {
            ProductCommand::ListProduct { .. } => Wanted::new().tenant(self.tenant_id),
            ProductCommand::RepriceProduct { .. } | ProductCommand::DelistProduct => Wanted::new(),
        }
    }
}
