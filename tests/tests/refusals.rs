//! Every refusal of the product document, through the command layer: each answers its stable
//! error code and appends nothing to the log (and, where it matters, the refused thing is shown
//! to become possible once the rule is satisfied, so the test proves the rule and not an
//! accident of the setup).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use dinghuo_commands::limiter::{Clock, MAX_FAILURES, WINDOW};
use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    BindWechatAccountInput, CancelOrderInput, CommandError, Commands, ConfirmOrderInput,
    DelistProductInput, EnableInterconnectInput, ListProductInput, MenuButtonInput, MoneyInput,
    OrderLineInput, PartnerRefInput, PublishWechatMenuInput, PurchaseAppInput, ReceiveOrderInput,
    RecordContactInput, RecordCustomerInput, RegisterTenantInput, RejectOrderInput,
    RemovePartnerContactInput, RepriceProductInput, RequestContext,
    RestrictContactPermissionsInput, Role, SetFunctionPermissionsInput, ShipOrderInput,
    SubmitOrderInput, UnbindWechatAccountInput, UpdateContactInput, UpdateCustomerInput,
};
use dinghuo_domain::{ContactId, ErrorCode, OrderId, PartnerId, ProductId, TenantId};
use dinghuo_tests::inspect::numbered;
use dinghuo_tests::refusal::assert_refused;
use dinghuo_tests::{on_both_backends, World};
use uuid::Uuid;

const WECHAT_APP_ID: &str = "wx0123456789abcdef";

fn ctx(actor: Actor) -> RequestContext {
    RequestContext::new(actor)
}

fn ordering() -> AppInput {
    AppInput {
        app: "ORDERING".into(),
    }
}

/// A registered tenant that has only what the flags say, and its admin.
async fn tenant_with(
    commands: &Commands,
    interconnect: bool,
    purchased: bool,
    enabled: bool,
) -> (TenantId, Actor) {
    let operator = ctx(Actor::operator(Uuid::now_v7()));
    let tenant = commands
        .register_tenant(
            &operator,
            RegisterTenantInput {
                name: "Upstream Ltd".into(),
            },
        )
        .await
        .expect("register tenant");
    if interconnect {
        commands
            .enable_interconnect(
                &operator,
                EnableInterconnectInput {
                    tenant_id: Some(tenant.to_string()),
                },
            )
            .await
            .expect("enable interconnect");
    }
    if purchased {
        commands
            .purchase_app(
                &operator,
                PurchaseAppInput {
                    tenant_id: tenant.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("purchase ordering");
    }
    let admin = Actor::in_tenant(Uuid::now_v7(), Role::Admin, tenant);
    if enabled {
        commands
            .enable_app(&ctx(admin), ordering())
            .await
            .expect("enable ordering");
    }
    (tenant, admin)
}

/// Records a customer of the admin's tenant and makes it a partner (no app assigned).
async fn new_partner(commands: &Commands, admin: Actor) -> PartnerId {
    let partner = commands
        .record_customer(
            &ctx(admin),
            RecordCustomerInput {
                name: "Dealer".into(),
                ..Default::default()
            },
        )
        .await
        .expect("record customer");
    commands
        .add_partner(
            &ctx(admin),
            AddPartnerInput {
                customer_id: partner.to_string(),
                mode: None,
            },
        )
        .await
        .expect("add partner");
    partner
}

/// A their-side contact of `partner` with `phone`, added as partner contact but not bound.
async fn unbound_contact(
    commands: &Commands,
    world: &World,
    partner: PartnerId,
    phone: &str,
) -> ContactId {
    World::add_unbound_contact(commands, &world.admin_ctx(), partner, phone).await
}

fn contact_in(world: &World, contact: ContactId) -> RequestContext {
    ctx(Actor::in_tenant(
        contact.as_uuid(),
        Role::Contact,
        world.tenant,
    ))
}

fn bind(contact: ContactId, phone: &str) -> BindContactInput {
    BindContactInput {
        contact_id: contact.to_string(),
        phone: phone.into(),
        channel: "MINI_PROGRAM".into(),
        wechat_open_id: None,
    }
}

fn one_line(product: ProductId, quantity: i64) -> SubmitOrderInput {
    SubmitOrderInput {
        lines: vec![OrderLineInput {
            product_id: product.to_string(),
            quantity,
            sku: None,
        }],
        note: None,
    }
}

/// The world's contact orders one unit of the world's first product.
async fn submit(commands: &Commands, world: &World) -> OrderId {
    commands
        .submit_order(&world.contact_ctx(), one_line(world.products[0], 1))
        .await
        .expect("submit order")
}

fn order_ref(order: OrderId) -> ConfirmOrderInput {
    ConfirmOrderInput {
        order_id: order.to_string(),
    }
}

fn ship(order: OrderId) -> ShipOrderInput {
    ShipOrderInput {
        order_id: order.to_string(),
        carrier: None,
        tracking: None,
    }
}

fn receive(order: OrderId) -> ReceiveOrderInput {
    ReceiveOrderInput {
        order_id: order.to_string(),
    }
}

fn menu_opening_ordering() -> PublishWechatMenuInput {
    PublishWechatMenuInput {
        app_id: WECHAT_APP_ID.into(),
        buttons: vec![MenuButtonInput {
            name: "Order".into(),
            app: Some("ORDERING".into()),
            url: None,
        }],
    }
}

/// A clock the test moves by hand.
struct FakeClock(AtomicI64);

impl FakeClock {
    fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).expect("the window fits in i64")
}

/// Every mutation of the write side, each with an input that would be acceptable from the
/// right caller, so that the only reason left to refuse is who is asking.
async fn every_mutation(
    commands: &Commands,
    as_: &RequestContext,
    world: &World,
    order: OrderId,
) -> Vec<(&'static str, Result<(), CommandError>)> {
    let tenant = world.tenant.to_string();
    let partner = world.partner.to_string();
    let contact = world.contact.to_string();
    let product = world.products[0].to_string();
    let order = order.to_string();
    vec![
        (
            "registerTenant",
            commands
                .register_tenant(
                    as_,
                    RegisterTenantInput {
                        name: "Another".into(),
                    },
                )
                .await
                .map(drop),
        ),
        (
            "purchaseApp",
            commands
                .purchase_app(
                    as_,
                    PurchaseAppInput {
                        tenant_id: tenant.clone(),
                        app: "ORDERING".into(),
                    },
                )
                .await,
        ),
        (
            "enableInterconnect",
            commands
                .enable_interconnect(as_, EnableInterconnectInput { tenant_id: None })
                .await,
        ),
        ("enableApp", commands.enable_app(as_, ordering()).await),
        ("disableApp", commands.disable_app(as_, ordering()).await),
        (
            "bindWechatAccount",
            commands
                .bind_wechat_account(
                    as_,
                    BindWechatAccountInput {
                        app_id: WECHAT_APP_ID.into(),
                        name: "Service".into(),
                    },
                )
                .await,
        ),
        (
            "unbindWechatAccount",
            commands
                .unbind_wechat_account(
                    as_,
                    UnbindWechatAccountInput {
                        app_id: WECHAT_APP_ID.into(),
                    },
                )
                .await,
        ),
        (
            "publishWechatMenu",
            commands
                .publish_wechat_menu(as_, menu_opening_ordering())
                .await,
        ),
        (
            "setFunctionPermissions",
            commands
                .set_function_permissions(
                    as_,
                    SetFunctionPermissionsInput {
                        app: "ORDERING".into(),
                        permissions: vec!["VIEW_ORDERS".into()],
                    },
                )
                .await,
        ),
        (
            "recordCustomer",
            commands
                .record_customer(
                    as_,
                    RecordCustomerInput {
                        name: "Dealer".into(),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
        ),
        (
            "updateCustomer",
            commands
                .update_customer(
                    as_,
                    UpdateCustomerInput {
                        customer_id: partner.clone(),
                        name: "Renamed".into(),
                        ..Default::default()
                    },
                )
                .await,
        ),
        (
            "addPartner",
            commands
                .add_partner(
                    as_,
                    AddPartnerInput {
                        customer_id: partner.clone(),
                        mode: None,
                    },
                )
                .await,
        ),
        (
            "assignApp",
            commands
                .assign_app(
                    as_,
                    AppAssignmentInput {
                        partner_id: partner.clone(),
                        app: "ORDERING".into(),
                    },
                )
                .await,
        ),
        (
            "unassignApp",
            commands
                .unassign_app(
                    as_,
                    AppAssignmentInput {
                        partner_id: partner.clone(),
                        app: "ORDERING".into(),
                    },
                )
                .await,
        ),
        (
            "suspendPartner",
            commands
                .suspend_partner(
                    as_,
                    PartnerRefInput {
                        partner_id: partner.clone(),
                    },
                )
                .await,
        ),
        (
            "reinstatePartner",
            commands
                .reinstate_partner(
                    as_,
                    PartnerRefInput {
                        partner_id: partner.clone(),
                    },
                )
                .await,
        ),
        (
            "recordContact",
            commands
                .record_contact(
                    as_,
                    RecordContactInput {
                        name: "Zhao Liu".into(),
                        phone: Some("13700137000".into()),
                        customer_id: Some(partner.clone()),
                        employee: false,
                    },
                )
                .await
                .map(drop),
        ),
        (
            "updateContact",
            commands
                .update_contact(
                    as_,
                    UpdateContactInput {
                        contact_id: contact.clone(),
                        name: "Li Lei".into(),
                        phone: Some(World::PHONE.into()),
                    },
                )
                .await,
        ),
        (
            "addPartnerContact",
            commands
                .add_partner_contact(
                    as_,
                    AddPartnerContactInput {
                        contact_id: contact.clone(),
                        partner_id: partner.clone(),
                        side: "THEIRS".into(),
                    },
                )
                .await,
        ),
        (
            "removePartnerContact",
            commands
                .remove_partner_contact(
                    as_,
                    RemovePartnerContactInput {
                        contact_id: contact.clone(),
                        partner_id: partner.clone(),
                    },
                )
                .await,
        ),
        (
            "restrictContactPermissions",
            commands
                .restrict_contact_permissions(
                    as_,
                    RestrictContactPermissionsInput {
                        contact_id: contact.clone(),
                        app: "ORDERING".into(),
                        denied: vec!["CANCEL_ORDER".into()],
                    },
                )
                .await,
        ),
        (
            "bindContact",
            commands
                .bind_contact(as_, bind(world.contact, World::PHONE))
                .await,
        ),
        (
            "listProduct",
            commands
                .list_product(
                    as_,
                    ListProductInput {
                        sku: "NEW-1".into(),
                        name: "New".into(),
                        unit: "box".into(),
                        price: MoneyInput::cny("1.00"),
                    },
                )
                .await
                .map(drop),
        ),
        (
            "repriceProduct",
            commands
                .reprice_product(
                    as_,
                    RepriceProductInput {
                        product_id: product.clone(),
                        price: MoneyInput::cny("99.00"),
                    },
                )
                .await,
        ),
        (
            "delistProduct",
            commands
                .delist_product(
                    as_,
                    DelistProductInput {
                        product_id: product.clone(),
                    },
                )
                .await,
        ),
        (
            "submitOrder",
            commands
                .submit_order(as_, one_line(world.products[0], 1))
                .await
                .map(drop),
        ),
        (
            "confirmOrder",
            commands
                .confirm_order(
                    as_,
                    ConfirmOrderInput {
                        order_id: order.clone(),
                    },
                )
                .await,
        ),
        (
            "rejectOrder",
            commands
                .reject_order(
                    as_,
                    RejectOrderInput {
                        order_id: order.clone(),
                        reason: "Out of stock".into(),
                    },
                )
                .await,
        ),
        (
            "shipOrder",
            commands
                .ship_order(
                    as_,
                    ShipOrderInput {
                        order_id: order.clone(),
                        carrier: None,
                        tracking: None,
                    },
                )
                .await,
        ),
        (
            "receiveOrder",
            commands
                .receive_order(
                    as_,
                    ReceiveOrderInput {
                        order_id: order.clone(),
                    },
                )
                .await,
        ),
        (
            "cancelOrder",
            commands
                .cancel_order(
                    as_,
                    CancelOrderInput {
                        order_id: order,
                        reason: "Changed my mind".into(),
                    },
                )
                .await,
        ),
    ]
}

/// Asserts that `attempts` were all refused with `code`.
fn assert_all(code: ErrorCode, attempts: Vec<(&'static str, Result<(), CommandError>)>) {
    for (name, result) in attempts {
        match result {
            Ok(()) => panic!("{name} succeeded; expected {code}"),
            Err(error) => assert_eq!(error.code(), code, "{name}: {error:?}"),
        }
    }
}

on_both_backends! {
    // --- Tenant: the licence and the switch ---

    async fn enabling_ordering_before_interconnect_is_refused(test) {
        let commands = test.commands();
        let (tenant, admin) = tenant_with(&commands, false, true, false).await;

        assert_refused(
            &test,
            ErrorCode::InterconnectNotEnabled,
            commands.enable_app(&ctx(admin), ordering()),
        )
        .await;

        commands
            .enable_interconnect(&ctx(admin), EnableInterconnectInput { tenant_id: None })
            .await
            .expect("the admin switches interconnect on");
        commands
            .enable_app(&ctx(admin), ordering())
            .await
            .expect("now ordering can be enabled");
        assert_eq!(
            test.stream("Tenant", &tenant.to_string()).await,
            numbered(&[
                "TenantRegistered",
                "AppPurchased",
                "InterconnectEnabled",
                "AppEnabled"
            ])
        );
    }

    async fn enabling_ordering_before_it_was_purchased_is_refused(test) {
        let commands = test.commands();
        let (tenant, admin) = tenant_with(&commands, true, false, false).await;

        assert_refused(
            &test,
            ErrorCode::AppNotPurchased,
            commands.enable_app(&ctx(admin), ordering()),
        )
        .await;
        assert_eq!(
            test.stream("Tenant", &tenant.to_string()).await,
            numbered(&["TenantRegistered", "InterconnectEnabled"])
        );
    }

    async fn a_menu_button_cannot_open_ordering_while_ordering_is_not_enabled(test) {
        let commands = test.commands();
        let (tenant, admin) = tenant_with(&commands, true, true, false).await;
        commands
            .bind_wechat_account(
                &ctx(admin),
                BindWechatAccountInput {
                    app_id: WECHAT_APP_ID.into(),
                    name: "Service".into(),
                },
            )
            .await
            .expect("bind the official account");

        assert_refused(
            &test,
            ErrorCode::AppNotEnabled,
            commands.publish_wechat_menu(&ctx(admin), menu_opening_ordering()),
        )
        .await;

        commands
            .enable_app(&ctx(admin), ordering())
            .await
            .expect("enable ordering");
        commands
            .publish_wechat_menu(&ctx(admin), menu_opening_ordering())
            .await
            .expect("once enabled, the button is offered");
        let stream = test.stream("Tenant", &tenant.to_string()).await;
        assert_eq!(
            stream
                .iter()
                .filter(|(event, _)| event == "WechatMenuPublished")
                .count(),
            1,
            "only the second publication was stored: {stream:?}"
        );
    }

    // --- Partner ---

    async fn only_a_recorded_customer_can_become_a_partner(test) {
        let commands = test.commands();
        let (_, admin) = tenant_with(&commands, true, true, true).await;
        let stranger = Uuid::now_v7().to_string();

        assert_refused(
            &test,
            ErrorCode::CustomerNotRecorded,
            commands.add_partner(
                &ctx(admin),
                AddPartnerInput {
                    customer_id: stranger.clone(),
                    mode: None,
                },
            ),
        )
        .await;
        assert!(test.stream("Partner", &stranger).await.is_empty());
    }

    async fn ordering_cannot_be_assigned_while_it_is_not_enabled(test) {
        let commands = test.commands();
        let (_, admin) = tenant_with(&commands, true, true, false).await;
        let partner = new_partner(&commands, admin).await;
        let assign = || AppAssignmentInput {
            partner_id: partner.to_string(),
            app: "ORDERING".into(),
        };

        assert_refused(
            &test,
            ErrorCode::AppNotEnabled,
            commands.assign_app(&ctx(admin), assign()),
        )
        .await;

        commands
            .enable_app(&ctx(admin), ordering())
            .await
            .expect("enable ordering");
        commands
            .assign_app(&ctx(admin), assign())
            .await
            .expect("now it can be assigned");
        assert_eq!(
            test.stream("Partner", &partner.to_string()).await,
            numbered(&["CustomerRecorded", "PartnerAdded", "AppAssigned"])
        );
    }

    async fn a_partner_without_ordering_assigned_cannot_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .unassign_app(
                &world.admin_ctx(),
                AppAssignmentInput {
                    partner_id: world.partner.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("unassign ordering");

        assert_refused(
            &test,
            ErrorCode::AppNotAssigned,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;
    }

    async fn a_partner_never_assigned_ordering_cannot_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let partner = new_partner(&commands, world.admin).await;
        let contact = World::add_bound_contact(
            &commands,
            &world.admin_ctx(),
            world.tenant,
            partner,
            "13700137000",
        )
        .await;

        assert_refused(
            &test,
            ErrorCode::AppNotAssigned,
            commands.submit_order(&contact_in(&world, contact), one_line(world.products[0], 1)),
        )
        .await;
    }

    async fn a_suspended_partner_cannot_order_until_reinstated(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let partner = || PartnerRefInput {
            partner_id: world.partner.to_string(),
        };
        commands
            .suspend_partner(&world.admin_ctx(), partner())
            .await
            .expect("suspend");

        assert_refused(
            &test,
            ErrorCode::PartnerSuspended,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;

        commands
            .reinstate_partner(&world.admin_ctx(), partner())
            .await
            .expect("reinstate");
        submit(&commands, &world).await;
    }

    async fn a_customer_cannot_become_a_partner_before_interconnect(test) {
        let commands = test.commands();
        let (_, admin) = tenant_with(&commands, false, false, false).await;
        let customer = commands
            .record_customer(
                &ctx(admin),
                RecordCustomerInput {
                    name: "Dealer".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("a customer can be recorded by any tenant");

        assert_refused(
            &test,
            ErrorCode::InterconnectNotEnabled,
            commands.add_partner(
                &ctx(admin),
                AddPartnerInput {
                    customer_id: customer.to_string(),
                    mode: None,
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Partner", &customer.to_string()).await,
            numbered(&["CustomerRecorded"])
        );
    }

    async fn ordering_cannot_be_assigned_to_a_customer_that_is_not_a_partner(test) {
        let commands = test.commands();
        let (_, admin) = tenant_with(&commands, true, true, true).await;
        let customer = commands
            .record_customer(
                &ctx(admin),
                RecordCustomerInput {
                    name: "Dealer".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");

        assert_refused(
            &test,
            ErrorCode::NotAPartner,
            commands.assign_app(
                &ctx(admin),
                AppAssignmentInput {
                    partner_id: customer.to_string(),
                    app: "ORDERING".into(),
                },
            ),
        )
        .await;
    }

    async fn nobody_can_order_while_ordering_is_disabled_on_the_tenant(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .disable_app(&world.admin_ctx(), ordering())
            .await
            .expect("disable ordering");

        assert_refused(
            &test,
            ErrorCode::AppNotEnabled,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;

        // Switching it back on restores the partner's assignment as it was.
        commands
            .enable_app(&world.admin_ctx(), ordering())
            .await
            .expect("enable ordering");
        submit(&commands, &world).await;
    }

    // --- Contact ---

    async fn a_contact_without_a_phone_cannot_be_added_as_partner_contact(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        let buyer = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "No Phone".into(),
                    phone: None,
                    customer_id: Some(world.partner.to_string()),
                    employee: false,
                },
            )
            .await
            .expect("a contact may be recorded without a phone");
        let clerk = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "Clerk".into(),
                    phone: Some("  ".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("an employee may be recorded without a phone");

        for (contact, side) in [(buyer, "THEIRS"), (clerk, "OURS")] {
            assert_refused(
                &test,
                ErrorCode::ContactHasNoPhone,
                commands.add_partner_contact(
                    &admin,
                    AddPartnerContactInput {
                        contact_id: contact.to_string(),
                        partner_id: world.partner.to_string(),
                        side: side.into(),
                    },
                ),
            )
            .await;
            assert_eq!(
                test.stream("Contact", &contact.to_string()).await,
                numbered(&["ContactRecorded"])
            );
        }
    }

    async fn a_wrong_phone_cannot_bind(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let contact = unbound_contact(&commands, &world, world.partner, "13700137000").await;

        assert_refused(
            &test,
            ErrorCode::PhoneMismatch,
            commands.bind_contact(&contact_in(&world, contact), bind(contact, "137 0013 7001")),
        )
        .await;
        assert_eq!(
            test.stream("Contact", &contact.to_string()).await,
            numbered(&["ContactRecorded", "PartnerContactAdded"])
        );
    }

    async fn after_five_wrong_phones_even_the_right_one_is_rate_limited_for_fifteen_minutes(test) {
        let clock = Arc::new(FakeClock(AtomicI64::new(1_700_000_000_000)));
        let commands = test.commands().with_clock(clock.clone());
        let world = World::build(&commands, 0).await;
        let right = "13700137000";
        let contact = unbound_contact(&commands, &world, world.partner, right).await;
        let neighbour = unbound_contact(&commands, &world, world.partner, "13600136000").await;
        let me = contact_in(&world, contact);

        for _ in 0..MAX_FAILURES {
            assert_refused(
                &test,
                ErrorCode::PhoneMismatch,
                commands.bind_contact(&me, bind(contact, "13700137999")),
            )
            .await;
            clock.advance_ms(1_000);
        }
        let limited = assert_refused(
            &test,
            ErrorCode::RateLimited,
            commands.bind_contact(&me, bind(contact, right)),
        )
        .await;
        match limited {
            CommandError::RateLimited { retry_after_secs } => {
                assert!(
                    (1..=900).contains(&retry_after_secs),
                    "retry after {retry_after_secs} s"
                )
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }

        // The throttle is per contact: another contact of the same partner binds meanwhile.
        commands
            .bind_contact(
                &contact_in(&world, neighbour),
                bind(neighbour, "13600136000"),
            )
            .await
            .expect("another contact is not throttled");

        // A millisecond before fifteen minutes have passed since the first failure: still refused.
        let since_first_failure = MAX_FAILURES * 1_000;
        clock.advance_ms(window_ms() - since_first_failure - 1);
        assert_refused(
            &test,
            ErrorCode::RateLimited,
            commands.bind_contact(&me, bind(contact, right)),
        )
        .await;

        // Fifteen minutes after the first failure, only four remain in the window: it binds.
        clock.advance_ms(1);
        commands
            .bind_contact(&me, bind(contact, right))
            .await
            .expect("binds once the window passed");
        assert_eq!(
            test.stream("Contact", &contact.to_string()).await,
            numbered(&["ContactRecorded", "PartnerContactAdded", "ContactBound"])
        );
    }

    async fn a_contact_cannot_bind_someone_else_s_record(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let victim = unbound_contact(&commands, &world, world.partner, "13700137000").await;

        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.bind_contact(&world.contact_ctx(), bind(victim, "13700137000")),
        )
        .await;
    }

    async fn a_contact_cannot_be_linked_on_the_wrong_side(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        let other_partner = new_partner(&commands, world.admin).await;
        let clerk = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "Clerk".into(),
                    phone: Some("13900139000".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee");
        let link = |contact: ContactId, partner: PartnerId, side: &str| AddPartnerContactInput {
            contact_id: contact.to_string(),
            partner_id: partner.to_string(),
            side: side.into(),
        };

        // The world's contact works for the world's partner, not for another dealer...
        assert_refused(
            &test,
            ErrorCode::WrongSide,
            commands.add_partner_contact(&admin, link(world.contact, other_partner, "THEIRS")),
        )
        .await;
        // ...nor for the tenant.
        assert_refused(
            &test,
            ErrorCode::WrongSide,
            commands.add_partner_contact(&admin, link(world.contact, world.partner, "OURS")),
        )
        .await;
        // An employee is never a their-side contact.
        assert_refused(
            &test,
            ErrorCode::WrongSide,
            commands.add_partner_contact(&admin, link(clerk, world.partner, "THEIRS")),
        )
        .await;
    }

    async fn a_contact_cannot_be_linked_to_a_customer_that_is_not_a_partner(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        let customer = commands
            .record_customer(
                &admin,
                RecordCustomerInput {
                    name: "Prospect".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");
        let contact = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "Prospect Buyer".into(),
                    phone: Some("13700137000".into()),
                    customer_id: Some(customer.to_string()),
                    employee: false,
                },
            )
            .await
            .expect("record the customer's contact");

        assert_refused(
            &test,
            ErrorCode::NotAPartner,
            commands.add_partner_contact(
                &admin,
                AddPartnerContactInput {
                    contact_id: contact.to_string(),
                    partner_id: customer.to_string(),
                    side: "THEIRS".into(),
                },
            ),
        )
        .await;
        // Not a partner contact, so there is nothing to bind to either.
        assert_refused(
            &test,
            ErrorCode::NotAPartner,
            commands.bind_contact(&contact_in(&world, contact), bind(contact, "13700137000")),
        )
        .await;
    }

    async fn a_contact_whose_number_changed_must_bind_again_before_ordering(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .update_contact(
                &world.admin_ctx(),
                UpdateContactInput {
                    contact_id: world.contact.to_string(),
                    name: "Li Lei".into(),
                    phone: Some("13700137000".into()),
                },
            )
            .await
            .expect("the contact has a new number");

        assert_refused(
            &test,
            ErrorCode::ContactNotBound,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;
        // The old number no longer proves anything.
        assert_refused(
            &test,
            ErrorCode::PhoneMismatch,
            commands.bind_contact(&world.contact_ctx(), bind(world.contact, World::PHONE)),
        )
        .await;

        commands
            .bind_contact(&world.contact_ctx(), bind(world.contact, "137 0013 7000"))
            .await
            .expect("bind the new number");
        submit(&commands, &world).await;
    }

    async fn a_contact_removed_from_its_partner_cannot_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .remove_partner_contact(
                &world.admin_ctx(),
                RemovePartnerContactInput {
                    contact_id: world.contact.to_string(),
                    partner_id: world.partner.to_string(),
                },
            )
            .await
            .expect("remove the contact");

        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;
    }

    async fn another_caller_cannot_lock_a_contact_out_by_failing_on_its_behalf(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let victim = unbound_contact(&commands, &world, world.partner, "13700137000").await;

        for _ in 0..=MAX_FAILURES {
            assert_refused(
                &test,
                ErrorCode::Forbidden,
                commands.bind_contact(&world.contact_ctx(), bind(victim, "13700137999")),
            )
            .await;
        }
        commands
            .bind_contact(&contact_in(&world, victim), bind(victim, "13700137000"))
            .await
            .expect("the victim binds: someone else's attempts did not count");
    }

    async fn concurrent_wrong_phones_get_no_more_guesses_than_sequential_ones(test) {
        let commands = Arc::new(test.commands());
        let world = World::build(&commands, 0).await;
        let contact = unbound_contact(&commands, &world, world.partner, "13700137000").await;
        let me = contact_in(&world, contact);
        let attempts = 20;
        let start = Arc::new(tokio::sync::Barrier::new(attempts));

        let tasks: Vec<_> = (0..attempts)
            .map(|i| {
                let (commands, me, start) = (commands.clone(), me.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    commands
                        .bind_contact(&me, bind(contact, &format!("136{i:08}")))
                        .await
                })
            })
            .collect();
        let mut mismatches = 0;
        for task in tasks {
            match task.await.expect("no panic") {
                Err(error) if error.code() == ErrorCode::PhoneMismatch => mismatches += 1,
                Err(error) => assert_eq!(error.code(), ErrorCode::RateLimited, "{error:?}"),
                Ok(()) => panic!("a wrong phone bound"),
            }
        }
        // Each PHONE_MISMATCH answer is one guess at the number checked; parallel requests must
        // not buy more guesses than the throttle allows.
        assert!(
            mismatches <= MAX_FAILURES,
            "{mismatches} wrong numbers were checked against the record; the limit is {MAX_FAILURES}"
        );
        assert_eq!(
            test.stream("Contact", &contact.to_string()).await,
            numbered(&["ContactRecorded", "PartnerContactAdded"])
        );
    }

    // --- Order submission ---

    async fn an_unbound_contact_cannot_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let contact = unbound_contact(&commands, &world, world.partner, "13700137000").await;

        assert_refused(
            &test,
            ErrorCode::ContactNotBound,
            commands.submit_order(&contact_in(&world, contact), one_line(world.products[0], 1)),
        )
        .await;
    }

    async fn a_contact_denied_create_sales_order_cannot_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .restrict_contact_permissions(
                &world.admin_ctx(),
                RestrictContactPermissionsInput {
                    contact_id: world.contact.to_string(),
                    app: "ORDERING".into(),
                    denied: vec!["CREATE_SALES_ORDER".into()],
                },
            )
            .await
            .expect("restrict the contact");

        assert_refused(
            &test,
            ErrorCode::PermissionDenied,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;

        // Another contact of the same partner keeps the tenant's default and may order.
        let colleague = World::add_bound_contact(
            &commands,
            &world.admin_ctx(),
            world.tenant,
            world.partner,
            "13700137000",
        )
        .await;
        commands
            .submit_order(
                &contact_in(&world, colleague),
                one_line(world.products[0], 1),
            )
            .await
            .expect("the restriction is per contact");
    }

    async fn a_contact_cannot_order_when_the_tenant_s_defaults_withhold_create_sales_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        commands
            .set_function_permissions(
                &world.admin_ctx(),
                SetFunctionPermissionsInput {
                    app: "ORDERING".into(),
                    permissions: vec!["VIEW_ORDERS".into()],
                },
            )
            .await
            .expect("set the defaults");

        assert_refused(
            &test,
            ErrorCode::PermissionDenied,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[0], 1)),
        )
        .await;
    }

    async fn a_delisted_product_cannot_be_ordered(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        commands
            .delist_product(
                &world.admin_ctx(),
                DelistProductInput {
                    product_id: world.products[1].to_string(),
                },
            )
            .await
            .expect("delist");

        let mixed = SubmitOrderInput {
            lines: vec![
                OrderLineInput {
                    product_id: world.products[0].to_string(),
                    quantity: 1,
                    sku: None,
                },
                OrderLineInput {
                    product_id: world.products[1].to_string(),
                    quantity: 1,
                    sku: None,
                },
            ],
            note: None,
        };
        assert_refused(
            &test,
            ErrorCode::ProductNotListed,
            commands.submit_order(&world.contact_ctx(), mixed),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::ProductNotListed,
            commands.submit_order(&world.contact_ctx(), one_line(world.products[1], 1)),
        )
        .await;
    }

    // --- Catalog ---

    async fn the_same_sku_cannot_be_listed_twice_in_any_spelling(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        // The world listed SKU-0000 at 10.00.
        for spelling in ["SKU-0000", "sku-0000", " Sku-0000 "] {
            assert_refused(
                &test,
                ErrorCode::DuplicateSku,
                commands.list_product(
                    &world.admin_ctx(),
                    ListProductInput {
                        sku: spelling.into(),
                        name: "Impostor".into(),
                        unit: "box".into(),
                        price: MoneyInput::cny("0.01"),
                    },
                ),
            )
            .await;
        }
        assert_eq!(
            test.stream("Product", &world.products[0].to_string()).await,
            numbered(&["ProductListed"])
        );
        let product = commands
            .products()
            .loader()
            .load(&world.products[0].to_string())
            .await
            .expect("load the product");
        assert_eq!(
            product.aggregate.price().map(|p| p.amount_minor),
            Some(1000),
            "the price did not change"
        );
    }

    async fn a_delisted_product_cannot_be_repriced(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let product = world.products[0].to_string();
        commands
            .delist_product(
                &world.admin_ctx(),
                DelistProductInput {
                    product_id: product.clone(),
                },
            )
            .await
            .expect("delist");

        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.reprice_product(
                &world.admin_ctx(),
                RepriceProductInput {
                    product_id: product.clone(),
                    price: MoneyInput::cny("9.00"),
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Product", &product).await,
            numbered(&["ProductListed", "ProductDelisted"])
        );
    }

    async fn a_menu_for_an_official_account_that_was_never_bound_is_refused(test) {
        let commands = test.commands();
        let (tenant, admin) = tenant_with(&commands, true, true, true).await;

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.publish_wechat_menu(&ctx(admin), menu_opening_ordering()),
        )
        .await;
        assert!(!test
            .stream("Tenant", &tenant.to_string())
            .await
            .iter()
            .any(|(event, _)| event == "WechatMenuPublished"));
    }

    // --- Order life cycle ---

    async fn an_order_cannot_be_confirmed_twice(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;
        commands
            .confirm_order(&world.admin_ctx(), order_ref(order))
            .await
            .expect("confirm");

        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.confirm_order(&world.admin_ctx(), order_ref(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed"])
        );
    }

    async fn an_order_cannot_be_shipped_before_it_is_confirmed(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;

        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.ship_order(&world.admin_ctx(), ship(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }

    async fn an_order_cannot_be_received_before_it_is_shipped(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;

        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.receive_order(&world.contact_ctx(), receive(order)),
        )
        .await;
        commands
            .confirm_order(&world.admin_ctx(), order_ref(order))
            .await
            .expect("confirm");
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.receive_order(&world.contact_ctx(), receive(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed"])
        );
    }

    async fn a_finished_or_rejected_order_accepts_no_further_transition(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let admin = world.admin_ctx();
        let contact = world.contact_ctx();

        let done = submit(&commands, &world).await;
        commands
            .confirm_order(&admin, order_ref(done))
            .await
            .expect("confirm");
        commands.ship_order(&admin, ship(done)).await.expect("ship");
        commands
            .receive_order(&contact, receive(done))
            .await
            .expect("receive");
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.receive_order(&contact, receive(done)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.ship_order(&admin, ship(done)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.cancel_order(
                &admin,
                CancelOrderInput {
                    order_id: done.to_string(),
                    reason: "Too late".into(),
                },
            ),
        )
        .await;

        let rejected = submit(&commands, &world).await;
        commands
            .reject_order(
                &admin,
                RejectOrderInput {
                    order_id: rejected.to_string(),
                    reason: "No stock".into(),
                },
            )
            .await
            .expect("reject");
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.confirm_order(&admin, order_ref(rejected)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.cancel_order(
                &contact,
                CancelOrderInput {
                    order_id: rejected.to_string(),
                    reason: "Oops".into(),
                },
            ),
        )
        .await;
    }

    async fn a_contact_denied_cancel_order_cannot_withdraw_its_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;
        commands
            .restrict_contact_permissions(
                &world.admin_ctx(),
                RestrictContactPermissionsInput {
                    contact_id: world.contact.to_string(),
                    app: "ORDERING".into(),
                    denied: vec!["CANCEL_ORDER".into()],
                },
            )
            .await
            .expect("restrict the contact");

        assert_refused(
            &test,
            ErrorCode::PermissionDenied,
            commands.cancel_order(
                &world.contact_ctx(),
                CancelOrderInput {
                    order_id: order.to_string(),
                    reason: "Too much".into(),
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }

    async fn cancelling_is_refused_once_the_order_moved_past_each_side_s_deadline(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let admin = world.admin_ctx();
        let cancel = |order: OrderId| CancelOrderInput {
            order_id: order.to_string(),
            reason: "Changed my mind".into(),
        };
        let order = submit(&commands, &world).await;
        commands
            .confirm_order(&admin, order_ref(order))
            .await
            .expect("confirm");

        // The dealer may withdraw only until the tenant confirmed.
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.cancel_order(&world.contact_ctx(), cancel(order)),
        )
        .await;
        // An employee may not cancel at all.
        let clerk = ctx(Actor::in_tenant(
            Uuid::now_v7(),
            Role::Employee,
            world.tenant,
        ));
        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.cancel_order(&clerk, cancel(order)),
        )
        .await;
        // The admin may until the goods left.
        commands
            .ship_order(&admin, ship(order))
            .await
            .expect("ship");
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.cancel_order(&admin, cancel(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed", "OrderShipped"])
        );
    }

    async fn a_contact_cannot_receive_another_partner_s_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let other_partner = new_partner(&commands, world.admin).await;
        commands
            .assign_app(
                &world.admin_ctx(),
                AppAssignmentInput {
                    partner_id: other_partner.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("assign ordering");
        let other_contact = World::add_bound_contact(
            &commands,
            &world.admin_ctx(),
            world.tenant,
            other_partner,
            "13700137000",
        )
        .await;
        let order = submit(&commands, &world).await;
        commands
            .confirm_order(&world.admin_ctx(), order_ref(order))
            .await
            .expect("confirm");
        commands
            .ship_order(&world.admin_ctx(), ship(order))
            .await
            .expect("ship");

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.receive_order(&contact_in(&world, other_contact), receive(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed", "OrderShipped"])
        );
    }

    // --- Roles ---

    async fn auditors_and_analysts_cannot_run_any_mutation(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;
        let before = test.event_count().await;

        for role in [Role::Auditor, Role::Analyst] {
            let reader = ctx(Actor::in_tenant(Uuid::now_v7(), role, world.tenant));
            let attempts = every_mutation(&commands, &reader, &world, order).await;
            assert_eq!(attempts.len(), 31, "every mutation of DESIGN §3 was tried");
            assert_all(ErrorCode::Forbidden, attempts);
        }
        assert_eq!(test.event_count().await, before, "nothing was appended");
    }

    // Staff order only on a partner's behalf, naming it (issue 18); an employee only for a
    // partner it is linked to; the operator never.
    async fn staff_order_only_on_behalf_of_a_partner_they_reach(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let employee = ctx(Actor::in_tenant(
            Uuid::now_v7(),
            Role::Employee,
            world.tenant,
        ));
        let for_partner = || dinghuo_commands::SubmitOptions {
            partner_id: Some(world.partner.to_string()),
            expected_total: None,
        };

        for caller in [world.admin_ctx(), employee.clone()] {
            assert_refused(
                &test,
                ErrorCode::Validation,
                commands.submit_order(&caller, one_line(world.products[0], 1)),
            )
            .await;
        }
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.submit_order_with(&employee, one_line(world.products[0], 1), for_partner()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.submit_order_with(
                &world.operator_ctx(),
                one_line(world.products[0], 1),
                for_partner(),
            ),
        )
        .await;
    }

    async fn a_contact_cannot_confirm_reject_or_ship_its_own_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;
        let me = world.contact_ctx();

        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.confirm_order(&me, order_ref(order)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.reject_order(
                &me,
                RejectOrderInput {
                    order_id: order.to_string(),
                    reason: "Because".into(),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::Forbidden,
            commands.ship_order(&me, ship(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }

    async fn an_employee_not_linked_to_the_partner_cannot_see_its_order_to_confirm_it(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submit(&commands, &world).await;
        let stranger = commands
            .record_contact(
                &world.admin_ctx(),
                RecordContactInput {
                    name: "Other Clerk".into(),
                    phone: Some("13900139000".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee");
        let clerk = ctx(Actor::in_tenant(
            stranger.as_uuid(),
            Role::Employee,
            world.tenant,
        ));

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.confirm_order(&clerk, order_ref(order)),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }

    // --- Tenants are walled off from each other ---

    async fn naming_a_partner_that_exists_nowhere_answers_like_naming_another_tenant_s(test) {
        // Were the answers different, an admin could learn which ids belong to other tenants.
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        let nowhere = Uuid::now_v7().to_string();
        let app = || AppAssignmentInput {
            partner_id: nowhere.clone(),
            app: "ORDERING".into(),
        };
        let partner_ref = || PartnerRefInput {
            partner_id: nowhere.clone(),
        };

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.assign_app(&admin, app()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.unassign_app(&admin, app()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.suspend_partner(&admin, partner_ref()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.reinstate_partner(&admin, partner_ref()),
        )
        .await;
    }

    async fn an_admin_of_another_tenant_finds_none_of_this_tenant_s_partners(test) {
        let commands = test.commands();
        let a = World::build(&commands, 1).await;
        let b = World::build(&commands, 1).await;
        let intruder = b.admin_ctx();
        let partner = a.partner.to_string();
        let app = || AppAssignmentInput {
            partner_id: partner.clone(),
            app: "ORDERING".into(),
        };
        let partner_ref = || PartnerRefInput {
            partner_id: partner.clone(),
        };

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.unassign_app(&intruder, app()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.assign_app(&intruder, app()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.suspend_partner(&intruder, partner_ref()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.reinstate_partner(&intruder, partner_ref()),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.update_customer(
                &intruder,
                UpdateCustomerInput {
                    customer_id: partner.clone(),
                    name: "Mine now".into(),
                    ..Default::default()
                },
            ),
        )
        .await;

        // Naming A's customer answers exactly what naming a customer that never existed does.
        let unknown = Uuid::now_v7().to_string();
        for customer in [partner.clone(), unknown] {
            assert_refused(
                &test,
                ErrorCode::CustomerNotRecorded,
                commands.add_partner(
                    &intruder,
                    AddPartnerInput {
                        customer_id: customer.clone(),
                        mode: None,
                    },
                ),
            )
            .await;
            assert_refused(
                &test,
                ErrorCode::CustomerNotRecorded,
                commands.record_contact(
                    &intruder,
                    RecordContactInput {
                        name: "Spy".into(),
                        phone: Some("13700137000".into()),
                        customer_id: Some(customer),
                        employee: false,
                    },
                ),
            )
            .await;
        }
        assert_eq!(
            test.stream("Partner", &partner).await,
            numbered(&["CustomerRecorded", "PartnerAdded", "AppAssigned"])
        );
    }

    async fn an_admin_of_another_tenant_finds_none_of_this_tenant_s_contacts(test) {
        let commands = test.commands();
        let a = World::build(&commands, 1).await;
        let b = World::build(&commands, 1).await;
        let intruder = b.admin_ctx();
        let contact = a.contact.to_string();

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.update_contact(
                &intruder,
                UpdateContactInput {
                    contact_id: contact.clone(),
                    name: "Spy".into(),
                    phone: Some("13700137000".into()),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.add_partner_contact(
                &intruder,
                AddPartnerContactInput {
                    contact_id: contact.clone(),
                    partner_id: b.partner.to_string(),
                    side: "THEIRS".into(),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.remove_partner_contact(
                &intruder,
                RemovePartnerContactInput {
                    contact_id: contact.clone(),
                    partner_id: a.partner.to_string(),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.restrict_contact_permissions(
                &intruder,
                RestrictContactPermissionsInput {
                    contact_id: contact.clone(),
                    app: "ORDERING".into(),
                    denied: vec!["CREATE_SALES_ORDER".into()],
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Contact", &contact).await,
            numbered(&["ContactRecorded", "PartnerContactAdded", "ContactBound"])
        );
    }

    async fn an_admin_of_another_tenant_finds_none_of_this_tenant_s_products(test) {
        let commands = test.commands();
        let a = World::build(&commands, 1).await;
        let b = World::build(&commands, 1).await;
        let intruder = b.admin_ctx();
        let product = a.products[0].to_string();

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.reprice_product(
                &intruder,
                RepriceProductInput {
                    product_id: product.clone(),
                    price: MoneyInput::cny("0.01"),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.delist_product(
                &intruder,
                DelistProductInput {
                    product_id: product.clone(),
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Product", &product).await,
            numbered(&["ProductListed"])
        );

        // B's dealers cannot order from A's catalog either.
        assert_refused(
            &test,
            ErrorCode::ProductNotListed,
            commands.submit_order(&b.contact_ctx(), one_line(a.products[0], 1)),
        )
        .await;
    }

    async fn an_admin_of_another_tenant_finds_none_of_this_tenant_s_orders(test) {
        let commands = test.commands();
        let a = World::build(&commands, 1).await;
        let b = World::build(&commands, 1).await;
        let order = submit(&commands, &a).await;
        let intruder = b.admin_ctx();
        let id = order.to_string();

        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.confirm_order(&intruder, order_ref(order)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.reject_order(
                &intruder,
                RejectOrderInput {
                    order_id: id.clone(),
                    reason: "Mine".into(),
                },
            ),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.ship_order(&intruder, ship(order)),
        )
        .await;
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.cancel_order(
                &intruder,
                CancelOrderInput {
                    order_id: id.clone(),
                    reason: "Mine".into(),
                },
            ),
        )
        .await;
        // Nor can B's contact, whatever state the order is in.
        commands
            .confirm_order(&a.admin_ctx(), order_ref(order))
            .await
            .expect("confirm");
        commands
            .ship_order(&a.admin_ctx(), ship(order))
            .await
            .expect("ship");
        assert_refused(
            &test,
            ErrorCode::NotFound,
            commands.receive_order(&b.contact_ctx(), receive(order)),
        )
        .await;

        assert_eq!(
            test.stream("Order", &id).await,
            numbered(&["OrderSubmitted", "OrderConfirmed", "OrderShipped"])
        );
    }
}
