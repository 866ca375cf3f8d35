use std::collections::BTreeSet;

use super::Affiliation;
use crate::ids::PartnerId;
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
