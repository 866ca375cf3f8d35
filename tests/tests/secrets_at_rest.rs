//! Issue 15 item 8: no secret an SMS carries (a tenant-mode contact's initial password, a binding
//! code) is ever stored in the clear, on both backends, and none is kept once its message is
//! sent, fails for good or is cancelled.
//!
//! One flow queues passwords and codes and sends them through a provider that fails for a while
//! and then accepts, one that refuses for good at once, and one that fails until the attempts run
//! out; a replaced code's SMS is cancelled. After every step the test keeps what is stored: on
//! SQLite the raw bytes of the database, its write-ahead log and its shared-memory file; on both
//! backends the `secret` column. At the end it looks in all of it for every secret issued, as the
//! fake provider received them (and the codes it chose, the cancelled one included).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use dinghuo_commands::{AddPartnerInput, Commands, RecordCustomerInput, RequestContext};
use dinghuo_domain::{ContactId, PartnerId, Phone};
use dinghuo_identity::binding::{self, BindingCode, Recipient};
use dinghuo_projections::outbox::{
    Delivery, Dispatcher, OutboxKey, OutgoingSms, SendError, SmsProvider, SmsSettings,
    PASSWORD_PLACEHOLDER, SEALED_PREFIX,
};
use dinghuo_projections::{catch_up, models, prepare};
use dinghuo_store::sql;
use dinghuo_store::Database;
use dinghuo_tests::at_rest::{sqlite_files, sqlite_path, FileBytes};
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::{on_both_backends, TestDb, World};

/// How the fake provider treats the messages to one phone.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Fails (HTTP 503) this many times, then accepts.
    FailThenAccept(u32),
    /// Refuses for good (HTTP 400): the message fails at once.
    Refuse,
    /// Fails (HTTP 503) every time, until the attempts run out.
    AlwaysFail,
}

/// A provider that follows a plan per phone and records every secret it receives.
struct Provider {
    plans: HashMap<String, Plan>,
    failures: Mutex<HashMap<String, u32>>,
    /// `(dedup_key, secret)` of every attempt that carried one.
    received: Mutex<Vec<(String, String)>>,
}

impl Provider {
    fn new(plans: &[(&str, Plan)]) -> Self {
        Self {
            plans: plans
                .iter()
                .map(|(phone, plan)| ((*phone).to_owned(), *plan))
                .collect(),
            failures: Mutex::default(),
            received: Mutex::default(),
        }
    }

    fn received(&self) -> Vec<(String, String)> {
        self.received.lock().expect("not poisoned").clone()
    }
}

/// The secret substituted into a text: what stands in `text` where `redacted` has the
/// placeholder.
fn secret_in(text: &str, redacted: &str) -> Option<String> {
    let at = redacted.find(PASSWORD_PLACEHOLDER)?;
    let len = text.len() + PASSWORD_PLACEHOLDER.len() - redacted.len();
    text.get(at..at + len).map(str::to_owned)
}

#[async_trait]
impl SmsProvider for Provider {
    fn name(&self) -> &'static str {
        "plans"
    }

    async fn send(&self, message: &OutgoingSms) -> Result<Delivery, SendError> {
        if let Some(secret) = secret_in(message.text(), message.redacted_text()) {
            self.received
                .lock()
                .expect("not poisoned")
                .push((message.dedup_key.clone(), secret));
        }
        let failed = {
            let mut failures = self.failures.lock().expect("not poisoned");
            let count = failures.entry(message.dedup_key.clone()).or_default();
            *count += 1;
            *count - 1
        };
        let unavailable = || SendError::Status {
            status: 503,
            body: "try later".into(),
        };
        match self.plans.get(&message.phone) {
            Some(Plan::FailThenAccept(times)) if failed < *times => Err(unavailable()),
            Some(Plan::Refuse) => Err(SendError::Rejected {
                status: 400,
                body: "invalid number".into(),
            }),
            Some(Plan::AlwaysFail) => Err(unavailable()),
            _ => Ok(Delivery::default()),
        }
    }
}

/// What was stored at one step of the flow.
struct Step {
    name: String,
    /// The SQLite files' bytes (none on Postgres).
    files: Vec<FileBytes>,
    /// `(message_id, status, secret)` of every outbox row.
    rows: Vec<(String, String, Option<String>)>,
}

async fn step(test: &TestDb, name: &str) -> Step {
    let rows = sql::fetch_all(
        &test.db,
        "SELECT message_id, status, secret FROM notification_outbox ORDER BY message_id",
        &[],
    )
    .await
    .expect("read the outbox");
    let files = sqlite_path(&test.url)
        .map(|path| sqlite_files(&path))
        .unwrap_or_default();
    Step {
        name: name.to_owned(),
        files,
        rows,
    }
}

/// A code that none of the bytes stored so far happens to contain, so that finding it later
/// means it was written (six digits could otherwise occur by chance, in a time or an id).
fn fresh_code(steps: &[Step]) -> BindingCode {
    loop {
        let code = BindingCode::random();
        let digits = code.expose().as_bytes();
        let seen = steps
            .iter()
            .flat_map(|step| &step.files)
            .any(|file| file.find(digits).is_some());
        if !seen {
            return code;
        }
    }
}

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

async fn run_reactor(db: &Database, key: &OutboxKey) {
    settle_feed(db).await;
    for projection in models::all_with_key(key.clone()) {
        prepare(db, projection.as_ref()).await.expect("prepare");
        catch_up(db, projection.as_ref(), 500)
            .await
            .expect("catch up");
    }
}

async fn issue_code(
    test: &TestDb,
    key: &OutboxKey,
    world: &World,
    contact: ContactId,
    phone: &str,
    code: &BindingCode,
    now: DateTime<Utc>,
) {
    let recipient = Recipient {
        contact_id: contact.to_string(),
        partner_id: world.partner.to_string(),
    };
    let phone = Phone::parse(phone).expect("a phone");
    binding::issue(
        &test.db,
        key,
        world.tenant,
        &phone,
        &recipient,
        code,
        now.timestamp_millis(),
    )
    .await
    .expect("issue a code");
}

/// Whole seconds: the times the flow writes then hold no run of six digits.
fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

const RETRIED: &str = "13900139001";
const REFUSED: &str = "13900139002";
const EXHAUSTED: &str = "13900139003";
const CODE_RETRIED: &str = "13700137001";
const CODE_EXHAUSTED: &str = "13700137002";

on_both_backends! {
    async fn no_secret_an_sms_carries_is_ever_stored_in_the_clear_nor_kept_after_its_message(test) {
        let key = OutboxKey::generate();
        let commands = test.commands();
        let world = World::build(&commands, 0).await;
        let admin = world.admin_ctx();
        let t0 = whole_seconds(Utc::now());
        let mut steps = vec![step(&test, "world built").await];

        // Three initial passwords, queued by the reactor.
        let partner = tenant_mode_partner(&commands, &admin).await;
        for phone in [RETRIED, REFUSED, EXHAUSTED] {
            World::add_unbound_contact(&commands, &admin, partner, phone).await;
        }
        let code_retried =
            World::add_unbound_contact(&commands, &admin, world.partner, CODE_RETRIED).await;
        let code_exhausted =
            World::add_unbound_contact(&commands, &admin, world.partner, CODE_EXHAUSTED).await;
        run_reactor(&test.db, &key).await;
        steps.push(step(&test, "passwords queued").await);

        // Three binding codes; the first is replaced by the second, its SMS cancelled unsent.
        let replaced = fresh_code(&steps);
        issue_code(&test, &key, &world, code_retried, CODE_RETRIED, &replaced, t0).await;
        steps.push(step(&test, "first code queued").await);
        let mut codes = vec![replaced];
        for (contact, phone) in [(code_retried, CODE_RETRIED), (code_exhausted, CODE_EXHAUSTED)] {
            let code = fresh_code(&steps);
            issue_code(&test, &key, &world, contact, phone, &code, t0).await;
            steps.push(step(&test, &format!("code for {phone} queued")).await);
            codes.push(code);
        }

        let provider = Arc::new(Provider::new(&[
            (RETRIED, Plan::FailThenAccept(2)),
            (REFUSED, Plan::Refuse),
            (EXHAUSTED, Plan::AlwaysFail),
            (CODE_RETRIED, Plan::FailThenAccept(1)),
            (CODE_EXHAUSTED, Plan::AlwaysFail),
        ]));
        let settings = SmsSettings {
            max_attempts: 3,
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(600),
            ..SmsSettings::default()
        };
        let dispatcher = Dispatcher::new(test.db.clone(), provider.clone(), settings, key.clone())
            .expect("a dispatcher");
        // Each round an hour after the last: past any backoff, so every message is due.
        for round in 0..5 {
            let report = dispatcher
                .dispatch_due(t0 + TimeDelta::hours(round))
                .await
                .expect("a round");
            steps.push(step(&test, &format!("round {round}: {report:?}")).await);
        }

        // Every message ended, and none keeps a secret.
        let last = steps.last().expect("steps");
        for (message_id, status, secret) in &last.rows {
            assert!(status == "SENT" || status == "FAILED", "{message_id} is {status}");
            assert_eq!(secret, &None, "{message_id} ({status}) keeps its secret");
        }
        let failed = last.rows.iter().filter(|(_, status, _)| status == "FAILED").count();
        assert_eq!(
            failed, 5,
            "the refused and the exhausted password, the replaced code, and the code and the \
             welcome to the phone that always fails: {:?}",
            last.rows
        );

        // Every secret issued: as the provider received them, and the codes chosen.
        let received = provider.received();
        let mut secrets: Vec<String> = received.iter().map(|(_, secret)| secret.clone()).collect();
        secrets.extend(codes.iter().map(|code| code.expose().to_owned()));
        secrets.sort();
        secrets.dedup();
        let passwords = secrets.iter().filter(|secret| secret.len() > 6).count();
        assert_eq!(passwords, 3, "three passwords reached the provider: {received:?}");
        assert_eq!(secrets.len(), 6, "three passwords and three codes");
        assert!(
            received.iter().all(|(_, secret)| secret != codes[0].expose()),
            "the replaced code was never sent"
        );
        assert!(
            received.iter().filter(|(_, secret)| secret == codes[1].expose()).count() == 2,
            "the second code was retried once: {received:?}"
        );

        // Nowhere, at no step: not in a column, not in the SQLite files.
        for step in &steps {
            for (message_id, status, stored) in &step.rows {
                let Some(stored) = stored else { continue };
                assert!(
                    stored.starts_with(SEALED_PREFIX),
                    "{}: {message_id} ({status}) holds an unsealed secret",
                    step.name
                );
                for secret in &secrets {
                    assert!(!stored.contains(secret.as_str()), "{}: {message_id}", step.name);
                }
            }
            for file in &step.files {
                for secret in &secrets {
                    if let Some((at, around)) = file.find(secret.as_bytes()) {
                        panic!(
                            "{}: the secret {secret} is in {file:?} at byte {at}: {around:?}",
                            step.name
                        );
                    }
                }
            }
        }
        if test.db.backend_name() == "sqlite" {
            assert!(
                steps.iter().all(|step| step.files.len() >= 3),
                "the database, its -wal and -shm were read at every step"
            );
        }
    }
}
