//! Given/when/then tests of the catalog product: one test per rule of `Product::handle`, its
//! allowed path and each refusal (a refusal appends nothing), the idempotent no-ops, and the
//! commands a tenant sends at another tenant's product.

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{Product, ProductCommand as C, ProductEvent as E};
use crate::error::DomainError;
use crate::fixtures::{
    category, cny, name, product_listed, quantity, registered_tenant, scoped, sku, unit,
    OTHER_TENANT, PRODUCT_PRICE, TENANT,
};
use crate::ids::ProductId;
use crate::lookup::Scoped;
use crate::testing::InMemoryLookup;
use crate::values::QuantityRules;

fn product() -> TestFramework<Product> {
    TestFramework::with(
        InMemoryLookup::new()
            .tenant(TENANT, registered_tenant())
            .tenant(OTHER_TENANT, registered_tenant())
            .services(),
    )
}

fn listed() -> Vec<E> {
    vec![product_listed(
        TENANT,
        "AB-1",
        "Soy sauce 500ml",
        PRODUCT_PRICE,
    )]
}

fn delisted() -> Vec<E> {
    let mut events = listed();
    events.push(E::ProductDelisted);
    events
}

fn list_ab1(price: i64) -> C {
    C::ListProduct {
        sku: sku("ab-1"),
        name: name("Soy sauce 500ml"),
        unit: unit("box"),
        price: cny(price),
    }
}

fn from_other_tenant(command: C) -> Scoped<C> {
    Scoped::new(OTHER_TENANT, command)
}

fn product_not_found() -> DomainError {
    DomainError::NotFound { what: "product" }
}

// --- ListProduct ----------------------------------------------------------------------------

#[test]
fn a_product_is_listed_in_a_registered_tenants_catalog() {
    product()
        .given_no_previous_events()
        .when(scoped(list_ab1(PRODUCT_PRICE)))
        .then_expect_events(listed());
}

#[test]
fn a_free_sample_may_be_listed_at_zero() {
    product()
        .given_no_previous_events()
        .when(scoped(list_ab1(0)))
        .then_expect_events(vec![product_listed(TENANT, "AB-1", "Soy sauce 500ml", 0)]);
}

#[test]
fn a_product_cannot_be_listed_for_an_unregistered_tenant() {
    TestFramework::<Product>::with(InMemoryLookup::new().services())
        .given_no_previous_events()
        .when(scoped(list_ab1(PRODUCT_PRICE)))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn listing_a_listed_sku_again_is_a_duplicate_sku() {
    product()
        .given(listed())
        .when(scoped(list_ab1(999)))
        .then_expect_error(DomainError::DuplicateSku {
            sku: "AB-1".to_owned(),
        });
}

#[test]
fn a_delisted_product_is_listed_again_with_its_new_details() {
    product()
        .given(delisted())
        .when(scoped(list_ab1(1399)))
        .then_expect_events(vec![product_listed(
            TENANT,
            "AB-1",
            "Soy sauce 500ml",
            1399,
        )]);
}

#[test]
fn another_tenant_cannot_list_over_the_product() {
    product()
        .given(delisted())
        .when(from_other_tenant(list_ab1(PRODUCT_PRICE)))
        .then_expect_error(product_not_found());
}

// --- RepriceProduct -------------------------------------------------------------------------

#[test]
fn a_listed_product_is_repriced() {
    product()
        .given(listed())
        .when(scoped(C::RepriceProduct { price: cny(1399) }))
        .then_expect_events(vec![E::ProductRepriced { price: cny(1399) }]);
}

#[test]
fn repricing_at_the_current_price_appends_nothing() {
    product()
        .given(listed())
        .when(scoped(C::RepriceProduct {
            price: cny(PRODUCT_PRICE),
        }))
        .then_expect_events(vec![]);
}

#[test]
fn a_delisted_product_cannot_be_repriced() {
    product()
        .given(delisted())
        .when(scoped(C::RepriceProduct { price: cny(1399) }))
        .then_expect_error(DomainError::invalid_state(
            "a delisted product cannot be repriced",
        ));
}

#[test]
fn repricing_a_product_that_was_never_listed_is_not_found() {
    product()
        .given_no_previous_events()
        .when(scoped(C::RepriceProduct { price: cny(1399) }))
        .then_expect_error(product_not_found());
}

#[test]
fn another_tenant_cannot_reprice_the_product() {
    product()
        .given(listed())
        .when(from_other_tenant(C::RepriceProduct { price: cny(1) }))
        .then_expect_error(product_not_found());
}

// --- DelistProduct --------------------------------------------------------------------------

#[test]
fn a_listed_product_is_delisted() {
    product()
        .given(listed())
        .when(scoped(C::DelistProduct))
        .then_expect_events(vec![E::ProductDelisted]);
}

#[test]
fn delisting_a_delisted_product_appends_nothing() {
    product()
        .given(delisted())
        .when(scoped(C::DelistProduct))
        .then_expect_events(vec![]);
}

#[test]
fn delisting_a_product_that_was_never_listed_is_not_found() {
    product()
        .given_no_previous_events()
        .when(scoped(C::DelistProduct))
        .then_expect_error(product_not_found());
}

#[test]
fn another_tenant_cannot_delist_the_product() {
    product()
        .given(listed())
        .when(from_other_tenant(C::DelistProduct))
        .then_expect_error(product_not_found());
}

// --- CategorizeProduct ----------------------------------------------------------------------

fn categorize(text: Option<&str>) -> C {
    C::CategorizeProduct {
        category: text.map(category),
    }
}

fn in_category(text: &str) -> Vec<E> {
    let mut events = listed();
    events.push(E::ProductCategorized {
        category: Some(category(text)),
    });
    events
}

#[test]
fn a_product_is_put_in_a_category() {
    product()
        .given(listed())
        .when(scoped(categorize(Some("调味品"))))
        .then_expect_events(vec![E::ProductCategorized {
            category: Some(category("调味品")),
        }]);
}

#[test]
fn a_product_moves_to_another_category() {
    product()
        .given(in_category("sauces"))
        .when(scoped(categorize(Some("condiments"))))
        .then_expect_events(vec![E::ProductCategorized {
            category: Some(category("condiments")),
        }]);
}

#[test]
fn a_product_is_taken_out_of_its_category() {
    product()
        .given(in_category("sauces"))
        .when(scoped(categorize(None)))
        .then_expect_events(vec![E::ProductCategorized { category: None }]);
}

#[test]
fn categorizing_a_product_as_it_is_appends_nothing() {
    product()
        .given(in_category("sauces"))
        .when(scoped(categorize(Some("sauces"))))
        .then_expect_events(vec![]);
    product()
        .given(listed())
        .when(scoped(categorize(None)))
        .then_expect_events(vec![]);
}

#[test]
fn a_delisted_product_may_be_categorized_for_when_it_is_listed_again() {
    product()
        .given(delisted())
        .when(scoped(categorize(Some("sauces"))))
        .then_expect_events(vec![E::ProductCategorized {
            category: Some(category("sauces")),
        }]);
}

#[test]
fn categorizing_a_product_that_was_never_listed_is_not_found() {
    product()
        .given_no_previous_events()
        .when(scoped(categorize(Some("sauces"))))
        .then_expect_error(product_not_found());
}

#[test]
fn another_tenant_cannot_categorize_the_product() {
    product()
        .given(listed())
        .when(from_other_tenant(categorize(Some("sauces"))))
        .then_expect_error(product_not_found());
}

// --- SetQuantityRules -----------------------------------------------------------------------

/// At least 12, by cases of 6.
fn case_rules() -> QuantityRules {
    QuantityRules::new(Some(quantity(12)), Some(quantity(6)), None).expect("rules")
}

fn set_rules(rules: QuantityRules) -> C {
    C::SetQuantityRules { rules }
}

fn with_case_rules() -> Vec<E> {
    let mut events = listed();
    events.push(E::ProductQuantityRulesSet {
        rules: case_rules(),
    });
    events
}

#[test]
fn a_products_quantity_rules_are_set() {
    product()
        .given(listed())
        .when(scoped(set_rules(case_rules())))
        .then_expect_events(vec![E::ProductQuantityRulesSet {
            rules: case_rules(),
        }]);
}

#[test]
fn a_products_quantity_rules_are_changed_and_lifted() {
    let at_most_120 = QuantityRules::new(None, None, Some(quantity(120))).expect("rules");
    product()
        .given(with_case_rules())
        .when(scoped(set_rules(at_most_120)))
        .then_expect_events(vec![E::ProductQuantityRulesSet { rules: at_most_120 }]);
    product()
        .given(with_case_rules())
        .when(scoped(set_rules(QuantityRules::default())))
        .then_expect_events(vec![E::ProductQuantityRulesSet {
            rules: QuantityRules::default(),
        }]);
}

#[test]
fn setting_the_rules_a_product_has_appends_nothing() {
    product()
        .given(with_case_rules())
        .when(scoped(set_rules(case_rules())))
        .then_expect_events(vec![]);
    product()
        .given(listed())
        .when(scoped(set_rules(QuantityRules::default())))
        .then_expect_events(vec![]);
}

#[test]
fn setting_rules_on_a_product_that_was_never_listed_is_not_found() {
    product()
        .given_no_previous_events()
        .when(scoped(set_rules(case_rules())))
        .then_expect_error(product_not_found());
}

#[test]
fn another_tenant_cannot_set_the_products_rules() {
    product()
        .given(listed())
        .when(from_other_tenant(set_rules(case_rules())))
        .then_expect_error(product_not_found());
}

#[test]
fn an_order_line_sees_the_products_category_and_rules() {
    let mut product = Product::default();
    let mut events = in_category("sauces");
    events.push(E::ProductQuantityRulesSet {
        rules: case_rules(),
    });
    for event in events {
        product.apply(event);
    }
    let entry = product.listed_in(TENANT).expect("listed in TENANT");
    assert_eq!(entry.category, Some(&category("sauces")));
    assert_eq!(entry.rules, case_rules());
    assert_eq!(product.quantity_rules(), case_rules());
}

// --- What an order sees, and SKU uniqueness -------------------------------------------------

#[test]
fn only_a_listed_product_of_the_tenant_is_in_its_catalog() {
    let fold = |events: Vec<E>| {
        let mut product = Product::default();
        for event in events {
            product.apply(event);
        }
        product
    };
    let repriced = {
        let mut events = listed();
        events.push(E::ProductRepriced { price: cny(1399) });
        fold(events)
    };
    let entry = repriced.listed_in(TENANT).expect("listed in TENANT");
    assert_eq!(entry.sku, &sku("AB-1"));
    assert_eq!(entry.name, &name("Soy sauce 500ml"));
    assert_eq!(entry.unit, &unit("box"));
    assert_eq!(entry.price, cny(1399));

    assert_eq!(repriced.listed_in(OTHER_TENANT), None);
    assert_eq!(fold(delisted()).listed_in(TENANT), None);
    assert_eq!(Product::default().listed_in(TENANT), None);
}

#[test]
fn a_sku_names_one_product_per_tenant_whatever_its_case() {
    let lower = ProductId::for_sku(TENANT, &sku("ab-1"));
    assert_eq!(lower, ProductId::for_sku(TENANT, &sku("AB-1")));
    assert_ne!(lower, ProductId::for_sku(TENANT, &sku("AB-2")));
    assert_ne!(lower, ProductId::for_sku(OTHER_TENANT, &sku("AB-1")));
}
