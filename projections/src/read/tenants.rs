//! Tenants as `rm_tenants` shows them, with their WeChat official accounts and published menus
//! (written by `models::tenants`). Who may read which tenant is the caller's to decide: a
//! tenant is read by its id.

use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;

use super::query::Query;

const TENANT_COLUMNS: &str = "tenant_id, name, registered_at, interconnect_enabled,
    interconnect_enabled_at, ordering_purchased, ordering_purchased_at, ordering_enabled,
    ordering_enabled_at, ordering_grants_create_sales_order, ordering_grants_cancel_order,
    ordering_grants_view_orders, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantRow {
    pub tenant_id: String,
    pub name: String,
    pub registered_at: StoredTime,
    pub interconnect_enabled: bool,
    pub interconnect_enabled_at: Option<StoredTime>,
    pub ordering_purchased: bool,
    pub ordering_purchased_at: Option<StoredTime>,
    pub ordering_enabled: bool,
    pub ordering_enabled_at: Option<StoredTime>,
    pub ordering_grants_create_sales_order: bool,
    pub ordering_grants_cancel_order: bool,
    pub ordering_grants_view_orders: bool,
    pub updated_at: StoredTime,
}

/// One tenant by id.
pub async fn find(db: &Database, tenant_id: &str) -> Result<Option<TenantRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        &format!("SELECT {TENANT_COLUMNS} FROM rm_tenants WHERE true"),
    );
    query.and("tenant_id =", tenant_id);
    query.fetch_optional(db).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub app_id: String,
    pub name: String,
    pub bound_at: StoredTime,
    pub menu_published_at: Option<StoredTime>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ButtonRow {
    pub app_id: String,
    pub position: i64,
    pub name: String,
    /// `OPEN_APP` or `OPEN_URL`.
    pub action_type: String,
    pub app: Option<String>,
    pub url: Option<String>,
}

/// The official accounts bound to a tenant (by binding), and the buttons of their published
/// menus (by account and position). Bounded by the domain: a few accounts, a few buttons each.
pub async fn wechat_accounts(
    db: &Database,
    tenant_id: &str,
) -> Result<(Vec<AccountRow>, Vec<ButtonRow>), sqlx::Error> {
    let mut accounts = Query::new(
        db,
        "SELECT app_id, name, bound_at, menu_published_at FROM rm_tenant_wechat_accounts
          WHERE true",
    );
    accounts.and("tenant_id =", tenant_id);
    accounts.push(" ORDER BY bound_at, app_id");
    let mut buttons = Query::new(
        db,
        "SELECT app_id, position, name, action_type, app, url
           FROM rm_tenant_wechat_menu_buttons WHERE true",
    );
    buttons.and("tenant_id =", tenant_id);
    buttons.push(" ORDER BY app_id, position");
    Ok((accounts.fetch(db).await?, buttons.fetch(db).await?))
}
