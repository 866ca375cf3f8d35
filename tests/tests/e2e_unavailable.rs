//! Codes a client can act on (issue 16, item 2): a database that cannot be reached, or a
//! connection lost in the middle of a request, is `UNAVAILABLE` with `extensions.retryable` and
//! a suggested delay, never `INTERNAL`; a retry with the same idempotency key then takes effect
//! once. And a mutation whose read model is not kept by any process says so in
//! `extensions.warnings` instead of answering a silent `null` after the whole wait.

use std::time::Duration;

use dinghuo_commands::{Commands, ConfirmOrderInput, OrderLineInput, SubmitOrderInput};
use dinghuo_domain::ErrorCode;
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_projections::{models, prepare};
use dinghuo_store::{Database, DatabaseSettings};
use dinghuo_tests::proxy::Proxy;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, Backend, TestDb, World};
use serde_json::{json, Value};
use tokio::time::Instant;

const SUBMIT: &str = "mutation($input: SubmitOrderInput!) {
    submitOrder(input: $input) { orderId order { status } }
}";

const ORDERS: &str = "{ orders(first: 5) { edges { node { id } } } }";

fn keyed_order(world: &World, key: &str) -> Value {
    json!({ "input": {
        "lines": [{ "productId": world.products[0].to_string(), "quantity": 1 }],
        "idempotencyKey": key
    }})
}

/// The first error of `response`, asserted to be `UNAVAILABLE` as a client must see it.
fn assert_unavailable(response: &Value) {
    let extensions = &response["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "UNAVAILABLE", "{response:#}");
    assert_eq!(extensions["retryable"], true, "{response:#}");
    assert!(
        extensions["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0),
        "a suggested delay: {response:#}"
    );
    assert!(extensions["requestId"].is_string(), "{response:#}");
}

on_both_backends! {
    async fn commands_on_a_closed_database_are_unavailable_not_internal(test) {
        let world = World::build(&test.commands(), 1).await;
        let before = test.event_count().await;
        let own = Database::connect(&DatabaseSettings {
            url: Some(test.url.clone()),
            max_connections: 2,
            ..DatabaseSettings::default()
        })
        .await
        .expect("a second pool over the test database");
        let commands = Commands::new(own.clone());
        own.close().await;

        let submitted = commands
            .submit_order(
                &world.contact_ctx().with_idempotency_key("closed-1"),
                SubmitOrderInput {
                    lines: vec![OrderLineInput {
                        product_id: world.products[0].to_string(),
                        quantity: 1,
                        sku: None,
                    }],
                    note: None,
                },
            )
            .await;
        let error = submitted.expect_err("nothing can be submitted on a closed pool");
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
        let confirmed = commands
            .confirm_order(
                &world.admin_ctx(),
                ConfirmOrderInput {
                    order_id: uuid::Uuid::now_v7().to_string(),
                },
            )
            .await;
        let error = confirmed.expect_err("nothing can be confirmed on a closed pool");
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
        assert_eq!(test.event_count().await, before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_out_of_reach_is_unavailable_and_a_keyed_retry_orders_once() {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    let (proxy, proxied) = Proxy::in_front_of(&test.url, 8).await;
    let server = TestServer::start(&proxied, &[]).await;
    let contact = server
        .contact_token(&commands, &world.contact_actor())
        .await;
    let admin = server.token(&world.admin);

    // The database goes out of reach: every connection cut, new ones refused.
    proxy.refuse_for(Duration::from_secs(600));
    // Past the contact-standing cache, so that the request meets the database.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let refused = server
        .graphql(Some(&contact), SUBMIT, keyed_order(&world, "po-1"))
        .await;
    assert_unavailable(&refused);
    assert_unavailable(&server.graphql(Some(&admin), ORDERS, json!({})).await);

    // Back: the client retries with the same key until it is answered, and one order exists.
    proxy.refuse_for(Duration::ZERO);
    let began = Instant::now();
    let order_id = loop {
        let answer = server
            .graphql(Some(&contact), SUBMIT, keyed_order(&world, "po-1"))
            .await;
        if let Some(id) = answer["data"]["submitOrder"]["orderId"].as_str() {
            break id.to_owned();
        }
        assert_unavailable(&answer);
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the database is back, but the retry is still refused: {answer:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let again = server
        .ok(Some(&contact), SUBMIT, keyed_order(&world, "po-1"))
        .await;
    assert_eq!(again["submitOrder"]["orderId"], order_id.as_str());
    assert_eq!(
        test.stream("Order", &order_id).await,
        vec![("OrderSubmitted".to_owned(), 1)]
    );
    server.stop().await;
}

/// Creates the read models' tables, as a server with processors would have, without applying
/// anything: an API-only node's read models then lag behind every write.
async fn tables_without_a_runner(db: &Database) {
    for projection in models::all_with_key(OutboxKey::generate()) {
        prepare(db, projection.as_ref()).await.expect("prepare");
    }
}

/// On an API-only node (`--no-processors`, read-your-writes bound `bound_ms`) over read models
/// that no process keeps, submits one order; answers the response and how long it took.
async fn submit_on_an_api_only_node(test: &TestDb, bound_ms: &str) -> (Value, Duration) {
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    tables_without_a_runner(&test.db).await;
    let flags = ["--no-processors", "--read-your-writes-timeout", bound_ms];
    let server = TestServer::start(&test.db, &flags).await;
    let token = server
        .contact_token(&commands, &world.contact_actor())
        .await;
    let began = Instant::now();
    let answer = server
        .graphql(Some(&token), SUBMIT, keyed_order(&world, "behind-1"))
        .await;
    let took = began.elapsed();
    server.stop().await;
    (answer, took)
}

fn assert_read_model_behind(answer: &Value) {
    assert!(answer.get("errors").is_none(), "{answer:#}");
    assert!(
        answer["data"]["submitOrder"]["orderId"].is_string(),
        "{answer:#}"
    );
    assert_eq!(
        answer["data"]["submitOrder"]["order"],
        Value::Null,
        "{answer:#}"
    );
    let warning = &answer["extensions"]["warnings"][0];
    assert_eq!(warning["code"], "READ_MODEL_BEHIND", "{answer:#}");
    assert_eq!(warning["projection"], "orders", "{answer:#}");
    assert!(warning["message"].is_string(), "{answer:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_api_only_node_without_any_projection_runner_answers_at_once_with_a_warning() {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    // A read-your-writes bound of two minutes: waiting it out would be unmistakable.
    let (answer, took) = submit_on_an_api_only_node(&test, "120000").await;
    assert_read_model_behind(&answer);
    assert!(
        took < Duration::from_secs(60),
        "no process holds the orders projection's lock, yet the wait took {took:?}"
    );
    eprintln!("answered without a runner anywhere in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_read_model_behind_after_the_bound_is_a_warning_not_a_silent_null() {
    let Some(test) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    // SQLite has no lock to ask: the wait runs its (short) bound, then says so.
    let (answer, _) = submit_on_an_api_only_node(&test, "200").await;
    assert_read_model_behind(&answer);
}
