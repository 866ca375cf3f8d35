//! Staff sign-in through the public GraphQL API, as a tenant's admins and employees use it
//! (DESIGN §4, Identity): the operator creates a tenant's first admin, an admin invites an
//! employee, and a member signs in with its phone and an SMS code (read from the SMS the server
//! queued, opened with the server's outbox key, as the phone would show it) or a password.
//!
//! Every helper takes the client address as an optional `X-Forwarded-For` value, which the
//! server counts only when started with `--trusted-proxy-hops`.

use std::time::{Duration, Instant};

use dinghuo_commands::Actor;
use dinghuo_domain::{Phone, TenantId};
use dinghuo_projections::outbox::Stored;
use dinghuo_store::sql;
use dinghuo_store::Database;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::server::{assert_retry_advice, TestServer};
use crate::ws;

/// The template of the SMS that carries a staff sign-in code.
pub const TEMPLATE: &str = "STAFF_SIGN_IN_CODE";

/// Everything a staff member is, as `StaffMember` answers it.
pub const MEMBER_FIELDS: &str =
    "id tenantId role name phoneMasked contactId actorId status addedAt revokedAt";

/// Everything `signIn` and `switchTenant` answer.
pub const SIGN_IN_FIELDS: &str = "token tokenExpiresAt hasPassword \
     member { id tenantId role name phoneMasked contactId actorId status addedAt revokedAt } \
     memberships { memberId tenantId tenantName role }";

/// A mutation that signs in, with the answer's fields.
pub const SIGN_IN: &str = "mutation($p: String!, $c: String, $w: String, $t: ID) { signIn(input: {phone: $p, code: $c, password: $w, tenantId: $t}) { token tokenExpiresAt hasPassword member { id tenantId role name phoneMasked contactId actorId status addedAt revokedAt } memberships { memberId tenantId tenantName role } } }";

/// The caller as a staff session sees itself.
pub const VIEWER: &str =
    "{ viewer { id role tenantId memberships { memberId tenantId tenantName role } } }";

/// The normalised form of `phone` (`13800138000`), as the outbox stores it.
pub fn normalised(phone: &str) -> String {
    Phone::parse(phone)
        .expect("a valid test phone")
        .as_str()
        .to_owned()
}

/// A token of the platform operator, as `dinghuo token` mints it.
pub fn operator_token(server: &TestServer) -> String {
    server.token(&Actor::operator(Uuid::now_v7()))
}

/// Posts one GraphQL operation, from `forwarded` (as `X-Forwarded-For`) when given; answers the
/// whole JSON response.
pub async fn graphql_from(
    server: &TestServer,
    forwarded: Option<&str>,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("the server answers with JSON")
}

/// `data` of a response that must have succeeded.
pub fn data_of(query: &str, response: Value) -> Value {
    assert!(
        response.get("errors").is_none(),
        "{query}\nfailed: {response:#}"
    );
    response["data"].clone()
}

/// The first error of a response that must have failed (checking its request id and retry
/// advice as [`TestServer::refused`] does).
pub fn error_of(query: &str, response: &Value) -> Value {
    let error = &response["errors"][0];
    assert!(
        error["extensions"]["code"].is_string(),
        "{query}\nwas not refused: {response:#}"
    );
    assert!(
        error["extensions"]["requestId"].is_string(),
        "every error names its request: {response:#}"
    );
    assert_retry_advice(error);
    error.clone()
}

/// The code of an error answered by [`error_of`].
pub fn code_of(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or_default()
}

/// The operator makes `phone` the admin of `tenant`; answers the `StaffMember`.
pub async fn create_tenant_admin(
    server: &TestServer,
    operator: &str,
    tenant: TenantId,
    name: &str,
    phone: &str,
) -> Value {
    let query = format!(
        "mutation($t: ID!, $n: String!, $p: String!) {{ createTenantAdmin(input: {{tenantId: $t, name: $n, phone: $p}}) {{ member {{ {MEMBER_FIELDS} }} }} }}"
    );
    let data = server
        .ok(
            Some(operator),
            &query,
            json!({"t": tenant.to_string(), "n": name, "p": phone}),
        )
        .await;
    let member = data["createTenantAdmin"]["member"].clone();
    assert!(member.is_object(), "the new admin is shown: {data:#}");
    member
}

/// An admin records an employee (an our-side contact) with `phone`; answers its contact id.
pub async fn record_employee(server: &TestServer, admin: &str, name: &str, phone: &str) -> String {
    let data = server
        .ok(
            Some(admin),
            "mutation($n: String!, $p: String) { recordContact(input: {name: $n, phone: $p, employee: true}) { contactId } }",
            json!({"n": name, "p": phone}),
        )
        .await;
    data["recordContact"]["contactId"]
        .as_str()
        .expect("a contact id")
        .to_owned()
}

/// An admin links an employee to a partner (our side): it then sees that partner and its orders.
pub async fn link_employee(server: &TestServer, admin: &str, contact: &str, partner: &str) {
    server
        .ok(
            Some(admin),
            "mutation($c: ID!, $p: ID!) { addPartnerContact(input: {contactId: $c, partnerId: $p, side: OURS}) { contactId } }",
            json!({"c": contact, "p": partner}),
        )
        .await;
}

/// The query of `inviteEmployee`, answering the member.
pub fn invite_query() -> String {
    format!(
        "mutation($c: ID!) {{ inviteEmployee(input: {{contactId: $c}}) {{ member {{ {MEMBER_FIELDS} }} }} }}"
    )
}

/// An admin invites a recorded employee; answers the `StaffMember`.
pub async fn invite_employee(server: &TestServer, admin: &str, contact: &str) -> Value {
    let data = server
        .ok(Some(admin), &invite_query(), json!({"c": contact}))
        .await;
    let member = data["inviteEmployee"]["member"].clone();
    assert!(member.is_object(), "the new employee is shown: {data:#}");
    member
}

/// The query of `revokeStaffAccess`, answering the member.
pub fn revoke_query() -> String {
    format!(
        "mutation($m: ID!, $t: ID) {{ revokeStaffAccess(input: {{memberId: $m, tenantId: $t}}) {{ member {{ {MEMBER_FIELDS} }} }} }}"
    )
}

/// The latest staff sign-in SMS queued to `phone`: its message id and sealed secret (`None`
/// once the SMS was sent, or replaced by a newer request).
pub async fn latest_code_message(db: &Database, phone: &str) -> Option<(String, Option<String>)> {
    sql::fetch_all(
        db,
        "SELECT message_id, secret FROM notification_outbox
          WHERE template = $1 AND phone = $2
          ORDER BY queued_at DESC, message_id DESC",
        &[TEMPLATE.into(), normalised(phone).into()],
    )
    .await
    .expect("read the outbox")
    .into_iter()
    .next()
}

/// How many staff sign-in SMS were ever queued to `phone`.
pub async fn code_messages(db: &Database, phone: &str) -> usize {
    let rows: Vec<(String,)> = sql::fetch_all(
        db,
        "SELECT message_id FROM notification_outbox WHERE template = $1 AND phone = $2",
        &[TEMPLATE.into(), normalised(phone).into()],
    )
    .await
    .expect("read the outbox");
    rows.len()
}

/// Asks for a sign-in code for `phone` (from `forwarded`): asserts the answer every phone gets.
pub async fn request_code_only(server: &TestServer, forwarded: Option<&str>, phone: &str) {
    let query = "mutation($p: String!) { requestSignInCode(input: {phone: $p}) { accepted expiresInSeconds } }";
    let response = graphql_from(server, forwarded, None, query, json!({"p": phone})).await;
    let data = data_of(query, response);
    assert_eq!(
        data["requestSignInCode"],
        json!({"accepted": true, "expiresInSeconds": 600}),
        "{data:#}"
    );
}

/// Asks for a sign-in code for `phone` (from `forwarded`) and reads it from the SMS the server
/// queued, as the phone shows it. The dispatcher (every second) may send the SMS before it is read
/// here, which clears the code from the outbox: then it asks again (three requests at most).
pub async fn request_code(
    server: &TestServer,
    db: &Database,
    forwarded: Option<&str>,
    phone: &str,
) -> String {
    for _ in 0..3 {
        request_code_only(server, forwarded, phone).await;
        let (message_id, secret) = latest_code_message(db, phone)
            .await
            .unwrap_or_else(|| panic!("no sign-in code was queued to {phone}"));
        let Some(secret) = secret else {
            continue;
        };
        let Stored::Sealed(sealed) = Stored::of(&secret) else {
            panic!("the code is stored in the clear");
        };
        return server
            .outbox_key()
            .open(&message_id, sealed)
            .expect("the code opens with the server's outbox key");
    }
    panic!("every code sent to {phone} was sent before it could be read")
}

/// `signIn` with a code or a password (and a tenant), from `forwarded`: the whole response.
pub async fn sign_in_response(
    server: &TestServer,
    forwarded: Option<&str>,
    phone: &str,
    code: Option<&str>,
    password: Option<&str>,
    tenant: Option<&str>,
) -> Value {
    graphql_from(
        server,
        forwarded,
        None,
        SIGN_IN,
        json!({"p": phone, "c": code, "w": password, "t": tenant}),
    )
    .await
}

/// A staff member signed in: the token and the whole `signIn` payload.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub payload: Value,
}

impl SignedIn {
    fn of(field: &str, data: &Value) -> Self {
        let payload = data[field].clone();
        let token = payload["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{field} answers a token: {data:#}"))
            .to_owned();
        Self { token, payload }
    }

    /// The member it signed in as.
    pub fn member(&self) -> &Value {
        &self.payload["member"]
    }
}

/// Signs in with `code` (and `tenant`), asserting success.
pub async fn sign_in_with(
    server: &TestServer,
    forwarded: Option<&str>,
    phone: &str,
    code: &str,
    tenant: Option<&str>,
) -> SignedIn {
    let response = sign_in_response(server, forwarded, phone, Some(code), None, tenant).await;
    SignedIn::of("signIn", &data_of(SIGN_IN, response))
}

/// Asks for a code, reads it and signs in with it, all from `forwarded`.
pub async fn sign_in_with_a_code(
    server: &TestServer,
    db: &Database,
    forwarded: Option<&str>,
    phone: &str,
    tenant: Option<&str>,
) -> SignedIn {
    let code = request_code(server, db, forwarded, phone).await;
    sign_in_with(server, forwarded, phone, &code, tenant).await
}

/// Signs in with a password (and `tenant`), asserting success.
pub async fn sign_in_with_password(
    server: &TestServer,
    phone: &str,
    password: &str,
    tenant: Option<&str>,
) -> SignedIn {
    let response = sign_in_response(server, None, phone, None, Some(password), tenant).await;
    SignedIn::of("signIn", &data_of(SIGN_IN, response))
}

/// `switchTenant` to `tenant`, asserting success.
pub async fn switch_tenant(server: &TestServer, token: &str, tenant: &str) -> SignedIn {
    let query = format!(
        "mutation($t: ID!) {{ switchTenant(input: {{tenantId: $t}}) {{ {SIGN_IN_FIELDS} }} }}"
    );
    let data = server.ok(Some(token), &query, json!({"t": tenant})).await;
    SignedIn::of("switchTenant", &data)
}

/// The query of `setPassword`, answering the new session's token.
pub const SET_PASSWORD: &str = "mutation($n: String!, $c: String) { setPassword(input: {newPassword: $n, currentPassword: $c}) { token tokenExpiresAt } }";

/// `setPassword`, asserting success; answers the new session's token.
pub async fn set_password(
    server: &TestServer,
    token: &str,
    new_password: &str,
    current: Option<&str>,
) -> String {
    let data = server
        .ok(
            Some(token),
            SET_PASSWORD,
            json!({"n": new_password, "c": current}),
        )
        .await;
    data["setPassword"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("setPassword answers a token: {data:#}"))
        .to_owned()
}

/// The caller's `viewer`, asserting success.
pub async fn viewer(server: &TestServer, token: &str) -> Value {
    server.ok(Some(token), VIEWER, json!({})).await["viewer"].clone()
}

/// A code other than `code` (still six digits).
pub fn wrong_code(code: &str) -> String {
    let n: u32 = code.parse().expect("a code is six digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// Forgets every attempt the limiter counted, as if its windows had passed (a code's own ten
/// minutes and five tries have not): to reach a code's own limits past the phone's.
pub async fn forget_attempts(db: &Database) {
    sql::execute(db, "DELETE FROM auth_attempts", &[])
        .await
        .expect("forget the limiter's attempts");
}

/// Moves every attempt the limiter counted `by` into the past, as if that much time had passed
/// (the limits' windows, not the codes' lives).
pub async fn age_attempts(db: &Database, by: Duration) {
    let by = i64::try_from(by.as_millis()).expect("a short time");
    sql::execute(
        db,
        "UPDATE auth_attempts SET attempted_at_ms = attempted_at_ms - $1",
        &[by.into()],
    )
    .await
    .expect("age the limiter's attempts");
}

/// Moves the code carried by the SMS `message_id` `by` into the past, as if it had been issued
/// that much earlier. (Codes live in `binding_codes`, under the staff scope.)
pub async fn age_code(db: &Database, message_id: &str, by: Duration) {
    let by = i64::try_from(by.as_millis()).expect("a short time");
    let aged = sql::execute(
        db,
        "UPDATE binding_codes SET created_at_ms = created_at_ms - $1,
                                  expires_at_ms = expires_at_ms - $1
          WHERE message_id = $2",
        &[by.into(), message_id.into()],
    )
    .await
    .expect("age a code");
    assert_eq!(aged, 1, "one code was sent by {message_id}");
}

/// Polls `query` until `done` holds of its data, or panics after [`ws::PATIENCE`]: for reads of
/// what the command layer wrote under the server (its projections catch up on their own).
pub async fn eventually(
    server: &TestServer,
    token: &str,
    query: &str,
    variables: Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let data = server.ok(Some(token), query, variables.clone()).await;
        if done(&data) {
            return data;
        }
        assert!(
            started.elapsed() < ws::PATIENCE,
            "{query} never answered as expected; last: {data:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ids of a connection's nodes.
pub fn node_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection: {connection:#}"))
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("a node id").to_owned())
        .collect()
}
