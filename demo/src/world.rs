//! What the demo loaded, as it knows it: ids and names to drive orders and refusals with. The
//! report reads the event store back rather than trusting this bookkeeping.

use dinghuo_commands::{Actor, RequestContext, Role};
use dinghuo_domain::{Channel, ContactId, PartnerId, PartnerMode, ProductId, TenantId};

pub struct ListedProduct {
    pub id: ProductId,
    pub sku: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
}

pub struct Customer {
    pub id: PartnerId,
    pub name: &'static str,
}

pub struct Partner {
    /// Also the id of the CRM customer it was made from.
    pub id: PartnerId,
    pub name: &'static str,
    pub mode: PartnerMode,
    /// Whether the ordering app was assigned to it.
    pub ordering: bool,
    pub suspended: bool,
}

/// A their-side partner contact: a member of a dealer's staff.
pub struct TheirContact {
    pub id: ContactId,
    pub name: &'static str,
    /// The recorded mobile number, 11 digits.
    pub phone: String,
    /// Index into `World::partners`.
    pub partner: usize,
    /// Where it verified its identity; `None`: invited but not bound yet.
    pub channel: Option<Channel>,
    /// Denied `CREATE_SALES_ORDER` for the ordering app.
    pub restricted: bool,
}

/// An our-side partner contact: an employee of the tenant looking after some dealers.
pub struct Employee {
    pub id: ContactId,
    pub name: &'static str,
    /// Indices into `World::partners`.
    pub partners: Vec<usize>,
}

/// The loaded tenant, as the demo knows it (the report reads the event store back).
pub struct World {
    pub tenant: TenantId,
    pub operator: Actor,
    pub admin: Actor,
    pub wechat_app_id: String,
    pub products: Vec<ListedProduct>,
    pub customers: Vec<Customer>,
    pub partners: Vec<Partner>,
    pub contacts: Vec<TheirContact>,
    pub employees: Vec<Employee>,
}

impl World {
    /// A fresh request of the admin (each command is its own request, as from a real client).
    pub fn admin_ctx(&self) -> RequestContext {
        RequestContext::new(self.admin)
    }

    pub fn contact_ctx(&self, contact: &TheirContact) -> RequestContext {
        contact_ctx(contact.id, self.tenant)
    }

    pub fn employee_ctx(&self, employee: &Employee) -> RequestContext {
        RequestContext::new(Actor::in_tenant(
            employee.id.as_uuid(),
            Role::Employee,
            self.tenant,
        ))
    }

    /// Contacts that may order: bound, not restricted, of an active partner with ordering.
    pub fn orderers(&self) -> Vec<usize> {
        (0..self.contacts.len())
            .filter(|&i| {
                let contact = &self.contacts[i];
                let partner = &self.partners[contact.partner];
                contact.channel.is_some()
                    && !contact.restricted
                    && partner.ordering
                    && !partner.suspended
            })
            .collect()
    }

    /// The first bound contact of a partner.
    pub fn bound_contact_of(&self, partner: usize) -> Option<&TheirContact> {
        self.contacts
            .iter()
            .find(|c| c.partner == partner && c.channel.is_some())
    }

    pub fn unbound_contacts(&self) -> impl Iterator<Item = &TheirContact> {
        self.contacts.iter().filter(|c| c.channel.is_none())
    }

    pub fn restricted_contact(&self) -> Option<&TheirContact> {
        self.contacts.iter().find(|c| c.restricted)
    }
}

pub fn contact_ctx(id: ContactId, tenant: TenantId) -> RequestContext {
    RequestContext::new(Actor::in_tenant(id.as_uuid(), Role::Contact, tenant))
}
