//! Given/when/then tests of the price list (its terms) and of a product's list prices: one test
//! per rule of `PriceList::handle` and `ListPrices::handle`, its allowed path and each refusal
//! (a refusal appends nothing: `then_expect_error` fails if any event was written), the
//! idempotent no-ops, and the commands a tenant sends at another tenant's list or product.

use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{
    ListPrices, ListPricesCommand, ListPricesEvent, PriceList, PriceListCommand as C,
    PriceListEvent as E,
};
use crate::error::{DomainError, ValidationError};
use crate::fixtures::{
    cny, days_from_now, level, name, now, price_list_created, price_set, priority, product_listed,
    quantity, registered_tenant, scoped, tenant_wide_list, FOREIGN_PRICE_LIST, FOREIGN_PRODUCT,
    NEWER_PRICE_LIST, OTHER_PARTNER, OTHER_TENANT, PARTNER, PRICE_LIST, PRODUCT, PRODUCT_PRICE,
    SECOND_PRODUCT, TENANT,
};
use crate::ids::{PriceListId, ProductId};
use crate::lookup::Scoped;
use crate::testing::InMemoryLookup;
use crate::values::PriceListScope;

fn price_list() -> TestFramework<PriceList> {
    TestFramework::with(
        InMemoryLookup::new()
            .tenant(TENANT, registered_tenant())
            .tenant(OTHER_TENANT, registered_tenant())
            .services(),
    )
}

fn from_other_tenant<T>(command: T) -> Scoped<T> {
    Scoped::new(OTHER_TENANT, command)
}

fn list_not_found() -> DomainError {
    DomainError::NotFound { what: "price list" }
}

fn product_not_found() -> DomainError {
    DomainError::NotFound { what: "product" }
}

fn archived() -> DomainError {
    DomainError::invalid_state("the price list is archived")
}

fn create(scope: Option<PriceListScope>, from: Option<i64>, to: Option<i64>) -> C {
    C::CreatePriceList {
        name: name("A 级经销商"),
        priority: priority(10),
        scope,
        from: from.map(days_from_now),
        to: to.map(days_from_now),
    }
}

fn created() -> E {
    price_list_created(TENANT, "A 级经销商", 10)
}

fn validity(from: Option<i64>, to: Option<i64>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    (from.map(days_from_now), to.map(days_from_now))
}

fn set_validity(from: Option<i64>, to: Option<i64>) -> C {
    let (from, to) = validity(from, to);
    C::SetPriceListValidity { from, to }
}

fn validity_set(from: Option<i64>, to: Option<i64>) -> E {
    let (from, to) = validity(from, to);
    E::PriceListValiditySet { from, to }
}

fn levels(tiers: &[&str]) -> PriceListScope {
    PriceListScope::levels(tiers.iter().map(|tier| level(tier)).collect()).expect("a scope")
}

fn backwards() -> DomainError {
    ValidationError::new("validTo", "must be after validFrom").into()
}

fn archived_list() -> Vec<E> {
    vec![created(), E::PriceListArchived]
}

// --- CreatePriceList ------------------------------------------------------------------------

#[test]
fn a_price_list_is_created_with_a_name_and_priority() {
    price_list()
        .given_no_previous_events()
        .when(scoped(create(None, None, None)))
        .then_expect_events(vec![created()]);
}

#[test]
fn a_scope_and_validity_given_at_creation_are_set_in_the_same_append() {
    price_list()
        .given_no_previous_events()
        .when(scoped(create(Some(levels(&["A"])), Some(0), Some(30))))
        .then_expect_events(vec![
            created(),
            validity_set(Some(0), Some(30)),
            E::PriceListScopeSet {
                scope: levels(&["A"]),
            },
        ]);
    price_list()
        .given_no_previous_events()
        .when(scoped(create(Some(PriceListScope::All), None, None)))
        .then_expect_events(vec![
            created(),
            E::PriceListScopeSet {
                scope: PriceListScope::All,
            },
        ]);
    // An open start is still a validity.
    price_list()
        .given_no_previous_events()
        .when(scoped(create(None, None, Some(30))))
        .then_expect_events(vec![created(), validity_set(None, Some(30))]);
}

#[test]
fn a_validity_that_ends_before_it_starts_is_refused_at_creation() {
    for (from, to) in [(10, 1), (1, 1)] {
        price_list()
            .given_no_previous_events()
            .when(scoped(create(
                Some(PriceListScope::All),
                Some(from),
                Some(to),
            )))
            .then_expect_error(backwards());
    }
}

#[test]
fn a_price_list_cannot_be_created_for_an_unregistered_tenant() {
    TestFramework::<PriceList>::with(InMemoryLookup::new().services())
        .given_no_previous_events()
        .when(scoped(create(None, None, None)))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn a_price_list_cannot_be_created_twice() {
    price_list()
        .given(vec![created()])
        .when(scoped(create(None, None, None)))
        .then_expect_error(DomainError::invalid_state("the price list already exists"));
}

#[test]
fn another_tenant_cannot_create_over_the_price_list() {
    price_list()
        .given(vec![created()])
        .when(from_other_tenant(create(None, None, None)))
        .then_expect_error(list_not_found());
}

// --- SetPriceListValidity -------------------------------------------------------------------

#[test]
fn a_price_lists_validity_is_set_changed_and_lifted() {
    price_list()
        .given(vec![created()])
        .when(scoped(set_validity(Some(0), Some(30))))
        .then_expect_events(vec![validity_set(Some(0), Some(30))]);
    price_list()
        .given(vec![created(), validity_set(Some(0), Some(30))])
        .when(scoped(set_validity(Some(0), Some(60))))
        .then_expect_events(vec![validity_set(Some(0), Some(60))]);
    price_list()
        .given(vec![created(), validity_set(Some(0), Some(30))])
        .when(scoped(set_validity(None, None)))
        .then_expect_events(vec![validity_set(None, None)]);
}

#[test]
fn setting_the_validity_a_list_has_appends_nothing() {
    price_list()
        .given(vec![created(), validity_set(Some(0), Some(30))])
        .when(scoped(set_validity(Some(0), Some(30))))
        .then_expect_events(vec![]);
    price_list()
        .given(vec![created()])
        .when(scoped(set_validity(None, None)))
        .then_expect_events(vec![]);
}

#[test]
fn a_validity_that_ends_before_it_starts_is_refused() {
    for (from, to) in [(10, 1), (1, 1)] {
        price_list()
            .given(vec![created()])
            .when(scoped(set_validity(Some(from), Some(to))))
            .then_expect_error(backwards());
    }
}

#[test]
fn the_validity_of_an_archived_list_cannot_be_set() {
    price_list()
        .given(archived_list())
        .when(scoped(set_validity(Some(0), Some(30))))
        .then_expect_error(archived());
}

#[test]
fn the_validity_of_an_unknown_or_another_tenants_list_is_not_found() {
    price_list()
        .given_no_previous_events()
        .when(scoped(set_validity(Some(0), Some(30))))
        .then_expect_error(list_not_found());
    price_list()
        .given(vec![created()])
        .when(from_other_tenant(set_validity(Some(0), Some(30))))
        .then_expect_error(list_not_found());
}

// --- SetPriceListScope ----------------------------------------------------------------------

#[test]
fn a_price_list_is_scoped_to_levels_partners_or_everyone() {
    let partners = PriceListScope::partners([PARTNER, OTHER_PARTNER].into()).expect("a scope");
    for scope in [levels(&["A", "省级代理"]), partners, PriceListScope::All] {
        price_list()
            .given(vec![created()])
            .when(scoped(C::SetPriceListScope {
                scope: scope.clone(),
            }))
            .then_expect_events(vec![E::PriceListScopeSet { scope }]);
    }
}

#[test]
fn a_price_lists_scope_is_changed() {
    price_list()
        .given(vec![
            created(),
            E::PriceListScopeSet {
                scope: levels(&["A"]),
            },
        ])
        .when(scoped(C::SetPriceListScope {
            scope: levels(&["A", "B"]),
        }))
        .then_expect_events(vec![E::PriceListScopeSet {
            scope: levels(&["A", "B"]),
        }]);
}

#[test]
fn setting_the_scope_a_list_has_appends_nothing() {
    price_list()
        .given(vec![
            created(),
            E::PriceListScopeSet {
                scope: levels(&["A", "B"]),
            },
        ])
        .when(scoped(C::SetPriceListScope {
            scope: levels(&["B", "A"]),
        }))
        .then_expect_events(vec![]);
}

#[test]
fn the_scope_of_an_archived_list_cannot_be_set() {
    price_list()
        .given(archived_list())
        .when(scoped(C::SetPriceListScope {
            scope: PriceListScope::All,
        }))
        .then_expect_error(archived());
}

#[test]
fn the_scope_of_an_unknown_or_another_tenants_list_is_not_found() {
    let all = || C::SetPriceListScope {
        scope: PriceListScope::All,
    };
    price_list()
        .given_no_previous_events()
        .when(scoped(all()))
        .then_expect_error(list_not_found());
    price_list()
        .given(vec![created()])
        .when(from_other_tenant(all()))
        .then_expect_error(list_not_found());
}

// --- ArchivePriceList -----------------------------------------------------------------------

#[test]
fn a_price_list_is_archived() {
    price_list()
        .given(vec![created()])
        .when(scoped(C::ArchivePriceList))
        .then_expect_events(vec![E::PriceListArchived]);
}

#[test]
fn archiving_an_archived_list_appends_nothing() {
    price_list()
        .given(archived_list())
        .when(scoped(C::ArchivePriceList))
        .then_expect_events(vec![]);
}

#[test]
fn archiving_an_unknown_or_another_tenants_list_is_not_found() {
    price_list()
        .given_no_previous_events()
        .when(scoped(C::ArchivePriceList))
        .then_expect_error(list_not_found());
    price_list()
        .given(vec![created()])
        .when(from_other_tenant(C::ArchivePriceList))
        .then_expect_error(list_not_found());
    price_list()
        .given(archived_list())
        .when(from_other_tenant(C::ArchivePriceList))
        .then_expect_error(list_not_found());
}

// --- When a list applies (what pricing reads) -----------------------------------------------

fn fold(events: Vec<E>) -> PriceList {
    let mut list = PriceList::default();
    for event in events {
        list.apply(event);
    }
    list
}

#[test]
fn a_list_applies_only_while_open_valid_and_in_scope() {
    let applies = |events: Vec<E>| fold(events).applies(TENANT, PARTNER, None, now());
    let all = || E::PriceListScopeSet {
        scope: PriceListScope::All,
    };
    assert!(applies(vec![created(), all()]));
    assert!(!applies(vec![created()]), "unscoped: for nobody");
    assert!(!applies(vec![created(), all(), E::PriceListArchived]));
    assert!(applies(vec![
        created(),
        all(),
        validity_set(Some(0), Some(1))
    ]));
    assert!(!applies(vec![
        created(),
        all(),
        validity_set(Some(-9), Some(0))
    ]));
    assert!(!applies(vec![
        created(),
        all(),
        validity_set(Some(1), None)
    ]));
    assert!(!fold(vec![created(), all()]).applies(OTHER_TENANT, PARTNER, None, now()));

    let level_a = fold(vec![
        created(),
        E::PriceListScopeSet {
            scope: levels(&["A"]),
        },
    ]);
    assert!(level_a.applies(TENANT, PARTNER, Some(&level("A")), now()));
    assert!(!level_a.applies(TENANT, PARTNER, Some(&level("B")), now()));
    assert!(!level_a.applies(TENANT, PARTNER, None, now()));

    let partner_only = fold(vec![
        created(),
        E::PriceListScopeSet {
            scope: PriceListScope::partners([PARTNER].into()).expect("a scope"),
        },
    ]);
    assert!(partner_only.applies(TENANT, PARTNER, None, now()));
    assert!(!partner_only.applies(TENANT, OTHER_PARTNER, None, now()));
}

// --- SetPrice / RemovePrice (a product's list prices) ---------------------------------------

/// A price list nobody created.
const UNKNOWN_LIST: PriceListId = PriceListId::from_uuid(uuid::Uuid::from_u128(
    0x0190_0000_0000_7000_8000_0000_0000_0049,
));

/// `TENANT` with `PRODUCT` and `SECOND_PRODUCT` listed, `PRICE_LIST` open, `NEWER_PRICE_LIST`
/// archived; `OTHER_TENANT` with `FOREIGN_PRICE_LIST` and `FOREIGN_PRODUCT`.
fn list_prices() -> TestFramework<ListPrices> {
    TestFramework::with(
        InMemoryLookup::new()
            .tenant(TENANT, registered_tenant())
            .tenant(OTHER_TENANT, registered_tenant())
            .price_list(PRICE_LIST, tenant_wide_list("Contract", 10))
            .price_list(NEWER_PRICE_LIST, {
                let mut events = tenant_wide_list("Old promotion", 10);
                events.push(E::PriceListArchived);
                events
            })
            .price_list(
                FOREIGN_PRICE_LIST,
                vec![price_list_created(OTHER_TENANT, "Theirs", 10)],
            )
            .product(
                PRODUCT,
                [product_listed(
                    TENANT,
                    "AB-1",
                    "Soy sauce 500ml",
                    PRODUCT_PRICE,
                )],
            )
            .product(
                SECOND_PRODUCT,
                [product_listed(TENANT, "CD-2", "Rice vinegar 250ml", 399)],
            )
            .product(
                FOREIGN_PRODUCT,
                [product_listed(OTHER_TENANT, "AB-1", "Soy sauce 500ml", 999)],
            )
            .services(),
    )
}

fn set_price(list: PriceListId, product: ProductId, min: i64, price: i64) -> ListPricesCommand {
    ListPricesCommand::SetPrice {
        price_list_id: list,
        product_id: product,
        min_quantity: quantity(min),
        unit_price: cny(price),
    }
}

fn remove_price(list: PriceListId, product: ProductId, min: i64) -> ListPricesCommand {
    ListPricesCommand::RemovePrice {
        price_list_id: list,
        product_id: product,
        min_quantity: quantity(min),
    }
}

fn price_removed(list: PriceListId, min: i64) -> ListPricesEvent {
    ListPricesEvent::PriceRemoved {
        price_list_id: list,
        product_id: PRODUCT,
        min_quantity: quantity(min),
    }
}

/// `PRODUCT`'s prices in `PRICE_LIST`: breaks at 1..=`count`, each at 1000 fen less its
/// quantity.
fn breaks(count: i64) -> Vec<ListPricesEvent> {
    (1..=count)
        .map(|min| price_set(PRICE_LIST, PRODUCT, min, 1000 - min))
        .collect()
}

#[test]
fn a_products_base_price_is_set_in_a_list() {
    list_prices()
        .given_no_previous_events()
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 1, 1100)))
        .then_expect_events(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)]);
}

#[test]
fn a_volume_break_is_added_and_a_price_changed() {
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 12, 1000)))
        .then_expect_events(vec![price_set(PRICE_LIST, PRODUCT, 12, 1000)]);
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 1, 1050)))
        .then_expect_events(vec![price_set(PRICE_LIST, PRODUCT, 1, 1050)]);
}

#[test]
fn setting_the_price_a_break_has_appends_nothing() {
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 12, 1000)])
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 12, 1000)))
        .then_expect_events(vec![]);
}

#[test]
fn a_price_cannot_be_set_in_an_archived_list() {
    list_prices()
        .given_no_previous_events()
        .when(scoped(set_price(NEWER_PRICE_LIST, PRODUCT, 1, 1100)))
        .then_expect_error(archived());
}

#[test]
fn a_price_in_an_unknown_or_another_tenants_list_is_not_found() {
    for list in [UNKNOWN_LIST, FOREIGN_PRICE_LIST] {
        list_prices()
            .given_no_previous_events()
            .when(scoped(set_price(list, PRODUCT, 1, 1100)))
            .then_expect_error(list_not_found());
        list_prices()
            .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
            .when(scoped(remove_price(list, PRODUCT, 1)))
            .then_expect_error(list_not_found());
    }
}

#[test]
fn a_price_for_another_tenants_or_an_unknown_product_is_not_found() {
    let unknown = ProductId::for_sku(TENANT, &crate::fixtures::sku("NO-SUCH-SKU"));
    for product in [FOREIGN_PRODUCT, unknown] {
        list_prices()
            .given_no_previous_events()
            .when(scoped(set_price(PRICE_LIST, product, 1, 1100)))
            .then_expect_error(product_not_found());
    }
}

#[test]
fn another_tenant_cannot_reach_a_products_prices() {
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(from_other_tenant(set_price(
            FOREIGN_PRICE_LIST,
            PRODUCT,
            1,
            1,
        )))
        .then_expect_error(product_not_found());
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(from_other_tenant(remove_price(PRICE_LIST, PRODUCT, 1)))
        .then_expect_error(product_not_found());
}

#[test]
fn one_products_prices_cannot_be_set_through_another_products_stream() {
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(scoped(set_price(PRICE_LIST, SECOND_PRODUCT, 1, 300)))
        .then_expect_error(product_not_found());
}

#[test]
fn a_product_has_at_most_20_prices_in_one_list() {
    list_prices()
        .given(breaks(20))
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 21, 900)))
        .then_expect_error(DomainError::invalid_state(
            "a product has at most 20 prices in one list; remove one first",
        ));
    // A full list still takes a new price for one of its breaks ...
    list_prices()
        .given(breaks(20))
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 20, 700)))
        .then_expect_events(vec![price_set(PRICE_LIST, PRODUCT, 20, 700)]);
    // ... and another list has its own 20.
    let other_list = ListPricesEvent::PriceSet {
        tenant_id: TENANT,
        price_list_id: NEWER_PRICE_LIST,
        product_id: PRODUCT,
        min_quantity: quantity(1),
        unit_price: cny(1),
    };
    let mut history = breaks(20);
    history.push(other_list);
    let with_second_list = InMemoryLookup::new()
        .tenant(TENANT, registered_tenant())
        .price_list(NEWER_PRICE_LIST, tenant_wide_list("Second", 10))
        .price_list(PRICE_LIST, tenant_wide_list("Contract", 10))
        .product(
            PRODUCT,
            [product_listed(
                TENANT,
                "AB-1",
                "Soy sauce 500ml",
                PRODUCT_PRICE,
            )],
        );
    TestFramework::<ListPrices>::with(with_second_list.services())
        .given(history)
        .when(scoped(set_price(NEWER_PRICE_LIST, PRODUCT, 2, 1)))
        .then_expect_events(vec![ListPricesEvent::PriceSet {
            tenant_id: TENANT,
            price_list_id: NEWER_PRICE_LIST,
            product_id: PRODUCT,
            min_quantity: quantity(2),
            unit_price: cny(1),
        }]);
    // Removing one makes room again.
    let mut one_removed = breaks(20);
    one_removed.push(price_removed(PRICE_LIST, 7));
    list_prices()
        .given(one_removed)
        .when(scoped(set_price(PRICE_LIST, PRODUCT, 21, 900)))
        .then_expect_events(vec![price_set(PRICE_LIST, PRODUCT, 21, 900)]);
    assert_eq!(ListPrices::MAX_BREAKS, 20);
}

#[test]
fn a_price_is_removed() {
    list_prices()
        .given(vec![
            price_set(PRICE_LIST, PRODUCT, 1, 1100),
            price_set(PRICE_LIST, PRODUCT, 12, 1000),
        ])
        .when(scoped(remove_price(PRICE_LIST, PRODUCT, 12)))
        .then_expect_events(vec![price_removed(PRICE_LIST, 12)]);
}

#[test]
fn removing_a_price_that_is_not_there_appends_nothing() {
    list_prices()
        .given(vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)])
        .when(scoped(remove_price(PRICE_LIST, PRODUCT, 12)))
        .then_expect_events(vec![]);
    list_prices()
        .given_no_previous_events()
        .when(scoped(remove_price(PRICE_LIST, PRODUCT, 1)))
        .then_expect_events(vec![]);
    list_prices()
        .given(vec![
            price_set(PRICE_LIST, PRODUCT, 1, 1100),
            price_removed(PRICE_LIST, 1),
        ])
        .when(scoped(remove_price(PRICE_LIST, PRODUCT, 1)))
        .then_expect_events(vec![]);
}

#[test]
fn a_price_may_be_removed_from_an_archived_list() {
    let set_before_archiving = ListPricesEvent::PriceSet {
        tenant_id: TENANT,
        price_list_id: NEWER_PRICE_LIST,
        product_id: PRODUCT,
        min_quantity: quantity(1),
        unit_price: cny(1100),
    };
    list_prices()
        .given(vec![set_before_archiving])
        .when(scoped(remove_price(NEWER_PRICE_LIST, PRODUCT, 1)))
        .then_expect_events(vec![price_removed(NEWER_PRICE_LIST, 1)]);
}

#[test]
fn a_products_prices_are_kept_by_list_and_break() {
    let mut prices = ListPrices::default();
    for event in [
        price_set(PRICE_LIST, PRODUCT, 1, 1100),
        price_set(PRICE_LIST, PRODUCT, 12, 1000),
        price_set(PRICE_LIST, PRODUCT, 12, 990),
        price_set(PRICE_LIST, PRODUCT, 48, 950),
        price_removed(PRICE_LIST, 48),
    ] {
        prices.apply(event);
    }
    let in_list = prices.in_list(PRICE_LIST).expect("prices in the list");
    assert_eq!(
        in_list
            .iter()
            .map(|(q, p)| (q.get(), p.amount_minor))
            .collect::<Vec<_>>(),
        vec![(1, 1100), (12, 990)]
    );
    assert_eq!(prices.tenant_id(), Some(TENANT));
    prices.apply(price_removed(PRICE_LIST, 1));
    prices.apply(price_removed(PRICE_LIST, 12));
    assert_eq!(
        prices.in_list(PRICE_LIST),
        None,
        "a list without prices is gone"
    );
    assert_eq!(prices.lists().count(), 0);
}
