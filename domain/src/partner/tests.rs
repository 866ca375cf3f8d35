//! Given/when/then tests of the partner enterprise: one test per rule of `Partner::handle`, its
//! allowed path and each refusal (a refusal appends nothing), the idempotent no-ops, and the
//! commands a tenant sends at another tenant's partner.

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{Partner, PartnerCommand as C, PartnerEvent as E};
use crate::error::DomainError;
use crate::fixtures::{
    category, customer_recorded, level, name, ordering_partner, phone, registered_tenant, scoped,
    upstream_tenant, OTHER_TENANT, TENANT,
};
use crate::lookup::Scoped;
use crate::tenant::TenantEvent;
use crate::testing::InMemoryLookup;
use crate::values::{Address, App, Assortment, PartnerMode};

/// A partner test whose lookup knows `TENANT` as `tenant` describes it.
fn partner_of(tenant: Vec<TenantEvent>) -> TestFramework<Partner> {
    TestFramework::with(InMemoryLookup::new().tenant(TENANT, tenant).services())
}

/// The usual case: `TENANT` is upstream with `ORDERING` enabled.
fn partner() -> TestFramework<Partner> {
    partner_of(upstream_tenant())
}

/// A customer of `TENANT` that was added as a partner, without apps.
fn added_partner() -> Vec<E> {
    vec![
        customer_recorded(TENANT),
        E::PartnerAdded {
            mode: PartnerMode::Tenantless,
        },
    ]
}

fn suspended_partner() -> Vec<E> {
    let mut events = ordering_partner(TENANT);
    events.push(E::PartnerSuspended);
    events
}

fn from_other_tenant(command: C) -> Scoped<C> {
    Scoped::new(OTHER_TENANT, command)
}

fn partner_not_found() -> DomainError {
    DomainError::NotFound { what: "partner" }
}

// --- RecordCustomer / UpdateCustomer --------------------------------------------------------

#[test]
fn a_customer_is_recorded_in_a_registered_tenants_crm() {
    partner_of(registered_tenant())
        .given_no_previous_events()
        .when(scoped(C::RecordCustomer {
            name: name("Shanghai Dealer Co."),
            phone: Some(phone("+86 139 1234 5678")),
            address: Some(Address::parse("88 Century Ave, Shanghai").unwrap()),
        }))
        .then_expect_events(vec![E::CustomerRecorded {
            tenant_id: TENANT,
            name: name("Shanghai Dealer Co."),
            phone: Some(phone("13912345678")),
            address: Some(Address::parse("88 Century Ave, Shanghai").unwrap()),
        }]);
}

#[test]
fn a_customer_cannot_be_recorded_for_an_unregistered_tenant() {
    TestFramework::<Partner>::with(InMemoryLookup::new().services())
        .given_no_previous_events()
        .when(scoped(C::RecordCustomer {
            name: name("Shanghai Dealer Co."),
            phone: None,
            address: None,
        }))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn a_recorded_customer_cannot_be_recorded_again() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::RecordCustomer {
            name: name("Shanghai Dealer Co."),
            phone: None,
            address: None,
        }))
        .then_expect_error(DomainError::invalid_state(
            "the customer is already recorded",
        ));
}

#[test]
fn a_recorded_customer_is_updated() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::UpdateCustomer {
            name: name("Shanghai Dealer Group"),
            phone: None,
            address: None,
        }))
        .then_expect_events(vec![E::CustomerUpdated {
            name: name("Shanghai Dealer Group"),
            phone: None,
            address: None,
        }]);
}

#[test]
fn updating_a_customer_that_was_never_recorded_is_not_found() {
    partner()
        .given_no_previous_events()
        .when(scoped(C::UpdateCustomer {
            name: name("Shanghai Dealer Group"),
            phone: None,
            address: None,
        }))
        .then_expect_error(DomainError::NotFound { what: "customer" });
}

#[test]
fn another_tenant_cannot_update_the_customer() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(from_other_tenant(C::UpdateCustomer {
            name: name("Hijacked"),
            phone: None,
            address: None,
        }))
        .then_expect_error(DomainError::NotFound { what: "customer" });
}

// --- AddPartner -----------------------------------------------------------------------------

#[test]
fn a_recorded_customer_becomes_a_tenantless_partner_of_an_upstream_tenant() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenantless,
        }))
        .then_expect_events(vec![E::PartnerAdded {
            mode: PartnerMode::Tenantless,
        }]);
}

#[test]
fn a_recorded_customer_becomes_a_partner_in_tenant_mode() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenant,
        }))
        .then_expect_events(vec![E::PartnerAdded {
            mode: PartnerMode::Tenant,
        }]);
}

#[test]
fn a_customer_that_was_never_recorded_cannot_become_a_partner() {
    partner()
        .given_no_previous_events()
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenantless,
        }))
        .then_expect_error(DomainError::CustomerNotRecorded);
}

#[test]
fn another_tenants_customer_is_not_recorded_for_this_tenant() {
    partner()
        .given(vec![customer_recorded(OTHER_TENANT)])
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenantless,
        }))
        .then_expect_error(DomainError::CustomerNotRecorded);
}

#[test]
fn a_partner_cannot_be_added_twice() {
    partner()
        .given(added_partner())
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenant,
        }))
        .then_expect_error(DomainError::invalid_state("already a partner enterprise"));
}

#[test]
fn a_tenant_without_interconnect_cannot_add_partners() {
    partner_of(registered_tenant())
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::AddPartner {
            mode: PartnerMode::Tenantless,
        }))
        .then_expect_error(DomainError::InterconnectNotEnabled);
}

// --- AssignApp / UnassignApp ----------------------------------------------------------------

#[test]
fn an_enabled_app_is_assigned_to_a_partner() {
    partner()
        .given(added_partner())
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_events(vec![E::AppAssigned { app: App::Ordering }]);
}

#[test]
fn an_app_the_tenant_never_purchased_cannot_be_assigned() {
    let mut tenant = registered_tenant();
    tenant.push(TenantEvent::InterconnectEnabled);
    partner_of(tenant)
        .given(added_partner())
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_error(DomainError::AppNotPurchased { app: App::Ordering });
}

#[test]
fn a_purchased_app_that_is_not_enabled_cannot_be_assigned() {
    let mut tenant = upstream_tenant();
    tenant.push(TenantEvent::AppDisabled { app: App::Ordering });
    partner_of(tenant)
        .given(added_partner())
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_error(DomainError::AppNotEnabled { app: App::Ordering });
}

#[test]
fn assigning_an_assigned_app_appends_nothing() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_events(vec![]);
}

#[test]
fn an_unassigned_app_must_be_assigned_again() {
    let mut events = ordering_partner(TENANT);
    events.push(E::AppUnassigned { app: App::Ordering });
    partner()
        .given(events)
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_events(vec![E::AppAssigned { app: App::Ordering }]);
}

#[test]
fn an_app_cannot_be_assigned_to_a_customer_that_is_not_a_partner() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::AssignApp { app: App::Ordering }))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn another_tenant_cannot_assign_an_app_to_the_partner() {
    partner()
        .given(added_partner())
        .when(from_other_tenant(C::AssignApp { app: App::Ordering }))
        .then_expect_error(partner_not_found());
}

#[test]
fn an_assigned_app_is_unassigned() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(C::UnassignApp { app: App::Ordering }))
        .then_expect_events(vec![E::AppUnassigned { app: App::Ordering }]);
}

#[test]
fn unassigning_an_app_that_is_not_assigned_appends_nothing() {
    partner()
        .given(added_partner())
        .when(scoped(C::UnassignApp { app: App::Ordering }))
        .then_expect_events(vec![]);
}

#[test]
fn an_app_cannot_be_unassigned_from_a_customer_that_is_not_a_partner() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::UnassignApp { app: App::Ordering }))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn another_tenant_cannot_unassign_an_app_from_the_partner() {
    partner()
        .given(ordering_partner(TENANT))
        .when(from_other_tenant(C::UnassignApp { app: App::Ordering }))
        .then_expect_error(partner_not_found());
}

// --- SuspendPartner / ReinstatePartner ------------------------------------------------------

#[test]
fn a_partner_is_suspended() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(C::SuspendPartner))
        .then_expect_events(vec![E::PartnerSuspended]);
}

#[test]
fn suspending_a_suspended_partner_appends_nothing() {
    partner()
        .given(suspended_partner())
        .when(scoped(C::SuspendPartner))
        .then_expect_events(vec![]);
}

#[test]
fn a_customer_that_is_not_a_partner_cannot_be_suspended() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::SuspendPartner))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn an_unknown_partner_is_not_found_exactly_like_another_tenants() {
    partner()
        .given_no_previous_events()
        .when(scoped(C::SuspendPartner))
        .then_expect_error(DomainError::NotFound { what: "partner" });
}

#[test]
fn another_tenant_cannot_suspend_the_partner() {
    partner()
        .given(ordering_partner(TENANT))
        .when(from_other_tenant(C::SuspendPartner))
        .then_expect_error(partner_not_found());
}

#[test]
fn a_suspended_partner_is_reinstated() {
    partner()
        .given(suspended_partner())
        .when(scoped(C::ReinstatePartner))
        .then_expect_events(vec![E::PartnerReinstated]);
}

#[test]
fn reinstating_an_active_partner_appends_nothing() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(C::ReinstatePartner))
        .then_expect_events(vec![]);
}

#[test]
fn a_customer_that_is_not_a_partner_cannot_be_reinstated() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(C::ReinstatePartner))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn another_tenant_cannot_reinstate_the_partner() {
    partner()
        .given(suspended_partner())
        .when(from_other_tenant(C::ReinstatePartner))
        .then_expect_error(partner_not_found());
}

// --- SetPartnerLevel ------------------------------------------------------------------------

fn set_level(tier: Option<&str>) -> C {
    C::SetPartnerLevel {
        level: tier.map(level),
    }
}

fn at_level(tier: &str) -> Vec<E> {
    let mut events = ordering_partner(TENANT);
    events.push(E::PartnerLevelSet {
        level: Some(level(tier)),
    });
    events
}

#[test]
fn a_partner_is_given_a_level() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(set_level(Some("省级代理"))))
        .then_expect_events(vec![E::PartnerLevelSet {
            level: Some(level("省级代理")),
        }]);
}

#[test]
fn a_partner_moves_to_another_level() {
    partner()
        .given(at_level("B"))
        .when(scoped(set_level(Some("A"))))
        .then_expect_events(vec![E::PartnerLevelSet {
            level: Some(level("A")),
        }]);
}

#[test]
fn setting_the_level_a_partner_has_appends_nothing() {
    partner()
        .given(at_level("A"))
        .when(scoped(set_level(Some("A"))))
        .then_expect_events(vec![]);
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(set_level(None)))
        .then_expect_events(vec![]);
}

#[test]
fn a_partners_level_is_cleared() {
    partner()
        .given(at_level("A"))
        .when(scoped(set_level(None)))
        .then_expect_events(vec![E::PartnerLevelSet { level: None }]);
}

#[test]
fn a_customer_that_is_not_a_partner_cannot_be_given_a_level() {
    partner()
        .given(vec![customer_recorded(TENANT)])
        .when(scoped(set_level(Some("A"))))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn an_unknown_partner_cannot_be_given_a_level() {
    partner()
        .given_no_previous_events()
        .when(scoped(set_level(Some("A"))))
        .then_expect_error(partner_not_found());
}

#[test]
fn another_tenant_cannot_set_the_partners_level() {
    partner()
        .given(ordering_partner(TENANT))
        .when(from_other_tenant(set_level(Some("A"))))
        .then_expect_error(partner_not_found());
}

// --- RestrictPartnerAssortment / ClearPartnerAssortment -------------------------------------

fn assortment(categories: &[&str]) -> Assortment {
    Assortment::new(categories.iter().map(|text| category(text)).collect()).expect("an assortment")
}

fn restrict(categories: &[&str]) -> C {
    C::RestrictPartnerAssortment {
        categories: assortment(categories),
    }
}

fn restricted_to(categories: &[&str]) -> Vec<E> {
    let mut events = ordering_partner(TENANT);
    events.push(E::PartnerAssortmentRestricted {
        categories: assortment(categories),
    });
    events
}

#[test]
fn a_partners_assortment_is_restricted_to_some_categories() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(restrict(&["sauces", "vinegar"])))
        .then_expect_events(vec![E::PartnerAssortmentRestricted {
            categories: assortment(&["vinegar", "sauces"]),
        }]);
}

#[test]
fn a_restricted_assortment_is_restricted_again_to_other_categories() {
    partner()
        .given(restricted_to(&["sauces"]))
        .when(scoped(restrict(&["sauces", "oil"])))
        .then_expect_events(vec![E::PartnerAssortmentRestricted {
            categories: assortment(&["sauces", "oil"]),
        }]);
}

#[test]
fn restricting_to_the_same_categories_appends_nothing() {
    partner()
        .given(restricted_to(&["sauces", "vinegar"]))
        .when(scoped(restrict(&["vinegar", "sauces"])))
        .then_expect_events(vec![]);
}

#[test]
fn a_restricted_assortment_is_cleared() {
    partner()
        .given(restricted_to(&["sauces"]))
        .when(scoped(C::ClearPartnerAssortment))
        .then_expect_events(vec![E::PartnerAssortmentCleared]);
}

#[test]
fn clearing_an_assortment_that_is_not_restricted_appends_nothing() {
    partner()
        .given(ordering_partner(TENANT))
        .when(scoped(C::ClearPartnerAssortment))
        .then_expect_events(vec![]);
    let mut cleared = restricted_to(&["sauces"]);
    cleared.push(E::PartnerAssortmentCleared);
    partner()
        .given(cleared)
        .when(scoped(C::ClearPartnerAssortment))
        .then_expect_events(vec![]);
}

#[test]
fn the_assortment_of_a_customer_that_is_not_a_partner_cannot_be_changed() {
    for command in [restrict(&["sauces"]), C::ClearPartnerAssortment] {
        partner()
            .given(vec![customer_recorded(TENANT)])
            .when(scoped(command))
            .then_expect_error(DomainError::NotAPartner);
    }
}

#[test]
fn the_assortment_of_an_unknown_partner_is_not_found() {
    for command in [restrict(&["sauces"]), C::ClearPartnerAssortment] {
        partner()
            .given_no_previous_events()
            .when(scoped(command))
            .then_expect_error(partner_not_found());
    }
}

#[test]
fn another_tenant_cannot_change_the_partners_assortment() {
    for command in [restrict(&["sauces"]), C::ClearPartnerAssortment] {
        partner()
            .given(restricted_to(&["oil"]))
            .when(from_other_tenant(command))
            .then_expect_error(partner_not_found());
    }
}

#[test]
fn a_partner_may_buy_every_category_until_its_assortment_is_restricted() {
    let fold = |events: Vec<E>| {
        let mut partner = Partner::default();
        for event in events {
            partner.apply(event);
        }
        partner
    };
    let sauces = category("sauces");
    let oil = category("oil");

    let open = fold(ordering_partner(TENANT));
    assert!(open.may_buy(Some(&sauces)));
    assert!(open.may_buy(None), "an uncategorised product too");

    let restricted = fold(restricted_to(&["sauces"]));
    assert_eq!(restricted.assortment(), Some(&assortment(&["sauces"])));
    assert!(restricted.may_buy(Some(&sauces)));
    assert!(!restricted.may_buy(Some(&oil)));
    assert!(!restricted.may_buy(None));

    let mut events = restricted_to(&["sauces"]);
    events.push(E::PartnerAssortmentCleared);
    let cleared = fold(events);
    assert_eq!(cleared.assortment(), None);
    assert!(cleared.may_buy(Some(&oil)));

    assert_eq!(fold(at_level("A")).level(), Some(&level("A")));
}

// --- What an order asks of the partner (`check_may_order`) ----------------------------------

#[test]
fn only_an_active_partner_with_the_app_may_order() {
    let fold = |events: Vec<E>| {
        let mut partner = Partner::default();
        for event in events {
            partner.apply(event);
        }
        partner.check_may_order(TENANT, App::Ordering)
    };
    assert_eq!(fold(ordering_partner(TENANT)), Ok(()));
    assert_eq!(
        fold(vec![customer_recorded(TENANT)]),
        Err(DomainError::NotAPartner)
    );
    assert_eq!(
        fold(ordering_partner(OTHER_TENANT)),
        Err(DomainError::NotAPartner)
    );
    assert_eq!(
        fold(suspended_partner()),
        Err(DomainError::PartnerSuspended)
    );
    assert_eq!(
        fold(added_partner()),
        Err(DomainError::AppNotAssigned { app: App::Ordering })
    );
}
