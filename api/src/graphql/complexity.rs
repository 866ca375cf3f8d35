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
//! A test walks the schema and fails for a list field without a complexity of its own.

use async_graphql::EnumType;

use crate::graphql::queries::{DEFAULT_PAGE, MAX_PAGE};
use crate::graphql::types::tenant::{App, Permission};

/// Counted for a contact's partner links: an employee serving many dealers has one each, and the
/// domain sets no maximum.
pub const PARTNER_LINKS: usize = 20;

/// Counted for a tenant's bound WeChat official accounts (a brand has a few; no domain maximum).
pub const WECHAT_ACCOUNTS: usize = 10;

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
