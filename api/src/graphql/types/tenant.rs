//! `Tenant` (from `rm_tenants`, its WeChat accounts and menus), mapped from the rows of
//! `projections::read::tenants`.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::read::tenants::{self, ButtonRow, TenantRow};
use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;

pub use super::apps::{permissions, App, Permission};
use crate::graphql::error::{ApiError, ApiResult};

pub(crate) fn time(stored: Option<StoredTime>) -> Option<DateTime<Utc>> {
    stored.map(|t| t.0)
}

/// An upstream enterprise as the read model shows it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    pub registered_at: DateTime<Utc>,
    /// Basic interconnect is on: the tenant is an upstream and may have partners.
    pub interconnect_enabled: bool,
    pub interconnect_enabled_at: Option<DateTime<Utc>>,
    /// Every app, licensed or not, with its state on this tenant.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::apps(), child_complexity)"
    )]
    pub apps: Vec<TenantApp>,
    pub updated_at: DateTime<Utc>,
}

/// One app on one tenant: bought, switched on, and what their-side contacts may do in it.
#[derive(Debug, Clone, SimpleObject)]
pub struct TenantApp {
    pub app: App,
    pub purchased: bool,
    pub purchased_at: Option<DateTime<Utc>>,
    pub enabled: bool,
    /// Since when it is on; none while it is off.
    pub enabled_at: Option<DateTime<Utc>>,
    /// The function permissions their-side contacts get unless restricted one by one.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::permissions(), child_complexity)"
    )]
    pub default_permissions: Vec<Permission>,
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Self {
            id: ID(row.tenant_id),
            name: row.name,
            registered_at: row.registered_at.0,
            interconnect_enabled: row.interconnect_enabled,
            interconnect_enabled_at: time(row.interconnect_enabled_at),
            apps: vec![TenantApp {
                app: App::Ordering,
                purchased: row.ordering_purchased,
                purchased_at: time(row.ordering_purchased_at),
                enabled: row.ordering_enabled,
                enabled_at: time(row.ordering_enabled_at),
                default_permissions: permissions(
                    row.ordering_grants_create_sales_order,
                    row.ordering_grants_cancel_order,
                    row.ordering_grants_view_orders,
                ),
            }],
            updated_at: row.updated_at.0,
        }
    }
}

/// A bound WeChat official account and its published menu.
#[derive(Debug, Clone, SimpleObject)]
pub struct WechatAccount {
    pub app_id: String,
    pub name: String,
    pub bound_at: DateTime<Utc>,
    /// The last publication of the menu; none before the first.
    pub menu_published_at: Option<DateTime<Utc>>,
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::MenuButton::MAX_BUTTONS, child_complexity)"
    )]
    pub menu: Vec<MenuButton>,
}

/// What a menu button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MenuActionType {
    OpenApp,
    OpenUrl,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct MenuButton {
    /// 1-based, left to right.
    pub position: i64,
    pub name: String,
    pub action: MenuActionType,
    /// The app opened, for `OPEN_APP`.
    pub app: Option<App>,
    /// The page opened, for `OPEN_URL`.
    pub url: Option<String>,
}

#[ComplexObject]
impl Tenant {
    /// The official accounts bound to the tenant, with their menus. Two queries: a tenant is
    /// read one at a time, so there is no list to batch.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::WECHAT_ACCOUNTS, child_complexity)"
    )]
    async fn wechat_accounts(&self, ctx: &Context<'_>) -> ApiResult<Vec<WechatAccount>> {
        let (_, state) = crate::graphql::caller::of(ctx);
        let (accounts, buttons) = tenants::wechat_accounts(state.db(), &self.id).await?;
        let mut out = Vec::with_capacity(accounts.len());
        for account in accounts {
            let menu = buttons
                .iter()
                .filter(|button| button.app_id == account.app_id)
                .map(menu_button)
                .collect::<ApiResult<Vec<_>>>()?;
            out.push(WechatAccount {
                app_id: account.app_id,
                name: account.name,
                bound_at: account.bound_at.0,
                menu_published_at: time(account.menu_published_at),
                menu,
            });
        }
        Ok(out)
    }
}

fn menu_button(row: &ButtonRow) -> ApiResult<MenuButton> {
    let action = match row.action_type.as_str() {
        "OPEN_APP" => MenuActionType::OpenApp,
        "OPEN_URL" => MenuActionType::OpenUrl,
        other => return Err(ApiError::internal(format!("unknown menu action {other:?}"))),
    };
    Ok(MenuButton {
        position: row.position,
        name: row.name.clone(),
        action,
        app: row.app.as_deref().and_then(App::parse),
        url: row.url.clone(),
    })
}

/// One tenant by id. The caller decides who may ask (its own tenant, or the operator any).
pub async fn find(db: &Database, tenant_id: &str) -> ApiResult<Option<Tenant>> {
    Ok(tenants::find(db, tenant_id).await?.map(Tenant::from))
}
