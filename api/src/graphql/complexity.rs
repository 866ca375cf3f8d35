//! How much a query may ask for. async-graphql counts each field 1 plus its selection; a field
//! that returns many items says here how many it can return, so that its selection counts once
//! per item and the complexity limit (`--max-complexity`) bounds the size of the answer before
//! anything is read:
//! - a connection: `first` items (20 when absent, at most 100), [`page`];
//! - a plain list: its hard maximum, [`list`] — order lines 200 (`OrderCommand::MAX_LINES`), a
//!   menu 3 buttons, the funnel 6 steps, permissions and apps as many as their vocabularies hold;
//! - a list the domain does not bound (a contact's partner links, a tenant's WeChat accounts):
//!   the most a tenant is expected to have ([`PARTNER_LINKS`], [`WECHAT_ACCOUNTS`]); more are
//!   still answered, and the response size cap bounds what such lists can add.
//!
//! Every root field also costs a base of its kind ([`READ`], [`COMMAND`], [`SUBSCRIPTION`]),
//! added in one place ([`crate::graphql::roots`]), so that a limit high enough for a frontend's
//! page of orders with their lines does not also admit thousands of aliased reads or commands.
//!
//! A test walks the schema and fails for a list field without a complexity of its own, or a root
//! field without its base.

use async_graphql::EnumType;

use crate::graphql::queries::paging::{DEFAULT_PAGE, MAX_PAGE};
use crate::graphql::types::apps::{App, Permission};

/// What a root query field that reads the database costs on top of its selection: each runs at
/// least one statement, which a field's count of 1 does not reflect. At the default limit
/// (50,000) a request holds at most 2,500 such reads, however cheap their selections, while a
/// page of 100 orders with two line fields (about 40,000) still fits.
pub const READ: usize = 20;

/// What a mutation costs on top of its selection: a command loads its aggregate, appends in a
/// transaction and waits for its read model (read-your-writes). At the default limit a request
/// runs at most 500 of them, and they run one after another.
pub const COMMAND: usize = 100;

/// What a subscription costs on top of its selection: a stream that follows the log for as long
/// as the client stays, polling when no commit signal comes.
pub const SUBSCRIPTION: usize = 100;

/// Root query fields that read no database and so keep async-graphql's count (1 plus their
/// selection): `viewer` answers from the token the request already checked.
pub const FREE_READS: &[&str] = &["viewer"];

/// Counted for a contact's partner links: an employee serving many dealers has one each, and the
/// domain sets no maximum.
pub const PARTNER_LINKS: usize = 20;

/// Counted for a tenant's bound WeChat official accounts (a brand has a few; no domain maximum).
pub const WECHAT_ACCOUNTS: usize = 10;

/// The tenants one person may be staff of, as a sign-in lists them (`memberships`).
pub const MEMBERSHIPS: usize = dinghuo_projections::read::members::MAX_MEMBERSHIPS;

/// A connection: its selection counted once per node of a full page.
pub fn page(first: Option<i32>, child_complexity: usize) -> usize {
    let page = first.map_or(DEFAULT_PAGE, |n| {
        usize::try_from(n).unwrap_or(0).min(MAX_PAGE)
    });
    page.max(1).saturating_mul(child_complexity)
}

/// A plain list of at most `max_items`: its selection counted once per item (a list of enum
/// values or scalars, which has no selection, counts one per item).
pub fn list(max_items: usize, child_complexity: usize) -> usize {
    max_items.max(1).saturating_mul(child_complexity.max(1))
}

/// How many function permissions there are (a list of them holds each at most once).
pub fn permissions() -> usize {
    Permission::items().len()
}

/// How many apps there are.
pub fn apps() -> usize {
    App::items().len()
}

#[cfg(test)]
mod tests;
