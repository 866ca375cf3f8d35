//! The tenant: the upstream enterprise. It holds its own licences, apps, WeChat accounts and
//! default permissions, never its partners (those are aggregates of their own).

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::Tenant;
pub use commands::TenantCommand;
pub use events::TenantEvent;
