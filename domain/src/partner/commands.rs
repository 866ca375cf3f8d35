use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Address, App, Assortment, Level, Name, PartnerMode, Phone};

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
    SetPartnerLevel {
        level: Option<Level>,
    },
    RestrictPartnerAssortment {
        categories: Assortment,
    },
    ClearPartnerAssortment,
}

impl Needs for Scoped<PartnerCommand> {
    fn needs(&self) -> Wanted {
        use PartnerCommand as C;
        match &self.command {
            C::RecordCustomer { .. } | C::AddPartner { .. } | C::AssignApp { .. } => {
                Wanted::new().tenant(self.tenant_id)
            }
            C::UpdateCustomer { .. }
            | C::UnassignApp { .. }
            | C::SuspendPartner
            | C::ReinstatePartner
            | C::SetPartnerLevel { .. }
            | C::RestrictPartnerAssortment { .. }
            | C::ClearPartnerAssortment => Wanted::new(),
        }
    }
}
