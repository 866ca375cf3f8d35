//! Keyset pages: a list is read in one fixed order, and a page starts after the key of the last
//! row the client saw (never at an offset, which reads and discards every row before it).

use dinghuo_store::sql::FromEitherRow;
use dinghuo_store::Database;

use super::query::Query;

/// The most rows a page holds.
pub const MAX_PAGE: usize = 100;

/// Where a row stands in its list's order: what a page continues after.
pub trait Keyed {
    type Key;
    fn key(&self) -> Self::Key;
}

/// A page as asked: at most `first` rows (never more than [`MAX_PAGE`]), after `after`.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub first: usize,
    pub after: Option<K>,
}

impl<K> PageRequest<K> {
    pub fn new(first: usize, after: Option<K>) -> Self {
        Self {
            first: first.min(MAX_PAGE),
            after,
        }
    }

    /// The `LIMIT` to read with: one more than the page, to know whether a next one exists.
    pub fn limit(&self) -> usize {
        self.first + 1
    }
}

/// A page of rows, and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<R> {
    pub rows: Vec<R>,
    pub has_next: bool,
}

impl<R> Page<R> {
    /// The page of `rows` read with a limit of `first + 1`.
    pub fn of(mut rows: Vec<R>, first: usize) -> Self {
        let has_next = rows.len() > first;
        rows.truncate(first);
        Self { rows, has_next }
    }
}

/// Appends the order of the list and the page's limit to `query`, runs it, and answers the page.
pub(crate) async fn fetch_page<K, R: FromEitherRow>(
    db: &Database,
    mut query: Query,
    request: &PageRequest<K>,
    order_by: &str,
) -> Result<Page<R>, sqlx::Error> {
    query.push(&format!(" ORDER BY {order_by} LIMIT {}", request.limit()));
    Ok(Page::of(query.fetch(db).await?, request.first))
}
