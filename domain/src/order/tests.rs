//! Given/when/then tests of the sales order: every condition of submission (DESIGN §2) with its
//! refusal, prices and names taken from the catalog, who may move the order along, each illegal
//! transition, and the commands a tenant sends at another tenant's order. A refusal appends
//! nothing: `then_expect_error` fails if any event was written.

use std::collections::BTreeSet;

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{
    Order, OrderActor, OrderCommand as C, OrderEvent as E, OrderLine, OrderStatus, PlacedBy,
    RequestedLine, Submitter,
};
use crate::contact::ContactEvent;
use crate::error::{DomainError, ValidationError};
use crate::fixtures::{
    bound_their_side_contact, category, cny, customer_recorded, days_from_now, level, name, note,
    now, ordering_world, ordering_world_with, phone, price_list_created, price_set, quantity,
    reason, scoped, sku, tenant_wide_list, their_side_contact_recorded, unit, upstream_tenant,
    CONTACT, EMPLOYEE, FOREIGN_PARTNER, FOREIGN_PRICE_LIST, FOREIGN_PRODUCT, NEWER_PRICE_LIST,
    OTHER_CONTACT, OTHER_PARTNER, OTHER_TENANT, PARTNER, PRICE_LIST, PRODUCT, PRODUCT_PRICE,
    SECOND_PRODUCT, SECOND_PRODUCT_PRICE, TENANT, UNLINKED_EMPLOYEE,
};
use crate::ids::{ContactId, OrderId, PartnerId, PriceListId, ProductId};
use crate::lookup::Scoped;
use crate::partner::PartnerEvent;
use crate::price_list::{ListPricesEvent, PriceListEvent};
use crate::pricing::{LinePrice, PriceReason, Quote, QuotedLine};
use crate::product::ProductEvent;
use crate::tenant::TenantEvent;
use crate::testing::InMemoryLookup;
use crate::values::{
    App, Assortment, Carrier, Money, PartnerMode, Permission, PriceListScope, QuantityRules, Side,
    TrackingNumber,
};

fn order_in(world: InMemoryLookup) -> TestFramework<Order> {
    TestFramework::with(world.services())
}

/// The usual world (see `fixtures::ordering_world`).
fn order() -> TestFramework<Order> {
    order_in(ordering_world())
}

fn line(product_id: ProductId, n: i64) -> RequestedLine {
    RequestedLine {
        product_id,
        quantity: quantity(n),
    }
}

/// `by` orders `lines` for `partner_id`, at [`now`], expecting no particular total.
fn submit_by(partner_id: PartnerId, by: Submitter, lines: Vec<RequestedLine>) -> C {
    C::SubmitOrder {
        partner_id,
        by,
        lines,
        note: note("Deliver before Friday"),
        expected_total: None,
        at: now(),
    }
}

/// `contact_id` orders `lines` for `partner_id`.
fn submit_as(partner_id: PartnerId, contact_id: ContactId, lines: Vec<RequestedLine>) -> C {
    submit_by(partner_id, Submitter::Contact(contact_id), lines)
}

/// `CONTACT` orders for `PARTNER` in `TENANT`.
fn submit(lines: Vec<RequestedLine>) -> Scoped<C> {
    scoped(submit_as(PARTNER, CONTACT, lines))
}

/// The line `PRODUCT` × `n` as the catalog prices it.
fn soy_sauce_line(n: u32) -> OrderLine {
    OrderLine {
        product_id: PRODUCT,
        sku: sku("AB-1"),
        name: name("Soy sauce 500ml"),
        unit: unit("box"),
        quantity: quantity(i64::from(n)),
        unit_price: cny(PRODUCT_PRICE),
        line_total: cny(PRODUCT_PRICE * i64::from(n)),
        price_reason: PriceReason::Catalog,
    }
}

fn submitted() -> Vec<E> {
    vec![E::OrderSubmitted {
        tenant_id: TENANT,
        partner_id: PARTNER,
        contact_id: Some(CONTACT),
        placed_by: None,
        lines: vec![soy_sauce_line(3)],
        total: cny(3 * PRODUCT_PRICE),
        note: note("Deliver before Friday"),
    }]
}

/// The events that bring an order to `status`, through the shortest legal path.
fn history(status: OrderStatus) -> Vec<E> {
    use OrderStatus as S;
    let mut events = submitted();
    events.extend(match status {
        S::Submitted => vec![],
        S::Confirmed => vec![E::OrderConfirmed],
        S::Rejected => vec![E::OrderRejected {
            reason: reason("Out of stock"),
        }],
        S::Shipped => vec![E::OrderConfirmed, shipped_without_tracking()],
        S::Received => vec![
            E::OrderConfirmed,
            shipped_without_tracking(),
            E::OrderReceived,
        ],
        S::Cancelled => vec![cancelled()],
    });
    events
}

fn shipped_without_tracking() -> E {
    E::OrderShipped {
        carrier: None,
        tracking: None,
    }
}

const ALL_STATUSES: [OrderStatus; 6] = [
    OrderStatus::Submitted,
    OrderStatus::Confirmed,
    OrderStatus::Rejected,
    OrderStatus::Shipped,
    OrderStatus::Received,
    OrderStatus::Cancelled,
];

fn confirm(by: OrderActor) -> Scoped<C> {
    scoped(C::ConfirmOrder { by })
}

fn reject(by: OrderActor) -> Scoped<C> {
    scoped(C::RejectOrder {
        by,
        reason: reason("Out of stock"),
    })
}

fn ship(by: OrderActor) -> Scoped<C> {
    scoped(C::ShipOrder {
        by,
        carrier: None,
        tracking: None,
    })
}

fn receive(by: OrderActor) -> Scoped<C> {
    scoped(C::ReceiveOrder { by })
}

fn cancel(by: OrderActor) -> Scoped<C> {
    scoped(C::CancelOrder {
        by,
        reason: reason("Ordered by mistake"),
    })
}

fn cancelled() -> E {
    E::OrderCancelled {
        reason: reason("Ordered by mistake"),
    }
}

fn permissions(set: &[Permission]) -> BTreeSet<Permission> {
    set.iter().copied().collect()
}

fn order_not_found() -> DomainError {
    DomainError::NotFound { what: "order" }
}

// --- SubmitOrder: the allowed path ----------------------------------------------------------

#[test]
fn a_bound_contact_orders_at_catalog_prices_and_names() {
    order()
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3), line(SECOND_PRODUCT, 10)]))
        .then_expect_events(vec![E::OrderSubmitted {
            tenant_id: TENANT,
            partner_id: PARTNER,
            contact_id: Some(CONTACT),
            placed_by: None,
            lines: vec![
                OrderLine {
                    product_id: PRODUCT,
                    sku: sku("AB-1"),
                    name: name("Soy sauce 500ml"),
                    unit: unit("box"),
                    quantity: quantity(3),
                    unit_price: cny(1250),
                    line_total: cny(3750),
                    price_reason: PriceReason::Catalog,
                },
                OrderLine {
                    product_id: SECOND_PRODUCT,
                    sku: sku("CD-2"),
                    name: name("Rice vinegar 250ml"),
                    unit: unit("box"),
                    quantity: quantity(10),
                    unit_price: cny(399),
                    line_total: cny(3990),
                    price_reason: PriceReason::Catalog,
                },
            ],
            total: cny(7740),
            note: note("Deliver before Friday"),
        }]);
    // The literals above are the fixture prices worked out by hand.
    assert_eq!((PRODUCT_PRICE, SECOND_PRODUCT_PRICE), (1250, 399));
}

#[test]
fn the_price_is_the_catalog_price_at_the_moment_of_submission() {
    let world = ordering_world().product(
        PRODUCT,
        [ProductEvent::ProductRepriced { price: cny(1399) }],
    );
    let mut line_at_new_price = soy_sauce_line(2);
    line_at_new_price.unit_price = cny(1399);
    line_at_new_price.line_total = cny(2798);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 2)]))
        .then_expect_events(vec![E::OrderSubmitted {
            tenant_id: TENANT,
            partner_id: PARTNER,
            contact_id: Some(CONTACT),
            placed_by: None,
            lines: vec![line_at_new_price],
            total: cny(2798),
            note: note("Deliver before Friday"),
        }]);
}

#[test]
fn a_reinstated_partner_orders_again() {
    let world = ordering_world().partner(
        PARTNER,
        [
            PartnerEvent::PartnerSuspended,
            PartnerEvent::PartnerReinstated,
        ],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_events(submitted());
}

#[test]
fn a_contact_denied_only_cancelling_may_still_order() {
    let world = ordering_world().contact(
        CONTACT,
        [ContactEvent::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[Permission::CancelOrder]),
        }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_events(submitted());
}

// --- SubmitOrder: refusals ------------------------------------------------------------------

#[test]
fn an_order_cannot_be_submitted_twice() {
    order()
        .given(submitted())
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::invalid_state(
            "the order was already submitted",
        ));
}

#[test]
fn an_order_without_lines_is_invalid() {
    order()
        .given_no_previous_events()
        .when(submit(vec![]))
        .then_expect_error(ValidationError::new("lines", "an order has 1 to 200 lines").into());
}

#[test]
fn an_order_with_more_than_200_lines_is_invalid() {
    order()
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 1); C::MAX_LINES + 1]))
        .then_expect_error(ValidationError::new("lines", "an order has 1 to 200 lines").into());
}

#[test]
fn the_same_product_on_two_lines_is_invalid_on_the_second_line() {
    order()
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 1), line(PRODUCT, 2)]))
        .then_expect_error(
            ValidationError::new(
                "lines[1].productId",
                "the same product appears on two lines",
            )
            .into(),
        );
    order()
        .given_no_previous_events()
        .when(submit(vec![
            line(PRODUCT, 1),
            line(SECOND_PRODUCT, 1),
            line(PRODUCT, 2),
        ]))
        .then_expect_error(
            ValidationError::new(
                "lines[2].productId",
                "the same product appears on two lines",
            )
            .into(),
        );
}

#[test]
fn an_order_to_an_unregistered_tenant_is_not_found() {
    order_in(InMemoryLookup::new())
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::NotFound { what: "tenant" });
}

#[test]
fn no_order_is_taken_while_ordering_is_not_enabled() {
    let world = ordering_world().tenant(TENANT, [TenantEvent::AppDisabled { app: App::Ordering }]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::AppNotEnabled { app: App::Ordering });
}

#[test]
fn a_customer_that_is_not_a_partner_cannot_order() {
    let world = InMemoryLookup::new()
        .tenant(TENANT, upstream_tenant())
        .partner(PARTNER, [customer_recorded(TENANT)]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn a_partner_of_another_tenant_cannot_order_here() {
    order()
        .given_no_previous_events()
        .when(scoped(submit_as(
            FOREIGN_PARTNER,
            CONTACT,
            vec![line(PRODUCT, 3)],
        )))
        .then_expect_error(DomainError::NotAPartner);
}

#[test]
fn a_suspended_partner_cannot_order() {
    let world = ordering_world().partner(PARTNER, [PartnerEvent::PartnerSuspended]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::PartnerSuspended);
}

#[test]
fn a_partner_without_ordering_assigned_cannot_order() {
    let world = ordering_world().partner(
        PARTNER,
        [PartnerEvent::AppUnassigned { app: App::Ordering }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::AppNotAssigned { app: App::Ordering });
}

#[test]
fn a_contact_of_another_partner_cannot_order_for_this_partner() {
    order()
        .given_no_previous_events()
        .when(scoped(submit_as(
            PARTNER,
            OTHER_CONTACT,
            vec![line(PRODUCT, 3)],
        )))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn an_our_side_employee_cannot_order_for_the_partner() {
    order()
        .given_no_previous_events()
        .when(scoped(submit_as(PARTNER, EMPLOYEE, vec![line(PRODUCT, 3)])))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn a_contact_removed_from_the_partner_cannot_order() {
    let world = ordering_world().contact(
        CONTACT,
        [ContactEvent::PartnerContactRemoved {
            partner_id: PARTNER,
        }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn a_contact_cannot_order_through_another_tenant() {
    order()
        .given_no_previous_events()
        .when(Scoped::new(
            OTHER_TENANT,
            submit_as(FOREIGN_PARTNER, CONTACT, vec![line(FOREIGN_PRODUCT, 3)]),
        ))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn a_contact_that_has_not_bound_its_identity_cannot_order() {
    let world = ordering_world_with(vec![
        their_side_contact_recorded(PARTNER),
        ContactEvent::PartnerContactAdded {
            partner_id: PARTNER,
            side: Side::Theirs,
            mode: PartnerMode::Tenantless,
        },
    ]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::ContactNotBound);
}

#[test]
fn a_contact_whose_number_changed_must_bind_again_before_ordering() {
    let world = ordering_world().contact(
        CONTACT,
        [ContactEvent::ContactUpdated {
            name: name("Li Lei"),
            phone: Some(phone("13912345678")),
        }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::ContactNotBound);
}

#[test]
fn tenant_defaults_without_create_sales_order_deny_ordering() {
    let world = ordering_world().tenant(
        TENANT,
        [TenantEvent::FunctionPermissionsSet {
            app: App::Ordering,
            permissions: permissions(&[Permission::CancelOrder, Permission::ViewOrders]),
        }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::PermissionDenied {
            app: App::Ordering,
            permission: Permission::CreateSalesOrder,
        });
}

#[test]
fn a_contact_denied_create_sales_order_cannot_order() {
    let world = ordering_world().contact(
        CONTACT,
        [ContactEvent::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[Permission::CreateSalesOrder]),
        }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::PermissionDenied {
            app: App::Ordering,
            permission: Permission::CreateSalesOrder,
        });
}

#[test]
fn a_delisted_product_cannot_be_ordered() {
    let world = ordering_world().product(SECOND_PRODUCT, [ProductEvent::ProductDelisted]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3), line(SECOND_PRODUCT, 1)]))
        .then_expect_error(DomainError::ProductNotListed {
            product_id: SECOND_PRODUCT,
        });
}

#[test]
fn a_product_of_another_tenant_cannot_be_ordered() {
    order()
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3), line(FOREIGN_PRODUCT, 1)]))
        .then_expect_error(DomainError::ProductNotListed {
            product_id: FOREIGN_PRODUCT,
        });
}

#[test]
fn a_product_that_was_never_listed_cannot_be_ordered() {
    let unknown = ProductId::for_sku(TENANT, &sku("NO-SUCH-SKU"));
    order()
        .given_no_previous_events()
        .when(submit(vec![line(unknown, 1)]))
        .then_expect_error(DomainError::ProductNotListed {
            product_id: unknown,
        });
}

// --- ConfirmOrder / RejectOrder -------------------------------------------------------------

#[test]
fn an_admin_confirms_a_submitted_order() {
    order()
        .given(submitted())
        .when(confirm(OrderActor::Admin))
        .then_expect_events(vec![E::OrderConfirmed]);
}

#[test]
fn an_employee_linked_to_the_partner_confirms_its_order() {
    order()
        .given(submitted())
        .when(confirm(OrderActor::Employee(EMPLOYEE)))
        .then_expect_events(vec![E::OrderConfirmed]);
}

#[test]
fn an_employee_not_linked_to_the_partner_cannot_see_the_order_to_confirm_it() {
    order()
        .given(submitted())
        .when(confirm(OrderActor::Employee(UNLINKED_EMPLOYEE)))
        .then_expect_error(order_not_found());
}

#[test]
fn a_contact_cannot_confirm_an_order() {
    order()
        .given(submitted())
        .when(confirm(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn confirming_an_order_that_was_never_submitted_is_not_found() {
    order()
        .given_no_previous_events()
        .when(confirm(OrderActor::Admin))
        .then_expect_error(order_not_found());
}

#[test]
fn an_admin_rejects_a_submitted_order_with_a_reason() {
    order()
        .given(submitted())
        .when(reject(OrderActor::Admin))
        .then_expect_events(vec![E::OrderRejected {
            reason: reason("Out of stock"),
        }]);
}

#[test]
fn an_employee_linked_to_the_partner_rejects_its_order() {
    order()
        .given(submitted())
        .when(reject(OrderActor::Employee(EMPLOYEE)))
        .then_expect_events(vec![E::OrderRejected {
            reason: reason("Out of stock"),
        }]);
}

#[test]
fn an_employee_not_linked_to_the_partner_cannot_see_the_order_to_reject_it() {
    order()
        .given(submitted())
        .when(reject(OrderActor::Employee(UNLINKED_EMPLOYEE)))
        .then_expect_error(order_not_found());
}

#[test]
fn a_contact_cannot_reject_an_order() {
    order()
        .given(submitted())
        .when(reject(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::Forbidden);
}

// --- ShipOrder / ReceiveOrder ---------------------------------------------------------------

#[test]
fn an_admin_ships_a_confirmed_order_with_carrier_and_tracking() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(scoped(C::ShipOrder {
            by: OrderActor::Admin,
            carrier: Some(Carrier::parse("SF Express").unwrap()),
            tracking: Some(TrackingNumber::parse("SF1234567890").unwrap()),
        }))
        .then_expect_events(vec![E::OrderShipped {
            carrier: Some(Carrier::parse("SF Express").unwrap()),
            tracking: Some(TrackingNumber::parse("SF1234567890").unwrap()),
        }]);
}

#[test]
fn a_linked_employee_ships_a_confirmed_order_without_tracking() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(ship(OrderActor::Employee(EMPLOYEE)))
        .then_expect_events(vec![shipped_without_tracking()]);
}

#[test]
fn an_employee_not_linked_to_the_partner_cannot_see_the_order_to_ship_it() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(ship(OrderActor::Employee(UNLINKED_EMPLOYEE)))
        .then_expect_error(order_not_found());
}

#[test]
fn a_contact_cannot_ship_an_order() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(ship(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn the_partners_contact_receives_a_shipped_order() {
    order()
        .given(history(OrderStatus::Shipped))
        .when(receive(OrderActor::Contact(CONTACT)))
        .then_expect_events(vec![E::OrderReceived]);
}

#[test]
fn staff_cannot_receive_an_order_on_the_dealers_behalf() {
    order()
        .given(history(OrderStatus::Shipped))
        .when(receive(OrderActor::Admin))
        .then_expect_error(DomainError::Forbidden);
    order()
        .given(history(OrderStatus::Shipped))
        .when(receive(OrderActor::Employee(EMPLOYEE)))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn a_contact_of_another_partner_cannot_see_the_order_to_receive_it() {
    order()
        .given(history(OrderStatus::Shipped))
        .when(receive(OrderActor::Contact(OTHER_CONTACT)))
        .then_expect_error(order_not_found());
}

// --- CancelOrder ----------------------------------------------------------------------------

#[test]
fn the_contact_cancels_its_order_before_confirmation() {
    order()
        .given(submitted())
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn a_contact_cannot_cancel_an_order_after_confirmation() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::invalid_state(
            "cannot cancel an order that is CONFIRMED",
        ));
}

#[test]
fn a_contact_denied_cancel_order_cannot_cancel() {
    let world = ordering_world().contact(
        CONTACT,
        [ContactEvent::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: permissions(&[Permission::CancelOrder]),
        }],
    );
    order_in(world)
        .given(submitted())
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::PermissionDenied {
            app: App::Ordering,
            permission: Permission::CancelOrder,
        });
}

#[test]
fn tenant_defaults_without_cancel_order_deny_cancelling() {
    let world = ordering_world().tenant(
        TENANT,
        [TenantEvent::FunctionPermissionsSet {
            app: App::Ordering,
            permissions: permissions(&[Permission::CreateSalesOrder, Permission::ViewOrders]),
        }],
    );
    order_in(world)
        .given(submitted())
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::PermissionDenied {
            app: App::Ordering,
            permission: Permission::CancelOrder,
        });
}

#[test]
fn a_contact_of_another_partner_cannot_see_the_order_to_cancel_it() {
    order()
        .given(submitted())
        .when(cancel(OrderActor::Contact(OTHER_CONTACT)))
        .then_expect_error(order_not_found());
}

#[test]
fn an_admin_cancels_a_submitted_order() {
    order()
        .given(submitted())
        .when(cancel(OrderActor::Admin))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn an_admin_cancels_a_confirmed_order_before_it_ships() {
    order()
        .given(history(OrderStatus::Confirmed))
        .when(cancel(OrderActor::Admin))
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn an_admin_cannot_cancel_an_order_after_shipping() {
    order()
        .given(history(OrderStatus::Shipped))
        .when(cancel(OrderActor::Admin))
        .then_expect_error(DomainError::invalid_state(
            "cannot cancel an order that is SHIPPED",
        ));
}

#[test]
fn an_employee_cannot_cancel_an_order() {
    order()
        .given(submitted())
        .when(cancel(OrderActor::Employee(EMPLOYEE)))
        .then_expect_error(DomainError::Forbidden);
}

#[test]
fn cancelling_an_order_that_was_never_submitted_is_not_found() {
    order()
        .given_no_previous_events()
        .when(cancel(OrderActor::Admin))
        .then_expect_error(order_not_found());
    order()
        .given_no_previous_events()
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_error(order_not_found());
}

// --- The state machine as a whole -----------------------------------------------------------

/// A move in the order's life: the command, the verb its refusal names, the statuses it may
/// start from.
struct Transition {
    command: fn() -> Scoped<C>,
    verb: &'static str,
    allowed: &'static [OrderStatus],
}

#[test]
fn every_illegal_transition_is_an_invalid_state() {
    let transitions = [
        Transition {
            command: || confirm(OrderActor::Admin),
            verb: "confirm",
            allowed: &[OrderStatus::Submitted],
        },
        Transition {
            command: || reject(OrderActor::Admin),
            verb: "reject",
            allowed: &[OrderStatus::Submitted],
        },
        Transition {
            command: || ship(OrderActor::Admin),
            verb: "ship",
            allowed: &[OrderStatus::Confirmed],
        },
        Transition {
            command: || receive(OrderActor::Contact(CONTACT)),
            verb: "receive",
            allowed: &[OrderStatus::Shipped],
        },
        Transition {
            command: || cancel(OrderActor::Contact(CONTACT)),
            verb: "cancel",
            allowed: &[OrderStatus::Submitted],
        },
        Transition {
            command: || cancel(OrderActor::Admin),
            verb: "cancel",
            allowed: &[OrderStatus::Submitted, OrderStatus::Confirmed],
        },
    ];
    let mut refused = 0;
    for Transition {
        command,
        verb,
        allowed,
    } in transitions
    {
        for status in ALL_STATUSES.into_iter().filter(|s| !allowed.contains(s)) {
            order()
                .given(history(status))
                .when(command())
                .then_expect_error(DomainError::invalid_state(format!(
                    "cannot {verb} an order that is {}",
                    status.as_str()
                )));
            refused += 1;
        }
    }
    // 5 + 5 + 5 + 5 + 5 + 4 illegal pairs: a mistake in the table shows up here.
    assert_eq!(refused, 29);
}

#[test]
fn an_order_in_any_state_cannot_be_submitted_again() {
    for status in ALL_STATUSES {
        order()
            .given(history(status))
            .when(submit(vec![line(PRODUCT, 3)]))
            .then_expect_error(DomainError::invalid_state(
                "the order was already submitted",
            ));
    }
}

#[test]
fn the_histories_used_here_reach_the_status_they_name() {
    for status in ALL_STATUSES {
        let mut aggregate = Order::default();
        for event in history(status) {
            aggregate.apply(event);
        }
        assert_eq!(aggregate.status(), Some(status));
        assert_eq!(aggregate.total(), Some(cny(3 * PRODUCT_PRICE)));
    }
}

#[test]
fn another_tenant_cannot_reach_the_order_by_its_id() {
    let commands = [
        submit_as(
            FOREIGN_PARTNER,
            OTHER_CONTACT,
            vec![line(FOREIGN_PRODUCT, 1)],
        ),
        C::ConfirmOrder {
            by: OrderActor::Admin,
        },
        C::RejectOrder {
            by: OrderActor::Admin,
            reason: reason("Out of stock"),
        },
        C::ShipOrder {
            by: OrderActor::Admin,
            carrier: None,
            tracking: None,
        },
        C::ReceiveOrder {
            by: OrderActor::Contact(CONTACT),
        },
        C::CancelOrder {
            by: OrderActor::Admin,
            reason: reason("Ordered by mistake"),
        },
    ];
    for command in commands {
        order()
            .given(submitted())
            .when(Scoped::new(OTHER_TENANT, command))
            .then_expect_error(order_not_found());
    }
}

#[test]
fn a_retry_with_the_same_idempotency_key_addresses_the_same_order() {
    let first = OrderId::for_idempotency_key(TENANT, CONTACT, "checkout-42");
    assert_eq!(
        first,
        OrderId::for_idempotency_key(TENANT, CONTACT, "checkout-42")
    );
    assert_ne!(
        first,
        OrderId::for_idempotency_key(TENANT, CONTACT, "checkout-43")
    );
    assert_ne!(
        first,
        OrderId::for_idempotency_key(TENANT, OTHER_CONTACT, "checkout-42")
    );
    assert_ne!(
        first,
        OrderId::for_idempotency_key(OTHER_TENANT, CONTACT, "checkout-42")
    );
}

#[test]
fn a_contact_that_has_not_bound_cannot_cancel_its_partners_order() {
    let unbound = bound_their_side_contact(PARTNER)
        .into_iter()
        .filter(|event| !matches!(event, crate::contact::ContactEvent::ContactBound { .. }))
        .collect();
    order_in(ordering_world_with(unbound))
        .given(submitted())
        .when(cancel(OrderActor::Contact(CONTACT)))
        .then_expect_error(DomainError::ContactNotBound);
}

// --- SubmitOrder: dealer pricing (DESIGN §4) ------------------------------------------------

/// The usual world, with `lists` in `TENANT`'s index (each with its history; an empty history
/// is a list indexed but never created) and `prices` in `PRODUCT`'s prices.
fn priced_world(
    lists: Vec<(PriceListId, Vec<PriceListEvent>)>,
    prices: Vec<ListPricesEvent>,
) -> InMemoryLookup {
    let index = lists
        .iter()
        .map(|(id, _)| TenantEvent::PriceListIndexed { price_list_id: *id });
    let mut world = ordering_world().tenant(TENANT, index.collect::<Vec<_>>());
    for (id, history) in lists {
        world = world.price_list(id, history);
    }
    world.list_prices(PRODUCT, prices)
}

/// `TENANT`'s list `title` at `rank`, scoped to every partner, with `history` after that.
fn tenant_wide_then(title: &str, rank: u32, history: Vec<PriceListEvent>) -> Vec<PriceListEvent> {
    let mut events = tenant_wide_list(title, rank);
    events.extend(history);
    events
}

/// The reason a line priced by `list` (`title` at `rank`) from its break at `min` shows.
fn from_list(list: PriceListId, title: &str, rank: u32, min: i64) -> PriceReason {
    PriceReason::PriceList {
        price_list_id: list,
        name: name(title),
        priority: crate::fixtures::priority(rank),
        min_quantity: quantity(min),
        catalog_price: cny(PRODUCT_PRICE),
    }
}

/// `PRODUCT` × `n` at `unit_price` fen, for `reason`.
fn soy_sauce_at(n: i64, unit_price: i64, reason: PriceReason) -> OrderLine {
    OrderLine {
        quantity: quantity(n),
        unit_price: cny(unit_price),
        line_total: cny(unit_price * n),
        price_reason: reason,
        ..soy_sauce_line(1)
    }
}

fn total_of(lines: &[OrderLine]) -> Money {
    cny(lines.iter().map(|line| line.line_total.amount_minor).sum())
}

/// `CONTACT`'s order of `lines`, as submitted.
fn submitted_with(lines: Vec<OrderLine>) -> Vec<E> {
    vec![E::OrderSubmitted {
        tenant_id: TENANT,
        partner_id: PARTNER,
        contact_id: Some(CONTACT),
        placed_by: None,
        total: total_of(&lines),
        lines,
        note: note("Deliver before Friday"),
    }]
}

/// Submits `PRODUCT` × `n` in `world` and expects it priced at `unit_price` for `reason`.
fn expect_priced(world: InMemoryLookup, n: i64, unit_price: i64, reason: PriceReason) {
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, n)]))
        .then_expect_events(submitted_with(vec![soy_sauce_at(n, unit_price, reason)]));
}

/// Submits `PRODUCT` × `n` in `world` and expects the catalog price.
fn expect_catalog_priced(world: InMemoryLookup, n: i64) {
    expect_priced(world, n, PRODUCT_PRICE, PriceReason::Catalog);
}

/// A partner history of `PARTNER` at `tier`.
fn partner_at_level(tier: &str) -> [PartnerEvent; 1] {
    [PartnerEvent::PartnerLevelSet {
        level: Some(level(tier)),
    }]
}

#[test]
fn a_price_list_that_applies_prices_the_line_and_says_why() {
    let world = priced_world(
        vec![(PRICE_LIST, tenant_wide_list("Spring promotion", 10))],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    // `SECOND_PRODUCT` has no price in the list: its line keeps the catalog price.
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3), line(SECOND_PRODUCT, 2)]))
        .then_expect_events(submitted_with(vec![
            soy_sauce_at(3, 1100, from_list(PRICE_LIST, "Spring promotion", 10, 1)),
            OrderLine {
                product_id: SECOND_PRODUCT,
                sku: sku("CD-2"),
                name: name("Rice vinegar 250ml"),
                unit: unit("box"),
                quantity: quantity(2),
                unit_price: cny(SECOND_PRODUCT_PRICE),
                line_total: cny(2 * SECOND_PRODUCT_PRICE),
                price_reason: PriceReason::Catalog,
            },
        ]));
}

#[test]
fn the_applying_list_of_highest_priority_wins_even_over_a_cheaper_newer_one() {
    let world = priced_world(
        vec![
            (PRICE_LIST, tenant_wide_list("Contract", 20)),
            (NEWER_PRICE_LIST, tenant_wide_list("Promotion", 10)),
        ],
        vec![
            price_set(PRICE_LIST, PRODUCT, 1, 1000),
            price_set(NEWER_PRICE_LIST, PRODUCT, 1, 900),
        ],
    );
    expect_priced(world, 3, 1000, from_list(PRICE_LIST, "Contract", 20, 1));
}

#[test]
fn of_two_lists_of_equal_priority_the_newer_wins() {
    assert!(NEWER_PRICE_LIST > PRICE_LIST, "the fixture ids sort by age");
    let world = priced_world(
        vec![
            (PRICE_LIST, tenant_wide_list("Older", 10)),
            (NEWER_PRICE_LIST, tenant_wide_list("Newer", 10)),
        ],
        vec![
            price_set(PRICE_LIST, PRODUCT, 1, 900),
            price_set(NEWER_PRICE_LIST, PRODUCT, 1, 1000),
        ],
    );
    expect_priced(world, 3, 1000, from_list(NEWER_PRICE_LIST, "Newer", 10, 1));
}

#[test]
fn the_largest_break_at_or_below_the_quantity_prices_the_line() {
    let world = || {
        priced_world(
            vec![(PRICE_LIST, tenant_wide_list("Volume", 10))],
            vec![
                price_set(PRICE_LIST, PRODUCT, 1, 1200),
                price_set(PRICE_LIST, PRODUCT, 12, 1100),
                price_set(PRICE_LIST, PRODUCT, 48, 1000),
            ],
        )
    };
    for (n, unit_price, min) in [
        (1, 1200, 1),
        (11, 1200, 1),
        (12, 1100, 12),
        (47, 1100, 12),
        (48, 1000, 48),
        (500, 1000, 48),
    ] {
        expect_priced(
            world(),
            n,
            unit_price,
            from_list(PRICE_LIST, "Volume", 10, min),
        );
    }
}

#[test]
fn a_list_whose_breaks_all_exceed_the_quantity_gives_way_to_the_next_list() {
    let lists = || {
        vec![
            (PRICE_LIST, tenant_wide_list("Bulk only", 20)),
            (NEWER_PRICE_LIST, tenant_wide_list("Base", 10)),
        ]
    };
    let prices = || {
        vec![
            price_set(PRICE_LIST, PRODUCT, 12, 1000),
            price_set(NEWER_PRICE_LIST, PRODUCT, 1, 1200),
        ]
    };
    expect_priced(
        priced_world(lists(), prices()),
        5,
        1200,
        from_list(NEWER_PRICE_LIST, "Base", 10, 1),
    );
    expect_priced(
        priced_world(lists(), prices()),
        12,
        1000,
        from_list(PRICE_LIST, "Bulk only", 20, 12),
    );
    // Alone, it leaves the catalog price below its first break.
    let alone = priced_world(
        vec![(PRICE_LIST, tenant_wide_list("Bulk only", 20))],
        vec![price_set(PRICE_LIST, PRODUCT, 12, 1000)],
    );
    expect_catalog_priced(alone, 5);
}

/// `PRICE_LIST`, tenant-wide at priority 10 with `validity` set after, pricing `PRODUCT` at 1100.
fn list_valid(from: Option<i64>, to: Option<i64>) -> InMemoryLookup {
    priced_world(
        vec![(
            PRICE_LIST,
            tenant_wide_then(
                "Promotion",
                10,
                vec![PriceListEvent::PriceListValiditySet {
                    from: from.map(days_from_now),
                    to: to.map(days_from_now),
                }],
            ),
        )],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    )
}

#[test]
fn an_expired_list_never_applies() {
    expect_catalog_priced(list_valid(Some(-30), Some(-1)), 3);
    // `to` is exclusive: a list valid until now has expired.
    expect_catalog_priced(list_valid(None, Some(0)), 3);
}

#[test]
fn a_list_not_yet_valid_never_applies() {
    expect_catalog_priced(list_valid(Some(1), None), 3);
    expect_catalog_priced(list_valid(Some(1), Some(30)), 3);
}

#[test]
fn a_list_applies_from_the_first_moment_of_its_validity_until_its_end() {
    let reason = || from_list(PRICE_LIST, "Promotion", 10, 1);
    expect_priced(list_valid(Some(0), Some(1)), 3, 1100, reason());
    expect_priced(list_valid(Some(-1), None), 3, 1100, reason());
    expect_priced(list_valid(None, Some(1)), 3, 1100, reason());
}

#[test]
fn an_archived_list_never_applies_even_while_still_indexed() {
    let world = priced_world(
        vec![(
            PRICE_LIST,
            tenant_wide_then("Promotion", 10, vec![PriceListEvent::PriceListArchived]),
        )],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    expect_catalog_priced(world, 3);
}

#[test]
fn an_unscoped_list_prices_for_nobody() {
    let world = priced_world(
        vec![(PRICE_LIST, vec![price_list_created(TENANT, "Draft", 10)])],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    expect_catalog_priced(world, 3);
}

#[test]
fn a_list_indexed_but_never_created_prices_nothing() {
    let world = priced_world(
        vec![(PRICE_LIST, vec![])],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    expect_catalog_priced(world, 3);
}

#[test]
fn a_list_of_another_tenant_never_applies_even_if_named_in_the_index() {
    let world = priced_world(
        vec![(
            FOREIGN_PRICE_LIST,
            vec![
                price_list_created(OTHER_TENANT, "Their promotion", 10),
                PriceListEvent::PriceListScopeSet {
                    scope: PriceListScope::All,
                },
            ],
        )],
        vec![price_set(FOREIGN_PRICE_LIST, PRODUCT, 1, 1100)],
    );
    expect_catalog_priced(world, 3);
}

/// `PRICE_LIST` at priority 10 scoped to `scope`, pricing `PRODUCT` at 1100, with `PARTNER`'s
/// history extended by `partner`.
fn scoped_list_world(scope: PriceListScope, partner: &[PartnerEvent]) -> InMemoryLookup {
    priced_world(
        vec![(
            PRICE_LIST,
            vec![
                price_list_created(TENANT, "Dealers", 10),
                PriceListEvent::PriceListScopeSet { scope },
            ],
        )],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    )
    .partner(PARTNER, partner.to_vec())
}

#[test]
fn a_level_list_applies_only_to_partners_at_one_of_its_levels() {
    let scope = || PriceListScope::Levels {
        levels: [level("A"), level("省级代理")].into(),
    };
    expect_catalog_priced(scoped_list_world(scope(), &[]), 3);
    expect_catalog_priced(scoped_list_world(scope(), &partner_at_level("B")), 3);
    let off_every_level = [
        partner_at_level("A")[0].clone(),
        PartnerEvent::PartnerLevelSet { level: None },
    ];
    expect_catalog_priced(scoped_list_world(scope(), &off_every_level), 3);
    expect_priced(
        scoped_list_world(scope(), &partner_at_level("A")),
        3,
        1100,
        from_list(PRICE_LIST, "Dealers", 10, 1),
    );
}

#[test]
fn a_partner_list_applies_only_to_the_partners_it_names() {
    let only = |partner: PartnerId| PriceListScope::Partners {
        partners: [partner].into(),
    };
    expect_catalog_priced(scoped_list_world(only(OTHER_PARTNER), &[]), 3);
    expect_priced(
        scoped_list_world(only(PARTNER), &[]),
        3,
        1100,
        from_list(PRICE_LIST, "Dealers", 10, 1),
    );
}

// --- SubmitOrder: assortment and quantity rules ---------------------------------------------

/// The usual world with `PRODUCT` in "sauces", `SECOND_PRODUCT` in "vinegar", and `PARTNER`'s
/// history extended by `partner`.
fn categorised_world(partner: Vec<PartnerEvent>) -> InMemoryLookup {
    ordering_world()
        .product(
            PRODUCT,
            [ProductEvent::ProductCategorized {
                category: Some(category("sauces")),
            }],
        )
        .product(
            SECOND_PRODUCT,
            [ProductEvent::ProductCategorized {
                category: Some(category("vinegar")),
            }],
        )
        .partner(PARTNER, partner)
}

fn restricted_to(categories: &[&str]) -> PartnerEvent {
    PartnerEvent::PartnerAssortmentRestricted {
        categories: Assortment::new(categories.iter().map(|text| category(text)).collect())
            .expect("an assortment"),
    }
}

#[test]
fn a_product_outside_the_partners_assortment_is_not_available() {
    order_in(categorised_world(vec![restricted_to(&["sauces"])]))
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3), line(SECOND_PRODUCT, 1)]))
        .then_expect_error(DomainError::ProductNotAvailable {
            product_id: SECOND_PRODUCT,
        });
}

#[test]
fn a_product_inside_the_partners_assortment_is_ordered() {
    order_in(categorised_world(vec![restricted_to(&["sauces", "oil"])]))
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_events(submitted());
}

#[test]
fn a_cleared_assortment_lets_the_partner_order_every_listed_product_again() {
    let world = categorised_world(vec![
        restricted_to(&["sauces"]),
        PartnerEvent::PartnerAssortmentCleared,
    ]);
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(SECOND_PRODUCT, 1)]))
        .then_expect_events(vec![E::OrderSubmitted {
            tenant_id: TENANT,
            partner_id: PARTNER,
            contact_id: Some(CONTACT),
            placed_by: None,
            lines: vec![OrderLine {
                product_id: SECOND_PRODUCT,
                sku: sku("CD-2"),
                name: name("Rice vinegar 250ml"),
                unit: unit("box"),
                quantity: quantity(1),
                unit_price: cny(SECOND_PRODUCT_PRICE),
                line_total: cny(SECOND_PRODUCT_PRICE),
                price_reason: PriceReason::Catalog,
            }],
            total: cny(SECOND_PRODUCT_PRICE),
            note: note("Deliver before Friday"),
        }]);
}

#[test]
fn an_uncategorised_product_is_not_available_to_a_partner_with_a_restricted_assortment() {
    let world = categorised_world(vec![restricted_to(&["sauces"])]).product(
        PRODUCT,
        [ProductEvent::ProductCategorized { category: None }],
    );
    order_in(world)
        .given_no_previous_events()
        .when(submit(vec![line(PRODUCT, 3)]))
        .then_expect_error(DomainError::ProductNotAvailable {
            product_id: PRODUCT,
        });
}

/// At least 12, by cases of 6, at most 120.
fn case_rules() -> QuantityRules {
    QuantityRules::new(Some(quantity(12)), Some(quantity(6)), Some(quantity(120)))
        .expect("rules that can be met")
}

fn ruled_world() -> InMemoryLookup {
    ordering_world().product(
        PRODUCT,
        [ProductEvent::ProductQuantityRulesSet {
            rules: case_rules(),
        }],
    )
}

#[test]
fn a_quantity_that_breaks_the_products_rules_is_not_allowed_and_names_the_line() {
    // Below min, off the case size, above max.
    for n in [6, 15, 126] {
        order_in(ruled_world())
            .given_no_previous_events()
            .when(submit(vec![line(SECOND_PRODUCT, 1), line(PRODUCT, n)]))
            .then_expect_error(DomainError::QuantityNotAllowed {
                line: 1,
                product_id: PRODUCT,
                rules: case_rules(),
            });
    }
}

#[test]
fn a_quantity_within_the_products_rules_is_ordered() {
    for n in [12, 18, 120] {
        expect_catalog_priced(ruled_world(), n);
    }
}

// --- SubmitOrder: the expected total --------------------------------------------------------

#[test]
fn a_submission_expecting_another_total_is_refused_with_the_new_quote() {
    // The buyer was quoted 3 × 12.50 at the catalog price; a list priced it at 11.00 since.
    let world = priced_world(
        vec![(PRICE_LIST, tenant_wide_list("Spring promotion", 10))],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    let mut command = submit(vec![line(PRODUCT, 3)]);
    if let C::SubmitOrder { expected_total, .. } = &mut command.command {
        *expected_total = Some(cny(3 * PRODUCT_PRICE));
    }
    let reason = from_list(PRICE_LIST, "Spring promotion", 10, 1);
    order_in(world)
        .given_no_previous_events()
        .when(command)
        .then_expect_error(DomainError::PriceChanged {
            quote: Box::new(Quote {
                lines: vec![QuotedLine {
                    product_id: PRODUCT,
                    sku: Some(sku("AB-1")),
                    name: Some(name("Soy sauce 500ml")),
                    unit: Some(unit("box")),
                    quantity: quantity(3),
                    rules: QuantityRules::default(),
                    price: Some(LinePrice {
                        unit_price: cny(1100),
                        reason,
                    }),
                    line_total: Some(cny(3300)),
                    problems: vec![],
                }],
                total: cny(3300),
            }),
        });
}

#[test]
fn a_submission_expecting_the_total_it_costs_is_ordered() {
    let world = priced_world(
        vec![(PRICE_LIST, tenant_wide_list("Spring promotion", 10))],
        vec![price_set(PRICE_LIST, PRODUCT, 1, 1100)],
    );
    let mut command = submit(vec![line(PRODUCT, 3)]);
    if let C::SubmitOrder { expected_total, .. } = &mut command.command {
        *expected_total = Some(cny(3300));
    }
    order_in(world)
        .given_no_previous_events()
        .when(command)
        .then_expect_events(submitted_with(vec![soy_sauce_at(
            3,
            1100,
            from_list(PRICE_LIST, "Spring promotion", 10, 1),
        )]));
}

// --- SubmitOrder: on behalf of the partner --------------------------------------------------

fn admin() -> PlacedBy {
    PlacedBy::Admin {
        id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00f1),
    }
}

fn on_behalf(partner_id: PartnerId, placed_by: PlacedBy) -> Scoped<C> {
    scoped(submit_by(
        partner_id,
        Submitter::OnBehalf(placed_by),
        vec![line(PRODUCT, 3)],
    ))
}

/// The order of `submitted()`, placed by `placed_by` instead of the contact.
fn placed_on_behalf(placed_by: PlacedBy) -> Vec<E> {
    vec![E::OrderSubmitted {
        tenant_id: TENANT,
        partner_id: PARTNER,
        contact_id: None,
        placed_by: Some(placed_by),
        lines: vec![soy_sauce_line(3)],
        total: cny(3 * PRODUCT_PRICE),
        note: note("Deliver before Friday"),
    }]
}

#[test]
fn an_admin_orders_on_behalf_of_a_partner() {
    order()
        .given_no_previous_events()
        .when(on_behalf(PARTNER, admin()))
        .then_expect_events(placed_on_behalf(admin()));
}

#[test]
fn an_order_placed_on_behalf_has_no_contact() {
    let mut aggregate = Order::default();
    for event in placed_on_behalf(admin()) {
        aggregate.apply(event);
    }
    assert_eq!(aggregate.contact_id(), None);
    assert_eq!(aggregate.partner_id(), Some(PARTNER));
    assert_eq!(aggregate.status(), Some(OrderStatus::Submitted));
}

#[test]
fn an_employee_linked_to_the_partner_orders_on_its_behalf() {
    let by = PlacedBy::Employee {
        contact_id: EMPLOYEE,
    };
    order()
        .given_no_previous_events()
        .when(on_behalf(PARTNER, by))
        .then_expect_events(placed_on_behalf(by));
}

#[test]
fn an_employee_not_linked_to_the_partner_cannot_find_it_to_order_on_its_behalf() {
    let partner_not_found = || DomainError::NotFound { what: "partner" };
    order()
        .given_no_previous_events()
        .when(on_behalf(
            PARTNER,
            PlacedBy::Employee {
                contact_id: UNLINKED_EMPLOYEE,
            },
        ))
        .then_expect_error(partner_not_found());
    // Linked to `PARTNER` only.
    order()
        .given_no_previous_events()
        .when(on_behalf(
            OTHER_PARTNER,
            PlacedBy::Employee {
                contact_id: EMPLOYEE,
            },
        ))
        .then_expect_error(partner_not_found());
    // A their-side contact is no employee.
    order()
        .given_no_previous_events()
        .when(on_behalf(
            PARTNER,
            PlacedBy::Employee {
                contact_id: CONTACT,
            },
        ))
        .then_expect_error(partner_not_found());
}

#[test]
fn an_admin_cannot_order_on_behalf_of_another_tenants_partner() {
    order()
        .given_no_previous_events()
        .when(on_behalf(FOREIGN_PARTNER, admin()))
        .then_expect_error(DomainError::NotFound { what: "partner" });
}

#[test]
fn an_order_on_behalf_follows_the_partners_own_rules() {
    let suspended = ordering_world().partner(PARTNER, [PartnerEvent::PartnerSuspended]);
    order_in(suspended)
        .given_no_previous_events()
        .when(on_behalf(PARTNER, admin()))
        .then_expect_error(DomainError::PartnerSuspended);
    let not_a_partner = InMemoryLookup::new()
        .tenant(TENANT, upstream_tenant())
        .partner(PARTNER, [customer_recorded(TENANT)]);
    order_in(not_a_partner)
        .given_no_previous_events()
        .when(on_behalf(PARTNER, admin()))
        .then_expect_error(DomainError::NotAPartner);
    let ordering_off =
        ordering_world().tenant(TENANT, [TenantEvent::AppDisabled { app: App::Ordering }]);
    order_in(ordering_off)
        .given_no_previous_events()
        .when(on_behalf(PARTNER, admin()))
        .then_expect_error(DomainError::AppNotEnabled { app: App::Ordering });
}

#[test]
fn an_order_on_behalf_is_priced_for_the_partner_not_for_who_places_it() {
    let world = scoped_list_world(
        PriceListScope::Levels {
            levels: [level("A")].into(),
        },
        &partner_at_level("A"),
    );
    order_in(world)
        .given_no_previous_events()
        .when(on_behalf(PARTNER, admin()))
        .then_expect_events(vec![E::OrderSubmitted {
            tenant_id: TENANT,
            partner_id: PARTNER,
            contact_id: None,
            placed_by: Some(admin()),
            lines: vec![soy_sauce_at(
                3,
                1100,
                from_list(PRICE_LIST, "Dealers", 10, 1),
            )],
            total: cny(3300),
            note: note("Deliver before Friday"),
        }]);
}
