//! Unbounded results (issue 15, item 4), against a real server on both backends: the alias
//! attack on `aggregateHistory` is refused by the complexity limit, and so are thousands of
//! aliases of a cheap read and hundreds of aliased commands (each root field costs a base), before
//! anything runs, while a frontend's page of orders with their lines is answered at the default
//! limit; an answer past the response size cap (`--max-response-bytes`) is replaced by
//! `RESPONSE_TOO_LARGE`, over HTTP (single and batched) and over WebSocket, while the server
//! keeps serving and answers under the cap stay as they were.

use std::time::Duration;

use dinghuo_commands::{Actor, ConfirmOrderInput, OrderLineInput, Role, SubmitOrderInput};
use dinghuo_projections::{catch_up, models, prepare};
use dinghuo_store::Database;
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::ws::{next_message, subscribe};
use dinghuo_tests::{on_both_backends, World};
use serde_json::{json, Value};
use uuid::Uuid;

/// The attack: this many aliases of a full history page in one query.
const ALIASES: usize = 1_600;

/// The small cap the tests set, in bytes.
const CAP: usize = 4_096;

/// Every event of the tenant with its payload and metadata: several KB for a built world.
const EVENTS: &str =
    "query($first: Int) { events(first: $first) { edges { node { position payload metadata } } } }";

/// `count` aliases of `field` in one operation of kind `operation` (`query` or `mutation`).
fn aliased(operation: &str, count: usize, field: impl Fn(usize) -> String) -> String {
    let aliases: String = (0..count).map(|i| format!(" a{i}: {}", field(i))).collect();
    format!("{operation} {{{aliases} }}")
}

/// Brings every read model up to the log, for a server that runs no processors.
async fn project(db: &Database) {
    settle_feed(db).await;
    for projection in models::all() {
        prepare(db, projection.as_ref()).await.expect("prepare");
        catch_up(db, projection.as_ref(), 500)
            .await
            .expect("catch up");
    }
}

/// Asserts that `answer` is the complexity limit's refusal, with nothing answered.
fn assert_too_complex(answer: &Value) {
    assert_eq!(answer["data"], Value::Null, "{answer:#}");
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "VALIDATION", "{answer:#}");
    assert!(error["extensions"]["requestId"].is_string(), "{answer:#}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("complex")),
        "{answer:#}"
    );
}

fn attack() -> String {
    let aliases: String = (0..ALIASES)
        .map(|i| {
            format!(
                " h{i}: aggregateHistory(id: $id, first: 100) \
                 {{ nodes {{ payload }} }}"
            )
        })
        .collect();
    format!("query($id: ID!) {{{aliases} }}")
}

/// Posts `body` (one operation or a batch); answers the JSON and its size in bytes.
async fn post(server: &TestServer, token: &str, body: &Value, request_id: Uuid) -> (Value, usize) {
    let response = reqwest::Client::new()
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .header("x-request-id", request_id.to_string())
        .json(body)
        .send()
        .await
        .expect("an answer");
    assert!(response.status().is_success(), "{}", response.status());
    let bytes = response.bytes().await.expect("a body");
    let value = serde_json::from_slice(&bytes).expect("JSON");
    (value, bytes.len())
}

fn assert_too_large(answer: &Value, request_id: Uuid) {
    assert_eq!(answer["data"], Value::Null, "{answer:#}");
    let error = &answer["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "RESPONSE_TOO_LARGE",
        "{answer:#}"
    );
    assert_eq!(
        error["extensions"]["requestId"],
        request_id.to_string(),
        "{answer:#}"
    );
    assert_eq!(error["extensions"]["maxResponseBytes"], CAP, "{answer:#}");
}

on_both_backends! {
    async fn the_alias_attack_on_a_history_is_refused_by_complexity_and_the_server_keeps_serving(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let auditor = server.token(&Actor::in_tenant(Uuid::now_v7(), Role::Auditor, world.tenant));
        let tenant = json!({"id": world.tenant.to_string()});

        let request_id = Uuid::now_v7();
        let body = json!({"query": attack(), "variables": tenant});
        let (answer, size) = post(&server, &auditor, &body, request_id).await;
        assert_eq!(answer["data"], Value::Null, "{answer:#}");
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{answer:#}");
        assert_eq!(error["extensions"]["requestId"], request_id.to_string());
        assert!(
            error["message"].as_str().is_some_and(|m| m.contains("complex")),
            "{answer:#}"
        );
        assert!(size < 1_000, "a refusal is small: {size} bytes");

        // The server goes on serving, the history included.
        let history = server
            .ok(
                Some(&auditor),
                "query($id: ID!) { aggregateHistory(id: $id, first: 100) { edges { node { eventType } } } }",
                tenant,
            )
            .await;
        let events = history["aggregateHistory"]["edges"].as_array().expect("edges");
        assert!(!events.is_empty(), "{history:#}");
        server.stop().await;
    }

    async fn aliases_of_a_cheap_read_or_a_command_are_refused_before_anything_runs(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        project(&test.db).await;
        // No processors: nothing but these requests could append an event. And no waiting for
        // read models that no processor moves: were the commands run after all, the test would
        // fail in seconds rather than wait 600 times.
        let server = TestServer::start(
            &test.db,
            &["--no-processors", "--read-your-writes-timeout", "1"],
        )
        .await;
        let admin = server.token(&world.admin);

        // 3,000 reads of one partner's name: a base of 20 each, 63,000 in all.
        let reads = aliased("query", 3_000, |_| {
            format!("partner(id: \"{}\") {{ name }}", world.partner)
        });
        assert_too_complex(&server.graphql(Some(&admin), &reads, json!({})).await);

        // 600 commands: a base of 100 each, 60,000 in all. Refused while validating, so not
        // one of them runs.
        let before = test.event_count().await;
        let records = aliased("mutation", 600, |i| {
            format!("recordCustomer(input: {{ name: \"Customer {i}\" }}) {{ __typename }}")
        });
        assert_too_complex(&server.graphql(Some(&admin), &records, json!({})).await);
        assert_eq!(test.event_count().await, before, "no command may have run");

        // The server goes on serving; a few aliased reads are an ordinary query.
        let few = aliased("query", 10, |_| {
            format!("partner(id: \"{}\") {{ name }}", world.partner)
        });
        let data = server.ok(Some(&admin), &few, json!({})).await;
        assert_eq!(data["a9"]["name"], "Dealer One", "{data:#}");
        server.stop().await;
    }

    async fn a_frontends_page_of_twenty_orders_with_five_line_fields_is_answered(test) {
        let commands = test.commands();
        let world = World::build(&commands, 5).await;
        for _ in 0..20 {
            commands
                .submit_order(
                    &world.contact_ctx(),
                    SubmitOrderInput {
                        lines: world
                            .products
                            .iter()
                            .map(|product| OrderLineInput { product_id: product.to_string(), quantity: 2, sku: None })
                            .collect(),
                        note: None,
                    },
                )
                .await
                .expect("submit");
        }
        project(&test.db).await;
        // At the default limit (no --max-complexity): this page counts 24,220.
        let server = TestServer::start(&test.db, &["--no-processors"]).await;
        let admin = server.token(&world.admin);
        let page = "{ orders(first: 20) { edges { cursor node { id status total { amount }
            lines { lineNo sku name quantity unitPrice { amount } } } }
            pageInfo { hasNextPage endCursor } } }";
        let data = server.ok(Some(&admin), page, json!({})).await;
        let edges = data["orders"]["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), 20, "{data:#}");
        for edge in edges {
            let lines = edge["node"]["lines"].as_array().expect("lines");
            assert_eq!(lines.len(), 5, "{edge:#}");
            assert!(lines.iter().all(|line| line["quantity"] == 2 && line["unitPrice"]["amount"].is_string()));
        }
        server.stop().await;
    }

    async fn an_answer_past_the_size_cap_is_a_coded_error_and_under_it_nothing_changes(test) {
        let commands = test.commands();
        // 20 products: an order of 20 lines has an event larger than the cap.
        let world = World::build(&commands, 20).await;
        let cap = CAP.to_string();
        let capped = TestServer::start(&test.db, &["--max-response-bytes", &cap]).await;
        let open = TestServer::start(&test.db, &["--no-processors"]).await;
        let auditor = Actor::in_tenant(Uuid::now_v7(), Role::Auditor, world.tenant);
        let token = capped.token(&auditor);
        let open_token = open.token(&auditor);
        let everything = json!({"query": EVENTS, "variables": {"first": 100}});

        // A legitimate answer larger than the cap: whole on the open server, replaced here.
        let (whole, whole_size) = post(&open, &open_token, &everything, Uuid::now_v7()).await;
        assert!(whole.get("errors").is_none(), "{whole:#}");
        assert!(whole_size > CAP, "the answer must exceed the cap: {whole_size} bytes");
        let request_id = Uuid::now_v7();
        let (answer, size) = post(&capped, &token, &everything, request_id).await;
        assert_too_large(&answer, request_id);
        assert!(size < CAP, "{size} bytes");

        // Under the cap, the answer is byte for byte the uncapped server's.
        let few = json!({"query": EVENTS, "variables": {"first": 2}});
        let (small, small_size) = post(&capped, &token, &few, Uuid::now_v7()).await;
        let (same, _) = post(&open, &open_token, &few, Uuid::now_v7()).await;
        assert!(small.get("errors").is_none(), "{small:#}");
        assert!(small_size < CAP);
        assert_eq!(small, same);

        // In a batch, only the operation that does not fit is replaced.
        let request_id = Uuid::now_v7();
        let batch = json!([few, everything, few]);
        let (answers, size) = post(&capped, &token, &batch, request_id).await;
        let answers = answers.as_array().expect("a batch answers an array").clone();
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0], same);
        assert_too_large(&answers[1], request_id);
        assert_eq!(answers[2], same);
        assert!(size < CAP + 1_000, "{size} bytes");

        // Over WebSocket: an event past the cap is replaced, and the subscription goes on.
        let mut socket = subscribe(
            &capped,
            &token,
            "subscription { events(eventTypes: [\"OrderSubmitted\", \"OrderConfirmed\"]) { eventType payload } }",
            json!({}),
        )
        .await;
        // Give the subscription a moment to start following the feed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let order = commands
            .submit_order(
                &world.contact_ctx(),
                SubmitOrderInput {
                    lines: world
                        .products
                        .iter()
                        .map(|product| OrderLineInput { product_id: product.to_string(), quantity: 1, sku: None })
                        .collect(),
                    note: Some("n".repeat(2_000)),
                },
            )
            .await
            .expect("submit an order of 20 lines");
        let submitted = next_message(&mut socket).await;
        assert_eq!(submitted["type"], "next", "{submitted:#}");
        let payload = &submitted["payload"];
        assert_eq!(payload["errors"][0]["extensions"]["code"], "RESPONSE_TOO_LARGE", "{payload:#}");
        assert!(payload["errors"][0]["extensions"]["requestId"].is_string(), "{payload:#}");
        commands
            .confirm_order(&world.admin_ctx(), ConfirmOrderInput { order_id: order.to_string() })
            .await
            .expect("confirm");
        let confirmed = next_message(&mut socket).await;
        assert_eq!(
            confirmed["payload"]["data"]["events"]["eventType"], "OrderConfirmed",
            "{confirmed:#}"
        );

        // The capped server keeps serving.
        capped.ok(Some(&token), "{ viewer { id } }", json!({})).await;
        drop(socket);
        open.stop().await;
        capped.stop().await;
    }
}
