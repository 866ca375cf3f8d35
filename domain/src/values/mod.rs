//! Value objects: each is parsed once at the edge and is valid by construction afterwards.

mod catalog;
mod enums;
mod menu;
mod money;
mod phone;
mod quantity;
mod sku;
mod text;

pub use catalog::{
    Assortment, PriceListScope, Priority, QuantityProblem, QuantityRules, MAX_ASSORTMENT,
    MAX_SCOPE_LEVELS, MAX_SCOPE_PARTNERS,
};
pub use enums::{App, Channel, PartnerMode, Permission, Side};
pub use menu::{MenuAction, MenuButton, WechatAppId};
pub use money::{Currency, Money};
pub use phone::Phone;
pub use quantity::Quantity;
pub use sku::Sku;
pub use text::{
    Address, Carrier, Category, Level, Name, Note, OpenId, Reason, TrackingNumber, Unit,
};
