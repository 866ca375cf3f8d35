use std::collections::BTreeSet;

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::PriceListId;
use crate::values::{App, MenuButton, Name, Permission, WechatAppId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TenantEvent {
    TenantRegistered {
        name: Name,
    },
    InterconnectEnabled,
    AppPurchased {
        app: App,
    },
    AppEnabled {
        app: App,
    },
    AppDisabled {
        app: App,
    },
    WechatAccountBound {
        app_id: WechatAppId,
        name: Name,
    },
    WechatAccountUnbound {
        app_id: WechatAppId,
    },
    WechatMenuPublished {
        app_id: WechatAppId,
        buttons: Vec<MenuButton>,
    },
    FunctionPermissionsSet {
        app: App,
        permissions: BTreeSet<Permission>,
    },
    /// The tenant's bounded index of its price lists that are not archived: where a submission
    /// finds, by id, every list that may price its lines (DESIGN §4).
    PriceListIndexed {
        price_list_id: PriceListId,
    },
    PriceListUnindexed {
        price_list_id: PriceListId,
    },
}

impl DomainEvent for TenantEvent {
    fn event_type(&self) -> String {
        match self {
            Self::TenantRegistered { .. } => "TenantRegistered",
            Self::InterconnectEnabled => "InterconnectEnabled",
            Self::AppPurchased { .. } => "AppPurchased",
            Self::AppEnabled { .. } => "AppEnabled",
            Self::AppDisabled { .. } => "AppDisabled",
            Self::WechatAccountBound { .. } => "WechatAccountBound",
            Self::WechatAccountUnbound { .. } => "WechatAccountUnbound",
            Self::WechatMenuPublished { .. } => "WechatMenuPublished",
            Self::FunctionPermissionsSet { .. } => "FunctionPermissionsSet",
            Self::PriceListIndexed { .. } => "PriceListIndexed",
            Self::PriceListUnindexed { .. } => "PriceListUnindexed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
