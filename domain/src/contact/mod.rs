//! The contact: a person, either a CRM contact of a customer or an employee of the tenant, and
//! its links as a partner contact (对接人), its bindings and its permission restrictions.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::Contact;
pub use commands::ContactCommand;
pub use events::{Affiliation, ContactEvent};
