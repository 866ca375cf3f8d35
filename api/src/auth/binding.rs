//! One-time binding codes (seed §2: "on first entry the contact must verify and bind their
//! identity"): a 6-digit code sent by SMS to the phone recorded for a their-side contact, proving
//! that whoever binds holds that phone.
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

use dinghuo_domain::{Phone, TenantId};
use dinghuo_projections::outbox::{OutboxKey, PASSWORD_PLACEHOLDER};
use dinghuo_store::sql::{self, Tx};
use dinghuo_store::Database;
use rand::rngs::OsRng;
use rand::Rng;
use uuid::Uuid;

use super::limits::{phone_key, Subject};
use super::login::{hash_secret, verify_secret};
use crate::graphql::error::ApiError;

/// How long a code may be used.
pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Verifications a code allows; the fifth wrong one kills it.
pub const MAX_TRIES: i64 = 5;
/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// `notification_outbox.template` of the SMS carrying a code.
pub const TEMPLATE: &str = "BINDING_CODE";

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

/// The their-side contact a phone belongs to, and its partner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub contact_id: String,
    pub partner_id: String,
}

/// The their-side contact of `tenant` whose recorded phone is `phone`, if any.
///
/// Read from the notifications reactor's `outbox_contacts` (the full normalised number, indexed by
/// migration 0004) and the `contacts` read model's links: a lookup, not a rule — binding itself
/// checks the phone against the contact's committed events. When several contact records of the
/// tenant share the number, the one added most recently as partner contact is taken: the SMS the
/// person acted on is most likely the latest.
pub async fn recipient(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
) -> Result<Option<Recipient>, ApiError> {
    let found: Vec<Recipient> = sql::fetch_all(
        db,
        "SELECT c.contact_id, l.partner_id
           FROM outbox_contacts c
           JOIN rm_partner_contacts l
             ON l.contact_id = c.contact_id AND l.tenant_id = c.tenant_id AND l.side = 'THEIRS'
          WHERE c.tenant_id = $1 AND c.phone = $2
          ORDER BY l.added_at DESC, c.contact_id
          LIMIT 1",
        &[tenant.to_string().into(), phone.as_str().into()],
    )
    .await?;
    Ok(found.into_iter().next())
}

/// `{name}` in user-given names could steer where the dispatcher puts the code: use full-width
/// braces instead (as the reactor's texts do).
fn plain(name: &str) -> String {
    name.replace('{', "｛").replace('}', "｝")
}

/// The SMS text, with [`PASSWORD_PLACEHOLDER`] where the dispatcher puts the code.
pub fn text(tenant_name: Option<&str>) -> String {
    let minutes = CODE_TTL.as_secs() / 60;
    let whose = tenant_name
        .map(|name| format!("{}的", plain(name)))
        .unwrap_or_default();
    format!(
        "您正在绑定{whose}订货通身份，验证码{PASSWORD_PLACEHOLDER}，{minutes}分钟内有效。\
         请勿将验证码告诉他人；如非本人操作，请忽略本短信。"
    )
}

/// Forgets expired codes, cancelling their SMS if it has not gone out yet (which also clears the
/// code from the outbox row). A request for an unknown phone runs this alone; a known one runs it
/// inside the transaction that issues the code: one commit either way, so both take alike.
pub async fn sweep_expired(db: &Database, now_ms: i64) -> Result<(), ApiError> {
    let mut tx = Tx::begin(db).await?;
    sweep(&mut tx, now_ms).await?;
    tx.commit().await?;
    Ok(())
}

async fn sweep(tx: &mut Tx, now_ms: i64) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE notification_outbox
            SET status = 'FAILED', secret = NULL,
                last_error = 'cancelled: the binding code expired before it was sent'
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

/// Stores the hash of `code` for `recipient` and queues the SMS carrying it, the code sealed
/// with `key`, in one transaction that also sweeps expired codes. A previous code of the same
/// tenant and phone is replaced (and its SMS cancelled if unsent).
pub async fn issue(
    db: &Database,
    key: &OutboxKey,
    tenant: TenantId,
    phone: &Phone,
    recipient: &Recipient,
    code: &BindingCode,
    now_ms: i64,
) -> Result<(), ApiError> {
    let hash = hash_secret(code.expose().to_owned()).await?;
    let tenant_name: Option<String> = sql::fetch_all::<(String,)>(
        db,
        "SELECT name FROM outbox_tenants WHERE tenant_id = $1",
        &[tenant.to_string().into()],
    )
    .await?
    .into_iter()
    .next()
    .map(|(name,)| name);
    let code_id = Uuid::now_v7().to_string();
    let message_id = format!("code:{code_id}");
    let sealed = key
        .seal(&message_id, code.expose())
        .map_err(ApiError::internal)?;
    let key = phone_key(tenant, phone);
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_else(chrono::Utc::now);

    let mut tx = Tx::begin(db).await?;
    sweep(&mut tx, now_ms).await?;
    tx.execute(
        "UPDATE notification_outbox
            SET status = 'FAILED', secret = NULL,
                last_error = 'cancelled: a newer binding code was requested'
          WHERE status = 'PENDING'
            AND message_id IN (SELECT message_id FROM binding_codes
                                WHERE tenant_id = $1 AND phone_key = $2)",
        &[tenant.to_string().into(), key.as_str().into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM binding_codes WHERE tenant_id = $1 AND phone_key = $2",
        &[tenant.to_string().into(), key.as_str().into()],
    )
    .await?;
    tx.execute(
        "INSERT INTO binding_codes (code_id, tenant_id, phone_key, contact_id, message_id,
                                    code_hash, tries, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
        &[
            code_id.as_str().into(),
            tenant.to_string().into(),
            key.as_str().into(),
            recipient.contact_id.as_str().into(),
            message_id.as_str().into(),
            hash.into(),
            now_ms.into(),
            now_ms.saturating_add(ttl_ms()).into(),
        ],
    )
    .await?;
    // Due at once; the dispatcher opens `secret`, substitutes it for the placeholder in memory
    // and clears it when the message is SENT or FAILED.
    tx.execute(
        "INSERT INTO notification_outbox
                (message_id, tenant_id, contact_id, partner_id, channel, template, phone, body,
                 secret, status, attempts, next_attempt_at, queued_at)
         VALUES ($1, $2, $3, $4, 'SMS', $5, $6, $7, $8, 'PENDING', 0, $9, $9)",
        &[
            message_id.as_str().into(),
            tenant.to_string().into(),
            recipient.contact_id.as_str().into(),
            recipient.partner_id.as_str().into(),
            TEMPLATE.into(),
            phone.as_str().into(),
            text(tenant_name.as_deref()).into(),
            sealed.into(),
            now.into(),
        ],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(message_id = %message_id, "binding code queued");
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct LiveCode {
    code_id: String,
    contact_id: String,
    code_hash: String,
}

/// Spends `code` if it is the live code of `tenant` and `phone`: answers the contact it binds.
/// A wrong code counts a try (counted before the hash is checked, so parallel guesses cannot
/// exceed the limit); an expired or exhausted code, or none at all, answers `None` after checking
/// a decoy hash, so every refusal looks and takes the same. `now_ms` is the time this request's
/// attempts were reserved at ([`super::limits::reserve`]).
pub async fn redeem(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
    code: &BindingCode,
    now_ms: i64,
) -> Result<Option<String>, ApiError> {
    let typed = code.expose().to_owned();
    let live: Option<LiveCode> = sql::fetch_all(
        db,
        "SELECT code_id, contact_id, code_hash FROM binding_codes
          WHERE tenant_id = $1 AND phone_key = $2 AND expires_at_ms > $3 AND tries < $4
          ORDER BY created_at_ms DESC
          LIMIT 1",
        &[
            tenant.to_string().into(),
            phone_key(tenant, phone).into(),
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
        // tell that the phone is a contact's.
        sql::execute(
            db,
            "UPDATE auth_attempts SET attempted_at_ms = attempted_at_ms
              WHERE subject = $1 AND attempted_at_ms = $2",
            &[Subject::phone(tenant, phone).as_str().into(), now_ms.into()],
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
    // Single use: of two requests with the right code, only the one that deletes it binds.
    let spent = sql::execute(
        db,
        "DELETE FROM binding_codes WHERE code_id = $1",
        &[live.code_id.as_str().into()],
    )
    .await?;
    Ok((spent == 1).then_some(live.contact_id))
}
