//! `Tenant` (from `rm_tenants`, its WeChat accounts and menus) and the vocabularies of apps and
//! function permissions.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_store::sql::{fetch_all, Arg, StoredTime};
use dinghuo_store::Database;

use crate::graphql::error::{ApiError, ApiResult};

/// An interconnect app a tenant can license (DESIGN §2). Only the ordering app exists today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum App {
    /// 订货通, the ordering app.
    Ordering,
}

impl App {
    /// The command layer's spelling.
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::App::from(self).as_str()
    }

    pub fn parse(text: &str) -> Option<Self> {
        dinghuo_domain::App::parse(text).ok().map(Self::from)
    }
}

// Both directions are exhaustive matches, so a new domain app fails to compile here until the
// API names it too.
impl From<App> for dinghuo_domain::App {
    fn from(app: App) -> Self {
        match app {
            App::Ordering => Self::Ordering,
        }
    }
}

impl From<dinghuo_domain::App> for App {
    fn from(app: dinghuo_domain::App) -> Self {
        match app {
            dinghuo_domain::App::Ordering => Self::Ordering,
        }
    }
}

/// A function permission of an app, granted to their-side contacts by the tenant's defaults and
/// restricted per contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum Permission {
    CreateSalesOrder,
    CancelOrder,
    ViewOrders,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::Permission::from(self).as_str()
    }
}

impl From<Permission> for dinghuo_domain::Permission {
    fn from(permission: Permission) -> Self {
        match permission {
            Permission::CreateSalesOrder => Self::CreateSalesOrder,
            Permission::CancelOrder => Self::CancelOrder,
            Permission::ViewOrders => Self::ViewOrders,
        }
    }
}

/// The permissions whose flag is set, in a stable order (the read models keep one boolean
/// column per permission).
pub fn permissions(
    create_sales_order: bool,
    cancel_order: bool,
    view_orders: bool,
) -> Vec<Permission> {
    [
        (create_sales_order, Permission::CreateSalesOrder),
        (cancel_order, Permission::CancelOrder),
        (view_orders, Permission::ViewOrders),
    ]
    .into_iter()
    .filter_map(|(set, permission)| set.then_some(permission))
    .collect()
}

pub(crate) fn time(stored: Option<StoredTime>) -> Option<DateTime<Utc>> {
    stored.map(|t| t.0)
}

const TENANT_COLUMNS: &str = "tenant_id, name, registered_at, interconnect_enabled,
    interconnect_enabled_at, ordering_purchased, ordering_purchased_at, ordering_enabled,
    ordering_enabled_at, ordering_grants_create_sales_order, ordering_grants_cancel_order,
    ordering_grants_view_orders, updated_at";

#[derive(Debug, sqlx::FromRow)]
struct TenantRow {
    tenant_id: String,
    name: String,
    registered_at: StoredTime,
    interconnect_enabled: bool,
    interconnect_enabled_at: Option<StoredTime>,
    ordering_purchased: bool,
    ordering_purchased_at: Option<StoredTime>,
    ordering_enabled: bool,
    ordering_enabled_at: Option<StoredTime>,
    ordering_grants_create_sales_order: bool,
    ordering_grants_cancel_order: bool,
    ordering_grants_view_orders: bool,
    updated_at: StoredTime,
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

#[derive(Debug, sqlx::FromRow)]
struct AccountRow {
    app_id: String,
    name: String,
    bound_at: StoredTime,
    menu_published_at: Option<StoredTime>,
}

#[derive(Debug, sqlx::FromRow)]
struct ButtonRow {
    app_id: String,
    position: i64,
    name: String,
    action_type: String,
    app: Option<String>,
    url: Option<String>,
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
        let tenant = Arg::from(self.id.as_str());
        let accounts: Vec<AccountRow> = fetch_all(
            state.db(),
            "SELECT app_id, name, bound_at, menu_published_at FROM rm_tenant_wechat_accounts
              WHERE tenant_id = $1 ORDER BY bound_at, app_id",
            std::slice::from_ref(&tenant),
        )
        .await?;
        let buttons: Vec<ButtonRow> = fetch_all(
            state.db(),
            "SELECT app_id, position, name, action_type, app, url
               FROM rm_tenant_wechat_menu_buttons WHERE tenant_id = $1 ORDER BY app_id, position",
            &[tenant],
        )
        .await?;
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
    let rows: Vec<TenantRow> = fetch_all(
        db,
        &format!("SELECT {TENANT_COLUMNS} FROM rm_tenants WHERE tenant_id = $1"),
        &[Arg::from(tenant_id)],
    )
    .await?;
    Ok(rows.into_iter().next().map(Tenant::from))
}
