use std::collections::BTreeSet;

use super::Affiliation;
use crate::ids::PartnerId;
use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{App, Channel, Name, OpenId, Permission, Phone, Side};

#[derive(Debug, Clone, PartialEq)]
pub enum ContactCommand {
    RecordContact {
        name: Name,
        phone: Option<Phone>,
        affiliation: Affiliation,
    },
    UpdateContact {
        name: Name,
        phone: Option<Phone>,
    },
    AddPartnerContact {
        partner_id: PartnerId,
        side: Side,
    },
    RemovePartnerContact {
        partner_id: PartnerId,
    },
    /// Identity verification: `phone` is what the person typed; it must equal the recorded one.
    BindContact {
        phone: Phone,
        channel: Channel,
        wechat_open_id: Option<OpenId>,
    },
    RestrictContactPermissions {
        app: App,
        denied: BTreeSet<Permission>,
    },
}

impl Needs for Scoped<ContactCommand> {
    fn needs(&self) -> Wanted {
        use ContactCommand as C;
        let wanted = Wanted::new();
        match &self.command {
            C::RecordContact {
                affiliation: Affiliation::Customer { customer_id },
                ..
            } => wanted.partner(*customer_id),
            C::RecordContact {
                affiliation: Affiliation::Employee,
                ..
            }
            | C::RestrictContactPermissions { .. } => wanted.tenant(self.tenant_id),
            C::AddPartnerContact { partner_id, .. } => wanted.partner(*partner_id),
            C::UpdateContact { .. } | C::RemovePartnerContact { .. } | C::BindContact { .. } => {
                wanted
            }
        }
    }
}
