//! Object types, each mapped from the rows of its read model (`projections::read`).

pub mod apps;
pub mod contact;
pub mod member;
pub mod money;
pub mod order;
pub mod partner;
pub mod price_list;
pub mod pricing;
pub mod product;
pub mod tenant;

pub use contact::Contact;
pub use member::{Membership, StaffMember};
pub use money::Money;
pub use order::{Order, OrderLine, OrderStatus};
pub use partner::Partner;
pub use product::Product;
pub use tenant::Tenant;
