//! Sessions and the sign-in limits' client address against a real server on both backends
//! (issue 17, item 3): a contact signed in with an SMS code holds a token of a session;
//! `signOut` ends it for HTTP at once and for an open subscription at its next check, and
//! removing the contact from its partner ends it too. The
//! sign-in limits count per `X-Forwarded-For` address only with `--trusted-proxy-hops`; without
//! it the header is ignored and the TCP peer is counted.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dinghuo_commands::limiter::{Limit, Subject};
use dinghuo_commands::Commands;
use dinghuo_identity::binding;
use dinghuo_identity::limits::{self, Attempt};
use dinghuo_projections::outbox::Stored;
use dinghuo_store::sql;
use dinghuo_store::Database;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, ws, World};
use serde_json::{json, Value};

/// Waits until the server's projections show the world's contact as a partner contact with its
/// phone, which `requestBindingCode` looks the phone up in.
async fn wait_for_the_contact(db: &Database, world: &World) {
    let started = Instant::now();
    loop {
        let found: Vec<(String,)> = sql::fetch_all(
            db,
            "SELECT c.contact_id FROM outbox_contacts c
               JOIN rm_partner_contacts l ON l.contact_id = c.contact_id
              WHERE c.contact_id = $1",
            &[world.contact.to_string().into()],
        )
        .await
        .unwrap_or_default();
        if !found.is_empty() {
            return;
        }
        assert!(started.elapsed() < ws::PATIENCE, "the contact never showed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signs the world's contact in as a phone would: asks for a code, reads it from the SMS the
/// server queued (opening it with the server's outbox key), and binds with it. Answers the token.
async fn sign_in_with_a_code(server: &TestServer, db: &Database, world: &World) -> String {
    wait_for_the_contact(db, world).await;
    let tenant = world.tenant.to_string();
    // The dispatcher (every second) may send the SMS before it is read here, which clears the
    // code from the outbox: then ask again (the phone's limit allows five attempts).
    let mut code = None;
    for _ in 0..3 {
        code = requested_code(server, db, world).await;
        if code.is_some() {
            break;
        }
    }
    let code = code.expect("a code read before it was sent");
    let data = server
        .ok(
            None,
            "mutation($t: ID!, $p: String!, $c: String!) { bindContact(input: {tenantId: $t, phone: $p, code: $c, channel: \"WEB_QR\"}) { token } }",
            json!({"t": tenant, "p": World::PHONE, "c": code}),
        )
        .await;
    data["bindContact"]["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

/// Requests a code for the world's contact and reads it from the outbox; `None` when the SMS
/// was sent (and the code cleared) first.
async fn requested_code(server: &TestServer, db: &Database, world: &World) -> Option<String> {
    server
        .ok(
            None,
            "mutation($t: ID!, $p: String!) { requestBindingCode(input: {tenantId: $t, phone: $p}) { accepted } }",
            json!({"t": world.tenant.to_string(), "p": World::PHONE}),
        )
        .await;
    // The latest code's message: a new request cancels the previous one's.
    let (message_id, secret): (String, Option<String>) = sql::fetch_all(
        db,
        "SELECT message_id, secret FROM notification_outbox
          WHERE template = $1 AND contact_id = $2
          ORDER BY queued_at DESC, message_id DESC",
        &[binding::TEMPLATE.into(), world.contact.to_string().into()],
    )
    .await
    .expect("read the outbox")
    .into_iter()
    .next()
    .expect("a code was queued");
    let secret = secret?;
    let Stored::Sealed(sealed) = Stored::of(&secret) else {
        panic!("the code is stored in the clear");
    };
    Some(
        server
            .outbox_key()
            .open(&message_id, sealed)
            .expect("it opens"),
    )
}

/// A wrong password from `forwarded` (as `X-Forwarded-For`) for an unknown phone: answers the
/// error code.
async fn wrong_login(server: &TestServer, world: &World, forwarded: &str, phone: &str) -> String {
    let response: Value = reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({
            "query": "mutation($t: ID!, $p: String!) { login(input: {tenantId: $t, phone: $p, password: \"not-the-password\"}) { token } }",
            "variables": {"t": world.tenant.to_string(), "p": phone},
        }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Spends every wrong guess `address` may make in the window, as failed sign-ins would.
async fn spend_guesses_of(db: &Database, address: &str) {
    let address: IpAddr = address.parse().expect("an address");
    let subject: (Subject, Limit) = limits::address(Attempt::Guess, address);
    for _ in 0..limits::ADDRESS_GUESSES_PER_WINDOW {
        limits::reserve(db, std::slice::from_ref(&subject), limits::now_ms())
            .await
            .expect("within the limit")
            .failed();
    }
}

async fn world(test: &dinghuo_tests::TestDb) -> (Commands, World) {
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    (commands, world)
}

on_both_backends! {
    async fn signing_out_ends_the_session_for_http_and_for_an_open_subscription(test) {
        let (_commands, world) = world(&test).await;
        let server = TestServer::start(&test.db, &[]).await;
        let token = sign_in_with_a_code(&server, &test.db, &world).await;
        let order = server
            .ok(
                Some(&token),
                "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 1}]}) { orderId } }",
                json!({"p": world.products[0].to_string()}),
            )
            .await["submitOrder"]["orderId"]
            .as_str()
            .expect("an order id")
            .to_owned();
        let mut socket = ws::subscribe(
            &server,
            &token,
            "subscription($id: ID!) { orderUpdated(orderId: $id) { id } }",
            json!({"id": order}),
        )
        .await;
        let first = ws::next_data(&mut socket).await;
        assert_eq!(first["data"]["orderUpdated"]["id"], order.as_str(), "{first:#}");

        let out = server.ok(Some(&token), "mutation { signOut { signedOut } }", json!({})).await;
        assert_eq!(out["signOut"]["signedOut"], true);
        let code = server.refused(Some(&token), "{ viewer { id } }", json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED");
        let code = server.refused(Some(&token), "mutation { signOut { signedOut } }", json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED", "an ended session cannot sign out again");

        let ended = ws::next_message(&mut socket).await;
        assert_eq!(ws::error_code(&ended), Some("UNAUTHENTICATED"), "{ended:#}");
        let complete = ws::next_message(&mut socket).await;
        assert_eq!(complete["type"], "complete", "{complete:#}");
        server.stop().await;
    }

    async fn removing_a_contact_from_its_partner_ends_its_sessions(test) {
        let (_commands, world) = world(&test).await;
        let server = TestServer::start(&test.db, &[]).await;
        let token = sign_in_with_a_code(&server, &test.db, &world).await;
        server.ok(Some(&token), "{ viewer { id } }", json!({})).await;
        let admin = server.token(&world.admin);
        server
            .ok(
                Some(&admin),
                "mutation($c: ID!, $p: ID!) { removePartnerContact(input: {contactId: $c, partnerId: $p}) { contactId } }",
                json!({"c": world.contact.to_string(), "p": world.partner.to_string()}),
            )
            .await;
        let reasons: Vec<(Option<String>,)> = sql::fetch_all(
            &test.db,
            "SELECT revoked_reason FROM sessions WHERE subject_id = $1",
            &[world.contact.to_string().into()],
        )
        .await
        .expect("read sessions");
        assert_eq!(reasons, vec![(Some("UNBOUND".to_owned()),)]);
        let code = server.refused(Some(&token), "{ viewer { id } }", json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED");
        server.stop().await;
    }

    async fn with_one_trusted_proxy_the_limits_count_per_forwarded_address(test) {
        let (_commands, world) = world(&test).await;
        let server = TestServer::start(&test.db, &["--trusted-proxy-hops", "1"]).await;
        spend_guesses_of(&test.db, "198.51.100.7").await;
        // The office that guessed too much is stopped; another office behind the same proxy is
        // not; a client that puts an address of its own in front changes nothing.
        assert_eq!(wrong_login(&server, &world, "198.51.100.7", "13700000001").await, "RATE_LIMITED");
        assert_eq!(wrong_login(&server, &world, "203.0.113.1, 198.51.100.7", "13700000002").await, "RATE_LIMITED");
        assert_eq!(wrong_login(&server, &world, "198.51.100.8", "13700000003").await, "UNAUTHENTICATED");
        server.stop().await;
    }

    async fn without_trusted_proxies_a_forwarded_address_is_ignored(test) {
        let (_commands, world) = world(&test).await;
        let server = TestServer::start(&test.db, &[]).await;
        spend_guesses_of(&test.db, "127.0.0.1").await;
        // Every request comes from 127.0.0.1, whatever the header claims.
        assert_eq!(wrong_login(&server, &world, "198.51.100.8", "13700000004").await, "RATE_LIMITED");
        server.stop().await;
    }
}
