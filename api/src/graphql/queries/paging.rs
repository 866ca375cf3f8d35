//! Relay paging shared by every list: `first` (at most [`MAX_PAGE`]) and `after` (an opaque
//! cursor of the list's own order, the key of a row: see `projections::read::page`), and the
//! connection built from a page of rows.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields, OpaqueCursor,
};
use async_graphql::OutputType;
use dinghuo_projections::read::{self, Keyed, PageRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::graphql::error::ApiError;

/// The most a page of a connection holds: what a read model answers at most.
pub const MAX_PAGE: usize = read::MAX_PAGE;
/// A page's size when `first` is not given.
pub const DEFAULT_PAGE: usize = 20;

/// `first` checked against [`MAX_PAGE`].
pub fn page_size(first: Option<i32>) -> Result<usize, ApiError> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n >= 0 && (n as usize) <= MAX_PAGE => Ok(n as usize),
        Some(_) => Err(ApiError::validation(
            "first",
            format!("first must be between 0 and {MAX_PAGE}"),
        )),
    }
}

/// A page as asked: how many, and after which row.
pub struct Page<C> {
    pub first: usize,
    pub after: Option<C>,
}

impl<C: CursorType + Send + Sync> Page<C> {
    pub fn new(first: Option<i32>, after: Option<String>) -> Result<Self, ApiError> {
        let first = page_size(first)?;
        let after = after
            .map(|cursor| {
                C::decode_cursor(&cursor)
                    .map_err(|_| ApiError::validation("after", "not a cursor of this list"))
            })
            .transpose()?;
        Ok(Self { first, after })
    }

    /// The `LIMIT` to query with: one more than the page, to know whether there is a next one.
    pub fn limit(&self) -> usize {
        debug_assert!(self.first <= MAX_PAGE);
        self.first + 1
    }

    /// The connection of `rows` (fetched with [`Self::limit`]): each row's cursor, and its node.
    /// Its type is named after the node (`OrderConnection`) unless the caller names it.
    pub fn connection<R, N, Name, EdgeName>(
        &self,
        rows: Vec<R>,
        cursor: impl Fn(&R) -> C,
        node: impl Fn(R) -> Result<N, ApiError>,
    ) -> Result<Connection<C, N, EmptyFields, EmptyFields, Name, EdgeName>, ApiError>
    where
        N: OutputType,
        Name: ConnectionNameType,
        EdgeName: EdgeNameType,
    {
        edges(
            self.after.is_some(),
            read::Page::of(rows, self.first),
            cursor,
            node,
        )
    }
}

impl<K> Page<OpaqueCursor<K>>
where
    K: Serialize + DeserializeOwned + Clone + Send + Sync,
{
    /// The page to read from a read model: the cursor is the key of a row.
    pub fn request(&self) -> PageRequest<K> {
        PageRequest::new(
            self.first,
            self.after.as_ref().map(|cursor| cursor.0.clone()),
        )
    }

    /// The connection of a page read with [`Self::request`]: each row's key is its cursor.
    pub fn connection_of<R, N>(
        &self,
        page: read::Page<R>,
        node: impl Fn(R) -> Result<N, ApiError>,
    ) -> Result<Connection<OpaqueCursor<K>, N, EmptyFields, EmptyFields>, ApiError>
    where
        R: Keyed<Key = K>,
        N: OutputType,
    {
        edges(
            self.after.is_some(),
            page,
            |row| OpaqueCursor(row.key()),
            node,
        )
    }
}

fn edges<C, R, N, Name, EdgeName>(
    has_previous: bool,
    page: read::Page<R>,
    cursor: impl Fn(&R) -> C,
    node: impl Fn(R) -> Result<N, ApiError>,
) -> Result<Connection<C, N, EmptyFields, EmptyFields, Name, EdgeName>, ApiError>
where
    C: CursorType + Send + Sync,
    N: OutputType,
    Name: ConnectionNameType,
    EdgeName: EdgeNameType,
{
    let mut connection = Connection::new(has_previous, page.has_next);
    for row in page.rows {
        let at = cursor(&row);
        connection.edges.push(Edge::new(at, node(row)?));
    }
    Ok(connection)
}
