//! A staff membership: one person (a phone) in one tenant, as its admin or as an employee, who
//! signs in as itself (DESIGN §4, Identity). Its id is derived from (tenant, phone), which makes
//! a phone at most one membership per tenant without a lookup table: see `MemberId::for_phone`.

mod aggregate;
mod commands;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::Member;
pub use commands::MemberCommand;
pub use events::{MemberEvent, StaffRole};
