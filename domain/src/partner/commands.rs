use crate::values::{Address, App, Name, PartnerMode, Phone};

#[derive(Debug, Clone, PartialEq)]
pub enum PartnerCommand {
    RecordCustomer {
        name: Name,
        phone: Option<Phone>,
        address: Option<Address>,
    },
    UpdateCustomer {
        name: Name,
        phone: Option<Phone>,
        address: Option<Address>,
    },
    AddPartner {
        mode: PartnerMode,
    },
    AssignApp {
        app: App,
    },
    UnassignApp {
        app: App,
    },
    SuspendPartner,
    ReinstatePartner,
}
