//! `contacts`: people of the tenant (CRM contacts and employees), by name.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use dinghuo_projections::read::contacts::{self as read, ContactAt};

use crate::graphql::caller;
use crate::graphql::error::ApiError;
use crate::graphql::types::contact::Side;
use crate::graphql::types::Contact;

#[derive(Default)]
pub struct ContactQueries;

/// Which contacts to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct ContactFilter {
    /// Contacts linked to this partner (on `side`, when given).
    pub partner_id: Option<ID>,
    /// Contacts linked to some partner on this side.
    pub side: Option<Side>,
    /// Identity verified (`true`) or not yet (`false`).
    pub bound: Option<bool>,
}

impl From<ContactFilter> for read::ContactFilter {
    fn from(filter: ContactFilter) -> Self {
        Self {
            partner_id: filter.partner_id.map(|id| id.0),
            side: filter.side.map(Into::into),
            bound: filter.bound,
        }
    }
}

/// By name: the position of a contact in that order.
type ContactCursor = OpaqueCursor<ContactAt>;

#[Object]
impl ContactQueries {
    /// The people the caller may see, by name: an admin, auditor or analyst sees the tenant's,
    /// an employee the contacts of the partners it is linked to, a contact those of its own
    /// partner (both sides).
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContactFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<ContactCursor, Contact, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller.scope()?;
        let page = super::paging::Page::<ContactCursor>::new(first, after)?;
        let filter = read::ContactFilter::from(filter.unwrap_or_default());
        let rows = read::list(state.db(), &scope, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, Contact::try_from)?)
    }
}
