//! Given/when/then tests of the contact: one test per rule of `Contact::handle`, its allowed path
//! and each refusal (a refusal appends nothing), the idempotent no-ops, and the commands a tenant
//! sends at another tenant's contact.

use std::collections::BTreeSet;

use cqrs_es::test::TestFramework;

use super::{Affiliation, Contact, ContactCommand as C, ContactEvent as E};
use crate::error::DomainError;
use crate::fixtures::{
    bound_their_side_contact, customer_recorded, employee_recorded, linked_employee, name, open_id,
    ordering_world, phone, registered_tenant, scoped, their_side_contact_recorded, upstream_tenant,
    FOREIGN_PARTNER, OTHER_PARTNER, OTHER_TENANT, PARTNER, PHONE, TENANT,
};
use crate::lookup::Scoped;
use crate::partner::PartnerEvent;
use crate::testing::InMemoryLookup;
use crate::values::{App, Channel, PartnerMode, Permission, Side};

fn contact_in(world: InMemoryLookup) -> TestFramework<Contact> {
    TestFramework::with(world.services())
}

/// The usual world: `TENANT` upstream, `PARTNER` and `OTHER_PARTNER` its partners (tenantless),
/// `FOREIGN_PARTNER` a partner of `OTHER_TENANT`.
fn contact() -> TestFramework<Contact> {
    contact_in(ordering_world())
}

/// `PARTNER` is a recorded customer of `TENANT`, but was never added as a partner.
fn customer_only_world() -> InMemoryLookup {
    InMemoryLookup::new()
        .tenant(TENANT, upstream_tenant())
        .partner(PARTNER, [customer_recorded(TENANT)])
}

fn from_other_tenant(command: C) -> Scoped<C> {
    Scoped::new(OTHER_TENANT, command)
}

fn contact_not_found() -> DomainError {
    DomainError::NotFound { what: "contact" }
}

fn their_side_added() -> Vec<E> {
    vec![
        their_side_contact_recorded(PARTNER),
        E::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Theirs,
            mode: PartnerMode::Tenantless,
        },
    ]
}

fn bind_in_mini_program(typed: &str) -> Scoped<C> {
    scoped(C::BindContact {
        phone: phone(typed),
        channel: Channel::MiniProgram,
        wechat_open_id: Some(open_id("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")),
    })
}

fn mini_program_bound() -> E {
    E::ContactBound {
        channel: Channel::MiniProgram,
        wechat_open_id: Some(open_id("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")),
    }
}

fn permissions(set: &[Permission]) -> BTreeSet<Permission> {
    set.iter().copied().collect()
}

// --- RecordContact --------------------------------------------------------------------------

#[test]
fn a_crm_contact_of_a_recorded_customer_is_recorded() {
    contact_in(customer_only_world())
        .given_no_previous_events()
        .when(scoped(C::RecordContact {
            name: name("Li Lei"),
            phone: Some(phone("138-0013-8000")),
            affiliation: Affiliation::Customer {
                customer_id: PARTNER,
            },
        }))
        .then_expect_events(vec![their_side_contact_recorded(PARTNER)]);
}

#[test]
fn an_employee_is_recorded_in_a_registered_tenant() {
    contact_in(InMemoryLookup::new().tenant(TENANT, registered_tenant()))
        .given_no_previous_events()
        .when(scoped(C::RecordContact {
            name: name("Han Meimei"),
            phone: Some(phone(PHONE)),
            affiliation: Affiliation::Employee,
        }))
        .then_expect_events(vec![employee_recorded()]);
}

#[test]
fn a_contact_of_a_customer_that_was_never_recorded_is_refused() {
    contact_in(InMemoryLookup::new().tenant(TENANT, upstream_tenant()))
        .given_no_previous_events()
        .when(scoped(C::RecordContact {
            name: name("Li Lei"),
            phone: Some(phone(PHONE)),
            affiliation: Affiliation::Customer {
                customer_id: PARTNER,
            },
        }))
        .then_expect_error(DomainError::CustomerNotRecorded);
}

#[test]
fn a_contact_of_another_tenants_customer_is_refused() {
    contact()
        .given_no_previous_events()
        .when(scoped(C::RecordContact {
            name: name("Li Lei"),
            phone: Some(phone(PHONE)),
            affiliation: Affiliation::Customer {
                customer_id: FOREIGN_PARTNER,
            },
        }))
        .then_expect_error(DomainError::CustomerNotRecorded);
}

#[test]
fn an_employee_cannot_be_recorded_for_an_unregistered_tenant() {
    contact_in(InMemoryLookup::new())
        .given_no_previous_events()
        .when(scoped(C::RecordContact {
            name: name("Han Meimei"),
            phone: None,
            affiliation: Affiliation::Employee,
        }))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn a_recorded_contact_cannot_be_recorded_again() {
    contact()
        .given(vec![employee_recorded()])
        .when(scoped(C::RecordContact {
            name: name("Han Meimei"),
            phone: None,
            affiliation: Affiliation::Employee,
        }))
        .then_expect_error(DomainError::invalid_state(
            "the contact is already recorded",
        ));
}

// --- UpdateContact --------------------------------------------------------------------------

#[test]
fn a_recorded_contact_is_updated() {
    contact()
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(scoped(C::UpdateContact {
            name: name("Li Lei (purchasing)"),
            phone: Some(phone("139 1234 5678")),
        }))
        .then_expect_events(vec![E::ContactUpdated {
            name: name("Li Lei (purchasing)"),
            phone: Some(phone("13912345678")),
        }]);
}

#[test]
fn updating_a_contact_that_was_never_recorded_is_not_found() {
    contact()
        .given_no_previous_events()
        .when(scoped(C::UpdateContact {
            name: name("Li Lei"),
            phone: None,
        }))
        .then_expect_error(contact_not_found());
}

#[test]
fn another_tenant_cannot_update_the_contact() {
    contact()
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(from_other_tenant(C::UpdateContact {
            name: name("Hijacked"),
            phone: None,
        }))
        .then_expect_error(contact_not_found());
}

#[test]
fn a_contact_whose_number_changed_must_bind_again() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::ContactUpdated {
        name: name("Li Lei"),
        phone: Some(phone("13912345678")),
    });
    contact()
        .given(events)
        .when(bind_in_mini_program("139 1234 5678"))
        .then_expect_events(vec![mini_program_bound()]);
}

#[test]
fn after_a_number_change_the_old_number_no_longer_binds() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::ContactUpdated {
        name: name("Li Lei"),
        phone: Some(phone("13912345678")),
    });
    contact()
        .given(events)
        .when(bind_in_mini_program(PHONE))
        .then_expect_error(DomainError::PhoneMismatch);
}

#[test]
fn renaming_a_contact_keeps_its_binding() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::ContactUpdated {
        name: name("Li Lei (purchasing)"),
        phone: Some(phone(PHONE)),
    });
    contact()
        .given(events)
        .when(bind_in_mini_program(PHONE))
        .then_expect_events(vec![]);
}

// --- AddPartnerContact ----------------------------------------------------------------------

#[test]
fn a_crm_contact_of_the_partner_is_added_as_their_side_contact() {
    contact()
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_events(vec![E::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Theirs,
            mode: PartnerMode::Tenantless,
        }]);
}

#[test]
fn a_contact_added_to_a_tenant_mode_partner_carries_that_mode() {
    let world = InMemoryLookup::new()
        .tenant(TENANT, upstream_tenant())
        .partner(
            PARTNER,
            [
                customer_recorded(TENANT),
                PartnerEvent::PartnerAdded {
                    mode: PartnerMode::Tenant,
                },
            ],
        );
    contact_in(world)
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_events(vec![E::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Theirs,
            mode: PartnerMode::Tenant,
        }]);
}

#[test]
fn an_employee_is_added_as_our_side_contact() {
    contact()
        .given(vec![employee_recorded()])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Ours,
        }))
        .then_expect_events(vec![E::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Ours,
            mode: PartnerMode::Tenantless,
        }]);
}

#[test]
fn an_employee_looks_after_several_partners() {
    contact()
        .given(linked_employee(PARTNER))
        .when(scoped(C::AddPartnerContact {
            partner_id: OTHER_PARTNER,
            side: Side::Ours,
        }))
        .then_expect_events(vec![E::PartnerContactAdded {
            partner_id: OTHER_PARTNER,
            side: Side::Ours,
            mode: PartnerMode::Tenantless,
        }]);
}

#[test]
fn a_contact_without_a_phone_cannot_be_added_as_partner_contact() {
    contact()
        .given(vec![E::ContactRecorded {
            tenant_id: TENANT,
            name: name("Li Lei"),
            phone: None,
            affiliation: Affiliation::Customer {
                customer_id: PARTNER,
            },
        }])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_error(DomainError::ContactHasNoPhone);
}

#[test]
fn an_employee_without_a_phone_cannot_be_added_as_partner_contact() {
    contact()
        .given(vec![E::ContactRecorded {
            tenant_id: TENANT,
            name: name("Han Meimei"),
            phone: None,
            affiliation: Affiliation::Employee,
        }])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Ours,
        }))
        .then_expect_error(DomainError::ContactHasNoPhone);
}

#[test]
fn a_contact_cannot_be_added_to_a_customer_that_is_not_a_partner() {
    contact_in(customer_only_world())
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn an_employee_cannot_be_added_to_another_tenants_partner() {
    contact()
        .given(vec![employee_recorded()])
        .when(scoped(C::AddPartnerContact {
            partner_id: FOREIGN_PARTNER,
            side: Side::Ours,
        }))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn an_employee_cannot_be_a_their_side_contact() {
    contact()
        .given(vec![employee_recorded()])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_error(DomainError::WrongSide(
            "a their-side contact must be a CRM contact of that partner's customer",
        ));
}

#[test]
fn a_crm_contact_of_another_customer_cannot_be_their_side_contact_of_this_partner() {
    contact()
        .given(vec![their_side_contact_recorded(OTHER_PARTNER)])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_error(DomainError::WrongSide(
            "a their-side contact must be a CRM contact of that partner's customer",
        ));
}

#[test]
fn a_crm_contact_cannot_be_an_our_side_contact() {
    contact()
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Ours,
        }))
        .then_expect_error(DomainError::WrongSide(
            "an our-side contact must be an employee of the tenant",
        ));
}

#[test]
fn adding_an_existing_partner_contact_again_appends_nothing() {
    contact()
        .given(their_side_added())
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_events(vec![]);
}

#[test]
fn a_contact_that_was_never_recorded_cannot_be_added_as_partner_contact() {
    contact()
        .given_no_previous_events()
        .when(scoped(C::AddPartnerContact {
            partner_id: PARTNER,
            side: Side::Theirs,
        }))
        .then_expect_error(contact_not_found());
}

#[test]
fn another_tenant_cannot_add_the_contact_to_its_partner() {
    contact()
        .given(vec![employee_recorded()])
        .when(from_other_tenant(C::AddPartnerContact {
            partner_id: FOREIGN_PARTNER,
            side: Side::Ours,
        }))
        .then_expect_error(contact_not_found());
}

// --- RemovePartnerContact -------------------------------------------------------------------

#[test]
fn a_partner_contact_is_removed() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(scoped(C::RemovePartnerContact {
            partner_id: PARTNER,
        }))
        .then_expect_events(vec![E::PartnerContactRemoved {
            partner_id: PARTNER,
        }]);
}

#[test]
fn removing_a_link_that_does_not_exist_is_not_found() {
    contact()
        .given(linked_employee(PARTNER))
        .when(scoped(C::RemovePartnerContact {
            partner_id: OTHER_PARTNER,
        }))
        .then_expect_error(DomainError::NotFound {
            what: "partner contact",
        });
}

#[test]
fn another_tenant_cannot_remove_the_partner_contact() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(from_other_tenant(C::RemovePartnerContact {
            partner_id: PARTNER,
        }))
        .then_expect_error(contact_not_found());
}

#[test]
fn a_removed_their_side_contact_can_no_longer_bind() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::PartnerContactRemoved {
        partner_id: PARTNER,
    });
    contact()
        .given(events)
        .when(bind_in_mini_program(PHONE))
        .then_expect_error(DomainError::NotAPartner);
}

// --- BindContact ----------------------------------------------------------------------------

#[test]
fn a_their_side_contact_binds_with_its_recorded_number() {
    contact()
        .given(their_side_added())
        .when(bind_in_mini_program(PHONE))
        .then_expect_events(vec![mini_program_bound()]);
}

#[test]
fn a_number_typed_with_country_code_and_spaces_matches_the_recorded_number() {
    contact()
        .given(their_side_added())
        .when(bind_in_mini_program("+86 138 0013 8000"))
        .then_expect_events(vec![mini_program_bound()]);
}

#[test]
fn binding_with_a_different_number_is_a_phone_mismatch() {
    contact()
        .given(their_side_added())
        .when(bind_in_mini_program("13800138001"))
        .then_expect_error(DomainError::PhoneMismatch);
}

#[test]
fn a_contact_not_added_as_their_side_contact_cannot_bind() {
    contact()
        .given(vec![their_side_contact_recorded(PARTNER)])
        .when(bind_in_mini_program(PHONE))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn an_our_side_contact_cannot_bind_as_a_partner_contact() {
    contact()
        .given(linked_employee(PARTNER))
        .when(bind_in_mini_program(PHONE))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn binding_again_on_the_same_channel_with_the_same_identity_appends_nothing() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(bind_in_mini_program(PHONE))
        .then_expect_events(vec![]);
}

#[test]
fn binding_on_another_channel_records_that_channel() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(scoped(C::BindContact {
            phone: phone(PHONE),
            channel: Channel::WebQr,
            wechat_open_id: None,
        }))
        .then_expect_events(vec![E::ContactBound {
            channel: Channel::WebQr,
            wechat_open_id: None,
        }]);
}

#[test]
fn binding_with_another_wechat_identity_on_the_same_channel_records_it() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(scoped(C::BindContact {
            phone: phone(PHONE),
            channel: Channel::MiniProgram,
            wechat_open_id: Some(open_id("o6_another_wechat_user")),
        }))
        .then_expect_events(vec![E::ContactBound {
            channel: Channel::MiniProgram,
            wechat_open_id: Some(open_id("o6_another_wechat_user")),
        }]);
}

#[test]
fn a_contact_that_was_never_recorded_cannot_bind() {
    contact()
        .given_no_previous_events()
        .when(bind_in_mini_program(PHONE))
        .then_expect_error(contact_not_found());
}

#[test]
fn a_contact_cannot_bind_through_another_tenant() {
    contact()
        .given(their_side_added())
        .when(from_other_tenant(C::BindContact {
            phone: phone(PHONE),
            channel: Channel::MiniProgram,
            wechat_open_id: None,
        }))
        .then_expect_error(contact_not_found());
}

// --- RestrictContactPermissions -------------------------------------------------------------

#[test]
fn a_contact_is_denied_a_permission_of_a_purchased_app() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(scoped(C::RestrictContactPermissions {
            app: App::Ordering,
            denied: permissions(&[Permission::CancelOrder]),
        }))
        .then_expect_events(vec![E::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[Permission::CancelOrder]),
        }]);
}

#[test]
fn permissions_of_an_app_the_tenant_never_purchased_cannot_be_restricted() {
    contact_in(
        InMemoryLookup::new()
            .tenant(TENANT, registered_tenant())
            .partner(PARTNER, [customer_recorded(TENANT)]),
    )
    .given(vec![their_side_contact_recorded(PARTNER)])
    .when(scoped(C::RestrictContactPermissions {
        app: App::Ordering,
        denied: permissions(&[Permission::CancelOrder]),
    }))
    .then_expect_error(DomainError::AppNotPurchased { app: App::Ordering });
}

#[test]
fn the_same_restriction_again_appends_nothing() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::ContactPermissionsRestricted {
        app: App::Ordering,
        denied: permissions(&[Permission::CancelOrder]),
    });
    contact()
        .given(events)
        .when(scoped(C::RestrictContactPermissions {
            app: App::Ordering,
            denied: permissions(&[Permission::CancelOrder]),
        }))
        .then_expect_events(vec![]);
}

#[test]
fn lifting_a_restriction_records_an_empty_denial() {
    let mut events = bound_their_side_contact(PARTNER);
    events.push(E::ContactPermissionsRestricted {
        app: App::Ordering,
        denied: permissions(&[Permission::CancelOrder]),
    });
    contact()
        .given(events)
        .when(scoped(C::RestrictContactPermissions {
            app: App::Ordering,
            denied: permissions(&[]),
        }))
        .then_expect_events(vec![E::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[]),
        }]);
}

#[test]
fn denying_nothing_to_an_unrestricted_contact_appends_nothing() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(scoped(C::RestrictContactPermissions {
            app: App::Ordering,
            denied: permissions(&[]),
        }))
        .then_expect_events(vec![]);
}

#[test]
fn another_tenant_cannot_restrict_the_contact() {
    contact()
        .given(bound_their_side_contact(PARTNER))
        .when(from_other_tenant(C::RestrictContactPermissions {
            app: App::Ordering,
            denied: permissions(&[Permission::CreateSalesOrder]),
        }))
        .then_expect_error(contact_not_found());
}

#[test]
fn a_partner_contact_cannot_lose_its_phone() {
    contact()
        .given(their_side_added())
        .when(scoped(C::UpdateContact {
            name: name("Li Lei"),
            phone: None,
        }))
        .then_expect_error(DomainError::ContactHasNoPhone);
}

#[test]
fn recording_over_another_tenants_contact_is_not_found() {
    contact()
        .given(their_side_added())
        .when(from_other_tenant(C::RecordContact {
            name: name("Li Lei"),
            phone: Some(phone(PHONE)),
            affiliation: Affiliation::Employee,
        }))
        .then_expect_error(contact_not_found());
}

// --- Binding epochs -------------------------------------------------------------------------

/// The contact after `events`, folded as the event store folds them.
fn folded(events: Vec<E>) -> Contact {
    let mut contact = Contact::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut contact, event);
    }
    contact
}

#[test]
fn each_clearing_of_the_bindings_starts_a_new_binding_epoch() {
    let mut events = bound_their_side_contact(PARTNER);
    assert_eq!(folded(events.clone()).binding_epoch(), 0);
    // Removed, added again and bound again: a new epoch, though bound as before.
    events.extend([
        E::PartnerContactRemoved {
            partner_id: PARTNER,
        },
        E::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Theirs,
            mode: PartnerMode::Tenantless,
        },
        mini_program_bound(),
    ]);
    let rebound = folded(events.clone());
    assert!(rebound.is_bound());
    assert_eq!(rebound.binding_epoch(), 1);
    // A new number clears the bindings again.
    events.push(E::ContactUpdated {
        name: name("Li Lei"),
        phone: Some(phone("13912345678")),
    });
    let renumbered = folded(events);
    assert!(!renumbered.is_bound());
    assert_eq!(renumbered.binding_epoch(), 2);
}

#[test]
fn what_keeps_the_bindings_keeps_the_binding_epoch() {
    let mut events = bound_their_side_contact(PARTNER);
    events.extend([
        E::ContactUpdated {
            name: name("Li Lei (purchasing)"),
            phone: Some(phone(PHONE)),
        },
        E::ContactBound {
            channel: Channel::WebQr,
            wechat_open_id: None,
        },
        E::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[Permission::ViewOrders]),
        },
    ]);
    let contact = folded(events);
    assert!(contact.is_bound());
    assert_eq!(contact.binding_epoch(), 0);
}
