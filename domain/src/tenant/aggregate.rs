use std::collections::{BTreeMap, BTreeSet};

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{TenantCommand, TenantEvent};
use crate::error::{DomainError, ValidationError};
use crate::ids::PriceListId;
use crate::lookup::Services;
use crate::values::{App, MenuAction, MenuButton, Name, Permission, WechatAppId};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    name: Option<Name>,
    interconnect_enabled: bool,
    purchased: BTreeSet<App>,
    enabled: BTreeSet<App>,
    /// Bound official accounts by app id, with their display names.
    wechat_accounts: BTreeMap<WechatAppId, Name>,
    /// Default permissions of their-side contacts per app; an app without an entry grants all.
    default_permissions: BTreeMap<App, BTreeSet<Permission>>,
    /// The price lists not archived (at most [`Tenant::MAX_PRICE_LISTS`]).
    price_lists: BTreeSet<PriceListId>,
    /// Number of events applied: a replay that applied an event twice would show here.
    version: u64,
}

impl Tenant {
    /// The most price lists a tenant keeps unarchived: every submission may read them all.
    pub const MAX_PRICE_LISTS: usize = 100;

    /// The price lists that are not archived, each of which may price a line.
    pub fn price_lists(&self) -> &BTreeSet<PriceListId> {
        &self.price_lists
    }
    pub fn is_registered(&self) -> bool {
        self.name.is_some()
    }
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    /// Upstream: interconnect is enabled, so the tenant may add partners.
    pub fn is_upstream(&self) -> bool {
        self.interconnect_enabled
    }
    pub fn has_purchased(&self, app: App) -> bool {
        self.purchased.contains(&app)
    }
    pub fn has_enabled(&self, app: App) -> bool {
        self.enabled.contains(&app)
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Whether the tenant's defaults grant `permission` of `app` to their-side contacts.
    pub fn grants_by_default(&self, app: App, permission: Permission) -> bool {
        self.default_permissions
            .get(&app)
            .is_none_or(|granted| granted.contains(&permission))
    }
    pub fn default_permissions(&self, app: App) -> BTreeSet<Permission> {
        self.default_permissions
            .get(&app)
            .cloned()
            .unwrap_or_else(|| Permission::ALL.iter().copied().collect())
    }

    fn require_registered(&self) -> Result<(), DomainError> {
        if self.is_registered() {
            Ok(())
        } else {
            Err(DomainError::NotFound { what: "tenant" })
        }
    }

    fn require_purchased(&self, app: App) -> Result<(), DomainError> {
        if self.has_purchased(app) {
            Ok(())
        } else {
            Err(DomainError::AppNotPurchased { app })
        }
    }

    fn check_menu(&self, buttons: &[MenuButton]) -> Result<(), DomainError> {
        if buttons.is_empty() || buttons.len() > MenuButton::MAX_BUTTONS {
            return Err(ValidationError::new("buttons", "a menu has 1 to 3 buttons").into());
        }
        for button in buttons {
            match &button.action {
                // The seed: an app that is not enabled is not even offered for the menu.
                MenuAction::OpenApp { app } if !self.has_enabled(*app) => {
                    return Err(DomainError::AppNotEnabled { app: *app });
                }
                MenuAction::OpenApp { .. } => {}
                MenuAction::OpenUrl { url } => MenuButton::check_url(url, "buttons")?,
            }
        }
        Ok(())
    }
}

impl Aggregate for Tenant {
    const TYPE: &'static str = "Tenant";
    type Command = TenantCommand;
    type Event = TenantEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use TenantCommand as C;
        use TenantEvent as E;
        let event = match command {
            C::RegisterTenant { name } => {
                if self.is_registered() {
                    return Err(DomainError::invalid_state(
                        "the tenant is already registered",
                    ));
                }
                E::TenantRegistered { name }
            }
            C::EnableInterconnect => {
                self.require_registered()?;
                if self.interconnect_enabled {
                    return Ok(());
                }
                E::InterconnectEnabled
            }
            C::PurchaseApp { app } => {
                self.require_registered()?;
                if self.has_purchased(app) {
                    return Ok(());
                }
                E::AppPurchased { app }
            }
            C::EnableApp { app } => {
                self.require_registered()?;
                if !self.interconnect_enabled {
                    return Err(DomainError::InterconnectNotEnabled);
                }
                self.require_purchased(app)?;
                if self.has_enabled(app) {
                    return Ok(());
                }
                E::AppEnabled { app }
            }
            C::DisableApp { app } => {
                self.require_registered()?;
                if !self.has_enabled(app) {
                    return Ok(());
                }
                E::AppDisabled { app }
            }
            C::BindWechatAccount { app_id, name } => {
                self.require_registered()?;
                if self.wechat_accounts.get(&app_id) == Some(&name) {
                    return Ok(());
                }
                E::WechatAccountBound { app_id, name }
            }
            C::UnbindWechatAccount { app_id } => {
                self.require_registered()?;
                if !self.wechat_accounts.contains_key(&app_id) {
                    return Err(DomainError::NotFound {
                        what: "WeChat account",
                    });
                }
                E::WechatAccountUnbound { app_id }
            }
            C::PublishWechatMenu { app_id, buttons } => {
                self.require_registered()?;
                if !self.wechat_accounts.contains_key(&app_id) {
                    return Err(DomainError::NotFound {
                        what: "WeChat account",
                    });
                }
                self.check_menu(&buttons)?;
                E::WechatMenuPublished { app_id, buttons }
            }
            C::SetFunctionPermissions { app, permissions } => {
                self.require_registered()?;
                self.require_purchased(app)?;
                if self.default_permissions.get(&app) == Some(&permissions) {
                    return Ok(());
                }
                E::FunctionPermissionsSet { app, permissions }
            }
            C::IndexPriceList { price_list_id } => {
                self.require_registered()?;
                if self.price_lists.contains(&price_list_id) {
                    return Ok(());
                }
                if self.price_lists.len() >= Self::MAX_PRICE_LISTS {
                    return Err(DomainError::invalid_state(
                        "a tenant keeps at most 100 price lists; archive one first",
                    ));
                }
                E::PriceListIndexed { price_list_id }
            }
            C::UnindexPriceList { price_list_id } => {
                if !self.price_lists.contains(&price_list_id) {
                    return Ok(());
                }
                E::PriceListUnindexed { price_list_id }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use TenantEvent as E;
        self.version += 1;
        match event {
            E::TenantRegistered { name } => self.name = Some(name),
            E::InterconnectEnabled => self.interconnect_enabled = true,
            E::AppPurchased { app } => {
                self.purchased.insert(app);
            }
            E::AppEnabled { app } => {
                self.enabled.insert(app);
            }
            E::AppDisabled { app } => {
                self.enabled.remove(&app);
            }
            E::WechatAccountBound { app_id, name } => {
                self.wechat_accounts.insert(app_id, name);
            }
            E::WechatAccountUnbound { app_id } => {
                self.wechat_accounts.remove(&app_id);
            }
            // The menu lives in WeChat (published by a reactor) and in the read model; the
            // tenant's decisions never depend on it.
            E::WechatMenuPublished { .. } => {}
            E::FunctionPermissionsSet { app, permissions } => {
                self.default_permissions.insert(app, permissions);
            }
            E::PriceListIndexed { price_list_id } => {
                self.price_lists.insert(price_list_id);
            }
            E::PriceListUnindexed { price_list_id } => {
                self.price_lists.remove(&price_list_id);
            }
        }
    }
}
