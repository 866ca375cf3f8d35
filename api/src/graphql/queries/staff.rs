//! `staffMembers`: a tenant's admins and invited employees, by name (admins only).

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Object};
use dinghuo_commands::Role;
use dinghuo_projections::read::members::{self as read, MemberAt};

use crate::graphql::caller;
use crate::graphql::error::ApiError;
use crate::graphql::types::member::MemberStatus;
use crate::graphql::types::StaffMember;

#[derive(Default)]
pub struct StaffQueries;

/// By name, then id.
type MemberCursor = OpaqueCursor<MemberAt>;

#[Object]
impl StaffQueries {
    /// The tenant's staff who sign in as themselves, by name; `status` filters active or
    /// revoked ones. For the tenant's admins.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn staff_members(
        &self,
        ctx: &Context<'_>,
        status: Option<MemberStatus>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<MemberCursor, StaffMember, EmptyFields, EmptyFields>>
    {
        let (caller, state) = caller::of(ctx);
        caller.require(&[Role::Admin])?;
        let tenant = caller.tenant()?.to_string();
        let page = super::paging::Page::<MemberCursor>::new(first, after)?;
        let filter = read::MemberFilter {
            active: status.map(|status| status == MemberStatus::Active),
        };
        let rows = read::list(state.db(), &tenant, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, StaffMember::try_from)?)
    }
}
