//! A contact's token stands only while the binding it proves does (issue 15, items 7 and 11),
//! against a real server on both backends: removed from its partner (and added again), unlinked,
//! or given a new phone, a contact's old token is `UNAUTHENTICATED` for every read — orders,
//! their lines and notes, the catalog — and its subscriptions end; a token issued after it bound
//! again works. Tokens with a future `nbf` or `iat`, or a `crit` header, are refused too.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dinghuo_api::auth::standing::STANDING_TTL;
use dinghuo_api::auth::token::CLOCK_SKEW_SECS;
use dinghuo_api::auth::{Claims, ISSUER};
use dinghuo_api::graphql::standing::RECHECK;
use dinghuo_commands::{
    Actor, BindContactInput, Commands, OrderLineInput, SubmitOrderInput, UpdateContactInput,
};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, ws, World};
use serde_json::json;

/// Every kind of read a contact makes: its partner's orders with lines and notes, one order, the
/// catalog with prices, and who it is.
const READS: [&str; 4] = [
    "{ orders(first: 5) { edges { node { id note lines { sku quantity unitPrice { amount } } } } } }",
    "query($id: ID!) { order(id: $id) { id note total { amount } lines { sku name } } }",
    "{ products(first: 5) { edges { node { sku name price { amount } } } } }",
    "{ viewer { id role } }",
];

/// A world, a server over it, and an order of the world's partner with a note.
struct Setup {
    commands: Commands,
    world: World,
    server: TestServer,
    order: String,
}

async fn setup(test: &dinghuo_tests::TestDb) -> Setup {
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    let order = commands
        .submit_order(
            &world.contact_ctx(),
            SubmitOrderInput {
                lines: vec![OrderLineInput {
                    product_id: world.products[0].to_string(),
                    quantity: 2,
                    sku: None,
                }],
                note: Some("call before delivery".into()),
            },
        )
        .await
        .expect("submit")
        .to_string();
    let server = TestServer::start(&test.db, &[]).await;
    // The order was written before the server started: wait until its read model shows it.
    let admin = server.token(&world.admin);
    let started = Instant::now();
    loop {
        let data = server
            .ok(
                Some(&admin),
                "query($id: ID!) { order(id: $id) { id } }",
                json!({"id": order}),
            )
            .await;
        if !data["order"].is_null() {
            break;
        }
        assert!(started.elapsed() < ws::PATIENCE, "the order never showed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Setup {
        commands,
        world,
        server,
        order,
    }
}

impl Setup {
    /// Asserts that every read answers data with `token`.
    async fn reads_everything(&self, token: &str) {
        for read in READS {
            let data = self
                .server
                .ok(Some(token), read, json!({"id": self.order}))
                .await;
            let root = data.as_object().and_then(|root| root.values().next());
            assert!(
                root.is_some_and(|value| !value.is_null()),
                "{read}: {data:#}"
            );
        }
        let data = self
            .server
            .ok(Some(token), READS[1], json!({"id": self.order}))
            .await;
        assert_eq!(data["order"]["note"], "call before delivery", "{data:#}");
    }

    /// Asserts that every read, and an order, is refused with `UNAUTHENTICATED` and no data.
    async fn refuses_everything(&self, token: &str) {
        for read in READS {
            let response = self
                .server
                .graphql(Some(token), read, json!({"id": self.order}))
                .await;
            assert_eq!(
                response["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{read}: {response:#}"
            );
            assert!(response["data"].is_null(), "{read}: {response:#}");
        }
        let code = self
            .server
            .refused(
                Some(token),
                "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 1}]}) { orderId } }",
                json!({"p": self.world.products[0].to_string()}),
            )
            .await;
        assert_eq!(code, "UNAUTHENTICATED");
    }

    /// The admin removes the world's contact from its partner, through the server.
    async fn remove_contact(&self) {
        let admin = self.server.token(&self.world.admin);
        self.server
            .ok(
                Some(&admin),
                "mutation($c: ID!, $p: ID!) { removePartnerContact(input: {contactId: $c, partnerId: $p}) { contactId } }",
                json!({"c": self.world.contact.to_string(), "p": self.world.partner.to_string()}),
            )
            .await;
    }

    /// The admin adds the world's contact to its partner again, through the server.
    async fn add_contact_again(&self) {
        let admin = self.server.token(&self.world.admin);
        self.server
            .ok(
                Some(&admin),
                "mutation($c: ID!, $p: ID!) { addPartnerContact(input: {contactId: $c, partnerId: $p, side: THEIRS}) { contactId } }",
                json!({"c": self.world.contact.to_string(), "p": self.world.partner.to_string()}),
            )
            .await;
    }

    /// The contact binds again with `phone`, as signing in with a code does.
    async fn bind_again(&self, phone: &str) {
        self.commands
            .bind_contact(
                &self.world.contact_ctx(),
                BindContactInput {
                    contact_id: self.world.contact.to_string(),
                    phone: phone.to_owned(),
                    channel: "WEB_QR".into(),
                    wechat_open_id: None,
                },
            )
            .await
            .expect("bind again");
    }
}

fn contact_of(world: &World) -> Actor {
    world.contact_actor()
}

on_both_backends! {
    async fn a_contact_removed_and_added_again_signs_in_again_even_once_bound_again(test) {
        let setup = setup(&test).await;
        let actor = contact_of(&setup.world);
        let old = setup.server.token(&actor);
        setup.reads_everything(&old).await;

        setup.remove_contact().await;
        setup.add_contact_again().await;
        setup.refuses_everything(&old).await;

        // Bound again: the old token proved the binding that was undone, and stays refused.
        setup.bind_again(World::PHONE).await;
        setup.refuses_everything(&old).await;
        // A token issued now, as signing in issues it, works.
        let fresh = setup.server.contact_token(&setup.commands, &actor).await;
        setup.reads_everything(&fresh).await;
        setup.refuses_everything(&old).await;
        setup.server.stop().await;
    }

    async fn an_unlinked_contact_reads_nothing_not_even_the_catalog(test) {
        let setup = setup(&test).await;
        let actor = contact_of(&setup.world);
        let old = setup.server.token(&actor);
        setup.reads_everything(&old).await;
        setup.remove_contact().await;
        setup.refuses_everything(&old).await;
        // No token of the current epoch helps while it is not bound and linked.
        let current = setup.server.contact_token(&setup.commands, &actor).await;
        setup.refuses_everything(&current).await;
        setup.server.stop().await;
    }

    async fn a_change_made_outside_this_server_counts_within_the_standing_ttl(test) {
        // A phone change written through the command layer directly, as the CLI or another API
        // node would: this server learns of it when its kept answer is older than the TTL.
        let setup = setup(&test).await;
        let actor = contact_of(&setup.world);
        let old = setup.server.token(&actor);
        setup.reads_everything(&old).await;
        let changed = Instant::now();
        setup
            .commands
            .update_contact(
                &setup.world.admin_ctx(),
                UpdateContactInput {
                    contact_id: setup.world.contact.to_string(),
                    name: "Li Lei".into(),
                    phone: Some("13912345678".into()),
                },
            )
            .await
            .expect("change the phone");
        loop {
            let response = setup
                .server
                .graphql(Some(&old), READS[2], json!({}))
                .await;
            if response["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
                break;
            }
            assert!(
                // The TTL, and a margin for a request on a busy machine.
                changed.elapsed() < STANDING_TTL + Duration::from_millis(1500),
                "still served {:?} after the phone changed: {response:#}",
                changed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        setup.refuses_everything(&old).await;
        // Bound with the new number, and signed in again: served.
        setup.bind_again("13912345678").await;
        let fresh = setup.server.contact_token(&setup.commands, &actor).await;
        setup.reads_everything(&fresh).await;
        setup.server.stop().await;
    }

    async fn a_contacts_subscription_ends_when_its_binding_is_cleared(test) {
        let setup = setup(&test).await;
        let actor = contact_of(&setup.world);
        let old = setup.server.token(&actor);
        let mut socket = ws::subscribe(
            &setup.server,
            &old,
            "subscription($id: ID!) { orderUpdated(orderId: $id) { id status note } }",
            json!({"id": setup.order}),
        )
        .await;
        let first = ws::next_data(&mut socket).await;
        assert_eq!(first["data"]["orderUpdated"]["id"], setup.order.as_str(), "{first:#}");

        setup.remove_contact().await;
        let removed = Instant::now();
        let ended = ws::next_message(&mut socket).await;
        assert_eq!(ws::error_code(&ended), Some("UNAUTHENTICATED"), "{ended:#}");
        // Noticed at the next check: the server forgot the contact's standing when it removed it.
        assert!(
            removed.elapsed() < RECHECK + STANDING_TTL,
            "ended {:?} after the removal",
            removed.elapsed()
        );
        let complete = ws::next_message(&mut socket).await;
        assert_eq!(complete["type"], "complete", "{complete:#}");

        // Nothing more is served on that connection, a subscription or a query.
        for (id, query) in [
            ("2", "subscription($id: ID!) { orderUpdated(orderId: $id) { id } }"),
            ("3", "{ products(first: 1) { edges { node { sku } } } }"),
        ] {
            ws::start(&mut socket, id, query, json!({"id": setup.order})).await;
            let refused = ws::next_message(&mut socket).await;
            assert_eq!(ws::error_code(&refused), Some("UNAUTHENTICATED"), "{query}: {refused:#}");
            assert!(refused["payload"]["data"].is_null(), "{refused:#}");
            let complete = ws::next_message(&mut socket).await;
            assert_eq!((complete["type"].as_str(), complete["id"].as_str()), (Some("complete"), Some(id)));
        }
        setup.server.stop().await;
    }

    async fn tokens_with_a_future_nbf_or_iat_or_a_crit_header_are_unauthenticated(test) {
        let setup = setup(&test).await;
        let now = u64::try_from(chrono::Utc::now().timestamp()).expect("after 1970");
        let admin = setup.world.admin;
        let claims = |nbf: Option<u64>, iat: u64| Claims {
            sub: admin.id,
            tenant: admin.tenant_id.map(|tenant| tenant.as_uuid()),
            role: "admin".to_owned(),
            iat,
            exp: iat + 3600,
            iss: ISSUER.to_owned(),
            nbf,
            binding_epoch: None,
            sid: None,
            pwd_change: false,
            mid: None,
            amr: None,
        };
        let secret = setup.server.jwt_secret();
        let craft = |header: &str, claims: &Claims| {
            let payload = serde_json::to_string(claims).expect("claims are JSON");
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(payload)
            );
            let signature = jsonwebtoken::crypto::sign(
                message.as_bytes(),
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
                jsonwebtoken::Algorithm::HS256,
            )
            .expect("sign");
            format!("{message}.{signature}")
        };
        let plain = r#"{"typ":"JWT","alg":"HS256"}"#;
        let later = now + CLOCK_SKEW_SECS + 600;
        // The control: crafted the same way, a sound token is served.
        let sound = craft(plain, &claims(None, now));
        setup.server.ok(Some(&sound), READS[3], json!({})).await;
        let mut tried = 0;
        for token in [
            craft(plain, &claims(Some(later), now)),
            craft(plain, &claims(None, later)),
            craft(r#"{"typ":"JWT","alg":"HS256","crit":["exp"]}"#, &claims(None, now)),
        ] {
            for read in [READS[3], READS[2]] {
                let code = setup.server.refused(Some(&token), read, json!({})).await;
                assert_eq!(code, "UNAUTHENTICATED", "{token}");
                tried += 1;
            }
        }
        assert_eq!(tried, 6);
        setup.server.stop().await;
    }
}
