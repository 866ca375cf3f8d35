//! `partners` (a connection over the tenant's CRM customers and partner enterprises, by name)
//! and `partner`.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use dinghuo_projections::read::partners::{self as read, PartnerAt};

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::partner::{self, PartnerMode};
use crate::graphql::types::Partner;

#[derive(Default)]
pub struct PartnerQueries;

/// Which partners to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct PartnerFilter {
    /// `true`: partner enterprises only; `false`: customers not (yet) added as partners.
    pub is_partner: Option<bool>,
    pub suspended: Option<bool>,
    pub mode: Option<PartnerMode>,
    /// Names starting with this text (case-sensitive).
    pub name_prefix: Option<String>,
}

impl From<PartnerFilter> for read::PartnerFilter {
    fn from(filter: PartnerFilter) -> Self {
        Self {
            is_partner: filter.is_partner,
            suspended: filter.suspended,
            mode: filter.mode.map(Into::into),
            name_prefix: filter.name_prefix,
        }
    }
}

/// By name: the position of a partner in that order.
type PartnerCursor = OpaqueCursor<PartnerAt>;

#[Object]
impl PartnerQueries {
    /// The tenant's customers and partners the caller may see, by name: an admin, auditor or
    /// analyst sees all, an employee the partners it is linked to, a contact its own partner.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        filter: Option<PartnerFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<PartnerCursor, Partner, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller.scope()?;
        let page = super::paging::Page::<PartnerCursor>::new(first, after)?;
        let filter = read::PartnerFilter::from(filter.unwrap_or_default());
        let rows = read::list(state.db(), &scope, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, |row| Ok(Partner::from(row)))?)
    }

    /// One customer or partner, if the caller may see it (`null` otherwise: another tenant's or
    /// another partner's is indistinguishable from one that does not exist).
    async fn partner(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Partner>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller.scope()?;
        partner::find(state.db(), &scope, &id).await
    }
}
