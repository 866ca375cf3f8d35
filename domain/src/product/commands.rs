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
