use std::collections::BTreeSet;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{PartnerCommand, PartnerEvent};
use crate::error::DomainError;
use crate::ids::TenantId;
use crate::lookup::{Scoped, Services};
use crate::values::{App, Assortment, Category, Level, Name, PartnerMode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    tenant_id: Option<TenantId>,
    name: Option<Name>,
    /// `Some` once the customer was added as a partner enterprise.
    mode: Option<PartnerMode>,
    apps: BTreeSet<App>,
    suspended: bool,
    level: Option<Level>,
    /// `None`: every listed product.
    assortment: Option<Assortment>,
    version: u64,
}

impl Partner {
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    /// Whether this is a recorded CRM customer of `tenant`.
    pub fn is_customer_of(&self, tenant: TenantId) -> bool {
        self.tenant_id == Some(tenant)
    }
    /// Whether this is a partner enterprise of `tenant`.
    pub fn is_partner_of(&self, tenant: TenantId) -> bool {
        self.is_customer_of(tenant) && self.mode.is_some()
    }
    pub fn mode(&self) -> Option<PartnerMode> {
        self.mode
    }
    pub fn has_app(&self, app: App) -> bool {
        self.apps.contains(&app)
    }
    pub fn is_suspended(&self) -> bool {
        self.suspended
    }
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn level(&self) -> Option<&Level> {
        self.level.as_ref()
    }
    pub fn assortment(&self) -> Option<&Assortment> {
        self.assortment.as_ref()
    }
    /// Whether a product of `category` is in the partner's assortment (every product is, while
    /// the assortment is not restricted).
    pub fn may_buy(&self, category: Option<&Category>) -> bool {
        self.assortment
            .as_ref()
            .is_none_or(|assortment| assortment.admits(category))
    }

    /// The partner may place orders through `app` (DESIGN §2: a partner, not suspended, with the
    /// app assigned). The tenant-side and contact-side checks are made by the order.
    pub fn check_may_order(&self, tenant: TenantId, app: App) -> Result<(), DomainError> {
        if !self.is_partner_of(tenant) {
            return Err(DomainError::NotAPartner);
        }
        if self.suspended {
            return Err(DomainError::PartnerSuspended);
        }
        if !self.has_app(app) {
            return Err(DomainError::AppNotAssigned { app });
        }
        Ok(())
    }

    fn require_partner(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.is_partner_of(tenant) {
            Ok(())
        } else if self.is_customer_of(tenant) {
            Err(DomainError::NotAPartner)
        } else {
            // Unknown here and another tenant's look the same: ids never leak across tenants.
            Err(DomainError::NotFound { what: "partner" })
        }
    }
}

impl Aggregate for Partner {
    const TYPE: &'static str = "Partner";
    type Command = Scoped<PartnerCommand>;
    type Event = PartnerEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use PartnerCommand as C;
        use PartnerEvent as E;
        let tenant = scoped.tenant_id;
        let event = match scoped.command {
            C::RecordCustomer {
                name,
                phone,
                address,
            } => {
                if self.tenant_id.is_some_and(|owner| owner != tenant) {
                    return Err(DomainError::NotFound { what: "customer" });
                }
                if self.tenant_id.is_some() {
                    return Err(DomainError::invalid_state(
                        "the customer is already recorded",
                    ));
                }
                if !services.tenant(tenant).await?.is_registered() {
                    return Err(DomainError::NotFound { what: "tenant" });
                }
                E::CustomerRecorded {
                    tenant_id: tenant,
                    name,
                    phone,
                    address,
                }
            }
            C::UpdateCustomer {
                name,
                phone,
                address,
            } => {
                if !self.is_customer_of(tenant) {
                    return Err(DomainError::NotFound { what: "customer" });
                }
                E::CustomerUpdated {
                    name,
                    phone,
                    address,
                }
            }
            C::AddPartner { mode } => {
                if !self.is_customer_of(tenant) {
                    return Err(DomainError::CustomerNotRecorded);
                }
                if self.mode.is_some() {
                    return Err(DomainError::invalid_state("already a partner enterprise"));
                }
                if !services.tenant(tenant).await?.is_upstream() {
                    return Err(DomainError::InterconnectNotEnabled);
                }
                E::PartnerAdded { mode }
            }
            C::AssignApp { app } => {
                self.require_partner(tenant)?;
                let upstream = services.tenant(tenant).await?;
                if !upstream.has_purchased(app) {
                    return Err(DomainError::AppNotPurchased { app });
                }
                if !upstream.has_enabled(app) {
                    return Err(DomainError::AppNotEnabled { app });
                }
                if self.has_app(app) {
                    return Ok(());
                }
                E::AppAssigned { app }
            }
            C::UnassignApp { app } => {
                self.require_partner(tenant)?;
                if !self.has_app(app) {
                    return Ok(());
                }
                E::AppUnassigned { app }
            }
            C::SuspendPartner => {
                self.require_partner(tenant)?;
                if self.suspended {
                    return Ok(());
                }
                E::PartnerSuspended
            }
            C::ReinstatePartner => {
                self.require_partner(tenant)?;
                if !self.suspended {
                    return Ok(());
                }
                E::PartnerReinstated
            }
            C::SetPartnerLevel { level } => {
                self.require_partner(tenant)?;
                if self.level == level {
                    return Ok(());
                }
                E::PartnerLevelSet { level }
            }
            C::RestrictPartnerAssortment { categories } => {
                self.require_partner(tenant)?;
                if self.assortment.as_ref() == Some(&categories) {
                    return Ok(());
                }
                E::PartnerAssortmentRestricted { categories }
            }
            C::ClearPartnerAssortment => {
                self.require_partner(tenant)?;
                if self.assortment.is_none() {
                    return Ok(());
                }
                E::PartnerAssortmentCleared
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use PartnerEvent as E;
        self.version += 1;
        match event {
            E::CustomerRecorded {
                tenant_id, name, ..
            } => {
                self.tenant_id = Some(tenant_id);
                self.name = Some(name);
            }
            E::CustomerUpdated { name, .. } => self.name = Some(name),
            E::PartnerAdded { mode } => self.mode = Some(mode),
            E::AppAssigned { app } => {
                self.apps.insert(app);
            }
            E::AppUnassigned { app } => {
                self.apps.remove(&app);
            }
            E::PartnerSuspended => self.suspended = true,
            E::PartnerReinstated => self.suspended = false,
            E::PartnerLevelSet { level } => self.level = level,
            E::PartnerAssortmentRestricted { categories } => self.assortment = Some(categories),
            E::PartnerAssortmentCleared => self.assortment = None,
        }
    }
}
