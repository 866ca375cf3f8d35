//! Object types, each read from its read model.

pub mod contact;
pub mod money;
pub mod order;
pub mod partner;
pub mod product;
pub mod scope;
pub mod tenant;

pub use contact::Contact;
pub use money::Money;
pub use order::{Order, OrderLine, OrderStatus};
pub use partner::Partner;
pub use product::Product;
pub use scope::Scope;
pub use tenant::Tenant;
