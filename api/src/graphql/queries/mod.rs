//! The query root: one object per area, merged.

mod orders;
mod viewer;

use async_graphql::MergedObject;

#[derive(Default, MergedObject)]
pub struct QueryRoot(viewer::ViewerQuery, orders::OrderQueries);

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
