//! Contact sign-in through the GraphQL schema on both backends (issue 4 item 4, seed §2 "on first
//! entry the contact must verify and bind their identity"): `requestBindingCode` queues an SMS
//! whose stored text never holds the code, `bindContact` binds only with the right code and the
//! recorded phone and answers a contact token, `login`/`changePassword` for tenant-mode contacts,
//! the rate limits per phone and per client address, and answers that never tell whether a phone
//! exists.
//!
//! The schema is executed directly, as `server::routes` does, with the caller in the request's
//! data. The code is learnt through a `CodeGenerator` put in the request's data, so that nothing
//! has to store or log it for the test to read it.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{Request, Variables};
use chrono::Utc;
use dinghuo_api::auth::{JwtSecret, Tokens};
use dinghuo_api::graphql::order_reads::OrderReads;
use dinghuo_api::graphql::{self, ApiState, Caller, DinghuoSchema, Limits};
use dinghuo_api::server::routes::lines_loader;
use dinghuo_commands::limiter::{Limit, Subject};
use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, Commands, RecordContactInput,
    RecordCustomerInput, Role, UpdateContactInput,
};
use dinghuo_domain::{ContactId, PartnerId, Phone, TenantId};
use dinghuo_identity::binding::{self, BindingCode, CodeGenerator, MAX_TRIES};
use dinghuo_identity::limits::{self, Attempt, PhoneKey};
use dinghuo_identity::password;
use dinghuo_projections::outbox::{
    Delivery, Dispatcher, OutboxKey, OutgoingSms, SendError, SmsProvider, SmsSettings, Stored,
};
use dinghuo_projections::{catch_up, models, prepare, Wakeup};
use dinghuo_store::sql;
use dinghuo_store::Database;
use dinghuo_tests::inspect::all_events;
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::{on_both_backends, TestDb, World};
use serde_json::{json, Value};
use uuid::Uuid;

const CODE: &str = "482913";

const REQUEST_CODE: &str = "mutation($input: RequestBindingCodeInput!) {
    requestBindingCode(input: $input) { accepted expiresInSeconds }
}";

const BIND: &str = "mutation($input: BindContactInput!) {
    bindContact(input: $input) {
        contact { id tenantId partnerId name }
        token
        tokenExpiresAt
    }
}";

const LOGIN: &str = "mutation($input: LoginInput!) {
    login(input: $input) {
        contact { id tenantId partnerId name }
        token
        mustChangePassword
    }
}";

const CHANGE_PASSWORD: &str = "mutation($input: ChangePasswordInput!) {
    changePassword(input: $input) { contact { id } mustChangePassword }
}";

struct Api {
    state: ApiState,
    schema: DinghuoSchema,
}

impl Api {
    fn new(db: &TestDb) -> Self {
        let commands = db.commands();
        let secret = JwtSecret::from_bytes(vec![9; 64]).expect("a long enough secret");
        let order_reader = OrderReads::shared(commands.database());
        let state = ApiState {
            commands: Arc::new(commands),
            tokens: Tokens::new(&secret),
            // No runner runs here: the test projects by catching up, so the mutations' wait for
            // their read model ends at this bound.
            read_your_writes_timeout: Duration::from_millis(50),
            wakeup: Wakeup::new(),
            progress: dinghuo_projections::Progress::new(),
            order_reader,
            outbox_key: OutboxKey::generate(),
            standings: Default::default(),
            sessions: Default::default(),
        };
        let schema = graphql::build(state.clone(), Limits::default());
        Self { state, schema }
    }

    fn commands(&self) -> &Commands {
        &self.state.commands
    }

    fn db(&self) -> &Database {
        self.commands().database()
    }

    /// Runs `query` as `actor` (anonymous when `None`) from client address `addr`.
    async fn run(
        &self,
        actor: Option<Actor>,
        addr: Option<IpAddr>,
        query: &str,
        input: Value,
    ) -> Value {
        let request = Request::new(query)
            .variables(Variables::from_json(json!({ "input": input })))
            .data(Caller {
                actor,
                request_id: Uuid::now_v7(),
                client_addr: addr,
                written: Default::default(),
                valid_until: None,
                binding_epoch: None,
                session: None,
                password_change_only: false,
                member: None,
                signed_in_by_code: false,
                issued_at: None,
            })
            .data(lines_loader(&self.state))
            .data(CodeGenerator::new(|| {
                BindingCode::parse(CODE).expect("a well-formed code")
            }));
        let response = self.schema.execute(request).await;
        serde_json::to_value(&response).expect("a response is JSON")
    }

    /// Runs `query` with a bearer `token`, as the server does: the caller is what the token
    /// proves (the schema's extension then checks that a contact's token still stands).
    async fn with_token(&self, token: &str, query: &str) -> Value {
        self.with_token_and(token, query, Value::Null).await
    }

    /// [`Self::with_token`] with `input` as the `$input` variable.
    async fn with_token_and(&self, token: &str, query: &str, input: Value) -> Value {
        let verified = self
            .state
            .tokens
            .verify_until(token)
            .expect("a valid token");
        let request = Request::new(query)
            .variables(Variables::from_json(json!({ "input": input })))
            .data(Caller::new(Some(verified), Uuid::now_v7(), addr(9)))
            .data(lines_loader(&self.state));
        let response = self.schema.execute(request).await;
        serde_json::to_value(&response).expect("a response is JSON")
    }

    async fn anonymous(&self, addr: Option<IpAddr>, query: &str, input: Value) -> Value {
        self.run(None, addr, query, input).await
    }

    /// Applies every committed event to every projection and the SMS reactor.
    async fn project(&self) {
        // On Postgres the feed holds events back while any older transaction of the cluster is
        // open (other tests share it): wait until it delivers everything written so far.
        settle_feed(self.db()).await;
        for projection in models::all_with_key(self.state.outbox_key.clone()) {
            prepare(self.db(), projection.as_ref())
                .await
                .expect("prepare projection");
            catch_up(self.db(), projection.as_ref(), 500)
                .await
                .expect("catch up projection");
        }
    }
}

fn addr(last: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, last)))
}

fn code_of(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

fn ok(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected errors: {response}"
    );
    &response["data"]
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Message {
    message_id: String,
    contact_id: String,
    phone: String,
    body: String,
    secret: Option<String>,
    status: String,
}

/// Spends `attempts` of `subject`'s limit, as failed attempts would.
async fn spend(api: &Api, subject: (Subject, Limit), attempts: i64) {
    for _ in 0..attempts {
        limits::reserve(api.db(), std::slice::from_ref(&subject), limits::now_ms())
            .await
            .expect("within the limit")
            .failed();
    }
}

async fn messages(db: &Database, template: &str) -> Vec<Message> {
    sql::fetch_all(
        db,
        "SELECT message_id, contact_id, phone, body, secret, status
           FROM notification_outbox WHERE template = $1 ORDER BY queued_at, message_id",
        &[template.into()],
    )
    .await
    .expect("read the outbox")
}

async fn code_rows(db: &Database) -> Vec<(String, String)> {
    sql::fetch_all(
        db,
        "SELECT contact_id, code_hash FROM binding_codes ORDER BY created_at_ms",
        &[],
    )
    .await
    .expect("read the binding codes")
}

/// The event types of one contact's stream.
async fn contact_events(db: &TestDb, contact: ContactId) -> Vec<String> {
    db.stream("Contact", &contact.to_string())
        .await
        .into_iter()
        .map(|(event_type, _)| event_type)
        .collect()
}

fn bindings(events: &[String]) -> usize {
    events.iter().filter(|e| *e == "ContactBound").count()
}

/// A their-side contact of the world's partner, added but not bound yet, and projected.
async fn unbound_contact(api: &Api, world: &World, phone: &str) -> ContactId {
    let contact =
        World::add_unbound_contact(api.commands(), &world.admin_ctx(), world.partner, phone).await;
    api.project().await;
    contact
}

/// A customer of the world's tenant added as a tenant-mode partner, and a their-side contact of
/// it with `phone`; projected, so the reactor provisioned its platform account.
async fn tenant_mode_contact(api: &Api, world: &World, phone: &str) -> (PartnerId, ContactId) {
    let admin = world.admin_ctx();
    let partner = api
        .commands()
        .record_customer(
            &admin,
            RecordCustomerInput {
                name: "Dealer Two".into(),
                ..Default::default()
            },
        )
        .await
        .expect("record customer");
    api.commands()
        .add_partner(
            &admin,
            AddPartnerInput {
                customer_id: partner.to_string(),
                mode: Some("TENANT".into()),
            },
        )
        .await
        .expect("add partner in tenant mode");
    let contact = api
        .commands()
        .record_contact(
            &admin,
            RecordContactInput {
                name: "Han Meimei".into(),
                phone: Some(phone.to_owned()),
                customer_id: Some(partner.to_string()),
                employee: false,
            },
        )
        .await
        .expect("record contact");
    api.commands()
        .add_partner_contact(
            &admin,
            AddPartnerContactInput {
                contact_id: contact.to_string(),
                partner_id: partner.to_string(),
                side: "THEIRS".into(),
            },
        )
        .await
        .expect("add partner contact");
    api.project().await;
    (partner, contact)
}

/// The initial password the reactor queued for `contact` (in the outbox, sealed, until it is
/// sent).
async fn initial_password(api: &Api, contact: ContactId) -> String {
    let message = messages(api.db(), "PARTNER_CONTACT_TENANT")
        .await
        .into_iter()
        .find(|m| m.contact_id == contact.to_string())
        .expect("a message to the contact");
    let stored = message.secret.expect("the initial password is queued");
    let Stored::Sealed(sealed) = Stored::of(&stored) else {
        panic!("the password is stored in the clear");
    };
    api.state
        .outbox_key
        .open(&message.message_id, sealed)
        .expect("it opens with the key")
}

fn bind_input(world: &World, phone: &str, code: &str) -> Value {
    json!({
        "tenantId": world.tenant.to_string(),
        "phone": phone,
        "code": code,
        "channel": "MINI_PROGRAM",
        "wechatOpenId": "o-wx-123",
    })
}

fn request_input(world: &World, phone: &str) -> Value {
    json!({ "tenantId": world.tenant.to_string(), "phone": phone })
}

/// Records what it is asked to send, secret included, as a real SMS gateway would receive it.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<(String, String)>>,
}

impl SmsProvider for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn send<'a, 'b, 'c>(
        &'a self,
        message: &'b OutgoingSms,
    ) -> Pin<Box<dyn Future<Output = Result<Delivery, SendError>> + Send + 'c>>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        Box::pin(async move {
            self.sent
                .lock()
                .expect("not poisoned")
                .push((message.phone.clone(), message.text().to_owned()));
            Ok(Delivery::default())
        })
    }
}

const PHONE: &str = "13912345678";

on_both_backends! {
    async fn a_requested_code_reaches_the_phone_only_in_the_sms_and_binds_the_contact(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let contact = unbound_contact(&api, &world, PHONE).await;

        let answer = api.anonymous(addr(1), REQUEST_CODE, request_input(&world, PHONE)).await;
        assert_eq!(
            ok(&answer)["requestBindingCode"],
            json!({ "accepted": true, "expiresInSeconds": 600 })
        );

        // One SMS to that phone; its stored text holds the placeholder, not the code.
        let queued = messages(api.db(), binding::TEMPLATE).await;
        assert_eq!(queued.len(), 1, "{queued:?}");
        let message = &queued[0];
        assert_eq!(message.phone, PHONE);
        assert_eq!(message.contact_id, contact.to_string());
        assert_eq!(message.status, "PENDING");
        assert!(!message.body.contains(CODE), "{}", message.body);
        assert!(message.body.contains("{password}"), "{}", message.body);
        // Only a hash of the code is kept with it.
        let codes = code_rows(api.db()).await;
        assert_eq!(codes.len(), 1);
        assert!(codes[0].1.starts_with("$argon2id$"), "{}", codes[0].1);
        assert!(!codes[0].1.contains(CODE));

        // The dispatcher delivers the code and then forgets it.
        let recorder = Arc::new(Recorder::default());
        let dispatcher = Dispatcher::new(
            api.db().clone(),
            recorder.clone(),
            SmsSettings::default(),
            api.state.outbox_key.clone(),
        )
        .expect("a dispatcher");
        let report = dispatcher.dispatch_due(Utc::now()).await.expect("dispatch");
        assert!(report.sent >= 1, "{report:?}");
        let delivered = recorder.sent.lock().expect("not poisoned").clone();
        assert!(
            delivered.iter().any(|(phone, text)| phone == PHONE && text.contains(CODE)),
            "{delivered:?}"
        );
        let sent = messages(api.db(), binding::TEMPLATE).await;
        assert_eq!(sent[0].status, "SENT");
        assert_eq!(sent[0].secret, None);

        // The right code binds and signs the contact in.
        let answer = api.anonymous(addr(1), BIND, bind_input(&world, PHONE, CODE)).await;
        let data = &ok(&answer)["bindContact"];
        assert_eq!(data["contact"]["id"], json!(contact.to_string()));
        assert_eq!(data["contact"]["tenantId"], json!(world.tenant.to_string()));
        assert_eq!(data["contact"]["partnerId"], json!(world.partner.to_string()));
        let token = data["token"].as_str().expect("a token");
        assert_eq!(
            api.state.tokens.verify(token),
            Ok(Actor::in_tenant(contact.as_uuid(), Role::Contact, world.tenant))
        );
        assert_eq!(bindings(&contact_events(&db, contact).await), 1);
        assert!(code_rows(api.db()).await.is_empty(), "a spent code is gone");

        // A code binds once.
        let again = api.anonymous(addr(2), BIND, bind_input(&world, PHONE, CODE)).await;
        assert_eq!(code_of(&again).as_deref(), Some("UNAUTHENTICATED"), "{again}");

        // The code is in no event, and no event names the code's hash.
        for event in all_events(api.db()).await {
            let text = format!("{} {}", event.payload, event.metadata);
            assert!(!text.contains(&format!("\"{CODE}\"")), "{text}");
            assert!(!text.contains("$argon2"), "{text}");
        }
    }

    async fn a_token_from_before_the_binding_was_cleared_stays_refused_once_bound_again(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let contact = unbound_contact(&api, &world, PHONE).await;
        let sign_in = |from: u8| {
            let api = &api;
            let world = &world;
            async move {
                ok(&api.anonymous(addr(from), REQUEST_CODE, request_input(world, PHONE)).await);
                let answer = api.anonymous(addr(from), BIND, bind_input(world, PHONE, CODE)).await;
                ok(&answer)["bindContact"]["token"]
                    .as_str()
                    .expect("a token")
                    .to_owned()
            }
        };
        const WHO: &str = "{ viewer { id role } }";
        let first = sign_in(1).await;
        assert_eq!(ok(&api.with_token(&first, WHO).await)["viewer"]["role"], "contact");

        // The admin removes the contact and adds it again.
        let link = json!({"contactId": contact.to_string(), "partnerId": world.partner.to_string()});
        ok(&api
            .run(
                Some(world.admin),
                None,
                "mutation($input: RemovePartnerContactInput!) { removePartnerContact(input: $input) { contactId } }",
                link.clone(),
            )
            .await);
        let mut added = link;
        added["side"] = json!("THEIRS");
        ok(&api
            .run(
                Some(world.admin),
                None,
                "mutation($input: AddPartnerContactInput!) { addPartnerContact(input: $input) { contactId } }",
                added,
            )
            .await);
        api.project().await;
        let refused = api.with_token(&first, WHO).await;
        assert_eq!(code_of(&refused).as_deref(), Some("UNAUTHENTICATED"), "{refused}");

        // Signed in again with a new code: the new token works, the old one stays refused.
        let second = sign_in(2).await;
        assert_eq!(ok(&api.with_token(&second, WHO).await)["viewer"]["role"], "contact");
        let refused = api.with_token(&first, WHO).await;
        assert_eq!(code_of(&refused).as_deref(), Some("UNAUTHENTICATED"), "{refused}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 2);
    }

    async fn a_wrong_code_binds_nothing(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let contact = unbound_contact(&api, &world, PHONE).await;
        ok(&api.anonymous(addr(1), REQUEST_CODE, request_input(&world, PHONE)).await);

        let wrong = api.anonymous(addr(1), BIND, bind_input(&world, PHONE, "000000")).await;
        assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);

        // A malformed code is a form error and costs nothing.
        let malformed = api.anonymous(addr(1), BIND, bind_input(&world, PHONE, "12a")).await;
        assert_eq!(code_of(&malformed).as_deref(), Some("VALIDATION"), "{malformed}");
        assert_eq!(malformed["errors"][0]["extensions"]["field"], json!("code"));

        // The right code still works after one wrong try.
        let right = api.anonymous(addr(1), BIND, bind_input(&world, PHONE, CODE)).await;
        ok(&right);
        assert_eq!(bindings(&contact_events(&db, contact).await), 1);
    }

    async fn a_code_is_dead_after_five_wrong_tries_or_ten_minutes(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        unbound_contact(&api, &world, PHONE).await;
        let phone = Phone::parse(PHONE).expect("a phone");
        let recipient = binding::recipient(api.db(), world.tenant, &phone)
            .await
            .expect("look up")
            .expect("the contact of the phone");
        let code = BindingCode::parse(CODE).expect("a code");
        let wrong = BindingCode::parse("111111").expect("a code");
        let now = limits::now_ms();

        binding::issue(api.db(), &api.state.outbox_key, world.tenant, &phone, &recipient, &code, now).await.expect("issue");
        for _ in 0..MAX_TRIES {
            let spent = binding::redeem(api.db(), world.tenant, &phone, &wrong, now).await.expect("redeem");
            assert_eq!(spent, None);
        }
        let spent = binding::redeem(api.db(), world.tenant, &phone, &code, now).await.expect("redeem");
        assert_eq!(spent, None, "five wrong tries kill the code");

        binding::issue(api.db(), &api.state.outbox_key, world.tenant, &phone, &recipient, &code, now).await.expect("issue");
        let later = now + 10 * 60 * 1000;
        let spent = binding::redeem(api.db(), world.tenant, &phone, &code, later).await.expect("redeem");
        assert_eq!(spent, None, "an expired code binds nothing");
        // Sweeping cancels the expired code's unsent SMS, which clears the code from the outbox.
        binding::sweep_expired(api.db(), later).await.expect("sweep");
        assert!(code_rows(api.db()).await.is_empty());
        let queued = messages(api.db(), binding::TEMPLATE).await;
        assert_eq!(queued.len(), 2);
        assert!(queued.iter().all(|m| m.status == "FAILED" && m.secret.is_none()), "{queued:?}");

        binding::issue(api.db(), &api.state.outbox_key, world.tenant, &phone, &recipient, &code, later).await.expect("issue");
        let spent = binding::redeem(api.db(), world.tenant, &phone, &code, later + 1).await.expect("redeem");
        assert_eq!(spent, Some(recipient.contact_id));
    }

    async fn a_phone_without_a_code_gets_the_generic_refusal_and_a_changed_phone_a_mismatch(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let contact = unbound_contact(&api, &world, PHONE).await;
        ok(&api.anonymous(addr(1), REQUEST_CODE, request_input(&world, PHONE)).await);

        // Another phone with the right code: no code was sent there, the same refusal as a
        // wrong code.
        let other = api.anonymous(addr(2), BIND, bind_input(&world, "13700001111", CODE)).await;
        assert_eq!(code_of(&other).as_deref(), Some("UNAUTHENTICATED"), "{other}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);

        // The recorded phone changes after the code was sent: the code proves the old number,
        // which is no longer the contact's. PHONE_MISMATCH, nothing bound.
        api.commands()
            .update_contact(
                &world.admin_ctx(),
                UpdateContactInput {
                    contact_id: contact.to_string(),
                    name: "Li Lei".into(),
                    phone: Some("13600002222".into()),
                },
            )
            .await
            .expect("update the phone");
        let mismatch = api.anonymous(addr(3), BIND, bind_input(&world, PHONE, CODE)).await;
        assert_eq!(code_of(&mismatch).as_deref(), Some("PHONE_MISMATCH"), "{mismatch}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);
    }

    async fn an_unknown_phone_gets_the_same_answer_and_nothing_is_sent(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        unbound_contact(&api, &world, PHONE).await;
        let employee_phone = "13500003333";
        // An employee (our-side) and a stranger: neither may bind.
        api.commands()
            .record_contact(
                &world.admin_ctx(),
                RecordContactInput {
                    name: "Staff".into(),
                    phone: Some(employee_phone.into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee");
        api.project().await;

        let known = api.anonymous(addr(1), REQUEST_CODE, request_input(&world, PHONE)).await;
        let unknown = api.anonymous(addr(2), REQUEST_CODE, request_input(&world, "13700001111")).await;
        let employee = api.anonymous(addr(3), REQUEST_CODE, request_input(&world, employee_phone)).await;
        let other_tenant = api
            .anonymous(
                addr(4),
                REQUEST_CODE,
                json!({ "tenantId": Uuid::now_v7().to_string(), "phone": PHONE }),
            )
            .await;
        assert_eq!(ok(&known), ok(&unknown));
        assert_eq!(ok(&known), ok(&employee));
        assert_eq!(ok(&known), ok(&other_tenant));
        let queued = messages(api.db(), binding::TEMPLATE).await;
        assert_eq!(queued.len(), 1, "only the known phone gets an SMS: {queued:?}");
        assert_eq!(queued[0].phone, PHONE);
        assert_eq!(code_rows(api.db()).await.len(), 1);

        // Binding with an unknown phone: the same refusal as a wrong code.
        let unknown = api.anonymous(addr(5), BIND, bind_input(&world, "13700001111", CODE)).await;
        let wrong = api.anonymous(addr(6), BIND, bind_input(&world, PHONE, "000000")).await;
        assert_eq!(unknown["errors"][0]["message"], wrong["errors"][0]["message"]);
        assert_eq!(code_of(&unknown), code_of(&wrong));
    }

    async fn the_sixth_attempt_of_a_phone_or_an_address_is_rate_limited(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let contact = unbound_contact(&api, &world, PHONE).await;

        // Per phone, from many addresses: a code request and four wrong codes are five attempts.
        ok(&api.anonymous(addr(10), REQUEST_CODE, request_input(&world, PHONE)).await);
        for i in 0..4 {
            let wrong = api.anonymous(addr(11 + i), BIND, bind_input(&world, PHONE, "000000")).await;
            assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        }
        // The sixth is refused before the code is looked at, even the right one.
        let limited = api.anonymous(addr(20), BIND, bind_input(&world, PHONE, CODE)).await;
        assert_eq!(code_of(&limited).as_deref(), Some("RATE_LIMITED"), "{limited}");
        // With the advice to wait until the oldest failure leaves the 15-minute window.
        let extensions = &limited["errors"][0]["extensions"];
        assert_eq!(extensions["retryable"], true, "{limited}");
        let wait_ms = extensions["retryAfterMs"].as_u64().unwrap_or_default();
        assert!((1_000..=901_000).contains(&wait_ms), "{limited}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);
        let limited = api.anonymous(addr(21), REQUEST_CODE, request_input(&world, PHONE)).await;
        assert_eq!(code_of(&limited).as_deref(), Some("RATE_LIMITED"), "{limited}");
        assert_eq!(messages(api.db(), binding::TEMPLATE).await.len(), 1, "no second SMS");
        // The code survived: it was never tried.
        assert_eq!(code_rows(api.db()).await.len(), 1);

        // Per address, over many phones (known or not): an office's worth, then refused.
        for i in 0..5 {
            let phone = format!("1370000{:04}", i);
            ok(&api.anonymous(addr(30), REQUEST_CODE, request_input(&world, &phone)).await);
        }
        // Issue 17: an address may ask for 150 codes an hour and guess wrong 100 times in fifteen
        // minutes, so that 50 staff behind one NAT can sign up (it was five): spend the rest.
        let office = addr(30).expect("an address");
        spend(&api, limits::address(Attempt::CodeRequest, office), limits::ADDRESS_CODES_PER_HOUR - 5).await;
        let limited = api.anonymous(addr(30), REQUEST_CODE, request_input(&world, "13700009999")).await;
        assert_eq!(code_of(&limited).as_deref(), Some("RATE_LIMITED"), "{limited}");
        spend(&api, limits::address(Attempt::Guess, office), limits::ADDRESS_GUESSES_PER_WINDOW).await;
        let limited = api
            .anonymous(
                addr(30),
                LOGIN,
                json!({ "tenantId": world.tenant.to_string(), "phone": "13700008888", "password": "whatever1" }),
            )
            .await;
        assert_eq!(code_of(&limited).as_deref(), Some("RATE_LIMITED"), "{limited}");

        // The window is fifteen minutes: later, the same subjects may try again.
        let phone = Phone::parse(PHONE).expect("a phone");
        let subjects = limits::subjects(Attempt::Guess, &PhoneKey::in_tenant(world.tenant, &phone), addr(30));
        let now = limits::now_ms();
        assert!(limits::reserve(api.db(), &subjects, now).await.is_err());
        let later = now + 15 * 60 * 1000 + 1;
        let reservation = limits::reserve(api.db(), &subjects, later).await.expect("free again");
        reservation.release(api.db()).await.expect("release");
    }

    async fn a_tenant_mode_contact_logs_in_with_its_sms_password_and_changes_it(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let (partner, contact) = tenant_mode_contact(&api, &world, PHONE).await;
        let password = initial_password(&api, contact).await;
        let login = |phone: &str, password: &str| {
            json!({ "tenantId": world.tenant.to_string(), "phone": phone, "password": password })
        };

        // A wrong password and an unknown phone: one and the same refusal.
        let wrong = api.anonymous(addr(1), LOGIN, login(PHONE, "not-the-password")).await;
        let unknown = api.anonymous(addr(2), LOGIN, login("13700001111", &password)).await;
        assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"]);
        assert_eq!(code_of(&wrong), code_of(&unknown));
        // Another tenant's id with the right phone and password: nothing there.
        let elsewhere = api
            .anonymous(
                addr(3),
                LOGIN,
                json!({ "tenantId": Uuid::now_v7().to_string(), "phone": PHONE, "password": password }),
            )
            .await;
        assert_eq!(code_of(&elsewhere).as_deref(), Some("UNAUTHENTICATED"), "{elsewhere}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);

        // The SMS password signs in, binds on the APP channel, and asks for a new password.
        let answer = api.anonymous(addr(4), LOGIN, login(PHONE, &password)).await;
        let data = &ok(&answer)["login"];
        assert_eq!(data["mustChangePassword"], json!(true));
        assert_eq!(data["contact"]["id"], json!(contact.to_string()));
        let token = data["token"].as_str().expect("a token");
        let me = Actor::in_tenant(contact.as_uuid(), Role::Contact, world.tenant);
        assert_eq!(api.state.tokens.verify(token), Ok(me));
        assert_eq!(bindings(&contact_events(&db, contact).await), 1);
        api.project().await;
        let again = api.anonymous(addr(4), LOGIN, login(PHONE, &password)).await;
        assert_eq!(ok(&again)["login"]["contact"]["partnerId"], json!(partner.to_string()));
        assert_eq!(bindings(&contact_events(&db, contact).await), 1, "binds once");

        // changePassword: only a signed-in contact, the right current password, 8+ characters.
        let change = |current: &str, new: &str| json!({ "currentPassword": current, "newPassword": new });
        let anonymous = api.anonymous(addr(5), CHANGE_PASSWORD, change(&password, "a new secret")).await;
        assert_eq!(code_of(&anonymous).as_deref(), Some("UNAUTHENTICATED"), "{anonymous}");
        let admin = api.run(Some(world.admin), addr(5), CHANGE_PASSWORD, change(&password, "a new secret")).await;
        assert_eq!(code_of(&admin).as_deref(), Some("FORBIDDEN"), "{admin}");
        let short = api.run(Some(me), addr(5), CHANGE_PASSWORD, change(&password, "short")).await;
        assert_eq!(code_of(&short).as_deref(), Some("VALIDATION"), "{short}");
        assert_eq!(short["errors"][0]["extensions"]["field"], json!("newPassword"));
        let wrong = api.run(Some(me), addr(5), CHANGE_PASSWORD, change("not-it-at-all", "a new secret")).await;
        assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        let changed = api.run(Some(me), addr(6), CHANGE_PASSWORD, change(&password, "a new secret")).await;
        assert_eq!(
            ok(&changed)["changePassword"],
            json!({ "contact": { "id": contact.to_string() }, "mustChangePassword": false })
        );

        let old = api.anonymous(addr(7), LOGIN, login(PHONE, &password)).await;
        assert_eq!(code_of(&old).as_deref(), Some("UNAUTHENTICATED"), "{old}");
        let new = api.anonymous(addr(8), LOGIN, login(PHONE, "a new secret")).await;
        assert_eq!(ok(&new)["login"]["mustChangePassword"], json!(false));

        // A tenantless contact has no platform account.
        let tenantless = Actor::in_tenant(world.contact.as_uuid(), Role::Contact, world.tenant);
        let none = api.run(Some(tenantless), addr(9), CHANGE_PASSWORD, change("whatever1", "a new secret")).await;
        assert_eq!(code_of(&none).as_deref(), Some("NOT_FOUND"), "{none}");
    }

    async fn the_sixth_login_of_a_phone_is_rate_limited_even_with_the_right_password(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let (_, contact) = tenant_mode_contact(&api, &world, PHONE).await;
        let password = initial_password(&api, contact).await;
        let login = |password: &str| {
            json!({ "tenantId": world.tenant.to_string(), "phone": PHONE, "password": password })
        };
        for i in 0..5 {
            let wrong = api.anonymous(addr(40 + i), LOGIN, login("wrong-password")).await;
            assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        }
        let limited = api.anonymous(addr(50), LOGIN, login(&password)).await;
        assert_eq!(code_of(&limited).as_deref(), Some("RATE_LIMITED"), "{limited}");
        assert_eq!(bindings(&contact_events(&db, contact).await), 0);
    }
}

const CHANGE_PASSWORD_FOR_TOKEN: &str = "mutation($input: ChangePasswordInput!) {
    changePassword(input: $input) { mustChangePassword token }
}";

const SIGN_OUT: &str = "mutation { signOut { signedOut } }";

const OWN_TENANT: &str = "{ tenant { id } }";

#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct SessionRow {
    revoked_reason: Option<String>,
    must_change_password: bool,
}

async fn sessions_of(db: &Database, contact: ContactId) -> Vec<SessionRow> {
    sql::fetch_all(
        db,
        "SELECT revoked_reason, must_change_password FROM sessions
          WHERE subject_id = $1 ORDER BY created_at_ms, session_id",
        &[contact.to_string().into()],
    )
    .await
    .expect("read sessions")
}

on_both_backends! {
    async fn a_session_that_must_change_its_password_may_only_do_that_and_the_change_ends_it(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let (_, contact) = tenant_mode_contact(&api, &world, PHONE).await;
        let password = initial_password(&api, contact).await;
        let login = json!({ "tenantId": world.tenant.to_string(), "phone": PHONE, "password": password });
        let first = api.anonymous(addr(1), LOGIN, login).await;
        let first = ok(&first)["login"]["token"].as_str().expect("a token").to_owned();

        // The SMS password's session may read nothing and run nothing but changePassword; the
        // viewer tells it so.
        let read = api.with_token(&first, OWN_TENANT).await;
        assert_eq!(code_of(&read).as_deref(), Some("PASSWORD_CHANGE_REQUIRED"), "{read}");
        let viewer = api.with_token(&first, "{ viewer { id mustChangePassword } }").await;
        assert_eq!(
            ok(&viewer)["viewer"],
            json!({ "id": contact.to_string(), "mustChangePassword": true })
        );
        let change = json!({ "currentPassword": password, "newPassword": "a new secret" });
        let changed = api.with_token_and(&first, CHANGE_PASSWORD_FOR_TOKEN, change).await;
        let changed = &ok(&changed)["changePassword"];
        assert_eq!(changed["mustChangePassword"], json!(false));
        let second = changed["token"].as_str().expect("a new token").to_owned();

        // The change ended the session that made it; the new token reads.
        let old = api.with_token(&first, OWN_TENANT).await;
        assert_eq!(code_of(&old).as_deref(), Some("UNAUTHENTICATED"), "{old}");
        let read = api.with_token(&second, OWN_TENANT).await;
        assert_eq!(ok(&read)["tenant"]["id"], json!(world.tenant.to_string()));

        // Signing out ends the new one too, at once.
        let out = api.with_token(&second, SIGN_OUT).await;
        assert_eq!(ok(&out)["signOut"]["signedOut"], json!(true));
        let after = api.with_token(&second, OWN_TENANT).await;
        assert_eq!(code_of(&after).as_deref(), Some("UNAUTHENTICATED"), "{after}");
        assert_eq!(
            sessions_of(api.db(), contact).await,
            vec![
                SessionRow { revoked_reason: Some("PASSWORD_CHANGED".into()), must_change_password: true },
                SessionRow { revoked_reason: Some("SIGNED_OUT".into()), must_change_password: false },
            ]
        );
    }

    async fn a_token_minted_without_a_session_cannot_sign_out_and_still_works(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        api.project().await;
        let token = api.state.tokens.issue(&world.admin, Duration::from_secs(600)).expect("a token");
        let out = api.with_token(&token, SIGN_OUT).await;
        assert_eq!(code_of(&out).as_deref(), Some("FORBIDDEN"), "{out}");
        let read = api.with_token(&token, OWN_TENANT).await;
        assert_eq!(ok(&read)["tenant"]["id"], json!(world.tenant.to_string()));
    }

    async fn fifty_contacts_behind_one_address_all_bind_within_the_hour(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 0).await;
        let office = addr(77);
        let mut contacts = Vec::new();
        for i in 0..50 {
            let phone = format!("1370000{i:04}");
            let contact = World::add_unbound_contact(api.commands(), &world.admin_ctx(), world.partner, &phone).await;
            contacts.push((phone, contact));
        }
        api.project().await;
        // Each asks for a code and mistypes it once, all from the office's one address.
        for (phone, _) in &contacts {
            ok(&api.anonymous(office, REQUEST_CODE, request_input(&world, phone)).await);
            let wrong = api.anonymous(office, BIND, bind_input(&world, phone, "000000")).await;
            assert_eq!(code_of(&wrong).as_deref(), Some("UNAUTHENTICATED"), "{wrong}");
        }
        for (phone, contact) in &contacts {
            let bound = api.anonymous(office, BIND, bind_input(&world, phone, CODE)).await;
            assert!(ok(&bound)["bindContact"]["token"].is_string(), "{bound}");
            assert_eq!(bindings(&contact_events(&db, *contact).await), 1);
        }
    }
}

// The pieces, without a database.

#[test]
fn a_random_code_is_six_digits_and_its_debug_hides_them() {
    for _ in 0..200 {
        let code = BindingCode::random();
        assert_eq!(BindingCode::parse(code.expose()), Some(code.clone()));
        assert!(!format!("{code:?}").contains(code.expose()));
    }
}

#[test]
fn only_six_ascii_digits_parse_as_a_code() {
    assert!(BindingCode::parse(" 012345 ").is_some());
    for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
        assert!(BindingCode::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn the_sms_text_holds_one_placeholder_whatever_the_tenant_is_called() {
    let body = binding::text(Some("Acme {password}"));
    assert_eq!(body.matches("{password}").count(), 1, "{body}");
    assert!(binding::text(None).contains("{password}"));
}

#[test]
fn an_ipv6_client_is_counted_by_its_slash_64() {
    let v6 = |text: &str| IpAddr::V6(text.parse().expect("an address"));
    assert_eq!(
        limits::address(Attempt::Guess, v6("2001:db8:1:2:aaaa::1")),
        limits::address(Attempt::Guess, v6("2001:db8:1:2:bbbb::2"))
    );
    assert_ne!(
        limits::address(Attempt::Guess, v6("2001:db8:1:2::1")),
        limits::address(Attempt::Guess, v6("2001:db8:1:3::1"))
    );
    let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 7).to_ipv6_mapped());
    assert_eq!(
        limits::address(Attempt::Guess, mapped),
        limits::address(Attempt::Guess, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)))
    );
}

#[test]
fn a_phone_key_depends_on_the_tenant_and_hides_the_number() {
    let phone = Phone::parse("13800138000").expect("a phone");
    let (t1, t2) = (
        TenantId::from_uuid(Uuid::now_v7()),
        TenantId::from_uuid(Uuid::now_v7()),
    );
    assert_eq!(limits::phone_key(t1, &phone), limits::phone_key(t1, &phone));
    assert_ne!(limits::phone_key(t1, &phone), limits::phone_key(t2, &phone));
    assert!(!limits::phone_key(t1, &phone).contains("13800138000"));
}

#[test]
fn a_new_password_has_ten_to_128_characters_and_differs_from_the_current_one() {
    let phone = Phone::parse("13800138000").expect("a phone");
    assert!(password::check_new_password("short7!", "whatever1", &phone).is_err());
    assert!(password::check_new_password("        ", "whatever1", &phone).is_err());
    assert!(password::check_new_password(&"x".repeat(129), "whatever1", &phone).is_err());
    assert!(password::check_new_password("same-password", "same-password", &phone).is_err());
    // Issue 17: at least ten characters (it was eight).
    assert!(password::check_new_password("长城长城长城长城", "whatever1", &phone).is_err());
    assert!(password::check_new_password("长城长城长城长城长城", "whatever1", &phone).is_ok());
    assert!(password::check_new_password("a fine password", "whatever1", &phone).is_ok());
}

#[tokio::test]
async fn a_secret_verifies_only_against_its_own_hash_and_never_without_one() {
    let hash = password::hash_secret("123456".to_owned())
        .await
        .expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(
        password::verify_secret("123456".to_owned(), Some(hash.clone()))
            .await
            .expect("verify")
    );
    assert!(!password::verify_secret("123457".to_owned(), Some(hash))
        .await
        .expect("verify"));
    assert!(!password::verify_secret("123456".to_owned(), None)
        .await
        .expect("verify"));
}
