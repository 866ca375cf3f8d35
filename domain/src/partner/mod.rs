//! The partner enterprise (对接企业): a CRM customer of the tenant that the tenant connected as a
//! downstream dealer. Its id is the customer's id. It never holds its contacts or its orders.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::Partner;
pub use commands::PartnerCommand;
pub use events::PartnerEvent;
