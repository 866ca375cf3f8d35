//! The whole flow of the product document through the API, over HTTP, on both backends: the
//! operator registers a tenant and sells it the ordering app; its admin switches interconnect
//! and the app on, lists a product, records a customer, makes it a partner, assigns the app and
//! adds a their-side contact; the SMS is in the outbox and reaches the (fake) SMS gateway; the
//! contact asks for a binding code, binds, orders; the admin confirms and ships; the contact
//! receives. SMS go through the `http` provider to a gateway run by this test, which is how the
//! test learns the code, as the contact's phone would.
//!
//! Its own test binary: it sets `DINGHUO_SMS_TOKEN` for the server it starts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use dinghuo_commands::Actor;
use dinghuo_tests::on_both_backends;
use dinghuo_tests::server::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// What the fake gateway received: (phone, text).
type Inbox = Arc<Mutex<Vec<(String, String)>>>;

async fn fake_gateway() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let received = inbox.clone();
    let app = Router::new().route(
        "/sms",
        post(move |Json(body): Json<Value>| {
            let received = received.clone();
            async move {
                let phone = body["phone"].as_str().unwrap_or_default().to_owned();
                let text = body["text"].as_str().unwrap_or_default().to_owned();
                if let Ok(mut inbox) = received.lock() {
                    inbox.push((phone, text));
                }
                Json(json!({"id": Uuid::now_v7().to_string()}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the gateway");
    let url = format!("http://{}/sms", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, inbox)
}

/// Waits until the gateway got a text for `phone` containing `needle`; answers the text.
async fn texted(inbox: &Inbox, phone: &str, needle: &str) -> String {
    for _ in 0..400 {
        let found = inbox.lock().ok().and_then(|inbox| {
            inbox
                .iter()
                .rev()
                .find(|(to, text)| to == phone && text.contains(needle))
                .map(|(_, text)| text.clone())
        });
        if let Some(text) = found {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no SMS to {phone} containing {needle:?}");
}

/// The six digits of a binding-code SMS.
fn code_in(text: &str) -> String {
    text.as_bytes()
        .windows(6)
        .find(|w| w.iter().all(u8::is_ascii_digit))
        .and_then(|w| std::str::from_utf8(w).ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no 6-digit code in {text:?}"))
}

on_both_backends! {
    async fn the_product_document_end_to_end_over_http(test) {
        let (gateway, inbox) = fake_gateway().await;
        std::env::set_var("DINGHUO_SMS_TOKEN", "test-gateway-token");
        let server = TestServer::start(
            &test.db,
            &["--sms-provider", "http", "--sms-url", &gateway],
        )
        .await;
        let operator = server.token(&Actor::operator(Uuid::now_v7()));

        // The operator registers the tenant and sells it basic interconnect and ordering.
        let data = server
            .ok(Some(&operator), "mutation { registerTenant(input: {name: \"华南食品\"}) { tenantId } }", json!({}))
            .await;
        let tenant = data["registerTenant"]["tenantId"].as_str().expect("a tenant").to_owned();
        server
            .ok(
                Some(&operator),
                "mutation($t: ID!) { enableInterconnect(input: {tenantId: $t}) { tenantId } }",
                json!({"t": tenant}),
            )
            .await;
        server
            .ok(
                Some(&operator),
                "mutation($t: ID!) { purchaseApp(input: {tenantId: $t, app: ORDERING}) { tenantId } }",
                json!({"t": tenant}),
            )
            .await;

        // Its admin enables the app and lists a product.
        let tenant_id = dinghuo_domain::TenantId::parse(&tenant, "tenant").expect("a tenant id");
        let admin = server.token(&Actor::in_tenant(Uuid::now_v7(), dinghuo_commands::Role::Admin, tenant_id));
        let admin = Some(admin.as_str());
        let data = server
            .ok(admin, "mutation { enableApp(input: {app: ORDERING}) { tenant { apps { app enabled } } } }", json!({}))
            .await;
        assert!(data.to_string().contains("ORDERING"), "{data:#}");
        let data = server
            .ok(
                admin,
                "mutation { listProduct(input: {sku: \"RICE-5KG\", name: \"五常大米 5kg\", unit: \"袋\", price: {amount: \"59.90\"}}) { productId product { price { amount currency } } } }",
                json!({}),
            )
            .await;
        assert_eq!(data["listProduct"]["product"]["price"], json!({"amount": "59.90", "currency": "CNY"}));
        let product = data["listProduct"]["productId"].as_str().expect("a product").to_owned();

        // A customer becomes a partner with the ordering app, and gets a their-side contact.
        let data = server
            .ok(admin, "mutation { recordCustomer(input: {name: \"广州贸易行\"}) { partnerId } }", json!({}))
            .await;
        let partner = data["recordCustomer"]["partnerId"].as_str().expect("a customer").to_owned();
        server
            .ok(admin, "mutation($c: ID!) { addPartner(input: {customerId: $c}) { partner { isPartner } } }", json!({"c": partner}))
            .await;
        let data = server
            .ok(admin, "mutation($p: ID!) { assignApp(input: {partnerId: $p, app: ORDERING}) { partner { assignedApps } } }", json!({"p": partner}))
            .await;
        assert_eq!(data["assignApp"]["partner"]["assignedApps"], json!(["ORDERING"]));
        let phone = "13912345678";
        let data = server
            .ok(
                admin,
                "mutation($c: ID!, $phone: String!) { recordContact(input: {name: \"陈经理\", phone: $phone, customerId: $c}) { contactId } }",
                json!({"c": partner, "phone": phone}),
            )
            .await;
        let contact = data["recordContact"]["contactId"].as_str().expect("a contact").to_owned();
        server
            .ok(
                admin,
                "mutation($c: ID!, $p: ID!) { addPartnerContact(input: {contactId: $c, partnerId: $p, side: THEIRS}) { contact { bound } } }",
                json!({"c": contact, "p": partner}),
            )
            .await;

        // The invitation SMS is in the outbox, and reaches the gateway.
        let mut queued = Value::Null;
        for _ in 0..100 {
            queued = server
                .ok(admin, "{ notifications(first: 5) { edges { node { contactId phoneMasked status } } } }", json!({}))
                .await;
            if queued["notifications"]["edges"].as_array().is_some_and(|e| !e.is_empty()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let invitation = &queued["notifications"]["edges"][0]["node"];
        assert_eq!(invitation["contactId"], contact.as_str(), "{queued:#}");
        assert_eq!(invitation["phoneMasked"], "139****5678");
        texted(&inbox, phone, "华南食品").await;

        // The contact asks for a code, receives it by SMS, and binds.
        server
            .ok(
                None,
                "mutation($t: ID!, $phone: String!) { requestBindingCode(input: {tenantId: $t, phone: $phone}) { accepted } }",
                json!({"t": tenant, "phone": phone}),
            )
            .await;
        let sms = texted(&inbox, phone, "验证码").await;
        let code = code_in(&sms);
        let data = server
            .ok(
                None,
                "mutation($t: ID!, $phone: String!, $code: String!) { bindContact(input: {tenantId: $t, phone: $phone, code: $code, channel: \"MINI_PROGRAM\", wechatOpenId: \"o6_bmjrPTlm6_2sgVt7hMZOPfL2M\"}) { token contact { id partnerId } } }",
                json!({"t": tenant, "phone": phone, "code": code}),
            )
            .await;
        assert_eq!(data["bindContact"]["contact"]["id"], contact.as_str());
        let contact_token = data["bindContact"]["token"].as_str().expect("a token").to_owned();
        let contact_token = Some(contact_token.as_str());

        // It orders; the admin confirms and ships; it receives.
        let data = server
            .ok(
                contact_token,
                "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 2}], note: \"周五前送到\"}) { orderId order { status total { amount } } } }",
                json!({"p": product}),
            )
            .await;
        assert_eq!(data["submitOrder"]["order"]["total"]["amount"], "119.80");
        let order = data["submitOrder"]["orderId"].as_str().expect("an order").to_owned();
        for (who, mutation, status) in [
            (admin, "confirmOrder(input: {orderId: $o})", "CONFIRMED"),
            (admin, "shipOrder(input: {orderId: $o, carrier: \"顺丰速运\", trackingNumber: \"SF1234567890\"})", "SHIPPED"),
            (contact_token, "receiveOrder(input: {orderId: $o})", "RECEIVED"),
        ] {
            let data = server
                .ok(who, &format!("mutation($o: ID!) {{ step: {mutation} {{ order {{ status }} }} }}"), json!({"o": order}))
                .await;
            assert_eq!(data["step"]["order"]["status"], status, "{data:#}");
        }
        server.stop().await;
    }
}
