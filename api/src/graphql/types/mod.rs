//! Object types, each read from its read model.

pub mod money;
pub mod order;
pub mod scope;

pub use money::Money;
pub use order::{Order, OrderLine, OrderStatus};
pub use scope::Scope;
