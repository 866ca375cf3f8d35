//! End to end over HTTP: a real `dinghuo serve` on a free port, GraphQL requests with bearer
//! tokens, on both backends. The order's life through the API, its refusals with their codes,
//! and a graceful shutdown that loses no accepted command.

use std::sync::Arc;

use dinghuo_commands::{Actor, Role};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::{json, Value};
use uuid::Uuid;

const SUBMIT: &str = "mutation($input: SubmitOrderInput!) {
    submitOrder(input: $input) { orderId order { status total { amount currency } lines { sku quantity } } }
}";
const ORDER: &str = "query($id: ID!) { order(id: $id) { id status carrier trackingNumber } }";

fn submit_input(world: &World, quantity: i64) -> Value {
    json!({ "input": {
        "lines": [{ "productId": world.products[0].to_string(), "quantity": quantity }],
        "note": "e2e"
    }})
}

fn in_tenant(world: &World, role: Role) -> Actor {
    Actor::in_tenant(Uuid::now_v7(), role, world.tenant)
}

on_both_backends! {
    async fn an_order_goes_through_its_life_over_http(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let server = TestServer::start(&test.db, &[]).await;
        let contact = server.token(&world.contact_actor());
        let admin = server.token(&world.admin);

        let data = server.ok(Some(&contact), SUBMIT, submit_input(&world, 3)).await;
        let submitted = &data["submitOrder"];
        // Read-your-writes: the answer already shows the order from the read model.
        assert_eq!(submitted["order"]["status"], "SUBMITTED");
        assert_eq!(submitted["order"]["total"], json!({"amount": "30.00", "currency": "CNY"}));
        assert_eq!(submitted["order"]["lines"][0]["quantity"], 3);
        let id = submitted["orderId"].as_str().expect("an order id").to_owned();

        let confirm = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { order { status } } }";
        let data = server.ok(Some(&admin), confirm, json!({"id": id})).await;
        assert_eq!(data["confirmOrder"]["order"]["status"], "CONFIRMED");
        let ship = "mutation($id: ID!) { shipOrder(input: {orderId: $id, carrier: \"顺丰速运\", trackingNumber: \"SF1234567890\"}) { order { status carrier } } }";
        let data = server.ok(Some(&admin), ship, json!({"id": id})).await;
        assert_eq!(data["shipOrder"]["order"]["status"], "SHIPPED");
        let receive = "mutation($id: ID!) { receiveOrder(input: {orderId: $id}) { order { status } } }";
        let data = server.ok(Some(&contact), receive, json!({"id": id})).await;
        assert_eq!(data["receiveOrder"]["order"]["status"], "RECEIVED");

        let data = server.ok(Some(&contact), ORDER, json!({"id": id})).await;
        assert_eq!(data["order"]["trackingNumber"], "SF1234567890");
        server.stop().await;
    }

    async fn every_order_mutation_takes_an_idempotency_key_over_http(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let contact = server.token(&world.contact_actor());
        let admin = server.token(&world.admin);
        let mut input = submit_input(&world, 1);
        input["input"]["idempotencyKey"] = json!("po-http-1");
        let id = server.ok(Some(&contact), SUBMIT, input).await["submitOrder"]["orderId"]
            .as_str()
            .expect("an order id")
            .to_owned();

        // Each change sent twice with its key, as a client does after a lost answer: both
        // answers say done, with the order as it stands.
        let changes = [
            (&admin, "confirmOrder", "mutation($id: ID!) { confirmOrder(input: {orderId: $id, idempotencyKey: \"c-1\"}) { order { status } } }", "CONFIRMED"),
            (&admin, "shipOrder", "mutation($id: ID!) { shipOrder(input: {orderId: $id, carrier: \"顺丰速运\", idempotencyKey: \"s-1\"}) { order { status } } }", "SHIPPED"),
            (&contact, "receiveOrder", "mutation($id: ID!) { receiveOrder(input: {orderId: $id, idempotencyKey: \"r-1\"}) { order { status } } }", "RECEIVED"),
        ];
        for (token, field, document, status) in changes {
            for attempt in 0..2 {
                let data = server.ok(Some(token), document, json!({"id": id})).await;
                assert_eq!(data[field]["order"]["status"], status, "{field}, attempt {attempt}");
            }
        }
        let other = server.ok(Some(&contact), SUBMIT, submit_input(&world, 1)).await["submitOrder"]
            ["orderId"]
            .as_str()
            .expect("an order id")
            .to_owned();
        let reject = "mutation($id: ID!, $reason: String!) { rejectOrder(input: {orderId: $id, reason: $reason, idempotencyKey: \"j-1\"}) { order { status } } }";
        for _ in 0..2 {
            let data = server.ok(Some(&admin), reject, json!({"id": other, "reason": "缺货"})).await;
            assert_eq!(data["rejectOrder"]["order"]["status"], "REJECTED");
        }
        // The same key with another reason is another request.
        assert_eq!(
            server.refused(Some(&admin), reject, json!({"id": other, "reason": "太晚"})).await,
            "VALIDATION"
        );
        let events: Vec<String> =
            test.stream("Order", &id).await.into_iter().map(|(event, _)| event).collect();
        assert_eq!(events, ["OrderSubmitted", "OrderConfirmed", "OrderShipped", "OrderReceived"]);
        server.stop().await;
    }

    async fn the_api_refuses_with_the_codes_of_design(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let other = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let contact = server.token(&world.contact_actor());
        let data = server.ok(Some(&contact), SUBMIT, submit_input(&world, 1)).await;
        let id = data["submitOrder"]["orderId"].as_str().expect("an id").to_owned();

        // No token, a bad token.
        assert_eq!(server.refused(None, SUBMIT, submit_input(&world, 1)).await, "UNAUTHENTICATED");
        assert_eq!(
            server.refused(Some("not-a-token"), ORDER, json!({"id": id})).await,
            "UNAUTHENTICATED"
        );
        // Read-only roles cannot mutate; a contact cannot confirm.
        for role in [Role::Analyst, Role::Auditor] {
            let token = server.token(&in_tenant(&world, role));
            assert_eq!(server.refused(Some(&token), SUBMIT, submit_input(&world, 1)).await, "FORBIDDEN");
        }
        let confirm = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { orderId } }";
        assert_eq!(server.refused(Some(&contact), confirm, json!({"id": id})).await, "FORBIDDEN");
        // Input validated at the edge, with the field at fault.
        let response = server.graphql(Some(&contact), SUBMIT, submit_input(&world, 0)).await;
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION", "{response:#}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "lines[0].quantity");
        // Another tenant's admin sees nothing and can change nothing.
        let stranger = server.token(&other.admin);
        let data = server.ok(Some(&stranger), ORDER, json!({"id": id})).await;
        assert_eq!(data["order"], Value::Null);
        assert_eq!(server.refused(Some(&stranger), confirm, json!({"id": id})).await, "NOT_FOUND");
        // A state the order is not in.
        let receive = "mutation($id: ID!) { receiveOrder(input: {orderId: $id}) { orderId } }";
        assert_eq!(server.refused(Some(&contact), receive, json!({"id": id})).await, "INVALID_STATE");
        // Malformed GraphQL is the client's error too, with a code and the request id.
        assert_eq!(server.refused(Some(&contact), "{ nope", json!({})).await, "VALIDATION");
        server.stop().await;
    }

    async fn a_graceful_shutdown_answers_every_accepted_command(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let server = Arc::new(TestServer::start(&test.db, &[]).await);
        let contact = server.token(&world.contact_actor());
        let input = submit_input(&world, 1);
        let mut clients = Vec::new();
        for _ in 0..16 {
            let (server, contact, input) = (server.clone(), contact.clone(), input.clone());
            clients.push(tokio::spawn(async move {
                let mut answered = 0u32;
                loop {
                    let sent = tokio::time::timeout(
                        std::time::Duration::from_secs(30),
                        server.try_graphql(Some(&contact), SUBMIT, input.clone()),
                    )
                    .await
                    .expect("no request hangs through a shutdown");
                    match sent {
                        Ok(response) if response["data"]["submitOrder"]["orderId"].is_string() => {
                            answered += 1;
                        }
                        Ok(response) => panic!("a submission failed: {response:#}"),
                        // The server stopped accepting: this request was never taken.
                        Err(_) => return answered,
                    }
                }
            }));
        }
        // Shut down while requests are in flight.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        server.stop().await;
        let mut answered = 0u32;
        for client in clients {
            answered += client.await.expect("a client task");
        }
        assert!(answered > 0, "the clients got going before the shutdown");
        let submitted = dinghuo_tests::inspect::all_events(&test.db)
            .await
            .iter()
            .filter(|event| event.event_type == "OrderSubmitted")
            .count() as u32;
        assert_eq!(answered, submitted, "every answered submission is in the log, and only those");
    }
}
