//! One-time sign-in codes: a 6-digit code sent by SMS to a phone, proving that whoever types it
//! holds that phone. Contacts bind with one ([`crate::binding`]). Each code lives in a *slot* (a
//! scope — the tenant a contact binds in — and a phone fingerprint); a new code replaces the
//! slot's previous one. The storage is not tied to binding, so that another sign-in path (staff)
//! can keep its codes in a scope of its own.
//!
//! A code is drawn from the operating system's CSPRNG, lives [`CODE_TTL`], allows [`MAX_TRIES`]
//! verifications and is spent by the first right one. `binding_codes` keeps only its argon2id hash:
//! argon2 rather than HMAC because it needs no second server secret to configure and rotate, and
//! its cost (with a per-code salt) makes trying all 10⁶ codes against a stolen row take longer
//! than the code lives on ordinary hardware. The code itself is stored only sealed with the
//! outbox key (`dinghuo_projections::outbox::seal`) in the outbox row's `secret`, which the
//! dispatcher opens and substitutes into the text when sending and then clears — the same path
//! as the tenant-mode initial password — and the pending SMS of a code that is replaced or
//! expires is cancelled, clearing it too.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dinghuo_projections::outbox::OutboxKey;
use dinghuo_store::sql::{self, Tx};
use dinghuo_store::Database;
use rand::rngs::OsRng;
use rand::Rng;

use crate::error::IdentityResult;
use crate::limits::PhoneKey;
use crate::password::{hash_secret, verify_secret};
use crate::sms::{self, SecretSms};

/// How long a code may be used.
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Verifications a code allows; the fifth wrong one kills it.
pub const MAX_TRIES: i64 = 5;
/// Digits of a code.
pub const CODE_DIGITS: usize = 6;

/// Where a code lives: its scope (`binding_codes.tenant_id`: the tenant a contact binds in) and
/// the phone's fingerprint.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub scope: &'a str,
    pub phone: &'a PhoneKey,
}

fn ttl_ms() -> i64 {
    i64::try_from(CODE_TTL.as_millis()).unwrap_or(i64::MAX)
}

/// A code as drawn or as typed. Its `Debug` never shows the digits, so it cannot leak through a
/// `tracing` field or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct BindingCode(String);

impl BindingCode {
    /// Exactly [`CODE_DIGITS`] ASCII digits (surrounding white space ignored), or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        (text.len() == CODE_DIGITS && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(text.to_owned()))
    }

    /// A uniformly drawn code from the operating system's CSPRNG.
    pub fn random() -> Self {
        let code: u32 = OsRng.gen_range(0..1_000_000);
        Self(format!("{code:06}"))
    }

    /// The digits. Send them; never log or store them.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindingCode(******)")
    }
}

/// Where codes come from. The server draws from the OS CSPRNG ([`CodeGenerator::default`]);
/// a test adds its own generator to the request's data (`Request::data`) to learn the code it
/// will type, so the code never has to be stored or logged for a test to read it. Request data
/// is set by the server, never by a client.
#[derive(Clone)]
pub struct CodeGenerator(Arc<dyn Fn() -> BindingCode + Send + Sync>);

impl CodeGenerator {
    pub fn new(generate: impl Fn() -> BindingCode + Send + Sync + 'static) -> Self {
        Self(Arc::new(generate))
    }

    pub fn generate(&self) -> BindingCode {
        (self.0)()
    }
}

impl Default for CodeGenerator {
    fn default() -> Self {
        Self::new(BindingCode::random)
    }
}

impl fmt::Debug for CodeGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeGenerator").finish_non_exhaustive()
    }
}

/// How long a code may be used, in whole seconds (as the API answers it).
pub fn ttl_seconds() -> i32 {
    i32::try_from(CODE_TTL.as_secs()).unwrap_or(i32::MAX)
}

/// What a code request does when there is nobody to send a code to: the same hashing and the
/// same one commit (the sweep that issuing also runs) as a real request, and nothing stored, so
/// that the answer does not tell whether the phone is someone's.
pub async fn as_if_issued(db: &Database, code: &BindingCode, now_ms: i64) -> IdentityResult<()> {
    hash_secret(code.expose().to_owned()).await?;
    sweep_expired(db, now_ms).await
}

/// Forgets expired codes, cancelling their SMS if it has not gone out yet (which also clears the
/// code from the outbox row). A request for an unknown phone runs this alone; a known one runs it
/// inside the transaction that issues the code: one commit either way, so both take alike.
pub async fn sweep_expired(db: &Database, now_ms: i64) -> IdentityResult<()> {
    let mut tx = Tx::begin(db).await?;
    sweep(&mut tx, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

async fn sweep(tx: &mut Tx, now_ms: i64) -> IdentityResult<()> {
    tx.execute(
        "UPDATE notification_outbox
            SET status = 'FAILED', secret = NULL,
                last_error = 'cancelled: the code expired before it was sent'
          WHERE status = 'PENDING'
            AND message_id IN (SELECT message_id FROM binding_codes WHERE expires_at_ms <= $1)",
        &[now_ms.into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM binding_codes WHERE expires_at_ms <= $1",
        &[now_ms.into()],
    )
    .await?;
    Ok(())
}

/// Stores the hash of `code` as `code_id` in `slot` for the message's contact and queues
/// `message` carrying the code sealed with `key`, in one transaction that also sweeps expired
/// codes. A previous code of the slot is replaced (and its SMS cancelled if unsent).
pub async fn issue(
    db: &Database,
    key: &OutboxKey,
    slot: Slot<'_>,
    code_id: &str,
    message: SecretSms<'_>,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<()> {
    let hash = hash_secret(code.expose().to_owned()).await?;
    let message_id = message.message_id.to_owned();
    let contact_id = message.contact_id.to_owned();
    let mut tx = Tx::begin(db).await?;
    sweep(&mut tx, now_ms).await?;
    tx.execute(
        "UPDATE notification_outbox
            SET status = 'FAILED', secret = NULL,
                last_error = 'cancelled: a newer code was requested'
          WHERE status = 'PENDING'
            AND message_id IN (SELECT message_id FROM binding_codes
                                WHERE tenant_id = $1 AND phone_key = $2)",
        &[slot.scope.into(), slot.phone.as_str().into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM binding_codes WHERE tenant_id = $1 AND phone_key = $2",
        &[slot.scope.into(), slot.phone.as_str().into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO binding_codes (code_id, tenant_id, phone_key, contact_id, message_id,
                                    code_hash, tries, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
        &[
            code_id.into(),
            slot.scope.into(),
            slot.phone.as_str().into(),
            contact_id.as_str().into(),
            message_id.as_str().into(),
            hash.into(),
            now_ms.into(),
            now_ms.saturating_add(ttl_ms()).into(),
        ],
    )
    .await?;
    // Due at once; the dispatcher opens the secret, substitutes it for the placeholder in
    // memory and clears it when the message is SENT or FAILED.
    sms::queue(&mut tx, key, message, code.expose(), now_ms).await?;
    tx.commit().await?;
    tracing::info!(message_id = %message_id, "sign-in code queued");
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct LiveCode {
    code_id: String,
    contact_id: String,
    code_hash: String,
}

/// Spends `code` if it is the live code of `slot`: answers the contact it was issued for.
/// A wrong code counts a try (counted before the hash is checked, so parallel guesses cannot
/// exceed the limit); an expired or exhausted code, or none at all, answers `None` after checking
/// a decoy hash, so every refusal looks and takes the same. `now_ms` is the time this request's
/// attempts were reserved at ([`crate::limits::reserve`]).
pub async fn redeem(
    db: &Database,
    slot: Slot<'_>,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<Option<String>> {
    check(db, slot, code, now_ms, true).await
}

/// Like [`redeem`], but a right code stays live (its check counts one of its tries): for a
/// sign-in that must first ask which tenant, and is repeated with the same code.
pub async fn verify_unspent(
    db: &Database,
    slot: Slot<'_>,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<Option<String>> {
    check(db, slot, code, now_ms, false).await
}

async fn check(
    db: &Database,
    slot: Slot<'_>,
    code: &BindingCode,
    now_ms: i64,
    spend: bool,
) -> IdentityResult<Option<String>> {
    let typed = code.expose().to_owned();
    let live: Option<LiveCode> = sql::fetch_all(
        db,
        "SELECT code_id, contact_id, code_hash FROM binding_codes
          WHERE tenant_id = $1 AND phone_key = $2 AND expires_at_ms > $3 AND tries < $4
          ORDER BY created_at_ms DESC
          LIMIT 1",
        &[
            slot.scope.into(),
            slot.phone.as_str().into(),
            now_ms.into(),
            MAX_TRIES.into(),
        ],
    )
    .await?
    .into_iter()
    .next();
    let Some(live) = live else {
        // Counting a try is a commit; without a code, rewrite this request's own attempt row
        // instead, so that a wrong guess does not take longer when a code exists — which would
        // tell that the phone is someone's.
        sql::execute(
            db,
            "UPDATE auth_attempts SET attempted_at_ms = attempted_at_ms
              WHERE subject = $1 AND attempted_at_ms = $2",
            &[slot.phone.subject().as_str().into(), now_ms.into()],
        )
        .await?;
        verify_secret(typed, None).await?;
        return Ok(None);
    };
    let counted = sql::execute(
        db,
        "UPDATE binding_codes SET tries = tries + 1
          WHERE code_id = $1 AND tries < $2 AND expires_at_ms > $3",
        &[
            live.code_id.as_str().into(),
            MAX_TRIES.into(),
            now_ms.into(),
        ],
    )
    .await?;
    let matched = verify_secret(typed, Some(live.code_hash)).await?;
    if counted == 0 || !matched {
        return Ok(None);
    }
    if !spend {
        return Ok(Some(live.contact_id));
    }
    // Single use: of two requests with the right code, only the one that deletes it binds.
    let spent = sql::execute(
        db,
        "DELETE FROM binding_codes WHERE code_id = $1",
        &[live.code_id.as_str().into()],
    )
    .await?;
    Ok((spent == 1).then_some(live.contact_id))
}
