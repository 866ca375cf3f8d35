use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{PriceListCommand, PriceListEvent};
use crate::error::{DomainError, ValidationError};
use crate::ids::{PartnerId, TenantId};
use crate::lookup::{Scoped, Services};
use crate::values::{Level, Name, PriceListScope, Priority};

/// One price list's terms. Its prices live in the products' [`super::ListPrices`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceList {
    tenant_id: Option<TenantId>,
    name: Option<Name>,
    priority: Option<Priority>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    /// `None` until set: a new list prices for nobody.
    scope: Option<PriceListScope>,
    archived: bool,
    version: u64,
}

impl PriceList {
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    pub fn priority(&self) -> Option<Priority> {
        self.priority
    }
    pub fn scope(&self) -> Option<&PriceListScope> {
        self.scope.as_ref()
    }
    pub fn validity(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (self.from, self.to)
    }
    pub fn is_archived(&self) -> bool {
        self.archived
    }
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether the list exists in `tenant` and is not archived: prices may be set on it.
    pub fn is_open_in(&self, tenant: TenantId) -> bool {
        self.tenant_id == Some(tenant) && !self.archived
    }

    /// Whether the list prices for `partner` (at `level`) at `at`: created in `tenant`, not
    /// archived, valid then, and scoped to it.
    pub fn applies(
        &self,
        tenant: TenantId,
        partner: PartnerId,
        level: Option<&Level>,
        at: DateTime<Utc>,
    ) -> bool {
        self.is_open_in(tenant)
            && self.from.is_none_or(|from| from <= at)
            && self.to.is_none_or(|to| at < to)
            && self
                .scope
                .as_ref()
                .is_some_and(|scope| scope.covers(partner, level))
    }

    fn require_open(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.tenant_id != Some(tenant) {
            return Err(DomainError::NotFound { what: "price list" });
        }
        if self.archived {
            return Err(DomainError::invalid_state("the price list is archived"));
        }
        Ok(())
    }
}

/// A validity window must end after it starts.
pub fn check_validity(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(), ValidationError> {
    match (from, to) {
        (Some(from), Some(to)) if to <= from => {
            Err(ValidationError::new("validTo", "must be after validFrom"))
        }
        _ => Ok(()),
    }
}

impl Aggregate for PriceList {
    const TYPE: &'static str = "PriceList";
    type Command = Scoped<PriceListCommand>;
    type Event = PriceListEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use PriceListCommand as C;
        use PriceListEvent as E;
        let tenant = scoped.tenant_id;
        let events = match scoped.command {
            C::CreatePriceList {
                name,
                priority,
                scope,
                from,
                to,
            } => {
                if self.tenant_id.is_some_and(|owner| owner != tenant) {
                    return Err(DomainError::NotFound { what: "price list" });
                }
                if self.tenant_id.is_some() {
                    return Err(DomainError::invalid_state("the price list already exists"));
                }
                check_validity(from, to)?;
                if !services.tenant(tenant).await?.is_registered() {
                    return Err(DomainError::NotFound { what: "tenant" });
                }
                let mut events = vec![E::PriceListCreated {
                    tenant_id: tenant,
                    name,
                    priority,
                }];
                if from.is_some() || to.is_some() {
                    events.push(E::PriceListValiditySet { from, to });
                }
                if let Some(scope) = scope {
                    events.push(E::PriceListScopeSet { scope });
                }
                events
            }
            C::SetPriceListValidity { from, to } => {
                self.require_open(tenant)?;
                check_validity(from, to)?;
                if (self.from, self.to) == (from, to) {
                    return Ok(());
                }
                vec![E::PriceListValiditySet { from, to }]
            }
            C::SetPriceListScope { scope } => {
                self.require_open(tenant)?;
                if self.scope.as_ref() == Some(&scope) {
                    return Ok(());
                }
                vec![E::PriceListScopeSet { scope }]
            }
            C::ArchivePriceList => {
                if self.tenant_id != Some(tenant) {
                    return Err(DomainError::NotFound { what: "price list" });
                }
                if self.archived {
                    return Ok(());
                }
                vec![E::PriceListArchived]
            }
        };
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use PriceListEvent as E;
        self.version += 1;
        match event {
            E::PriceListCreated {
                tenant_id,
                name,
                priority,
            } => {
                self.tenant_id = Some(tenant_id);
                self.name = Some(name);
                self.priority = Some(priority);
            }
            E::PriceListValiditySet { from, to } => {
                self.from = from;
                self.to = to;
            }
            E::PriceListScopeSet { scope } => self.scope = Some(scope),
            E::PriceListArchived => self.archived = true,
        }
    }
}
