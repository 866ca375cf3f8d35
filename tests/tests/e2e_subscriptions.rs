//! Subscriptions over WebSocket (graphql-transport-ws at `/graphql/ws`) against a real server,
//! on both backends: `orderUpdated` follows an order through its transitions, `events` delivers
//! what is appended, a caller who may not see an order gets nothing of it, and a subscription
//! ends (`UNAUTHENTICATED`) when the token that opened it expires, and an operation that does
//! not parse or validate is refused with a code, as over HTTP, and a message that breaks the
//! protocol closes the socket with a close frame a client can read.

use std::time::Duration;

use dinghuo_api::auth::token::CLOCK_SKEW_SECS;
use dinghuo_commands::{Actor, ConfirmOrderInput, OrderLineInput, Role, SubmitOrderInput};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::ws::{next_data, next_message, subscribe, Socket, PATIENCE};
use dinghuo_tests::{on_both_backends, World};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const ORDER_UPDATED: &str = "subscription($id: ID!) { orderUpdated(orderId: $id) { id status } }";

/// Subscribes to `orderUpdated` of a just submitted `order`, and checks the first answer.
async fn follow_submitted(server: &TestServer, token: &str, order: &str) -> Socket {
    let mut socket = subscribe(server, token, ORDER_UPDATED, json!({"id": order})).await;
    let first = next_data(&mut socket).await;
    assert_eq!(
        first["data"]["orderUpdated"]["status"], "SUBMITTED",
        "{first:#}"
    );
    socket
}

async fn submit(commands: &dinghuo_commands::Commands, world: &World) -> String {
    commands
        .submit_order(
            &world.contact_ctx(),
            SubmitOrderInput {
                lines: vec![OrderLineInput {
                    product_id: world.products[0].to_string(),
                    quantity: 2,
                    sku: None,
                }],
                note: None,
            },
        )
        .await
        .expect("submit")
        .to_string()
}

on_both_backends! {
    async fn order_updated_follows_an_order_over_websocket(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let order = submit(&commands, &world).await;

        let contact = server.token(&world.contact_actor());
        let mut socket = follow_submitted(&server, &contact, &order).await;

        commands
            .confirm_order(&world.admin_ctx(), ConfirmOrderInput { order_id: order.clone() })
            .await
            .expect("confirm");
        let next = next_data(&mut socket).await;
        assert_eq!(next["data"]["orderUpdated"]["status"], "CONFIRMED", "{next:#}");

        // Another tenant's admin cannot follow it.
        let other = World::build(&commands, 1).await;
        let stranger = server.token(&other.admin);
        let mut socket = subscribe(
            &server,
            &stranger,
            ORDER_UPDATED,
            json!({"id": order}),
        )
        .await;
        let refused = next_message(&mut socket).await;
        let code = refused["payload"][0]["extensions"]["code"]
            .as_str()
            .or_else(|| refused["payload"]["errors"][0]["extensions"]["code"].as_str());
        assert_eq!(code, Some("NOT_FOUND"), "{refused:#}");
        server.stop().await;
    }

    async fn a_subscription_ends_with_unauthenticated_when_its_token_expires(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let order = submit(&commands, &world).await;
        // A token whose hour ran out a while ago, accepted within the clock skew for 3 s more.
        let issued_at = chrono::Utc::now()
            - chrono::Duration::seconds(3600 + CLOCK_SKEW_SECS as i64 - 3);
        let token = server
            .tokens
            .issue_at(&world.contact_actor(), issued_at, Duration::from_secs(3600))
            .expect("issue");
        let valid_until = server.tokens.verify_until(&token).expect("still accepted").valid_until;

        let mut socket = follow_submitted(&server, &token, &order).await;
        let ended = next_data(&mut socket).await;
        assert_eq!(
            ended["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{ended:#}"
        );
        // Not before the token stopped being accepted (`exp` counts whole seconds).
        assert!(chrono::Utc::now() >= valid_until - chrono::Duration::seconds(1), "{valid_until}");
        let complete = next_message(&mut socket).await;
        assert_eq!(complete["type"], "complete", "{complete:#}");

        // The connection was authenticated by that token: nothing more is served on it.
        let query = json!({"id": "2", "type": "subscribe", "payload": {
            "query": "{ orders(first: 1) { edges { node { id } } } }"}});
        socket
            .send(Message::Text(query.to_string().into()))
            .await
            .expect("send a query");
        let refused = next_data(&mut socket).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{refused:#}"
        );
        assert!(refused["data"].is_null(), "{refused:#}");
        server.stop().await;
    }

    async fn an_operation_graphql_refuses_over_websocket_answers_a_code_and_the_request_id(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let admin = server.token(&world.admin);
        // Found by the fuzz suite: async-graphql's own parse and validation errors left over
        // WebSocket without `extensions.code`, while over HTTP they answer `VALIDATION`.
        for document in [
            "subscription { noSuchField }",
            "subscription { events { eventType } ",
            "subscription($id: ID!) { orderUpdated(orderId: $id) { id } }",
            "{ viewer }",
        ] {
            let mut socket = subscribe(&server, &admin, document, json!({})).await;
            let refused = next_message(&mut socket).await;
            let errors = refused["payload"]["errors"]
                .as_array()
                .or_else(|| refused["payload"].as_array())
                .unwrap_or_else(|| panic!("{document}: no errors in {refused:#}"));
            assert!(!errors.is_empty(), "{document}: {refused:#}");
            for error in errors {
                assert_eq!(error["extensions"]["code"], "VALIDATION", "{document}: {refused:#}");
                assert!(
                    error["extensions"]["requestId"].is_string(),
                    "{document}: {refused:#}"
                );
            }
        }
        server.stop().await;
    }

    async fn a_message_that_breaks_the_protocol_closes_the_socket_with_a_valid_close_frame(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let admin = server.token(&world.admin);
        // Found by the fuzz suite: the close frame's reason was the whole parse error, which
        // quotes the client's message, past the 125 bytes a control frame may carry; clients
        // then fail the connection instead of reading the close.
        let mut socket = subscribe(&server, &admin, "subscription { events { eventType } }", json!({})).await;
        let kind = "x".repeat(300);
        let broken = json!({"type": kind}).to_string();
        socket.send(Message::Text(broken.into())).await.expect("send");
        let frame = loop {
            match tokio::time::timeout(PATIENCE, socket.next()).await.expect("an answer") {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("a close frame, not {other:?}"),
            }
        };
        let frame = frame.expect("a close frame with a code");
        assert_eq!(u16::from(frame.code), 1002, "{frame:?}");
        assert!(frame.reason.len() <= 123, "{frame:?}");
        server.stop().await;
    }

    async fn events_deliver_what_is_appended_over_websocket(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let auditor = server.token(&Actor::in_tenant(Uuid::now_v7(), Role::Auditor, world.tenant));
        let mut socket = subscribe(
            &server,
            &auditor,
            "subscription { events(eventTypes: [\"OrderSubmitted\"]) { eventType aggregateId } }",
            json!({}),
        )
        .await;
        // Give the subscription a moment to start following the feed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let order = submit(&commands, &world).await;
        loop {
            let data = next_data(&mut socket).await;
            assert_eq!(data["data"]["events"]["eventType"], "OrderSubmitted", "{data:#}");
            // On Postgres the stream may start with an event committed just before it began.
            if data["data"]["events"]["aggregateId"] == order.as_str() {
                break;
            }
        }
        server.stop().await;
    }
}
