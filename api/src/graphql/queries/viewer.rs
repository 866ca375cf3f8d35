//! `viewer`: who the token says the caller is, and for a signed-in staff member the tenants it
//! may act in.

use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use dinghuo_domain::MemberId;
use dinghuo_identity::staff;
use uuid::Uuid;

use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::types::Membership;

#[derive(Default)]
pub struct ViewerQuery;

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Viewer {
    /// The actor's id (for employees and contacts, the contact id).
    pub id: ID,
    /// `operator`, `admin`, `employee`, `contact`, `auditor` or `analyst`.
    pub role: String,
    /// The tenant the caller acts in; none for the operator.
    pub tenant_id: Option<ID>,
    /// The session may only change its password (`changePassword`) until it does.
    pub must_change_password: bool,
    #[graphql(skip)]
    member: Option<Uuid>,
}

#[ComplexObject]
impl Viewer {
    /// For a signed-in staff member: every tenant its phone is active staff of (`switchTenant`
    /// moves to another). Empty for every other caller, and for tokens of `dinghuo token`.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::MEMBERSHIPS, child_complexity)"
    )]
    async fn memberships(&self, ctx: &Context<'_>) -> ApiResult<Vec<Membership>> {
        let Some(member) = self.member else {
            return Ok(Vec::new());
        };
        let (_, state) = caller::of(ctx);
        let loader = state.commands.members().loader();
        let Some(phone) = staff::phone_of(loader, MemberId::from_uuid(member)).await? else {
            return Ok(Vec::new());
        };
        let memberships = staff::memberships(state.db(), loader, &phone).await?;
        Ok(memberships.iter().map(Membership::from).collect())
    }
}

#[Object]
impl ViewerQuery {
    /// The caller, or none without a (still valid) token. Answered also to a session that must
    /// change its password, so that a client can tell it to.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        let (caller, _) = caller::of(ctx);
        caller.signed_in().ok().map(|actor| Viewer {
            id: ID(actor.id.to_string()),
            role: actor.role.as_str().to_owned(),
            tenant_id: actor.tenant_id.map(|tenant| ID(tenant.to_string())),
            must_change_password: caller.password_change_only,
            member: caller.member,
        })
    }
}
