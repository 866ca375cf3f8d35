//! Given/when/then tests of the tenant: one test per rule of `Tenant::handle`, its allowed path
//! and each refusal. A refusal appends nothing: `then_expect_error` fails if any event was written.

use std::collections::BTreeSet;

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{Tenant, TenantCommand as C, TenantEvent as E};
use crate::error::{DomainError, ValidationError};
use crate::fixtures::{
    name, registered_tenant, upstream_tenant, wechat_app_id, NEWER_PRICE_LIST, PRICE_LIST,
};
use crate::ids::PriceListId;
use crate::testing::InMemoryLookup;
use crate::values::{App, MenuAction, MenuButton, Permission};

fn tenant() -> TestFramework<Tenant> {
    TestFramework::with(InMemoryLookup::new().services())
}

/// A registered tenant with `ORDERING` purchased but interconnect still off.
fn purchased_but_not_upstream() -> Vec<E> {
    let mut events = registered_tenant();
    events.push(E::AppPurchased { app: App::Ordering });
    events
}

/// A registered, upstream tenant that bought `ORDERING` but has not enabled it.
fn purchased_not_enabled() -> Vec<E> {
    let mut events = registered_tenant();
    events.extend([
        E::InterconnectEnabled,
        E::AppPurchased { app: App::Ordering },
    ]);
    events
}

fn with_bound_account(mut events: Vec<E>) -> Vec<E> {
    events.push(E::WechatAccountBound {
        app_id: wechat_app_id(),
        name: name("Acme Service"),
    });
    events
}

fn open_ordering() -> MenuButton {
    MenuButton {
        name: name("订货"),
        action: MenuAction::OpenApp { app: App::Ordering },
    }
}

fn open_url(label: &str) -> MenuButton {
    MenuButton::open_url(name(label), "https://acme.example/help", "buttons[0].url")
        .expect("a valid https URL")
}

fn permissions(granted: &[Permission]) -> BTreeSet<Permission> {
    granted.iter().copied().collect()
}

fn tenant_not_found() -> DomainError {
    DomainError::NotFound { what: "tenant" }
}

fn account_not_found() -> DomainError {
    DomainError::NotFound {
        what: "WeChat account",
    }
}

// --- RegisterTenant -------------------------------------------------------------------------

#[test]
fn the_operator_registers_a_tenant_by_name() {
    tenant()
        .given_no_previous_events()
        .when(C::RegisterTenant {
            name: name("Acme Foods"),
        })
        .then_expect_events(vec![E::TenantRegistered {
            name: name("Acme Foods"),
        }]);
}

#[test]
fn a_registered_tenant_cannot_be_registered_again() {
    tenant()
        .given(registered_tenant())
        .when(C::RegisterTenant {
            name: name("Acme Foods"),
        })
        .then_expect_error(DomainError::invalid_state(
            "the tenant is already registered",
        ));
}

// --- EnableInterconnect ---------------------------------------------------------------------

#[test]
fn enabling_interconnect_makes_a_registered_tenant_upstream() {
    tenant()
        .given(registered_tenant())
        .when(C::EnableInterconnect)
        .then_expect_events(vec![E::InterconnectEnabled]);
}

#[test]
fn enabling_interconnect_twice_appends_nothing() {
    tenant()
        .given(upstream_tenant())
        .when(C::EnableInterconnect)
        .then_expect_events(vec![]);
}

#[test]
fn an_unregistered_tenant_cannot_enable_interconnect() {
    tenant()
        .given_no_previous_events()
        .when(C::EnableInterconnect)
        .then_expect_error(tenant_not_found());
}

// --- PurchaseApp ----------------------------------------------------------------------------

#[test]
fn purchasing_an_app_records_the_licence() {
    tenant()
        .given(registered_tenant())
        .when(C::PurchaseApp { app: App::Ordering })
        .then_expect_events(vec![E::AppPurchased { app: App::Ordering }]);
}

#[test]
fn purchasing_an_app_already_bought_appends_nothing() {
    tenant()
        .given(purchased_but_not_upstream())
        .when(C::PurchaseApp { app: App::Ordering })
        .then_expect_events(vec![]);
}

#[test]
fn an_unregistered_tenant_cannot_purchase_an_app() {
    tenant()
        .given_no_previous_events()
        .when(C::PurchaseApp { app: App::Ordering })
        .then_expect_error(tenant_not_found());
}

// --- EnableApp / DisableApp -----------------------------------------------------------------

#[test]
fn a_purchased_app_is_enabled_on_an_upstream_tenant() {
    tenant()
        .given(purchased_not_enabled())
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_events(vec![E::AppEnabled { app: App::Ordering }]);
}

#[test]
fn an_app_cannot_be_enabled_before_interconnect_is_enabled() {
    tenant()
        .given(purchased_but_not_upstream())
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_error(DomainError::InterconnectNotEnabled);
}

#[test]
fn an_app_that_was_not_purchased_cannot_be_enabled() {
    let mut events = registered_tenant();
    events.push(E::InterconnectEnabled);
    tenant()
        .given(events)
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_error(DomainError::AppNotPurchased { app: App::Ordering });
}

#[test]
fn enabling_an_enabled_app_appends_nothing() {
    tenant()
        .given(upstream_tenant())
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_events(vec![]);
}

#[test]
fn an_unregistered_tenant_cannot_enable_an_app() {
    tenant()
        .given_no_previous_events()
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_error(tenant_not_found());
}

#[test]
fn an_enabled_app_is_disabled() {
    tenant()
        .given(upstream_tenant())
        .when(C::DisableApp { app: App::Ordering })
        .then_expect_events(vec![E::AppDisabled { app: App::Ordering }]);
}

#[test]
fn disabling_an_app_that_is_not_enabled_appends_nothing() {
    tenant()
        .given(purchased_not_enabled())
        .when(C::DisableApp { app: App::Ordering })
        .then_expect_events(vec![]);
}

#[test]
fn a_disabled_app_can_be_enabled_again() {
    let mut events = upstream_tenant();
    events.push(E::AppDisabled { app: App::Ordering });
    tenant()
        .given(events)
        .when(C::EnableApp { app: App::Ordering })
        .then_expect_events(vec![E::AppEnabled { app: App::Ordering }]);
}

#[test]
fn an_unregistered_tenant_cannot_disable_an_app() {
    tenant()
        .given_no_previous_events()
        .when(C::DisableApp { app: App::Ordering })
        .then_expect_error(tenant_not_found());
}

// --- BindWechatAccount / UnbindWechatAccount ------------------------------------------------

#[test]
fn an_official_account_is_bound_with_its_name() {
    tenant()
        .given(registered_tenant())
        .when(C::BindWechatAccount {
            app_id: wechat_app_id(),
            name: name("Acme Service"),
        })
        .then_expect_events(vec![E::WechatAccountBound {
            app_id: wechat_app_id(),
            name: name("Acme Service"),
        }]);
}

#[test]
fn binding_the_same_account_under_the_same_name_appends_nothing() {
    tenant()
        .given(with_bound_account(registered_tenant()))
        .when(C::BindWechatAccount {
            app_id: wechat_app_id(),
            name: name("Acme Service"),
        })
        .then_expect_events(vec![]);
}

#[test]
fn binding_a_bound_account_under_a_new_name_records_the_new_name() {
    tenant()
        .given(with_bound_account(registered_tenant()))
        .when(C::BindWechatAccount {
            app_id: wechat_app_id(),
            name: name("Acme Ordering"),
        })
        .then_expect_events(vec![E::WechatAccountBound {
            app_id: wechat_app_id(),
            name: name("Acme Ordering"),
        }]);
}

#[test]
fn an_unregistered_tenant_cannot_bind_an_official_account() {
    tenant()
        .given_no_previous_events()
        .when(C::BindWechatAccount {
            app_id: wechat_app_id(),
            name: name("Acme Service"),
        })
        .then_expect_error(tenant_not_found());
}

#[test]
fn a_bound_official_account_is_unbound() {
    tenant()
        .given(with_bound_account(registered_tenant()))
        .when(C::UnbindWechatAccount {
            app_id: wechat_app_id(),
        })
        .then_expect_events(vec![E::WechatAccountUnbound {
            app_id: wechat_app_id(),
        }]);
}

#[test]
fn unbinding_an_account_that_is_not_bound_is_not_found() {
    tenant()
        .given(registered_tenant())
        .when(C::UnbindWechatAccount {
            app_id: wechat_app_id(),
        })
        .then_expect_error(account_not_found());
}

#[test]
fn an_unregistered_tenant_cannot_unbind_an_official_account() {
    tenant()
        .given_no_previous_events()
        .when(C::UnbindWechatAccount {
            app_id: wechat_app_id(),
        })
        .then_expect_error(tenant_not_found());
}

// --- PublishWechatMenu ----------------------------------------------------------------------

#[test]
fn a_menu_that_opens_ordering_is_published_once_ordering_is_enabled() {
    let buttons = vec![open_ordering(), open_url("Help")];
    tenant()
        .given(with_bound_account(upstream_tenant()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: buttons.clone(),
        })
        .then_expect_events(vec![E::WechatMenuPublished {
            app_id: wechat_app_id(),
            buttons,
        }]);
}

#[test]
fn a_menu_of_links_only_needs_no_enabled_app() {
    let buttons = vec![open_url("Help"), open_url("News"), open_url("About")];
    tenant()
        .given(with_bound_account(registered_tenant()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: buttons.clone(),
        })
        .then_expect_events(vec![E::WechatMenuPublished {
            app_id: wechat_app_id(),
            buttons,
        }]);
}

#[test]
fn a_menu_button_that_opens_ordering_is_refused_while_ordering_is_not_enabled() {
    tenant()
        .given(with_bound_account(purchased_not_enabled()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![open_url("Help"), open_ordering()],
        })
        .then_expect_error(DomainError::AppNotEnabled { app: App::Ordering });
}

#[test]
fn a_menu_button_that_opens_ordering_is_refused_after_ordering_was_disabled() {
    let mut events = with_bound_account(upstream_tenant());
    events.push(E::AppDisabled { app: App::Ordering });
    tenant()
        .given(events)
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![open_ordering()],
        })
        .then_expect_error(DomainError::AppNotEnabled { app: App::Ordering });
}

#[test]
fn a_menu_for_an_account_that_is_not_bound_is_not_found() {
    tenant()
        .given(upstream_tenant())
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![open_ordering()],
        })
        .then_expect_error(account_not_found());
}

#[test]
fn a_menu_for_an_account_that_was_unbound_is_not_found() {
    let mut events = with_bound_account(upstream_tenant());
    events.push(E::WechatAccountUnbound {
        app_id: wechat_app_id(),
    });
    tenant()
        .given(events)
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![open_ordering()],
        })
        .then_expect_error(account_not_found());
}

#[test]
fn a_menu_without_buttons_is_invalid() {
    tenant()
        .given(with_bound_account(upstream_tenant()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![],
        })
        .then_expect_error(ValidationError::new("buttons", "a menu has 1 to 3 buttons").into());
}

#[test]
fn a_menu_with_four_buttons_is_invalid() {
    tenant()
        .given(with_bound_account(upstream_tenant()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![
                open_ordering(),
                open_url("Help"),
                open_url("News"),
                open_url("About"),
            ],
        })
        .then_expect_error(ValidationError::new("buttons", "a menu has 1 to 3 buttons").into());
}

#[test]
fn an_unregistered_tenant_cannot_publish_a_menu() {
    tenant()
        .given_no_previous_events()
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![open_url("Help")],
        })
        .then_expect_error(tenant_not_found());
}

// --- SetFunctionPermissions -----------------------------------------------------------------

#[test]
fn default_permissions_are_set_for_a_purchased_app() {
    let granted = permissions(&[Permission::CreateSalesOrder, Permission::ViewOrders]);
    tenant()
        .given(upstream_tenant())
        .when(C::SetFunctionPermissions {
            app: App::Ordering,
            permissions: granted.clone(),
        })
        .then_expect_events(vec![E::FunctionPermissionsSet {
            app: App::Ordering,
            permissions: granted,
        }]);
}

#[test]
fn default_permissions_cannot_be_set_for_an_app_not_purchased() {
    tenant()
        .given(registered_tenant())
        .when(C::SetFunctionPermissions {
            app: App::Ordering,
            permissions: permissions(&[Permission::ViewOrders]),
        })
        .then_expect_error(DomainError::AppNotPurchased { app: App::Ordering });
}

#[test]
fn an_unregistered_tenant_cannot_set_default_permissions() {
    tenant()
        .given_no_previous_events()
        .when(C::SetFunctionPermissions {
            app: App::Ordering,
            permissions: permissions(&[]),
        })
        .then_expect_error(tenant_not_found());
}

#[test]
fn setting_the_same_default_permissions_again_appends_nothing() {
    let granted = permissions(&[Permission::ViewOrders]);
    let mut given = upstream_tenant();
    given.push(E::FunctionPermissionsSet {
        app: App::Ordering,
        permissions: granted.clone(),
    });
    tenant()
        .given(given)
        .when(C::SetFunctionPermissions {
            app: App::Ordering,
            permissions: granted,
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_menu_link_that_is_not_https_is_refused_even_when_built_without_the_parser() {
    let plain_http = MenuButton {
        name: name("Help"),
        action: MenuAction::OpenUrl {
            url: "http://example.com".into(),
        },
    };
    let result = tenant()
        .given(with_bound_account(upstream_tenant()))
        .when(C::PublishWechatMenu {
            app_id: wechat_app_id(),
            buttons: vec![plain_http],
        })
        .inspect_result();
    assert_eq!(
        result.map_err(|e| e.code()),
        Err(crate::ErrorCode::Validation)
    );
}

// --- IndexPriceList / UnindexPriceList -------------------------------------------------------

fn index(price_list_id: PriceListId) -> C {
    C::IndexPriceList { price_list_id }
}

fn unindex(price_list_id: PriceListId) -> C {
    C::UnindexPriceList { price_list_id }
}

/// A registered tenant whose index holds `lists`.
fn indexing(lists: impl IntoIterator<Item = PriceListId>) -> Vec<E> {
    let mut events = registered_tenant();
    events.extend(
        lists
            .into_iter()
            .map(|price_list_id| E::PriceListIndexed { price_list_id }),
    );
    events
}

/// The `n`th of many price lists (none is a fixture's).
fn nth_list(n: u128) -> PriceListId {
    PriceListId::from_uuid(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0001_0000_0000 | n,
    ))
}

#[test]
fn a_price_list_is_indexed_in_its_tenant() {
    tenant()
        .given(registered_tenant())
        .when(index(PRICE_LIST))
        .then_expect_events(vec![E::PriceListIndexed {
            price_list_id: PRICE_LIST,
        }]);
}

#[test]
fn indexing_an_indexed_price_list_appends_nothing() {
    tenant()
        .given(indexing([PRICE_LIST]))
        .when(index(PRICE_LIST))
        .then_expect_events(vec![]);
}

#[test]
fn an_unregistered_tenant_cannot_index_a_price_list() {
    tenant()
        .given_no_previous_events()
        .when(index(PRICE_LIST))
        .then_expect_error(tenant_not_found());
}

#[test]
fn a_tenant_keeps_at_most_100_price_lists() {
    let full = indexing((0..100).map(nth_list));
    tenant()
        .given(full.clone())
        .when(index(PRICE_LIST))
        .then_expect_error(DomainError::invalid_state(
            "a tenant keeps at most 100 price lists; archive one first",
        ));
    // One of the hundred is already there: nothing to add, nothing refused.
    tenant()
        .given(full.clone())
        .when(index(nth_list(7)))
        .then_expect_events(vec![]);
    // Unindexing one makes room again.
    let mut with_room = full;
    with_room.push(E::PriceListUnindexed {
        price_list_id: nth_list(7),
    });
    tenant()
        .given(with_room)
        .when(index(PRICE_LIST))
        .then_expect_events(vec![E::PriceListIndexed {
            price_list_id: PRICE_LIST,
        }]);
    assert_eq!(Tenant::MAX_PRICE_LISTS, 100);
}

#[test]
fn an_indexed_price_list_is_unindexed() {
    tenant()
        .given(indexing([PRICE_LIST, NEWER_PRICE_LIST]))
        .when(unindex(PRICE_LIST))
        .then_expect_events(vec![E::PriceListUnindexed {
            price_list_id: PRICE_LIST,
        }]);
}

#[test]
fn unindexing_a_price_list_that_is_not_indexed_appends_nothing() {
    tenant()
        .given(indexing([NEWER_PRICE_LIST]))
        .when(unindex(PRICE_LIST))
        .then_expect_events(vec![]);
    tenant()
        .given_no_previous_events()
        .when(unindex(PRICE_LIST))
        .then_expect_events(vec![]);
}

#[test]
fn the_index_holds_the_lists_indexed_and_not_unindexed() {
    let mut upstream = Tenant::default();
    let mut events = indexing([PRICE_LIST, NEWER_PRICE_LIST]);
    events.push(E::PriceListUnindexed {
        price_list_id: PRICE_LIST,
    });
    for event in events {
        upstream.apply(event);
    }
    assert_eq!(
        upstream.price_lists().iter().copied().collect::<Vec<_>>(),
        vec![NEWER_PRICE_LIST]
    );
}

// --- State the other aggregates read ---------------------------------------------------------

#[test]
fn an_app_without_default_permissions_grants_every_permission() {
    let mut upstream = Tenant::default();
    for event in upstream_tenant() {
        upstream.apply(event);
    }
    for permission in Permission::ALL {
        assert!(upstream.grants_by_default(App::Ordering, *permission));
    }
    upstream.apply(E::FunctionPermissionsSet {
        app: App::Ordering,
        permissions: permissions(&[Permission::ViewOrders]),
    });
    assert!(upstream.grants_by_default(App::Ordering, Permission::ViewOrders));
    assert!(!upstream.grants_by_default(App::Ordering, Permission::CreateSalesOrder));
    assert!(!upstream.grants_by_default(App::Ordering, Permission::CancelOrder));
}
