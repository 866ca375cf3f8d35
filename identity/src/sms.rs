//! Queuing an SMS that carries a secret (a code, an initial password) in the notifications
//! outbox: the secret sealed with the outbox key (the message id as associated data), the text
//! holding [`PASSWORD_PLACEHOLDER`](dinghuo_projections::outbox::PASSWORD_PLACEHOLDER) where
//! the dispatcher puts it in memory when sending, then clears it.

use dinghuo_domain::{Phone, TenantId};
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_store::sql::{self, Tx};
use dinghuo_store::Database;

use crate::error::{IdentityError, IdentityResult};

/// One message to queue.
pub struct SecretSms<'a> {
    /// Unique and stable: also the provider's deduplication key.
    pub message_id: &'a str,
    pub tenant: TenantId,
    pub contact_id: &'a str,
    /// The partner the contact is a contact of; empty for the tenant's own staff.
    pub partner_id: &'a str,
    /// `notification_outbox.template`.
    pub template: &'a str,
    pub phone: &'a Phone,
    /// The text without the secret.
    pub body: String,
}

/// The name of `tenant` as the notifications reactor keeps it, for the texts.
pub async fn tenant_name(db: &Database, tenant: TenantId) -> IdentityResult<Option<String>> {
    Ok(sql::fetch_all::<(String,)>(
        db,
        "SELECT name FROM outbox_tenants WHERE tenant_id = $1",
        &[tenant.to_string().into()],
    )
    .await?
    .into_iter()
    .next()
    .map(|(name,)| name))
}

/// `{name}` in user-given names could steer where the dispatcher puts the secret: use
/// full-width braces instead (as the reactor's texts do).
pub fn plain(name: &str) -> String {
    name.replace('{', "｛").replace('}', "｝")
}

/// Queues `sms` with `secret` sealed by `key`, due at once, in `tx`.
pub async fn queue(
    tx: &mut Tx,
    key: &OutboxKey,
    sms: SecretSms<'_>,
    secret: &str,
    now_ms: i64,
) -> IdentityResult<()> {
    let sealed = key
        .seal(sms.message_id, secret)
        .map_err(IdentityError::internal)?;
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_else(chrono::Utc::now);
    tx.execute(
        "INSERT INTO notification_outbox
                (message_id, tenant_id, contact_id, partner_id, channel, template, phone, body,
                 secret, status, attempts, next_attempt_at, queued_at)
         VALUES ($1, $2, $3, $4, 'SMS', $5, $6, $7, $8, 'PENDING', 0, $9, $9)",
        &[
            sms.message_id.into(),
            sms.tenant.to_string().into(),
            sms.contact_id.into(),
            sms.partner_id.into(),
            sms.template.into(),
            sms.phone.as_str().into(),
            sms.body.into(),
            sealed.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}
