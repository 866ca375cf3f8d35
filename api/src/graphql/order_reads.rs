//! Single orders read for many callers at once through a [`Coalescer`]: what a burst of order
//! mutations reads back. Each lookup keeps its caller's scope (`projections::read::orders::
//! find_each`). Answers rows; `types::order` makes them orders.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use dinghuo_projections::read::orders::{self, OrderRow};
use dinghuo_projections::read::Scope;
use dinghuo_store::Database;

use crate::graphql::coalesce::Coalescer;
use crate::graphql::error::ApiError;

/// One order as one caller may see it: the key of [`OrderReads`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    pub scope: Scope,
    pub order_id: String,
}

pub struct OrderReads {
    db: Database,
}

/// [`OrderReads`] shared by every request.
pub type OrderReader = Coalescer<OrderKey, OrderReads>;

impl OrderReads {
    pub fn new(db: &Database) -> Self {
        Self { db: db.clone() }
    }

    pub fn shared(db: &Database) -> OrderReader {
        Coalescer::new(Self::new(db))
    }
}

impl Loader<OrderKey> for OrderReads {
    type Value = OrderRow;
    type Error = ApiError;

    async fn load(&self, keys: &[OrderKey]) -> Result<HashMap<OrderKey, OrderRow>, ApiError> {
        let lookups: Vec<(&Scope, &str)> = keys
            .iter()
            .map(|key| (&key.scope, key.order_id.as_str()))
            .collect();
        let found = orders::find_each(&self.db, &lookups).await?;
        let mut rows = HashMap::with_capacity(found.len());
        for row in found {
            let key = usize::try_from(row.want_index)
                .ok()
                .and_then(|index| keys.get(index))
                .ok_or_else(|| ApiError::internal("a batch row answers no lookup"))?;
            rows.insert(key.clone(), row.order);
        }
        Ok(rows)
    }
}
