use std::collections::BTreeSet;

use crate::ids::PriceListId;
use crate::lookup::{Needs, Wanted};
use crate::values::{App, MenuButton, Name, Permission, WechatAppId};

#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    RegisterTenant {
        name: Name,
    },
    EnableInterconnect,
    PurchaseApp {
        app: App,
    },
    EnableApp {
        app: App,
    },
    DisableApp {
        app: App,
    },
    BindWechatAccount {
        app_id: WechatAppId,
        name: Name,
    },
    UnbindWechatAccount {
        app_id: WechatAppId,
    },
    PublishWechatMenu {
        app_id: WechatAppId,
        buttons: Vec<MenuButton>,
    },
    SetFunctionPermissions {
        app: App,
        permissions: BTreeSet<Permission>,
    },
    /// Sent by the command layer before a price list is created, so that the list is never
    /// created without being found (a list indexed and never created prices nothing).
    IndexPriceList {
        price_list_id: PriceListId,
    },
    /// Sent after a list is archived.
    UnindexPriceList {
        price_list_id: PriceListId,
    },
}

impl Needs for TenantCommand {
    /// A tenant decides on its own events alone.
    fn needs(&self) -> Wanted {
        Wanted::new()
    }
}
