//! The query root: one object per area, merged.

pub mod analytics;
pub mod audit;
mod contacts;
pub mod notifications;
mod orders;
pub mod paging;
mod partners;
mod products;
mod tenant;
mod viewer;

use async_graphql::MergedObject;

#[derive(Default, MergedObject)]
pub struct QueryRoot(
    viewer::ViewerQuery,
    orders::OrderQueries,
    audit::AuditQueries,
    analytics::AnalyticsQueries,
    notifications::NotificationQueries,
    tenant::TenantQuery,
    partners::PartnerQueries,
    contacts::ContactQueries,
    products::ProductQueries,
);

/// The most a page of a connection holds.
pub const MAX_PAGE: usize = 100;
/// A page's size when `first` is not given.
pub const DEFAULT_PAGE: usize = 20;

/// `first` checked against [`MAX_PAGE`].
pub fn page_size(first: Option<i32>) -> Result<usize, crate::graphql::error::ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n >= 0 && (n as usize) <= MAX_PAGE => Ok(n as usize),
        Some(_) => Err(crate::graphql::error::ApiError::validation(
            "first",
            format!("first must be between 0 and {MAX_PAGE}"),
        )),
    }
}

/// The complexity of a connection (see [`crate::graphql::complexity`]).
pub use crate::graphql::complexity::page as page_complexity;
