//! The request gate (issue 15, items 1, 3 and 9) against a real server, on both backends: what
//! is refused before async-graphql parses or runs anything, over HTTP and WebSocket, and that the
//! server keeps serving after each refusal.
//!
//! - Values nested thousands deep (which overflowed the parser's stack and aborted the process)
//!   are `VALIDATION`, in a query literal, a variable default, a mutation input, the variables
//!   and a WebSocket `subscribe`.
//! - One sign-in field per request: a batch of 10 × 500 aliased `login`s, two fields through
//!   aliases or fragments, or two across a batch are refused before any attempt is counted.
//! - A NUL in any string (variables, literals, escapes) is `VALIDATION`, never `INTERNAL`.
//! - Fragments that spread each other twice over (a 1 KB text that async-graphql expanded into
//!   2^31 selections, keeping a core busy for most of an hour) are refused at once.

use std::time::Duration;

use dinghuo_store::Database;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Builds `inner` nested `levels` deep.
type Nest = fn(usize, &str) -> String;

/// `inner` inside `levels` lists.
fn lists(levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(levels), "]".repeat(levels))
}

/// `inner` inside `levels` input objects.
fn objects(levels: usize, inner: &str) -> String {
    format!("{}{inner}{}", "{a: ".repeat(levels), "}".repeat(levels))
}

/// The response is a `VALIDATION` refusal naming the request, whose message contains `says`.
fn assert_refused(response: &Value, says: &str) {
    let error = &response["errors"][0];
    assert_eq!(error["extensions"]["code"], "VALIDATION", "{response:#}");
    assert!(
        error["extensions"]["requestId"].is_string(),
        "names the request: {response:#}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} should say {says:?}");
    assert!(response["data"].is_null(), "nothing ran: {response:#}");
}

/// The server still answers a plain query.
async fn assert_serving(server: &TestServer) {
    let data = server.ok(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "QueryRoot");
}

/// Posts a raw JSON body (a batch, or one built by hand); answers the status and the body.
async fn post(server: &TestServer, token: Option<&str>, body: String) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn post_json(server: &TestServer, token: Option<&str>, body: &Value) -> Value {
    let (_, text) = post(server, token, body.to_string()).await;
    serde_json::from_str(&text).expect("a JSON answer")
}

/// Opens `/graphql/ws` with `connection_init` carrying `payload` (empty: anonymous).
async fn open_socket(server: &TestServer, payload: Value) -> Socket {
    let url = format!("ws://{}/graphql/ws", server.address);
    let mut request = url.into_client_request().expect("a WebSocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket opens");
    let init = json!({"type": "connection_init", "payload": payload});
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("send connection_init");
    let ack = next_message(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack:#}");
    socket
}

/// Subscribes with `id` and answers the first message about it.
async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    let subscribe =
        json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .expect("send subscribe");
    next_message(socket).await
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .expect("a WebSocket message");
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "ping" {
                    let pong = json!({"type": "pong"}).to_string();
                    socket.send(Message::Text(pong.into())).await.expect("pong");
                    continue;
                }
                return value;
            }
            Message::Ping(payload) => socket.send(Message::Pong(payload)).await.expect("pong"),
            other => panic!("unexpected WebSocket message {other:?}"),
        }
    }
}

/// A `next` message refused by the gate, then the operation's `complete`.
async fn assert_refused_on_socket(socket: &mut Socket, first: Value, says: &str) {
    assert_eq!(first["type"], "next", "{first:#}");
    assert_refused(&first["payload"], says);
    let complete = next_message(socket).await;
    assert_eq!(complete["type"], "complete", "{complete:#}");
}

async fn scalar(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("a count")
}

const TOO_DEEP: &str = "levels deep";
const NUL: &str = "NUL";
const SIGN_INS: &str = "sign-in field";
const TOO_LARGE: &str = "fragments are spread";

/// `levels` fragments, each spreading the next twice, over `on`; the last selects `leaf`.
fn doubling_fragments(operation: &str, on: &str, levels: usize, leaf: &str) -> String {
    let mut query = format!("{operation} {{ ...F0 }}\n");
    for level in 0..levels {
        let next = level + 1;
        query.push_str(&format!(
            "fragment F{level} on {on} {{ ...F{next} ...F{next} }}\n"
        ));
    }
    query.push_str(&format!("fragment F{levels} on {on} {{ {leaf} }}\n"));
    query
}

on_both_backends! {
    async fn values_nested_thousands_deep_are_refused_and_the_server_keeps_serving(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--no-processors"]).await;
        let tenant = world.tenant.to_string();
        let events = test.event_count().await;
        let mut socket = open_socket(&server, json!({})).await;
        let mut tried = 0;
        for levels in [2_000, 100_000] {
            let nests: [(&str, Nest); 2] = [("lists", lists), ("objects", objects)];
            for (kind, nest) in nests {
                let literal = format!("{{ __typename @include(if: {}) }}", nest(levels, "true"));
                let default = format!("query($v: Boolean = {}) {{ __typename }}", nest(levels, "true"));
                let input = format!(
                    "mutation {{ requestBindingCode(input: {{tenantId: \"{tenant}\", phone: {}}}) {{ accepted }} }}",
                    nest(levels, "\"13800138000\"")
                );
                for query in [&literal, &default, &input] {
                    assert!(query.len() < 1 << 20, "under the body limit");
                    let response = server.graphql(None, query, json!({})).await;
                    assert_refused(&response, TOO_DEEP);
                    assert_serving(&server).await;
                    tried += 1;
                }
                // Over WebSocket, after an empty `connection_init`.
                let subscription = format!(
                    "subscription {{ orderUpdated(orderId: {}) {{ id }} }}",
                    nest(levels, "\"x\"")
                );
                let id = format!("{kind}-{levels}");
                let first = subscribe(&mut socket, &id, &subscription, json!({})).await;
                assert_refused_on_socket(&mut socket, first, TOO_DEEP).await;
                assert_serving(&server).await;
                tried += 1;
            }
        }
        assert_eq!(tried, 16);

        // The variables: past the bound is refused naming the value's path; past what the JSON
        // decoder accepts (128 levels), the body is not a request at all.
        let query = "query($v: Boolean) { __typename @include(if: $v) }";
        let nested = (0..100).fold(json!(true), |inner, _| json!([inner]));
        let response = server.graphql(None, query, json!({"v": nested})).await;
        assert_refused(&response, TOO_DEEP);
        let field = response["errors"][0]["extensions"]["field"].as_str().unwrap_or_default();
        assert!(field.starts_with("v[0][0]"), "{response:#}");
        let body = format!(
            "{{\"query\": {}, \"variables\": {{\"v\": {}}}}}",
            json!(query),
            lists(2_000, "true")
        );
        let (status, _) = post(&server, None, body).await;
        assert_eq!(status, 400);
        assert_serving(&server).await;

        // Also on the same WebSocket, which is still open and serves a valid operation.
        let valid = "subscription { orderUpdated(orderId: \"x\") { id } }";
        let answer = subscribe(&mut socket, "valid", valid, json!({})).await;
        assert_eq!(answer["type"], "next", "{answer:#}");
        assert_ne!(answer["payload"]["errors"][0]["extensions"]["code"], "VALIDATION", "{answer:#}");

        // Nothing ran: not one sign-in attempt, not one event.
        assert_eq!(scalar(&test.db, "SELECT COUNT(*) FROM auth_attempts").await, 0);
        assert_eq!(test.event_count().await, events);
        server.stop().await;
    }

    async fn one_sign_in_field_per_request_and_nothing_is_verified_when_refused(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--no-processors"]).await;
        let tenant = world.tenant.to_string();
        let events = test.event_count().await;
        let login = |alias: &str| {
            format!("{alias}: login(input: {{tenantId: \"{tenant}\", phone: \"{}\", password: \"not-the-password\"}}) {{ token }}", World::PHONE)
        };
        let mut tried = 0;

        // Two aliased logins in one operation.
        let two = format!("mutation {{ {} {} }}", login("a"), login("b"));
        assert_refused(&server.graphql(None, &two, json!({})).await, SIGN_INS);
        tried += 1;

        // One field spread twice through a fragment, and two through inline fragments.
        let spread = format!(
            "mutation {{ ...F ...F }} fragment F on MutationRoot {{ requestBindingCode(input: {{tenantId: \"{tenant}\", phone: \"{}\"}}) {{ accepted }} }}",
            World::PHONE
        );
        assert_refused(&server.graphql(None, &spread, json!({})).await, SIGN_INS);
        let inline = format!(
            "mutation {{ ... on MutationRoot {{ {} }} ... {{ bindContact(input: {{tenantId: \"{tenant}\", phone: \"{}\", code: \"000000\", channel: \"APP\"}}) {{ token }} }} }}",
            login("a"),
            World::PHONE
        );
        assert_refused(&server.graphql(None, &inline, json!({})).await, SIGN_INS);
        tried += 2;

        // One in each operation of a batch.
        let one = format!("mutation {{ {} }}", login("a"));
        let batch = json!([{"query": one}, {"query": one}]);
        assert_refused(&post_json(&server, None, &batch).await, SIGN_INS);
        tried += 1;

        // A signed-in contact changing its password twice in one request.
        let contact = server.token(&world.contact_actor());
        let change = "mutation { a: changePassword(input: {currentPassword: \"not-the-password\", newPassword: \"another-password\"}) { mustChangePassword } b: changePassword(input: {currentPassword: \"not-the-password\", newPassword: \"a-third-password\"}) { mustChangePassword } }";
        assert_refused(&server.graphql(Some(&contact), change, json!({})).await, SIGN_INS);
        tried += 1;

        // The batch: 10 operations of 500 aliased logins each, about 620 KB.
        let aliases: Vec<String> = (0..500).map(|n| login(&format!("l{n}"))).collect();
        let operation = json!({"query": format!("mutation {{ {} }}", aliases.join(" "))});
        let batch = Value::Array(vec![operation; 10]);
        let body = batch.to_string();
        assert!(body.len() > 600_000 && body.len() < 1 << 20, "{} bytes", body.len());
        let (_, answer) = post(&server, None, body).await;
        let answer: Value = serde_json::from_str(&answer).expect("JSON");
        assert_refused(&answer, SIGN_INS);
        assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("5000"), "{answer:#}");
        tried += 1;
        assert_eq!(tried, 6);

        // Nothing was verified or written.
        assert_eq!(scalar(&test.db, "SELECT COUNT(*) FROM auth_attempts").await, 0);
        assert_eq!(test.event_count().await, events);

        // One sign-in field, beside other operations, runs: its attempt is counted.
        let batch = json!([{"query": one}, {"query": "{ __typename }"}]);
        let answer = post_json(&server, None, &batch).await;
        assert_eq!(answer[0]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{answer:#}");
        assert_eq!(answer[1]["data"]["__typename"], "QueryRoot", "{answer:#}");
        assert!(scalar(&test.db, "SELECT COUNT(*) FROM auth_attempts").await > 0);
        server.stop().await;
    }

    async fn a_nul_in_any_string_input_is_refused_as_validation_not_internal(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let admin = server.token(&world.admin);
        let nul = "ab\u{0}c";
        let id = format!("{}\u{0}", world.partner);
        // Each field with its input given as a variable `$v` of type `type`.
        let fields: [(&str, &str, &str); 10] = [
            ("partners namePrefix", "String", "partners(filter: {namePrefix: $v}) { edges { node { id } } }"),
            ("products skuPrefix", "String", "products(filter: {skuPrefix: $v}) { edges { node { id } } }"),
            ("events aggregateId", "ID", "events(filter: {aggregateId: $v}) { edges { node { position } } }"),
            ("events eventTypes", "String!", "events(filter: {eventTypes: [$v]}) { edges { node { position } } }"),
            ("order", "ID!", "order(id: $v) { id }"),
            ("partner", "ID!", "partner(id: $v) { id }"),
            ("aggregateHistory", "ID!", "aggregateHistory(id: $v) { position }"),
            ("aggregateAt", "ID!", "aggregateAt(id: $v, asOf: {version: 1}) { version }"),
            ("salesDaily partnerId", "ID", "salesDaily(from: \"2025-01-01\", to: \"2025-01-31\", partnerId: $v) { day }"),
            ("contacts partnerId", "ID", "contacts(filter: {partnerId: $v}) { edges { node { id } } }"),
        ];
        let mut tried = 0;
        for (name, ty, field) in fields {
            let value = if ty.starts_with("ID") { id.as_str() } else { nul };
            // As a variable.
            let query = format!("query($v: {ty}) {{ {field} }}");
            let response = server.graphql(Some(&admin), &query, json!({"v": value})).await;
            assert_refused(&response, NUL);
            assert_eq!(response["errors"][0]["extensions"]["field"], "v", "{name}: {response:#}");
            // As a literal with the escape `\u0000`, which the parser decodes.
            let escaped = serde_json::to_string(value).expect("a JSON string");
            let literal = format!("{{ {} }}", field.replace("$v", &escaped));
            assert!(literal.contains("\\u0000"), "{literal}");
            assert_refused(&server.graphql(Some(&admin), &literal, json!({})).await, NUL);
            // As a literal holding the character itself (JSON carries it as `\u0000`).
            let raw = format!("{{ {} }}", field.replace("$v", &format!("\"{value}\"")));
            assert_refused(&server.graphql(Some(&admin), &raw, json!({})).await, NUL);
            tried += 3;
        }
        // Deep inside a mutation's input.
        let product = "mutation($input: ListProductInput!) { listProduct(input: $input) { __typename } }";
        let input = json!({"sku": "NUL-1", "name": nul, "unit": "box", "price": {"amount": "1.00"}});
        let response = server.graphql(Some(&admin), product, json!({"input": input})).await;
        assert_refused(&response, NUL);
        assert_eq!(response["errors"][0]["extensions"]["field"], "input.name", "{response:#}");
        tried += 1;
        // Over WebSocket.
        let mut socket = open_socket(&server, json!({"Authorization": format!("Bearer {admin}")})).await;
        let subscription = "subscription($v: ID) { events(aggregateId: $v) { position } }";
        let first = subscribe(&mut socket, "1", subscription, json!({"v": id})).await;
        assert_refused_on_socket(&mut socket, first, NUL).await;
        tried += 1;
        assert_eq!(tried, 32);
        assert_serving(&server).await;
        server.stop().await;
    }

    async fn fragments_that_expand_exponentially_are_refused_at_once(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--no-processors"]).await;
        let patience = Duration::from_secs(20);
        // 2^31 selections from 1 KB (within async-graphql's 32 levels of fragments): before the
        // gate, one core spent most of an hour on it.
        let query = doubling_fragments("query", "QueryRoot", 30, "__typename");
        assert!(query.len() < 2_048, "{} bytes", query.len());
        let response = tokio::time::timeout(patience, server.graphql(None, &query, json!({})))
            .await
            .expect("answered at once");
        assert_refused(&response, TOO_LARGE);
        assert_serving(&server).await;

        // Over WebSocket, and as a mutation of sign-in fields.
        let mut socket = open_socket(&server, json!({})).await;
        let subscription = doubling_fragments("subscription", "SubscriptionRoot", 30, "orderUpdated(orderId: \"x\") { id }");
        let first = tokio::time::timeout(patience, subscribe(&mut socket, "1", &subscription, json!({})))
            .await
            .expect("answered at once");
        assert_refused_on_socket(&mut socket, first, TOO_LARGE).await;
        let tenant = world.tenant.to_string();
        let login = format!("login(input: {{tenantId: \"{tenant}\", phone: \"{}\", password: \"not-the-password\"}}) {{ token }}", World::PHONE);
        let mutation = doubling_fragments("mutation", "MutationRoot", 30, &login);
        let response = tokio::time::timeout(patience, server.graphql(None, &mutation, json!({})))
            .await
            .expect("answered at once");
        assert_refused(&response, TOO_LARGE);
        assert_eq!(scalar(&test.db, "SELECT COUNT(*) FROM auth_attempts").await, 0);

        // What a schema browser sends, fragments nested in fragments, still runs.
        let introspection = "query IntrospectionQuery { __schema { queryType { name } types { ...FullType } } }
            fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } } inputFields { ...InputValue } }
            fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
            fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";
        let data = server.ok(None, introspection, json!({})).await;
        assert!(data["__schema"]["types"].as_array().is_some_and(|types| types.len() > 50));
        server.stop().await;
    }
}
