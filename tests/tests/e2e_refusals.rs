//! The product document's refusals through the API, over HTTP, on both backends: each attempted
//! with a GraphQL mutation and answered with its code of DESIGN §2. (`PHONE_MISMATCH` needs a
//! binding code: `api/tests/graphql_auth.rs` attempts it through the schema.)

use dinghuo_commands::{Actor, Role};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::{json, Value};
use uuid::Uuid;

async fn refused(server: &TestServer, token: &str, document: &str, variables: Value) -> String {
    server.refused(Some(token), document, variables).await
}

on_both_backends! {
    async fn each_refusal_of_the_product_document_answers_its_code(test) {
        let commands = test.commands();
        let world = World::build(&commands, 2).await;
        let server = TestServer::start(&test.db, &[]).await;
        let operator = server.token(&Actor::operator(Uuid::now_v7()));
        let admin = server.token(&world.admin);

        // A brand without interconnect, and without the app, cannot switch the app on.
        let data = server
            .ok(Some(&operator), "mutation { registerTenant(input: {name: \"新品牌\"}) { tenantId } }", json!({}))
            .await;
        let fresh = data["registerTenant"]["tenantId"].as_str().expect("a tenant").to_owned();
        let fresh_id = dinghuo_domain::TenantId::parse(&fresh, "tenant").expect("an id");
        let fresh_admin = server.token(&Actor::in_tenant(Uuid::now_v7(), Role::Admin, fresh_id));
        let enable = "mutation { enableApp(input: {app: ORDERING}) { tenantId } }";
        assert_eq!(refused(&server, &fresh_admin, enable, json!({})).await, "INTERCONNECT_NOT_ENABLED");
        server
            .ok(Some(&operator), "mutation($t: ID!) { enableInterconnect(input: {tenantId: $t}) { tenantId } }", json!({"t": fresh}))
            .await;
        assert_eq!(refused(&server, &fresh_admin, enable, json!({})).await, "APP_NOT_PURCHASED");

        // Only a recorded customer becomes a partner; only a partner gets the app.
        let add = "mutation($c: ID!) { addPartner(input: {customerId: $c}) { partnerId } }";
        assert_eq!(
            refused(&server, &admin, add, json!({"c": Uuid::now_v7().to_string()})).await,
            "CUSTOMER_NOT_RECORDED"
        );
        let data = server
            .ok(Some(&admin), "mutation { recordCustomer(input: {name: \"未合作客户\"}) { partnerId } }", json!({}))
            .await;
        let customer = data["recordCustomer"]["partnerId"].as_str().expect("a customer").to_owned();
        let assign = "mutation($p: ID!) { assignApp(input: {partnerId: $p, app: ORDERING}) { partnerId } }";
        assert_eq!(refused(&server, &admin, assign, json!({"p": customer})).await, "NOT_A_PARTNER");

        // A partner contact needs a phone.
        let data = server
            .ok(
                Some(&admin),
                "mutation($c: ID!) { recordContact(input: {name: \"无电话\", customerId: $c}) { contactId } }",
                json!({"c": world.partner.to_string()}),
            )
            .await;
        let no_phone = data["recordContact"]["contactId"].as_str().expect("a contact").to_owned();
        let link = "mutation($c: ID!, $p: ID!) { addPartnerContact(input: {contactId: $c, partnerId: $p, side: THEIRS}) { contactId } }";
        assert_eq!(
            refused(&server, &admin, link, json!({"c": no_phone, "p": world.partner.to_string()})).await,
            "CONTACT_HAS_NO_PHONE"
        );

        // The same SKU twice.
        let list = "mutation { listProduct(input: {sku: \"DUP-1\", name: \"重复\", unit: \"箱\", price: {amount: \"1.00\"}}) { productId } }";
        server.ok(Some(&admin), list, json!({})).await;
        assert_eq!(refused(&server, &admin, list, json!({})).await, "DUPLICATE_SKU");

        // Ordering: a delisted product, a restricted contact, a suspended partner.
        let contact = server.token(&world.contact_actor());
        let submit = "mutation($p: ID!) { submitOrder(input: {lines: [{productId: $p, quantity: 1}]}) { orderId } }";
        server
            .ok(Some(&admin), "mutation($p: ID!) { delistProduct(input: {productId: $p}) { productId } }", json!({"p": world.products[1].to_string()}))
            .await;
        assert_eq!(
            refused(&server, &contact, submit, json!({"p": world.products[1].to_string()})).await,
            "PRODUCT_NOT_LISTED"
        );
        let restrict = "mutation($c: ID!, $d: [Permission!]!) { restrictContactPermissions(input: {contactId: $c, app: ORDERING, denied: $d}) { contactId } }";
        server
            .ok(Some(&admin), restrict, json!({"c": world.contact.to_string(), "d": ["CREATE_SALES_ORDER"]}))
            .await;
        assert_eq!(
            refused(&server, &contact, submit, json!({"p": world.products[0].to_string()})).await,
            "PERMISSION_DENIED"
        );
        server
            .ok(Some(&admin), restrict, json!({"c": world.contact.to_string(), "d": []}))
            .await;
        let suspend = "mutation($p: ID!) { suspendPartner(input: {partnerId: $p}) { partnerId } }";
        server.ok(Some(&admin), suspend, json!({"p": world.partner.to_string()})).await;
        assert_eq!(
            refused(&server, &contact, submit, json!({"p": world.products[0].to_string()})).await,
            "PARTNER_SUSPENDED"
        );
        server
            .ok(Some(&admin), "mutation($p: ID!) { reinstatePartner(input: {partnerId: $p}) { partnerId } }", json!({"p": world.partner.to_string()}))
            .await;
        server.ok(Some(&contact), submit, json!({"p": world.products[0].to_string()})).await;

        // Without the app assigned to its partner, a contact cannot order.
        let partner = json!({"p": world.partner.to_string()});
        server
            .ok(Some(&admin), "mutation($p: ID!) { unassignApp(input: {partnerId: $p, app: ORDERING}) { partnerId } }", partner.clone())
            .await;
        assert_eq!(
            refused(&server, &contact, submit, json!({"p": world.products[0].to_string()})).await,
            "APP_NOT_ASSIGNED"
        );
        // With the app switched off, it cannot be assigned.
        server.ok(Some(&admin), "mutation { disableApp(input: {app: ORDERING}) { tenantId } }", json!({})).await;
        assert_eq!(refused(&server, &admin, assign, partner.clone()).await, "APP_NOT_ENABLED");
        server.ok(Some(&admin), enable, json!({})).await;
        server.ok(Some(&admin), assign, partner).await;

        // An employee is never a their-side contact.
        let data = server
            .ok(
                Some(&admin),
                "mutation { recordContact(input: {name: \"员工\", phone: \"13700000001\", employee: true}) { contactId } }",
                json!({}),
            )
            .await;
        let employee = data["recordContact"]["contactId"].as_str().expect("an employee").to_owned();
        assert_eq!(
            refused(&server, &admin, link, json!({"c": employee, "p": world.partner.to_string()})).await,
            "WRONG_SIDE"
        );

        // A contact that never bound its identity cannot order. Over the API it never gets that
        // far: a contact's token stands only while it is bound (issue 15), so a token for it is
        // `UNAUTHENTICATED` before any command runs; the command layer's own answer,
        // `CONTACT_NOT_BOUND`, is checked in `refusals.rs`.
        let unbound = World::add_unbound_contact(&commands, &world.admin_ctx(), world.partner, "13600000002").await;
        let unbound = server.token(&Actor::in_tenant(unbound.as_uuid(), Role::Contact, world.tenant));
        assert_eq!(
            refused(&server, &unbound, submit, json!({"p": world.products[0].to_string()})).await,
            "UNAUTHENTICATED"
        );
        server.stop().await;
    }
}
