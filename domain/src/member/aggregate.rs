use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{MemberCommand, MemberEvent, StaffRole};
use crate::error::DomainError;
use crate::ids::{ContactId, TenantId};
use crate::lookup::{Scoped, Services};
use crate::values::{Name, Phone};

/// A staff membership; `None` fields until it is first created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    tenant_id: Option<TenantId>,
    role: Option<StaffRole>,
    name: Option<Name>,
    phone: Option<Phone>,
    /// The employee's our-side contact; none for an admin.
    contact_id: Option<ContactId>,
    active: bool,
    version: u64,
}

impl Member {
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn role(&self) -> Option<StaffRole> {
        self.role
    }
    pub fn name(&self) -> Option<&Name> {
        self.name.as_ref()
    }
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }
    pub fn contact_id(&self) -> Option<ContactId> {
        self.contact_id
    }
    /// Whether the person may sign in to the tenant as this member now.
    pub fn is_active(&self) -> bool {
        self.active
    }
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The membership's role if it is active in `tenant`.
    pub fn active_in(&self, tenant: TenantId) -> Option<StaffRole> {
        (self.active && self.tenant_id == Some(tenant))
            .then_some(self.role)
            .flatten()
    }

    fn require_known(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.tenant_id == Some(tenant) {
            Ok(())
        } else {
            Err(DomainError::NotFound { what: "member" })
        }
    }

    /// A membership is created once per live period: again only after it was revoked.
    fn require_not_active(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.tenant_id.is_some_and(|owner| owner != tenant) {
            return Err(DomainError::NotFound { what: "member" });
        }
        if self.active {
            return Err(DomainError::AlreadyAMember);
        }
        Ok(())
    }
}

impl Aggregate for Member {
    const TYPE: &'static str = "Member";
    type Command = Scoped<MemberCommand>;
    type Event = MemberEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use MemberCommand as C;
        use MemberEvent as E;
        let tenant = scoped.tenant_id;
        let event = match scoped.command {
            C::CreateTenantAdmin { name, phone } => {
                self.require_not_active(tenant)?;
                if !services.tenant(tenant).await?.is_registered() {
                    return Err(DomainError::NotFound { what: "tenant" });
                }
                E::TenantAdminCreated {
                    tenant_id: tenant,
                    name,
                    phone,
                }
            }
            C::InviteEmployee { contact_id, phone } => {
                self.require_not_active(tenant)?;
                let contact = services.contact(contact_id).await?;
                if !contact.belongs_to(tenant) {
                    return Err(DomainError::NotFound { what: "contact" });
                }
                if !contact.is_employee() {
                    return Err(DomainError::WrongSide(
                        "only an employee of the tenant (an our-side contact) can be invited",
                    ));
                }
                let Some(recorded) = contact.phone() else {
                    return Err(DomainError::ContactHasNoPhone);
                };
                if *recorded != phone {
                    return Err(DomainError::invalid_state(
                        "the contact's phone changed while inviting it; invite it again",
                    ));
                }
                let Some(name) = contact.name().cloned() else {
                    return Err(DomainError::NotFound { what: "contact" });
                };
                E::EmployeeInvited {
                    tenant_id: tenant,
                    contact_id,
                    name,
                    phone,
                }
            }
            C::RevokeStaffAccess => {
                self.require_known(tenant)?;
                if !self.active {
                    return Err(DomainError::invalid_state(
                        "the member's access is already revoked",
                    ));
                }
                E::StaffAccessRevoked
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use MemberEvent as E;
        self.version += 1;
        match event {
            E::TenantAdminCreated {
                tenant_id,
                name,
                phone,
            } => {
                self.tenant_id = Some(tenant_id);
                self.role = Some(StaffRole::Admin);
                self.name = Some(name);
                self.phone = Some(phone);
                self.contact_id = None;
                self.active = true;
            }
            E::EmployeeInvited {
                tenant_id,
                contact_id,
                name,
                phone,
            } => {
                self.tenant_id = Some(tenant_id);
                self.role = Some(StaffRole::Employee);
                self.name = Some(name);
                self.phone = Some(phone);
                self.contact_id = Some(contact_id);
                self.active = true;
            }
            E::StaffAccessRevoked => self.active = false,
        }
    }
}
