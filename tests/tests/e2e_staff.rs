//! Staff sign-in against a real server on both backends (DESIGN §4, Identity; issue 17,
//! item 3): the operator creates a tenant's first admin, admins invite employees, and both sign
//! in as themselves with their phone and an SMS code or a password. Their tokens name sessions
//! that `signOut`, `setPassword` and `revokeStaffAccess` end. A phone with memberships in two
//! tenants chooses one and switches. The sign-in limits stop a guesser at one phone while an
//! office of 50 behind one address signs in. No staff member sees or touches another tenant.
//!
//! Every refusal here also checks that the event log did not grow.

use std::collections::BTreeSet;
use std::time::Duration;

use dinghuo_commands::{
    Commands, OrderLineInput, RecordContactInput, RegisterTenantInput, RevokeStaffAccessInput,
    SubmitOrderInput,
};
use dinghuo_store::sql;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::staff::{self, SignedIn};
use dinghuo_tests::{on_both_backends, ws, TestDb, World};
use serde_json::{json, Value};

/// The first admin's phone, as the operator types it and as the admin signs in with it.
const ADMIN_PHONE_TYPED: &str = "+86 139-0000-0001";
const ADMIN_PHONE: &str = "13900000001";

/// A tenant (the [`World`]) with a first admin created by the operator and signed in with a code.
struct Office {
    server: TestServer,
    commands: Commands,
    world: World,
    operator: String,
    /// The admin as `createTenantAdmin` answered it.
    admin_member: Value,
    admin: SignedIn,
}

impl Office {
    fn tenant(&self) -> String {
        self.world.tenant.to_string()
    }

    /// An employee of the tenant recorded with `phone`, linked to `partner` when given, and
    /// invited by the signed-in admin: answers its contact id and the `StaffMember`.
    async fn employee(&self, name: &str, phone: &str, partner: Option<&str>) -> (String, Value) {
        let contact = staff::record_employee(&self.server, &self.admin.token, name, phone).await;
        if let Some(partner) = partner {
            staff::link_employee(&self.server, &self.admin.token, &contact, partner).await;
        }
        let member = staff::invite_employee(&self.server, &self.admin.token, &contact).await;
        (contact, member)
    }
}

async fn office(test: &TestDb, flags: &[&str]) -> Office {
    office_from(test, flags, None).await
}

/// An [`Office`] whose admin signs in from `forwarded` (as `X-Forwarded-For`).
async fn office_from(test: &TestDb, flags: &[&str], forwarded: Option<&str>) -> Office {
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    let server = TestServer::start(&test.db, flags).await;
    let operator = staff::operator_token(&server);
    let admin_member = staff::create_tenant_admin(
        &server,
        &operator,
        world.tenant,
        "Zhang San",
        ADMIN_PHONE_TYPED,
    )
    .await;
    let admin =
        staff::sign_in_with_a_code(&server, &test.db, forwarded, "139 0000 0001", None).await;
    Office {
        server,
        commands,
        world,
        operator,
        admin_member,
        admin,
    }
}

/// Runs `query` as `token` and asserts that it was refused with `code` and appended no event.
/// Answers the error.
async fn assert_refused(
    test: &TestDb,
    server: &TestServer,
    token: Option<&str>,
    query: &str,
    variables: Value,
    code: &str,
) -> Value {
    let before = test.event_count().await;
    let response = server.graphql(token, query, variables).await;
    let error = staff::error_of(query, &response);
    assert_eq!(staff::code_of(&error), code, "{query}\n{response:#}");
    assert_eq!(
        test.event_count().await,
        before,
        "{query} was refused with {code} but appended events"
    );
    error
}

/// A refused `signIn` (from `forwarded`): answers the first error.
async fn refused_sign_in(
    server: &TestServer,
    forwarded: Option<&str>,
    phone: &str,
    code: Option<&str>,
    password: Option<&str>,
    tenant: Option<&str>,
) -> Value {
    let response = staff::sign_in_response(server, forwarded, phone, code, password, tenant).await;
    staff::error_of(staff::SIGN_IN, &response)
}

/// The code of a refused `signIn` (from `forwarded`).
async fn sign_in_code(
    server: &TestServer,
    forwarded: Option<&str>,
    phone: &str,
    code: Option<&str>,
    password: Option<&str>,
    tenant: Option<&str>,
) -> String {
    let error = refused_sign_in(server, forwarded, phone, code, password, tenant).await;
    staff::code_of(&error).to_owned()
}

/// Whether `token` still signs its caller in.
async fn refused_code(server: &TestServer, token: &str) -> Option<String> {
    let response = server
        .graphql(Some(token), "{ viewer { id } }", json!({}))
        .await;
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// Submits an order of one product as a (bound) contact through the command layer.
async fn place(commands: &Commands, contact: dinghuo_commands::Actor, product: String) -> String {
    commands
        .submit_order(
            &dinghuo_commands::RequestContext::new(contact),
            SubmitOrderInput {
                lines: vec![OrderLineInput {
                    product_id: product,
                    quantity: 2,
                    sku: None,
                }],
                note: None,
            },
        )
        .await
        .expect("submit an order")
        .to_string()
}

/// A token's expiry is twelve hours from now (a minute either way).
fn expires_in_twelve_hours(payload: &Value) {
    let at = payload["tokenExpiresAt"]
        .as_str()
        .unwrap_or_else(|| panic!("an expiry: {payload:#}"));
    let at = chrono::DateTime::parse_from_rfc3339(at).expect("an RFC 3339 time");
    let left = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    let twelve = chrono::TimeDelta::hours(12);
    let minute = chrono::TimeDelta::minutes(1);
    assert!(
        left > twelve - minute && left < twelve + minute,
        "the token lasts {left}: {payload:#}"
    );
}

/// One aggregate's events with who appended them.
const EVENTS: &str = "query($id: ID!) { events(first: 20, filter: {aggregateId: $id}) { edges { node { eventType metadata } } } }";

/// The event of `event_type` in an answer of [`EVENTS`].
fn logged<'a>(data: &'a Value, event_type: &str) -> &'a Value {
    &data["events"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("events: {data:#}"))
        .iter()
        .find(|edge| edge["node"]["eventType"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {data:#}"))["node"]
}

const STAFF_MEMBERS: &str = "query($s: MemberStatus) { staffMembers(first: 50, status: $s) { edges { node { id tenantId role name phoneMasked contactId actorId status } } } }";

/// The `(id, status)` of the staff members `token` lists.
async fn listed_members(
    server: &TestServer,
    token: &str,
    status: Option<&str>,
) -> BTreeSet<(String, String)> {
    let data = server
        .ok(Some(token), STAFF_MEMBERS, json!({"s": status}))
        .await;
    data["staffMembers"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection: {data:#}"))
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["id"].as_str().expect("an id").to_owned(),
                node["status"].as_str().expect("a status").to_owned(),
            )
        })
        .collect()
}

/// `(tenantId, role)` of a list of memberships.
fn tenants_and_roles(memberships: &Value) -> BTreeSet<(String, String)> {
    memberships
        .as_array()
        .unwrap_or_else(|| panic!("memberships: {memberships:#}"))
        .iter()
        .map(|m| {
            (
                m["tenantId"].as_str().expect("a tenant id").to_owned(),
                m["role"].as_str().expect("a role").to_owned(),
            )
        })
        .collect()
}

fn id(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id: {value:#}"))
        .to_owned()
}

on_both_backends! {
    async fn the_operator_creates_an_admin_who_signs_in_with_an_sms_code(test) {
        let office = office(&test, &[]).await;
        let tenant = office.tenant();
        let member = &office.admin_member;
        assert_eq!(member["tenantId"], tenant.as_str(), "{member:#}");
        assert_eq!(member["role"], "ADMIN", "{member:#}");
        assert_eq!(member["name"], "Zhang San", "{member:#}");
        assert_eq!(member["phoneMasked"], masked(ADMIN_PHONE), "the phone is normalised, then masked: {member:#}");
        assert_eq!(member["status"], "ACTIVE", "{member:#}");
        assert!(member["contactId"].is_null(), "{member:#}");
        assert!(member["revokedAt"].is_null(), "{member:#}");
        assert_eq!(member["actorId"], member["id"], "an admin acts as its member id: {member:#}");

        let signed_in = &office.admin.payload;
        assert_eq!(id(office.admin.member()), id(member), "{signed_in:#}");
        assert_eq!(signed_in["hasPassword"], false, "{signed_in:#}");
        assert_eq!(
            signed_in["memberships"],
            json!([{"memberId": id(member), "tenantId": tenant, "tenantName": "Acme Foods", "role": "ADMIN"}]),
            "{signed_in:#}"
        );
        expires_in_twelve_hours(signed_in);

        let viewer = staff::viewer(&office.server, &office.admin.token).await;
        assert_eq!(viewer["role"], "admin", "{viewer:#}");
        assert_eq!(viewer["id"], id(member).as_str(), "{viewer:#}");
        assert_eq!(viewer["tenantId"], tenant.as_str(), "{viewer:#}");
        assert_eq!(viewer["memberships"], signed_in["memberships"], "{viewer:#}");

        // The signed-in token does what an admin does, in its own tenant.
        let data = office
            .server
            .ok(
                Some(&office.admin.token),
                "mutation { recordCustomer(input: {name: \"Dealer Nine\"}) { partnerId } }",
                json!({}),
            )
            .await;
        let customer = data["recordCustomer"]["partnerId"].as_str().expect("a customer id").to_owned();
        let customer_id = customer.clone();
        let data = office
            .server
            .ok(Some(&office.admin.token), "{ partners(first: 10) { edges { node { id } } } }", json!({}))
            .await;
        let partners: BTreeSet<String> = staff::node_ids(&data["partners"]).into_iter().collect();
        assert_eq!(
            partners,
            BTreeSet::from([office.world.partner.to_string(), customer_id]),
            "{data:#}"
        );
        // What it did is logged as its own act (the actor is the member).
        let data = office
            .server
            .ok(Some(&office.admin.token), EVENTS, json!({"id": customer}))
            .await;
        let recorded = logged(&data, "CustomerRecorded");
        assert_eq!(recorded["metadata"]["actor_id"], id(member).as_str(), "{data:#}");

        // The code was spent by the sign-in.
        let code = staff::request_code(&office.server, &test.db, None, ADMIN_PHONE).await;
        staff::sign_in_with(&office.server, None, ADMIN_PHONE, &code, None).await;
        assert_eq!(
            sign_in_code(&office.server, None, ADMIN_PHONE, Some(&code), None, None).await,
            "UNAUTHENTICATED",
            "a code signs in once"
        );
        office.server.stop().await;
    }

    async fn an_invited_employee_signs_in_and_works_on_its_own_partners_only(test) {
        let office = office(&test, &[]).await;
        let admin_ctx = office.world.admin_ctx();
        let partner_2 = World::add_partner(&office.commands, &admin_ctx, "Dealer Two").await;
        let contact_2 = World::add_bound_contact(
            &office.commands,
            &admin_ctx,
            office.world.tenant,
            partner_2,
            "13900139000",
        )
        .await;
        let product = office.world.products[0].to_string();
        let order_1 = place(&office.commands, office.world.contact_actor(), product.clone()).await;
        let contact_2 = dinghuo_commands::Actor::in_tenant(
            contact_2.as_uuid(),
            dinghuo_commands::Role::Contact,
            office.world.tenant,
        );
        let order_2 = place(&office.commands, contact_2, product).await;

        let partner_1 = office.world.partner.to_string();
        let (contact, member) = office
            .employee("Han Meimei", "139-0000-0002", Some(&partner_1))
            .await;
        assert_eq!(member["role"], "EMPLOYEE", "{member:#}");
        assert_eq!(member["contactId"], contact.as_str(), "{member:#}");
        assert_eq!(member["actorId"], contact.as_str(), "an employee acts as its contact: {member:#}");
        assert_eq!(member["phoneMasked"], masked("13900000002"), "{member:#}");
        assert_eq!(member["name"], "Han Meimei", "{member:#}");
        assert_eq!(member["status"], "ACTIVE", "{member:#}");
        assert_eq!(member["tenantId"], office.tenant().as_str(), "{member:#}");

        let employee = staff::sign_in_with_a_code(&office.server, &test.db, None, "13900000002", None).await;
        assert_eq!(id(employee.member()), id(&member), "{:#}", employee.payload);
        assert_eq!(employee.payload["hasPassword"], false, "{:#}", employee.payload);
        let viewer = staff::viewer(&office.server, &employee.token).await;
        assert_eq!(viewer["role"], "employee", "{viewer:#}");
        assert_eq!(viewer["id"], contact.as_str(), "{viewer:#}");
        assert_eq!(viewer["tenantId"], office.tenant().as_str(), "{viewer:#}");
        assert_eq!(
            tenants_and_roles(&viewer["memberships"]),
            BTreeSet::from([(office.tenant(), "EMPLOYEE".to_owned())]),
            "{viewer:#}"
        );

        // Both orders are in the read model (the admin sees them)...
        let orders = "{ orders(first: 20) { edges { node { id } } } }";
        staff::eventually(&office.server, &office.admin.token, orders, json!({}), |data| {
            let ids = staff::node_ids(&data["orders"]);
            ids.contains(&order_1) && ids.contains(&order_2)
        })
        .await;
        // ...the employee sees its partner and that partner's order only.
        let data = office
            .server
            .ok(Some(&employee.token), "{ partners(first: 20) { edges { node { id } } } }", json!({}))
            .await;
        assert_eq!(staff::node_ids(&data["partners"]), vec![partner_1.clone()], "{data:#}");
        let data = office.server.ok(Some(&employee.token), orders, json!({})).await;
        assert_eq!(staff::node_ids(&data["orders"]), vec![order_1.clone()], "{data:#}");
        let data = office
            .server
            .ok(Some(&employee.token), "query($id: ID!) { order(id: $id) { id } }", json!({"id": order_2}))
            .await;
        assert!(data["order"].is_null(), "another partner's order is invisible: {data:#}");

        let confirm = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { orderId order { id status } } }";
        let data = office.server.ok(Some(&employee.token), confirm, json!({"id": order_1})).await;
        assert_eq!(data["confirmOrder"]["order"]["status"], "CONFIRMED", "{data:#}");
        assert_refused(&test, &office.server, Some(&employee.token), confirm, json!({"id": order_2}), "NOT_FOUND").await;
        // The confirmation is the employee's own act in the log.
        let data = office
            .server
            .ok(Some(&office.admin.token), EVENTS, json!({"id": order_1}))
            .await;
        let confirmed = logged(&data, "OrderConfirmed");
        assert_eq!(confirmed["metadata"]["actor_id"], contact.as_str(), "{data:#}");
        office.server.stop().await;
    }

    async fn every_staff_refusal_has_its_code_and_appends_nothing(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let admin = office.admin.token.as_str();
        let operator = office.operator.as_str();
        let b = World::build(&office.commands, 1).await;
        let create = format!(
            "mutation($t: ID!, $p: String!) {{ createTenantAdmin(input: {{tenantId: $t, name: \"Li Si\", phone: $p}}) {{ member {{ {} }} }} }}",
            staff::MEMBER_FIELDS
        );
        let invite = staff::invite_query();
        let revoke = staff::revoke_query();

        // One live membership per phone and tenant, however the phone is written.
        for phone in [ADMIN_PHONE, "+86 13900000001", "0086 139 0000 0001"] {
            assert_refused(&test, server, Some(operator), &create, json!({"t": office.tenant(), "p": phone}), "ALREADY_A_MEMBER").await;
        }
        let same_phone = staff::record_employee(server, admin, "Zhang San Again", "13900000001").await;
        assert_refused(&test, server, Some(admin), &invite, json!({"c": same_phone}), "ALREADY_A_MEMBER").await;
        let (employee_contact, employee_member) = office.employee("Han Meimei", "13900000002", None).await;
        assert_refused(&test, server, Some(admin), &invite, json!({"c": employee_contact}), "ALREADY_A_MEMBER").await;
        assert_refused(&test, server, Some(operator), &create, json!({"t": office.tenant(), "p": "13900000002"}), "ALREADY_A_MEMBER").await;

        let no_phone = server
            .ok(Some(admin), "mutation { recordContact(input: {name: \"Wu Ming\", employee: true}) { contactId } }", json!({}))
            .await["recordContact"]["contactId"]
            .as_str()
            .expect("a contact id")
            .to_owned();
        assert_refused(&test, server, Some(admin), &invite, json!({"c": no_phone}), "CONTACT_HAS_NO_PHONE").await;
        assert_refused(&test, server, Some(admin), &invite, json!({"c": uuid::Uuid::now_v7().to_string()}), "NOT_FOUND").await;

        // Wrong roles.
        let employee = staff::sign_in_with_a_code(server, &test.db, None, "13900000002", None).await;
        let another = staff::record_employee(server, admin, "Wang Wu", "13900000003").await;
        assert_refused(&test, server, Some(&employee.token), &invite, json!({"c": another}), "FORBIDDEN").await;
        assert_refused(&test, server, Some(&employee.token), &revoke, json!({"m": id(&office.admin_member)}), "FORBIDDEN").await;
        assert_refused(&test, server, Some(&employee.token), &create, json!({"t": office.tenant(), "p": "13900000009"}), "FORBIDDEN").await;
        assert_refused(&test, server, Some(admin), &create, json!({"t": office.tenant(), "p": "13900000009"}), "FORBIDDEN").await;
        assert_refused(&test, server, None, &invite, json!({"c": another}), "UNAUTHENTICATED").await;

        // Another tenant's contact does not exist for this admin.
        let b_employee = office
            .commands
            .record_contact(
                &b.admin_ctx(),
                RecordContactInput {
                    name: "Zhao Liu".into(),
                    phone: Some("13900000004".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee of tenant B");
        assert_refused(&test, server, Some(admin), &invite, json!({"c": b_employee.to_string()}), "NOT_FOUND").await;
        assert_refused(&test, server, Some(operator), &create, json!({"t": uuid::Uuid::now_v7().to_string(), "p": "13900000005"}), "NOT_FOUND").await;

        // Revocations: not oneself, not twice, not what does not exist.
        assert_refused(&test, server, Some(admin), &revoke, json!({"m": id(&office.admin_member)}), "INVALID_STATE").await;
        assert_refused(&test, server, Some(admin), &revoke, json!({"m": uuid::Uuid::now_v7().to_string()}), "NOT_FOUND").await;
        let revoked = server.ok(Some(admin), &revoke, json!({"m": id(&employee_member)})).await;
        assert_eq!(revoked["revokeStaffAccess"]["member"]["status"], "REVOKED", "{revoked:#}");
        assert!(revoked["revokeStaffAccess"]["member"]["revokedAt"].is_string(), "{revoked:#}");
        assert_refused(&test, server, Some(admin), &revoke, json!({"m": id(&employee_member)}), "INVALID_STATE").await;
        // Malformed input names its field.
        for (variables, field) in [
            (json!({"t": office.tenant(), "p": "12345"}), "phone"),
            (json!({"t": "not-a-tenant", "p": "13900000006"}), "tenantId"),
        ] {
            let error = assert_refused(&test, server, Some(operator), &create, variables, "VALIDATION").await;
            assert_eq!(error["extensions"]["field"], field, "{error:#}");
        }
        let error = assert_refused(&test, server, Some(admin), &invite, json!({"c": "not-a-contact"}), "VALIDATION").await;
        assert_eq!(error["extensions"]["field"], "contactId", "{error:#}");
        let error = assert_refused(&test, server, Some(admin), &revoke, json!({"m": "not-a-member"}), "VALIDATION").await;
        assert_eq!(error["extensions"]["field"], "memberId", "{error:#}");

        // The admin is still an admin after all that.
        assert_eq!(staff::viewer(server, admin).await["role"], "admin");
        // A their-side contact is a partner's staff, not the tenant's.
        assert_refused(&test, server, Some(admin), &invite, json!({"c": office.world.contact.to_string()}), "WRONG_SIDE").await;
        office.server.stop().await;
    }

    async fn racing_adds_of_one_phone_make_one_member(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let create = format!(
            "mutation($t: ID!, $p: String!) {{ createTenantAdmin(input: {{tenantId: $t, name: \"Li Si\", phone: $p}}) {{ member {{ {} }} }} }}",
            staff::MEMBER_FIELDS
        );
        let variables = json!({"t": office.tenant(), "p": "13900000007"});
        let answers = futures::future::join_all(
            (0..6).map(|_| server.graphql(Some(&office.operator), &create, variables.clone())),
        )
        .await;
        let created: Vec<&Value> = answers.iter().filter(|a| a.get("errors").is_none()).collect();
        assert_eq!(created.len(), 1, "{answers:#?}");
        for answer in answers.iter().filter(|a| a.get("errors").is_some()) {
            assert_eq!(staff::code_of(&staff::error_of(&create, answer)), "ALREADY_A_MEMBER", "{answer:#}");
        }
        let member = &created[0]["data"]["createTenantAdmin"]["member"];
        assert!(member.is_object(), "the payload shows the new admin: {answers:#?}");
        let member = id(member);
        assert_eq!(test.stream("Member", &member).await.len(), 1, "one TenantAdminCreated");

        // Two employees recorded with one phone, invited at once: one of them becomes staff.
        let first = staff::record_employee(server, &office.admin.token, "Twin One", "13900000008").await;
        let second = staff::record_employee(server, &office.admin.token, "Twin Two", "13900000008").await;
        let invite = staff::invite_query();
        let answers = futures::future::join_all(
            [&first, &second, &first, &second]
                .map(|contact| server.graphql(Some(&office.admin.token), &invite, json!({"c": contact}))),
        )
        .await;
        let invited: Vec<&Value> = answers.iter().filter(|a| a.get("errors").is_none()).collect();
        assert_eq!(invited.len(), 1, "{answers:#?}");
        for answer in answers.iter().filter(|a| a.get("errors").is_some()) {
            assert_eq!(staff::code_of(&staff::error_of(&invite, answer)), "ALREADY_A_MEMBER", "{answer:#}");
        }
        let member = &invited[0]["data"]["inviteEmployee"]["member"];
        assert!(member.is_object(), "the payload shows the new employee: {answers:#?}");
        let member = id(member);
        assert_eq!(test.stream("Member", &member).await.len(), 1, "one EmployeeInvited");
        office.server.stop().await;
    }

    async fn a_phone_in_two_tenants_chooses_one_and_switches(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let a = office.tenant();
        let b_world = World::build(&office.commands, 1).await;
        let b = b_world.tenant.to_string();
        let c = office
            .commands
            .register_tenant(&office.world.operator_ctx(), RegisterTenantInput { name: "Nobody Co".into() })
            .await
            .expect("register a third tenant")
            .to_string();
        const PHONE: &str = "13900000011";
        let admin_a = staff::create_tenant_admin(server, &office.operator, office.world.tenant, "Qian Qi", PHONE).await;
        // In tenant B the same person is an employee, invited by B's admin.
        let b_admin = server.token(&b_world.admin);
        let b_contact = staff::record_employee(server, &b_admin, "Qian Qi", PHONE).await;
        let employee_b = staff::invite_employee(server, &b_admin, &b_contact).await;

        let code = staff::request_code(server, &test.db, None, PHONE).await;
        // A wrong code learns nothing of the person's tenants.
        let wrong = refused_sign_in(server, None, PHONE, Some(&staff::wrong_code(&code)), None, None).await;
        assert_eq!(staff::code_of(&wrong), "UNAUTHENTICATED", "{wrong:#}");
        assert!(wrong["extensions"]["memberships"].is_null(), "{wrong:#}");
        let choice = refused_sign_in(server, None, PHONE, Some(&code), None, None).await;
        assert_eq!(staff::code_of(&choice), "TENANT_CHOICE_REQUIRED", "{choice:#}");
        let offered = &choice["extensions"]["memberships"];
        assert_eq!(
            tenants_and_roles(offered),
            BTreeSet::from([(a.clone(), "ADMIN".to_owned()), (b.clone(), "EMPLOYEE".to_owned())]),
            "{choice:#}"
        );
        let member_ids: BTreeSet<String> = offered
            .as_array()
            .expect("memberships")
            .iter()
            .map(|m| m["memberId"].as_str().expect("a member id").to_owned())
            .collect();
        assert_eq!(member_ids, BTreeSet::from([id(&admin_a), id(&employee_b)]), "{choice:#}");
        assert!(
            offered.as_array().expect("memberships").iter().all(|m| m["tenantName"] == "Acme Foods"),
            "{choice:#}"
        );

        // The same code, now with a tenant: it was not spent by the question.
        let in_a = staff::sign_in_with(server, None, PHONE, &code, Some(&a)).await;
        assert_eq!(id(in_a.member()), id(&admin_a), "{:#}", in_a.payload);
        assert_eq!(tenants_and_roles(&in_a.payload["memberships"]).len(), 2, "{:#}", in_a.payload);
        let viewer = staff::viewer(server, &in_a.token).await;
        assert_eq!(viewer["tenantId"], a.as_str(), "{viewer:#}");
        assert_eq!(viewer["role"], "admin", "{viewer:#}");
        assert_eq!(tenants_and_roles(&viewer["memberships"]).len(), 2, "{viewer:#}");

        let in_b = staff::switch_tenant(server, &in_a.token, &b).await;
        assert_eq!(id(in_b.member()), id(&employee_b), "{:#}", in_b.payload);
        let viewer = staff::viewer(server, &in_b.token).await;
        assert_eq!(viewer["tenantId"], b.as_str(), "{viewer:#}");
        assert_eq!(viewer["role"], "employee", "{viewer:#}");
        assert_eq!(viewer["id"], b_contact.as_str(), "{viewer:#}");
        // Tenant B's token is no key to tenant A.
        let data = server.ok(Some(&in_b.token), "{ partners(first: 10) { edges { node { id } } } }", json!({})).await;
        assert!(
            !staff::node_ids(&data["partners"]).contains(&office.world.partner.to_string()),
            "{data:#}"
        );

        // No membership, no way in: not by switching, not by signing in.
        let switch = format!("mutation($t: ID!) {{ switchTenant(input: {{tenantId: $t}}) {{ {} }} }}", staff::SIGN_IN_FIELDS);
        // (`NOT_FOUND`, as the schema documents it.)
        assert_refused(&test, server, Some(&in_b.token), &switch, json!({"t": c}), "NOT_FOUND").await;
        let code = staff::request_code(server, &test.db, None, PHONE).await;
        assert_eq!(
            sign_in_code(server, None, PHONE, Some(&code), None, Some(&c)).await,
            "UNAUTHENTICATED"
        );

        // A password is the person's: setting it ends its sessions in every tenant.
        let fresh = staff::set_password(server, &in_a.token, "a quiet harbour at dawn", None).await;
        assert_eq!(refused_code(server, &in_a.token).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(refused_code(server, &in_b.token).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(refused_code(server, &fresh).await, None);
        let choice = refused_sign_in(server, None, PHONE, None, Some("a quiet harbour at dawn"), None).await;
        assert_eq!(staff::code_of(&choice), "TENANT_CHOICE_REQUIRED", "{choice:#}");
        let by_password = staff::sign_in_with_password(server, PHONE, "a quiet harbour at dawn", Some(&b)).await;
        assert_eq!(id(by_password.member()), id(&employee_b), "{:#}", by_password.payload);
        assert_eq!(by_password.payload["hasPassword"], true, "{:#}", by_password.payload);

        // Once tenant B revokes it, the person has one tenant left: no choice to make, and
        // nothing of B is offered any more.
        server.ok(Some(&b_admin), &staff::revoke_query(), json!({"m": id(&employee_b)})).await;
        assert_eq!(refused_code(server, &by_password.token).await.as_deref(), Some("UNAUTHENTICATED"));
        let only_a = staff::sign_in_with_password(server, PHONE, "a quiet harbour at dawn", None).await;
        assert_eq!(id(only_a.member()), id(&admin_a), "{:#}", only_a.payload);
        assert_eq!(
            tenants_and_roles(&only_a.payload["memberships"]),
            BTreeSet::from([(a.clone(), "ADMIN".to_owned())]),
            "{:#}",
            only_a.payload
        );
        assert_eq!(
            tenants_and_roles(&staff::viewer(server, &only_a.token).await["memberships"]).len(),
            1
        );
        assert_eq!(
            sign_in_code(server, None, PHONE, None, Some("a quiet harbour at dawn"), Some(&b)).await,
            "UNAUTHENTICATED",
            "a revoked membership's tenant"
        );
        assert_refused(&test, server, Some(&only_a.token), &switch, json!({"t": b}), "NOT_FOUND").await;
        office.server.stop().await;
    }

    async fn wrong_codes_are_refused_alike_and_bounded_per_phone(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        office.employee("Employee Two", "13900000002", None).await;
        office.employee("Employee Three", "13900000003", None).await;

        // A wrong code, an unknown phone and a wrong password read the same. (The limiter
        // starts afresh, as if the admin's own sign-in had been a while ago.)
        staff::forget_attempts(&test.db).await;
        let code = staff::request_code(server, &test.db, None, ADMIN_PHONE).await;
        let wrong = refused_sign_in(server, None, ADMIN_PHONE, Some(&staff::wrong_code(&code)), None, None).await;
        let unknown = refused_sign_in(server, None, "13911111111", Some(&code), None, None).await;
        let password = refused_sign_in(server, None, ADMIN_PHONE, None, Some("not the password at all"), None).await;
        for error in [&wrong, &unknown, &password] {
            assert_eq!(staff::code_of(error), "UNAUTHENTICATED", "{error:#}");
            assert_eq!(error["message"], wrong["message"], "one message for every failure: {error:#}");
        }
        // A code asked for an unknown phone is answered alike, and sent nowhere.
        staff::request_code_only(server, None, "13911111111").await;
        assert_eq!(staff::code_messages(&test.db, "13911111111").await, 0);
        // Exactly one of a code and a password.
        for (code, password) in [(Some(code.as_str()), Some("not the password at all")), (None, None)] {
            let error = refused_sign_in(server, None, ADMIN_PHONE, code, password, None).await;
            assert_eq!(staff::code_of(&error), "VALIDATION", "{error:#}");
            assert_eq!(error["extensions"]["field"], "code", "{error:#}");
        }
        // The right code still works after one wrong try.
        staff::sign_in_with(server, None, ADMIN_PHONE, &code, None).await;

        // Five wrong guesses at a phone within the window, then the sixth is not even checked.
        for guess in 1..=5 {
            assert_eq!(
                sign_in_code(server, None, "13900000002", Some("000000"), None, None).await,
                "UNAUTHENTICATED",
                "wrong guess {guess}"
            );
        }
        let limited = refused_sign_in(server, None, "13900000002", Some("000000"), None, None).await;
        assert_eq!(staff::code_of(&limited), "RATE_LIMITED", "{limited:#}");
        assert_eq!(limited["extensions"]["retryable"], true, "{limited:#}");
        // Another phone from the same client is not held back.
        assert_eq!(
            sign_in_code(server, None, "13900000003", Some("000000"), None, None).await,
            "UNAUTHENTICATED"
        );

        // A code dies after five wrong tries (the limiter's attempts forgotten before each one,
        // as if its window had passed, so that only the code's own count is at work): four
        // leave it alive...
        staff::forget_attempts(&test.db).await;
        let code = staff::request_code(server, &test.db, None, "13900000003").await;
        for _ in 0..4 {
            staff::forget_attempts(&test.db).await;
            assert_eq!(
                sign_in_code(server, None, "13900000003", Some(&staff::wrong_code(&code)), None, None).await,
                "UNAUTHENTICATED"
            );
        }
        staff::forget_attempts(&test.db).await;
        staff::sign_in_with(server, None, "13900000003", &code, None).await;
        // ...the fifth kills it.
        staff::forget_attempts(&test.db).await;
        let code = staff::request_code(server, &test.db, None, "13900000003").await;
        for _ in 0..5 {
            staff::forget_attempts(&test.db).await;
            assert_eq!(
                sign_in_code(server, None, "13900000003", Some(&staff::wrong_code(&code)), None, None).await,
                "UNAUTHENTICATED"
            );
        }
        staff::forget_attempts(&test.db).await;
        assert_eq!(
            sign_in_code(server, None, "13900000003", Some(&code), None, None).await,
            "UNAUTHENTICATED",
            "the right code after five wrong tries"
        );

        // A new request replaces the previous code.
        staff::forget_attempts(&test.db).await;
        let first = staff::request_code(server, &test.db, None, "13900000003").await;
        let (first_message, _) = staff::latest_code_message(&test.db, "13900000003")
            .await
            .expect("the first code's SMS");
        let second = staff::request_code(server, &test.db, None, "13900000003").await;
        let (first_secret,): (Option<String>,) = sql::fetch_all(
            &test.db,
            "SELECT secret FROM notification_outbox WHERE message_id = $1",
            &[first_message.as_str().into()],
        )
        .await
        .expect("read the outbox")
        .pop()
        .expect("the first code's SMS");
        assert_eq!(first_secret, None, "the replaced code's SMS keeps no secret");
        if first != second {
            assert_eq!(
                sign_in_code(server, None, "13900000003", Some(&first), None, None).await,
                "UNAUTHENTICATED",
                "a replaced code"
            );
        }
        staff::sign_in_with(server, None, "13900000003", &second, None).await;
        office.server.stop().await;
    }

    async fn a_person_who_asked_for_a_code_may_still_mistype_it_five_times(test) {
        // The contract: per phone, 5 wrong guesses per 15 minutes and (apart) 5 code requests
        // per hour. Someone who asks for a code and mistypes it five times is refused the sixth
        // try before it is checked, whatever it is; the code died with the fifth wrong try.
        let office = office(&test, &[]).await;
        let server = &office.server;
        office.employee("Employee Two", "13900000002", None).await;
        let code = staff::request_code(server, &test.db, None, "13900000002").await;
        for guess in 1..=5 {
            let error = refused_sign_in(
                server,
                None,
                "13900000002",
                Some(&staff::wrong_code(&code)),
                None,
                None,
            )
            .await;
            assert_eq!(staff::code_of(&error), "UNAUTHENTICATED", "wrong guess {guess}: {error:#}");
        }
        let error = refused_sign_in(server, None, "13900000002", Some(&code), None, None).await;
        assert_eq!(staff::code_of(&error), "RATE_LIMITED", "{error:#}");
        office.server.stop().await;
    }

    async fn a_code_lives_ten_minutes_and_a_phone_gets_five_an_hour(test) {
        const PHONE: &str = "13900000002";
        let office = office(&test, &[]).await;
        let server = &office.server;
        office.employee("Employee Two", PHONE, None).await;
        let latest = |db| async move {
            staff::latest_code_message(db, PHONE).await.expect("a code's SMS").0
        };

        // Nine minutes old, a code still signs in; ten, it does not.
        let code = staff::request_code(server, &test.db, None, PHONE).await;
        staff::age_code(&test.db, &latest(&test.db).await, Duration::from_secs(9 * 60)).await;
        staff::sign_in_with(server, None, PHONE, &code, None).await;
        let code = staff::request_code(server, &test.db, None, PHONE).await;
        staff::age_code(&test.db, &latest(&test.db).await, Duration::from_secs(10 * 60 + 1)).await;
        assert_eq!(
            sign_in_code(server, None, PHONE, Some(&code), None, None).await,
            "UNAUTHENTICATED",
            "a code ten minutes old"
        );

        // Five codes an hour: past the quarter hour of the guesses, the sixth request is still
        // refused (while a guess is not), and after the hour it is sent. (Everything above is
        // first moved a quarter hour back, out of the guesses' window but within the hour.)
        staff::age_attempts(&test.db, Duration::from_secs(16 * 60)).await;
        let sent = staff::code_messages(&test.db, PHONE).await;
        assert!(sent <= 5, "{sent} codes asked for already");
        for _ in sent..5 {
            staff::request_code_only(server, None, PHONE).await;
        }
        staff::age_attempts(&test.db, Duration::from_secs(20 * 60)).await;
        let query = "mutation($p: String!) { requestSignInCode(input: {phone: $p}) { accepted } }";
        let response = server.graphql(None, query, json!({"p": PHONE})).await;
        let limited = staff::error_of(query, &response);
        assert_eq!(staff::code_of(&limited), "RATE_LIMITED", "the sixth code within the hour: {limited:#}");
        assert_eq!(staff::code_messages(&test.db, PHONE).await, 5, "no sixth SMS");
        assert_eq!(
            sign_in_code(server, None, PHONE, Some("000000"), None, None).await,
            "UNAUTHENTICATED",
            "a guess past the quarter hour"
        );
        staff::age_attempts(&test.db, Duration::from_secs(45 * 60)).await;
        staff::sign_in_with_a_code(server, &test.db, None, PHONE, None).await;
        office.server.stop().await;
    }

    async fn a_staff_password_is_set_after_a_code_and_ends_the_other_sessions(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let by_code = office.admin.token.clone();
        assert_eq!(office.admin.payload["hasPassword"], false);

        // The rules of a new password, each refused without ending anything.
        for weak in ["short pw", "password123", ADMIN_PHONE] {
            let error = assert_refused(&test, server, Some(&by_code), staff::SET_PASSWORD, json!({"n": weak}), "VALIDATION").await;
            assert_eq!(error["extensions"]["field"], "newPassword", "{weak}: {error:#}");
        }
        assert_eq!(refused_code(server, &by_code).await, None);

        // Signed in with a code minutes ago: no current password needed.
        let first = staff::set_password(server, &by_code, "correct horse battery", None).await;
        assert_eq!(refused_code(server, &by_code).await.as_deref(), Some("UNAUTHENTICATED"));
        let viewer = staff::viewer(server, &first).await;
        assert_eq!(viewer["id"], id(&office.admin_member).as_str(), "{viewer:#}");
        assert_eq!(viewer["role"], "admin", "{viewer:#}");

        let by_password = staff::sign_in_with_password(server, ADMIN_PHONE, "correct horse battery", None).await;
        assert_eq!(by_password.payload["hasPassword"], true, "{:#}", by_password.payload);
        assert_eq!(id(by_password.member()), id(&office.admin_member));
        expires_in_twelve_hours(&by_password.payload);
        assert_eq!(
            sign_in_code(server, None, ADMIN_PHONE, None, Some("Correct horse battery"), None).await,
            "UNAUTHENTICATED"
        );

        // Signed in with the password: changing it takes the current one.
        let response = server
            .graphql(Some(&by_password.token), staff::SET_PASSWORD, json!({"n": "another fine passphrase"}))
            .await;
        let error = staff::error_of(staff::SET_PASSWORD, &response);
        assert!(
            ["VALIDATION", "UNAUTHENTICATED", "FORBIDDEN"].contains(&staff::code_of(&error)),
            "without the current password: {error:#}"
        );
        let response = server
            .graphql(
                Some(&by_password.token),
                staff::SET_PASSWORD,
                json!({"n": "another fine passphrase", "c": "not the current one"}),
            )
            .await;
        let error = staff::error_of(staff::SET_PASSWORD, &response);
        assert!(
            ["VALIDATION", "UNAUTHENTICATED"].contains(&staff::code_of(&error)),
            "with a wrong current password: {error:#}"
        );
        assert_eq!(refused_code(server, &by_password.token).await, None);
        let second = staff::set_password(
            server,
            &by_password.token,
            "another fine passphrase",
            Some("correct horse battery"),
        )
        .await;
        for ended in [&first, &by_password.token] {
            assert_eq!(refused_code(server, ended).await.as_deref(), Some("UNAUTHENTICATED"));
        }
        assert_eq!(refused_code(server, &second).await, None);
        assert_eq!(
            sign_in_code(server, None, ADMIN_PHONE, None, Some("correct horse battery"), None).await,
            "UNAUTHENTICATED",
            "the old password"
        );
        staff::sign_in_with_password(server, ADMIN_PHONE, "another fine passphrase", None).await;
        // The wrong passwords above count against the phone: the limiter starts afresh, as if
        // their window had passed, before the person asks for a code again.
        staff::forget_attempts(&test.db).await;
        let by_code = staff::sign_in_with_a_code(server, &test.db, None, ADMIN_PHONE, None).await;
        assert_eq!(by_code.payload["hasPassword"], true, "{:#}", by_code.payload);
        // Forgot it: a fresh code sign-in sets a new one without the current one.
        let third = staff::set_password(server, &by_code.token, "a third fine passphrase", None).await;
        assert_eq!(refused_code(server, &second).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(refused_code(server, &third).await, None);
        staff::sign_in_with_password(server, ADMIN_PHONE, "a third fine passphrase", None).await;

        // Contacts have their own password (`changePassword`).
        let contact = server.token(&office.world.contact_actor());
        assert_refused(&test, server, Some(&contact), staff::SET_PASSWORD, json!({"n": "a contact's passphrase"}), "FORBIDDEN").await;
        office.server.stop().await;
    }

    async fn revoking_access_ends_the_sessions_and_an_open_subscription(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let partner = office.world.partner.to_string();
        let order = place(&office.commands, office.world.contact_actor(), office.world.products[0].to_string()).await;
        let (contact, member) = office.employee("Han Meimei", "13900000002", Some(&partner)).await;
        let employee = staff::sign_in_with_a_code(server, &test.db, None, "13900000002", None).await;
        staff::eventually(server, &employee.token, "query($id: ID!) { order(id: $id) { id } }", json!({"id": order}), |data| {
            !data["order"].is_null()
        })
        .await;
        let mut socket = ws::subscribe(
            server,
            &employee.token,
            "subscription($id: ID!) { orderUpdated(orderId: $id) { id } }",
            json!({"id": order}),
        )
        .await;
        let first = ws::next_data(&mut socket).await;
        assert_eq!(first["data"]["orderUpdated"]["id"], order.as_str(), "{first:#}");
        // A code the employee asked for before it lost its access.
        let code = staff::request_code(server, &test.db, None, "13900000002").await;

        let revoked = server
            .ok(Some(&office.admin.token), &staff::revoke_query(), json!({"m": id(&member)}))
            .await;
        let revoked = &revoked["revokeStaffAccess"]["member"];
        assert_eq!(revoked["status"], "REVOKED", "{revoked:#}");
        assert!(revoked["revokedAt"].is_string(), "{revoked:#}");

        assert_eq!(refused_code(server, &employee.token).await.as_deref(), Some("UNAUTHENTICATED"));
        let confirm = "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { orderId } }";
        assert_refused(&test, server, Some(&employee.token), confirm, json!({"id": order}), "UNAUTHENTICATED").await;
        let ended = ws::next_message(&mut socket).await;
        assert_eq!(ws::error_code(&ended), Some("UNAUTHENTICATED"), "{ended:#}");
        let complete = ws::next_message(&mut socket).await;
        assert_eq!(complete["type"], "complete", "{complete:#}");

        // Not even the right code lets a revoked member in, and no new code is sent to it.
        assert_eq!(sign_in_code(server, None, "13900000002", Some(&code), None, None).await, "UNAUTHENTICATED");
        let sent = staff::code_messages(&test.db, "13900000002").await;
        staff::request_code_only(server, None, "13900000002").await;
        assert_eq!(staff::code_messages(&test.db, "13900000002").await, sent, "a code for a revoked member");
        let data = server.ok(Some(&office.admin.token), STAFF_MEMBERS, json!({"s": "REVOKED"})).await;
        assert_eq!(staff::node_ids(&data["staffMembers"]), vec![id(&member)], "{data:#}");

        // Invited again, the same person signs in again (a new session; the old one stays ended).
        let again = staff::invite_employee(server, &office.admin.token, &contact).await;
        assert_eq!(id(&again), id(&member), "one membership per phone and tenant: {again:#}");
        assert_eq!(again["status"], "ACTIVE", "{again:#}");
        assert!(again["revokedAt"].is_null(), "{again:#}");
        staff::forget_attempts(&test.db).await;
        let back = staff::sign_in_with_a_code(server, &test.db, None, "13900000002", None).await;
        assert_eq!(staff::viewer(server, &back.token).await["id"], contact.as_str());
        assert_eq!(refused_code(server, &employee.token).await.as_deref(), Some("UNAUTHENTICATED"));
        office.server.stop().await;
    }

    async fn a_revocation_whose_sessions_were_not_ended_still_shuts_the_member_out(test) {
        // As if the server stopped between committing the revocation and ending the sessions:
        // the revocation is written through the command layer alone, so no session is ended.
        let office = office(&test, &[]).await;
        let server = &office.server;
        let (_, member) = office.employee("Li Lei", "13900000003", None).await;
        let employee = staff::sign_in_with_a_code(server, &test.db, None, "13900000003", None).await;
        assert_eq!(staff::viewer(server, &employee.token).await["role"], "employee");
        office
            .commands
            .revoke_staff_access(
                &office.world.admin_ctx(),
                RevokeStaffAccessInput {
                    member_id: id(&member),
                    tenant_id: None,
                },
            )
            .await
            .expect("the admin revokes the member");
        let live: Vec<(i64,)> = sql::fetch_all(
            &test.db,
            "SELECT COUNT(*) FROM sessions WHERE revoked_at_ms IS NULL AND role = 'employee'",
            &[],
        )
        .await
        .expect("count the sessions");
        assert_eq!(live, [(1,)], "the session itself was not ended");
        assert_eq!(refused_code(server, &employee.token).await.as_deref(), Some("UNAUTHENTICATED"));
        office.server.stop().await;
    }

    async fn the_operator_revokes_an_admin_who_may_be_created_again(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let second = staff::create_tenant_admin(server, &office.operator, office.world.tenant, "Li Si", "13900000005").await;
        let li_si = staff::sign_in_with_a_code(server, &test.db, None, "13900000005", None).await;
        let revoke = staff::revoke_query();
        // The operator names the tenant.
        assert_refused(&test, server, Some(&office.operator), &revoke, json!({"m": id(&second)}), "VALIDATION").await;
        let data = server
            .ok(Some(&office.operator), &revoke, json!({"m": id(&second), "t": office.tenant()}))
            .await;
        assert_eq!(data["revokeStaffAccess"]["member"]["status"], "REVOKED", "{data:#}");
        assert_eq!(refused_code(server, &li_si.token).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(
            listed_members(server, &office.admin.token, Some("REVOKED")).await,
            BTreeSet::from([(id(&second), "REVOKED".to_owned())])
        );

        // Created again: the same membership, active, and the person signs in.
        let again = staff::create_tenant_admin(server, &office.operator, office.world.tenant, "Li Si", "139 0000 0005").await;
        assert_eq!(id(&again), id(&second), "{again:#}");
        assert_eq!(again["status"], "ACTIVE", "{again:#}");
        staff::forget_attempts(&test.db).await;
        let li_si = staff::sign_in_with_a_code(server, &test.db, None, "13900000005", None).await;
        // One admin revokes another (never itself).
        let data = server
            .ok(Some(&li_si.token), &revoke, json!({"m": id(&office.admin_member)}))
            .await;
        assert_eq!(data["revokeStaffAccess"]["member"]["status"], "REVOKED", "{data:#}");
        assert_eq!(refused_code(server, &office.admin.token).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(refused_code(server, &li_si.token).await, None);
        office.server.stop().await;
    }

    async fn one_address_is_bounded_in_wrong_guesses_and_in_code_requests(test) {
        // Per client address: 100 wrong guesses per 15 minutes and 150 code requests per hour,
        // whatever the phones (each phone within its own limits).
        const GUESSER: &str = "203.0.113.9";
        let office = office(&test, &["--trusted-proxy-hops", "1"]).await;
        let server = &office.server;
        for n in 0..100 {
            let phone = format!("1350000{n:04}");
            assert_eq!(
                sign_in_code(server, Some(GUESSER), &phone, Some("000000"), None, None).await,
                "UNAUTHENTICATED",
                "wrong guess {n} from one address"
            );
        }
        let limited = refused_sign_in(server, Some(GUESSER), "13500009999", Some("000000"), None, None).await;
        assert_eq!(staff::code_of(&limited), "RATE_LIMITED", "the 101st wrong guess: {limited:#}");
        // Another address is not held back.
        assert_eq!(
            sign_in_code(server, Some("203.0.113.10"), "13500009999", Some("000000"), None, None).await,
            "UNAUTHENTICATED"
        );

        let query = "mutation($p: String!) { requestSignInCode(input: {phone: $p}) { accepted } }";
        for n in 0..150 {
            let phone = format!("1360000{n:04}");
            let response = staff::graphql_from(server, Some(GUESSER), None, query, json!({"p": phone})).await;
            staff::data_of(query, response);
        }
        let response = staff::graphql_from(server, Some(GUESSER), None, query, json!({"p": "13600009999"})).await;
        let limited = staff::error_of(query, &response);
        assert_eq!(staff::code_of(&limited), "RATE_LIMITED", "the 151st code request: {limited:#}");
        // Another address still asks for codes, and its staff sign in.
        staff::sign_in_with_a_code(server, &test.db, Some("203.0.113.10"), ADMIN_PHONE, None).await;
        office.server.stop().await;
    }

    async fn signing_out_ends_a_staff_session(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let (_, _) = office.employee("Han Meimei", "13900000002", None).await;
        let employee = staff::sign_in_with_a_code(server, &test.db, None, "13900000002", None).await;
        let out = server.ok(Some(&office.admin.token), "mutation { signOut { signedOut } }", json!({})).await;
        assert_eq!(out["signOut"]["signedOut"], true, "{out:#}");
        assert_eq!(refused_code(server, &office.admin.token).await.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(
            server.refused(Some(&office.admin.token), "mutation { signOut { signedOut } }", json!({})).await,
            "UNAUTHENTICATED"
        );
        // Only that session: the employee's goes on, and the admin signs in again.
        assert_eq!(refused_code(server, &employee.token).await, None);
        let again = staff::sign_in_with_a_code(server, &test.db, None, ADMIN_PHONE, None).await;
        assert_eq!(staff::viewer(server, &again.token).await["role"], "admin");
        office.server.stop().await;
    }

    async fn fifty_staff_behind_one_address_sign_in_while_a_guesser_there_is_bounded(test) {
        const OFFICE: &str = "198.51.100.20";
        let office = office_from(&test, &["--trusted-proxy-hops", "1"], Some(OFFICE)).await;
        let server = &office.server;
        // Recorded through the command layer, invited by the signed-in admin.
        let mut phones = Vec::new();
        for i in 0..51 {
            let phone = format!("1370000{i:04}");
            let contact = office
                .commands
                .record_contact(
                    &office.world.admin_ctx(),
                    RecordContactInput {
                        name: format!("Staff {i}"),
                        phone: Some(phone.clone()),
                        customer_id: None,
                        employee: true,
                    },
                )
                .await
                .expect("record an employee");
            staff::invite_employee(server, &office.admin.token, &contact.to_string()).await;
            phones.push((phone, contact.to_string()));
        }
        let guessed = phones.pop().expect("the 51st phone");

        // Everyone asks for a code and signs in from the office's address.
        for (phone, contact) in &phones {
            let signed_in = staff::sign_in_with_a_code(server, &test.db, Some(OFFICE), phone, None).await;
            let viewer = staff::viewer(server, &signed_in.token).await;
            assert_eq!(viewer["id"], contact.as_str(), "{phone}: {viewer:#}");
            assert_eq!(viewer["role"], "employee", "{phone}: {viewer:#}");
        }

        // A guesser at the same address: five wrong codes at one phone, then no more...
        for guess in 1..=5 {
            assert_eq!(
                sign_in_code(server, Some(OFFICE), &guessed.0, Some("000000"), None, None).await,
                "UNAUTHENTICATED",
                "wrong guess {guess}"
            );
        }
        assert_eq!(
            sign_in_code(server, Some(OFFICE), &guessed.0, Some("000000"), None, None).await,
            "RATE_LIMITED"
        );
        // ...while the office goes on: a colleague mistypes, then signs in.
        let (colleague, _) = &phones[0];
        assert_eq!(
            sign_in_code(server, Some(OFFICE), colleague, Some("000000"), None, None).await,
            "UNAUTHENTICATED"
        );
        staff::sign_in_with_a_code(server, &test.db, Some(OFFICE), colleague, None).await;
        office.server.stop().await;
    }

    async fn a_signed_in_admin_sees_and_touches_only_its_own_tenant(test) {
        let office = office(&test, &[]).await;
        let server = &office.server;
        let partner = office.world.partner.to_string();
        let (_, employee_a) = office.employee("Han Meimei", "13900000002", Some(&partner)).await;
        let employee = staff::sign_in_with_a_code(server, &test.db, None, "13900000002", None).await;

        let b_world = World::build(&office.commands, 1).await;
        let admin_b = staff::create_tenant_admin(server, &office.operator, b_world.tenant, "Sun Ba", "13900000021").await;
        let b = staff::sign_in_with_a_code(server, &test.db, None, "13900000021", None).await;
        let b_contact = staff::record_employee(server, &b.token, "Zhou Jiu", "13900000022").await;
        let employee_b = staff::invite_employee(server, &b.token, &b_contact).await;

        let active = |ids: &[&Value]| -> BTreeSet<(String, String)> {
            ids.iter().map(|m| (id(m), "ACTIVE".to_owned())).collect()
        };
        assert_eq!(
            listed_members(server, &office.admin.token, None).await,
            active(&[&office.admin_member, &employee_a])
        );
        assert_eq!(
            listed_members(server, &office.admin.token, Some("ACTIVE")).await,
            active(&[&office.admin_member, &employee_a])
        );
        assert!(listed_members(server, &office.admin.token, Some("REVOKED")).await.is_empty());
        // A page at a time, each member once.
        let page = "query($a: String) { staffMembers(first: 1, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }";
        let first = server.ok(Some(&office.admin.token), page, json!({})).await;
        assert_eq!(first["staffMembers"]["pageInfo"]["hasNextPage"], true, "{first:#}");
        let second = server
            .ok(Some(&office.admin.token), page, json!({"a": first["staffMembers"]["pageInfo"]["endCursor"]}))
            .await;
        assert_eq!(second["staffMembers"]["pageInfo"]["hasNextPage"], false, "{second:#}");
        let paged: BTreeSet<String> = staff::node_ids(&first["staffMembers"])
            .into_iter()
            .chain(staff::node_ids(&second["staffMembers"]))
            .collect();
        assert_eq!(paged, BTreeSet::from([id(&office.admin_member), id(&employee_a)]));
        assert_eq!(listed_members(server, &b.token, None).await, active(&[&admin_b, &employee_b]));

        // Tenant B's members and contacts do not exist for A's admin.
        let revoke = staff::revoke_query();
        for member in [&admin_b, &employee_b] {
            assert_refused(&test, server, Some(&office.admin.token), &revoke, json!({"m": id(member)}), "NOT_FOUND").await;
            // Naming tenant B changes nothing: an admin acts in its own tenant only.
            let before = test.event_count().await;
            let response = server
                .graphql(Some(&office.admin.token), &revoke, json!({"m": id(member), "t": b_world.tenant.to_string()}))
                .await;
            let error = staff::error_of(&revoke, &response);
            assert!(["FORBIDDEN", "NOT_FOUND"].contains(&staff::code_of(&error)), "{error:#}");
            assert_eq!(test.event_count().await, before);
        }
        assert_refused(&test, server, Some(&office.admin.token), &staff::invite_query(), json!({"c": b_contact}), "NOT_FOUND").await;
        assert_eq!(listed_members(server, &b.token, None).await, active(&[&admin_b, &employee_b]));
        assert_eq!(refused_code(server, &b.token).await, None);
        let data = server
            .ok(Some(&office.admin.token), "query($id: ID!) { partner(id: $id) { id } }", json!({"id": b_world.partner.to_string()}))
            .await;
        assert!(data["partner"].is_null(), "{data:#}");
        let switch = format!("mutation($t: ID!) {{ switchTenant(input: {{tenantId: $t}}) {{ {} }} }}", staff::SIGN_IN_FIELDS);
        assert_refused(&test, server, Some(&office.admin.token), &switch, json!({"t": b_world.tenant.to_string()}), "NOT_FOUND").await;
        // Only staff sessions have memberships.
        for token in [server.token(&office.world.contact_actor()), server.token(&office.world.admin)] {
            let viewer = staff::viewer(server, &token).await;
            assert_eq!(viewer["memberships"], json!([]), "{viewer:#}");
        }

        // An employee manages no staff; a contact is no staff at all.
        assert_refused(&test, server, Some(&employee.token), STAFF_MEMBERS, json!({}), "FORBIDDEN").await;
        assert_refused(&test, server, Some(&employee.token), &revoke, json!({"m": id(&office.admin_member)}), "FORBIDDEN").await;
        let contact = server.token(&office.world.contact_actor());
        let invite = staff::invite_query();
        let create = "mutation($t: ID!) { createTenantAdmin(input: {tenantId: $t, name: \"X\", phone: \"13900000031\"}) { member { id } } }";
        for (query, variables) in [
            (STAFF_MEMBERS, json!({})),
            (invite.as_str(), json!({"c": b_contact})),
            (revoke.as_str(), json!({"m": id(&employee_a)})),
            (create, json!({"t": office.tenant()})),
            (staff::SET_PASSWORD, json!({"n": "a contact's passphrase"})),
            (switch.as_str(), json!({"t": office.tenant()})),
        ] {
            assert_refused(&test, server, Some(&contact), query, variables, "FORBIDDEN").await;
        }
        office.server.stop().await;
    }
}

/// A phone as every read model shows it.
fn masked(phone: &str) -> String {
    dinghuo_domain::Phone::parse(phone)
        .expect("a valid phone")
        .masked()
}
