use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{ContactId, TenantId};
use crate::values::{Name, Phone};

/// What a staff member may do in its tenant (DESIGN §1): everything, or the partners it is
/// linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StaffRole {
    Admin,
    Employee,
}

impl StaffRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Employee => "EMPLOYEE",
        }
    }
}

/// Events of a staff membership. The phone is the one the person signs in with; no secret
/// (code, password) is ever part of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MemberEvent {
    /// The operator made the person an admin of the tenant.
    TenantAdminCreated {
        tenant_id: TenantId,
        name: Name,
        phone: Phone,
    },
    /// An admin let one of the tenant's employees (an our-side contact) sign in; its name and
    /// phone are the contact's at that moment.
    EmployeeInvited {
        tenant_id: TenantId,
        contact_id: ContactId,
        name: Name,
        phone: Phone,
    },
    /// The person may no longer sign in to this tenant; its sessions end.
    StaffAccessRevoked,
}

impl DomainEvent for MemberEvent {
    fn event_type(&self) -> String {
        match self {
            Self::TenantAdminCreated { .. } => "TenantAdminCreated",
            Self::EmployeeInvited { .. } => "EmployeeInvited",
            Self::StaffAccessRevoked => "StaffAccessRevoked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
