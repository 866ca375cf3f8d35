//! `registerTenant`, `purchaseApp`, `enableInterconnect` (the operator's, or an admin's own),
//! `enableApp`, `disableApp`, `bindWechatAccount`, `publishWechatMenu`,
//! `setFunctionPermissions` (an admin's, on its own tenant).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{
    AppInput as AppCommand, BindWechatAccountInput as BindWechatCommand,
    EnableInterconnectInput as EnableInterconnectCommand, MenuButtonInput as MenuButtonCommand,
    PublishWechatMenuInput as PublishMenuCommand, PurchaseAppInput as PurchaseAppCommand,
    RegisterTenantInput as RegisterTenantCommand,
    SetFunctionPermissionsInput as SetPermissionsCommand,
    UnbindWechatAccountInput as UnbindWechatCommand,
};
use dinghuo_domain::TenantId;

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::rw;
use crate::graphql::types::tenant::{self, App, Permission};
use crate::graphql::types::Tenant;

#[derive(Default)]
pub struct TenantMutations;

#[derive(Debug, InputObject)]
pub struct RegisterTenantInput {
    pub name: String,
}

/// The operator sells a licence to a tenant it names.
#[derive(Debug, InputObject)]
pub struct PurchaseAppInput {
    pub tenant_id: ID,
    pub app: App,
}

/// The operator names the tenant; an admin acts on its own and may leave it out.
#[derive(Debug, InputObject)]
pub struct EnableInterconnectInput {
    pub tenant_id: Option<ID>,
}

/// An app of the caller's own tenant.
#[derive(Debug, InputObject)]
pub struct TenantAppInput {
    pub app: App,
}

#[derive(Debug, InputObject)]
pub struct BindWechatAccountInput {
    /// `wx` followed by 16 hex digits.
    pub app_id: String,
    pub name: String,
}

#[derive(Debug, InputObject)]
pub struct UnbindWechatAccountInput {
    /// The bound account's app id.
    pub app_id: String,
}

/// A button opens either an app (`app`) or an https page (`url`), not both.
#[derive(Debug, InputObject)]
pub struct MenuButtonInput {
    pub name: String,
    pub app: Option<App>,
    pub url: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct PublishWechatMenuInput {
    pub app_id: String,
    /// At most three, left to right.
    pub buttons: Vec<MenuButtonInput>,
}

/// Replaces the default permissions their-side contacts get for `app`.
#[derive(Debug, InputObject)]
pub struct SetFunctionPermissionsInput {
    pub app: App,
    pub permissions: Vec<Permission>,
}

/// What a tenant mutation changed.
#[derive(Debug, SimpleObject)]
pub struct TenantPayload {
    pub tenant_id: ID,
    /// The tenant as the read model shows it after the change.
    pub tenant: Option<Tenant>,
}

/// The payload of `tenant` once the tenants read model shows the change. The command has
/// already checked that the caller may act on this tenant, so reading it back reveals nothing.
async fn payload(ctx: &Context<'_>, tenant: TenantId) -> ApiResult<TenantPayload> {
    let (_, state) = caller::of(ctx);
    let id = tenant.to_string();
    rw::wait(ctx, "Tenant", &id, &["tenants"]).await;
    let tenant = tenant::find(state.db(), &id).await?;
    Ok(TenantPayload {
        tenant_id: ID(id),
        tenant,
    })
}

/// The tenant a command acted on: the one named (the operator's case) or the caller's own.
fn acted_on(caller: &caller::Caller, named: Option<&ID>) -> ApiResult<TenantId> {
    match named {
        Some(id) => TenantId::parse(id, "tenantId")
            .map_err(|error| ApiError::from(dinghuo_commands::CommandError::from(error))),
        None => caller.tenant(),
    }
}

#[Object]
impl TenantMutations {
    /// The operator registers an upstream enterprise.
    async fn register_tenant(
        &self,
        ctx: &Context<'_>,
        input: RegisterTenantInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let tenant = state
            .commands
            .register_tenant(
                &caller.command_context()?,
                RegisterTenantCommand { name: input.name },
            )
            .await?;
        payload(ctx, tenant).await
    }

    /// The operator sells a tenant a licence for an app.
    async fn purchase_app(
        &self,
        ctx: &Context<'_>,
        input: PurchaseAppInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        state
            .commands
            .purchase_app(
                &caller.command_context()?,
                PurchaseAppCommand {
                    tenant_id: input.tenant_id.to_string(),
                    app: input.app.as_str().to_owned(),
                },
            )
            .await?;
        payload(ctx, acted_on(caller, Some(&input.tenant_id))?).await
    }

    /// Basic interconnect: the tenant becomes an upstream and may have partners.
    async fn enable_interconnect(
        &self,
        ctx: &Context<'_>,
        input: EnableInterconnectInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        state
            .commands
            .enable_interconnect(
                &caller.command_context()?,
                EnableInterconnectCommand {
                    tenant_id: input.tenant_id.as_ref().map(|id| id.0.clone()),
                },
            )
            .await?;
        payload(ctx, acted_on(caller, input.tenant_id.as_ref())?).await
    }

    /// Switches a purchased app on (needs interconnect).
    async fn enable_app(
        &self,
        ctx: &Context<'_>,
        input: TenantAppInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = AppCommand {
            app: input.app.as_str().to_owned(),
        };
        state
            .commands
            .enable_app(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }

    async fn disable_app(
        &self,
        ctx: &Context<'_>,
        input: TenantAppInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = AppCommand {
            app: input.app.as_str().to_owned(),
        };
        state
            .commands
            .disable_app(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }

    async fn bind_wechat_account(
        &self,
        ctx: &Context<'_>,
        input: BindWechatAccountInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = BindWechatCommand {
            app_id: input.app_id,
            name: input.name,
        };
        state
            .commands
            .bind_wechat_account(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }

    /// Unbinds an official account from the tenant.
    async fn unbind_wechat_account(
        &self,
        ctx: &Context<'_>,
        input: UnbindWechatAccountInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = UnbindWechatCommand {
            app_id: input.app_id,
        };
        state
            .commands
            .unbind_wechat_account(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }

    /// Publishes the custom menu of a bound official account; a button may open only an
    /// enabled app.
    async fn publish_wechat_menu(
        &self,
        ctx: &Context<'_>,
        input: PublishWechatMenuInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = PublishMenuCommand {
            app_id: input.app_id,
            buttons: input
                .buttons
                .into_iter()
                .map(|button| MenuButtonCommand {
                    name: button.name,
                    app: button.app.map(|app| app.as_str().to_owned()),
                    url: button.url,
                })
                .collect(),
        };
        state
            .commands
            .publish_wechat_menu(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }

    async fn set_function_permissions(
        &self,
        ctx: &Context<'_>,
        input: SetFunctionPermissionsInput,
    ) -> ApiResult<TenantPayload> {
        let (caller, state) = caller::of(ctx);
        let command = SetPermissionsCommand {
            app: input.app.as_str().to_owned(),
            permissions: input
                .permissions
                .into_iter()
                .map(|permission| permission.as_str().to_owned())
                .collect(),
        };
        state
            .commands
            .set_function_permissions(&caller.command_context()?, command)
            .await?;
        payload(ctx, caller.tenant()?).await
    }
}
