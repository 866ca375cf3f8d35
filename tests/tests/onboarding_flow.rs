//! The product document's whole journey, step by step through the command layer: the operator
//! sells the tenant its licence, the admin switches ordering on and onboards a dealer, the
//! dealer's contact binds and orders, the tenant confirms and ships, the dealer receives. What
//! the log holds afterwards is checked event by event, payload and metadata included.

use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    BindWechatAccountInput, Commands, ConfirmOrderInput, EnableInterconnectInput, ListProductInput,
    MenuButtonInput, MoneyInput, OrderLineInput, PublishWechatMenuInput, PurchaseAppInput,
    ReceiveOrderInput, RecordContactInput, RecordCustomerInput, RegisterTenantInput,
    RepriceProductInput, RequestContext, Role, ShipOrderInput, SubmitOrderInput,
};
use dinghuo_domain::{ContactId, OrderId, PartnerId, ProductId, TenantId};
use dinghuo_tests::inspect::{all_events, numbered, stream_events, StoredEvent};
use dinghuo_tests::{on_both_backends, TestDb};
use serde_json::json;
use uuid::Uuid;

const WECHAT_APP_ID: &str = "wx0123456789abcdef";
const IDEMPOTENCY_KEY: &str = "checkout-7f3a";

/// Everything the journey created, so the assertions can name it.
struct Journey {
    tenant: TenantId,
    operator: Actor,
    admin: Actor,
    tenantless_partner: PartnerId,
    tenant_mode_partner: PartnerId,
    contact: ContactId,
    employee: ContactId,
    tea: ProductId,
    oolong: ProductId,
    order: OrderId,
}

fn ctx(actor: Actor) -> RequestContext {
    RequestContext::new(actor)
}

/// Runs the product document's onboarding-to-order flow, failing loudly at the first refusal.
async fn run_journey(commands: &Commands) -> Journey {
    // The platform registers the tenant and sells it basic interconnect and the ordering app.
    let operator = Actor::operator(Uuid::now_v7());
    let tenant = commands
        .register_tenant(
            &ctx(operator),
            RegisterTenantInput {
                name: "Acme Foods".into(),
            },
        )
        .await
        .expect("the operator registers the tenant");
    commands
        .enable_interconnect(
            &ctx(operator),
            EnableInterconnectInput {
                tenant_id: Some(tenant.to_string()),
            },
        )
        .await
        .expect("the operator enables interconnect");
    commands
        .purchase_app(
            &ctx(operator),
            PurchaseAppInput {
                tenant_id: tenant.to_string(),
                app: "ORDERING".into(),
            },
        )
        .await
        .expect("the operator sells the ordering app");

    // The tenant's admin switches ordering on and puts it into the official account's menu.
    let admin = Actor::in_tenant(Uuid::now_v7(), Role::Admin, tenant);
    commands
        .enable_app(
            &ctx(admin),
            AppInput {
                app: "ORDERING".into(),
            },
        )
        .await
        .expect("the admin enables ordering");
    commands
        .bind_wechat_account(
            &ctx(admin),
            BindWechatAccountInput {
                app_id: WECHAT_APP_ID.into(),
                name: "Acme Foods Service".into(),
            },
        )
        .await
        .expect("the admin binds the official account");
    commands
        .publish_wechat_menu(
            &ctx(admin),
            PublishWechatMenuInput {
                app_id: WECHAT_APP_ID.into(),
                buttons: vec![
                    MenuButtonInput {
                        name: "Order".into(),
                        app: Some("ORDERING".into()),
                        url: None,
                    },
                    MenuButtonInput {
                        name: "About us".into(),
                        app: None,
                        url: Some("https://acme.example/about".into()),
                    },
                ],
            },
        )
        .await
        .expect("the admin publishes a menu that opens ordering");

    // The catalog.
    let tea = commands
        .list_product(
            &ctx(admin),
            ListProductInput {
                sku: "tea-001".into(),
                name: "Jasmine tea".into(),
                unit: "box".into(),
                price: MoneyInput::cny("12.50"),
            },
        )
        .await
        .expect("list the tea");
    let oolong = commands
        .list_product(
            &ctx(admin),
            ListProductInput {
                sku: "OOL-002".into(),
                name: "Oolong".into(),
                unit: "tin".into(),
                price: MoneyInput::cny("8"),
            },
        )
        .await
        .expect("list the oolong");

    // Two dealers: the recommended tenantless mode, and one with platform accounts.
    let tenantless_partner = onboard_partner(commands, admin, "Dealer One", None).await;
    let tenant_mode_partner = onboard_partner(commands, admin, "Dealer Two", Some("TENANT")).await;

    // Their side: the dealer's buyer, recorded with one spelling of the number.
    let contact = commands
        .record_contact(
            &ctx(admin),
            RecordContactInput {
                name: "Li Lei".into(),
                phone: Some("138 0013 8000".into()),
                customer_id: Some(tenantless_partner.to_string()),
                employee: false,
            },
        )
        .await
        .expect("record the dealer's buyer");
    commands
        .add_partner_contact(
            &ctx(admin),
            AddPartnerContactInput {
                contact_id: contact.to_string(),
                partner_id: tenantless_partner.to_string(),
                side: "THEIRS".into(),
            },
        )
        .await
        .expect("add the buyer as their-side contact");

    // Our side: the employee who looks after the dealer.
    let employee = commands
        .record_contact(
            &ctx(admin),
            RecordContactInput {
                name: "Han Meimei".into(),
                phone: Some("13900139000".into()),
                customer_id: None,
                employee: true,
            },
        )
        .await
        .expect("record the employee");
    commands
        .add_partner_contact(
            &ctx(admin),
            AddPartnerContactInput {
                contact_id: employee.to_string(),
                partner_id: tenantless_partner.to_string(),
                side: "OURS".into(),
            },
        )
        .await
        .expect("add the employee as our-side contact");

    // The buyer enters the mini program and types the same number, spelled differently.
    let buyer = Actor::in_tenant(contact.as_uuid(), Role::Contact, tenant);
    commands
        .bind_contact(
            &ctx(buyer),
            BindContactInput {
                contact_id: contact.to_string(),
                phone: "+86 13800138000".into(),
                channel: "MINI_PROGRAM".into(),
                wechat_open_id: Some("o6_bmjrPTlm6_2sgVt7hMZOPfL2M".into()),
            },
        )
        .await
        .expect("the buyer binds with another spelling of its number");

    // The order's life.
    let order = commands
        .submit_order(
            &ctx(buyer).with_idempotency_key(IDEMPOTENCY_KEY),
            SubmitOrderInput {
                lines: vec![
                    OrderLineInput {
                        product_id: tea.to_string(),
                        quantity: 3,
                        sku: None,
                    },
                    OrderLineInput {
                        product_id: oolong.to_string(),
                        quantity: 10,
                        sku: None,
                    },
                ],
                note: Some("Deliver before Friday".into()),
            },
        )
        .await
        .expect("the buyer submits an order");
    let clerk = Actor::in_tenant(employee.as_uuid(), Role::Employee, tenant);
    commands
        .confirm_order(
            &ctx(clerk),
            ConfirmOrderInput {
                order_id: order.to_string(),
            },
        )
        .await
        .expect("the linked employee confirms");
    commands
        .ship_order(
            &ctx(admin),
            ShipOrderInput {
                order_id: order.to_string(),
                carrier: Some("SF Express".into()),
                tracking: Some("SF1234567890".into()),
            },
        )
        .await
        .expect("the admin ships");
    commands
        .receive_order(
            &ctx(buyer),
            ReceiveOrderInput {
                order_id: order.to_string(),
            },
        )
        .await
        .expect("the buyer receives");

    Journey {
        tenant,
        operator,
        admin,
        tenantless_partner,
        tenant_mode_partner,
        contact,
        employee,
        tea,
        oolong,
        order,
    }
}

/// Records a customer, makes it a partner in `mode` and assigns it the ordering app.
async fn onboard_partner(
    commands: &Commands,
    admin: Actor,
    name: &str,
    mode: Option<&str>,
) -> PartnerId {
    let partner = commands
        .record_customer(
            &ctx(admin),
            RecordCustomerInput {
                name: name.into(),
                phone: None,
                address: Some("1 Dealer Road".into()),
            },
        )
        .await
        .expect("record the customer");
    commands
        .add_partner(
            &ctx(admin),
            AddPartnerInput {
                customer_id: partner.to_string(),
                mode: mode.map(str::to_owned),
            },
        )
        .await
        .expect("add the customer as partner");
    commands
        .assign_app(
            &ctx(admin),
            AppAssignmentInput {
                partner_id: partner.to_string(),
                app: "ORDERING".into(),
            },
        )
        .await
        .expect("assign ordering");
    partner
}

async fn only_event(
    test: &TestDb,
    aggregate_type: &str,
    id: &str,
    event_type: &str,
) -> StoredEvent {
    let mut found: Vec<StoredEvent> = stream_events(&test.db, aggregate_type, id)
        .await
        .into_iter()
        .filter(|event| event.event_type == event_type)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one {event_type} in {aggregate_type} {id}"
    );
    found.remove(0)
}

on_both_backends! {
    async fn each_step_of_the_onboarding_flow_stores_exactly_its_events(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        assert_eq!(
            test.stream("Tenant", &j.tenant.to_string()).await,
            numbered(&[
                "TenantRegistered",
                "InterconnectEnabled",
                "AppPurchased",
                "AppEnabled",
                "WechatAccountBound",
                "WechatMenuPublished",
            ])
        );
        for partner in [j.tenantless_partner, j.tenant_mode_partner] {
            assert_eq!(
                test.stream("Partner", &partner.to_string()).await,
                numbered(&["CustomerRecorded", "PartnerAdded", "AppAssigned"])
            );
        }
        assert_eq!(
            test.stream("Contact", &j.contact.to_string()).await,
            numbered(&["ContactRecorded", "PartnerContactAdded", "ContactBound"])
        );
        assert_eq!(
            test.stream("Contact", &j.employee.to_string()).await,
            numbered(&["ContactRecorded", "PartnerContactAdded"])
        );
        for product in [j.tea, j.oolong] {
            assert_eq!(
                test.stream("Product", &product.to_string()).await,
                numbered(&["ProductListed"])
            );
        }
        assert_eq!(
            test.stream("Order", &j.order.to_string()).await,
            numbered(&[
                "OrderSubmitted",
                "OrderConfirmed",
                "OrderShipped",
                "OrderReceived"
            ])
        );
        // Nothing else was written: 6 tenant + 2×3 partner + 3 + 2 contact + 2 product + 4 order.
        assert_eq!(test.event_count().await, 23);
    }

    async fn the_submitted_order_carries_catalog_names_and_prices_and_the_right_total(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        let submitted = only_event(&test, "Order", &j.order.to_string(), "OrderSubmitted").await;
        let body = submitted.body();
        assert_eq!(body["tenant_id"], json!(j.tenant.to_string()));
        assert_eq!(body["partner_id"], json!(j.tenantless_partner.to_string()));
        assert_eq!(body["contact_id"], json!(j.contact.to_string()));
        assert_eq!(body["placed_by"], json!(null), "placed by its contact, not on its behalf");
        assert_eq!(body["note"], json!("Deliver before Friday"));
        assert_eq!(
            body["lines"],
            json!([
                {
                    "product_id": j.tea.to_string(),
                    "sku": "TEA-001",
                    "name": "Jasmine tea",
                    "unit": "box",
                    "quantity": 3,
                    "unit_price": {"amount_minor": 1250, "currency": "CNY"},
                    "line_total": {"amount_minor": 3750, "currency": "CNY"},
                    "price_reason": {"kind": "CATALOG"},
                },
                {
                    "product_id": j.oolong.to_string(),
                    "sku": "OOL-002",
                    "name": "Oolong",
                    "unit": "tin",
                    "quantity": 10,
                    "unit_price": {"amount_minor": 800, "currency": "CNY"},
                    "line_total": {"amount_minor": 8000, "currency": "CNY"},
                    "price_reason": {"kind": "CATALOG"},
                },
            ])
        );
        assert_eq!(
            body["total"],
            json!({"amount_minor": 11750, "currency": "CNY"})
        );

        let shipped = only_event(&test, "Order", &j.order.to_string(), "OrderShipped").await;
        assert_eq!(
            shipped.body(),
            &json!({"carrier": "SF Express", "tracking": "SF1234567890"})
        );
    }

    async fn the_log_records_the_facts_of_onboarding_in_normalised_form(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        // The number typed as "138 0013 8000" is stored as its 11 digits.
        let recorded =
            only_event(&test, "Contact", &j.contact.to_string(), "ContactRecorded").await;
        assert_eq!(recorded.body()["phone"], json!("13800138000"));
        let bound = only_event(&test, "Contact", &j.contact.to_string(), "ContactBound").await;
        assert_eq!(bound.body()["channel"], json!("MINI_PROGRAM"));

        // Each partner remembers its mode, and a contact link records the mode that decides
        // which SMS the contact receives.
        let tenantless = only_event(
            &test,
            "Partner",
            &j.tenantless_partner.to_string(),
            "PartnerAdded",
        )
        .await;
        assert_eq!(tenantless.body()["mode"], json!("TENANTLESS"));
        let tenant_mode = only_event(
            &test,
            "Partner",
            &j.tenant_mode_partner.to_string(),
            "PartnerAdded",
        )
        .await;
        assert_eq!(tenant_mode.body()["mode"], json!("TENANT"));
        let link = only_event(
            &test,
            "Contact",
            &j.contact.to_string(),
            "PartnerContactAdded",
        )
        .await;
        assert_eq!(
            link.body(),
            &json!({
                "partner_id": j.tenantless_partner.to_string(),
                "side": "THEIRS",
                "mode": "TENANTLESS",
            })
        );
        let employee_link = only_event(
            &test,
            "Contact",
            &j.employee.to_string(),
            "PartnerContactAdded",
        )
        .await;
        assert_eq!(employee_link.body()["side"], json!("OURS"));

        let menu = only_event(
            &test,
            "Tenant",
            &j.tenant.to_string(),
            "WechatMenuPublished",
        )
        .await;
        assert_eq!(menu.body()["app_id"], json!(WECHAT_APP_ID));
        assert_eq!(
            menu.body()["buttons"][0]["action"],
            json!({"type": "OPEN_APP", "app": "ORDERING"})
        );
    }

    async fn every_stored_event_names_its_tenant_actor_and_request(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        let events = all_events(&test.db).await;
        assert_eq!(events.len(), 23);
        for event in &events {
            let what = format!(
                "{} {} #{}",
                event.aggregate_type, event.event_type, event.sequence
            );
            for key in [
                "tenant_id",
                "actor_id",
                "actor_role",
                "correlation_id",
                "causation_id",
                "request_id",
            ] {
                let value = event
                    .meta(key)
                    .unwrap_or_else(|| panic!("{what}: no {key}"));
                if key != "actor_role" {
                    Uuid::parse_str(value)
                        .unwrap_or_else(|_| panic!("{what}: {key} {value:?} is not a UUID"));
                }
            }
            assert_eq!(
                event.meta("tenant_id"),
                Some(j.tenant.to_string().as_str()),
                "{what}"
            );

            let (actor, role) = match event.event_type.as_str() {
                "TenantRegistered" | "InterconnectEnabled" | "AppPurchased" => {
                    (j.operator.id, "operator")
                }
                "ContactBound" | "OrderSubmitted" | "OrderReceived" => {
                    (j.contact.as_uuid(), "contact")
                }
                "OrderConfirmed" => (j.employee.as_uuid(), "employee"),
                _ => (j.admin.id, "admin"),
            };
            assert_eq!(
                event.meta("actor_id"),
                Some(actor.to_string().as_str()),
                "{what}"
            );
            assert_eq!(event.meta("actor_role"), Some(role), "{what}");
        }
    }

    async fn the_idempotency_key_is_in_the_metadata_exactly_where_one_was_given(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        let events = all_events(&test.db).await;
        let keyed: Vec<&StoredEvent> = events
            .iter()
            .filter(|event| event.metadata.get("idempotency_key").is_some())
            .collect();
        assert_eq!(keyed.len(), 1, "only the keyed submission carries a key");
        assert_eq!(keyed[0].event_type, "OrderSubmitted");
        assert_eq!(keyed[0].aggregate_id, j.order.to_string());
        assert_eq!(keyed[0].meta("idempotency_key"), Some(IDEMPOTENCY_KEY));
    }

    async fn correlation_and_causation_ids_of_a_request_travel_into_its_events(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;

        // Left alone, both default to the request id.
        for event in all_events(&test.db).await {
            assert_eq!(event.meta("correlation_id"), event.meta("request_id"));
            assert_eq!(event.meta("causation_id"), event.meta("request_id"));
        }

        // Set by the caller (one user action spanning several commands), they are kept.
        let mut action = ctx(j.admin);
        action.correlation_id = Uuid::now_v7();
        action.causation_id = Uuid::now_v7();
        let product = commands
            .list_product(
                &action,
                ListProductInput {
                    sku: "PU-ERH-3".into(),
                    name: "Pu-erh".into(),
                    unit: "cake".into(),
                    price: MoneyInput::cny("66.00"),
                },
            )
            .await
            .expect("list a product");
        let listed = only_event(&test, "Product", &product.to_string(), "ProductListed").await;
        assert_eq!(
            listed.meta("correlation_id"),
            Some(action.correlation_id.to_string().as_str())
        );
        assert_eq!(
            listed.meta("causation_id"),
            Some(action.causation_id.to_string().as_str())
        );
        assert_eq!(
            listed.meta("request_id"),
            Some(action.request_id.to_string().as_str())
        );
    }

    async fn a_later_repricing_changes_new_orders_but_never_a_submitted_one(test) {
        let commands = test.commands();
        let j = run_journey(&commands).await;
        commands
            .reprice_product(
                &ctx(j.admin),
                RepriceProductInput {
                    product_id: j.tea.to_string(),
                    price: MoneyInput::cny("15.00"),
                },
            )
            .await
            .expect("reprice the tea");
        let buyer = Actor::in_tenant(j.contact.as_uuid(), Role::Contact, j.tenant);
        let second = commands
            .submit_order(
                &ctx(buyer),
                SubmitOrderInput {
                    lines: vec![OrderLineInput {
                        product_id: j.tea.to_string(),
                        quantity: 2,
                        sku: None,
                    }],
                    note: None,
                },
            )
            .await
            .expect("order again");

        let first = only_event(&test, "Order", &j.order.to_string(), "OrderSubmitted").await;
        assert_eq!(
            first.body()["lines"][0]["unit_price"]["amount_minor"],
            json!(1250)
        );
        assert_eq!(first.body()["total"]["amount_minor"], json!(11750));
        let again = only_event(&test, "Order", &second.to_string(), "OrderSubmitted").await;
        assert_eq!(
            again.body()["lines"][0]["unit_price"]["amount_minor"],
            json!(1500)
        );
        assert_eq!(
            again.body()["total"],
            json!({"amount_minor": 3000, "currency": "CNY"})
        );
    }
}
