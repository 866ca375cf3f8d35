//! Idempotent order submission: a dealer whose network dropped the answer retries with the same
//! idempotency key and must get the same order back, never a second one, even when the retry
//! races the original.

use std::sync::Arc;

use dinghuo_commands::{
    CancelOrderInput, Commands, ConfirmOrderInput, OrderLineInput, PartnerRefInput,
    ReceiveOrderInput, RejectOrderInput, RequestContext, ShipOrderInput, SubmitOrderInput,
};
use dinghuo_domain::{ErrorCode, OrderId, ProductId};
use dinghuo_tests::inspect::{all_events, numbered, stream_events};
use dinghuo_tests::refusal::{assert_invalid, assert_refused};
use dinghuo_tests::{on_both_backends, TestDb, World};
use serde_json::json;
use tokio::sync::Barrier;

fn order_of(product: ProductId, quantity: i64) -> SubmitOrderInput {
    SubmitOrderInput {
        lines: vec![OrderLineInput {
            product_id: product.to_string(),
            quantity,
            sku: None,
        }],
        note: None,
    }
}

/// How many `OrderSubmitted` events the whole log holds.
async fn submitted_orders(test: &TestDb) -> usize {
    all_events(&test.db)
        .await
        .iter()
        .filter(|event| event.event_type == "OrderSubmitted")
        .count()
}

/// The quantity of the first line of an order, as stored.
async fn stored_quantity(test: &TestDb, order: OrderId) -> serde_json::Value {
    let events = stream_events(&test.db, "Order", &order.to_string()).await;
    events[0].body()["lines"][0]["quantity"].clone()
}

/// Submits the same order with the same key from two tasks released at the same moment.
async fn race(
    commands: &Arc<Commands>,
    ctx: &RequestContext,
    input: &SubmitOrderInput,
) -> (OrderId, OrderId) {
    let start = Arc::new(Barrier::new(2));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (commands, ctx, input, start) =
                (commands.clone(), ctx.clone(), input.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                commands.submit_order(&ctx, input).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(
            task.await
                .expect("the task did not panic")
                .expect("both racing submissions succeed"),
        );
    }
    (ids[0], ids[1])
}

on_both_backends! {
    async fn submitting_twice_with_the_same_key_returns_the_same_order_and_stores_one(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let ctx = world.contact_ctx().with_idempotency_key("cart-1");

        let first = commands
            .submit_order(&ctx, order_of(world.products[0], 2))
            .await
            .expect("first submission");
        let before_retry = test.event_count().await;
        let retry = commands
            .submit_order(&ctx, order_of(world.products[0], 2))
            .await
            .expect("the retry");

        assert_eq!(retry, first);
        assert_eq!(
            test.event_count().await,
            before_retry,
            "the retry appended nothing"
        );
        assert_eq!(
            test.stream("Order", &first.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
        assert_eq!(submitted_orders(&test).await, 1);
    }

    async fn a_retry_from_a_new_request_with_the_same_key_returns_the_same_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;

        // Each HTTP request has its own request id; only the key ties the retry to the original.
        let first = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("cart-1"),
                order_of(world.products[0], 2),
            )
            .await
            .expect("first submission");
        let retry = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("cart-1"),
                order_of(world.products[0], 2),
            )
            .await
            .expect("the retry");

        assert_eq!(retry, first);
        assert_eq!(submitted_orders(&test).await, 1);
    }

    async fn two_submissions_racing_with_the_same_key_both_get_the_one_order(test) {
        let commands = Arc::new(test.commands());
        let world = World::build(&commands, 1).await;

        // Several rounds, each with a fresh key, so that the submissions really overlap at least
        // in some of them; every round must end with one order.
        let rounds = 8;
        for round in 0..rounds {
            let ctx = world
                .contact_ctx()
                .with_idempotency_key(format!("race-{round}"));
            let (a, b) = race(&commands, &ctx, &order_of(world.products[0], 1)).await;
            assert_eq!(a, b, "round {round}: both callers got the same order");
            assert_eq!(
                test.stream("Order", &a.to_string()).await,
                numbered(&["OrderSubmitted"]),
                "round {round}"
            );
        }
        assert_eq!(submitted_orders(&test).await, rounds);
    }

    async fn different_keys_make_different_orders(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;

        let first = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("cart-1"),
                order_of(world.products[0], 1),
            )
            .await
            .expect("first order");
        let second = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("cart-2"),
                order_of(world.products[0], 1),
            )
            .await
            .expect("second order");

        assert_ne!(first, second);
        for order in [first, second] {
            assert_eq!(
                test.stream("Order", &order.to_string()).await,
                numbered(&["OrderSubmitted"])
            );
        }
        assert_eq!(submitted_orders(&test).await, 2);
    }

    async fn without_a_key_every_submission_is_a_new_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;

        let first = commands
            .submit_order(&world.contact_ctx(), order_of(world.products[0], 1))
            .await
            .expect("first");
        let second = commands
            .submit_order(&world.contact_ctx(), order_of(world.products[0], 1))
            .await
            .expect("second");

        assert_ne!(first, second);
        assert_eq!(submitted_orders(&test).await, 2);
    }

    async fn the_same_key_from_another_contact_makes_another_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let colleague = World::add_bound_contact(
            &commands,
            &world.admin_ctx(),
            world.tenant,
            world.partner,
            "13700137000",
        )
        .await;
        let colleague_ctx = RequestContext::new(dinghuo_commands::Actor::in_tenant(
            colleague.as_uuid(),
            dinghuo_commands::Role::Contact,
            world.tenant,
        ));

        let mine = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("cart-1"),
                order_of(world.products[0], 1),
            )
            .await
            .expect("my order");
        let theirs = commands
            .submit_order(
                &colleague_ctx.with_idempotency_key("cart-1"),
                order_of(world.products[0], 5),
            )
            .await
            .expect("the colleague's order");

        assert_ne!(mine, theirs);
        assert_eq!(submitted_orders(&test).await, 2);
        let theirs_submitted = &stream_events(&test.db, "Order", &theirs.to_string()).await[0];
        assert_eq!(
            theirs_submitted.body()["contact_id"],
            json!(colleague.to_string())
        );
        assert_eq!(
            stored_quantity(&test, mine).await,
            json!(1),
            "my order was not touched"
        );
    }

    async fn a_retry_after_the_order_moved_on_still_answers_the_same_order(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let ctx = world.contact_ctx().with_idempotency_key("cart-1");
        let order = commands
            .submit_order(&ctx, order_of(world.products[0], 1))
            .await
            .expect("submit");
        commands
            .confirm_order(
                &world.admin_ctx(),
                ConfirmOrderInput {
                    order_id: order.to_string(),
                },
            )
            .await
            .expect("confirm");
        let before_retry = test.event_count().await;

        let retry = commands
            .submit_order(&ctx, order_of(world.products[0], 1))
            .await
            .expect("the late retry");

        assert_eq!(retry, order);
        assert_eq!(test.event_count().await, before_retry);
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed"])
        );
    }

    async fn a_key_reused_for_a_different_order_is_refused_and_the_first_order_is_kept(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let ctx = world.contact_ctx().with_idempotency_key("cart-1");
        let order = commands
            .submit_order(&ctx, order_of(world.products[0], 1))
            .await
            .expect("submit");

        // Answering the first order would tell the dealer that 99 boxes were ordered.
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(&ctx, order_of(world.products[0], 99)),
        )
        .await;
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(
                &ctx,
                SubmitOrderInput {
                    note: Some("Another note".into()),
                    ..order_of(world.products[0], 1)
                },
            ),
        )
        .await;

        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
        assert_eq!(
            stored_quantity(&test, order).await,
            json!(1),
            "the stored order kept its first lines"
        );
        // The identical retry is still answered with the order.
        let retry = commands
            .submit_order(&ctx, order_of(world.products[0], 1))
            .await
            .expect("the identical retry");
        assert_eq!(retry, order);
    }

    async fn a_key_whose_submission_was_refused_can_be_used_once_the_refusal_is_lifted(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let ctx = world.contact_ctx().with_idempotency_key("cart-1");
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
            commands.submit_order(&ctx, order_of(world.products[0], 1)),
        )
        .await;
        // Refused again on retry: a refusal is not remembered as a result.
        assert_refused(
            &test,
            ErrorCode::PartnerSuspended,
            commands.submit_order(&ctx, order_of(world.products[0], 1)),
        )
        .await;

        commands
            .reinstate_partner(&world.admin_ctx(), partner())
            .await
            .expect("reinstate");
        let order = commands
            .submit_order(&ctx, order_of(world.products[0], 1))
            .await
            .expect("now it goes through");
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted"])
        );
        assert_eq!(submitted_orders(&test).await, 1);
    }
}

on_both_backends! {
    async fn a_keyed_resubmission_is_logged_as_a_replay_not_as_a_refusal(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let ctx = world.contact_ctx().with_idempotency_key("cart-logged");
        let first = commands
            .submit_order(&ctx, order_of(world.products[0], 2))
            .await
            .expect("first submission");

        let (logs, guard) = dinghuo_tests::logs::capture();
        let again = commands
            .submit_order(&ctx, order_of(world.products[0], 2))
            .await
            .expect("the replay");
        let replay_logs = logs.text();
        // The same key for another order is a refusal, and logged as one.
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.submit_order(&ctx, order_of(world.products[0], 3)),
        )
        .await;
        let all_logs = logs.text();
        drop(guard);

        assert_eq!(again, first);
        assert!(replay_logs.contains("idempotent replay of submitOrder"), "{replay_logs}");
        assert!(!replay_logs.contains("command refused"), "{replay_logs}");
        assert!(!replay_logs.contains("INVALID_STATE"), "{replay_logs}");
        let refusal = &all_logs[replay_logs.len()..];
        assert!(refusal.contains("command refused"), "{refusal}");
        assert!(refusal.contains("code=VALIDATION"), "{refusal}");
    }
}

/// The order a fresh submission by the world's contact creates.
async fn submitted(commands: &Commands, world: &World) -> OrderId {
    commands
        .submit_order(&world.contact_ctx(), order_of(world.products[0], 1))
        .await
        .expect("submit")
}

fn confirm(order: OrderId) -> ConfirmOrderInput {
    ConfirmOrderInput {
        order_id: order.to_string(),
    }
}

// Every order mutation takes an idempotency key (issue 16): a retry of a state change whose
// answer was lost (or that met `UNAVAILABLE` around its commit) answers done, not
// `INVALID_STATE`, and appends nothing.
on_both_backends! {
    async fn a_keyed_state_change_retried_answers_done_and_appends_once(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submitted(&commands, &world).await;
        let admin = world.admin_ctx().with_idempotency_key("confirm-1");

        commands.confirm_order(&admin, confirm(order)).await.expect("confirm");
        let before_retry = test.event_count().await;
        // A new request (a new request id), the same key.
        commands
            .confirm_order(&world.admin_ctx().with_idempotency_key("confirm-1"), confirm(order))
            .await
            .expect("the retry answers done");

        assert_eq!(test.event_count().await, before_retry, "the retry appended nothing");
        // Without the key the same change is what it always was: already done.
        assert_refused(
            &test,
            ErrorCode::InvalidState,
            commands.confirm_order(&world.admin_ctx(), confirm(order)),
        )
        .await;
        // A retry still answers done after the order moved on.
        commands
            .ship_order(
                &world.admin_ctx(),
                ShipOrderInput {
                    order_id: order.to_string(),
                    ..ShipOrderInput::default()
                },
            )
            .await
            .expect("ship");
        commands
            .confirm_order(&admin, confirm(order))
            .await
            .expect("a late retry answers done");
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed", "OrderShipped"])
        );
    }

    async fn every_order_change_honours_its_key(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let admin = |key: &str| world.admin_ctx().with_idempotency_key(key);
        let contact = |key: &str| world.contact_ctx().with_idempotency_key(key);

        let shipped = submitted(&commands, &world).await;
        let ship = ShipOrderInput {
            order_id: shipped.to_string(),
            carrier: Some("顺丰速运".into()),
            tracking: Some("SF1".into()),
        };
        commands.confirm_order(&admin("c"), confirm(shipped)).await.expect("confirm");
        for _ in 0..2 {
            commands.ship_order(&admin("s"), ship.clone()).await.expect("ship, twice");
        }
        let receive = ReceiveOrderInput {
            order_id: shipped.to_string(),
        };
        for _ in 0..2 {
            commands.receive_order(&contact("r"), receive.clone()).await.expect("receive, twice");
        }
        assert_eq!(
            test.stream("Order", &shipped.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed", "OrderShipped", "OrderReceived"])
        );

        let rejected = submitted(&commands, &world).await;
        let reject = RejectOrderInput {
            order_id: rejected.to_string(),
            reason: "out of stock".into(),
        };
        for _ in 0..2 {
            commands.reject_order(&admin("j"), reject.clone()).await.expect("reject, twice");
        }
        let cancelled = submitted(&commands, &world).await;
        let cancel = CancelOrderInput {
            order_id: cancelled.to_string(),
            reason: "ordered by mistake".into(),
        };
        for _ in 0..2 {
            commands.cancel_order(&contact("x"), cancel.clone()).await.expect("cancel, twice");
        }
        assert_eq!(
            test.stream("Order", &rejected.to_string()).await,
            numbered(&["OrderSubmitted", "OrderRejected"])
        );
        assert_eq!(
            test.stream("Order", &cancelled.to_string()).await,
            numbered(&["OrderSubmitted", "OrderCancelled"])
        );
    }

    async fn a_key_reused_for_another_order_change_is_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let order = submitted(&commands, &world).await;
        let admin = world.admin_ctx().with_idempotency_key("k-1");
        commands.confirm_order(&admin, confirm(order)).await.expect("confirm");

        // Shipping is allowed now, but not under the key that confirmed.
        assert_invalid(
            &test,
            "idempotencyKey",
            commands.ship_order(
                &admin,
                ShipOrderInput {
                    order_id: order.to_string(),
                    ..ShipOrderInput::default()
                },
            ),
        )
        .await;
        // A rejection retried with another reason is another request.
        let other = submitted(&commands, &world).await;
        let reject = |reason: &str| RejectOrderInput {
            order_id: other.to_string(),
            reason: reason.into(),
        };
        let keyed = world.admin_ctx().with_idempotency_key("k-2");
        commands.reject_order(&keyed, reject("out of stock")).await.expect("reject");
        assert_invalid(&test, "idempotencyKey", commands.reject_order(&keyed, reject("too late")))
            .await;
        assert_eq!(
            test.stream("Order", &order.to_string()).await,
            numbered(&["OrderSubmitted", "OrderConfirmed"])
        );
    }

    async fn two_keyed_changes_racing_both_answer_done_and_one_is_stored(test) {
        let commands = Arc::new(test.commands());
        let world = World::build(&commands, 1).await;
        for round in 0..6 {
            let order = submitted(&commands, &world).await;
            let ctx = world.admin_ctx().with_idempotency_key(format!("race-confirm-{round}"));
            let start = Arc::new(Barrier::new(2));
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let (commands, ctx, start) = (commands.clone(), ctx.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        commands.confirm_order(&ctx, confirm(order)).await
                    })
                })
                .collect();
            for task in tasks {
                task.await
                    .expect("the task did not panic")
                    .expect("both racing confirmations answer done");
            }
            assert_eq!(
                test.stream("Order", &order.to_string()).await,
                numbered(&["OrderSubmitted", "OrderConfirmed"]),
                "round {round}"
            );
        }
    }
}
