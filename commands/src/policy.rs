//! Who may run which command: the one policy table of DESIGN §1. The data scope (which tenant,
//! which partner) is checked by the entry points and the aggregates; this table only says which
//! roles may run a command at all.

use crate::context::Role::{self, Admin, Contact, Employee, Operator};

/// Every command of the write side, by its GraphQL mutation name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandName {
    RegisterTenant,
    PurchaseApp,
    EnableInterconnect,
    EnableApp,
    DisableApp,
    BindWechatAccount,
    UnbindWechatAccount,
    PublishWechatMenu,
    SetFunctionPermissions,
    RecordCustomer,
    UpdateCustomer,
    AddPartner,
    AssignApp,
    UnassignApp,
    SuspendPartner,
    ReinstatePartner,
    RecordContact,
    UpdateContact,
    AddPartnerContact,
    RemovePartnerContact,
    RestrictContactPermissions,
    BindContact,
    ListProduct,
    RepriceProduct,
    DelistProduct,
    SubmitOrder,
    ConfirmOrder,
    RejectOrder,
    ShipOrder,
    ReceiveOrder,
    CancelOrder,
    CreateTenantAdmin,
    InviteEmployee,
    RevokeStaffAccess,
    SetPartnerLevel,
    RestrictPartnerAssortment,
    ClearPartnerAssortment,
    CategorizeProduct,
    SetQuantityRules,
    CreatePriceList,
    SetPriceListValidity,
    SetPriceListScope,
    SetPrice,
    RemovePrice,
    ArchivePriceList,
    /// Not a command but priced like one: who may ask what lines would cost.
    Quote,
}

/// The roles allowed to run each command. Auditors and analysts run none: they only read.
const POLICY: &[(CommandName, &[Role])] = {
    use CommandName as C;
    &[
        (C::RegisterTenant, &[Operator]),
        (C::PurchaseApp, &[Operator]),
        // The operator sells basic interconnect; the admin may switch it on once bought.
        (C::EnableInterconnect, &[Operator, Admin]),
        (C::EnableApp, &[Admin]),
        (C::DisableApp, &[Admin]),
        (C::BindWechatAccount, &[Admin]),
        (C::UnbindWechatAccount, &[Admin]),
        (C::PublishWechatMenu, &[Admin]),
        (C::SetFunctionPermissions, &[Admin]),
        (C::RecordCustomer, &[Admin]),
        (C::UpdateCustomer, &[Admin]),
        (C::AddPartner, &[Admin]),
        (C::AssignApp, &[Admin]),
        (C::UnassignApp, &[Admin]),
        (C::SuspendPartner, &[Admin]),
        (C::ReinstatePartner, &[Admin]),
        (C::RecordContact, &[Admin]),
        (C::UpdateContact, &[Admin]),
        (C::AddPartnerContact, &[Admin]),
        (C::RemovePartnerContact, &[Admin]),
        (C::RestrictContactPermissions, &[Admin]),
        // A contact binds itself; the entry point checks it is binding its own record.
        (C::BindContact, &[Contact]),
        (C::ListProduct, &[Admin]),
        (C::RepriceProduct, &[Admin]),
        (C::DelistProduct, &[Admin]),
        // A contact for its own partner; staff on behalf of a partner (an employee only of
        // one it is linked to: checked by the order).
        (C::SubmitOrder, &[Contact, Admin, Employee]),
        (C::Quote, &[Contact, Admin, Employee]),
        // Employees only for partners they are linked to: checked by the order.
        (C::ConfirmOrder, &[Admin, Employee]),
        (C::RejectOrder, &[Admin, Employee]),
        (C::ShipOrder, &[Admin, Employee]),
        (C::ReceiveOrder, &[Contact]),
        // The contact before confirmation, the admin before shipping: checked by the order.
        (C::CancelOrder, &[Contact, Admin]),
        // The operator makes a tenant's first admin; admins invite employees.
        (C::CreateTenantAdmin, &[Operator]),
        (C::InviteEmployee, &[Admin]),
        // Not one's own: checked by the entry point.
        (C::RevokeStaffAccess, &[Operator, Admin]),
        (C::SetPartnerLevel, &[Admin]),
        (C::RestrictPartnerAssortment, &[Admin]),
        (C::ClearPartnerAssortment, &[Admin]),
        (C::CategorizeProduct, &[Admin]),
        (C::SetQuantityRules, &[Admin]),
        (C::CreatePriceList, &[Admin]),
        (C::SetPriceListValidity, &[Admin]),
        (C::SetPriceListScope, &[Admin]),
        (C::SetPrice, &[Admin]),
        (C::RemovePrice, &[Admin]),
        (C::ArchivePriceList, &[Admin]),
    ]
};

/// Whether `role` may run `command` at all.
pub fn allows(role: Role, command: CommandName) -> bool {
    POLICY
        .iter()
        .find(|(name, _)| *name == command)
        .is_some_and(|(_, roles)| roles.contains(&role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Role::{Analyst, Auditor};

    #[test]
    fn auditors_and_analysts_may_run_no_command() {
        for (command, _) in POLICY {
            assert!(!allows(Auditor, *command), "{command:?}");
            assert!(!allows(Analyst, *command), "{command:?}");
        }
    }

    #[test]
    fn only_the_operator_registers_tenants_and_sells_licences() {
        assert!(allows(Operator, CommandName::RegisterTenant));
        assert!(!allows(Admin, CommandName::RegisterTenant));
        assert!(!allows(Admin, CommandName::PurchaseApp));
    }

    #[test]
    fn contacts_submit_orders_and_staff_on_behalf_of_a_partner() {
        for role in [Contact, Admin, Employee] {
            assert!(allows(role, CommandName::SubmitOrder));
        }
        for role in [Operator, Auditor, Analyst] {
            assert!(!allows(role, CommandName::SubmitOrder));
        }
    }

    #[test]
    fn only_admins_set_dealer_prices_and_terms() {
        use CommandName as C;
        for command in [
            C::CreatePriceList,
            C::SetPrice,
            C::SetPartnerLevel,
            C::SetQuantityRules,
        ] {
            assert!(allows(Admin, command));
            for role in [Operator, Employee, Contact] {
                assert!(!allows(role, command), "{role:?} {command:?}");
            }
        }
    }
}
