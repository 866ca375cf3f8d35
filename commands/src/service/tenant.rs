//! Entry points of the tenant: registration, licences, apps, WeChat, default permissions.

use std::collections::BTreeSet;

use dinghuo_domain::tenant::TenantCommand;
use dinghuo_domain::{App, MenuAction, MenuButton, Name, Permission, TenantId, WechatAppId};
use uuid::Uuid;

use super::{authorize, own_tenant, resolve_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

#[derive(Debug, Clone, Default)]
pub struct RegisterTenantInput {
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct PurchaseAppInput {
    pub tenant_id: String,
    pub app: String,
}

/// The operator names the tenant; an admin acts on its own.
#[derive(Debug, Clone, Default)]
pub struct EnableInterconnectInput {
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AppInput {
    pub app: String,
}

#[derive(Debug, Clone, Default)]
pub struct BindWechatAccountInput {
    pub app_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct UnbindWechatAccountInput {
    pub app_id: String,
}

/// A button opens either an app (`app`) or a web page (`url`), not both.
#[derive(Debug, Clone, Default)]
pub struct MenuButtonInput {
    pub name: String,
    pub app: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PublishWechatMenuInput {
    pub app_id: String,
    pub buttons: Vec<MenuButtonInput>,
}

#[derive(Debug, Clone, Default)]
pub struct SetFunctionPermissionsInput {
    pub app: String,
    pub permissions: Vec<String>,
}

fn parse_button(index: usize, input: &MenuButtonInput) -> Result<MenuButton, CommandError> {
    let at = |field: &str| format!("buttons[{index}].{field}");
    let name = Name::parse(&input.name).map_err(|e| e.at(at("name")))?;
    let app = input.app.as_deref().filter(|s| !s.trim().is_empty());
    let url = input.url.as_deref().filter(|s| !s.trim().is_empty());
    match (app, url) {
        (Some(app), None) => Ok(MenuButton {
            name,
            action: MenuAction::OpenApp {
                app: App::parse(app).map_err(|e| e.at(at("app")))?,
            },
        }),
        (None, Some(url)) => Ok(MenuButton::open_url(name, url, &at("url"))?),
        _ => Err(
            dinghuo_domain::ValidationError::new(at("app"), "give either an app or a url").into(),
        ),
    }
}

impl Commands {
    /// Registers a new tenant; answers its id.
    pub async fn register_tenant(
        &self,
        ctx: &RequestContext,
        input: RegisterTenantInput,
    ) -> Result<TenantId, CommandError> {
        authorize(ctx, CommandName::RegisterTenant)?;
        let name = Name::parse(&input.name)?;
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let command = TenantCommand::RegisterTenant { name };
        self.run(&self.tenants, ctx, tenant, tenant.to_string(), command)
            .await?;
        Ok(tenant)
    }

    pub async fn purchase_app(
        &self,
        ctx: &RequestContext,
        input: PurchaseAppInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::PurchaseApp)?;
        let tenant = resolve_tenant(ctx, Some(&input.tenant_id))?;
        let app = App::parse(&input.app)?;
        self.tenant_command(ctx, tenant, TenantCommand::PurchaseApp { app })
            .await
    }

    pub async fn enable_interconnect(
        &self,
        ctx: &RequestContext,
        input: EnableInterconnectInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::EnableInterconnect)?;
        let tenant = resolve_tenant(ctx, input.tenant_id.as_deref())?;
        self.tenant_command(ctx, tenant, TenantCommand::EnableInterconnect)
            .await
    }

    pub async fn enable_app(
        &self,
        ctx: &RequestContext,
        input: AppInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::EnableApp)?;
        let app = App::parse(&input.app)?;
        self.tenant_command(ctx, own_tenant(ctx)?, TenantCommand::EnableApp { app })
            .await
    }

    pub async fn disable_app(
        &self,
        ctx: &RequestContext,
        input: AppInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::DisableApp)?;
        let app = App::parse(&input.app)?;
        self.tenant_command(ctx, own_tenant(ctx)?, TenantCommand::DisableApp { app })
            .await
    }

    pub async fn bind_wechat_account(
        &self,
        ctx: &RequestContext,
        input: BindWechatAccountInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::BindWechatAccount)?;
        let command = TenantCommand::BindWechatAccount {
            app_id: WechatAppId::parse(&input.app_id)?,
            name: Name::parse(&input.name)?,
        };
        self.tenant_command(ctx, own_tenant(ctx)?, command).await
    }

    pub async fn unbind_wechat_account(
        &self,
        ctx: &RequestContext,
        input: UnbindWechatAccountInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::UnbindWechatAccount)?;
        let command = TenantCommand::UnbindWechatAccount {
            app_id: WechatAppId::parse(&input.app_id)?,
        };
        self.tenant_command(ctx, own_tenant(ctx)?, command).await
    }

    pub async fn publish_wechat_menu(
        &self,
        ctx: &RequestContext,
        input: PublishWechatMenuInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::PublishWechatMenu)?;
        let app_id = WechatAppId::parse(&input.app_id)?;
        let buttons = input
            .buttons
            .iter()
            .enumerate()
            .map(|(i, button)| parse_button(i, button))
            .collect::<Result<Vec<_>, _>>()?;
        let command = TenantCommand::PublishWechatMenu { app_id, buttons };
        self.tenant_command(ctx, own_tenant(ctx)?, command).await
    }

    pub async fn set_function_permissions(
        &self,
        ctx: &RequestContext,
        input: SetFunctionPermissionsInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SetFunctionPermissions)?;
        let app = App::parse(&input.app)?;
        let permissions = parse_permissions(&input.permissions, "permissions")?;
        let command = TenantCommand::SetFunctionPermissions { app, permissions };
        self.tenant_command(ctx, own_tenant(ctx)?, command).await
    }

    async fn tenant_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        command: TenantCommand,
    ) -> Result<(), CommandError> {
        self.run(&self.tenants, ctx, tenant, tenant.to_string(), command)
            .await
    }
}

/// Parses a list of permission names; `field[i]` names the one at fault.
pub(super) fn parse_permissions(
    texts: &[String],
    field: &str,
) -> Result<BTreeSet<Permission>, CommandError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Permission::parse(text).map_err(|e| e.at(format!("{field}[{i}]")).into()))
        .collect()
}
