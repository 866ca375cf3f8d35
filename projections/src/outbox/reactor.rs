//! The `notifications` reactor: adding a their-side partner contact queues the product
//! document's SMS in `notification_outbox`, and for a tenant-mode partner provisions the
//! contact's platform account in `credentials`.
//!
//! It runs like any projection (batch and checkpoint in one transaction), but it is a reactor:
//! `replayable()` is `false`, so it is never rebuilt and its effects happen once. A batch that is
//! applied again after a crash finds its messages already queued (the message id is derived from
//! the event) and does nothing.
//!
//! What a message needs beyond the event (the contact's phone and name, the tenant's name and
//! WeChat account as they stood at that point of the log) is kept in small tables of its own,
//! folded from the log in the same transaction.
//!
//! An initial password is stored only sealed with the outbox key ([`super::seal`]); a reactor
//! without the key fails the batch rather than store it in the clear.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use chrono::Utc;
use dinghuo_domain::contact::ContactEvent;
use dinghuo_domain::tenant::TenantEvent;
use dinghuo_domain::{PartnerId, PartnerMode, Side};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::Tx;
use rand::rngs::OsRng;
use rand::Rng;

use super::seal::OutboxKey;
use super::texts::{self, MessageSettings, Template};
use crate::models::event::decode;
use crate::projection::{Projection, ProjectionError, TableNames};

/// Characters of generated passwords: no `0/O/o`, `1/l/I`, so a password read off a phone
/// screen is typed right the first time.
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
/// 12 characters of 56: about 70 bits.
const PASSWORD_LENGTH: usize = 12;

/// The message id of the SMS caused by the event at `sequence` of contact `contact_id`.
pub fn message_id(contact_id: &str, sequence: i64) -> String {
    format!("sms:{contact_id}:{sequence}")
}

/// A fresh initial password from the operating system's CSPRNG.
pub fn generate_password() -> String {
    let mut rng = OsRng;
    (0..PASSWORD_LENGTH)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// The argon2id hash of `password` (PHC string, default parameters: m = 19 MiB, t = 2, p = 1).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub struct NotificationsReactor {
    links: MessageSettings,
    /// Seals the initial passwords it queues. Without one the reactor can be named, listed and
    /// reported on, but fails on the first message with a password rather than store it in the
    /// clear.
    key: Option<OutboxKey>,
}

impl NotificationsReactor {
    pub const NAME: &'static str = "notifications";

    /// A reactor without a key (see [`with_key`](Self::with_key)).
    pub fn new(links: MessageSettings) -> Self {
        Self { links, key: None }
    }

    /// The reactor sealing passwords with `key`: the one to run.
    pub fn with_key(self, key: OutboxKey) -> Self {
        Self {
            key: Some(key),
            ..self
        }
    }
}

impl Default for NotificationsReactor {
    /// Links from `DINGHUO_PUBLIC_URL` (see [`MessageSettings::from_env`]); no key.
    fn default() -> Self {
        Self::new(MessageSettings::from_env())
    }
}

#[async_trait]
impl Projection for NotificationsReactor {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn replayable(&self) -> bool {
        false
    }

    /// None under `rm_`: its tables come from migration `0003_notifications.sql`.
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    fn schema(&self, _dialect: Dialect, _names: &TableNames) -> Vec<String> {
        Vec::new()
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        _names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        if let Some(tenant) = decode::<TenantEvent>(event, "Tenant")? {
            return on_tenant(tx, event, tenant).await;
        }
        let Some(contact) = decode::<ContactEvent>(event, "Contact")? else {
            return Ok(());
        };
        let id = event.aggregate_id.as_str();
        match contact {
            ContactEvent::ContactRecorded {
                tenant_id,
                name,
                phone,
                ..
            } => {
                tx.execute(
                    "INSERT INTO outbox_contacts (contact_id, tenant_id, name, phone)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (contact_id) DO UPDATE
                        SET tenant_id = excluded.tenant_id, name = excluded.name,
                            phone = excluded.phone",
                    &[
                        id.into(),
                        tenant_id.to_string().into(),
                        name.as_str().into(),
                        phone.as_ref().map(|p| p.as_str()).into(),
                    ],
                )
                .await?;
            }
            ContactEvent::ContactUpdated { name, phone } => {
                let before = fetch_text(
                    tx,
                    "SELECT phone FROM outbox_contacts WHERE contact_id = $1",
                    id,
                )
                .await?;
                tx.execute(
                    "UPDATE outbox_contacts SET name = $2, phone = $3 WHERE contact_id = $1",
                    &[
                        id.into(),
                        name.as_str().into(),
                        phone.as_ref().map(|p| p.as_str()).into(),
                    ],
                )
                .await?;
                // The login is the mobile number: it follows the number.
                if let Some(phone) = &phone {
                    tx.execute(
                        "UPDATE credentials SET login = $2 WHERE contact_id = $1",
                        &[id.into(), phone.as_str().into()],
                    )
                    .await?;
                }
                // A new number must bind again (its binding was cleared): each partner's
                // invitation goes out again, to it (DESIGN §4).
                let changed = phone
                    .as_ref()
                    .is_some_and(|phone| before.as_deref() != Some(phone.as_str()));
                if changed {
                    let links: Vec<(String, String)> = tx
                        .fetch_all(
                            "SELECT partner_id, mode FROM outbox_partner_links
                              WHERE contact_id = $1 ORDER BY partner_id",
                            &[id.into()],
                        )
                        .await?;
                    for (partner, mode) in links {
                        let (Ok(partner_id), Ok(mode)) = (
                            PartnerId::parse(&partner, "partnerId"),
                            PartnerMode::parse(&mode),
                        ) else {
                            return Err(ProjectionError::unappliable(
                                event,
                                format!("unreadable partner link {partner} {mode}"),
                            ));
                        };
                        let message = format!("{}:{partner}", message_id(id, event.sequence));
                        self.queue(tx, event, partner_id, mode, message).await?;
                    }
                }
            }
            ContactEvent::PartnerContactAdded {
                partner_id,
                side: Side::Theirs,
                mode,
            } => {
                tx.execute(
                    "INSERT INTO outbox_partner_links (contact_id, partner_id, mode)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (contact_id, partner_id) DO UPDATE SET mode = excluded.mode",
                    &[
                        id.into(),
                        partner_id.to_string().into(),
                        mode.as_str().into(),
                    ],
                )
                .await?;
                let message = message_id(id, event.sequence);
                self.queue(tx, event, partner_id, mode, message).await?;
            }
            ContactEvent::PartnerContactRemoved { partner_id } => {
                tx.execute(
                    "DELETE FROM outbox_partner_links WHERE contact_id = $1 AND partner_id = $2",
                    &[id.into(), partner_id.to_string().into()],
                )
                .await?;
                // A welcome that has not gone out yet is stale once the person was removed.
                tx.execute(
                    "UPDATE notification_outbox
                        SET status = 'FAILED', secret = NULL,
                            last_error = 'cancelled: removed as partner contact before it was sent'
                      WHERE contact_id = $1 AND partner_id = $2 AND status = 'PENDING'",
                    &[id.into(), partner_id.to_string().into()],
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn on_tenant(
    tx: &mut Tx,
    event: &FeedEvent,
    tenant: TenantEvent,
) -> Result<(), ProjectionError> {
    let id = event.aggregate_id.as_str();
    match tenant {
        TenantEvent::TenantRegistered { name } => {
            tx.execute(
                "INSERT INTO outbox_tenants (tenant_id, name) VALUES ($1, $2)
                 ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name",
                &[id.into(), name.as_str().into()],
            )
            .await?;
        }
        TenantEvent::WechatAccountBound { app_id, name } => {
            tx.execute(
                "INSERT INTO outbox_wechat_accounts (tenant_id, app_id, name, bound_position)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant_id, app_id) DO UPDATE
                    SET name = excluded.name, bound_position = excluded.bound_position",
                &[
                    id.into(),
                    app_id.as_str().into(),
                    name.as_str().into(),
                    event.position().into(),
                ],
            )
            .await?;
        }
        TenantEvent::WechatAccountUnbound { app_id } => {
            tx.execute(
                "DELETE FROM outbox_wechat_accounts WHERE tenant_id = $1 AND app_id = $2",
                &[id.into(), app_id.as_str().into()],
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// What is known about the person when it is added.
struct Recipient {
    tenant_id: String,
    name: String,
    phone: String,
}

impl NotificationsReactor {
    async fn queue(
        &self,
        tx: &mut Tx,
        event: &FeedEvent,
        partner_id: PartnerId,
        mode: PartnerMode,
        message_id: String,
    ) -> Result<(), ProjectionError> {
        let contact_id = event.aggregate_id.as_str();
        // Applied before (a batch repeated after a crash, or a checkpoint moved back): the
        // message and any account were made then. Doing nothing keeps "at most once".
        let queued = tx
            .fetch_int(
                "SELECT count(*) FROM notification_outbox WHERE message_id = $1",
                &[message_id.as_str().into()],
            )
            .await?;
        if queued.unwrap_or(0) > 0 {
            return Ok(());
        }

        let recipient = recipient(tx, event).await?;
        let tenant_name = fetch_text(
            tx,
            "SELECT name FROM outbox_tenants WHERE tenant_id = $1",
            &recipient.tenant_id,
        )
        .await?
        .ok_or_else(|| ProjectionError::unappliable(event, "the contact's tenant is unknown"))?;

        let (template, body, secret) = match mode {
            PartnerMode::Tenantless => {
                let account = fetch_text(
                    tx,
                    "SELECT name FROM outbox_wechat_accounts WHERE tenant_id = $1
                      ORDER BY bound_position DESC LIMIT 1",
                    &recipient.tenant_id,
                )
                .await?;
                let body = texts::tenantless(
                    &recipient.name,
                    &tenant_name,
                    account.as_deref(),
                    &self.links,
                );
                (Template::Tenantless, body, None)
            }
            PartnerMode::Tenant => {
                if knows_its_password(tx, contact_id, &recipient.phone).await? {
                    let body = texts::tenant_existing(
                        &recipient.name,
                        &tenant_name,
                        &recipient.phone,
                        &self.links,
                    );
                    (Template::TenantExisting, body, None)
                } else {
                    // Checked before anything is drawn or written: without a key, fail the
                    // batch (nothing of it commits) rather than keep the password in the clear.
                    let key = self.key.as_ref().ok_or_else(|| {
                        ProjectionError::unappliable(
                            event,
                            "no outbox key to seal the initial password with",
                        )
                    })?;
                    let password = provision(tx, event, &recipient).await?;
                    let sealed = key
                        .seal(&message_id, &password)
                        .map_err(|error| ProjectionError::unappliable(event, error.to_string()))?;
                    let body = texts::tenant_new(
                        &recipient.name,
                        &tenant_name,
                        &recipient.phone,
                        &self.links,
                    );
                    (Template::Tenant, body, Some(sealed))
                }
            }
        };

        let now = Utc::now();
        tx.execute(
            "INSERT INTO notification_outbox
                    (message_id, tenant_id, contact_id, partner_id, channel, template, phone, body,
                     secret, status, attempts, next_attempt_at, queued_at)
             VALUES ($1, $2, $3, $4, 'SMS', $5, $6, $7, $8, 'PENDING', 0, $9, $9)
             ON CONFLICT (message_id) DO NOTHING",
            &[
                message_id.as_str().into(),
                recipient.tenant_id.as_str().into(),
                contact_id.into(),
                partner_id.to_string().into(),
                template.as_str().into(),
                recipient.phone.as_str().into(),
                body.into(),
                secret.into(),
                now.into(),
            ],
        )
        .await?;
        tracing::info!(
            message_id = %message_id,
            template = template.as_str(),
            "SMS queued"
        );
        Ok(())
    }
}

async fn recipient(tx: &mut Tx, event: &FeedEvent) -> Result<Recipient, ProjectionError> {
    let sql = "SELECT tenant_id, name, phone FROM outbox_contacts WHERE contact_id = $1";
    let id = event.aggregate_id.as_str();
    let row: Option<(String, String, Option<String>)> =
        tx.fetch_all(sql, &[id.into()]).await?.into_iter().next();
    let Some((tenant_id, name, phone)) = row else {
        return Err(ProjectionError::unappliable(
            event,
            "the contact was added before it was recorded",
        ));
    };
    // Seed note 1: the domain refuses to add a contact without a phone, so this is a broken log.
    let phone =
        phone.ok_or_else(|| ProjectionError::unappliable(event, "the contact has no phone"))?;
    Ok(Recipient {
        tenant_id,
        name,
        phone,
    })
}

/// One text column of the first row, if any.
async fn fetch_text(tx: &mut Tx, sql: &str, arg: &str) -> Result<Option<String>, sqlx::Error> {
    let rows: Vec<(Option<String>,)> = tx.fetch_all(sql, &[arg.into()]).await?;
    Ok(rows.into_iter().next().and_then(|(text,)| text))
}

/// Whether the contact has an account whose password it knows or is about to learn: it chose
/// its own password, or an initial password is on its way to (or reached) its current phone.
/// A contact whose initial password never arrived (the message failed, was cancelled, or went to
/// a number since corrected) gets a new one instead of "use your existing password".
async fn knows_its_password(
    tx: &mut Tx,
    contact_id: &str,
    phone: &str,
) -> Result<bool, sqlx::Error> {
    let accounts = tx
        .fetch_int(
            "SELECT count(*) FROM credentials WHERE contact_id = $1",
            &[contact_id.into()],
        )
        .await?
        .unwrap_or(0);
    if accounts == 0 {
        return Ok(false);
    }
    let chose_own = tx
        .fetch_int(
            "SELECT count(*) FROM credentials
              WHERE contact_id = $1 AND must_change_password = $2",
            &[contact_id.into(), false.into()],
        )
        .await?
        .unwrap_or(0);
    if chose_own > 0 {
        return Ok(true);
    }
    let on_its_way = tx
        .fetch_int(
            "SELECT count(*) FROM notification_outbox
              WHERE contact_id = $1 AND template = $2 AND phone = $3 AND status <> 'FAILED'",
            &[
                contact_id.into(),
                Template::Tenant.as_str().into(),
                phone.into(),
            ],
        )
        .await?
        .unwrap_or(0);
    Ok(on_its_way > 0)
}

/// Creates (or, when the initial password never reached the person, renews) the contact's
/// platform account, storing only the argon2id hash. Answers the plaintext password, which goes
/// nowhere but, sealed, the outbox row's `secret`.
///
/// Randomness here is sound only because this is a reactor: it is never replayed, so the
/// password is drawn exactly once per message. A replayable projection must never do this.
async fn provision(
    tx: &mut Tx,
    event: &FeedEvent,
    recipient: &Recipient,
) -> Result<String, ProjectionError> {
    let password = generate_password();
    let to_hash = password.clone();
    // Argon2 is deliberately slow (tens of milliseconds): keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || hash_password(&to_hash))
        .await
        .map_err(|error| ProjectionError::unappliable(event, format!("hashing: {error}")))?
        .map_err(|error| ProjectionError::unappliable(event, format!("hashing: {error}")))?;
    tx.execute(
        "INSERT INTO credentials
                (contact_id, tenant_id, login, password_hash, must_change_password, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (contact_id) DO UPDATE
            SET login = excluded.login, password_hash = excluded.password_hash,
                must_change_password = excluded.must_change_password",
        &[
            event.aggregate_id.as_str().into(),
            recipient.tenant_id.as_str().into(),
            recipient.phone.as_str().into(),
            hash.into(),
            true.into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    use super::*;

    #[test]
    fn a_generated_password_is_long_and_unambiguous() {
        for _ in 0..200 {
            let password = generate_password();
            assert_eq!(password.chars().count(), PASSWORD_LENGTH);
            assert!(password.bytes().all(|b| PASSWORD_ALPHABET.contains(&b)));
            for ambiguous in ['0', 'O', 'o', '1', 'l', 'I'] {
                assert!(!password.contains(ambiguous), "{password}");
            }
        }
        assert_ne!(generate_password(), generate_password());
    }

    #[test]
    fn the_stored_hash_is_argon2id_and_verifies_only_its_password() {
        let hash = hash_password("Abc23456789x").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        let parsed = PasswordHash::new(&hash).expect("a PHC string");
        assert!(Argon2::default()
            .verify_password(b"Abc23456789x", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"Abc23456789y", &parsed)
            .is_err());
    }

    #[test]
    fn the_message_id_is_derived_from_the_event() {
        assert_eq!(message_id("c-1", 3), "sms:c-1:3");
    }
}
