use std::collections::{BTreeMap, BTreeSet};

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{Affiliation, ContactCommand, ContactEvent};
use crate::error::DomainError;
use crate::ids::{PartnerId, TenantId};
use crate::lookup::{Scoped, Services};
use crate::tenant::Tenant;
use crate::values::{App, Channel, Name, OpenId, Permission, Phone, Side};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    tenant_id: Option<TenantId>,
    name: Option<Name>,
    phone: Option<Phone>,
    affiliation: Option<Affiliation>,
    /// The partners this person is a partner contact of. A their-side contact has at most one
    /// (its own customer); an employee has the dealers it looks after.
    links: BTreeMap<PartnerId, Side>,
    /// Channels on which the person verified its identity, with the WeChat open id if any.
    bindings: BTreeMap<Channel, Option<OpenId>>,
    /// How many times the bindings were cleared (a phone change, the last their-side link
    /// removed). A sign-in proves the identity for the epoch it happened in only: the API
    /// writes the epoch into the contact's token and refuses a token of an earlier one.
    #[serde(default)]
    binding_epoch: u64,
    denied: BTreeMap<App, BTreeSet<Permission>>,
    version: u64,
}

impl Contact {
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn belongs_to(&self, tenant: TenantId) -> bool {
        self.tenant_id == Some(tenant)
    }
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    pub fn affiliation(&self) -> Option<Affiliation> {
        self.affiliation
    }
    pub fn is_employee(&self) -> bool {
        self.affiliation == Some(Affiliation::Employee)
    }
    pub fn is_bound(&self) -> bool {
        !self.bindings.is_empty()
    }
    /// How many times this contact's bindings were cleared: a token issued in an earlier epoch
    /// proves a binding that no longer holds.
    pub fn binding_epoch(&self) -> u64 {
        self.binding_epoch
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The partner this person orders for, if it is a their-side contact.
    pub fn their_side_partner(&self) -> Option<PartnerId> {
        self.links
            .iter()
            .find_map(|(partner, side)| (*side == Side::Theirs).then_some(*partner))
    }
    pub fn is_linked(&self, partner: PartnerId, side: Side) -> bool {
        self.links.get(&partner) == Some(&side)
    }
    pub fn denied(&self, app: App) -> BTreeSet<Permission> {
        self.denied.get(&app).cloned().unwrap_or_default()
    }

    /// Effective permission: the tenant's default for the app, minus this contact's denials.
    pub fn check_permission(
        &self,
        tenant: &Tenant,
        app: App,
        permission: Permission,
    ) -> Result<(), DomainError> {
        let denied_here = self
            .denied
            .get(&app)
            .is_some_and(|denied| denied.contains(&permission));
        if denied_here || !tenant.grants_by_default(app, permission) {
            return Err(DomainError::PermissionDenied { app, permission });
        }
        Ok(())
    }

    /// Forgets every binding and starts a new binding epoch.
    fn clear_bindings(&mut self) {
        self.bindings.clear();
        self.binding_epoch += 1;
    }

    fn require_recorded(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.belongs_to(tenant) {
            Ok(())
        } else {
            Err(DomainError::NotFound { what: "contact" })
        }
    }
}

impl Aggregate for Contact {
    const TYPE: &'static str = "Contact";
    type Command = Scoped<ContactCommand>;
    type Event = ContactEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use ContactCommand as C;
        use ContactEvent as E;
        let tenant = scoped.tenant_id;
        let event = match scoped.command {
            C::RecordContact {
                name,
                phone,
                affiliation,
            } => {
                if self.tenant_id.is_some_and(|owner| owner != tenant) {
                    return Err(DomainError::NotFound { what: "contact" });
                }
                if self.tenant_id.is_some() {
                    return Err(DomainError::invalid_state(
                        "the contact is already recorded",
                    ));
                }
                match affiliation {
                    Affiliation::Customer { customer_id } => {
                        if !services.partner(customer_id).await?.is_customer_of(tenant) {
                            return Err(DomainError::CustomerNotRecorded);
                        }
                    }
                    Affiliation::Employee => {
                        if !services.tenant(tenant).await?.is_registered() {
                            return Err(DomainError::NotFound { what: "tenant" });
                        }
                    }
                }
                E::ContactRecorded {
                    tenant_id: tenant,
                    name,
                    phone,
                    affiliation,
                }
            }
            C::UpdateContact { name, phone } => {
                self.require_recorded(tenant)?;
                // Seed note 1 holds for the whole life of a partner contact, not just at adding.
                if phone.is_none() && !self.links.is_empty() {
                    return Err(DomainError::ContactHasNoPhone);
                }
                E::ContactUpdated { name, phone }
            }
            C::AddPartnerContact { partner_id, side } => {
                self.require_recorded(tenant)?;
                // Seed note 1: a partner contact must have contact details (a mobile number).
                if self.phone.is_none() {
                    return Err(DomainError::ContactHasNoPhone);
                }
                let partner = services.partner(partner_id).await?;
                if !partner.is_partner_of(tenant) {
                    return Err(DomainError::NotAPartner);
                }
                match side {
                    Side::Theirs => {
                        if self.affiliation
                            != Some(Affiliation::Customer {
                                customer_id: partner_id,
                            })
                        {
                            return Err(DomainError::WrongSide(
                                "a their-side contact must be a CRM contact of that partner's customer",
                            ));
                        }
                    }
                    Side::Ours => {
                        if !self.is_employee() {
                            return Err(DomainError::WrongSide(
                                "an our-side contact must be an employee of the tenant",
                            ));
                        }
                    }
                }
                if self.is_linked(partner_id, side) {
                    return Ok(());
                }
                let mode = partner.mode().unwrap_or_default();
                E::PartnerContactAdded {
                    partner_id,
                    side,
                    mode,
                }
            }
            C::RemovePartnerContact { partner_id } => {
                self.require_recorded(tenant)?;
                if !self.links.contains_key(&partner_id) {
                    return Err(DomainError::NotFound {
                        what: "partner contact",
                    });
                }
                E::PartnerContactRemoved { partner_id }
            }
            C::BindContact {
                phone,
                channel,
                wechat_open_id,
            } => {
                self.require_recorded(tenant)?;
                if self.their_side_partner().is_none() {
                    return Err(DomainError::NotAPartner);
                }
                // Seed §2: the number entered must equal the number recorded, or nothing binds.
                if self.phone.as_ref() != Some(&phone) {
                    return Err(DomainError::PhoneMismatch);
                }
                if self.bindings.get(&channel) == Some(&wechat_open_id) {
                    return Ok(());
                }
                E::ContactBound {
                    channel,
                    wechat_open_id,
                }
            }
            C::RestrictContactPermissions { app, denied } => {
                self.require_recorded(tenant)?;
                if !services.tenant(tenant).await?.has_purchased(app) {
                    return Err(DomainError::AppNotPurchased { app });
                }
                if self.denied(app) == denied {
                    return Ok(());
                }
                E::ContactPermissionsRestricted { app, denied }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use ContactEvent as E;
        self.version += 1;
        match event {
            E::ContactRecorded {
                tenant_id,
                name,
                phone,
                affiliation,
            } => {
                self.tenant_id = Some(tenant_id);
                self.name = Some(name);
                self.phone = phone;
                self.affiliation = Some(affiliation);
            }
            E::ContactUpdated { name, phone } => {
                // A new number must be verified again: the old binding proved the old number.
                if phone != self.phone {
                    self.clear_bindings();
                }
                self.name = Some(name);
                self.phone = phone;
            }
            E::PartnerContactAdded {
                partner_id, side, ..
            } => {
                self.links.insert(partner_id, side);
            }
            E::PartnerContactRemoved { partner_id } => {
                self.links.remove(&partner_id);
                if self.their_side_partner().is_none() {
                    self.clear_bindings();
                }
            }
            E::ContactBound {
                channel,
                wechat_open_id,
            } => {
                self.bindings.insert(channel, wechat_open_id);
            }
            E::ContactPermissionsRestricted { app, denied } => {
                self.denied.insert(app, denied);
            }
        }
    }
}
