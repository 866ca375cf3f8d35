use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::values::{Address, App, Assortment, Level, Name, PartnerMode, Phone};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PartnerEvent {
    CustomerRecorded {
        tenant_id: TenantId,
        name: Name,
        phone: Option<Phone>,
        address: Option<Address>,
    },
    CustomerUpdated {
        name: Name,
        phone: Option<Phone>,
        address: Option<Address>,
    },
    PartnerAdded {
        mode: PartnerMode,
    },
    AppAssigned {
        app: App,
    },
    AppUnassigned {
        app: App,
    },
    PartnerSuspended,
    PartnerReinstated,
    /// The partner's dealer tier; `None` takes it off every tier.
    PartnerLevelSet {
        level: Option<Level>,
    },
    PartnerAssortmentRestricted {
        categories: Assortment,
    },
    PartnerAssortmentCleared,
}

impl DomainEvent for PartnerEvent {
    fn event_type(&self) -> String {
        match self {
            Self::CustomerRecorded { .. } => "CustomerRecorded",
            Self::CustomerUpdated { .. } => "CustomerUpdated",
            Self::PartnerAdded { .. } => "PartnerAdded",
            Self::AppAssigned { .. } => "AppAssigned",
            Self::AppUnassigned { .. } => "AppUnassigned",
            Self::PartnerSuspended => "PartnerSuspended",
            Self::PartnerReinstated => "PartnerReinstated",
            Self::PartnerLevelSet { .. } => "PartnerLevelSet",
            Self::PartnerAssortmentRestricted { .. } => "PartnerAssortmentRestricted",
            Self::PartnerAssortmentCleared => "PartnerAssortmentCleared",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        crate::EVENT_VERSION.to_owned()
    }
}
