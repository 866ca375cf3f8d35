//! Malformed input, the way a buggy or hostile client sends it: each is refused with
//! `VALIDATION` naming the input field at fault (so a form can mark it), or with the rule's own
//! code; none panics, and none appends anything to the log.

use dinghuo_commands::{
    AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    BindWechatAccountInput, CancelOrderInput, ConfirmOrderInput, EnableInterconnectInput,
    ListProductInput, MenuButtonInput, MoneyInput, OrderLineInput, PartnerRefInput,
    PublishWechatMenuInput, PurchaseAppInput, RecordContactInput, RecordCustomerInput,
    RejectOrderInput, RepriceProductInput, RestrictContactPermissionsInput,
    SetFunctionPermissionsInput, SubmitOrderInput,
};
use dinghuo_domain::{ErrorCode, ProductId};
use dinghuo_tests::inspect::numbered;
use dinghuo_tests::refusal::{assert_invalid, assert_refused};
use dinghuo_tests::{on_both_backends, World};
use uuid::Uuid;

fn lines(quantities: &[(ProductId, i64)]) -> SubmitOrderInput {
    SubmitOrderInput {
        lines: quantities
            .iter()
            .map(|(product, quantity)| OrderLineInput {
                product_id: product.to_string(),
                quantity: *quantity,
                sku: None,
            })
            .collect(),
        note: None,
    }
}

fn line_of(product_id: &str) -> OrderLineInput {
    OrderLineInput {
        product_id: product_id.into(),
        quantity: 1,
        sku: None,
    }
}

fn listing(sku: &str, amount: &str) -> ListProductInput {
    ListProductInput {
        sku: sku.into(),
        name: "Green tea".into(),
        unit: "box".into(),
        price: MoneyInput::cny(amount),
    }
}

on_both_backends! {
    async fn ids_that_are_not_uuids_are_refused_naming_the_field(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let admin = world.admin_ctx();

        for bad in [
            "not-a-uuid",
            "",
            "123",
            "00000000-0000-0000-0000-00000000000g",
        ] {
            assert_invalid(
                &test,
                "partnerId",
                commands.assign_app(
                    &admin,
                    AppAssignmentInput {
                        partner_id: bad.into(),
                        app: "ORDERING".into(),
                    },
                ),
            )
            .await;
        }
        assert_invalid(
            &test,
            "partnerId",
            commands.suspend_partner(
                &admin,
                PartnerRefInput {
                    partner_id: "dealer-1".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "partnerId",
            commands.add_partner_contact(
                &admin,
                AddPartnerContactInput {
                    contact_id: world.contact.to_string(),
                    partner_id: "{partner}".into(),
                    side: "THEIRS".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "customerId",
            commands.add_partner(
                &admin,
                AddPartnerInput {
                    customer_id: "c-42".into(),
                    mode: None,
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "orderId",
            commands.confirm_order(
                &admin,
                ConfirmOrderInput {
                    order_id: "SO-2024-0001".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "tenantId",
            commands.enable_interconnect(
                &world.operator_ctx(),
                EnableInterconnectInput {
                    tenant_id: Some("acme".into()),
                },
            ),
        )
        .await;

        let me = world.contact_ctx();
        let good = world.products[0].to_string();
        assert_invalid(
            &test,
            "lines[0].productId",
            commands.submit_order(
                &me,
                SubmitOrderInput {
                    lines: vec![line_of("tea")],
                    note: None,
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "lines[1].productId",
            commands.submit_order(
                &me,
                SubmitOrderInput {
                    lines: vec![line_of(&good), line_of("'; DROP TABLE events; --")],
                    note: None,
                },
            ),
        )
        .await;
    }

    async fn letters_in_a_phone_are_refused_rather_than_dropped(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();

        for bad in [
            "1380013800a",
            "138OO138000",
            "phone: 13800138000",
            "+1 2025550123",
            "12345",
        ] {
            assert_invalid(
                &test,
                "phone",
                commands.record_contact(
                    &admin,
                    RecordContactInput {
                        name: "Li Lei".into(),
                        phone: Some(bad.into()),
                        customer_id: Some(world.partner.to_string()),
                        employee: false,
                    },
                ),
            )
            .await;
        }
        assert_invalid(
            &test,
            "phone",
            commands.record_customer(
                &admin,
                RecordCustomerInput {
                    name: "Dealer".into(),
                    phone: Some("138-ABC-8000".into()),
                    address: None,
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "phone",
            commands.bind_contact(
                &world.contact_ctx(),
                BindContactInput {
                    contact_id: world.contact.to_string(),
                    phone: "13800l38000".into(),
                    channel: "MINI_PROGRAM".into(),
                    wechat_open_id: None,
                },
            ),
        )
        .await;
    }

    async fn quantities_that_are_not_positive_or_absurdly_large_are_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        let me = world.contact_ctx();
        let [a, b, c] = [world.products[0], world.products[1], world.products[2]];

        for bad in [
            0,
            -5,
            i64::MIN,
            i64::MAX,
            1_000_001,
            i64::from(u32::MAX) + 1,
        ] {
            assert_invalid(
                &test,
                "lines[0].quantity",
                commands.submit_order(&me, lines(&[(a, bad)])),
            )
            .await;
            assert_invalid(
                &test,
                "lines[2].quantity",
                commands.submit_order(&me, lines(&[(a, 1), (b, 1), (c, bad)])),
            )
            .await;
        }

        // The largest allowed quantity goes through, priced exactly.
        let order = commands
            .submit_order(&me, lines(&[(a, 1_000_000)]))
            .await
            .expect("a million units is allowed");
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
        let total = commands
            .orders()
            .loader()
            .load(&order.to_string())
            .await
            .expect("load the order")
            .aggregate
            .total()
            .map(|money| money.amount_minor);
        assert_eq!(total, Some(1_000_000 * 1_000), "a million boxes at 10.00");
    }

    async fn a_well_formed_but_unknown_product_id_is_not_listed(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let unknown = ProductId::from_uuid(Uuid::now_v7());

        assert_refused(
            &test,
            ErrorCode::ProductNotListed,
            commands.submit_order(
                &world.contact_ctx(),
                lines(&[(world.products[0], 1), (unknown, 1)]),
            ),
        )
        .await;
    }

    async fn a_ten_megabyte_note_is_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let me = world.contact_ctx();
        let order_with_note = |note: String| SubmitOrderInput {
            note: Some(note),
            ..lines(&[(world.products[0], 1)])
        };

        assert_invalid(
            &test,
            "note",
            commands.submit_order(&me, order_with_note("x".repeat(10 * 1024 * 1024))),
        )
        .await;
        assert_invalid(
            &test,
            "note",
            commands.submit_order(&me, order_with_note("订".repeat(2001))),
        )
        .await;
        assert_invalid(
            &test,
            "note",
            commands.submit_order(&me, order_with_note("bell\u{7}".into())),
        )
        .await;
        commands
            .submit_order(&me, order_with_note("订".repeat(2000)))
            .await
            .expect("a note of 2,000 characters is fine");
    }

    async fn unknown_enum_values_are_refused_naming_the_field(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();

        assert_invalid(
            &test,
            "app",
            commands.enable_app(
                &admin,
                AppInput {
                    app: "ORDERINGX".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "app",
            commands.enable_app(
                &admin,
                AppInput {
                    app: "ordering".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "app",
            commands.assign_app(
                &admin,
                AppAssignmentInput {
                    partner_id: world.partner.to_string(),
                    app: "ORDERINGX".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "app",
            commands.purchase_app(
                &world.operator_ctx(),
                PurchaseAppInput {
                    tenant_id: world.tenant.to_string(),
                    app: "ORDERINGX".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "permissions[1]",
            commands.set_function_permissions(
                &admin,
                SetFunctionPermissionsInput {
                    app: "ORDERING".into(),
                    permissions: vec!["VIEW_ORDERS".into(), "DELETE_EVERYTHING".into()],
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "denied[0]",
            commands.restrict_contact_permissions(
                &admin,
                RestrictContactPermissionsInput {
                    contact_id: world.contact.to_string(),
                    app: "ORDERING".into(),
                    denied: vec!["SUPERUSER".into()],
                },
            ),
        )
        .await;
        commands
            .bind_wechat_account(
                &admin,
                BindWechatAccountInput {
                    app_id: "wx0123456789abcdef".into(),
                    name: "Service".into(),
                },
            )
            .await
            .expect("bind the official account");
        assert_invalid(
            &test,
            "buttons[1].app",
            commands.publish_wechat_menu(
                &admin,
                PublishWechatMenuInput {
                    app_id: "wx0123456789abcdef".into(),
                    buttons: vec![
                        MenuButtonInput {
                            name: "Order".into(),
                            app: Some("ORDERING".into()),
                            url: None,
                        },
                        MenuButtonInput {
                            name: "Other".into(),
                            app: Some("ORDERINGX".into()),
                            url: None,
                        },
                    ],
                },
            ),
        )
        .await;

        let customer = commands
            .record_customer(
                &admin,
                RecordCustomerInput {
                    name: "Dealer Two".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");
        assert_invalid(
            &test,
            "mode",
            commands.add_partner(
                &admin,
                AddPartnerInput {
                    customer_id: customer.to_string(),
                    mode: Some("HYBRID".into()),
                },
            ),
        )
        .await;

        let colleague = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "Han Meimei".into(),
                    phone: Some("13700137000".into()),
                    customer_id: Some(world.partner.to_string()),
                    employee: false,
                },
            )
            .await
            .expect("record contact");
        assert_invalid(
            &test,
            "side",
            commands.add_partner_contact(
                &admin,
                AddPartnerContactInput {
                    contact_id: colleague.to_string(),
                    partner_id: world.partner.to_string(),
                    side: "SIDEWAYS".into(),
                },
            ),
        )
        .await;

        assert_invalid(
            &test,
            "channel",
            commands.bind_contact(
                &world.contact_ctx(),
                BindContactInput {
                    contact_id: world.contact.to_string(),
                    phone: World::PHONE.into(),
                    channel: "CARRIER_PIGEON".into(),
                    wechat_open_id: None,
                },
            ),
        )
        .await;
    }

    async fn an_order_needs_between_one_and_two_hundred_lines(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let me = world.contact_ctx();

        assert_invalid(
            &test,
            "lines",
            commands.submit_order(
                &me,
                SubmitOrderInput {
                    lines: vec![],
                    note: None,
                },
            ),
        )
        .await;

        // Distinct well-formed ids, so that only the count is wrong.
        let too_many = (0..201)
            .map(|_| OrderLineInput {
                product_id: Uuid::now_v7().to_string(),
                quantity: 1,
                sku: None,
            })
            .collect();
        assert_invalid(
            &test,
            "lines",
            commands.submit_order(
                &me,
                SubmitOrderInput {
                    lines: too_many,
                    note: None,
                },
            ),
        )
        .await;
    }

    async fn the_same_product_on_two_lines_is_refused_naming_the_second(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let [a, b] = [world.products[0], world.products[1]];

        assert_invalid(
            &test,
            "lines[2].productId",
            commands.submit_order(&world.contact_ctx(), lines(&[(a, 1), (b, 2), (a, 3)])),
        )
        .await;
    }

    async fn prices_with_more_than_two_decimals_or_a_sign_are_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let admin = world.admin_ctx();

        for bad in [
            "12.345",
            "-1",
            "+1",
            "1e3",
            "abc",
            "",
            " ",
            "12,50",
            "NaN",
            "0.1.2",
            "1000000000000",
        ] {
            assert_invalid(
                &test,
                "price.amount",
                commands.list_product(&admin, listing("GT-1", bad)),
            )
            .await;
            assert_invalid(
                &test,
                "price.amount",
                commands.reprice_product(
                    &admin,
                    RepriceProductInput {
                        product_id: world.products[0].to_string(),
                        price: MoneyInput::cny(bad),
                    },
                ),
            )
            .await;
        }
        assert_invalid(
            &test,
            "price.currency",
            commands.list_product(
                &admin,
                ListProductInput {
                    price: MoneyInput {
                        amount: "1.00".into(),
                        currency: "USD".into(),
                    },
                    ..listing("GT-1", "1.00")
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Product", &world.products[0].to_string()).await,
            numbered(&["ProductListed"]),
            "no reprice went through"
        );
    }

    async fn an_idempotency_key_longer_than_two_hundred_bytes_is_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = || lines(&[(world.products[0], 1)]);
        let keyed = |key: String| world.contact_ctx().with_idempotency_key(key);

        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(&keyed("k".repeat(201)), order()),
        )
        .await;
        // 67 three-byte characters: 201 bytes, though only 67 characters.
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(&keyed("键".repeat(67)), order()),
        )
        .await;
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(&keyed(String::new()), order()),
        )
        .await;

        let accepted = commands
            .submit_order(&keyed("k".repeat(200)), order())
            .await
            .expect("a 200-byte key is accepted");
        assert_eq!(
            test.stream("Order", &accepted.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }

    async fn texts_with_control_characters_or_no_content_are_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();

        for bad in ["", "   ", "Acme\u{0}Foods", "Line\nbreak"] {
            assert_invalid(
                &test,
                "name",
                commands.record_customer(
                    &admin,
                    RecordCustomerInput {
                        name: bad.into(),
                        ..Default::default()
                    },
                ),
            )
            .await;
        }
        assert_invalid(
            &test,
            "name",
            commands.record_customer(
                &admin,
                RecordCustomerInput {
                    name: "名".repeat(201),
                    ..Default::default()
                },
            ),
        )
        .await;
        for bad in ["has space", "", "tea#1"] {
            assert_invalid(
                &test,
                "sku",
                commands.list_product(&admin, listing(bad, "1.00")),
            )
            .await;
        }
        assert_invalid(
            &test,
            "appId",
            commands.bind_wechat_account(
                &admin,
                BindWechatAccountInput {
                    app_id: "wx123".into(),
                    name: "Service".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "customerId",
            commands.record_contact(
                &admin,
                RecordContactInput {
                    name: "Both".into(),
                    phone: Some("13700137000".into()),
                    customer_id: Some(world.partner.to_string()),
                    employee: true,
                },
            ),
        )
        .await;
    }

    async fn a_menu_needs_one_to_three_well_formed_buttons(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        commands
            .bind_wechat_account(
                &admin,
                BindWechatAccountInput {
                    app_id: "wx0123456789abcdef".into(),
                    name: "Service".into(),
                },
            )
            .await
            .expect("bind the official account");
        let page = |name: &str| MenuButtonInput {
            name: name.into(),
            app: None,
            url: Some("https://acme.example".into()),
        };
        let menu = |buttons: Vec<MenuButtonInput>| PublishWechatMenuInput {
            app_id: "wx0123456789abcdef".into(),
            buttons,
        };

        assert_invalid(
            &test,
            "buttons",
            commands.publish_wechat_menu(&admin, menu(vec![])),
        )
        .await;
        assert_invalid(
            &test,
            "buttons",
            commands.publish_wechat_menu(
                &admin,
                menu(vec![page("A"), page("B"), page("C"), page("D")]),
            ),
        )
        .await;
        assert_invalid(
            &test,
            "buttons[0].app",
            commands.publish_wechat_menu(
                &admin,
                menu(vec![MenuButtonInput {
                    name: "Both".into(),
                    app: Some("ORDERING".into()),
                    url: Some("https://acme.example".into()),
                }]),
            ),
        )
        .await;
        assert_invalid(
            &test,
            "buttons[1].url",
            commands.publish_wechat_menu(
                &admin,
                menu(vec![
                    page("A"),
                    MenuButtonInput {
                        name: "Plain".into(),
                        app: None,
                        url: Some("http://acme.example".into()),
                    },
                ]),
            ),
        )
        .await;
        assert_invalid(
            &test,
            "buttons[0].name",
            commands.publish_wechat_menu(&admin, menu(vec![page(" ")])),
        )
        .await;
    }

    async fn rejecting_or_cancelling_needs_a_reason(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = commands
            .submit_order(&world.contact_ctx(), lines(&[(world.products[0], 1)]))
            .await
            .expect("submit");

        assert_invalid(
            &test,
            "reason",
            commands.reject_order(
                &world.admin_ctx(),
                RejectOrderInput {
                    order_id: order.to_string(),
                    reason: "  ".into(),
                },
            ),
        )
        .await;
        assert_invalid(
            &test,
            "reason",
            commands.cancel_order(
                &world.contact_ctx(),
                CancelOrderInput {
                    order_id: order.to_string(),
                    reason: "x".repeat(501),
                },
            ),
        )
        .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
    }
}
