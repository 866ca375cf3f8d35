use std::collections::BTreeSet;

use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{PartnerId, TenantId};
use crate::values::{App, Channel, Name, OpenId, PartnerMode, Permission, Phone, Side};

/// Whom the person works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Affiliation {
    /// A CRM contact of the customer with this id (a their-side contact candidate).
    Customer { customer_id: PartnerId },
    /// An employee of the tenant (an our-side contact candidate).
    Employee,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ContactEvent {
    ContactRecorded {
        tenant_id: TenantId,
        name: Name,
        phone: Option<Phone>,
        affiliation: Affiliation,
    },
    ContactUpdated {
        name: Name,
        phone: Option<Phone>,
    },
    /// `mode` is the partner's mode at that moment: it decides which SMS the contact receives.
    PartnerContactAdded {
        partner_id: PartnerId,
        side: Side,
        mode: PartnerMode,
    },
    PartnerContactRemoved {
        partner_id: PartnerId,
    },
    ContactBound {
        channel: Channel,
        wechat_open_id: Option<OpenId>,
    },
    ContactPermissionsRestricted {
        app: App,
        denied: BTreeSet<Permission>,
    },
}

impl DomainEvent for ContactEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ContactRecorded { .. } => "ContactRecorded",
            Self::ContactUpdated { .. } => "ContactUpdated",
            Self::PartnerContactAdded { .. } => "PartnerContactAdded",
            Self::PartnerContactRemoved { .. } => "PartnerContactRemoved",
            Self::ContactBound { .. } => "ContactBound",
            Self::ContactPermissionsRestricted { .. } => "ContactPermissionsRestricted",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
