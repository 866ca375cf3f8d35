//! `rm_tenants`, `rm_tenant_wechat_accounts`, `rm_tenant_wechat_menu_buttons`: each tenant's
//! interconnect and ordering-app state, default permissions, official accounts and their menus.

use async_trait::async_trait;
use dinghuo_domain::tenant::TenantEvent;
use dinghuo_domain::{App, MenuAction, Permission};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};

use super::event::decode;
use crate::projection::{Projection, ProjectionError, TableNames};

pub struct TenantsProjection;

#[async_trait]
impl Projection for TenantsProjection {
    fn name(&self) -> &'static str {
        "tenants"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "tenants",
            "tenant_wechat_accounts",
            "tenant_wechat_menu_buttons",
        ]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean) = (dialect.time_type(), dialect.bool_type());
        let tenants = names.table("tenants");
        let accounts = names.table("tenant_wechat_accounts");
        let buttons = names.table("tenant_wechat_menu_buttons");
        vec![
            format!(
                "CREATE TABLE {tenants} (
                    tenant_id                          text      NOT NULL PRIMARY KEY,
                    name                               text      NOT NULL,
                    registered_at                      {time}    NOT NULL,
                    interconnect_enabled               {boolean} NOT NULL,
                    interconnect_enabled_at            {time},
                    ordering_purchased                 {boolean} NOT NULL,
                    ordering_purchased_at              {time},
                    ordering_enabled                   {boolean} NOT NULL,
                    ordering_enabled_at                {time},
                    ordering_grants_create_sales_order {boolean} NOT NULL,
                    ordering_grants_cancel_order       {boolean} NOT NULL,
                    ordering_grants_view_orders        {boolean} NOT NULL,
                    updated_at                         {time}    NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE {accounts} (
                    tenant_id         text   NOT NULL,
                    app_id            text   NOT NULL,
                    name              text   NOT NULL,
                    bound_at          {time} NOT NULL,
                    menu_published_at {time},
                    menu_buttons      bigint NOT NULL,
                    PRIMARY KEY (tenant_id, app_id)
                )"
            ),
            format!(
                "CREATE TABLE {buttons} (
                    tenant_id   text   NOT NULL,
                    app_id      text   NOT NULL,
                    position    bigint NOT NULL,
                    name        text   NOT NULL,
                    action_type text   NOT NULL,
                    app         text,
                    url         text,
                    PRIMARY KEY (tenant_id, app_id, position)
                )"
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(tenant) = decode::<TenantEvent>(event, "Tenant")? else {
            return Ok(());
        };
        let tenants = names.table("tenants");
        let accounts = names.table("tenant_wechat_accounts");
        let buttons = names.table("tenant_wechat_menu_buttons");
        let id = Arg::from(event.aggregate_id.as_str());
        let at = Arg::from(event.recorded_at);
        let set = |assignments: &str| {
            format!("UPDATE {tenants} SET {assignments}, updated_at = $2 WHERE tenant_id = $1")
        };
        match tenant {
            // The tenant's index of its price lists is the command side's, to find them by id;
            // `rm_price_lists` (projection `price_lists`) is what reads show.
            TenantEvent::PriceListIndexed { .. } | TenantEvent::PriceListUnindexed { .. } => {}
            TenantEvent::TenantRegistered { name } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {tenants} (tenant_id, name, registered_at,
                            interconnect_enabled, ordering_purchased, ordering_enabled,
                            ordering_grants_create_sales_order, ordering_grants_cancel_order,
                            ordering_grants_view_orders, updated_at)
                         VALUES ($1, $3, $2, $4, $4, $4, $5, $5, $5, $2)"
                    ),
                    &[id, at, name.as_str().into(), false.into(), true.into()],
                )
                .await?;
            }
            TenantEvent::InterconnectEnabled => {
                tx.execute(
                    &set("interconnect_enabled = $3, interconnect_enabled_at = $2"),
                    &[id, at, true.into()],
                )
                .await?;
            }
            TenantEvent::AppPurchased { app: App::Ordering } => {
                tx.execute(
                    &set("ordering_purchased = $3, ordering_purchased_at = $2"),
                    &[id, at, true.into()],
                )
                .await?;
            }
            TenantEvent::AppEnabled { app: App::Ordering } => {
                tx.execute(
                    &set("ordering_enabled = $3, ordering_enabled_at = $2"),
                    &[id, at, true.into()],
                )
                .await?;
            }
            TenantEvent::AppDisabled { app: App::Ordering } => {
                tx.execute(
                    &set("ordering_enabled = $3, ordering_enabled_at = NULL"),
                    &[id, at, false.into()],
                )
                .await?;
            }
            TenantEvent::FunctionPermissionsSet {
                app: App::Ordering,
                permissions,
            } => {
                let grants = |p: Permission| Arg::from(permissions.contains(&p));
                tx.execute(
                    &set(
                        "ordering_grants_create_sales_order = $3, ordering_grants_cancel_order = $4,
                         ordering_grants_view_orders = $5",
                    ),
                    &[
                        id,
                        at,
                        grants(Permission::CreateSalesOrder),
                        grants(Permission::CancelOrder),
                        grants(Permission::ViewOrders),
                    ],
                )
                .await?;
            }
            TenantEvent::WechatAccountBound { app_id, name } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {accounts} (tenant_id, app_id, name, bound_at, menu_buttons)
                         VALUES ($1, $2, $3, $4, 0)
                         ON CONFLICT (tenant_id, app_id) DO UPDATE SET name = excluded.name"
                    ),
                    &[id, app_id.as_str().into(), name.as_str().into(), at],
                )
                .await?;
            }
            TenantEvent::WechatAccountUnbound { app_id } => {
                for table in [&accounts, &buttons] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE tenant_id = $1 AND app_id = $2"),
                        &[id.clone(), app_id.as_str().into()],
                    )
                    .await?;
                }
            }
            TenantEvent::WechatMenuPublished {
                app_id,
                buttons: menu,
            } => {
                let account = [id.clone(), app_id.as_str().into()];
                tx.execute(
                    &format!("DELETE FROM {buttons} WHERE tenant_id = $1 AND app_id = $2"),
                    &account,
                )
                .await?;
                for (position, button) in menu.iter().enumerate() {
                    let (action, app, url) = match &button.action {
                        MenuAction::OpenApp { app } => ("OPEN_APP", Some(app.as_str()), None),
                        MenuAction::OpenUrl { url } => ("OPEN_URL", None, Some(url.as_str())),
                    };
                    tx.execute(
                        &format!(
                            "INSERT INTO {buttons} (tenant_id, app_id, position, name, action_type,
                                app, url) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                        ),
                        &[
                            id.clone(),
                            app_id.as_str().into(),
                            i64::try_from(position + 1).unwrap_or(i64::MAX).into(),
                            button.name.as_str().into(),
                            action.into(),
                            app.into(),
                            url.into(),
                        ],
                    )
                    .await?;
                }
                tx.execute(
                    &format!(
                        "UPDATE {accounts} SET menu_published_at = $3, menu_buttons = $4
                          WHERE tenant_id = $1 AND app_id = $2"
                    ),
                    &[
                        account[0].clone(),
                        account[1].clone(),
                        at,
                        i64::try_from(menu.len()).unwrap_or(i64::MAX).into(),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }
}
