//! The SMS outbox on both backends (issue 3 item 6, seed "维护联系人对象，添加对接人"):
//! - adding a their-side contact queues the product document's SMS, once: the WeChat text for a
//!   tenantless partner, the login text and a platform account for a tenant-mode partner;
//! - the initial password exists only as an argon2id hash in `credentials` and, until sent, in
//!   the outbox row: never in the event log, a read model, the outbox view, or the logs;
//! - the reactor run again over the same events (repeated catch-up, checkpoint moved back to the
//!   start as after a crash) queues nothing twice and draws no new password;
//! - the dispatcher sends through the log provider and through an HTTP gateway (a fake one here
//!   that fails, hangs, or succeeds), retrying with backoff under one dedup key, failing for good
//!   after the last attempt, and taking over what a crashed dispatcher left behind.
//!
//! Time is stepped through `Dispatcher::dispatch_due(now)`: no test sleeps through a backoff.

use std::future::IntoFuture;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use async_trait::async_trait;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use dinghuo_commands::{
    AddPartnerContactInput, AddPartnerInput, BindWechatAccountInput, Commands, RecordContactInput,
    RecordCustomerInput, RemovePartnerContactInput, RequestContext, UpdateContactInput,
};
use dinghuo_domain::{ContactId, PartnerId};
use dinghuo_projections::outbox::{
    seal_cleartext_secrets, Delivery, Dispatcher, MessageSettings, NotificationsReactor, OutboxKey,
    OutgoingSms, ProviderKind, SecretString, SendError, SmsProvider, SmsSettings, Stored,
};
use dinghuo_projections::{catch_up, prepare, Projection};
use dinghuo_store::sql::{self, Arg};
use dinghuo_store::Database;
use dinghuo_tests::at_rest::{sqlite_files, sqlite_path};
use dinghuo_tests::inspect::all_events;
use dinghuo_tests::logs::capture;
use dinghuo_tests::read_model::{dump, replayable_projections, settle_feed};
use dinghuo_tests::{on_both_backends, TestDb, World};
use serde_json::{json, Value};

/// The phone of the contact added to the tenant-mode partner.
const TENANT_PHONE: &str = "13900139000";
const PUBLIC_URL: &str = "https://dinghuo.test";
const TOKEN: &str = "gateway-token-123";

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Message {
    message_id: String,
    tenant_id: String,
    contact_id: String,
    partner_id: String,
    channel: String,
    template: String,
    phone: String,
    body: String,
    secret: Option<String>,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    sent: bool,
    provider_message_id: Option<String>,
}

const MESSAGES: &str = "
SELECT message_id, tenant_id, contact_id, partner_id, channel, template, phone, body, secret,
       status, CAST(attempts AS bigint) AS attempts, last_error, sent_at IS NOT NULL AS sent,
       provider_message_id
  FROM notification_outbox ORDER BY queued_at, message_id";

async fn messages(db: &Database) -> Vec<Message> {
    match db {
        Database::Postgres(pool) => sqlx::query_as(MESSAGES).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(MESSAGES).fetch_all(pool).await,
    }
    .expect("read the outbox")
}

async fn messages_to(db: &Database, contact: ContactId) -> Vec<Message> {
    let contact = contact.to_string();
    messages(db)
        .await
        .into_iter()
        .filter(|m| m.contact_id == contact)
        .collect()
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Credential {
    contact_id: String,
    tenant_id: String,
    login: String,
    password_hash: String,
    must_change_password: bool,
}

async fn credentials(db: &Database) -> Vec<Credential> {
    let sql = "SELECT contact_id, tenant_id, login, password_hash, must_change_password
                 FROM credentials ORDER BY contact_id";
    match db {
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("read credentials")
}

fn verifies(hash: &str, password: &str) -> bool {
    let parsed = PasswordHash::new(hash).expect("a PHC string");
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The outbox key of every reactor and dispatcher of this test binary.
static KEY: LazyLock<OutboxKey> = LazyLock::new(OutboxKey::generate);

fn reactor() -> NotificationsReactor {
    NotificationsReactor::new(MessageSettings::under(PUBLIC_URL)).with_key(KEY.clone())
}

/// The plaintext of a message's stored secret, which is sealed for that message.
fn opened(message: &Message) -> Option<String> {
    let stored = message.secret.as_deref()?;
    let Stored::Sealed(sealed) = Stored::of(stored) else {
        panic!("a secret stored in the clear: {stored}");
    };
    Some(
        KEY.open(&message.message_id, sealed)
            .expect("the secret opens with the key"),
    )
}

/// Lets the reactor process everything written so far. Answers the events applied.
async fn run_reactor(db: &Database) -> u64 {
    settle_feed(db).await;
    let reactor = reactor();
    prepare(db, &reactor).await.expect("prepare the reactor");
    catch_up(db, &reactor, 50)
        .await
        .expect("the reactor catches up")
}

/// A second customer of the world's tenant, added as a partner in tenant mode.
async fn tenant_mode_partner(commands: &Commands, admin: &RequestContext) -> PartnerId {
    let partner = commands
        .record_customer(
            admin,
            RecordCustomerInput {
                name: "Dealer Two".into(),
                ..Default::default()
            },
        )
        .await
        .expect("record customer");
    commands
        .add_partner(
            admin,
            AddPartnerInput {
                customer_id: partner.to_string(),
                mode: Some("TENANT".into()),
            },
        )
        .await
        .expect("add partner in tenant mode");
    partner
}

async fn add_again(
    commands: &Commands,
    admin: &RequestContext,
    contact: ContactId,
    partner: PartnerId,
) {
    commands
        .add_partner_contact(
            admin,
            AddPartnerContactInput {
                contact_id: contact.to_string(),
                partner_id: partner.to_string(),
                side: "THEIRS".into(),
            },
        )
        .await
        .expect("add partner contact");
}

async fn remove(
    commands: &Commands,
    admin: &RequestContext,
    contact: ContactId,
    partner: PartnerId,
) {
    commands
        .remove_partner_contact(
            admin,
            RemovePartnerContactInput {
                contact_id: contact.to_string(),
                partner_id: partner.to_string(),
            },
        )
        .await
        .expect("remove partner contact");
}

/// The world, plus a their-side contact of a tenant-mode partner; the reactor has caught up.
async fn world_with_tenant_contact(test: &TestDb) -> (World, PartnerId, ContactId) {
    let commands = test.commands();
    let world = World::build(&commands, 0).await;
    let partner = tenant_mode_partner(&commands, &world.admin_ctx()).await;
    let contact =
        World::add_unbound_contact(&commands, &world.admin_ctx(), partner, TENANT_PHONE).await;
    run_reactor(&test.db).await;
    (world, partner, contact)
}

fn settings(provider: ProviderKind) -> SmsSettings {
    SmsSettings {
        provider,
        max_attempts: 5,
        retry_base: Duration::from_secs(5),
        retry_cap: Duration::from_secs(600),
        ..SmsSettings::default()
    }
}

fn log_dispatcher(db: &Database) -> Dispatcher {
    Dispatcher::from_settings(db.clone(), settings(ProviderKind::Log), KEY.clone())
        .expect("dispatcher")
}

fn later(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now + TimeDelta::seconds(seconds)
}

// ---------------------------------------------------------------------------------------------
// A fake SMS gateway.

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// 500 to the first two requests of each dedup key, then 200 with an id.
    FailTwiceThenAccept,
    /// Always 500, echoing the text it received (as careless gateways do).
    AlwaysFail,
    /// Never answers.
    Hang,
}

#[derive(Debug, Clone)]
struct Seen {
    dedup_key: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    phone: String,
    text: String,
}

#[derive(Clone)]
struct Gateway {
    behaviour: Behaviour,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Gateway {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }

    fn seen_for(&self, key: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.dedup_key == key)
            .collect()
    }
}

async fn gateway_handler(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let text_of = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        dedup_key: text_of("dedup_key"),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        phone: text_of("phone"),
        text: text_of("text"),
    };
    let count = {
        let mut all = gateway.seen.lock().expect("not poisoned");
        all.push(seen.clone());
        all.iter().filter(|s| s.dedup_key == seen.dedup_key).count()
    };
    match gateway.behaviour {
        Behaviour::FailTwiceThenAccept if count <= 2 => {
            (StatusCode::INTERNAL_SERVER_ERROR, "gateway busy").into_response()
        }
        Behaviour::FailTwiceThenAccept => {
            Json(json!({ "id": format!("gw-{}-{count}", seen.dedup_key) })).into_response()
        }
        Behaviour::AlwaysFail => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot deliver: {}", seen.text),
        )
            .into_response(),
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// Starts a gateway on a free port; answers its URL.
async fn spawn_gateway(behaviour: Behaviour) -> (String, Gateway) {
    let gateway = Gateway {
        behaviour,
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/sms", post(gateway_handler))
        .with_state(gateway.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake gateway");
    let url = format!("http://{}/sms", listener.local_addr().expect("address"));
    tokio::spawn(axum::serve(listener, app).into_future());
    (url, gateway)
}

fn http_dispatcher(
    db: &Database,
    url: &str,
    customise: impl FnOnce(&mut SmsSettings),
) -> Dispatcher {
    let mut settings = SmsSettings {
        url: Some(url.to_owned()),
        token: Some(SecretString::new(TOKEN)),
        ..settings(ProviderKind::Http)
    };
    customise(&mut settings);
    Dispatcher::from_settings(db.clone(), settings, KEY.clone()).expect("http dispatcher")
}

/// A provider that never answers and ignores its timeout, like a dispatcher process that hangs
/// or dies in the middle of a send.
struct Stuck;

#[async_trait]
impl SmsProvider for Stuck {
    fn name(&self) -> &'static str {
        "stuck"
    }
    async fn send(&self, _message: &OutgoingSms) -> Result<Delivery, SendError> {
        std::future::pending().await
    }
}

/// Accepts every message and records it as delivered: `(dedup_key, phone, text)`.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String, String)>>);

impl Recorder {
    fn sent(&self) -> Vec<(String, String, String)> {
        self.0.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl SmsProvider for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    async fn send(&self, message: &OutgoingSms) -> Result<Delivery, SendError> {
        self.0.lock().expect("not poisoned").push((
            message.dedup_key.clone(),
            message.phone.clone(),
            message.text().to_owned(),
        ));
        Ok(Delivery::default())
    }
}

fn recording_dispatcher(db: &Database, key: OutboxKey) -> (Dispatcher, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let dispatcher = Dispatcher::new(
        db.clone(),
        recorder.clone(),
        settings(ProviderKind::Log),
        key,
    )
    .expect("dispatcher");
    (dispatcher, recorder)
}

/// Sets a message's stored secret as it is, bypassing the product (an earlier version, or
/// someone with write access to the database).
async fn store_secret(db: &Database, message_id: &str, secret: &str) {
    sql::execute(
        db,
        "UPDATE notification_outbox SET secret = $1 WHERE message_id = $2",
        &[secret.into(), message_id.into()],
    )
    .await
    .expect("set the secret");
}

on_both_backends! {
    async fn a_secret_sealed_under_another_key_fails_for_good_at_once_and_the_log_says_why(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let (logs, guard) = capture();
        // A node whose outbox key is not the one the reactor sealed with.
        let (dispatcher, recorder) = recording_dispatcher(&test.db, OutboxKey::generate());
        let t0 = Utc::now();
        let report = dispatcher.dispatch_due(t0).await.expect("round");
        assert_eq!(
            (report.claimed, report.sent, report.failed, report.retried),
            (2, 1, 1, 0),
            "the world's message has no secret and goes; the password's fails: {report:?}"
        );
        let failed = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(failed.status, "FAILED");
        assert_eq!(failed.secret, None, "nothing left that cannot be sent");
        assert_eq!(failed.attempts, 1, "given up at the first attempt, not retried");
        let reason = failed.last_error.expect("the reason");
        assert!(reason.contains("does not open with this outbox key"), "{reason}");
        assert!(reason.contains("DINGHUO_OUTBOX_KEY"), "{reason}");
        assert!(
            recorder.sent().iter().all(|(_, phone, _)| phone != TENANT_PHONE),
            "nothing went to the contact: {:?}",
            recorder.sent()
        );
        // No loop: nothing is claimed again, now or later.
        for hours in [1, 24, 24 * 30] {
            let later_round = dispatcher.dispatch_due(later(t0, hours * 3600)).await.expect("round");
            assert_eq!(later_round.claimed, 0, "{later_round:?}");
        }
        drop(guard);
        let logs = logs.text();
        assert!(
            logs.contains("SMS failed for good: its secret does not open with this node's outbox key"),
            "{logs}"
        );
        assert!(logs.contains(&failed.message_id), "{logs}");
    }

    async fn a_sealed_secret_copied_into_another_message_does_not_open_there(test) {
        let (world, partner, contact) = world_with_tenant_contact(&test).await;
        let other_phone = "13900139001";
        let other =
            World::add_unbound_contact(&test.commands(), &world.admin_ctx(), partner, other_phone)
                .await;
        run_reactor(&test.db).await;
        let mine = messages_to(&test.db, contact).await.remove(0);
        let password = opened(&mine).expect("a password");
        let theirs = messages_to(&test.db, other).await.remove(0);
        // Someone who can write the database but has no key moves the sealed password into a
        // message to a phone of their choosing.
        store_secret(&test.db, &theirs.message_id, mine.secret.as_deref().expect("sealed")).await;

        let (dispatcher, recorder) = recording_dispatcher(&test.db, KEY.clone());
        let report = dispatcher.dispatch_due(Utc::now()).await.expect("round");
        assert_eq!((report.sent, report.failed), (2, 1), "{report:?}");
        let sent = recorder.sent();
        assert!(
            sent.iter().all(|(_, phone, text)| phone == TENANT_PHONE || !text.contains(&password)),
            "the password went to another phone: {sent:?}"
        );
        assert!(sent.iter().any(|(_, phone, text)| phone == TENANT_PHONE && text.contains(&password)));
        let theirs = messages_to(&test.db, other).await.remove(0);
        assert_eq!(theirs.status, "FAILED");
        assert_eq!(theirs.secret, None);
    }

    async fn secrets_an_earlier_version_left_in_the_clear_are_sealed_at_start_and_still_sent(test) {
        let (world, partner, contact) = world_with_tenant_contact(&test).await;
        let other =
            World::add_unbound_contact(&test.commands(), &world.admin_ctx(), partner, "13900139001")
                .await;
        run_reactor(&test.db).await;
        let mut passwords = Vec::new();
        for message in [
            messages_to(&test.db, contact).await.remove(0),
            messages_to(&test.db, other).await.remove(0),
        ] {
            let password = opened(&message).expect("a password");
            store_secret(&test.db, &message.message_id, &password).await;
            passwords.push((message.message_id, password));
        }

        // What the server does at start, before it serves or dispatches.
        assert_eq!(seal_cleartext_secrets(&test.db, &KEY).await.expect("seal"), 2);
        for (message_id, password) in &passwords {
            let message = messages(&test.db)
                .await
                .into_iter()
                .find(|m| &m.message_id == message_id)
                .expect("the message");
            assert_eq!(opened(&message).as_ref(), Some(password), "sealed for its own row");
        }
        assert_eq!(seal_cleartext_secrets(&test.db, &KEY).await.expect("again"), 0);
        // Nothing of the cleartext stays in the SQLite files: not in the page that held it
        // (secure_delete), nor in an old frame of the write-ahead log (checkpoint).
        if let Some(path) = sqlite_path(&test.url) {
            for file in sqlite_files(&path) {
                for (_, password) in &passwords {
                    assert_eq!(file.find(password.as_bytes()), None, "in {file:?}");
                }
            }
        }

        // A node of the earlier version, still running during an upgrade, stores one in the
        // clear again: this version's dispatcher sends it all the same.
        store_secret(&test.db, &passwords[1].0, &passwords[1].1).await;
        let (dispatcher, recorder) = recording_dispatcher(&test.db, KEY.clone());
        let report = dispatcher.dispatch_due(Utc::now()).await.expect("round");
        assert_eq!((report.sent, report.failed), (3, 0), "{report:?}");
        let sent = recorder.sent();
        for (message_id, password) in &passwords {
            assert!(
                sent.iter().any(|(id, _, text)| id == message_id && text.contains(password.as_str())),
                "{sent:?}"
            );
        }
        assert!(messages(&test.db).await.iter().all(|m| m.secret.is_none()));
    }

    async fn a_their_side_contact_of_a_tenantless_partner_is_asked_to_bind_through_wechat(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        run_reactor(&test.db).await;

        // World::build added one their-side contact to its (tenantless) partner.
        let all = messages(&test.db).await;
        assert_eq!(all.len(), 1, "{all:#?}");
        let first = &all[0];
        assert_eq!(first.contact_id, world.contact.to_string());
        assert_eq!(first.partner_id, world.partner.to_string());
        assert_eq!(first.tenant_id, world.tenant.to_string());
        assert_eq!(first.template, "PARTNER_CONTACT_TENANTLESS");
        assert_eq!(first.channel, "SMS");
        assert_eq!(first.phone, World::PHONE);
        assert_eq!(first.status, "PENDING");
        assert_eq!(first.attempts, 0);
        assert_eq!(first.secret, None);
        assert!(first.message_id.starts_with(&format!("sms:{}:", world.contact)));
        for expected in ["Acme Foods", "Acme Foods的微信服务号", "绑定", "扫码登录", "https://dinghuo.test/"] {
            assert!(first.body.contains(expected), "{expected:?} missing in {}", first.body);
        }
        assert!(!first.body.contains("{password}"));
        assert!(credentials(&test.db).await.is_empty(), "tenantless: no platform account");

        // Once the tenant bound its service account, the next contact is told its name.
        commands
            .bind_wechat_account(
                &world.admin_ctx(),
                BindWechatAccountInput {
                    app_id: "wx0123456789abcdef".into(),
                    name: "Acme订货服务号".into(),
                },
            )
            .await
            .expect("bind the official account");
        let second =
            World::add_unbound_contact(&commands, &world.admin_ctx(), world.partner, "13700137000")
                .await;
        run_reactor(&test.db).await;
        let to_second = messages_to(&test.db, second).await;
        assert_eq!(to_second.len(), 1, "{to_second:#?}");
        assert!(to_second[0].body.contains("服务号“Acme订货服务号”"), "{}", to_second[0].body);
        assert_eq!(to_second[0].phone, "13700137000");
        assert_eq!(messages(&test.db).await.len(), 2);
    }

    async fn a_their_side_contact_of_a_tenant_mode_partner_gets_an_account_whose_password_is_nowhere_else(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let partner = tenant_mode_partner(&commands, &world.admin_ctx()).await;
        let contact =
            World::add_unbound_contact(&commands, &world.admin_ctx(), partner, TENANT_PHONE).await;
        let (logs, guard) = capture();
        run_reactor(&test.db).await;

        let to_contact = messages_to(&test.db, contact).await;
        assert_eq!(to_contact.len(), 1, "{to_contact:#?}");
        let message = &to_contact[0];
        assert_eq!(message.template, "PARTNER_CONTACT_TENANT");
        assert_eq!(message.partner_id, partner.to_string());
        assert_eq!(message.phone, TENANT_PHONE);
        for expected in [
            "Acme Foods",
            "登录账号为您的手机号13900139000",
            "初始密码为{password}",
            "https://dinghuo.test/login",
            "修改密码",
        ] {
            assert!(message.body.contains(expected), "{expected:?} missing in {}", message.body);
        }
        let secret = opened(message).expect("the initial password awaits sending");
        assert!(!message.secret.as_deref().unwrap_or("").contains(&secret), "stored sealed");
        assert!(secret.chars().count() >= 10, "a long enough password");
        assert!(!message.body.contains(&secret));

        let accounts = credentials(&test.db).await;
        assert_eq!(accounts.len(), 1, "only the tenant-mode contact has an account");
        let account = &accounts[0];
        assert_eq!(account.contact_id, contact.to_string());
        assert_eq!(account.tenant_id, world.tenant.to_string());
        assert_eq!(account.login, TENANT_PHONE);
        assert!(account.must_change_password);
        assert!(account.password_hash.starts_with("$argon2id$"), "{}", account.password_hash);
        assert!(verifies(&account.password_hash, &secret), "the hash verifies the password sent");
        assert!(!verifies(&account.password_hash, "wrong-password"));

        // Not in the event log: payload and metadata of every event.
        for event in all_events(&test.db).await {
            let stored = format!("{} {}", event.payload, event.metadata);
            assert!(!stored.contains(&secret), "the password is in event {}", event.event_type);
        }
        // Not in any read model.
        for projection in replayable_projections() {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
            catch_up(&test.db, projection.as_ref(), 500)
                .await
                .unwrap_or_else(|error| panic!("{} catches up: {error}", projection.name()));
            let rows = dump(&test.db, projection.as_ref()).await.to_string();
            assert!(!rows.contains(&secret), "the password is in {}", projection.name());
        }
        // Not in the outbox view that analysts and the API read.
        let view_sql = "SELECT message_id || ' ' || body || ' ' || phone_masked FROM notification_messages";
        let view: Vec<String> = match &test.db {
            Database::Postgres(pool) => sqlx::query_scalar(view_sql).fetch_all(pool).await,
            Database::Sqlite(pool) => sqlx::query_scalar(view_sql).fetch_all(pool).await,
        }
        .expect("read the view");
        assert_eq!(view.len(), 2);
        assert!(view.iter().all(|row| !row.contains(&secret)));
        assert!(view.iter().any(|row| row.contains("139****9000")));

        // Not in the logs, neither when queued nor when sent through the log provider.
        let report = log_dispatcher(&test.db).dispatch_due(Utc::now()).await.expect("dispatch");
        assert_eq!(report.sent, 2);
        drop(guard);
        let logs = logs.text();
        assert!(logs.contains("SMS queued"), "{logs}");
        assert!(logs.contains("139****9000"), "the log provider prints the masked phone: {logs}");
        assert!(logs.contains("初始密码为{password}"), "and the text with the placeholder: {logs}");
        assert!(!logs.contains(&secret), "the password is in the logs: {logs}");
        assert!(!logs.contains(TENANT_PHONE), "the full phone is in the logs: {logs}");
    }

    async fn an_our_side_contact_receives_no_message(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let employee = commands
            .record_contact(
                &world.admin_ctx(),
                RecordContactInput {
                    name: "Han Meimei".into(),
                    phone: Some("13600136000".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record employee");
        commands
            .add_partner_contact(
                &world.admin_ctx(),
                AddPartnerContactInput {
                    contact_id: employee.to_string(),
                    partner_id: world.partner.to_string(),
                    side: "OURS".into(),
                },
            )
            .await
            .expect("add our-side contact");
        run_reactor(&test.db).await;

        assert!(messages_to(&test.db, employee).await.is_empty());
        let all = messages(&test.db).await;
        assert_eq!(all.len(), 1, "only the world's their-side contact: {all:#?}");
        assert!(credentials(&test.db).await.is_empty());
    }

    async fn the_reactor_run_again_over_the_same_events_queues_nothing_twice(test) {
        let (_world, _partner, _contact) = world_with_tenant_contact(&test).await;
        let before = messages(&test.db).await;
        let accounts = credentials(&test.db).await;
        assert_eq!(before.len(), 2);
        assert_eq!(accounts.len(), 1);

        // Caught up: a second catch-up sees nothing new.
        assert_eq!(run_reactor(&test.db).await, 0);
        assert_eq!(messages(&test.db).await, before);

        // As after a crash that lost the checkpoint: every event comes again.
        sql::execute(
            &test.db,
            "UPDATE projection_checkpoints SET tx_id = 0, position = 0 WHERE name = $1",
            &[Arg::from(reactor().name())],
        )
        .await
        .expect("move the checkpoint back");
        let replayed = run_reactor(&test.db).await;
        assert_eq!(replayed as i64, test.event_count().await, "every event was given again");
        assert_eq!(messages(&test.db).await, before, "same messages, same secrets, no new ones");
        assert_eq!(credentials(&test.db).await, accounts, "no new password was drawn");
    }

    async fn a_re_added_contact_keeps_its_account_and_is_told_its_login_still_applies(test) {
        let commands = test.commands();
        let (world, partner, contact) = world_with_tenant_contact(&test).await;
        let first = messages_to(&test.db, contact).await;
        let secret = opened(&first[0]).expect("initial password");
        log_dispatcher(&test.db).dispatch_due(Utc::now()).await.expect("send");
        let account = credentials(&test.db).await;

        remove(&commands, &world.admin_ctx(), contact, partner).await;
        add_again(&commands, &world.admin_ctx(), contact, partner).await;
        run_reactor(&test.db).await;

        let to_contact = messages_to(&test.db, contact).await;
        assert_eq!(to_contact.len(), 2, "{to_contact:#?}");
        assert_eq!(to_contact[0].status, "SENT", "the first one was sent before the removal");
        let again = &to_contact[1];
        assert_eq!(again.template, "PARTNER_CONTACT_TENANT_EXISTING");
        assert_eq!(again.secret, None);
        assert!(again.body.contains("现有密码"), "{}", again.body);
        assert!(again.body.contains(TENANT_PHONE), "{}", again.body);
        assert!(!again.body.contains("{password}"));
        assert_eq!(credentials(&test.db).await, account, "the account was not overwritten");
        assert!(verifies(&account[0].password_hash, &secret));
    }

    async fn a_contact_removed_before_its_password_went_out_gets_a_fresh_one_when_added_again(test) {
        let commands = test.commands();
        let (world, partner, contact) = world_with_tenant_contact(&test).await;
        let old_secret = opened(&messages_to(&test.db, contact).await[0]).expect("password");

        remove(&commands, &world.admin_ctx(), contact, partner).await;
        run_reactor(&test.db).await;
        let cancelled = &messages_to(&test.db, contact).await[0];
        assert_eq!(cancelled.status, "FAILED");
        assert_eq!(cancelled.secret, None, "a cancelled message keeps no secret");
        assert!(cancelled.last_error.as_deref().unwrap_or("").contains("cancelled"));

        add_again(&commands, &world.admin_ctx(), contact, partner).await;
        run_reactor(&test.db).await;
        let to_contact = messages_to(&test.db, contact).await;
        assert_eq!(to_contact.len(), 2, "{to_contact:#?}");
        let fresh = &to_contact[1];
        assert_eq!(fresh.template, "PARTNER_CONTACT_TENANT", "they never learnt the first password");
        let new_secret = opened(fresh).expect("a new initial password");
        assert_ne!(new_secret, old_secret);
        let account = &credentials(&test.db).await[0];
        assert!(verifies(&account.password_hash, &new_secret));
        assert!(!verifies(&account.password_hash, &old_secret), "the undelivered one is void");

        // The log provider "sends" the cancelled one never, the fresh one once.
        let report = log_dispatcher(&test.db).dispatch_due(Utc::now()).await.expect("send");
        assert_eq!(report.sent, 2, "the world's contact and the fresh message");
        let to_contact = messages_to(&test.db, contact).await;
        assert_eq!(to_contact[0].status, "FAILED");
        assert_eq!(to_contact[0].attempts, 0);
    }

    async fn the_login_follows_the_contacts_phone(test) {
        let commands = test.commands();
        let (world, _partner, contact) = world_with_tenant_contact(&test).await;
        let before = credentials(&test.db).await;
        commands
            .update_contact(
                &world.admin_ctx(),
                UpdateContactInput {
                    contact_id: contact.to_string(),
                    name: "Li Lei".into(),
                    phone: Some("+86 135 0013 5000".into()),
                },
            )
            .await
            .expect("update the phone");
        run_reactor(&test.db).await;
        let after = credentials(&test.db).await;
        assert_eq!(after[0].login, "13500135000", "the normalised new number");
        // The initial password went to the old number: the new one gets a fresh one (the
        // contact never chose its own), and the old one no longer signs in.
        assert_ne!(after[0].password_hash, before[0].password_hash);
        assert!(after[0].must_change_password);
        let to_contact = messages_to(&test.db, contact).await;
        let renewed = to_contact.last().expect("the invitation again");
        assert_eq!(renewed.phone, "13500135000");
        assert_eq!(renewed.template, "PARTNER_CONTACT_TENANT");
        assert!(renewed.secret.is_some(), "a fresh initial password, sealed");
    }

    async fn a_new_phone_gets_each_partners_invitation_again_and_nothing_else_does(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        run_reactor(&test.db).await;
        assert_eq!(messages_to(&test.db, world.contact).await.len(), 1);
        let update = |name: &str, phone: &str| UpdateContactInput {
            contact_id: world.contact.to_string(),
            name: name.into(),
            phone: Some(phone.into()),
        };

        // A new name, the same number (typed differently): nothing to send.
        commands
            .update_contact(&world.admin_ctx(), update("Wang Wu", "+86 138 0013 8000"))
            .await
            .expect("rename");
        run_reactor(&test.db).await;
        assert_eq!(messages_to(&test.db, world.contact).await.len(), 1);

        // A new number: the partner's invitation again, to it, once however often applied.
        commands
            .update_contact(&world.admin_ctx(), update("Wang Wu", "13600136000"))
            .await
            .expect("a new phone");
        run_reactor(&test.db).await;
        run_reactor(&test.db).await;
        let sent = messages_to(&test.db, world.contact).await;
        assert_eq!(sent.len(), 2, "{sent:#?}");
        let again = &sent[1];
        assert_eq!(again.phone, "13600136000");
        assert_eq!(again.partner_id, world.partner.to_string());
        assert_eq!(again.template, "PARTNER_CONTACT_TENANTLESS");
        assert!(again.message_id.ends_with(&format!(":{}", world.partner)));

        // Removed from the partner, it is invited to it no more.
        remove(&commands, &world.admin_ctx(), world.contact, world.partner).await;
        commands
            .update_contact(&world.admin_ctx(), update("Wang Wu", "13500135000"))
            .await
            .expect("another phone");
        run_reactor(&test.db).await;
        assert_eq!(messages_to(&test.db, world.contact).await.len(), 2);
    }

    async fn the_links_made_before_the_reactor_kept_them_are_read_from_the_log(test) {
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let second =
            World::add_unbound_contact(&commands, &world.admin_ctx(), world.partner, "13700137000")
                .await;
        remove(&commands, &world.admin_ctx(), second, world.partner).await;
        // As a database migrated to 0007 after these links were made: the table is filled
        // from the log by the migration's own statement.
        let (migration, table) = match &test.db {
            Database::Postgres(_) => (
                include_str!("../../migrations/postgres/0007_outbox_links.sql"),
                "outbox_partner_links",
            ),
            Database::Sqlite(_) => (
                include_str!("../../migrations/sqlite/0007_outbox_links.sql"),
                "outbox_partner_links",
            ),
        };
        let backfill = &migration[migration.find("INSERT").expect("the backfill")..];
        sql::execute(&test.db, &format!("DELETE FROM {table}"), &[])
            .await
            .expect("forget the links");
        sql::execute(&test.db, backfill, &[])
            .await
            .expect("run the backfill");
        let links: Vec<(String, String, String)> = sql::fetch_all(
            &test.db,
            "SELECT contact_id, partner_id, mode FROM outbox_partner_links",
            &[],
        )
        .await
        .expect("read the links");
        assert_eq!(
            links,
            vec![(
                world.contact.to_string(),
                world.partner.to_string(),
                "TENANTLESS".to_owned()
            )],
            "the world's contact, not the one removed again"
        );
    }

    async fn the_log_provider_marks_messages_sent_and_clears_the_secret(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let dispatcher = log_dispatcher(&test.db);
        let report = dispatcher.dispatch_due(Utc::now()).await.expect("dispatch");
        assert_eq!(report.claimed, 2);
        assert_eq!(report.sent, 2);
        for message in messages(&test.db).await {
            assert_eq!(message.status, "SENT", "{message:#?}");
            assert_eq!(message.secret, None);
            assert!(message.sent);
            assert_eq!(message.attempts, 1);
            assert_eq!(message.last_error, None);
        }
        assert_eq!(messages_to(&test.db, contact).await[0].template, "PARTNER_CONTACT_TENANT");
        // Sent is sent: a later round finds nothing to do.
        let again = dispatcher.dispatch_due(later(Utc::now(), 86_400)).await.expect("dispatch");
        assert_eq!(again.claimed, 0);
    }

    async fn a_running_dispatcher_sends_what_is_queued_and_stops_when_told(test) {
        let (_world, _partner, _contact) = world_with_tenant_contact(&test).await;
        let mut quick = settings(ProviderKind::Log);
        quick.poll_interval = Duration::from_millis(20);
        let dispatcher = Dispatcher::from_settings(test.db.clone(), quick, KEY.clone()).expect("dispatcher");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(dispatcher.run(stopped));
        let deadline = Instant::now() + Duration::from_secs(30);
        while messages(&test.db).await.iter().any(|m| m.status != "SENT") {
            assert!(Instant::now() < deadline, "not all sent: {:#?}", messages(&test.db).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send(true).expect("the dispatcher listens");
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("stops promptly")
            .expect("no panic");
        assert!(messages(&test.db).await.iter().all(|m| m.attempts == 1 && m.secret.is_none()));
    }

    async fn a_gateway_that_fails_twice_gets_the_same_message_three_times_then_it_is_sent_once(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let message = messages_to(&test.db, contact).await.remove(0);
        let secret = opened(&message).expect("initial password");
        let (url, gateway) = spawn_gateway(Behaviour::FailTwiceThenAccept).await;
        let dispatcher = http_dispatcher(&test.db, &url, |_| {});
        let t0 = Utc::now();

        let first = dispatcher.dispatch_due(t0).await.expect("round 1");
        assert_eq!((first.claimed, first.retried), (2, 2), "{first:?}");
        let waiting = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(waiting.status, "PENDING");
        assert_eq!(waiting.attempts, 1);
        assert!(waiting.last_error.as_deref().unwrap_or("").contains("HTTP 500"), "{waiting:?}");
        assert_eq!(waiting.secret, message.secret, "kept sealed as it was for the retry");
        assert_eq!(opened(&waiting).as_deref(), Some(secret.as_str()));

        // Backoff: the first retry is at least 2.5 s away (5 s, jittered down to half).
        let early = dispatcher.dispatch_due(later(t0, 2)).await.expect("early round");
        assert_eq!(early.claimed, 0, "not due yet");
        let second = dispatcher.dispatch_due(later(t0, 600)).await.expect("round 2");
        assert_eq!((second.claimed, second.retried), (2, 2), "{second:?}");
        let third = dispatcher.dispatch_due(later(t0, 1200)).await.expect("round 3");
        assert_eq!((third.claimed, third.sent), (2, 2), "{third:?}");

        let sent = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(sent.status, "SENT");
        assert_eq!(sent.attempts, 3);
        assert_eq!(sent.secret, None);
        assert_eq!(sent.last_error, None);
        assert!(sent.sent);
        assert_eq!(
            sent.provider_message_id.as_deref(),
            Some(format!("gw-{}-3", message.message_id).as_str())
        );

        let seen = gateway.seen_for(&message.message_id);
        assert_eq!(seen.len(), 3, "three attempts, one dedup key");
        for request in &seen {
            assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
            assert_eq!(request.idempotency_key.as_deref(), Some(message.message_id.as_str()));
            assert_eq!(request.phone, TENANT_PHONE);
            assert!(request.text.contains(&format!("初始密码为{secret}")), "{}", request.text);
            assert!(!request.text.contains("{password}"));
        }
        assert_eq!(gateway.seen().len(), 6, "and three for the world's contact");

        let after = dispatcher.dispatch_due(later(t0, 86_400)).await.expect("later round");
        assert_eq!(after.claimed, 0);
        assert_eq!(gateway.seen().len(), 6, "nothing is sent again");
    }

    async fn a_gateway_that_hangs_times_out_and_the_attempt_counts(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let (url, gateway) = spawn_gateway(Behaviour::Hang).await;
        let dispatcher = http_dispatcher(&test.db, &url, |s| s.timeout = Duration::from_millis(300));
        let started = Instant::now();
        let report = dispatcher.dispatch_due(Utc::now()).await.expect("round");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        assert_eq!((report.claimed, report.retried), (2, 2), "{report:?}");
        assert_eq!(gateway.seen().len(), 2);
        let message = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(message.status, "PENDING");
        assert_eq!(message.attempts, 1);
        assert!(message.secret.is_some());
        assert!(message.last_error.as_deref().unwrap_or("").contains("timed out"), "{message:?}");
    }

    async fn a_gateway_that_always_fails_leaves_the_message_failed_with_the_reason(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let message = messages_to(&test.db, contact).await.remove(0);
        let secret = opened(&message).expect("initial password");
        let (url, gateway) = spawn_gateway(Behaviour::AlwaysFail).await;
        let dispatcher = http_dispatcher(&test.db, &url, |s| s.max_attempts = 3);
        let t0 = Utc::now();

        let mut rounds = Vec::new();
        for day in 0..4 {
            rounds.push(dispatcher.dispatch_due(later(t0, day * 86_400)).await.expect("round"));
        }
        assert_eq!(rounds[0].retried, 2);
        assert_eq!(rounds[1].retried, 2);
        assert_eq!(rounds[2].failed, 2, "{:?}", rounds[2]);
        assert_eq!(rounds[3].claimed, 0, "nothing left to try");

        let failed = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(failed.status, "FAILED");
        assert_eq!(failed.attempts, 3);
        assert_eq!(failed.secret, None, "a failed message keeps no secret");
        assert!(!failed.sent);
        let reason = failed.last_error.expect("the reason");
        assert!(reason.contains("HTTP 500"), "{reason}");
        assert!(reason.contains("cannot deliver"), "{reason}");
        assert!(!reason.contains(&secret), "the gateway echoed the password: {reason}");
        assert_eq!(gateway.seen_for(&message.message_id).len(), 3);
    }

    async fn a_message_left_sending_by_a_crashed_dispatcher_is_taken_over_after_its_lease(test) {
        let (_world, _partner, contact) = world_with_tenant_contact(&test).await;
        let lease = Duration::from_secs(60);
        let mut crashing_settings = settings(ProviderKind::Log);
        crashing_settings.lease = lease;
        crashing_settings.batch_size = 1;
        let crashing = Arc::new(
            Dispatcher::new(test.db.clone(), Arc::new(Stuck), crashing_settings, KEY.clone())
                .expect("dispatcher"),
        );
        // Only the tenant-mode message is due: the world's one waits a day.
        let world_message = messages(&test.db)
            .await
            .into_iter()
            .find(|m| m.contact_id != contact.to_string())
            .expect("the world's message");
        let t0 = Utc::now();
        sql::execute(
            &test.db,
            "UPDATE notification_outbox SET next_attempt_at = $1 WHERE message_id = $2",
            &[later(t0, 86_400).into(), world_message.message_id.as_str().into()],
        )
        .await
        .expect("postpone");

        let task = {
            let crashing = crashing.clone();
            tokio::spawn(async move { crashing.dispatch_due(t0).await })
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while messages_to(&test.db, contact).await[0].status != "SENDING" {
            assert!(Instant::now() < deadline, "never claimed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        let _ = task.await;

        let dispatcher = log_dispatcher(&test.db);
        let within = dispatcher.dispatch_due(later(t0, 30)).await.expect("round");
        assert_eq!(within.claimed, 0, "the lease still holds");
        let after = dispatcher.dispatch_due(later(t0, 61)).await.expect("round");
        assert_eq!((after.claimed, after.sent), (1, 1), "{after:?}");
        let message = messages_to(&test.db, contact).await.remove(0);
        assert_eq!(message.status, "SENT");
        assert_eq!(message.attempts, 2, "the crashed attempt counts");
        assert_eq!(message.secret, None);
    }
}
