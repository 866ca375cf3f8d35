//! `viewer`: who the token says the caller is.

use async_graphql::{Context, Object, SimpleObject, ID};

use crate::graphql::caller;

#[derive(Default)]
pub struct ViewerQuery;

#[derive(SimpleObject)]
pub struct Viewer {
    /// The actor's id (for employees and contacts, the contact id).
    pub id: ID,
    /// `operator`, `admin`, `employee`, `contact`, `auditor` or `analyst`.
    pub role: String,
    /// The tenant the caller acts in; none for the operator.
    pub tenant_id: Option<ID>,
    /// The session may only change its password (`changePassword`) until it does.
    pub must_change_password: bool,
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
        })
    }
}
