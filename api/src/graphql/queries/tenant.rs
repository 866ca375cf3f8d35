//! `tenant`: the caller's own tenant; the operator, which belongs to none, names one by id.

use async_graphql::{Context, Object, ID};
use dinghuo_commands::Role;

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::{tenant, Tenant};

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// The caller's tenant. The operator must give `id`; anyone else may omit it, and gets
    /// `null` for any id but its own tenant's (another tenant is indistinguishable from none).
    async fn tenant(&self, ctx: &Context<'_>, id: Option<ID>) -> ApiResult<Option<Tenant>> {
        let (caller, state) = caller::of(ctx);
        let actor = caller.actor()?;
        let wanted = match (actor.role, actor.tenant_id, id) {
            (Role::Operator, _, Some(id)) => id.0,
            (Role::Operator, _, None) => {
                return Err(ApiError::validation(
                    "id",
                    "the operator must name a tenant",
                ))
            }
            (_, Some(own), None) => own.to_string(),
            (_, Some(own), Some(id)) if id.as_str() == own.to_string() => id.0,
            _ => return Ok(None),
        };
        tenant::find(state.db(), &wanted).await
    }
}
