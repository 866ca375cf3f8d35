//! Given/when/then tests of the staff membership: creating an admin, inviting an employee,
//! revoking access, each refusal (which appends nothing), and commands from another tenant.

use cqrs_es::test::TestFramework;

use super::{Member, MemberCommand as C, MemberEvent as E};
use crate::contact::{Affiliation, ContactEvent};
use crate::error::DomainError;
use crate::fixtures::{
    employee_recorded, name, phone, registered_tenant, scoped, their_side_contact_recorded,
    EMPLOYEE, OTHER_CONTACT, OTHER_TENANT, PARTNER, PHONE, TENANT, UNLINKED_EMPLOYEE,
};
use crate::lookup::Scoped;
use crate::testing::InMemoryLookup;

const ADMIN_PHONE: &str = "13900139000";

fn member() -> TestFramework<Member> {
    TestFramework::with(
        InMemoryLookup::new()
            .tenant(TENANT, registered_tenant())
            .tenant(OTHER_TENANT, registered_tenant())
            .contact(EMPLOYEE, [employee_recorded()])
            .contact(OTHER_CONTACT, [their_side_contact_recorded(PARTNER)])
            .contact(
                UNLINKED_EMPLOYEE,
                [ContactEvent::ContactRecorded {
                    tenant_id: TENANT,
                    name: name("No Phone"),
                    phone: None,
                    affiliation: Affiliation::Employee,
                }],
            )
            .services(),
    )
}

fn create_admin() -> C {
    C::CreateTenantAdmin {
        name: name("王芳"),
        phone: phone(ADMIN_PHONE),
    }
}

fn admin_created() -> E {
    E::TenantAdminCreated {
        tenant_id: TENANT,
        name: name("王芳"),
        phone: phone(ADMIN_PHONE),
    }
}

fn invite(contact_id: crate::ContactId) -> C {
    C::InviteEmployee {
        contact_id,
        phone: phone(PHONE),
    }
}

fn employee_invited() -> E {
    E::EmployeeInvited {
        tenant_id: TENANT,
        contact_id: EMPLOYEE,
        name: name("Han Meimei"),
        phone: phone(PHONE),
    }
}

// --- CreateTenantAdmin -----------------------------------------------------------------------

#[test]
fn the_operator_creates_a_tenant_admin() {
    member()
        .given_no_previous_events()
        .when(scoped(create_admin()))
        .then_expect_events(vec![admin_created()]);
}

#[test]
fn an_admin_of_an_unregistered_tenant_is_not_created() {
    let unknown = crate::TenantId::from_uuid(uuid::Uuid::from_u128(0x99));
    member()
        .given_no_previous_events()
        .when(Scoped::new(unknown, create_admin()))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn an_active_member_is_not_created_twice() {
    member()
        .given(vec![admin_created()])
        .when(scoped(create_admin()))
        .then_expect_error(DomainError::AlreadyAMember);
}

#[test]
fn a_revoked_member_may_be_created_again() {
    member()
        .given(vec![admin_created(), E::StaffAccessRevoked])
        .when(scoped(create_admin()))
        .then_expect_events(vec![admin_created()]);
}

#[test]
fn a_member_of_another_tenant_is_not_found() {
    member()
        .given(vec![admin_created()])
        .when(Scoped::new(OTHER_TENANT, create_admin()))
        .then_expect_error(DomainError::NotFound { what: "member" });
}

// --- InviteEmployee --------------------------------------------------------------------------

#[test]
fn an_admin_invites_an_employee_with_its_contact_name_and_phone() {
    member()
        .given_no_previous_events()
        .when(scoped(invite(EMPLOYEE)))
        .then_expect_events(vec![employee_invited()]);
}

#[test]
fn a_their_side_contact_is_not_invited() {
    member()
        .given_no_previous_events()
        .when(scoped(invite(OTHER_CONTACT)))
        .then_expect_error(DomainError::WrongSide(
            "only an employee of the tenant (an our-side contact) can be invited",
        ));
}

#[test]
fn an_employee_without_a_phone_is_not_invited() {
    member()
        .given_no_previous_events()
        .when(scoped(invite(UNLINKED_EMPLOYEE)))
        .then_expect_error(DomainError::ContactHasNoPhone);
}

#[test]
fn another_tenants_contact_is_not_found() {
    member()
        .given_no_previous_events()
        .when(Scoped::new(OTHER_TENANT, invite(EMPLOYEE)))
        .then_expect_error(DomainError::NotFound { what: "contact" });
}

#[test]
fn an_invitation_for_a_phone_the_contact_no_longer_has_is_refused() {
    member()
        .given_no_previous_events()
        .when(scoped(C::InviteEmployee {
            contact_id: EMPLOYEE,
            phone: phone(ADMIN_PHONE),
        }))
        .then_expect_error(DomainError::invalid_state(
            "the contact's phone changed while inviting it; invite it again",
        ));
}

#[test]
fn a_phone_that_is_already_the_admin_is_not_invited() {
    member()
        .given(vec![E::TenantAdminCreated {
            tenant_id: TENANT,
            name: name("王芳"),
            phone: phone(PHONE),
        }])
        .when(scoped(invite(EMPLOYEE)))
        .then_expect_error(DomainError::AlreadyAMember);
}

// --- RevokeStaffAccess -----------------------------------------------------------------------

#[test]
fn access_is_revoked_once() {
    member()
        .given(vec![employee_invited()])
        .when(scoped(C::RevokeStaffAccess))
        .then_expect_events(vec![E::StaffAccessRevoked]);
    member()
        .given(vec![employee_invited(), E::StaffAccessRevoked])
        .when(scoped(C::RevokeStaffAccess))
        .then_expect_error(DomainError::invalid_state(
            "the member's access is already revoked",
        ));
}

#[test]
fn an_unknown_or_foreign_member_is_not_revoked() {
    member()
        .given_no_previous_events()
        .when(scoped(C::RevokeStaffAccess))
        .then_expect_error(DomainError::NotFound { what: "member" });
    member()
        .given(vec![employee_invited()])
        .when(Scoped::new(OTHER_TENANT, C::RevokeStaffAccess))
        .then_expect_error(DomainError::NotFound { what: "member" });
}

#[test]
fn the_state_says_who_may_sign_in() {
    let mut state = Member::default();
    cqrs_es::Aggregate::apply(&mut state, employee_invited());
    assert_eq!(state.active_in(TENANT), Some(super::StaffRole::Employee));
    assert_eq!(state.active_in(OTHER_TENANT), None);
    assert_eq!(state.contact_id(), Some(EMPLOYEE));
    cqrs_es::Aggregate::apply(&mut state, E::StaffAccessRevoked);
    assert_eq!(state.active_in(TENANT), None);
}
