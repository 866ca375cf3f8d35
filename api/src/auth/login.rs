//! Platform accounts of tenant-mode partners' contacts (seed: "the SMS gives the login account —
//! the contact's mobile number — and a password"): checking a password against the argon2id hash
//! the notifications reactor stored in `credentials`, and changing it.
//!
//! Passwords and hashes are only ever moved between the request, argon2 and the `credentials`
//! table: never logged, never in an event or a read model. Argon2 is deliberately slow, so it runs
//! on the blocking pool, never on the async workers.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use dinghuo_domain::{Phone, TenantId};
use dinghuo_projections::outbox::reactor::{generate_password, hash_password};
use dinghuo_store::sql;
use dinghuo_store::Database;
use uuid::Uuid;

use crate::graphql::error::ApiError;

/// The shortest password a contact may choose.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted anywhere: argon2 reads all of it, so unbounded input would be
/// unbounded work.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// One platform account, as `credentials` holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub contact_id: String,
    password_hash: String,
    pub must_change_password: bool,
}

/// The argon2id hash (PHC string) of `secret`, with the parameters the reactor provisions with.
pub async fn hash_secret(secret: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_password(&secret))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Whether `secret` matches `hash`. Without a hash (no such account, no live code) a fixed hash
/// of a random secret is checked instead, so that the answer takes as long either way and does
/// not tell whether the phone exists.
pub async fn verify_secret(secret: String, hash: Option<String>) -> Result<bool, ApiError> {
    let real = hash.is_some();
    let hash = match hash {
        Some(hash) => hash,
        None => decoy_hash().await?,
    };
    let matched = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(real && matched)
}

/// A hash nobody knows the secret of, made once per process.
async fn decoy_hash() -> Result<String, ApiError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_secret(generate_password()).await?;
    Ok(DECOY.get_or_init(|| hash).clone())
}

/// The accounts whose login is `phone` in `tenant` (a login is unique only within a tenant, and
/// not even there when two contact records share a number). Whether the contact may still sign in
/// is for the command layer to say (see `login` in `graphql/mutations/auth.rs`).
async fn accounts(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
) -> Result<Vec<Account>, ApiError> {
    Ok(sql::fetch_all(
        db,
        "SELECT contact_id, password_hash, must_change_password
           FROM credentials
          WHERE tenant_id = $1 AND login = $2
          ORDER BY created_at, contact_id",
        &[tenant.to_string().into(), phone.as_str().into()],
    )
    .await?)
}

/// The account of `tenant` whose login is `phone` and whose password is `password`, if any. Every
/// path checks at least one hash, so an unknown phone takes as long as a wrong password.
pub async fn check_password(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
    password: &str,
) -> Result<Option<Account>, ApiError> {
    let candidates = accounts(db, tenant, phone).await?;
    if candidates.is_empty() {
        verify_secret(password.to_owned(), None).await?;
        return Ok(None);
    }
    for account in candidates {
        if verify_secret(password.to_owned(), Some(account.password_hash.clone())).await? {
            return Ok(Some(account));
        }
    }
    Ok(None)
}

/// The platform account of a signed-in contact, if it has one (tenantless contacts have none).
pub async fn account_of(
    db: &Database,
    tenant: TenantId,
    contact: Uuid,
) -> Result<Option<Account>, ApiError> {
    Ok(sql::fetch_all(
        db,
        "SELECT contact_id, password_hash, must_change_password
           FROM credentials WHERE contact_id = $1 AND tenant_id = $2",
        &[contact.to_string().into(), tenant.to_string().into()],
    )
    .await?
    .into_iter()
    .next())
}

impl Account {
    /// Whether `password` is this account's.
    pub async fn verifies(&self, password: &str) -> Result<bool, ApiError> {
        verify_secret(password.to_owned(), Some(self.password_hash.clone())).await
    }

    /// Stores the hash of `new_password` as the contact's own choice. Answers `false` when the
    /// password changed meanwhile (another change won the race), leaving that one in place.
    pub async fn set_password(&self, db: &Database, new_password: &str) -> Result<bool, ApiError> {
        let hash = hash_secret(new_password.to_owned()).await?;
        let changed = sql::execute(
            db,
            "UPDATE credentials SET password_hash = $1, must_change_password = $2
              WHERE contact_id = $3 AND password_hash = $4",
            &[
                hash.into(),
                false.into(),
                self.contact_id.as_str().into(),
                self.password_hash.as_str().into(),
            ],
        )
        .await?;
        Ok(changed == 1)
    }
}

/// The rules of a password a contact chooses (input field `newPassword`).
pub fn check_new_password(new_password: &str, current: &str) -> Result<(), ApiError> {
    let chars = new_password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::validation(
            "newPassword",
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::validation(
            "newPassword",
            format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if new_password.trim().is_empty() {
        return Err(ApiError::validation(
            "newPassword",
            "a password is more than white space",
        ));
    }
    if new_password == current {
        return Err(ApiError::validation(
            "newPassword",
            "the new password must differ from the current one",
        ));
    }
    Ok(())
}

/// A password given to sign in or to prove the current one: bounded before any hashing.
pub fn check_given_password(password: &str, field: &str) -> Result<(), ApiError> {
    if password.is_empty() {
        return Err(ApiError::validation(field, "the password is empty"));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::validation(
            field,
            format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}
