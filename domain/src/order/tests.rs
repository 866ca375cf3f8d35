//! Given/when/then tests of the sales order: every condition of submission (DESIGN §2) with its
//! refusal, prices and names taken from the catalog, who may move the order along, each illegal
//! transition, and the commands a tenant sends at another tenant's order. A refusal appends
//! nothing: `then_expect_error` fails if any event was written.

use std::collections::BTreeSet;

use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::{
    Order, OrderActor, OrderCommand as C, OrderEvent as E, OrderLine, OrderStatus, RequestedLine,
};
use crate::contact::ContactEvent;
use crate::error::{DomainError, ValidationError};
use crate::fixtures::{
    bound_their_side_contact, cny, customer_recorded, name, note, ordering_world,
    ordering_world_with, phone, quantity, reason, scoped, sku, their_side_contact_recorded, unit,
    upstream_tenant, CONTACT, EMPLOYEE, FOREIGN_PARTNER, FOREIGN_PRODUCT, OTHER_CONTACT,
    OTHER_TENANT, PARTNER, PRODUCT, PRODUCT_PRICE, SECOND_PRODUCT, SECOND_PRODUCT_PRICE, TENANT,
    UNLINKED_EMPLOYEE,
};
use crate::ids::{ContactId, OrderId, PartnerId, ProductId};
use crate::lookup::Scoped;
use crate::partner::PartnerEvent;
use crate::product::ProductEvent;
use crate::tenant::TenantEvent;
use crate::testing::InMemoryLookup;
use crate::values::{App, Carrier, PartnerMode, Permission, Side, TrackingNumber};

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

fn submit_as(partner_id: PartnerId, contact_id: ContactId, lines: Vec<RequestedLine>) -> C {
    C::SubmitOrder {
        partner_id,
        contact_id,
        lines,
        note: note("Deliver before Friday"),
    }
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
    }
}

fn submitted() -> Vec<E> {
    vec![E::OrderSubmitted {
        tenant_id: TENANT,
        partner_id: PARTNER,
        contact_id: CONTACT,
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
            contact_id: CONTACT,
            lines: vec![
                OrderLine {
                    product_id: PRODUCT,
                    sku: sku("AB-1"),
                    name: name("Soy sauce 500ml"),
                    unit: unit("box"),
                    quantity: quantity(3),
                    unit_price: cny(1250),
                    line_total: cny(3750),
                },
                OrderLine {
                    product_id: SECOND_PRODUCT,
                    sku: sku("CD-2"),
                    name: name("Rice vinegar 250ml"),
                    unit: unit("box"),
                    quantity: quantity(10),
                    unit_price: cny(399),
                    line_total: cny(3990),
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
            contact_id: CONTACT,
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
