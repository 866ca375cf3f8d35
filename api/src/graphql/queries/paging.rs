//! Relay paging shared by every list: `first` (at most [`MAX_PAGE`]) and `after` (an opaque
//! cursor of the list's own order), and the connection built from one row more than asked,
//! which tells whether a next page exists.

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields,
};
use async_graphql::OutputType;

use super::{page_size, MAX_PAGE};
use crate::graphql::error::ApiError;

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
        mut rows: Vec<R>,
        cursor: impl Fn(&R) -> C,
        node: impl Fn(R) -> Result<N, ApiError>,
    ) -> Result<Connection<C, N, EmptyFields, EmptyFields, Name, EdgeName>, ApiError>
    where
        N: OutputType,
        Name: ConnectionNameType,
        EdgeName: EdgeNameType,
    {
        let has_next = rows.len() > self.first;
        rows.truncate(self.first);
        let mut connection = Connection::new(self.after.is_some(), has_next);
        for row in rows {
            let at = cursor(&row);
            connection.edges.push(Edge::new(at, node(row)?));
        }
        Ok(connection)
    }
}
