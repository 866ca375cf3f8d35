//! Isolation over HTTP (DESIGN §1): every query and mutation, run as each role of two tenants
//! and as the contacts of two partners. Nothing crosses a tenant, no contact sees another
//! partner's data, auditors and analysts cannot mutate. A test below fails when the schema
//! gains a root field that no case here covers.
//!
//! Staff (DESIGN §4, Identity): the operator creates admins, admins invite and revoke staff and
//! list them, and only a staff member's own session switches tenant or sets its password; the
//! tokens here are minted, e2e_staff signs real staff in.
//!
//! Dealer pricing (DESIGN §4, issue 18): price lists are the tenant's staff's (a contact gets
//! `FORBIDDEN`); a contact quotes, reorders and sees products only for its own partner and within
//! its assortment; staff order on a partner's behalf by naming it, an employee only for the
//! partners it is linked to (another is `NOT_FOUND`, as one that does not exist).
//!
//! Permissions (DESIGN §4): every read of orders (`order` with its lines and note, `orders`,
//! `orderUpdated`, the order mutations' payloads) as a contact granted `VIEW_ORDERS`, one denied
//! it by its own restriction, and one whose tenant's defaults leave it out.

use std::collections::BTreeSet;

use dinghuo_commands::{Actor, Role};
use dinghuo_domain::{ContactId, PartnerId};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, staff, ws, World};
use serde_json::{json, Value};
use uuid::Uuid;

/// Who runs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Operator,
    AdminA,
    AdminB,
    /// An employee of tenant A linked to partner 1 only.
    EmployeeA1,
    /// A bound contact of partner 1 of tenant A.
    ContactA1,
    /// A bound contact of partner 2 of tenant A.
    ContactA2,
    AuditorA,
    AnalystA,
    Anonymous,
}

const EVERYONE: [Who; 9] = [
    Who::Operator,
    Who::AdminA,
    Who::AdminB,
    Who::EmployeeA1,
    Who::ContactA1,
    Who::ContactA2,
    Who::AuditorA,
    Who::AnalystA,
    Who::Anonymous,
];

/// What an operation must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Data, no error.
    Allowed,
    /// No error, but the root field is `null` or an empty list: nothing of it is visible.
    Nothing,
    /// An error with this code.
    Refused(&'static str),
    /// Binding and login limit attempts per phone and per client address, whoever asks: after
    /// a few callers the answer is `RATE_LIMITED` instead of this one.
    UnlessLimited(&'static Expect),
}

/// Tenant A (partners 1 and 2, each with a bound contact, an employee linked to partner 1, an
/// order of each partner) and tenant B (its own partner, contact and order).
struct Fixture {
    server: TestServer,
    a: World,
    b: World,
    partner_a2: PartnerId,
    contact_a2: ContactId,
    employee_a1: ContactId,
    order_a1: String,
    order_a2: String,
    order_b: String,
    /// A submitted order of partner 2, to reject.
    order_reject: String,
    /// A submitted order of partner 1, to cancel.
    order_cancel: String,
    /// A customer of tenant A that is not a partner yet.
    customer_a3: PartnerId,
    /// An employee of tenant A linked to no partner yet.
    loose_contact: ContactId,
    /// A staff member (an admin the operator created) of tenant A, signed in by no one here.
    member_a: String,
    /// Tenant A's price list for partner 2, with a price of product 0.
    price_list_a: String,
}

impl Fixture {
    fn actor(&self, who: Who) -> Option<Actor> {
        let in_a = |role| Actor::in_tenant(Uuid::now_v7(), role, self.a.tenant);
        match who {
            Who::Operator => Some(Actor::operator(Uuid::now_v7())),
            Who::AdminA => Some(self.a.admin),
            Who::AdminB => Some(self.b.admin),
            Who::EmployeeA1 => Some(Actor::in_tenant(
                self.employee_a1.as_uuid(),
                Role::Employee,
                self.a.tenant,
            )),
            Who::ContactA1 => Some(self.a.contact_actor()),
            Who::ContactA2 => Some(Actor::in_tenant(
                self.contact_a2.as_uuid(),
                Role::Contact,
                self.a.tenant,
            )),
            Who::AuditorA => Some(in_a(Role::Auditor)),
            Who::AnalystA => Some(in_a(Role::Analyst)),
            Who::Anonymous => None,
        }
    }

    async fn run(&self, who: Who, document: &str, variables: Value) -> Value {
        let token = self.actor(who).map(|actor| self.server.token(&actor));
        self.server
            .graphql(token.as_deref(), document, variables)
            .await
    }

    async fn submit(&self, contact: Actor, product: String) -> String {
        let token = self.server.token(&contact);
        let data = self
            .server
            .ok(
                Some(&token),
                "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 1}]}) { orderId } }",
                json!({"p": product}),
            )
            .await;
        data["submitOrder"]["orderId"]
            .as_str()
            .expect("an order id")
            .to_owned()
    }
}

async fn fixture(test: &dinghuo_tests::TestDb) -> Fixture {
    let commands = test.commands();
    let a = World::build(&commands, 2).await;
    let b = World::build(&commands, 2).await;
    let admin = a.admin_ctx();
    let partner_a2 = World::add_partner(&commands, &admin, "Dealer Two").await;
    let contact_a2 =
        World::add_bound_contact(&commands, &admin, a.tenant, partner_a2, "13900139000").await;
    let employee_a1 = World::add_employee(&commands, &admin, a.partner, "13700137000").await;
    let customer_a3 = commands
        .record_customer(
            &admin,
            dinghuo_commands::RecordCustomerInput {
                name: "Dealer Three".into(),
                ..Default::default()
            },
        )
        .await
        .expect("record a customer");
    let loose_contact = commands
        .record_contact(
            &admin,
            dinghuo_commands::RecordContactInput {
                name: "Wang Wu".into(),
                phone: Some("13600136000".into()),
                customer_id: None,
                employee: true,
            },
        )
        .await
        .expect("record an employee");
    let price_list_a = dealer_terms(&commands, &a, partner_a2).await;
    let server = TestServer::start(&test.db, &[]).await;
    let mut fixture = Fixture {
        server,
        partner_a2,
        contact_a2,
        employee_a1,
        order_a1: String::new(),
        order_a2: String::new(),
        order_b: String::new(),
        order_reject: String::new(),
        order_cancel: String::new(),
        customer_a3,
        loose_contact,
        member_a: String::new(),
        price_list_a,
        a,
        b,
    };
    let operator = staff::operator_token(&fixture.server);
    let member_a = staff::create_tenant_admin(
        &fixture.server,
        &operator,
        fixture.a.tenant,
        "Staff A",
        MEMBER_A_PHONE,
    )
    .await;
    fixture.member_a = member_a["id"].as_str().expect("a member id").to_owned();
    fixture.order_a1 = fixture
        .submit(fixture.a.contact_actor(), fixture.a.products[0].to_string())
        .await;
    let contact_a2 = fixture.actor(Who::ContactA2).expect("a contact");
    fixture.order_a2 = fixture
        .submit(contact_a2, fixture.a.products[0].to_string())
        .await;
    fixture.order_b = fixture
        .submit(fixture.b.contact_actor(), fixture.b.products[0].to_string())
        .await;
    fixture.order_reject = fixture
        .submit(contact_a2, fixture.a.products[0].to_string())
        .await;
    fixture.order_cancel = fixture
        .submit(fixture.a.contact_actor(), fixture.a.products[0].to_string())
        .await;
    fixture
}

/// Tenant A's dealer terms: its two products are `Grain`, a third (`DRINK-1`) is `Drinks`,
/// partner 2 may buy `Grain` only, and a price list prices product 0 for partner 2. Answers the
/// list's id.
async fn dealer_terms(
    commands: &dinghuo_commands::Commands,
    a: &World,
    partner_a2: PartnerId,
) -> String {
    let admin = a.admin_ctx();
    let drink = commands
        .list_product(
            &admin,
            dinghuo_commands::ListProductInput {
                sku: "DRINK-1".into(),
                name: "Jasmine tea".into(),
                unit: "case".into(),
                price: dinghuo_commands::MoneyInput::cny("30.00"),
            },
        )
        .await
        .expect("list a drink");
    let categories = a
        .products
        .iter()
        .map(|product| (*product, "Grain"))
        .chain([(drink, "Drinks")]);
    for (product, category) in categories {
        commands
            .categorize_product(
                &admin,
                dinghuo_commands::CategorizeProductInput {
                    product_id: product.to_string(),
                    category: Some(category.into()),
                },
            )
            .await
            .expect("categorize a product");
    }
    commands
        .restrict_partner_assortment(
            &admin,
            dinghuo_commands::RestrictPartnerAssortmentInput {
                partner_id: partner_a2.to_string(),
                categories: vec!["Grain".into()],
            },
        )
        .await
        .expect("restrict partner 2's assortment");
    let list = commands
        .create_price_list(
            &admin,
            dinghuo_commands::CreatePriceListInput {
                name: "Dealer Two contract".into(),
                priority: 10,
                scope: Some(dinghuo_commands::PriceListScopeInput {
                    kind: "PARTNERS".into(),
                    partner_ids: vec![partner_a2.to_string()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await
        .expect("create a price list");
    commands
        .set_price(
            &admin,
            dinghuo_commands::SetPriceInput {
                price_list_id: list.to_string(),
                product_id: Some(a.products[0].to_string()),
                unit_price: dinghuo_commands::MoneyInput::cny("9.00"),
                ..Default::default()
            },
        )
        .await
        .expect("set a price");
    list.to_string()
}

/// The phone of [`Fixture::member_a`].
const MEMBER_A_PHONE: &str = "13300133000";

/// One operation and what each caller must get.
struct Case {
    /// The root field it exercises.
    field: &'static str,
    document: &'static str,
    variables: fn(&Fixture) -> Value,
    expect: fn(Who) -> Expect,
}

fn check(who: Who, case: &Case, response: &Value) {
    let expected = (case.expect)(who);
    let code = response["errors"][0]["extensions"]["code"].as_str();
    let value = &response["data"][case.field];
    let nothing = value.is_null()
        || value.as_array().is_some_and(Vec::is_empty)
        || value["edges"].as_array().is_some_and(Vec::is_empty);
    let answers = |expected: &Expect| match expected {
        Expect::Allowed => code.is_none() && !value.is_null(),
        Expect::Nothing => code.is_none() && nothing,
        Expect::Refused(expected_code) => code == Some(*expected_code),
        Expect::UnlessLimited(_) => false,
    };
    let ok = match expected {
        Expect::UnlessLimited(inner) => answers(inner) || code == Some("RATE_LIMITED"),
        other => answers(&other),
    };
    assert!(
        ok,
        "{} as {who:?}: expected {expected:?}, got {response:#}",
        case.field
    );
}

fn read_only(who: Who) -> bool {
    matches!(who, Who::AuditorA | Who::AnalystA)
}

/// Anonymous callers are always asked for a token.
fn signed_in(who: Who, then: Expect) -> Expect {
    if who == Who::Anonymous {
        Expect::Refused("UNAUTHENTICATED")
    } else {
        then
    }
}

/// A mutation only a tenant's admin may run; `admin_b` is what tenant B's admin gets (its own
/// tenant when the input names no id of A, `NOT_FOUND` when it does).
fn admin_only(who: Who, admin_b: Expect) -> Expect {
    match who {
        Who::AdminA => Expect::Allowed,
        Who::AdminB => admin_b,
        who => signed_in(who, Expect::Refused("FORBIDDEN")),
    }
}

/// A query of the whole tenant's records: auditors and admins (`events`, history, past states).
fn audit_read(who: Who, admin_b: Expect) -> Expect {
    match who {
        Who::AdminA | Who::AuditorA => Expect::Allowed,
        Who::AdminB => admin_b,
        who => signed_in(who, Expect::Refused("FORBIDDEN")),
    }
}

/// An analytics query: analysts and admins.
fn analytics_read(who: Who, admin_b: Expect) -> Expect {
    match who {
        Who::AdminA | Who::AnalystA => Expect::Allowed,
        Who::AdminB => admin_b,
        who => signed_in(who, Expect::Refused("FORBIDDEN")),
    }
}

/// A read of the tenant's price lists: its staff, never a partner's contact.
fn price_list_read(who: Who, admin_b: Expect) -> Expect {
    match who {
        Who::AdminA | Who::EmployeeA1 | Who::AuditorA | Who::AnalystA => Expect::Allowed,
        Who::AdminB => admin_b,
        who => signed_in(who, Expect::Refused("FORBIDDEN")),
    }
}

/// Pricing for partner 2 of tenant A (`quote`, `reorder`): its contact and tenant A's admin;
/// partner 1's contact and employee, and tenant B, find no such partner or order.
fn for_partner_2(who: Who) -> Expect {
    match who {
        Who::AdminA | Who::ContactA2 => Expect::Allowed,
        Who::AdminB | Who::EmployeeA1 | Who::ContactA1 => Expect::Refused("NOT_FOUND"),
        who => signed_in(who, Expect::Refused("FORBIDDEN")),
    }
}

/// The cases. Mutations that change state run last for their allowed caller (see `run_case`).
fn cases() -> Vec<Case> {
    vec![
        Case {
            field: "viewer",
            document: "{ viewer { id role } }",
            variables: |_| json!({}),
            expect: |who| match who {
                Who::Anonymous => Expect::Nothing,
                _ => Expect::Allowed,
            },
        },
        Case {
            field: "order",
            document: "query($id: ID!) { order(id: $id) { id } }",
            variables: |f| json!({"id": f.order_a1}),
            expect: |who| match who {
                Who::AdminA | Who::EmployeeA1 | Who::ContactA1 | Who::AuditorA | Who::AnalystA => {
                    Expect::Allowed
                }
                Who::AdminB | Who::ContactA2 => Expect::Nothing,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                Who::Anonymous => Expect::Refused("UNAUTHENTICATED"),
            },
        },
        Case {
            field: "orders",
            document: "query($p: ID!) { orders(first: 10, filter: {partnerId: $p}) { edges { node { id } } } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| match who {
                Who::AdminA | Who::ContactA2 | Who::AuditorA | Who::AnalystA => Expect::Allowed,
                Who::AdminB | Who::EmployeeA1 | Who::ContactA1 => Expect::Nothing,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                Who::Anonymous => Expect::Refused("UNAUTHENTICATED"),
            },
        },
        Case {
            field: "submitOrder",
            document: "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 1}]}) { orderId } }",
            variables: |f| json!({"p": f.a.products[1].to_string()}),
            expect: |who| match who {
                Who::ContactA1 | Who::ContactA2 => Expect::Allowed,
                // Staff order on a partner's behalf, and must name it (the cases below do).
                Who::AdminA | Who::AdminB | Who::EmployeeA1 => Expect::Refused("VALIDATION"),
                Who::Anonymous => Expect::Refused("UNAUTHENTICATED"),
                _ => Expect::Refused("FORBIDDEN"),
            },
        },
        Case {
            field: "submitOrder",
            document: "mutation($p: ID!, $x: ID!) { submitOrder(input: {partnerId: $p, lines: [{productId: $x, quantity: 1}]}) { orderId } }",
            variables: |f| json!({"p": f.a.partner.to_string(), "x": f.a.products[0].to_string()}),
            // On behalf of partner 1: the employee linked to it may.
            expect: |who| match who {
                Who::AdminA | Who::EmployeeA1 | Who::ContactA1 => Expect::Allowed,
                Who::AdminB | Who::ContactA2 => Expect::Refused("NOT_FOUND"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "submitOrder",
            document: "mutation($p: ID!, $x: ID!) { submitOrder(input: {partnerId: $p, lines: [{productId: $x, quantity: 1}]}) { orderId order { placedBy { role } lines { priceReason { kind } } } } }",
            variables: |f| json!({"p": f.partner_a2.to_string(), "x": f.a.products[0].to_string()}),
            // On behalf of partner 2, which the employee is not linked to.
            expect: for_partner_2,
        },
        Case {
            field: "quote",
            document: "query($p: ID!, $x: ID!) { quote(input: {partnerId: $p, lines: [{productId: $x, quantity: 1}]}) { total { amount } lines { unitPrice { amount } reason { kind priceListName } } } }",
            variables: |f| json!({"p": f.partner_a2.to_string(), "x": f.a.products[0].to_string()}),
            // Partner 2's prices (its contract) are for partner 2 and tenant A's admin alone.
            expect: for_partner_2,
        },
        Case {
            field: "reorder",
            document: "query($id: ID!) { reorder(orderId: $id) { total { amount } lines { sku } } }",
            variables: |f| json!({"id": f.order_a2}),
            expect: for_partner_2,
        },
        Case {
            field: "parseOrderLines",
            document: "{ parseOrderLines(text: \"SKU-0000 1\") { line productId error { code } } }",
            variables: |_| json!({}),
            // Against the caller's own catalog (and a contact's own assortment).
            expect: |who| match who {
                Who::AdminA | Who::AdminB | Who::EmployeeA1 | Who::ContactA1 | Who::ContactA2 => {
                    Expect::Allowed
                }
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "priceLists",
            document: "{ priceLists(first: 10) { edges { node { id name } } } }",
            variables: |_| json!({}),
            // Tenant B has no list of its own.
            expect: |who| price_list_read(who, Expect::Nothing),
        },
        Case {
            field: "priceList",
            document: "query($id: ID!) { priceList(id: $id) { id entries { nodes { sku unitPrice { amount } } } } }",
            variables: |f| json!({"id": f.price_list_a}),
            expect: |who| price_list_read(who, Expect::Nothing),
        },
        Case {
            field: "products",
            document: "{ products(first: 10, filter: {skuPrefix: \"DRINK\"}) { edges { node { id myPrice { amount { amount } } } } } }",
            variables: |_| json!({}),
            // A drink is outside partner 2's assortment: its contact never sees it.
            expect: |who| match who {
                Who::AdminA | Who::EmployeeA1 | Who::ContactA1 | Who::AuditorA | Who::AnalystA => {
                    Expect::Allowed
                }
                Who::AdminB | Who::ContactA2 => Expect::Nothing,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                Who::Anonymous => Expect::Refused("UNAUTHENTICATED"),
            },
        },
        Case {
            field: "confirmOrder",
            document: "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { orderId } }",
            variables: |f| json!({"id": f.order_a2}),
            expect: |who| match who {
                Who::AdminA => Expect::Allowed,
                Who::AdminB => Expect::Refused("NOT_FOUND"),
                // Partner 2 is not the employee's: its orders do not exist for it.
                Who::EmployeeA1 => Expect::Refused("NOT_FOUND"),
                Who::Anonymous => Expect::Refused("UNAUTHENTICATED"),
                who if read_only(who) => Expect::Refused("FORBIDDEN"),
                _ => Expect::Refused("FORBIDDEN"),
            },
        },
        Case {
            field: "rejectOrder",
            document: "mutation($id: ID!) { rejectOrder(input: {orderId: $id, reason: \"out of stock\"}) { orderId } }",
            variables: |f| json!({"id": f.order_reject}),
            expect: |who| match who {
                Who::AdminA => Expect::Allowed,
                Who::AdminB | Who::EmployeeA1 => Expect::Refused("NOT_FOUND"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "shipOrder",
            document: "mutation($id: ID!) { shipOrder(input: {orderId: $id, carrier: \"SF\"}) { orderId } }",
            variables: |f| json!({"id": f.order_a2}),
            expect: |who| match who {
                Who::AdminA => Expect::Allowed,
                Who::AdminB | Who::EmployeeA1 => Expect::Refused("NOT_FOUND"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "receiveOrder",
            document: "mutation($id: ID!) { receiveOrder(input: {orderId: $id}) { orderId } }",
            variables: |f| json!({"id": f.order_a2}),
            expect: |who| match who {
                Who::ContactA2 => Expect::Allowed,
                Who::ContactA1 => Expect::Refused("NOT_FOUND"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "cancelOrder",
            document: "mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: \"changed my mind\"}) { orderId } }",
            variables: |f| json!({"id": f.order_cancel}),
            expect: |who| match who {
                Who::ContactA1 => Expect::Allowed,
                // Already cancelled by its contact when the admin tries.
                Who::AdminA => Expect::Refused("INVALID_STATE"),
                Who::ContactA2 | Who::AdminB => Expect::Refused("NOT_FOUND"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "events",
            document: "query($id: ID!) { events(first: 5, filter: {aggregateId: $id}) { edges { node { eventType } } } }",
            variables: |f| json!({"id": f.order_a1}),
            expect: |who| audit_read(who, Expect::Nothing),
        },
        Case {
            field: "aggregateHistory",
            document: "query($id: ID!) { aggregateHistory(id: $id, first: 5) { edges { node { eventType } } } }",
            variables: |f| json!({"id": f.order_a1}),
            expect: |who| audit_read(who, Expect::Nothing),
        },
        Case {
            field: "aggregateAt",
            document: "query($id: ID!) { aggregateAt(id: $id, asOf: {version: 1}) { version } }",
            variables: |f| json!({"id": f.order_a1}),
            expect: |who| audit_read(who, Expect::Nothing),
        },
        Case {
            field: "salesDaily",
            document: "query($p: ID!) { salesDaily(from: \"2020-01-01\", to: \"2020-12-31\", partnerId: $p) { edges { node { day } } } }",
            variables: |f| json!({"p": f.a.partner.to_string()}),
            expect: |who| analytics_read(who, Expect::Allowed),
        },
        Case {
            field: "onboardingFunnel",
            document: "{ onboardingFunnel { steps { step reached } } }",
            variables: |_| json!({}),
            expect: |who| analytics_read(who, Expect::Allowed),
        },
        Case {
            field: "notifications",
            document: "{ notifications(first: 5) { edges { node { status } } } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "tenant",
            document: "query($id: ID) { tenant(id: $id) { id } }",
            variables: |f| json!({"id": f.a.tenant.to_string()}),
            expect: |who| match who {
                Who::AdminB => Expect::Nothing,
                who => signed_in(who, Expect::Allowed),
            },
        },
        Case {
            field: "partners",
            document: "{ partners(first: 10, filter: {namePrefix: \"Dealer Two\"}) { edges { node { id } } } }",
            variables: |_| json!({}),
            expect: |who| match who {
                Who::AdminA | Who::AuditorA | Who::AnalystA | Who::ContactA2 => Expect::Allowed,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                who => signed_in(who, Expect::Nothing),
            },
        },
        Case {
            field: "partner",
            document: "query($id: ID!) { partner(id: $id) { id } }",
            variables: |f| json!({"id": f.partner_a2.to_string()}),
            expect: |who| match who {
                Who::AdminA | Who::AuditorA | Who::AnalystA | Who::ContactA2 => Expect::Allowed,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                who => signed_in(who, Expect::Nothing),
            },
        },
        Case {
            field: "contacts",
            document: "query($p: ID!) { contacts(first: 10, filter: {partnerId: $p}) { edges { node { id } } } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| match who {
                Who::AdminA | Who::AuditorA | Who::AnalystA | Who::ContactA2 => Expect::Allowed,
                Who::Operator => Expect::Refused("FORBIDDEN"),
                who => signed_in(who, Expect::Nothing),
            },
        },
        Case {
            field: "products",
            document: "{ products(first: 10) { edges { node { id } } } }",
            variables: |_| json!({}),
            expect: |who| match who {
                Who::Operator => Expect::Refused("FORBIDDEN"),
                // Each tenant sees its own catalog.
                who => signed_in(who, Expect::Allowed),
            },
        },
        Case {
            field: "requestBindingCode",
            document: "mutation($t: ID!) { requestBindingCode(input: {tenantId: $t, phone: \"13800138000\"}) { __typename } }",
            variables: |f| json!({"t": f.a.tenant.to_string()}),
            // Anonymous by design (a contact has no token yet); the answer never says whether
            // the phone exists, so everyone gets the same.
            expect: |_| Expect::UnlessLimited(&Expect::Allowed),
        },
        Case {
            field: "bindContact",
            document: "mutation($t: ID!) { bindContact(input: {tenantId: $t, phone: \"13800138000\", code: \"000000\", channel: \"MINI_PROGRAM\"}) { token } }",
            variables: |f| json!({"t": f.a.tenant.to_string()}),
            // A wrong code binds nobody, whoever asks.
            expect: |_| Expect::UnlessLimited(&Expect::Refused("UNAUTHENTICATED")),
        },
        Case {
            field: "login",
            document: "mutation($t: ID!) { login(input: {tenantId: $t, phone: \"13800138000\", password: \"wrong-password\"}) { token } }",
            variables: |f| json!({"t": f.a.tenant.to_string()}),
            expect: |_| Expect::UnlessLimited(&Expect::Refused("UNAUTHENTICATED")),
        },
        Case {
            field: "changePassword",
            document: "mutation { changePassword(input: {currentPassword: \"wrong-password\", newPassword: \"another-password\"}) { __typename } }",
            variables: |_| json!({}),
            // Both contacts are tenantless: no platform account. (Before issue 17 the per-address
            // limit, 5, always cut in first here; sized for an office now, it does not.)
            expect: |who| match who {
                Who::ContactA1 | Who::ContactA2 => {
                    Expect::UnlessLimited(&Expect::Refused("NOT_FOUND"))
                }
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "signOut",
            document: "mutation { signOut { signedOut } }",
            variables: |_| json!({}),
            // These tokens are minted, as `dinghuo token` mints them: no session to end
            // (e2e_sessions signs out of real ones).
            expect: |who| signed_in(who, Expect::Refused("FORBIDDEN")),
        },
        Case {
            field: "requestSignInCode",
            document: "mutation { requestSignInCode(input: {phone: \"13300133000\"}) { accepted } }",
            variables: |_| json!({}),
            // Anonymous by design, and the same answer whoever asks and whatever the phone.
            expect: |_| Expect::UnlessLimited(&Expect::Allowed),
        },
        Case {
            field: "signIn",
            document: "mutation { signIn(input: {phone: \"13300133000\", code: \"000000\"}) { token } }",
            variables: |_| json!({}),
            expect: |_| Expect::UnlessLimited(&Expect::Refused("UNAUTHENTICATED")),
        },
        Case {
            field: "switchTenant",
            document: "mutation($t: ID!) { switchTenant(input: {tenantId: $t}) { token } }",
            variables: |f| json!({"t": f.b.tenant.to_string()}),
            // Only a staff member's session switches (to another membership of its phone);
            // these tokens are minted and belong to no phone (e2e_staff switches real ones).
            expect: |who| signed_in(who, Expect::Refused("FORBIDDEN")),
        },
        Case {
            field: "setPassword",
            document: "mutation { setPassword(input: {newPassword: \"a fine new passphrase\"}) { token } }",
            variables: |_| json!({}),
            // A staff member's own password: minted tokens have no person behind them, and
            // contacts use `changePassword` (e2e_staff sets real ones).
            expect: |who| signed_in(who, Expect::Refused("FORBIDDEN")),
        },
        Case {
            field: "staffMembers",
            document: "{ staffMembers(first: 10) { edges { node { id tenantId } } } }",
            variables: |_| json!({}),
            // Tenant B's admin lists its own tenant's (e2e_staff checks whose).
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "createTenantAdmin",
            document: "mutation($t: ID!) { createTenantAdmin(input: {tenantId: $t, name: \"Iso Admin\", phone: \"13300133001\"}) { member { id } } }",
            variables: |f| json!({"t": f.a.tenant.to_string()}),
            expect: |who| match who {
                Who::Operator => Expect::Allowed,
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "inviteEmployee",
            document: "mutation($c: ID!) { inviteEmployee(input: {contactId: $c}) { member { id } } }",
            variables: |f| json!({"c": f.loose_contact.to_string()}),
            // In tenant B no such contact exists.
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "revokeStaffAccess",
            document: "mutation($m: ID!) { revokeStaffAccess(input: {memberId: $m}) { member { id status } } }",
            variables: |f| json!({"m": f.member_a}),
            expect: |who| match who {
                Who::AdminA => Expect::Allowed,
                // Tenant B has no such member.
                Who::AdminB => Expect::Refused("NOT_FOUND"),
                // The operator must name the tenant.
                Who::Operator => Expect::Refused("VALIDATION"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "registerTenant",
            document: "mutation { registerTenant(input: {name: \"Isolation Co\"}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| match who {
                Who::Operator => Expect::Allowed,
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "purchaseApp",
            document: "mutation($t: ID!) { purchaseApp(input: {tenantId: $t, app: ORDERING}) { __typename } }",
            variables: |f| json!({"t": f.a.tenant.to_string()}),
            expect: |who| match who {
                Who::Operator => Expect::Allowed,
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "enableInterconnect",
            document: "mutation { enableInterconnect(input: {}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| match who {
                Who::AdminA | Who::AdminB => Expect::Allowed,
                // The operator must name the tenant.
                Who::Operator => Expect::Refused("VALIDATION"),
                who => signed_in(who, Expect::Refused("FORBIDDEN")),
            },
        },
        Case {
            field: "disableApp",
            document: "mutation { disableApp(input: {app: ORDERING}) { __typename } }",
            variables: |_| json!({}),
            // Re-enabled by the `enableApp` case that follows.
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "enableApp",
            document: "mutation { enableApp(input: {app: ORDERING}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "bindWechatAccount",
            document: "mutation { bindWechatAccount(input: {appId: \"wx0123456789abcdef\", name: \"Acme\"}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "publishWechatMenu",
            document: "mutation { publishWechatMenu(input: {appId: \"wx0123456789abcdef\", buttons: [{name: \"订货\", app: ORDERING}]}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "setFunctionPermissions",
            document: "mutation { setFunctionPermissions(input: {app: ORDERING, permissions: [CREATE_SALES_ORDER, CANCEL_ORDER, VIEW_ORDERS]}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "recordCustomer",
            document: "mutation { recordCustomer(input: {name: \"Dealer Four\"}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "addPartner",
            document: "mutation($c: ID!) { addPartner(input: {customerId: $c}) { __typename } }",
            variables: |f| json!({"c": f.customer_a3.to_string()}),
            // In tenant B no such customer was ever recorded.
            expect: |who| admin_only(who, Expect::Refused("CUSTOMER_NOT_RECORDED")),
        },
        Case {
            field: "unassignApp",
            document: "mutation($p: ID!) { unassignApp(input: {partnerId: $p, app: ORDERING}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "assignApp",
            document: "mutation($p: ID!) { assignApp(input: {partnerId: $p, app: ORDERING}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "suspendPartner",
            document: "mutation($p: ID!) { suspendPartner(input: {partnerId: $p}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "reinstatePartner",
            document: "mutation($p: ID!) { reinstatePartner(input: {partnerId: $p}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "recordContact",
            document: "mutation { recordContact(input: {name: \"Zhao Liu\", phone: \"13500135000\", employee: true}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "addPartnerContact",
            document: "mutation($c: ID!, $p: ID!) { addPartnerContact(input: {contactId: $c, partnerId: $p, side: OURS}) { __typename } }",
            variables: |f| json!({"c": f.loose_contact.to_string(), "p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "removePartnerContact",
            document: "mutation($c: ID!, $p: ID!) { removePartnerContact(input: {contactId: $c, partnerId: $p}) { __typename } }",
            variables: |f| json!({"c": f.loose_contact.to_string(), "p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "restrictContactPermissions",
            document: "mutation($c: ID!) { restrictContactPermissions(input: {contactId: $c, app: ORDERING, denied: [CANCEL_ORDER]}) { __typename } }",
            variables: |f| json!({"c": f.contact_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "listProduct",
            document: "mutation { listProduct(input: {sku: \"ISO-1\", name: \"Isolation\", unit: \"box\", price: {amount: \"9.90\"}}) { __typename } }",
            variables: |_| json!({}),
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "repriceProduct",
            document: "mutation($p: ID!) { repriceProduct(input: {productId: $p, price: {amount: \"12.50\"}}) { __typename } }",
            variables: |f| json!({"p": f.a.products[0].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "delistProduct",
            document: "mutation($p: ID!) { delistProduct(input: {productId: $p}) { __typename } }",
            variables: |f| json!({"p": f.a.products[1].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "setPartnerLevel",
            document: "mutation($p: ID!) { setPartnerLevel(input: {partnerId: $p, level: \"A\"}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "restrictPartnerAssortment",
            document: "mutation($p: ID!) { restrictPartnerAssortment(input: {partnerId: $p, categories: [\"Grain\", \"Drinks\"]}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "clearPartnerAssortment",
            document: "mutation($p: ID!) { clearPartnerAssortment(input: {partnerId: $p}) { __typename } }",
            variables: |f| json!({"p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "categorizeProduct",
            document: "mutation($p: ID!) { categorizeProduct(input: {productId: $p, category: \"Grain\"}) { __typename } }",
            variables: |f| json!({"p": f.a.products[0].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "setQuantityRules",
            document: "mutation($p: ID!) { setQuantityRules(input: {productId: $p, min: 1, max: 1000}) { __typename } }",
            variables: |f| json!({"p": f.a.products[0].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "createPriceList",
            document: "mutation { createPriceList(input: {name: \"Isolation list\", priority: 5, scope: {kind: ALL}}) { __typename } }",
            variables: |_| json!({}),
            // Tenant B's admin creates its own.
            expect: |who| admin_only(who, Expect::Allowed),
        },
        Case {
            field: "setPriceListValidity",
            document: "mutation($l: ID!) { setPriceListValidity(input: {priceListId: $l, validFrom: \"2020-01-01T00:00:00Z\"}) { __typename } }",
            variables: |f| json!({"l": f.price_list_a}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "setPriceListScope",
            document: "mutation($l: ID!, $p: ID!) { setPriceListScope(input: {priceListId: $l, scope: {kind: PARTNERS, partnerIds: [$p]}}) { __typename } }",
            variables: |f| json!({"l": f.price_list_a, "p": f.partner_a2.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "setPrice",
            document: "mutation($l: ID!, $p: ID!) { setPrice(input: {priceListId: $l, productId: $p, minQuantity: 10, unitPrice: {amount: \"8.50\"}}) { __typename } }",
            variables: |f| json!({"l": f.price_list_a, "p": f.a.products[0].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "removePrice",
            document: "mutation($l: ID!, $p: ID!) { removePrice(input: {priceListId: $l, productId: $p, minQuantity: 10}) { __typename } }",
            variables: |f| json!({"l": f.price_list_a, "p": f.a.products[0].to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "archivePriceList",
            document: "mutation($l: ID!) { archivePriceList(input: {priceListId: $l}) { __typename } }",
            variables: |f| json!({"l": f.price_list_a}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "updateContact",
            document: "mutation($c: ID!) { updateContact(input: {contactId: $c, name: \"Li Lei Two\", phone: \"13900139000\"}) { __typename } }",
            variables: |f| json!({"c": f.contact_a2.to_string()}),
            // The same phone: partner 2's contact stays bound.
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "updateCustomer",
            document: "mutation($c: ID!) { updateCustomer(input: {customerId: $c, name: \"Dealer Three Ltd\"}) { __typename } }",
            variables: |f| json!({"c": f.customer_a3.to_string()}),
            expect: |who| admin_only(who, Expect::Refused("NOT_FOUND")),
        },
        Case {
            field: "unbindWechatAccount",
            document: "mutation { unbindWechatAccount(input: {appId: \"wx0123456789abcdef\"}) { __typename } }",
            variables: |_| json!({}),
            // Each tenant's admin bound one of this id above (`bindWechatAccount`).
            expect: |who| admin_only(who, Expect::Allowed),
        },
    ]
}

/// Runs a case for everyone: the refusals first, then the allowed callers (who change the state
/// the refusals are checked against), then those refused because of that new state.
async fn run_case(fixture: &Fixture, case: &Case) {
    let mut order: Vec<Who> = EVERYONE.to_vec();
    order.sort_by_key(|who| match (case.expect)(*who) {
        Expect::Refused("INVALID_STATE") => 2,
        Expect::Allowed => 1,
        _ => 0,
    });
    for who in order {
        let response = fixture
            .run(who, case.document, (case.variables)(fixture))
            .await;
        check(who, case, &response);
    }
}

on_both_backends! {
    async fn every_operation_answers_each_role_as_design_section_1_says(test) {
        let fixture = fixture(&test).await;
        for case in cases() {
            run_case(&fixture, &case).await;
        }
        // Nothing the test did leaked across: tenant B's order is still only B's.
        let response = fixture
            .run(Who::AdminA, "query($id: ID!) { order(id: $id) { id } }", json!({"id": fixture.order_b}))
            .await;
        assert!(response["data"]["order"].is_null(), "{response:#}");
        fixture.server.stop().await;
    }
}

#[tokio::test]
async fn every_root_field_of_the_schema_has_an_isolation_case() {
    let sdl = dinghuo_api::graphql::sdl();
    let covered: BTreeSet<&str> = cases().iter().map(|case| case.field).collect();
    let mut missing = Vec::new();
    // Subscriptions are checked over WebSocket in their own test.
    for root in ["type QueryRoot", "type MutationRoot"] {
        let start = sdl
            .find(&format!("{root} {{"))
            .unwrap_or_else(|| panic!("the SDL has no {root}"));
        let body = &sdl[start..];
        let body = &body[..body.find("\n}").unwrap_or(body.len())];
        let mut in_description = false;
        for line in body.lines().skip(1) {
            let line = line.trim();
            if line.starts_with("\"\"\"") {
                // A one-line description opens and closes on the same line.
                let one_line = line.len() > 3 && line.ends_with("\"\"\"");
                if !one_line {
                    in_description = !in_description;
                }
                continue;
            }
            if in_description || line.is_empty() {
                continue;
            }
            let name = line.split(['(', ':']).next().unwrap_or_default().trim();
            if !name.is_empty() && !covered.contains(name) {
                missing.push(name.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "root fields without an isolation case: {missing:?}"
    );
}

// --- Permissions: VIEW_ORDERS gates every read of orders -------------------------------------

/// A their-side contact, as its ordering permissions make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// Partner 1 of tenant A, whose defaults grant every permission.
    Granted,
    /// A colleague of `Granted` at partner 1, denied `VIEW_ORDERS` by its own restriction.
    Restricted,
    /// The contact of tenant C, whose defaults leave `VIEW_ORDERS` out.
    DeniedByDefault,
}

const READERS: [Reader; 3] = [Reader::Granted, Reader::Restricted, Reader::DeniedByDefault];

impl Reader {
    fn may_view_orders(self) -> bool {
        self == Reader::Granted
    }
}

/// What a reader needs: who it is, its partner, what it may order, and its partner's orders.
struct ReaderSetup {
    actor: Actor,
    partner: PartnerId,
    product: String,
    /// Every order of its partner, placed by it or a colleague before the reads.
    partner_orders: BTreeSet<String>,
    /// An order of its partner, confirmed and shipped by the admin: for `receiveOrder`.
    shipped: String,
    /// An order of its partner still submitted: for `cancelOrder` and `orderUpdated`.
    submitted: String,
}

struct Readers {
    server: TestServer,
    a: World,
    setups: Vec<(Reader, ReaderSetup)>,
}

impl Readers {
    fn setup(&self, reader: Reader) -> &ReaderSetup {
        &self
            .setups
            .iter()
            .find(|(r, _)| *r == reader)
            .expect("every reader is set up")
            .1
    }

    async fn run(&self, reader: Reader, document: &str, variables: Value) -> Value {
        let token = self.server.token(&self.setup(reader).actor);
        let response = self.server.graphql(Some(&token), document, variables).await;
        assert!(
            response.get("errors").is_none(),
            "{reader:?}: {document}\nfailed: {response:#}"
        );
        response["data"].clone()
    }
}

async fn place(commands: &dinghuo_commands::Commands, contact: Actor, product: &str) -> String {
    commands
        .submit_order(
            &dinghuo_commands::RequestContext::new(contact),
            dinghuo_commands::SubmitOrderInput {
                lines: vec![dinghuo_commands::OrderLineInput {
                    product_id: product.to_owned(),
                    quantity: 3,
                    sku: None,
                }],
                note: Some("deliver on Friday".into()),
            },
        )
        .await
        .expect("submit an order")
        .to_string()
}

async fn ship(commands: &dinghuo_commands::Commands, admin: &World, order: &str) {
    commands
        .confirm_order(
            &admin.admin_ctx(),
            dinghuo_commands::ConfirmOrderInput {
                order_id: order.to_owned(),
            },
        )
        .await
        .expect("confirm");
    commands
        .ship_order(
            &admin.admin_ctx(),
            dinghuo_commands::ShipOrderInput {
                order_id: order.to_owned(),
                carrier: Some("SF".into()),
                tracking: None,
            },
        )
        .await
        .expect("ship");
}

async fn readers(test: &dinghuo_tests::TestDb) -> Readers {
    let commands = test.commands();
    let a = World::build(&commands, 1).await;
    let c = World::build(&commands, 1).await;
    let admin = a.admin_ctx();
    let restricted =
        World::add_bound_contact(&commands, &admin, a.tenant, a.partner, "13900139001").await;
    commands
        .restrict_contact_permissions(
            &admin,
            dinghuo_commands::RestrictContactPermissionsInput {
                contact_id: restricted.to_string(),
                app: "ORDERING".into(),
                denied: vec!["VIEW_ORDERS".into()],
            },
        )
        .await
        .expect("deny VIEW_ORDERS to one contact");
    commands
        .set_function_permissions(
            &c.admin_ctx(),
            dinghuo_commands::SetFunctionPermissionsInput {
                app: "ORDERING".into(),
                permissions: vec!["CREATE_SALES_ORDER".into(), "CANCEL_ORDER".into()],
            },
        )
        .await
        .expect("tenant C's defaults leave VIEW_ORDERS out");

    let restricted_actor = Actor::in_tenant(restricted.as_uuid(), Role::Contact, a.tenant);
    let product_a = a.products[0].to_string();
    let product_c = c.products[0].to_string();
    // Partner 1's orders: each of its two contacts places two, one of which is shipped.
    let mut partner_1 = BTreeSet::new();
    let mut per_contact = Vec::new();
    for contact in [a.contact_actor(), restricted_actor] {
        let shipped = place(&commands, contact, &product_a).await;
        ship(&commands, &a, &shipped).await;
        let submitted = place(&commands, contact, &product_a).await;
        partner_1.extend([shipped.clone(), submitted.clone()]);
        per_contact.push((shipped, submitted));
    }
    let c_shipped = place(&commands, c.contact_actor(), &product_c).await;
    ship(&commands, &c, &c_shipped).await;
    let c_submitted = place(&commands, c.contact_actor(), &product_c).await;

    let (granted_orders, restricted_orders) = (per_contact[0].clone(), per_contact[1].clone());
    let setups = vec![
        (
            Reader::Granted,
            ReaderSetup {
                actor: a.contact_actor(),
                partner: a.partner,
                product: product_a.clone(),
                partner_orders: partner_1.clone(),
                shipped: granted_orders.0,
                submitted: granted_orders.1,
            },
        ),
        (
            Reader::Restricted,
            ReaderSetup {
                actor: restricted_actor,
                partner: a.partner,
                product: product_a,
                partner_orders: partner_1,
                shipped: restricted_orders.0,
                submitted: restricted_orders.1,
            },
        ),
        (
            Reader::DeniedByDefault,
            ReaderSetup {
                actor: c.contact_actor(),
                partner: c.partner,
                product: product_c,
                partner_orders: BTreeSet::from([c_shipped.clone(), c_submitted.clone()]),
                shipped: c_shipped,
                submitted: c_submitted,
            },
        ),
    ];
    let server = TestServer::start(&test.db, &[]).await;
    // Wait until the read models show everything above: a mutation through the server waits
    // for its own write, which the runners apply after all that came before it.
    let readers = Readers { server, a, setups };
    let admin_token = readers.server.token(&readers.a.admin);
    readers
        .server
        .ok(
            Some(&admin_token),
            "mutation { listProduct(input: {sku: \"SETTLE-1\", name: \"Settle\", unit: \"box\", price: {amount: \"1.00\"}}) { productId } }",
            json!({}),
        )
        .await;
    readers
}

fn ids(connection: &Value) -> BTreeSet<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection: {connection:#}"))
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("an order id").to_owned())
        .collect()
}

on_both_backends! {
    async fn every_read_of_orders_answers_a_contact_as_its_view_orders_permission_says(test) {
        let readers = readers(&test).await;
        for reader in READERS {
            let setup = readers.setup(reader);
            let may = reader.may_view_orders();

            // The rule agrees with what `effectivePermissions` shows the contact itself.
            let data = readers
                .run(
                    reader,
                    "query($p: ID!) { contacts(first: 10, filter: {partnerId: $p}) { edges { node { id effectivePermissions } } } }",
                    json!({"p": setup.partner.to_string()}),
                )
                .await;
            let me = data["contacts"]["edges"]
                .as_array()
                .expect("contacts")
                .iter()
                .find(|edge| edge["node"]["id"] == setup.actor.id.to_string().as_str())
                .unwrap_or_else(|| panic!("{reader:?} sees itself: {data:#}"));
            let shows_view = me["node"]["effectivePermissions"]
                .as_array()
                .expect("permissions")
                .contains(&json!("VIEW_ORDERS"));
            assert_eq!(shows_view, may, "{reader:?}: {me:#}");

            // `order`, with everything an order holds, for each order of its own partner.
            for order in &setup.partner_orders {
                let data = readers
                    .run(
                        reader,
                        "query($id: ID!) { order(id: $id) { id status note total { amount } lines { sku quantity lineTotal { amount } } partner { id } contact { id } } }",
                        json!({"id": order}),
                    )
                    .await;
                if may {
                    assert_eq!(data["order"]["id"], order.as_str(), "{reader:?}: {data:#}");
                    assert_eq!(data["order"]["lines"][0]["quantity"], 3, "{data:#}");
                    assert_eq!(data["order"]["note"], "deliver on Friday", "{data:#}");
                } else {
                    assert!(data["order"].is_null(), "{reader:?} read an order: {data:#}");
                }
            }

            // `reorder` reads an order's lines: the same gate.
            let response = readers
                .server
                .graphql(
                    Some(&readers.server.token(&setup.actor)),
                    "query($id: ID!) { reorder(orderId: $id) { total { amount } lines { sku quantity } } }",
                    json!({"id": setup.shipped}),
                )
                .await;
            if may {
                assert_eq!(
                    response["data"]["reorder"]["lines"][0]["quantity"], 3,
                    "{reader:?}: {response:#}"
                );
            } else {
                assert_eq!(
                    response["errors"][0]["extensions"]["code"], "NOT_FOUND",
                    "{reader:?} reordered an order it may not read: {response:#}"
                );
            }

            // `orders`, unfiltered and filtered by its partner and by status.
            for (document, variables) in [
                ("{ orders(first: 10) { edges { node { id lines { sku } } } } }", json!({})),
                (
                    "query($p: ID!) { orders(first: 10, filter: {partnerId: $p}) { edges { node { id total { amount } } } } }",
                    json!({"p": setup.partner.to_string()}),
                ),
                (
                    "{ orders(first: 10, filter: {status: SHIPPED}) { edges { node { id } } } }",
                    json!({}),
                ),
            ] {
                let data = readers.run(reader, document, variables).await;
                let listed = ids(&data["orders"]);
                if may {
                    assert!(!listed.is_empty(), "{reader:?}: {document}: {data:#}");
                    assert!(listed.is_subset(&setup.partner_orders), "{reader:?}: {data:#}");
                } else {
                    assert!(listed.is_empty(), "{reader:?} listed orders: {document}: {data:#}");
                }
            }

            // `orderUpdated`: the order now, or `NOT_FOUND` as for an order it cannot see.
            let token = readers.server.token(&setup.actor);
            let mut socket = ws::subscribe(
                &readers.server,
                &token,
                "subscription($id: ID!) { orderUpdated(orderId: $id) { id status lines { sku } } }",
                json!({"id": setup.submitted}),
            )
            .await;
            let first = ws::next_message(&mut socket).await;
            if may {
                assert_eq!(
                    first["payload"]["data"]["orderUpdated"]["id"],
                    setup.submitted.as_str(),
                    "{reader:?}: {first:#}"
                );
            } else {
                assert_eq!(ws::error_code(&first), Some("NOT_FOUND"), "{reader:?}: {first:#}");
            }

            // `submitOrder` answers the order it has just created to everyone who may order; a
            // keyed resubmission, which creates nothing, answers the order only to a reader.
            let submit = "mutation($p: ID!, $k: String) { submitOrder(input: {lines: [{productId: $p, quantity: 1}], idempotencyKey: $k}) { orderId order { id total { amount } lines { sku } } } }";
            let key = format!("po-{reader:?}");
            let variables = json!({"p": setup.product, "k": key});
            let data = readers.run(reader, submit, variables.clone()).await;
            let created = data["submitOrder"]["orderId"].as_str().expect("an order id").to_owned();
            assert_eq!(data["submitOrder"]["order"]["id"], created.as_str(), "{reader:?}: {data:#}");
            assert_eq!(data["submitOrder"]["order"]["lines"][0]["sku"], "SKU-0000", "{data:#}");
            let again = readers.run(reader, submit, variables).await;
            assert_eq!(again["submitOrder"]["orderId"], created.as_str(), "{again:#}");
            assert_eq!(
                !again["submitOrder"]["order"].is_null(),
                may,
                "{reader:?}: {again:#}"
            );

            // The other order mutations of a contact answer the id, and the order to a reader.
            for (document, order, status) in [
                (
                    "mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: \"changed\"}) { orderId order { id status note } } }",
                    &setup.submitted,
                    "CANCELLED",
                ),
                (
                    "mutation($id: ID!) { receiveOrder(input: {orderId: $id}) { orderId order { id status lines { sku } } } }",
                    &setup.shipped,
                    "RECEIVED",
                ),
            ] {
                let data = readers.run(reader, document, json!({"id": order})).await;
                let payload = data.as_object().and_then(|root| root.values().next()).expect("a payload");
                assert_eq!(payload["orderId"], order.as_str(), "{reader:?}: {data:#}");
                if may {
                    assert_eq!(payload["order"]["status"], status, "{reader:?}: {data:#}");
                } else {
                    assert!(payload["order"].is_null(), "{reader:?}: {data:#}");
                }
            }
            // The subscription saw the cancellation only if it could see the order at all.
            if may {
                let next = ws::next_data(&mut socket).await;
                assert_eq!(next["data"]["orderUpdated"]["status"], "CANCELLED", "{next:#}");
            }
        }

        // The denial hides nothing from the tenant's staff: the admin still reads them all.
        let admin = readers.server.token(&readers.a.admin);
        for order in &readers.setup(Reader::Restricted).partner_orders {
            let data = readers
                .server
                .ok(Some(&admin), "query($id: ID!) { order(id: $id) { id } }", json!({"id": order}))
                .await;
            assert_eq!(data["order"]["id"], order.as_str(), "{data:#}");
        }
        readers.server.stop().await;
    }
}
